"""The sampleapp's errors: what stops it starting, and the error contract its routes answer with."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # kept light: `rehearse --help` imports this module
    from pydantic import ValidationError


class SampleAppError(Exception):
    """The app cannot start: bad config, unknown flaw, port in use. `sample-app` exits 2."""


class ConfigError(SampleAppError):
    """A config file or value that is not valid; the message names the file and field path."""


class RouteError(Exception):
    """A route's answer other than success: `{"error": {"code", "message", ...}}` with a status."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        extra: Mapping[str, object] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = dict(extra or {})
        self.headers = dict(headers or {})

    def body(self) -> dict[str, object]:
        return {"error": {"code": self.code, "message": self.message, **self.extra}}


def bad_request(message: str) -> RouteError:
    return RouteError(400, "bad_request", message)


def describe(e: ValidationError) -> str:
    """pydantic errors as `field.path: message`, joined by `; `."""
    parts = []
    for err in e.errors():
        path = ".".join(str(p) for p in err["loc"])
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown field"
        elif err["type"] == "value_error" and "error" in err.get("ctx", {}):
            msg = str(err["ctx"]["error"])  # our own validators' words, without pydantic's prefix
        elif isinstance(err.get("input"), str | int | float) and err["type"] != "missing":
            msg = f"{msg} (got {err['input']!r})"
        parts.append(f"{path}: {msg}" if path else msg)
    return "; ".join(parts)
