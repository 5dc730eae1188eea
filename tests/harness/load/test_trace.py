"""The trace readers (`harness.load.trace`): CSV, ledger JSONL and cassette, good and bad files,
each error naming the file and the line; the schedule a trace gives; `trace.NAME` templates."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from fakeprovider.replay.cassette import (
    CassetteWriter,
    Exchange,
    RecordedRequest,
    RecordedResponse,
)
from harness.experiment.model import Experiment, Load, RequestSpec
from harness.experiment.templates import RequestFactory, TemplateError
from harness.load import trace as trace_module
from harness.load.open_loop import schedule
from harness.load.trace import TraceError, detect_format, read_trace
from harness.run.phases import scaled


def _csv(tmp_path: Path, text: str, name: str = "trace.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _ledger(tmp_path: Path, records: list[dict[str, Any]], name: str = "ledger.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def _call(ts: float, tenant: str | None, attempt: int = 1, **fields: Any) -> dict[str, Any]:
    return {
        "seq": 1,
        "ts_start": ts,
        "ts_end": ts + 0.5,
        "api": "openai.chat",
        "model": "gpt-4o",
        "stream": False,
        "attempt": attempt,
        "tags": {"route": "summarize", "feature": "summary", "tenant": tenant},
        "input_tokens": 12,
        "output_tokens": 30,
        **fields,
    }


# ---- CSV -----------------------------------------------------------------------------------


def test_csv_rows_are_arrivals_sorted_by_time_with_their_values(tmp_path: Path) -> None:
    path = _csv(tmp_path, "tenant,t_s,text\nacme,0.5,b\nglobex,0.25,a\n\ninitech,0.5,c\n")
    trace = read_trace(path)
    assert trace.format == "csv"
    assert trace.columns == ("tenant", "text")
    assert list(trace.times) == [0.25, 0.5, 0.5]  # t_s as written, sorted; ties keep file order
    assert [trace.values(i)["text"] for i in range(3)] == ["a", "b", "c"]
    assert trace.where(0) == f"{path}: line 3"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "an empty CSV: it needs a header row with a `t_s` column"),
        ("tenant,when\nacme,1\n", "line 1: no `t_s` column in the header (tenant, when)"),
        ("t_s,a,a\n1,x,y\n", "line 1: two columns named 'a'"),
        ("t_s,tenant\n0.1,acme\nsoon,acme\n", "line 3: t_s: expected seconds (a number), got 'soon'"),
        ("t_s,tenant\n0.1,acme\n-2,acme\n", "line 3: t_s: expected seconds >= 0, got '-2'"),
        ("t_s,tenant\nnan,acme\n", "line 2: t_s: expected seconds >= 0, got 'nan'"),
        ("t_s,tenant\n0.1,acme\n0.2\n", "line 3: 1 fields, but the header has 2"),
        ("t_s,tenant\n", "a trace with no arrivals"),
    ],
)
def test_a_bad_csv_is_refused_naming_the_file_and_the_line(tmp_path: Path, text: str, expected: str) -> None:
    path = _csv(tmp_path, text)
    with pytest.raises(TraceError) as e:
        read_trace(path)
    assert str(e.value) == f"{path}: {expected}"


def test_a_trace_over_the_arrival_cap_is_refused_at_the_first_row_past_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(trace_module, "MAX_ARRIVALS", 3)
    path = _csv(tmp_path, "t_s\n" + "".join(f"{i}\n" for i in range(5)))
    with pytest.raises(TraceError, match=r"line 5: more than the 3 arrivals a trace may hold"):
        read_trace(path)


def test_a_missing_or_unreadable_trace_is_named(tmp_path: Path) -> None:
    with pytest.raises(TraceError, match=r"nowhere\.csv: no such trace file or cassette directory"):
        read_trace(tmp_path / "nowhere.csv")
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"t_s\n\xff\xfe\n")
    with pytest.raises(TraceError, match=r"binary\.csv: not UTF-8 text"):
        read_trace(binary)


# ---- ledger --------------------------------------------------------------------------------


def test_a_ledger_replays_first_attempts_from_the_earliest_start(tmp_path: Path) -> None:
    # Written as calls ended: the second call started first; the retry is not an arrival.
    path = _ledger(
        tmp_path,
        [_call(1000.75, "globex"), _call(1000.25, "acme"), _call(1000.5, "acme", attempt=2)],
    )
    trace = read_trace(path)
    assert trace.format == "ledger"
    assert list(trace.times) == [0.0, 0.5]
    first, second = trace.values(0), trace.values(1)
    assert (first["tenant"], first["route"], first["model"], first["input_tokens"]) == (
        "acme",
        "summarize",
        "gpt-4o",
        "12",
    )
    assert (second["tenant"], second["stream"]) == ("globex", "false")
    assert trace.where(0) == f"{path}: line 2"


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ('{"ts_start": 1}\nnot json\n', "line 2: not a JSON ledger record"),
        ("[1, 2]\n", "line 1: a ledger record is a JSON object"),
        ('{"seq": 1}\n', "line 1: ts_start: expected a time in seconds, got None"),
        ('{"ts_start": "noon"}\n', "line 1: ts_start: expected a time in seconds, got 'noon'"),
    ],
)
def test_a_bad_ledger_is_refused_naming_the_line(tmp_path: Path, lines: str, expected: str) -> None:
    path = tmp_path / "ledger.jsonl"
    path.write_text(lines, encoding="utf-8")
    with pytest.raises(TraceError) as e:
        read_trace(path)
    assert str(e.value).startswith(f"{path}: {expected}")


def test_formats_are_told_apart_by_name_then_by_content(tmp_path: Path) -> None:
    assert detect_format(_csv(tmp_path, "t_s\n1\n", "a.csv")) == "csv"
    assert detect_format(_ledger(tmp_path, [_call(1, "acme")], "a.ndjson")) == "ledger"
    assert detect_format(_ledger(tmp_path, [_call(1, "acme")], "calls.log")) == "ledger"
    assert detect_format(_csv(tmp_path, "t_s,tenant\n1,acme\n", "arrivals.txt")) == "csv"
    assert detect_format(tmp_path) == "cassette"
    # `format` overrides the guess.
    assert read_trace(_csv(tmp_path, "t_s\n1\n", "plain.jsonl"), "csv").columns == ()


# ---- cassette ------------------------------------------------------------------------------


def _exchange(at: str, tenant: str, text: str, retry: int = 0) -> Exchange:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}]}
    headers = {"x-tenant": tenant, "x-stainless-retry-count": str(retry)}
    return Exchange(
        "openai.chat",
        "gpt-4o-mini",
        False,
        RecordedRequest("POST", "/v1/chat/completions", {}, headers, body),
        RecordedResponse(200, {}, body={"ok": True}),
        recorded_at=at,
    )


def test_a_cassette_gives_one_arrival_per_exchange_at_its_recorded_time(tmp_path: Path) -> None:
    cassette = tmp_path / "cassette"
    writer = CassetteWriter(cassette)
    writer.write(_exchange("2026-12-07T19:30:00.500Z", "acme", "one"))
    writer.write(_exchange("2026-12-07T19:30:00.250Z", "globex", "two"))
    writer.write(_exchange("2026-12-07T19:30:01.250Z", "acme", "three"))
    writer.write(_exchange("2026-12-07T19:30:01.500Z", "acme", "three", retry=1))  # not an arrival
    trace = read_trace(cassette)
    assert trace.format == "cassette"
    assert list(trace.times) == [0.0, 0.25, 1.0]
    assert [trace.values(i)["tenant"] for i in range(3)] == ["globex", "acme", "acme"]
    assert json.loads(trace.values(0)["body"])["messages"][0]["content"] == "two"
    assert trace.values(0)["path"] == "/v1/chat/completions"
    assert trace.where(0).endswith("000002-openai.chat-gpt-4o-mini-" + trace.where(0)[-13:])


def test_a_bad_cassette_is_refused_naming_the_file(tmp_path: Path) -> None:
    cassette = tmp_path / "cassette"
    path = CassetteWriter(cassette).write(_exchange("yesterday", "acme", "one"))
    with pytest.raises(TraceError, match=rf"{path}: recorded_at: expected an ISO 8601 time, got 'yesterday'"):
        read_trace(cassette)
    (tmp_path / "empty").mkdir()
    with pytest.raises(TraceError, match=r"a cassette with no exchanges .* to replay"):
        read_trace(tmp_path / "empty")
    path.write_text("{", encoding="utf-8")
    with pytest.raises(TraceError, match=rf"{path}: not JSON"):
        read_trace(cassette)


# ---- schedule and templates ----------------------------------------------------------------


def test_the_schedule_is_the_trace_at_its_speed_within_the_load_bounds(tmp_path: Path) -> None:
    trace = read_trace(_csv(tmp_path, "t_s\n0\n0.5\n1\n1.5\n2\n3\n"))
    load = Load(mode="trace", file="trace.csv", speed=2.0, max_requests=100)
    assert list(schedule(load, 1.2, 0, trace)) == [0.0, 0.25, 0.5, 0.75, 1.0]  # 1.5 s is past the end
    capped = Load(mode="trace", file="trace.csv", max_requests=2)
    assert list(schedule(capped, 10.0, 0, trace)) == [0.0, 0.5]
    assert trace.peak_rate(1.0) == 2.0
    assert trace.peak_rate(2.0) == 4.0
    with pytest.raises(ValueError, match="scheduled from its trace"):
        schedule(load, 1.0, 0)


def test_templates_read_each_arrivals_values(tmp_path: Path) -> None:
    trace = read_trace(_csv(tmp_path, "t_s,tenant,keys\n0,acme,k1\n1,globex,k2\n"))
    spec = RequestSpec.model_validate(
        {"path": "/x/{{ trace.tenant }}", "json": {"k": "{{ trace['keys'] }} #{{ seq }}"}}
    )
    factory = RequestFactory(spec, 0, trace=trace)
    assert factory.trace_keys == {"tenant": "target.request.path", "keys": "target.request.json.k"}
    made = [factory.make(i) for i in range(2)]
    assert [r.path for r in made] == ["/x/acme", "/x/globex"]
    assert [json.loads(r.body or b"") for r in made] == [{"k": "k1 #0"}, {"k": "k2 #1"}]


def test_a_template_value_the_trace_lacks_is_named_with_its_line(tmp_path: Path) -> None:
    spec = RequestSpec.model_validate({"path": "/x", "headers": {"X-Tenant": "{{ trace.tenant }}"}})
    no_column = _csv(tmp_path, "t_s,team\n0,acme\n")
    with pytest.raises(TraceError) as e:
        RequestFactory(spec, 0, trace=read_trace(no_column))
    assert str(e.value) == (
        f"{no_column}: target.request.headers.X-Tenant uses trace.tenant, "
        "which this trace lacks (it has: team)"
    )
    untagged = _ledger(tmp_path, [_call(1.0, "acme"), _call(2.0, None)])
    with pytest.raises(TraceError) as e:
        RequestFactory(spec, 0, trace=read_trace(untagged))
    assert str(e.value) == (
        f"{untagged}: line 2: no value for trace.tenant, which target.request.headers.X-Tenant uses"
    )


@pytest.mark.parametrize(
    ("template", "allow", "problem"),
    [
        ("{{ trace.tenant }}", False, "`trace` values need `load.mode: trace`"),
        ("{{ trace|length }}", True, "use a trace value as trace.NAME or trace['NAME']"),
        ("{{ trace[choice('a', 'b')] }}", True, "use a trace value as trace.NAME or trace['NAME']"),
    ],
)
def test_trace_in_a_template_is_refused_where_it_cannot_be_checked(
    template: str, allow: bool, problem: str
) -> None:
    spec = RequestSpec.model_validate({"path": "/x", "json": {"t": template}})
    with pytest.raises(TemplateError) as e:
        RequestFactory(spec, 0, allow_trace=allow)
    assert (e.value.field, e.value.problem) == ("target.request.json.t", problem)


def test_a_time_scaled_run_replays_the_trace_in_proportion() -> None:
    exp = Experiment.model_validate(
        {
            "title": "t",
            "target": {"url": "http://127.0.0.1:9", "request": {"path": "/x"}},
            "load": {"mode": "trace", "file": "/traces/a.csv", "speed": 1.5},
            "phases": [{"name": "p", "duration_s": 4}],
        }
    )
    half = scaled(exp, 0.5)
    assert (half.duration_s, half.load.speed, half.load.file) == (2.0, 3.0, "/traces/a.csv")
