"""Small helpers shared by the wire protocols: request field checks and prompt tokens."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fakeprovider.errors import invalid
from fakeprovider.generation import tokens
from fakeprovider.generation.request import Tags

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
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
        return value  # the common case, without `require`'s second lookup
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


class _TextIds:
    """Token ids of long message texts, which are often sent again and again (a route's
    system prompt, a shared document): up to `max_chars` characters of text in all, the oldest
    dropped first. Short texts cost less to encode than to remember."""

    def __init__(self, min_chars: int = 256, max_chars: int = 8_000_000) -> None:
        self.min_chars = min_chars
        self.max_chars = max_chars
        self.chars = 0
        self._ids: dict[tuple[str, str], tuple[int, ...]] = {}

    def get(self, text: str, encoding_name: str) -> list[int] | tuple[int, ...]:
        if len(text) < self.min_chars:
            return tokens.encoding(encoding_name).encode_ordinary(text)
        key = (text, encoding_name)
        found = self._ids.get(key)
        if found is None:
            found = tuple(tokens.encoding(encoding_name).encode_ordinary(text))
            if len(text) <= self.max_chars:
                while self.chars + len(text) > self.max_chars:
                    oldest = next(iter(self._ids))
                    del self._ids[oldest]
                    self.chars -= len(oldest[0])
                self._ids[key] = found
                self.chars += len(text)
        return found


_TEXT_IDS = _TextIds()


def text_ids(text: str, encoding_name: str) -> list[int] | tuple[int, ...]:
    """The token ids of `text`; to be read, not changed (long texts share one cached tuple)."""
    return _TEXT_IDS.get(text, encoding_name) if text else ()


_role_tokens: dict[tuple[str, str], int] = {}


def _role_token_count(role: str, encoding_name: str) -> int:
    key = (role, encoding_name)
    n = _role_tokens.get(key)
    if n is None:
        n = tokens.count(role, encoding_name)
        if len(_role_tokens) < 64:  # roles are validated first: a handful in practice
            _role_tokens[key] = n
    return n


def message_ids(role: str, text: str, encoding_name: str, extra: int = 0) -> list[int]:
    """The prompt token ids of one message: framing marks, then its text."""
    mark = _ROLE_MARK.get(role, -7)
    ids = [mark] * (tokens.MESSAGE_OVERHEAD + extra)
    ids.extend(text_ids(text, encoding_name))
    return ids


def openai_message_ids(role: str, text: str, name: str | None, encoding_name: str) -> list[int]:
    """One chat message counted as OpenAI documents it: framing, role, content, and the name."""
    mark = _ROLE_MARK.get(role, -7)
    ids = [mark] * (tokens.MESSAGE_OVERHEAD + _role_token_count(role, encoding_name))
    if name:
        ids.extend([mark] * tokens.NAME_OVERHEAD)
        ids.extend(text_ids(name, encoding_name))
    ids.extend(text_ids(text, encoding_name))
    return ids


def tags_from(headers_tags: Tags, metadata: Any, user: Any) -> Tags:
    """Fill tags the headers did not give from the body's metadata, then from `user`."""
    if headers_tags.route and headers_tags.feature and headers_tags.tenant:
        return headers_tags
    if (
        not (metadata and isinstance(metadata, dict))
        and not (user and isinstance(user, str))
        and "" not in (headers_tags.route, headers_tags.feature, headers_tags.tenant)
    ):
        return headers_tags  # nothing to fill in (the common case)
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
