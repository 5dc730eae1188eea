"""`rehearse lint ROUTES.yaml`: every checklist item per route, and the worst case per request.

Exit 0 when every item of every route is present and consistent, 1 when one is missing or
inconsistent, 2 when the file is invalid.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from fakeprovider.catalogue.families import DEFAULT_CATALOGUE, Catalogue
from harness.routes import checks_budget, checks_ops  # noqa: F401  (they register the items)
from harness.routes.checklist import CHECKLIST, Context, ItemResult, judge
from harness.routes.cost import Uncomputable, WorstCase, worst_case
from harness.routes.spec import RoutesFile

# The practice's order: what a request may spend, then how the route runs.
ORDER = (
    "route_inventory",
    "token_budget",
    "latency_budget",
    "model_class",
    "serving_capacity",
    "cache_strategy",
    "retry_bound",
    "structured_output",
    "degradation_path",
    "cost_attribution",
    "tail_alerting",
)
assert set(ORDER) == set(CHECKLIST), "every registered checklist item has a place in ORDER"

STATUS_STYLE = {"present": "green", "missing": "bold red", "inconsistent": "bold yellow"}


@dataclass(frozen=True, slots=True)
class RouteLint:
    route: str
    items: list[ItemResult]
    worst: WorstCase | None
    worst_error: str | None

    @property
    def ok(self) -> bool:
        return all(i.status == "present" for i in self.items)

    def item(self, name: str) -> ItemResult:
        return next(i for i in self.items if i.item == name)


def lint_route(name: str, spec: RoutesFile, catalogue: Catalogue = DEFAULT_CATALOGUE) -> RouteLint:
    route = spec.routes[name]
    worst: WorstCase | None = None
    error: str | None = None
    try:
        worst = worst_case(route, catalogue)
    except Uncomputable as e:
        error = str(e)
    ctx = Context(name, route, spec, catalogue, worst, error)
    return RouteLint(name, [judge(item, ctx) for item in ORDER], worst, error)


def lint(spec: RoutesFile, catalogue: Catalogue = DEFAULT_CATALOGUE) -> list[RouteLint]:
    return [lint_route(name, spec, catalogue) for name in spec.routes]


def exit_status(results: Sequence[RouteLint]) -> int:
    return 0 if all(r.ok for r in results) else 1


def worst_text(r: RouteLint) -> Text:
    if r.worst is None:
        return Text(f"worst case per request: not computable ({r.worst_error})", style="yellow")
    w = r.worst
    prices = ", ".join(f"{m} ${c:.6f}" for m, c in w.per_call_usd.items())
    return Text(
        f"worst case per request: {w.calls} calls, {w.input_tokens} input + {w.output_tokens} output "
        f"tokens, ${w.cost_usd:.6f} (one call at the caps: {prices})"
    )


def route_renderable(r: RouteLint) -> RenderableType:
    head = Text()
    head.append("READY  " if r.ok else "NOT READY  ", style="bold green" if r.ok else "bold red")
    head.append(r.route, style="bold")
    table = Table(pad_edge=False, expand=False)
    table.add_column("item", style="bold", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("findings", overflow="fold")
    for i in r.items:
        table.add_row(i.item, Text(i.status, style=STATUS_STYLE[i.status]), Text("\n".join(i.findings)))
    return Group(head, table, worst_text(r), Text(""))


def render(console: Console, results: Sequence[RouteLint]) -> None:
    for r in results:
        console.print(route_renderable(r))
    bad = [r.route for r in results if not r.ok]
    summary = f"{len(results) - len(bad)} of {len(results)} routes pass the checklist"
    console.print(Text(summary + (f"; not ready: {', '.join(bad)}" if bad else ""), style="bold"))
