"""The §10 clauses end to end: real load through the runner against the sampleapp (in process, the
official openai SDK inside) and a real fake provider, with and without the sampleapp's flaws.

Each test starts its own provider (latency none) and sampleapp on loopback ports and closes them;
phases are half a second at 20 requests/s.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from rich.console import Console

from fakeprovider import FakeProviderThread
from harness.contract.base import ClauseResult
from harness.record import Run
from harness.report.journal import read_journal
from harness.run.main import main
from harness.run.runner import RunOptions
from sampleapp.app import SampleAppThread
from tests.conftest import LONG_ANSWERS, put_scenario

# ~1,300 tokens, the same on every request: over the provider's 1,024-token prompt-cache floor and
# under /summarize's 2,000-token input budget.
LONG_TEXT = "The quarterly report covers revenue, costs, hiring and the roadmap for next year. " * 90


@pytest.fixture
def provider() -> Iterator[FakeProviderThread]:
    with FakeProviderThread(latency="none", seed=0) as provider:
        yield provider


def run_against(
    tmp_path: Path,
    provider: FakeProviderThread,
    request: dict[str, Any],
    contract: list[dict[str, Any]],
    *,
    flaws: tuple[str, ...] = (),
    faults: list[dict[str, Any]] | None = None,
    stream: bool = False,
) -> tuple[Run, list[ClauseResult], str]:
    exp = {
        "title": f"sampleapp {request['path']} {' '.join(flaws) or 'as built'}",
        "target": {
            "url": "http://127.0.0.1:9",
            "request": request,
            "timeout_s": 10,
            "stream": stream and "sse",
        },
        "load": {"mode": "open", "rate": 20},
        "phases": [{"name": "steady", "duration_s": 0.5, "faults": faults or []}],
        "contract": contract,
        "seed": 5,
    }
    source = tmp_path / "experiment.yaml"
    source.write_text(yaml.safe_dump(exp, sort_keys=False))
    journal = tmp_path / "journal.json"
    console = Console(record=True, width=200)
    with SampleAppThread(provider.url, flaws=flaws, seed=1) as app:
        main(
            [source], RunOptions(target_url=app.url, provider_url=provider.url), json=journal, console=console
        )
    run, results = read_journal(journal)
    assert run.status == "completed", run.error
    return run, results, console.export_text()


SUMMARIZE = {"method": "POST", "path": "/summarize", "json": {"text": LONG_TEXT}}
PER_CALL_AND_PROMPT_CACHE = [
    {"budget": {"max_input_tokens_per_call": 2000, "max_output_tokens_per_call": 120}},
    {"cache": {"min_prompt_cache_share": 0.5}},
]


def test_summarize_holds_its_per_call_caps_and_reuses_the_prompt_cache(
    tmp_path: Path, provider: FakeProviderThread
) -> None:
    put_scenario(provider.url, LONG_ANSWERS)  # the model would answer at length: the cap must hold it
    run, results, text = run_against(tmp_path, provider, SUMMARIZE, PER_CALL_AND_PROMPT_CACHE)
    budget, cache = results
    assert [budget.verdict, cache.verdict] == ["pass", "pass"], text
    assert budget.details["output_tokens_per_call"]["max"] == 120  # exactly at the cap
    assert 1024 < budget.details["input_tokens_per_call"]["max"] <= 2000
    # Every call after the first found the same prompt cached (whole 128-token blocks).
    calls = len(run.ledger)
    assert calls == len(run.requests) >= 8
    assert cache.details["prompt_cache_share"] > 0.5 * (calls - 1) / calls


def test_summarize_without_a_token_cap_breaks_the_per_call_cap(
    tmp_path: Path, provider: FakeProviderThread
) -> None:
    put_scenario(provider.url, LONG_ANSWERS)
    run, results, text = run_against(
        tmp_path, provider, SUMMARIZE, PER_CALL_AND_PROMPT_CACHE, flaws=("no_token_cap",)
    )
    budget, cache = results
    assert budget.verdict == "fail", text
    assert budget.details["output_tokens_per_call"]["max"] == 400  # the model's whole answer
    assert budget.details["input_tokens_per_call"]["over"] == 0
    assert set(budget.offenders) <= {r.id for r in run.requests}
    assert len(budget.offenders) == 5
    assert cache.verdict == "pass"  # the flaw does not touch the prompt


EMBED = {"method": "POST", "path": "/embed", "json": {"text": "the same text every time"}}


def test_embed_answers_repeats_from_its_cache(tmp_path: Path, provider: FakeProviderThread) -> None:
    contract = [
        {"cache": {"min_response_cache_share": 0.8}},
        {"amplification": {"phase": "steady", "max_calls_per_request": 0.2}},
    ]
    run, results, text = run_against(tmp_path, provider, EMBED, contract)
    cache, amplification = results
    assert [cache.verdict, amplification.verdict] == ["pass", "pass"], text
    n = len(run.requests)
    assert len(run.ledger) == 1  # the first request; every later one is a hit
    assert cache.details["answered_without_call"] == n - 1
    assert amplification.details["calls_per_request"] == pytest.approx(1 / n)


def test_embed_response_cache_cannot_be_judged_when_the_request_id_is_not_forwarded(
    tmp_path: Path, provider: FakeProviderThread
) -> None:
    contract = [{"cache": {"min_response_cache_share": 0.8}}]
    run, results, text = run_against(tmp_path, provider, EMBED, contract, flaws=("no_request_id",))
    (cache,) = results
    assert cache.verdict == "error", text
    assert "1 of 1 provider calls not joined to a request" in cache.observed
    assert run.ledger[0].request_id not in {r.id for r in run.requests}


def test_chat_cut_mid_stream_ends_with_an_error_event_the_caller_sees(
    tmp_path: Path, provider: FakeProviderThread
) -> None:
    request = {"method": "POST", "path": "/chat", "json": {"message": "Tell me about caching."}}
    cut = {"fault": {"kind": "partial", "after_tokens": 5, "mode": "drop"}}
    contract = [
        {"stream_integrity": {"error_marker": "stream_interrupted"}},
        {"goodput": {"min": 0.0, "e2e_ms": 5000, "ttft_ms": 2000}},
    ]
    run, results, text = run_against(tmp_path, provider, request, contract, faults=[cut], stream=True)
    integrity, goodput = results
    assert integrity.verdict == "pass", text
    assert integrity.details["cut"] == len(run.requests) >= 8
    assert integrity.details["cut_by"] == {"partial": len(run.requests)}
    for r in run.requests:
        assert (r.status, r.stream_end) == (200, "error")
        assert r.tail is not None
        assert "stream_interrupted" in r.tail
    assert goodput.verdict == "pass"  # no failure by status: the cut shows in the body only
