"""The recorder's relay on real sockets: a scripted HTTP/1.1 upstream (asyncio streams, so a test
can close a kept-alive connection at the worst moment), the recorder in front, and callers on
raw sockets read by `http.client`, in threads so the event loop keeps serving both servers."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import http.client
import io
import ipaddress
import socket
import ssl
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from fakeprovider.replay import relay
from fakeprovider.replay.cassette import iter_exchanges
from fakeprovider.replay.recorder import Recorder

SSE = [b'data: {"n": %d}\n\n' % i for i in range(3)]


class Upstream:
    """An HTTP/1.1 server answering by path; it counts connections and can misbehave on purpose."""

    def __init__(self) -> None:
        self.connections = 0  # opened so far
        self.open = 0
        self.most_open = 0
        self.release = asyncio.Event()  # `/hold` answers once set
        self.held = 0  # `/hold` requests waiting for `release`
        self.two_held = asyncio.Event()
        self.gone = asyncio.Event()  # `/endless` saw its caller (the recorder) close
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0

    async def __aenter__(self) -> Upstream:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await _closed(self._writers)
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        self.connections += 1
        self.open += 1
        self.most_open = max(self.most_open, self.open)
        try:
            served = 0
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                method, path, _ = head.split(b"\r\n", 1)[0].decode().split(" ")
                headers = dict(
                    line.decode().lower().split(": ", 1) for line in head.split(b"\r\n")[1:] if line
                )
                await reader.readexactly(int(headers.get("content-length", "0")))
                served += 1
                if not await self._answer(method, path, served, writer):
                    return
        finally:
            self.open -= 1
            self._writers.discard(writer)
            writer.close()

    async def _answer(self, method: str, path: str, served: int, writer: asyncio.StreamWriter) -> bool:
        """Write the answer; False closes the connection."""
        if path in ("/stale", "/half") and served > 1:
            if path == "/half":
                writer.write(b"HTTP/1.1 200 OK\r\n")  # a byte came back: no retry
                await writer.drain()
            return False  # the kept-alive connection closed under the next request
        if path == "/hold":
            self.held += 1
            if self.held >= 2:
                self.two_held.set()
            await self.release.wait()
        if path == "/endless":
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
            )
            try:
                while True:
                    writer.write(b"%x\r\n%b\r\n" % (len(SSE[0]), SSE[0]))
                    await writer.drain()
                    await asyncio.sleep(0.02)
            except ConnectionError:
                self.gone.set()
                return False
        if path == "/chunked":
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
            )
            for event in SSE:
                writer.write(b"%x\r\n%b\r\n" % (len(event), event))
                await writer.drain()
            writer.write(b"0\r\n\r\n")
        elif path == "/garbage":
            writer.write(b"SMTP ready\r\n\r\n")
        elif path == "/101":
            writer.write(
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
            )
        elif path == "/204":
            writer.write(b"HTTP/1.1 204 No Content\r\nX-Kind: none\r\n\r\n")
        elif path == "/big":
            body = bytes(range(256)) * (16 * 1024)  # 4 MiB
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n")
            writer.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        else:
            body = b'{"path": "%s"}' % path.encode()
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Trace: t1\r\n")
            writer.write(b"Content-Length: %d\r\n\r\n" % len(body))
            if method != "HEAD":
                writer.write(body)
        await writer.drain()
        return True


async def _closed(writers: set[asyncio.StreamWriter]) -> None:
    """Every connection of a test server closed, and its socket released, before the loop ends."""
    for writer in list(writers):
        writer.close()
    await asyncio.gather(*(w.wait_closed() for w in list(writers)), return_exceptions=True)


@pytest.fixture
async def upstream() -> AsyncIterator[Upstream]:
    async with Upstream() as u:
        yield u


@pytest.fixture
def log() -> io.StringIO:
    return io.StringIO()


@pytest.fixture
async def recorder(upstream: Upstream, tmp_path: Path, log: io.StringIO) -> AsyncIterator[Recorder]:
    async with Recorder(f"http://127.0.0.1:{upstream.port}", tmp_path / "cassette", log=log) as r:
        yield r


def _get(connection: http.client.HTTPConnection, path: str, method: str = "GET") -> tuple[int, Any, bytes]:
    connection.request(method, path, body=b"{}" if method == "POST" else None)
    response = connection.getresponse()
    return response.status, response, response.read()


async def _call(recorder: Recorder, path: str, method: str = "GET") -> tuple[int, bytes]:
    def call() -> tuple[int, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", recorder.port, timeout=10)
        try:
            status, _, body = _get(connection, path, method)
            return status, body
        finally:
            connection.close()

    return await asyncio.to_thread(call)


async def test_the_callers_connection_stays_alive_across_chunked_and_sized_answers(
    upstream: Upstream, recorder: Recorder
) -> None:
    def calls() -> list[tuple[int, bool, bool, bytes]]:
        # One raw socket: a stray or missing end-of-answer byte would break the next answer.
        sock = socket.create_connection(("127.0.0.1", recorder.port), timeout=10)
        connection = http.client.HTTPConnection("127.0.0.1", recorder.port)
        connection.sock = sock
        seen: list[tuple[int, bool, bool, bytes]] = []
        try:
            for path in ("/chunked", "/sized", "/chunked", "/204", "/sized", "/sized"):
                method = "HEAD" if path == "/sized" and len(seen) == 4 else "POST"
                status, response, body = _get(connection, path, method)
                assert connection.sock is sock  # never reopened
                seen.append((status, bool(response.chunked), bool(response.will_close), body))
        finally:
            connection.close()
        return seen

    seen = await asyncio.to_thread(calls)
    stream = b"".join(SSE)
    sized = b'{"path": "/sized"}'
    assert seen == [
        (200, True, False, stream),
        (200, False, False, sized),
        (200, True, False, stream),
        (204, False, False, b""),
        (200, False, False, b""),  # HEAD: the length said, no body
        (200, False, False, sized),
    ]
    assert upstream.connections == 2  # the HEAD's connection is not reused: httptools expects its body
    await recorder.flush()
    assert len(list(iter_exchanges(recorder.cassette))) == 6


async def test_upstream_connections_are_kept_alive_and_reused(upstream: Upstream, recorder: Recorder) -> None:
    for path in ("/a", "/chunked", "/b", "/chunked"):
        status, _ = await _call(recorder, path, "POST")
        assert status == 200
    assert upstream.connections == 1


async def test_a_pooled_connection_the_upstream_closed_is_retried_once_on_a_fresh_one(
    upstream: Upstream, recorder: Recorder
) -> None:
    assert await _call(recorder, "/stale", "POST") == (200, b'{"path": "/stale"}')
    assert await _call(recorder, "/stale", "POST") == (200, b'{"path": "/stale"}')
    assert upstream.connections == 2
    await recorder.flush()
    assert [x.request.path for x in iter_exchanges(recorder.cassette)] == ["/stale", "/stale"]


async def test_an_answer_begun_then_cut_is_not_retried_but_a_502(
    upstream: Upstream, recorder: Recorder, log: io.StringIO
) -> None:
    assert (await _call(recorder, "/half"))[0] == 200
    status, body = await _call(recorder, "/half")
    assert status == 502
    assert b"upstream_unreachable" in body
    assert upstream.connections == 1  # no second try: the upstream had begun to answer
    assert "cannot reach the upstream" in log.getvalue()


async def test_callers_beyond_the_pool_cap_wait_for_a_connection(
    upstream: Upstream, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(relay, "MAX_UPSTREAM_CONNECTIONS", 2)
    async with Recorder(f"http://127.0.0.1:{upstream.port}", tmp_path / "c", log=io.StringIO()) as r:
        calls = [asyncio.create_task(_call(r, "/hold")) for _ in range(5)]
        await asyncio.wait_for(upstream.two_held.wait(), 5)
        await asyncio.sleep(0.2)  # time for a third connection, were the cap not kept
        assert (upstream.connections, upstream.open) == (2, 2)
        upstream.release.set()
        answers = await asyncio.gather(*calls)
    assert answers == [(200, b'{"path": "/hold"}')] * 5
    assert upstream.most_open == 2


async def test_a_caller_gone_midway_closes_the_upstream_connection_and_leaves_no_file(
    upstream: Upstream, recorder: Recorder
) -> None:
    def read_one_event_and_leave() -> bytes:
        sock = socket.create_connection(("127.0.0.1", recorder.port), timeout=10)
        with sock:
            sock.sendall(b"GET /endless HTTP/1.1\r\nHost: x\r\n\r\n")
            data = b""
            while SSE[0] not in data:
                data += sock.recv(4096)
        return data

    assert b"200 OK" in await asyncio.to_thread(read_one_event_and_leave)
    await asyncio.wait_for(upstream.gone.wait(), 5)  # the recorder let go of the upstream
    assert await _call(recorder, "/after") == (200, b'{"path": "/after"}')
    assert upstream.connections == 2  # the abandoned connection was not reused
    await recorder.flush()
    assert [x.request.path for x in iter_exchanges(recorder.cassette)] == ["/after"]


async def test_a_large_answer_to_a_slow_reader_arrives_whole(upstream: Upstream, recorder: Recorder) -> None:
    def slow_read() -> bytes:
        connection = http.client.HTTPConnection("127.0.0.1", recorder.port, timeout=10)
        try:
            connection.request("GET", "/big")
            response = connection.getresponse()
            parts = []
            while part := response.read(256 * 1024):
                parts.append(part)
                time.sleep(0.005)
            return b"".join(parts)
        finally:
            connection.close()

    assert await asyncio.to_thread(slow_read) == bytes(range(256)) * (16 * 1024)
    assert await _call(recorder, "/after") == (200, b'{"path": "/after"}')
    assert upstream.connections == 1  # paused and resumed, and still reusable


@pytest.mark.parametrize(
    ("path", "why"), [("/garbage", "not valid HTTP/1.1"), ("/101", "switched protocols")]
)
async def test_an_answer_the_relay_cannot_pass_on_is_a_502_saying_why(
    recorder: Recorder, log: io.StringIO, path: str, why: str
) -> None:
    status, body = await _call(recorder, path)
    assert status == 502
    assert why in body.decode()
    assert why in log.getvalue()


def _self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, made here (no network, no CA)."""
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


async def test_an_https_upstream_is_verified_and_relayed_over_tls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = _self_signed(tmp_path)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    async with Upstream() as plain:
        # TLS in front of the scripted upstream: an asyncio server that relays bytes to it.
        writers: set[asyncio.StreamWriter] = set()

        async def terminate(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", plain.port)
            writers.update((writer, up_writer))

            async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
                dst.close()

            with contextlib.suppress(ConnectionError, ssl.SSLError):
                await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

        server = await asyncio.start_server(terminate, "127.0.0.1", 0, ssl=server_context)
        port = server.sockets[0].getsockname()[1]
        try:
            untrusted = io.StringIO()
            async with Recorder(f"https://127.0.0.1:{port}", tmp_path / "a", log=untrusted) as r:
                status, body = await _call(r, "/chunked")
            assert status == 502
            assert b"CERTIFICATE_VERIFY_FAILED" in body
            default = ssl.create_default_context  # what relay.py calls: here trusting our certificate
            monkeypatch.setattr(ssl, "create_default_context", lambda: default(cafile=cert))
            async with Recorder(f"https://127.0.0.1:{port}", tmp_path / "b", log=io.StringIO()) as r:
                assert await _call(r, "/chunked") == (200, b"".join(SSE))
                assert await _call(r, "/sized") == (200, b'{"path": "/sized"}')
                await r.flush()
            assert plain.connections == 1  # the TLS connection kept alive and reused
            assert [x.request.path for x in iter_exchanges(tmp_path / "b")] == ["/chunked", "/sized"]
        finally:
            server.close()
            await _closed(writers)
            await server.wait_closed()
