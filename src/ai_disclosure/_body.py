"""Reading a JSON request body within bounds, sans I/O: the headers' checks, the
decoding of the bytes as they arrive, and the parse.

The registry feeds it the chunks of a streamed request; the fake registry feeds
it a whole body at once, without a limit. Both refuse the same bodies with the
same problems (400, 413, 415). With a limit, the declared length, the bytes that
actually arrive and, for gzip, the bytes they expand to are each held to it, so
neither a lying Content-Length nor a gzip bomb can exhaust memory.
"""

from __future__ import annotations

import json
import re
import zlib
from typing import Any

from ._problems import Problem

__all__ = ["BodyDecoder", "check_length", "check_media_type", "is_gzipped", "parse_json"]

# A \uD800-\uDFFF escape: the only way a surrogate gets into parsed JSON (UTF-8
# bytes cannot encode one). Most bodies have none, so the full check is rare.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def _malformed(detail: str) -> Problem:
    return Problem(400, "malformed-body", detail)


def _too_large(limit: int) -> Problem:
    return Problem(413, "payload-too-large", f"the body exceeds the limit of {limit} bytes")


def check_media_type(content_type: str | None) -> None:
    """JSON, or a ``+json`` type (``application/merge-patch+json``); 415 otherwise."""
    media = (content_type or "").split(";")[0].strip().lower()
    if media != "application/json" and not (
        media.startswith("application/") and media.endswith("+json")
    ):
        shown = media or "none"
        raise Problem(
            415, "unsupported-media-type", f"Content-Type is {shown}; send application/json"
        )


def is_gzipped(content_encoding: str | None) -> bool:
    """Whether the body is gzip; 415 for a coding other than gzip or none."""
    encoding = (content_encoding or "identity").strip().lower()
    if encoding in ("", "identity"):
        return False
    if encoding in ("gzip", "x-gzip"):
        return True
    raise Problem(
        415,
        "unsupported-media-type",
        f"Content-Encoding {encoding!r} is not supported; send gzip or no encoding",
    )


def check_length(content_length: str | None, limit: int) -> None:
    """Refuse a declared length over ``limit`` before reading anything (400, 413)."""
    if content_length is None:
        return
    if not content_length.strip().isdigit():
        raise _malformed("Content-Length is not a number")
    if int(content_length) > limit:
        raise _too_large(limit)


class BodyDecoder:
    """The body's bytes as they arrive (``feed``), decoded when ``finish`` is called;
    ``limit`` None: no limit."""

    def __init__(self, gzipped: bool, limit: int | None = None) -> None:
        self._limit = limit
        self._inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS) if gzipped else None
        self._parts: list[bytes] = []
        self._received = 0
        self._produced = 0

    def feed(self, chunk: bytes) -> None:
        limit = self._limit
        self._received += len(chunk)
        if limit is not None and self._received > limit:
            raise _too_large(limit)
        inflater = self._inflater
        if inflater is None:
            self._parts.append(chunk)
            return
        pending = chunk
        try:
            while pending:
                if inflater.eof:
                    raise _malformed("data after the end of the gzip stream")
                # At most one byte over the limit, to tell "at" from "over" (0: no bound).
                room = 0 if limit is None else limit + 1 - self._produced
                out = inflater.decompress(pending, room)
                self._produced += len(out)
                if limit is not None and self._produced > limit:
                    raise Problem(
                        413,
                        "payload-too-large",
                        f"the body expands beyond the limit of {limit} bytes",
                    )
                self._parts.append(out)
                pending = inflater.unconsumed_tail
                if inflater.eof and (pending or inflater.unused_data):
                    raise _malformed("data after the end of the gzip stream")
        except zlib.error as exc:
            raise _malformed(f"the body is not valid gzip: {exc}") from None

    def finish(self) -> bytes:
        if self._inflater is not None and not self._inflater.eof:
            raise _malformed("the gzip stream is truncated")
        return b"".join(self._parts)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _lone_surrogate(value: Any) -> bool:
    """Whether a string anywhere in ``value`` (keys included) holds a lone surrogate:
    not a Unicode character, so it cannot be stored, encoded or echoed back."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except (UnicodeEncodeError, RecursionError):
        return True
    return False


def parse_json(body: bytes) -> Any:
    """The parsed body, or a 400 ``Problem``.

    Strings with a lone surrogate (``"\\ud800"``) are refused like bad UTF-8
    (RFC 7493, I-JSON): valid JSON syntax, but not text."""
    try:
        value = json.loads(body, parse_constant=_reject_constant)
    except UnicodeDecodeError:
        raise _malformed("the body is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise _malformed(
            f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    except (ValueError, RecursionError) as exc:
        raise _malformed(f"invalid JSON: {exc}") from None
    if _SURROGATE_ESCAPE.search(body) and _lone_surrogate(value):
        raise _malformed(
            "the JSON has a string with a lone surrogate (\\ud800 to \\udfff unpaired), "
            "which is not Unicode text"
        )
    return value
