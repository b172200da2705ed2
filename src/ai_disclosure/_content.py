"""One piece of AI content marked in the page: the W3C attributes and a visible label.

The page-level notice says a service uses AI; the EU AI Act Art. 50 Code of
Practice also asks deployers to label AI-generated or AI-modified text published
to inform the public *at the content itself*, recognisable at once: the EU icon,
the capitalised acronym ("IA" in French, "AI" in English) and a short text
saying generated or modified. :func:`render_content` wraps a chatbot answer, a
generated summary or a translated article in an element carrying the W3C
``ai-disclosure`` attribute (with ``ai-model`` and ``ai-provider`` from the
manifest) and puts that label right before it::

    <span class="ai-mark" data-ai-mark>[icon]<strong class="ai-mark__ai">IA</strong>
      <span class="ai-mark__text">Généré par IA</span></span>
    <div ai-disclosure="ai-autonomous" ai-model="…" ai-provider="…">…</div>

The label is human-written, so it stays outside the element it describes. No
script is needed; ``AIDisclosure.mark()`` in ``ai-notice.js`` makes the same
markup for content fetched later. A reviewed text says who reviewed it ("Traduit
avec l'aide d'une IA, relu par …"), never that it was made "automatically".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from markupsafe import Markup

from ._catalog import catalog_language
from ._language import best_match
from ._model import EUIcon, Interaction, Involvement, Manifest, System, W3CValue, involvement
from ._notice import _environment, _translator, _View

__all__ = [
    "MARK_BY_ICON",
    "Mark",
    "content_attributes",
    "mark_for",
    "render_content",
    "render_label",
]

#: Catalog key of the label's text for AI content nobody reviewed, by EU icon;
#: reviewed content was made "with the help of" AI (``notice.mark_assisted``).
MARK_BY_ICON: Mapping[EUIcon, str] = {
    EUIcon.AI_GENERATED: "notice.mark_generated",
    EUIcon.AI_MODIFIED: "notice.mark_modified",
    EUIcon.AI: "notice.mark_machine",
}
#: Translations say so, reviewed or not.
MARK_TRANSLATED = ("notice.mark_translated", "notice.mark_translated_assisted")
MARK_ASSISTED = "notice.mark_assisted"
#: "{label}, reviewed by {by}": the reviewer named after any label.
MARK_REVIEWED = "notice.mark_reviewed"


@dataclass(frozen=True, slots=True)
class Mark:
    """What the label of one piece of content says: the icon, the catalog key of
    its text, and who reviewed it (named only when the content was reviewed)."""

    icon: EUIcon
    key: str
    reviewed_by: str | None = None


def mark_for(systems: Sequence[System]) -> Mark | None:
    """The label for content these systems shaped; None when none of them shaped
    what people see (``human-only``: nothing to label)."""
    combined = involvement(systems)
    if not combined.shaping:
        return None
    icon = combined.vocabulary.eu_icon
    translated = all(s.interaction is Interaction.TRANSLATION for s in combined.shaping)
    if translated:
        key = MARK_TRANSLATED[combined.reviewed]
    else:
        key = MARK_ASSISTED if combined.reviewed else MARK_BY_ICON[icon]
    return Mark(icon, key, combined.reviewed_by)


def content_attributes(systems: Sequence[System]) -> dict[str, str]:
    """The W3C attributes of content these systems shaped: ``ai-disclosure``, and
    ``ai-model``/``ai-provider`` when the systems agree on one (never on
    ``human-only`` content)."""
    combined: Involvement = involvement(systems)
    attributes = {"ai-disclosure": combined.w3c_value.value}
    if combined.w3c_value is not W3CValue.HUMAN_ONLY:
        for name, value in (("ai-model", combined.model), ("ai-provider", combined.provider)):
            if value:
                attributes[name] = value
    return attributes


def render_label(
    manifest: Manifest,
    systems: Sequence[System],
    language: str,
    *,
    page_language: str | None = None,
) -> Markup:
    """The visible label for content these systems shaped, in ``language`` (a
    catalog language, else French); empty when there is nothing to label. The
    label states its own ``lang`` and ``dir`` unless ``page_language`` is the same;
    the reviewer's name, written in the service's default language, states its
    own when the label's differs."""
    mark = mark_for(systems)
    if mark is None:
        return Markup("")
    lang = catalog_language(language)
    strings, fill_markup = _translator(lang)
    text = fill_markup(mark.key)
    if mark.reviewed_by:
        reviewer = _View(manifest, lang, language).plain(mark.reviewed_by)
        text = fill_markup(MARK_REVIEWED, label=text, by=reviewer)
    own = page_language is None or best_match(page_language, (lang,)) is None
    return Markup(
        _environment()
        .get_template("mark.html")
        .render(
            icon_name=mark.icon.value,
            ai=strings("notice.pill"),
            text=text,
            lang=lang,
            dir=strings.dir,
            own_language=own,
        )
    )


def render_content(
    manifest: Manifest,
    systems: Sequence[System],
    content: str | Markup,
    language: str,
    *,
    tag: str = "div",
    page_language: str | None = None,
) -> Markup:
    """``content`` (text, escaped; or :class:`Markup`, kept) in a ``tag`` element
    with the W3C attributes, preceded by its visible label (see module doc)."""
    if not tag.isalnum():
        raise ValueError(f"tag must be an element name such as 'div' or 'p', not {tag!r}")
    attributes = "".join(
        Markup(' {}="{}"').format(name, value)
        for name, value in content_attributes(systems).items()
    )
    label = render_label(manifest, systems, language, page_language=page_language)
    return label + Markup("<{0}{1}>{2}</{0}>").format(Markup(tag), Markup(attributes), content)
