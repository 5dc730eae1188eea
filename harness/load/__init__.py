"""The load generator: open and closed loops against a target, one raw record per request."""

from harness.load.drive import drive

__all__ = ["drive"]
