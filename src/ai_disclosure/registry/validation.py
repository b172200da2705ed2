"""Checking disclosure batches: a fast path for the valid ones, the schema for the rest.

``jsonschema`` takes tens of milliseconds on a batch of a thousand rows, which
would cap ingest far below what a metropolis sends. ``first_problem`` checks the
same rules as ``disclosure-batch.schema.json`` by hand, in one pass, and is at
least as strict (a property test holds it to that). Only when it finds something
wrong does the schema validator run, to report every error with its pointer (up
to ``MAX_ERRORS``: a listing is bounded in work and size whatever is sent). It
is a little stricter in two places, each reported on its own: window starts,
decision times and ``sent_at`` must be real instants (the schema's ``date-time``
format is not enforced by ``jsonschema`` without an optional package), and, given
the registry's clock, window starts and decision times must fall within the
accepted range (``accepted_range``): the schema cannot know what time it is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Any, cast

from jsonschema import ValidationError

from .._model import MODES
from .._patterns import IDENTIFIER, INSTANT, LANGUAGE, LINE, REFERENCE, ROUTE, UUID
from .._problems import MAX_ERRORS
from .._schemas import validator

__all__ = [
    "DAYS_AHEAD",
    "DAYS_BACK",
    "MAX_DROPPED",
    "MAX_ERRORS",
    "MAX_LANGUAGE",
    "MAX_ROUTE",
    "REFERENCE",
    "ROUTE",
    "FieldError",
    "accepted_range",
    "batch_errors",
    "check_batch",
    "first_problem",
]

# sent_at's "date-time" format, which the schema states without a pattern.
_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?"
    r"(?:[Zz]|[+-][0-9]{2}:[0-9]{2})"
)
_TOP = frozenset(
    ("batch_id", "service", "sent_at", "window_seconds", "counts", "dropped", "decisions", "sdk")
)
_ROW = frozenset(("system", "route", "mode", "notice_shown", "language", "window_start", "count"))
_ROW_REQUIRED = ("system", "route", "mode", "notice_shown", "window_start", "count")
_DECISION = ("system", "reference", "at")
_DECISION_KEYS = frozenset(_DECISION)
_MAX_ROWS = 10000
_MAX_COUNT = 1_000_000_000
# The bounds of disclosure-batch.schema.json, restated for the fast path (a test
# holds each one equal to the schema's).
MAX_DROPPED = 2**53 - 1
MAX_LANGUAGE = 35
MAX_ROUTE = 512
#: How far from the registry's clock a window start or a decision time may be.
DAYS_BACK = 400
DAYS_AHEAD = 1
_ROUTE_DETAIL = (
    "must be a route template: '/' then at most 511 characters, with no query string "
    "or fragment ('?', '#'), no whitespace and no control character"
)


@dataclass(frozen=True, slots=True)
class FieldError:
    """One reason a request body was refused: where (a JSON pointer) and why."""

    pointer: str
    detail: str

    def as_json(self) -> dict[str, str]:
        return {"pointer": self.pointer, "detail": self.detail}


def _integer(value: object, low: int, high: int | None) -> bool:
    """JSON Schema's integer: any number with no fractional part (``3.0`` counts)."""
    if type(value) is int:
        number: float = value
    elif type(value) is float and value.is_integer():
        number = value
    else:
        return False
    return number >= low and (high is None or number <= high)


def accepted_range(
    now: float, days_back: int = DAYS_BACK, days_ahead: int = DAYS_AHEAD
) -> tuple[str, str]:
    """The earliest and latest window start the registry accepts at ``now`` (epoch
    seconds), as UTC text: the wire format's text sorts in time order."""
    moment = datetime.fromtimestamp(int(now), UTC)
    low = moment - timedelta(days=days_back)
    high = moment + timedelta(days=days_ahead)
    return low.strftime("%Y-%m-%dT%H:%M:%SZ"), high.strftime("%Y-%m-%dT%H:%M:%SZ")


def _range_detail(accepted: tuple[str, str]) -> str:
    return (
        f"must be between {accepted[0]} and {accepted[1]}: the registry accepts times "
        f"up to {DAYS_BACK} days before and {DAYS_AHEAD} day after its clock"
    )


def _language(value: object) -> bool:
    return type(value) is str and len(value) <= MAX_LANGUAGE and bool(LANGUAGE.fullmatch(value))


def _instant(value: str, pattern: re.Pattern[str]) -> bool:
    if not pattern.fullmatch(value):
        return False
    try:
        datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def first_problem(batch: object, accepted: tuple[str, str] | None = None) -> FieldError | None:
    """The first thing that makes ``batch`` invalid, or None if it is valid.

    ``accepted`` is the range window starts and decision times must fall in
    (``accepted_range``); None checks only what the schema says."""
    if type(batch) is not dict:
        return FieldError("", "the batch must be a JSON object")
    for key in batch:
        if key not in _TOP:
            return FieldError(f"/{_escape(key)}", f"unknown field {key!r}")
    for key in ("batch_id", "service", "counts"):
        if key not in batch:
            return FieldError(f"/{key}", f"required field {key!r} is missing")
    batch_id = batch["batch_id"]
    if type(batch_id) is not str or not UUID.fullmatch(batch_id):
        return FieldError("/batch_id", "must be a lower-case UUID")
    service = batch["service"]
    if type(service) is not str or not IDENTIFIER.fullmatch(service):
        return FieldError("/service", "must be a service identifier")
    if "sent_at" in batch:
        sent_at = batch["sent_at"]
        if type(sent_at) is not str or not _instant(sent_at, _RFC3339):
            return FieldError("/sent_at", "must be an RFC 3339 date-time")
    if "window_seconds" in batch and not _integer(batch["window_seconds"], 1, 86400):
        return FieldError("/window_seconds", "must be an integer from 1 to 86400")
    if "dropped" in batch and not _integer(batch["dropped"], 0, MAX_DROPPED):
        return FieldError("/dropped", f"must be an integer from 0 to {MAX_DROPPED}")
    if "sdk" in batch:
        problem = _sdk_problem(batch["sdk"])
        if problem:
            return problem
    if "decisions" in batch:
        problem = _decisions_problem(batch["decisions"], accepted)
        if problem:
            return problem
    rows = batch["counts"]
    if type(rows) is not list:
        return FieldError("/counts", "must be a list")
    if len(rows) > _MAX_ROWS:
        return FieldError("/counts", f"has more than {_MAX_ROWS} rows; send several batches")
    low, high = accepted or ("", "\uffff")
    try:
        if _rows_valid(rows, low, high):
            return None
    except (KeyError, TypeError):  # a missing field, an unhashable value: say which below
        pass
    return _rows_problem(rows, accepted)


def _sdk_problem(sdk: object) -> FieldError | None:
    if type(sdk) is not dict:
        return FieldError("/sdk", "must be an object")
    for key, value in sdk.items():
        limit = {"name": 64, "version": 32}.get(key)
        if limit is None:
            return FieldError(f"/sdk/{_escape(key)}", f"unknown field {key!r}")
        if type(value) is not str or len(value) > limit or not LINE.fullmatch(value):
            return FieldError(
                f"/sdk/{key}",
                f"must be a string of at most {limit} characters, with no control character",
            )
    return None


def _decisions_problem(decisions: object, accepted: tuple[str, str] | None) -> FieldError | None:
    if type(decisions) is not list:
        return FieldError("/decisions", "must be a list")
    if len(decisions) > _MAX_ROWS:
        return FieldError(
            "/decisions", f"has more than {_MAX_ROWS} decisions; send several batches"
        )
    systems: set[str] = set()
    for index, decision in enumerate(decisions):
        at = f"/decisions/{index}"
        if type(decision) is not dict:
            return FieldError(at, "must be an object")
        for key in decision:
            if key not in _DECISION_KEYS:
                return FieldError(f"{at}/{_escape(key)}", f"unknown field {key!r}")
        for key in _DECISION:
            if key not in decision:
                return FieldError(f"{at}/{key}", f"required field {key!r} is missing")
        system = decision["system"]
        if type(system) is not str or (system not in systems and not IDENTIFIER.fullmatch(system)):
            return FieldError(f"{at}/system", "must be a system identifier")
        systems.add(system)
        reference = decision["reference"]
        if type(reference) is not str or not REFERENCE.fullmatch(reference):
            return FieldError(
                f"{at}/reference",
                "must be an opaque case reference: 1 to 128 letters, digits, '.', '_', ':', '/' "
                "or '-', starting with a letter or digit (never a name or an e-mail address)",
            )
        when = decision["at"]
        if type(when) is not str or not _instant(when, INSTANT):
            return FieldError(f"{at}/at", "must be a UTC instant like 2026-11-26T10:00:00Z")
        if accepted is not None and not accepted[0] <= when <= accepted[1]:
            return FieldError(f"{at}/at", _range_detail(accepted))
    return None


def _rows_valid(rows: list[Any], low: str, high: str) -> bool:
    """True if every row is valid: the hot loop, one dict lookup per field and the
    patterns checked once per distinct value. ``_rows_problem`` says what is wrong."""
    systems: set[str] = set()
    routes: set[str] = set()
    windows: set[str] = set()
    languages: set[str] = set()
    for row in rows:
        if type(row) is not dict or not row.keys() <= _ROW:
            return False
        system = row["system"]
        if system not in systems:
            if type(system) is not str or not IDENTIFIER.fullmatch(system):
                return False
            systems.add(system)
        route = row["route"]
        if route not in routes:
            if type(route) is not str or len(route) > MAX_ROUTE or not ROUTE.fullmatch(route):
                return False
            routes.add(route)
        window = row["window_start"]
        if window not in windows:
            if type(window) is not str or not low <= window <= high:
                return False
            if not _instant(window, INSTANT):
                return False
            windows.add(window)
        if row["mode"] not in MODES or type(row["notice_shown"]) is not bool:
            return False
        count = row["count"]
        if (type(count) is not int or not 1 <= count <= _MAX_COUNT) and not _integer(
            count, 1, _MAX_COUNT
        ):
            return False
        if "language" in row:
            language = row["language"]
            if language not in languages:
                if not _language(language):
                    return False
                languages.add(language)
    return True


def _rows_problem(rows: list[Any], accepted: tuple[str, str] | None) -> FieldError | None:
    # Values repeat a lot within a batch: check each distinct one once.
    systems: set[str] = set()
    routes: set[str] = set()
    windows: set[str] = set()
    languages: set[str] = set()
    for index, row in enumerate(rows):
        at = f"/counts/{index}"
        if type(row) is not dict:
            return FieldError(at, "must be an object")
        if len(row) > 7 or not row.keys() <= _ROW:
            extra = sorted(set(row) - _ROW)
            return FieldError(f"{at}/{_escape(extra[0])}", f"unknown field {extra[0]!r}")
        for key in _ROW_REQUIRED:
            if key not in row:
                return FieldError(f"{at}/{key}", f"required field {key!r} is missing")
        system = row["system"]
        if type(system) is not str or (system not in systems and not IDENTIFIER.fullmatch(system)):
            return FieldError(f"{at}/system", "must be a system identifier")
        systems.add(system)
        route = row["route"]
        if type(route) is not str or (
            route not in routes and (len(route) > MAX_ROUTE or not ROUTE.fullmatch(route))
        ):
            return FieldError(f"{at}/route", _ROUTE_DETAIL)
        routes.add(route)
        mode = row["mode"]
        if type(mode) is not str or mode not in MODES:
            return FieldError(f"{at}/mode", f"must be one of {', '.join(sorted(MODES))}")
        if type(row["notice_shown"]) is not bool:
            return FieldError(f"{at}/notice_shown", "must be true or false")
        if "language" in row:
            language = row["language"]
            if type(language) is not str or (language not in languages and not _language(language)):
                return FieldError(
                    f"{at}/language",
                    f"must be a BCP 47 language tag of at most {MAX_LANGUAGE} characters",
                )
            languages.add(language)
        window = row["window_start"]
        if type(window) is not str or (window not in windows and not _instant(window, INSTANT)):
            return FieldError(
                f"{at}/window_start", "must be a UTC instant like 2026-11-26T10:00:00Z"
            )
        if accepted is not None and not accepted[0] <= window <= accepted[1]:
            return FieldError(f"{at}/window_start", _range_detail(accepted))
        windows.add(window)
        if not _integer(row["count"], 1, _MAX_COUNT):
            return FieldError(f"{at}/count", f"must be an integer from 1 to {_MAX_COUNT}")
    return None


def _escape(key: object) -> str:
    return str(key).replace("~", "~0").replace("/", "~1")


def _pointer(parts: Sequence[object]) -> str:
    return "".join("/" + _escape(p) for p in parts)


def batch_errors(batch: object, limit: int | None = None) -> list[FieldError]:
    """Every schema error in ``batch`` (the first ``limit`` found, if given), each with
    the pointer of the field to fix."""
    found = validator("disclosure-batch").iter_errors(cast(Any, batch))
    errors = sorted(islice(found, limit), key=lambda e: [str(p) for p in e.absolute_path])
    return [_field_error(e) for e in errors]


def check_batch(batch: object, accepted: tuple[str, str] | None = None) -> list[FieldError]:
    """The problems of ``batch``, none if it is valid: the fast check, then the schema
    for the list (``MAX_ERRORS`` and one more at most, so a caller can tell there are
    more). CPU only, up to a second on a big invalid batch: run it off the event loop."""
    problem = first_problem(batch, accepted)
    if problem is None:
        return []
    return batch_errors(batch, MAX_ERRORS + 1) or [problem]


def _field_error(error: ValidationError) -> FieldError:
    where = list(error.absolute_path)
    schema: Mapping[str, Any] = error.schema if isinstance(error.schema, Mapping) else {}
    if error.validator == "required":
        missing = str(error.message).split("'")[1]
        return FieldError(_pointer([*where, missing]), f"required field {missing!r} is missing")
    if error.validator == "additionalProperties" and isinstance(error.instance, Mapping):
        extra = sorted(set(error.instance) - set(schema.get("properties", {})))
        allowed = ", ".join(sorted(schema.get("properties", {})))
        at = _pointer([*where, extra[0]]) if len(extra) == 1 else _pointer(where)
        names = ", ".join(repr(e) for e in extra)
        return FieldError(at, f"unknown field {names} (allowed: {allowed})")
    if error.validator == "pattern":
        hint = schema.get("description")
        message = f"{error.instance!r} does not match {schema.get('pattern')}"
        return FieldError(_pointer(where), f"{message}: {hint}" if hint else message)
    return FieldError(_pointer(where), str(error.message))
