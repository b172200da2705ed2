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

from pathlib import Path

import pytest

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
