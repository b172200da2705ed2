"""The catalog: every file present is complete, CLDR-correct and translated, and
every text the code names exists (``widgets/i18n/README.md`` states the format)."""

from __future__ import annotations

import json
import re
import tokenize
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from ai_disclosure._catalog import (
    DEFAULT_LANGUAGE,
    PLURAL_CATEGORIES,
    STATUSES,
    Catalog,
    catalog_dir,
    catalogs,
    fill,
    load_catalog,
    placeholders,
)
from ai_disclosure._notice import SCRIPT_KEYS
from ai_disclosure.registry.changes import ChangeKind
from ai_disclosure.registry.exports import EXPORTS
from ai_disclosure.registry.pages import GLOSSARY, GUIDE_FIELDS, VOCABULARIES

from .conftest import ROOT

SOURCE = catalog_dir()
FILES = sorted(SOURCE.glob("*.json"))
#: Every language present: the checks hold for each file as soon as it is added.
LANGUAGES = [path.stem for path in FILES]
ENGLISH = json.loads((SOURCE / "en.json").read_text(encoding="utf-8"))
KEYS = set(ENGLISH) - {"_meta"}

#: Proper names, brands and codes a translation keeps as they are.
PROPER_NAMES = frozenset(
    {
        "AI-Disclosure",
        "ATRS",
        "Algoritmeregister",
        "API",
        "CADA",
        "CSV",
        "JSON",
        "OpenAPI",
        "UTC",
    }
)
_WORD = re.compile(r"[^\W\d_]+(?:[-’'][^\W\d_]+)*")


def texts(language: str) -> dict[str, str | dict[str, str]]:
    data: dict[str, str | dict[str, str]] = json.loads(
        (SOURCE / f"{language}.json").read_text(encoding="utf-8")
    )
    data.pop("_meta")
    return data


def forms(text: str | dict[str, str]) -> list[str]:
    return [text] if isinstance(text, str) else list(text.values())


# --- Each file present ------------------------------------------------------------


def test_the_loader_takes_every_file_and_only_those() -> None:
    assert list(catalogs()) == [DEFAULT_LANGUAGE, *sorted(set(LANGUAGES) - {DEFAULT_LANGUAGE})]
    assert {"fr", "en"} <= set(LANGUAGES)


@pytest.mark.parametrize("language", LANGUAGES)
def test_meta_states_status_and_cldr_direction(language: str) -> None:
    catalog = catalogs()[language]
    assert catalog.status in STATUSES
    assert catalog.dir == catalog.locale.text_direction, "dir must be CLDR's"
    assert catalog.name, "CLDR names the language"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_key_in_every_language(language: str) -> None:
    found = set(texts(language))
    assert found == KEYS, f"missing {sorted(KEYS - found)}, unknown {sorted(found - KEYS)}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_placeholders_are_the_english_ones(language: str) -> None:
    for key, text in texts(language).items():
        for form in forms(text):
            assert placeholders(form) <= placeholders(ENGLISH[key]), (key, form)
        assert placeholders(text) == placeholders(ENGLISH[key]), key
        # Braces only as placeholders: nothing str.format would read otherwise.
        for form in forms(text):
            assert re.sub(r"\{[a-z_]+\}", "", form).count("{") == 0, (key, form)
            assert "}" not in re.sub(r"\{[a-z_]+\}", "", form), (key, form)


@pytest.mark.parametrize("language", LANGUAGES)
def test_plural_texts_have_exactly_the_cldr_categories(language: str) -> None:
    catalog = catalogs()[language]
    assert catalog.plural_categories <= set(PLURAL_CATEGORIES)
    for key, text in texts(language).items():
        assert isinstance(text, str) == isinstance(ENGLISH[key], str), key
        if not isinstance(text, str):
            assert set(text) == catalog.plural_categories, key


@pytest.mark.parametrize("language", LANGUAGES)
def test_texts_are_clean(language: str) -> None:
    for key, text in texts(language).items():
        for form in forms(text):
            assert form, key
            assert form.strip(" \t\n") == form, key
            assert "  " not in form, key
            assert "(s)" not in form, f"{key}: plurals come from CLDR categories"
            assert "<" not in form, f"{key}: no markup in texts"


def _left_in_english(text: str, english: str) -> bool:
    """Whether ``text`` is ``english`` unchanged, beyond proper names and one word
    that languages share ("Total", "Page {n}")."""
    if text != english:
        return False
    words = [w for w in _WORD.findall(re.sub(r"\{\w+\}", "", text)) if w not in PROPER_NAMES]
    return len(words) > 1


@pytest.mark.parametrize("language", sorted(set(LANGUAGES) - {"en"}))
def test_no_english_left(language: str) -> None:
    left = [
        key
        for key, text in texts(language).items()
        for form in forms(text)
        if any(_left_in_english(form, english) for english in forms(ENGLISH[key]))
    ]
    assert not left, f"{language} keeps English for {left}"


def test_english_left_is_caught_but_names_are_not() -> None:
    assert _left_in_english("Times people were told", "Times people were told")
    assert not _left_in_english("API (OpenAPI)", "API (OpenAPI)")
    assert not _left_in_english("Total", "Total")
    assert not _left_in_english("Page {n}", "Page {n}")
    assert not _left_in_english("Nombre total", "Total count")


def test_a_file_without_meta_or_unknown_to_cldr_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "fr.json"
    bad.write_text('{"notice.title": "x"}', encoding="utf-8")
    with pytest.raises(ValueError, match=r"fr\.json: _meta needs status"):
        load_catalog(bad)
    unknown = tmp_path / "qqq.json"
    unknown.write_text('{"_meta": {"status": "reviewed", "dir": "ltr"}}', encoding="utf-8")
    with pytest.raises(ValueError, match="not a language CLDR knows"):
        load_catalog(unknown)


# --- Every key the code names exists, every key is named ---------------------------

_AREAS = (
    "common|notice|declaration|routes|interaction|origin|status|audience|ethics|ai_act_role"
    "|risk|annex_iii_area|automation|publication_category|register|guide|proxy|export"
)
_STATIC = re.compile(rf"""["']((?:{_AREAS})\.[\w.-]*[a-z0-9])["']""")
_FILE = re.compile(r"\.(?:html|css|js)$")


def _sources() -> list[Path]:
    paths = [
        *(ROOT / "src").rglob("*.py"),
        *(ROOT / "src").rglob("*.html"),
        *(ROOT / "widgets" / "templates").glob("*.html"),
    ]
    assert len(paths) > 50
    return paths


def named_keys() -> set[str]:
    """Keys the code names literally, and the families it builds from a table."""
    static = {key for path in _sources() for key in _STATIC.findall(path.read_text("utf-8"))}
    static = {key for key in static if not _FILE.search(key)}
    built = {f"{area}.{value}" for area, values in VOCABULARIES.items() for value in values}
    built |= {f"notice.{key}" for key in SCRIPT_KEYS}
    built |= {f"export.{export.name}" for export in EXPORTS}
    built |= {f"register.change_{kind}" for kind in ChangeKind}
    built |= {f"routes.{kind}" for kind in ("all", "exact", "prefix", "pattern")}
    built |= {f"proxy.{status}_{part}" for status in (400, 502, 504) for part in ("title", "text")}
    built |= {f"register.{field}" for field in GUIDE_FIELDS}
    built |= {f"guide.{field}" for field in GUIDE_FIELDS}
    built |= {f"guide.{kind}_{word}" for word in GLOSSARY for kind in ("term", "def")}
    return static | built


def test_every_key_named_exists_and_every_key_is_named() -> None:
    named = named_keys()
    assert named - KEYS == set(), "named in code, missing from en.json"
    assert KEYS - named == set(), "in en.json, never used"


def test_the_script_reads_the_script_keys() -> None:
    script = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "widgets").glob("*.js"))
    used = set(re.findall(r"\bs\.(\w+)", script))
    used |= set(re.findall(r'"((?:label|mark|status)_\w+)"', script))
    assert used - {"lang", "dir"} == set(SCRIPT_KEYS)


# --- CLDR, not hand-written rules --------------------------------------------------

_MONTHS = re.compile(
    r"\b(janvier|février|avril|juillet|août|septembre|octobre|novembre|décembre|"
    r"January|February|April|June|July|August|September|October|November|December)\b",
    re.IGNORECASE,
)


def _words_of(path: Path) -> str:
    """What a file may show people: a module's string literals, a template's text."""
    text = path.read_text(encoding="utf-8")
    if path.suffix != ".py":
        return text
    with path.open("rb") as source:
        tokens = tokenize.tokenize(source.readline)
        return "\n".join(t.string for t in tokens if t.type == tokenize.STRING)


def test_no_month_names_or_plural_suffixes_in_the_code() -> None:
    demo = ROOT / "src" / "ai_disclosure" / "demo"  # the demo site's own French pages
    for path in [*_sources(), *(ROOT / "widgets").glob("*.js")]:
        if path.is_relative_to(demo):
            continue
        text = _words_of(path)
        assert not _MONTHS.search(text), f"{path}: dates come from CLDR (Catalog.date)"
        hack = re.search(r"\b(?!https?\()\w+\(s\)", text)
        assert not hack, f"{path}: {hack and hack.group()}: plurals come from CLDR (plural)"


def test_the_checks_above_see_a_hand_written_rule(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text('x = system(s)\nLABEL = "{n} système(s)"\nMONTHS = ("janvier",)\n')
    words = _words_of(module)
    assert "système(s)" in words
    assert "system(s)" not in words
    assert _MONTHS.search(words)


@pytest.mark.parametrize(
    ("language", "count", "expected"),
    [
        ("fr", 0, "0 système trouvé"),
        ("fr", 1, "1 système trouvé"),
        ("fr", 2, "2 systèmes trouvés"),
        ("fr", 1_000_000, "1\u202f000\u202f000 de systèmes trouvés"),
        ("en", 1, "1 system found"),
        ("en", 0, "0 systems found"),
        ("en", 1234, "1,234 systems found"),
    ],
)
def test_plurals_and_numbers_follow_cldr(language: str, count: int, expected: str) -> None:
    assert catalogs()[language].plural("register.result_count", count) == expected


def test_dates_months_and_names_come_from_cldr() -> None:
    french, english = catalogs()["fr"], catalogs()["en"]
    assert french.date("2026-11-01") == "1 novembre 2026"
    assert french.date(date(2026, 3, 4)) == "4 mars 2026"
    assert english.date("2026-11-01") == "November 1, 2026"
    assert french.month("2026-08") == "août 2026"
    assert english.month("2026-08") == "August 2026"
    assert (french.name, english.name) == ("Français", "English")


def test_a_new_language_gets_cldr_rules_from_its_file_alone(
    add_language: Callable[..., Catalog],
) -> None:
    irish = add_language("ga")
    assert irish.plural_categories == {"one", "two", "few", "many", "other"}
    assert irish.name == "Gaeilge"
    assert irish.date("2026-11-01") == "1 Samhain 2026"
    assert irish.plural("register.result_count", 2).startswith("2 ")


def test_fill_replaces_names_only() -> None:
    assert fill("{a} et {b}", {"a": "1", "b": "{a}"}) == "1 et {a}"
    with pytest.raises(KeyError):
        fill("{missing}", {})


def test_a_plural_text_must_be_asked_with_its_number() -> None:
    french = catalogs()["fr"]
    with pytest.raises(TypeError, match="plural"):
        french("register.result_count")
    with pytest.raises(TypeError, match="number"):
        french.plural("notice.title", 2)
