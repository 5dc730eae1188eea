"""`rehearse`: every subcommand, thin. Exit 0 success, 1 a check failed, 2 bad input."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port must be 0-65535, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rehearse", description=__doc__)
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

    demo = sub.add_parser("demo", help="start the fake provider and talk to it with the openai SDK")
    demo.add_argument("--latency", choices=["realistic", "none"], default="realistic")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # Imported here: the tokenizer loads at import (~1 s), which `--help` need not wait for.
    from fakeprovider.server import FakeProvider, ServerError, serve_forever

    try:
        if args.command == "serve":
            provider = FakeProvider(
                args.host,
                args.port,
                seed=args.seed,
                latency=args.latency,
                scenario=args.scenario,
                ledger=args.ledger,
                control_token=args.control_token,
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
