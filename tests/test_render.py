"""``ai-disclosure render``: the notice and its head fragment for static sites."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest

from ai_disclosure._manifest import load_manifest
from ai_disclosure._notice import render_head, render_notice
from ai_disclosure.cli import main
from ai_disclosure.cli.render import HEAD_FILE, NOTICE_FILE

from .conftest import EXAMPLE_MANIFEST

MANIFEST = load_manifest(EXAMPLE_MANIFEST)
PAGE = (
    "<!doctype html><html lang={lang}><head><title>Tri</title></head><body>"
    "<header>Montpellier</header><!--ai-disclosure-notice--><main><h1>Tri</h1></main></body></html>"
)


class _Systems(HTMLParser):
    """The systems a notice lists, and its lang attribute."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.systems: list[str] = []
        self.lang: str | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "ai-notice":
            self.lang = found.get("lang")
        if "data-ai-notice-system" in found:
            self.systems.append((found["data-ai-notice-system"] or "").rpartition("/")[2])


def render(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["render", "--manifest", str(EXAMPLE_MANIFEST), *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_prints_the_head_fragment_then_the_notice(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = render(capsys, "--system", "assistant-dechets", "--lang", "en")
    assert code == 0
    system = [MANIFEST.system("assistant-dechets")]
    head, notice = render_head(MANIFEST, system, "en"), render_notice(MANIFEST, system, "en")
    assert out == f"{head}\n{notice}\n"
    assert _Systems(out).systems == ["assistant-dechets"]
    assert _Systems(out).lang == "en"


def test_every_system_by_default_in_the_services_language(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = render(capsys)
    assert code == 0
    assert len(_Systems(out).systems) == len(MANIFEST.systems)
    assert _Systems(out).lang == MANIFEST.service.default_language


def test_a_route_gives_its_rules_systems(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = render(capsys, "--route", "/eau/alertes/quartier", "--asset-prefix", "/ia/")
    assert code == 0
    assert _Systems(out).systems == ["detection-fuites"]
    assert 'href="/ia/ai-notice.css"' in out
    assert 'src="/ia/ai-notice.js"' in out


def test_out_writes_two_partials(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = render(capsys, "--system", "tri-courrier", "--out", str(tmp_path / "partials"))
    assert code == 0
    head = (tmp_path / "partials" / HEAD_FILE).read_text(encoding="utf-8")
    notice = (tmp_path / "partials" / NOTICE_FILE).read_text(encoding="utf-8")
    assert head.startswith('<meta name="ai-disclosure"')
    assert _Systems(notice).systems == ["tri-courrier"]
    assert HEAD_FILE in out


def test_into_built_pages_at_the_placeholder_in_each_pages_language(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    fr, en = tmp_path / "fr.html", tmp_path / "en.html"
    fr.write_text(PAGE.format(lang="fr"), encoding="utf-8")
    en.write_text(PAGE.format(lang="en"), encoding="utf-8")
    args = ("--system", "tri-courrier", "--position", "placeholder", "--into", str(fr), str(en))
    code, out, _ = render(capsys, *args)
    assert code == 0
    assert out.count("notice inserted (placeholder)") == 2
    page = en.read_text(encoding="utf-8")
    head_at, notice_at = page.index('<meta name="ai-disclosure"'), page.index("<ai-notice")
    assert head_at < page.index("</head>")
    assert page.index("<!--ai-disclosure-notice-->") < notice_at < page.index("<main>")
    notice = page[notice_at : page.index("</ai-notice>")]
    assert _Systems(notice).lang is None  # in the page's own language: no lang of its own
    system = [MANIFEST.system("tri-courrier")]
    assert render_notice(MANIFEST, system, "en", page_language="en") in page
    assert render_notice(MANIFEST, system, "fr", page_language="fr") in fr.read_text("utf-8")


def test_a_page_with_a_notice_is_left_unchanged(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    page = tmp_path / "done.html"
    page.write_text(PAGE.format(lang="fr"), encoding="utf-8")
    assert render(capsys, "--into", str(page))[0] == 0
    once = page.read_bytes()
    code, _, err = render(capsys, "--into", str(page))
    assert code == 1
    assert page.read_bytes() == once
    assert f"{page}: left unchanged" in err


def test_an_unknown_system_or_route_names_what_exists(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = render(capsys, "--system", "nope")
    assert (code, out) == (1, "")
    assert "no AI system 'nope'" in err
    assert "known: assistant-dechets" in err
    code, _, err = render(capsys, "--route", "/nowhere")
    assert code == 1
    assert "matches '/nowhere'" in err
    assert "/courrier*" in err


def test_an_invalid_manifest_names_the_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[service]\nid = 3\n", encoding="utf-8")
    assert main(["render", "--manifest", str(bad)]) == 1
    assert str(bad) in capsys.readouterr().err


def test_routes_follow_the_notice_for_single_page_apps(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, _ = render(capsys, "--routes")
    assert code == 0
    notice_end = out.index("</ai-notice>")
    assert out.index("<script type=application/json data-ai-notice-routes>") > notice_end
    page = tmp_path / "app.html"
    page.write_text(PAGE.format(lang="fr"), encoding="utf-8")
    assert render(capsys, "--routes", "--into", str(page))[0] == 0
    assert "data-ai-notice-routes" in page.read_text(encoding="utf-8")
