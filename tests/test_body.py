"""Reading a JSON body, sans I/O: what the registry and the fake registry both refuse."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable

import pytest

from ai_disclosure._body import (
    BodyDecoder,
    check_length,
    check_media_type,
    is_gzipped,
    parse_json,
)
from ai_disclosure._problems import Problem

DATA = {"batch_id": "b", "counts": [{"count": 1}] * 50}
RAW = json.dumps(DATA).encode()


def refused(call: Callable[..., object], *args: object) -> tuple[int, str, str]:
    with pytest.raises(Problem) as caught:
        call(*args)
    return caught.value.status, caught.value.kind, caught.value.detail


def decoded(chunks: list[bytes], gzipped: bool, limit: int | None) -> bytes:
    decoder = BodyDecoder(gzipped, limit)
    for chunk in chunks:
        decoder.feed(chunk)
    return decoder.finish()


@pytest.mark.parametrize(
    "content_type", ["application/json", "Application/JSON; charset=utf-8", "application/x+json"]
)
def test_json_media_types_are_read(content_type: str) -> None:
    check_media_type(content_type)


@pytest.mark.parametrize(("content_type", "shown"), [(None, "none"), ("text/plain", "text/plain")])
def test_other_media_types_are_a_415(content_type: str | None, shown: str) -> None:
    status, kind, detail = refused(check_media_type, content_type)
    assert (status, kind) == (415, "unsupported-media-type")
    assert detail.startswith(f"Content-Type is {shown};")


def test_only_gzip_or_no_coding_is_read() -> None:
    assert [is_gzipped(v) for v in (None, "", "identity", "gzip", " X-GZIP ")] == [
        False,
        False,
        False,
        True,
        True,
    ]
    assert refused(is_gzipped, "br")[:2] == (415, "unsupported-media-type")


def test_a_declared_length_is_checked_before_reading() -> None:
    check_length(None, 10)
    check_length("10", 10)
    assert refused(check_length, "11", 10)[:2] == (413, "payload-too-large")
    assert refused(check_length, "ten", 10)[:2] == (400, "malformed-body")


@pytest.mark.parametrize("limit", [None, len(RAW)])
def test_chunks_are_joined_and_gzip_inflated(limit: int | None) -> None:
    packed = gzip.compress(RAW)
    halves = [packed[:10], packed[10:]]
    assert decoded(halves, True, limit) == RAW
    assert decoded([RAW[:7], RAW[7:]], False, limit) == RAW


def test_a_limit_holds_what_arrives_and_what_it_expands_to() -> None:
    assert refused(decoded, [RAW], False, len(RAW) - 1)[:2] == (413, "payload-too-large")
    bomb = gzip.compress(b" " * 100_000)
    status, _, detail = refused(decoded, [bomb], True, 1000)
    assert (status, detail) == (413, "the body expands beyond the limit of 1000 bytes")
    assert decoded([bomb], True, None) == b" " * 100_000  # the fake's: no limit


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (gzip.compress(RAW)[:-12], "the gzip stream is truncated"),
        (gzip.compress(RAW) + b"x", "data after the end of the gzip stream"),
        (b"nope", "the body is not valid gzip"),
    ],
)
def test_broken_gzip_is_a_400(body: bytes, detail: str) -> None:
    status, kind, said = refused(decoded, [body], True, None)
    assert (status, kind) == (400, "malformed-body")
    assert said.startswith(detail)


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b'{"a": ', "invalid JSON at line 1 column 7"),
        (b'{"a": NaN}', "invalid JSON: NaN is not valid JSON"),
        (b'{"a": "\xff"}', "the body is not UTF-8 text"),
        (b'{"a": "\\ud800"}', "the JSON has a string with a lone surrogate"),
    ],
)
def test_what_is_not_json_text_is_a_400(body: bytes, detail: str) -> None:
    status, kind, said = refused(parse_json, body)
    assert (status, kind) == (400, "malformed-body")
    assert said.startswith(detail)


def test_json_with_a_paired_surrogate_is_text() -> None:
    assert parse_json(b'{"a": "\\ud83d\\ude00"}') == {"a": "\U0001f600"}
