"""Toxiproxy throughput: what a proxy with no toxics costs next to a direct connection.

Three processes over loopback: an upstream server (asyncio, this file with `--serve`), the
proxy server (`rehearse toxiproxy --port 0`, or any running Toxiproxy given by `--url`) and
the client here (blocking sockets, one kept-alive connection per measurement). Each request is
64 bytes naming how many bytes the upstream answers with. In rounds, the same run measures each
workload directly against the upstream and through a proxy with no toxic, back to back (which
goes first alternates):

- transfers: 1 MiB answers back to back for `--seconds`; bytes/s. Target: proxied / direct >= 0.5.
- pairs: 64-byte answers, one at a time; latency per pair, p50 and p99 (linear interpolation
  over all samples). Target: added p99 (proxied p99 - direct p99) <= 1 ms.

    python bench/toxiproxy_throughput.py [--quick] [--rounds N] [--url URL] [--json FILE]

Exit status 0 when both targets hold.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import socket
import statistics
import struct
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

REQUEST = struct.Struct("!I60x")  # 64 bytes: the size of the answer wanted
MIB = 1 << 20
TARGET_THROUGHPUT_RATIO = 0.5
TARGET_ADDED_P99_MS = 1.0


# The upstream ---------------------------------------------------------------------------


class _Answer(asyncio.Protocol):
    BODY = memoryview(bytes(MIB))

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.pending = b""

    def data_received(self, data: bytes) -> None:
        data = self.pending + data
        whole = len(data) - len(data) % REQUEST.size
        for offset in range(0, whole, REQUEST.size):
            (size,) = REQUEST.unpack_from(data, offset)
            self.transport.write(self.BODY[:size])
        self.pending = data[whole:]


async def _serve() -> None:
    server = await asyncio.get_running_loop().create_server(_Answer, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await asyncio.Event().wait()


# The client -----------------------------------------------------------------------------


def _dial(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _ask(sock: socket.socket, size: int, buf: memoryview) -> None:
    sock.sendall(REQUEST.pack(size))
    got = 0
    while got < size:
        n = sock.recv_into(buf, min(size - got, len(buf)))
        if not n:
            raise ConnectionError("the connection closed mid-answer")
        got += n


def transfers(port: int, seconds: float) -> float:
    """Bytes per second of 1 MiB answers back to back on one connection for `seconds`."""
    buf = memoryview(bytearray(MIB))
    with _dial(port) as sock:
        for _ in range(10):  # warm-up
            _ask(sock, MIB, buf)
        count = 0
        start = time.perf_counter()
        deadline = start + seconds
        while (now := time.perf_counter()) < deadline or count < 10:
            _ask(sock, MIB, buf)
            count += 1
        return count * MIB / (now - start)


def pairs(port: int, count: int) -> list[float]:
    """Seconds per 64-byte request/answer pair, `count` of them one after another."""
    buf = memoryview(bytearray(64))
    samples = []
    with _dial(port) as sock:
        for _ in range(200):  # warm-up
            _ask(sock, 64, buf)
        for _ in range(count):
            start = time.perf_counter()
            _ask(sock, 64, buf)
            samples.append(time.perf_counter() - start)
    return samples


def percentile(samples: Sequence[float], q: float) -> float:
    ordered = sorted(samples)
    k = (len(ordered) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


# Orchestration --------------------------------------------------------------------------


@dataclass
class Round:
    direct_mib_s: float
    proxied_mib_s: float
    direct_p50_us: float
    direct_p99_us: float
    proxied_p50_us: float
    proxied_p99_us: float
    stolen: float  # share of the machine's CPU time the hypervisor gave to others (Linux "steal")


def _cpu_ticks() -> list[int]:
    """The machine's CPU time counters (`/proc/stat`), or [] where there are none."""
    try:
        with open("/proc/stat") as f:
            return [int(v) for v in f.readline().split()[1:]]
    except (OSError, ValueError):
        return []


def _stolen_share(before: list[int], after: list[int]) -> float:
    """Steal ticks over all ticks between two readings: how busy the host around this VM was."""
    if len(before) < 8 or len(after) < 8:
        return 0.0
    total = sum(after) - sum(before)
    return (after[7] - before[7]) / total if total > 0 else 0.0


def _start(cmd: list[str]) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        proc.kill()
        raise SystemExit(f"{' '.join(cmd)} did not start")
    return proc, line.strip()


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: no HTTP proxy
PROXY_NAME = f"bench-{os.getpid()}"


def _create_proxy(url: str, upstream_port: int) -> int:
    body = json.dumps({"name": PROXY_NAME, "upstream": f"127.0.0.1:{upstream_port}", "listen": "127.0.0.1:0"})
    req = urllib.request.Request(url + "/proxies", data=body.encode(), method="POST")
    with _opener.open(req, timeout=10) as resp:
        listen = json.load(resp)["listen"]
    return int(listen.rsplit(":", 1)[1])


def _delete_proxy(url: str) -> None:
    req = urllib.request.Request(f"{url}/proxies/{PROXY_NAME}", method="DELETE")
    with contextlib.suppress(OSError), _opener.open(req, timeout=10):
        pass


def run(args: argparse.Namespace) -> list[Round]:
    upstream, port_line = _start([sys.executable, __file__, "--serve"])
    proxy_proc = None
    url = args.url
    try:
        if url is None:
            cmd = [sys.executable, "-m", "harness.cli", "toxiproxy", "--port", "0"]
            proxy_proc, line = _start(cmd)
            url = line.removeprefix("listening on ")
        url = url.rstrip("/")
        direct_port = int(port_line)
        proxy_port = _create_proxy(url, direct_port)
        rounds = []
        for r in range(args.rounds):
            # Alternate which goes first, so a drift in the machine's load hits both alike.
            order = [("direct", direct_port), ("proxied", proxy_port)]
            if r % 2:
                order.reverse()
            rates: dict[str, float] = {}
            lat: dict[str, list[float]] = {}
            before = _cpu_ticks()
            # Each workload back to back for both paths: the ratio compares like moments.
            for name, port in order:
                rates[name] = transfers(port, args.seconds)
            for name, port in order:
                lat[name] = pairs(port, args.pairs)
            stolen = _stolen_share(before, _cpu_ticks())
            rounds.append(
                Round(
                    direct_mib_s=rates["direct"] / MIB,
                    proxied_mib_s=rates["proxied"] / MIB,
                    direct_p50_us=percentile(lat["direct"], 0.5) * 1e6,
                    direct_p99_us=percentile(lat["direct"], 0.99) * 1e6,
                    proxied_p50_us=percentile(lat["proxied"], 0.5) * 1e6,
                    proxied_p99_us=percentile(lat["proxied"], 0.99) * 1e6,
                    stolen=stolen,
                )
            )
        return rounds
    finally:
        if proxy_proc is not None:
            _stop(proxy_proc)
        elif url is not None:
            _delete_proxy(url)  # someone else's server: leave it as found
        _stop(upstream)


def report(rounds: list[Round]) -> dict[str, Any]:
    def med(field: str) -> float:
        return float(statistics.median(getattr(r, field) for r in rounds))

    figures = {f: med(f) for f in Round.__dataclass_fields__}
    ratio = statistics.median(r.proxied_mib_s / r.direct_mib_s for r in rounds)
    added_p50 = statistics.median(r.proxied_p50_us - r.direct_p50_us for r in rounds) / 1000
    added_p99 = statistics.median(r.proxied_p99_us - r.direct_p99_us for r in rounds) / 1000
    print(f"{'path':<10}{'MiB/s':>10}{'pair p50 µs':>14}{'pair p99 µs':>14}")
    print(
        f"{'direct':<10}{figures['direct_mib_s']:>10.1f}"
        f"{figures['direct_p50_us']:>14.1f}{figures['direct_p99_us']:>14.1f}"
    )
    print(
        f"{'proxied':<10}{figures['proxied_mib_s']:>10.1f}"
        f"{figures['proxied_p50_us']:>14.1f}{figures['proxied_p99_us']:>14.1f}"
    )
    stolen = max(r.stolen for r in rounds)
    print(
        f"host steal: median {figures['stolen']:.1%}, worst round {stolen:.1%} of CPU time "
        "(a busy host makes both paths noisy; the proxied one, three processes on the cores, most)"
    )
    ok_ratio = ratio >= TARGET_THROUGHPUT_RATIO
    ok_p99 = added_p99 <= TARGET_ADDED_P99_MS
    verdict = {True: "ok", False: "MISS"}
    print(f"throughput proxied/direct: {ratio:.2f} (target >= {TARGET_THROUGHPUT_RATIO}) {verdict[ok_ratio]}")
    print(
        f"added latency p50: {added_p50:.3f} ms, p99: {added_p99:.3f} ms "
        f"(target p99 <= {TARGET_ADDED_P99_MS} ms) {verdict[ok_p99]}"
    )
    return {
        "medians": figures,
        "throughput_ratio": ratio,
        "added_p50_ms": added_p50,
        "added_p99_ms": added_p99,
        "targets": {"throughput_ratio": TARGET_THROUGHPUT_RATIO, "added_p99_ms": TARGET_ADDED_P99_MS},
        "ok": ok_ratio and ok_p99,
        "rounds": [asdict(r) for r in rounds],
    }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--rounds", type=int, default=9, help="alternating rounds (default 9)")
    p.add_argument(
        "--seconds", type=float, default=1.0, help="seconds per throughput measurement (default 1)"
    )
    p.add_argument("--pairs", type=int, default=5000, help="small pairs per measurement (default 5000)")
    p.add_argument("--quick", action="store_true", help="2 rounds, 0.5 s, 1000 pairs: a smoke run")
    p.add_argument("--url", help="measure this running Toxiproxy (e.g. a real toxiproxy-server) instead")
    p.add_argument("--json", type=Path, metavar="FILE", help="also write the figures as JSON")
    p.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.quick:
        args.rounds, args.seconds, args.pairs = 2, 0.5, 1000
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.serve:
        asyncio.run(_serve())
        return 0
    print(
        f"python {platform.python_version()}, {os.cpu_count()} CPUs, {args.rounds} rounds, "
        f"{args.seconds:g} s of 1 MiB answers, {args.pairs} pairs"
    )
    summary = report(run(args))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2))
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
