"""The load generator's HTTP side: one aiohttp session, one `RequestRecord` per request.

Every request carries `X-Request-Id: rh-<run prefix>-<seq>`. Nothing is raised for a request
that fails: timeouts, refused connections and broken streams are recorded as the request's
`error`. Times are seconds from load start (`t0`) on the event loop's monotonic clock.
"""

from __future__ import annotations

import asyncio
import math
import secrets
from collections.abc import Callable

import aiohttp

from harness.experiment.templates import PreparedRequest, RequestFactory
from harness.load.records import PhaseLabels, read_response
from harness.record import PhaseWindow, RequestRecord

MAX_CONNECTIONS = 1000
MIN_CONNECTIONS = 100

OnRecord = Callable[[RequestRecord], None]


def connections_for(rate: float | None, concurrency: int | None, timeout_s: float) -> int:
    """Enough connections for the most requests that can be in flight, capped."""
    if concurrency is not None:
        return concurrency
    needed = math.ceil((rate or 0.0) * timeout_s)
    return max(MIN_CONNECTIONS, min(MAX_CONNECTIONS, needed))


class Client:
    """Sends prepared requests to one target and records each answer; use as `async with`."""

    def __init__(
        self,
        base_url: str,
        factory: RequestFactory,
        phases: list[PhaseWindow],
        *,
        stream: bool,
        timeout_s: float,
        connections: int,
        on_record: OnRecord | None = None,
    ) -> None:
        self.records: list[RequestRecord] = []
        self.inflight: set[asyncio.Task[None]] = set()
        self.launched = 0  # requests handed to `launch`
        self._open = True  # False once cancelled: a late timer sends nothing
        self._all_launched: tuple[int, asyncio.Future[None]] | None = None
        self.t0 = 0.0
        self._base = base_url.rstrip("/")
        self._factory = factory
        self._phase = PhaseLabels(phases)
        self._stream = stream
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._connections = connections
        self._on_record = on_record
        self._callback_error: BaseException | None = None
        self._id_prefix = f"rh-{secrets.token_hex(4)}-"
        self._loop = asyncio.get_running_loop()
        self._clock = self._loop.time
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Client:
        connector = aiohttp.TCPConnector(limit=self._connections, limit_per_host=0)
        # No cookie jar: each request stands alone, and the jar costs time per request.
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=self._timeout,
            cookie_jar=aiohttp.DummyCookieJar(),
            trust_env=False,
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()

    def start(self) -> None:
        """The load starts now: times are measured from here."""
        self.t0 = self._clock()

    def now(self) -> float:
        """Seconds since load start."""
        return self._clock() - self.t0

    def prepare(self, seq: int) -> PreparedRequest:
        """Request `seq`, rendered, with its `X-Request-Id`."""
        request = self._factory.make(seq)
        request.headers["X-Request-Id"] = self._id_prefix + str(seq)
        return request

    def record(self, seq: int, scheduled_s: float, request: PreparedRequest) -> RequestRecord:
        """The record of request `seq`, due at `scheduled_s`; `send` stamps when it went out."""
        record = RequestRecord(
            request.headers["X-Request-Id"], seq, self._phase(scheduled_s), scheduled_s, self.now()
        )
        self.records.append(record)
        return record

    def launch(self, seq: int, scheduled_s: float, request: PreparedRequest) -> None:
        """Send without waiting for the answer (open loop)."""
        self.launched += 1
        if self._all_launched is not None and self.launched >= self._all_launched[0]:
            if not self._all_launched[1].done():
                self._all_launched[1].set_result(None)
            self._all_launched = None
        if not self._open:
            return
        record = self.record(seq, scheduled_s, request)
        task = self._loop.create_task(self.send(record, request))
        self.inflight.add(task)
        task.add_done_callback(self.inflight.discard)

    async def launched_all(self, count: int) -> None:
        """Wait until `launch` has been called `count` times."""
        if self.launched < count:
            future = self._loop.create_future()
            self._all_launched = (count, future)
            await future

    async def send(self, record: RequestRecord, request: PreparedRequest) -> None:
        """Send one request and record its answer; only cancellation is raised."""
        record.sent_s = self._clock() - self.t0
        assert self._session is not None
        try:
            async with self._session.request(
                request.method, self._base + request.path, headers=request.headers, data=request.body
            ) as resp:
                await read_response(resp, record, self.now, stream=self._stream)
        except TimeoutError:
            record.error = "timeout"
        except aiohttp.ClientConnectorError as e:
            record.error = f"connect: {e}"
        except aiohttp.ClientError as e:
            record.error = f"read: {str(e) or type(e).__name__}"
        except asyncio.CancelledError:
            record.error = "cancelled"
            raise
        finally:
            record.end_s = self._clock() - self.t0
            self._done(record)

    def _done(self, record: RequestRecord) -> None:
        if self._on_record is None:
            return
        try:
            self._on_record(record)
        except Exception as e:  # raised again once the load is over, not lost in a task
            if self._callback_error is None:
                self._callback_error = e

    async def drain(self) -> None:
        """Wait for every request in flight to finish."""
        while self.inflight:
            await asyncio.wait(set(self.inflight))

    async def cancel(self) -> None:
        """Cancel every request in flight; each is recorded with error "cancelled"."""
        self._open = False
        for task in self.inflight:
            task.cancel()
        while self.inflight:
            await asyncio.wait(set(self.inflight))
        # A task cancelled before its first step never ran `send`'s handlers.
        for record in self.records:
            if record.end_s is None:
                record.error = "cancelled"
                record.end_s = self.now()
                self._done(record)

    def result(self) -> list[RequestRecord]:
        """The records in seq order; a failing `on_record` callback is raised here."""
        if self._callback_error is not None:
            raise self._callback_error
        self.records.sort(key=lambda r: r.seq)
        return self.records
