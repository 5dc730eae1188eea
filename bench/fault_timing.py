"""Fault timing: how exactly the `slow` fault paces streams under load, and what idle rules cost.

Two measurements, each against `rehearse serve --latency none` pinned to core 0, with the load
client here, pinned to core 1, over loopback:

- pacing: a scenario whose one rule slows every stream to `inter_token_ms` (20) between tokens;
  500 kept-alive connections each run streamed chat completions (`max_tokens` 50) and note when
  every content chunk arrives. Prints the delivered gaps between consecutive content chunks of
  a stream, as error against the asked gap (p50, p99; target p99 <= 5 ms), and the server's CPU.
- idle rules: the non-streaming chat load of `provider_throughput.py` against a server with no
  rules and one with 10 rules that never fire (other models, routes, tenants, a window that has
  not opened, probability 0, ...), measured in alternating rounds. Prints CPU per request and
  the ratio no-rules / rules (target >= 0.9).

    python bench/fault_timing.py [--quick] [--only pacing|rules] [--json FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import shlex
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson
import provider_throughput as pt
from rawclient import Connection, Response, StampedConnection, request_bytes

TARGET_P99_ERROR_MS = 5.0
TARGET_RULES_RATIO = 0.9
_CONTENT = b'"delta":{"content":"'
_DONE = b"data: [DONE]"

# Streams run to their 50-token cap (a natural answer to these short prompts is ~10 tokens), so
# each stream has as many gaps to time as before answers ended naturally.
SLOW_SCENARIO = """\
answer_length: {{default: {{median_tokens: 400, per_prompt_token: 0, spread: 0}}}}
faults:
  - name: slow
    fault: {{kind: slow, inter_token_ms: {inter_token_ms}}}
"""

# Ten rules no benchmark request fires: each fails a different test of the engine's (match
# fields, window, probability, the kind's own `applies`), so every one of them is evaluated.
IDLE_RULES_SCENARIO = """\
answer_length: {default: {median_tokens: 400, per_prompt_token: 0, spread: 0}}
faults:
  - name: other-model
    match: {model: gpt-4o}
    fault: {kind: http_error, status: 503}
  - name: other-route
    match: {route: checkout}
    fault: {kind: http_error, status: 500}
  - name: other-tenant
    match: {tenant: acme}
    fault: {kind: rate_limit}
  - name: other-feature
    match: {feature: search}
    fault: {kind: slow, inter_token_ms: 100}
  - name: other-api
    match: {api: anthropic}
    fault: {kind: partial, after_tokens: 5}
  - name: streams-only
    match: {stream: true}
    fault: {kind: connection_reset}
  - name: embeddings-only
    match: {api: openai.embeddings}
    fault: {kind: hang}
  - name: later-window
    window: {start_s: 86400, duration_s: 60}
    fault: {kind: http_error, status: 502}
  - name: never-rolls
    probability: 0.0
    fault: {kind: http_error, status: 504}
  - name: needs-tools
    fault: {kind: malformed_tool_call}
"""


# -- servers ---------------------------------------------------------------------------------


def provider_argv(scenario: Path | None, provider_cmd: str | None = None) -> list[str]:
    """The provider's command line; `provider_cmd` replaces `rehearse serve ...` (another checkout)."""
    if provider_cmd:
        argv = shlex.split(provider_cmd)
    else:
        argv = [sys.executable, "-m", "harness.cli", "serve", "--port", "0", "--latency", "none"]
    return [*argv, "--scenario", str(scenario)] if scenario is not None else argv


@contextlib.contextmanager
def scenario_file(text: str) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="fault-timing-") as tmp:
        path = Path(tmp) / "scenario.yaml"
        path.write_text(text)
        yield path


@contextlib.contextmanager
def running(server: pt.Server) -> Iterator[pt.Server]:
    try:
        server.start()
        yield server
    finally:
        server.stop()


async def get_json(url: str, path: str) -> Any:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    conn = await Connection.open(host, port)
    try:
        resp = await conn.request(request_bytes(host, port, path, b"", {}, method="GET"))
    finally:
        conn.close()
    if resp.status != 200:
        raise RuntimeError(f"GET {path}: status {resp.status}")
    return orjson.loads(resp.body)


async def rule_hits(url: str) -> dict[str, int]:
    doc = await get_json(url, "/control/faults")
    return {r["name"]: r["hits"] for r in doc["faults"]}


# -- pacing ----------------------------------------------------------------------------------


@dataclass(slots=True)
class Pacing:
    clock: str  # kernel: the kernel's receive times; client: when the client's loop read
    streams: int
    failed: int
    gaps: int
    skipped: int  # gaps with an end read together with a later chunk: no time of its own
    seconds: float
    inter_token_ms: float
    error_p50_ms: float
    error_p99_ms: float
    error_p1_ms: float  # negative: chunks that arrived early (bunched behind a late one)
    error_max_ms: float
    error_mean_ms: float
    server_cpu_core: float  # server CPU time over the window: share of one core
    server_wait_core: float  # time the server was runnable but core 0 ran another process
    client_cpu_core: float
    client_lag_p99_ms: float  # how late the client's own 1 ms timer ran: its timestamps are that late
    client_lag_max_ms: float
    rule_hits: int


def content_gaps(resp: Response) -> tuple[list[float], int, bool]:
    """The gaps between consecutive content chunks of one SSE response, how many gaps were left
    out (a chunk read together with a later one has no arrival time of its own), and whether the
    response ended in [DONE]. The provider writes one SSE event per HTTP chunk."""
    gaps: list[float] = []
    skipped = 0
    done = False
    last: tuple[float, bool] | None = None  # the previous content chunk: time, time is shared
    for chunk, t, shared in zip(resp.chunks, resp.times, resp.shared, strict=True):
        at = chunk.find(_CONTENT)
        if at >= 0 and chunk[at + len(_CONTENT) : at + len(_CONTENT) + 1] != b'"':
            if last is not None:
                if last[1] or shared:
                    skipped += 1
                else:
                    gaps.append(t - last[0])
            last = (t, shared)
        elif chunk.startswith(_DONE):
            done = True
    return gaps, skipped, done


async def measure_pacing(
    server: pt.Server,
    streams: int,
    per_stream: int,
    inter_token_ms: float,
    max_tokens: int,
    ramp_s: float,
    kernel_clock: bool,
) -> Pacing:
    """`streams` connections, each running `per_stream` streams one after another; connection
    k starts k/streams of `ramp_s` late, so the starts do not all land at once."""
    parts = urlsplit(server.url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    conns: list[Connection | StampedConnection] = []
    for _ in range(streams):
        if kernel_clock:
            conns.append(await StampedConnection.open(host, port))
        else:
            conns.append(await Connection.open(host, port, timestamps=True))
    gaps: list[float] = []
    skipped = 0
    failed = 0

    def body(i: int) -> bytes:
        return orjson.dumps(
            {
                "model": pt.MODEL,
                "messages": [{"role": "user", "content": f"Tell me about item {i}."}],
                "max_tokens": max_tokens,
                "stream": True,
            }
        )

    async def run(k: int, conn: Connection | StampedConnection) -> None:
        nonlocal failed, skipped
        await asyncio.sleep(ramp_s * k / streams)
        for j in range(per_stream):
            data = request_bytes(host, port, "/v1/chat/completions", body(k * per_stream + j), pt.HEADERS)
            try:
                resp = await conn.request(data)
            except OSError:
                failed += 1
                return
            stream_gaps, stream_skipped, done = content_gaps(resp)
            if resp.status != 200 or not done:
                failed += 1
                continue
            gaps.extend(stream_gaps)
            skipped += stream_skipped

    lags: list[float] = []
    running = True

    async def watch_lag() -> None:
        """The client's timestamps are only as good as its loop is prompt: measure how late."""
        while running:
            t = time.perf_counter()
            await asyncio.sleep(0.001)
            lags.append((time.perf_counter() - t - 0.001) * 1000)

    # Warm up first: with `--latency none` the content pool is built on the first request.
    warm = [orjson.loads(body(-1 - k)) | {"max_tokens": 5} for k in range(min(20, streams))]
    await asyncio.gather(
        *(
            conn.request(request_bytes(host, port, "/v1/chat/completions", orjson.dumps(b), pt.HEADERS))
            for conn, b in zip(conns, warm, strict=False)
        )
    )
    hits0 = (await rule_hits(server.url)).get("slow", 0)
    watcher = asyncio.create_task(watch_lag())
    cpu0, wait0, own0 = server.cpu_seconds(), server.wait_seconds(), pt.own_cpu_seconds()
    t0 = time.perf_counter()
    # Bounded: every stream should take about max_tokens x inter_token_ms.
    limit = ramp_s + per_stream * (max_tokens * inter_token_ms / 1000 * 4 + 10)
    try:
        async with asyncio.timeout(limit):
            await asyncio.gather(*(run(k, c) for k, c in enumerate(conns)))
    finally:
        running = False
        for c in conns:
            c.close()
    seconds = time.perf_counter() - t0
    cpu = server.cpu_seconds() - cpu0
    wait = server.wait_seconds() - wait0
    own = pt.own_cpu_seconds() - own0
    await watcher
    hits = (await rule_hits(server.url)).get("slow", 0) - hits0
    if not gaps:
        raise RuntimeError(f"no stream delivered two content chunks:\n{server.stderr_tail()}")
    target = inter_token_ms / 1000
    errors = [(g - target) * 1000 for g in gaps]
    return Pacing(
        clock="kernel" if kernel_clock else "client",
        streams=streams * per_stream,
        failed=failed,
        gaps=len(gaps),
        skipped=skipped,
        seconds=round(seconds, 3),
        inter_token_ms=inter_token_ms,
        error_p50_ms=pt.percentile(errors, 0.50),
        error_p99_ms=pt.percentile(errors, 0.99),
        error_p1_ms=pt.percentile(errors, 0.01),
        error_max_ms=max(errors),
        error_mean_ms=statistics.fmean(errors),
        server_cpu_core=cpu / seconds,
        server_wait_core=wait / seconds,
        client_cpu_core=own / seconds,
        client_lag_p99_ms=pt.percentile(lags, 0.99),
        client_lag_max_ms=max(lags),
        rule_hits=hits,
    )


def print_pacing(p: Pacing) -> None:
    verdict = "ok" if p.error_p99_ms <= TARGET_P99_ERROR_MS else "ABOVE TARGET"
    print(
        f"pacing: {p.streams} streams ({p.failed} failed) over {p.seconds:.1f} s, slow fault "
        f"inter_token_ms {p.inter_token_ms:g} (fired {p.rule_hits} times)"
    )
    print(
        f"  {p.gaps} gaps timed by the {p.clock} clock, {p.skipped} left out (a chunk read together "
        "with the next)"
    )
    print("  delivered gap minus asked gap, ms:")
    print(
        f"    p1 {p.error_p1_ms:+.2f}  p50 {p.error_p50_ms:+.2f}  p99 {p.error_p99_ms:+.2f}  "
        f"max {p.error_max_ms:+.2f}  mean {p.error_mean_ms:+.2f}"
    )
    print(f"  p99 error {p.error_p99_ms:.2f} ms (target <= {TARGET_P99_ERROR_MS:g}: {verdict})")
    print(
        f"  server CPU during the run: {p.server_cpu_core:.0%} of a core; it waited for core 0 "
        f"{p.server_wait_core:.1%} of the run (other processes on it)"
    )
    late = "which does not move kernel times" if p.clock == "kernel" else "so are its times"
    print(
        f"  client: CPU {p.client_cpu_core:.0%} of a core; its loop ran late by "
        f"p99 {p.client_lag_p99_ms:.2f} ms, max {p.client_lag_max_ms:.2f} ms ({late})"
    )


# -- idle rules ------------------------------------------------------------------------------


@dataclass(slots=True)
class RulesCost:
    rounds: int
    no_rules: list[float]  # CPU µs per request, each round
    idle_rules: list[float]
    no_rules_median: float
    idle_rules_median: float
    ratio: float
    hits: dict[str, int]  # every idle rule's hits after the run: all 0


def measure_rules(rounds: int, settings: pt.Settings, provider_cmd: str | None = None) -> RulesCost:
    """Both servers up at once (the idle one costs nothing); rounds alternate which goes first."""
    none: list[float] = []
    idle: list[float] = []
    with (
        scenario_file(IDLE_RULES_SCENARIO) as path,
        running(pt.Server("no rules", provider_argv(None, provider_cmd))) as plain,
        running(pt.Server("10 idle rules", provider_argv(path, provider_cmd))) as ruled,
    ):
        for r in range(rounds):
            order = (plain, ruled) if r % 2 == 0 else (ruled, plain)
            for server in order:
                print(f"  round {r + 1} {server.name} ...", file=sys.stderr, flush=True)
                m = asyncio.run(pt.measure(server, "chat", settings))
                if m.errors:
                    raise RuntimeError(f"{server.name}: {m.errors} errors:\n{server.stderr_tail()}")
                (none if server is plain else idle).append(m.cpu_us_per_req)
        hits = asyncio.run(rule_hits(ruled.url))
    if any(hits.values()):
        raise RuntimeError(f"idle rules fired: {hits}")
    a, b = statistics.median(none), statistics.median(idle)
    return RulesCost(rounds, none, idle, a, b, a / b, hits)


def print_rules(c: RulesCost) -> None:
    verdict = "ok" if c.ratio >= TARGET_RULES_RATIO else "BELOW TARGET"
    print(f"idle rules: non-streaming chat, {c.rounds} alternating rounds, CPU µs/request (median)")
    print(f"  no rules      {c.no_rules_median:7.1f}   rounds: {', '.join(f'{v:.0f}' for v in c.no_rules)}")
    print(
        f"  10 idle rules {c.idle_rules_median:7.1f}   rounds: {', '.join(f'{v:.0f}' for v in c.idle_rules)}"
    )
    print(
        f"  no rules / idle rules: {c.ratio:.2f} (target >= {TARGET_RULES_RATIO}: {verdict}); no rule fired"
    )


# -- main ------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--only", choices=("pacing", "rules"), help="run one measurement only")
    p.add_argument("--quick", action="store_true", help="100 streams, 1 each; 2 rule rounds of 2000")
    p.add_argument("--streams", type=int, help="concurrent streams (default 500)")
    p.add_argument("--per-stream", type=int, help="streams each connection runs in turn (default 2)")
    p.add_argument("--inter-token-ms", type=float, default=20.0, help="the slow fault's gap (default 20)")
    p.add_argument("--max-tokens", type=int, default=50, help="max_tokens of each stream (default 50)")
    p.add_argument("--ramp", type=float, default=1.0, help="seconds over which the streams start (default 1)")
    p.add_argument(
        "--clock",
        choices=("kernel", "client"),
        default="kernel" if sys.platform == "linux" else "client",
        help="time chunks by the kernel's receive stamp (Linux, default) or the client's loop",
    )
    p.add_argument("--rounds", type=int, help="idle-rules rounds per server (default 4)")
    p.add_argument("--requests", type=int, help="idle-rules requests per round (default 10000)")
    p.add_argument("--json", type=Path, metavar="FILE", help="also write the figures as JSON")
    p.add_argument(
        "--provider-cmd",
        metavar="CMD",
        help="start the provider with this command line (`--scenario FILE` is appended; it must "
        "print `listening on URL`), to measure another checkout",
    )
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    quick = args.quick
    signal.signal(signal.SIGTERM, pt.on_sigterm)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    pinned = pt.pin_client()
    doc: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "pinned": pinned}
    }
    try:
        if args.only in (None, "pacing"):
            streams = args.streams or (100 if quick else 500)
            per_stream = args.per_stream or (1 if quick else 2)
            with (
                scenario_file(SLOW_SCENARIO.format(inter_token_ms=args.inter_token_ms)) as path,
                running(pt.Server("provider (slow fault)", provider_argv(path, args.provider_cmd))) as server,
            ):
                pacing = asyncio.run(
                    measure_pacing(
                        server,
                        streams,
                        per_stream,
                        args.inter_token_ms,
                        args.max_tokens,
                        args.ramp,
                        args.clock == "kernel",
                    )
                )
            print_pacing(pacing)
            doc["pacing"] = asdict(pacing)
        if args.only in (None, "rules"):
            n = args.requests or (2000 if quick else 10000)
            settings = pt.Settings(
                requests=n,
                seconds=5.0 if quick else 20.0,
                warmup_requests=100 if quick else 300,
                warmup_seconds=3.0 if quick else 5.0,
                concurrency=50,
                rounds=1,
            )
            cost = measure_rules(args.rounds or (2 if quick else 4), settings, args.provider_cmd)
            if "pacing" in doc:
                print()
            print_rules(cost)
            doc["rules"] = asdict(cost)
    except KeyboardInterrupt:
        print("interrupted; servers stopped", file=sys.stderr)
        return 130
    except (RuntimeError, TimeoutError) as e:
        print(f"fault_timing: {e!r}", file=sys.stderr)
        return 1
    if args.json is not None:
        args.json.write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
