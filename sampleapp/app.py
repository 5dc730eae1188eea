"""The sampleapp: its aiohttp application, and handles to run it in-process (async context
manager, or a thread for synchronous code) and from `rehearse sample-app`."""

from __future__ import annotations

import asyncio
import errno
import random
import signal
import socket
import sys
import threading
from collections.abc import Iterable
from types import TracebackType
from typing import Self

from aiohttp import web
from anthropic import AsyncAnthropic
from openai import AsyncOpenAI

from sampleapp import prompt
from sampleapp.answer import AnswerRoute
from sampleapp.ask import Ask
from sampleapp.chat import Chat
from sampleapp.config import AppConfig, ConfigSource, anthropic_base, api_base, config_from
from sampleapp.embed import Embed
from sampleapp.errors import SampleAppError
from sampleapp.extract import Extract
from sampleapp.flaws import Behaviour, Flaw, parse_flaws
from sampleapp.inbound import DEFAULT_TENANT, contract, echo_request_id, json_response
from sampleapp.llm import LLM
from sampleapp.policy import Policy
from sampleapp.summarize import Summarize
from sampleapp.warmup import warm_sdk

# How long a stop waits for requests in flight (a long stream) before cutting them.
SHUTDOWN_TIMEOUT_S = 0.5


def make_app(
    provider_url: str,
    config: ConfigSource = None,
    flaws: Iterable[str | Flaw] = (),
    *,
    seed: int | None = None,
) -> web.Application:
    """The application; one client per SDK (OpenAI, and Anthropic for `/ask`'s fallback) and
    one tokenizer for all its requests; neither SDK retries by itself, the policy does."""
    cfg = config_from(config)
    behaviour = Behaviour.of(flaws)
    client = AsyncOpenAI(base_url=api_base(provider_url), api_key=cfg.api_key, max_retries=0)
    anthropic_client = AsyncAnthropic(
        base_url=anthropic_base(provider_url), api_key=cfg.api_key, max_retries=0
    )
    llm = LLM(client, Policy(cfg, behaviour, rng=random.Random(seed)), anthropic_client)
    # Primary and fallback share a tokenizer family here; the primary's is the budget's.
    assembler = prompt.Assembler(cfg.primary_model, cap=behaviour.cap_tokens)
    routes = cfg.routes

    app = web.Application(middlewares=[contract])
    app[DEFAULT_TENANT] = cfg.default_tenant
    app.router.add_post("/summarize", Summarize(llm, routes.summarize, assembler).handle)
    app.router.add_post("/extract", Extract(llm, routes.extract, assembler).handle)
    app.router.add_post("/chat", Chat(llm, routes.chat, assembler).handle)
    app.router.add_post("/answer", AnswerRoute(llm, routes.answer, assembler).handle)
    app.router.add_post("/ask", Ask(llm, routes.ask, assembler).handle)
    app.router.add_post("/embed", Embed(llm, routes.embed).handle)
    app.router.add_get("/health", _health)
    app.on_response_prepare.append(echo_request_id)

    async def close_client(_: web.Application) -> None:
        await client.close()
        await anthropic_client.close()

    app.on_cleanup.append(close_client)
    return app


def _listen(host: str, port: int) -> socket.socket:
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        return socket.create_server((host, port), family=family, backlog=1024)
    except OSError as e:
        why = "the port is in use" if e.errno == errno.EADDRINUSE else e.strerror or str(e)
        raise SampleAppError(f"cannot listen on {host}:{port}: {why}") from None


async def _health(request: web.Request) -> web.Response:
    return json_response({"status": "ok"})


class SampleApp:
    """The sampleapp as an async context manager: `async with SampleApp(url) as app: app.url`."""

    def __init__(
        self,
        provider_url: str,
        config: ConfigSource = None,
        flaws: Iterable[str | Flaw] = (),
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int | None = None,
    ) -> None:
        # Validated now, so a bad config or flaw fails before anything listens.
        self.config: AppConfig = config_from(config)
        self.flaws = parse_flaws(flaws)
        api_base(provider_url)
        self.provider_url = provider_url
        self.host = host
        self.port = port
        self.seed = seed
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def start(self) -> None:
        # The port first: a taken port is refused before seconds of tokenizer loading.
        sock = _listen(self.host, self.port)
        try:
            c = self.config
            await asyncio.to_thread(prompt.warm, c.primary_model, c.fallback_model)
            await warm_sdk()
            app = make_app(self.provider_url, c, self.flaws, seed=self.seed)
            runner = web.AppRunner(
                app, handler_cancellation=True, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT_S
            )
            await runner.setup()
            await web.SockSite(runner, sock, backlog=1024).start()
        except BaseException:
            sock.close()
            raise
        self._runner = runner
        self.port = int(sock.getsockname()[1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()


class SampleAppThread:
    """The sampleapp on its own event loop in a daemon thread, for synchronous code."""

    def __init__(self, provider_url: str, *args: object, **kwargs: object) -> None:
        self.app = SampleApp(provider_url, *args, **kwargs)  # type: ignore[arg-type]
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._run, name="rehearsal-sampleapp", daemon=True)
        self._started = threading.Event()
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        return self.app.url

    def _run(self) -> None:
        loop = self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            try:
                loop.run_until_complete(self.app.start())
            except BaseException as e:
                self._error = e
                return
            finally:
                self._started.set()
            loop.run_forever()
            loop.run_until_complete(self.app.stop())
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.run_until_complete(loop.shutdown_default_executor())
            loop.close()

    def start(self) -> Self:
        self._thread.start()
        self._started.wait()
        if self._error is not None:
            self._thread.join(timeout=10)
            raise self._error
        return self

    def stop(self) -> None:
        """Stop the app and wait until its port is free."""
        loop = self._loop
        if self._thread.is_alive() and loop is not None:
            loop.call_soon_threadsafe(loop.stop)
            self._thread.join(timeout=10)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


async def serve_forever(app: SampleApp) -> None:
    """Run until SIGINT or SIGTERM, printing the `listening on` line first."""
    # Handlers go in before the `listening on` line, so a signal sent as soon as a supervisor
    # reads it still stops the app cleanly.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await app.start()
    print(f"listening on {app.url}", flush=True)
    try:
        await stop.wait()
    finally:
        await app.stop()
        print("stopped", file=sys.stderr, flush=True)
