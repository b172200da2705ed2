"""The page start's memo gives what ``_FAST`` gives, for any page sharing a start
with one seen before, and stays bounded."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ai_disclosure import _inject, _pagestart
from ai_disclosure._htmlsyntax import _FAST, _HTML_TAG, MARKER, _page_start
from ai_disclosure._inject import Position, decided_before
from ai_disclosure._pagestart import page_start

from .test_inject import fragments, inject, pages, token_by_token, valued_pages


def matched(data: bytes) -> _pagestart.Spans | None:
    """What ``_FAST`` alone says, checks included, as ``page_start`` gives it."""
    found = _FAST.match(data)
    if found is None:
        return None
    html_start = found.start("html")
    body_end = found.end("body")
    clean = data.find(MARKER, 0, body_end) < 0 and len(_HTML_TAG.findall(data, 0, body_end)) == (
        html_start >= 0
    )
    head_start, head_end = found.span("head")
    hold_from = _pagestart._hold_from(data, head_start if head_start >= 0 else found.start("body"))
    return (*found.span("html"), head_start, head_end, hold_from, *found.span("body"), clean)


@pytest.fixture(autouse=True)
def empty_memo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_pagestart, "_known", {})


@settings(max_examples=500, deadline=None)
@given(
    start=pages,
    rest=st.lists(fragments, max_size=12).map(b"".join),
    other=st.lists(fragments, max_size=12).map(b"".join),
)
def test_a_start_seen_before_gives_what_the_match_gives(
    start: bytes, rest: bytes, other: bytes
) -> None:
    """Two pages with the same bytes before their first ``<body``, whatever follows."""
    _pagestart._known.clear()
    cut = start.find(b"<body")
    prefix = start if cut < 0 else start[:cut]
    first, second = prefix + b"<body" + rest, prefix + b"<body" + other
    assert page_start(first) == matched(first)
    assert page_start(second) == matched(second)
    assert page_start(second) == matched(second)  # and once more, from the memo


def test_the_usual_page_is_remembered_and_a_marker_still_seen() -> None:
    head = b"<!doctype html><html lang=fr><head><title>t</title></head>"
    page = head + b"<body class=a><main>x</main></body>"
    assert page_start(page) == matched(page)
    assert list(_pagestart._known) == [head]
    marked = head + b"<body " + MARKER + b"><main>x</main>"
    assert page_start(marked) == matched(marked)
    assert page_start(marked)[-1] is False  # type: ignore[index]


def test_the_memo_stays_bounded() -> None:
    for n in range(3 * _pagestart._LIMIT):
        page = b"<html><head><meta name=csrf content=%d></head><body>x" % n
        assert page_start(page) == matched(page)
        assert len(_pagestart._known) <= _pagestart._LIMIT
    long_head = b"<head><title>" + b"t" * _pagestart._LONGEST + b"</title></head><body>x"
    assert page_start(long_head) == matched(long_head)
    assert all(len(key) <= _pagestart._LONGEST for key in _pagestart._known)


#: ``_FAST`` as it was before its text was let hold the marker: stopping at it.
_STOPPING = _page_start(marker=True)
#: Head constructs whose text ``_FAST`` reads without stopping at each "d".
_TEXTS = [
    b"<script>%s</script>", b"<style>%s</style>", b"<title>%s</title>",
    b"<noframes>%s</noframes>", b"<!--%s-->", b"<!%s>", b"<?%s>", b"<![CDATA[%s]]>",
]  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(
    before=pages,
    text=st.sampled_from(_TEXTS),
    inside=st.lists(st.sampled_from([b"d", b"data-", MARKER, b"x", b"<", b"-", b">"]), max_size=6),
    after=pages,
)
def test_the_match_is_the_one_stopping_at_the_marker_where_it_is_clean(
    before: bytes, text: bytes, inside: list[bytes], after: bytes
) -> None:
    """Where the match that stops at every "d" of skipped text matches, ``_FAST``
    gives its spans; where only ``_FAST`` matches (a marker in skipped text), the
    start is not clean, so the page goes the token-by-token way all the same."""
    page = before + text % b"".join(inside) + after
    stopping = _STOPPING.match(page)
    found = matched(page)
    if stopping is not None:
        assert found is not None
        assert found[:4] + found[5:7] == (
            *stopping.span("html"), *stopping.span("head"), *stopping.span("body")
        )  # fmt: skip
    elif found is not None:
        assert found[-1] is False
    assert page_start(page) == found


@pytest.mark.parametrize("text", _TEXTS)
def test_a_marker_in_the_heads_text_sends_the_page_the_slow_way(text: bytes) -> None:
    page = b"<!doctype html><html><head>" + text % MARKER + b"</head><body><p>x</p>"
    assert _STOPPING.match(page) is None
    found = page_start(page)
    assert found is None or found[-1] is False
    assert inject(page)[0] == token_by_token(page)[0]


def test_the_heads_text_is_its_quoted_values_and_the_raw_text_without_a_bracket() -> None:
    page = (
        b'<!doctype html><html lang="fr"><head><meta name="csrf" content=\'tok\'>'
        b'<meta a="="xyz" b=c><script nonce="n1">var s = {"nonce":"ab"};</script>'
        b"<script>if (a<b) c(); var t = 'ab'</script><style>p{}</style><title>Accueil</title>"
        b'<!-- "d" --><link href="/a.css"></head><body class="e">'
    )
    body = page.find(b"<body")
    assert page_start(page) is not None  # the match reads it whole
    spans = _pagestart.inert_spans(page, body)
    assert [(page[start:end], stop) for start, end, stop in spans] == [
        (b"csrf", b'"'), (b"tok", b"'"),
        (b"=", b'"'),  # "xyz" is no value: the quote after it opens none
        (b"n1", b'"'), (b'var s = {"nonce":"ab"};', b"<"),
        # A "<" and the 10 bytes after it may make an end tag ("</noframes "): not text.
        (b"if (a", b"<"), (b"r t = 'ab'", b"<"),
        (b"p{}", b"<"), (b"Accueil", b"<"), (b"/a.css", b'"'),
    ]  # fmt: skip
    assert all(end <= body for _, end, _ in spans)
    # After a byte order mark, the same spans, three bytes on.
    bom = _pagestart.inert_spans(b"\xef\xbb\xbf" + page, body + 3)
    assert bom == [(start + 3, end + 3, stop) for start, end, stop in spans]


#: What a byte of the head's text may become: its end byte excluded, each other
#: byte that ends something somewhere.
_INTO = [bytes([c]) for c in b"\"'<>=/-!&; \n\tae0"]


@settings(max_examples=600, deadline=None)
@given(
    page=valued_pages,
    data=st.data(),
    position=st.sampled_from([Position.AFTER_SKIP_LINKS, Position.BODY_START]),
)
def test_the_heads_text_changed_but_its_end_byte_is_recalled_as_read(
    page: bytes, data: st.DataObject, position: Position
) -> None:
    """A page decided before, then with bytes of its head's text changed to
    anything but the byte that would end that text: recalled (but where the
    change made the marker), and the very bytes, reason and language the
    token-by-token reading gives."""
    _inject._decided.clear()
    inject(page, position)
    body = page.find(b"<body")
    spans = [span for span in _pagestart.inert_spans(page, body) if span[1] > span[0]]
    if not _inject._decided or not spans:
        return
    other = bytearray(page)
    for start, end, stop in data.draw(st.lists(st.sampled_from(spans), min_size=1, max_size=3)):
        at = data.draw(st.integers(start, end - 1), label="at")
        into = [b for b in _INTO if b != stop]
        for i in range(at, min(at + data.draw(st.integers(1, 4), label="size"), end)):
            other[i] = data.draw(st.sampled_from(into))[0]
    changed = bytes(other)
    # Recalled, unless the change made the notice's marker (the page is read).
    assert (decided_before(changed, position) is None) == (MARKER in changed), changed
    whole, injector = inject(changed, position)
    reference = token_by_token(changed, position)
    assert (whole, injector.reason, injector.page_language) == reference, changed


TEMPLATES = Path(__file__).resolve().parent / "fixtures" / "templates"
#: WordPress's settings script with its REST nonce, as a head holds it.
_SETTINGS = b'<script id="wp-api-request-js-extra">var s = {"nonce":"abcdef0123"};</script>'


#: No decision is kept for Flaskr's page (no <body> tag).
UNKEPT = {"flaskr.html"}


@pytest.mark.parametrize(
    "name", sorted(p.name for p in TEMPLATES.glob("*.html") if p.name not in UNKEPT)
)
def test_real_heads_changed_in_and_around_their_text_give_the_token_by_token_bytes(
    name: str,
) -> None:
    """A real template (with WordPress's settings script) decided before, then
    with one byte of its head changed to each byte that ends something, inside
    its text (every seventh byte) and around each span's ends: recalled or read,
    the token-by-token bytes, reason and language; and most changes inside the
    text recalled."""
    page = (TEMPLATES / name).read_bytes()
    page = page.replace(b"</head>", _SETTINGS + b"</head>", 1)
    position = Position.AFTER_SKIP_LINKS
    _inject._decided.clear()
    inject(page, position)
    decided = dict(_inject._decided)
    assert decided
    spans = _pagestart.inert_spans(page, page.find(b"<body"))
    nonce = page.index(b"abcdef0123")
    assert any(start <= nonce < end for start, end, _ in spans)
    at_ends = {at for start, end, _ in spans for at in (start - 1, start, end - 1, end)}
    inside = {at for start, end, _ in spans for at in range(start, end, 7)}
    recalled = 0
    for at in sorted(at_ends | inside):
        for byte in (b"a", b"0", b'"', b"'", b"<", b">", b"=", b"/", b"-", b" ", b"&"):
            other = page[:at] + byte + page[at + 1 :]
            _inject._decided.clear()
            _inject._decided.update(decided)
            recalled += decided_before(other, position) is not None
            whole, injector = inject(other, position)
            reference = token_by_token(other, position)
            assert (whole, injector.reason, injector.page_language) == reference, (at, byte)
    assert recalled >= len(inside) * 5


@pytest.mark.parametrize(
    ("page", "hold"),
    [
        # Joomla's Font Awesome fallback: the head fragment goes before it.
        (b'<html><head><link rel="lazy-stylesheet"><noscript><link rel="stylesheet">'
         b"</noscript><title>t</title></head><body>x", b"<noscript>"),
        (b"<NOSCRIPT><style>a{}</style></NOSCRIPT><title>t</title><body>x", b"<NOSCRIPT>"),
        # The first of two; one before <html>.
        (b"<noscript>a</noscript><html><noscript>b</noscript></head><body>x", b"<noscript>a"),
        # "<noscript" in a script, a comment, a value: no element.
        (b"<head><script>'<noscript>'</script><!-- <noscript> --><meta content='<noscript>'>"
         b"</head><body>x", b"</head>"),
    ],
)  # fmt: skip
def test_a_noscript_in_the_head_is_read_by_the_match_and_holds_the_head_fragment(
    page: bytes, hold: bytes
) -> None:
    found = page_start(page)
    assert found is not None
    assert found[4] == page.index(hold)
    assert found == matched(page)
    assert page_start(page) == found  # and from the memo
    for position in (Position.AFTER_SKIP_LINKS, Position.BODY_START):
        assert inject(page, position)[0] == token_by_token(page, position)[0]


def test_a_noscript_after_the_head_starts_the_body_the_token_by_token_way() -> None:
    page = b"<html><head></head><noscript><p>x</p></noscript><body>y"
    assert page_start(page) is None
    for position in (Position.AFTER_SKIP_LINKS, Position.BODY_START):
        assert inject(page, position)[0] == token_by_token(page, position)[0]
