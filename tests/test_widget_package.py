"""The front-end package in widgets/: its version, its types, and the tarball
``npm pack`` builds, installed offline into a scratch project and imported."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from ai_disclosure._version import __version__

from .conftest import ROOT
from .npm_package import install, needs_npm, pack

WIDGETS = ROOT / "widgets"
PACKAGE = json.loads((WIDGETS / "package.json").read_text(encoding="utf-8"))

#: Node's test of the installed package, copied into the scratch project.
NODE_TEST = ROOT / "tests" / "widget" / "widget.test.js"


def test_version_is_in_step_with_the_python_package() -> None:
    assert PACKAGE["version"] == __version__


def test_exports_and_files_name_files_that_exist() -> None:
    for target in PACKAGE["exports"].values():
        for path in target.values() if isinstance(target, dict) else [target]:
            assert list(WIDGETS.glob(path.removeprefix("./"))), path
    for pattern in PACKAGE["files"]:
        assert list(WIDGETS.glob(pattern)), pattern
    assert (WIDGETS / PACKAGE["types"]).is_file()


def test_the_declarations_type_check() -> None:
    tsc = ROOT / "node_modules" / ".bin" / "tsc"
    if not tsc.exists() and not os.environ.get("CI"):
        pytest.skip("typescript is not installed (.ci/run runs npm ci)")
    result = subprocess.run(
        [str(tsc), "--noEmit", "-p", str(ROOT / "tests" / "widget")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def tarball(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return pack(tmp_path_factory.mktemp("pack"))


@needs_npm
def test_the_tarball_holds_the_very_files_the_wheel_serves(tarball: Path) -> None:
    with tarfile.open(tarball) as tar:
        members = {m.name.removeprefix("package/"): m for m in tar.getmembers() if m.isfile()}
        for name, member in members.items():
            data = tar.extractfile(member)
            assert data is not None
            assert data.read() == (WIDGETS / name).read_bytes(), name
    served = {p.relative_to(WIDGETS).as_posix() for p in WIDGETS.glob("i18n/*.json")}
    served |= {p.name for p in WIDGETS.glob("*.js")} | {"ai-notice.css"}
    assert served <= set(members)
    assert not any(name.endswith(".draft") or name.startswith("templates/") for name in members)


@needs_npm
def test_installed_offline_and_imported_by_node(tarball: Path, tmp_path: Path) -> None:
    project = tmp_path / "site"
    install(tarball, project)
    shutil.copy(NODE_TEST, project / "widget.test.js")
    result = subprocess.run(
        ["node", "--test", "widget.test.js"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "# pass 3" in result.stdout
