"""Reading past the skip links: where the notice goes by default, and that the
fast matches give the token-by-token reading's bytes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ai_disclosure import _htmlsyntax, _inject, _skiplinks
from ai_disclosure._inject import Injector, Position

from .test_inject import HEAD, NOTICE, expect, expect_at, inject, token_by_token

TEMPLATES = Path(__file__).resolve().parent / "fixtures" / "templates"
PAGE_START = b'<!DOCTYPE html><html lang="fr"><head><title>t</title></head>\n'


# Body starts shaped like real ones (containers, skip links alone or in list items,
# end tags, more start tags, then what ends the reading), and near misses.
def choices(options: list[bytes], most: int) -> st.SearchStrategy[bytes]:
    return st.lists(st.sampled_from(options), max_size=most).map(b"".join)


quiet = choices(
    [b" ", b"\n  ", b"<!-- c -->", b"<script>x()</script>", b"<script><!--x</script>",
     b"<style>a{}</style>", b"<noscript><iframe src=x></iframe></noscript>",
     b"<script>'<a href=#y>y</a>'</script>", b"<!-- <a href=/> -->", b"<!---->"],
    2,
)  # fmt: skip
containers = choices(
    [b"<div class=a>", b"<header>", b"<nav aria-label=x>", b"<ul>", b"<DIV>", b"<section>",
     b"<main>", b"<my-el>", b"<form>", b"<p>", b"<span>", b"<h1>", b"<img>", b"<li>",
     b"<table>", b"<svg>", b"<template>", b"<div tabindex=0>", b"<dl>", b"<figure>",
     b"<div title='" + b"t" * 4100 + b"'>", b"<html lang=en>",
     b"<h1 class=sr-only>Navigation</h1>", b"<h2>"],
    4,
)  # fmt: skip
links = st.sampled_from(
    [b"<a href=#main>Skip</a>", b'<a class="skip-link" href="#content">Skip to content</a>',
     b"<a href='#c'><span class=i></span><strong>Skip</strong></a>",
     b"<a href=#x><img alt=''> go</a>", b"<a href=#x>a<br>b</a>", b"<A HREF='#Z'>Z</A>",
     b"<a href=# >Top</a>", b"<a href=/>Home</a>", b"<a href=#x tabindex=1>x</a>",
     b"<a href=#x><svg></svg>x</a>", b"<a href=#x><span>x</a>", b"<a href=#x>a < b</a>",
     b"<a href=#x><!-- c -->x</a>", b"<a name=x>x</a>", b"<a href=#x>x</a >",
     b"<a href=#x data-ai-disclosure-notice>x</a>", b"<a href=#x>" + b"y" * 5000 + b"</a>"]
)  # fmt: skip
items = st.lists(
    st.tuples(st.sampled_from([b"<li>", b"<li class=i>", b"<LI>"]), quiet, links, quiet,
              st.sampled_from([b"", b"</li>", b"</li >"]), quiet).map(b"".join),
    min_size=1, max_size=4,
).map(b"".join)  # fmt: skip
ends = choices(
    [b"</div>", b"</header>", b"</nav>", b"</ul>", b"</li>", b"</p>", b"</span>", b"</x>",
     b"</br>", b"</body>", b"</a>", b"</main>", b"\n"],
    3,
)  # fmt: skip
more = choices(
    [b"<div>", b"<header class=h>", b"<p>", b"<h1>", b"<span>", b"<input type=hidden>",
     b"<input>", b"<button>", b"<li>", b"<table>", b"<math>", b"<svg>", b"<template>",
     b"<title>", b"<html lang=en>", b"<textarea>", b"<div tabindex=0>", b"<br>", b" ",
     b"<div data-ai-disclosure-notice>", b"<div title='" + b"t" * 4100 + b"'>",
     b"<h2 class=sr-only>Menu</h2>"],
    4,
)  # fmt: skip
last = st.sampled_from(
    [b"Text", b"<a href=/>Home</a>", b"<a href=#m>S</a>", b"<a>x</a>", b"<a href='#'>t",
     b"<button>B</button>", b"<a href=#m tabindex=0>", b"<a href=/ data-ai-disclosure-notice>",
     b"</div>", b"<a href=\"#m", b"", b"<!-- end", b"<a title='>' href=/>",
     b"<a href=/" + b" " * 5000 + b">", b"<select>"]
)  # fmt: skip
body_starts = st.tuples(
    st.sampled_from([b"", b"<!doctype html><html lang=fr><head><title>t</title></head>",
                     b"<head></head>", b"<title>x</title>"]),
    st.sampled_from([b"<body>", b"<body class=x>\n", b""]),
    quiet, containers, quiet, st.one_of(links, items, st.just(b"")), quiet, ends, more, last,
    st.sampled_from([b"<main>rest</main>", b"", b"</div><a href=#z>z</a>",
                     b"</template><a href=#z>z</a>x"]),
).map(b"".join)  # fmt: skip
holdbacks = st.one_of(st.just(65536), st.integers(0, 400))
#: What may follow a cut body start: more of one.
continuations = st.tuples(
    quiet, containers, quiet, st.one_of(links, items, st.just(b"")), quiet, ends, more, last
).map(b"".join)


@settings(max_examples=1500, deadline=None)
@given(page=body_starts, cuts=st.lists(st.integers(0, 6000), max_size=4), max_holdback=holdbacks)
def test_the_skip_links_fast_path_gives_the_token_by_token_bytes(
    page: bytes, cuts: list[int], max_holdback: int
) -> None:
    position = Position.AFTER_SKIP_LINKS
    reference = token_by_token(page, position, max_holdback)
    whole, injector = inject(page, position, max_holdback=max_holdback)
    assert (whole, injector.reason, injector.page_language) == reference
    points = sorted({c % (len(page) + 1) for c in cuts})
    sizes = [b - a for a, b in zip([0, *points], points, strict=False)]
    split, injector = inject(page, position, sizes, max_holdback)
    assert (split, injector.reason) == reference[:2]


@settings(max_examples=1500, deadline=None)
@given(
    first=body_starts,
    tail=continuations,
    data=st.data(),
    max_holdback=holdbacks,
    position=st.sampled_from([Position.AFTER_SKIP_LINKS, Position.BODY_START]),
)
def test_a_page_start_decided_before_gives_the_token_by_token_bytes(
    first: bytes, tail: bytes, data: st.DataObject, max_holdback: int, position: Position
) -> None:
    """A page sharing its bytes up to some point past its body start with one decided
    before (its page start, skip-link reading and decision kept, at the default
    bound), whatever follows and whatever its own bound."""
    _skiplinks._read_before.clear()
    _inject._decided.clear()
    # A short key makes many more pages share one: the bytes read are what decide.
    key = data.draw(st.sampled_from([_skiplinks._KEY, 1, 8]), label="key")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_skiplinks, "_KEY", key)
        inject(first, position)
        body = max(first.find(b"<body"), 0)
        cut = data.draw(st.integers(body, len(first)), label="cut")
        # The same start, or another head before the same body start.
        for page in (first[:cut] + tail, PAGE_START + first[body:cut] + tail):
            whole, injector = inject(page, position, max_holdback=max_holdback)
            reference = token_by_token(page, position, max_holdback)
            assert (whole, injector.reason, injector.page_language) == reference


#: What may follow a cut page and change where its notice goes.
_DECIDING = [
    b"<a href=#q>Q</a>x", b"x", b"<a href=/>h</a>", b"</div></nav>x", b"<div>x", b"<!-- c -->x",
    b"</li><li><a href=#r>R</a></li></ul>x", b"<a href", b"",
]  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(
    first=body_starts,
    tails=st.lists(st.sampled_from(_DECIDING), min_size=1, max_size=3, unique=True),
    position=st.sampled_from([Position.AFTER_SKIP_LINKS, Position.BODY_START]),
    max_holdback=holdbacks,
)
def test_a_decision_kept_holds_only_for_pages_sharing_every_byte_that_made_it(
    first: bytes, tails: list[bytes], position: Position, max_holdback: int
) -> None:
    """Every cut up to the end of what decided a kept page (the deciding token
    included), followed by what would decide otherwise, after the same head or
    another one, at any bound: the token-by-token bytes."""
    _skiplinks._read_before.clear()
    _inject._decided.clear()
    inject(first, position)
    if not _inject._decided:
        return
    decided, read_before = dict(_inject._decided), dict(_skiplinks._read_before)
    (kept,) = decided.values()
    read = len(kept.read)
    body = max(first.find(b"<body"), 0)
    for cut in range(max(body, read - 48), read + 1):
        for tail in tails:
            for page, bound in (
                (first[:cut] + tail, 65536),
                (PAGE_START + first[body:cut] + tail, max_holdback),
            ):
                # Each page meets the first one's decision, not the one before's.
                _inject._decided.clear()
                _inject._decided.update(decided)
                _skiplinks._read_before.clear()
                _skiplinks._read_before.update(read_before)
                whole, injector = inject(page, position, max_holdback=bound)
                reference = token_by_token(page, position, bound)[:2]
                assert (whole, injector.reason) == reference, (cut, tail, bound)


def test_skip_links_in_nested_lists_are_decided_once_per_page_start() -> None:
    """The DSFR's skip links (``<div><nav><ul><li>``, their end tags read one by one)
    are read on the first page; the next page with that start is placed from the
    decision kept, as the reading would place it."""
    page = (TEMPLATES / "dsfr.html").read_bytes()
    _skiplinks._read_before.clear()
    _inject._decided.clear()
    first = inject(page, Position.AFTER_SKIP_LINKS)[0]
    assert first == token_by_token(page, Position.AFTER_SKIP_LINKS)[0]
    assert first.index(NOTICE) > first.index(b'<div class="fr-skiplinks">') > 0
    assert first.index(NOTICE) == first.index(b"</div>", first.index(b"fr-skiplinks")) + 6
    (kept,) = _inject._decided.values()
    assert page.startswith(kept.read)
    with pytest.MonkeyPatch.context() as patch:
        never = re.compile(b"(?!)")  # the reading cannot run again: recalled or wrong
        for name in ("_SKIP_LINKS", "_TO_THE_END", "_END_STEP"):
            patch.setattr(_skiplinks, name, never)
        assert inject(page, Position.AFTER_SKIP_LINKS)[0] == first
        # The same body after another head: its reading is recalled too.
        other = PAGE_START + page[page.index(b"<body") :]
        placed = inject(other, Position.AFTER_SKIP_LINKS)[0]
    assert placed == token_by_token(other, Position.AFTER_SKIP_LINKS)[0]
    # ...but only within that page's bound: past it, the reading's own answer.
    bound = other.index(b"fr-skiplinks") - other.index(b"</head>")
    reference = token_by_token(other, Position.AFTER_SKIP_LINKS, bound)
    output, injector = inject(other, Position.AFTER_SKIP_LINKS, max_holdback=bound)
    assert (output, injector.reason) == reference[:2]
    assert output.index(NOTICE) < output.index(b"fr-skiplinks")


def test_a_body_start_read_before_still_meets_each_pages_bound() -> None:
    """The skip links read on one page, met again after another head: the bound is
    that page's, counted from its own head."""
    _skiplinks._read_before.clear()
    _inject._decided.clear()
    body = b"<body><a href=#main>Skip to the content</a><nav><a href=/>Home</a>"
    inject(b"<title>t</title>" + body, Position.AFTER_SKIP_LINKS)
    assert _skiplinks._read_before
    page = PAGE_START + body
    # Room for the body tag, not for the skip link after it.
    bound = page.index(b"<a href=#main") - page.index(b"</head>") + 4
    output, injector = inject(page, Position.AFTER_SKIP_LINKS, max_holdback=bound)
    reference = token_by_token(page, Position.AFTER_SKIP_LINKS, bound)
    assert (output, injector.reason, injector.page_language) == reference
    assert output == expect(page, b"</head>", b"<body>")


def test_the_body_starts_and_decisions_kept_are_bounded() -> None:
    _skiplinks._read_before.clear()
    _inject._decided.clear()
    for n in range(3 * _skiplinks._LIMIT):
        page = PAGE_START.replace(b"<title>t", b"<title>%d" % n) + b"<body><a href=#m%d>S</a>x" % n
        assert inject(page, Position.AFTER_SKIP_LINKS)[0] == expect(page, b"</head>", b"</a>")
        assert 0 < len(_skiplinks._read_before) <= _skiplinks._LIMIT
        assert 0 < len(_inject._decided) <= _inject._DECIDED_LIMIT
    long_start = PAGE_START + b"<body><a href=#m>" + b"s" * _skiplinks._LONGEST + b"</a>x"
    inject(long_start, Position.AFTER_SKIP_LINKS)
    assert all(len(kept[0]) <= _skiplinks._LONGEST for kept in _skiplinks._read_before.values())


# The doubts the skip links' fast path must leave to the token-by-token reading.
DOUBTFUL = [
    b"<body><a href=/ data-ai-disclosure-notice>",
    b"<body><div data-ai-disclosure-notice>x",
    b"<body><a href=#m data-ai-disclosure-notice>S</a><a href=/>",
    b"<body><template>Text</template><a href=#z>z</a>x",
    b"<body><div><html lang=en>x",
    b"<body><div title='" + b"t" * 4100 + b"'><a href=#m>S</a><a href=/>",
    b"<body><a href=#m>S</a><div title='" + b"t" * 4100 + b"'>x",
    b"<body><p><a href=#m>S</a></p><nav><a href=/>",
    b"<body><div tabindex=0><a href=#m>S</a></div><a href=/>",
    b"<body><script>'tabindex'</script><a href=#m>S</a><a href=/>",
    b"<body><a href=#m>S</a><a href=#n tabindex=0>",
    b"<body><a href=#m>S</a><svg><a>x</a></svg><a href=#n>N</a>x",
    b"<body><a href=#m>S</a><title><a href=#n>N</a></title>x",
]


@pytest.mark.parametrize("body", DOUBTFUL)
def test_the_skip_links_fast_path_leaves_doubts_to_the_token_by_token_reading(
    body: bytes,
) -> None:
    page = PAGE_START + body
    output, injector = inject(page, Position.AFTER_SKIP_LINKS)
    assert (output, injector.reason, injector.page_language) == token_by_token(
        page, Position.AFTER_SKIP_LINKS
    )


@pytest.mark.parametrize(
    "body",
    [
        b"<body><ul><li><a href=#a>A</a><!-- a comment --></li><li><a href=#b>B</a></li></ul>x",
        b"<body>\n<div><nav><ul><li><a href=#a>A</a></li>\n<li><a href=#b>B</a></li></ul></nav>"
        b"</div>\n<header><p>Text",
        b"<body><input type=hidden><div><a href=#a>A</a><!-- a comment --></div>x",
        b"<body><header><a href=#m>Skip</a><nav><a href=/>Home</a>",
    ],
)
def test_every_path_stops_at_the_same_bound(body: bytes) -> None:
    # Whatever reads the skip links, the bound is checked before every tag: the
    # notice goes where the token-by-token reading puts it, for every bound.
    page = PAGE_START + body
    for bound in range(len(page) + 2):
        reference = token_by_token(page, Position.AFTER_SKIP_LINKS, bound)
        for chunks in (None, [1] * len(page)):
            output, injector = inject(page, Position.AFTER_SKIP_LINKS, chunks, bound)
            assert (output, injector.reason) == reference[:2], bound


# --- after the skip links (the default) -----------------------------------------

# (name, body, what the notice follows: None for the body start). The markup is the
# templates' own, as they render.
SKIP_LINKS = [
    ("GOV.UK",
     b'<body class="govuk-template__body">\n    <script>document.body.className += '
     b"' js-enabled' + ('noModule' in HTMLScriptElement.prototype ? ' govuk-frontend-supported'"
     b" : '');</script>\n    \n\n    \n      <a href=\"#main-content\" class=\"govuk-skip-link\""
     b' data-module="govuk-skip-link">Skip to main content</a>\n    \n\n    \n      <header '
     b'class="govuk-header" data-module="govuk-header">\n  <div class="govuk-header__container '
     b'govuk-width-container">\n    <div class="govuk-header__logo">\n      <a href="/" '
     b'class="govuk-header__link govuk-header__link--homepage">GOV.UK</a>',
     b"Skip to main content</a>"),
    ("DSFR",
     b'<body>\n<div class="fr-skiplinks">\n  <nav class="fr-container" role="navigation" '
     b'aria-label="Acc\xc3\xa8s rapide">\n    <ul class="fr-skiplinks__list">\n      <li>\n'
     b'        <a class="fr-link" href="#contenu">Contenu</a>\n      </li>\n      <li>\n'
     b'        <a class="fr-link" href="#header-navigation">Menu</a>\n      </li>\n      <li>\n'
     b'        <a class="fr-link" href="#footer">Pied de page</a>\n      </li>\n    </ul>\n'
     b'  </nav>\n</div>\n<header role="banner" class="fr-header">\n  <div class="fr-header__body">'
     b'\n    <div class="fr-container">\n      <div class="fr-header__body-row">\n        <div '
     b'class="fr-header__brand fr-enlarge-link">\n          <div class="fr-header__brand-top">\n'
     b'            <div class="fr-header__logo">\n              <p class="fr-logo">'
     b"R\xc3\xa9publique<br>Fran\xc3\xa7aise</p>",
     b"  </nav>\n</div>"),
    ("WordPress classic theme",
     b'<body class="home blog wp-embed-responsive">\n<div id="page" class="site">\n\t<a class="'
     b'skip-link screen-reader-text" href="#primary">Skip to content</a>\n\n\t<header id="masthead"'
     b' class="site-header">\n\t\t<div class="site-branding">\n\t\t\t<h1 class="site-title"><a '
     b'href="https://example.org/" rel="home">Site</a></h1>',
     b"Skip to content</a>"),
    ("WordPress 5.9-6.2 duotone filters first",
     b'<body class="home">\n<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 0 0" width="0"'
     b' height="0" focusable="false" role="none" style="visibility: hidden; position: absolute;'
     b' left: -9999px; overflow: hidden;" ><defs><filter id="wp-duotone-dark-grayscale">'
     b'<feColorMatrix color-interpolation-filters="sRGB" type="matrix" values=" .299 .587 .114 0'
     b' 0 .299 .587 .114 0 0 .299 .587 .114 0 0 .299 .587 .114 0 0 " /><feComponentTransfer '
     b'color-interpolation-filters="sRGB" ><feFuncR type="table" tableValues="0 0.49803921568627"'
     b' /></feComponentTransfer><feComposite in2="SourceGraphic" operator="in" /></filter></defs>'
     b'</svg>\n<div id="page" class="site">\n\t<a class="skip-link screen-reader-text" '
     b'href="#content">Skip to content</a>\n\t<header id="masthead"><p><a href="/">Site</a>',
     b"Skip to content</a>"),
    ("WordPress block theme",
     b'<body class="home blog wp-embed-responsive">\n<a class="skip-link screen-reader-text" '
     b'id="wp-skip-link" href="#wp--skip-link--target">Skip to content</a><div class="wp-site-'
     b'blocks"><header class="wp-block-template-part">\n<div class="wp-block-group"><p class="wp-'
     b'block-site-title"><a href="https://example.org" target="_self" rel="home">Site</a></p>',
     b"Skip to content</a>"),
    ("Wagtail bakerydemo",
     b'<body class="template-homepage">\n\n\n\n<header class="header clearfix">\n    <a href="'
     b'#main-content" class="skip-link">Skip to main content</a>\n    <div class="container">\n'
     b'        <div class="navigation" data-navigation>\n            <a href="/" class="'
     b'navigation__logo">The Wagtail Bakery</a>',
     b"Skip to main content</a>"),
    ("no skip link: the first focusable is a link", b'<body><header><a href="/">Home</a>',
     None),
    ("a footnote link after text", b'<body><main><p>Text<a href="#fn1">1</a></p></main>', None),
    ("text before the link", b'<body><p class=x>Bienvenue</p><a href="#main">Aller</a>', None),
    ("a bare '#' is no skip link", b'<body><a href="#">Top</a><a href="#main">Skip</a>', None),
    ("a button first", b'<body><div><button>Menu</button><a href="#main">Skip</a>', None),
    ("a cookie banner first",
     b'<body><div class="cookie"><form method=post><input type=hidden name=t value=1>'
     b'<button name=accept>OK</button></form></div><a href="#main">Skip</a>', None),
    ("tabindex on a plain element", b'<body><div tabindex="0">x</div>', None),
    ("skip link deep in containers",
     b'<body><div class=a><div class=b><header><nav aria-label=skip><ul><li><a href="#c">'
     b'Content</a></li></ul></nav></header></div><div class=c><a href="/">Home</a>',
     b"</nav></header></div>"),
    ("skip link inside a paragraph: after the paragraph",
     b'<body><p class=skip><a href="#c">Skip</a></p>\n<nav><a href="/">Home</a>', b"</p>"),
    ("inline markup in the skip link",
     b'<body><a href="#c"><span class=icon></span><strong>Skip</strong></a><main>m',
     b"</strong></a>"),
    ("skip links, not a list item's end", b'<body><ul><li><a href="#a">A</a><li><a href="#b">B'
     b"</a></ul><p>x", b"B</a></ul>"),
    ("comments and hidden inputs between", b'<body><!-- a --><input type=hidden name=x>'
     b'<a href="#m">Skip</a><!-- b --><main>', b"Skip</a>"),
    ("implied body", b"<title>t</title><a href=#main>Skip</a><nav><a href=/>Home</a>",
     b"Skip</a>"),
    # Liferay 7.0 - 7.3's quick-access taglib: a visually hidden heading names the nav.
    ("a navigation's heading before its skip link",
     b'<body class="controls-visible"><nav aria-label="Liens rapides" class="quick-access-nav"'
     b' id="tvjq_quickAccessNav"><h1 class="sr-only">Navigation</h1><ul><li><a href="#main-'
     b'content" class="sr-only sr-only-focusable">Aller au contenu principal</a></li></ul>'
     b'</nav><div class="container-fluid" id="wrapper"><header id="banner"><a href="/">Accueil',
     b"</li></ul></nav>"),
    ("a heading outside a nav ends the reading",
     b'<body><header><h1>Ville de Montpellier</h1><a href="#main">Aller au contenu</a>', None),
    ("text in a nav, outside its heading, ends the reading",
     b'<body><nav><h2>Menu</h2><p>Bienvenue</p><a href="#main">Aller</a></nav>', None),
]  # fmt: skip


@pytest.mark.parametrize(("name", "body", "after"), SKIP_LINKS, ids=[c[0] for c in SKIP_LINKS])
def test_the_notice_follows_the_leading_skip_links(
    name: str, body: bytes, after: bytes | None
) -> None:
    page = PAGE_START + body
    output, injector = inject(page, Position.AFTER_SKIP_LINKS)
    if after is None:
        start = _htmlsyntax._NAME.match(body)
        assert start is not None
        if start.group(1).lower() == b"body":
            assert output == expect(page, b"</head>", body[: body.index(b">") + 1])
        else:
            assert output == expect_at(page, b"</head>", body)
    else:
        assert output == expect(page, b"</head>", after)
    assert injector.injected
    for size in (1, 7, 64):
        assert inject(page, Position.AFTER_SKIP_LINKS, [size] * len(page))[0] == output


@pytest.mark.parametrize(
    ("body", "after"),
    [
        (b"<body><nav><ul><li><a href=#x>x</a></li></ul><h2>Menu</h2><a href=#y>y</a></nav>"
         b"<main>Text", b"y</a></nav>"),
        (b"<body><nav aria-label=x><ul><li><a href=#x>x</a></li></ul><h2 class=sr-only>Menu"
         b"</h2><a href=#m>S</a><main>rest</main>", b"S</a>"),
        (b"<body><div><nav><a href=#x>x</a><h2>Menu</h2><a href=#y>y</a></nav>Text",
         b"y</a></nav>"),
    ],
)  # fmt: skip
def test_a_navigations_heading_between_skip_links_is_read_past(body: bytes, after: bytes) -> None:
    # The fast matches end at the heading's text; the nav opened before the links
    # must send them to the token-by-token reading, which goes on past the label.
    page = PAGE_START + body
    output, _ = inject(page, Position.AFTER_SKIP_LINKS)
    assert output == token_by_token(page, Position.AFTER_SKIP_LINKS)[0]
    assert output == expect(page, b"</head>", after)


def test_the_skip_link_reading_is_bounded() -> None:
    # Markup nobody can focus goes on and on: at the bound the notice goes where the
    # reading had got to, here after the skip link.
    page = PAGE_START + b'<body><a href="#m">Skip</a>' + b"<div><span></span></div>\n" * 400
    output, injector = inject(page, Position.AFTER_SKIP_LINKS, max_holdback=2000)
    assert output == expect(page, b"</head>", b"Skip</a>")
    assert injector.injected
    whole = output
    for size in (1, 100, 1999, 2001):
        split, _ = inject(page, Position.AFTER_SKIP_LINKS, [size] * len(page), 2000)
        assert split == whole
    # Only what was read is held: the notice is out once the bound is passed.
    injector = Injector(HEAD, NOTICE, max_holdback=2000)
    sent = injector.feed(page[:3000])
    assert NOTICE in sent


def test_the_notice_never_goes_where_it_would_change_the_parse() -> None:
    # Inside a <p> a <section> would close the paragraph; inside a <ul> the notice
    # would be a list's child; inside <table> it would be moved out: the place stays
    # before such containers.
    for body, after in [
        (b'<p><a href="#c">Skip</a> and text', None),
        (b'<ul><a href="#c">Skip</a></ul><p>x', b"</ul>"),
        (b'<table><tr><td><a href="#c">Skip</a></td><td>x', None),
        (b'<span><a href="#c">Skip</a></span><p>x', b"</span>"),
        (b'<b><div><a href="#c">Skip</a></b>x', None),
    ]:
        page = PAGE_START + b"<body>" + body
        output, _ = inject(page, Position.AFTER_SKIP_LINKS)
        assert output == expect(page, b"</head>", after or b"<body>"), body


def test_after_skip_links_is_the_default() -> None:
    assert next(iter(Position)) is Position.AFTER_SKIP_LINKS
    page = PAGE_START + b'<body><a href="#m">Skip</a><main>'
    injector = Injector(HEAD, NOTICE)
    assert injector.feed(page) + injector.close() == expect(page, b"</head>", b"Skip</a>")
