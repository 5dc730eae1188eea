"""The console: a live progress line during a run, a results table after it, a summary line per
experiment. User strings go through `Text`, never markup, so "[bold]" in a title stays literal."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from harness.contract.base import ClauseResult
from harness.events import RunHandler
from harness.record import PhaseWindow, RequestRecord, Run
from harness.report.figures import correlation_coverage, is_failed, overall_verdict, run_duration_s, title_of

VERDICT_STYLE = {"pass": "bold green", "fail": "bold red", "error": "bold yellow"}
# Width of output that goes to a log or a pipe (CI) rather than a terminal: rich would take 80
# columns and squeeze the clause tables into tall narrow cells. COLUMNS still wins.
LOG_WIDTH = 160


def output_console(*, stderr: bool = False) -> Console:
    """A console for results: the terminal's width, else COLUMNS, else `LOG_WIDTH` columns."""
    console = Console(stderr=stderr)
    if not console.is_terminal and not os.environ.get("COLUMNS"):
        console = Console(stderr=stderr, width=LOG_WIDTH)
    return console


STATUS_STYLE = {"completed": "green", "aborted": "yellow", "error": "red"}


class ProgressHandler(RunHandler):
    """A live progress line on a terminal (transient); elsewhere, a plain line every
    `interval_s` seconds, one per phase change and one at the end."""

    def __init__(
        self,
        console: Console | None = None,
        *,
        interval_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.console = console if console is not None else output_console(stderr=True)
        self.interval_s = interval_s
        self._clock = clock
        self._live: Live | None = None
        self._title = ""
        self._duration_s = 0.0
        self._max_requests = 0
        self._started = 0.0
        self._last_line = 0.0
        self._phase = ""
        self._running = False
        self.done = 0
        self.errors = 0

    # Each field is read by the refresh thread of `Live` while the runner writes it; single
    # attribute stores are atomic enough for a display.
    def line(self) -> str:
        elapsed = max(self._clock() - self._started, 0.0)
        rate = self.done / elapsed if elapsed > 0 else 0.0
        phase = f" | phase {self._phase}" if self._phase else ""
        return (
            f"{self.done}/{self._max_requests} req | {self._time(elapsed)}{phase}"
            f" | {self.errors} errors | {rate:.1f} req/s"
        )

    def _time(self, elapsed: float) -> str:
        # Past its duration a run only waits for the answers in flight: say so, rather than show
        # more seconds than the run has.
        total = self._duration_s
        if elapsed <= total:
            return f"{elapsed:.1f}/{total:.1f} s"
        return f"{total:.1f}/{total:.1f} s (+{elapsed - total:.1f} s draining)"

    def _fraction(self) -> float:
        by_time = (self._clock() - self._started) / self._duration_s if self._duration_s > 0 else 0.0
        by_count = self.done / self._max_requests if self._max_requests > 0 else 0.0
        return min(max(by_time, by_count, 0.0), 1.0)

    def _renderable(self) -> RenderableType:
        # The figures matter more than the title on a narrow terminal: the title gives way first.
        line = self.line()
        bar = min(20, max(self.console.width - len(line) - 1, 0))
        room = self.console.width - bar - len(line) - 2
        grid = Table.grid(padding=(0, 1))
        cells: list[RenderableType] = []
        if bar >= 5:
            grid.add_column(width=bar)
            cells.append(ProgressBar(total=1000, completed=int(self._fraction() * 1000), width=bar))
        grid.add_column(no_wrap=True, overflow="ellipsis")
        cells.append(Text(line, no_wrap=True, overflow="ellipsis"))
        if room >= 8:
            grid.add_column(width=room, no_wrap=True, overflow="ellipsis")
            cells.append(Text(self._title, style="dim", no_wrap=True, overflow="ellipsis"))
        grid.add_row(*cells)
        return grid

    def _say(self, line: str) -> None:
        self.console.print(Text(line), soft_wrap=True, highlight=False)
        self._last_line = self._clock()

    def run_started(self, title: str, source: str, duration_s: float, max_requests: int) -> None:
        self._title, self._duration_s, self._max_requests = title, duration_s, max_requests
        self._started = self._clock()
        self._running = True
        self.done = self.errors = 0
        self._phase = ""
        if self.console.is_terminal:
            self._live = Live(
                console=self.console,
                get_renderable=self._renderable,
                transient=True,
                refresh_per_second=4,
            )
            self._live.start()
        else:
            self._say(f"running {title} ({source}): {duration_s:g} s, at most {max_requests} requests")

    def phase_started(self, phase: PhaseWindow) -> None:
        self._phase = phase.name
        if self._live is None:
            self._say(self.line())

    def request_done(self, record: RequestRecord) -> None:
        self.done += 1
        if is_failed(record):
            self.errors += 1
        if self._live is None and self._clock() - self._last_line >= self.interval_s:
            self._say(self.line())

    def run_finished(self, run: Run, results: Sequence[ClauseResult]) -> None:
        # A run that failed before its load started has no progress to close.
        if not self._running:
            return
        self._running = False
        if self._live is not None:
            self._live.stop()
            self._live = None
        else:
            self._say(f"finished ({run.status}) | {self.line()}")


def _verdict(verdict: str) -> Text:
    return Text(verdict.upper(), style=VERDICT_STYLE.get(verdict, "bold"))


def header(run: Run, results: Sequence[ClauseResult]) -> Text:
    text = Text()
    text.append_text(_verdict(overall_verdict(run, results)))
    text.append("  ")
    text.append(title_of(run), style="bold")
    text.append(f"  [{run.status}]", style=STATUS_STYLE.get(run.status, ""))
    text.append(
        f"  {len(run.requests)} requests, {run_duration_s(run):.1f} s, "
        f"{len(run.ledger)} provider calls, correlation {correlation_coverage(run).text()}",
        style="dim",
    )
    return text


def results_renderable(run: Run, results: Sequence[ClauseResult]) -> RenderableType:
    """The header, the clause table and the offenders of failed clauses, as one renderable."""
    parts: list[RenderableType] = [header(run, results)]
    if run.source:
        parts.append(Text(f"  {run.source}", style="dim"))
    if run.error:
        parts.append(Text(f"  run error: {run.error}", style="red"))
    if results:
        table = Table(show_lines=False, expand=False, pad_edge=False)
        table.add_column("clause", style="bold", overflow="fold")
        table.add_column("expected", overflow="fold")
        table.add_column("observed", overflow="fold")
        table.add_column("verdict", justify="center", no_wrap=True)
        for r in results:
            table.add_row(Text(r.title or r.clause), Text(r.expected), Text(r.observed), _verdict(r.verdict))
        parts.append(table)
    else:
        parts.append(Text("  no contract results", style="dim"))
    for r in results:
        if r.verdict == "fail" and r.offenders:
            line = Text("  ✗ ", style="red")
            line.append(r.title or r.clause, style="bold")
            line.append(" offending requests: ")
            line.append(", ".join(r.offenders), style="dim")
            parts.append(line)
    return Group(*parts)


def render_results(console: Console, run: Run, results: Sequence[ClauseResult]) -> None:
    """Print one experiment's header line, clause table and offenders."""
    console.print(results_renderable(run, results))


def render_summary(console: Console, runs_and_results: Sequence[tuple[Run, Sequence[ClauseResult]]]) -> None:
    """Print one line per experiment with its overall verdict (for runs of several files)."""
    for run, results in runs_and_results:
        held = sum(1 for r in results if r.verdict == "pass")
        line = _verdict(overall_verdict(run, results))
        line.append("  ")
        line.append(title_of(run), style="bold")
        line.append(f"  {held}/{len(results)} clauses held, {len(run.requests)} requests", style="dim")
        if run.status != "completed":
            line.append(f"  [{run.status}]", style=STATUS_STYLE.get(run.status, ""))
        if run.source:
            line.append(f"  {run.source}", style="dim")
        console.print(line, soft_wrap=True)


class ConsoleResultsHandler(RunHandler):
    """Prints the results table of each run when it finishes."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console if console is not None else output_console()

    def run_finished(self, run: Run, results: Sequence[ClauseResult]) -> None:
        render_results(self.console, run, results)
