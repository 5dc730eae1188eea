"""`POST /summarize {"text"}`: a short summary, within the route's input and output budgets."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, ConfigDict

from sampleapp.config import SummarizeConfig
from sampleapp.inbound import call_tags, json_response, read_body
from sampleapp.llm import LLM
from sampleapp.policy import Deadline
from sampleapp.prompt import Assembler, Prompt, Turn

ROUTE, FEATURE = "summarize", "summary"
SYSTEM = Turn(
    "system",
    "You summarise the user's text for a busy reader: at most three sentences, plain words, no preamble.",
)


class SummarizeIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    text: str


class Summarize:
    def __init__(self, llm: LLM, config: SummarizeConfig, assembler: Assembler) -> None:
        self.llm = llm
        self.config = config
        self.assembler = assembler

    def prompt(self, text: str) -> Prompt:
        """The prompt for `text`; over budget it is refused (413) or the text is cut to fit."""
        turns = [SYSTEM, Turn("user", text)]
        if self.config.on_input_over_budget == "trim":
            return self.assembler.trim(turns, 1, self.config.max_input_tokens)
        return self.assembler.check(turns, self.config.max_input_tokens)

    async def handle(self, request: web.Request) -> web.Response:
        body = await read_body(request, SummarizeIn)
        prompt = self.prompt(body.text)
        answer = await self.llm.complete(
            call_tags(request, ROUTE, FEATURE),
            Deadline(self.config.timeout_s),
            prompt.messages(),
            self.config.max_output_tokens,
            budget=(prompt.input_tokens, self.config.max_input_tokens),
        )
        degraded = self.llm.policy.signalled(answer.fallback)
        headers = {"x-degraded": "fallback"} if degraded else {}
        if prompt.trimmed:
            headers["x-input-trimmed"] = "true"
        return json_response(
            {
                "summary": answer.value.choices[0].message.content or "",
                "model": answer.model,
                "degraded": degraded,
                "trimmed": prompt.trimmed,
                "input_tokens": prompt.input_tokens,
            },
            headers,
        )
