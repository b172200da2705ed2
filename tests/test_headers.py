"""The AI-Disclosure header codec: both syntaxes, round trips, and bad input."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ai_disclosure import (
    AIDisclosureHeader,
    HeaderError,
    HumanReview,
    Interaction,
    Origin,
    System,
    header_for,
    involvement,
    parse_header,
    serialize_header,
)
from ai_disclosure._headers import link_header

WHEN = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def test_serializes_a_dictionary() -> None:
    header = AIDisclosureHeader(
        mode="ai-originated",
        model="mistral-small",
        provider="Mistral AI",
        reviewed_by="editor",
        date=WHEN,
    )
    assert serialize_header(header) == (
        'mode=ai-originated, model="mistral-small", provider="Mistral AI", '
        'reviewed-by="editor", date=@1795687200'
    )


def test_mode_none_alone() -> None:
    assert serialize_header(AIDisclosureHeader(mode="none")) == "mode=none"


def test_parses_the_dictionary_form() -> None:
    header = parse_header('mode=ai-modified, model="m", provider="p", date=@1795687200')
    assert header == AIDisclosureHeader(mode="ai-modified", model="m", provider="p", date=WHEN)


def test_parses_the_drafts_parameter_form() -> None:
    header = parse_header('mode=ai-originated;model="gpt-4";provider="OpenAI"')
    assert (header.mode, header.model, header.provider) == ("ai-originated", "gpt-4", "OpenAI")


def test_parses_the_drafts_integer_date() -> None:
    assert parse_header("mode=ai-originated, date=1795687200").date == WHEN


def test_unknown_keys_are_kept() -> None:
    header = parse_header('mode=none, policy="https://example.org/ai"')
    assert header.extra == {"policy": "https://example.org/ai"}
    assert parse_header(serialize_header(header)) == header


def test_non_ascii_text_uses_display_strings() -> None:
    header = AIDisclosureHeader(mode="machine-generated", reviewed_by="Régie des eaux")
    value = serialize_header(header)
    assert value.isascii()
    assert parse_header(value) == header


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("", "no 'mode' key"),
        ("garbage !!", "not a structured-field dictionary"),
        ("mode=fully-ai", "unknown mode 'fully-ai'"),
        ('mode="ai-originated"', "must be a token"),
        ("mode=none, model=3", "model must be a string"),
        ('mode=none, date="yesterday"', "date must be a date"),
        ("model=x", "no .mode. key"),
        ("mode=none, provider=?1", "provider must be a string"),
        ("mode=ai-originated, date=300000000000000", "out of range"),
        ("mode=ai-originated, date=-300000000000000", "out of range"),
    ],
)
def test_bad_values_raise_clear_errors(value: str, words: str) -> None:
    with pytest.raises(HeaderError, match=words):
        parse_header(value)


@given(st.binary(max_size=200))
def test_garbage_never_crashes(value: bytes) -> None:
    with contextlib.suppress(HeaderError):
        parse_header(value)


printable = st.text(st.characters(min_codepoint=32, max_codepoint=0x2FFF), max_size=40)


@given(
    mode=st.sampled_from([o.value for o in Origin]),
    model=st.none() | printable,
    provider=st.none() | printable,
    reviewed_by=st.none() | printable,
    date=st.none() | st.integers(0, 253402300799).map(lambda s: datetime.fromtimestamp(s, UTC)),
)
def test_round_trips(
    mode: str,
    model: str | None,
    provider: str | None,
    reviewed_by: str | None,
    date: datetime | None,
) -> None:
    header = AIDisclosureHeader(mode, model, provider, reviewed_by, date)
    assert parse_header(serialize_header(header)) == header


def system(
    system_id: str, origin: Origin, model: str = "m", reviewed: bool = False, by: str | None = None
) -> System:
    return System(
        id=system_id,
        name={"fr": system_id},
        interaction=Interaction.CONTENT_GENERATION,
        origin=origin,
        human_review=HumanReview(reviewed, by),
        purpose={"fr": "p"},
        provider="P",
        model=model,
    )


def test_header_for_one_system_names_its_model() -> None:
    header = header_for(involvement([system("a", Origin.AI_ORIGINATED, reviewed=True, by="ed")]))
    assert header == AIDisclosureHeader(
        mode="ai-originated", model="m", provider="P", reviewed_by="ed"
    )


def test_header_for_systems_that_disagree_names_no_model() -> None:
    both = involvement([system("a", Origin.AI_MODIFIED, "m1"), system("b", Origin.NONE, "m2")])
    assert header_for(both).model == "m1"  # only the system that shapes the content counts
    differ = involvement(
        [system("a", Origin.AI_MODIFIED, "m1"), system("b", Origin.AI_ORIGINATED, "m2")]
    )
    assert header_for(differ) == AIDisclosureHeader(mode="ai-originated", provider="P")


def test_header_for_no_ai() -> None:
    assert serialize_header(header_for(involvement([]))) == "mode=none"


def test_link_header() -> None:
    assert link_header(["https://r.example/a", "https://r.example/a", "/b"]) == (
        '<https://r.example/a>; rel="ai-disclosure", </b>; rel="ai-disclosure"'
    )
