"""The well-known endpoints: the service's declaration and the widget's static files.

``GET {prefix}`` answers the declaration: the manifest as JSON (valid against
``schemas/manifest.schema.json``) to machines - ``Accept: application/json``,
``*/*`` or no ``Accept`` at all - and, to browsers, the page a citizen reads
(``_declaration``), in ``?lang=``, else the ``Accept-Language``, else the
service's language; ``?format=json`` or ``?format=html`` choose explicitly.
``GET {prefix}/ai-notice.css`` and friends answer the widget files. Everything
is read or rendered once, at start-up, and served from memory with a strong
``ETag`` per representation - no disk I/O or rendering per request.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from urllib.parse import parse_qsl

from ._declaration import declaration_languages, page_language, prefers_html, render_declaration
from ._headers import HEADER_NAME, AIDisclosureHeader, serialize_header
from ._model import Manifest
from ._rawheaders import if_none_match
from ._resources import data_dir
from ._types import Receive, Scope, Send

__all__ = ["Assets"]

_MEDIA_TYPES = {
    ".css": b"text/css; charset=utf-8",
    ".js": b"text/javascript; charset=utf-8",
    ".json": b"application/json",
    ".svg": b"image/svg+xml",
}
#: Assets change with each release; a day keeps traffic low without pinning old files.
_CACHE_CONTROL = b"public, max-age=86400"
#: The declaration may change at the next deploy: let caches revalidate it.
_DECLARATION_CACHE_CONTROL = b"public, max-age=300"
_NOT_AI = serialize_header(AIDisclosureHeader(mode="none")).encode("latin-1")
#: One URL, two representations and several languages: caches must key on both.
_VARY = (b"vary", b"Accept, Accept-Language")
#: The page has no script and no inline style; it loads only its own stylesheet.
_PAGE_CSP = (
    b"content-security-policy",
    b"default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
    b"form-action 'none'; frame-ancestors 'none'",
)


@dataclass(frozen=True, slots=True)
class _File:
    body: bytes
    media_type: bytes
    etag: bytes
    cache_control: bytes


def _file(body: bytes, media_type: bytes, cache_control: bytes = _CACHE_CONTROL) -> _File:
    digest = hashlib.sha256(body).hexdigest()[:32]
    return _File(body, media_type, f'"{digest}"'.encode("ascii"), cache_control)


def _load_widget_files() -> dict[str, _File]:
    root = data_dir("widgets")
    files: dict[str, _File] = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        # The front-end package's manifest describes the files; a page needs none of it.
        if not path.is_file() or relative.parts[0] in ("templates", "docs", "package.json"):
            continue
        media_type = _MEDIA_TYPES.get(path.suffix)
        if media_type is not None:
            files["/" + relative.as_posix()] = _file(path.read_bytes(), media_type)
    return files


class _Declaration:
    """The declaration's representations: JSON, and one HTML page per language."""

    def __init__(self, manifest: Manifest, prefix: str) -> None:
        self.manifest = manifest
        manifest_json = json.dumps(dict(manifest.raw), ensure_ascii=False, indent=2)
        self.json = _file(
            manifest_json.encode("utf-8"), b"application/json", _DECLARATION_CACHE_CONTROL
        )
        self.pages = {
            language: _file(
                render_declaration(manifest, language, prefix=prefix).encode("utf-8"),
                b"text/html; charset=utf-8",
                _DECLARATION_CACHE_CONTROL,
            )
            for language in declaration_languages(manifest)
        }

    def choose(self, scope: Scope) -> tuple[_File, str | None]:
        """The representation this request asks for, and its language if a page."""
        accept = accept_language = None
        for key, value in scope.get("headers", ()):
            if key == b"accept":
                # Several lines make one list (RFC 9110, 5.3).
                text = value.decode("latin-1")
                accept = text if accept is None else f"{accept}, {text}"
            elif key == b"accept-language" and accept_language is None:
                accept_language = value.decode("latin-1")
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        wanted = query.get("format")
        html = wanted == "html" or (wanted != "json" and prefers_html(accept))
        if not html:
            return self.json, None
        language = page_language(self.manifest, query.get("lang"), accept_language)
        return self.pages[language], language


class Assets:
    """Answers requests under ``prefix``; ``__call__`` returns False for other paths."""

    def __init__(self, manifest: Manifest, prefix: str) -> None:
        self.prefix = prefix
        self.files = _load_widget_files()
        self.declaration = _Declaration(manifest, prefix)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> bool:
        rest = scope["path"][len(self.prefix) :]
        widget = self.files.get(rest) if rest else None
        if rest and widget is None:
            return False
        method = scope.get("method", "GET")
        if method not in ("GET", "HEAD"):
            disclosure = (HEADER_NAME.lower().encode("latin-1"), _NOT_AI)
            await _send(send, 405, b"", [(b"allow", b"GET, HEAD"), disclosure])
            return True
        headers: list[tuple[bytes, bytes]] = []
        if widget is not None:
            found = widget
        else:
            found, language = self.declaration.choose(scope)
            headers.append(_VARY)
            if language is not None:
                headers.append(_PAGE_CSP)
                headers.append((b"content-language", language.encode("ascii", "replace")))
        headers += [
            (b"etag", found.etag),
            (b"cache-control", found.cache_control),
            (HEADER_NAME.lower().encode("latin-1"), _NOT_AI),
            (b"x-content-type-options", b"nosniff"),
        ]
        if if_none_match(scope.get("headers", ()), found.etag):
            await _send(send, 304, b"", headers)
            return True
        headers.append((b"content-type", found.media_type))
        headers.append((b"access-control-allow-origin", b"*"))
        body = b"" if method == "HEAD" else found.body
        await _send(send, 200, body, headers, length=len(found.body))
        return True


async def _send(
    send: Send,
    status: int,
    body: bytes,
    headers: list[tuple[bytes, bytes]],
    length: int | None = None,
) -> None:
    if status != 304:
        size = len(body) if length is None else length
        headers = [*headers, (b"content-length", str(size).encode("ascii"))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
