"""Request bodies of the HTTP API, decoded the way Toxiproxy's Go decoder does.

Unknown keys are ignored and `null` leaves a field at its default, as in Go; a wrong type is a
400 `bad request body: ...` naming the field. Defaults that depend on the proxy or toxic being
created or updated are filled in by the caller, so every field here is optional.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.network.errors import bad_request_body


class _Body(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")


B = TypeVar("B", bound=_Body)


class ProxyBody(_Body):
    name: str | None = None
    listen: str | None = None
    upstream: str | None = None
    enabled: bool | None = None


class ToxicBody(_Body):
    name: str | None = None
    type: str | None = None
    stream: str | None = None
    # Toxiproxy takes any float; outside [0, 1] it means always or never, so it is refused here.
    toxicity: float | None = Field(None, ge=0.0, le=1.0)
    attributes: dict[str, Any] | None = None


def describe(error: ValidationError, prefix: str = "") -> str:
    """Every problem as `field.path: message`, joined by `; `."""
    parts = []
    for item in error.errors():
        path = ".".join([prefix, *(str(p) for p in item["loc"])] if prefix else [str(p) for p in item["loc"]])
        parts.append(f"{path}: {item['msg']}" if path else item["msg"])
    return "; ".join(parts)


def decode(body: bytes) -> Any:
    if not body.strip():
        raise bad_request_body("EOF")  # Go's decoder on an empty body
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as e:
        raise bad_request_body(str(e)) from None


def _kind(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "bool"}.get(type(value), "number")


def decode_object(body: bytes, model: type[B]) -> B:
    value = decode(body)
    if not isinstance(value, dict):
        raise bad_request_body(f"expected a JSON object, got {'null' if value is None else _kind(value)}")
    return parse(model, value)


def decode_list(body: bytes) -> list[Any]:
    value = decode(body)
    if not isinstance(value, list):
        raise bad_request_body(f"expected a JSON array of proxies, got {_kind(value)}")
    return value


def parse(model: type[B], value: Any, where: str = "") -> B:
    try:
        return model.model_validate(value)
    except ValidationError as e:
        raise bad_request_body(describe(e, where)) from None
