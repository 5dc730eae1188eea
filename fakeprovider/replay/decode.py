"""What every dialect's `read_answer` shares: refusing what is no answer, and the tokens of the
recorded pieces.

Tokens: a recorded answer's text pieces get the recorded usage's output tokens, shared out in
proportion to their characters (largest remainder, so they sum exactly to the usage). The usage
is what the provider billed; the catalogue's BPE encodings are only stand-ins for Claude's,
Gemini's and Nova's tokenizers, and a replayed answer must bill what it billed when recorded. A
cut replay bills the pieces that went out, as a generated one does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from fakeprovider.generation.events import Event, TextDelta, ToolArgsDelta
from fakeprovider.generation.plan import FinishReason
from fakeprovider.replay.answer import RecordedAnswer
from fakeprovider.replay.cassette import CassetteError, Exchange, RecordedEvent

if TYPE_CHECKING:  # the dialects import this module: at run time it must not import them
    from fakeprovider.dialects.base import ResponseMeta, Usage


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


def body_answer(
    x: Exchange, texts: list[str], calls: list[Event], finish: FinishReason, usage: Usage, meta: ResponseMeta
) -> RecordedAnswer:
    """A whole answer: its text joined into one piece, then its calls, all at the end."""
    text = "".join(texts)
    events: list[Event] = ([TextDelta(text, 0)] if text else []) + calls
    end = x.response.end_ms
    return RecordedAnswer(
        events=with_tokens(events, usage.output_tokens),
        offsets_ms=[end] * len(events),
        end_ms=end,
        finish=finish,
        usage=usage,
        meta=meta,
    )


def stream_answer(
    x: Exchange,
    events: list[Event],
    offsets: list[float],
    finish: FinishReason,
    usage: Usage,
    meta: ResponseMeta,
) -> RecordedAnswer:
    """A streamed answer: its pieces at their recorded offsets."""
    return RecordedAnswer(
        events=with_tokens(events, usage.output_tokens),
        offsets_ms=offsets,
        end_ms=x.response.end_ms,
        finish=finish,
        usage=usage,
        meta=meta,
    )


def with_tokens(events: Sequence[Event], total: int) -> list[Event]:
    """`events` with `total` output tokens shared among their text and argument pieces by
    characters (largest remainder: the shares sum to `total` whenever a piece has text)."""
    chars = [len(e.text) if isinstance(e, TextDelta | ToolArgsDelta) else 0 for e in events]
    sized = [i for i, c in enumerate(chars) if c]
    all_chars = sum(chars)
    out = list(events)
    if all_chars == 0 or total <= 0:
        return [_tokens(e, 0) for e in out]
    exact = [total * c / all_chars for c in chars]
    shares = [int(v) for v in exact]
    left = total - sum(shares)
    # The pieces with the largest remainders get one more; ties go to the earlier piece.
    for i in sorted(sized, key=lambda i: (-(exact[i] - shares[i]), i))[:left]:
        shares[i] += 1
    return [_tokens(e, shares[i]) for i, e in enumerate(out)]


def _tokens(e: Event, n: int) -> Event:
    if isinstance(e, TextDelta):
        return TextDelta(e.text, n)
    if isinstance(e, ToolArgsDelta):
        return ToolArgsDelta(e.index, e.text, n)
    return e
