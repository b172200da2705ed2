"""Send disclosure counts to the registry from a background task: never blocking, never
lost, never doubled.

- *Never blocking*: ``record`` is one dict increment (see ``_aggregate``). Cutting,
  encoding and disk writes run in threads, sending in a background task.
- *Never lost*: a batch leaves memory only once the registry acknowledged it or
  refused it for good (and then the loss is counted and reported). With a spool,
  every batch is on disk before its first send and stays there until
  acknowledged, so it survives restarts, crashes and ``kill -9``.
- *Never doubled*: a batch keeps its ``batch_id`` through every retry, replay and
  restart; the registry stores a batch id once. Counts are never merged back
  into the aggregator once they have an id; only a batch the registry refused
  outright (nothing stored) is re-cut under new ids.
- *Never stuck*: a batch the registry keeps failing on (5xx, ``poison_after``
  times in a row) while it stores the batches after it is *parked* - set aside
  with its body, counted as dropped, logged once - so later counts flow. So is a
  batch answered ``409 Conflict`` (the registry holds other content under its
  id). An outage, where every batch fails, parks nothing.

During an outage counts keep merging in the aggregator (memory grows with
distinct keys, not requests); with a spool, each window's batches go to disk.
Every bound that is hit drops and counts, and the count reaches the registry in
a later batch's ``dropped``.

The rules (what to retry, how long to wait, when a batch is a suspect, what to
send instead of a refused one) are ``_retry``'s, pure; cutting, storing and
sending are ``_delivery``'s; the fork and exit hooks ``_hooks``'. This module
holds the lifecycle: the request path, the background task on its event loop,
start, flush and close.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random as _random
import time
from collections.abc import AsyncIterator, Callable
from types import TracebackType
from typing import Final, Self

import httpx

from ._aggregate import Aggregator
from ._delivery import Delivery
from ._hooks import abandon, watch
from ._retry import AttemptResult, Outcome, backoff_delay, classify, unexpected
from ._spool import ParkedEntry
from .client import clean_token

# The retry policy's names stay importable from here, where they used to live.
__all__ = ["DisclosureLogger", "Outcome", "backoff_delay", "classify"]

log = logging.getLogger("ai_disclosure.logging")

_BACKLOG_CHECK: Final = 60.0  # seconds between looks for batches other processes left


def _running_loop() -> asyncio.AbstractEventLoop | None:
    """The event loop running in this thread, or None."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class DisclosureLogger(Delivery):
    """Counts disclosures and sends them to the registry in the background.

    Call ``record(...)`` for each AI system a response disclosed. With an ASGI
    lifespan, ``await start()`` at startup and ``await aclose()`` at shutdown (or
    use ``lifespan``). Without one, the first ``record`` made inside a running
    event loop starts the background task on that loop; at interpreter exit what
    is left is flushed synchronously (to the spool if there is one).

    Fork-safe: a forked child starts with empty counts and its own background
    task, leaving what the parent counted to the parent.
    """

    def __init__(
        self,
        service: str,
        registry_url: str,
        token: str | None,
        *,
        window_seconds: int = 60,
        max_keys: int = 50_000,
        max_batch: int = 1_000,
        spool_dir: str | os.PathLike[str] | None = None,
        spool_max_batches: int = 10_000,
        spool_max_bytes: int = 64 * 1024 * 1024,
        timeout: float | httpx.Timeout = 10.0,
        backoff_base: float = 1.0,
        backoff_cap: float = 120.0,
        max_retry_after: float = 3600.0,
        poison_after: int = 5,
        exit_deadline: float = 2.0,
        shutdown_deadline: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
        decision_log: bool = False,
        clock: Callable[[], float] = time.time,
        random: Callable[[], float] = _random.random,
    ) -> None:
        self._aggregator = Aggregator(
            service,
            window_seconds,
            max_keys,
            clock,
            max_batch=max_batch,
            decision_log=decision_log,
        )
        self.service = service
        self.registry_url = registry_url
        self._token = clean_token(token)  # ValueError now, rather than at each send
        self._spool_dir = spool_dir
        self._spool_max_batches = spool_max_batches
        self._spool_max_bytes = spool_max_bytes
        self._timeout = timeout
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._max_retry_after = max_retry_after
        self._poison_after = poison_after  # checked by Strikes, in _init_delivery
        self._exit_deadline = exit_deadline
        self._shutdown_deadline = shutdown_deadline
        self._transport = transport
        self._clock = clock
        self._random = random
        # Each instance flushes a little after the window boundary, at its own
        # offset, so that many services do not all reach the registry at once.
        self._flush_offset = min(5.0, window_seconds / 10) * random()
        self._closed = False
        self._aggregator.set_full_callback(self._on_full)
        self._init_state()
        watch(self)

    def _init_state(self) -> None:
        self._pid = os.getpid()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._running = False
        self._closing = False
        self._wake: asyncio.Event | None = None
        self._io_lock: asyncio.Lock | None = None
        self._full_pending = False
        self._backlog_check_at = 0.0
        self._init_delivery()

    # --- the request path -------------------------------------------------------

    def record(
        self,
        system: str,
        route: str,
        mode: str,
        notice_shown: bool,
        language: str | None = None,
    ) -> None:
        """Count one response that disclosed ``system`` on ``route`` (the route *template*).

        ``mode`` is the disclosed ``AI-Disclosure`` mode, ``language`` the notice's.
        Never raises for bad values: those are dropped, counted and logged when the
        window is cut.
        """
        self._aggregator.record(system, route, mode, notice_shown, language)
        if not self._running:
            self._lazy_start()

    def record_decision(self, system: str, reference: str) -> None:
        """Log one automated individual decision (CRPA L311-3-1) by its opaque case reference.

        Only with ``decision_log=True``; see ``Aggregator.record_decision``.
        """
        self._aggregator.record_decision(system, reference)
        if not self._running:
            self._lazy_start()

    def _lazy_start(self) -> None:
        if self._closed:
            return
        if self._pid != os.getpid():
            self._reset_after_fork()
        loop = _running_loop()
        if loop is not None and not self._running:
            self._begin(loop)

    def _on_full(self) -> None:
        """A full batch is waiting: wake the background task (from any thread)."""
        self._full_pending = True
        loop, wake = self._loop, self._wake
        if loop is None or wake is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop is closing
            loop.call_soon_threadsafe(wake.set)

    # --- lifecycle --------------------------------------------------------------

    async def start(self) -> None:
        """Start the background task on the running loop (idempotent)."""
        if self._pid != os.getpid():
            self._reset_after_fork()
        loop = asyncio.get_running_loop()
        if self._running and self._loop is not loop:
            other = self._loop
            if other is not None and not other.is_closed() and other.is_running():
                raise RuntimeError("this DisclosureLogger already runs on another event loop")
            self._running = False
        self._closed = False
        if not self._running:
            self._begin(loop)

    def _begin(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._loop is not loop:
            self._client = None  # bound to a loop that is gone
            self._wake = asyncio.Event()
            self._io_lock = asyncio.Lock()
            self._cuts, self._spool_ops = set(), set()
        self._loop = loop
        self._closing = False
        self._running = True
        self._task = loop.create_task(self._run(), name=f"ai-disclosure-logger-{self.service}")

    async def aclose(self, deadline: float | None = None) -> None:
        """Stop: send what is left within ``deadline`` seconds; spool what could not be sent.

        Without a spool, what could not be sent is lost: that is logged, with the count.
        """
        if deadline is None:
            deadline = self._shutdown_deadline
        if self._closed:
            return
        loop = asyncio.get_running_loop()
        other = self._loop
        if other is not None and other is not loop and other.is_running():
            future = asyncio.run_coroutine_threadsafe(self.aclose(deadline), other)
            await asyncio.wrap_future(future)
            return
        deadline_at = loop.time() + deadline
        self._closing = True
        self._closed = True
        task = self._task
        if task is not None and not task.done() and self._loop is loop:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._loop is not loop:
            self._loop, self._client = loop, None
            self._wake, self._io_lock = asyncio.Event(), asyncio.Lock()
            self._cuts, self._spool_ops = set(), set()
        self._running = False
        try:
            await self._final(deadline_at)
        finally:
            await self._release()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    @contextlib.asynccontextmanager
    async def lifespan(self, app: object = None) -> AsyncIterator[None]:
        """An ASGI lifespan (``Starlette(lifespan=logger.lifespan)``): start, then close."""
        await self.start()
        try:
            yield
        finally:
            await self.aclose()

    # --- the background task ----------------------------------------------------

    async def _run(self) -> None:
        try:
            while not self._closing:
                await self._cycle()
                await self._sleep(self._next_delay())
        finally:
            self._running = False
            if not self._closing:  # the loop is ending under us (no lifespan)
                await self._release()

    async def _cycle(self) -> None:
        assert self._io_lock is not None
        async with self._io_lock:
            try:
                await self._ensure_open()
                if self._spool is not None and time.monotonic() >= self._backlog_check_at:
                    # Batches a sibling process left behind when it died.
                    self._backlog_check_at = time.monotonic() + _BACKLOG_CHECK
                    self._spool_backlog = True
                if self._aggregator.has_closed_windows(self._clock()) or self._full_pending:
                    await self._cut(final=self._full_pending)
                if self._has_pending() and time.monotonic() >= self._retry_at:
                    await self._send_all()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.exception("disclosure logger: unexpected error; will retry")
                self._failed(AttemptResult(Outcome.RETRY, None, unexpected(exc)))

    def _next_delay(self) -> float:
        width = self._aggregator.window_seconds
        now = self._clock() - self._flush_offset
        delay = self._aggregator.next_window_end(now) - now
        if self._has_pending():
            delay = min(delay, self._retry_at - time.monotonic())
        return min(max(delay, 0.0), float(width))

    async def _sleep(self, delay: float) -> None:
        wake = self._wake
        assert wake is not None
        if not wake.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), delay)
        wake.clear()

    # --- flush and shutdown -------------------------------------------------------

    async def flush(self) -> bool:
        """Cut everything counted so far (the current window too) and send it now.

        Ignores any backoff in progress. True when nothing is left to send. Meant
        for tests, commands and deploys; the background task needs no help. Safe to
        bound with ``asyncio.timeout``: an interrupted send is simply resent later,
        under the same batch id.
        """
        await self.start()
        assert self._io_lock is not None
        async with self._io_lock:
            await self._ensure_open()
            await self._cut(final=True, force=True)
            self._retry_at = 0.0
            return await self._send_all()

    def close(self, deadline: float = 5.0) -> None:
        """Stop from synchronous code (no event loop running in this thread).

        If the background task runs on a loop in another thread, closes it there.
        Otherwise cuts what is left and writes it to the spool, or without a spool
        tries to send it, within ``deadline`` seconds.
        """
        if self._closed:
            return
        loop = self._loop
        if loop is not None and loop.is_running() and not loop.is_closed():
            if _running_loop() is loop:
                raise RuntimeError("close() called from inside the event loop: await aclose()")
            future = asyncio.run_coroutine_threadsafe(self.aclose(deadline), loop)
            future.result(timeout=deadline + 1.0)
            return
        self._closed = self._closing = True
        self._running = False
        self._deliver_at_exit(deadline)

    def _close_at_exit(self) -> None:
        if self._closed or self._pid != os.getpid():
            return
        if not (self._aggregator.pending_keys or self._outbox or self._cuts):
            self._closed = True
            return
        self.close(self._exit_deadline)

    def _reset_after_fork(self) -> None:
        """In a forked child: forget the parent's counts, task, connections and spool handle."""
        abandon(self._client, self._spool)
        self._aggregator.reset_after_fork()
        closed = self._closed
        self._init_state()
        self._closed = closed

    # --- observability --------------------------------------------------------------

    def stats(self) -> dict[str, int]:
        """Counters, in increments unless named ``batches_``.

        ``recorded`` = record() calls; ``sent`` = acknowledged by the registry
        (duplicates included: they are stored there); ``dropped`` = lost to a bound,
        an invalid value, a refusal or parking; ``parked`` = set aside (part of
        ``dropped``); ``spooled`` = written to the spool;
        ``retried`` = failed attempts that will be retried; ``pending`` = not yet
        acknowledged nor dropped; ``last_error_at`` = epoch seconds, 0 if none.
        """
        aggregate = self._aggregator.stats()
        counters = dict(self._counters)
        counters["recorded"] = aggregate["recorded"]
        counters["dropped"] += aggregate["dropped"]
        counters["pending"] = aggregate["pending"] + sum(e.records for e in self._outbox)
        counters["consecutive_failures"] = self._failures
        return counters

    def parked_batches(self) -> list[ParkedEntry]:
        """Batches parked in memory (without a spool; with one, they are in the spool)."""
        return list(self._parked)

    @property
    def last_error(self) -> str | None:
        """The last reason a send failed, for health checks and logs."""
        return self._last_error

    @property
    def aggregator(self) -> Aggregator:
        return self._aggregator
