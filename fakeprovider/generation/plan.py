"""The plan: a response as a timed sequence of events, before any wire format.

Faults transform a plan (re-time it, cut it, corrupt its tool arguments, replace its finish);
protocol renderers turn it into OpenAI or Anthropic JSON or SSE; the ledger bills the events
that went out.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import orjson

from fakeprovider.catalogue.info import ModelInfo
from fakeprovider.generation import tokens
from fakeprovider.generation.answer_length import DEFAULT_SAMPLER, LengthSampler
from fakeprovider.generation.content import ContentPool, Prose
from fakeprovider.generation.events import Event as Event
from fakeprovider.generation.events import TextDelta as TextDelta
from fakeprovider.generation.events import ToolArgsDelta as ToolArgsDelta
from fakeprovider.generation.events import ToolCallStart as ToolCallStart
from fakeprovider.generation.ids import random_id
from fakeprovider.generation.request import ChatRequest
from fakeprovider.generation.schema.values import SchemaError, ValueGenerator

if TYPE_CHECKING:
    from fakeprovider.errors import ProviderError

FinishReason = Literal["stop", "length", "tool_calls", "content_filter"]
Ending = Literal["complete", "drop", "reset", "error_event"]


@dataclass(frozen=True, slots=True)
class Stall:
    """A pause in a streamed answer: once `after_tokens` output tokens went out (0: before the
    first byte of the body), nothing but the protocol's keep-alive (every `keepalive_s`, where
    the protocol has one) for `seconds` (None: until the caller leaves), then the rest."""

    after_tokens: int
    seconds: float | None
    keepalive_s: float | None


@dataclass(slots=True)
class Plan:
    """What the provider will send, and when (`delays[i]` seconds before `events[i]`)."""

    events: list[Event]
    delays: list[float]
    finish: FinishReason
    ending: Ending = "complete"
    tail_delay: float = 0.0  # before the finish, after the last event
    error: ProviderError | None = field(default=None)  # sent when ending == "error_event"
    cut: bool = False  # a fault cut the answer short: the ledger says `partial` (or `reset`)
    stall: Stall | None = None  # a streamed answer paused part-way (the `stall` fault)
    # The text and token count of an all-text `events`, noted by `note_text`, and the list (and
    # its length) they describe: a plan given another list, or a new plan, sums afresh.
    _noted: tuple[list[Event], int, str, int] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def note_text(self, text: str, tokens: int) -> None:
        """Record what `events` (all text pieces, never edited in place) join and sum to."""
        self._noted = (self.events, len(self.events), text, tokens)

    @property
    def output_tokens(self) -> int:
        noted, events = self._noted, self.events
        if noted is not None and noted[0] is events and noted[1] == len(events):
            return noted[3]
        return sum([e.tokens for e in events])

    def text(self) -> str:
        return self.content()[0]

    def tool_calls(self) -> list[tuple[str, str, str]]:
        """(call id, name, arguments) for each tool call, arguments joined from deltas."""
        return self.content()[1]

    def content(self) -> tuple[str, list[tuple[str, str, str]]]:
        """`text()` and `tool_calls()` together (one pass when the plan is all text)."""
        noted, events = self._noted, self.events
        if noted is not None and noted[0] is events and noted[1] == len(events):
            return noted[2], []
        texts = [e.text for e in events if e.__class__ is TextDelta]
        if len(texts) == len(events):
            return "".join(texts), []
        args: dict[int, list[str]] = {}
        heads: dict[int, ToolCallStart] = {}
        for e in events:
            if isinstance(e, ToolCallStart):
                heads[e.index] = e
                args[e.index] = []
            elif isinstance(e, ToolArgsDelta):
                args[e.index].append(e.text)
        calls = [(heads[i].call_id, heads[i].name, "".join(args[i])) for i in sorted(heads)]
        return "".join(texts), calls


@dataclass(frozen=True, slots=True)
class Reply:
    """A reply decided before pacing: prose, JSON text, or tool calls."""

    text: str | None = None
    json_value: Any = None
    tool_calls: tuple[tuple[str, Any], ...] = ()  # (name, arguments object or raw string)


_PROSE = Reply()  # nothing decided: prose from the pool (frozen, so one instance serves)


def build_plan(
    req: ChatRequest,
    pool: ContentPool,
    rng: random.Random,
    reply: Reply | None,
    realistic: bool,
    length: LengthSampler = DEFAULT_SAMPLER,
) -> Plan:
    """Decide the reply's events and their timing for one request."""
    events: list[Event] = []
    finish: FinishReason = "stop"
    capped = cut = False
    prose: Prose | None = None
    if reply is None:
        reply = _default_reply(req, pool, rng) if req.tools or req.output != "text" else _PROSE
    if reply.tool_calls:
        for i, (name, args) in enumerate(reply.tool_calls):
            args_text = args if isinstance(args, str) else orjson.dumps(args).decode()
            events.append(ToolCallStart(i, _tool_call_id(req, rng), name))
            events.extend(ToolArgsDelta(i, t, n) for t, n in tokens.pieces(args_text, pool.encoding_name))
        finish = "tool_calls"
    elif reply.json_value is not None or (req.output != "text" and reply.text is None):
        text = orjson.dumps(reply.json_value).decode()
        events.extend(TextDelta(t, n) for t, n in tokens.pieces(text, pool.encoding_name))
    elif reply.text is not None:
        events.extend(_deltas_cached(reply.text, pool.encoding_name))
    else:
        # Capped while drawn: the pieces past the natural end or max_tokens are never built;
        # only the cap's cut is a `length` finish.
        natural = length.draw(rng, req.input_tokens)
        capped_by_request = req.max_tokens is not None and natural > req.max_tokens
        prose = pool.prose_events(rng, natural, req.max_tokens if capped_by_request else natural)
        events.extend(prose.events)
        cut = capped_by_request
        capped = True
    if req.max_tokens is not None and not capped:
        events, cut = _cap(events, req.max_tokens)
    if cut:
        finish = "length"
    delays = _pacing(req.model, len(events), rng) if realistic else [0.0] * len(events)
    plan = Plan(events, delays, finish)
    if prose is not None:
        plan.note_text(prose.text, prose.tokens)
    return plan


def _default_reply(req: ChatRequest, pool: ContentPool, rng: random.Random) -> Reply:
    if req.tools and req.tool_choice != "none":
        wants_tool = req.tool_choice != "auto" or not req.after_tool_result
        if wants_tool:
            by_name = {t.name: t for t in req.tools}
            tool = by_name.get(req.tool_choice) or req.tools[rng.randrange(len(req.tools))]
            args = _schema_value(
                tool.parameters or {"type": "object"},
                pool,
                rng,
                f"Invalid schema for function '{tool.name}'",
                param=f"tools[{req.tools.index(tool)}].function.parameters",
                code="invalid_function_parameters",
            )
            return Reply(tool_calls=((tool.name, args),))
    if req.output == "json_schema" and req.output_schema is not None:
        value = _schema_value(
            req.output_schema, pool, rng, "Invalid schema for response_format", param="response_format"
        )
        return Reply(json_value=value)
    if req.output == "json_object":
        return Reply(json_value={"result": pool.sentence(rng), "confidence": rng.randint(50, 99)})
    return _PROSE


def _schema_value(
    schema: dict[str, Any],
    pool: ContentPool,
    rng: random.Random,
    what: str,
    param: str,
    code: str | None = None,
) -> Any:
    """A value for a caller's schema; a schema no value fits is the caller's 400, as upstream."""
    try:
        return ValueGenerator(schema, pool, rng).value()
    except SchemaError as e:
        # Imported here: the dialects import this module.
        from fakeprovider.errors import invalid

        raise invalid(f"{what}: {e}", param=param, code=code) from None


def _tool_call_id(req: ChatRequest, rng: random.Random) -> str:
    if req.api == "anthropic.messages":
        return random_id("toolu_01", 22, rng)
    return random_id("call_", 24, rng)


_DELTAS_CACHE: dict[tuple[str, str], tuple[TextDelta, ...]] = {}


def _deltas_cached(text: str, encoding_name: str) -> tuple[TextDelta, ...]:
    """A scripted reply's text pieces, built once per text (events are frozen, so shared)."""
    key = (text, encoding_name)
    found = _DELTAS_CACHE.get(key)
    if found is None:
        found = tuple(TextDelta(t, n) for t, n in tokens.pieces(text, encoding_name))
        if len(_DELTAS_CACHE) < 4096:
            _DELTAS_CACHE[key] = found
    return found


def _cap(events: list[Event], max_tokens: int) -> tuple[list[Event], bool]:
    total = 0
    for i, e in enumerate(events):
        if isinstance(e, ToolCallStart):
            continue
        if total + e.tokens > max_tokens:
            return events[:i], True
        total += e.tokens
    return events, False


def _pacing(model: ModelInfo, n_events: int, rng: random.Random) -> list[float]:
    if n_events == 0:
        return []
    if model.ttft is not None or model.itl is not None:
        return _fitted_pacing(model, n_events, rng)
    jitter = model.jitter_ms / 1000
    ttft = max(0.0, model.ttft_ms / 1000 + rng.uniform(-jitter, jitter))
    per_token = 1.0 / model.tokens_per_s
    delays = [ttft]
    delays.extend(per_token * rng.uniform(0.8, 1.2) for _ in range(n_events - 1))
    return delays


def _fitted_pacing(model: ModelInfo, n_events: int, rng: random.Random) -> list[float]:
    """Delays drawn from the model's fitted distributions (`rehearse profile`), each falling
    back to the catalogue's mean and jitter where the model has only the other."""
    if model.ttft is not None:
        delays = [model.ttft.draw(rng)]
    else:
        jitter = model.jitter_ms / 1000
        delays = [max(0.0, model.ttft_ms / 1000 + rng.uniform(-jitter, jitter))]
    if model.itl is not None:
        draw = model.itl.draw
        delays.extend(draw(rng) for _ in range(n_events - 1))
    else:
        per_token = 1.0 / model.tokens_per_s
        delays.extend(per_token * rng.uniform(0.8, 1.2) for _ in range(n_events - 1))
    return delays
