"""What every surface's reader (`read_answer`) shares: refusing what is no
answer with the file and field named, reading counts and finishes, and the `AnswerBuilder`
each starts from.

Tokens are the builder's (`fakeprovider.replay.answer`): each recorded piece counted with the
model's catalogue encoding, then scaled to the recorded usage's output tokens (largest
remainder), so a replayed answer bills what the provider billed, and one a fault cuts short
bills the share it sent. A whole body is cut into token pieces, so a fault can cut it mid-way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fakeprovider.catalogue.families import DEFAULT_CATALOGUE
from fakeprovider.generation.plan import FinishReason
from fakeprovider.replay.answer import AnswerBuilder
from fakeprovider.replay.cassette import CassetteError, Exchange, RecordedEvent


def builder_for(x: Exchange) -> AnswerBuilder:
    """A builder counting with the recorded model's encoding (o200k for a model not known)."""
    info = DEFAULT_CATALOGUE.resolve(x.model) if x.model else None
    return AnswerBuilder(info.encoding if info is not None else "o200k_base")


def refuse(x: Exchange, what: str) -> CassetteError:
    """The error for an exchange a dialect cannot read, naming its file and what is wrong."""
    return CassetteError(f"{x.source or '<exchange>'}: {x.api} answer: {what}")


def whole_body(x: Exchange) -> dict[str, Any]:
    """The recorded JSON answer of a non-streamed 2xx exchange."""
    if not 200 <= x.response.status < 300:
        raise refuse(x, f"status {x.response.status} is no answer to replay")
    body = x.response.body
    if not isinstance(body, dict):
        raise refuse(x, "response.body: expected a JSON object")
    return body


def stream_events(x: Exchange) -> tuple[RecordedEvent, ...]:
    """The recorded events of a streamed 2xx exchange."""
    if not 200 <= x.response.status < 300:
        raise refuse(x, f"status {x.response.status} is no answer to replay")
    if x.response.events is None:
        raise refuse(x, "response.events: a streamed answer has no events")
    return x.response.events


def obj(value: Any, x: Exchange, where: str) -> dict[str, Any]:
    """`value` as a JSON object, or the error naming `where` in the exchange."""
    if not isinstance(value, dict):
        raise refuse(x, f"{where}: expected an object")
    return value


def count(value: Any, x: Exchange, where: str) -> int:
    """A token count (absent: 0)."""
    if value is None:
        return 0
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise refuse(x, f"{where}: expected a token count, got {value!r}")
    return value


def finish_of(reasons: Mapping[str, FinishReason], reason: Any, x: Exchange, where: str) -> FinishReason:
    """The neutral finish for the recorded `reason` (none recorded: `stop`, the answer is what
    was sent); a reason the table does not know is refused, naming `where`."""
    if reason is None:
        return "stop"
    found = reasons.get(reason) if isinstance(reason, str) else None
    if found is None:
        raise refuse(x, f"{where}: unknown {reason!r}")
    return found
