"""CSP nonces: the head fragment's script and stylesheet carry the nonce the page's
policy gives each, or none."""

from __future__ import annotations

import pytest

from ai_disclosure._csp import (
    _NONCE_SENTINEL_BYTES,
    _SCRIPT_DIRECTIVES,
    _STYLE_DIRECTIVES,
    _csp_nonce,
    _with_nonce,
)

from .test_middleware import get, page_app


async def test_csp_nonce_is_reused_and_no_inline_code_is_added() -> None:
    csp = "default-src 'self'; script-src 'self' 'nonce-r4nd0mN0nce=='"
    response = await get(page_app(headers={"Content-Security-Policy": csp}), "/dechets/assistant")
    assert 'nonce="r4nd0mN0nce=="' in response.text
    assert " style=" not in response.text
    assert "<style" not in response.text
    without = await get(page_app(), "/dechets/assistant")
    assert "nonce=" not in without.text


@pytest.mark.parametrize(
    ("csp", "nonce"),
    [
        ("script-src 'nonce-abc'", "abc"),  # short nonces are nonces too
        ("default-src 'self'; SCRIPT-SRC 'NONCE-XyZ9'", "XyZ9"),
        ("style-src 'nonce-forstyles'; script-src 'self'", None),  # not the script's
        ("default-src 'nonce-fromdefault'", "fromdefault"),
        ("script-src-elem 'nonce-elem'; script-src 'nonce-other'", "elem"),
    ],
)
async def test_the_scripts_own_nonce_is_used(csp: str, nonce: str | None) -> None:
    response = await get(page_app(headers={"Content-Security-Policy": csp}), "/dechets/assistant")
    script = response.text.split('<script type="module"')[1].split(">")[0]
    assert (f'nonce="{nonce}"' in script) if nonce else ("nonce=" not in script)


async def test_a_style_nonce_goes_on_the_stylesheet_only() -> None:
    csp = "style-src 'nonce-st'; script-src 'nonce-sc'"
    response = await get(page_app(headers={"Content-Security-Policy": csp}), "/dechets/assistant")
    link = response.text.split('<link rel="stylesheet"')[1].split(">")[0]
    script = response.text.split('<script type="module"')[1].split(">")[0]
    assert 'nonce="st"' in link
    assert 'nonce="sc"' in script
    only_styles = await get(
        page_app(headers={"Content-Security-Policy": "style-src 'nonce-st'"}), "/dechets/assistant"
    )
    assert 'nonce="st"' in only_styles.text.split('<link rel="stylesheet"')[1].split(">")[0]
    assert "nonce=" not in only_styles.text.split('<script type="module"')[1].split(">")[0]
    assert "sentinel" not in response.text + only_styles.text


@pytest.mark.parametrize(
    ("policies", "script", "style"),
    [
        ([], None, None),
        ([b"default-src 'self'"], None, None),
        ([b"default-src 'nonce-d'"], "d", "d"),
        ([b"script-src 'nonce-s'; default-src 'nonce-d'"], "s", "d"),
        ([b"script-src 'self'; default-src 'nonce-d'"], None, "d"),  # governed, no nonce
        ([b"style-src-elem 'nonce-e'; style-src 'nonce-t'"], None, "e"),
        ([b"img-src *", b"script-src 'NONCE-Two'"], "Two", None),  # a second header
        ([b"script-src 'nonce-a'; script-src 'nonce-b'"], "a", None),  # the first counts
    ],
)
def test_each_kind_of_element_takes_the_nonce_its_directive_gives(
    policies: list[bytes], script: str | None, style: str | None
) -> None:
    headers = [(b"content-type", b"text/html")]
    headers += [(b"Content-Security-Policy", policy) for policy in policies]
    assert _csp_nonce(headers, _SCRIPT_DIRECTIVES) == script
    assert _csp_nonce(headers, _STYLE_DIRECTIVES) == style


def test_a_sentinel_becomes_the_nonce_or_goes_with_its_attribute() -> None:
    head = b'<script nonce="' + _NONCE_SENTINEL_BYTES + b'" src=a></script>'
    assert _with_nonce(head, _NONCE_SENTINEL_BYTES, "n0nce") == b'<script nonce="n0nce" src=a>' + (
        b"</script>"
    )
    assert _with_nonce(head, _NONCE_SENTINEL_BYTES, None) == b"<script src=a></script>"
