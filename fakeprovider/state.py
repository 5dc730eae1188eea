"""The provider's state: configuration, scenario in force, ledger, caches and counters."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from fakeprovider.accounting.ledger import Ledger
from fakeprovider.accounting.limits import Limiter
from fakeprovider.accounting.metrics import ProviderMetrics
from fakeprovider.accounting.prefix_cache import ExplicitCache, PrefixCache
from fakeprovider.catalogue.families import DEFAULT_CATALOGUE, Catalogue
from fakeprovider.clock import ScenarioClock
from fakeprovider.dialects.openai_responses.store import DEFAULT_MAX_RESPONSES, ResponseStore
from fakeprovider.generation.content import ContentPools
from fakeprovider.generation.rng import DigestRandom
from fakeprovider.replay.replayer import Replay, ReplayOptions
from fakeprovider.scenario import CompiledScenario, Scenario
from fakeprovider.scenario.engine import Engine
from fakeprovider.serving.pacing import Pacer

Latency = Literal["realistic", "none"]
MAX_BODY_BYTES = 8 * 1024 * 1024
MAX_ATTEMPT_KEYS = 200_000
# With no hint of its own (no request id, idempotency key or SDK retry count), a call with the
# same body as one at most this long before is taken for its retry; later, for a new request.
RETRY_WINDOW_S = 60.0


@dataclass(slots=True)
class ProviderConfig:
    host: str = "127.0.0.1"
    port: int = 8000
    seed: int = 0
    latency: Latency = "realistic"
    ledger_path: Path | None = None
    ledger_max_records: int = 100_000
    control_token: str | None = None
    max_body_bytes: int = MAX_BODY_BYTES
    responses_store_max: int = DEFAULT_MAX_RESPONSES  # Responses API: the newest N kept
    replay: ReplayOptions | None = None  # answer from this cassette (`--replay`)


class ProviderState:
    """Everything a request handler reads or updates; one per server."""

    def __init__(
        self,
        config: ProviderConfig,
        scenario: Scenario | None = None,
        scenario_source: str = "scenario",
        catalogue: Catalogue = DEFAULT_CATALOGUE,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        time_source: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.base_catalogue = catalogue
        self.sleep = sleep
        self.realistic = config.latency == "realistic"
        # Compile the scenario before opening anything, so a bad one leaks no file.
        self.scenario = CompiledScenario(scenario or Scenario(), catalogue, scenario_source)
        self.clock = ScenarioClock(time_source)
        self.engine = Engine(self.scenario.scenario.faults, self.seed, self.clock)
        self.limiter = Limiter(self.scenario.scenario.limits, time_source)
        # The cassette before the ledger file, so a bad one leaks no file.
        self.replay: Replay | None = None if config.replay is None else Replay(config.replay, self.realistic)
        self.ledger = Ledger(config.ledger_max_records, config.ledger_path)
        self.metrics = ProviderMetrics()
        self.prefix_cache = PrefixCache()
        self.explicit_cache = ExplicitCache()  # Anthropic's cache_control breakpoints
        self.responses = ResponseStore(config.responses_store_max)
        self._attempts: dict[str, tuple[int, float]] = {}  # key: (attempts so far, when the last came)
        self._time_source = time_source
        self.stopping = False  # set when the server begins to stop
        self.started_at = time.time()
        self.pools = ContentPools(self.seed)
        self._plan_key = self._plan_key_for(self.seed)
        self._plan_rng = DigestRandom()
        # Real time paces streams with one loop timer; an injected clock paces by sleeping.
        self._real_time = sleep is asyncio.sleep and time_source is time.monotonic
        self._pacer: Pacer | None = None

    @property
    def seed(self) -> int:
        s = self.scenario.scenario.seed
        return self.config.seed if s is None else s

    @property
    def catalogue(self) -> Catalogue:
        return self.scenario.catalogue

    def set_scenario(self, scenario: Scenario, source: str = "scenario") -> None:
        """Put `scenario` in force (validated first: on error the old one stays)."""
        compiled = CompiledScenario(scenario, self.base_catalogue, source)
        engine = Engine(
            scenario.faults, self.config.seed if scenario.seed is None else scenario.seed, self.clock
        )
        self.scenario = compiled
        self.engine = engine
        self._plan_key = self._plan_key_for(self.seed)
        self.limiter = Limiter(scenario.limits, self.clock.monotonic)
        if self.pools.seed != self.seed:
            self.pools = ContentPools(self.seed)
            if self.realistic:
                for encoding in ("o200k_base", "cl100k_base"):
                    self.pools.get(encoding)
        self.reset()

    def reset(self) -> None:
        """Back to the scenario in force: added rules dropped; ledger, hits, attempts, quotas,
        caches and stored responses cleared; a cassette back to its first recordings; the
        scenario clock restarted."""
        self.engine.reset()
        self.limiter.clear()
        self.ledger.clear()
        self.prefix_cache.clear()
        self.explicit_cache.clear()
        self.responses.clear()
        self._attempts.clear()
        if self.replay is not None:
            self.replay.rewind()
        self.clock.start()
        self.started_at = time.time()

    def set_replay(self, options: ReplayOptions | None) -> None:
        """Answer from another cassette (loaded first: on error the old one stays), or from
        none (`None`)."""
        self.replay = None if options is None else Replay(options, self.realistic)

    def next_attempt(self, key: str, *, new_request: bool = False, window_s: float | None = None) -> int:
        """The attempt number of a call of the request `key`: 1 when `new_request`, or when
        `window_s` is given and the last attempt came longer ago than that; else one more."""
        attempts = self._attempts
        now = self._time_source()
        last = attempts.get(key)
        if last is None or new_request or (window_s is not None and now - last[1] > window_s):
            n = 1
            if last is None and len(attempts) >= MAX_ATTEMPT_KEYS:
                # Forget the oldest tenth; dicts keep insertion order.
                for old in list(attempts)[: MAX_ATTEMPT_KEYS // 10]:
                    del attempts[old]
        else:
            n = last[0] + 1
        attempts[key] = (n, now)
        return n

    def request_seed(self, fingerprint: str) -> int:
        """The seed of one request's content: the server seed and the request body."""
        digest = hashlib.blake2b(f"{self.seed}:{fingerprint}".encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big")

    def pacer(self) -> Pacer | None:
        """The running loop's pacer, or None when time is injected (streams then sleep)."""
        if not self._real_time:
            return None
        loop = asyncio.get_running_loop()
        pacer = self._pacer
        if pacer is None or pacer.loop is not loop:
            pacer = self._pacer = Pacer(loop)
        return pacer

    def catch_up_pacing(self) -> None:
        """Write the paced chunks that are overdue (see `Pacer.catch_up`)."""
        if self._pacer is not None:
            self._pacer.catch_up()

    @staticmethod
    def _plan_key_for(seed: int) -> bytes:
        return f"plan:{seed}:".encode()

    def plan_rng(self, fingerprint: str) -> DigestRandom:
        """The generator of one request's plan, fixed by the server seed and the request body.
        One object re-keyed per request (a new one costs a 2.5 KB allocation for a Mersenne
        Twister state it never uses): draw from it before the next `await`, keep no reference."""
        rng = self._plan_rng
        rng.rekey(self._plan_key + fingerprint.encode())
        return rng
