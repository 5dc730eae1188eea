"""End-to-end helpers: a real provider on a free port, official SDK clients, the ledger read back.

The server writes a call's ledger record when its handler ends, which for a stream or a cut
connection can be just after the client has seen the end; `Served.records` waits for them.
Clients skip TLS set-up (`verify=False`: plain HTTP on loopback), which costs ~50 ms each.
"""

from __future__ import annotations

import contextlib
import json
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

import anthropic
import httpx2
import openai

from fakeprovider import FakeProviderThread
from fakeprovider.accounting.ledger import LedgerRecord
from fakeprovider.clock import VirtualTime

GPT = "gpt-4o"
CLAUDE = "claude-sonnet-4"
HELLO: list[Any] = [{"role": "user", "content": "Say something, please."}]


@dataclass
class Served:
    provider: FakeProviderThread
    clock: VirtualTime | None
    _closers: list[Any] = field(default_factory=list)
    _http: httpx2.Client | None = None

    @property
    def url(self) -> str:
        return self.provider.url

    def openai(self, **kwargs: Any) -> openai.OpenAI:
        kwargs.setdefault("max_retries", 0)
        kwargs.setdefault("timeout", 10.0)
        kwargs.setdefault("http_client", openai.DefaultHttpxClient(verify=False))
        kwargs.setdefault("api_key", "sk-test")
        client = openai.OpenAI(base_url=self.url + "/v1", **kwargs)
        self._closers.append(client)
        return client

    def anthropic(self, **kwargs: Any) -> anthropic.Anthropic:
        kwargs.setdefault("max_retries", 0)
        kwargs.setdefault("timeout", 10.0)
        kwargs.setdefault("http_client", anthropic.DefaultHttpxClient(verify=False))
        kwargs.setdefault("api_key", "sk-ant-test")
        client = anthropic.Anthropic(base_url=self.url, **kwargs)
        self._closers.append(client)
        return client

    def http(self) -> httpx2.Client:
        """A raw HTTP client on the provider (for what the SDKs hide)."""
        if self._http is None:
            self._http = httpx2.Client(base_url=self.url, timeout=10.0, verify=False)
            self._closers.append(self._http)
        return self._http

    def records(self, n: int | None = None, timeout: float = 5.0) -> list[LedgerRecord]:
        """The ledger, once it holds at least `n` records (all records written so far if None).

        Read through `GET /control/ledger`, on the server's own loop, never racing its writes.
        """
        deadline = time.monotonic() + timeout
        while True:
            resp = self.control("GET", "/ledger")
            resp.raise_for_status()
            recs = [LedgerRecord(**r) for r in resp.json()["records"]]
            if n is None or len(recs) >= n or time.monotonic() > deadline:
                return recs
            time.sleep(0.005)

    def last(self) -> LedgerRecord:
        """The newest ledger record (waiting for the first one)."""
        return self.records(1)[-1]

    def control(self, method: str, path: str, **kwargs: Any) -> httpx2.Response:
        return self.http().request(method, "/control" + path, **kwargs)

    def close(self) -> None:
        for c in reversed(self._closers):
            c.close()


@contextlib.contextmanager
def serve(
    scenario: dict[str, Any] | str | None = None,
    *,
    clock: VirtualTime | None = None,
    seed: int = 0,
) -> Iterator[Served]:
    """A provider (instant latency) with `scenario`, stopped, and its clients closed, on exit."""
    with FakeProviderThread(latency="none", seed=seed, scenario=scenario, clock=clock) as p:
        served = Served(p, clock)
        try:
            yield served
        finally:
            served.close()


def faults(*rules: dict[str, Any], **scenario: Any) -> dict[str, Any]:
    """A scenario holding `rules` (each a rule, or just a fault given as `{kind: ...}`)."""
    return {**scenario, "faults": [r if "fault" in r else {"fault": r} for r in rules]}


def chat(client: openai.OpenAI, *, stream: bool = False, **kwargs: Any) -> Any:
    """One chat completion (a stream is read to the end and its chunks returned)."""
    kwargs.setdefault("model", GPT)
    kwargs.setdefault("messages", HELLO)
    if not stream:
        return client.chat.completions.create(**kwargs)
    return list(client.chat.completions.create(stream=True, **kwargs))


def message(client: anthropic.Anthropic, *, stream: bool = False, **kwargs: Any) -> Any:
    """One Anthropic message (a stream is read to the end and its events returned)."""
    kwargs.setdefault("model", CLAUDE)
    kwargs.setdefault("messages", HELLO)
    kwargs.setdefault("max_tokens", 256)
    if not stream:
        return client.messages.create(**kwargs)
    return list(client.messages.create(stream=True, **kwargs))


def is_connection_failure(err: BaseException) -> bool:
    """The SDK reported a failed connection: its `APIConnectionError` family, or the transport
    error itself (some anthropic releases let it out of a stream's iterator unwrapped).

    Which of the two a release raises is the SDK's choice; that the caller sees a connection
    failure, and not an answer or a status error, is ours.
    """
    return isinstance(err, openai.APIConnectionError | anthropic.APIConnectionError | httpx2.TransportError)


def caused_by(err: BaseException, kind: type[BaseException]) -> bool:
    """`kind` is somewhere in the chain of causes (explicit or implicit) of `err`."""
    cur: BaseException | None = err
    while cur is not None:
        if isinstance(cur, kind):
            return True
        cur = cur.__cause__ or cur.__context__
    return False


@dataclass(frozen=True, slots=True)
class WireEnd:
    """What a raw socket read of one answer received, and how the connection ended."""

    received: bytes
    ended: Literal["eof", "reset"]

    @property
    def body(self) -> bytes:
        return self.received.partition(b"\r\n\r\n")[2]

    @property
    def chunked_body_complete(self) -> bool:
        """The chunked body ends with its terminating zero-length chunk."""
        return self.body.endswith(b"0\r\n\r\n")


def read_to_end(url: str, path: str, payload: dict[str, Any], timeout: float = 10.0) -> WireEnd:
    """POST `payload` over a plain socket and read until the server closes or resets it."""
    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port or 0
    body = json.dumps(payload).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    received = b""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(head.encode() + body)
        try:
            while data := sock.recv(65536):
                received += data
        except ConnectionResetError:
            return WireEnd(received, "reset")
    return WireEnd(received, "eof")
