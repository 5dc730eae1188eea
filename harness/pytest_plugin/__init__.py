"""The rehearsal pytest plugin (entry point `pytest11: rehearsal`): a real fake provider for the
session, reset before each test; `run_experiment`; `toxiproxy`; the `rehearsal` marker.

Errors inside the provider are re-raised in the test that caused them. The provider and the
runner (the tokenizer alone takes about a second to load) are imported only by the fixtures
that need them, so a session that uses neither does not pay for them.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

import pytest

# Re-exported so that the entry point provides them: pytest finds fixtures by name in a plugin.
from harness.network.fixture import toxiproxy as toxiproxy
from harness.network.fixture import toxiproxy_server as toxiproxy_server

if TYPE_CHECKING:
    from harness.pytest_plugin.experiment import ExperimentReport, ExperimentRunner
    from harness.pytest_plugin.provider import FakeProviderHandle

__all__ = ["ExperimentReport", "ExperimentRunner", "FakeProviderHandle"]

LATENCIES = ("none", "realistic")
_RUNNING = pytest.StashKey[list["FakeProviderHandle"]]()
_LAZY = {
    "FakeProviderHandle": "harness.pytest_plugin.provider",
    "ExperimentRunner": "harness.pytest_plugin.experiment",
    "ExperimentReport": "harness.pytest_plugin.experiment",
}


def _quiet_import(module: str) -> Any:
    """Import `module`, which imports the tokenizer: bpe-openai reads its data through a
    deprecated importlib API as it is imported, which a suite's `filterwarnings = error` would
    turn into a collection error."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "open_binary is deprecated", DeprecationWarning)
        return importlib.import_module(module)


def __getattr__(name: str) -> Any:
    # The fixtures' types, for annotations (`from harness.pytest_plugin import FakeProviderHandle`),
    # imported only when asked for.
    if name in _LAZY:
        return getattr(_quiet_import(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("rehearsal", "rehearsal: fake LLM provider and experiments")
    group.addoption(
        "--rehearsal-latency",
        choices=LATENCIES,
        default=None,
        help="pacing of the session's fake provider: none (instant, the default) or realistic",
    )
    group.addoption(
        "--rehearsal-seed", type=int, default=None, help="seed of the session's fake provider (default 0)"
    )
    group.addoption(
        "--rehearsal-replay",
        default=None,
        metavar="DIR",
        help="a cassette the session's fake provider answers from (docs/replay.md)",
    )
    parser.addini("rehearsal_replay", "cassette directory the fake provider answers from", default="")
    parser.addini(
        "rehearsal_replay_miss",
        "a request no recording matches: generate (default) or error",
        default="generate",
    )
    parser.addini("rehearsal_latency", "fake provider pacing: none (default) or realistic", default="none")
    parser.addini("rehearsal_seed", "fake provider seed (default 0)", default="0")


def _latency(config: pytest.Config) -> Literal["none", "realistic"]:
    value = config.getoption("rehearsal_latency") or config.getini("rehearsal_latency")
    if value not in LATENCIES:
        raise pytest.UsageError(f"rehearsal_latency: expected one of {', '.join(LATENCIES)}, got {value!r}")
    return cast(Literal["none", "realistic"], value)


def _seed(config: pytest.Config) -> int:
    value = config.getoption("rehearsal_seed")
    if value is not None:
        return int(value)
    text = config.getini("rehearsal_seed")
    try:
        return int(text)
    except ValueError:
        raise pytest.UsageError(f"rehearsal_seed: expected an integer, got {text!r}") from None


def _replay(config: pytest.Config) -> tuple[Path | None, str]:
    """The session's cassette (relative to the rootdir) and what a miss does."""
    value = config.getoption("rehearsal_replay") or config.getini("rehearsal_replay")
    miss = config.getini("rehearsal_replay_miss")
    if miss not in ("generate", "error"):
        raise pytest.UsageError(f"rehearsal_replay_miss: expected generate or error, got {miss!r}")
    if not value:
        return None, miss
    path = Path(value)
    return (path if path.is_absolute() else config.rootpath / path), miss


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "rehearsal: a rehearsal of a route against the fake provider "
        "(tests that use run_experiment get it automatically)",
    )
    _latency(config)  # a bad ini value is refused before anything runs
    _seed(config)
    _replay(config)
    config.stash[_RUNNING] = []


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "run_experiment" in getattr(item, "fixturenames", ()):
            item.add_marker("rehearsal")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    """Fail the test with whatever the provider raised while it ran, even if the test passed
    (the service under test may have retried or fallen back past the provider's 500)."""
    __tracebackhide__ = True
    running = item.config.stash.get(_RUNNING, [])
    # Any test with the provider among its fixtures, also through a service fixture alone.
    if not running or "fake_provider_server" not in getattr(item, "fixturenames", ()):
        return (yield)
    from harness.pytest_plugin.server_errors import raise_errors

    handle = running[0]
    handle.errors.current_test = item.nodeid
    try:
        result = yield
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:
        # Raised here, the provider's error carries the test's own failure as its context.
        handle.check_ledger()
        raise_errors(handle.errors.take(), item.nodeid)
        raise
    handle.check_ledger()
    raise_errors(handle.errors.take(), item.nodeid)
    return result


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Stop any provider still running, after pytest's own teardown of what is left."""
    for handle in session.config.stash.get(_RUNNING, []):
        handle.stop()
    session.config.stash[_RUNNING] = []


@pytest.fixture(scope="session")
def fake_provider_server(pytestconfig: pytest.Config) -> Iterator[FakeProviderHandle]:
    """The session's fake provider, not reset: for session-scoped fixtures that need its URL
    (a service under test started once). Tests take `fake_provider`."""
    from harness.pytest_plugin.server_errors import raise_errors

    provider = _quiet_import("harness.pytest_plugin.provider")
    replay, miss = _replay(pytestconfig)
    server = _quiet_import("fakeprovider.server")
    try:
        handle = provider.FakeProviderHandle(
            latency=_latency(pytestconfig), seed=_seed(pytestconfig), replay=replay, replay_miss=miss
        ).start()
    except server.ServerError as e:
        raise pytest.UsageError(f"rehearsal: {e}") from None
    running = pytestconfig.stash[_RUNNING]
    running.append(handle)
    yield handle
    if handle.running:
        handle.check_ledger()
    handle.stop()
    running.remove(handle)
    raise_errors(handle.errors.take(), "the session")


@pytest.fixture
def fake_provider(
    fake_provider_server: FakeProviderHandle, request: pytest.FixtureRequest
) -> Iterator[FakeProviderHandle]:
    """The session's fake provider, reset: no faults, no scenario, empty ledger, clock at 0."""
    from harness.pytest_plugin.server_errors import raise_errors

    handle = fake_provider_server
    nodeid = request.node.nodeid
    handle.errors.current_test = None
    handle.reset()
    raise_errors(handle.errors.take(), nodeid)  # left by earlier tests, after they finished
    handle.errors.current_test = nodeid
    yield handle
    if handle.running:
        handle.check_ledger()
    errors = handle.errors.take()
    handle.errors.current_test = None
    raise_errors(errors, nodeid)


@pytest.fixture
def run_experiment(fake_provider: FakeProviderHandle, request: pytest.FixtureRequest) -> ExperimentRunner:
    """`run_experiment(path_or_dict, duration_s=..., target_url=...) -> ExperimentReport`."""
    experiment = _quiet_import("harness.pytest_plugin.experiment")
    runner: ExperimentRunner = experiment.ExperimentRunner(
        fake_provider, request.path.parent, request.node.nodeid
    )
    return runner
