"""`drive` as the runner uses it: ids, phases, failures recorded, and Ctrl-C."""

from __future__ import annotations

import asyncio
import gc
import re
import socket
import time

import pytest

from harness.errors import InvalidExperiment
from harness.experiment.model import Load
from harness.load import drive
from harness.record import PhaseWindow, RequestRecord

from .conftest import Target, make_factory, run_load


async def test_every_request_carries_a_unique_request_id_and_the_template_headers(target: Target) -> None:
    factory = make_factory(json_={"q": "{{ seq }}"}, headers={"X-Tenant": "{{ choice('acme', 'globex') }}"})
    records = await drive(
        target.url,
        factory,
        Load(mode="open", rate=100, duration_s=0.3),
        [],
        stream=False,
        timeout_s=5.0,
        seed=0,
    )
    ids = [r.id for r in records]
    assert len(ids) == 30
    assert len(set(ids)) == len(ids)
    assert sorted(target.ids) == sorted(ids)
    assert all(re.fullmatch(rf"rh-[0-9a-f]{{8}}-{r.seq}", r.id) for r in records)
    assert len({i.rsplit("-", 1)[0] for i in ids}) == 1  # one prefix per run
    assert set(target.tenants) == {"acme", "globex"}
    assert [r.body["got"] for r in records] == [{"q": str(i)} for i in range(30)]


async def test_runs_get_different_id_prefixes(target: Target) -> None:
    first = await run_load(target.url, mode="open", rate=10, duration_s=0.1)
    second = await run_load(target.url, mode="open", rate=10, duration_s=0.1)
    assert first[0].id != second[0].id


async def test_each_request_is_labelled_with_the_phase_it_was_scheduled_in(target: Target) -> None:
    phases = [PhaseWindow("steady", 0.0, 0.2), PhaseWindow("outage", 0.2, 0.4)]
    records = await run_load(target.url, mode="open", rate=50, duration_s=None, phases=phases)
    assert len(records) == 20
    assert [r.phase for r in records] == ["steady"] * 10 + ["outage"] * 10


async def test_a_timeout_is_recorded_not_raised(target: Target) -> None:
    (record,) = await run_load(target.url, path="/hang", mode="open", rate=1, duration_s=0.5, timeout_s=0.2)
    assert record.error == "timeout"
    assert record.status is None
    assert record.end_s is not None
    assert 0.2 <= record.end_s - record.sent_s < 0.2 + 0.5


async def test_a_timeout_mid_stream_keeps_the_status_and_chunks(target: Target) -> None:
    (record,) = await run_load(
        target.url, path="/sse/openai", stream=True, mode="open", rate=1, duration_s=0.5, timeout_s=0.12
    )
    assert record.status == 200
    assert record.error == "timeout"
    assert len(record.chunk_s) >= 1


async def test_a_stream_cut_mid_way_is_a_read_error_with_its_chunks(target: Target) -> None:
    (record,) = await run_load(target.url, path="/sse/cut", stream=True, mode="open", rate=1, duration_s=0.5)
    assert record.status == 200
    assert record.error is not None
    assert record.error.startswith("read: ")
    assert len(record.chunk_s) == 1
    assert record.first_content_s == record.chunk_s[0]
    assert record.tail == 'data: {"choices":[{"delta":{"content":"Hel"}}]}\n\n'  # what arrived is kept
    assert record.stream_end == "unterminated"


async def test_garbage_collection_thresholds_are_restored_after_overlapping_loads(target: Target) -> None:
    before, frozen = gc.get_threshold(), gc.get_freeze_count()
    await asyncio.gather(
        run_load(target.url, mode="open", rate=50, duration_s=0.2),
        run_load(target.url, mode="open", rate=50, duration_s=0.1),
    )
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == frozen


async def test_a_refused_connection_is_recorded_not_raised() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    records = await run_load(f"http://127.0.0.1:{port}", mode="open", rate=20, duration_s=0.1)
    assert len(records) == 2
    assert all(r.status is None and r.error is not None and r.error.startswith("connect: ") for r in records)


async def test_setting_stop_ends_the_run_promptly_and_marks_requests_in_flight(target: Target) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.call_later(0.3, stop.set)
    started = time.monotonic()
    records = await drive(
        target.url + "/hang?",
        make_factory("/hang"),
        Load(mode="open", rate=50, duration_s=30),
        [],
        stream=False,
        timeout_s=30.0,
        seed=0,
        stop=stop,
    )
    assert time.monotonic() - started < 1.5
    assert 5 <= len(records) <= 30
    assert all(r.error == "cancelled" and r.end_s is not None for r in records)
    assert max(r.scheduled_s for r in records) < 0.5


async def test_stop_also_ends_a_closed_loop(target: Target) -> None:
    stop = asyncio.Event()
    asyncio.get_running_loop().call_later(0.2, stop.set)
    started = time.monotonic()
    records = await drive(
        target.url,
        make_factory("/hang"),
        Load(mode="closed", concurrency=4, duration_s=30),
        [],
        stream=False,
        timeout_s=30.0,
        seed=0,
        stop=stop,
    )
    assert time.monotonic() - started < 1.5
    assert len(records) == 4
    assert all(r.error == "cancelled" for r in records)


async def test_on_record_sees_every_request_once(target: Target) -> None:
    seen: list[RequestRecord] = []
    records = await drive(
        target.url,
        make_factory(),
        Load(mode="open", rate=100, duration_s=0.2),
        [],
        stream=False,
        timeout_s=5.0,
        seed=0,
        on_record=seen.append,
    )
    assert sorted(r.seq for r in seen) == [r.seq for r in records] == list(range(20))


async def test_a_failing_on_record_is_raised_after_the_load(target: Target) -> None:
    def boom(record: RequestRecord) -> None:
        raise RuntimeError("handler broke")

    with pytest.raises(RuntimeError, match="handler broke"):
        await drive(
            target.url,
            make_factory(),
            Load(mode="open", rate=50, duration_s=0.1),
            [],
            stream=False,
            timeout_s=5.0,
            seed=0,
            on_record=boom,
        )


async def test_a_load_without_duration_or_phases_is_refused(target: Target) -> None:
    with pytest.raises(InvalidExperiment, match="duration_s"):
        await drive(
            target.url, make_factory(), Load(mode="open", rate=5), [], stream=False, timeout_s=1.0, seed=0
        )
