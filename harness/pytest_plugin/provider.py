"""The `fake_provider` fixture's value: one real provider for the session, driven through its
control API (the server runs on its own thread; the API is the thread-safe way in)."""

from __future__ import annotations

import time
import urllib.error
import urllib.parse
import urllib.request
import warnings
from pathlib import Path
from typing import Any

import orjson
from pydantic import ValidationError

from fakeprovider.accounting.ledger import LedgerRecord
from fakeprovider.generation import tokens
from fakeprovider.scenario import Scenario, ScenarioError, format_validation_error, load_scenario
from fakeprovider.scenario.rules import FaultRule
from fakeprovider.server import FakeProviderThread
from fakeprovider.state import Latency
from harness.errors import ProviderError
from harness.pytest_plugin.server_errors import ServerErrorLog, internal_errors

CONTROL_TIMEOUT_S = 10.0
ENCODINGS = ("o200k_base", "cl100k_base")
# Fields of a fault rule; any other keyword of `add_fault` is a parameter of the fault kind.
_RULE_FIELDS = frozenset(FaultRule.model_fields) - {"fault"}
# Loopback only, so proxies from the environment must not see these calls.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class FakeProviderHandle:
    """A fake OpenAI/Anthropic server on 127.0.0.1 and a free port, reset before each test."""

    def __init__(
        self,
        latency: Latency = "none",
        seed: int = 0,
        replay: Path | None = None,
        replay_miss: str = "generate",
    ) -> None:
        """`replay`: the session's cassette (`rehearsal_replay`), answered from in every test
        unless a test puts another with `use_replay`."""
        self.latency: Latency = latency
        self.seed = seed
        self._replay = (
            None if replay is None else {"directory": str(replay), "miss": replay_miss, "speed": 1.0}
        )
        self._replay_changed = False
        self._server = FakeProviderThread(latency=latency, seed=seed, replay=replay, replay_miss=replay_miss)
        self.errors = ServerErrorLog(None)
        self._last_seq = 0  # ledger records up to here were checked for internal errors

    @property
    def url(self) -> str:
        """The server's base URL (Anthropic SDKs take this one)."""
        return self._server.url

    @property
    def openai_base_url(self) -> str:
        """`url + "/v1"`, the `base_url` the OpenAI SDKs take."""
        return self._server.url + "/v1"

    def start(self) -> FakeProviderHandle:
        with warnings.catch_warnings():
            # bpe-openai reads its encodings through a deprecated importlib API: load them now,
            # where a suite's `filterwarnings = error` cannot turn that into a 500 mid-test.
            warnings.filterwarnings("ignore", "open_binary is deprecated", DeprecationWarning)
            for name in ENCODINGS:
                tokens.encoding(name)
        self._server.start()
        self.errors.thread_ident = self._server.thread.ident
        self.errors.attach()
        return self

    def stop(self) -> None:
        self._server.stop()
        self.errors.detach()

    @property
    def running(self) -> bool:
        return self._server.thread.is_alive()

    def _call(self, method: str, path: str, body: Any = None, ok: tuple[int, ...] = (200, 201)) -> Any:
        data = None if body is None else body if isinstance(body, bytes) else orjson.dumps(body)
        request = urllib.request.Request(self.url + path, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with _OPENER.open(request, timeout=CONTROL_TIMEOUT_S) as resp:
                status, payload = resp.status, resp.read()
        except urllib.error.HTTPError as e:
            with e:
                status, payload = e.code, e.read()
        except (OSError, TimeoutError) as e:
            raise ProviderError(f"fake provider at {self.url} did not answer {method} {path}: {e}") from None
        if status not in ok:
            text = payload.decode(errors="replace")
            raise ProviderError(f"fake provider {method} {path} answered {status}: {text}")
        return orjson.loads(payload) if payload else None

    def add_fault(self, rule: dict[str, Any] | FaultRule | str | None = None, /, **fields: Any) -> str:
        """Add a fault rule; return its name. Either a whole rule
        (`add_fault({"fault": {"kind": "http_error", "status": 503}, "match": {"model": "gpt-4o"}})`)
        or a kind and keywords (`add_fault("http_error", status=503, match={"model": "gpt-4o"})`)."""
        if isinstance(rule, str):
            params = {k: v for k, v in fields.items() if k not in _RULE_FIELDS}
            data: Any = {k: v for k, v in fields.items() if k in _RULE_FIELDS}
            data["fault"] = {"kind": rule, **params}
        elif fields:
            raise TypeError("add_fault: give a whole rule, or a fault kind and keywords, not both")
        else:
            data = rule
        if isinstance(data, FaultRule):
            parsed = data
        elif isinstance(data, dict):
            try:
                parsed = FaultRule.model_validate(data)
            except ValidationError as e:
                raise ScenarioError(f"fake_provider.add_fault: {format_validation_error(e)}") from None
        else:
            raise TypeError("add_fault: give a rule (a dict with `fault`) or a fault kind (a str)")
        added = self._call("POST", "/control/faults", parsed.model_dump(mode="json", exclude_none=True))
        return str(added["name"])

    def remove_fault(self, name: str) -> None:
        """Remove one fault rule by name; a name that is not there is an error."""
        self._call("DELETE", f"/control/faults/{urllib.parse.quote(name, safe='')}")

    def faults(self) -> list[dict[str, Any]]:
        """The rules in force, each with its `name` and `hits` so far."""
        faults: list[dict[str, Any]] = self._call("GET", "/control/faults")["faults"]
        return faults

    def ledger(self, *, at_least: int = 0, timeout_s: float = 2.0) -> list[LedgerRecord]:
        """Every call since the last reset. A stream's record is written just after its last
        byte, so `at_least` waits (up to `timeout_s`) for that many records."""
        deadline = time.monotonic() + timeout_s
        while True:
            records = self._records()
            if len(records) >= at_least:
                return [LedgerRecord(**r) for r in records]
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"fake_provider.ledger: {len(records)} records after {timeout_s:g} s, "
                    f"expected at least {at_least}"
                )
            time.sleep(0.01)

    def _records(self, since: int = 0) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        while True:
            page = self._call("GET", f"/control/ledger?since={since}&limit=5000")
            if not page["records"]:
                return records
            records.extend(page["records"])
            since = page["next"]

    def summary(self) -> dict[str, Any]:
        """Totals since the last reset, and by route, feature, tenant and model."""
        summary: dict[str, Any] = self._call("GET", "/control/summary")
        return summary

    def use_scenario(self, scenario: Scenario | dict[str, Any] | Path | str) -> None:
        """Put a scenario (model, dict, file or YAML text) in force until the next test; this
        resets the provider (ledger cleared)."""
        if isinstance(scenario, Path):
            scenario = load_scenario(scenario)
        if isinstance(scenario, Scenario):
            # Whole: without its defaults a fault would lose its `kind`.
            body: Any = scenario.model_dump(mode="json", by_alias=True)
        elif isinstance(scenario, str):
            body = scenario.encode()
        else:
            body = scenario
        self.check_ledger()
        self._call("PUT", "/control/scenario", body)

    def reset(self) -> None:
        """Back to a fresh server: no scenario, no faults; ledger, quotas and caches cleared;
        the scenario clock restarted; the session's cassette (if any) back, from its start."""
        if self._replay_changed:
            self._call("PUT", "/control/replay", self._replay)
            self._replay_changed = False
        self.use_scenario(Scenario())

    def use_replay(self, directory: Path | str | None, *, miss: str = "generate", speed: float = 1.0) -> None:
        """Answer from the cassette in `directory` until the next test (docs/replay.md): a request
        that matches a recording gets the recorded answer; a miss is generated, or with
        `miss="error"` refused with a 400 naming the nearest recording. `None`: no cassette."""
        body = (
            None
            if directory is None
            else {"directory": str(Path(directory).resolve()), "miss": miss, "speed": speed}
        )
        self._replay_changed = True
        self._call("PUT", "/control/replay", body)

    def replay_stats(self) -> dict[str, Any] | None:
        """The cassette in use (directory, recordings, miss, speed) and its hits and misses."""
        stats: dict[str, Any] | None = self._call("GET", "/control/replay")["replay"]
        return stats

    def check_ledger(self) -> None:
        """Keep the calls the provider answered with a bug of its own, to be raised in the test."""
        records = self._records(self._last_seq)
        if records:
            self._last_seq = int(records[-1]["seq"])
        for error in internal_errors(records):
            self.errors.add(error)
