"""The fast batch check is never looser than the JSON Schema."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ai_disclosure import _aggregate
from ai_disclosure._schemas import load_schema, validator
from ai_disclosure.registry import tables
from ai_disclosure.registry.validation import (
    DAYS_BACK,
    MAX_DROPPED,
    MAX_LANGUAGE,
    MAX_ROUTE,
    ROUTE,
    accepted_range,
    batch_errors,
    first_problem,
)

from .conftest import BATCH_EXAMPLES, load_batch

SCHEMA = validator("disclosure-batch")


def test_valid_examples_pass_the_fast_path() -> None:
    paths = sorted((BATCH_EXAMPLES / "valid").glob("*.json"))
    assert paths  # else this passes having checked nothing
    for path in paths:
        assert first_problem(json.loads(path.read_text())) is None, path.name


def test_invalid_examples_fail_the_fast_path_at_the_expected_field() -> None:
    expected = json.loads((BATCH_EXAMPLES / "invalid" / "EXPECTED.json").read_text())
    assert expected  # else this passes having checked nothing
    for name, pointer in expected.items():
        data = load_batch("invalid", name)
        problem = first_problem(data)
        assert problem is not None, name
        assert problem.pointer == pointer, name
        assert pointer in [e.pointer for e in batch_errors(data)], name


# Values close to the valid ones, and a few of the wrong type, for every field.
ANY_VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-2, 2_000_000_000),
    st.sampled_from([2**53 - 1, 2**53, 2**63, 1e30, float(2**53)]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([1.0, 3.0, 0.5, 86400.0, 86401.0]),
    st.text(max_size=8),
    st.sampled_from(
        [
            "",
            "assistant-dechets",
            "Assistant",
            "a-",
            "a\n",
            "/",
            "/x\n",
            "x/",
            "fr",
            "fr-FR",
            "FR",
            "none",
            "ai-assisted",
            "2026-11-26T10:00:00Z",
            "2026-11-26T10:00:00+01:00",
            "2026-02-30T10:00:00Z",
            "2026-11-26t10:00:00z",
            "2026-11-26T10:00:00.5Z",
            "5b0c6a3e-8f3a-4c2e-9b7d-2f1e0a9c4d11",
            "5B0C6A3E-8F3A-4C2E-9B7D-2F1E0A9C4D11",
            "x" * 513,
            "/" + "x" * 511,
            "DOSSIER-2026-00042",
            "aides/2026/R:1.a_b",
            "marie.dupont@example.fr",
            "Marie Dupont",
            "DOSSIER-1\n",
            "-DOSSIER",
            "D" * 128,
            "D" * 129,
            "/search?email=jean.dupont@example.org",
            "/a#top",
            "/a b",
            "/a\tb",
            "/a\x00",
            "/a\x85",
            "/a\u2028",
            "/a\ud800",
            "\ud800",
            "fr-abcdefgh-abcdefgh-abcdefgh-abcde",  # 35 characters
            "fr-abcdefgh-abcdefgh-abcdefgh-abcdef",  # 36
            "sdk\x00",
        ]
    ),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.sampled_from(["name", "version", "x"]), st.text(max_size=3), max_size=2),
)
FIELDS = [
    "batch_id",
    "service",
    "sent_at",
    "window_seconds",
    "dropped",
    "sdk",
    "counts",
    "decisions",
    "extra",
]
ROW_FIELDS = ["system", "route", "mode", "notice_shown", "language", "window_start", "count", "ip"]
DECISION_FIELDS = ["system", "reference", "at", "name"]
VALID = ["typical.json", "decisions.json", "counts-and-decisions.json"]


@st.composite
def mutated_batches(draw: st.DrawFn) -> Any:
    data = load_batch("valid", draw(st.sampled_from(VALID)))
    for _ in range(draw(st.integers(0, 3))):
        target: Any = data
        field = draw(st.sampled_from(FIELDS))
        inner, fields = draw(
            st.sampled_from(
                [(None, FIELDS), ("counts", ROW_FIELDS), ("decisions", DECISION_FIELDS)]
            )
        )
        items = data.get(inner) if inner else None
        if isinstance(items, list) and items:
            target = items[draw(st.integers(0, len(items) - 1))]
            field = draw(st.sampled_from(fields))
        if not isinstance(target, dict):
            continue
        if draw(st.integers(0, 4)) == 0:
            target.pop(field, None)
        else:
            target[field] = draw(ANY_VALUE)
    return copy.deepcopy(data)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_batches())
def test_fast_path_is_at_least_as_strict_as_the_schema(data: Any) -> None:
    problem = first_problem(data)
    valid = SCHEMA.is_valid(data)
    if problem is None:
        assert valid, data
    elif not valid:
        assert batch_errors(data), data


@settings(max_examples=200, deadline=None)
@given(st.recursive(ANY_VALUE, lambda inner: st.lists(inner, max_size=3), max_leaves=5))
def test_fast_path_never_crashes_on_any_json(data: Any) -> None:
    assert first_problem(data) is not None


def _either(*strategies: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """One of ``strategies``, each as likely (``one_of`` would flatten nested choices)."""
    return st.sampled_from(strategies).flatmap(lambda chosen: chosen)


_GOOD = "[A-Za-z0-9][A-Za-z0-9._:/-]{0,6}"
REFERENCES = _either(
    # A valid reference with a character inserted that may not belong there...
    st.builds(
        lambda head, odd, tail: head + odd + tail,
        st.from_regex(_GOOD, fullmatch=True),
        st.sampled_from(["", "@", " ", "\u00e9", "\n", ",", "+", "\u0000"]),
        st.from_regex("[A-Za-z0-9._:/-]{0,6}", fullmatch=True),
    ),
    # ... or in front, where only a letter or a digit may be.
    st.builds(
        lambda odd, tail: odd + tail,
        st.sampled_from(["/", ".", "-", "_", ":", "@", " "]),
        st.from_regex("[A-Za-z0-9._:/-]{0,6}", fullmatch=True),
    ),
    st.sampled_from(["D" * 128, "D" * 129, "D" + "/" * 128, "DOSSIER-1\n", ""]),
    ANY_VALUE,
)
INSTANTS = _either(
    st.sampled_from(
        [
            "2026-11-26T10:00:00Z",
            "2026-02-30T10:00:00Z",
            "2026-11-26T10:00:00+00:00",
            "2026-11-26T10:00:00.5Z",
            "2026-11-26 10:00:00Z",
            "2026-11-26t10:00:00z",
            "2026-11-26T10:00:00Z\n",
        ]
    ),
    ANY_VALUE,
)
DECISION_VALUES = {
    "system": _either(st.sampled_from(["detection-fuites", "Detection", "a-", ""]), ANY_VALUE),
    "reference": REFERENCES,
    "at": INSTANTS,
    "name": ANY_VALUE,
}


@st.composite
def mutated_decisions(draw: st.DrawFn) -> Any:
    items: list[Any] = load_batch("valid", "decisions.json")["decisions"]
    for _ in range(draw(st.integers(1, 3))):
        target = items[draw(st.integers(0, len(items) - 1))]
        field = draw(st.sampled_from(sorted(DECISION_VALUES)))
        if draw(st.integers(0, 5)) == 0:
            target.pop(field, None)
        else:
            target[field] = draw(DECISION_VALUES[field])
    if draw(st.integers(0, 9)) == 0:
        return draw(st.one_of(ANY_VALUE, st.lists(ANY_VALUE, max_size=2)))
    return items


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_decisions())
def test_fast_path_checks_decisions_at_least_as_strictly_as_the_schema(decisions: Any) -> None:
    data = load_batch("valid", "decisions.json")
    data["decisions"] = decisions
    if first_problem(data) is None:
        assert SCHEMA.is_valid(data), data


@settings(max_examples=300, deadline=None)
@given(REFERENCES)
def test_fast_path_checks_references_at_least_as_strictly_as_the_schema(reference: Any) -> None:
    data = load_batch("valid", "decisions.json")
    data["decisions"][1]["reference"] = reference
    if first_problem(data) is None:
        assert SCHEMA.is_valid(data), reference


ROUTES = _either(
    st.builds(
        lambda head, odd, tail: "/" + head + odd + tail,
        st.from_regex("[a-z/*{}]{0,6}", fullmatch=True),
        st.sampled_from(
            [
                "",
                "?",
                "#",
                " ",
                "\n",
                "\t",
                "\x00",
                "\x1f",
                "\x7f",
                "\x9f",
                "\u00a0",
                "\u2028",
                "\ud800",
                "\udfff",
                "\u00e9",
                "%",
            ]
        ),
        st.from_regex("[a-z/*{}=]{0,6}", fullmatch=True),
    ),
    st.text(max_size=6).map(lambda tail: "/" + tail),
    st.sampled_from(["/" + "x" * 511, "/" + "x" * 512, "", "x/"]),
)


@settings(max_examples=400, deadline=None)
@given(ROUTES)
def test_fast_path_checks_routes_at_least_as_strictly_as_the_schema(route: str) -> None:
    data = load_batch("valid", "typical.json")
    data["counts"][0]["route"] = route
    problem = first_problem(data)
    if problem is None:
        assert SCHEMA.is_valid(data), route
        assert not set(route) & {"?", "#", " ", "\n", "\x00"}
    else:
        assert problem.pointer == "/counts/0/route"


def test_bounds_are_the_schemas() -> None:
    """The fast path's and the SDK's restated bounds are the schema's, the single source."""
    schema = load_schema("disclosure-batch")
    language = load_schema("manifest")["$defs"]["language"]
    route = schema["$defs"]["count"]["properties"]["route"]
    assert schema["properties"]["dropped"]["maximum"] == MAX_DROPPED == _aggregate.MAX_DROPPED
    assert schema["$defs"]["count"]["properties"]["count"]["maximum"] == _aggregate.MAX_COUNT
    assert language["maxLength"] == MAX_LANGUAGE == _aggregate.MAX_LANGUAGE == tables.LANGUAGE
    assert route["maxLength"] == MAX_ROUTE == _aggregate.MAX_ROUTE
    # The pattern is not restated: the fast path uses the schema's, compiled.
    assert ROUTE.pattern == route["pattern"].replace("$", r"\Z")
    assert _aggregate.MAX_AGE == DAYS_BACK * 86_400


def test_accepted_range_is_400_days_back_and_1_ahead() -> None:
    assert accepted_range(1_796_904_000) == ("2025-11-05T12:00:00Z", "2026-12-11T12:00:00Z")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("window_start", "2025-11-05T11:59:59Z"),
        ("window_start", "2026-12-11T12:00:01Z"),
        ("window_start", "0001-01-01T00:00:00Z"),
        ("window_start", "9999-12-31T23:59:59Z"),
        ("at", "1970-01-01T00:00:00Z"),
        ("at", "2027-01-01T00:00:00Z"),
    ],
)
def test_times_out_of_range_are_refused_with_their_pointer(field: str, value: str) -> None:
    accepted = accepted_range(1_796_904_000)
    data = load_batch("valid", "counts-and-decisions.json")
    for item in data["counts"] + data["decisions"]:
        item["window_start" if "window_start" in item else "at"] = "2026-11-26T10:00:00Z"
    assert first_problem(data, accepted) is None
    target = data["counts"][0] if field == "window_start" else data["decisions"][0]
    target[field] = value
    problem = first_problem(data, accepted)
    assert problem is not None
    assert problem.pointer == (
        "/counts/0/window_start" if field == "window_start" else "/decisions/0/at"
    )
    assert "400 days" in problem.detail
    assert first_problem(data) is None  # the schema alone cannot know the time
    for edge in accepted:
        target[field] = edge
        assert first_problem(data, accepted) is None
