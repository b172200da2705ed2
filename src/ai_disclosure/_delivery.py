"""Getting cut batches to the registry: the delivery side of ``DisclosureLogger``.

Cutting (the aggregator drained into batches, stored in the spool or the memory
outbox, in a thread), sending them oldest first, and what each answer means for
a batch: acknowledged, refused (re-cut under new ids or lost, counted), parked
after ``poison_after`` server errors while later batches are stored, or kept
for a retry after a backoff. At shutdown, what is left is sent within a
deadline; without an event loop (at interpreter exit), written to the spool or
sent with the blocking client.

The rules (what to retry, how long to wait, when a batch is a suspect, what to
send instead of a refused one) are ``_retry``'s, pure; this module does the
I/O. ``Delivery`` is ``DisclosureLogger``'s base class: the logger owns the
event loop, the background task and the lifecycle.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import itertools
import json
import logging
import os
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

import httpx

from ._aggregate import Aggregator, Batch
from ._retry import AttemptResult, Outcome, Strikes, classify, derive, retry_delay, unexpected
from ._spool import ParkedEntry, Spool, SpoolEntry, SpoolError
from .client import AsyncRegistryClient, RegistryClient, encode_batch, transport_error

log = logging.getLogger("ai_disclosure.logging")

_CLAIM: Final = 16  # batches taken from the spool at a time
_WARN_EVERY: Final = 300.0  # seconds between repeated outage warnings
_MEMORY_PARKED: Final = 100  # parked batches kept in memory without a spool
_RESEND_HINT: Final = "ai-disclosure registry parked list --spool-dir DIR"
_COUNTERS: Final = (
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
)


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


class Delivery:
    """Cut, store and send batches; count what is sent, refused, parked or lost."""

    # Settings, from ``DisclosureLogger.__init__``.
    service: str
    registry_url: str
    _aggregator: Aggregator
    _token: str | None
    _transport: httpx.AsyncBaseTransport | None
    _timeout: float | httpx.Timeout
    _spool_dir: str | os.PathLike[str] | None
    _spool_max_batches: int
    _spool_max_bytes: int
    _backoff_base: float
    _backoff_cap: float
    _max_retry_after: float
    _poison_after: int
    _clock: Callable[[], float]
    _random: Callable[[], float]
    _full_pending: bool  # a full batch is waiting (set from any thread)

    def _init_delivery(self) -> None:
        """The state of delivery: none of it survives a fork (see ``_reset_after_fork``)."""
        self._client: AsyncRegistryClient | None = None
        self._spool: Spool | None = None
        self._spool_tried = False
        self._spool_backlog = False
        self._outbox: deque[SpoolEntry] = deque()
        self._cuts: set[asyncio.Future[_Cut]] = set()
        self._spool_ops: set[asyncio.Future[object]] = set()
        self._failures = 0
        self._strikes = Strikes(self._poison_after)
        self._parked: deque[ParkedEntry] = deque(maxlen=_MEMORY_PARKED)
        self._retry_at = 0.0
        self._last_warning = float("-inf")
        self._last_error: str | None = None
        self._counters = dict.fromkeys(_COUNTERS, 0)

    # --- the registry client and the spool ------------------------------------------

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
            suspects: list[tuple[SpoolEntry, AttemptResult]] = []
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

    async def _last_try(self, suspects: list[tuple[SpoolEntry, AttemptResult]]) -> bool:
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

    async def _attempt(self, item: SpoolEntry) -> AttemptResult:
        assert self._client is not None
        try:
            response = await self._client.post_body(item.body)
        except (httpx.HTTPError, OSError) as exc:
            return AttemptResult(Outcome.RETRY, None, transport_error(exc, self.registry_url))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("disclosure logger: sending failed unexpectedly: %r", exc)
            return AttemptResult(Outcome.RETRY, None, unexpected(exc))
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

    async def _acknowledged(self, item: SpoolEntry, verdict: AttemptResult) -> None:
        self._strikes.clear(item.batch_id)
        counters = self._counters
        counters["sent"] += item.records
        counters["batches_sent"] += 1
        if verdict.outcome is Outcome.DUPLICATE:
            counters["batches_duplicate"] += 1
        if self._failures:
            log.info(
                "registry reachable again (failed attempts: %d); sending pending batches",
                self._failures,
            )
        self._failures = 0
        self._retry_at = 0.0
        if not self._from_outbox(item) and self._spool is not None:
            await self._in_spool(self._spool.delete, item.batch_id)

    async def _rejected(self, item: SpoolEntry, verdict: AttemptResult) -> None:
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

    async def _park(self, item: SpoolEntry, verdict: AttemptResult, why: str) -> None:
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

    def _failed(self, verdict: AttemptResult) -> None:
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

    # --- at shutdown ---------------------------------------------------------------

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

    # --- without an event loop: at interpreter exit ---------------------------------

    def _deliver_at_exit(self, deadline: float) -> None:
        """Cut what is left and write it to the spool, or without a spool send it
        with the blocking client, within ``deadline`` seconds."""
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
