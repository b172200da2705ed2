"""Process-wide hooks for disclosure loggers: after a fork, and at interpreter exit.

Nothing is registered at import: the hooks go in once, when the first logger
is watched, so importing the package changes nothing in the process. Loggers
are held weakly: a logger nobody uses any more is not kept alive for its exit
flush.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import weakref
from typing import Protocol

__all__ = ["Hooked", "abandon", "watch"]

log = logging.getLogger("ai_disclosure.logging")


class Hooked(Protocol):
    """What the hooks call on each live logger."""

    def _reset_after_fork(self) -> None: ...

    def _close_at_exit(self) -> None: ...


_LIVE: weakref.WeakSet[Hooked] = weakref.WeakSet()
# Objects a forked child inherited from its parent: kept referenced so that
# garbage collection never closes the parent's sockets or SQLite handles from here.
_ABANDONED: list[object] = []
_lock = threading.Lock()
_installed = False


def _after_fork_in_child() -> None:
    for logger in list(_LIVE):
        logger._reset_after_fork()


def _close_at_exit() -> None:
    for logger in list(_LIVE):
        try:
            logger._close_at_exit()
        except Exception:  # never let one logger keep the others from flushing
            log.exception("disclosure logger: flushing at exit failed")


def watch(logger: Hooked) -> None:
    """Reset ``logger`` in a forked child and flush it at exit; the first call
    registers the fork and exit hooks."""
    global _installed
    with _lock:
        if not _installed:
            os.register_at_fork(after_in_child=_after_fork_in_child)
            atexit.register(_close_at_exit)
            _installed = True
    _LIVE.add(logger)


def abandon(*inherited: object | None) -> None:
    """In a forked child: keep what the parent's logger held (its client, its spool
    handle) referenced for good, so that nothing here ever closes the parent's."""
    _ABANDONED.extend(x for x in inherited if x is not None)
