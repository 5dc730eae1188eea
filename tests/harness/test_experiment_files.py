"""Experiment files: each mistake refused with the file, the field path, the line and what is
wrong, before anything starts (`rehearse run` exits 2); `rehearse validate` and `rehearse schema`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from rich.console import Console

from harness import cli
from harness.run import runner as runner_module
from harness.run import stack as stack_module
from harness.run.main import main as run_main
from harness.run.runner import RunOptions

VALID = """\
title: summarize falls back
target:
  url: http://127.0.0.1:8080
  request:
    method: POST
    path: /summarize
    json: {text: "{{ faker.sentence() }}"}
    headers: {X-Tenant: "{{ choice('acme', 'globex') }}"}
load: {mode: open, rate: 20}
phases:
  - {name: steady, duration_s: 1}
  - name: outage
    duration_s: 1
    faults:
      - {fault: {kind: http_error, status: 503}, match: {model: gpt-4o}}
contract:
  - retries: {max_attempts_per_request: 3}
  - error_rate: {phase: steady, max: 0.1}
"""


def edit(old: str, new: str) -> str:
    assert old in VALID
    return VALID.replace(old, new, 1)


# (id, file text, field path or other text the message must name, line, what it must say)
INVALID: list[tuple[str, str, str, int | None, str]] = [
    ("unknown-top-level-field", VALID + "colour: blue\n", "colour", 19, "unknown field"),
    (
        "unknown-clause",
        edit("  - retries: {max", "  - retires: {max"),
        "contract.0.retires",
        17,
        "unknown clause 'retires'",
    ),
    (
        "bad-clause-param",
        edit("max_attempts_per_request: 3", "max_attempts_per_request: 0"),
        "contract.0.retries.max_attempts_per_request",
        17,
        "greater than or equal to 1",
    ),
    ("missing-request-path", edit("    path: /summarize\n", ""), "target.request.path", 4, "Field required"),
    ("path-without-slash", edit("path: /summarize", "path: summarize"), "target.request.path", 6, "'/'"),
    ("open-loop-without-rate", edit("{mode: open, rate: 20}", "{mode: open}"), "load.rate", 9, "rate"),
    (
        "closed-loop-without-concurrency",
        edit("{mode: open, rate: 20}", "{mode: closed}"),
        "load.concurrency",
        9,
        "concurrency",
    ),
    (
        "duration-disagrees-with-phases",
        edit("{mode: open, rate: 20}", "{mode: open, rate: 20, duration_s: 5}"),
        "load.duration_s",
        9,
        "phases add up to 2",
    ),
    (
        "duplicate-phase-names",
        edit("name: outage", "name: steady"),
        "phases.1.name",
        12,
        "duplicate phase name 'steady'",
    ),
    (
        "clause-names-a-missing-phase",
        edit("phase: steady", "phase: recovery"),
        "contract.1.error_rate.phase",
        18,
        "no phase named 'recovery'",
    ),
    (
        "amplification-baseline-names-a-missing-phase",
        edit(
            "  - error_rate: {phase: steady, max: 0.1}",
            "  - amplification: {phase: outage, baseline_phase: before, max_calls_per_request: 2}",
        ),
        "contract.1.amplification.baseline_phase",
        18,
        "no phase named 'before'",
    ),
    (
        "cost-ratio-without-a-baseline",
        edit(
            "  - error_rate: {phase: steady, max: 0.1}",
            "  - amplification: {phase: outage, max_calls_per_request: 2, max_cost_ratio: 3}",
        ),
        "contract.1.amplification",
        18,
        "`max_cost_ratio` needs `baseline_phase`",
    ),
    (
        "breaker-without-its-model",
        edit(
            "  - error_rate: {phase: steady, max: 0.1}",
            "  - breaker: {phase: outage, after_s: 1, max_calls_per_s: 2}",
        ),
        "contract.1.breaker.model",
        18,
        "Field required",
    ),
    (
        "goodput-share-over-one",
        edit("  - error_rate: {phase: steady, max: 0.1}", "  - goodput: {min: 1.5, e2e_ms: 800}"),
        "contract.1.goodput.min",
        18,
        "less than or equal to 1",
    ),
    (
        "cache-without-a-share",
        edit("  - error_rate: {phase: steady, max: 0.1}", "  - cache: {phase: steady}"),
        "contract.1.cache",
        18,
        "at least one of",
    ),
    (
        "stream-integrity-unknown-param",
        edit("  - error_rate: {phase: steady, max: 0.1}", "  - stream_integrity: {signal: x-partial}"),
        "contract.1.stream_integrity.signal",
        18,
        "",
    ),
    (
        "budget-negative-per-call-cap",
        edit("  - retries: {max_attempts_per_request: 3}", "  - budget: {max_input_tokens_per_call: -1}"),
        "contract.0.budget.max_input_tokens_per_call",
        17,
        "greater than or equal to 0",
    ),
    (
        "template-reaching-for-code",
        edit("{{ faker.sentence() }}", "{{ ''.__class__ }}"),
        "target.request.json.text",
        7,
        "not allowed in a template",
    ),
    (
        "template-that-does-not-compile",
        edit("{{ choice('acme', 'globex') }}", "{{ choice( }}"),
        "target.request.headers.X-Tenant",
        8,
        "",
    ),
    ("invalid-yaml", edit("{mode: open, rate: 20}", "{mode: open, rate: 20"), "invalid YAML", 10, ""),
    (
        "window-in-a-phase-fault",
        edit("match: {model: gpt-4o}}", "match: {model: gpt-4o}, window: {start_s: 0}}"),
        "phases.1.faults.0.window",
        15,
        "leave out `window`",
    ),
    (
        "unknown-fault-kind",
        edit("kind: http_error, status: 503", "kind: explode"),
        "phases.1.faults.0.fault",
        15,
        "'explode'",
    ),
    (
        "fault-param-out-of-range",
        edit("status: 503", "status: 404"),
        "phases.1.faults.0.fault.http_error.status",
        15,
        "(got 404)",
    ),
    ("negative-rate", edit("rate: 20", "rate: -5"), "load.rate", 9, "greater than 0 (got -5)"),
    ("target-without-url-or-app", edit("  url: http://127.0.0.1:8080\n", ""), "target", 2, "exactly one of"),
    ("not-a-mapping", "- just\n- a list\n", "an experiment is a mapping", None, ""),
    (
        "unknown-sample-flaw",
        edit("  url: http://127.0.0.1:8080\n", "  app: sample\n  sample: {flaws: [silent_fallbak]}\n"),
        "target.sample.flaws",
        4,
        "unknown flaw 'silent_fallbak'",
    ),
    ("trace-without-file", edit("{mode: open, rate: 20}", "{mode: trace}"), "load.file", 9, "needs `file`"),
    (
        "trace-with-a-rate",
        edit("{mode: open, rate: 20}", "{mode: trace, file: t.csv, rate: 20}"),
        "load.rate",
        9,
        "takes its arrivals from `file`",
    ),
    (
        "trace-speed-zero",
        edit("{mode: open, rate: 20}", "{mode: trace, file: t.csv, speed: 0}"),
        "load.speed",
        9,
        "greater than 0",
    ),
    (
        "file-on-an-open-load",
        edit("rate: 20}", "rate: 20, file: t.csv}"),
        "load.file",
        9,
        "only to `mode: trace`",
    ),
    (
        "trace-value-without-a-trace",
        edit("{X-Tenant: \"{{ choice('acme', 'globex') }}\"}", '{X-Tenant: "{{ trace.tenant }}"}'),
        "target.request.headers.X-Tenant",
        8,
        "`trace` values need `load.mode: trace`",
    ),
]


@pytest.fixture
def no_children(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records any attempt to start a child process or to run an experiment (there must be none)."""
    started: list[str] = []

    async def start_child(name: str, *args: object, **kwargs: object) -> None:
        started.append(name)
        raise AssertionError(f"{name} started for an invalid experiment")

    async def run(self: runner_module.Runner, *args: object) -> None:
        started.append(str(self.source))
        raise AssertionError("an experiment ran although a file is invalid")

    monkeypatch.setattr(stack_module, "start_child", start_child)
    monkeypatch.setattr(runner_module.Runner, "run", run)
    return started


@pytest.mark.parametrize(
    ("text", "where", "line", "says"), [case[1:] for case in INVALID], ids=[case[0] for case in INVALID]
)
def test_an_invalid_file_is_refused_naming_file_field_and_line_and_nothing_starts(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    no_children: list[str],
    text: str,
    where: str,
    line: int | None,
    says: str,
) -> None:
    path = tmp_path / "experiment.yaml"
    path.write_text(text)
    status = run_main([path], RunOptions(), console=Console(record=True))
    err = capsys.readouterr().err
    assert status == 2
    assert no_children == []
    first = err.splitlines()[0]
    assert first.startswith(f"{path}: "), err
    assert where in first, err
    if line is not None:
        assert re.search(rf"\(line {line}\b", first), err
    assert says in first, err


def test_every_invalid_file_in_a_folder_is_reported_and_the_valid_one_does_not_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_children: list[str]
) -> None:
    (tmp_path / "a_ok.yaml").write_text(VALID)
    (tmp_path / "b_bad.yaml").write_text(edit("rate: 20", "rate: -5"))
    (tmp_path / "c_bad.yml").write_text(edit("path: /summarize", "path: summarize"))
    assert run_main([tmp_path], RunOptions(), console=Console(record=True)) == 2
    assert no_children == []
    lines = capsys.readouterr().err.splitlines()
    assert [ln.split(":")[0] for ln in lines] == [str(tmp_path / "b_bad.yaml"), str(tmp_path / "c_bad.yml")]


def test_a_missing_path_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_main([tmp_path / "nope.yaml"], RunOptions(), console=Console(record=True)) == 2
    assert "nope.yaml: no such file or folder" in capsys.readouterr().err


def test_validate_says_ok_or_names_the_mistake(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(VALID)
    bad = tmp_path / "bad.yaml"
    bad.write_text(edit("rate: 20", "rate: -5"))
    assert cli.main(["validate", str(good)]) == 0
    assert capsys.readouterr().out == f"{good}: ok\n"
    assert cli.main(["validate", str(good), str(bad)]) == 2
    out, err = capsys.readouterr()
    assert out == f"{good}: ok\n"
    assert err == f"{bad}: load.rate (line 9): Input should be greater than 0 (got -5)\n"


def test_validate_accepts_the_documented_example(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The example file of docs/experiments.md, beside the scenario it names."""
    root = Path(__file__).parents[2]
    example = re.search(
        r"## The file\n\n```yaml\n(.*?)```", (root / "docs" / "experiments.md").read_text(), re.S
    )
    assert example is not None
    path = tmp_path / "example.yaml"
    path.write_text(example.group(1))
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "base.yaml").write_text((root / "experiments/scenarios/base.yaml").read_text())
    assert cli.main(["validate", str(path)]) == 0, capsys.readouterr().err


def test_validate_refuses_a_missing_scenario_file_once_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "probe.yaml"
    path.write_text(VALID + "provider: {scenario: scenarios/base.yaml}\n")
    assert cli.main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert err == f"{path}: provider.scenario: no such file {tmp_path / 'scenarios' / 'base.yaml'}\n"


def test_validate_refuses_an_invalid_scenario_naming_its_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "s.yaml").write_text("faults: [{fault: {kind: http_error, status: 200}}]\n")
    path = tmp_path / "probe.yaml"
    path.write_text(VALID + "provider: {scenario: s.yaml}\n")
    assert cli.main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{path}: provider.scenario: {tmp_path / 's.yaml'}: faults.0.fault")


def test_a_scenario_that_is_some_other_file_is_refused_without_echoing_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = tmp_path / "shadow"
    secret.write_text("".join(f"user{i}:$6$s3cr3t{i}:20228:0:99999:7:::\n" for i in range(50)))
    path = tmp_path / "probe.yaml"
    path.write_text(VALID + f"provider: {{scenario: {secret}}}\n")
    assert cli.main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "not a scenario file" in err
    assert "s3cr3t" not in err


def schema_of_cli(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    assert cli.main(["schema"]) == 0
    schema: dict[str, Any] = json.loads(capsys.readouterr().out)
    return schema


def test_schema_is_a_valid_json_schema_that_accepts_a_valid_experiment(
    capsys: pytest.CaptureFixture[str],
) -> None:
    schema = schema_of_cli(capsys)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    data = yaml.safe_load(VALID)
    errors = [e.message for e in validator.iter_errors(data)]
    assert errors == []
    full = {
        **data,
        "provider": {"port": 9100, "latency": "none", "seed": 1},
        "load": {"mode": "closed", "concurrency": 4, "max_requests": 50},
        "contract": [
            {"retries": {"max_attempts_per_request": 3}},
            {"latency": {"phase": "steady", "p95_ms": 2000}},
            {"degradation": {"phase": "outage", "expect": {"status": 200, "headers": {"x-degraded": "*"}}}},
            {"budget": {"max_output_tokens": 512, "max_cost_usd_per_request": 0.02}},
            {"attribution": {"required_tags": ["route", "feature", "tenant"]}},
            {"no_silent_fallback": {"signal_header": "x-degraded"}},
            {"error_rate": {"max": 0.01}},
            {"retry_after_respected": {}},
            {"budget": {"max_input_tokens_per_call": 4000, "max_output_tokens_per_call": 512}},
            {
                "amplification": {
                    "phase": "outage",
                    "baseline_phase": "steady",
                    "max_calls_per_request": 2,
                    "max_cost_ratio": 3,
                }
            },
            {"breaker": {"phase": "outage", "model": "gpt-4o", "after_s": 0.5, "max_calls_per_s": 2}},
            {"goodput": {"phase": "steady", "min": 0.95, "e2e_ms": 800, "ttft_ms": 300}},
            {"cache": {"min_prompt_cache_share": 0.5, "min_response_cache_share": 0.2}},
            {
                "stream_integrity": {
                    "phase": "outage",
                    "signal_header": "x-degraded",
                    "error_marker": "stream_interrupted",
                }
            },
        ],
    }
    assert [e.message for e in validator.iter_errors(full)] == []


def test_schema_rejects_what_validation_rejects(capsys: pytest.CaptureFixture[str]) -> None:
    validator = jsonschema.Draft202012Validator(schema_of_cli(capsys))
    data = yaml.safe_load(VALID)
    for broken in (
        {**data, "colour": "blue"},
        {**data, "contract": [{"retires": {"max_attempts_per_request": 3}}]},
        {**data, "contract": [{"retries": {"max_attempts_per_request": 0}}]},
        {**data, "load": {"mode": "open", "rate": -5}},
        {**data, "contract": [{"breaker": {"phase": "outage", "after_s": 1, "max_calls_per_s": 2}}]},
        {**data, "contract": [{"goodput": {"min": 1.5, "e2e_ms": 800}}]},
        {**data, "contract": [{"stream_integrity": {"signal": "x-partial"}}]},
        {**data, "contract": [{"budget": {"max_output_tokens_per_call": -1}}]},
    ):
        assert not validator.is_valid(broken), broken
