"""Starting and stopping the provider: in-process (async or thread-backed) and `rehearse serve`."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

from aiohttp import web
from pydantic import ValidationError

from fakeprovider.app import create_app
from fakeprovider.catalogue.families import DEFAULT_CATALOGUE
from fakeprovider.clock import VirtualTime
from fakeprovider.generation import tokens
from fakeprovider.replay.cassette import CassetteError
from fakeprovider.replay.replayer import ReplayOptions
from fakeprovider.resources import quiet_resource_errors
from fakeprovider.scenario import (
    CompiledScenario,
    Scenario,
    ScenarioError,
    format_validation_error,
    load_scenario,
    parse_scenario,
)
from fakeprovider.state import Latency, ProviderConfig, ProviderState
from fakeprovider.threaded import ServerThread, StartStop, listen_error
from fakeprovider.threaded import serve_forever as serve_forever  # `rehearse serve`

ENCODINGS = ("o200k_base", "cl100k_base")

# How long a stop waits for calls in flight (a hung or slow stream) before cutting them.
SHUTDOWN_TIMEOUT_S = 0.5
# A connection that sends no request (or only part of its headers) for this long is closed:
# idle and slow-header connections cannot pile up until the process runs out of descriptors.
IDLE_TIMEOUT_S = 30.0


class ServerError(RuntimeError):
    """The provider could not start (port in use, bad scenario, ...)."""


_SCENARIO_SUFFIXES = (".yaml", ".yml", ".json")


def _scenario_from(
    scenario: Scenario | Path | str | dict[str, object] | None,
) -> tuple[Scenario | None, str]:
    """A scenario given as a model, a file path, YAML/JSON text or a dict, validated."""
    if scenario is None or isinstance(scenario, Scenario):
        return scenario, "scenario"
    if isinstance(scenario, str) and "\n" not in scenario and scenario.endswith(_SCENARIO_SUFFIXES):
        # One line ending in .yaml is a file name, not a YAML document.
        scenario = Path(scenario)
    if isinstance(scenario, Path):
        return load_scenario(scenario), str(scenario)
    if isinstance(scenario, dict):
        try:
            return Scenario.model_validate(scenario), "scenario"
        except ValidationError as e:
            raise ScenarioError(f"scenario: {format_validation_error(e)}") from None
    return parse_scenario(scenario), "scenario"


def replay_options(
    replay: Path | str | ReplayOptions | None, miss: str = "generate", speed: float = 1.0
) -> ReplayOptions | None:
    """`replay` as options (a directory with `miss` and `speed`), validated: `CassetteError`."""
    if replay is None or isinstance(replay, ReplayOptions):
        return replay
    return ReplayOptions(Path(replay), miss, speed)  # type: ignore[arg-type]


class FakeProvider(StartStop):
    """The fake model server as an async context manager: `async with FakeProvider() as p: p.url`."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        seed: int = 0,
        latency: Latency = "realistic",
        scenario: Scenario | Path | str | dict[str, object] | None = None,
        ledger: Path | None = None,
        control_token: str | None = None,
        clock: VirtualTime | None = None,
        warm: bool | None = None,
        idle_timeout_s: float = IDLE_TIMEOUT_S,
        replay: Path | str | ReplayOptions | None = None,
        replay_miss: str = "generate",
        replay_speed: float = 1.0,
        sock: socket.socket | None = None,
    ) -> None:
        """`clock`: a virtual time source and sleep for tests (windows, quotas, pacing, holds).
        `warm`: build the content pools before listening (default: when realistic).
        `idle_timeout_s`: how long a connection may send nothing before it is closed.
        `replay`: a cassette directory to answer from (docs/replay.md), with what a miss does
        (`replay_miss`: "generate" or "error") and how much faster recorded timing plays.
        `sock`: a socket already bound and listening to serve on instead of `host:port` (a
        supervisor that binds it first knows the URL before the server has started)."""
        self._warm_first = latency == "realistic" if warm is None else warm
        self._idle_timeout_s = idle_timeout_s
        try:
            options = replay_options(replay, replay_miss, replay_speed)
        except CassetteError as e:
            raise ServerError(str(e)) from None
        config = ProviderConfig(
            host=host,
            port=port,
            seed=seed,
            latency=latency,
            ledger_path=ledger,
            control_token=control_token,
            replay=options,
        )
        try:
            parsed, source = _scenario_from(scenario)
            # Compiled once before the state exists, so a bad scenario never leaves the
            # ledger file open.
            CompiledScenario(parsed or Scenario(), DEFAULT_CATALOGUE, source)
            if clock is None:
                self.state = ProviderState(config, parsed, source)
            else:
                self.state = ProviderState(config, parsed, source, sleep=clock.sleep, time_source=clock)
        except (ScenarioError, CassetteError) as e:
            raise ServerError(str(e)) from None
        except OSError as e:
            raise ServerError(f"cannot open ledger file {ledger}: {e.strerror or e}") from None
        self._runner: web.AppRunner | None = None
        self._sock = sock
        self.host = host
        self.port = port

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def start(self) -> None:
        # The tokenizer loads once per process (about a second): always before listening, so a
        # first call is never held up by it (its fault windows are judged when it is parsed).
        # Content pools are per provider and cheaper: built first only when asked (`warm`).
        await asyncio.to_thread(self._warm if self._warm_first else self._load_encodings)
        runner = web.AppRunner(
            create_app(self.state),
            handler_cancellation=True,
            access_log=None,
            shutdown_timeout=SHUTDOWN_TIMEOUT_S,
            keepalive_timeout=self._idle_timeout_s,  # counted from the connection's start, too
        )
        await runner.setup()
        quiet_resource_errors(asyncio.get_running_loop())
        site: web.BaseSite = (
            web.TCPSite(runner, self.host, self.port, backlog=1024)
            if self._sock is None
            else web.SockSite(runner, self._sock, backlog=1024)
        )
        try:
            await site.start()
        except OSError as e:
            await runner.cleanup()
            self.state.ledger.close()
            raise ServerError(listen_error(e, self.host, self.port)) from None
        self._runner = runner
        sockname = runner.addresses[0]
        self.port = int(sockname[1])

    @staticmethod
    def _load_encodings() -> None:
        for name in ENCODINGS:
            tokens.encoding(name)

    def _warm(self) -> None:
        self._load_encodings()
        for name in ENCODINGS:
            self.state.pools.get(name)

    async def stop(self) -> None:
        self.state.stopping = True  # calls cut from here on were cut by us, not by their callers
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self.state.ledger.close()


class FakeProviderThread(ServerThread[FakeProvider]):
    """The fake model server on its own event loop in a daemon thread, for synchronous code."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(FakeProvider(**kwargs), "rehearsal-fakeprovider")  # type: ignore[arg-type]

    @property
    def provider(self) -> FakeProvider:
        return self.server

    @property
    def state(self) -> ProviderState:
        return self.server.state
