"""`rehearse sample-app`: run the sampleapp until SIGINT/SIGTERM. Bad input exits 2 with one line."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from sampleapp.errors import SampleAppError
from sampleapp.flaws import KNOWN_FLAWS, parse_flaws


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The subcommand's options (`--port` is added by the caller, with its port type)."""
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--provider-url", help="the model provider, e.g. a `rehearse serve` URL (required)")
    parser.add_argument("--config", type=Path, metavar="FILE", help="YAML config (models, retries, budgets)")
    parser.add_argument(
        "--flaw",
        action="append",
        default=[],
        metavar="NAME",
        help=f"start with a known bug (repeatable): {', '.join(KNOWN_FLAWS)}",
    )
    parser.add_argument("--seed", type=int, help="seed for the retry jitter")


def run(args: argparse.Namespace) -> int:
    """Start the app from parsed arguments; 0 after a clean stop, 2 on bad input."""

    def fail(message: str) -> int:
        print(f"rehearse sample-app: {message}", file=sys.stderr)
        return 2

    if not args.provider_url:
        return fail("--provider-url is required (e.g. the URL `rehearse serve` prints)")
    try:
        # Checked before the app module loads the SDK and the tokenizer (seconds).
        from sampleapp.config import api_base, config_from

        api_base(args.provider_url)
        config = config_from(args.config)
        flaws = parse_flaws(args.flaw)
        from sampleapp.app import SampleApp, serve_forever

        app = SampleApp(
            args.provider_url,
            config=config,
            flaws=flaws,
            host=args.host,
            port=args.port,
            seed=args.seed,
        )
        asyncio.run(serve_forever(app))
    except SampleAppError as e:
        return fail(str(e))
    except KeyboardInterrupt:
        return 130
    return 0
