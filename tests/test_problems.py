"""The write API's refusals, built once for the registry and the fake registry."""

from __future__ import annotations

import pytest

from ai_disclosure import ManifestError, load_manifest
from ai_disclosure._problems import (
    PROBLEM_BASE,
    TITLES,
    Problem,
    bearer_token,
    invalid_batch,
    invalid_manifest,
    undeclared_systems,
)


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer aidr_x", "aidr_x"),
        ("  bearer   aidr_x  ", "aidr_x"),
        (None, None),
        ("", None),
        ("Basic aidr_x", None),
        ("Bearer ", None),
        ("Bearer aidr_x aidr_y", None),
    ],
)
def test_only_one_bearer_token_is_taken(header: str | None, token: str | None) -> None:
    assert bearer_token(header) == token


def test_a_problem_is_typed_and_titled_by_its_kind() -> None:
    body = Problem(409, "batch-conflict", "again", errors=[{"pointer": "/x"}]).as_json()
    assert body == {
        "type": PROBLEM_BASE + "batch-conflict",
        "title": TITLES["batch-conflict"],
        "status": 409,
        "detail": "again",
        "errors": [{"pointer": "/x"}],
    }
    assert "errors" not in Problem(404, "not-found", "gone").as_json()


def test_a_long_listing_is_cut_and_says_so() -> None:
    errors = [{"pointer": f"/counts/{i}", "detail": "bad"} for i in range(5)]
    cut = invalid_batch(errors, limit=3)
    assert cut.errors == errors[:3]
    assert (
        cut.detail == "more than 3 problems in the batch (the first 3 listed); nothing was stored"
    )
    whole = invalid_batch(errors[:1], limit=3)
    assert (whole.errors, whole.detail) == (
        errors[:1],
        "1 problem in the batch; nothing was stored",
    )


def test_undeclared_rows_are_counted_unless_one_cause_explains_them() -> None:
    rows = [{"pointer": "/counts/0/system", "detail": "x"}] * 2
    assert undeclared_systems(rows).detail == "2 rows name undeclared systems; nothing was stored"
    assert undeclared_systems(rows, "no manifest").detail == "no manifest; nothing was stored"


def test_a_manifests_problems_are_listed_with_their_pointers() -> None:
    with pytest.raises(ManifestError) as caught:
        load_manifest({"service": {}, "systems": []})
    problem = invalid_manifest(caught.value)
    assert (problem.status, problem.kind) == (422, "invalid-manifest")
    pointers = [p.pointer for p in caught.value.problems]
    assert pointers
    assert [e["pointer"] for e in problem.errors or ()] == pointers
