"""Counting disclosures and cutting them into batches, with no I/O at all.

``Aggregator.record`` runs on the request path of every response that involves
AI, so it does one dict increment under an uncontended lock and nothing else:
no validation, no allocation beyond the key, no clock formatting. Everything
that costs - checking values against the wire format, sorting, cutting batches,
formatting timestamps - happens in ``drain``, once per window, off the request
path.

The API has no parameter for an IP address, user agent, cookie, user id or raw
URL, so none can reach the registry: counts are keyed by (system, route
template, mode, notice shown, language, window) only.
"""

from __future__ import annotations

import calendar
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, NamedTuple

from ._errors import AIDisclosureError
from ._model import MODES
from ._patterns import IDENTIFIER, LANGUAGE, REFERENCE, ROUTE
from ._version import __version__

__all__ = [
    "SDK_NAME",
    "Aggregator",
    "Batch",
    "CountRow",
    "Decision",
    "DecisionLogDisabled",
    "format_utc",
    "parse_utc",
]

log = logging.getLogger("ai_disclosure.logging")

SDK_NAME: Final = "ai-disclosure-python"

#: Bounds of the wire format (schemas/disclosure-batch.schema.json; a test holds
#: them equal to the schema's).
MAX_ROWS: Final = 10_000
MAX_COUNT: Final = 1_000_000_000
MAX_DROPPED: Final = 2**53 - 1
MAX_WINDOW: Final = 86_400
MAX_ROUTE: Final = 512
MAX_LANGUAGE: Final = 35
#: The registry refuses window starts older than this by its clock.
MAX_AGE: Final = 400 * 86_400

_WARNED_LIMIT: Final = 100
_NEVER: Final = 1 << 62

#: (system, route, mode, notice_shown, language): what ``record`` is given.
_Key = tuple[str, str, str, bool, str | None]


class DecisionLogDisabled(AIDisclosureError, RuntimeError):
    """``record_decision`` was called but the decision-level log was not enabled."""


@dataclass(frozen=True, slots=True)
class CountRow:
    """One row of a batch: how many responses disclosed a system under one key."""

    system: str
    route: str
    mode: str
    notice_shown: bool
    language: str | None
    window_start: int  # epoch seconds, UTC
    count: int

    def to_json(self) -> dict[str, Any]:
        row: dict[str, Any] = {
            "system": self.system,
            "route": self.route,
            "mode": self.mode,
            "notice_shown": self.notice_shown,
        }
        if self.language is not None:
            row["language"] = self.language
        row["window_start"] = format_utc(self.window_start)
        row["count"] = self.count
        return row


class Decision(NamedTuple):
    """One automated individual decision (CRPA L311-3-1): system, case reference, time."""

    system: str
    reference: str
    at: int  # epoch seconds, UTC

    def to_json(self) -> dict[str, Any]:
        return {"system": self.system, "reference": self.reference, "at": format_utc(self.at)}


def format_utc(seconds: float) -> str:
    """``2026-11-26T10:00:00Z``: the wire format's UTC, whole-second timestamps."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(seconds)))


def parse_utc(text: str) -> int:
    """Inverse of ``format_utc``."""
    return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))


@dataclass(frozen=True, slots=True)
class Batch:
    """What one ``POST /v1/disclosures`` carries. Immutable: a retry resends it unchanged.

    ``batch_id`` is the idempotency key: the registry stores a batch once, however
    many times it arrives, so the same counts must never travel under two ids.
    ``sent_at`` is when the batch was cut; a retry keeps it.
    """

    batch_id: str
    service: str
    window_seconds: int
    sent_at: str
    counts: tuple[CountRow, ...]
    dropped: int = 0
    decisions: tuple[Decision, ...] = ()
    sdk: Mapping[str, str] = field(
        default_factory=lambda: {"name": SDK_NAME, "version": __version__}, hash=False
    )

    @property
    def records(self) -> int:
        """The increments this batch carries (decisions count one each)."""
        return sum(row.count for row in self.counts) + len(self.decisions)

    def to_json(self) -> dict[str, Any]:
        """The batch as the registry expects it, valid against ``disclosure-batch``."""
        data: dict[str, Any] = {
            "batch_id": self.batch_id,
            "service": self.service,
            "sent_at": self.sent_at,
            "window_seconds": self.window_seconds,
            "counts": [row.to_json() for row in self.counts],
            "dropped": self.dropped,
            "sdk": dict(self.sdk),
        }
        if self.decisions:
            data["decisions"] = [d.to_json() for d in self.decisions]
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Batch:
        """Rebuild a batch (from the spool, or to derive a smaller one after a rejection)."""
        counts = tuple(
            CountRow(
                system=c["system"],
                route=c["route"],
                mode=c["mode"],
                notice_shown=c["notice_shown"],
                language=c.get("language"),
                window_start=parse_utc(c["window_start"]),
                count=c["count"],
            )
            for c in data.get("counts", ())
        )
        decisions = tuple(
            Decision(d["system"], d["reference"], parse_utc(d["at"]))
            for d in data.get("decisions", ())
        )
        sdk = data.get("sdk") or {"name": SDK_NAME, "version": __version__}
        return cls(
            batch_id=data["batch_id"],
            service=data["service"],
            window_seconds=data.get("window_seconds", 60),
            sent_at=data.get("sent_at") or format_utc(time.time()),
            counts=counts,
            dropped=data.get("dropped", 0),
            decisions=decisions,
            sdk=dict(sdk),
        )

    def derive(
        self,
        counts: Sequence[CountRow],
        decisions: Sequence[Decision] = (),
        *,
        dropped: int = 0,
    ) -> Batch:
        """A new batch, under a fresh id, from part of this one.

        Only for a batch the registry definitively refused (nothing stored), so
        the new id cannot double anything.
        """
        return Batch(
            batch_id=str(uuid.uuid4()),
            service=self.service,
            window_seconds=self.window_seconds,
            sent_at=self.sent_at,
            counts=tuple(counts),
            dropped=dropped,
            decisions=tuple(decisions),
            sdk=self.sdk,
        )


class Aggregator:
    """Counts disclosures per key and time window; cuts closed windows into batches.

    Thread-safe: ``record`` may be called from the event loop and from worker
    threads at once. Memory is bounded by ``max_keys`` distinct keys over all
    windows not yet drained: past it, new keys are dropped and counted, and the
    count travels in the next batch's ``dropped``.
    """

    def __init__(
        self,
        service: str,
        window_seconds: int = 60,
        max_keys: int = 50_000,
        clock: Callable[[], float] = time.time,
        *,
        max_batch: int = 1_000,
        decision_log: bool = False,
        max_decisions: int = 10_000,
    ) -> None:
        if not isinstance(service, str) or not IDENTIFIER.fullmatch(service):
            raise ValueError(f"service {service!r} is not a manifest identifier")
        if not 1 <= window_seconds <= MAX_WINDOW:
            raise ValueError(f"window_seconds must be 1..{MAX_WINDOW}, not {window_seconds}")
        if max_keys < 1:
            raise ValueError("max_keys must be at least 1")
        if not 1 <= max_batch <= MAX_ROWS:
            raise ValueError(f"max_batch must be 1..{MAX_ROWS}, not {max_batch}")
        # Exactly True: a truthy string from a config file or environment must not
        # switch on a log of individual decisions.
        if decision_log is not True and decision_log is not False:
            raise TypeError("decision_log must be the boolean True or False")
        self.service = service
        self.window_seconds = int(window_seconds)
        self.max_keys = max_keys
        self.max_batch = max_batch
        self.max_decisions = max_decisions
        self.decision_log = decision_log
        self._clock = clock
        self._on_full: Callable[[], None] | None = None
        self._warned: set[tuple[str, str]] = set()
        self._reset()
        if decision_log:
            log.info(
                "decision-level log enabled for service %r: every record_decision() sends "
                "its case reference to the registry",
                service,
            )

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._windows: dict[int, dict[_Key, int]] = {}
        self._current: dict[_Key, int] = {}
        self._win_start = float("inf")  # forces a roll on the first record
        self._win_end = float("-inf")
        self._nkeys = 0
        self._full_at = self.max_batch
        self._dropped_unreported = 0
        self._key_dropped = 0
        self._invalid_dropped = 0
        self._drained = 0
        self._decisions: list[Decision] = []
        self._decisions_recorded = 0
        self._decisions_dropped = 0

    def reset_after_fork(self) -> None:
        """Forget everything: the parent process owns what was counted before the fork.

        Replaces the lock rather than taking it: another thread of the parent may
        have held it at the moment of the fork.
        """
        self._reset()

    def set_full_callback(self, callback: Callable[[], None] | None) -> None:
        """``callback()`` runs (outside the lock) when a full batch of keys is waiting."""
        self._on_full = callback

    # --- request path ---------------------------------------------------------

    def record(
        self,
        system: str,
        route: str,
        mode: str,
        notice_shown: bool,
        language: str | None = None,
    ) -> None:
        """Count one response that disclosed ``system``. ``route`` is the route template."""
        key = (system, route, mode, notice_shown, language)
        now = self._clock()
        lock = self._lock
        lock.acquire()  # cheaper than ``with`` on the hot path
        try:
            if not self._win_start <= now < self._win_end:
                self._roll(now)
            counts = self._current
            n = counts.get(key)
            if n is not None:
                counts[key] = n + 1
                return
            if self._nkeys >= self.max_keys:
                self._key_dropped += 1
                self._dropped_unreported += 1
                return
            counts[key] = 1
            self._nkeys += 1
            if self._nkeys < self._full_at:
                return
            self._full_at = _NEVER
            callback = self._on_full
        finally:
            lock.release()
        if callback is not None:
            callback()

    def _roll(self, now: float) -> None:
        start = int(now // self.window_seconds) * self.window_seconds
        current = self._windows.get(start)
        if current is None:
            current = self._windows[start] = {}
        self._current = current
        self._win_start = start
        self._win_end = start + self.window_seconds

    def record_decision(self, system: str, reference: str) -> None:
        """Log one automated individual decision by its opaque case reference.

        Only when the aggregator was built with ``decision_log=True``; raises
        ``DecisionLogDisabled`` otherwise, so a missing opt-in is noticed rather
        than silently ignored. ``reference`` must be an opaque case number
        (letters, digits, ``.``, ``_``, ``:``, ``/``, ``-``; at most 128), never a
        name or an e-mail address.
        """
        if not self.decision_log:
            raise DecisionLogDisabled(
                "the decision-level log is off; enable it explicitly with decision_log=True"
            )
        if not isinstance(system, str) or not IDENTIFIER.fullmatch(system):
            raise ValueError(f"system {system!r} is not a manifest identifier")
        if not isinstance(reference, str) or not REFERENCE.fullmatch(reference):
            raise ValueError(
                "reference must be an opaque case number: 1-128 letters, digits, '.', '_', "
                "':', '/' or '-', starting with a letter or digit"
            )
        decision = Decision(system, reference, int(self._clock()))
        with self._lock:
            if len(self._decisions) >= self.max_decisions:
                self._decisions_dropped += 1
                self._dropped_unreported += 1
                return
            self._decisions.append(decision)
            self._decisions_recorded += 1

    # --- off the request path -------------------------------------------------

    def add_dropped(self, increments: int) -> None:
        """Report ``increments`` lost elsewhere (spool full, batch refused) in the next batch."""
        if increments > 0:
            with self._lock:
                self._dropped_unreported += increments

    @property
    def pending_keys(self) -> int:
        """Distinct keys counted and not yet drained."""
        return self._nkeys

    def has_closed_windows(self, now: float) -> bool:
        """Whether ``drain(now)`` would close at least one window (or report drops)."""
        with self._lock:
            return bool(self._dropped_unreported or self._decisions) or any(
                start + self.window_seconds <= now for start in self._windows
            )

    def next_window_end(self, now: float) -> float:
        """When the window containing ``now`` closes."""
        return (now // self.window_seconds + 1) * self.window_seconds

    def drain(self, now: float | None = None, *, final: bool = False) -> list[Batch]:
        """Close the windows that ended by ``now`` (all of them if ``final``) into batches.

        Each batch holds at most ``max_batch`` rows and a fresh uuid4 ``batch_id``.
        Rows whose values the registry would refuse are dropped here, counted and
        logged once, so one bad value cannot get a whole batch refused.
        Returns ``[]`` when there is nothing to send.
        """
        if now is None:
            now = self._clock()
        width = self.window_seconds
        with self._lock:
            if final:
                popped = list(self._windows.items())
                self._windows = {}
            else:
                closed = [start for start in self._windows if start + width <= now]
                popped = [(start, self._windows.pop(start)) for start in closed]
            if any(counts is self._current for _, counts in popped):
                self._current = {}
                self._win_start = float("inf")
                self._win_end = float("-inf")
            self._nkeys -= sum(len(counts) for _, counts in popped)
            self._full_at = self._nkeys + self.max_batch
            dropped = self._dropped_unreported
            self._dropped_unreported = 0
            decisions = self._decisions
            self._decisions = []
        rows, invalid = self._rows(popped, now)
        if invalid:
            dropped += invalid
        with self._lock:
            self._invalid_dropped += invalid
            self._drained += sum(sum(c.values()) for _, c in popped)
        return self._cut(rows, decisions, dropped, now)

    def _rows(
        self, popped: Iterable[tuple[int, dict[_Key, int]]], now: float
    ) -> tuple[list[CountRow], int]:
        rows: list[CountRow] = []
        invalid = 0
        for start, counts in popped:
            if start < now - MAX_AGE:  # the clock jumped: the registry would refuse them
                invalid += sum(counts.values())
                self._warn_once("window_start", format_utc(start))
                continue
            for (system, route, mode, notice, language), count in counts.items():
                problem = self._problem(system, route, mode, notice, language)
                if problem is not None:
                    invalid += count
                    self._warn_once(*problem)
                    continue
                mode_text, language_text = str(mode), None if language is None else str(language)
                while count > 0:
                    part = min(count, MAX_COUNT)
                    row = CountRow(
                        system, route, mode_text, bool(notice), language_text, start, part
                    )
                    rows.append(row)
                    count -= part
        rows.sort(key=lambda r: (r.window_start, r.system, r.route, r.mode, r.notice_shown))
        return rows, invalid

    @staticmethod
    def _problem(
        system: object, route: object, mode: object, notice: object, language: object
    ) -> tuple[str, str] | None:
        if not isinstance(system, str) or not IDENTIFIER.fullmatch(system):
            return "system", repr(system)
        if not isinstance(route, str) or len(route) > MAX_ROUTE or not ROUTE.fullmatch(route):
            return "route", repr(route)[:80]
        if mode not in MODES:
            return "mode", repr(mode)
        if notice is not True and notice is not False:
            return "notice_shown", repr(notice)
        if language is not None and (
            not isinstance(language, str)
            or len(language) > MAX_LANGUAGE
            or not LANGUAGE.fullmatch(language)
        ):
            return "language", repr(language)
        return None

    def _warn_once(self, name: str, value: str) -> None:
        if (name, value) in self._warned or len(self._warned) >= _WARNED_LIMIT:
            return
        self._warned.add((name, value))
        hint = " (pass the route template, never the URL)" if name == "route" else ""
        log.warning("dropping disclosures with an invalid %s %s%s", name, value, hint)

    def _cut(
        self, rows: list[CountRow], decisions: list[Decision], dropped: int, now: float
    ) -> list[Batch]:
        sent_at = format_utc(now)
        size = self.max_batch

        def batch(counts: Sequence[CountRow], dropped: int, ds: Sequence[Decision] = ()) -> Batch:
            return Batch(
                batch_id=str(uuid.uuid4()),
                service=self.service,
                window_seconds=self.window_seconds,
                sent_at=sent_at,
                counts=tuple(counts),
                dropped=dropped,
                decisions=tuple(ds),
            )

        # The drops since the previous batch ride on the first batch (alone if need be),
        # at most MAX_DROPPED each; the rest waits for the next drain.
        reported = min(dropped, MAX_DROPPED)
        if dropped > reported:
            with self._lock:
                self._dropped_unreported += dropped - reported
        batches = [
            batch(rows[i : i + size], reported if i == 0 else 0) for i in range(0, len(rows), size)
        ]
        if not batches and reported:
            batches.append(batch((), reported))
        # Decisions travel apart, so a registry that refuses them keeps the counts.
        batches += [batch((), 0, decisions[i : i + size]) for i in range(0, len(decisions), size)]
        return batches

    def stats(self) -> dict[str, int]:
        """Counters, in increments (a decision counts one): recorded, pending (not yet
        drained), dropped; and distinct keys pending."""
        with self._lock:
            pending = sum(sum(counts.values()) for counts in self._windows.values())
            decisions = self._decisions_recorded + self._decisions_dropped
            return {
                "recorded": self._drained + pending + self._key_dropped + decisions,
                "pending": pending + len(self._decisions),
                "dropped": self._key_dropped + self._invalid_dropped + self._decisions_dropped,
                "keys": self._nkeys,
                "decisions_recorded": self._decisions_recorded,
            }
