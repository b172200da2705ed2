"""The wheel carries schemas/ and widgets/: build it, install it in a fresh venv, use it."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

from .conftest import ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    built = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel_file,) = out.glob("ai_disclosure-*.whl")
    return wheel_file


def test_wheel_contains_the_data_folders_and_type_marker(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "ai_disclosure/py.typed" in names
    assert "ai_disclosure/schemas/manifest.schema.json" in names
    assert "ai_disclosure/schemas/disclosure-batch.schema.json" in names
    assert "ai_disclosure/widgets/ai-notice.css" in names
    assert "ai_disclosure/widgets/ai-notice.js" in names
    assert not any(n.startswith(("tests/", "schemas/", "widgets/")) for n in names)


def test_installed_wheel_loads_schema_and_widget_files(wheel: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    # The dependencies come from this environment, the package itself only from the wheel.
    site = Path(
        subprocess.check_output(
            [python, "-c", "import site; print(site.getsitepackages()[0])"], text=True
        ).strip()
    )
    (site / "outer.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [python, "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)], check=True
    )
    script = (
        "import ai_disclosure, pathlib\n"
        "from ai_disclosure._resources import data_dir\n"
        "from ai_disclosure import load_schema\n"
        "pkg = pathlib.Path(ai_disclosure.__file__).parent\n"
        "assert data_dir('schemas') == pkg / 'schemas', data_dir('schemas')\n"
        "assert load_schema('manifest')['title'] == 'AI disclosure manifest'\n"
        "assert (data_dir('widgets') / 'ai-notice.css').read_text().strip()\n"
        "print(pkg)\n"
    )
    result = subprocess.run([python, "-c", script], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()).is_relative_to(site)
    cli = subprocess.run(
        [
            env_dir / "bin" / "ai-disclosure",
            "validate",
            str(ROOT / "examples/montpellier/ai-disclosure.toml"),
        ],
        capture_output=True,
        text=True,
    )
    assert cli.returncode == 0, cli.stderr
