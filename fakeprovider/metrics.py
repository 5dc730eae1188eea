"""Prometheus metrics of one provider server (its own registry, so servers never collide)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from fakeprovider.ledger import LedgerRecord

CONTENT_TYPE = CONTENT_TYPE_LATEST


class ProviderMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "rehearsal_provider_requests",
            "Provider calls by api, model, status and outcome.",
            ["api", "model", "status", "outcome"],
            registry=self.registry,
        )
        self.tokens = Counter(
            "rehearsal_provider_tokens",
            "Tokens billed, by api, model and kind (input, output, cached).",
            ["api", "model", "kind"],
            registry=self.registry,
        )
        self.cost = Counter(
            "rehearsal_provider_cost_usd",
            "Simulated spend in US dollars.",
            ["model", "route", "tenant"],
            registry=self.registry,
        )
        self.faults = Counter(
            "rehearsal_provider_faults",
            "Faults fired, by rule and kind.",
            ["rule", "kind"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "rehearsal_provider_request_duration_seconds",
            "Time from request to last byte.",
            ["api"],
            buckets=(0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
            registry=self.registry,
        )
        # Label lookups are the costly part; keep the children per label tuple.
        self._children: dict[tuple[str, ...], tuple[object, ...]] = {}

    def observe(self, r: LedgerRecord) -> None:
        model = r.model or ""
        key = (
            r.api,
            model,
            str(r.status),
            r.outcome,
            r.tags.get("route") or "",
            r.tags.get("tenant") or "",
        )
        children = self._children.get(key)
        if children is None:
            children = (
                self.requests.labels(r.api, model, key[2], r.outcome),
                self.tokens.labels(r.api, model, "input"),
                self.tokens.labels(r.api, model, "output"),
                self.tokens.labels(r.api, model, "cached"),
                self.cost.labels(model, key[4], key[5]),
                self.duration.labels(r.api),
            )
            if len(self._children) < 10_000:
                self._children[key] = children
        req, tin, tout, tcached, cost, duration = children
        req.inc()  # type: ignore[attr-defined]
        if r.input_tokens:
            tin.inc(r.input_tokens)  # type: ignore[attr-defined]
        if r.output_tokens:
            tout.inc(r.output_tokens)  # type: ignore[attr-defined]
        if r.cached_tokens:
            tcached.inc(r.cached_tokens)  # type: ignore[attr-defined]
        if r.cost_usd:
            cost.inc(r.cost_usd)  # type: ignore[attr-defined]
        duration.observe(r.duration_ms / 1000)  # type: ignore[attr-defined]
        if r.fault is not None:
            self.faults.labels(r.fault.get("rule", ""), r.fault.get("kind", "")).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
