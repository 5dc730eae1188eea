"""`rehearse profile DIR`: per model, the latency a cassette recorded, fitted into a scenario's
`models:` block that `--latency realistic` then draws from (docs/replay.md, "Profiling").

Each streamed 2xx exchange is read back through its dialect (`read_answer`), so every surface
is measured alike: TTFT is the offset of the first content event (text, or a tool call's
start); ITL is the gap before each later content event divided by the tokens it carries (the
recorded usage shared over the pieces), so a provider that sends several tokens per event and
one that sends one give the same per-token figure, which is what a generated plan paces (one
token per event). Tokens/s is a stream's output tokens after the first event over the time they
took. A non-streamed exchange has only its end-to-end time: reported, not fitted.
"""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console
from rich.table import Table

from fakeprovider.catalogue.families import DEFAULT_CATALOGUE
from fakeprovider.dialects import DIALECTS
from fakeprovider.dialects.base import ChatDialect
from fakeprovider.generation.events import TextDelta, ToolArgsDelta
from fakeprovider.replay.cassette import Exchange, iter_exchanges
from harness.analysis.quantiles import percentiles

MIN_STREAMS = 5  # streamed answers a model needs before its TTFT is fitted
MIN_GAPS = 20  # gaps between content events before its ITL is fitted
MAX_SAMPLES = 1_000_000  # kept per model and series; past it a uniform sample of them (seeded)
MIN_MS = 0.01  # a fitted quantile is at least this (a log-normal has no zero)
QUANTILES = (50, 90, 99)


@dataclass(slots=True)
class Samples:
    """A bounded series: all values up to `MAX_SAMPLES`, then a uniform reservoir of them."""

    values: list[float] = field(default_factory=list)
    seen: int = 0

    def add(self, value: float, rng: random.Random) -> None:
        self.seen += 1
        if len(self.values) < MAX_SAMPLES:
            self.values.append(value)
        else:
            slot = rng.randrange(self.seen)
            if slot < MAX_SAMPLES:
                self.values[slot] = value

    def quantiles(self) -> dict[str, float]:
        found = percentiles(self.values, QUANTILES)
        return {f"p{q}_ms": round(max(MIN_MS, v or 0.0), 2) for q, v in found.items()}


@dataclass(slots=True)
class ModelProfile:
    model: str
    api: str
    streams: int = 0
    bodies: int = 0
    ttft: Samples = field(default_factory=Samples)
    itl: Samples = field(default_factory=Samples)
    tokens_per_s: Samples = field(default_factory=Samples)
    end_to_end: Samples = field(default_factory=Samples)  # non-streamed answers

    def scenario_entry(self) -> dict[str, Any] | None:
        """This model's `models:` entry, or None when it has too few streams to fit."""
        if self.streams < MIN_STREAMS:
            return None
        entry: dict[str, Any] = {}
        if DEFAULT_CATALOGUE.resolve(self.model) is None:
            entry["api"] = DIALECTS[self.api].catalogue_api
        ttft = self.ttft.quantiles()
        entry["ttft_ms"] = ttft["p50_ms"]
        if self.tokens_per_s.values:
            median = percentiles(self.tokens_per_s.values, (50,))[50]
            if median is not None and median > 0:
                entry["tokens_per_s"] = round(median, 1)
        entry["ttft"] = ttft
        if self.itl.seen >= MIN_GAPS:
            entry["itl"] = self.itl.quantiles()
        return entry


@dataclass(slots=True)
class Profile:
    models: dict[str, ModelProfile] = field(default_factory=dict)
    exchanges: int = 0
    failed: int = 0  # non-2xx answers: no latency of an answer
    unreadable: dict[str, int] = field(default_factory=dict)  # api -> exchanges no dialect reads

    def scenario(self) -> dict[str, Any]:
        models = {}
        for key, p in self.models.items():
            entry = p.scenario_entry()
            if entry is not None:
                models[key] = entry
        return {"models": models}


def profile_cassette(directory: Path) -> Profile:
    """Every exchange of the cassette measured, per model; `CassetteError` names a bad file."""
    profile = Profile()
    rng = random.Random(0)
    for x in iter_exchanges(directory):
        profile.exchanges += 1
        if not 200 <= x.response.status < 300:
            profile.failed += 1
            continue
        dialect = DIALECTS[x.api] if x.api in DIALECTS.names() else None
        if not isinstance(dialect, ChatDialect):
            profile.unreadable[x.api] = profile.unreadable.get(x.api, 0) + 1
            continue
        try:
            answer = dialect.read_answer(x)
        except NotImplementedError:
            profile.unreadable[x.api] = profile.unreadable.get(x.api, 0) + 1
            continue
        key = x.model or "(no model)"
        p = profile.models.setdefault(key, ModelProfile(key, x.api))
        if x.response.events is None:
            p.bodies += 1
            p.end_to_end.add(answer.end_ms, rng)
        else:
            _measure_stream(p, x, answer.events, answer.offsets_ms, rng)
    return profile


def _measure_stream(
    p: ModelProfile, x: Exchange, events: list[Any], offsets: list[float], rng: random.Random
) -> None:
    p.streams += 1
    first: float | None = None
    last = 0.0
    tokens_after = 0
    for event, t in zip(events, offsets, strict=True):
        texty = isinstance(event, TextDelta | ToolArgsDelta)
        if texty and not event.text:
            continue
        if first is None:
            first = last = t
            p.ttft.add(t, rng)
            continue
        if texty:
            p.itl.add((t - last) / max(1, event.tokens), rng)
            tokens_after += event.tokens
            last = t
    if first is not None and last > first and tokens_after:
        p.tokens_per_s.add(tokens_after * 1000 / (last - first), rng)


def _fmt(q: dict[str, float] | None) -> list[str]:
    if q is None:
        return ["-", "-", "-"]
    return [f"{q['p50_ms']:.1f}", f"{q['p90_ms']:.1f}", f"{q['p99_ms']:.1f}"]


def table(profile: Profile) -> tuple[Table, list[str]]:
    """The per-model table, and a line per model saying what could not be fitted and why."""
    t = Table(title="Latency per model (ms)")
    for name in (
        "model",
        "surface",
        "streams",
        "TTFT p50",
        "p90",
        "p99",
        "ITL p50",
        "p90",
        "p99",
        "tokens/s",
    ):
        t.add_column(name, justify="left" if name in ("model", "surface") else "right")
    notes: list[str] = []
    for p in profile.models.values():
        ttft = p.ttft.quantiles() if p.ttft.values else None
        itl = p.itl.quantiles() if p.itl.values else None
        rate = percentiles(p.tokens_per_s.values, (50,))[50]
        if p.streams < MIN_STREAMS:
            notes.append(f"{p.model}: too few streams to fit ({p.streams}, need {MIN_STREAMS})")
        elif p.itl.seen < MIN_GAPS:
            notes.append(f"{p.model}: too few gaps for ITL ({p.itl.seen}, need {MIN_GAPS}): TTFT only")
        if p.bodies:
            e2e = "/".join(_fmt(p.end_to_end.quantiles()))
            notes.append(f"{p.model}: {p.bodies} non-streamed: end-to-end p50/p90/p99 {e2e} ms, no ITL")
        t.add_row(
            p.model, p.api, str(p.streams), *_fmt(ttft), *_fmt(itl), "-" if rate is None else f"{rate:.1f}"
        )
    return t, notes


def _console(stderr: bool) -> Console:
    """A console as wide as the table needs when it is no terminal (rich would use 80)."""
    console = Console(stderr=stderr, highlight=False)
    if not console.is_terminal:
        console = Console(stderr=stderr, highlight=False, width=140)
    return console


def main(directory: Path, out: Path | None) -> int:
    """Print the table, write (or print) the scenario; 2 on an unusable cassette or no fit."""
    err = _console(stderr=True)
    try:
        profile = profile_cassette(directory)
    except ValueError as e:  # CassetteError, or a reader's error naming the exchange's file
        print(f"rehearse profile: {e}", file=sys.stderr)
        return 2
    if profile.exchanges == 0:
        print(f"rehearse profile: {directory}: the cassette holds no exchanges", file=sys.stderr)
        return 2
    console = _console(stderr=False) if out is not None else err
    shown, notes = table(profile)
    console.print(shown)
    for note in notes:
        console.print(note, soft_wrap=True)
    skipped = [f"{n} {api}" for api, n in profile.unreadable.items()]
    summary = f"{profile.exchanges} exchanges; {profile.failed} failed (not 2xx)"
    if skipped:
        summary += f"; skipped (no replay reader for the surface): {', '.join(skipped)}"
    console.print(summary, soft_wrap=True)
    scenario = profile.scenario()
    if not scenario["models"]:
        print(
            f"rehearse profile: {directory}: no model has the {MIN_STREAMS} streamed answers a fit needs",
            file=sys.stderr,
        )
        return 2
    text = "# written by `rehearse profile`: fitted latency per model (docs/replay.md)\n"
    text += yaml.safe_dump(scenario, sort_keys=False)
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text)
        console.print(f"wrote {out} ({len(scenario['models'])} models)")
    return 0
