"""Finding the packaged data folders (the installed case is in test_packaging)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ai_disclosure import _resources
from ai_disclosure._resources import data_dir

from .conftest import ROOT


def test_checkout_folders_are_found() -> None:
    for name in ("schemas", "widgets", "examples"):
        assert data_dir(name) == ROOT / name


def test_a_missing_folder_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_resources, "_PACKAGE", tmp_path / "site-packages" / "ai_disclosure")
    data_dir.cache_clear()
    try:
        with pytest.raises(FileNotFoundError, match="data folder 'widgets' is missing"):
            data_dir("widgets")
    finally:
        data_dir.cache_clear()
