"""What `rehearse record` costs a caller: the same load direct and through the recording proxy.

(a) Added latency per streamed event. `paced_upstream.py` streams chat chunks at a known pace,
each stamped with the wall clock just before it was written; the client reads with kernel
receive timestamps (`rawclient.StampedConnection`), so each event's delay is `received - sent`,
whatever the client's own loop is doing. The figure is the proxy's delay quantiles minus the
direct ones (goal: p99 at most 1 ms per event).

(b) Throughput. `rehearse serve --latency none` (answers to the 50-token cap) as the upstream,
requests/s of `chat` and `stream` direct and through the recorder, and their ratio (goal: at
least 0.8), with the recorder's CPU per request.

    python bench/recorder_overhead.py            # 5 s windows, 400 paced streams
    python bench/recorder_overhead.py --quick    # 2 s windows, 80 paced streams

Linux only (`SO_TIMESTAMPNS`, `/proc`). Nothing is pinned: the client, the upstream and the
recorder share the machine's cores as the scheduler sees fit.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import signal
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from provider_throughput import ROOT, Load, Server, on_sigterm, own_cpu_seconds, percentile
from rawclient import StampedConnection, request_bytes

TARGET_ADDED_P99_MS = 1.0
TARGET_RATIO = 0.8
_SENT = re.compile(rb'"sent_ns":(\d+)')
PACED_BODY = b'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"stream":true}'


def upstream_server(kind: str, events: int, pace_ms: float) -> Server:
    if kind == "paced":
        argv = [sys.executable, str(ROOT / "bench" / "paced_upstream.py"), "--events", str(events)]
        argv += ["--pace-ms", str(pace_ms)]
    else:
        scenario = str(ROOT / "bench" / "full_answers.yaml")
        argv = [sys.executable, "-m", "harness.cli", "serve", "--port", "0", "--latency", "none"]
        argv += ["--scenario", scenario]
    return Server(f"{kind} upstream", argv, pin=False)


def recorder_server(upstream_url: str, cassette: Path) -> Server:
    argv = [sys.executable, "-m", "harness.cli", "record", "--upstream", upstream_url]
    argv += ["--cassette", str(cassette)]
    return Server("recorder", argv, pin=False)


# -- (a) added latency per event ---------------------------------------------------------------


@dataclass(slots=True)
class Delays:
    delays_ms: list[float]  # received - sent, every event of every stream
    shared: int  # events whose receive time was a later event's (read together)
    errors: int


async def paced_delays(url: str, streams: int, concurrency: int) -> Delays:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    headers = {"Content-Type": "application/json", "Authorization": "Bearer sk-bench"}
    request = request_bytes(host, port, "/v1/chat/completions", PACED_BODY, headers)
    out = Delays([], 0, 0)
    left = {"n": streams}

    async def worker() -> None:
        conn = await StampedConnection.open(host, port)
        try:
            while left["n"] > 0:
                left["n"] -= 1
                resp = await conn.request(request)
                if resp.status != 200:
                    out.errors += 1
                    continue
                for chunk, received, shared in zip(resp.chunks, resp.times, resp.shared, strict=True):
                    for sent in _SENT.findall(chunk):
                        out.delays_ms.append((received - int(sent) / 1e9) * 1000)
                        out.shared += shared
        finally:
            conn.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return out


# -- (b) throughput ----------------------------------------------------------------------------


@dataclass(slots=True)
class Rate:
    req_per_s: float
    errors: int
    recorder_cpu_us_per_req: float | None
    client_cpu_us_per_req: float


async def rate(url: str, workload: str, seconds: float, concurrency: int, recorder: Server | None) -> Rate:
    load = Load(url, concurrency)
    try:
        await load.drive(workload, 10**9, min(1.0, seconds / 2))  # warm-up
        cpu0 = recorder.cpu_seconds() if recorder else 0.0
        own0 = own_cpu_seconds()
        run = await load.drive(workload, 10**9, seconds)
        cpu = recorder.cpu_seconds() - cpu0 if recorder else None
        own = own_cpu_seconds() - own0
    finally:
        load.close()
    done = max(1, len(run.latencies))
    return Rate(
        len(run.latencies) / run.seconds,
        run.errors,
        cpu / done * 1e6 if cpu is not None else None,
        own / done * 1e6,
    )


def _delays_row(name: str, d: Delays) -> str:
    p50, p99 = percentile(d.delays_ms, 0.5), percentile(d.delays_ms, 0.99)
    return (
        f"  {name:<9} {len(d.delays_ms):>7} events  p50 {p50:7.3f} ms  p99 {p99:7.3f} ms  errors {d.errors}"
    )


def run(args: argparse.Namespace, cassette: Path) -> int:
    streams = args.streams or (80 if args.quick else 400)
    seconds = args.seconds or (2.0 if args.quick else 5.0)
    ok = True
    load1, load5, _ = os.getloadavg()
    print(f"machine: {os.cpu_count()} cores, load average {load1:.1f} (1 min) {load5:.1f} (5 min)")
    # (a)
    upstream = upstream_server("paced", args.events, args.pace_ms)
    recorder = None
    try:
        upstream.start()
        recorder = recorder_server(upstream.url, cassette / "paced")
        recorder.start()
        direct, proxied = Delays([], 0, 0), Delays([], 0, 0)
        for _ in range(args.rounds):  # alternated, so a drift in the machine's load hits both
            d = asyncio.run(paced_delays(upstream.url, streams, args.concurrency))
            p = asyncio.run(paced_delays(recorder.url, streams, args.concurrency))
            direct.delays_ms += d.delays_ms
            proxied.delays_ms += p.delays_ms
            direct.errors += d.errors
            proxied.errors += p.errors
    finally:
        if recorder is not None:
            recorder.stop()
        upstream.stop()
    print(
        f"(a) added latency per event: {streams} streams x {args.rounds} round(s) of {args.events} events "
        f"{args.pace_ms:g} ms apart, {args.concurrency} at a time"
    )
    print(_delays_row("direct", direct))
    print(_delays_row("recorder", proxied))
    added50 = percentile(proxied.delays_ms, 0.5) - percentile(direct.delays_ms, 0.5)
    added99 = percentile(proxied.delays_ms, 0.99) - percentile(direct.delays_ms, 0.99)
    verdict = "ok" if added99 <= TARGET_ADDED_P99_MS else "MISSED"
    goal = f"goal p99 <= {TARGET_ADDED_P99_MS:g}: {verdict}"
    print(f"  added: p50 {added50:.3f} ms, p99 {added99:.3f} ms ({goal})")
    ok = ok and added99 <= TARGET_ADDED_P99_MS and not proxied.errors
    # (b)
    upstream = upstream_server("provider", 0, 0)
    recorder = None
    try:
        upstream.start()
        recorder = recorder_server(upstream.url, cassette / "throughput")
        recorder.start()
        print(
            f"(b) throughput: {seconds:g} s windows, {args.concurrency} connections, rehearse serve upstream"
        )
        for workload in ("chat", "stream"):
            direct_rates, proxied_rates = [], []
            for _ in range(args.rounds):
                direct_rates.append(
                    asyncio.run(rate(upstream.url, workload, seconds, args.concurrency, None))
                )
                proxied_rates.append(
                    asyncio.run(rate(recorder.url, workload, seconds, args.concurrency, recorder))
                )
            d_rps = sorted(r.req_per_s for r in direct_rates)[len(direct_rates) // 2]
            p_rps = sorted(r.req_per_s for r in proxied_rates)[len(proxied_rates) // 2]
            cpu = sorted(r.recorder_cpu_us_per_req or 0.0 for r in proxied_rates)[len(proxied_rates) // 2]
            errors = sum(r.errors for r in direct_rates + proxied_rates)
            ratio = p_rps / d_rps
            verdict = "ok" if ratio >= TARGET_RATIO else "MISSED"
            print(
                f"  {workload:<7} direct {d_rps:8.0f} req/s  recorder {p_rps:8.0f} req/s  ratio {ratio:.2f} "
                f"(goal >= {TARGET_RATIO}: {verdict})  recorder CPU {cpu:6.0f} µs/req  errors {errors}"
            )
            ok = ok and ratio >= TARGET_RATIO and errors == 0
    finally:
        if recorder is not None:
            recorder.stop()
        upstream.stop()
    written = sum(1 for _ in cassette.rglob("*.json"))
    print(f"  exchanges recorded: {written}")
    return 0 if ok else 1


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="short windows: a smoke run")
    parser.add_argument("--seconds", type=float, help="throughput window (default 5, quick 2)")
    parser.add_argument("--streams", type=int, help="paced streams per round (default 400, quick 80)")
    parser.add_argument("--events", type=int, default=50, help="events per paced stream (default 50)")
    parser.add_argument("--pace-ms", type=float, default=10.0, help="ms between paced events (default 10)")
    parser.add_argument("--concurrency", type=int, default=8, help="connections (default 8)")
    parser.add_argument("--rounds", type=int, default=1, help="direct/recorder alternations (default 1)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, on_sigterm)
    cassette = Path(tempfile.mkdtemp(prefix="rehearsal-recorder-bench-"))
    try:
        return run(args, cassette)
    except KeyboardInterrupt:
        print("interrupted; servers stopped", file=sys.stderr)
        return 130
    except RuntimeError as e:
        print(f"recorder_overhead: {e}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(cassette, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
