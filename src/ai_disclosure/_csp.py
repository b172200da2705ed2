"""A page's Content-Security-Policy nonces, for the head fragment's ``<script>``
and ``<link rel=stylesheet>`` (sans-I/O).

The head is rendered once per combination of systems with sentinels where the
nonces go; each response puts its own nonces in place of them, or drops the
attribute when its policy has none.
"""

from __future__ import annotations

import re

_NONCE_SENTINEL = "aidisclosurenoncesentinel"
_NONCE_SENTINEL_BYTES = _NONCE_SENTINEL.encode("ascii")
_STYLE_SENTINEL = "aidisclosurestylenoncesentinel"
_STYLE_SENTINEL_BYTES = _STYLE_SENTINEL.encode("ascii")
_NONCE = re.compile(rb"'nonce-([A-Za-z0-9+/_=-]{1,200})'", re.IGNORECASE)
#: Where a script's or a stylesheet's nonce is read, most specific first (CSP Level 3).
_SCRIPT_DIRECTIVES = (b"script-src-elem", b"script-src", b"default-src")
_STYLE_DIRECTIVES = (b"style-src-elem", b"style-src", b"default-src")


def _csp_nonce(headers: list[tuple[bytes, bytes]], governing: tuple[bytes, ...]) -> str | None:
    """The nonce the page's CSP allows scripts (or stylesheets) with: from the
    directive that governs them (a nonce for styles would not let a script run)."""
    for key, value in headers:
        if key.lower() != b"content-security-policy":
            continue
        directives: dict[bytes, bytes] = {}
        for directive in value.split(b";"):
            name, _, sources = directive.strip().partition(b" ")
            directives.setdefault(name.lower(), sources)
        for name in governing:
            if name in directives:
                found = _NONCE.search(directives[name])
                if found:
                    return found.group(1).decode("ascii")
                break  # this directive governs them, and it has no nonce
    return None


def _with_nonce(head: bytes, sentinel: bytes, nonce: str | None) -> bytes:
    """``head`` with ``nonce`` where ``sentinel`` stands, or without the attribute."""
    if nonce is None:
        return head.replace(b' nonce="' + sentinel + b'"', b"")
    return head.replace(sentinel, nonce.encode("ascii"))
