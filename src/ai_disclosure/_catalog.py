"""The catalog: every text a citizen reads, one JSON file per language.

``widgets/i18n/<tag>.json`` holds a language's texts by key (``notice.title``,
``register.result_count``) and its ``_meta`` (review status, direction); the
format is described in ``widgets/i18n/README.md``. Every such file is a
language: adding one is adding a file. The notice, its script, the declaration
page, the register and the proxy's error pages all read texts from here;
plurals, numbers, dates and language names come from CLDR through Babel.

Files are read once (:func:`catalogs`), at start-up: nothing here does I/O per
request.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache, lru_cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_skeleton
from babel.numbers import format_decimal

from ._language import best_match, choose_language
from ._resources import data_dir

__all__ = [
    "DEFAULT_LANGUAGE",
    "PLURAL_CATEGORIES",
    "STATUSES",
    "Catalog",
    "LanguageOption",
    "catalog_dir",
    "catalog_language",
    "catalogs",
    "choose_catalog_language",
    "direction",
    "fill",
    "language_options",
    "load_catalog",
    "placeholders",
]

#: The language every text is written in first, and the fallback of last resort.
DEFAULT_LANGUAGE = "fr"
#: A file's review status (``_meta.status``).
STATUSES = ("reviewed", "machine-translated")
#: Every CLDR plural category, in CLDR's order.
PLURAL_CATEGORIES = ("zero", "one", "two", "few", "many", "other")

_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")

Text = str | Mapping[str, str]


def fill(text: str, values: Mapping[str, str]) -> str:
    """``text`` with each ``{name}`` replaced by ``values[name]``.

    Only names are replaced (no format specification, unlike ``str.format``),
    so a translation can never read an attribute or crash on a brace.
    """
    return _PLACEHOLDER.sub(lambda match: values[match.group(1)], text)


def placeholders(text: Text) -> frozenset[str]:
    """The placeholder names of a text (of every form of a plural text)."""
    forms = [text] if isinstance(text, str) else list(text.values())
    return frozenset(name for form in forms for name in _PLACEHOLDER.findall(form))


@dataclass(frozen=True, slots=True)
class Catalog:
    """One language's texts, and CLDR's rules for its plurals, numbers and dates."""

    #: The language tag, as the file is named (``fr``, ``zh-Hans``).
    tag: str
    #: ``reviewed`` or ``machine-translated``.
    status: str
    #: ``ltr`` or ``rtl``.
    dir: str
    texts: Mapping[str, Text]
    locale: Locale

    @property
    def name(self) -> str:
        """The language's name in itself, as CLDR writes it, capitalised for a menu."""
        own = self.locale.get_display_name(self.locale) or self.tag
        return own[:1].upper() + own[1:]

    @property
    def plural_categories(self) -> frozenset[str]:
        """The plural categories CLDR gives the language (always ``other``)."""
        return frozenset(self.locale.plural_form.tags) | {"other"}

    def __call__(self, key: str, **values: object) -> str:
        """The text ``key``, its placeholders filled with ``values``."""
        text = self.texts[key]
        if not isinstance(text, str):
            raise TypeError(f"{key} depends on a number: use plural()")
        return fill(text, {name: str(value) for name, value in values.items()}) if values else text

    def plural(self, key: str, count: int, **values: object) -> str:
        """The form of ``key`` CLDR's rules choose for ``count``, with ``{count}``
        written the language's way."""
        forms = self.texts[key]
        if isinstance(forms, str):
            raise TypeError(f"{key} does not depend on a number: call the catalog")
        form = forms.get(self.locale.plural_form(count)) or forms["other"]
        filled = {name: str(value) for name, value in values.items()}
        return fill(form, {**filled, "count": self.number(count)})

    def number(self, value: int) -> str:
        """``value`` with the language's digit grouping."""
        return format_decimal(value, locale=self.locale)

    def date(self, value: str | date | None) -> str:
        """A day (``2026-11-01`` or a :class:`date`) in CLDR's long format."""
        if value is None:
            return ""
        day = date.fromisoformat(value[:10]) if isinstance(value, str) else value
        return format_date(day, "long", locale=self.locale)

    def month(self, value: str) -> str:
        """A month (``2026-11``) with its year, as CLDR writes it."""
        return format_skeleton("yMMMM", date.fromisoformat(value[:7] + "-01"), locale=self.locale)


@lru_cache(maxsize=256)
def direction(tag: str) -> str:
    """``rtl`` or ``ltr``: how CLDR writes the language ``tag`` (``ltr`` if unknown)."""
    try:
        return Locale.parse(tag.replace("_", "-"), sep="-").text_direction
    except (ValueError, LookupError, UnknownLocaleError):
        return "ltr"


def catalog_dir() -> Path:
    """The folder of the catalog files."""
    return data_dir("widgets") / "i18n"


def load_catalog(path: Path) -> Catalog:
    """Read one ``<tag>.json`` file. A file CLDR cannot place (unknown tag) or
    with a ``_meta`` out of its vocabulary is refused, naming the file."""
    tag = path.name.removesuffix(".json")
    data = json.loads(path.read_text(encoding="utf-8"))
    meta = data.pop("_meta", {})
    if meta.get("status") not in STATUSES or meta.get("dir") not in ("ltr", "rtl"):
        raise ValueError(
            f"{path}: _meta needs status ({' or '.join(STATUSES)}) and dir (ltr or rtl)"
        )
    try:
        locale = Locale.parse(tag, sep="-")
    except (ValueError, LookupError, UnknownLocaleError) as error:
        raise ValueError(f"{path}: {tag!r} is not a language CLDR knows ({error})") from None
    return Catalog(tag, meta["status"], meta["dir"], data, locale)


@cache
def catalogs() -> Mapping[str, Catalog]:
    """Every language of the catalog by tag: the default first, then by tag."""
    paths = sorted(
        catalog_dir().glob("*.json"), key=lambda p: (p.name != f"{DEFAULT_LANGUAGE}.json", p.name)
    )
    return {catalog.tag: catalog for catalog in map(load_catalog, paths)}


def catalog_language(tag: str) -> str:
    """The catalog's language a tag reads (``fr-BE`` -> ``fr``), else the default."""
    return best_match(tag, catalogs()) or DEFAULT_LANGUAGE


def choose_catalog_language(
    asked: str | None, default: str, accept: str | None = None
) -> tuple[str, bool]:
    """The catalog language for ``asked``, else ``accept`` (``Accept-Language``),
    else ``default``'s, and whether ``accept`` decided it."""
    return choose_language(tuple(catalogs()), catalog_language(default), asked, accept)


@dataclass(frozen=True, slots=True)
class LanguageOption:
    """A language a page is offered in, as a language switcher lists it."""

    #: The catalog's tag (``hreflang``, ``lang``).
    code: str
    #: Its name in itself (CLDR).
    name: str
    dir: str
    href: str
    current: bool


def language_options(
    codes: Iterable[str], current: str, href: Callable[[str], str]
) -> list[LanguageOption]:
    """The switcher's entries for ``codes`` (catalog tags), ``current`` marked,
    each linking to ``href(code)``."""
    found = catalogs()
    return [
        LanguageOption(code, found[code].name, found[code].dir, href(code), code == current)
        for code in codes
    ]
