"""How faithfully `rehearse serve --replay` plays a recording back: the same answers, byte for
byte, at the recorded time to first token.

1. An upstream `rehearse serve --latency realistic --seed 1` answers `--requests` distinct
   prompts, each streamed and whole, through `rehearse record`, `--concurrency` at a time; the
   client notes each stream's time to first content chunk and keeps every answer's body.
2. `rehearse serve --replay CASSETTE --replay-miss error --seed 2` (another seed: a generated
   answer would differ) answers the same requests, same concurrency.
3. Reported: answers identical byte for byte (the SSE body or JSON, `created` and ids
   included); per request, replayed TTFT / recorded TTFT (the recording's first content event
   offset), its median and p10/p90 and the share within ±20 % (the goal: the median within ±20 %
   on a quiet run); and the client-side TTFTs of both runs.

    python bench/replay_fidelity.py [--requests 40] [--concurrency 4] [--speed 1.0]

Every server is loopback and stopped at the end (or on Ctrl-C / SIGTERM).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiohttp
from provider_throughput import Server, on_sigterm, percentile

from fakeprovider.replay.cassette import Cassette

TARGET_TTFT_DEVIATION = 0.20
_CONTENT_CHUNK = re.compile(rb'"chat\.completion\.chunk".*?"delta":\{[^}]*"content":"[^"]')
PY = sys.executable


def bodies(n: int) -> list[bytes]:
    """`n` streamed and `n` whole chat requests, each with its own prompt (so each its own recording)."""
    out = []
    for i in range(n):
        for stream in (True, False):
            question = f"Request {i}: summarise the quarterly numbers for region {i % 7} in a few sentences."
            out.append(
                json.dumps(
                    {
                        "model": "gpt-4o-mini",
                        "messages": [{"role": "user", "content": question}],
                        "max_tokens": 60,
                        "stream": stream,
                    }
                ).encode()
            )
    return out


async def drive(url: str, requests: list[bytes], concurrency: int) -> tuple[list[float | None], list[bytes]]:
    """Each request once, `concurrency` at a time: time to the first content chunk of a stream
    (None for whole answers) and each answer's body."""
    ttfts: list[float | None] = [None] * len(requests)
    answers: list[bytes] = [b""] * len(requests)
    queue = list(range(len(requests)))
    timeout = aiohttp.ClientTimeout(total=60)
    headers = {"content-type": "application/json", "authorization": "Bearer sk-bench"}

    async def worker(session: aiohttp.ClientSession) -> None:
        while queue:
            i = queue.pop(0)
            t0 = time.perf_counter()
            async with session.post(f"{url}/v1/chat/completions", data=requests[i], headers=headers) as resp:
                if resp.status != 200:
                    raise RuntimeError(f"{url}: status {resp.status}: {(await resp.read())[:300]!r}")
                body = b""
                async for chunk in resp.content.iter_any():
                    body += chunk  # an event may come in pieces: search what arrived so far
                    if ttfts[i] is None and _CONTENT_CHUNK.search(body):
                        ttfts[i] = (time.perf_counter() - t0) * 1000
                answers[i] = body

    async with aiohttp.ClientSession(timeout=timeout) as session:
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
    return ttfts, answers


def prompt_of(body: Any) -> str:
    return str(body["messages"][0]["content"])


def recorded_ttfts(directory: Path) -> dict[bytes, float]:
    """Each streamed recording's first content event offset, by its prompt."""
    out: dict[str, float] = {}
    for x in Cassette.load(directory).exchanges:
        events = x.response.events or ()
        for e in events:
            data = e.data
            choices = data.get("choices", []) if isinstance(data, dict) else []
            if any((c.get("delta") or {}).get("content") for c in choices):
                out[prompt_of(x.request.body)] = e.t_ms
                break
    return out


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--requests", type=int, default=40, help="distinct prompts (each streamed and whole)")
    p.add_argument("--concurrency", type=int, default=4)
    p.add_argument("--speed", type=float, default=1.0, help="--replay-speed of the replaying server")
    return p.parse_args(argv)


def fmt(values: Sequence[float]) -> str:
    p50, p90, p99 = (percentile(values, q) for q in (0.5, 0.9, 0.99))
    return f"p50 {p50:7.1f}  p90 {p90:7.1f}  p99 {p99:7.1f}"


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, on_sigterm)
    requests = bodies(args.requests)
    tmp = Path(tempfile.mkdtemp(prefix="replay-fidelity-"))
    cassette = tmp / "cassette"
    cli = [PY, "-m", "harness.cli"]
    serve = [*cli, "serve", "--port", "0", "--latency", "realistic"]
    upstream = Server("upstream", [*serve, "--seed", "1"], pin=False)
    servers = [upstream]
    try:
        upstream.start()
        record = [*cli, "record", "--upstream", upstream.url, "--port", "0", "--cassette", str(cassette)]
        recorder = Server("recorder", record, pin=False)
        servers.append(recorder)
        recorder.start()
        rec_ttft, rec_answers = asyncio.run(drive(recorder.url, requests, args.concurrency))
        recorder.stop()  # the writer thread has written every exchange when it exits
        upstream.stop()
        replaying = [*serve, "--seed", "2", "--replay", str(cassette), "--replay-miss", "error"]
        replay = Server("replay", [*replaying, "--replay-speed", str(args.speed)], pin=False)
        servers.append(replay)
        replay.start()
        rep_ttft, rep_answers = asyncio.run(drive(replay.url, requests, args.concurrency))
    finally:
        for server in servers:
            server.stop()
    recorded = recorded_ttfts(cassette)
    shutil.rmtree(tmp, ignore_errors=True)

    identical = sum(a == b for a, b in zip(rec_answers, rep_answers, strict=True))
    ratios = []
    for body, ttft in zip(requests, rep_ttft, strict=True):
        prompt = prompt_of(json.loads(body))
        if ttft is not None and prompt in recorded:
            ratios.append(ttft / (recorded[prompt] / args.speed))
    streamed = args.requests
    print(f"replay fidelity: {len(requests)} requests ({streamed} streamed), concurrency {args.concurrency}")
    print(f"  answers identical byte for byte: {identical} of {len(requests)}")
    rec = [t for t in rec_ttft if t is not None]
    rep = [t for t in rep_ttft if t is not None]
    print(f"  client TTFT ms, recording (through the recorder): {fmt(rec)}")
    print(f"  client TTFT ms, replay:                          {fmt(rep)}")
    print(f"  recorded TTFT ms (cassette, first content event):  {fmt(list(recorded.values()))}")
    within = sum(abs(r - 1) <= TARGET_TTFT_DEVIATION for r in ratios)
    median = statistics.median(ratios) if ratios else float("nan")
    print(
        f"  replayed / recorded TTFT: median {median:.3f}, p10 {percentile(ratios, 0.1):.3f}, "
        f"p90 {percentile(ratios, 0.9):.3f}; within ±20 %: {within} of {len(ratios)}"
    )
    ok = identical == len(requests) and abs(median - 1) <= TARGET_TTFT_DEVIATION
    print(f"  goal (identical answers, median TTFT within ±20 %): {'met' if ok else 'NOT MET'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
