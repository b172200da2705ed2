"""Find the data folders (``schemas/``, ``widgets/``) that ship with the package.

In a wheel they sit inside the package (``ai_disclosure/schemas``); in a source
checkout they are the top-level folders of the repository, the single source.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

__all__ = ["data_dir"]

_PACKAGE = Path(__file__).resolve().parent


@cache
def data_dir(name: str) -> Path:
    """The folder ``name`` ("schemas" or "widgets"), installed or from the checkout."""
    for candidate in (_PACKAGE / name, _PACKAGE.parent.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        f"ai_disclosure data folder {name!r} is missing: looked in {_PACKAGE / name} and "
        f"{_PACKAGE.parent.parent / name}; reinstall the package"
    )
