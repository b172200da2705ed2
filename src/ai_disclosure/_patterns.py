"""The wire format's string rules, compiled from the JSON Schemas that state them.

``schemas/`` is the one place a rule is written. Three places check values by
hand, without ``jsonschema``, because they run often or must answer in one line:
the SDK's aggregator (a value is checked before it enters a batch), the
registry's fast path (a thousand-row batch in well under a millisecond) and the
CLI (a service id, before a token is written for it). They all use the objects
here, read from the packaged schemas at import - one JSON parse of each, which
the validators need anyway - so none of them can drift from what the schema
validator accepts.

Each pattern is compiled as JSON Schema reads it: ``$`` is the very end of the
string (see ``_schemas._ecma``; the compiled object is the very one the
validator uses). ``fullmatch`` and ``match`` give the same answer on them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from ._schemas import _ecma, load_schema

__all__ = [
    "DATE",
    "IDENTIFIER",
    "INSTANT",
    "LANGUAGE",
    "LINE",
    "REFERENCE",
    "ROUTE",
    "UUID",
    "resolve",
    "schema_pattern",
]


def resolve(schema: Mapping[str, Any], pointer: str) -> Any:
    """The part of ``schema`` at the JSON pointer ``pointer`` (RFC 6901, local)."""
    node: Any = schema
    for token in pointer.lstrip("/").split("/") if pointer else ():
        node = node[token.replace("~1", "/").replace("~0", "~")]
    return node


def schema_pattern(schema: Mapping[str, Any], pointer: str) -> re.Pattern[str]:
    """The ``pattern`` of the subschema at ``pointer``, compiled as the validator does."""
    pattern = resolve(schema, pointer)["pattern"]
    if not isinstance(pattern, str):
        raise TypeError(f"{pointer}/pattern is not a string")
    return _ecma(pattern)


_MANIFEST: Final = load_schema("manifest")
_BATCH: Final = load_schema("disclosure-batch")

#: A manifest identifier: a service or system id (it appears in URLs).
IDENTIFIER: Final = schema_pattern(_MANIFEST, "/$defs/identifier")
#: A BCP 47 language tag as the manifest accepts it (its length bound is separate).
LANGUAGE: Final = schema_pattern(_MANIFEST, "/$defs/language")
#: A calendar date written YYYY-MM-DD.
DATE: Final = schema_pattern(_MANIFEST, "/$defs/date")
#: A route template: '/' then no query string, fragment, whitespace or control
#: character (the length bound is separate). The same in both schemas; a test holds them equal.
ROUTE: Final = schema_pattern(_BATCH, "/$defs/count/properties/route")
#: One line of text: no control character, no lone surrogate.
LINE: Final = schema_pattern(_BATCH, "/$defs/line")
#: An opaque case reference of the decision-level log: no space, no '@'.
REFERENCE: Final = schema_pattern(_BATCH, "/$defs/decision/properties/reference")
#: A batch id: a lower-case UUID.
UUID: Final = schema_pattern(_BATCH, "/properties/batch_id")
#: A window start or decision time: UTC, whole seconds, written with a 'Z'.
INSTANT: Final = schema_pattern(_BATCH, "/$defs/count/properties/window_start")
