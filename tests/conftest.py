"""Shared paths, and the markers that let a quick loop leave the long tests out.

Every test is marked where it belongs, at collection:

- ``browser``: everything under ``tests/browser/``, and the tests elsewhere
  listed in ``BROWSER_ELSEWHERE`` (a real Chromium);
- ``postgres``: every test run against PostgreSQL (the ``postgresql`` variant
  of the ``backend`` fixture, and the tests that make their own databases);
- ``slow``: the modules and tests listed in ``SLOW``: those over ~0.75 s
  on a 2-core machine (measured with ``--durations=0``), which together are
  two thirds of the time the rest takes.

The quick loop is ``pytest -m "not slow and not browser and not postgres"``;
``.ci/run`` runs everything.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from babel import Locale

from ai_disclosure import _catalog
from ai_disclosure._catalog import DEFAULT_LANGUAGE, Catalog, catalog_dir, catalogs

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_MANIFEST = ROOT / "examples" / "montpellier" / "ai-disclosure.toml"
MINIMAL_MANIFEST = ROOT / "schemas" / "examples" / "manifest" / "valid" / "minimal.json"

TESTS = Path(__file__).resolve().parent
BROWSER = TESTS / "browser"
#: Fixtures that give a test its own PostgreSQL database or schema.
POSTGRES_FIXTURES = frozenset({"pg_schema", "pg_replica", "pg_database", "databases"})
#: Tests (all their variants) driving Chromium outside ``tests/browser/``: ``path::name``.
BROWSER_ELSEWHERE = frozenset(
    {
        "test_proxy_frameworks.py::test_a_real_browser_posts_a_django_form_through_the_proxy",
        "test_template_helpers.py::test_chromium_applies_the_stylesheet_only_with_the_style_nonce",
    }
)
#: Whole modules (``path``) and tests with all their variants (``path::name``), from
#: ``tests/``, that take more than ~0.75 s: real servers, subprocesses, outages waited out.
SLOW = frozenset(
    {
        "test_template_helpers.py::test_chromium_applies_the_stylesheet_only_with_the_style_nonce",
        "check/test_audit.py::test_each_register_link_is_checked_once_per_run",
        "test_fake_registry.py::test_the_fake_answers_each_request_as_the_real_registry_does",
        "check/test_audit.py::test_the_demo_passes_every_check",
        "check/test_cli.py::test_the_demo_passes_exit_0",
        "logging_e2e/test_crash.py::test_killed_after_the_registry_stored_the_batch_is_not_doubled",
        "logging_e2e/test_decisions.py::test_lost_answers_never_store_a_decision_twice",
        "logging_e2e/test_load.py::test_100k_requests_are_all_counted",
        "logging_e2e/test_outages.py",
        "test_proxy_php.py",
        "test_proxy_tomcat.py",
        "registry/test_cli.py::test_a_broken_token_is_never_printed",
        "registry/test_cli.py::test_a_missing_driver_is_one_line_with_the_pip_command",
        "registry/test_cli.py::test_a_parked_batch_is_listed_then_resent_once_the_registry_is_fixed",
        "registry/test_cli.py::test_a_token_with_a_newline_from_a_secret_file_works",
        "registry/test_cli.py::test_an_unreachable_database_is_one_line",
        "registry/test_cli.py::test_parked_commands_need_an_existing_spool",
        "registry/test_cli.py::test_serve_creates_a_sqlite_file_and_push_manifest_publishes",
        "registry/test_cli.py::test_serve_on_a_taken_port_does_no_work",
        "registry/test_cli.py::test_token_create_elsewhere_refuses_to_make_a_new_database",
        "registry/test_cli.py::test_token_create_with_create_or_an_existing_database_says_where",
        "registry/test_deploy.py::test_serve_bounds_open_connections",
        "registry/test_deploy.py::test_the_unit_command_serves_behind_a_trusted_proxy",
        "registry/test_guard.py::test_a_stalled_body_is_answered_408_and_closed",
        "registry/test_guard.py::test_a_trickled_body_is_cut_off",
        "registry/test_schemathesis.py::test_api_never_fails_and_matches_its_document",
        "registry/test_validation.py::test_fast_path_checks_decisions_at_least_as_strictly_as_the_schema",
        "test_aggregate.py::test_records_from_many_threads_while_draining_are_never_lost",
        "test_cli.py::test_readme_step_3_works_as_written",
        "test_demo.py::test_home_has_no_ai",
        "test_demo.py::test_streamed_page_arrives_in_pieces_with_the_notice",
        "test_demo.py::test_the_demo_logs_into_a_register_already_running",
        "test_demo.py::test_the_legacy_site_behind_the_proxy_discloses_and_logs",
        "test_demo.py::test_the_notice_links_to_the_register_entry_whose_counts_rise",
        "test_skiplinks.py::test_the_skip_links_fast_path_gives_the_token_by_token_bytes",
        "test_inject_corpus.py::test_the_notice_lands_in_the_body_of_the_corpus",
        "test_packaging.py::test_installed_wheel_loads_schema_and_widget_files",
        "test_proxy.py::test_a_target_that_is_not_a_path_is_a_400_page",
        "test_proxy.py::test_a_trusted_terminator_tells_the_scheme_and_client",
        "test_proxy.py::test_one_date_and_one_server_the_upstreams",
        "test_proxy.py::test_the_cli_proxy_logs_disclosures_to_a_register",
        "test_proxy.py::test_the_cli_proxy_runs_several_workers",
        "test_proxy.py::test_the_cli_proxy_streams_big_files_and_wraps_pages",
        "test_proxy.py::test_the_cli_proxy_writes_down_no_address_path_or_user_agent",
        "test_proxy.py::test_the_proxys_own_error_pages_are_dated",
        "test_proxy.py::test_without_a_trusted_terminator_the_scheme_is_the_connections",
        "test_proxy_frameworks.py",
        "test_delivery.py::test_background_task_flushes_each_window_after_lazy_start",
        "test_delivery.py::test_outage_without_spool_merges_counts_within_bounds",
        "test_delivery.py::test_the_background_task_parks_a_poison_batch_without_help",
    }
)


@pytest.fixture
def root() -> Path:
    return ROOT


def marked_catalog(tag: str, direction: str = "ltr") -> dict[str, Any]:
    """A catalog file for ``tag`` as a translator would write it: every text of
    ``en.json``, marked ``[tag]`` so a test can tell it apart, each plural text
    with exactly the categories CLDR gives ``tag``."""
    english = json.loads((ROOT / "widgets" / "i18n" / "en.json").read_text(encoding="utf-8"))
    categories = set(Locale.parse(tag, sep="-").plural_form.tags) | {"other"}
    texts: dict[str, Any] = {"_meta": {"status": "machine-translated", "dir": direction}}
    for key, text in english.items():
        if key == "_meta":
            continue
        if isinstance(text, str):
            texts[key] = f"{text} [{tag}]"
        else:
            texts[key] = dict.fromkeys(categories, f"{text['other']} [{tag}]")
    return texts


@pytest.fixture
def catalog_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of ``widgets/i18n`` the catalog is read from for this test (read
    again before and after it)."""
    folder = tmp_path / "i18n"
    shutil.copytree(catalog_dir(), folder)
    monkeypatch.setattr(_catalog, "catalog_dir", lambda: folder)
    catalogs.cache_clear()
    yield folder
    monkeypatch.undo()
    catalogs.cache_clear()


@pytest.fixture
def add_language(catalog_folder: Path) -> Callable[..., Catalog]:
    """Adds a language the way a translator does - one more ``<tag>.json`` next to
    the others - and nothing else."""

    def add(tag: str, direction: str = "ltr") -> Catalog:
        text = json.dumps(marked_catalog(tag, direction), ensure_ascii=False, indent=2)
        (catalog_folder / f"{tag}.json").write_text(text, encoding="utf-8")
        catalogs.cache_clear()
        return catalogs()[tag]

    return add


@pytest.fixture
def add_text(catalog_folder: Path) -> Callable[[str, Mapping[str, str]], None]:
    """Adds a key to every catalog file: ``texts`` by language, the English text
    marked ``[tag]`` for the others."""

    def add(key: str, texts: Mapping[str, str]) -> None:
        for path in catalog_folder.glob("*.json"):
            data = json.loads(path.read_text(encoding="utf-8"))
            data[key] = texts.get(path.stem) or f"{texts['en']} [{path.stem}]"
            path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        catalogs.cache_clear()

    return add


#: Languages the tests name, and their direction: the catalog's own file, or while
#: a language is being translated, one ``languages`` makes for the test.
NAMED_LANGUAGES = {
    "fr": "ltr",
    "en": "ltr",
    "oc": "ltr",
    "es": "ltr",
    "ca": "ltr",
    "de": "ltr",
    "ga": "ltr",
    "zh-Hans": "ltr",
    "ar": "rtl",
    "fa": "rtl",
}


def with_named_languages(present: Iterable[str]) -> list[str]:
    """``present`` and the named languages, the default first (as the catalog lists them)."""
    found = dict.fromkeys([*present, *NAMED_LANGUAGES])
    return [DEFAULT_LANGUAGE, *sorted(set(found) - {DEFAULT_LANGUAGE})]


@pytest.fixture
def languages(add_language: Callable[..., Catalog]) -> Mapping[str, Catalog]:
    """The catalog, with a file for each of ``NAMED_LANGUAGES``."""
    for tag, direction in NAMED_LANGUAGES.items():
        if tag not in catalogs():
            add_language(tag, direction)
    return catalogs()


@pytest.fixture
def arabic(languages: Mapping[str, Catalog]) -> Catalog:
    """A right-to-left language."""
    return languages["ar"]


def _stale(entries: frozenset[str]) -> list[str]:
    """The entries naming no module or test any more (renamed or removed)."""
    stale = []
    for entry in sorted(entries):
        path, _, name = entry.partition("::")
        module = TESTS / path
        if not module.is_file() or (
            name and f"def {name}(" not in module.read_text(encoding="utf-8")
        ):
            stale.append(entry)
    return stale


def _on_postgres(item: pytest.Item) -> bool:
    callspec = getattr(item, "callspec", None)
    if callspec is not None and callspec.params.get("backend") == "postgresql":
        return True
    return not POSTGRES_FIXTURES.isdisjoint(getattr(item, "fixturenames", ()))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the browser, PostgreSQL and slow tests (see the module docstring)."""
    stale = _stale(SLOW | BROWSER_ELSEWHERE)
    if stale:
        raise pytest.UsageError(f"tests/conftest.py names no such test: {', '.join(stale)}")
    for item in items:
        path = Path(str(item.path))
        module = path.relative_to(TESTS).as_posix() if path.is_relative_to(TESTS) else ""
        test = f"{module}::{getattr(item, 'originalname', item.name)}"
        if BROWSER in path.parents or test in BROWSER_ELSEWHERE:
            item.add_marker(pytest.mark.browser)
        if _on_postgres(item):
            item.add_marker(pytest.mark.postgres)
        if module in SLOW or test in SLOW:
            item.add_marker(pytest.mark.slow)
