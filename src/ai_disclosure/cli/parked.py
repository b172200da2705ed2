"""``ai-disclosure registry parked ...``: the batches a service's logger set aside.

The logger parks a batch the registry keeps failing on while it stores others,
or one it answers ``409 Conflict``, in the spool (``{spool_dir}/{service}.spool.sqlite3``)
so later counts flow. These commands list them and send them again, as they
were, once the registry is fixed: a batch it had stored after all is answered
"duplicate" and counted once.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import Any

from ._database import usage

__all__ = ["register"]

_SUFFIX = ".spool.sqlite3"


def register(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "parked",
        help="list and resend the batches a service's logger parked in its spool",
        description="A service's logger parks a batch the registry keeps failing on while "
        "it stores others, or one answered 409 Conflict, in its spool "
        "(SPOOL_DIR/SERVICE.spool.sqlite3), so later counts flow; parked batches are "
        "counted as dropped. List them, and send them again once the registry is fixed: "
        "a batch it had stored after all is answered 'duplicate' and counted once.",
    )
    parser.set_defaults(run=lambda _args: usage(parser))
    actions = parser.add_subparsers(title="parked commands", metavar="COMMAND")

    listing = actions.add_parser("list", help="list parked batches, oldest first")
    _add_spool_options(listing)
    listing.set_defaults(run=_list)

    resend = actions.add_parser(
        "resend",
        help="send parked batches to the registry again (all, or the IDs given)",
        description="Send parked batches again, byte for byte, under their own batch "
        "ids. Those the registry takes (stored or duplicate) leave the spool; the "
        "others stay, with the registry's answer printed.",
    )
    resend.add_argument("ids", nargs="*", metavar="ID", help="batch ids (default: all)")
    _add_spool_options(resend)
    from .remote import add_registry_options

    add_registry_options(resend)
    resend.set_defaults(run=_resend)


def _add_spool_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--spool-dir",
        required=True,
        metavar="DIR",
        help="the logger's spool directory (its spool_dir, or the proxy's --spool-dir)",
    )
    parser.add_argument(
        "--service", metavar="ID", help="only this service's spool (default: every spool in DIR)"
    )


def _fail(message: str) -> int:
    print(f"ai-disclosure registry parked: {message}", file=sys.stderr)
    return 1


class _NoSpool(Exception):
    pass


def _services(args: argparse.Namespace) -> list[str]:
    """The services with a spool in ``--spool-dir``; read only, nothing is created."""
    directory = Path(args.spool_dir)
    if not directory.is_dir():
        raise _NoSpool(f"no spool directory {directory}")
    found = sorted(p.name[: -len(_SUFFIX)] for p in directory.glob(f"*{_SUFFIX}"))
    if args.service:
        if args.service not in found:
            raise _NoSpool(f"no spool of service {args.service!r} in {directory}")
        return [args.service]
    if not found:
        raise _NoSpool(f"no spool in {directory} (files named SERVICE{_SUFFIX})")
    return found


def _when(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _list(args: argparse.Namespace) -> int:
    from .._spool import Spool, SpoolError

    try:
        services = _services(args)
        total = 0
        for service in services:
            spool = Spool(args.spool_dir, service)
            try:
                entries = spool.parked()
            finally:
                spool.close()
            for entry in entries:
                total += 1
                print(
                    f"{service}  {entry.batch_id}  {entry.records} increments  "
                    f"parked {_when(entry.parked_at)}  {entry.reason}"
                )
    except (_NoSpool, SpoolError) as exc:
        return _fail(str(exc))
    if not total:
        print(f"no parked batch in {args.spool_dir}")
    return 0


def _resend(args: argparse.Namespace) -> int:
    from .._spool import Spool, SpoolError
    from ..client import RegistryClient, RegistryError
    from .remote import missing_registry_options, refusal

    missing = missing_registry_options(args)
    if missing:
        return _fail(missing)
    try:
        services = _services(args)
        if len(services) > 1:
            # A token speaks for one service: the others' batches would all be refused.
            raise _NoSpool(
                f"spools of {len(services)} services in {args.spool_dir} "
                f"({', '.join(services)}): choose one with --service"
            )
        spool = Spool(args.spool_dir, services[0])
    except (_NoSpool, SpoolError) as exc:
        return _fail(str(exc))
    try:
        entries = spool.parked(args.ids)
        unknown = set(args.ids) - {e.batch_id for e in entries}
        for batch_id in sorted(unknown):
            print(f"{batch_id}: not parked in this spool", file=sys.stderr)
        left = len(unknown)
        with RegistryClient(args.registry, args.token) as client:
            for entry in entries:
                try:
                    sent = client.resend(entry.body, entry.batch_id)
                except RegistryError as exc:
                    left += 1
                    print(f"{entry.batch_id}: {refusal('it', exc, 'batch')}", file=sys.stderr)
                    if exc.status is None:  # not reached: the others would not be either
                        left += len(entries) - entries.index(entry) - 1
                        break
                    continue
                spool.unpark(entry.batch_id)
                print(f"{entry.batch_id}: {sent.status} ({entry.records} increments)")
    finally:
        spool.close()
    if not entries and not unknown:
        print(f"no parked batch in {args.spool_dir}")
    return 1 if left else 0
