"""The notice's HTML, its head metadata, the string catalog and the widget files."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import jinja2
import pytest

from ai_disclosure._catalog import catalogs
from ai_disclosure._model import (
    HumanReview,
    Interaction,
    Manifest,
    Origin,
    Service,
    System,
)
from ai_disclosure._notice import (
    DEFAULT_LANGUAGE,
    SCRIPT_KEYS,
    install_jinja_globals,
    json_for_html,
    notice_languages,
    render_head,
    render_notice,
    widgets_dir,
)

ROOT = Path(__file__).resolve().parents[1]
WIDGETS = ROOT / "widgets"
#: Every language of the catalog: a language added to it is checked like the others.
LANGUAGES = notice_languages()


# --- A small manifest factory -------------------------------------------------


def make_system(
    id: str = "tri-dechets",
    interaction: Interaction = Interaction.CHATBOT,
    origin: Origin = Origin.AI_ORIGINATED,
    reviewed: bool = False,
    by: str | None = None,
    **fields: Any,
) -> System:
    fields.setdefault("name", {"fr": f"Système {id}", "en": f"System {id}"})
    fields.setdefault("purpose", {"fr": "Répondre à vos questions.", "en": "Answers questions."})
    return System(
        id=id,
        interaction=interaction,
        origin=origin,
        human_review=HumanReview(reviewed=reviewed, by=by),
        **fields,
    )


CHATBOT = make_system(
    "tri-dechets",
    data_sources=({"fr": "Guide du tri", "en": "Sorting guide"},),
    recourse={"fr": "Appelez le 04 67 00 00 00.", "en": "Call +33 4 67 00 00 00."},
)
LEAKS = make_system(
    "alertes-fuites",
    Interaction.AUTOMATED_DECISION,
    Origin.MACHINE_GENERATED,
    reviewed=True,
    by="agents du service de l’eau",
)
TRANSLATION = make_system("traduction", Interaction.TRANSLATION, Origin.AI_MODIFIED)


def make_manifest(*systems: System, **service: Any) -> Manifest:
    fields: dict[str, Any] = {
        "id": "montpellier-3m",
        "name": "Services en ligne",
        "operator": "Montpellier Méditerranée Métropole",
        "contact": "ia@montpellier3m.fr",
        "default_language": "fr",
        "languages": ("fr", "en"),
        "register_url": "https://registre.example.org/",
    }
    fields.update(service)
    return Manifest(service=Service(**fields), systems=systems or (CHATBOT, LEAKS, TRANSLATION))


MANIFEST = make_manifest()


# --- An HTML checker --------------------------------------------------------------

VOID = {"br", "meta", "link", "input", "img", "hr", "path"}


class Checker(HTMLParser):
    """Collects tags, attributes and ids, and checks that elements nest."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.errors: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:]}")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def all(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.tags if name == tag]

    def with_attr(self, attr: str) -> list[tuple[str, dict[str, str | None]]]:
        return [(name, attrs) for name, attrs in self.tags if attr in attrs]


def check(html: str) -> Checker:
    checker = Checker()
    checker.feed(html)
    checker.close()
    assert not checker.errors, checker.errors
    assert not checker.stack, f"unclosed: {checker.stack}"
    ids = [attrs["id"] for _, attrs in checker.tags if attrs.get("id")]
    assert len(ids) == len(set(ids)), f"duplicate ids: {ids}"
    for _, attrs in checker.tags:
        for ref in ("aria-labelledby", "aria-controls", "aria-describedby"):
            if attrs.get(ref):
                assert attrs[ref] in ids, f"{ref}={attrs[ref]} points nowhere"
    return checker


def notice(lang: str = "fr", systems: tuple[System, ...] | None = None, **kwargs: Any) -> str:
    chosen = systems if systems is not None else (CHATBOT, LEAKS, TRANSLATION)
    manifest = kwargs.pop("manifest", MANIFEST)
    return render_notice(manifest, chosen, lang, **kwargs)


# --- Files and catalog -------------------------------------------------------------


def test_widgets_dir_is_the_source_tree_folder() -> None:
    assert widgets_dir() == WIDGETS
    for name in ("ai-notice.css", "ai-notice.js", "i18n/fr.json", "templates/notice.html"):
        assert (widgets_dir() / name).is_file(), name


def test_notice_languages() -> None:
    assert LANGUAGES[0] == DEFAULT_LANGUAGE
    assert {"fr", "en"} <= set(LANGUAGES)
    for lang in LANGUAGES:  # tags: a language, and a script where it matters (zh-Hans)
        assert re.fullmatch(r"[a-z]{2,3}(-[A-Z][a-z]{3})?", lang), lang


def _templates() -> list[Path]:
    """The widget's templates; never none, or the checks over them would pass vacuously."""
    paths = sorted((WIDGETS / "templates").glob("*.html"))
    assert "notice.html" in {p.name for p in paths}
    return paths


def test_script_icons_match_the_template_icons() -> None:
    script = (WIDGETS / "ai-notice-dom.js").read_text(encoding="utf-8")
    constants = dict(re.findall(r'^const (FRAME|INNER) = "([^"]+)";', script, re.M))
    script_icons = {}
    for name, expression in re.findall(r'^  "?([\w-]+)"?: (FRAME [^,]+),$', script, re.M):
        parts = [p.strip() for p in expression.split("+")]
        script_icons[name] = "".join(constants.get(p) or p.strip('"') for p in parts)
    template = (WIDGETS / "templates" / "icons.html").read_text(encoding="utf-8")
    template_icons = dict(re.findall(r'"([\w-]+)": "([^"]+)"', template))
    assert set(template_icons) == {"ai", "ai-generated", "ai-modified"}
    assert script_icons == template_icons


@pytest.mark.parametrize("name", sorted(p.name for p in WIDGETS.glob("*.js")))
def test_script_never_writes_html_strings(name: str) -> None:
    script = (WIDGETS / name).read_text(encoding="utf-8")
    for forbidden in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert forbidden not in script


def test_no_inline_styles_in_templates() -> None:
    for path in _templates():
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\sstyle\s*=", text), path
        assert "<style" not in text, path


# --- The stylesheet ------------------------------------------------------------------


def _luminance(hex_colour: str) -> float:
    value = hex_colour.lstrip("#")
    if len(value) == 3:
        value = "".join(c * 2 for c in value)
    channels = [int(value[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_default_palette_contrast() -> None:
    css = (WIDGETS / "ai-notice.css").read_text(encoding="utf-8")
    palette = dict(re.findall(r"--_(\w+): var\(--ai-notice-\w+, (#[0-9a-f]{3,6})\)", css))
    page = "#ffffff"
    for text in ("fg", "muted", "accent"):  # text, secondary text, links
        for background in ("bg", "surface"):
            assert contrast(palette[text], palette[background]) >= 4.5, (text, background)
    for ui in ("border", "accent", "focus"):  # borders, icons, focus ring: 3:1
        for background in (palette["bg"], palette["surface"], page):
            assert contrast(palette[ui], background) >= 3, (ui, background)


def test_stylesheet_uses_logical_directions() -> None:
    css = (WIDGETS / "ai-notice.css").read_text(encoding="utf-8")
    assert not re.search(r"(margin|padding)-(left|right)|text-align:\s*(left|right)|float:", css)
    # Only the chevron, which points down in both directions, uses physical sides.
    physical = re.findall(r"border-(?:left|right|top|bottom)\b", css)
    assert physical == ["border-right", "border-bottom"]


def test_stylesheet_handles_motion_forced_colours_and_print() -> None:
    css = (WIDGETS / "ai-notice.css").read_text(encoding="utf-8")
    transitions = css.index("transition")
    media = css.rindex("@media", 0, transitions)  # the at-rule the transition sits in
    assert css.startswith("@media (prefers-reduced-motion: no-preference)", media)
    inside = css[media:transitions]
    assert inside.count("{") - inside.count("}") == 2  # still open: the media block, the rule
    assert css.count("transition") == 1
    assert "@media (forced-colors: active)" in css
    assert "@media print" in css
    assert ":focus-visible" in css


def test_size_budget() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "widget_size.py")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "notice page" in result.stdout
    # Every module a page may load counts in some page's budget.
    bench = (ROOT / "bench" / "widget_size.py").read_text(encoding="utf-8")
    for module in WIDGETS.glob("*.js"):
        assert f'"{module.name}"' in bench, module.name


# --- render_notice -------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
def test_notice_renders_in_every_language(lang: str) -> None:
    html = notice(lang, page_language="fr")
    checker = check(html)
    strings = catalogs()[lang]
    hosts = checker.with_attr("data-ai-disclosure-notice")
    assert [name for name, _ in hosts] == ["ai-notice"]
    region = checker.all("section")
    assert len(region) == 1
    assert region[0]["aria-labelledby"]
    for key in ("title", "label_chatbot", "label_decision", "label_translation", "more"):
        assert strings(f"notice.{key}") in html, key
    assert strings("notice.register") in html
    assert not re.search(r"<h[1-6]", html)
    assert len(checker.all("details")) == 3
    assert len(checker.all("summary")) == 3
    assert 'role="status"' in html
    if lang != "fr":
        assert hosts[0][1]["lang"] == lang
        assert hosts[0][1]["dir"] == strings.dir
    block = re.search(
        r'<script type="application/json" data-ai-notice-strings>(.*?)</script>', html
    )
    assert block
    data = json.loads(block.group(1))
    assert data == {"lang": lang, "dir": strings.dir} | {
        key: strings(f"notice.{key}") for key in SCRIPT_KEYS
    }


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_inline_style_in_output(lang: str) -> None:
    for html in (notice(lang), render_head(MANIFEST, MANIFEST.systems, lang, nonce="n")):
        checker = check(html)
        assert not checker.with_attr("style")
        assert "<style" not in html


def test_no_systems_no_notice() -> None:
    assert notice(systems=()) == ""


@pytest.mark.usefixtures("arabic")
def test_lang_and_dir_only_when_they_differ_from_the_page() -> None:
    same = check(notice("fr", page_language="fr-FR")).with_attr("data-ai-disclosure-notice")
    assert "lang" not in same[0][1]
    assert "dir" not in same[0][1]
    other = check(notice("ar", page_language="fr")).with_attr("data-ai-disclosure-notice")
    assert other[0][1]["lang"] == "ar"
    assert other[0][1]["dir"] == "rtl"
    unknown = check(notice("en")).with_attr("data-ai-disclosure-notice")
    assert unknown[0][1]["lang"] == "en"
    assert unknown[0][1]["dir"] == "ltr"


@pytest.mark.usefixtures("arabic")
def test_text_missing_in_the_notice_language_falls_back_with_its_own_lang() -> None:
    html = notice("ar", page_language="ar")
    # The manifest has no Arabic text: French, marked as such inside the Arabic notice.
    assert '<span lang="fr" dir="ltr">Répondre à vos questions.</span>' in html
    english = notice("en", page_language="en")
    assert "Answers questions." in english
    assert '<span lang="fr" dir="ltr">Montpellier Méditerranée Métropole</span>' in english
    assert '<span lang="fr" dir="ltr">agents du service de l’eau</span>' in english
    french = notice("fr", page_language="fr")
    assert 'lang="' not in french


def test_unknown_language_falls_back_to_a_catalog_language() -> None:
    assert catalogs()["en"]("notice.title") in notice("en-GB")
    japanese = notice("ja", page_language="ja")  # not in the catalog
    assert catalogs()["fr"]("notice.title") in japanese
    assert 'lang="fr"' in japanese


def test_several_systems_make_one_notice_listing_each() -> None:
    html = notice("fr", systems=(TRANSLATION, LEAKS, CHATBOT, LEAKS))
    checker = check(html)
    assert len(checker.with_attr("data-ai-disclosure-notice")) == 1
    items = [
        attrs["data-ai-notice-system"] for _, attrs in checker.with_attr("data-ai-notice-system")
    ]
    # Each once, the chatbot first.
    assert items == [
        "montpellier-3m/tri-dechets",
        "montpellier-3m/traduction",
        "montpellier-3m/alertes-fuites",
    ]
    assert len(checker.all("ul")) >= 1
    assert checker.all("ul")[0].get("role") == "list"
    title = checker.all("p")[0]
    assert "ai-notice__vh" not in (title.get("class") or "")


def test_single_system_is_not_a_list() -> None:
    html = notice("fr", systems=(TRANSLATION,))
    checker = check(html)
    assert not [a for a in checker.all("ul") if "ai-notice__list" in (a.get("class") or "")]
    title = checker.all("p")[0]
    assert "ai-notice__vh" in (title.get("class") or "")  # named, not shown


@pytest.mark.parametrize(
    ("system", "key", "icon"),
    [
        (CHATBOT, "notice.label_chatbot", "ai-generated"),
        (LEAKS, "notice.label_decision", "ai"),
        (TRANSLATION, "notice.label_translation", "ai-modified"),
        (
            make_system("gen", Interaction.CONTENT_GENERATION, Origin.AI_ORIGINATED),
            "notice.label_ai_generated",
            "ai-generated",
        ),
        (
            make_system("mod", Interaction.OTHER, Origin.AI_MODIFIED),
            "notice.label_ai_modified",
            "ai-modified",
        ),
        (make_system("sup", Interaction.DECISION_SUPPORT, Origin.NONE), "notice.label_ai", "ai"),
    ],
)
def test_level_one_label_and_icon(system: System, key: str, icon: str) -> None:
    for lang in LANGUAGES:
        html = notice(lang, systems=(system,), manifest=make_manifest(system))
        assert f">{catalogs()[lang](key)}</strong>" in html
        assert f'data-ai-notice-icon="{icon}"' in html
        assert 'aria-hidden="true"' in html


def test_chatbot_label_and_never_collapsible() -> None:
    html = notice("fr", systems=(CHATBOT,))
    assert "Vous échangez avec une IA" in html
    assert "data-ai-notice-pinned" in html
    assert "data-ai-notice-collapse" not in html
    assert "data-ai-notice-expand" not in html
    assert "You are talking to an AI" in notice("en", systems=(CHATBOT,))
    others = notice("fr", systems=(LEAKS,))
    assert "data-ai-notice-pinned" not in others
    assert others.count("data-ai-notice-collapse hidden") == 1
    assert others.count("data-ai-notice-expand hidden") == 1


def test_level_two_panel() -> None:
    html = notice("fr", systems=(CHATBOT, LEAKS))
    strings = catalogs()["fr"]
    for key in ("purpose", "review", "responsible", "data", "recourse"):
        assert f"<dt>{strings(f'notice.{key}')}</dt>" in html
    assert strings("notice.review_no") in html
    assert strings("notice.review_yes") in html
    assert "Vérification assurée par\u00a0: agents du service de l’eau" in html
    assert "Montpellier Méditerranée Métropole" in html
    assert '<a href="mailto:ia@montpellier3m.fr">ia@montpellier3m.fr</a>' in html
    assert "<li>Guide du tri</li>" in html
    assert "Appelez le 04 67 00 00 00." in html
    assert strings("notice.recourse_default") in html  # the leak alerts state no recourse


def test_register_link_keeps_the_notice_language() -> None:
    html = notice("fr", systems=(CHATBOT,))
    entry = "https://registre.example.org/systems/montpellier-3m/tri-dechets"
    assert f'href="{entry}?lang=fr"' in html
    assert f'href="{entry}?lang=en"' in notice("en-GB", systems=(CHATBOT,))
    own = make_system("own", register_url="https://example.org/fiche?id=own&lang=de#top")
    assert 'href="https://example.org/fiche?id=own&amp;lang=en#top"' in notice(
        "en", systems=(own,), manifest=make_manifest(own)
    )
    bare = make_manifest(CHATBOT, register_url=None)
    # Without a register, the link opens the service's own declaration: said so.
    assert "Déclaration complète de ce service" in notice("fr", systems=(CHATBOT,), manifest=bare)
    assert "Déclaration complète" not in html
    assert 'href="/.well-known/ai-disclosure?lang=fr#tri-dechets"' in notice(
        "fr", systems=(CHATBOT,), manifest=bare
    )


@pytest.mark.parametrize(
    ("contact", "expected"),
    [
        ("ia@montpellier3m.fr", '<a href="mailto:ia@montpellier3m.fr">ia@montpellier3m.fr</a>'),
        ("04 67 00 00 00", '<a href="tel:0467000000">04 67 00 00 00</a>'),
        ("https://example.org/contact", '<a href="https://example.org/contact">'),
        ("mailto:ia@example.org", '<a href="mailto:ia@example.org">ia@example.org</a>'),
        ("javascript:alert(1)", "<br>\njavascript:alert(1)</dd>"),
        ("Hôtel de Métropole, guichet 3", "<br>\nHôtel de Métropole, guichet 3</dd>"),
    ],
)
def test_contact_forms(contact: str, expected: str) -> None:
    manifest = make_manifest(LEAKS, contact=contact)
    html = notice("fr", systems=(LEAKS,), manifest=manifest)
    assert expected in html
    assert 'href="javascript' not in html


HOSTILE = '<script>alert("x")</script><!-- "quoted" & \'single\' </script>'


def test_manifest_strings_are_escaped() -> None:
    system = make_system(
        "hostile",
        name={"fr": HOSTILE},
        purpose={"fr": HOSTILE},
        data_sources=({"fr": HOSTILE},),
        recourse={"fr": HOSTILE},
        by=HOSTILE,
        reviewed=True,
        register_url='javascript:alert("x")',
    )
    manifest = make_manifest(system, operator=HOSTILE, contact=f"{HOSTILE}@x.org", name=HOSTILE)
    html = render_notice(manifest, [system], "en", page_language="en")
    checker = check(html)
    assert "<script>" not in html
    assert "<!--" not in html
    assert html.count("</script>") == 1  # the JSON block's own end tag
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "&#39;single&#39;" in html
    assert not [attrs for attrs in checker.all("a") if "javascript" in (attrs.get("href") or "")]
    head = render_head(manifest, [system], "fr")
    check(head)
    assert head.count("</script>") == 2
    assert "<!--" not in head


def test_json_ld_escapes_script_breakers() -> None:
    manifest = make_manifest(CHATBOT, name=HOSTILE, operator="A & B <b>")
    head = render_head(manifest, [CHATBOT], "fr")
    match = re.search(r'<script type="application/ld\+json">(.*?)</script>', head, re.S)
    assert match
    payload = match.group(1)
    for char in "<>&":
        assert char not in payload
    assert "\\u003c/script\\u003e" in payload
    data = json.loads(payload)
    assert data["isPartOf"]["name"] == HOSTILE
    assert data["publisher"]["name"] == "A & B <b>"


def test_json_for_html() -> None:
    text = json_for_html({"a": "</script><!--\u2028&"})
    assert text == '{"a":"\\u003c/script\\u003e\\u003c!--\\u2028\\u0026"}'
    assert json.loads(text) == {"a": "</script><!--\u2028&"}


# --- render_head ---------------------------------------------------------------------


def test_head() -> None:
    head = render_head(MANIFEST, [CHATBOT], "fr", nonce='n"1')
    checker = check(head)
    meta = checker.all("meta")
    assert meta == [{"name": "ai-disclosure", "content": "ai-autonomous"}]
    assert checker.all("link") == [
        {"rel": "stylesheet", "href": "/.well-known/ai-disclosure/ai-notice.css"}
    ]
    scripts = checker.all("script")
    assert scripts[0] == {"type": "application/ld+json"}
    assert scripts[1] == {
        "type": "module",
        "src": "/.well-known/ai-disclosure/ai-notice.js",
        "nonce": 'n"1',
    }
    assert 'nonce="n&#34;1"' in head
    data = json.loads(re.findall(r">(\{.*?\})</script>", head)[0])
    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "WebPage"
    assert data["inLanguage"] == "fr"
    assert data["digitalSourceType"] == (
        "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
    )


def test_head_combines_systems_and_takes_a_prefix() -> None:
    head = render_head(MANIFEST, [LEAKS], "fr", asset_prefix="/static/ai/")
    assert '<meta name="ai-disclosure" content="ai-assisted">' in head
    assert "algorithmicMedia" in head
    assert 'href="/static/ai/ai-notice.css"' in head
    assert 'src="/static/ai/ai-notice.js"' in head
    assert "nonce" not in head
    strongest = render_head(MANIFEST, [LEAKS, TRANSLATION], "fr")
    assert 'content="ai-autonomous"' in strongest
    assert "compositeWithTrainedAlgorithmicMedia" in strongest
    assert 'content="human-only"' in render_head(MANIFEST, [], "fr")


def test_the_meta_names_the_model_and_provider_only_when_one_system_speaks() -> None:
    mistral = make_system("a", model="mistral-small", provider="Mistral AI")
    other = make_system("b", Interaction.TRANSLATION, Origin.AI_MODIFIED, model="m2")
    triage = make_system("c", Interaction.DECISION_SUPPORT, Origin.NONE, model="camembert")
    manifest = make_manifest(mistral, other, triage)
    assert check(render_head(manifest, [mistral, triage], "fr")).all("meta") == [
        {
            "name": "ai-disclosure",
            "content": "ai-autonomous",
            "ai-model": "mistral-small",
            "ai-provider": "Mistral AI",
        }
    ]
    assert check(render_head(manifest, [mistral, other], "fr")).all("meta") == [
        {"name": "ai-disclosure", "content": "ai-autonomous"}
    ]
    assert check(render_head(manifest, [triage], "fr")).all("meta") == [
        {"name": "ai-disclosure", "content": "human-only"}
    ]


# --- Languages ----------------------------------------------------------------------


# --- jinja2 integration -------------------------------------------------------------


def test_install_jinja_globals() -> None:
    env = jinja2.Environment(autoescape=True)
    install_jinja_globals(env, MANIFEST, asset_prefix="/assets")
    template = env.from_string(
        "<head>{{ ai_disclosure_head(['tri-dechets'], 'fr', nonce='abc') }}</head>"
        "<main>{{ ai_disclosure_notice(['tri-dechets', systems[0]], 'fr', page_language='fr') }}"
        "</main>"
    )
    html = template.render(systems=[LEAKS])
    check(html)
    assert 'href="/assets/ai-notice.css"' in html
    assert 'nonce="abc"' in html
    assert "Vous échangez avec une IA" in unescape(html)  # a reference: the page stays ASCII
    assert 'data-ai-notice-system="montpellier-3m/alertes-fuites"' in html
    assert "&lt;" not in html  # not escaped twice
    with pytest.raises(KeyError, match="unknown"):
        env.from_string("{{ ai_disclosure_notice(['unknown'], 'fr') }}").render()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_reviewed_translation_is_never_said_to_be_automatic(lang: str) -> None:
    reviewed = make_system(
        "traduction-relue", Interaction.TRANSLATION, Origin.AI_MODIFIED, reviewed=True, by="X"
    )
    html = render_notice(make_manifest(reviewed), [reviewed], lang)
    strings = catalogs()[lang]
    assert strings("notice.label_translation_reviewed") in html
    assert strings("notice.label_translation") not in html
    assert "automat" not in strings("notice.label_translation_reviewed").lower()
