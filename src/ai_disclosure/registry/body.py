"""Reading request bodies within bounds: the declared length, the bytes that
actually arrive and, for gzip, the bytes they expand to are each held to the
limit, so neither a lying Content-Length nor a gzip bomb can exhaust memory."""

from __future__ import annotations

import json
import re
import zlib
from typing import Any

from starlette.requests import Request

from .problems import Problem

__all__ = ["read_json"]

# A \uD800-\uDFFF escape: the only way a surrogate gets into parsed JSON (UTF-8
# bytes cannot encode one). Most bodies have none, so the full check is rare.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def _too_large(limit: int) -> Problem:
    return Problem(413, "payload-too-large", f"the body exceeds the limit of {limit} bytes")


def _check_media_type(request: Request) -> None:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json" and not (
        media.startswith("application/") and media.endswith("+json")
    ):
        shown = media or "none"
        raise Problem(
            415, "unsupported-media-type", f"Content-Type is {shown}; send application/json"
        )


def _encoding(request: Request) -> str:
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding in ("", "identity"):
        return "identity"
    if encoding in ("gzip", "x-gzip"):
        return "gzip"
    raise Problem(
        415,
        "unsupported-media-type",
        f"Content-Encoding {encoding!r} is not supported; send gzip or no encoding",
    )


async def read_body(request: Request, limit: int) -> bytes:
    """The decoded body, or a ``Problem`` (400, 413, 415)."""
    _check_media_type(request)
    gzipped = _encoding(request) == "gzip"
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise Problem(400, "malformed-body", "Content-Length is not a number")
        if int(declared) > limit:
            raise _too_large(limit)
    received = 0
    parts: list[bytes] = []
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS) if gzipped else None
    produced = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > limit:
                raise _too_large(limit)
            if inflater is None:
                parts.append(chunk)
                continue
            pending = chunk
            while pending:
                if inflater.eof:
                    raise Problem(400, "malformed-body", "data after the end of the gzip stream")
                out = inflater.decompress(pending, limit + 1 - produced)
                produced += len(out)
                if produced > limit:
                    raise Problem(
                        413,
                        "payload-too-large",
                        f"the body expands beyond the limit of {limit} bytes",
                    )
                parts.append(out)
                pending = inflater.unconsumed_tail
                if inflater.eof and (pending or inflater.unused_data):
                    raise Problem(400, "malformed-body", "data after the end of the gzip stream")
        if inflater is not None and not inflater.eof:
            raise Problem(400, "malformed-body", "the gzip stream is truncated")
    except zlib.error as exc:
        raise Problem(400, "malformed-body", f"the body is not valid gzip: {exc}") from None
    return b"".join(parts)


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


async def read_json(request: Request, limit: int) -> Any:
    """The parsed JSON body, or a ``Problem`` (400, 413, 415).

    Strings with a lone surrogate (``"\\ud800"``) are refused like bad UTF-8
    (RFC 7493, I-JSON): valid JSON syntax, but not text."""
    body = await read_body(request, limit)
    try:
        value = json.loads(body, parse_constant=_reject_constant)
    except UnicodeDecodeError:
        raise Problem(400, "malformed-body", "the body is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise Problem(
            400,
            "malformed-body",
            f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}",
        ) from None
    except (ValueError, RecursionError) as exc:
        raise Problem(400, "malformed-body", f"invalid JSON: {exc}") from None
    if _SURROGATE_ESCAPE.search(body) and _lone_surrogate(value):
        raise Problem(
            400,
            "malformed-body",
            "the JSON has a string with a lone surrogate (\\ud800 to \\udfff unpaired), "
            "which is not Unicode text",
        )
    return value
