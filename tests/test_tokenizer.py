"""The tokenizer's streaming of constructs too long to hold: a long tag ends
where the one-match pattern ends a short one."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ai_disclosure import _htmlsyntax
from ai_disclosure._inject import Injector

from .test_inject import HEAD, NOTICE

tag_rests = st.lists(
    st.sampled_from([b" ", b"\t", b"a", b"=", b'"', b"'", b"/", b">", b"x", b"b=", b"<"]),
    max_size=16,
).map(b"".join)


@settings(max_examples=500, deadline=None)
@given(rest=tag_rests, size=st.integers(1, 5))
def test_a_long_tag_ends_where_a_short_one_does(rest: bytes, size: int) -> None:
    # The attribute states followed piecewise (tags too long to hold) end the tag at
    # the very '>' the one-match regular expression finds for short ones.
    tag = b"<p" + rest
    name = _htmlsyntax._NAME.match(tag)
    assert name is not None
    short = _htmlsyntax._TAG_REST.match(tag, name.end())
    injector = Injector(HEAD, NOTICE)
    injector._state = _htmlsyntax._State.TAG
    injector._quote = _htmlsyntax._T_NAME
    injector._tag_name = b"p"
    end, out = None, []
    for start in range(2, len(tag), size):
        piece = tag[: start + size]
        found = injector._long_tag(piece, start, out)
        if injector._state is not _htmlsyntax._State.TAG:
            end = found
            break
    assert end == (short.end() if short else None)
