"""`rehearse profile`: latency fitted from a cassette of streams with known timing, written as a
scenario, and drawn back by a realistic provider near the profile's quantiles (plan delays,
no sockets, no wall clock)."""

from __future__ import annotations

import math
import random
from pathlib import Path

import pytest
import yaml

from fakeprovider.catalogue.families import DEFAULT_CATALOGUE
from fakeprovider.catalogue.info import Spread
from fakeprovider.clock import VirtualTime
from fakeprovider.dialects.anthropic import AnthropicMessages
from fakeprovider.dialects.base import ChatDialect, Usage
from fakeprovider.dialects.bedrock import BedrockConverse
from fakeprovider.dialects.gemini import GeminiGenerate
from fakeprovider.generation.plan import Plan, Reply, TextDelta, build_plan
from fakeprovider.generation.request import ChatRequest
from fakeprovider.replay.cassette import CassetteWriter, Exchange, RecordedRequest
from fakeprovider.scenario.model import CompiledScenario, ScenarioError, parse_scenario
from fakeprovider.server import FakeProvider
from harness.analysis.quantiles import percentiles
from harness.cli import main as cli_main
from harness.profile import MIN_STREAMS, ModelProfile, profile_cassette
from tests.fakeprovider.replay.recording import recorded_body, recorded_stream

TTFT = (math.log(300.0), 0.4)  # the recorded provider's log-normals (ms)
ITL = (math.log(20.0), 0.5)


def _record(
    directory: Path, dialect: ChatDialect, model: str, streams: int, rng: random.Random, bodies: int = 0
) -> None:
    """`streams` answers of 30 one-token pieces, timed by the known log-normals, as recorded."""
    info = DEFAULT_CATALOGUE.resolve(model)
    assert info is not None
    writer = CassetteWriter(directory)
    for _ in range(streams):
        events = [TextDelta(f"w{i:03d}", 1) for i in range(30)]  # equal pieces: one token each
        delays = [rng.lognormvariate(*TTFT) / 1000] + [rng.lognormvariate(*ITL) / 1000 for _ in events[1:]]
        req = ChatRequest(dialect.api, info, True, [1, 2, 3])
        chunks = dialect.render_sse(
            req, Plan(list(events), delays, "stop"), Usage(3, 0, 30), dialect.new_meta()
        )
        _, x = recorded_stream(dialect.api, chunks, eventstream=dialect.api == "bedrock.converse")
        writer.write(_named(x, model))
    for _ in range(bodies):
        req = ChatRequest(dialect.api, info, False, [1, 2, 3])
        body = dialect.render_body(
            req, Plan([TextDelta("hi", 1)], [0.0], "stop"), Usage(3, 0, 1), dialect.new_meta()
        )
        writer.write(_named(recorded_body(dialect.api, body, 900.0), model, stream=False))


def _named(x: Exchange, model: str, stream: bool = True) -> Exchange:
    request = RecordedRequest("POST", "/", {}, {}, {"model": model, "n": random.random()})
    return Exchange(x.api, model, stream, request, x.response)


def _lognormal_quantiles(mu: float, sigma: float) -> dict[int, float]:
    z = {50: 0.0, 90: 1.2815515655446004, 99: 2.3263478740408408}
    return {q: math.exp(mu + z[q] * sigma) for q in z}


def test_a_profile_fits_the_recorded_latency_and_realistic_pacing_draws_it_back(tmp_path: Path) -> None:
    rng = random.Random(7)
    cassette, out = tmp_path / "cassette", tmp_path / "profile.yaml"
    _record(cassette, AnthropicMessages(), "claude-sonnet-4-5", 400, rng, bodies=2)
    _record(cassette, GeminiGenerate(), "gemini-2.5-flash", 60, rng)
    _record(cassette, BedrockConverse(), "nova-pro", 2, rng)  # too few to fit
    assert cli_main(["profile", str(cassette), "--out", str(out)]) == 0
    models = yaml.safe_load(out.read_text())["models"]
    assert set(models) == {"claude-sonnet-4-5", "gemini-2.5-flash"}
    fitted = models["claude-sonnet-4-5"]
    truth_ttft, truth_itl = _lognormal_quantiles(*TTFT), _lognormal_quantiles(*ITL)
    for q, tolerance in ((50, 0.1), (90, 0.12)):
        assert fitted["ttft"][f"p{q}_ms"] == pytest.approx(truth_ttft[q], rel=tolerance)
        assert fitted["itl"][f"p{q}_ms"] == pytest.approx(truth_itl[q], rel=tolerance)
    assert fitted["tokens_per_s"] > 0

    # The profile as a scenario of a realistic provider: plans drawn for the model land near it.
    provider = FakeProvider(latency="realistic", scenario=out, clock=VirtualTime(), warm=False)
    info = provider.state.catalogue.resolve("claude-sonnet-4-5")
    assert info is not None
    assert info.ttft is not None
    assert info.itl is not None
    pool = provider.state.pools.get(info.encoding)
    req = ChatRequest("anthropic.messages", info, True, [1, 2, 3])
    draw_rng = random.Random(11)
    ttfts: list[float] = []
    itls: list[float] = []
    for _ in range(2000):
        plan = build_plan(req, pool, draw_rng, Reply(text="one two three four five six"), realistic=True)
        ttfts.append(plan.delays[0] * 1000)
        itls += [d * 1000 for d in plan.delays[1:]]
    drawn_ttft, drawn_itl = percentiles(ttfts, (50, 90, 99)), percentiles(itls, (50, 90, 99))
    for q, tolerance in ((50, 0.06), (90, 0.1), (99, 0.2)):
        assert drawn_ttft[q] == pytest.approx(fitted["ttft"][f"p{q}_ms"], rel=tolerance)
        assert drawn_itl[q] == pytest.approx(fitted["itl"][f"p{q}_ms"], rel=tolerance)


def test_the_table_names_models_too_thin_to_fit_and_non_streamed_answers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = random.Random(3)
    _record(tmp_path, BedrockConverse(), "nova-pro", MIN_STREAMS - 1, rng, bodies=3)
    profile = profile_cassette(tmp_path)
    nova = profile.models["nova-pro"]
    assert (nova.streams, nova.bodies) == (MIN_STREAMS - 1, 3)
    assert nova.end_to_end.values == [900.0, 900.0, 900.0]
    assert cli_main(["profile", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"too few streams to fit ({MIN_STREAMS - 1}, need {MIN_STREAMS})" in err
    assert "3 non-streamed: end-to-end p50/p90/p99 900.0/900.0/900.0 ms, no ITL" in err
    assert "no model has the 5 streamed answers a fit needs" in err


def test_an_empty_cassette_and_an_unreadable_file_are_refused_by_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli_main(["profile", str(tmp_path)]) == 2
    assert f"{tmp_path}: the cassette holds no exchanges" in capsys.readouterr().err
    bad = tmp_path / "000001-anthropic.messages-x-00000000.json"
    bad.write_text("{not json")
    assert cli_main(["profile", str(tmp_path)]) == 2
    assert f"{bad}: not JSON" in capsys.readouterr().err
    assert cli_main(["profile", str(tmp_path / "missing")]) == 2
    assert "no such cassette directory" in capsys.readouterr().err


def test_surfaces_without_a_replay_reader_are_counted_not_fitted(tmp_path: Path) -> None:
    request = RecordedRequest("POST", "/v1/embeddings", {}, {}, {"model": "text-embedding-3-small"})
    x = recorded_body("openai.embeddings", b'{"data": []}', 5.0)
    CassetteWriter(tmp_path).write(Exchange(x.api, "text-embedding-3-small", False, request, x.response))
    profile = profile_cassette(tmp_path)
    assert profile.unreadable == {"openai.embeddings": 1}
    assert profile.models == {}


def test_a_spread_is_validated_with_its_field_path() -> None:
    with pytest.raises(ScenarioError, match=r"models\.gpt-4o\.ttft.*p50_ms <= p90_ms <= p99_ms"):
        parse_scenario("models:\n  gpt-4o:\n    ttft: {p50_ms: 300, p90_ms: 200, p99_ms: 900}\n")
    with pytest.raises(ScenarioError, match=r"models\.gpt-4o\.itl\.p50_ms"):
        parse_scenario("models:\n  gpt-4o:\n    itl: {p50_ms: 0, p90_ms: 2, p99_ms: 9}\n")


def test_a_spread_fitted_to_log_normal_quantiles_is_that_log_normal() -> None:
    q = _lognormal_quantiles(math.log(250.0), 0.6)
    spread = Spread.fit(q[50], q[90], q[99])
    assert spread.mu == pytest.approx(math.log(250.0))
    assert spread.sigma == pytest.approx(0.6)
    assert spread.cap_s == pytest.approx(10 * q[99] / 1000)


def test_a_model_the_catalogue_does_not_know_is_written_with_its_provider(tmp_path: Path) -> None:
    profile = ModelProfile("my-gemini-tune", "gemini.generate", streams=MIN_STREAMS)
    rng = random.Random(0)
    for i in range(MIN_STREAMS):
        profile.ttft.add(200.0 + i, rng)
    entry = profile.scenario_entry()
    assert entry == {
        "api": "google",
        "ttft_ms": 202.0,
        "ttft": {"p50_ms": 202.0, "p90_ms": 203.6, "p99_ms": 203.96},
    }
    compiled = CompiledScenario(
        parse_scenario(yaml.safe_dump({"models": {"my-gemini-tune": entry}})), DEFAULT_CATALOGUE
    )
    info = compiled.catalogue.resolve("my-gemini-tune")
    assert info is not None
    assert info.api == "google"
    assert info.ttft is not None
    assert info.itl is None


def test_an_answer_its_surface_cannot_read_is_refused_naming_its_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dialect = AnthropicMessages()
    info = DEFAULT_CATALOGUE.resolve("claude-sonnet-4-5")
    assert info is not None
    req = ChatRequest(dialect.api, info, False, [1, 2, 3])
    body = dialect.render_body(
        req, Plan([TextDelta("hi", 1)], [0.0], "stop"), Usage(3, 0, 1), dialect.new_meta()
    )
    x = recorded_body(dialect.api, body.replace(b'"end_turn"', b'"surprise"'), 10.0)
    path = CassetteWriter(tmp_path).write(_named(x, "claude-sonnet-4-5", stream=False))
    assert cli_main(["profile", str(tmp_path)]) == 2
    assert f"{path}: anthropic.messages answer: stop_reason: unknown 'surprise'" in capsys.readouterr().err
