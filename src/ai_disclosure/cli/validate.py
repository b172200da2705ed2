"""``ai-disclosure validate PATH...``: check manifests, list every problem."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .._manifest import ManifestError, load_manifest
from .._model import Manifest

__all__ = ["register", "run", "warnings"]


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "validate",
        help="check AI manifests (.toml or .json)",
        description="Check AI manifests against the schema and for consistency. "
        "Exit 0 when all are valid, 1 otherwise, listing every problem. Warnings "
        "(on stderr) point out what is valid but not what citizens should get.",
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
        for warning in warnings(manifest):
            print(f"{path}: warning - {warning}", file=sys.stderr)
    return 1 if failed else 0


def warnings(manifest: Manifest) -> list[str]:
    """What is valid but falls short for the people the notice speaks to."""
    found: list[str] = []
    if not manifest.service.register_url:
        unlinked = [s.id for s in manifest.systems if not s.register_url]
        if unlinked:
            names = ", ".join(repr(system_id) for system_id in unlinked)
            found.append(
                f"no register_url for {names}: the notice's link to the full entry in the "
                "public register opens the service's own declaration page "
                "(/.well-known/ai-disclosure) instead. To link the register, add "
                'register_url = "https://registre.example/…" under [service] '
                "(a system's own register_url overrides it)."
            )
    return found
