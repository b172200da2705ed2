"""Content codings, undone and redone in bounded slices (sans-I/O).

Most production stacks compress their own pages (Django's and Starlette's
``GZipMiddleware``, Flask-Compress): the notice must still reach them. A
``Recoder`` decodes the app's body in slices of at most ``SLICE`` bytes, so a
page that expands a lot never sits whole in memory, and encodes the changed page
back in the same coding - the one the app already chose for this client.

``gzip`` and ``deflate`` use the standard library; ``br`` needs the ``brotli``
package and ``zstd`` the ``zstandard`` package (``pip install
'ai-disclosure[compression]'``). A coding that cannot be decoded here is reported
by ``decodable()`` and the page passes through untouched (and the middleware
says so in its log).
"""

from __future__ import annotations

import importlib
import zlib
from collections.abc import Callable, Iterator
from typing import Any

from ._errors import AIDisclosureError

__all__ = ["SLICE", "DecodeError", "Recoder", "decodable"]

#: Largest piece of decoded page handled at once.
SLICE = 65536
#: Level 6: zlib's default, most of level 9's ratio for a fraction of its time.
_GZIP_LEVEL = 6
_BROTLI_QUALITY = 5  # what web servers use for on-the-fly compression
_ZSTD_LEVEL = 3


def _optional(name: str) -> Any:
    """An optional codec package, or None when it is not installed."""
    try:
        return importlib.import_module(name)
    except ImportError:  # pragma: no cover - depends on the installation
        return None


brotli = _optional("brotli")
zstandard = _optional("zstandard")


class DecodeError(AIDisclosureError):
    """The body is not valid in the coding its ``Content-Encoding`` names."""


#: What can be undone here, decided once: asked for every compressed AI page.
_DECODABLE = frozenset(
    [b"gzip", b"x-gzip", b"deflate"]
    # brotli before 1.2 cannot bound its output (no can_accept_more_data).
    + (
        [b"br"]
        if brotli is not None and hasattr(brotli.Decompressor, "can_accept_more_data")
        else []
    )
    + ([b"zstd"] if zstandard is not None else [])
)


def decodable(coding: bytes) -> bool:
    """Whether a ``Content-Encoding`` value (lower-case) can be undone and redone here."""
    return coding in _DECODABLE


class Recoder:
    """Decode one body in ``coding`` slice by slice; encode the result back.

    ``decode(chunk)`` yields the decoded bytes in slices of at most ``SLICE``;
    ``encode(data, flush=True)`` returns what can be sent now (flushed so a
    streamed page reaches the reader as it comes); ``finish()`` ends the stream.
    """

    __slots__ = ("_decode", "_encode", "_finish", "_flush", "coding")

    def __init__(self, coding: bytes) -> None:
        self.coding = coding
        self._decode: Callable[[bytes], Iterator[bytes]]
        if coding in (b"gzip", b"x-gzip"):
            self._decode = _ZlibDecoder(31).decode
            self._zlib_encoder(31)
        elif coding == b"deflate":
            self._decode = _ZlibDecoder(15, fallback=-15).decode
            self._zlib_encoder(15)
        elif coding == b"br" and coding in _DECODABLE:
            self._decode = _BrotliDecoder().decode
            compressor = brotli.Compressor(quality=_BROTLI_QUALITY)
            self._encode = compressor.process
            self._flush = compressor.flush
            self._finish = compressor.finish
        elif coding == b"zstd" and zstandard is not None:
            self._decode = _ZstdDecoder().decode
            compressobj = zstandard.ZstdCompressor(level=_ZSTD_LEVEL).compressobj()
            self._encode = compressobj.compress
            self._flush = lambda: compressobj.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)
            self._finish = compressobj.flush
        else:
            raise ValueError(f"cannot decode content-coding {coding!r}")

    def _zlib_encoder(self, wbits: int) -> None:
        compressor = zlib.compressobj(_GZIP_LEVEL, zlib.DEFLATED, wbits)
        self._encode = compressor.compress
        self._flush = lambda: compressor.flush(zlib.Z_SYNC_FLUSH)
        self._finish = compressor.flush

    def decode(self, data: bytes) -> Iterator[bytes]:
        """The decoded bytes of ``data``, in bounded slices; ``DecodeError`` if corrupt."""
        return self._decode(data)

    def encode(self, data: bytes, *, flush: bool = False) -> bytes:
        out = self._encode(data) if data else b""
        return out + self._flush() if flush else out

    def finish(self) -> bytes:
        return bytes(self._finish())


class _ZlibDecoder:
    """gzip (several members allowed, as RFC 1952 says) or zlib/raw deflate."""

    __slots__ = ("_fallback", "_obj", "_started", "_wbits")

    def __init__(self, wbits: int, fallback: int | None = None) -> None:
        self._wbits = wbits
        self._fallback = fallback
        self._obj = zlib.decompressobj(wbits)
        self._started = False

    def decode(self, data: bytes) -> Iterator[bytes]:
        obj = self._obj
        try:
            while data:
                if obj.eof:
                    if self._wbits != 31:
                        return  # bytes after a deflate stream's end: ignored, as browsers do
                    obj = self._obj = zlib.decompressobj(31)  # the next gzip member
                try:
                    out = obj.decompress(data, SLICE)
                except zlib.error:
                    if self._started or self._fallback is None:
                        raise
                    # "deflate" sent as raw deflate, without the zlib wrapper.
                    obj = self._obj = zlib.decompressobj(self._fallback)
                    self._fallback = None
                    continue
                self._started = True
                data = obj.unconsumed_tail or (obj.unused_data if obj.eof else b"")
                if out:
                    yield out
        except zlib.error as exc:
            raise DecodeError(str(exc)) from None


class _BrotliDecoder:
    __slots__ = ("_obj",)

    def __init__(self) -> None:
        self._obj = brotli.Decompressor()

    def decode(self, data: bytes) -> Iterator[bytes]:
        obj = self._obj
        try:
            out = obj.process(data, output_buffer_limit=SLICE)
            # The limit stops the buffer growing, not at SLICE exactly: drain until
            # a call gives nothing more.
            while out:
                yield from _sliced(out)
                if obj.is_finished():
                    return
                out = obj.process(b"", output_buffer_limit=SLICE)
        except brotli.error as exc:
            raise DecodeError(str(exc)) from None


class _ZstdDecoder:
    """zstandard's streaming decoder has no output bound: its output is sliced after
    (the body comes from the wrapped app itself, not from a stranger)."""

    __slots__ = ("_obj",)

    def __init__(self) -> None:
        self._obj = zstandard.ZstdDecompressor().decompressobj()

    def decode(self, data: bytes) -> Iterator[bytes]:
        try:
            out = self._obj.decompress(data)
        except zstandard.ZstdError as exc:
            raise DecodeError(str(exc)) from None
        yield from _sliced(out)


def _sliced(data: bytes) -> Iterator[bytes]:
    if len(data) <= SLICE:
        yield data
        return
    for start in range(0, len(data), SLICE):
        yield data[start : start + SLICE]
