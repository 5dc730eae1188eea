"""Load generator accuracy: does the open loop send at the rate asked, on time?

A minimal aiohttp handler (a small JSON answer) runs in a subprocess pinned to core 0; the
harness's own load generator (`harness.load.drive`, open loop, constant arrivals, a small
request template rendered per request) runs here, pinned to core 1. For each rate it prints
the achieved rate over the target and the send lag (sent_s - scheduled_s) percentiles.
Targets: achieved >= 0.98 of the target at 1,000/s, p99 lag <= 5 ms.

With `--trace`, each rate is a recorded trace instead (`load: {mode: trace}`): Poisson arrivals
at rate / `--trace-speed` with a tenant and a text per row, written as a CSV, read back by the
trace reader and replayed at that speed, the request filled from each row (`{{ trace.text }}`).
The lag is then the schedule error against the trace: sent_s - t_s / speed. Target: p99 <= 5 ms.

    python bench/loadgen_accuracy.py [--seconds 10] [--rates 500,1000,2000] [--trace] [--json FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import gc
import json
import os
import random
import resource
import select
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness.experiment.model import Load, RequestSpec  # noqa: E402
from harness.experiment.templates import RequestFactory  # noqa: E402
from harness.load import drive  # noqa: E402
from harness.load.trace import Trace, read_trace  # noqa: E402
from harness.record import PhaseWindow, RequestRecord  # noqa: E402

SERVER_CORE = 0
CLIENT_CORE = 1
TARGET_RATE = 1000.0
TARGET_ACHIEVED = 0.98
TARGET_P99_LAG_MS = 5.0
CLK_TCK = os.sysconf("SC_CLK_TCK")
TEMPLATE = {
    "path": "/bench",
    "json": {"n": "{{ seq }}", "tenant": "{{ choice('acme', 'globex') }}", "text": "{{ faker.sentence() }}"},
    "headers": {"X-Tenant": "{{ choice('acme', 'globex') }}"},
}
STATIC = {"path": "/bench", "json": {"text": "hello"}}
TRACE_TEMPLATE = {
    "path": "/bench",
    "json": {"n": "{{ seq }}", "tenant": "{{ trace.tenant }}", "text": "{{ trace.text }}"},
    "headers": {"X-Tenant": "{{ trace.tenant }}"},
}


@dataclass(slots=True)
class Figures:
    round: int
    rate: float
    seconds: float
    requests: int
    errors: int
    achieved_per_s: float  # answers with 200 / time from load start to the last answer
    achieved_ratio: float
    lag_p50_ms: float
    lag_p99_ms: float
    lag_max_ms: float
    latency_p50_ms: float  # from the scheduled time
    latency_p99_ms: float
    client_cpu_us_per_req: float
    client_waited: float  # share of the run the client was ready to run but another process had core 1
    server_busy: float  # share of core 0 the server used
    kind: str = "open"  # or "trace Nx": a recorded trace replayed at N times its speed


# -- the server ------------------------------------------------------------------------------


def serve() -> None:
    """The minimal handler; prints `listening on URL`, runs until terminated."""
    from aiohttp import web

    os.sched_setaffinity(0, {SERVER_CORE})
    body = b'{"ok":true}'

    async def handler(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(body=body, content_type="application/json")

    async def main() -> None:
        app = web.Application()
        app.router.add_route("*", "/bench", handler)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        print(f"listening on http://127.0.0.1:{port}", flush=True)
        await asyncio.Event().wait()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())


def _child_setup() -> None:
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class Server:
    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve"], stdout=subprocess.PIPE, preexec_fn=_child_setup
        )
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], 30)
        line = self.proc.stdout.readline().decode().strip() if ready else ""
        if not line.startswith("listening on http://127.0.0.1:"):
            self.stop()
            raise RuntimeError(f"the bench server did not start (first line {line!r})")
        self.url = line.removeprefix("listening on ")

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


# -- the measurement -------------------------------------------------------------------------


def percentile(samples: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks, as the harness reports."""
    if not samples:
        return float("nan")
    s = sorted(samples)
    pos = (len(s) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def own_run_delay_seconds() -> float:
    """Time this process spent runnable but waiting for a CPU (Linux schedstat), else 0."""
    try:
        return int(Path("/proc/self/schedstat").read_text().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


def write_trace(path: Path, rate: float, seconds: float, seed: int) -> None:
    """A recorded trace: Poisson arrivals at `rate` for `seconds`, a tenant and a text per row."""
    rng = random.Random(seed)
    words = ["route", "tenant", "budget", "fallback", "stream", "token", "retry", "cache"]
    t = 0.0
    with path.open("w", encoding="utf-8") as f:
        f.write("t_s,tenant,text\n")
        while (t := t + rng.expovariate(rate)) < seconds:
            text = " ".join(rng.choices(words, k=8))
            f.write(f"{t:.6f},{rng.choice(['acme', 'globex', 'initech'])},{text}\n")


async def measure(
    url: str,
    server: Server,
    rate: float,
    seconds: float,
    spec: RequestSpec,
    round_: int = 0,
    trace: tuple[Trace, float] | None = None,
) -> Figures:
    """One rate for `seconds`: open loop, or with `trace` (and its speed) that trace replayed."""
    phases = [PhaseWindow("bench", 0.0, seconds)]
    if trace is None:
        factory = RequestFactory(spec, seed=1)
        load = Load(mode="open", rate=rate, duration_s=seconds, max_requests=10_000_000)
    else:
        factory = RequestFactory(spec, seed=1, trace=trace[0])
        load = Load(
            mode="trace", file=trace[0].source, speed=trace[1], duration_s=seconds, max_requests=10_000_000
        )
    cpu0, wait0, server0, wall0 = (
        own_cpu_seconds(),
        own_run_delay_seconds(),
        server.cpu_seconds(),
        time.monotonic(),
    )
    records = await drive(
        url,
        factory,
        load,
        phases,
        stream=False,
        timeout_s=10.0,
        seed=1,
        trace=None if trace is None else trace[0],
    )
    if trace is not None:
        # The lag measured against the trace itself, not only against the scheduler's own times.
        times, speed = trace[0].times, trace[1]
        off = [r.seq for r in records if abs(r.scheduled_s - times[r.seq] / speed) > 1e-9]
        if off:
            raise RuntimeError(f"{len(off)} requests scheduled off the trace (first seq {off[0]})")
    cpu1, wait1, server1, wall1 = (
        own_cpu_seconds(),
        own_run_delay_seconds(),
        server.cpu_seconds(),
        time.monotonic(),
    )
    wall = wall1 - wall0
    f = figures(
        round_, rate, seconds, records, cpu1 - cpu0, (wait1 - wait0) / wall, (server1 - server0) / wall
    )
    if trace is not None:
        # Poisson arrivals: the trace's own count over the run is what was asked, not rate x seconds.
        f.kind = f"trace {trace[1]:g}x"
        f.achieved_ratio = f.achieved_per_s / (len(records) / seconds)
    return f


def figures(
    round_: int,
    rate: float,
    seconds: float,
    records: list[RequestRecord],
    client_cpu_s: float,
    client_waited: float,
    server_busy: float,
) -> Figures:
    ok = [r for r in records if r.status == 200 and r.error is None]
    last = max((r.end_s for r in ok if r.end_s is not None), default=float("nan"))
    achieved = len(ok) / last if ok else 0.0
    lags = [(r.sent_s - r.scheduled_s) * 1e3 for r in records]
    latencies = [r.latency_s * 1e3 for r in ok if r.latency_s is not None]
    return Figures(
        round=round_,
        rate=rate,
        seconds=seconds,
        requests=len(records),
        errors=len(records) - len(ok),
        achieved_per_s=achieved,
        achieved_ratio=achieved / rate,
        lag_p50_ms=percentile(lags, 0.50),
        lag_p99_ms=percentile(lags, 0.99),
        lag_max_ms=max(lags, default=float("nan")),
        latency_p50_ms=percentile(latencies, 0.50),
        latency_p99_ms=percentile(latencies, 0.99),
        client_cpu_us_per_req=client_cpu_s / max(1, len(records)) * 1e6,
        client_waited=client_waited,
        server_busy=server_busy,
    )


COLUMNS: list[tuple[str, Callable[[Figures], str]]] = [
    ("round", lambda f: str(f.round)),
    ("load", lambda f: f.kind),
    ("target/s", lambda f: f"{f.rate:,.0f}"),
    ("requests", lambda f: f"{f.requests:,}"),
    ("errors", lambda f: str(f.errors)),
    ("achieved/s", lambda f: f"{f.achieved_per_s:,.1f}"),
    ("ratio", lambda f: f"{f.achieved_ratio:.4f}"),
    ("lag p50 ms", lambda f: f"{f.lag_p50_ms:.3f}"),
    ("lag p99 ms", lambda f: f"{f.lag_p99_ms:.3f}"),
    ("lag max ms", lambda f: f"{f.lag_max_ms:.1f}"),
    ("lat p50 ms", lambda f: f"{f.latency_p50_ms:.2f}"),
    ("lat p99 ms", lambda f: f"{f.latency_p99_ms:.2f}"),
    ("client µs/req", lambda f: f"{f.client_cpu_us_per_req:.0f}"),
    ("client waited", lambda f: f"{f.client_waited:.0%}"),
    ("core0 busy", lambda f: f"{f.server_busy:.0%}"),
]


def print_table(rows: list[Figures]) -> None:
    table = [[name for name, _ in COLUMNS]] + [[fmt(f) for _, fmt in COLUMNS] for f in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(COLUMNS))]
    for row in table:
        print("  ".join(v.rjust(w) for v, w in zip(row, widths, strict=True)))
    print()


def verdicts(rows: list[Figures]) -> bool:
    """One line per rate (medians over rounds); True if the targets hold at TARGET_RATE."""
    held_at_target = True
    for rate in dict.fromkeys(f.rate for f in rows):
        runs = [f for f in rows if f.rate == rate]
        achieved = statistics.median(f.achieved_ratio for f in runs)
        lag = statistics.median(f.lag_p99_ms for f in runs)
        errors = sum(f.errors for f in runs)
        held = achieved >= TARGET_ACHIEVED and lag <= TARGET_P99_LAG_MS and errors == 0
        if rate == TARGET_RATE:
            held_at_target = held
        note = " (the target rate)" if rate == TARGET_RATE else ""
        note += f", {runs[0].kind}" if runs[0].kind != "open" else ""
        median = f", median of {len(runs)} rounds" if len(runs) > 1 else ""
        print(
            f"{rate:,.0f}/s{note}: achieved {achieved:.4f} of target (>= {TARGET_ACHIEVED}), "
            f"p99 lag {lag:.2f} ms (<= {TARGET_P99_LAG_MS:g}){median}, errors {errors}: "
            + ("ok" if held else "MISSED")
        )
    return held_at_target


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--seconds", type=float, default=10.0, help="per rate (default 10)")
    p.add_argument("--rates", default="500,1000,2000", help="comma-separated requests/s")
    p.add_argument("--rounds", type=int, default=1, help="measure every rate this many times (default 1)")
    p.add_argument("--static", action="store_true", help="an untemplated request body")
    p.add_argument("--trace", action="store_true", help="replay a recorded trace (load mode trace) per rate")
    p.add_argument(
        "--trace-speed",
        type=float,
        default=2.0,
        help="replay speed of the traces (default 2: recorded at rate/2)",
    )
    p.add_argument("--json", type=Path, metavar="FILE", help="also write the figures as JSON")
    p.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    return p.parse_args(argv)


async def run(args: argparse.Namespace, server: Server) -> list[Figures]:
    spec = RequestSpec.model_validate(STATIC if args.static else TEMPLATE)
    # Warm up: connections open, code paths hot, before anything is measured.
    await measure(server.url, server, 200.0, 1.0, spec)
    rows = []
    with tempfile.TemporaryDirectory(prefix="loadgen-trace-") as tmp:
        for round_ in range(1, max(1, args.rounds) + 1):
            for rate in [float(r) for r in args.rates.split(",") if r.strip()]:
                kind = f"trace at {args.trace_speed:g}x" if args.trace else "open loop"
                print(
                    f"  round {round_}: {rate:,.0f}/s for {args.seconds:g} s ({kind}) ...",
                    file=sys.stderr,
                    flush=True,
                )
                trace = None
                if args.trace:
                    path = Path(tmp) / f"trace-{rate:g}-{round_}.csv"
                    speed = args.trace_speed
                    write_trace(path, rate / speed, args.seconds * speed, seed=round_)
                    trace = (read_trace(path), speed)
                    spec = RequestSpec.model_validate(TRACE_TEMPLATE)
                gc.collect()
                rows.append(await measure(server.url, server, rate, args.seconds, spec, round_, trace))
    return rows


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.serve:
        serve()
        return 0
    if len(os.sched_getaffinity(0)) < 2:
        print("warning: fewer than 2 cores; client and server share one", file=sys.stderr)
    else:
        os.sched_setaffinity(0, {CLIENT_CORE})
    signal.signal(signal.SIGTERM, _interrupt)
    server = Server()
    try:
        rows = asyncio.run(run(args, server))
    except KeyboardInterrupt:
        return 130
    finally:
        server.stop()
    print_table(rows)
    if args.json:
        args.json.write_text(json.dumps([asdict(f) for f in rows], indent=2))
    return 0 if verdicts(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
