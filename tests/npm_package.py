"""The front-end package as front-end teams get it: ``npm pack`` of widgets/,
installed offline from the tarball into a project of their own."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import ROOT

NPM = shutil.which("npm")
NAME = "@ai-disclosure/widget"
#: In CI (the CI variable set) a missing Node or npm fails the tests instead of skipping them.
needs_npm = pytest.mark.skipif(
    NPM is None and not os.environ.get("CI"), reason="npm is not installed (.ci/run installs it)"
)


def pack(out: Path) -> Path:
    """Build the tarball into ``out``; return its path."""
    assert NPM is not None, "npm is not installed (.ci/run installs it)"
    subprocess.run(
        [NPM, "pack", "--pack-destination", str(out), "--loglevel=error"],
        cwd=ROOT / "widgets",
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("ai-disclosure-widget-*.tgz")
    return built


def install(tarball: Path, project: Path) -> Path:
    """A fresh project in ``project`` with the tarball installed, offline; returns
    the installed package's folder."""
    assert NPM is not None, "npm is not installed (.ci/run installs it)"
    project.mkdir(parents=True, exist_ok=True)
    (project / "package.json").write_text('{"name": "site", "private": true, "type": "module"}')
    subprocess.run(
        [NPM, "install", "--offline", "--no-audit", "--no-fund", "--loglevel=error", str(tarball)],
        cwd=project,
        check=True,
        capture_output=True,
    )
    return project / "node_modules" / NAME
