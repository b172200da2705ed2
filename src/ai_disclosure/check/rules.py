"""The per-page verdicts. Pure: status, headers and body bytes in, verdicts out.

Each check answers pass / warn / fail / n/a with a one-line reason precise
enough to act on. A page *involves AI* when anything machine-readable says so
(an AI header mode, a ``Link rel="ai-disclosure"``, an AI meta value, an
element marked with an AI value, a notice marker, or a manifest rule naming a
system for its path); words on the page alone never make it so, since a page
may talk about AI without using it. A page with no signal at all declares
nothing ("no AI declared"): that is not a failure of law 6, only of a service
that promised to declare every page (``strict``). Failures are contradictions:
AI declared without a notice people can read in the page's language, a notice
without the page-level meta, a register link that is broken or lands on JSON
only, a page that disagrees with its header, meta or the site's manifest.

Meta and attribute values are read in both vocabularies in use: the one this
project emits (``human-only``, ``ai-assisted``, ``ai-autonomous``) and that of
the AI Content Disclosure explainer (``none``, ``ai-assisted``,
``ai-generated``, ``autonomous``, ``mixed``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

from .._headers import AIDisclosureHeader, HeaderError, parse_header
from .._model import ORIGIN_RANK, Origin, involvement
from .._routing import Match
from .html import Document, Element, decode, is_html, scan
from .results import CHECKS, Declaration, Status, Verdict
from .wellknown import INVALID, VALID, WELL_KNOWN_PATH, SiteManifest

__all__ = [
    "AI_VALUES",
    "NO_AI_VALUES",
    "LinkResult",
    "Page",
    "ai_evidence",
    "check_header",
    "check_language",
    "check_manifest",
    "check_meta",
    "check_notice",
    "check_register",
    "declaration_of",
    "evaluate",
    "link_targets",
    "not_fetched",
    "notice_links",
    "read_page",
    "register_targets",
]

Headers = Sequence[tuple[str, str]]

#: W3C ``ai-disclosure`` values meaning "no AI" (mode ``none``) and "AI" (any other mode).
NO_AI_VALUES = frozenset({"human-only", "none"})
AI_VALUES = frozenset({"ai-assisted", "ai-autonomous", "ai-generated", "autonomous", "mixed"})
_KNOWN = "human-only, ai-assisted, ai-autonomous (or none, ai-generated, autonomous, mixed)"

_LINK_VALUE = re.compile(r"<([^>]*)>([^<]*)")
_REL = re.compile(r';\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,]+))', re.IGNORECASE)


# --- Reading a response ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LinkResult:
    """What a register link answered, asked as a browser asks and redirects
    followed: a status with its media type (``html``: a page people can read,
    by type or, without one, by its first bytes), a transport error, or why it
    was not requested."""

    url: str
    status: int | None = None
    error: str | None = None
    skipped: str | None = None
    media_type: str = ""
    html: bool = False

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 400

    def describe(self) -> str:
        if self.skipped is not None:
            return f"not checked: {self.skipped}"
        if self.status is not None:
            return f"answered {self.status}"
        return f"unreachable: {self.error}"

    def unreadable(self) -> str | None:
        """Why a citizen following the link would not get a page to read; None if
        they would (2xx HTML). Only for answers that are not failures already."""
        if self.html:
            return None
        media = self.media_type
        if media == "application/json" or media.endswith("+json"):
            return f"answers JSON only ({media}), not a page people can read"
        return f"answers {media or 'no media type'}, not an HTML page people can read"


@dataclass(frozen=True, slots=True)
class Page:
    """One response, read once: what its headers and HTML say."""

    url: str
    status: int
    content_type: str
    header_value: str | None
    header: AIDisclosureHeader | None
    header_error: str | None
    link_targets: tuple[str, ...]
    location: str | None
    document: Document | None
    content_language: str | None = None

    @property
    def is_html(self) -> bool:
        return self.document is not None

    @property
    def language(self) -> str | None:
        """The page's language: ``<html lang>``, else a single ``Content-Language``."""
        if self.document is not None and self.document.lang:
            return self.document.lang
        return self.content_language

    @property
    def path(self) -> str:
        """The decoded path, as the server's router sees it."""
        return unquote(urlsplit(self.url).path) or "/"


def _values(headers: Headers, name: str) -> list[str]:
    return [value for key, value in headers if key.lower() == name]


def link_targets(values: Iterable[str], rel: str, base: str) -> tuple[str, ...]:
    """Absolute targets of the ``Link`` header values whose ``rel`` includes ``rel``."""
    found: dict[str, None] = {}
    for value in values:
        for target, params in _LINK_VALUE.findall(value):
            match = _REL.search(params)
            rels = (match.group(1) or match.group(2) or "") if match else ""
            if rel in rels.lower().split():
                found[urljoin(base, target.strip())] = None
    return tuple(found)


def read_page(url: str, status: int, headers: Headers, body: bytes) -> Page:
    """Read a response: ``headers`` as (name, value) pairs, ``body`` the bytes read
    (empty for pages that are not HTML)."""
    content_type = next(iter(_values(headers, "content-type")), "")
    values = _values(headers, "ai-disclosure")
    # Several fields combine into one structured-field dictionary (RFC 9651).
    header_value = ", ".join(values) if values else None
    header: AIDisclosureHeader | None = None
    header_error: str | None = None
    if header_value is not None:
        try:
            header = parse_header(header_value)
        except HeaderError as exc:
            header_error = str(exc)
    document = None
    if 200 <= status < 300 and is_html(content_type, body):
        document = scan(decode(body, content_type))
    location = next(iter(_values(headers, "location")), None)
    languages = [
        tag.strip().lower()
        for value in _values(headers, "content-language")
        for tag in value.split(",")
    ]
    languages = [tag for tag in languages if tag]
    return Page(
        url=url,
        status=status,
        content_type=content_type,
        header_value=header_value,
        header=header,
        header_error=header_error,
        link_targets=link_targets(_values(headers, "link"), "ai-disclosure", url),
        location=urljoin(url, location) if location else None,
        document=document,
        # Several languages name the audience, not the language of the text.
        content_language=languages[0] if len(languages) == 1 else None,
    )


# --- Evidence -----------------------------------------------------------------


def _metas(document: Document) -> list[str]:
    """The page's distinct meta values, lower case, in order."""
    return list(dict.fromkeys(value.lower() for value in document.metas))


def _marked_ai(document: Document) -> list[Element]:
    return [e for e in document.marked if (e.value or "").lower() in AI_VALUES]


def _marking(element: Element) -> str:
    return f'<{element.tag} {element.attribute}="{element.value}">'


def ai_evidence(page: Page, rule: Match | None = None) -> tuple[str, ...]:
    """Everything machine-readable saying the page involves AI, as short phrases."""
    evidence: list[str] = []
    if page.header is not None and page.header.mode != Origin.NONE:
        evidence.append(f"header mode={page.header.mode}")
    if page.link_targets:
        evidence.append('Link rel="ai-disclosure"')
    document = page.document
    if document is not None:
        evidence += [f"meta {value}" for value in _metas(document) if value in AI_VALUES]
        marked = _marked_ai(document)
        if marked:
            evidence.append(_marking(marked[0]))
        if document.notices:
            evidence.append("[data-ai-disclosure-notice]")
    if rule is not None and rule.systems:
        evidence.append(f'manifest rule "{rule.template}"')
    return tuple(evidence)


def declaration_of(page: Page, rule: Match | None = None) -> Declaration:
    """What the page says about AI: AI (any evidence), no AI (a readable header,
    necessarily mode=none, or a no-AI meta), or nothing at all."""
    if ai_evidence(page, rule):
        return Declaration.AI
    metas = _metas(page.document) if page.document is not None else []
    if page.header is not None or any(value in NO_AI_VALUES for value in metas):
        return Declaration.NO_AI
    return Declaration.UNDECLARED


def _because(evidence: Sequence[str]) -> str:
    return ", ".join(evidence)


def _snippet(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# --- The checks -----------------------------------------------------------------


def check_header(
    page: Page, declaration: Declaration = Declaration.AI, *, strict: bool = False
) -> Verdict:
    """(1) ``AI-Disclosure`` readable when present (IETF draft-abaris-aicdh, an
    expired individual draft: optional, but the only signal a JSON API can
    carry). Under ``strict``, the column where a page declaring nothing fails."""
    if page.header_value is None:
        if strict and declaration is Declaration.UNDECLARED:
            what = "no ai-disclosure meta" if page.is_html else "not an HTML page"
            return Verdict(
                Status.FAIL,
                f"nothing declared: no AI-Disclosure header, {what} (--strict: every page "
                "must declare, mode=none or human-only where no AI is involved)",
            )
        return Verdict(Status.NA, "no AI-Disclosure header (optional)")
    if page.header is None:
        value = _snippet(page.header_value, 40)
        status = Status.FAIL if strict else Status.WARN
        return Verdict(status, f"AI-Disclosure {value!r} invalid: {page.header_error}")
    return Verdict(Status.PASS, f"AI-Disclosure mode={page.header.mode}")


def check_meta(page: Page, evidence: Sequence[str]) -> Verdict:
    """(2) W3C ``<meta name="ai-disclosure">`` on every HTML page involving AI (one
    that shows a notice included), agreeing with the header when there is one."""
    document = page.document
    if document is None:
        return Verdict(Status.NA, "not an HTML page")
    values = _metas(document)
    if not values:
        if evidence:
            return Verdict(
                Status.FAIL,
                f"meta ai-disclosure missing on a page involving AI ({_because(evidence)})",
            )
        return Verdict(Status.NA, "no meta ai-disclosure; the page does not involve AI")
    if len(values) > 1:
        return Verdict(
            Status.FAIL, f"{len(values)} meta ai-disclosure disagree: {', '.join(values)}"
        )
    value = values[0]
    if value not in AI_VALUES | NO_AI_VALUES:
        return Verdict(Status.FAIL, f"meta ai-disclosure {value!r} is not one of {_KNOWN}")
    if page.header is None:
        state = "no" if page.header_value is None else "an unreadable"
        return Verdict(Status.PASS, f"meta {value} ({state} AI-Disclosure header to compare)")
    mode = page.header.mode
    if (value in AI_VALUES) != (mode != Origin.NONE):
        return Verdict(Status.FAIL, f"meta says {value} but header mode={mode}")
    return Verdict(Status.PASS, f"meta {value} agrees with header mode={mode}")


Notice = tuple[str, Element | None]


def _notices(document: Document) -> list[Notice]:
    """The human-readable notices on the page, each described, from the surest
    kind found: notice markers with visible text, else elements marked with an
    AI value that show text, else visible words naming AI."""
    found: list[Notice] = [
        (f'[data-ai-disclosure-notice] on <{e.tag}>: "{_snippet(e.text)}"', e)
        for e in document.notices
        if e.text
    ]
    if not found:
        found = [
            (f'{_marking(e)} with visible text "{_snippet(e.text)}"', e)
            for e in _marked_ai(document)
            if e.text
        ]
    hit = document.keyword
    if not found and hit is not None:
        where = f" in <{hit.element.tag}>" if hit.element is not None else ""
        found = [
            (f'visible text names AI ("{hit.keyword}"){where}: "{_snippet(hit.text)}"', hit.element)
        ]
    return found


def _speaks(notice: Notice, language: str | None) -> bool:
    """Whether the notice is in ``language`` (its own or inherited ``lang``, else
    the page's); True when the page's language is unknown."""
    element = notice[1]
    lang = element.lang if element is not None and element.lang else None
    return language is None or lang is None or _primary(lang) == _primary(language)


def check_notice(page: Page, evidence: Sequence[str]) -> Verdict:
    """(3) A notice people can read wherever AI is involved."""
    document = page.document
    if document is None:
        return Verdict(Status.NA, "not an HTML page")
    if not evidence:
        return Verdict(Status.NA, "the page does not involve AI")
    found = _notices(document)
    if found:
        best = next((n for n in found if _speaks(n, page.language)), found[0])
        return Verdict(Status.PASS, best[0])
    empty = " ([data-ai-disclosure-notice] present but shows no text)" if document.notices else ""
    return Verdict(
        Status.FAIL,
        f"no human-readable notice on a page involving AI ({_because(evidence)}){empty}",
    )


def _primary(tag: str) -> str:
    return tag.split("-", 1)[0]


def check_language(page: Page, evidence: Sequence[str]) -> Verdict:
    """(4) A notice in the page's language: the notice's ``lang`` (its own, else
    its nearest ancestor's) and the page's (``<html lang>``, else a single
    ``Content-Language``) share their primary subtag. Any one notice will do."""
    document = page.document
    if document is None:
        return Verdict(Status.NA, "not an HTML page")
    if not evidence:
        return Verdict(Status.NA, "the page does not involve AI")
    found = _notices(document)
    if not found:
        return Verdict(Status.NA, "no notice to compare")
    page_lang = page.language
    if not page_lang:
        return Verdict(
            Status.WARN,
            "the page declares no language (no <html lang>, no Content-Language): "
            "the notice's language is unknown",
        )
    speaking = [n for n in found if _speaks(n, page_lang)]
    if speaking:
        element = speaking[0][1]
        if element is None or not element.lang:
            return Verdict(Status.PASS, f"notice in the page's language ({page_lang})")
        where = f"<{element.tag}>"
        if element.own_lang:
            return Verdict(Status.PASS, f"notice {where} lang={element.own_lang}, like the page")
        return Verdict(Status.PASS, f"notice {where} in the page's language ({element.lang})")
    # Only a notice with an element and a lang can speak another language.
    element = next(e for _, e in found if e is not None)
    where = f"<{element.tag}>"
    said = (
        f"is lang={element.own_lang}"
        if element.own_lang
        else f"inherits lang={element.lang} from <{element.lang_from}>"
    )
    more = len(found) - 1
    others = f", and {more} more in other languages" if more else ""
    return Verdict(
        Status.FAIL,
        f"no notice in the page's language (lang={page_lang}): notice {where} {said}{others}",
    )


def notice_links(page: Page) -> tuple[str, ...]:
    """The http(s) links inside the page's notices (the register link a citizen
    follows among them), absolute, without fragment, each once."""
    document = page.document
    if document is None:
        return ()
    found: dict[str, None] = {}
    base = urljoin(page.url, document.base) if document.base else page.url
    for element in document.notices:
        for href in element.links:
            url = urldefrag(urljoin(base, href)).url
            if urlsplit(url).scheme in ("http", "https") and url != urldefrag(page.url).url:
                found[url] = None
    return tuple(found)


def register_targets(page: Page) -> tuple[str, ...]:
    """Register URLs to check: ``Link rel="ai-disclosure"`` targets, then the
    http(s) links inside the page's notices, each once."""
    return tuple(dict.fromkeys((*page.link_targets, *notice_links(page))))


def check_register(
    page: Page, evidence: Sequence[str], results: Mapping[str, LinkResult]
) -> Verdict:
    """(5) Every register link answers: a notice's links a page people can read
    (2xx HTML, asked as a browser asks), a ``Link`` target (for machines) 2xx."""
    targets = register_targets(page)
    if not targets:
        if evidence:
            return Verdict(
                Status.WARN,
                'no register link on a page involving AI (no Link rel="ai-disclosure", '
                "no link in a notice)",
            )
        return Verdict(Status.NA, "no register link; the page does not involve AI")
    for_people = set(notice_links(page))
    checked = [results.get(url, LinkResult(url, skipped="not requested")) for url in targets]
    failed: list[tuple[LinkResult, str]] = []
    skipped: list[tuple[LinkResult, str]] = []
    for result in checked:
        if result.skipped is not None:
            skipped.append((result, result.describe()))
        elif not result.ok or (result.url in for_people and not 200 <= (result.status or 0) < 300):
            failed.append((result, result.describe()))
        elif result.url in for_people and (why := result.unreadable()) is not None:
            failed.append((result, why))
    if failed:
        return Verdict(Status.FAIL, _links(failed))
    if skipped:
        return Verdict(Status.WARN, _links(skipped))
    return Verdict(Status.PASS, _links([(r, r.describe()) for r in checked]))


def _links(results: Sequence[tuple[LinkResult, str]]) -> str:
    """The first result in full, then how many more share its fate."""
    (first, why), rest = results[0], len(results) - 1
    return f"register link {first.url} {why}" + (f" (and {rest} more)" if rest else "")


def _declared(page: Page) -> tuple[int | None, str]:
    """The page's own AI claim: an origin rank (None: AI of unknown degree, from
    meta only; -1: nothing declared) and how it was said."""
    if page.header is not None:
        return ORIGIN_RANK[Origin(page.header.mode)], f"header mode={page.header.mode}"
    values = _metas(page.document) if page.document is not None else []
    if len(values) == 1 and values[0] in NO_AI_VALUES:
        return 0, f"meta {values[0]}"
    if len(values) == 1 and values[0] in AI_VALUES:
        return None, f"meta {values[0]}"
    if len(values) > 1:
        return -1, "nothing clear (no valid AI-Disclosure header, conflicting metas)"
    return -1, "nothing (no valid AI-Disclosure header, no meta)"


def check_manifest(
    page: Page, declared_evidence: Sequence[str], site: SiteManifest, rule: Match | None
) -> Verdict:
    """(6) The page says what the site's manifest says of its path."""
    if page.path.startswith(WELL_KNOWN_PATH):
        return Verdict(Status.NA, "the manifest's own endpoint")
    if site.state == INVALID:
        count = len(site.problems)
        where = f"{count} problem{'s' * (count != 1)} at {site.pointers}"
        return Verdict(Status.FAIL, f"the site's manifest is invalid ({where})")
    if site.state != VALID:
        status = Status.WARN if declared_evidence else Status.NA
        return Verdict(status, site.reason)
    path = page.path
    rank, said = _declared(page)
    if declared_evidence and site.manifest is not None and not site.manifest.systems:
        return Verdict(
            Status.FAIL,
            f"page declares AI ({_because(declared_evidence)}) but the site's manifest "
            "declares no AI system",
        )
    if rule is None or not rule.systems:
        # No system named for the path: the page may still disclose one at run time.
        where = (
            f"no manifest rule matches {path}"
            if rule is None
            else f'manifest rule "{rule.template}" names no system for {path}'
        )
        if declared_evidence:
            return Verdict(
                Status.WARN, f"page declares AI ({_because(declared_evidence)}) but {where}"
            )
        return Verdict(Status.PASS, f"{where}; the page declares no AI")
    expected = involvement(rule.systems).origin
    names = ", ".join(s.id for s in rule.systems)
    rule_text = f'manifest rule "{rule.template}" ({names})'
    if rank == -1:
        return Verdict(
            Status.FAIL, f"{rule_text} implies mode={expected} but the page declares {said}"
        )
    run_time = "as when more systems are disclosed at run time"
    if rank is None:
        if expected is Origin.NONE:
            return Verdict(Status.PASS, f"{said} goes beyond {rule_text} (mode=none), {run_time}")
        return Verdict(Status.PASS, f"{said} agrees with {rule_text} (mode={expected})")
    wanted = ORIGIN_RANK[expected]
    if rank < wanted:
        return Verdict(
            Status.FAIL, f"{rule_text} implies mode={expected} but the page declares {said}"
        )
    if rank > wanted:
        return Verdict(
            Status.PASS,
            f"{said} is stronger than {rule_text} (mode={expected}), {run_time}",
        )
    return Verdict(Status.PASS, f"{said} matches {rule_text}")


# --- All checks of a page -------------------------------------------------------------


def _every(status: Status, reason: str, first: Verdict | None = None) -> dict[str, Verdict]:
    verdicts = dict.fromkeys(CHECKS, Verdict(status, reason))
    if first is not None:
        verdicts[CHECKS[0]] = first
    return verdicts


def not_fetched(reason: str) -> dict[str, Verdict]:
    """Verdicts for a URL that could not be fetched: a warning, nothing checked."""
    return _every(Status.NA, "not checked", Verdict(Status.WARN, f"could not fetch: {reason}"))


def evaluate(
    page: Page,
    site: SiteManifest,
    results: Mapping[str, LinkResult],
    *,
    strict: bool = False,
) -> dict[str, Verdict]:
    """Every check's verdict for one page, given the site's manifest and the
    answers of the register links (see ``register_targets``). ``strict``: a page
    that declares nothing fails (see ``declaration_of``)."""
    if 300 <= page.status < 400:
        target = page.location or "nowhere (no Location)"
        return _every(Status.NA, f"HTTP {page.status} redirect to {target}")
    if not 200 <= page.status < 300:
        why = "broken link?" if 400 <= page.status < 500 else "server error"
        warning = Verdict(Status.WARN, f"HTTP {page.status} ({why}): page not audited")
        return _every(Status.NA, "not audited", warning)
    rule = site.rule_for(page.path)
    declared = ai_evidence(page)
    evidence = ai_evidence(page, rule)
    return {
        "header": check_header(page, declaration_of(page, rule), strict=strict),
        "meta": check_meta(page, evidence),
        "notice": check_notice(page, evidence),
        "language": check_language(page, evidence),
        "register": check_register(page, evidence, results),
        "manifest": check_manifest(page, declared, site, rule),
    }
