"""Provider throughput: the fake provider's CPU per request and per chunk against a bare aiohttp baseline.

Each server runs alone in a subprocess pinned to core 0; the load client (`rawclient.py`:
kept-alive connections and pre-built requests, cheaper than the servers) runs here, pinned to
core 1, over loopback. For each server and workload (non-streaming chat, 50-chunk
streams, the same two on the Responses API, non-streaming chat on an Azure deployment
path, 50-chunk Bedrock converse-stream event streams and 50-chunk Gemini
`streamGenerateContent` streams): warm up, then measure req/s, chunks/s, client latency p50/p99
and the server process's CPU time (utime+stime from /proc/PID/stat) over the measured window.
The headline figure is baseline CPU / provider CPU per request (and per chunk); the target is
>= 0.5.

With `--replay`, a third server answers the OpenAI workloads from a cassette taped from the
provider first (`rehearse serve --replay DIR --replay-miss error`), cycling through
`REPLAY_PROMPTS` prompts, and the report adds its CPU per request over the generating
provider's (the goal is <= 1.2).

    python bench/provider_throughput.py [--quick] [--requests N] [--seconds S] [--json FILE] [--replay]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import ipaddress
import os
import platform
import resource
import select
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

import orjson
from rawclient import Connection, request_bytes

ROOT = Path(__file__).resolve().parent.parent
SERVER_CORE = 0
CLIENT_CORE = 1
TARGET_RATIO = 0.5
CLK_TCK = os.sysconf("SC_CLK_TCK")
MODEL = "gpt-4o-mini"
BEDROCK_MODEL = "anthropic.claude-3-haiku-20240307-v1:0"
MAX_TOKENS = 50
HEADERS = {"Authorization": "Bearer sk-bench", "Content-Type": "application/json"}
# A content chunk with non-empty text; the role chunk (`{"role":...,"content":""}`) and the
# finish chunk (`{}`) do not match.
_CONTENT = b'"delta":{"content":"'
_DONE = b"data: [DONE]"
# A Responses text delta event with non-empty text, and the events only a whole stream ends with.
_RESPONSES_CONTENT = b'"delta":"'
_RESPONSES_DONE = (b"event: response.completed", b"event: response.incomplete")
# A Bedrock text delta frame's payload with non-empty text, and the header of the stream's last
# event (`:event-type` = `metadata`, as the event stream encodes a string header).
_BEDROCK_CONTENT = b'"delta":{"text":"'
_BEDROCK_DONE = b":event-type\x07\x00\x08metadata"

# A Gemini chunk with non-empty text (events end `\r\n\r\n`), and the finish only the last has.
_GEMINI_CONTENT = b'"parts":[{"text":"'
_GEMINI_DONE = b'"finishReason":"'
GEMINI_MODEL = "gemini-2.5-flash-lite"

TARGETS = ("baseline", "provider")
# `--replay`: the workloads a cassette can answer (the OpenAI surfaces), and how many distinct
# prompts of each it holds (requests cycle through them, so every one is a hit).
REPLAY_WORKLOADS = ("chat", "stream", "responses", "responses-stream", "azure-chat")
REPLAY_PROMPTS = 50
REPLAY_GOAL = 1.2
_REPLAY_APIS = {"chat": "openai.chat", "responses": "openai.responses"}
WORKLOADS = (
    "chat",
    "stream",
    "responses",
    "responses-stream",
    "azure-chat",
    "bedrock-stream",
    "gemini-stream",
)
# Where each workload posts: the Responses API, or Azure's deployment path (with its required
# api-version) and key; the rest, chat completions.
PATHS = {
    "responses": "/v1/responses",
    "responses-stream": "/v1/responses",
    "azure-chat": "/openai/deployments/" + MODEL + "/chat/completions?api-version=2024-10-21",
    "bedrock-stream": "/model/" + BEDROCK_MODEL.replace(":", "%3A") + "/converse-stream",
    "gemini-stream": f"/v1beta/models/{GEMINI_MODEL}:streamGenerateContent?alt=sse",
}
WORKLOAD_HEADERS = {
    "azure-chat": {"api-key": "bench-key", "Content-Type": "application/json"},
    # botocore signs with SigV4; the provider reads the access key id and verifies nothing.
    "bedrock-stream": {
        "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDBENCH/20260101/us-east-1/bedrock/aws4_request, "
        "SignedHeaders=content-type;host;x-amz-date, Signature=" + "0" * 64,
        "Content-Type": "application/json",
        "amz-sdk-request": "attempt=1; max=3",
    },
    "gemini-stream": {"x-goog-api-key": "bench-key", "Content-Type": "application/json"},
}


def is_stream(workload: str) -> bool:
    return workload.endswith("stream")


def api_of(workload: str) -> str:
    """The API a workload calls: `responses`, `bedrock` or `gemini` for theirs, else `chat`."""
    if workload.startswith("responses"):
        return "responses"
    if workload.startswith("bedrock"):
        return "bedrock"
    return "gemini" if workload.startswith("gemini") else "chat"


@dataclass(slots=True)
class Settings:
    requests: int
    seconds: float
    warmup_requests: int
    warmup_seconds: float
    concurrency: int
    rounds: int


@dataclass(slots=True)
class Measurement:
    target: str
    workload: str
    requests: int
    errors: int
    seconds: float
    req_per_s: float
    chunks: int
    chunks_per_s: float | None
    p50_ms: float
    p99_ms: float
    server_cpu_s: float
    server_busy: float  # share of core 0 the server used during the window
    server_waited: float  # share of the window the server was ready to run but core 0 ran another process
    cpu_us_per_req: float
    cpu_us_per_chunk: float | None
    client_cpu_us_per_req: float


# -- servers ---------------------------------------------------------------------------------


def _pin_server() -> None:
    """Runs in the child before exec: core 0, and die with the benchmark."""
    os.sched_setaffinity(0, {SERVER_CORE})
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class Server:
    """One server subprocess, started on demand and always stopped."""

    def __init__(self, name: str, argv: Sequence[str], pin: bool = True) -> None:
        """`pin`: run it on core 0 (else where the scheduler puts it)."""
        self.name = name
        self.argv = list(argv)
        self.pin = pin
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""
        self._stderr: IO[bytes] | None = None

    def start(self, timeout: float = 60.0) -> None:
        # Lives as long as the server; closed in stop(). A file, not a pipe, so it never fills.
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115
        self.proc = subprocess.Popen(
            self.argv,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            preexec_fn=_pin_server if self.pin else None,
        )
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        line = self.proc.stdout.readline().decode().strip() if ready else ""
        if not line.startswith("listening on http://"):
            raise RuntimeError(f"{self.name} did not start (first line {line!r}):\n{self.stderr_tail()}")
        self.url = line.removeprefix("listening on ")
        host = urlsplit(self.url).hostname or ""
        if not ipaddress.ip_address(host).is_loopback:
            raise RuntimeError(f"{self.name} listens on {host}, not loopback")
        print(f"  {self.name}: pid {self.proc.pid} at {self.url}", file=sys.stderr, flush=True)

    def cpu_seconds(self) -> float:
        """utime + stime of the server process (all its threads), in seconds."""
        assert self.proc is not None
        stat = Path(f"/proc/{self.proc.pid}/stat").read_text()
        fields = stat.rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK

    def wait_seconds(self) -> float:
        """Time the server was ready to run but waited for a core (`/proc/PID/schedstat`): what
        other processes on core 0 took from it."""
        assert self.proc is not None
        return int(Path(f"/proc/{self.proc.pid}/schedstat").read_text().split()[1]) / 1e9

    def stderr_tail(self, n: int = 2000) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")[-n:]

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc is not None and proc.stdout is not None:
            proc.stdout.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None


def make_server(target: str, provider_cmd: str | None = None, cassette: Path | None = None) -> Server:
    # Answers run to the 50-token cap, as the baseline's 50 chunks do (bench/README.md).
    scenario = ["--scenario", str(ROOT / "bench" / "full_answers.yaml")]
    serve = [sys.executable, "-m", "harness.cli", "serve", "--port", "0", "--latency", "none", *scenario]
    if target == "provider" and provider_cmd:
        argv = shlex.split(provider_cmd)
    elif target == "provider":
        argv = serve
    elif target == "replay":
        assert cassette is not None
        argv = [*serve, "--replay", str(cassette), "--replay-miss", "error"]
    else:
        argv = [sys.executable, str(Path(__file__).with_name("baseline_server.py")), "--port", "0"]
    return Server(target, argv)


def make_cassette(directory: Path, workloads: Sequence[str]) -> None:
    """Tape `REPLAY_PROMPTS` requests of each workload from an in-process provider (the same
    scenario as the measured one) into `directory`."""
    sys.path.insert(0, str(ROOT))
    import httpx2

    from fakeprovider import FakeProviderThread
    from fakeprovider.replay.cassette import CassetteWriter
    from tests.fakeprovider.replay.taping import tape

    writer = CassetteWriter(directory)
    scenario = ROOT / "bench" / "full_answers.yaml"
    with FakeProviderThread(latency="none", scenario=scenario) as p, httpx2.Client(base_url=p.url) as http:
        for workload in workloads:
            path = PATHS.get(workload, "/v1/chat/completions")
            api = "azure.chat" if workload == "azure-chat" else _REPLAY_APIS[api_of(workload)]
            headers = {
                k: v for k, v in WORKLOAD_HEADERS.get(workload, HEADERS).items() if k != "Content-Type"
            }
            for i in range(REPLAY_PROMPTS):
                body = orjson.loads(request_body(workload, i))
                model = MODEL if workload == "azure-chat" else None
                tape(http, writer, api, path, body, model=model, headers=headers)


# -- load ------------------------------------------------------------------------------------


def request_body(workload: str, i: int) -> bytes:
    """A short prompt, distinct per request so the provider's content and fingerprints vary."""
    prompt = f"Write one sentence about item {i}."
    body: dict[str, Any]
    api = api_of(workload)
    if api == "gemini":  # the model is the path's, and the method (not the body) asks for a stream
        config = {"maxOutputTokens": MAX_TOKENS}
        return orjson.dumps(
            {"contents": [{"role": "user", "parts": [{"text": prompt}]}], "generationConfig": config}
        )
    if api == "responses":
        body = {"model": MODEL, "input": prompt, "max_output_tokens": MAX_TOKENS}
    elif api_of(workload) == "bedrock":  # the model is in the path; the path says it streams
        messages = [{"role": "user", "content": [{"text": prompt}]}]
        return orjson.dumps({"messages": messages, "inferenceConfig": {"maxTokens": MAX_TOKENS}})
    else:
        body = {"model": MODEL, "messages": [{"role": "user", "content": prompt}], "max_tokens": MAX_TOKENS}
    if is_stream(workload):
        body["stream"] = True
    return orjson.dumps(body)


def count_stream(body: bytes, api: str = "chat") -> tuple[int, bool]:
    """(content chunks, saw the stream's last event: `data: [DONE]`, or the Responses API's
    `response.completed` / `response.incomplete`, or Gemini's chunk with a `finishReason`) of one
    SSE body, or of a Bedrock event stream."""
    if api == "bedrock":
        return _count_event_stream(body)
    if api == "gemini":
        events = body.split(b"\r\n\r\n")
        chunks = 0
        for event in events:
            at = event.find(_GEMINI_CONTENT)
            if at >= 0 and event[at + len(_GEMINI_CONTENT) : at + len(_GEMINI_CONTENT) + 1] != b'"':
                chunks += 1
        return chunks, any(_GEMINI_DONE in event for event in events[-2:])
    content = _RESPONSES_CONTENT if api == "responses" else _CONTENT
    chunks = 0
    done = False
    for event in body.split(b"\n\n"):
        at = event.find(content)
        if at >= 0 and event[at + len(content) : at + len(content) + 1] != b'"':
            chunks += 1
        elif event == _DONE or event.startswith(_RESPONSES_DONE):
            done = True
    return chunks, done


def _count_event_stream(body: bytes) -> tuple[int, bool]:
    """(text delta frames with text, saw the `metadata` event) of a Bedrock event stream."""
    chunks = 0
    at = body.find(_BEDROCK_CONTENT)
    while at >= 0:
        end = at + len(_BEDROCK_CONTENT)
        if body[end : end + 1] != b'"':
            chunks += 1
        at = body.find(_BEDROCK_CONTENT, end)
    return chunks, _BEDROCK_DONE in body


@dataclass(slots=True)
class LoadResult:
    latencies: list[float]
    chunks: int
    errors: int
    seconds: float


class Load:
    """`concurrency` kept-alive connections to one server, each sending one request at a time."""

    def __init__(self, url: str, concurrency: int, prompts: int | None = None) -> None:
        """`prompts`: cycle through that many distinct requests (a cassette's), else all differ."""
        self.prompts = prompts
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.concurrency = concurrency
        self._conns: list[Connection | None] = [None] * concurrency

    def request(self, workload: str, i: int) -> bytes:
        body = request_body(workload, i % self.prompts if self.prompts else i)
        path = PATHS.get(workload, "/v1/chat/completions")
        return request_bytes(self.host, self.port, path, body, WORKLOAD_HEADERS.get(workload, HEADERS))

    async def drive(self, workload: str, n: int, seconds: float) -> LoadResult:
        """Requests until `n` were started or `seconds` have passed."""
        stream = is_stream(workload)
        api = api_of(workload)
        latencies: list[float] = []
        counts = {"next": 0, "chunks": 0, "errors": 0}
        clock = time.perf_counter
        deadline = clock() + seconds

        async def worker(slot: int) -> None:
            while counts["next"] < n and clock() < deadline:
                i = counts["next"]
                counts["next"] = i + 1
                data = self.request(workload, i)
                conn = self._conns[slot]
                t0 = clock()
                try:
                    if conn is None or conn.closed:
                        conn = self._conns[slot] = await Connection.open(self.host, self.port)
                    resp = await conn.request(data)
                except OSError:
                    self._conns[slot] = None
                    counts["errors"] += 1
                    continue
                ok = resp.status == 200
                if stream:
                    chunks, done = count_stream(resp.body, api)
                    counts["chunks"] += chunks
                    ok = ok and done
                if ok:
                    latencies.append(clock() - t0)
                else:
                    counts["errors"] += 1

        start = clock()
        # A stuck server must not hang the benchmark.
        async with asyncio.timeout(seconds + 60):
            await asyncio.gather(*(worker(k) for k in range(self.concurrency)))
        return LoadResult(latencies, counts["chunks"], counts["errors"], clock() - start)

    def close(self) -> None:
        for conn in self._conns:
            if conn is not None:
                conn.close()
        self._conns = [None] * self.concurrency


def percentile(samples: Sequence[float], q: float) -> float:
    """The q-quantile (0..1) by linear interpolation between the sorted samples."""
    if not samples:
        return float("nan")
    s = sorted(samples)
    pos = q * (len(s) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def own_cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


async def measure(server: Server, workload: str, settings: Settings) -> Measurement:
    """Warm up, then one measured window of `workload` against `server`."""
    load = Load(server.url, settings.concurrency, REPLAY_PROMPTS if server.name == "replay" else None)
    try:
        await load.drive(workload, settings.warmup_requests, settings.warmup_seconds)
        cpu0, wait0, own0 = server.cpu_seconds(), server.wait_seconds(), own_cpu_seconds()
        run = await load.drive(workload, settings.requests, settings.seconds)
        cpu = server.cpu_seconds() - cpu0
        waited = server.wait_seconds() - wait0
        own = own_cpu_seconds() - own0
    finally:
        load.close()
    done = len(run.latencies)
    if done == 0:
        raise RuntimeError(f"{server.name} answered no {workload} request:\n{server.stderr_tail()}")
    stream = is_stream(workload)
    return Measurement(
        target=server.name,
        workload=workload,
        requests=done,
        errors=run.errors,
        seconds=round(run.seconds, 3),
        req_per_s=done / run.seconds,
        chunks=run.chunks,
        chunks_per_s=run.chunks / run.seconds if stream else None,
        p50_ms=percentile(run.latencies, 0.50) * 1000,
        p99_ms=percentile(run.latencies, 0.99) * 1000,
        server_cpu_s=cpu,
        server_busy=cpu / run.seconds,
        server_waited=waited / run.seconds,
        cpu_us_per_req=cpu / done * 1e6,
        cpu_us_per_chunk=cpu / run.chunks * 1e6 if stream and run.chunks else None,
        client_cpu_us_per_req=own / done * 1e6,
    )


# -- report ----------------------------------------------------------------------------------


def median_of(rounds: list[Measurement]) -> Measurement:
    """Each figure's median over the rounds (a figure, not a round, so noise spreads evenly)."""
    if len(rounds) == 1:
        return rounds[0]
    first = asdict(rounds[0])
    out: dict[str, Any] = {}
    for key, value in first.items():
        values = [asdict(r)[key] for r in rounds]
        if isinstance(value, int | float) and None not in values:
            out[key] = statistics.median(values)
        else:
            out[key] = value
    return Measurement(**out)


def ratios(results: dict[str, dict[str, Measurement]]) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    base, prov = results.get("baseline", {}), results.get("provider", {})
    for workload in WORKLOADS:
        if workload not in base or workload not in prov:
            continue
        b, p = base[workload], prov[workload]
        out[f"{workload}_cpu_per_req"] = b.cpu_us_per_req / p.cpu_us_per_req if p.cpu_us_per_req else None
        if b.cpu_us_per_chunk is not None and p.cpu_us_per_chunk:
            out[f"{workload}_cpu_per_chunk"] = b.cpu_us_per_chunk / p.cpu_us_per_chunk
    return out


def replay_ratios(results: dict[str, dict[str, Measurement]]) -> dict[str, float]:
    """Replay CPU per request over the generating provider's, per workload (goal <= 1.2)."""
    prov, rep = results.get("provider", {}), results.get("replay", {})
    return {
        w: rep[w].cpu_us_per_req / prov[w].cpu_us_per_req
        for w in WORKLOADS
        if w in prov and w in rep and prov[w].cpu_us_per_req
    }


def paired_ratios(measurements: Sequence[Measurement], rounds: int) -> dict[str, float]:
    """Median over rounds of each round's own ratio: the two servers of a round run back to back,
    so slow drifts in the machine's load cancel out better than in the ratio of medians."""
    out: dict[str, float] = {}
    per_round = len(measurements) // rounds if rounds else 0
    for workload in WORKLOADS:
        values = []
        for r in range(rounds):
            ms = measurements[r * per_round : (r + 1) * per_round]
            b = next((m for m in ms if m.target == "baseline" and m.workload == workload), None)
            p = next((m for m in ms if m.target == "provider" and m.workload == workload), None)
            if b is not None and p is not None and p.cpu_us_per_req:
                values.append(b.cpu_us_per_req / p.cpu_us_per_req)
        if values:
            out[f"{workload}_cpu_per_req"] = statistics.median(values)
    return out


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def print_table(results: dict[str, dict[str, Measurement]], ratio: dict[str, float | None]) -> None:
    cols = (
        "workload",
        "server",
        "requests",
        "req/s",
        "chunks/s",
        "p50 ms",
        "p99 ms",
        "CPU µs/req",
        "CPU µs/chunk",
        "core0 busy",
        "waited",
        "client µs/req",
        "errors",
    )
    rows = []
    for workload in WORKLOADS:
        for target in (*TARGETS, "replay"):
            m = results.get(target, {}).get(workload)
            if m is None:
                continue
            rows.append(
                (
                    workload,
                    target,
                    f"{m.requests:.0f}",
                    f"{m.req_per_s:.0f}",
                    _fmt(m.chunks_per_s, ".0f"),
                    f"{m.p50_ms:.2f}",
                    f"{m.p99_ms:.2f}",
                    f"{m.cpu_us_per_req:.0f}",
                    _fmt(m.cpu_us_per_chunk, ".1f"),
                    f"{m.server_busy:.0%}",
                    f"{m.server_waited:.0%}",
                    f"{m.client_cpu_us_per_req:.0f}",
                    f"{m.errors:.0f}",
                )
            )
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(cols)]
    print("  ".join(c.rjust(w) for c, w in zip(cols, widths, strict=True)))
    for r in rows:
        print("  ".join(v.rjust(w) for v, w in zip(r, widths, strict=True)))
    print()
    for name, value in ratio.items():
        verdict = "-" if value is None else ("ok" if value >= TARGET_RATIO else "BELOW TARGET")
        label = name.replace("_", " ")
        print(f"baseline/provider {label}: {_fmt(value, '.2f')}  (target >= {TARGET_RATIO}: {verdict})")


# -- main ------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--requests", type=int, help="requests per measurement (default 100000; --quick 2000)")
    p.add_argument("--seconds", type=float, help="time limit per measurement (default 5; --quick 2)")
    p.add_argument("--warmup", type=int, help="warm-up requests before each measurement (default 300)")
    p.add_argument("--concurrency", type=int, default=50, help="concurrent workers (default 50)")
    p.add_argument("--rounds", type=int, default=1, help="repeat everything; report medians (default 1)")
    p.add_argument("--quick", action="store_true", help="a short smoke run")
    p.add_argument("--only", choices=TARGETS, help="measure one server only (no ratio)")
    p.add_argument("--workload", choices=WORKLOADS, action="append", help="repeatable (default: all)")
    p.add_argument("--json", type=Path, metavar="FILE", help="also write the figures as JSON")
    p.add_argument(
        "--replay",
        action="store_true",
        help="also measure the provider answering the OpenAI workloads from a cassette",
    )
    p.add_argument(
        "--provider-cmd",
        metavar="CMD",
        help="start the provider with this command line instead (it must print `listening on URL`)",
    )
    return p.parse_args(argv)


def settings_from(args: argparse.Namespace) -> Settings:
    quick = args.quick
    return Settings(
        requests=args.requests or (2000 if quick else 100_000),
        seconds=args.seconds or (2.0 if quick else 5.0),
        warmup_requests=args.warmup if args.warmup is not None else (100 if quick else 300),
        warmup_seconds=3.0 if quick else 5.0,
        concurrency=args.concurrency,
        rounds=max(1, args.rounds),
    )


def pin_client() -> bool:
    if len(os.sched_getaffinity(0)) < 2 or (os.cpu_count() or 1) < 2:
        print("warning: fewer than 2 cores; client and server share one", file=sys.stderr)
        return False
    os.sched_setaffinity(0, {CLIENT_CORE})
    return True


def on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run(
    settings: Settings,
    targets: Sequence[str],
    workloads: Sequence[str],
    provider_cmd: str | None = None,
    cassette: Path | None = None,
) -> list[Measurement]:
    """Every round, every server (one at a time), every workload; servers always stopped."""
    out: list[Measurement] = []
    for r in range(settings.rounds):
        for target in targets:
            server = make_server(target, provider_cmd, cassette)
            try:
                server.start()
                for workload in workloads:
                    if target == "replay" and workload not in REPLAY_WORKLOADS:
                        continue
                    print(f"  round {r + 1} {target} {workload} ...", file=sys.stderr, flush=True)
                    out.append(asyncio.run(measure(server, workload, settings)))
            finally:
                server.stop()
    return out


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    settings = settings_from(args)
    targets: tuple[str, ...] = (args.only,) if args.only else TARGETS
    workloads = tuple(dict.fromkeys(args.workload or WORKLOADS))
    cassette_dir = tempfile.TemporaryDirectory(prefix="bench-cassette-") if args.replay else None
    cassette = None if cassette_dir is None else Path(cassette_dir.name)
    if cassette is not None:
        targets = (*targets, "replay")
        print("  taping the replay cassette ...", file=sys.stderr, flush=True)
        make_cassette(cassette, [w for w in workloads if w in REPLAY_WORKLOADS])
    signal.signal(signal.SIGTERM, on_sigterm)
    # Even when started in the background with SIGINT ignored: Ctrl-C must stop the servers.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    pinned = pin_client()
    try:
        measurements = run(settings, targets, workloads, args.provider_cmd, cassette)
    except KeyboardInterrupt:
        print("interrupted; servers stopped", file=sys.stderr)
        return 130
    except RuntimeError as e:
        print(f"provider_throughput: {e}", file=sys.stderr)
        return 1
    finally:
        if cassette_dir is not None:
            cassette_dir.cleanup()
    results: dict[str, dict[str, Measurement]] = {}
    for target in targets:
        for workload in workloads:
            rounds = [m for m in measurements if m.target == target and m.workload == workload]
            if rounds:
                results.setdefault(target, {})[workload] = median_of(rounds)
    ratio = ratios(results)
    print(
        f"provider throughput: {settings.requests} requests or {settings.seconds:g} s per measurement, "
        f"{settings.concurrency} workers, {settings.rounds} round(s), server on core {SERVER_CORE}, "
        f"client on core {CLIENT_CORE if pinned else '(unpinned)'}"
    )
    print_table(results, ratio)
    replayed = replay_ratios(results)
    for workload, value in replayed.items():
        verdict = "ok" if value <= REPLAY_GOAL else "ABOVE GOAL"
        print(f"replay/generated {workload} cpu per req: {value:.2f}  (goal <= {REPLAY_GOAL}: {verdict})")
    paired = paired_ratios(measurements, settings.rounds) if len(targets) == 2 else {}
    if settings.rounds > 1:
        for name, value in paired.items():
            label = name.replace("_", " ")
            print(f"  median of the {settings.rounds} rounds' own ratios, {label}: {value:.2f}")
    if args.json is not None:
        doc = {
            "settings": asdict(settings),
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "pinned": pinned},
            "results": {t: {w: asdict(m) for w, m in ws.items()} for t, ws in results.items()},
            "rounds": [asdict(m) for m in measurements],
            "ratios": ratio,
            "replay_ratios": replayed,
            "paired_ratios": paired,
            "target_ratio": TARGET_RATIO,
        }
        args.json.write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
