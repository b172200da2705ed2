"""When to retry a batch, how long to wait, and what to send instead of one refused.

A pure policy, in the way of h11: no I/O and no clock reads. The logger feeds it
responses, failure counts and the current time, and acts on what it returns, so
every rule here is tested without a network, a loop or a sleep.
"""

from __future__ import annotations

import enum
import random as _random
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

import httpx

from ._aggregate import Batch
from .client import RegistryError

__all__ = [
    "AttemptResult",
    "Outcome",
    "Strikes",
    "backoff_delay",
    "classify",
    "derive",
    "retry_delay",
    "unexpected",
]

_POINTER: Final = re.compile(r"^/(counts|decisions)/(\d+)(?:/|$)")
_MAX_STRIKES: Final = 1_024  # batch ids whose server errors in a row are remembered


def backoff_delay(
    failures: int, *, base: float, cap: float, random: Callable[[], float] = _random.random
) -> float:
    """Delay before retry number ``failures`` (1, 2, ...): exponential, capped, jittered.

    Half the delay is fixed and half random, so a fleet of services that lost the
    registry together does not come back in step, and none retries at once.
    """
    ceiling = min(cap, base * 2.0 ** min(max(failures, 1) - 1, 60))
    return ceiling / 2 + ceiling / 2 * random()


class Outcome(enum.Enum):
    SENT = "sent"
    DUPLICATE = "duplicate"
    RETRY = "retry"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class AttemptResult:
    """What to do after one attempt: ``delay`` is the registry's ``Retry-After``, if any."""

    outcome: Outcome
    delay: float | None = None
    error: RegistryError | None = None


def classify(response: httpx.Response) -> AttemptResult:
    """Sort a response to ``POST /v1/disclosures``.

    2xx is acknowledged (200 "duplicate": stored by an earlier attempt). 408, 429
    and 5xx are transient. Any other 4xx is final: the registry stored nothing and
    a retry cannot fix it. Anything else (a redirect...) is kept and retried.
    """
    status = response.status_code
    if 200 <= status < 300:
        if status == 200 and _field(response, "status") == "duplicate":
            return AttemptResult(Outcome.DUPLICATE)
        return AttemptResult(Outcome.SENT)
    error = RegistryError.from_response(response)
    if 400 <= status < 500 and status not in (408, 429):
        return AttemptResult(Outcome.REJECTED, None, error)
    return AttemptResult(Outcome.RETRY, error.retry_after, error)


def _field(response: httpx.Response, name: str) -> object:
    try:
        data = response.json()
    except ValueError:
        return None
    return data.get(name) if isinstance(data, Mapping) else None


def unexpected(exc: BaseException) -> RegistryError:
    """A failure that is neither an answer nor a network error, as a retryable error."""
    return RegistryError(None, "unexpected error", f"{type(exc).__name__}: {exc}")


def retry_delay(
    verdict: AttemptResult,
    failures: int,
    *,
    base: float,
    cap: float,
    max_retry_after: float,
    random: Callable[[], float] = _random.random,
) -> float:
    """Seconds to wait after failure number ``failures``: the registry's ``Retry-After``
    (bounded by ``max_retry_after``) when it gave one, the backoff schedule otherwise."""
    if verdict.delay is not None:
        return min(verdict.delay, max_retry_after)
    return backoff_delay(failures, base=base, cap=cap, random=random)


class Strikes:
    """Server errors in a row per batch id, to tell a poison batch from an outage.

    Only a 5xx strikes: unreachable, 408 and 429 say something about the registry,
    not about the batch.
    """

    def __init__(self, poison_after: int, *, remember: int = _MAX_STRIKES) -> None:
        if poison_after < 1:
            raise ValueError("poison_after must be at least 1")
        self.poison_after = poison_after
        self._remember = remember
        self._counts: dict[str, int] = {}

    def strike(self, batch_id: str, verdict: AttemptResult) -> bool:
        """Count a server error against ``batch_id``; True once it makes the batch a suspect."""
        error = verdict.error
        if error is None or error.status is None or error.status < 500:
            return False
        if len(self._counts) >= self._remember:
            # Ids another process sent meanwhile are never cleared: start afresh, at
            # worst a poison batch gets ``poison_after`` more tries.
            self._counts.clear()
        count = self._counts.get(batch_id, 0) + 1
        self._counts[batch_id] = count
        return count >= self.poison_after

    def clear(self, batch_id: str) -> None:
        self._counts.pop(batch_id, None)

    def count(self, batch_id: str) -> int:
        return self._counts.get(batch_id, 0)

    def is_suspect(self, batch_id: str) -> bool:
        return self.count(batch_id) >= self.poison_after

    def suspects(self) -> int:
        """How many remembered batches are suspects (each gets a place past the others)."""
        return sum(n >= self.poison_after for n in self._counts.values())


def derive(batch: Batch, status: int | None, error: RegistryError | None) -> list[Batch]:
    """Smaller batches to send instead of one the registry refused outright, or ``[]``.

    413: split in halves. 422 naming rows (``/counts/3/system``): send the other
    rows, and count the refused ones as dropped. Each step strictly shrinks the
    batch, so this ends.
    """
    if status == 413:
        return _halves(batch)
    if status != 422 or error is None or not error.errors:
        return []
    bad: dict[str, set[int]] = {"counts": set(), "decisions": set()}
    for problem in error.errors:
        match = _POINTER.match(problem.pointer)
        if match is None:
            return []  # the batch as a whole is wrong: nothing smaller would pass
        bad[match[1]].add(int(match[2]))
    counts = [row for i, row in enumerate(batch.counts) if i not in bad["counts"]]
    decisions = [d for i, d in enumerate(batch.decisions) if i not in bad["decisions"]]
    pruned = batch.records - sum(r.count for r in counts) - len(decisions)
    if pruned <= 0:
        return []
    return [batch.derive(counts, decisions, dropped=batch.dropped + pruned)]


def _halves(batch: Batch) -> list[Batch]:
    """The batch cut in two along its first list with more than one row; the first half
    carries the ``dropped`` count so it is reported once. The rows of the other list
    are not carried over: the logger counts them as dropped."""
    counts, decisions = batch.counts, batch.decisions
    if len(counts) > 1:
        half = len(counts) // 2
        return [
            batch.derive(counts[:half], dropped=batch.dropped),
            batch.derive(counts[half:], dropped=0),
        ]
    if len(decisions) > 1:
        half = len(decisions) // 2
        return [
            batch.derive((), decisions[:half], dropped=batch.dropped),
            batch.derive((), decisions[half:], dropped=0),
        ]
    return []
