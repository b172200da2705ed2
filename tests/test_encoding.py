"""Content codings undone in bounded slices and redone in kind."""

from __future__ import annotations

import gzip
import os
import zlib

import pytest

from ai_disclosure._encoding import SLICE, DecodeError, Recoder, decodable

PAGE = b"<!doctype html><p>" + b"Le verre va dans la colonne. " * 20000 + os.urandom(2000)
CODINGS = [b"gzip", b"deflate", b"br", b"zstd"]


def encoded(coding: bytes, data: bytes) -> bytes:
    recoder = Recoder(coding)
    return recoder.encode(data) + recoder.finish()


def decode_in_chunks(coding: bytes, data: bytes, size: int) -> list[bytes]:
    recoder = Recoder(coding)
    return [s for i in range(0, len(data), size) for s in recoder.decode(data[i : i + size])]


@pytest.mark.parametrize("coding", CODINGS)
@pytest.mark.parametrize("size", [1, 997, 1 << 20])
def test_round_trip_in_bounded_slices(coding: bytes, size: int) -> None:
    slices = decode_in_chunks(coding, encoded(coding, PAGE), size)
    assert b"".join(slices) == PAGE
    assert max(map(len, slices)) <= SLICE


def test_what_other_encoders_produce_is_read() -> None:
    assert b"".join(Recoder(b"gzip").decode(gzip.compress(PAGE, 9))) == PAGE
    # "deflate" is zlib-wrapped by the RFC, sent raw by some servers: both read.
    assert b"".join(Recoder(b"deflate").decode(zlib.compress(PAGE))) == PAGE
    raw = zlib.compressobj(6, zlib.DEFLATED, -15)
    assert b"".join(Recoder(b"deflate").decode(raw.compress(PAGE) + raw.flush())) == PAGE
    # Several gzip members make one body (RFC 1952).
    two = gzip.compress(PAGE[:100]) + gzip.compress(PAGE[100:])
    assert b"".join(Recoder(b"gzip").decode(two)) == PAGE


def test_a_flushed_piece_is_readable_before_the_end() -> None:
    recoder = Recoder(b"gzip")
    first = recoder.encode(b"<p>premier", flush=True)
    assert zlib.decompressobj(31).decompress(first) == b"<p>premier"


def test_a_highly_compressed_body_never_decodes_whole() -> None:
    bomb = gzip.compress(b"\0" * (64 * SLICE))
    sizes = [len(s) for s in Recoder(b"gzip").decode(bomb)]
    assert sum(sizes) == 64 * SLICE
    assert max(sizes) == SLICE


@pytest.mark.parametrize("coding", CODINGS)
def test_garbage_is_a_decode_error(coding: bytes) -> None:
    with pytest.raises(DecodeError):
        list(Recoder(coding).decode(b"\x1f\x8b\x08 this is not compressed data at all"))


def test_what_can_be_decoded() -> None:
    assert all(decodable(c) for c in CODINGS)  # brotli and zstandard are test deps
    assert not decodable(b"compress")
    assert not decodable(b"gzip, br")  # stacked codings are left alone
    with pytest.raises(ValueError, match="compress"):
        Recoder(b"compress")
