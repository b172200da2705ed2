"""Choosing the notice's language."""

from __future__ import annotations

import pytest

from ai_disclosure._language import choose_language, parse_accept_language

AVAILABLE = ("fr", "en", "oc", "ar")


def test_accept_language_order_and_quality() -> None:
    assert parse_accept_language("en;q=0.5, ar, fr-CA;q=0.8, *;q=0.1, de;q=0") == (
        "ar",
        "fr-ca",
        "en",
    )
    assert parse_accept_language("en;q=bad, oc") == ("oc",)


@pytest.mark.parametrize(
    ("page", "accept", "expected"),
    [
        ("en", "ar", ("en", False)),  # the page's language wins
        ("en-GB", None, ("en", False)),  # primary subtag
        ("de", "ar, en", ("ar", True)),  # page language not offered: negotiate
        (None, "es, en;q=0.9", ("en", True)),
        (None, "es", ("fr", True)),  # nothing matches: default, still negotiated
        (None, None, ("fr", True)),
    ],
)
def test_choose_language(page: str | None, accept: str | None, expected: tuple[str, bool]) -> None:
    assert choose_language(AVAILABLE, "fr", page, accept) == expected


def test_one_language_never_varies() -> None:
    assert choose_language(("fr",), "fr", None, "en") == ("fr", False)
