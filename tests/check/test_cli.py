"""``ai-disclosure check`` as people run it: arguments, output, exit codes."""

from __future__ import annotations

import argparse
import functools
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable

import pytest

from ai_disclosure import cli as cli_package
from ai_disclosure.check import audit
from ai_disclosure.cli import check as check_command

from ..servers import ROOT
from .conftest import LocalOnly, Servers

Run = Callable[..., int]

#: ``check`` as a subcommand of a parser of its own, until ``cli/__init__.py``
#: registers it; then the real entry point.
_REGISTERED = check_command in getattr(cli_package, "_COMMANDS", ())
_TINY_CLI = (
    "import argparse, sys\n"
    "from ai_disclosure.cli import check\n"
    "parser = argparse.ArgumentParser(prog='ai-disclosure')\n"
    "check.register(parser.add_subparsers())\n"
    "args = parser.parse_args(sys.argv[1:])\n"
    "sys.exit(args.run(args))\n"
)


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> Run:
    """Run ``check ARGS`` in this process, every request held to 127.0.0.1."""
    monkeypatch.setattr(check_command, "audit", functools.partial(audit, transport=LocalOnly()))
    parser = argparse.ArgumentParser(prog="ai-disclosure")
    check_command.register(parser.add_subparsers())

    def run(*args: str) -> int:
        namespace = parser.parse_args(["check", *args])
        code: int = namespace.run(namespace)
        return code

    return run


def test_the_demo_passes_exit_0(
    cli: Run, servers: Servers, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(servers["demo"], "--delay", "0") == 0
    captured = capsys.readouterr()
    assert re.search(r"\b(\d+) pages: \1 pass, 0 warn, 0 fail, 0 no AI declared\n", captured.out)
    assert "Failures and warnings" not in captured.out
    # Not a terminal: plain progress lines, no carriage returns.
    assert f"checking 1/50 {servers['demo']}/\n" in captured.err
    assert "\r" not in captured.err


def test_failures_are_listed_below_the_table_exit_1(
    cli: Run, servers: Servers, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(servers["meta_mismatch"], "--delay", "0") == 1
    out = capsys.readouterr().out
    assert "  ✗ /ai  meta: meta says human-only but header mode=ai-originated" in out


def test_json_output(cli: Run, servers: Servers, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(servers["no_notice"], "--json", "--delay", "0", "--max-depth", "1") == 1
    data = json.loads(capsys.readouterr().out)
    assert data["exit_code"] == 1
    (site,) = data["sites"]
    assert site["origin"] == servers["no_notice"]
    pages = {page["url"]: page for page in site["pages"]}
    ai = pages[servers["no_notice"] + "/ai"]
    assert ai["verdict"] == "fail"
    assert ai["checks"]["notice"]["status"] == "fail"
    assert ai["checks"]["notice"]["reason"].startswith("no human-readable notice")
    assert set(ai["checks"]) == {
        "header",
        "meta",
        "notice",
        "language",
        "labels",
        "register",
        "manifest",
    }
    assert data["summary"]["verdicts"]["fail"] == 1


def test_a_site_without_ai_exits_0_unless_strict(
    cli: Run, servers: Servers, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(servers["no_ai"], "--delay", "0") == 0
    out = capsys.readouterr().out
    assert "3 pages: 0 pass, 0 warn, 0 fail, 3 no AI declared" in out
    row = next(line for line in out.splitlines() if line.strip().startswith("/piscine "))
    assert row.split()[:3] == ["/piscine", "200", "nothing"]
    assert "Failures and warnings" not in out

    assert cli(servers["no_ai"], "--delay", "0", "--strict", "--json") == 1
    data = json.loads(capsys.readouterr().out)
    assert data["strict"] is True
    assert data["exit_code"] == 1
    assert data["summary"]["declarations"] == {"ai": 0, "no-ai": 0, "undeclared": 3}
    assert data["summary"]["verdicts"]["fail"] == 3
    assert {page["declaration"] for page in data["sites"][0]["pages"]} == {"undeclared"}


def test_unreachable_start_url_exit_2(
    cli: Run, closed_port: int, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(f"http://127.0.0.1:{closed_port}/", "--json") == 2
    captured = capsys.readouterr()
    assert "unreachable: ConnectError" in captured.err
    assert json.loads(captured.out)["summary"]["unreachable"] == 1


@pytest.mark.parametrize(
    "args",
    [
        ["ftp://127.0.0.1/"],
        ["http://127.0.0.1:99999/"],
    ],
)
def test_bad_urls_are_usage_errors(
    cli: Run, args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(*args) == 2
    assert "ai-disclosure check: error:" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["http://127.0.0.1/", "--max-pages", "0"],
        ["http://127.0.0.1/", "--max-depth", "-1"],
        ["http://127.0.0.1/", "--delay", "soon"],
        ["http://127.0.0.1/", "--timeout", "0"],
    ],
)
def test_bad_options_exit_2(cli: Run, args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        cli(*args)
    assert caught.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_a_scheme_is_assumed() -> None:
    assert check_command._start_url("ville.example/page") == "https://ville.example/page"
    assert check_command._start_url("http://127.0.0.1:8000/") == "http://127.0.0.1:8000/"


def test_as_a_subprocess(servers: Servers) -> None:
    command = ["-m", "ai_disclosure.cli"] if _REGISTERED else ["-c", _TINY_CLI]
    url = servers["register_404"]
    environment = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    result = subprocess.run(
        [sys.executable, *command, "check", url, "--json", "--delay", "0", "--timeout", "5"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=environment,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    data = json.loads(result.stdout)
    (site,) = data["sites"]
    failing = {
        page["url"].removeprefix(url): page["checks"]["register"]["reason"]
        for page in site["pages"]
        if page["verdict"] == "fail"
    }
    assert failing == {
        "/ai": f"register link {servers['register']}/gone answered 404",
        "/ai-again": f"register link {servers['register']}/gone answered 404",
    }
    assert f"checking 1/50 {url}/" in result.stderr
