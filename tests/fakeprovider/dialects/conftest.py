"""Helpers for the wire-protocol tests: raw HTTP calls and the tools the tests offer."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

import pytest

# Model ids the installed anthropic SDK does not flag as deprecated (a DeprecationWarning would
# fail the test under `filterwarnings = error`).
CLAUDE = "claude-sonnet-5-5"
CLAUDE_SMALL = "claude-haiku-5-5"

WEATHER_PARAMETERS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "minLength": 2},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        "days": {"type": "integer", "minimum": 1, "maximum": 14},
        "hourly": {"type": "boolean"},
    },
    "required": ["city", "unit", "days"],
    "additionalProperties": False,
}

SEARCH_PARAMETERS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "query": {"type": "string"},
        "filters": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string"},
                    "value": {"anyOf": [{"type": "string"}, {"type": "number"}]},
                },
                "required": ["field", "value"],
            },
            "minItems": 1,
            "maxItems": 4,
        },
        "limit": {"type": "integer", "exclusiveMinimum": 0, "maximum": 50},
        "score": {"type": "number", "minimum": 0, "maximum": 1},
    },
    "required": ["query", "filters", "limit"],
}


@dataclass(slots=True)
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def raw_request(
    base_url: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    method: str = "POST",
    timeout: float = 10.0,
) -> RawResponse:
    """One HTTP request with no SDK in between; error statuses are returned, not raised."""
    req = urllib.request.Request(base_url + path, data=body, method=method, headers=headers or {})
    if body is not None and "Content-Type" not in (headers or {}):
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return RawResponse(resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read())
    except urllib.error.HTTPError as e:
        with e:
            return RawResponse(e.code, {k.lower(): v for k, v in e.headers.items()}, e.read())


def post_json(base_url: str, path: str, data: Any, headers: dict[str, str] | None = None) -> RawResponse:
    return raw_request(base_url, path, json.dumps(data).encode(), headers)


@pytest.fixture
def weather_tool() -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Forecast for a city",
            "parameters": WEATHER_PARAMETERS,
        },
    }


@pytest.fixture
def search_tool() -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": "search",
            "description": "Search the catalogue",
            "parameters": SEARCH_PARAMETERS,
        },
    }
