"""`POST /chat {"message", "history"?}`: the model's answer as server-sent events.

The retry / fallback policy applies until the provider stream's first chunk; then the response
headers go out and every content delta is forwarded at once. A stream that breaks afterwards
ends with an `error` event (`stream_interrupted`) and a clean close, never a hang: text
already shown cannot be taken back, but the caller must be able to tell it is incomplete.
A stream that stalls (no content for `idle_timeout_s`) is such a break: the SDK's read timeout
cannot see it when the provider sends keep-alives, which reset a read timeout but carry nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Literal

import openai
import orjson
from aiohttp import web
from openai.types.chat import ChatCompletionChunk
from pydantic import BaseModel, ConfigDict, Field

from sampleapp.config import ChatConfig
from sampleapp.inbound import call_tags, read_body
from sampleapp.llm import LLM, OpenedStream
from sampleapp.policy import Deadline
from sampleapp.prompt import Assembler, Turn

ROUTE, FEATURE = "chat", "assistant"
SYSTEM = Turn("system", "You are a helpful assistant. Answer briefly and plainly.")
SSE_HEADERS = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}


class HistoryTurn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    role: Literal["user", "assistant"]
    content: str


class ChatIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    message: str
    history: list[HistoryTurn] = Field(default_factory=list)


def sse(data: object, event: str | None = None) -> bytes:
    head = b"event: " + event.encode() + b"\n" if event else b""
    return head + b"data: " + orjson.dumps(data) + b"\n\n"


async def _chunks(opened: OpenedStream) -> AsyncIterator[ChatCompletionChunk]:
    yield opened.first
    async for chunk in opened.stream:
        yield chunk


class Chat:
    def __init__(self, llm: LLM, config: ChatConfig, assembler: Assembler) -> None:
        self.llm = llm
        self.config = config
        self.assembler = assembler

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await read_body(request, ChatIn)
        turns = [SYSTEM, *(Turn(h.role, h.content) for h in body.history), Turn("user", body.message)]
        # Over budget, the oldest history goes first; the new message itself is never cut.
        prompt = self.assembler.drop_oldest(turns, 1, len(turns) - 1, self.config.max_input_tokens)
        deadline = Deadline(self.config.timeout_s)
        answer = await self.llm.open_stream(
            call_tags(request, ROUTE, FEATURE),
            deadline,
            prompt.messages(),
            self.config.max_output_tokens,
            budget=(prompt.input_tokens, self.config.max_input_tokens),
        )
        degraded = self.llm.policy.signalled(answer.fallback)
        response = web.StreamResponse(headers=SSE_HEADERS)
        if degraded:
            response.headers["x-degraded"] = "fallback"
        if prompt.trimmed:
            response.headers["x-input-trimmed"] = "true"
        try:
            await response.prepare(request)
            await self._forward(response, answer.value, deadline, answer.model, degraded)
        except ConnectionResetError:
            pass  # the caller left; closing the provider stream (below) stops the generation
        finally:
            await answer.value.stream.close()
        return response

    async def _forward(
        self,
        response: web.StreamResponse,
        opened: OpenedStream,
        deadline: Deadline,
        model: str,
        degraded: bool,
    ) -> None:
        finish: str | None = None
        usage: dict[str, int] | None = None
        forwarded = False
        cut: str | None  # why the stream is incomplete, if it is
        # Only progress (content, the finish, the usage) moves the idle guard on; `no_read_timeout`
        # has none, and a stalled stream then lasts as long as the route's time.
        idle = self.config.idle_timeout_s if self.llm.behaviour.guard_stalls else None
        quiet = asyncio.timeout(idle)
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(max(0.0, deadline.remaining())), quiet:
                async for chunk in _chunks(opened):
                    progressed = False
                    if chunk.usage is not None:
                        details = chunk.usage.prompt_tokens_details
                        usage = {
                            "input_tokens": chunk.usage.prompt_tokens,
                            "output_tokens": chunk.usage.completion_tokens,
                            "cached_tokens": (details.cached_tokens or 0) if details else 0,
                        }
                        progressed = True
                    for choice in chunk.choices:
                        if choice.delta.content:
                            await response.write(sse({"delta": choice.delta.content}))
                            forwarded = progressed = True
                        if choice.finish_reason is not None:
                            finish = choice.finish_reason
                            progressed = True
                    if progressed and idle is not None:
                        quiet.reschedule(loop.time() + idle)
        except (openai.APIError, TimeoutError) as e:
            if quiet.expired():
                why = f"stalled: no content for {idle:g} s"
            elif isinstance(e, TimeoutError):
                why = "the route's time ran out"
            else:
                why = f"{type(e).__name__}: {e}"
            cut = f"the model's stream broke off ({why})"
        else:
            cut = None if finish is not None else "the model's stream ended without finishing"
        if cut is not None and self.llm.behaviour.signal_truncation:
            await self._interrupted(response, cut, forwarded)
            return
        # `serves_truncated` ends a cut stream here too, as if the model had finished.
        done = {
            "done": True,
            "model": model,
            "degraded": degraded,
            "finish_reason": finish or "stop",
            "usage": usage,
        }
        await response.write(sse(done))
        await response.write_eof()

    async def _interrupted(self, response: web.StreamResponse, message: str, forwarded: bool) -> None:
        error = {"error": {"code": "stream_interrupted", "message": message}, "partial": forwarded}
        await response.write(sse(error, event="error"))
        await response.write_eof()
