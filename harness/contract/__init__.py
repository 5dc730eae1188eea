"""Contract clauses: every module in this package registers one (see `base`), except `base`
itself and `evaluate` (the contract's verdicts on a run)."""

from __future__ import annotations

import importlib
import pkgutil

from harness.contract.base import REGISTRY, Clause, ClauseParams, ClauseResult, register

for _info in pkgutil.iter_modules(__path__):
    if not _info.name.startswith("_") and _info.name not in ("base", "evaluate"):
        importlib.import_module(f"{__name__}.{_info.name}")

__all__ = ["REGISTRY", "Clause", "ClauseParams", "ClauseResult", "register"]
