from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_MANIFEST = ROOT / "examples" / "montpellier" / "ai-disclosure.toml"
MINIMAL_MANIFEST = ROOT / "schemas" / "examples" / "manifest" / "valid" / "minimal.json"


@pytest.fixture
def root() -> Path:
    return ROOT
