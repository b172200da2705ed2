"""Commands that talk to a running registry over HTTP - ``registry push-manifest`` and
``registry send-test`` - and the options every such command takes (the proxy's and
``registry parked resend`` too): where the registry is, and the service's token.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from ._database import fail

__all__ = [
    "TOKEN_ENV",
    "URL_ENV",
    "add_registry_options",
    "missing_registry_options",
    "refusal",
    "register",
]

URL_ENV = "AI_DISCLOSURE_REGISTRY_URL"
TOKEN_ENV = "AI_DISCLOSURE_REGISTRY_TOKEN"


def register(commands: Any) -> None:
    """Add ``push-manifest`` and ``send-test`` to the ``registry`` group's ``commands``."""
    push = commands.add_parser(
        "push-manifest",
        help="publish a service's manifest to the registry",
        description="Check the manifest locally, then publish it. The registry keeps a "
        "new version only when the content changed.",
    )
    push.add_argument("path", metavar="PATH", help="the manifest (.toml or .json)")
    add_registry_options(push)
    push.set_defaults(run=_push_manifest)

    test = commands.add_parser(
        "send-test",
        help="check that a service can send disclosure counts to the registry",
        description="Send one batch as the service would: with no --system an empty batch "
        "(it checks the URL and the token and counts nothing); with --system one "
        "increment for that system, which then appears in its public counts.",
    )
    test.add_argument("path", metavar="PATH", help="the service's manifest (.toml or .json)")
    test.add_argument("--system", metavar="ID", help="also count one disclosure of this system")
    add_registry_options(test)
    test.set_defaults(run=_send_test)


def add_registry_options(parser: argparse.ArgumentParser) -> None:
    """Where the registry is and the service's token, for commands that talk to it."""
    parser.add_argument(
        "--registry",
        default=os.environ.get(URL_ENV),
        metavar="URL",
        help=f"the registry's base URL (default: ${URL_ENV})",
    )
    parser.add_argument(
        "--token",
        default=os.environ.get(TOKEN_ENV),
        help=f"the service's token (default: ${TOKEN_ENV}; prefer the variable)",
    )


def missing_registry_options(args: argparse.Namespace) -> str | None:
    """Why ``args`` cannot reach the registry (no URL, no usable token), or None.

    Leaves ``args.token`` stripped: a token read from a secret file ends with a
    newline. The token itself is never part of the message.
    """
    from ..client import clean_token

    if not args.registry:
        return f"give the registry's URL with --registry or ${URL_ENV}"
    try:
        args.token = clean_token(args.token)
    except ValueError as exc:
        return f"{exc} (${TOKEN_ENV} or --token)"
    if not args.token:
        return f"give the service's token with ${TOKEN_ENV} (or --token)"
    return None


def refusal(what: str, error: Any, where: str) -> str:
    """A RegistryError as lines: the status, then one line per field at fault. Without a
    status nothing was refused: the registry was not reached, and the error says where."""
    if error.status is None:
        detail = f": {error.detail}" if error.detail else ""
        return f"cannot send {what}: {error.title}{detail}"
    head = f"{error.status} {error.title}"
    lines = [f"the registry refused {what}: {head}: {error.detail or ''}".rstrip(": ")]
    lines += [f"  {where}#{e.pointer or '/'}: {e.detail}" for e in error.errors]
    return "\n".join(lines)


def _push_manifest(args: argparse.Namespace) -> int:
    from .._manifest import ManifestError
    from ..client import RegistryClient, RegistryError

    missing = missing_registry_options(args)
    if missing:
        return fail(missing)
    try:
        with RegistryClient(args.registry, args.token) as client:
            pushed = client.push_manifest(args.path)
    except ManifestError as exc:
        print(exc, file=sys.stderr)
        return 1
    except RegistryError as exc:
        return fail(refusal("the manifest", exc, args.path))
    what = "published as version" if pushed.changed else "unchanged, still version"
    print(f"{args.path}: service {pushed.service!r} {what} {pushed.version}")
    return 0


def _send_test(args: argparse.Namespace) -> int:
    import time
    import uuid

    from .._aggregate import format_utc
    from .._manifest import ManifestError, load_manifest
    from ..client import RegistryClient, RegistryError

    missing = missing_registry_options(args)
    if missing:
        return fail(missing)
    try:
        manifest = load_manifest(args.path)
        counts = []
        if args.system:
            system = manifest.system(args.system)
            now = int(time.time())
            counts.append(
                {
                    "system": system.id,
                    "route": "/ai-disclosure/send-test",
                    "mode": system.ietf_mode,
                    "notice_shown": False,
                    "window_start": format_utc(now - now % 60),
                    "count": 1,
                }
            )
        batch = {
            "batch_id": str(uuid.uuid4()),
            "service": manifest.service.id,
            "sent_at": format_utc(time.time()),
            "window_seconds": 60,
            "counts": counts,
        }
        with RegistryClient(args.registry, args.token) as client:
            sent = client.send_batch(batch)
    except ManifestError as exc:
        print(exc, file=sys.stderr)
        return 1
    except KeyError as exc:
        return fail(str(exc.args[0]))
    except RegistryError as exc:
        return fail(refusal("the batch", exc, "batch"))
    what = f"1 disclosure of {args.system!r} counted" if args.system else "nothing counted"
    print(f"{args.registry}: batch {sent.batch_id} {sent.status} ({what})")
    return 0
