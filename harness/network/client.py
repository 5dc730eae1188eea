"""The harness's Toxiproxy, wherever it is, and a `toxiproxy-python` client pointed at it.

Preference: the server `TOXIPROXY_URL` names; else a `toxiproxy-server` on PATH, started on a
free loopback port; else the embedded server, on a free loopback port, in a thread of this
process (pytest) or in its own process (`rehearse toxiproxy`, for load that needs the CPU).

toxiproxy-python keeps the API address in class attributes (`APIConsumer.host/port`), so every
client in a process talks to the server last pointed at; `client()` re-points it each time.
"""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any, Literal, Self

import toxiproxy  # type: ignore[import-untyped]

from harness import lifeline
from harness.network.errors import NetworkError
from harness.network.server import ToxiproxyServerThread
from harness.network.spec import ToxicSpec
from harness.procs import free_port

ENV_URL = "TOXIPROXY_URL"
SERVER_BINARY = "toxiproxy-server"
START_TIMEOUT_S = 10.0

Source = Literal["env", "binary", "embedded"]
Embedded = Literal["thread", "process"]

# Our own probes never go through an HTTP proxy from the environment: the API is loopback.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def split_url(url: str) -> tuple[str, int]:
    """`http://HOST:PORT` → (host, port), as toxiproxy-python needs them."""
    parsed = urllib.parse.urlsplit(url if "://" in url else f"http://{url}")
    if parsed.scheme != "http" or not parsed.hostname:
        raise NetworkError(
            f"Toxiproxy URL {url!r}: expected http://HOST:PORT (toxiproxy-python speaks plain HTTP)"
        )
    try:
        port = parsed.port or 8474
    except ValueError:
        raise NetworkError(f"Toxiproxy URL {url!r}: bad port") from None
    return parsed.hostname, port


def answers(url: str, timeout_s: float = 1.0) -> bool:
    """Whether a Toxiproxy API answers `GET /version` at `url`."""
    try:
        with _opener.open(url.rstrip("/") + "/version", timeout=timeout_s) as response:
            return bool(response.status == 200)
    except (OSError, urllib.error.URLError):
        return False


def toxiproxy_client(url: str) -> Any:
    """A `toxiproxy.Toxiproxy` pointed at `url` (process-wide: see the module docstring)."""
    host, port = split_url(url)
    client = toxiproxy.Toxiproxy()
    client.update_api_consumer(host, port)
    return client


class ToxiproxyService:
    """A running Toxiproxy for the harness: found (`TOXIPROXY_URL`) or started (binary, else
    embedded), and stopped again if this object started it. Use as a context manager."""

    def __init__(
        self,
        *,
        environ: Mapping[str, str] | None = None,
        binary: str | None = SERVER_BINARY,
        embedded: Embedded = "thread",
        start_timeout_s: float = START_TIMEOUT_S,
    ) -> None:
        """`binary=None` skips the PATH lookup (always embedded unless `TOXIPROXY_URL` is set)."""
        self._environ = os.environ if environ is None else environ
        self._binary = binary
        self._embedded = embedded
        self._timeout = start_timeout_s
        self._process: subprocess.Popen[bytes] | None = None
        self._thread: ToxiproxyServerThread | None = None
        self.url = ""
        self.source: Source | None = None

    def start(self) -> Self:
        env_url = self._environ.get(ENV_URL, "").strip()
        if env_url:
            split_url(env_url)
            if not answers(env_url, self._timeout):
                raise NetworkError(f"{ENV_URL}={env_url}: no Toxiproxy answers there (GET /version)")
            self.url, self.source = env_url.rstrip("/"), "env"
            return self
        path = shutil.which(self._binary) if self._binary else None
        if path is not None:
            self._start_binary(path)
        elif self._embedded == "process":
            self._start_process()
        else:
            self._thread = ToxiproxyServerThread("127.0.0.1", 0).start()
            self.url, self.source = self._thread.url, "embedded"
        return self

    def _start_process(self) -> None:
        cmd = [sys.executable, "-m", "harness.cli", "toxiproxy", "--host", "127.0.0.1", "--port", "0"]
        # stdin is its lifeline (held open, never written): it stops if this process dies.
        env = {**os.environ, **lifeline.child_env()}
        process = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env
        )
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], self._timeout)
        line = process.stdout.readline().decode() if ready else ""
        if not line.startswith("listening on "):
            _end(process)
            raise NetworkError(f"rehearse toxiproxy did not start within {self._timeout:g} s")
        self._process = process
        self.url, self.source = line.removeprefix("listening on ").strip(), "embedded"

    def _start_binary(self, path: str) -> None:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        process = subprocess.Popen(
            [path, "-host", "127.0.0.1", "-port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + self._timeout
        while not answers(url, 0.5):
            if process.poll() is not None or time.monotonic() > deadline:
                _end(process)
                raise NetworkError(f"{path} -port {port}: did not answer on {url} within {self._timeout:g} s")
            time.sleep(0.05)
        self._process = process
        self.url, self.source = url, "binary"

    def client(self) -> Any:
        """A `toxiproxy.Toxiproxy` pointed at this server."""
        if not self.url:
            raise NetworkError("the Toxiproxy service is not started")
        return toxiproxy_client(self.url)

    def stop(self) -> None:
        if self._process is not None:
            _end(self._process)
            self._process = None
        if self._thread is not None:
            self._thread.stop()
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def create_proxy(client: Any, name: str, upstream: str, listen: str = "127.0.0.1:0") -> Any:
    """A new proxy (`toxiproxy.Proxy`, `.listen` the bound address) in front of `upstream`."""
    return client.create(upstream=upstream, name=name, listen=listen)


def add_toxics(proxy: Any, specs: Sequence[ToxicSpec]) -> None:
    """Add toxics in order (the order they act in); toxiproxy-python raises on a refusal."""
    for spec in specs:
        proxy.add_toxic(**spec.to_api())


def remove_toxics(proxy: Any) -> None:
    for name in list(proxy.toxics()):
        proxy.destroy_toxic(name)


def _end(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
    for pipe in (process.stdin, process.stdout):
        if pipe is not None:
            pipe.close()
