"""The table people read and the JSON machines parse."""

from __future__ import annotations

import io
import json

from ai_disclosure.check.progress import LineProgress, TerminalProgress, progress_for
from ai_disclosure.check.report import ASCII_SYMBOLS, SYMBOLS, render_table, symbols_for, to_json
from ai_disclosure.check.results import (
    Declaration,
    PageReport,
    RunReport,
    SiteReport,
    Skipped,
    Status,
    Verdict,
)
from ai_disclosure.check.rules import CHECKS

ORIGIN = "https://ville.example"


def _page(path: str, declaration: Declaration = Declaration.AI, **statuses: Status) -> PageReport:
    checks = {name: Verdict(statuses.get(name, Status.PASS), f"{name} reason") for name in CHECKS}
    return PageReport(ORIGIN + path, 1, 200, "text/html", checks, declaration)


_QUIET = dict.fromkeys(("header", "meta", "notice", "language", "labels", "register"), Status.NA)


REPORT = RunReport(
    (
        SiteReport(
            start_url=ORIGIN + "/",
            origin=ORIGIN,
            pages=(
                _page("/"),
                _page("/ai", meta=Status.FAIL, language=Status.WARN),
                _page("/api?q=" + "x" * 80, notice=Status.NA),
                _page("/piscine", Declaration.UNDECLARED, **_QUIET),
                _page("/horaires", Declaration.NO_AI, **_QUIET),
            ),
            skipped=(Skipped(ORIGIN + "/private", "disallowed by robots.txt"),),
            unvisited=3,
            robots="robots.txt read (HTTP 200)",
            manifest_url=ORIGIN + "/.well-known/ai-disclosure",
            manifest_state="invalid",
            manifest_reason="manifest invalid: 1 problem at /systems/0/origin",
            manifest_problems=(("/systems/0/origin", "'robotic' is not allowed"),),
        ),
        SiteReport("https://down.example/", "https://down.example", error="unreachable"),
    )
)


def test_json_structure() -> None:
    data = json.loads(json.dumps(to_json(REPORT)))
    assert data["format"] == 1
    assert data["checks"] == list(CHECKS)
    assert data["strict"] is False
    assert data["exit_code"] == 2
    assert data["summary"]["sites"] == 2
    assert data["summary"]["unreachable"] == 1
    assert data["summary"]["pages"] == 5
    assert data["summary"]["verdicts"] == {
        "pass": 3,
        "warn": 0,
        "fail": 1,
        "n/a": 0,
        "undeclared": 1,
    }
    assert data["summary"]["declarations"] == {"ai": 3, "no-ai": 1, "undeclared": 1}
    assert data["summary"]["checks"]["meta"] == {"pass": 2, "warn": 0, "fail": 1, "n/a": 2}
    site, down = data["sites"]
    assert down["error"] == "unreachable"
    assert down["pages"] == []
    assert site["manifest"] == {
        "url": ORIGIN + "/.well-known/ai-disclosure",
        "state": "invalid",
        "reason": "manifest invalid: 1 problem at /systems/0/origin",
        "problems": [{"pointer": "/systems/0/origin", "message": "'robotic' is not allowed"}],
    }
    assert site["skipped"] == [{"url": ORIGIN + "/private", "reason": "disallowed by robots.txt"}]
    assert site["unvisited"] == 3
    assert site["summary"] == {
        "pages": 5,
        "pass": 3,
        "warn": 0,
        "fail": 1,
        "n/a": 0,
        "undeclared": 1,
        "declarations": {"ai": 3, "no-ai": 1, "undeclared": 1},
    }
    page = site["pages"][1]
    assert page["url"] == ORIGIN + "/ai"
    assert page["declaration"] == "ai"
    assert page["verdict"] == "fail"
    quiet = site["pages"][3]
    assert (quiet["declaration"], quiet["verdict"]) == ("undeclared", "undeclared")
    assert site["pages"][4]["verdict"] == "pass"
    assert page["http_status"] == 200
    assert page["checks"]["meta"] == {"status": "fail", "reason": "meta reason"}
    assert page["checks"]["language"]["status"] == "warn"


def test_table() -> None:
    text = render_table(REPORT)
    lines = text.splitlines()
    assert lines[0] == f"{ORIGIN}  (from {ORIGIN}/)"
    header = next(line for line in lines if line.strip().startswith("Page"))
    assert header.split() == [
        "Page",
        "HTTP",
        "Declares",
        "Header",
        "Meta",
        "Notice",
        "Lang",
        "Labels",
        "Register",
        "Manifest",
    ]
    row = next(line for line in lines if line.strip().startswith("/ai "))
    assert row.split() == ["/ai", "200", "AI", "✓", "✗", "✓", "!", "✓", "✓", "✓"]
    quiet = next(line for line in lines if line.strip().startswith("/piscine "))
    assert quiet.split() == ["/piscine", "200", "nothing", "–", "–", "–", "–", "–", "–", "✓"]
    no_ai = next(line for line in lines if line.strip().startswith("/horaires "))
    assert no_ai.split()[2:4] == ["no", "AI"]
    assert "  ✗ /ai  meta: meta reason" in lines
    assert "  ! /ai  language: language reason" in lines
    assert "    /systems/0/origin: 'robotic' is not allowed" in lines
    assert "  – /private  disallowed by robots.txt" in lines
    assert "  URLs found beyond the depth or page limit: 3" in lines
    assert "  ✗ not audited: unreachable" in lines
    long_row = next(line for line in lines if "/api?q=" in line)
    assert "…" in long_row
    assert "  5 pages: 3 pass, 0 warn, 1 fail, 1 no AI declared" in lines
    assert lines[-1].startswith("2 sites, 5 pages: 3 pass, 0 warn, 1 fail, 1 no AI declared.")
    assert "Strict" not in lines[-1]
    strict = render_table(RunReport(REPORT.sites, strict=True)).splitlines()
    assert strict[-1].endswith(" Strict: pages that declare nothing fail.")


def test_symbols_fall_back_to_ascii() -> None:
    assert symbols_for("utf-8") is SYMBOLS
    assert symbols_for("ascii") is ASCII_SYMBOLS
    assert symbols_for("not-a-codec") is ASCII_SYMBOLS
    text = render_table(REPORT, ASCII_SYMBOLS)
    row = next(line for line in text.splitlines() if line.strip().startswith("/ai "))
    assert row.split() == ["/ai", "200", "AI", "ok", "X", "ok", "!", "ok", "ok", "ok"]


def test_progress_on_a_terminal_and_elsewhere() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty = Tty()
    live = progress_for(tty)
    assert isinstance(live, TerminalProgress)
    live.fetching(ORIGIN, 2, 50, ORIGIN + "/ai")
    live.finished()
    assert tty.getvalue() == f"\r\x1b[Kchecking 2/50 {ORIGIN}/ai\r\x1b[K"
    pipe = io.StringIO()
    plain = progress_for(pipe)
    assert isinstance(plain, LineProgress)
    plain.fetching(ORIGIN, 1, 50, ORIGIN + "/")
    plain.finished()
    assert pipe.getvalue() == f"checking 1/50 {ORIGIN}/\n"
