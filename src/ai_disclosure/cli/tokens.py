"""``ai-disclosure registry token ...``: create, revoke and list service tokens.

A token is shown once, when created: the registry keeps only its SHA-256. Each
command works on the registry's database directly (``--db``), and refuses one
that holds no registry, so that a token never lands where the running registry
does not look.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from ._database import add_db, database, existing, fail, guarded, safe, usage, with_engine
from .remote import TOKEN_ENV

__all__ = ["register"]

_CREATE = (
    "Create a token for SERVICE and print it once: the registry keeps only its "
    "SHA-256, so it cannot be shown again. Give it to the service's operators. "
    "Use the --db (or $AI_DISCLOSURE_REGISTRY_DB) the registry runs with: the "
    "database must exist (see --create)."
)


def register(commands: Any) -> None:
    """Add ``token`` and its commands to the ``registry`` group's ``commands``."""
    token = commands.add_parser("token", help="create, revoke and list service tokens")
    token.set_defaults(run=lambda _args: usage(token))
    tokens = token.add_subparsers(title="token commands", metavar="COMMAND")
    create = tokens.add_parser(
        "create", help="create a token for a service (shown once)", description=_CREATE
    )
    create.add_argument("service", metavar="SERVICE", help="the service id, as in its manifest")
    create.add_argument("--label", help="a note to recognise the token by, e.g. 'production'")
    create.add_argument(
        "--create",
        action="store_true",
        help="create the database if it does not exist yet (else: refused, so that a "
        "token never lands in a database the running registry does not use)",
    )
    add_db(create)
    create.set_defaults(run=guarded(_create))
    revoke = tokens.add_parser("revoke", help="revoke a token by its id")
    revoke.add_argument("token_id", metavar="TOKEN_ID", help="the token's id (tok_...)")
    add_db(revoke)
    revoke.set_defaults(run=guarded(_revoke))
    listing = tokens.add_parser("list", help="list a service's tokens (never their secrets)")
    listing.add_argument("service", metavar="SERVICE")
    add_db(listing)
    listing.set_defaults(run=guarded(_list))


def _valid_service(service: str) -> bool:
    from .._patterns import IDENTIFIER

    return IDENTIFIER.fullmatch(service) is not None


def _create(args: argparse.Namespace) -> int:
    if not _valid_service(args.service):
        return fail(
            f"{args.service!r} is not a service id: lower-case letters, digits and inner "
            "hyphens, at most 64 characters, as in the manifest's service.id"
        )
    url = args.db_url = database(args.db)
    existing(url, create=args.create)
    from ..registry import create_token_async

    secret = asyncio.run(create_token_async(url, args.service, label=args.label))
    print(secret)
    print(
        f"This is the token of service {args.service!r}, written to {safe(url)}: the "
        "registry must run with this database to accept it. It is shown only once: "
        f"store it in the service's secrets (e.g. ${TOKEN_ENV}).",
        file=sys.stderr,
    )
    return 0


def _revoke(args: argparse.Namespace) -> int:
    url = args.db_url = database(args.db)
    existing(url)
    from ..registry.tokens import revoke_token

    revoked = asyncio.run(with_engine(url, lambda e: revoke_token(e, args.token_id)))
    if not revoked:
        return fail(f"no live token {args.token_id!r} (see: ai-disclosure registry token list)")
    print(f"revoked {args.token_id} in {safe(url)}")
    return 0


def _list(args: argparse.Namespace) -> int:
    url = args.db_url = database(args.db)
    existing(url)
    from ..registry.tokens import list_tokens

    records = asyncio.run(with_engine(url, lambda e: list_tokens(e, args.service)))
    if not records:
        print(f"no token for service {args.service!r}")
        return 0
    for record in records:
        state = f"revoked {record.revoked_at:%Y-%m-%d}" if record.revoked_at else "live"
        label = f"  {record.label}" if record.label else ""
        print(f"{record.id}  {record.created_at:%Y-%m-%d}  {state}{label}")
    return 0
