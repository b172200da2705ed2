"""The retry policy alone: responses, failure counts and times in, decisions out."""

from __future__ import annotations

import httpx
import pytest

from ai_disclosure._aggregate import Aggregator, Batch
from ai_disclosure._retry import (
    AttemptResult,
    Outcome,
    Strikes,
    backoff_delay,
    classify,
    derive,
    retry_delay,
    unexpected,
)
from ai_disclosure.client import ProblemField, RegistryError

SYSTEM = "assistant-dechets"


def batch(routes: int, *, decisions: int = 0) -> Batch:
    aggregator = Aggregator("demarches", 60, 1_000, lambda: 1_000.0, decision_log=True)
    for n in range(routes):
        aggregator.record(SYSTEM, f"/r{n}", "ai-originated", True, "fr")
    for n in range(decisions):
        aggregator.record_decision(SYSTEM, f"DOS-{n:04d}")
    cuts = aggregator.drain(1_000.0, final=True)
    # One batch holding both kinds of rows, whatever way the aggregator cuts them.
    counts = [row for cut in cuts for row in cut.counts]
    decisions = [d for cut in cuts for d in cut.decisions]
    return cuts[0].derive(counts, decisions, dropped=0)


def problem(status: int, *pointers: str) -> RegistryError:
    errors = tuple(ProblemField(p, "wrong") for p in pointers)
    return RegistryError(status, "refused", errors=errors)


def test_backoff_doubles_up_to_the_cap_with_half_of_it_random() -> None:
    low = [backoff_delay(n, base=2, cap=20, random=lambda: 0.0) for n in range(1, 6)]
    high = [backoff_delay(n, base=2, cap=20, random=lambda: 1.0) for n in range(1, 6)]
    assert low == [1, 2, 4, 8, 10]
    assert high == [2, 4, 8, 16, 20]
    assert backoff_delay(0, base=2, cap=20, random=lambda: 1.0) == 2  # never below the first


def test_retry_after_wins_over_the_schedule_within_its_bound() -> None:
    def delay(verdict: AttemptResult, failures: int = 3) -> float:
        return retry_delay(
            verdict, failures, base=1, cap=100, max_retry_after=60, random=lambda: 1.0
        )

    assert delay(AttemptResult(Outcome.RETRY, 12.0)) == 12
    assert delay(AttemptResult(Outcome.RETRY, 0.0)) == 0
    assert delay(AttemptResult(Outcome.RETRY, 7_200.0)) == 60
    assert delay(AttemptResult(Outcome.RETRY)) == 4
    assert delay(AttemptResult(Outcome.RETRY), failures=1) == 1


@pytest.mark.parametrize(
    ("response", "outcome"),
    [
        (httpx.Response(202, json={"status": "stored"}), Outcome.SENT),
        (httpx.Response(200, json={"status": "duplicate"}), Outcome.DUPLICATE),
        (httpx.Response(200, text="not json"), Outcome.SENT),
        (httpx.Response(200, json=["duplicate"]), Outcome.SENT),
        (httpx.Response(408), Outcome.RETRY),
        (httpx.Response(429), Outcome.RETRY),
        (httpx.Response(503), Outcome.RETRY),
        (httpx.Response(307), Outcome.RETRY),
        (httpx.Response(401), Outcome.REJECTED),
        (httpx.Response(409), Outcome.REJECTED),
        (httpx.Response(422), Outcome.REJECTED),
    ],
)
def test_classify(response: httpx.Response, outcome: Outcome) -> None:
    verdict = classify(response)
    assert verdict.outcome is outcome
    assert (verdict.error is None) == (outcome in (Outcome.SENT, Outcome.DUPLICATE))


def test_classify_keeps_the_registry_s_retry_after_and_problem() -> None:
    response = httpx.Response(
        503,
        headers={"Retry-After": "30"},
        json={"title": "Maintenance", "status": 503, "detail": "back soon"},
    )
    verdict = classify(response)
    assert verdict.delay == 30
    assert verdict.error is not None
    assert (verdict.error.status, verdict.error.title) == (503, "Maintenance")


def test_only_server_errors_strike_and_a_success_forgets() -> None:
    strikes = Strikes(2)
    server = AttemptResult(Outcome.RETRY, None, problem(502))
    for harmless in (
        AttemptResult(Outcome.RETRY, None, problem(429)),
        AttemptResult(Outcome.RETRY, None, RegistryError(None, "registry unreachable")),
        AttemptResult(Outcome.RETRY),
    ):
        assert not strikes.strike("a", harmless)
    assert strikes.count("a") == 0
    assert not strikes.strike("a", server)
    assert strikes.strike("a", server)
    assert strikes.is_suspect("a")
    assert not strikes.is_suspect("b")
    assert strikes.suspects() == 1
    strikes.clear("a")
    assert (strikes.count("a"), strikes.suspects()) == (0, 0)


def test_strikes_remember_a_bounded_number_of_batches() -> None:
    strikes = Strikes(3, remember=4)
    server = AttemptResult(Outcome.RETRY, None, problem(500))
    for n in range(4):
        strikes.strike(f"b{n}", server)
    strikes.strike("b4", server)  # the fifth id: the table starts afresh
    assert [strikes.count(f"b{n}") for n in range(5)] == [0, 0, 0, 0, 1]


def test_poison_after_must_be_positive() -> None:
    with pytest.raises(ValueError, match="poison_after"):
        Strikes(0)


def test_a_batch_too_large_is_split_in_halves_that_count_the_dropped_once() -> None:
    whole = batch(5)
    first, second = derive(whole, 413, problem(413))
    assert (len(first.counts), len(second.counts)) == (2, 3)
    assert first.counts + second.counts == whole.counts
    assert (first.dropped, second.dropped) == (whole.dropped, 0)
    assert len({whole.batch_id, first.batch_id, second.batch_id}) == 3
    assert derive(batch(1), 413, problem(413)) == []


def test_decisions_are_split_once_the_counts_cannot_be() -> None:
    whole = batch(1, decisions=4)
    first, second = derive(whole, 413, problem(413))
    assert first.decisions + second.decisions == whole.decisions
    assert (len(first.decisions), len(second.decisions)) == (2, 2)


def test_rows_the_registry_names_are_left_out_and_counted() -> None:
    whole = batch(4, decisions=2)
    [rest] = derive(whole, 422, problem(422, "/counts/1/system", "/decisions/0"))
    assert rest.counts == (whole.counts[0], *whole.counts[2:])
    assert rest.decisions == whole.decisions[1:]
    assert rest.dropped == whole.dropped + whole.counts[1].count + 1


@pytest.mark.parametrize(
    "error",
    [
        problem(422, "/service"),  # the batch as a whole is wrong
        problem(422),  # nothing named
        problem(400, "/counts/0"),  # not a refusal of rows
        None,
    ],
)
def test_nothing_smaller_is_sent_when_no_row_is_to_blame(error: RegistryError | None) -> None:
    status = error.status if error is not None else 422
    assert derive(batch(3), status, error) == []


def test_unexpected_failures_are_named_by_type() -> None:
    error = unexpected(KeyError("x"))
    assert error.status is None
    assert str(error) == "unexpected error: KeyError: 'x'"
