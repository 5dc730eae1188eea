"""What a run's raw data means: percentiles, latency figures, and the join of the provider's
ledger to the requests the harness sent.

Pure functions of a `Run` (ARCHITECTURE, central idea 2): contract clauses and reports read the
same figures from here, so a verdict and the report that shows it never disagree. Import from
`harness.analysis`; the submodules only keep each computation in its own file.
"""

from __future__ import annotations

from harness.analysis.latency import (
    METRIC_DEFINITIONS,
    LatencySamples,
    answered,
    e2e_s,
    itl_s,
    latency_samples,
    output_tokens,
    phase_percentiles,
    ttft_s,
)
from harness.analysis.ledger import (
    Coverage,
    Join,
    Unit,
    join,
    phase_calls,
    provider_calls,
    unit_id,
    units,
)
from harness.analysis.phases import by_phase, load_origin, phase_at, phase_window_s, unknown_phase
from harness.analysis.quantiles import PERCENTILE_METHOD, percentile, percentiles

__all__ = [
    "METRIC_DEFINITIONS",
    "PERCENTILE_METHOD",
    "Coverage",
    "Join",
    "LatencySamples",
    "Unit",
    "answered",
    "by_phase",
    "e2e_s",
    "itl_s",
    "join",
    "latency_samples",
    "load_origin",
    "output_tokens",
    "percentile",
    "percentiles",
    "phase_at",
    "phase_calls",
    "phase_percentiles",
    "phase_window_s",
    "provider_calls",
    "ttft_s",
    "unit_id",
    "units",
    "unknown_phase",
]
