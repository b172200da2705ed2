"""``ai-disclosure demo``: serve the Montpellier demo site behind the middleware."""

from __future__ import annotations

import argparse
import sys
from typing import Any

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "demo",
        help="serve a demo municipal site that discloses its AI",
        description="Serve a realistic Montpellier demo site wrapped by the middleware.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on")
    parser.add_argument("--manifest", help="manifest to use (default: the Montpellier example)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        import uvicorn
    except ImportError:
        print("the demo needs uvicorn: pip install 'ai-disclosure[serve]'", file=sys.stderr)
        return 1
    from ..demo import wrapped_site

    app = wrapped_site(args.manifest)
    url = f"http://{args.host}:{args.port}/"
    print(f"Demo site: {url}  (Ctrl+C to stop)", flush=True)
    print(f"  AI chatbot:   {url}dechets/assistant", flush=True)
    print(f"  No AI:        {url}actualites", flush=True)
    print(f"  Declaration:  {url}.well-known/ai-disclosure", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0
