"""The `rehearse` command line: each subcommand parses its flags and hands over to its module."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fakeprovider.threaded import AsyncServer

DESCRIPTION = (
    "Rehearse LLM-backed routes before release: a fake model provider that fails on purpose, load "
    "against your real routes, and a check of their contracts (retries, fallbacks, budgets, latency, "
    "attribution). Exit status: 0 every check held, 1 a check failed, 2 bad input or a run error."
)


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port must be 0-65535, got {value}")
    return value


def _speed(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not (value > 0 and value != float("inf")):
        raise argparse.ArgumentTypeError(f"must be a number > 0, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rehearse", description=DESCRIPTION)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="run the fake model server (OpenAI and Anthropic APIs)")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=_port, default=8000, help="port; 0 picks a free one (default 8000)")
    serve.add_argument("--scenario", type=Path, help="scenario file (YAML or JSON)")
    serve.add_argument("--seed", type=int, default=0, help="seed for content and faults (default 0)")
    serve.add_argument("--ledger", type=Path, help="append every call to this JSONL file")
    serve.add_argument(
        "--latency",
        choices=["realistic", "none"],
        default="realistic",
        help="model-like pacing (default) or instant responses",
    )
    serve.add_argument("--control-token", help="require this bearer token on /control and /metrics")
    # For a supervisor (`rehearse run`): serve on this inherited listening socket instead of
    # --host/--port, so that it knows the URL, and can start the target, before we are ready.
    serve.add_argument("--listen-fd", type=int, help=argparse.SUPPRESS)
    serve.add_argument(
        "--replay",
        type=Path,
        metavar="DIR",
        help="answer requests that match a recording in this cassette with it (docs/replay.md)",
    )
    serve.add_argument(
        "--replay-miss",
        choices=["generate", "error"],
        default="generate",
        help="a request no recording matches: generate its answer (default) or refuse it with a 400",
    )
    serve.add_argument(
        "--replay-speed",
        type=_speed,
        default=1.0,
        metavar="X",
        help="play recorded timing X times faster (default 1)",
    )

    record = sub.add_parser(
        "record", help="a proxy in front of a real provider that records every exchange into a cassette"
    )
    record.add_argument(
        "--upstream",
        required=True,
        metavar="URL",
        help="the provider to forward to, e.g. https://api.openai.com",
    )
    record.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    record.add_argument("--port", type=_port, default=0, help="port; 0 picks a free one (default 0)")
    record.add_argument(
        "--cassette", type=Path, required=True, metavar="DIR", help="write one JSON file per exchange here"
    )

    sample = sub.add_parser("sample-app", help="run the bundled sampleapp (LLM routes) against a provider")
    sample.add_argument("--port", type=_port, default=8080, help="port; 0 picks a free one (default 8080)")
    from sampleapp.cli import add_arguments as sample_app_arguments

    sample_app_arguments(sample)

    demo = sub.add_parser("demo", help="start the fake provider and talk to it with the openai SDK")
    demo.add_argument("--latency", choices=["realistic", "none"], default="realistic")

    run = sub.add_parser("run", help="run experiments against a target and check their contracts")
    run.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="file, or folder of *.yaml")
    run.add_argument("--target-url", help="send the load here instead of the experiment's target")
    run.add_argument("--provider-url", help="use this running `rehearse serve` instead of starting one")
    run.add_argument(
        "--json", type=Path, metavar="FILE", help="write the journal (every request, every clause)"
    )
    run.add_argument("--junit", type=Path, metavar="FILE", help="write JUnit XML (one testcase per clause)")
    run.add_argument("--html", type=Path, metavar="FILE", help="write a self-contained HTML report")
    run.add_argument("--seed", type=int, help="override the experiments' seed")
    run.add_argument("--allow-remote-target", action="store_true", help="allow a non-loopback target")
    run.add_argument(
        "--time-scale",
        type=float,
        default=None,
        metavar="X",
        help="multiply every duration by X, e.g. 0.1 (default: $REHEARSE_TIME_SCALE, else 1)",
    )
    run.add_argument(
        "--sample-flaw",
        action="append",
        default=[],
        metavar="NAME",
        help="switch on a known bug in the bundled sampleapp (app: sample targets); repeatable",
    )

    validate = sub.add_parser("validate", help="check experiment files without running them")
    validate.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="file, or folder of *.yaml")

    sub.add_parser("schema", help="print the JSON Schema of an experiment file (for editors)")

    ledger = sub.add_parser("ledger", help="work with fake-provider ledgers")
    ledger_sub = ledger.add_subparsers(dest="ledger_command", required=True, metavar="ACTION")
    merge = ledger_sub.add_parser("merge", help="merge the ledgers of several provider replicas")
    merge.add_argument("sources", nargs="+", metavar="SOURCE", help="replica URL, or a --ledger JSONL file")
    merge.add_argument("-o", "--output", type=Path, metavar="FILE", help="write the merged JSONL here")
    merge.add_argument("--control-token", help="bearer token of the replicas' control API")
    merge.add_argument("--experiment", type=Path, metavar="FILE", help="evaluate this experiment's contract")
    merge.add_argument("--records", type=Path, metavar="FILE", help="the locust run's --rehearse-records")
    merge.add_argument("--json", type=Path, metavar="FILE", help="with --experiment: write the journal")

    from harness.routes.cli import add_parsers as add_routes_parsers

    add_routes_parsers(sub)  # lint, plan, rehearse

    profile = sub.add_parser(
        "profile", help="fit per-model TTFT and inter-token latency from a cassette, as a scenario"
    )
    profile.add_argument("cassette", type=Path, metavar="DIR", help="a cassette (rehearse record)")
    profile.add_argument(
        "--out", type=Path, metavar="FILE", help="write the scenario here (default: stdout, table on stderr)"
    )

    toxiproxy = sub.add_parser("toxiproxy", help="run the Toxiproxy-compatible network fault server")
    toxiproxy.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    toxiproxy.add_argument("--port", type=_port, default=8474, help="port; 0 picks a free one (default 8474)")
    toxiproxy.add_argument("--seed", type=int, help="seed for toxicity rolls, jitter and slicer sizes")
    return parser


def _warn_if_exposed(command: str, host: str, what: str) -> None:
    """A bind address beyond loopback lets other machines reach `what`: say so once, at start."""
    from fakeprovider.threaded import is_loopback_host

    if not is_loopback_host(host):
        print(
            f"rehearse {command}: warning: --host {host} is not a loopback address: other machines "
            f"can reach {what}. Bind 127.0.0.1 unless they must.",
            file=sys.stderr,
        )


def _serve_until_stopped(command: str, make: Callable[[], AsyncServer], errors: type[Exception]) -> int:
    """Run the server `make` builds until SIGINT or SIGTERM; `errors` (bad input, a port in use,
    raised building or starting it) are said on stderr with exit status 2."""
    from fakeprovider.threaded import serve_forever

    try:
        asyncio.run(serve_forever(make()))
    except errors as e:
        print(f"rehearse {command}: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


def _toxiproxy(host: str, port: int, seed: int | None) -> int:
    from harness.network.errors import NetworkError
    from harness.network.server import ToxiproxyServer

    _warn_if_exposed("toxiproxy", host, "its API, which can make and change proxies")
    return _serve_until_stopped("toxiproxy", lambda: ToxiproxyServer(host, port, seed=seed), NetworkError)


def _record(upstream: str, host: str, port: int, cassette: Path) -> int:
    from fakeprovider.replay.recorder import Recorder, RecorderError

    _warn_if_exposed("record", host, "the proxy, which forwards their calls with your credentials")
    return _serve_until_stopped("record", lambda: Recorder(upstream, cassette, host, port), RecorderError)


def _validate(paths: list[Path]) -> int:
    from harness.errors import InvalidExperiment
    from harness.experiment.load import experiment_files, load_experiment

    try:
        files = experiment_files(paths)
    except InvalidExperiment as e:
        print(e, file=sys.stderr)
        return 2
    bad = 0
    for path in files:
        try:
            load_experiment(path)
        except InvalidExperiment as e:
            print(e, file=sys.stderr)
            bad += 1
        else:
            print(f"{path}: ok")
    return 2 if bad else 0


def _schema() -> int:
    import json

    from harness.experiment.schema import experiment_schema

    print(json.dumps(experiment_schema(), indent=2))
    return 0


def _time_scale(flag: float | None) -> float | None:
    """--time-scale, else $REHEARSE_TIME_SCALE, else 1; None (after saying why) when invalid."""
    import os

    where, value = "--time-scale", flag
    if value is None:
        raw = os.environ.get("REHEARSE_TIME_SCALE", "").strip()
        if not raw:
            return 1.0
        where = "REHEARSE_TIME_SCALE"
        try:
            value = float(raw)
        except ValueError:
            print(f"rehearse run: {where} must be a number > 0, got {raw!r}", file=sys.stderr)
            return None
    if not value > 0:
        print(f"rehearse run: {where} must be > 0, got {value:g}", file=sys.stderr)
        return None
    return value


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from harness.lifeline import watch_parent

    watch_parent()  # started by a runner (serve, sample-app, toxiproxy): stop when it dies
    if args.command == "validate":
        return _validate(args.paths)
    if args.command == "schema":
        return _schema()
    if args.command == "ledger":
        from harness.ledger_merge import main as merge_main

        return merge_main(
            args.sources, args.output, args.control_token, args.experiment, args.records, args.json
        )
    if args.command in ("lint", "plan", "rehearse"):
        from harness.routes.cli import main as routes_main

        return routes_main(args)
    if args.command == "profile":
        from harness.profile import main as profile_main

        return profile_main(args.cassette, args.out)
    if args.command == "toxiproxy":
        return _toxiproxy(args.host, args.port, args.seed)
    if args.command == "record":
        return _record(args.upstream, args.host, args.port, args.cassette)
    if args.command == "run":
        time_scale = _time_scale(args.time_scale)
        if time_scale is None:
            return 2
        from sampleapp.flaws import KNOWN_FLAWS

        for flaw in args.sample_flaw:
            if flaw not in KNOWN_FLAWS:
                print(
                    f"rehearse run: unknown --sample-flaw {flaw!r}; known: {', '.join(KNOWN_FLAWS)}",
                    file=sys.stderr,
                )
                return 2
        from harness.run.main import main as run_main
        from harness.run.runner import RunOptions

        options = RunOptions(
            target_url=args.target_url,
            provider_url=args.provider_url,
            seed=args.seed,
            allow_remote_target=args.allow_remote_target,
            time_scale=time_scale,
            sample_flaws=tuple(args.sample_flaw),
        )
        try:
            return run_main(args.paths, options, json=args.json, junit=args.junit, html=args.html)
        except KeyboardInterrupt:  # before the run installed its own handler (or after it)
            print("rehearse run: interrupted", file=sys.stderr)
            return 2
    if args.command == "sample-app":
        from sampleapp.cli import run as run_sample_app

        return run_sample_app(args)
    # Imported here: the tokenizer loads at import (~1 s), which `--help` need not wait for.
    from fakeprovider.server import FakeProvider, ServerError, serve_forever

    try:
        if args.command == "serve":
            what = "the provider" + (
                "" if args.control_token else " and its control API (no --control-token)"
            )
            host, port, sock = args.host, args.port, None
            if args.listen_fd is not None:
                import socket

                try:
                    sock = socket.socket(fileno=args.listen_fd)
                    host, port = sock.getsockname()[:2]
                except (OSError, ValueError) as e:
                    raise ServerError(f"--listen-fd {args.listen_fd}: not a listening socket ({e})") from None
            _warn_if_exposed("serve", host, what)
            provider = FakeProvider(
                host,
                port,
                seed=args.seed,
                latency=args.latency,
                scenario=args.scenario,
                ledger=args.ledger,
                control_token=args.control_token,
                replay=args.replay,
                replay_miss=args.replay_miss,
                replay_speed=args.replay_speed,
                warm=True,  # ready means ready: the first calls must not pay the tokenizer's set-up
                sock=sock,
            )
            asyncio.run(serve_forever(provider))
            return 0
        if args.command == "demo":
            from harness.demo import run_demo

            return run_demo(latency=args.latency)
    except ServerError as e:
        print(f"rehearse {args.command}: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 2


if __name__ == "__main__":
    sys.exit(main())
