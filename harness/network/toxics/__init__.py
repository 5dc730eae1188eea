"""Toxiproxy's toxics, one module each; importing this package registers them all by name."""

from harness.network.toxics import (
    bandwidth,
    latency,
    limit_data,
    noop,
    reset_peer,
    slicer,
    slow_close,
    timeout,
)
from harness.network.toxics.base import Direction, Toxic, ToxicWrapper, register, toxic_class, toxic_types

__all__ = [
    "Direction",
    "Toxic",
    "ToxicWrapper",
    "bandwidth",
    "latency",
    "limit_data",
    "noop",
    "register",
    "reset_peer",
    "slicer",
    "slow_close",
    "timeout",
    "toxic_class",
    "toxic_types",
]
