"""The streaming HTML injector, as a specification: where fragments go, where they
never go, and that any split of a page into chunks gives the same bytes."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ai_disclosure import _htmlsyntax, _inject, _skiplinks
from ai_disclosure._inject import MARKER, PLACEHOLDER, Injector, Position

HEAD = b"<meta name=ai-disclosure content=ai-autonomous>"
NOTICE = b"<aside data-ai-disclosure-notice>IA</aside>"


def inject(
    page: bytes,
    position: Position = Position.BODY_START,
    chunks: list[int] | None = None,
    max_holdback: int = 65536,
) -> tuple[bytes, Injector]:
    injector = Injector(HEAD, NOTICE, position, max_holdback=max_holdback)
    if chunks is None:
        return injector.feed(page) + injector.close(), injector
    out, start = [], 0
    for size in chunks:
        out.append(injector.feed(page[start : start + size]))
        start += size
    out.append(injector.feed(page[start:]))
    out.append(injector.close())
    return b"".join(out), injector


def expect(page: bytes, head_before: bytes, notice_after: bytes) -> bytes:
    """``page`` with HEAD right before ``head_before`` and NOTICE right after the
    first ``notice_after`` that follows it."""
    at = page.index(head_before)
    page = page[:at] + HEAD + page[at:]
    at = page.index(notice_after, at) + len(notice_after)
    return page[:at] + NOTICE + page[at:]


def expect_at(page: bytes, head_before: bytes, notice_before: bytes | None = None) -> bytes:
    """``page`` with HEAD right before ``head_before`` and NOTICE right before
    ``notice_before`` (the same place when None; b"" for the end of the page)."""
    at = page.index(head_before)
    page = page[:at] + HEAD + page[at:]
    if notice_before is None:
        at += len(HEAD)
    elif notice_before == b"":
        at = len(page)
    else:
        at = page.index(notice_before, at + len(HEAD))
    return page[:at] + NOTICE + page[at:]


# (name, page, where HEAD goes before, where NOTICE goes after) for body-start.
CORPUS = [
    ("plain", b"<!DOCTYPE html><html><head><title>t</title></head><body><p>x</p></body></html>",
     b"</head>", b"<body>"),
    ("upper-case tags", b"<HTML><HEAD><TITLE>T</TITLE></HEAD><BODY CLASS=a><P>x</BODY></HTML>",
     b"</HEAD>", b"<BODY CLASS=a>"),
    ("mixed case, spaces", b"<html><head></Head ><BoDy\n  id='m'\t>x</body>", b"</Head >",
     b"<BoDy\n  id='m'\t>"),
    ("body in a comment", b"<html><head><!-- <body> </head> --></head><body>x</body>",
     b"</head><body>", b"<body>"),
    ("body in a script string",
     b"<html><head><script>var s = '<body></head>'; if (a<b) {}</script></head><body>x",
     b"</head><body>", b"<body>"),
    ("body in title and textarea",
     b"<html><head><title><body> & </head></title></head><body><textarea><body></textarea>",
     b"</head><body>", b"<body>"),
    ("body in style", b"<head><style>a::after{content:'<body>'}</style></head><body>x",
     b"</head><body>", b"<body>"),
    ("attribute containing >", b"<html><head></head><body data-x='a>b' class=\"<body>\">x",
     b"</head>", b"class=\"<body>\">"),
    ("attribute with <body>", b"<head><meta content=\"</head><body>\"></head><body>x",
     b"</head><body>x", b"<body>"),
    ("utf-8 BOM", b"\xef\xbb\xbf<!doctype html><html><head></head><body>x", b"</head>", b"<body>"),
    ("no head", b"<!doctype html><html><body>x</body></html>", b"<body>", b"<body>"),
    ("no html, no head", b"<body>x", b"<body>", b"<body>"),
    ("multiple </body>", b"<head></head><body>a</body>b</body>", b"</head>", b"<body>"),

    ("xhtml with cdata",
     b"<?xml version=\"1.0\"?><html xmlns=\"http://www.w3.org/1999/xhtml\"><head>"
     b"<script><![CDATA[ if (a < b) '<body>' ]]></script></head><body/></html>",
     b"</head>", b"<body/>"),

    ("empty comments close at once", b"<head><!--><!---><title>t</title></head><body>x",
     b"</head>", b"<body>"),

    ("lone < in text", b"<head><title>1 < 2</title></head><body>3 < 4", b"</head>", b"<body>"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "page", "before", "after"), CORPUS, ids=[c[0] for c in CORPUS])
def test_corpus_body_start(name: str, page: bytes, before: bytes, after: bytes) -> None:
    output, injector = inject(page)
    assert output == expect(page, before, after)
    assert injector.injected
    assert not injector.gave_up


@pytest.mark.parametrize(("name", "page", "before", "after"), CORPUS, ids=[c[0] for c in CORPUS])
def test_corpus_every_split_is_the_same(
    name: str, page: bytes, before: bytes, after: bytes
) -> None:
    whole, _ = inject(page)
    for size in range(1, 12):
        assert inject(page, chunks=[size] * (len(page) // size))[0] == whole


# (name, page, where HEAD goes before, where NOTICE goes before: None for the same
# place, b"" for the end) when the page leaves out optional tags: the HTML parser
# implies <head> and <body>, and so does the injector (body-start).
IMPLIED = [
    ("flask tutorial base.html",
     b"<!doctype html>\n<title>Log In - Flaskr</title>\n<link rel=\"stylesheet\" "
     b"href=\"/static/style.css\">\n<nav>\n  <h1>Flaskr</h1>\n  <ul>\n    <li><a href=\"/auth/"
     b"register\">Register</a>\n  </ul>\n</nav>\n<section class=\"content\">",
     b"<nav>", None),
    ("no body tag", b"<html><head><title>x</title></head><p>no body tag</p></html>",
     b"</head>", b"<p>"),
    ("<head> without </head>", b"<html><head><meta charset=utf-8><title>t</title><p>x",
     b"<p>", None),
    ("text before any tag", b"Hello <b>world</b>", b"Hello", None),
    ("comment, doctype and whitespace first",
     b"<!-- c -->\n<!DOCTYPE html>\n  <!-- d --> \n<html lang=fr>\n  x", b"x", None),
    ("a bogus comment is not text", b"<head><![CDATA[ <body> ]]></head><body>x", b"]]", None),
    ("a processing instruction ends at its first '>'",
     b"<head><?php echo '<body>'; ?></head><body>x", b"'; ?>", None),
    ("template in the head implies nothing",
     b"<head><template><p>x</p><body></template><title>t</title></head><main>m",
     b"</head>", b"<main>"),
    ("noscript in the head: before it",
     b"<head><title>t</title><noscript><img src=p><style>a{}</style></noscript></head><body>x",
     b"<noscript>", b"x"),
    ("head elements after </head> stay in the head",
     b"<head></head>\n<script>s()</script><link rel=x href=y><meta name=a>\n<div>x",
     b"</head>", b"<div>"),
    ("the body tag after the body was implied", b"<title>x</title><p>a<body class=x>b",
     b"<p>", None),
    ("end of the page with nothing in the body", b"<!doctype html><title>x</title>\n",
     b"", None),
    ("</br> implies the body", b"<head></head></br>x", b"</head>", b"</br>"),
    ("other end tags are ignored before the body", b"<head></p></div></head></span>x",
     b"</head>", b"x"),
    ("a tag cut by the end is dropped", b"<title>x</title><div cl", b"<div cl", None),
    ("bodyx is not body", b"<head></head><bodyx><body-y><body>x", b"</head>", b"<bodyx>"),
    ("utf-8 BOM then text", b"\xef\xbb\xbfHi", b"Hi", None),
    ("a quote in an unquoted value opens nothing",
     b"<head><meta name=a\"b></head><body class=x'y>z", b"</head>", b"z"),
    ("an unclosed title is closed as at the end of the input",
     b"<html><head><title>cut", b"", None),
    ("an unclosed comment in the head", b"<head><!-- cut --", b"", None),
]  # fmt: skip


def closed(page: bytes, ending: bytes) -> bytes:
    return page + ending


@pytest.mark.parametrize(("name", "page", "head", "notice"), IMPLIED, ids=[c[0] for c in IMPLIED])
def test_implied_head_and_body(name: str, page: bytes, head: bytes, notice: bytes | None) -> None:
    output, injector = inject(page)
    if name == "an unclosed title is closed as at the end of the input":
        assert output == page + b"</title>" + HEAD + NOTICE
    elif name == "an unclosed comment in the head":
        assert output == page + b">" + HEAD + NOTICE
    elif head == b"":
        assert output == page + HEAD + NOTICE
    else:
        assert output == expect_at(page, head, notice)
    assert injector.injected
    assert not injector.gave_up
    assert injector.reason is None
    for size in (1, 2, 5):
        assert inject(page, chunks=[size] * len(page))[0] == output


UNTOUCHED = [
    ("notice already there", b"<head><meta data-ai-disclosure-notice></head><body>x", "marker"),
    ("marker on body", b"<head></head><body data-ai-disclosure-notice>x", "marker"),
    ("marker on an implied body's first tag", b"<title>t</title><div data-ai-disclosure-notice>",
     "marker"),
    ("empty", b"", "empty"),
    ("whitespace", b" \r\n\t", "empty"),
    ("frameset", b"<!doctype html><head><title>f</title></head><frameset><frame src=a>",
     "frameset"),
    ("frameset without head", b"<frameset cols=50%><frame src=a></frameset>", "frameset"),
    ("cut inside a doctype", b"<!DOCTYPE html", "truncated"),
    ("cut in a double-escaped script", b"<head><script><!--<script>x", "truncated"),
    ("cut in a long tag", b"<head><link href='" + b"a" * 5000, "truncated"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "page", "reason"), UNTOUCHED, ids=[c[0] for c in UNTOUCHED])
def test_pages_it_cannot_change_are_untouched(name: str, page: bytes, reason: str) -> None:
    for position in Position:
        for chunks in (None, [1] * len(page), [3] * len(page)):
            output, injector = inject(page, position, chunks)
            assert output == page
            assert not injector.injected
            assert injector.gave_up
            assert injector.reason == reason


def test_body_end_goes_before_the_first_real_end_tag() -> None:
    page = b"<head></head><body><script>'</body>'</script><p>x</p></body></body>"
    output, injector = inject(page, Position.BODY_END)
    assert output == page.replace(b"</head>", HEAD + b"</head>").replace(
        b"<p>x</p></body>", b"<p>x</p>" + NOTICE + b"</body>"
    )
    assert injector.injected


def test_body_end_without_end_tag_appends_at_the_end() -> None:
    page = b"<html><head></head><body><p>cut short"
    output, _ = inject(page, Position.BODY_END)
    assert output == page.replace(b"</head>", HEAD + b"</head>") + NOTICE


def test_placeholder_is_kept_and_followed_by_the_notice() -> None:
    page = b"<head></head><body><header>h</header>" + PLACEHOLDER + b"<main>m</main></body>"
    output, _ = inject(page, Position.PLACEHOLDER)
    assert output == page.replace(b"</head>", HEAD + b"</head>").replace(
        PLACEHOLDER, PLACEHOLDER + NOTICE
    )


def test_placeholder_missing_falls_back_to_the_end() -> None:
    page = b"<head></head><body><p>x</p></body>"
    output, _ = inject(page, Position.PLACEHOLDER)
    assert output.endswith(b"</body>" + NOTICE)


def test_placeholder_inside_a_script_does_not_count() -> None:
    page = b"<head></head><body><script>'" + PLACEHOLDER + b"'</script>" + PLACEHOLDER + b"x"
    output, _ = inject(page, Position.PLACEHOLDER)
    assert output.endswith(PLACEHOLDER + NOTICE + b"x")
    assert output.count(NOTICE) == 1


def test_injects_exactly_once() -> None:
    page = b"<head></head><body>a</body><body>b</body>"
    for position in Position:
        output, _ = inject(page, position)
        assert output.count(NOTICE) == 1
        assert output.count(HEAD) == 1


def test_holds_back_only_a_partial_token() -> None:
    injector = Injector(HEAD, NOTICE)
    assert injector.feed(b"<html><he") == b"<html>"
    # In raw text, only what could be the start of its end tag is kept.
    assert injector.feed(b"ad><title>x</ti") == b"<head><title>"
    assert injector.feed(b"tle></head") == b"x</title>"  # </head> is held: it may get HEAD
    assert injector.feed(b"><body") == b""
    assert injector.feed(b">rest") == HEAD + b"</head><body>" + NOTICE + b"rest"
    assert injector.feed(b"and more") == b"and more"  # decided: pass-through


def test_a_long_gap_between_head_and_body_gives_up_untouched() -> None:
    page = b"<head></head>" + b"<!-- gap --><script>s()</script>\n" * 10_000 + b"<body>x"
    injector = Injector(HEAD, NOTICE, max_holdback=1000)
    output = b"".join(injector.feed(page[i : i + 700]) for i in range(0, len(page), 700))
    output += injector.close()
    assert output == page
    assert injector.gave_up
    assert injector.reason == "holdback"
    whole = Injector(HEAD, NOTICE, max_holdback=1000)
    assert whole.feed(page) + whole.close() == page
    assert whole.reason == "holdback"


def test_a_page_cut_short_past_the_bound_gets_no_end() -> None:
    # The end a page cut short gets (here </style>) comes only with the fragments.
    for page in (b"<head></head><style>" + b"a{}" * 100, b"<head></head><!--" + b"c" * 300):
        for position in Position:
            for chunks in (None, [1] * len(page), [50] * len(page)):
                output, injector = inject(page, position, chunks, max_holdback=100)
                assert output == page
                assert injector.reason == "holdback"


def test_memory_stays_bounded_on_a_huge_page() -> None:
    # 10 MB of markup, comments, scripts and a 1 MB attribute, in 64 KB chunks;
    # the notice goes at the end, so the injector scans all of it.
    unit = b"<div class='a'>text &amp; more</div><!-- c --><script>x='<body>'</script>\n"
    page = (
        b"<html><head></head><body><img src='data:" + b"A" * 1_000_000 + b"'>"
        + unit * (10_000_000 // len(unit)) + b"</body></html>"
    )  # fmt: skip
    injector = Injector(HEAD, NOTICE, Position.BODY_END)
    largest_held = 0
    sent = 0
    for start in range(0, len(page), 65536):
        chunk = page[start : start + 65536]
        sent += len(injector.feed(chunk))
        largest_held = max(largest_held, start + len(chunk) + len(HEAD) - sent)
    sent += len(injector.close())
    assert sent == len(page) + len(HEAD) + len(NOTICE)
    assert largest_held < 5000


# --- properties ---------------------------------------------------------------

fragments = st.sampled_from(
    [
        b"<html>", b"<head>", b"</head>", b"<body>", b"<BODY class='a>b'>", b"</body>",
        b"<!--", b"-->", b"<!-->", b"<script>", b"</script>", b"<style>", b"</STYLE >",
        b"<title>", b"</title>", b"<textarea>", b"</textarea>", b"<![CDATA[", b"]]>",
        b"<?x ", b"<!doctype html>", b"'", b'"', b"<", b">", b"/", b"=", b" ", b"text",
        b"<p class=\"", b"<div title='<body>'>", PLACEHOLDER, MARKER, b"\xef\xbb\xbf",
        b"<bodyx>", b"</ x>", b"<a href=x>", b"<a href=#main>", b"<a href='#x' class=s>",
        b"</a>", b"<ul>", b"<li>", b"</li>", b"</ul>", b"<nav>", b"</nav>", b"<p>", b"</p>",
        b"<button>", b"<template>", b"</template>", b"<noscript>", b"</noscript>", b"<svg>",
        b"</svg>", b"--!>", b"<!--<script>", b"<plaintext>", b"<frameset>", b"x", b"\n",
        b"<input type=hidden>", b"<div tabindex=0>", b"<div>", b"</div>", b"<a href=\"#m",
        # what the skip links' fast path reads, and what it must decline
        b"<header class=h>", b"</header>", b"<span>", b"</span>", b"<strong>", b"</STRONG>",
        b"<img alt=''>", b"<br>", b"<A HREF=#Top>", b"<a class=skip href=\"#c\">", b"<a href='#'>",
        b"<a href=\"  # \">", b"<a href= #y>", b"<a href #z>", b"<a href=/ href=#x>",
        b"<a href=#x href=/>", b"<a hrefx=#x>", b"<a =href=#x>", b"<a href=#x tabindex=-1>",
        b"<li class=i>", b"</li >", b"<script>s()</script>", b"<style>a{}</style>",
        b"<noscript><img src=x></noscript>", b"<script>'<a href=/>'</script>", b"<h1>",
        b"<select>", b"<math>", b"<html lang=en>", b"<span tabindex=0>", b"<p class=skip>",
    ]
)  # fmt: skip
pages = st.lists(fragments, max_size=40).map(b"".join) | st.sampled_from([c[1] for c in CORPUS])


@settings(max_examples=400, deadline=None)
@given(
    page=pages, cuts=st.lists(st.integers(0, 400), max_size=12), position=st.sampled_from(Position)
)
def test_any_split_gives_the_single_chunk_output(
    page: bytes, cuts: list[int], position: Position
) -> None:
    whole, reference = inject(page, position)
    points = sorted({c % (len(page) + 1) for c in cuts})
    sizes = [b - a for a, b in zip([0, *points], points, strict=False)]
    split, injector = inject(page, position, chunks=sizes)
    assert split == whole
    assert (injector.injected, injector.gave_up) == (reference.injected, reference.gave_up)


#: What closes a page cut short inside a comment, raw text or templates.
CLOSER = re.compile(rb"(?:</[a-z]+>|-->|->|>|\]\]>)?(?:</template>)*\Z")


def page_and_closer(rest: bytes, page: bytes) -> bool:
    """Whether ``rest`` is ``page`` with what closes it at its end, or, when it ends
    with a tag cut short (which the parser drops), closing templates before that."""
    if rest.startswith(page) and CLOSER.match(rest, len(page)):
        return True
    extra = len(rest) - len(page)
    if extra % len(b"</template>"):
        return False
    for found in re.finditer(rb"(?=</template>)", rest):
        at = found.start()
        name = _htmlsyntax._NAME.match(page, at)
        if (
            rest[at : at + extra] == b"</template>" * (extra // len(b"</template>"))
            and rest[:at] + rest[at + extra :] == page
            and name is not None
            and _htmlsyntax._TAG_REST.match(page, name.end()) is None
        ):
            return True
    return False


@settings(max_examples=300, deadline=None)
@given(page=pages, position=st.sampled_from(Position))
def test_removing_the_fragments_gives_back_the_page(page: bytes, position: Position) -> None:
    output, injector = inject(page, position)
    if injector.injected:
        assert output.count(NOTICE) == 1 + page.count(NOTICE)
        assert page_and_closer(output.replace(HEAD, b"", 1).replace(NOTICE, b"", 1), page)
    else:
        assert output.replace(HEAD, b"", 1) == page
        assert injector.gave_up
        assert injector.reason


@given(st.binary(max_size=300), st.lists(st.integers(1, 50), max_size=10))
def test_garbage_never_raises(data: bytes, sizes: list[int]) -> None:
    # Bytes in, bytes out: the page itself, plus at most what closes a construct
    # the input left open (b"<!" ends as b"<!>") so that the fragments can follow.
    output, injector = inject(data, chunks=sizes)
    rest = output.replace(HEAD, b"", 1).replace(NOTICE, b"", 1)
    if injector.injected:
        assert page_and_closer(rest, data)
    else:
        assert rest == data


def token_by_token(
    page: bytes, position: Position = Position.BODY_START, max_holdback: int = 65536
) -> tuple[bytes, str | None, str | None]:
    """The injector with its fast paths (the page start, the skip links) and its
    skip-link loop turned off: its output, reason and the page's language."""
    with pytest.MonkeyPatch.context() as patch:
        never = re.compile(b"(?!)")
        patch.setattr(_inject, "page_start", lambda data: None)
        patch.setattr(_inject, "_decided", {})  # nothing decided before
        for name in ("_SKIP_LINKS", "_TO_THE_END"):
            patch.setattr(_skiplinks, name, never)
        patch.setattr(_skiplinks, "_SKIP_STEP", re.compile(rb"()(?:(x)(y)(z)(?!))?"))
        injector = Injector(HEAD, NOTICE, position, max_holdback=max_holdback)
        return injector.feed(page) + injector.close(), injector.reason, injector.page_language


@settings(max_examples=600, deadline=None)
@given(page=pages, position=st.sampled_from(Position))
def test_the_fast_path_gives_the_token_by_token_bytes(page: bytes, position: Position) -> None:
    output, injector = inject(page, position)
    assert (output, injector.reason, injector.page_language) == token_by_token(page, position)


def test_the_fast_path_takes_the_common_page_and_declines_the_doubtful() -> None:
    page = b"<!doctype html><html lang=oc><head><title>t</title></head><body>x"
    injector = Injector(HEAD, NOTICE)
    assert injector.feed(page) == expect(page, b"</head>", b"<body>")
    assert injector.page_language == "oc"
    doubtful = b"<html><!-- <html lang=fr> --><head></head><body>x"
    assert inject(doubtful)[0] == token_by_token(doubtful)[0]


@pytest.mark.parametrize(
    ("page", "language"),
    [
        (b"<!doctype html><HTML LANG='ar-MA'><head></head><body>x", "ar-ma"),
        (b"<html class=x lang=oc><body>x", "oc"),
        (b"<html><head></head><body>x", None),
        (b"<!-- <html lang=en> --><html lang=fr><body>x", "fr"),
    ],
)
def test_render_gets_the_pages_language_however_the_page_is_cut(
    page: bytes, language: str | None
) -> None:
    for size in (len(page), 1, 3, 7):
        seen: list[str | None] = []

        def render(page_language: str | None, seen: list[str | None] = seen) -> tuple[bytes, bytes]:
            seen.append(page_language)
            return HEAD, NOTICE

        injector = Injector(b"", b"", render=render)
        chunks = [page[i : i + size] for i in range(0, len(page), size)]
        output = b"".join(injector.feed(c) for c in chunks) + injector.close()
        assert seen == [language], size
        assert output.count(NOTICE) == 1


# --- Pages whose head changes inside one value (a CSRF token, a nonce) --------

_UNCLOSED = b'<!-- a="b-c-" ->'  # the comment goes on
#: Head pieces with values such a page changes, and text that only looks like one.
_VALUED = [
    b'<meta name="csrf-token" content="0123456789abcdef">', b'<meta name=x content = "abc">',
    b'<script nonce="r4nd0m">var a = "x";</script>', b'<script>x = "</scripX/">";</script>',
    b'<script>s = "<!-X";</script>', b'<style nonce="n0nce">a{b:c}</style>',
    b'<title>a="b c"</title>', b'<!-- a="b-c" -->', b'<!-- a="-X>" -->', _UNCLOSED,
    b'<meta a=x="yz">', b'<meta content="a b c">', b'<link rel=stylesheet href="/a.css?v=123">',
    b'<meta x="a"b="c">', b'<meta content="data-ai-disclosure-noticX">', b"\n  ",
    # A quote after "=" that opens no value: an "=" there would open one.
    b'<meta a="="xyz" b="c >d">', b'<meta a="x"="yz">', b"<meta content='a\"b'>",
    # WordPress's nonces in a script's JSON, and scripts and titles holding a "<".
    b'<script>var s = {"nonce":"a1b2c3"};</script>', b'<script>if (a<b) c = "de";</script>',
    b"<title>a<b c</title>", b'<noscript><link rel="stylesheet" href="/a.css"></noscript>',
    b'<script>if (a<b) {} var s = {"nonce":"a1b2"};</script>', b"<title>a</titlX b</title>",
    b"<style>a{}</stylX><!--b--></style>",
]  # fmt: skip
#: What a changed byte may be: inert ones, and each that could end what holds it.
_CHANGES = [bytes([c]) for c in b"aet0 \"'<>-!=/\n"]
valued_pages = st.tuples(
    st.sampled_from(
        [b"", b"<!doctype html>", b'<!DOCTYPE html PUBLIC "-//W3C//DTD" "x">', b"\xef\xbb\xbf"]
    ),
    st.sampled_from([b"", b"<html>", b'<html lang="fr">', b'<html lang=fr data-x="ab">']),
    st.sampled_from([b"", b"<head>"]),
    st.lists(st.sampled_from(_VALUED), max_size=5).map(b"".join),
    st.sampled_from([b"", b"</head>"]),
    st.sampled_from([b"<body>", b'<body class="x">', b"<body><a href=#main>Skip</a><main>"]),
    st.sampled_from([b"x", b"<p>x</p>", b"<a href=/>Home</a>"]),
).map(b"".join)  # fmt: skip


@settings(max_examples=1500, deadline=None)
@given(
    page=valued_pages,
    data=st.data(),
    position=st.sampled_from([Position.AFTER_SKIP_LINKS, Position.BODY_START]),
)
def test_a_page_differing_in_a_value_gives_the_token_by_token_bytes(
    page: bytes, data: st.DataObject, position: Position
) -> None:
    """A page decided before, then the same page with a few bytes of its head
    changed (the same length: the same body offset) to anything, quotes,
    brackets, spaces and the marker's last letter included: recalled or read, the
    token-by-token bytes and language."""
    _inject._decided.clear()
    _skiplinks._read_before.clear()
    inject(page, position)
    decided = dict(_inject._decided)
    body = page.find(b"<body")
    if body < 1:
        return
    for _ in range(8):
        start = data.draw(st.integers(0, body - 1), label="start")
        end = data.draw(st.integers(start + 1, min(start + 4, body)), label="end")
        size = end - start
        changed = data.draw(st.lists(st.sampled_from(_CHANGES), min_size=size, max_size=size))
        other = page[:start] + b"".join(changed) + page[end:]
        _inject._decided.clear()
        _inject._decided.update(decided)
        whole, injector = inject(other, position)
        reference = token_by_token(other, position)
        assert (whole, injector.reason, injector.page_language) == reference, other


@pytest.mark.parametrize("html", [b"<html>", b'<html lang="fr" data-x="ab">'])
def test_every_byte_changed_in_a_head_of_values_gives_the_token_by_token_bytes(
    html: bytes,
) -> None:
    """Each byte of a head holding every piece above, changed to each byte that
    could matter, alone and with the byte after it: recalled or read, the
    token-by-token bytes and language."""
    pieces = b"".join(piece for piece in _VALUED if piece != _UNCLOSED)
    page = b"<!doctype html>" + html + b"<head>" + pieces + b"</head><body>x"
    _inject._decided.clear()
    inject(page, Position.BODY_START)
    decided = dict(_inject._decided)
    assert decided  # the fast path read it, and kept it
    body = page.find(b"<body")
    pairs = [a + b for a in (b"t", b"e", b'"') for b in (b"t", b"e", b"<", b" ")]
    for at in range(body):
        for changed in [*_CHANGES, *pairs]:
            other = page[:at] + changed + page[at + len(changed) :]
            _inject._decided.clear()
            _inject._decided.update(decided)
            whole, injector = inject(other, Position.BODY_START)
            reference = token_by_token(other, Position.BODY_START)
            assert (whole, injector.reason, injector.page_language) == reference, other


def test_a_token_in_the_head_is_recalled_not_read() -> None:
    """The same page with a new CSRF token, CSP nonce, cache-busting version or
    WordPress nonce (in a script's JSON) in its head: placed from the decision
    kept, with the page start's match never run."""
    _inject._decided.clear()
    page = (
        b'<!doctype html><html lang="fr"><head><meta name="csrf-token" content="%s">'
        b'<script nonce="%s" src="/a.js"></script><link rel=stylesheet href=\'/a.css?v=%s\'>'
        b'<script>var wpApiSettings = {"root":"\\/wp-json\\/","nonce":"%s"};</script>'
        b"<title>Accueil</title></head><body><a href=#main>Aller au contenu</a><main>x</main>"
    )
    inject(page % (b"a" * 40, b"n" * 22, b"1", b"0" * 10), Position.AFTER_SKIP_LINKS)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_inject, "page_start", lambda data: pytest.fail("read anew"))
        for values in (
            (b"b" * 40, b"n" * 22, b"1", b"0" * 10),
            (b"c" * 40, b"m" * 22, b"2", b"3f9a0c41d2"),
        ):
            other = page % values
            recalled, injector = inject(other, Position.AFTER_SKIP_LINKS)
            assert recalled == token_by_token(other, Position.AFTER_SKIP_LINKS)[0]
            assert injector.page_language == "fr"
        # A token of another length moves the body: read anew, not recalled.
        with pytest.raises(pytest.fail.Exception, match="read anew"):
            inject(page % (b"d" * 41, b"n" * 22, b"1", b"0" * 10), Position.AFTER_SKIP_LINKS)


def test_a_nonce_in_a_script_holding_a_bracket_is_recalled_not_read() -> None:
    """WordPress's settings script beside code with a "<": the nonce lies in
    the text before it, or past the bytes after it that could make an end tag."""
    _inject._decided.clear()
    page = (
        b'<!doctype html><html><head><script>if (a<b) {} var s = {"nonce":"%s"};'
        b"for (i = 0; i<n; i++) t = '%s';</script></head><body><p>x</p>"
    )
    inject(page % (b"0" * 10, b"0" * 8), Position.BODY_START)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_inject, "page_start", lambda data: pytest.fail("read anew"))
        other = page % (b"3f9a0c41d2", b"a81c55e0")
        recalled, _ = inject(other, Position.BODY_START)
    assert recalled == token_by_token(other, Position.BODY_START)[0]


def test_a_head_changing_outside_its_text_is_not_walked_on_every_page() -> None:
    """A head whose pages change outside its text (an unquoted token): read
    anew each time, the token-by-token bytes; its head walked once, then once
    in ``_SKIP_WALKS`` + 1 pages, not on every page."""
    _inject._decided.clear()
    page = b"<html><head><meta name=csrf content=%s><title>t</title></head><body><p>x</p>"
    walks: list[int] = []
    real = _inject.inert_spans
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_inject, "inert_spans", lambda *a: walks.append(1) or real(*a))
        for n in range(2 * _inject._SKIP_WALKS + 3):
            other = page % b"%08x" % (n * 2654435761 % 2**32)
            assert inject(other, Position.BODY_START)[0] == token_by_token(other)[0]
    assert len(walks) == 2  # the second page, then after _SKIP_WALKS pages skipped
