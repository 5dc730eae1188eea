"""The provider's state: configuration, scenario in force, ledger, caches and counters."""

from __future__ import annotations

import _random
import asyncio
import hashlib
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from fakeprovider.catalogue import DEFAULT_CATALOGUE, Catalogue
from fakeprovider.clock import ScenarioClock
from fakeprovider.content import ContentPools
from fakeprovider.engine import Engine
from fakeprovider.ledger import Ledger
from fakeprovider.limits import Limiter
from fakeprovider.metrics import ProviderMetrics
from fakeprovider.prefix_cache import PrefixCache
from fakeprovider.scenario import CompiledScenario, Scenario

# The C seeding alone, without `Random.seed`'s Python layer or a new object.
_reseed = _random.Random.seed

Latency = Literal["realistic", "none"]
MAX_BODY_BYTES = 8 * 1024 * 1024
MAX_ATTEMPT_KEYS = 200_000


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
        self.ledger = Ledger(config.ledger_max_records, config.ledger_path)
        self.metrics = ProviderMetrics()
        self.prefix_cache = PrefixCache()
        self._attempts: dict[str, int] = {}
        self.started_at = time.time()
        self.pools = ContentPools(self.seed)
        self._plan_rng = random.Random(0)

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
        self.limiter = Limiter(scenario.limits, self.clock.monotonic)
        if self.pools.seed != self.seed:
            self.pools = ContentPools(self.seed)
            if self.realistic:
                for encoding in ("o200k_base", "cl100k_base"):
                    self.pools.get(encoding)
        self.reset()

    def reset(self) -> None:
        """Back to the scenario in force: added rules dropped; ledger, hits, attempts, quotas
        and caches cleared; the scenario clock restarted."""
        self.engine.reset()
        self.limiter.clear()
        self.ledger.clear()
        self.prefix_cache.clear()
        self._attempts.clear()
        self.clock.start()
        self.started_at = time.time()

    def next_attempt(self, key: str) -> int:
        attempts = self._attempts
        n = attempts.get(key, 0) + 1
        if n == 1 and len(attempts) >= MAX_ATTEMPT_KEYS:
            # Forget the oldest tenth; dicts keep insertion order.
            for old in list(attempts)[: MAX_ATTEMPT_KEYS // 10]:
                del attempts[old]
        attempts[key] = n
        return n

    def request_seed(self, fingerprint: str) -> int:
        """The seed of one request's content: the server seed and the request body."""
        digest = hashlib.blake2b(f"{self.seed}:{fingerprint}".encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big")

    def plan_rng(self, fingerprint: str) -> random.Random:
        """The generator of one request's plan, in the state `random.Random(request_seed(...))`
        starts in. One shared object reseeded in place (about 0.8 µs less than a new one, of about
        5 µs, nearly all Mersenne Twister seeding): use it before the next `await` and keep no
        reference to it."""
        rng = self._plan_rng
        _reseed(rng, self.request_seed(fingerprint))
        rng.gauss_next = None  # type: ignore[attr-defined]  # as `Random.seed` leaves it
        return rng
