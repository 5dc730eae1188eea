"""Fault kinds: every module in this package registers one (see `base`).

Importing the package imports them all, so a new kind is a new module and nothing else.
"""

from __future__ import annotations

import importlib
import pkgutil

from fakeprovider.faults.base import REGISTRY, FaultKind, FaultParams, build, register

for _info in pkgutil.iter_modules(__path__):
    if not _info.name.startswith("_") and _info.name != "base":
        importlib.import_module(f"{__name__}.{_info.name}")

__all__ = ["REGISTRY", "FaultKind", "FaultParams", "build", "register"]
