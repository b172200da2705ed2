"""Reading request bodies within bounds, as they stream in: the checks and the
decoding are the SDK core's (``_body.py``), shared with the fake registry; this
module only feeds them the request."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from .._body import BodyDecoder, check_length, check_media_type, is_gzipped, parse_json

__all__ = ["read_body", "read_json"]


async def read_body(request: Request, limit: int) -> bytes:
    """The decoded body, or a ``Problem`` (400, 413, 415)."""
    check_media_type(request.headers.get("content-type"))
    decoder = BodyDecoder(is_gzipped(request.headers.get("content-encoding")), limit)
    check_length(request.headers.get("content-length"), limit)
    async for chunk in request.stream():
        decoder.feed(chunk)
    return decoder.finish()


async def read_json(request: Request, limit: int) -> Any:
    """The parsed JSON body, or a ``Problem`` (400, 413, 415)."""
    return parse_json(await read_body(request, limit))
