"""`POST /ask {"question"}`: a short answer that fails over across providers.

The primary is an OpenAI chat model (`routes.ask.primary_model`, `gpt-4o`), the fallback an
Anthropic model (`routes.ask.fallback_model`, `claude-haiku-4-5`) through the `anthropic` SDK's
Messages API: an outage or a 429 storm at one provider is seldom one at the other. The same one
policy as every route (`policy.py`): attempts capped (`primary_attempts` on OpenAI, then
`fallback_attempts` on Anthropic, 2 + 2 by default, so the fallback's own blip gets a retry),
either provider's retry-after honoured, the fallback signalled with `x-degraded: fallback` and
`"degraded": true` (and `"provider"` in the body), tags and the request id forwarded on both
providers. A prompt over `max_input_tokens` is refused (413) before any call;
it is counted with the primary's tokenizer, the budget's.
"""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, ConfigDict

from sampleapp.config import AskConfig
from sampleapp.inbound import call_tags, json_response, read_body
from sampleapp.llm import LLM
from sampleapp.policy import Deadline
from sampleapp.prompt import Assembler, Turn

ROUTE, FEATURE = "ask", "assistant"
SYSTEM = Turn("system", "You answer the user's question in one or two plain sentences.")


class AskIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    question: str


class Ask:
    def __init__(self, llm: LLM, config: AskConfig, assembler: Assembler) -> None:
        self.llm = llm
        self.config = config
        self.assembler = assembler

    async def handle(self, request: web.Request) -> web.Response:
        body = await read_body(request, AskIn)
        prompt = self.assembler.check([SYSTEM, Turn("user", body.question)], self.config.max_input_tokens)
        answer = await self.llm.ask_across(
            call_tags(request, ROUTE, FEATURE),
            Deadline(self.config.timeout_s),
            SYSTEM.text,
            body.question,
            self.config.max_output_tokens,
            primary=(self.config.primary_model, self.config.primary_attempts),
            fallback=(self.config.fallback_model, self.config.fallback_attempts),
            budget=(prompt.input_tokens, self.config.max_input_tokens),
        )
        degraded = self.llm.policy.signalled(answer.fallback)
        return json_response(
            {
                "answer": answer.value,
                "model": answer.model,
                "provider": "anthropic" if answer.fallback else "openai",
                "degraded": degraded,
                "input_tokens": prompt.input_tokens,
            },
            {"x-degraded": "fallback"} if degraded else {},
        )
