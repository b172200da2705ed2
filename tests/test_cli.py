"""The ``ai-disclosure`` command line, run as users run it."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import ai_disclosure.cli as cli_package
from ai_disclosure import __version__
from ai_disclosure.cli import main
from ai_disclosure.cli.registry import ENVIRONMENT

from .conftest import EXAMPLE_MANIFEST, MINIMAL_MANIFEST
from .servers import free_port, wait_until_up


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


# --- the registry commands as the README tells newcomers to run them ---------------------

README = Path(__file__).resolve().parent.parent / "README.md"


def _step_3_blocks() -> list[str]:
    text = README.read_text(encoding="utf-8")
    step = text.split("**3. Run the register**", 1)[1].split("**4. ", 1)[0]
    return re.findall(r"```sh\n(.*?)```", step, flags=re.DOTALL)


def test_every_environment_variable_is_named_in_help_and_readme(
    capsys: pytest.CaptureFixture[str],
) -> None:
    source = "".join(
        p.read_text(encoding="utf-8") for p in Path(cli_package.__file__).parent.glob("*.py")
    )
    used = set(re.findall(r"\bAI_DISCLOSURE_[A-Z_]+\b", source))
    named = {name for name, _ in ENVIRONMENT}
    assert used == named, "every variable the command line reads is in ENVIRONMENT"
    with pytest.raises(SystemExit):
        main(["--help"])
    top = capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["registry", "--help"])
    registry_help = capsys.readouterr().out
    readme = README.read_text(encoding="utf-8")
    for name in named:
        assert name in top
        assert name in registry_help
        assert f"`{name}`" in readme


def test_readme_step_3_works_as_written(tmp_path: Path) -> None:
    """The two blocks, run by bash as a newcomer pastes them; only the port is changed,
    to one that is free here."""
    server, client = _step_3_blocks()
    port = free_port()
    server = server.replace("registry serve", f"registry serve --port {port}")
    client = client.replace("8400", str(port))
    shutil.copy(EXAMPLE_MANIFEST, tmp_path / "ai-disclosure.toml")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AI_DISCLOSURE_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    process = subprocess.Popen(
        ["bash", "-ec", server],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # bash and the server it runs, stopped together
    )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/", process)
        result = subprocess.run(
            ["bash", "-ec", client],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        if process.stdout:
            process.stdout.close()
    assert result.returncode == 0, result.stderr
    assert "published as version 1" in result.stdout
    assert "batch" in result.stdout
    assert "stored (nothing counted)" in result.stdout
    assert f"written to sqlite+aiosqlite:///{tmp_path}/ai-disclosure-registry.sqlite3" in (
        result.stderr
    )
    assert "aidr_" not in result.stdout + result.stderr  # the token went to the variable only


@pytest.mark.parametrize(
    ("token", "says"),
    [("", "give the service's token"), ("aidr_abc def", "cannot")],
)
def test_proxy_refuses_a_missing_or_broken_token_in_one_line(
    token: str, says: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AI_DISCLOSURE_REGISTRY_TOKEN", token)
    code = main(["proxy", "--upstream", "http://127.0.0.1:9", "--manifest", str(EXAMPLE_MANIFEST),
                 "--registry", "http://127.0.0.1:9"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1
    assert says in err
    assert len(err.strip().splitlines()) == 1
    assert not token or token not in err
