"""Read an HTML page once for everything the checks need. Pure: text in, facts out.

Built on the standard library's tolerant ``html.parser``: pages in the wild are
rarely well formed, and an auditor must not need a browser. Elements are tracked
on a stack closed by matching end tags, which is enough to know each text's
language, whether it is hidden, and what lies inside a notice.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass, field
from html.parser import HTMLParser

__all__ = [
    "Document",
    "Element",
    "KeywordHit",
    "charset",
    "decode",
    "find_ai_keyword",
    "is_html",
    "media_type",
    "scan",
]

#: Elements that never have content, so are never pushed on the stack.
_VOID = frozenset(
    {
        "area", "base", "br", "col", "embed", "hr", "img", "input",
        "keygen", "link", "meta", "param", "source", "track", "wbr",
    }
)  # fmt: skip
#: Elements whose text a reader never sees as page content.
_UNSEEN = frozenset({"head", "script", "style", "template", "title"})
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_SPACE = re.compile(r"\s+")

#: Words that tell a reader AI is involved. Acronyms only in capitals ("ai" is
#: French for "have"); phrases in any case. Arabic takes an optional article.
_KEYWORDS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (label, re.compile(pattern, flags))
    for label, pattern, flags in (
        ("intelligence artificielle", r"intelligence\s+artificielle", re.IGNORECASE),
        ("artificial intelligence", r"artificial\s+intelligence", re.IGNORECASE),
        ("inteligencia artificial", r"inteligencia\s+artificial", re.IGNORECASE),
        ("intel·ligència artificial", r"intel[·.‧]?ligència\s+artificial", re.IGNORECASE),
        ("intelligéncia artificiala", r"intelligéncia\s+artificiala", re.IGNORECASE),
        ("ذكاء اصطناعي", r"(?:ال)?ذكاء\s+(?:ال)?اصطناعي", 0),
        ("IA", r"(?<![^\W\d_])IA(?![^\W\d_])", 0),
        ("AI", r"(?<![^\W\d_])AI(?![^\W\d_])", 0),
    )
)


def _excerpt(text: str, start: int, end: int, margin: int = 30) -> str:
    """``text[start:end]`` with up to ``margin`` characters of whole words around it."""
    before = text[max(0, start - margin) : start]
    after = text[end : end + margin]
    if start > margin and " " in before:
        before = "…" + before.split(" ", 1)[1]
    if end + margin < len(text) and " " in after:
        after = after.rsplit(" ", 1)[0] + "…"
    return (before + text[start:end] + after).strip()


def _search(text: str) -> tuple[str, str] | None:
    """The first AI keyword found in ``text`` and the words around it."""
    normalized = unicodedata.normalize("NFC", text)
    for label, pattern in _KEYWORDS:
        found = pattern.search(normalized)
        if found:
            return label, _excerpt(normalized, found.start(), found.end())
    return None


def find_ai_keyword(text: str) -> str | None:
    """The first AI keyword (from the fixed multilingual list) found in ``text``."""
    found = _search(text)
    return found[0] if found else None


@dataclass(frozen=True, slots=True)
class Element:
    """An element of interest: where it is, which language it speaks, what it says.

    ``lang`` is the element's effective language: its own ``lang`` attribute
    (``own_lang``) or that of its nearest ancestor, ``lang_from`` naming the tag
    that set it. ``text`` is its visible text; ``links`` the ``href`` of the
    ``<a>`` elements inside it, as written. For marked elements, ``attribute``
    is the marking attribute's name (``ai-disclosure``, or the explainer's later
    ``aidisclosure``) and ``value`` its value; ``labelled`` says whether a label
    (a ``[data-ai-mark]`` element with visible text) is inside it or is the
    element right before it, as ``ai_content()`` and ``ai-notice.js`` put it, or
    its own visible text names AI.
    """

    tag: str
    own_lang: str | None
    lang: str | None
    lang_from: str | None
    text: str = ""
    links: tuple[str, ...] = ()
    attribute: str | None = None
    value: str | None = None
    labelled: bool = False


@dataclass(frozen=True, slots=True)
class KeywordHit:
    """Visible text that names AI (``text``: the words around it), and the element
    holding it (``None``: spread over several elements, so only the page's
    language applies)."""

    keyword: str
    text: str
    element: Element | None


@dataclass(frozen=True, slots=True)
class Document:
    """What one HTML page says about AI, for the rules to judge."""

    lang: str | None = None
    base: str | None = None
    metas: tuple[str, ...] = ()
    notices: tuple[Element, ...] = ()
    marked: tuple[Element, ...] = ()
    links: tuple[str, ...] = ()
    text: str = ""
    keyword: KeywordHit | None = None


@dataclass(slots=True)
class _Frame:
    tag: str
    own_lang: str | None
    lang: str | None
    lang_from: str | None
    unseen: bool


@dataclass(slots=True)
class _Capture:
    depth: int
    kind: str
    frame: _Frame
    attribute: str | None = None
    value: str | None = None
    labelled: bool = False
    texts: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)

    def element(self) -> Element:
        frame = self.frame
        text = _collapse(" ".join(self.texts))
        return Element(
            tag=frame.tag,
            own_lang=frame.own_lang,
            lang=frame.lang,
            lang_from=frame.lang_from,
            text=text,
            links=tuple(self.links),
            attribute=self.attribute,
            value=self.value,
            # A site's own label may be words in the element ("Résumé généré par IA").
            labelled=self.labelled or (self.kind == "marked" and _search(text) is not None),
        )


def _collapse(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def _lang(value: str | None) -> str | None:
    return None if value is None else value.strip().lower()


class _Scanner(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[_Frame] = []
        self.open: list[_Capture] = []
        self.lang: str | None = None
        self.base: str | None = None
        self.metas: list[str] = []
        self.notices: list[Element] = []
        self.marked: list[Element] = []
        self.links: list[str] = []
        self.texts: list[str] = []
        self.keyword: KeywordHit | None = None
        # Per depth: whether the last element closed there was a shown label.
        self.after_label: list[bool] = []

    def _sibling(self, depth: int) -> bool:
        """Whether the element starting at ``depth`` follows a label; from here on,
        its children start with no element before them."""
        before = depth < len(self.after_label) and self.after_label[depth]
        del self.after_label[depth:]
        return before

    def _closed(self, depth: int, label: bool) -> None:
        del self.after_label[depth:]
        self.after_label.extend([False] * (depth - len(self.after_label)))
        self.after_label.append(label)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes: dict[str, str] = {}
        for name, value in attrs:
            attributes.setdefault(name, value or "")  # the first of duplicates wins
        parent = self.stack[-1] if self.stack else None
        own_lang = _lang(attributes.get("lang", attributes.get("xml:lang")))
        if tag == "html" and self.lang is None:
            self.lang = own_lang
        elif tag == "base" and self.base is None and attributes.get("href"):
            self.base = attributes["href"].strip()
        elif tag == "meta" and attributes.get("name", "").strip().lower() == "ai-disclosure":
            self.metas.append(attributes.get("content", "").strip())
        elif tag == "a" and "href" in attributes:
            href = attributes["href"].strip()
            self.links.append(href)
            for capture in self.open:
                capture.links.append(href)
        if tag in _VOID:
            self._sibling(len(self.stack))
            self._closed(len(self.stack), False)
            return
        lang: str | None = own_lang
        lang_from: str | None = tag
        if own_lang is None and parent is not None:
            lang, lang_from = parent.lang, parent.lang_from
        elif own_lang is None:
            lang_from = None
        unseen = (
            (parent is not None and parent.unseen)
            or tag in _UNSEEN
            or "hidden" in attributes
            or attributes.get("aria-hidden", "").strip().lower() == "true"
            or bool(_HIDDEN_STYLE.search(attributes.get("style", "")))
        )
        frame = _Frame(tag, own_lang, lang, lang_from, unseen)
        self.stack.append(frame)
        depth = len(self.stack) - 1
        after_label = self._sibling(depth)
        if "data-ai-disclosure-notice" in attributes:
            self.open.append(_Capture(depth, "notice", frame))
        if "data-ai-mark" in attributes:
            self.open.append(_Capture(depth, "label", frame))
        for name in ("ai-disclosure", "aidisclosure"):
            if name in attributes:
                value = attributes[name].strip()
                capture = _Capture(depth, "marked", frame, name, value, after_label)
                self.open.append(capture)
                break

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # In HTML "<div/>" opens a div; matching end tags close what needs closing.
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index].tag == tag:
                self._close_to(index)
                return

    def _close_to(self, index: int) -> None:
        del self.stack[index:]
        label = False
        while self.open and self.open[-1].depth >= index:
            capture = self.open.pop()
            if capture.kind == "label":
                shown = bool(_collapse(" ".join(capture.texts)))
                label = label or (shown and capture.depth == index)
                around = next((c for c in reversed(self.open) if c.kind == "marked"), None)
                if shown and around is not None:
                    around.labelled = True
                continue
            (self.notices if capture.kind == "notice" else self.marked).append(capture.element())
        self._closed(index, label)

    def handle_data(self, data: str) -> None:
        frame = self.stack[-1] if self.stack else None
        if frame is not None and frame.unseen:
            return
        self.texts.append(data)
        for capture in self.open:
            capture.texts.append(data)
        if self.keyword is None and frame is not None:
            keyword = find_ai_keyword(data)
            if keyword is not None:
                element = Element(frame.tag, frame.own_lang, frame.lang, frame.lang_from)
                self.keyword = KeywordHit(keyword, _collapse(data), element)

    def document(self) -> Document:
        self.close()
        self._close_to(0)
        text = _collapse(" ".join(self.texts))
        keyword = self.keyword
        if keyword is None:
            found = _search(text)
            if found is not None:
                keyword = KeywordHit(found[0], found[1], None)
        return Document(
            lang=self.lang,
            base=self.base,
            metas=tuple(self.metas),
            notices=tuple(self.notices),
            marked=tuple(self.marked),
            links=tuple(self.links),
            text=text,
            keyword=keyword,
        )


def scan(html: str) -> Document:
    """Everything the checks need from one page's HTML."""
    scanner = _Scanner()
    scanner.feed(html)
    return scanner.document()


_META_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE
)
_HTML_START = re.compile(
    rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)\b", re.I | re.S
)
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def media_type(content_type: str | None) -> str:
    """``text/html`` from ``text/html; charset=utf-8``; ``""`` when absent."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def charset(content_type: str | None) -> str | None:
    """The ``charset`` parameter of a ``Content-Type`` value, if any."""
    for param in (content_type or "").split(";")[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            return value.strip().strip("\"'") or None
    return None


def is_html(content_type: str | None, head: bytes = b"") -> bool:
    """Whether a response is an HTML page: by its media type, or, when it declares
    none, by its first bytes (as browsers sniff)."""
    media = media_type(content_type)
    if media:
        return media in _HTML_TYPES
    return bool(_HTML_START.match(head[:1024]))


def decode(body: bytes, content_type: str | None) -> str:
    """The page's text: BOM, then the declared charset, then ``<meta charset>``,
    then UTF-8; undecodable bytes are replaced rather than fatal."""
    for bom, name in _BOMS:
        if body.startswith(bom):
            return body.decode(name, "replace")
    declared = charset(content_type)
    if declared is None:
        found = _META_CHARSET.search(body[:1024])
        declared = found.group(1).decode("ascii") if found else None
    try:
        name = codecs.lookup(declared or "utf-8").name
    except LookupError:
        name = "utf-8"
    return body.decode(name, "replace")
