"""The failure-probe library (`experiments/`) against the real sampleapp: every experiment holds
against the correct app, and every flaw switch is caught by the clause that exists to catch it.

Each run is `rehearse run` as a user runs it (a real process starting the fake provider and the
sampleapp as its own children), shortened with --time-scale rather than with other files. The
runs against the correct app are the README's main job (tests/main_job.py), run once.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.main_job import TIME_SCALE, journals

ROOT = Path(__file__).resolve().parents[2]
EXPERIMENTS = ROOT / "experiments"
PROBES = sorted(EXPERIMENTS.glob("*.yaml"))
RUN_TIMEOUT_S = 240

# flaw -> (the experiment that must catch it, the clauses that must fail there)
CAUGHT_BY: dict[str, tuple[str, set[str]]] = {
    "unbounded_retries": ("retry-storm.yaml", {"retries"}),
    "silent_fallback": ("provider-unavailable.yaml", {"no_silent_fallback", "degradation"}),
    "no_token_cap": ("over-budget-prompt.yaml", {"budget"}),
    "ignore_retry_after": ("rate-limit-storm.yaml", {"retry_after_respected"}),
    "no_attribution": ("attribution-audit.yaml", {"attribution"}),
    "no_request_id": ("attribution-audit.yaml", {"correlation"}),
    "no_breaker": ("circuit-breaker.yaml", {"breaker"}),
    "serves_truncated": ("truncated-stream.yaml", {"stream_integrity"}),
    "no_cache": ("response-cache.yaml", {"cache"}),
    "no_read_timeout": ("stalled-stream.yaml", {"error_rate", "goodput"}),
}
# More probes that catch a flaw besides the one above: each SPEC §10 clause has a probe that
# catches a flaw, and some flaws are caught by more than one.
ALSO_CAUGHT_BY: list[tuple[str, str, set[str]]] = [
    ("no_breaker", "retry-amplification.yaml", {"amplification"}),
    ("unbounded_retries", "goodput.yaml", {"goodput"}),
    ("silent_fallback", "cross-provider-failover.yaml", {"no_silent_fallback", "degradation"}),
]
CATCHES = [(flaw, probe, clauses) for flaw, (probe, clauses) in CAUGHT_BY.items()] + ALSO_CAUGHT_BY


def rehearse_run(tmp_path: Path, paths: list[Path], *extra: str) -> tuple[int, list[dict[str, Any]], str]:
    """Run `rehearse run`; its exit status, the journal of each experiment, and its output."""
    out = tmp_path / "journal.json"
    cmd = [sys.executable, "-m", "harness.cli", "run", *map(str, paths)]
    cmd += ["--time-scale", TIME_SCALE, "--json", str(out), *extra]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, cwd=ROOT)
    return proc.returncode, journals(out), proc.stdout + proc.stderr


def clause_table(journal: dict[str, Any]) -> str:
    return "\n".join(
        f"  {r['title']}: {r['verdict']} (expected {r['expected']}; observed {r['observed']})"
        for r in journal["results"]
    )


def test_every_probe_is_a_valid_experiment_with_its_comment() -> None:
    assert len(PROBES) >= 11
    proc = subprocess.run(
        [sys.executable, "-m", "harness.cli", "validate", str(EXPERIMENTS)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    for path in PROBES:
        head = path.read_text().split("\ntitle:", 1)[0]
        assert head.startswith("# "), f"{path.name}: starts with its paragraph of why"
        assert len(head) > 200, f"{path.name}: needs its paragraph of why"


@pytest.mark.timeout(RUN_TIMEOUT_S + 30)
@pytest.mark.parametrize(
    ("flaw", "probe", "must_fail"), CATCHES, ids=[f"{f}-{p[:-5]}" for f, p, _ in CATCHES]
)
def test_each_flaw_is_caught_by_its_probe(tmp_path: Path, flaw: str, probe: str, must_fail: set[str]) -> None:
    code, journals, output = rehearse_run(tmp_path, [EXPERIMENTS / probe], "--sample-flaw", flaw)
    assert code == 1, output
    (journal,) = journals
    failed = {r["clause"] for r in journal["results"] if r["verdict"] == "fail"}
    assert must_fail <= failed, f"{probe} with --sample-flaw {flaw}:\n{clause_table(journal)}"


def test_every_new_contract_clause_has_a_probe_that_catches_a_flaw() -> None:
    caught = set().union(*(clauses for _, _, clauses in CATCHES))
    for clause in ("breaker", "amplification", "goodput", "cache", "stream_integrity", "budget"):
        assert clause in caught, clause
    per_call = yaml.safe_load((EXPERIMENTS / "over-budget-prompt.yaml").read_text())["contract"]
    assert any("max_input_tokens_per_call" in c.get("budget", {}) for c in per_call)


def test_every_flaw_of_the_sampleapp_has_a_probe() -> None:
    from sampleapp.flaws import KNOWN_FLAWS

    assert set(CAUGHT_BY) == set(KNOWN_FLAWS)


def test_the_readme_flaw_table_names_the_probes_that_catch_each_flaw() -> None:
    readme = (ROOT / "README.md").read_text()
    rows = {m.group(1): m.group(2) for m in re.finditer(r"^\| `(\w+)` \| [^|]+ \| (.+) \|$", readme, re.M)}
    for flaw, probe, clauses in CATCHES:
        assert flaw in rows, f"README: no row for --sample-flaw {flaw}"
        for clause in clauses:
            assert f"`{probe[:-5]}`: " in rows[flaw], (flaw, probe)
            assert f"`{clause}`" in rows[flaw], (flaw, clause)
