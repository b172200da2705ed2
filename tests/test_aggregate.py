"""The aggregator: windows, the key bound, batch cutting, wire format, thread safety."""

from __future__ import annotations

import copy
import inspect
import logging
import threading
import uuid
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from ai_disclosure import _aggregate
from ai_disclosure._aggregate import (
    Aggregator,
    Batch,
    DecisionLogDisabled,
    format_utc,
    parse_utc,
)
from ai_disclosure._schemas import _registry, load_schema, validator

SYSTEM = "assistant-dechets"
ROUTE = "/dechets/assistant*"
T0 = 1_795_600_800.0  # 2026-11-26T07:20:00Z, a multiple of 60


class Clock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def rec(agg: Aggregator, **kw: Any) -> None:
    args = {
        "system": SYSTEM,
        "route": ROUTE,
        "mode": "ai-originated",
        "notice_shown": True,
        "language": "fr",
    }
    args.update(kw)
    agg.record(**args)


def valid(batch: Batch) -> None:
    validator("disclosure-batch").validate(batch.to_json())


def test_record_takes_nothing_personal() -> None:
    params = list(inspect.signature(Aggregator.record).parameters)
    assert params == ["self", "system", "route", "mode", "notice_shown", "language"]


def test_same_key_merges_and_windows_split() -> None:
    clock = Clock(T0 + 5)
    agg = Aggregator("demarches", window_seconds=60, clock=clock)
    for _ in range(3):
        rec(agg)
    rec(agg, language="en")
    clock.now = T0 + 65  # next window
    rec(agg)

    assert agg.drain(T0 + 59) == []  # first window not over yet
    [batch] = agg.drain(T0 + 60)
    valid(batch)
    data = batch.to_json()
    assert data["window_seconds"] == 60
    assert {(c["language"], c["count"]) for c in data["counts"]} == {("fr", 3), ("en", 1)}
    assert {c["window_start"] for c in data["counts"]} == {format_utc(T0)}
    assert data["sent_at"] == format_utc(T0 + 60)

    [batch] = agg.drain(T0 + 120)
    assert [(c.window_start, c.count) for c in batch.counts] == [(T0 + 60, 1)]
    assert agg.drain(T0 + 10_000) == []


def test_window_start_is_utc_whole_seconds() -> None:
    agg = Aggregator("demarches", window_seconds=7, clock=Clock(T0 + 3.999))
    rec(agg)
    [batch] = agg.drain(final=True)
    start = batch.counts[0].window_start
    assert start % 7 == 0
    assert start <= T0 + 3.999 < start + 7
    assert batch.to_json()["counts"][0]["window_start"].endswith("Z")
    assert parse_utc(format_utc(start)) == start


def test_final_drain_includes_the_open_window() -> None:
    agg = Aggregator("demarches", clock=Clock())
    rec(agg)
    assert agg.drain(T0 + 1) == []
    [batch] = agg.drain(T0 + 1, final=True)
    assert batch.records == 1
    # Counting goes on after a drain of the current window.
    rec(agg)
    rec(agg)
    [batch] = agg.drain(T0 + 60)
    assert batch.records == 2


def test_clock_going_back_still_counts() -> None:
    clock = Clock(T0 + 125)
    agg = Aggregator("demarches", clock=clock)
    rec(agg)
    clock.now = T0 + 5  # NTP step backwards, or a straggling thread
    rec(agg)
    clock.now = T0 + 126
    rec(agg)
    batches = agg.drain(final=True)
    starts = sorted((c.window_start, c.count) for b in batches for c in b.counts)
    assert starts == [(T0, 1), (T0 + 120, 2)]


def test_key_bound_drops_and_counts() -> None:
    agg = Aggregator("demarches", max_keys=2, clock=Clock())
    rec(agg, language="fr")
    rec(agg, language="en")
    for _ in range(5):
        rec(agg, language="oc")  # a third key: dropped
    rec(agg, language="fr")  # existing keys keep counting
    assert agg.stats() == {
        "recorded": 8,
        "pending": 3,
        "dropped": 5,
        "keys": 2,
        "decisions_recorded": 0,
    }
    [batch] = agg.drain(final=True)
    assert batch.dropped == 5
    assert batch.records == 3
    valid(batch)
    rec(agg, language="oc")  # room again after the drain
    [batch] = agg.drain(final=True)
    assert (batch.dropped, batch.records) == (0, 1)


def test_dropped_alone_makes_a_heartbeat_batch() -> None:
    agg = Aggregator("demarches", clock=Clock())
    agg.add_dropped(4)
    [batch] = agg.drain()
    assert batch.counts == ()
    assert batch.dropped == 4
    valid(batch)


def test_batches_are_cut_at_max_batch_with_fresh_ids() -> None:
    agg = Aggregator("demarches", max_batch=3, clock=Clock())
    for i in range(7):
        rec(agg, route=f"/r{i}")
    agg.add_dropped(2)
    batches = agg.drain(final=True)
    assert [len(b.counts) for b in batches] == [3, 3, 1]
    assert [b.dropped for b in batches] == [2, 0, 0]
    ids = [b.batch_id for b in batches]
    assert len(set(ids)) == 3
    assert all(uuid.UUID(i).version == 4 for i in ids)
    for batch in batches:
        valid(batch)


def test_invalid_values_are_dropped_counted_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    agg = Aggregator("demarches", clock=Clock())
    rec(agg)
    rec(agg, route="https://portail.example/dechets?q=x")
    rec(agg, route="/dechets?q=secret")
    rec(agg, system="Not An Id")
    rec(agg, mode="ai-assisted")
    rec(agg, language="français")
    rec(agg, notice_shown="yes")
    with caplog.at_level(logging.WARNING, logger="ai_disclosure.logging"):
        [batch] = agg.drain(final=True)
    valid(batch)
    assert batch.records == 1
    assert batch.dropped == 6
    assert agg.stats()["dropped"] == 6
    assert "route template" in caplog.text
    assert "secret" not in "".join(str(c) for c in batch.to_json()["counts"])


def test_large_counts_split_into_rows_within_the_schema(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_aggregate, "MAX_COUNT", 4)
    agg = Aggregator("demarches", clock=Clock())
    for _ in range(10):
        rec(agg)
    [batch] = agg.drain(final=True)
    assert [c.count for c in batch.counts] == [4, 4, 2]


def test_full_callback_fires_once_per_full_batch() -> None:
    agg = Aggregator("demarches", max_batch=3, clock=Clock())
    calls: list[int] = []
    agg.set_full_callback(lambda: calls.append(agg.pending_keys))
    for i in range(5):
        rec(agg, route=f"/r{i}")
    assert calls == [3]
    agg.drain(final=True)
    for i in range(3):
        rec(agg, route=f"/s{i}")
    assert calls == [3, 3]


def test_batch_json_round_trip() -> None:
    agg = Aggregator("demarches", clock=Clock())
    rec(agg)
    rec(agg, language=None, notice_shown=False, mode="none")
    agg.add_dropped(1)
    [batch] = agg.drain(final=True)
    again = Batch.from_json(copy.deepcopy(batch.to_json()))
    assert again == batch
    no_language = [c for c in batch.to_json()["counts"] if c["mode"] == "none"]
    assert no_language
    assert "language" not in no_language[0]


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"service": "Démarches"}, ValueError),
        ({"window_seconds": 0}, ValueError),
        ({"window_seconds": 86_401}, ValueError),
        ({"max_batch": 10_001}, ValueError),
        ({"max_keys": 0}, ValueError),
        ({"decision_log": "yes"}, TypeError),
        ({"decision_log": 1}, TypeError),
    ],
)
def test_bad_settings_are_refused(kwargs: dict[str, Any], error: type[Exception]) -> None:
    args: dict[str, Any] = {"service": "demarches", **kwargs}
    with pytest.raises(error):
        Aggregator(**args)


def test_records_from_many_threads_while_draining_are_never_lost() -> None:
    agg = Aggregator("demarches", window_seconds=1, max_batch=10_000)
    threads, per_thread = 8, 20_000
    drained: list[Batch] = []
    stop = threading.Event()

    def drainer() -> None:
        while not stop.is_set():
            drained.extend(agg.drain(final=True))

    def worker(n: int) -> None:
        for i in range(per_thread):
            rec(agg, route=f"/t{n}/{i % 7}")

    background = threading.Thread(target=drainer)
    background.start()
    workers = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    stop.set()
    background.join()
    drained.extend(agg.drain(final=True))
    assert sum(b.records for b in drained) == threads * per_thread
    assert agg.stats()["recorded"] == threads * per_thread


# --- the opt-in decision log -------------------------------------------------------------


def test_decision_log_is_off_by_default_and_says_so() -> None:
    agg = Aggregator("demarches", clock=Clock())
    with pytest.raises(DecisionLogDisabled, match="decision_log=True"):
        agg.record_decision(SYSTEM, "DOSSIER-2026-00042")


def test_decision_log_sends_decisions_apart_from_counts() -> None:
    agg = Aggregator("demarches", decision_log=True, clock=Clock())
    rec(agg)
    agg.record_decision("calcul-aides", "DOSSIER-2026-00042")
    batches = agg.drain(final=True)
    assert [len(b.counts) for b in batches] == [1, 0]
    assert "decisions" not in batches[0].to_json()
    decisions = batches[1].to_json()["decisions"]
    assert decisions == [
        {"system": "calcul-aides", "reference": "DOSSIER-2026-00042", "at": format_utc(T0)}
    ]
    # Valid against the schema with the proposed 'decisions' array added.
    proposed_validator(batches[1].to_json())
    assert Batch.from_json(batches[1].to_json()) == batches[1]


@pytest.mark.parametrize("reference", ["jean.dupont@example.fr", "Jean Dupont", "", "x" * 129])
def test_decision_reference_must_be_opaque(reference: str) -> None:
    agg = Aggregator("demarches", decision_log=True, clock=Clock())
    with pytest.raises(ValueError, match="opaque"):
        agg.record_decision(SYSTEM, reference)


def proposed_validator(data: dict[str, Any]) -> None:
    """The batch schema plus the proposed optional ``decisions`` array."""
    schema = copy.deepcopy(load_schema("disclosure-batch"))
    schema["properties"]["decisions"] = {
        "type": "array",
        "maxItems": 10000,
        "items": {
            "type": "object",
            "required": ["system", "reference", "at"],
            "additionalProperties": False,
            "properties": {
                "system": {"$ref": "manifest.schema.json#/$defs/identifier"},
                "reference": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$"},
                "at": schema["$defs"]["count"]["properties"]["window_start"],
            },
        },
    }
    Draft202012Validator(
        schema, registry=_registry(), format_checker=Draft202012Validator.FORMAT_CHECKER
    ).validate(data)


# --- property: whatever valid keys are recorded, batches are valid and totals exact -----

keys = st.tuples(
    st.sampled_from(["assistant-dechets", "calcul-aides", "t"]),
    st.from_regex(r"/[a-z0-9/*{}_-]{0,20}", fullmatch=True),
    st.sampled_from(sorted(_aggregate.MODES)),
    st.booleans(),
    st.one_of(st.none(), st.sampled_from(["fr", "en", "oc", "ar", "fr-FR"])),
    st.floats(min_value=0, max_value=600),
)


@settings(max_examples=60, deadline=None)
@given(records=st.lists(keys, max_size=80), max_batch=st.integers(1, 7))
def test_any_valid_records_give_valid_batches_and_exact_totals(
    records: list[tuple[str, str, str, bool, str | None, float]], max_batch: int
) -> None:
    clock = Clock()
    agg = Aggregator("demarches", window_seconds=30, clock=clock, max_batch=max_batch)
    expected: dict[tuple[Any, ...], int] = {}
    for system, route, mode, notice, language, offset in records:
        clock.now = T0 + offset
        agg.record(system, route, mode, notice, language)
        start = int((T0 + offset) // 30 * 30)
        key = (system, route, mode, notice, language, start)
        expected[key] = expected.get(key, 0) + 1
    batches = agg.drain(T0 + 300) + agg.drain(final=True)
    got: dict[tuple[Any, ...], int] = {}
    for batch in batches:
        valid(batch)
        assert len(batch.counts) <= max_batch
        for c in batch.counts:
            key = (c.system, c.route, c.mode, c.notice_shown, c.language, c.window_start)
            got[key] = got.get(key, 0) + c.count
    assert got == expected


@pytest.mark.parametrize(
    "route",
    ["/a\x00b", "/a\nb", "/a\tb", "/a b", "/a#b", "/a\x1b", "/a\x85", "/a\u2028", "/a\ud800"],
)
def test_routes_the_registry_refuses_are_dropped_locally(route: str) -> None:
    agg = Aggregator("demarches", clock=Clock())
    rec(agg)
    rec(agg, route=route)
    [batch] = agg.drain(final=True)
    valid(batch)
    assert [c.route for c in batch.counts] == [ROUTE]
    assert batch.dropped == 1


def test_language_tags_longer_than_35_are_dropped_locally() -> None:
    longest = "fr-abcdefgh-abcdefgh-abcdefgh-abcde"
    agg = Aggregator("demarches", clock=Clock())
    rec(agg, language=longest)
    rec(agg, language=longest + "f")
    [batch] = agg.drain(final=True)
    valid(batch)
    assert [c.language for c in batch.counts] == [longest]
    assert batch.dropped == 1


def test_dropped_beyond_the_schema_bound_is_carried_to_the_next_batch() -> None:
    agg = Aggregator("demarches", clock=Clock())
    agg.add_dropped(_aggregate.MAX_DROPPED + 5)
    [batch] = agg.drain(final=True)
    valid(batch)
    assert batch.dropped == _aggregate.MAX_DROPPED
    [rest] = agg.drain(final=True)
    assert rest.dropped == 5


def test_windows_older_than_the_registry_accepts_are_dropped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    agg = Aggregator("demarches", clock=clock)
    for _ in range(3):
        rec(agg)
    clock.now = T0 + 401 * 86_400  # the clock jumped: the registry would refuse the window
    rec(agg)
    with caplog.at_level(logging.WARNING, logger="ai_disclosure.logging"):
        [batch] = agg.drain(final=True)
    valid(batch)
    assert [c.window_start for c in batch.counts] == [int(clock.now // 60 * 60)]
    assert batch.dropped == 3
    assert "window_start" in caplog.text
