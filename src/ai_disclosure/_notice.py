"""The notice people see, and the page metadata that goes with it.

The notice works with no script at all: :func:`render_notice` returns complete
HTML (a ``<details>`` panel per AI system), styled by ``ai-notice.css``. The
optional ``ai-notice.js`` only adds what needs a script: remembering that
someone minimised a notice, announcing AI answers fetched after the page
loaded, and marking single elements.

Three levels of information, for each system on the page:

1. a short label with the EU icon variant ("Vous échangez avec une IA" for a
   chatbot), always visible;
2. the panel that opens from it: purpose, human review, the responsible
   service and its contact, the data used and how to contest or reach a person;
3. a link to the system's entry in the public register.

Every piece of text comes from the catalog (``_catalog``: one
``widgets/i18n/<lang>.json`` per language), read by the templates here and,
through a JSON data block in the notice, by the script.

Applications that render with jinja2 can place the notice themselves with
:func:`install_jinja_globals`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import jinja2
from markupsafe import Markup, escape

from ._catalog import DEFAULT_LANGUAGE, Catalog, catalog_language, catalogs, direction, fill
from ._language import best_match
from ._model import EUIcon, Interaction, Manifest, System, Text, involvement
from ._resources import data_dir

__all__ = [
    "ASSET_PREFIX",
    "DEFAULT_LANGUAGE",
    "SCRIPT_KEYS",
    "TemplateFragments",
    "install_jinja_globals",
    "json_for_html",
    "notice_languages",
    "render_head",
    "render_notice",
    "same_language",
    "service_languages",
    "widgets_dir",
    "with_language",
]

#: Where the widget files (``ai-notice.css``, ``ai-notice.js``,
#: ``i18n/<lang>.json``) are served from by default.
ASSET_PREFIX = "/.well-known/ai-disclosure"

#: Catalog entries the script needs (``notice.<key>``); they travel in the
#: notice's JSON block, with ``lang`` and ``dir``.
SCRIPT_KEYS: tuple[str, ...] = (
    "title",
    "label_ai",
    "label_ai_generated",
    "label_ai_modified",
    "status_collapsed",
    "status_expanded",
    "pill",
    "mark_generated",
    "mark_assisted",
    "mark_machine",
    "mark_mixed",
    "register",
)

#: Catalog key of the short (level 1) label for each kind of system.
LABEL_BY_INTERACTION: Mapping[Interaction, str] = {
    Interaction.CHATBOT: "notice.label_chatbot",
    Interaction.TRANSLATION: "notice.label_translation",
    Interaction.AUTOMATED_DECISION: "notice.label_decision",
}
#: A translation a person reviews was made with the help of AI, not "automatically".
LABEL_REVIEWED_TRANSLATION = "notice.label_translation_reviewed"
LABEL_BY_ICON: Mapping[EUIcon, str] = {
    EUIcon.AI: "notice.label_ai",
    EUIcon.AI_GENERATED: "notice.label_ai_generated",
    EUIcon.AI_MODIFIED: "notice.label_ai_modified",
}

_SAFE_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
_PHONE = re.compile(r"\+?[0-9][0-9 ().-]{5,}")
_EMAIL = re.compile(r"[^\s@/:]+@[^\s@/:]+\.[^\s@/:]+")


# --- Files ------------------------------------------------------------------


def widgets_dir() -> Path:
    """The widget folder: ``ai_disclosure/widgets`` in an installed wheel, else
    ``widgets/`` at the root of a source checkout."""
    return data_dir("widgets")


def notice_languages() -> tuple[str, ...]:
    """Languages the catalog has, the default (French) first."""
    return tuple(catalogs())


def service_languages(manifest: Manifest) -> tuple[str, ...]:
    """The catalog languages a service offers, in its order: each of
    ``service.languages`` the catalog reads (``pt-BR`` -> ``pt``, ``zh-CN`` ->
    ``zh-Hans``); without any, the catalog's for its default language."""
    found = (best_match(tag, catalogs()) for tag in manifest.service.languages)
    offered = tuple(dict.fromkeys(tag for tag in found if tag))
    return offered or (catalog_language(manifest.service.default_language),)


# --- Languages --------------------------------------------------------------


def same_language(page_language: str | None, lang: str) -> bool:
    """Whether a page in ``page_language`` reads the catalog language ``lang``: the
    notice then need not state its own ``lang`` and ``dir``."""
    return page_language is not None and best_match(page_language, (lang,)) is not None


def with_language(url: str, language: str) -> str:
    """``url`` asking for ``language`` (``?lang=``), so a link keeps the reader's
    language; any ``lang`` it had is replaced."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "lang"]
    return urlunsplit(parts._replace(query=urlencode([*query, ("lang", language)])))


# --- Safe output helpers ----------------------------------------------------


def json_for_html(data: object) -> str:
    """JSON that is safe inside an HTML ``<script>`` element.

    ``<``, ``>`` and ``&`` become ``\\u003c``, ``\\u003e`` and ``\\u0026``, so no
    string can close the element (``</script>``) or open a comment (``<!--``);
    U+2028 and U+2029 are escaped too. The JSON value is unchanged. It is pure
    ASCII (``\u00e9`` for ``é``): character references are not read inside
    ``<script>``, so this is what survives a page in any charset.
    """
    text = json.dumps(data, ensure_ascii=True, separators=(",", ":"))
    for char, escaped in (
        ("&", "\\u0026"),
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(char, escaped)
    return text


def _safe_href(url: str | None) -> str | None:
    """``url`` if a browser following it stays on the web (no ``javascript:``)."""
    if not url:
        return None
    url = url.strip()
    if any(ord(char) < 0x21 or ord(char) == 0x7F for char in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme:
        return url if parts.scheme.lower() in _SAFE_SCHEMES else None
    return url if url.startswith(("/", "#", "?", "./", "../")) else None


def _contact_link(contact: str) -> tuple[str, str | None]:
    """How to show a contact (e-mail, phone, URL): its text and a safe link."""
    text = contact.strip()
    if _EMAIL.fullmatch(text):
        return text, "mailto:" + text
    if _PHONE.fullmatch(text):
        return text, "tel:" + re.sub(r"[^0-9+]", "", text)
    href = _safe_href(text)
    if href and urlsplit(href).scheme.lower() in {"mailto", "tel"}:
        return text.split(":", 1)[1], href
    return text, href


# --- The view ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Piece:
    """Text from the manifest, with its own language when not the notice's."""

    text: str
    lang: str | None = None
    dir: str | None = None


@dataclass(frozen=True, slots=True)
class _Item:
    key: str
    dom_id: str
    interaction: str
    icon: str
    label_key: str
    pinned: bool
    name: _Piece
    purpose: _Piece | None
    reviewed: bool
    review_by: _Piece | None
    oversight: _Piece | None
    operator: _Piece
    contact_text: str
    contact_href: str | None
    data: tuple[_Piece, ...]
    recourse: _Piece | None
    register_href: str | None
    register_own: bool  # the link opens the service's own declaration, not a register


class _View:
    """Localises one manifest's text for one notice language."""

    def __init__(
        self, manifest: Manifest, language: str, requested: str, prefix: str = ASSET_PREFIX
    ) -> None:
        self.manifest = manifest
        self.language = language
        self.requested = requested
        self.default = manifest.service.default_language
        self.prefix = prefix.rstrip("/") or "/"

    def piece(self, value: str, lang: str) -> _Piece:
        if best_match(lang, (self.language,)):
            return _Piece(value)
        return _Piece(value, lang, direction(lang))

    def text(self, text: Text | None) -> _Piece | None:
        if not text:
            return None
        for lang in dict.fromkeys((self.requested, self.language, self.default)):
            if text.get(lang):
                return self.piece(text[lang], lang)
        value = self.manifest.text(text, self.language)
        if value:
            return self.piece(value, self.default)
        lang, value = next(iter(text.items()))
        return self.piece(value, lang) if value else None

    def plain(self, value: str) -> _Piece:
        """A plain string of the manifest: written in the service's default language."""
        return self.piece(value, self.default)

    def register_href(self, system: System) -> str | None:
        """The register entry; without a register, the service's own declaration
        page, scrolled to the system; either in this notice's language."""
        if system.register_url or self.manifest.service.register_url:
            href = _safe_href(self.manifest.register_url_for(system))
            return with_language(href, self.language) if href else None
        return _safe_href(f"{self.prefix}?lang={self.language}#{system.id}")

    def item(self, system: System, dom_id: str) -> _Item:
        service = self.manifest.service
        label_key = LABEL_BY_INTERACTION.get(system.interaction) or LABEL_BY_ICON[system.eu_icon]
        if system.interaction is Interaction.TRANSLATION and system.human_review.reviewed:
            label_key = LABEL_REVIEWED_TRANSLATION
        contact_text, contact_href = _contact_link(service.contact)
        return _Item(
            key=f"{service.id}/{system.id}",
            dom_id=dom_id,
            interaction=system.interaction.value,
            icon=system.eu_icon.value,
            label_key=label_key,
            pinned=system.is_chatbot,
            name=self.text(system.name) or _Piece(system.id),
            purpose=self.text(system.purpose),
            reviewed=system.human_review.reviewed,
            review_by=self.plain(system.human_review.by) if system.human_review.by else None,
            oversight=self.text(system.human_oversight),
            operator=self.plain(service.operator),
            contact_text=contact_text,
            contact_href=contact_href,
            data=tuple(p for p in (self.text(t) for t in system.data_sources) if p),
            recourse=self.text(system.recourse),
            register_href=self.register_href(system),
            register_own=not (system.register_url or self.manifest.service.register_url),
        )


def _unique(systems: Iterable[System]) -> list[System]:
    chosen = list({system.id: system for system in systems}.values())
    # People talking to a chatbot must learn it first (AI Act Art. 50(1)).
    return sorted(chosen, key=lambda system: not system.is_chatbot)


# --- jinja2 -----------------------------------------------------------------


def _piece_html(piece: _Piece) -> Markup:
    """The text, in a ``<span lang dir>`` when its language is not the notice's."""
    if piece.lang is None:
        return escape(piece.text)
    return Markup('<span lang="{}" dir="{}">{}</span>').format(piece.lang, piece.dir, piece.text)


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(widgets_dir() / "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["piece"] = _piece_html
    return env


def _translator(language: str) -> tuple[Catalog, Callable[..., Markup]]:
    """The catalog for ``language`` (``_(key)`` in templates), and ``fill(key,
    **values)``: the text as markup, its values escaped or rendered as pieces."""
    strings = catalogs()[language]

    def fill_markup(key: str, **values: _Piece | str) -> Markup:
        html = {
            name: str(_piece_html(value) if isinstance(value, _Piece) else escape(value))
            for name, value in values.items()
        }
        return Markup(fill(str(escape(strings(key))), html))

    return strings, fill_markup


def render_notice(
    manifest: Manifest,
    systems: Sequence[System],
    language: str,
    *,
    page_language: str | None = None,
    asset_prefix: str = ASSET_PREFIX,
) -> str:
    """The notice for ``systems``, in ``language``: one ``<ai-notice>`` element.

    Several systems give one notice listing each. No systems, no notice: ``""``.
    ``language`` is a language tag; one the catalog lacks falls back to its
    primary subtag, then to French (the middleware picks it: ``_language``).
    The notice states its own ``lang`` and ``dir`` unless ``page_language``
    says the page is already in that language. ``asset_prefix`` is where the
    middleware serves the declaration page: the register link opens it when the
    service has no register.
    """
    chosen = _unique(systems)
    if not chosen:
        return ""
    lang = catalog_language(language)
    view = _View(manifest, lang, language, asset_prefix)
    digest = hashlib.sha1(
        "\n".join(s.id for s in chosen).encode(), usedforsecurity=False
    ).hexdigest()[:8]
    uid = f"ai-notice-{digest}"
    items = [view.item(system, f"{uid}-{n}") for n, system in enumerate(chosen, 1)]
    in_page_language = same_language(page_language, lang)
    strings, fill_markup = _translator(lang)
    script_strings = {"lang": lang, "dir": strings.dir} | {
        key: strings(f"notice.{key}") for key in SCRIPT_KEYS
    }
    template = _environment().get_template("notice.html")
    return template.render(
        uid=uid,
        items=items,
        lang=lang,
        dir=strings.dir,
        own_language=not in_page_language,
        script_strings=Markup(json_for_html(script_strings)),
        _=strings,
        fill=fill_markup,
    )


def render_head(
    manifest: Manifest,
    systems: Sequence[System],
    language: str,
    *,
    nonce: str | None = None,
    style_nonce: str | None = None,
    asset_prefix: str = ASSET_PREFIX,
) -> str:
    """What the page's ``<head>`` needs: the W3C ``ai-disclosure`` meta element
    (the page default, with ``ai-model`` and ``ai-provider`` when every system
    shaping the page names the same one), a schema.org JSON-LD description with the
    IPTC digital source type, and the widget's stylesheet and module script (with
    ``style_nonce`` and ``nonce`` - the page's CSP nonces for styles and scripts -
    when given)."""
    combined = involvement(systems)
    service = manifest.service
    data: dict[str, object] = {
        "@context": "https://schema.org",
        "@type": "WebPage",
        "inLanguage": language,
        "digitalSourceType": combined.iptc_digital_source_type,
        "isPartOf": {"@type": "WebSite", "name": service.name},
        "publisher": {"@type": "GovernmentOrganization", "name": service.operator},
    }
    template = _environment().get_template("head.html")
    return template.render(
        w3c_value=combined.w3c_value.value,
        model=combined.model,
        provider=combined.provider,
        json_ld=Markup(json_for_html(data)),
        prefix=asset_prefix.rstrip("/"),
        nonce=nonce,
        style_nonce=style_nonce,
    )


#: Stands where the template helpers' head puts the page's nonces (rendered once).
_NONCE_MARK = "aidisclosurehelpernonce"
_STYLE_NONCE_MARK = "aidisclosurehelperstylenonce"
#: Renderings kept per helper; past it the cache starts again (languages and
#: systems are few, so only odd arguments ever fill it).
_CACHE_LIMIT = 256


def in_ascii(html: str) -> str:
    """``html`` with every character beyond ASCII as a character reference: the
    same document (its scripts and styles are ASCII: JSON escapes the rest), fit
    for any ASCII-compatible charset."""
    return html.encode("ascii", "xmlcharrefreplace").decode("ascii")


def _ascii_where_cheap(html: str) -> str:
    """``html`` in ASCII when that makes it at most a tenth longer than its UTF-8
    (the Latin scripts: 0.4 - 9.4 %; gzipped, 0 - 19 bytes), else as it is.

    A template places the notice in a page that Python then encodes: an ASCII
    str with one copy, any other character by character (~40 us for a 23 KB page,
    20 times the helpers' own cost), so one "é" in the notice would make an
    ASCII page (English, or accents written as references) pay that. A notice in
    another script keeps its UTF-8 (a fifth to a third shorter): its page is
    hardly ever ASCII."""
    escaped = in_ascii(html)
    return escaped if len(escaped) <= len(html.encode()) * 1.1 else html


def _place_nonce(head: str, mark: str, nonce: str | None) -> str:
    """``head`` with ``nonce`` (escaped as the template would) where ``mark`` stands,
    or without the attribute when there is none, as ``head.html`` leaves it out."""
    if not nonce:
        return head.replace(f' nonce="{mark}"', "")
    return head.replace(mark, escape(nonce))


class TemplateFragments:
    """The head fragment and the notice as safe markup, for a template that places
    them itself: the one path behind :func:`install_jinja_globals` and
    ``disclosure_head``/``disclosure_notice``, so each forwards every option of
    :func:`render_head` and :func:`render_notice` (the asset prefix is bound here).
    Systems are :class:`System` objects or manifest ids.

    Each combination of systems and language is rendered once (the head with marks
    where the nonces go), so jinja2 runs once per combination, never per request."""

    __slots__ = ("_heads", "_notices", "_plain", "_same", "asset_prefix", "manifest")

    def __init__(self, manifest: Manifest, asset_prefix: str = ASSET_PREFIX) -> None:
        self.manifest = manifest
        self.asset_prefix = asset_prefix
        self._heads: dict[tuple[tuple[str, ...], str], str] = {}
        self._plain: dict[tuple[tuple[str, ...], str], Markup] = {}  # without nonces
        self._same: dict[tuple[str | None, str], bool] = {}  # page's language reads it
        self._notices: dict[tuple[tuple[str, ...], str, bool], Markup] = {}

    def _systems(self, systems: Iterable[System | str]) -> list[System]:
        return [s if isinstance(s, System) else self.manifest.system(s) for s in systems]

    def _key(self, systems: Iterable[System | str]) -> tuple[list[System], tuple[str, ...]]:
        chosen = self._systems(systems)
        return chosen, tuple([system.id for system in chosen])

    def head(
        self,
        systems: Iterable[System | str],
        language: str,
        nonce: str | None = None,
        style_nonce: str | None = None,
    ) -> Markup:
        """:func:`render_head`; ``nonce`` and ``style_nonce`` are the page's CSP
        nonces for scripts and for styles."""
        chosen, ids = self._key(systems)
        key = (ids, language)
        head = self._heads.get(key)
        if head is None:
            if len(self._heads) >= _CACHE_LIMIT:
                self._heads.clear()
                self._plain.clear()
            head = self._heads[key] = render_head(
                self.manifest,
                chosen,
                language,
                nonce=_NONCE_MARK,
                style_nonce=_STYLE_NONCE_MARK,
                asset_prefix=self.asset_prefix,
            )
        if nonce is None and style_nonce is None:
            plain = self._plain.get(key)
            if plain is None:
                plain = self._plain[key] = Markup(
                    _place_nonce(_place_nonce(head, _NONCE_MARK, None), _STYLE_NONCE_MARK, None)
                )
            return plain
        head = _place_nonce(head, _NONCE_MARK, nonce)
        return Markup(_place_nonce(head, _STYLE_NONCE_MARK, style_nonce))

    def notice(
        self, systems: Iterable[System | str], language: str, page_language: str | None = None
    ) -> Markup:
        """:func:`render_notice`: empty without systems."""
        chosen, ids = self._key(systems)
        # The page's language only decides whether the notice states its own.
        same = self._same.get((page_language, language))
        if same is None:
            if len(self._same) >= _CACHE_LIMIT:
                self._same.clear()
            same = self._same[page_language, language] = same_language(
                page_language, catalog_language(language)
            )
        key = (ids, language, same)
        notice = self._notices.get(key)
        if notice is None:
            if len(self._notices) >= _CACHE_LIMIT:
                self._notices.clear()
            notice = self._notices[key] = Markup(
                _ascii_where_cheap(
                    render_notice(
                        self.manifest,
                        chosen,
                        language,
                        page_language=page_language,
                        asset_prefix=self.asset_prefix,
                    )
                )
            )
        return notice

    def content(
        self,
        systems: Iterable[System | str],
        content: str,
        language: str,
        tag: str = "div",
        page_language: str | None = None,
    ) -> Markup:
        """``_content.render_content``: one piece of AI content, marked and labelled."""
        from ._content import render_content  # it reads this module's catalog

        return render_content(
            self.manifest,
            self._systems(systems),
            content,
            language,
            tag=tag,
            page_language=page_language,
        )


def install_jinja_globals(
    env: jinja2.Environment,
    manifest: Manifest,
    *,
    asset_prefix: str = ASSET_PREFIX,
) -> None:
    """Let an application's own jinja2 templates place the notice.

    Adds three globals to ``env``; each takes systems (ids or :class:`System`
    objects) and returns safe markup::

        install_jinja_globals(templates.env, manifest)

    .. code-block:: html+jinja

        <head>
          {{ ai_disclosure_head(["tri-dechets"], lang, nonce=csp_nonce,
                                style_nonce=csp_nonce) }}
        </head>
        <body>
          <main>
            {{ ai_disclosure_notice(["tri-dechets"], lang, page_language=lang) }}
            {{ ai_disclosure_content(["tri-dechets"], answer, lang, tag="p",
                                     page_language=lang) }}

    Keyword arguments are those of :meth:`TemplateFragments.head`,
    :meth:`TemplateFragments.notice` and :meth:`TemplateFragments.content`. A page
    holds one notice: list every system it involves in the same call; each piece
    of AI content gets its own ``ai_disclosure_content``.
    """
    fragments = TemplateFragments(manifest, asset_prefix)
    env.globals["ai_disclosure_notice"] = fragments.notice
    env.globals["ai_disclosure_head"] = fragments.head
    env.globals["ai_disclosure_content"] = fragments.content
