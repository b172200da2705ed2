"""docs/widget.md documents every API of the script and every custom property of
the stylesheet, read from the sources; the type declarations declare every export."""

from __future__ import annotations

import re

import pytest

from .conftest import ROOT

WIDGETS = ROOT / "widgets"
DOC = (ROOT / "docs" / "widget.md").read_text(encoding="utf-8")
#: The package's public modules (package.json "exports"): the others are loaded by them.
PUBLIC = ("ai-notice.js", "ai-notice-core.js")


def exports(module: str) -> set[str]:
    source = (WIDGETS / module).read_text(encoding="utf-8")
    names = set(re.findall(r"^export (?:const|function|class) (\w+)", source, re.M))
    for group in re.findall(r"^export \{([^}]*)\}", source, re.M):
        names |= {name.strip() for name in group.split(",") if name.strip()}
    return names


def global_api() -> set[str]:
    source = (WIDGETS / "ai-notice.js").read_text(encoding="utf-8")
    match = re.search(r"window\.AIDisclosure = Object\.freeze\(\{([^}]*)\}\)", source)
    assert match is not None
    return {name.strip() for name in match[1].split(",")}


def custom_properties() -> set[str]:
    css = "".join(p.read_text(encoding="utf-8") for p in WIDGETS.glob("*.css"))
    return set(re.findall(r"var\((--ai-notice-[\w-]+)", css))


def test_the_sources_are_read() -> None:
    assert {"mark", "watchFetch", "unwatchFetch", "parseDisclosure"} <= global_api()
    assert "catalogChain" in exports("ai-notice-core.js")
    assert len(custom_properties()) >= 12


@pytest.mark.parametrize("name", sorted(global_api()))
def test_every_global_api_has_its_heading(name: str) -> None:
    assert re.search(rf"^### `AIDisclosure\.{name}\(", DOC, re.M), name


@pytest.mark.parametrize("module", PUBLIC)
def test_every_export_is_documented_and_declared(module: str) -> None:
    declarations = (WIDGETS / module.replace(".js", ".d.ts")).read_text(encoding="utf-8")
    for name in exports(module):
        assert f"`{name}(" in DOC or f"AIDisclosure.{name}(" in DOC, name
        assert re.search(rf"\b(function|const) {name}\b|\{{ {name} \}}", declarations), name


@pytest.mark.parametrize("prop", sorted(custom_properties()))
def test_every_custom_property_is_in_the_table(prop: str) -> None:
    assert re.search(rf"^\| `{prop}` \|", DOC, re.M), prop


def test_every_render_option_is_documented() -> None:
    source = (ROOT / "src" / "ai_disclosure" / "cli" / "render.py").read_text(encoding="utf-8")
    options = re.findall(r'"(--[a-z-]+)"', source)
    assert len(options) >= 10
    for option in options:
        assert f"`{option}" in DOC, option


def test_every_attribute_the_element_reads_is_documented() -> None:
    source = "".join(p.read_text(encoding="utf-8") for p in WIDGETS.glob("*.js"))
    read = set(re.findall(r'\b(?:this|host)\.(?:has|get)Attribute\("([\w-]+)"\)', source))
    assert "src" in read
    for attribute in read:
        assert f"| `{attribute}` |" in DOC, attribute
    for block in set(re.findall(r"script\[(data-ai-notice-[\w-]+)\]", source)):
        assert block in DOC, block


def test_the_modules_the_docs_list_are_the_widgets_files() -> None:
    listed = set(re.findall(r"^\| `([\w./<>-]+)` \| .* \| .* \|$", DOC, re.M))
    files = {p.name for p in WIDGETS.glob("*.js")} | {"ai-notice.css", "i18n/<lang>.json"}
    assert files <= listed
