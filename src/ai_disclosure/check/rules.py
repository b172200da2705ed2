"""The per-page verdicts. Pure: status, headers and body bytes in, verdicts out.

Each check answers pass / warn / fail / n/a with a one-line reason precise
enough to act on. A page *involves AI* when anything machine-readable says so
(an AI header mode, a ``Link rel="ai-disclosure"``, an AI meta value, an
element marked with an AI value, a notice marker, or a manifest rule for its
path); words on the page alone never make it so, since a page may talk about AI
without using it. Meta and attribute values are read in both vocabularies in
use: the one this project emits (``human-only``, ``ai-assisted``,
``ai-autonomous``) and that of the AI Content Disclosure explainer (``none``,
``ai-assisted``, ``ai-generated``, ``autonomous``, ``mixed``).
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
from .results import CHECKS, Status, Verdict
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
    "evaluate",
    "link_targets",
    "not_fetched",
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
    """What a register link answered: a status, a transport error, or why it was
    not requested."""

    url: str
    status: int | None = None
    error: str | None = None
    skipped: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 400

    def describe(self) -> str:
        if self.skipped is not None:
            return f"not checked: {self.skipped}"
        if self.status is not None:
            return f"answered {self.status}"
        return f"unreachable: {self.error}"


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

    @property
    def is_html(self) -> bool:
        return self.document is not None

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


def _because(evidence: Sequence[str]) -> str:
    return ", ".join(evidence)


def _snippet(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# --- The checks -----------------------------------------------------------------


def check_header(page: Page) -> Verdict:
    """(1) ``AI-Disclosure`` present and readable (IETF draft-abaris-aicdh)."""
    if page.header_value is None:
        return Verdict(Status.FAIL, "AI-Disclosure header missing")
    if page.header is None:
        value = _snippet(page.header_value, 40)
        return Verdict(Status.FAIL, f"AI-Disclosure {value!r} invalid: {page.header_error}")
    return Verdict(Status.PASS, f"AI-Disclosure mode={page.header.mode}")


def check_meta(page: Page, evidence: Sequence[str]) -> Verdict:
    """(2) W3C ``<meta name="ai-disclosure">`` on AI pages, agreeing with the header."""
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
        state = "missing" if page.header_value is None else "invalid"
        return Verdict(Status.WARN, f"meta says {value} but the AI-Disclosure header is {state}")
    mode = page.header.mode
    if (value in AI_VALUES) != (mode != Origin.NONE):
        return Verdict(Status.FAIL, f"meta says {value} but header mode={mode}")
    return Verdict(Status.PASS, f"meta {value} agrees with header mode={mode}")


def _notice(document: Document) -> tuple[str, Element | None] | None:
    """The best human-readable notice on the page and how it was recognised."""
    for element in document.notices:
        if element.text:
            label = f"[data-ai-disclosure-notice] on <{element.tag}>"
            return f'{label}: "{_snippet(element.text)}"', element
    for element in _marked_ai(document):
        if element.text:
            return f'{_marking(element)} with visible text "{_snippet(element.text)}"', element
    hit = document.keyword
    if hit is not None:
        where = f" in <{hit.element.tag}>" if hit.element is not None else ""
        return f'visible text names AI ("{hit.keyword}"){where}: "{_snippet(hit.text)}"', (
            hit.element
        )
    return None


def check_notice(page: Page, evidence: Sequence[str]) -> Verdict:
    """(3) A notice people can read wherever AI is involved."""
    document = page.document
    if document is None:
        return Verdict(Status.NA, "not an HTML page")
    if not evidence:
        return Verdict(Status.NA, "the page does not involve AI")
    found = _notice(document)
    if found is not None:
        return Verdict(Status.PASS, found[0])
    empty = " ([data-ai-disclosure-notice] present but shows no text)" if document.notices else ""
    return Verdict(
        Status.FAIL,
        f"no human-readable notice on a page involving AI ({_because(evidence)}){empty}",
    )


def _primary(tag: str) -> str:
    return tag.split("-", 1)[0]


def check_language(page: Page, evidence: Sequence[str]) -> Verdict:
    """(4) The notice speaks the page's language, or says which one it speaks."""
    document = page.document
    if document is None:
        return Verdict(Status.NA, "not an HTML page")
    if not evidence:
        return Verdict(Status.NA, "the page does not involve AI")
    found = _notice(document)
    if found is None:
        return Verdict(Status.NA, "no notice to compare")
    element = found[1]
    page_lang = document.lang
    if not page_lang:
        return Verdict(Status.WARN, "the page has no <html lang>: the notice's language is unknown")
    if element is None or not element.lang:
        return Verdict(Status.PASS, f"notice in the page's language ({page_lang})")
    where = f"<{element.tag}>"
    if element.own_lang:
        if _primary(element.own_lang) == _primary(page_lang):
            return Verdict(Status.PASS, f"notice {where} lang={element.own_lang}, like the page")
        return Verdict(
            Status.PASS,
            f"notice {where} declares lang={element.own_lang} on a lang={page_lang} page",
        )
    if _primary(element.lang) == _primary(page_lang):
        return Verdict(Status.PASS, f"notice {where} in the page's language ({element.lang})")
    return Verdict(
        Status.WARN,
        f"notice {where} inherits lang={element.lang} from <{element.lang_from}> but the page "
        f"is lang={page_lang}; give the notice its own lang",
    )


def register_targets(page: Page) -> tuple[str, ...]:
    """Register URLs to check: ``Link rel="ai-disclosure"`` targets, then the
    http(s) links inside the page's notices, each once."""
    found = dict.fromkeys(page.link_targets)
    document = page.document
    if document is not None:
        base = urljoin(page.url, document.base) if document.base else page.url
        for element in document.notices:
            for href in element.links:
                url = urldefrag(urljoin(base, href)).url
                if urlsplit(url).scheme in ("http", "https") and url != urldefrag(page.url).url:
                    found[url] = None
    return tuple(found)


def check_register(
    page: Page, evidence: Sequence[str], results: Mapping[str, LinkResult]
) -> Verdict:
    """(5) Every register link answers 2xx or 3xx."""
    targets = register_targets(page)
    if not targets:
        if evidence:
            return Verdict(
                Status.WARN,
                'no register link on a page involving AI (no Link rel="ai-disclosure", '
                "no link in a notice)",
            )
        return Verdict(Status.NA, "no register link; the page does not involve AI")
    checked = [results.get(url, LinkResult(url, skipped="not requested")) for url in targets]
    failed = [r for r in checked if not r.ok and r.skipped is None]
    skipped = [r for r in checked if r.skipped is not None]
    if failed:
        return Verdict(Status.FAIL, _links(failed))
    if skipped:
        return Verdict(Status.WARN, _links(skipped))
    return Verdict(Status.PASS, _links(checked))


def _links(results: Sequence[LinkResult]) -> str:
    """The first result in full, then how many more share its fate."""
    first, rest = results[0], len(results) - 1
    return f"register link {first.url} {first.describe()}" + (f" (and {rest} more)" if rest else "")


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
    if rule is None:
        if declared_evidence:
            return Verdict(
                Status.WARN,
                f"page declares AI ({_because(declared_evidence)}) but no manifest rule "
                f"matches {path}",
            )
        return Verdict(Status.PASS, f"no manifest rule matches {path}; the page declares no AI")
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
    page: Page, site: SiteManifest, results: Mapping[str, LinkResult]
) -> dict[str, Verdict]:
    """Every check's verdict for one page, given the site's manifest and the
    answers of the register links (see ``register_targets``)."""
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
        "header": check_header(page),
        "meta": check_meta(page, evidence),
        "notice": check_notice(page, evidence),
        "language": check_language(page, evidence),
        "register": check_register(page, evidence, results),
        "manifest": check_manifest(page, declared, site, rule),
    }
