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
send instead of a refused one) are ``_retry``'s, pure; this module does the I/O.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import gzip
import itertools
import json
import logging
import os
import random as _random
import threading
import time
import weakref
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Final, Self

import httpx

from ._aggregate import Aggregator, Batch
from ._retry import AttemptResult as Verdict
from ._retry import (
    Outcome,
    Strikes,
    backoff_delay,
    classify,
    derive,
    retry_delay,
    unexpected,
)
from ._spool import ParkedEntry, Spool, SpoolEntry, SpoolError
from .client import (
    AsyncRegistryClient,
    RegistryClient,
    clean_token,
    encode_batch,
    transport_error,
)

# The retry policy's names stay importable from here, where they used to live.
__all__ = ["DisclosureLogger", "Outcome", "Verdict", "backoff_delay", "classify"]

log = logging.getLogger("ai_disclosure.logging")

_CLAIM: Final = 16  # batches taken from the spool at a time
_WARN_EVERY: Final = 300.0  # seconds between repeated outage warnings
_BACKLOG_CHECK: Final = 60.0  # seconds between looks for batches other processes left
_MEMORY_PARKED: Final = 100  # parked batches kept in memory without a spool
_RESEND_HINT: Final = "ai-disclosure registry parked list --spool-dir DIR"


def _decode(entry: SpoolEntry) -> Batch:
    return Batch.from_json(json.loads(gzip.decompress(entry.body)))


@dataclass(frozen=True, slots=True)
class _Cut:
    """The result of one cut: the batches, those kept in memory, those the spool refused."""

    batches: Sequence[Batch]
    memory: Sequence[SpoolEntry]
    refused: set[str] | None  # None: not written to the spool


def _entry(batch: Batch, created: float) -> SpoolEntry:
    return SpoolEntry(batch.batch_id, encode_batch(batch), batch.records, created)


# --- process-wide hooks: fork and interpreter exit ------------------------------------

_LIVE: weakref.WeakSet[DisclosureLogger] = weakref.WeakSet()
# Objects a forked child inherited from its parent: kept referenced so that
# garbage collection never closes the parent's sockets or SQLite handles from here.
_ABANDONED: list[object] = []


def _after_fork_in_child() -> None:
    for logger in list(_LIVE):
        logger._reset_after_fork()


def _close_at_exit() -> None:
    for logger in list(_LIVE):
        try:
            logger._close_at_exit()
        except Exception:  # never let one logger keep the others from flushing
            log.exception("disclosure logger: flushing at exit failed")


_hooks_lock = threading.Lock()
_hooks_installed = False


def _install_hooks() -> None:
    """Register the fork and exit hooks once, when the first logger is made: importing
    the package changes nothing in the process."""
    global _hooks_installed
    with _hooks_lock:
        if _hooks_installed:
            return
        os.register_at_fork(after_in_child=_after_fork_in_child)
        atexit.register(_close_at_exit)
        _hooks_installed = True


def _running_loop() -> asyncio.AbstractEventLoop | None:
    """The event loop running in this thread, or None."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class DisclosureLogger:
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
        self._poison_after = poison_after  # checked by Strikes, in _init_state
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
        _install_hooks()
        _LIVE.add(self)

    def _init_state(self) -> None:
        self._pid = os.getpid()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._running = False
        self._closing = False
        self._wake: asyncio.Event | None = None
        self._io_lock: asyncio.Lock | None = None
        self._full_pending = False
        self._client: AsyncRegistryClient | None = None
        self._spool: Spool | None = None
        self._spool_tried = False
        self._spool_backlog = False
        self._backlog_check_at = 0.0
        self._outbox: deque[SpoolEntry] = deque()
        self._cuts: set[asyncio.Future[_Cut]] = set()
        self._spool_ops: set[asyncio.Future[object]] = set()
        self._failures = 0
        self._strikes = Strikes(self._poison_after)
        self._parked: deque[ParkedEntry] = deque(maxlen=_MEMORY_PARKED)
        self._retry_at = 0.0
        self._last_warning = float("-inf")
        self._last_error: str | None = None
        self._counters = dict.fromkeys(
            (
                "sent",
                "retried",
                "spooled",
                "dropped",
                "batches_sent",
                "batches_duplicate",
                "batches_rejected",
                "parked",
                "batches_parked",
                "last_error_at",
            ),
            0,
        )

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
                self._failed(Verdict(Outcome.RETRY, None, unexpected(exc)))

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

    def _has_pending(self) -> bool:
        return bool(self._outbox) or self._spool_backlog

    def _open_spool(self, directory: str | os.PathLike[str]) -> Spool:
        """The spool with this logger's bounds (blocking: SQLite opens a file)."""
        return Spool(
            directory,
            self.service,
            max_batches=self._spool_max_batches,
            max_bytes=self._spool_max_bytes,
            clock=self._clock,
        )

    async def _ensure_open(self) -> None:
        if self._client is None:
            self._client = AsyncRegistryClient(
                self.registry_url, self._token, transport=self._transport, timeout=self._timeout
            )
        if self._spool_dir is not None and not self._spool_tried:
            self._spool_tried = True
            try:
                self._spool = await asyncio.to_thread(self._open_spool, self._spool_dir)
            except (SpoolError, OSError) as exc:
                log.error("disclosure spool unavailable, keeping batches in memory only: %s", exc)
            else:
                self._spool_backlog = True  # batches an earlier process left, perhaps

    async def _release(self) -> None:
        client, spool = self._client, self._spool
        self._client, self._spool, self._spool_tried = None, None, False
        if client is not None:
            with contextlib.suppress(Exception):
                await client.aclose()
        if spool is not None:
            try:
                await asyncio.to_thread(spool.release)
            except Exception as exc:
                log.warning("disclosure spool: could not release leases: %s", exc)
            finally:
                spool.close()

    # --- cutting ------------------------------------------------------------------

    async def _cut(self, *, final: bool, force: bool = False) -> None:
        """Drain the aggregator and store the batches (spool, or memory outbox).

        Draining, encoding and the spool write run in a thread; the result is taken
        by a done-callback, so even if this task is cancelled meanwhile, drained
        counts still land in the spool or the outbox.
        """
        self._full_pending = False
        if self._spool is None and self._outbox and not force and not self._only_suspects():
            return  # outage without a spool: let counts merge in the aggregator
        future = asyncio.ensure_future(
            asyncio.to_thread(self._cut_in_thread, self._clock(), final, self._spool)
        )
        self._cuts.add(future)
        future.add_done_callback(self._on_cut)  # before shield's: runs before we resume
        await asyncio.shield(future)

    def _cut_in_thread(self, now: float, final: bool, spool: Spool | None) -> _Cut:
        batches = self._aggregator.drain(now, final=final)
        entries = [_entry(b, now) for b in batches]
        if spool is None or not entries:
            return _Cut(batches, entries, None)
        try:
            refused = {e.batch_id for e in spool.put(entries)}
        except Exception as exc:
            log.error("disclosure spool write failed, keeping batches in memory: %s", exc)
            return _Cut(batches, entries, None)
        return _Cut(batches, [], refused)

    def _on_cut(self, future: asyncio.Future[_Cut]) -> None:
        self._cuts.discard(future)
        if future.cancelled():
            return
        exc = future.exception()
        if exc is not None:
            log.error("disclosure logger: cutting batches failed", exc_info=exc)
            return
        cut = future.result()
        refused = cut.refused
        if refused is not None:
            for batch in cut.batches:
                if batch.batch_id in refused:
                    self._lose(batch, "the spool is full")
                else:
                    self._counters["spooled"] += batch.records
            if len(refused) < len(cut.batches):
                self._spool_backlog = True
        self._outbox.extend(cut.memory)

    def _lose(self, batch: Batch, why: str) -> None:
        """Count a batch as lost; its size reaches the registry in a later ``dropped``."""
        self._counters["dropped"] += batch.records
        self._aggregator.add_dropped(batch.records + batch.dropped)
        log.error(
            "dropping disclosure batch %s (%d increments): %s", batch.batch_id, batch.records, why
        )

    # --- sending ------------------------------------------------------------------

    async def _in_spool(self, operation: Callable[..., object], *args: Any) -> object:
        """Run a spool write in a thread; shielded and tracked, so that a cancellation
        (shutdown) cannot leave it half-known: ``_final`` waits for it to land."""
        future = asyncio.ensure_future(asyncio.to_thread(operation, *args))
        self._spool_ops.add(future)
        future.add_done_callback(self._spool_ops.discard)
        return await asyncio.shield(future)

    async def _send_all(self) -> bool:
        """Send pending batches, oldest first, until all are sent (True) or one must wait.

        A batch that failed with a server error ``poison_after`` times in a row is a
        suspect: the others are tried past it. Once the registry stores one of them,
        each suspect gets one more try, and is parked if that fails too. When every
        batch fails it is an outage: wait, park nothing.
        """
        while True:
            limit = _CLAIM + self._strikes.suspects()
            if self._spool is not None and self._spool_backlog:
                items = await asyncio.to_thread(self._spool.claim, limit)
                if not items:
                    self._spool_backlog = False
                    continue
            else:
                items = list(itertools.islice(self._outbox, limit))
            if not items:
                return True
            suspects: list[tuple[SpoolEntry, Verdict]] = []
            for item in items:
                verdict = await self._attempt(item)
                if verdict.outcome is Outcome.RETRY:
                    if self._strikes.strike(item.batch_id, verdict):
                        suspects.append((item, verdict))
                        continue
                    self._failed(verdict)
                    return False
                if verdict.outcome is Outcome.REJECTED:
                    await self._rejected(item, verdict)
                    break  # what replaced it goes first: take a fresh look
                await self._acknowledged(item, verdict)
                if suspects and verdict.outcome is Outcome.SENT:
                    if not await self._last_try(suspects):
                        return False
                    break
            else:
                if suspects:  # nothing after them was stored: an outage, perhaps
                    self._failed(suspects[-1][1])
                    return False

    def _only_suspects(self) -> bool:
        return all(self._strikes.is_suspect(e.batch_id) for e in self._outbox)

    async def _last_try(self, suspects: list[tuple[SpoolEntry, Verdict]]) -> bool:
        """The registry just stored a batch: try each suspect once more, park those that
        fail again. False if the registry stopped answering meanwhile."""
        for item, _ in suspects:
            verdict = await self._attempt(item)
            if verdict.outcome is Outcome.RETRY:
                if not self._strikes.strike(item.batch_id, verdict):
                    self._failed(verdict)
                    return False
                why = f"{self._strikes.count(item.batch_id)} server errors in a row, others stored"
                await self._park(item, verdict, why)
            elif verdict.outcome is Outcome.REJECTED:
                await self._rejected(item, verdict)
            else:
                await self._acknowledged(item, verdict)
        return True

    async def _attempt(self, item: SpoolEntry) -> Verdict:
        assert self._client is not None
        try:
            response = await self._client.post_body(item.body)
        except (httpx.HTTPError, OSError) as exc:
            return Verdict(Outcome.RETRY, None, transport_error(exc, self.registry_url))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("disclosure logger: sending failed unexpectedly: %r", exc)
            return Verdict(Outcome.RETRY, None, unexpected(exc))
        return classify(response)

    def _from_outbox(self, item: SpoolEntry) -> bool:
        if self._outbox and self._outbox[0] is item:
            self._outbox.popleft()
            return True
        for index, other in enumerate(self._outbox):  # past a suspect
            if other is item:
                del self._outbox[index]
                return True
        return False

    async def _acknowledged(self, item: SpoolEntry, verdict: Verdict) -> None:
        self._strikes.clear(item.batch_id)
        counters = self._counters
        counters["sent"] += item.records
        counters["batches_sent"] += 1
        if verdict.outcome is Outcome.DUPLICATE:
            counters["batches_duplicate"] += 1
        if self._failures:
            log.info(
                "registry reachable again after %d failed attempt(s); sending pending batches",
                self._failures,
            )
        self._failures = 0
        self._retry_at = 0.0
        if not self._from_outbox(item) and self._spool is not None:
            await self._in_spool(self._spool.delete, item.batch_id)

    async def _rejected(self, item: SpoolEntry, verdict: Verdict) -> None:
        error = verdict.error
        status = error.status if error is not None else None
        self._strikes.clear(item.batch_id)
        if status == 409:
            # The registry holds other content under this id: resending cannot help,
            # and re-cutting under a new id could count twice. Kept for a person to see.
            await self._park(item, verdict, "the registry holds other content under its id")
            return
        batch = _decode(item)
        derived = derive(batch, status, error)
        self._counters["batches_rejected"] += 1
        if derived:
            kept = sum(b.records for b in derived)
            self._counters["dropped"] += batch.records - kept
            log.error(
                "registry refused disclosure batch %s: %s; resending %d of its %d increments "
                "under new batch ids, dropping the rest",
                batch.batch_id,
                error,
                kept,
                batch.records,
            )
        else:
            self._lose(batch, f"the registry refused it ({error}); a retry cannot fix this")
        replacement = [_entry(b, item.created) for b in derived]
        if self._from_outbox(item):
            self._outbox.extendleft(reversed(replacement))
        elif self._spool is not None:
            await self._in_spool(self._spool.replace, item.batch_id, replacement)

    async def _park(self, item: SpoolEntry, verdict: Verdict, why: str) -> None:
        """Set a batch aside for good: counted as dropped (the count reaches the registry
        in a later ``dropped``), logged once, kept with its body for ``parked resend``."""
        self._strikes.clear(item.batch_id)
        batch = _decode(item)
        error = verdict.error
        answer = f"{error.status} {error.title}" if error and error.status else "no answer"
        reason = f"{answer}: {why}"
        # Stored first: if the spool write fails, the batch stays queued and uncounted.
        if self._from_outbox(item) or self._spool is None:
            where = "in memory (lost at exit: set spool_dir to keep parked batches)"
            if len(self._parked) == self._parked.maxlen:
                log.warning("parked batches in memory full: forgetting the oldest")
            parked = ParkedEntry(
                item.batch_id, item.body, item.records, item.created, self._clock(), reason
            )
            self._parked.append(parked)
        else:
            where = f"in {self._spool.path}; see: {_RESEND_HINT}"
            evicted = await self._in_spool(self._spool.park, item.batch_id, reason)
            if evicted:
                log.warning("the spool's parked table is full: forgot the %s oldest", evicted)
        counters = self._counters
        counters["dropped"] += batch.records
        counters["parked"] += batch.records
        counters["batches_parked"] += 1
        self._aggregator.add_dropped(batch.records + batch.dropped)
        log.error(
            "parked disclosure batch %s (%d increments, counted as dropped): %s; kept %s",
            batch.batch_id,
            batch.records,
            reason,
            where,
        )

    def _failed(self, verdict: Verdict) -> None:
        self._failures += 1
        self._counters["retried"] += 1
        self._last_error = str(verdict.error) if verdict.error else "unknown error"
        self._counters["last_error_at"] = int(self._clock())
        delay = retry_delay(
            verdict,
            self._failures,
            base=self._backoff_base,
            cap=self._backoff_cap,
            max_retry_after=self._max_retry_after,
            random=self._random,
        )
        now = time.monotonic()
        self._retry_at = now + delay
        if self._failures == 1 or now - self._last_warning >= _WARN_EVERY:
            self._last_warning = now
            log.warning(
                "cannot send disclosures to the registry (%s); retrying in %.1f s "
                "(attempt %d), counts are kept meanwhile",
                self._last_error,
                delay,
                self._failures,
            )
        else:
            log.debug("registry still unavailable (%s); retry in %.1f s", self._last_error, delay)

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

    async def _final(self, deadline_at: float) -> None:
        loop = asyncio.get_running_loop()
        pending: list[asyncio.Future[Any]] = [*self._cuts, *self._spool_ops]
        if pending:  # work interrupted by the cancellation: let it land first
            await asyncio.wait(pending, timeout=max(0.0, deadline_at - loop.time()))
        await self._ensure_open()
        await self._cut(final=True, force=True)
        reserve = min(0.5, (deadline_at - loop.time()) / 10)
        done = False
        try:
            async with asyncio.timeout_at(deadline_at - reserve):
                done = await self._send_all()
        except TimeoutError:
            pass
        if done:
            return
        if self._spool is not None and not self._outbox:
            log.warning(
                "registry unavailable at shutdown; unsent disclosures stay in %s for the next "
                "start",
                self._spool.path,
            )
            return
        lost = sum(item.records for item in self._outbox)
        self._outbox.clear()
        if lost:
            self._counters["dropped"] += lost
            log.error(
                "registry unavailable at shutdown: %d disclosure increments lost "
                "(set spool_dir to keep them across restarts)",
                lost,
            )

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
        if self._spool is not None:  # left open by a loop that stopped without closing us
            with contextlib.suppress(Exception):
                self._spool.release()
            self._spool.close()
            self._spool = None
        now = self._clock()
        batches = self._aggregator.drain(now, final=True)
        entries = [*self._outbox, *(_entry(b, now) for b in batches)]
        self._outbox.clear()
        if not entries:
            return
        if self._spool_dir is not None:
            try:
                spool = self._open_spool(self._spool_dir)
            except (SpoolError, OSError) as exc:
                log.error("disclosure spool unavailable at exit: %s", exc)
            else:
                try:
                    refused = {e.batch_id for e in spool.put(entries)}
                    spool.release()
                finally:
                    spool.close()
                for entry in entries:
                    if entry.batch_id in refused:
                        self._lose(_decode(entry), "the spool is full")
                    else:
                        self._counters["spooled"] += entry.records
                return
        self._send_sync(entries, deadline)

    def _send_sync(self, entries: list[SpoolEntry], deadline: float) -> None:
        transport = self._transport if isinstance(self._transport, httpx.BaseTransport) else None
        end = time.monotonic() + deadline
        left = deque(entries)
        # The public blocking client: the same headers, and the same warning when a
        # token would travel in clear text.
        with RegistryClient(
            self.registry_url, self._token, transport=transport, timeout=min(deadline, 5.0)
        ) as client:
            while left and time.monotonic() < end:
                item = left[0]
                try:
                    response = client.post_body(item.body)
                except httpx.HTTPError:
                    break
                verdict = classify(response)
                if verdict.outcome is Outcome.RETRY:
                    break
                left.popleft()
                if verdict.outcome is Outcome.REJECTED:
                    self._counters["batches_rejected"] += 1
                    self._lose(_decode(item), f"the registry refused it ({verdict.error})")
                else:
                    self._counters["sent"] += item.records
                    self._counters["batches_sent"] += 1
        lost = sum(item.records for item in left)
        if lost:
            self._counters["dropped"] += lost
            log.error(
                "registry unavailable at exit: %d disclosure increments lost "
                "(set spool_dir to keep them across restarts)",
                lost,
            )

    def _close_at_exit(self) -> None:
        if self._closed or self._pid != os.getpid():
            return
        if not (self._aggregator.pending_keys or self._outbox or self._cuts):
            self._closed = True
            return
        self.close(self._exit_deadline)

    def _reset_after_fork(self) -> None:
        """In a forked child: forget the parent's counts, task, connections and spool handle."""
        _ABANDONED.extend(x for x in (self._client, self._spool) if x is not None)
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
