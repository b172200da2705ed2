"""Rules (3) and (4): a notice people can read, in the page's language. Pure.

A notice is the surest kind found on the page: notice markers with visible
text, else elements marked with an AI value that show text, else visible words
naming AI. Both rules read the same notices.
"""

from __future__ import annotations

from .evidence import because, marked_ai, marking, snippet
from .html import Document, Element
from .results import Status, Verdict
from .rule import PageContext

__all__ = ["check_language", "check_notice"]

#: A notice as a reason describes it, and its element (None: words found in no element).
Notice = tuple[str, Element | None]


def _notices(document: Document) -> list[Notice]:
    """The human-readable notices on the page, each described, from the surest
    kind found: notice markers with visible text, else elements marked with an
    AI value that show text, else visible words naming AI."""
    found: list[Notice] = [
        (f'[data-ai-disclosure-notice] on <{e.tag}>: "{snippet(e.text)}"', e)
        for e in document.notices
        if e.text
    ]
    if not found:
        found = [
            (f'{marking(e)} with visible text "{snippet(e.text)}"', e)
            for e in marked_ai(document)
            if e.text
        ]
    hit = document.keyword
    if not found and hit is not None:
        where = f" in <{hit.element.tag}>" if hit.element is not None else ""
        found = [
            (f'visible text names AI ("{hit.keyword}"){where}: "{snippet(hit.text)}"', hit.element)
        ]
    return found


def _primary(tag: str) -> str:
    return tag.split("-", 1)[0]


def _speaks(notice: Notice, language: str | None) -> bool:
    """Whether the notice is in ``language`` (its own or inherited ``lang``, else
    the page's); True when the page's language is unknown."""
    element = notice[1]
    lang = element.lang if element is not None and element.lang else None
    return language is None or lang is None or _primary(lang) == _primary(language)


def _document(context: PageContext) -> Document | Verdict:
    """The page's document when a notice is due, else why it is not (n/a)."""
    if context.page.document is None:
        return Verdict(Status.NA, "not an HTML page")
    if not context.evidence:
        return Verdict(Status.NA, "the page does not involve AI")
    return context.page.document


def check_notice(context: PageContext) -> Verdict:
    """(3) A notice people can read wherever AI is involved."""
    document = _document(context)
    if isinstance(document, Verdict):
        return document
    found = _notices(document)
    if found:
        best = next((n for n in found if _speaks(n, context.page.language)), found[0])
        return Verdict(Status.PASS, best[0])
    empty = " ([data-ai-disclosure-notice] present but shows no text)" if document.notices else ""
    return Verdict(
        Status.FAIL,
        f"no human-readable notice on a page involving AI ({because(context.evidence)}){empty}",
    )


def check_language(context: PageContext) -> Verdict:
    """(4) A notice in the page's language: the notice's ``lang`` (its own, else
    its nearest ancestor's) and the page's (``<html lang>``, else a single
    ``Content-Language``) share their primary subtag. Any one notice will do."""
    document = _document(context)
    if isinstance(document, Verdict):
        return document
    found = _notices(document)
    if not found:
        return Verdict(Status.NA, "no notice to compare")
    page_lang = context.page.language
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
