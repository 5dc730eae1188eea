"""`POST /answer {"question"}`: a short answer through the OpenAI Responses API.

The one route on `client.responses.create` (the others are chat completions): the instruction
goes as `instructions`, the question as `input`, and nothing is kept provider-side
(`store: false`: each answer stands alone). The same budgets, retry policy, fallback signal and
tags as every route; a prompt over `max_input_tokens` is refused (413), as `/extract`'s is.
"""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, ConfigDict

from sampleapp.config import AnswerConfig
from sampleapp.inbound import call_tags, json_response, read_body
from sampleapp.llm import LLM
from sampleapp.policy import Deadline
from sampleapp.prompt import Assembler, Turn

ROUTE, FEATURE = "answer", "faq"
SYSTEM = Turn("system", "You answer the user's question in one or two plain sentences.")


class AnswerIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    question: str


class AnswerRoute:
    def __init__(self, llm: LLM, config: AnswerConfig, assembler: Assembler) -> None:
        self.llm = llm
        self.config = config
        self.assembler = assembler

    async def handle(self, request: web.Request) -> web.Response:
        body = await read_body(request, AnswerIn)
        # Counted as the provider counts a Responses prompt: `instructions` as a system message,
        # then the input as a user message.
        prompt = self.assembler.check([SYSTEM, Turn("user", body.question)], self.config.max_input_tokens)
        answer = await self.llm.respond(
            call_tags(request, ROUTE, FEATURE),
            Deadline(self.config.timeout_s),
            SYSTEM.text,
            body.question,
            self.config.max_output_tokens,
            budget=(prompt.input_tokens, self.config.max_input_tokens),
        )
        degraded = self.llm.policy.signalled(answer.fallback)
        return json_response(
            {
                "answer": answer.value.output_text,
                "model": answer.model,
                "degraded": degraded,
                "input_tokens": prompt.input_tokens,
            },
            {"x-degraded": "fallback"} if degraded else {},
        )
