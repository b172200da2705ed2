"""Shared paths, and the markers that let a quick loop leave the long tests out.

Every test is marked where it belongs, at collection:

- ``browser``: everything under ``tests/browser/`` (a real Chromium);
- ``postgres``: every test run against PostgreSQL (the ``postgresql`` variant
  of the ``backend`` fixture, and the tests that make their own databases);
- ``slow``: the tests listed in ``SLOW``, each over ~2 s on a 2-core machine
  (measured with ``--durations``).

The quick loop is ``pytest -m "not slow and not browser and not postgres"``;
``.ci/run`` runs everything.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_MANIFEST = ROOT / "examples" / "montpellier" / "ai-disclosure.toml"
MINIMAL_MANIFEST = ROOT / "schemas" / "examples" / "manifest" / "valid" / "minimal.json"

TESTS = Path(__file__).resolve().parent
BROWSER = TESTS / "browser"
#: Fixtures that give a test its own PostgreSQL database or schema.
POSTGRES_FIXTURES = frozenset({"pg_schema", "pg_database", "databases"})
#: Tests (all their variants) that take more than ~2 s: ``path::name``, from ``tests/``.
SLOW: frozenset[str] = frozenset()


@pytest.fixture
def root() -> Path:
    return ROOT


def _stale(entries: frozenset[str]) -> list[str]:
    """The ``SLOW`` entries naming no test any more (renamed or removed)."""
    stale = []
    for entry in sorted(entries):
        path, _, name = entry.partition("::")
        module = TESTS / path
        if not module.is_file() or f"def {name}(" not in module.read_text(encoding="utf-8"):
            stale.append(entry)
    return stale


def _on_postgres(item: pytest.Item) -> bool:
    callspec = getattr(item, "callspec", None)
    if callspec is not None and callspec.params.get("backend") == "postgresql":
        return True
    return not POSTGRES_FIXTURES.isdisjoint(getattr(item, "fixturenames", ()))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the browser, PostgreSQL and slow tests (see the module docstring)."""
    stale = _stale(SLOW)
    if stale:
        raise pytest.UsageError(f"tests/conftest.py SLOW names no test: {', '.join(stale)}")
    for item in items:
        path = Path(str(item.path))
        if BROWSER in path.parents:
            item.add_marker(pytest.mark.browser)
        if _on_postgres(item):
            item.add_marker(pytest.mark.postgres)
        name = getattr(item, "originalname", item.name)
        if path.is_relative_to(TESTS) and f"{path.relative_to(TESTS).as_posix()}::{name}" in SLOW:
            item.add_marker(pytest.mark.slow)
