"""``ai-disclosure validate PATH...``: check manifests, list every problem."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .._manifest import ManifestError, load_manifest

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "validate",
        help="check AI manifests (.toml or .json)",
        description="Check AI manifests against the schema and for consistency. "
        "Exit 0 when all are valid, 1 otherwise, listing every problem.",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="manifest files to check")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    failed = 0
    for path in args.paths:
        try:
            manifest = load_manifest(path)
        except ManifestError as exc:
            failed += 1
            print(exc, file=sys.stderr)
            continue
        systems = len(manifest.systems)
        print(
            f"{path}: valid - service {manifest.service.id!r}, "
            f"{systems} AI system{'s' if systems != 1 else ''}, {len(manifest.routes)} route rules"
        )
    return 1 if failed else 0
