"""One exception tree for the harness. Every message names what is wrong and where."""

from __future__ import annotations


class HarnessError(Exception):
    """Anything the harness refuses or cannot do; `rehearse` exits 2 on it."""


class InvalidExperiment(HarnessError):
    """An experiment file that cannot be run: the message names the file, the field path and
    what was expected."""


class InvalidRoutes(HarnessError):
    """A routes file that cannot be read or validated: the message names the file, the field
    path, the line and what was expected."""


class TargetError(HarnessError):
    """The target refused to start, is not reachable, or is not allowed (non-loopback)."""


class ProviderError(HarnessError):
    """The fake provider could not be started or its control API did not answer."""


class ChildCrashed(HarnessError):
    """A process the harness started died during the run."""
