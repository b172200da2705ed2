"""Crawl sites politely and audit every page reached. The package's only I/O.

Breadth-first from each start URL, same origin only, within depth and page
limits, after robots.txt allows it; one request at a time per origin, ``delay``
seconds apart (or robots.txt's ``Crawl-delay``, if longer). Every verdict comes
from the pure ``rules``; this module only fetches what they need: the pages,
robots.txt and the manifest once per origin, and each register link once per run.

Each request says what it wants: the manifest asks for JSON, a register link is
followed as a browser follows it (HTML first, redirects followed), since a
``/.well-known/ai-disclosure`` may answer a page to people and JSON to machines.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urldefrag, urljoin, urlsplit, urlunsplit

import httpx

from .._version import __version__
from .evidence import declaration_of
from .html import is_html, media_type
from .page import LinkResult, Page, read_page, register_targets
from .results import PageReport, RunReport, SiteReport, Skipped
from .robots import Robots, read_robots
from .rules import evaluate, not_fetched
from .wellknown import WELL_KNOWN_PATH, SiteManifest, read_manifest, unavailable

__all__ = [
    "DEFAULT_USER_AGENT",
    "Options",
    "Progress",
    "audit",
    "normalize",
    "origin_of",
]

DEFAULT_USER_AGENT = (
    f"ai-disclosure-check/{__version__} "
    "(+https://github.com/montpellier-mediterranee-metropole/ai-disclosure)"
)
_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1"
#: What a browser sends when people follow a link (Firefox's navigation Accept).
_BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
_MANIFEST_ACCEPT = "application/json"
#: Enough of a register page to recognise HTML when it names no media type.
_SNIFF_BYTES = 1024
_DEFAULT_PORTS = {"http": 80, "https": 443}
_MAX_PAGE_BYTES = 5 * 1024 * 1024
_MAX_MANIFEST_BYTES = 1024 * 1024
_MAX_ROBOTS_BYTES = 512 * 1024
#: A start URL may move the site to another origin (http to https, a www. host).
_MAX_REHOMES = 3


@dataclass(frozen=True, slots=True)
class Options:
    """How far and how fast to crawl each site; ``strict``: a page that declares
    nothing about AI fails."""

    max_pages: int = 50
    max_depth: int = 3
    delay: float = 0.5
    timeout: float = 10.0
    user_agent: str = DEFAULT_USER_AGENT
    strict: bool = False


class Progress(Protocol):
    """Told before each page is fetched, and once at the end."""

    def fetching(self, origin: str, count: int, limit: int, url: str) -> None: ...

    def finished(self) -> None: ...


class _Silent:
    def fetching(self, origin: str, count: int, limit: int, url: str) -> None:
        pass

    def finished(self) -> None:
        pass


# --- URLs ---------------------------------------------------------------------


def normalize(url: str) -> str:
    """``url`` without fragment or default port, scheme and host in lower case,
    so each page is fetched once. ``ValueError`` for a malformed URL."""
    parts = urlsplit(urldefrag(url.strip()).url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme not in _DEFAULT_PORTS or not host:
        raise ValueError(f"not an http(s) URL: {url}")
    port = parts.port  # raises ValueError for a bad port
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of a normalized URL."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _same_origin_links(hrefs: Sequence[str], base: str, origin: str) -> list[str]:
    """Absolute, normalized same-origin http(s) targets of ``<a href>`` values."""
    found: list[str] = []
    for href in hrefs:
        if not href or href.startswith("#"):
            continue
        try:
            url = normalize(urljoin(base, href))
        except ValueError:  # mailto:, javascript:, tel:, a malformed port...
            continue
        if origin_of(url) == origin:
            found.append(url)
    return found


def _location(page: Page) -> str | None:
    """Where a redirect points, normalized; None for other responses."""
    if page.location is None or not 300 <= page.status < 400:
        return None
    try:
        return normalize(page.location)
    except ValueError:
        return None


def _describe(exc: Exception, timeout: float) -> str:
    name = type(exc).__name__
    if isinstance(exc, httpx.TimeoutException):
        return f"{name} after {timeout:g}s"
    detail = str(exc).strip()
    return f"{name}: {detail}" if detail else name


# --- Politeness -------------------------------------------------------------------


class _Throttle:
    """One request at a time per origin, each ``delay`` seconds after the last ended."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._last: dict[str, float] = {}

    @contextlib.asynccontextmanager
    async def slot(self, origin: str, delay: float) -> AsyncIterator[None]:
        lock = self._locks.setdefault(origin, asyncio.Lock())
        async with lock:
            last = self._last.get(origin)
            if last is not None:
                wait = last + delay - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
            try:
                yield
            finally:
                self._last[origin] = time.monotonic()


@dataclass(frozen=True, slots=True)
class _Response:
    url: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    truncated: bool = False

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name), None)


# --- The auditor ----------------------------------------------------------------


@dataclass
class _Crawl:
    """The state of one site's crawl."""

    start_url: str
    origin: str
    robots: Robots
    manifest: SiteManifest
    pages: list[PageReport] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    queue: deque[tuple[str, int]] = field(default_factory=deque)
    beyond: set[str] = field(default_factory=set)


class _Auditor:
    def __init__(self, client: httpx.AsyncClient, options: Options, progress: Progress) -> None:
        self.client = client
        self.options = options
        self.progress = progress
        self.throttle = _Throttle()
        self.robots: dict[str, Robots] = {}
        self.manifests: dict[str, SiteManifest] = {}
        self.links: dict[str, LinkResult] = {}

    def _delay(self, origin: str) -> float:
        robots = self.robots.get(origin)
        crawl_delay = robots.crawl_delay(self.options.user_agent) if robots else None
        return max(self.options.delay, crawl_delay or 0.0)

    async def _request(
        self,
        method: str,
        url: str,
        *,
        read: int = 0,
        follow: bool = False,
        accept: str | None = None,
    ) -> _Response:
        """One throttled request; reads at most ``read`` bytes of body (0: the
        body of an HTML page, up to the page limit; nothing otherwise)."""
        wanted = {"accept": accept} if accept else None
        async with (
            self.throttle.slot(origin_of(url), self._delay(origin_of(url))),
            self.client.stream(method, url, headers=wanted, follow_redirects=follow) as response,
        ):
            headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers.raw]
            limit = read
            if not read and method == "GET" and 200 <= response.status_code < 300:
                content_type = response.headers.get("content-type")
                if is_html(content_type) or not media_type(content_type):
                    limit = _MAX_PAGE_BYTES
            body = bytearray()
            truncated = False
            if limit:
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > limit:
                        truncated = True
                        del body[limit:]
                        break
            return _Response(
                str(response.url), response.status_code, headers, bytes(body), truncated
            )

    async def _robots(self, origin: str) -> Robots:
        """The origin's robots.txt, fetched once; transport errors propagate."""
        found = self.robots.get(origin)
        if found is None:
            url = origin + "/robots.txt"
            try:
                response = await self._request("GET", url, read=_MAX_ROBOTS_BYTES, follow=True)
                found = read_robots(response.url, response.status, response.body)
            except httpx.TooManyRedirects:
                found = read_robots(url, 404, b"")  # RFC 9309: as if unavailable (4xx)
            self.robots[origin] = found
        return found

    async def _manifest(self, origin: str, robots: Robots) -> SiteManifest:
        """The origin's manifest, fetched once."""
        found = self.manifests.get(origin)
        if found is None:
            found = self.manifests[origin] = await self._fetch_manifest(
                origin + WELL_KNOWN_PATH, robots
            )
        return found

    async def _fetch_manifest(self, url: str, robots: Robots) -> SiteManifest:
        if not robots.allows(self.options.user_agent, url):
            return unavailable(url, f"manifest at {url} not fetched: disallowed by robots.txt")
        try:
            response = await self._request(
                "GET", url, read=_MAX_MANIFEST_BYTES, follow=True, accept=_MANIFEST_ACCEPT
            )
        except httpx.HTTPError as exc:
            return unavailable(url, f"manifest at {url} unreachable: {self._why(exc)}")
        if response.truncated:
            return unavailable(url, f"manifest at {url} is over {_MAX_MANIFEST_BYTES} bytes")
        content_type = response.header("content-type")
        return read_manifest(url, response.status, content_type, response.body)

    def _why(self, exc: Exception) -> str:
        return _describe(exc, self.options.timeout)

    async def _check_link(self, url: str, crawl: _Crawl) -> None:
        """Follow a register link as a browser does, once per URL per run: HEAD,
        then GET (its first bytes) if HEAD is refused or names no media type."""
        if url in self.links:
            return
        if origin_of(url) == crawl.origin and not crawl.robots.allows(self.options.user_agent, url):
            self.links[url] = LinkResult(url, skipped="disallowed by robots.txt")
            return
        try:
            response = await self._request("HEAD", url, follow=True, accept=_BROWSER_ACCEPT)
            if not (200 <= response.status < 300 and response.header("content-type")):
                response = await self._request(
                    "GET", url, read=_SNIFF_BYTES, follow=True, accept=_BROWSER_ACCEPT
                )
        except httpx.HTTPError as exc:
            self.links[url] = LinkResult(url, error=self._why(exc))
            return
        content_type = response.header("content-type")
        self.links[url] = LinkResult(
            url,
            status=response.status,
            media_type=media_type(content_type),
            html=is_html(content_type, response.body),
        )

    async def _start(self, start_url: str) -> _Crawl | SiteReport:
        try:
            start = normalize(start_url)
        except ValueError as exc:
            return SiteReport(start_url, "", error=str(exc))
        origin = origin_of(start)
        try:
            robots = await self._robots(origin)
        except httpx.HTTPError as exc:
            return SiteReport(start_url, origin, error=f"{origin} unreachable: {self._why(exc)}")
        manifest = await self._manifest(origin, robots)
        crawl = _Crawl(start_url, origin, robots, manifest)
        crawl.seen.add(start)
        crawl.queue.append((start, 0))
        return crawl

    async def _rehome(self, crawl: _Crawl, location: str) -> SiteReport | None:
        """Follow a start URL to the origin it redirects to."""
        origin = origin_of(location)
        try:
            crawl.robots = await self._robots(origin)
        except httpx.HTTPError as exc:
            return SiteReport(
                crawl.start_url, origin, error=f"{origin} unreachable: {self._why(exc)}"
            )
        crawl.origin = origin
        crawl.manifest = await self._manifest(origin, crawl.robots)
        crawl.seen.add(location)
        crawl.queue.append((location, 0))
        return None

    async def site(self, start_url: str) -> SiteReport:
        """Crawl and audit one site from ``start_url``."""
        crawl = await self._start(start_url)
        if isinstance(crawl, SiteReport):
            return crawl
        options = self.options
        rehomes = 0
        while crawl.queue:
            url, depth = crawl.queue.popleft()
            if len(crawl.pages) >= options.max_pages:
                crawl.beyond.add(url)
                continue
            if not crawl.robots.allows(options.user_agent, url):
                crawl.skipped.append(Skipped(url, "disallowed by robots.txt"))
                continue
            self.progress.fetching(crawl.origin, len(crawl.pages) + 1, options.max_pages, url)
            try:
                response = await self._request("GET", url)
            except httpx.HTTPError as exc:
                if depth == 0 and not crawl.pages:
                    return SiteReport(
                        start_url, crawl.origin, error=f"{url} unreachable: {self._why(exc)}"
                    )
                crawl.pages.append(PageReport(url, depth, None, None, not_fetched(self._why(exc))))
                continue
            page = read_page(url, response.status, response.headers, response.body)
            for target in register_targets(page) if 200 <= page.status < 300 else ():
                await self._check_link(target, crawl)
            verdicts = evaluate(page, crawl.manifest, self.links, strict=options.strict)
            declaration = (
                declaration_of(page, crawl.manifest.rule_for(page.path))
                if 200 <= page.status < 300
                else None
            )
            content_type = media_type(page.content_type) or None
            crawl.pages.append(
                PageReport(url, depth, page.status, content_type, verdicts, declaration)
            )
            location = _location(page)
            if location is None:
                self._follow_links(crawl, page, depth)
            elif origin_of(location) == crawl.origin:
                self._enqueue(crawl, [location], depth)
            elif depth == 0 and len(crawl.pages) == 1 + rehomes and rehomes < _MAX_REHOMES:
                rehomes += 1
                failed = await self._rehome(crawl, location)
                if failed is not None:
                    return failed
        return self._report(crawl)

    def _follow_links(self, crawl: _Crawl, page: Page, depth: int) -> None:
        """Queue the page's same-origin links one level deeper, within the depth limit."""
        document = page.document
        if document is None:
            return
        base = urljoin(page.url, document.base) if document.base else page.url
        links = _same_origin_links(document.links, base, crawl.origin)
        if depth < self.options.max_depth:
            self._enqueue(crawl, links, depth + 1)
        else:
            crawl.beyond.update(link for link in links if link not in crawl.seen)

    def _enqueue(self, crawl: _Crawl, urls: Sequence[str], depth: int) -> None:
        for url in urls:
            if url not in crawl.seen:
                crawl.seen.add(url)
                crawl.queue.append((url, depth))

    def _report(self, crawl: _Crawl) -> SiteReport:
        manifest = crawl.manifest
        unvisited = len(crawl.beyond - {page.url for page in crawl.pages})
        return SiteReport(
            start_url=crawl.start_url,
            origin=crawl.origin,
            pages=tuple(crawl.pages),
            skipped=tuple(crawl.skipped),
            unvisited=unvisited,
            robots=crawl.robots.note,
            manifest_url=manifest.url,
            manifest_state=manifest.state,
            manifest_reason=manifest.reason,
            manifest_problems=tuple((p.pointer or "/", p.message) for p in manifest.problems),
        )


async def audit(
    urls: Sequence[str],
    options: Options | None = None,
    *,
    progress: Progress | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> RunReport:
    """Crawl and audit each site in turn. ``transport``, when given, carries
    every request instead of httpx's default (to confine or record traffic)."""
    options = options or Options()
    progress = progress or _Silent()
    async with httpx.AsyncClient(
        transport=transport,
        timeout=options.timeout,
        headers={"user-agent": options.user_agent, "accept": _ACCEPT},
        follow_redirects=False,
    ) as client:
        auditor = _Auditor(client, options, progress)
        try:
            sites = [await auditor.site(url) for url in urls]
        finally:
            progress.finished()
    return RunReport(tuple(sites), strict=options.strict)
