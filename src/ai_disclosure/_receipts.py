"""The registry's write answers that accept: a batch's receipt and a manifest's.

``schemas/batch-receipt.schema.json`` and ``manifest-receipt.schema.json`` state
them; the registry (``registry/api.py``) and the fake registry apps test against
(``testing.fake_registry``) both answer with what this module builds, so the two
cannot drift. Part of the SDK core: it imports nothing from ``registry/``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

__all__ = ["ReceiptStatus", "batch_receipt", "manifest_receipt"]


class ReceiptStatus(StrEnum):
    """What became of an accepted batch (the receipt's ``status``)."""

    STORED = "stored"  # first sent: counted now (202)
    DUPLICATE = "duplicate"  # sent before with the same content: counted then (200)


def batch_receipt(batch_id: str, status: ReceiptStatus, records: int) -> tuple[int, dict[str, Any]]:
    """The HTTP status and body answering an accepted batch."""
    body = {"batch_id": batch_id, "status": status.value, "records": records}
    return (202 if status is ReceiptStatus.STORED else 200), body


def manifest_receipt(service: str, version: int, changed: bool) -> tuple[int, dict[str, Any]]:
    """The HTTP status and body answering a published manifest: 201 for a new
    version, 200 when it equals the one already published."""
    return (201 if changed else 200), {"service": service, "version": version, "changed": changed}
