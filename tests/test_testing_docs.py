"""docs/testing.md's examples run as written: every ``python`` block, in order, then
each test function they define, so the page cannot drift from the helpers."""

from __future__ import annotations

import asyncio
import inspect
import re
from typing import Any

import pytest

from .conftest import EXAMPLE_MANIFEST, ROOT

DOC = ROOT / "docs" / "testing.md"
TEXT = DOC.read_text(encoding="utf-8")
#: (first line, code) of each python block.
BLOCKS = [
    (TEXT.count("\n", 0, match.start(1)), match.group(1))
    for match in re.finditer(r"^```python\n(.*?)^```$", TEXT, re.M | re.S)
]
TESTS = re.findall(r"^(?:async )?def (test_\w+)\(", TEXT, re.M)


def run_blocks() -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": "docs_testing"}
    for line, code in BLOCKS:
        # Padded so that a traceback names the line of the page.
        exec(compile("\n" * line + code, str(DOC), "exec"), namespace)
    return namespace


def test_the_page_has_examples_to_run() -> None:
    assert len(BLOCKS) >= 6
    assert {"fake_registry", "CapturingRecorder", "capture_missed_notices"} <= set(
        re.findall(r"\b\w+\b", "".join(code for _, code in BLOCKS))
    )


@pytest.mark.parametrize("name", TESTS)
def test_each_example_passes(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(EXAMPLE_MANIFEST.parent)  # where its ai-disclosure.toml is
    example = run_blocks()[name]
    if inspect.iscoroutinefunction(example):
        asyncio.run(example())
    else:
        example()
