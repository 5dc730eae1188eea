"""The `lint`, `plan` and `rehearse` subcommands (routes files). Kept light at import: `rehearse
--help` builds these parsers without loading the harness."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

COMMANDS = ("lint", "plan", "rehearse")


def add_parsers(sub: Any) -> None:
    """Add the routes-file subcommands to `rehearse`'s subparsers."""
    lint = sub.add_parser("lint", help="check a routes file against the readiness checklist")
    lint.add_argument("routes", type=Path, metavar="ROUTES.yaml")

    plan = sub.add_parser("plan", help="write one experiment per route and failure mode")
    plan.add_argument("routes", type=Path, metavar="ROUTES.yaml")
    plan.add_argument("-o", "--out", type=Path, required=True, metavar="DIR", help="folder for the files")
    _time_scale(plan)

    rehearse = sub.add_parser("rehearse", help="plan, run and report readiness per route")
    rehearse.add_argument("routes", type=Path, metavar="ROUTES.yaml")
    rehearse.add_argument("-o", "--out", type=Path, metavar="DIR", help="keep the planned experiments here")
    rehearse.add_argument("--json", type=Path, metavar="FILE", help="write each run's journal")
    rehearse.add_argument(
        "--junit", type=Path, metavar="FILE", help="write JUnit XML (one testcase per clause)"
    )
    rehearse.add_argument("--html", type=Path, metavar="FILE", help="write a self-contained HTML report")
    rehearse.add_argument("--seed", type=int, help="override the rehearsal seed")
    rehearse.add_argument(
        "--sample-flaw",
        action="append",
        default=[],
        metavar="NAME",
        help="switch on a known bug in the bundled sampleapp (app: sample targets); repeatable",
    )
    _time_scale(rehearse)


def _time_scale(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        metavar="X",
        help="multiply the steady, fault and recovery phases by X (warmup and settle stay real time)",
    )


def main(args: argparse.Namespace) -> int:
    """Run one of `COMMANDS`; exit 0 ok, 1 a route is not ready, 2 bad input."""
    from harness.errors import InvalidRoutes
    from harness.report.console import output_console
    from harness.routes.load import load_routes

    if getattr(args, "time_scale", 1.0) <= 0:
        print(f"rehearse {args.command}: --time-scale must be > 0", file=sys.stderr)
        return 2
    if args.command == "rehearse":
        from harness.routes.rehearse import rehearse
        from harness.run.runner import RunOptions

        options = RunOptions(seed=args.seed, sample_flaws=tuple(args.sample_flaw))
        try:
            return rehearse(
                args.routes,
                options,
                time_scale=args.time_scale,
                out_dir=args.out,
                json=args.json,
                junit=args.junit,
                html=args.html,
            )
        except KeyboardInterrupt:
            print("rehearse rehearse: interrupted", file=sys.stderr)
            return 2
    try:
        spec = load_routes(args.routes)
    except InvalidRoutes as e:
        print(e, file=sys.stderr)
        return 2
    if args.command == "lint":
        from harness.routes.lint import exit_status, lint, render

        results = lint(spec)
        render(output_console(), results)
        return exit_status(results)
    from harness.routes.plan import plan, write_plan

    try:
        planned = plan(spec, args.routes, args.time_scale)
    except InvalidRoutes as e:
        print(e, file=sys.stderr)
        return 2
    for path in write_plan(planned, args.out, args.routes):
        print(f"wrote {path}")
    for p in planned:
        for why in p.absent:
            print(f"not checked in {p.route} {p.mode}: {why}")
    missing = [p for p in planned if p.experiment is None]
    for p in missing:
        print(f"not planned: {p.route} {p.mode}: {p.reason}", file=sys.stderr)
    return 1 if missing else 0
