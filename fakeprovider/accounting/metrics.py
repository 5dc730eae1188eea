"""Prometheus metrics of one provider server (its own registry, so servers never collide).

The request path only adds to plain floats; the metric families are built when `/metrics` is
scraped, sample for sample as prometheus_client's own `Counter` and `Histogram` render them
(`_created` series included), at a fraction of their per-call cost (no locks, no wrappers).
"""

from __future__ import annotations

import math
import time
from bisect import bisect_left
from collections.abc import Iterator, Sequence

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client import metrics as _prometheus_metrics
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from fakeprovider.accounting.cardinality import BoundedValues
from fakeprovider.accounting.ledger import LedgerRecord

CONTENT_TYPE = CONTENT_TYPE_LATEST
Labels = tuple[str, ...]


def _created_series() -> bool:
    # prometheus_client's switch (PROMETHEUS_DISABLE_CREATED_SERIES, disable_created_metrics()).
    return bool(getattr(_prometheus_metrics, "_use_created", True))


class CounterFamily:
    """A labelled counter: one `[value, created]` cell per label tuple, in first-use order."""

    def __init__(self, name: str, documentation: str, labelnames: Sequence[str]) -> None:
        self.name = name
        self.documentation = documentation
        self.labelnames = tuple(labelnames)
        self.cells: dict[Labels, list[float]] = {}

    def cell(self, *labels: str) -> list[float]:
        found = self.cells.get(labels)
        if found is None:
            found = self.cells[labels] = [0.0, time.time()]
        return found

    def describe(self) -> Metric:
        return Metric(self.name, self.documentation, "counter")

    def collect(self) -> Metric:
        metric = self.describe()
        created = _created_series()
        for labels, (value, ts) in list(self.cells.items()):
            metric.add_sample(self.name + "_total", dict(zip(self.labelnames, labels, strict=True)), value)
            if created:
                metric.add_sample(self.name + "_created", dict(zip(self.labelnames, labels, strict=True)), ts)
        return metric


class HistogramCell:
    __slots__ = ("counts", "created", "sum")

    def __init__(self, n_buckets: int) -> None:
        self.counts = [0] * n_buckets
        self.sum = 0.0
        self.created = time.time()


class HistogramFamily:
    """A labelled histogram with fixed buckets (`+Inf` added), in first-use order."""

    def __init__(
        self, name: str, documentation: str, labelnames: Sequence[str], buckets: Sequence[float]
    ) -> None:
        self.name = name
        self.documentation = documentation
        self.labelnames = tuple(labelnames)
        bounds = [float(b) for b in buckets]
        if bounds[-1] != math.inf:
            bounds.append(math.inf)
        self.bounds = tuple(bounds)
        self._le = tuple(floatToGoString(b) for b in bounds)  # type: ignore[no-untyped-call]
        self.cells: dict[Labels, HistogramCell] = {}

    def cell(self, *labels: str) -> HistogramCell:
        found = self.cells.get(labels)
        if found is None:
            found = self.cells[labels] = HistogramCell(len(self.bounds))
        return found

    def observe(self, cell: HistogramCell, amount: float) -> None:
        cell.sum += amount
        # The first bucket whose bound is >= amount, as prometheus_client counts it.
        i = bisect_left(self.bounds, amount)
        if i < len(self.bounds):
            cell.counts[i] += 1

    def describe(self) -> Metric:
        return Metric(self.name, self.documentation, "histogram")

    def collect(self) -> Metric:
        metric = self.describe()
        created = _created_series()
        names = self.labelnames
        for labels, cell in list(self.cells.items()):
            series = list(zip(names, labels, strict=True))
            acc = 0.0
            for le, n in zip(self._le, list(cell.counts), strict=True):
                acc += n
                metric.add_sample(self.name + "_bucket", dict([*series, ("le", le)]), acc)
            metric.add_sample(self.name + "_count", dict(series), acc)
            metric.add_sample(self.name + "_sum", dict(series), cell.sum)
            if created:
                metric.add_sample(self.name + "_created", dict(series), cell.created)
        return metric


class ProviderMetrics(Collector):
    def __init__(self) -> None:
        self.requests = CounterFamily(
            "rehearsal_provider_requests",
            "Provider calls by api, model, status and outcome.",
            ["api", "model", "status", "outcome"],
        )
        self.tokens = CounterFamily(
            "rehearsal_provider_tokens",
            "Tokens billed, by api, model and kind (input, output, cached).",
            ["api", "model", "kind"],
        )
        self.cost = CounterFamily(
            "rehearsal_provider_cost_usd",
            "Simulated spend in US dollars.",
            ["model", "route", "tenant"],
        )
        self.faults = CounterFamily(
            "rehearsal_provider_faults",
            "Faults fired, by rule and kind.",
            ["rule", "kind"],
        )
        self.duration = HistogramFamily(
            "rehearsal_provider_request_duration_seconds",
            "Time from request to last byte.",
            ["api"],
            buckets=(0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
        )
        self._families = (self.requests, self.tokens, self.cost, self.faults, self.duration)
        # Label values a caller chooses, bounded (accounting/cardinality.py): a series per new
        # tenant would grow the scrape without end.
        self._route, self._tenant, self._model = BoundedValues(), BoundedValues(), BoundedValues()
        self.registry = CollectorRegistry(auto_describe=True)
        self.registry.register(self)
        self._duration_bounds = self.duration.bounds
        # One lookup per call: the cells a call's labels update, made together on first use.
        self._cells: dict[
            tuple[str, str | None, int, str, str | None, str | None],
            tuple[list[float], list[float], list[float], list[float], list[float], HistogramCell],
        ] = {}

    def observe(self, r: LedgerRecord) -> None:
        tags = r.tags
        key = (
            r.api,
            self._model(r.model),
            r.status,
            r.outcome,
            self._route(tags.get("route")),
            self._tenant(tags.get("tenant")),
        )
        cells = self._cells.get(key)
        if cells is None:
            cells = self._new_cells(key)
        req, tin, tout, tcached, cost, duration = cells
        req[0] += 1
        tin[0] += r.input_tokens
        tout[0] += r.output_tokens
        tcached[0] += r.cached_tokens
        cost[0] += r.cost_usd
        # The histogram's observe, inlined (its bounds end with +Inf, so a bucket always fits).
        seconds = r.duration_ms / 1000
        duration.sum += seconds
        duration.counts[bisect_left(self._duration_bounds, seconds)] += 1
        if r.fault is not None:
            self.faults.cell(str(r.fault.get("rule", "")), str(r.fault.get("kind", "")))[0] += 1

    def _new_cells(
        self, key: tuple[str, str | None, int, str, str | None, str | None]
    ) -> tuple[list[float], list[float], list[float], list[float], list[float], HistogramCell]:
        api, model, status, outcome, route, tenant = key
        model = model or ""
        cells = (
            self.requests.cell(api, model, str(status), outcome),
            self.tokens.cell(api, model, "input"),
            self.tokens.cell(api, model, "output"),
            self.tokens.cell(api, model, "cached"),
            self.cost.cell(model, route or "", tenant or ""),
            self.duration.cell(api),
        )
        if len(self._cells) < 10_000:
            self._cells[key] = cells
        return cells

    def describe(self) -> Iterator[Metric]:
        return (f.describe() for f in self._families)

    def collect(self) -> Iterator[Metric]:
        return (f.collect() for f in self._families)

    def render(self) -> bytes:
        return generate_latest(self.registry)
