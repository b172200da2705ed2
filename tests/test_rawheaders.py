"""The raw ASGI header helpers shared by the middleware and the proxy."""

from __future__ import annotations

from email.utils import parsedate_to_datetime

from ai_disclosure import _rawheaders as raw


def test_lookups_ignore_the_case_an_app_gave_a_name() -> None:
    headers = [(b"Content-Type", b"text/html"), (b"content-type", b"text/plain")]
    assert raw.first(headers, b"content-type") == b"text/html"
    assert raw.first(headers, b"etag") is None
    assert raw.has(headers, b"content-type")
    assert not raw.has(headers, b"content-length")


def test_tokens_gathers_every_header_of_a_name() -> None:
    headers = [(b"Connection", b"close, X-Secret"), (b"connection", b" keep-alive "), (b"a", b"b")]
    assert raw.tokens(headers, b"connection") == {b"close", b"x-secret", b"keep-alive"}
    assert raw.tokens(headers, b"upgrade") == set()


def test_changed_body_leaves_one_length_and_weakens_only_strong_tags() -> None:
    headers = [
        (b"Content-Length", b"10"), (b"ETag", b'"abc"'), (b"content-length", b"10"),
        (b"etag", b'W/"def"'), (b"x-etag", b'"ghi"'),
    ]  # fmt: skip
    same = headers
    raw.changed_body(headers, 1234)
    assert same == [
        (b"ETag", b'W/"abc"'), (b"etag", b'W/"def"'), (b"x-etag", b'"ghi"'),
        (b"content-length", b"1234"),
    ]  # fmt: skip


def test_changed_body_of_unknown_length_says_none() -> None:
    headers = [(b"content-length", b"10"), (b"etag", b'"abc"')]
    raw.changed_body(headers, None)
    assert headers == [(b"etag", b'W/"abc"')]


def test_add_vary_appends_once_and_respects_a_star() -> None:
    headers = [(b"x", b"y")]
    raw.add_vary(headers, b"Accept-Language")
    assert headers == [(b"x", b"y"), (b"vary", b"Accept-Language")]

    headers = [(b"Vary", b"Accept-Encoding")]
    raw.add_vary(headers, b"Accept-Language")
    raw.add_vary(headers, b"Accept-Language")
    assert headers == [(b"Vary", b"Accept-Encoding, Accept-Language")]

    headers = [(b"vary", b"accept-language")]
    raw.add_vary(headers, b"Accept-Language")
    assert headers == [(b"vary", b"accept-language")]

    headers = [(b"vary", b" * ")]
    raw.add_vary(headers, b"Accept-Language")
    assert headers == [(b"vary", b" * ")]


def test_with_date_keeps_a_date_and_adds_a_valid_one_otherwise() -> None:
    dated = [(b"Date", b"Mon, 30 Nov 2026 07:00:00 GMT")]
    assert raw.with_date(dated) is dated

    undated = [(b"x", b"y")]
    result = raw.with_date(undated)
    assert undated == [(b"x", b"y")]  # a copy: the caller's list is not changed
    assert result[0] == (b"x", b"y")
    name, value = result[1]
    assert name == b"date"
    assert value.endswith(b" GMT")
    assert parsedate_to_datetime(value.decode()).tzinfo is not None


def test_if_none_match_reads_every_line_weakly() -> None:
    tag = b'"v1"'
    assert raw.if_none_match([(b"accept", b"*/*")], tag) is None
    assert raw.if_none_match([(b"If-None-Match", b'W/"v1"')], tag) is True
    assert raw.if_none_match([(b"if-none-match", b'"v0", "v2"')], tag) is False
    # A client or proxy may split the list over several lines: each one counts.
    two_lines = [(b"if-none-match", b'"v0"'), (b"if-none-match", b'"x", "v1"')]
    assert raw.if_none_match(two_lines, tag) is True
    assert raw.if_none_match([(b"if-none-match", b"*")], tag) is True


def test_accepted_codings_keeps_the_usable_codings_the_client_did_not_refuse() -> None:
    usable = {b"gzip", b"br"}.__contains__
    assert raw.accepted_codings(b"gzip, deflate, br;q=0.5", usable) == b"gzip, br;q=0.5"
    assert raw.accepted_codings(b"GZIP;q=0, br", usable) == b"br"
    assert raw.accepted_codings(b"gzip;q=0.0", usable) == b"identity"
    assert raw.accepted_codings(b"gzip;q=x", usable) == b"identity"  # unreadable: refused
    assert raw.accepted_codings(b"*, identity", usable) == b"identity"
    assert raw.accepted_codings(b"", usable) == b"identity"


def test_a_request_header_is_the_first_of_its_name_as_text() -> None:
    scope = {
        "headers": [
            (b"accept", b"*/*"),
            (b"accept-language", b"fr-CA,fr;q=0.9"),
            (b"accept-language", b"en"),
            (b"x-name", b"caf\xe9"),
        ]
    }
    assert raw.request_header(scope, b"accept-language") == "fr-CA,fr;q=0.9"
    assert raw.request_header(scope, b"x-name") == "café"  # Latin-1, as HTTP allows
    assert raw.request_header(scope, b"cookie") is None
    assert raw.request_header({}, b"accept-language") is None
