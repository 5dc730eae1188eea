"""What `rehearse record` costs a caller: the same load direct, through a bare aiohttp proxy
(`bare_proxy.py`, the baseline: forwards, records nothing) and through the recorder.

(a) Added latency per streamed event. `paced_upstream.py` streams chat chunks at a known pace,
each stamped with the wall clock just before it was written; the client reads with kernel
receive timestamps (`rawclient.StampedConnection`), so each event's delay is `received - sent`,
whatever the client's own loop is doing. The figure is the recorder's delay quantiles minus the
direct ones (goal: p99 at most 1 ms per event), and minus the bare proxy's (what recording adds
to the hop itself).

(b) Throughput at the upstream's pace: `--wide` paced streams at a time, streams/s direct and
through the recorder (goal: a ratio of at least 0.8, the recorder keeps up).

(c) Saturation, no goal: `rehearse serve --latency none` (answers to the 50-token cap) as the
upstream, requests/s of `chat` and `stream` for each target and the proxies' CPU per request:
what a hop and a file per exchange cost when the upstream answers at once.

    python bench/recorder_overhead.py            # 400 paced streams, 5 s windows
    python bench/recorder_overhead.py --quick    # 80 paced streams, 2 s windows
    python bench/recorder_overhead.py --spin 2   # the same with 2 `nice 19` busy loops running

`--spin N` (off by default) keeps N cores awake with lowest-priority busy loops, to tell apart
what a proxy costs from what a halted virtual CPU costs to wake up (about 1 ms on some VMs).

Linux only (`SO_TIMESTAMPNS`, `/proc`). Nothing is pinned: the client, the upstream and the
proxy share the machine's cores as the scheduler sees fit.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
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
    streams: int = 0  # answered with 200
    seconds: float = 0.0


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
                if resp.status != 200 or b"[DONE]" not in resp.body:
                    out.errors += 1
                    continue
                for chunk, received, shared in zip(resp.chunks, resp.times, resp.shared, strict=True):
                    for sent in _SENT.findall(chunk):
                        out.delays_ms.append((received - int(sent) / 1e9) * 1000)
                        out.shared += shared
        finally:
            conn.close()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    out.seconds = time.perf_counter() - start
    out.streams = streams - out.errors
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


def _proxies(upstream: Server, cassette: Path) -> tuple[Server, Server]:
    """The bare proxy and the recorder in front of `upstream`, started."""
    bare = Server(
        "bare proxy", [sys.executable, str(ROOT / "bench" / "bare_proxy.py"), "--upstream", upstream.url]
    )
    bare.pin = False
    bare.start()
    recorder = recorder_server(upstream.url, cassette)
    recorder.start()
    return bare, recorder


TARGETS = ("direct", "bare proxy", "recorder")


def paced(args: argparse.Namespace, streams: int, cassette: Path) -> bool:
    """(a) added latency per event and (b) throughput at the upstream's pace."""
    upstream = upstream_server("paced", args.events, args.pace_ms)
    proxies: tuple[Server, ...] = ()
    delays = {t: Delays([], 0, 0) for t in TARGETS}
    rates: dict[str, list[float]] = {t: [] for t in TARGETS}
    errors = 0
    try:
        upstream.start()
        proxies = _proxies(upstream, cassette)
        urls = dict(zip(TARGETS, (upstream.url, proxies[0].url, proxies[1].url), strict=True))
        for _ in range(args.rounds):  # alternated, so a drift in the machine's load hits each
            for target, url in urls.items():
                d = asyncio.run(paced_delays(url, streams, args.concurrency))
                delays[target].delays_ms += d.delays_ms
                delays[target].errors += d.errors
            for target, url in urls.items():
                d = asyncio.run(paced_delays(url, args.wide * 2, args.wide))
                rates[target].append(d.streams / d.seconds)
                errors += d.errors
    finally:
        for server in (*proxies, upstream):
            server.stop()
    print(
        f"(a) added latency per event: {streams} streams x {args.rounds} round(s) of {args.events} "
        f"events {args.pace_ms:g} ms apart, {args.concurrency} at a time"
    )
    for target in TARGETS:
        print(_delays_row(target, delays[target]))

    def added(target: str, base: str, q: float) -> float:
        return percentile(delays[target].delays_ms, q) - percentile(delays[base].delays_ms, q)

    added99 = added("recorder", "direct", 0.99)
    verdict = "ok" if added99 <= TARGET_ADDED_P99_MS else "MISSED"
    print(
        f"  recorder vs direct: p50 +{added('recorder', 'direct', 0.5):.3f} ms, p99 +{added99:.3f} ms "
        f"(goal p99 <= {TARGET_ADDED_P99_MS:g}: {verdict})"
    )
    print(
        f"  recorder vs bare proxy: p50 +{added('recorder', 'bare proxy', 0.5):.3f} ms, "
        f"p99 +{added('recorder', 'bare proxy', 0.99):.3f} ms (what recording adds to a hop)"
    )
    events_per_s = args.wide * 1000 / args.pace_ms
    print(
        f"(b) throughput at the upstream's pace: {args.wide} streams at a time "
        f"({events_per_s:.0f} events/s), {args.wide * 2} streams each"
    )
    median = {t: statistics.median(rates[t]) for t in TARGETS}
    ratio = median["recorder"] / median["direct"]
    verdict = "ok" if ratio >= TARGET_RATIO else "MISSED"
    print(
        "  "
        + "  ".join(f"{t} {median[t]:6.1f} streams/s" for t in TARGETS)
        + f"  recorder/direct {ratio:.2f} (goal >= {TARGET_RATIO}: {verdict})  errors {errors}"
    )
    no_errors = not errors and not any(d.errors for d in delays.values())
    return added99 <= TARGET_ADDED_P99_MS and ratio >= TARGET_RATIO and no_errors


def saturation(args: argparse.Namespace, seconds: float, cassette: Path) -> bool:
    """(c) requests/s against an upstream that answers at once: the cost of a hop and a file."""
    upstream = upstream_server("provider", 0, 0)
    proxies: tuple[Server, ...] = ()
    ok = True
    try:
        upstream.start()
        proxies = _proxies(upstream, cassette)
        servers = dict(zip(TARGETS, (upstream, *proxies), strict=True))
        print(
            f"(c) saturation: {seconds:g} s windows, {args.concurrency} connections, "
            "`rehearse serve --latency none` upstream (no goal: every answer at once)"
        )
        for workload in ("chat", "stream"):
            got: dict[str, list[Rate]] = {t: [] for t in TARGETS}
            for _ in range(args.rounds):
                for target, server in servers.items():
                    proxy = server if target != "direct" else None
                    got[target].append(
                        asyncio.run(rate(server.url, workload, seconds, args.concurrency, proxy))
                    )
            rps = {t: statistics.median(r.req_per_s for r in got[t]) for t in TARGETS}
            cpu = {t: statistics.median(r.recorder_cpu_us_per_req or 0.0 for r in got[t]) for t in TARGETS}
            errors = sum(r.errors for rs in got.values() for r in rs)
            print(
                f"  {workload:<7} "
                + "  ".join(f"{t} {rps[t]:6.0f} req/s" for t in TARGETS)
                + f"  recorder/direct {rps['recorder'] / rps['direct']:.2f}"
                + f"  CPU µs/req: bare proxy {cpu['bare proxy']:.0f}, recorder {cpu['recorder']:.0f}"
                + f"  errors {errors}"
            )
            ok = ok and errors == 0
    finally:
        for server in (*proxies, upstream):
            server.stop()
    return ok


SPINNER = "import os\nos.nice(19)\nwhile True: pass"


def run(args: argparse.Namespace, cassette: Path) -> int:
    spinners = [subprocess.Popen([sys.executable, "-c", SPINNER]) for _ in range(args.spin)]
    try:
        return _run(args, cassette)
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()


def _run(args: argparse.Namespace, cassette: Path) -> int:
    streams = args.streams or (80 if args.quick else 400)
    seconds = args.seconds or (2.0 if args.quick else 5.0)
    load1, load5, _ = os.getloadavg()
    print(f"machine: {os.cpu_count()} cores, load average {load1:.1f} (1 min) {load5:.1f} (5 min)")
    if args.spin:
        print(f"  {args.spin} `nice 19` busy loop(s) running: idle cores kept awake")
    ok = paced(args, streams, cassette / "paced")
    if not args.no_saturation:
        ok = saturation(args, seconds, cassette / "saturation") and ok
    print(f"  exchanges recorded: {sum(1 for _ in cassette.rglob('*.json'))}")
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
    parser.add_argument("--wide", type=int, default=64, help="paced streams at a time for (b) (default 64)")
    parser.add_argument("--rounds", type=int, default=1, help="alternations of the targets (default 1)")
    parser.add_argument("--no-saturation", action="store_true", help="skip (c)")
    parser.add_argument(
        "--spin", type=int, default=0, help="`nice 19` busy loops kept running, cores awake (default 0)"
    )
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
