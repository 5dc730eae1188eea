"""Locust vs asyncio: the highest request rate each load engine sustains against the sampleapp,
and the TTFT each reports for a fixed provider TTFT.

Both engines drive the same stack on this machine: the fake provider (`rehearse serve
--latency none`) and the sampleapp (`rehearse sample-app`), each a process of its own, through
the sampleapp's streaming `/chat` route (`--route summarize` for a JSON one). The asyncio engine
is `harness.load.drive` in this process; the locust engine is `harness.load.locust.drive_locust`
(locust headless in its own process, `--locust-processes` of them). Both are open loops with the
same arrivals.

A rate is *sustained* when, over `--seconds`, at least 99% of the requests due were answered
200 without error, the send lag (sent - scheduled) p95 is at most 50 ms, and the latency p95
from the scheduled time is at most 1 s (no queue building up). Rates double from
`--start-rate` until one is not sustained, then bisect. Then, with a `slow` fault giving every
provider call a 300 ms TTFT, each engine runs at `--ttft-rate` on /chat and reports its TTFT.

    python bench/locust_vs_asyncio.py [--seconds 4] [--start-rate 5] [--route chat|summarize] [--json FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness.analysis import percentiles  # noqa: E402
from harness.experiment.model import Experiment, Load, RequestSpec  # noqa: E402
from harness.experiment.templates import RequestFactory  # noqa: E402
from harness.load import drive  # noqa: E402
from harness.load.locust import drive_locust  # noqa: E402
from harness.procs import Child, start_child  # noqa: E402
from harness.record import PhaseWindow, RequestRecord  # noqa: E402
from harness.run.provider_api import ProviderAPI  # noqa: E402

ROUTES: dict[str, dict[str, Any]] = {
    "chat": {"path": "/chat", "json": {"message": "{{ faker.sentence(nb_words=12) }}"}},
    "summarize": {"path": "/summarize", "json": {"text": "{{ faker.paragraph(nb_sentences=4) }}"}},
}
HEADERS = {"X-Tenant": "{{ choice('acme', 'globex') }}"}
MAX_LAG_S = 0.050
MAX_LATENCY_S = 1.0
MIN_OK = 0.99
PROVIDER_TTFT_MS = 300
TIMEOUT_S = 10.0
BISECT_STEPS = 3
COOLDOWN_S = 1.0


@dataclass(slots=True)
class Trial:
    engine: str
    rate: float
    due: int  # requests due in the window
    ok: int  # answered 200 without error
    lag_p95_ms: float
    latency_p95_ms: float
    ttft_p50_ms: float | None
    ttft_p95_ms: float | None
    sustained: bool


def figures(engine: str, rate: float, seconds: float, records: list[RequestRecord]) -> Trial:
    due = math.ceil(rate * seconds)
    ok = [r for r in records if r.status == 200 and r.error is None]
    lag = percentiles((r.sent_s - r.scheduled_s for r in records), (95,))[95]
    latency = percentiles((r.latency_s for r in ok if r.latency_s is not None), (95,))[95]
    ttft = percentiles((r.ttft_s for r in ok if r.ttft_s is not None), (50, 95))
    lag_ms = 1000 * (lag if lag is not None else math.inf)
    latency_ms = 1000 * (latency if latency is not None else math.inf)
    sustained = len(ok) >= MIN_OK * due and lag_ms <= MAX_LAG_S * 1000 and latency_ms <= MAX_LATENCY_S * 1000
    return Trial(
        engine,
        rate,
        due,
        len(ok),
        round(lag_ms, 1),
        round(latency_ms, 1),
        None if ttft[50] is None else round(1000 * ttft[50], 1),
        None if ttft[95] is None else round(1000 * ttft[95], 1),
        sustained,
    )


class Bench:
    def __init__(self, args: argparse.Namespace, provider: ProviderAPI, target: str) -> None:
        self.args = args
        self.provider = provider
        self.target = target
        self.specs = {
            name: RequestSpec.model_validate({**route, "headers": HEADERS}) for name, route in ROUTES.items()
        }

    async def run(self, engine: str, rate: float, route: str | None = None) -> Trial:
        await asyncio.sleep(COOLDOWN_S)  # the last trial's stragglers leave the stack first
        seconds = self.args.seconds
        route = route or self.args.route
        spec, stream = self.specs[route], route == "chat"
        if engine == "asyncio":
            load = Load(mode="open", rate=rate, duration_s=seconds, max_requests=1_000_000)
            records = await drive(
                self.target,
                RequestFactory(spec, 0),
                load,
                [PhaseWindow("run", 0.0, seconds)],
                stream=stream,
                timeout_s=TIMEOUT_S,
                seed=0,
            )
        else:
            # Enough users for every answer up to the latency limit: past it the rate fails
            # anyway, so locust is never held back by too few users while the rate could hold.
            users = math.ceil(rate * MAX_LATENCY_S) + 10
            processes = min(self.args.locust_processes, users)
            exp = Experiment.model_validate(
                {
                    "title": "bench",
                    "target": {
                        "url": self.target,
                        "request": spec.model_dump(by_alias=True),
                        "stream": "sse" if stream else False,
                        "timeout_s": TIMEOUT_S,
                    },
                    "load": {
                        "engine": "locust",
                        "rate": rate,
                        "users": users,
                        "processes": processes,
                        "duration_s": seconds,
                        "max_requests": 1_000_000,
                    },
                }
            )
            records = (await drive_locust(self.target, exp, 0, self.provider.url)).records
        trial = figures(engine, rate, seconds, records)
        verdict = "sustained" if trial.sustained else "NOT sustained"
        print(
            f"  {engine:8} {rate:7.0f}/s  ok {trial.ok:6}/{trial.due:<6} lag p95 {trial.lag_p95_ms:8.1f} ms"
            f"  latency p95 {trial.latency_p95_ms:8.1f} ms  {verdict}",
            flush=True,
        )
        return trial

    async def highest_rate(self, engine: str) -> tuple[float, list[Trial]]:
        trials: list[Trial] = []
        good, bad = 0.0, None
        rate = self.args.start_rate
        while rate <= self.args.max_rate:
            trial = await self.run(engine, rate)
            trials.append(trial)
            if not trial.sustained:
                bad = rate
                break
            good, rate = rate, rate * 2
        if bad is not None and good > 0:
            for _ in range(BISECT_STEPS):
                mid = round((good + bad) / 2)
                if mid in (good, bad):
                    break
                trial = await self.run(engine, mid)
                trials.append(trial)
                good, bad = (mid, bad) if trial.sustained else (good, mid)
        return good, trials

    async def ttft(self, engine: str) -> tuple[Trial, float | None]:
        """The engine's TTFT on /chat with every provider call's first token 300 ms late, and
        the provider's own TTFT (p50, from its ledger) for the same calls."""
        since = int((await self.provider.health())["ledger_seq"])
        rule = {"name": "bench-ttft", "fault": {"kind": "slow", "ttft_ms": PROVIDER_TTFT_MS}}
        await self.provider.add_fault(rule)
        try:
            trial = await self.run(engine, self.args.ttft_rate, "chat")  # TTFT: a streamed route
        finally:
            await self.provider.remove_fault("bench-ttft")
        await asyncio.sleep(0.3)
        calls = await self.provider.ledger(since)
        provider_ttft = percentiles((c.ttft_ms for c in calls if c.ttft_ms is not None), (50,))[50]
        return trial, provider_ttft


def _median(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return round(statistics.median(known), 1) if known else None


def ratio(a: float | None, b: float | None) -> str:
    return "-" if not a or not b else f"{a / b:.2f}"


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    children: list[Child] = []
    try:
        provider = await start_child(
            "fake provider", ["-m", "harness.cli", "serve", "--port", "0", "--latency", "none"]
        )
        children.append(provider)
        app_args = ["-m", "harness.cli", "sample-app", "--port", "0", "--provider-url", provider.url]
        children.append(await start_child("sampleapp", app_args))
        async with aiohttp.ClientSession() as session:
            bench = Bench(args, ProviderAPI(provider.url, session), children[1].url)
            print(
                f"route /{args.route}, {args.seconds:g} s per trial, locust processes {args.locust_processes}"
            )
            await bench.run("asyncio", 10)  # warm-up: tokenizer, caches, connections
            results: dict[str, Any] = {"settings": vars(args) | {"json": str(args.json)}, "rounds": []}
            highest: dict[str, list[float]] = {"asyncio": [], "locust": []}
            ttft: dict[str, list[tuple[Trial, float | None]]] = {"asyncio": [], "locust": []}
            for round_ in range(1, args.rounds + 1):
                record: dict[str, Any] = {"round": round_}
                for engine in ("asyncio", "locust"):
                    print(f"round {round_}: highest sustained rate, {engine}:")
                    rate, trials = await bench.highest_rate(engine)
                    highest[engine].append(rate)
                    record[f"{engine}_trials"] = [asdict(t) for t in trials]
                for engine in ("asyncio", "locust"):
                    print(f"round {round_}: TTFT, {PROVIDER_TTFT_MS} ms at the provider, {engine}:")
                    trial, provider_ttft = await bench.ttft(engine)
                    ttft[engine].append((trial, provider_ttft))
                    record[f"{engine}_ttft"] = {"trial": asdict(trial), "provider_ttft_p50_ms": provider_ttft}
                results["rounds"].append(record)
    finally:
        for child in reversed(children):
            await child.stop()

    a, lo = statistics.median(highest["asyncio"]), statistics.median(highest["locust"])
    each = f" (rounds: asyncio {highest['asyncio']}, locust {highest['locust']})" if args.rounds > 1 else ""
    print(f"\nhighest sustained rate: asyncio {a:g}/s, locust {lo:g}/s, locust/asyncio {ratio(lo, a)}{each}")
    print(f"TTFT at {args.ttft_rate:g}/s with a {PROVIDER_TTFT_MS} ms provider TTFT (median over rounds):")
    p50: dict[str, float | None] = {}
    for engine, runs in ttft.items():
        p50[engine] = _median([t.ttft_p50_ms for t, _ in runs])
        p95 = _median([t.ttft_p95_ms for t, _ in runs])
        own = _median([p for _, p in runs])
        print(f"  {engine:8} p50 {p50[engine]} ms, p95 {p95} ms (the provider's own p50 {own} ms)")
    print(f"  TTFT p50 locust/asyncio {ratio(p50['locust'], p50['asyncio'])}")
    results["highest_rate"] = {"asyncio": a, "locust": lo, "ratio": lo / a if a else None}
    results["ttft_p50_ms"] = p50
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=4.0, help="length of each trial (default 4)")
    parser.add_argument("--start-rate", type=float, default=5.0, help="first rate tried (default 5/s)")
    parser.add_argument("--max-rate", type=float, default=3200.0, help="highest rate tried (default 3200/s)")
    parser.add_argument("--locust-processes", type=int, default=1, help="locust processes (default 1)")
    parser.add_argument("--ttft-rate", type=float, default=4.0, help="rate of the TTFT runs (default 4/s)")
    parser.add_argument(
        "--route", choices=sorted(ROUTES), default="chat", help="sampleapp route (default chat)"
    )
    parser.add_argument("--rounds", type=int, default=1, help="repeat everything; medians (default 1)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="write every trial and the figures")
    args = parser.parse_args()
    started = time.monotonic()
    results = asyncio.run(main_async(args))
    print(f"({time.monotonic() - started:.0f} s)")
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
