"""Errors of the Toxiproxy-compatible server, in the harness's one exception tree."""

from __future__ import annotations

from typing import Any

from harness.errors import HarnessError


class NetworkError(HarnessError):
    """The Toxiproxy server could not be started or reached (port in use, no answer)."""


class ApiError(HarnessError):
    """An HTTP API error as Toxiproxy answers it: `{"error": message, "status": status}`."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status

    def to_json(self) -> dict[str, Any]:
        return {"error": self.message, "status": self.status}


# Toxiproxy's messages (api.go), word for word: clients and scripts match on them.
def bad_request_body(detail: str) -> ApiError:
    return ApiError(f"bad request body: {detail}", 400)


def missing_field(detail: str) -> ApiError:
    return ApiError(f"missing required field: {detail}", 400)


def proxy_not_found() -> ApiError:
    return ApiError("proxy not found", 404)


def proxy_already_exists() -> ApiError:
    return ApiError("proxy already exists", 409)


def invalid_stream() -> ApiError:
    return ApiError("stream was invalid, can be either upstream or downstream", 400)


def invalid_toxic_type() -> ApiError:
    return ApiError("invalid toxic type", 400)


def toxic_already_exists() -> ApiError:
    return ApiError("toxic already exists", 409)


def toxic_not_found() -> ApiError:
    return ApiError("toxic not found", 404)


def internal(message: str) -> ApiError:
    """Anything else (a listen address taken): Toxiproxy answers 500 with Go's error text."""
    return ApiError(message, 500)
