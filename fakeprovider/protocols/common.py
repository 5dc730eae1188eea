"""Small helpers shared by the wire protocols: request field checks and prompt tokens."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fakeprovider import tokens
from fakeprovider.protocols.errors import invalid
from fakeprovider.request import Tags

# Pseudo-token ids stand for the chat framing tokens, so the prompt-prefix cache sees the
# message boundaries; they are counted but never decoded.
_ROLE_MARK = {
    "system": -1,
    "developer": -2,
    "user": -3,
    "assistant": -4,
    "tool": -5,
    "function": -6,
}


def require(body: Mapping[str, Any], name: str, kind: type | tuple[type, ...], what: str) -> Any:
    if name not in body:
        raise invalid(f"Missing required parameter: '{name}'.", param=name, code="missing_required_parameter")
    value = body[name]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        raise invalid(f"Invalid type for '{name}': expected {what}.", param=name, code="invalid_type")
    return value


def optional(body: Mapping[str, Any], name: str, kind: type | tuple[type, ...], what: str) -> Any:
    if body.get(name) is None:
        return None
    return require(body, name, kind, what)


def positive_int(body: Mapping[str, Any], name: str) -> int | None:
    value = optional(body, name, int, "an integer")
    if value is not None and (isinstance(value, bool) or value < 1):
        raise invalid(
            f"Invalid '{name}': integer below minimum value. Expected a value >= 1, but got {value} instead.",
            param=name,
            code="integer_below_min_value",
        )
    return value


def message_ids(role: str, text: str, encoding_name: str, extra: int = 0) -> list[int]:
    """The prompt token ids of one message: framing marks, then its text."""
    mark = _ROLE_MARK.get(role, -7)
    ids = [mark] * (tokens.MESSAGE_OVERHEAD + extra)
    ids.extend(tokens.encoding(encoding_name).encode_ordinary(text))
    return ids


def openai_message_ids(role: str, text: str, name: str | None, encoding_name: str) -> list[int]:
    """One chat message counted as OpenAI documents it: framing, role, content, and the name."""
    enc = tokens.encoding(encoding_name)
    ids = message_ids(role, "", encoding_name, len(enc.encode_ordinary(role)))
    if name:
        ids.extend([_ROLE_MARK.get(role, -7)] * tokens.NAME_OVERHEAD)
        ids.extend(enc.encode_ordinary(name))
    ids.extend(enc.encode_ordinary(text))
    return ids


def tags_from(headers_tags: Tags, metadata: Any, user: Any) -> Tags:
    """Fill tags the headers did not give from the body's metadata, then from `user`."""
    if headers_tags.route and headers_tags.feature and headers_tags.tenant:
        return headers_tags
    meta = metadata if isinstance(metadata, dict) else {}

    def pick(current: str | None, key: str) -> str | None:
        if current:
            return current
        value = meta.get(key)
        return str(value) if value not in (None, "") else None

    tenant = pick(headers_tags.tenant, "tenant")
    if tenant is None and isinstance(user, str) and user:
        tenant = user
    return Tags(
        route=pick(headers_tags.route, "route"),
        feature=pick(headers_tags.feature, "feature"),
        tenant=tenant,
    )
