"""What the real registry refuses for good: only the refused part is dropped, counted
and logged; everything else it is sent arrives."""

from __future__ import annotations

import logging

import pytest

from .conftest import SYSTEMS, RegistryUnderTest, make_logger, record


async def test_rows_for_an_undeclared_system_are_dropped_the_rest_stored(
    registry: RegistryUnderTest, caplog: pytest.LogCaptureFixture
) -> None:
    logger = make_logger(registry.url, registry.token, transport=registry.transport())
    record(logger, 30)
    record(logger, 4, system="systeme-non-declare")
    record(logger, 5, system=SYSTEMS[1], lang="en")
    with caplog.at_level(logging.ERROR, logger="ai_disclosure.logging"):
        assert await logger.flush()
    await logger.aclose()
    assert await registry.totals() == {SYSTEMS[0]: 30, SYSTEMS[1]: 5}
    stats = logger.stats()
    assert (stats["sent"], stats["dropped"], stats["batches_rejected"]) == (35, 4, 1)
    assert "not in the published manifest" in caplog.text


async def test_decisions_for_an_undeclared_system_are_dropped_the_rest_stored(
    registry: RegistryUnderTest, caplog: pytest.LogCaptureFixture
) -> None:
    logger = make_logger(
        registry.url, registry.token, transport=registry.transport(), decision_log=True
    )
    record(logger, 12)
    logger.record_decision(SYSTEMS[0], "DOSSIER-2026-00042")
    logger.record_decision("systeme-non-declare", "DOSSIER-2026-00043")
    logger.record_decision(SYSTEMS[1], "DOSSIER-2026-00044")
    with caplog.at_level(logging.ERROR, logger="ai_disclosure.logging"):
        assert await logger.flush()
    await logger.aclose()
    assert await registry.total() == 12
    assert await registry.decisions() == {
        "DOSSIER-2026-00042": SYSTEMS[0],
        "DOSSIER-2026-00044": SYSTEMS[1],
    }
    assert await registry.decision_system("DOSSIER-2026-00043") is None
    stats = logger.stats()
    assert (stats["recorded"], stats["sent"], stats["dropped"]) == (15, 14, 1)
    assert stats["batches_rejected"] == 1
    assert "systeme-non-declare" in caplog.text
