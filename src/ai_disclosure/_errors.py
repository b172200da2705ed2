"""The one base of every exception this package raises on purpose.

Each specific error keeps the built-in base it had (``ManifestError`` is still a
``ValueError``, ``DecisionLogDisabled`` a ``RuntimeError``), so code that caught
those goes on working; code that wants "anything ai_disclosure refused" catches
``AIDisclosureError`` instead of five types from five modules.
"""

from __future__ import annotations

__all__ = ["AIDisclosureError"]


class AIDisclosureError(Exception):
    """Base of the errors ai_disclosure raises: manifest, header, registry, spool..."""
