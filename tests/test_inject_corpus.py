"""The injector against the html5lib-tests tree-construction corpus, parsed by html5lib.

Every full document of ``../shared/corpora/html5lib-tests/tree-construction/*.dat``
(read in place; fragment tests and documents whose expected tree has a
``<frameset>`` are left out) is injected with fragments shaped like the real ones,
at the default position and at ``body-start``. The output, parsed by html5lib with
the scripting flag its own test runner uses (on for ``#script-on`` documents, off
otherwise), must have exactly one notice inside ``<body>``, the ``ai-disclosure``
meta inside ``<head>``, and, once the inserted nodes are taken out, the same tree
as the original.

Three figures are printed: over every such document (1,536: 95.4 %), over those
whose original html5lib parses as the corpus expects (1,368: 97.4 %), the only
ones where it can judge, and over those less the documents where no insertion
can keep the parse (1,344: 99.2 %; the issue's target of 99 % is asserted on
this one). Every miss is one of these kinds, which the test checks:

* **html5lib misparses the original** (168 documents, e.g. a ``<template>`` before
  the body, which html5lib 1.1 puts in ``<body>``, ``<dialog>``, ruby, ``<search>``,
  ``<isindex>``): a right injection looks wrong to it - 35 of them;
* **a script cut short in its double-escaped state** (``<script><!--<script>``
  and the end of the input, 24): no end tag closes it without changing its text,
  and the body only starts after it; left untouched, reason ``"truncated"``;
* **a ``<noscript>`` in the head read with scripting off** (9): browsers, which
  run scripts, read its content as text and the injector follows them; html5lib,
  with scripting off, reads it as markup that ends the head elsewhere;
* **the empty document** and a whitespace-only one (2): no page to put a notice
  on, reason ``"empty"``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ai_disclosure._inject import Injector, Position

html5lib = pytest.importorskip("html5lib")

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "html5lib-tests"
FILES = sorted((CORPUS / "tree-construction").glob("*.dat"))

pytestmark = pytest.mark.skipif(
    not FILES, reason=f"html5lib-tests corpus not found at {CORPUS} (CI has it)"
)

#: Fragments shaped like the middleware's: head elements with a JSON-LD script, and
#: a custom element holding a <section> with paragraphs and a <details>.
HEAD = (
    b'<meta name="ai-disclosure" content="ai-autonomous">'
    b'<script type="application/ld+json">{"@context": "https://schema.org"}</script>'
    b'<link rel="stylesheet" href="/.well-known/ai-disclosure/ai-notice.css">'
    b'<script type="module" src="/.well-known/ai-disclosure/ai-notice.js"></script>'
)
NOTICE = (
    b'<ai-notice class="ai-notice-host" data-ai-disclosure-notice>'
    b'<section class="ai-notice" aria-labelledby="n-title"><p id="n-title">IA</p>'
    b"<details><summary>Assistant <span>more</span></summary><div><dl><div><dt>Purpose</dt>"
    b"<dd>Answer</dd></div></dl><p><a href=/register>Register</a></p></div></details>"
    b"</section></ai-notice>"
)
#: The figures reached (see the module docstring for why not 99 %).
FLOOR_ALL, FLOOR_JUDGED, TARGET = 95.0, 97.0, 99.0
NS = "{http://www.w3.org/1999/xhtml}"


@dataclass(frozen=True, eq=False)
class Document:
    where: str
    data: bytes
    scripting: bool
    expected: str


def read_tests(path: Path) -> Iterator[dict[str, str]]:
    """The tests of one .dat file, as {section: text} (see the folder's README.md)."""
    test: dict[str, list[str]] = {}
    section = ""
    with path.open(encoding="utf-8", newline="\n") as lines:
        for raw in lines:
            line = raw[:-1] if raw.endswith("\n") else raw
            if line == "#data" and test and section == "document":
                yield _finish(test)
                test = {}
            if line.startswith("#") and line[1:] in {
                "data", "errors", "new-errors", "document-fragment", "document",
                "script-off", "script-on",
            }:  # fmt: skip
                section = line[1:]
                test[section] = []
                continue
            test.setdefault(section, []).append(line)
    if test:
        yield _finish(test)


def _finish(test: dict[str, list[str]]) -> dict[str, str]:
    out = {key: "\n".join(lines) for key, lines in test.items()}
    out["document"] = out.get("document", "").rstrip("\n")
    return out


def documents() -> list[Document]:
    found = []
    for path in FILES:
        for number, test in enumerate(read_tests(path)):
            if "document-fragment" in test or "| <frameset>" in test["document"]:
                continue
            try:
                data = test["data"].encode("utf-8")
            except UnicodeEncodeError:  # lone surrogates: no page is made of them
                continue
            found.append(
                Document(f"{path.name}#{number}", data, "script-on" in test, test["document"])
            )
    return found


def parse(data: bytes, scripting: bool) -> Any:
    # Bytes decoded as a browser would (a leading BOM is not content).
    parser = html5lib.HTMLParser(tree=html5lib.getTreeBuilder("etree", fullTree=True))
    return parser.parse(data.decode("utf-8-sig"), scripting=scripting)


def html5lib_agrees(document: Document) -> bool:
    """Whether html5lib parses the original as the corpus expects."""
    parser = html5lib.HTMLParser(
        tree=html5lib.getTreeBuilder("etree", fullTree=True), namespaceHTMLElements=False
    )
    tree = parser.parse(document.data.decode("utf-8-sig"), scripting=document.scripting)
    got = []
    for line in parser.tree.testSerializer(tree).split("\n")[1:]:
        if line.startswith("|"):
            line = "|" + line[2:]
        elif line.startswith("<!DOCTYPE"):
            line = "| " + line
        got.append(line)
    return got == expected_tree(document.expected)


def expected_tree(text: str) -> list[str]:
    """The corpus's tree without the "content" level of templates (html5lib's etree
    keeps template content as the element's children)."""
    out: list[str] = []
    dropped: list[int] = []
    for line in text.split("\n"):
        if not line.startswith("|"):  # a text node's following lines
            out.append(line)
            continue
        body = line[1:]
        indent = len(body) - len(body.lstrip(" "))
        while dropped and indent <= dropped[-1]:
            dropped.pop()
        if body.strip() == "content":
            dropped.append(indent)
            continue
        out.append("|" + " " * (indent - 2 * len(dropped)) + body.lstrip(" "))
    return out


def inserted(element: Any) -> bool:
    """Whether ``element`` is one of the injected nodes."""
    tag = element.tag if isinstance(element.tag, str) else ""
    get = element.get
    return (
        get("data-ai-disclosure-notice") is not None
        or (tag == NS + "meta" and get("name") == "ai-disclosure")
        or (tag == NS + "script" and get("type") == "application/ld+json")
        or (tag == NS + "link" and get("href") == "/.well-known/ai-disclosure/ai-notice.css")
        or (tag == NS + "script" and get("src") == "/.well-known/ai-disclosure/ai-notice.js")
    )


def dump(node: Any, skip_inserted: bool) -> str:
    """A serialization of the tree with text runs merged (removing a node may leave
    two text nodes side by side)."""
    lines: list[str] = []

    def walk(element: Any, depth: int) -> None:
        texts: list[str] = []

        def flush() -> None:
            if texts:
                lines.append("  " * (depth + 1) + repr("".join(texts)))
                texts.clear()

        if element.text:
            texts.append(element.text)
        for child in element:
            if not (skip_inserted and inserted(child)):
                flush()
                tag = child.tag if isinstance(child.tag, str) else f"<!--{child.text}-->"
                attributes = sorted(child.attrib.items()) if isinstance(child.tag, str) else []
                lines.append("  " * (depth + 1) + f"{tag} {attributes}")
                if isinstance(child.tag, str):
                    walk(child, depth + 1)
            if child.tail:
                texts.append(child.tail)
        flush()

    walk(node, 0)
    return "\n".join(lines)


def find(root: Any, name: str) -> Any:
    return next((e for e in root.iter() if e.tag == NS + name), None)


def check(document: Document, position: Position) -> str | None:
    """None when the injection is right, else what is wrong."""
    injector = Injector(HEAD, NOTICE, position)
    output = injector.feed(document.data) + injector.close()
    if not injector.injected:
        return f"not injected ({injector.reason})"
    original = parse(document.data, document.scripting)
    tree = parse(output, document.scripting)
    body, head = find(tree, "body"), find(tree, "head")
    notices = [e for e in tree.iter() if e.get("data-ai-disclosure-notice") is not None]
    in_body = [e for e in body.iter() if e.get("data-ai-disclosure-notice") is not None]
    if len(notices) != 1 or len(in_body) != 1:
        return f"{len(notices)} notices, {len(in_body)} in <body>"
    if not any(e.tag == NS + "meta" and e.get("name") == "ai-disclosure" for e in head):
        return "the meta is not in <head>"
    if dump(tree, skip_inserted=True) != dump(original, skip_inserted=False):
        return "the rest of the parse changed"
    return None


def with_body() -> list[Document]:
    return [d for d in DOCUMENTS if find(parse(d.data, d.scripting), "body") is not None]


DOCUMENTS = documents() if FILES else []


@pytest.fixture(scope="module")
def corpus() -> list[Document]:
    return with_body()


def script_never_closes(document: Document) -> bool:
    """The input ends inside a head script that nothing can close, as html5lib reads
    it (``<script><!--<script>`` cut short, in its double-escaped state): the head's
    last script runs to the end, and even its end tag appended after it stays
    script text. Anything added after it is swallowed; anything added before it
    moves the script out of the head: no insertion keeps the parse."""
    head = find(parse(document.data, document.scripting), "head")
    scripts = [e for e in head if e.tag == NS + "script"] if head is not None else []
    if not scripts or not document.data.decode("utf-8-sig").endswith(scripts[-1].text or "\0"):
        return False
    closed = parse(document.data + b"</script>" + NOTICE, document.scripting)
    return not any(e.get("data-ai-disclosure-notice") is not None for e in closed.iter())


def why_missed(document: Document, problem: str) -> str | None:
    """Which documented kind of miss this is, if any."""
    if not html5lib_agrees(document):
        return "html5lib misparses the original"
    if problem == "not injected (truncated)" and b"<!--<script" in document.data.lower():
        return "script cut short in its double-escaped state"
    if not document.scripting and b"<noscript" in document.data.lower():
        return "<noscript> in the head read with scripting off"
    if problem == "not injected (empty)":
        return "empty"
    return None


@pytest.mark.parametrize("position", [Position.AFTER_SKIP_LINKS, Position.BODY_START])
def test_the_notice_lands_in_the_body_of_the_corpus(
    corpus: list[Document], position: Position
) -> None:
    failures = {d: problem for d in corpus if (problem := check(d, position))}
    judged = [d for d in corpus if html5lib_agrees(d)]
    possible = [d for d in judged if not script_never_closes(d)]
    figures = []
    for label, population in (
        ("all", corpus),
        ("judged by html5lib", judged),
        ("judged, where an insertion can keep the parse", possible),
    ):
        total = len(population)
        ok = sum(1 for d in population if d not in failures)
        figures.append(pct := 100 * ok / total)
        print(f"\n{position.value}, {label}: exactly one notice in <body>, the meta in "
              f"<head>, the rest unchanged: {ok}/{total} = {pct:.1f} %")  # fmt: skip
    kinds: dict[str, list[str]] = {}
    for document, problem in failures.items():
        kind = why_missed(document, problem) or f"UNEXPECTED: {problem}"
        kinds.setdefault(kind, []).append(document.where)
    for kind, where in sorted(kinds.items()):
        print(f"  {kind}: {len(where)} ({', '.join(where[:4])}...)")
    unexpected = {k: v for k, v in kinds.items() if k.startswith("UNEXPECTED")}
    assert not unexpected, unexpected
    assert figures[0] >= FLOOR_ALL, f"{figures[0]:.1f} % < {FLOOR_ALL} %"
    assert figures[1] >= FLOOR_JUDGED, f"{figures[1]:.1f} % < {FLOOR_JUDGED} %"
    assert figures[2] >= TARGET, f"{figures[2]:.1f} % < {TARGET} %"


@pytest.mark.parametrize("size", [1, 7, 64])
def test_any_chunking_of_the_corpus_gives_the_same_bytes(size: int) -> None:
    for document in DOCUMENTS:
        data = document.data
        for position in (Position.AFTER_SKIP_LINKS, Position.BODY_START):
            whole = Injector(HEAD, NOTICE, position)
            expected = whole.feed(data) + whole.close()
            split = Injector(HEAD, NOTICE, position)
            chunks = [split.feed(data[i : i + size]) for i in range(0, len(data), size)]
            assert b"".join(chunks) + split.close() == expected, document.where
            assert (split.injected, split.reason) == (whole.injected, whole.reason)


def test_the_corpus_is_read_whole(corpus: list[Document]) -> None:
    # A parsing slip (tests merged or cut) would shrink the corpus silently; and
    # html5lib must agree with the corpus on most of it to be a judge at all.
    assert len(DOCUMENTS) > 1500
    assert sum(map(html5lib_agrees, corpus)) > 0.85 * len(corpus)
    assert all(not re.search(rb"\n#errors\n", d.data) for d in DOCUMENTS)
