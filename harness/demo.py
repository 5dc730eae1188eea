"""`rehearse demo`: start the fake provider, talk to it through the official openai SDK, show
what came back and what the ledger billed."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import openai
from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

from fakeprovider import FakeProviderThread
from fakeprovider.state import Latency


class Ticket(BaseModel):
    title: str
    priority: int
    tags: list[str]


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return json.load(resp)


def run_demo(latency: Latency = "realistic", console: Console | None = None) -> int:
    out = console or Console()
    with FakeProviderThread(latency=latency, seed=7) as provider:
        out.print(f"[bold]fake provider[/] listening on {provider.url}")
        with openai.OpenAI(base_url=provider.url + "/v1", api_key="sk-demo", max_retries=0) as client:
            try:
                _talk(client, out)
            except openai.OpenAIError as e:
                out.print(f"[red]the provider answered with an error:[/] {e}")
                return 1
        _print_summary(provider.url, out)
    return 0


def _talk(client: openai.OpenAI, out: Console) -> None:
    """A plain, a streamed and a structured chat completion, and an embedding."""
    tags = {"X-Route": "summarize", "X-Feature": "demo", "X-Tenant": "acme"}

    reply = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "Summarise the quarterly report in two lines."}],
        max_tokens=60,
        extra_headers=tags,
    )
    out.print("\n[bold]chat completion[/] (gpt-4o-mini, max_tokens=60)")
    out.print(f"  {reply.choices[0].message.content}")
    total = reply.usage.total_tokens if reply.usage else 0
    out.print(f"  finish_reason={reply.choices[0].finish_reason} usage={total} tokens")

    out.print("\n[bold]streamed[/] (gpt-4o): ", end="")
    stream = client.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "Tell me a short story."}],
        max_tokens=40,
        stream=True,
        stream_options={"include_usage": True},
        extra_headers={**tags, "X-Route": "chat"},
    )
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            out.print(chunk.choices[0].delta.content, end="")
    out.print()

    parsed = client.chat.completions.parse(
        model="gpt-4o",
        messages=[{"role": "user", "content": "File a ticket for the login outage."}],
        response_format=Ticket,
        extra_headers={**tags, "X-Route": "extract"},
    )
    out.print(
        f"\n[bold]structured output[/] parsed into a pydantic model: {parsed.choices[0].message.parsed!r}"
    )

    emb = client.embeddings.create(
        model="text-embedding-3-small",
        input="rehearsal",
        dimensions=4,
        extra_headers={**tags, "X-Route": "embed"},
    )
    out.print(f"\n[bold]embedding[/] (4 dims): {[round(x, 4) for x in emb.data[0].embedding]}")


def _print_summary(url: str, out: Console) -> None:
    """What the ledger billed, per route, read back through the control API."""
    summary = _get(url + "/control/summary")
    table = Table(title="ledger summary by route")
    for col in ("route", "calls", "input tokens", "output tokens", "cost (USD)"):
        table.add_column(col, justify="left" if col == "route" else "right")
    for route, t in sorted(summary["by"]["route"].items()):
        table.add_row(
            route,
            str(t["calls"]),
            str(t["input_tokens"]),
            str(t["output_tokens"]),
            f"{t['cost_usd']:.6f}",
        )
    totals = summary["totals"]
    table.add_row(
        "[bold]total",
        str(totals["calls"]),
        str(totals["input_tokens"]),
        str(totals["output_tokens"]),
        f"{totals['cost_usd']:.6f}",
    )
    out.print()
    out.print(table)
