"""The ``ai-disclosure`` command line, run as users run it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ai_disclosure import __version__
from ai_disclosure.cli import main

from .conftest import EXAMPLE_MANIFEST, MINIMAL_MANIFEST


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["--version"])
    assert caught.value.code == 0
    assert capsys.readouterr().out.strip() == f"ai-disclosure {__version__}"


def test_no_command_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "validate" in capsys.readouterr().err


def test_validate_valid_manifests(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(EXAMPLE_MANIFEST), str(MINIMAL_MANIFEST)]) == 0
    out = capsys.readouterr().out
    assert f"{EXAMPLE_MANIFEST}: valid - service 'demarches', 4 AI systems" in out
    assert f"{MINIMAL_MANIFEST}: valid" in out


def test_validate_lists_every_error_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = json.loads(MINIMAL_MANIFEST.read_text(encoding="utf-8"))
    data["systems"][0]["origin"] = "generated"
    data["routes"][0]["systems"] = ["ghost"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data), encoding="utf-8")
    assert main(["validate", str(MINIMAL_MANIFEST), str(bad)]) == 1
    captured = capsys.readouterr()
    assert f"{MINIMAL_MANIFEST}: valid" in captured.out
    assert f"{bad}: 2 problems" in captured.err
    assert f"{bad}#/systems/0/origin: 'generated' is not allowed" in captured.err
    assert f"{bad}#/routes/0/systems/0: unknown system 'ghost'" in captured.err


def test_validate_warns_when_citizens_get_no_register_entry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = json.loads(MINIMAL_MANIFEST.read_text(encoding="utf-8"))
    second = dict(data["systems"][0], id="traduction")
    own = dict(data["systems"][0], id="fiche-propre", register_url="https://example.org/fiche")
    data["systems"] += [second, own]
    path = tmp_path / "sans-registre.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert main(["validate", str(path)]) == 0  # a warning, not an error
    captured = capsys.readouterr()
    assert f"{path}: valid" in captured.out
    assert "warning" not in captured.out
    [warning] = [line for line in captured.err.splitlines() if "warning" in line]
    assert warning.startswith(f"{path}: warning - no register_url for ")
    assert "'assistant-dechets', 'traduction':" in warning  # which systems
    assert "fiche-propre" not in warning  # it has its own entry
    assert "declaration page (/.well-known/ai-disclosure)" in warning  # what people get
    assert 'register_url = "https://registre.example/' in warning  # the fix
    assert "under [service]" in warning


def test_validate_is_quiet_when_every_system_has_a_register_entry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", str(EXAMPLE_MANIFEST)]) == 0  # service-level register_url
    assert capsys.readouterr().err == ""
    data = json.loads(MINIMAL_MANIFEST.read_text(encoding="utf-8"))
    data["systems"][0]["register_url"] = "https://example.org/fiche"
    path = tmp_path / "fiche.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert main(["validate", str(path)]) == 0
    assert capsys.readouterr().err == ""


def test_console_script_runs_as_a_module() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ai_disclosure.cli", "validate", str(EXAMPLE_MANIFEST)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "valid" in result.stdout
