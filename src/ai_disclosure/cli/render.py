"""``ai-disclosure render``: the head fragment and the notice as static HTML, for
sites no Python server touches (Hugo, Jekyll, Eleventy partials; a CMS's
templates), or written straight into built pages with ``--into``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._inject import Injector, Position
from .._manifest import ManifestError, load_manifest
from .._model import Manifest, System
from .._notice import ASSET_PREFIX, json_for_html, render_head, render_notice
from .._routing import Router

__all__ = ["Static", "register", "routes_block", "run"]

#: File names ``--out`` writes, as a static site generator's partials.
HEAD_FILE = "ai-disclosure-head.html"
NOTICE_FILE = "ai-disclosure-notice.html"


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "render",
        help="print the notice and its head fragment as static HTML",
        description="Render the head fragment (meta, JSON-LD, stylesheet, module script) and "
        "the notice for some systems of a manifest, for a static site's partials. Prints "
        f"both (head first), or writes {HEAD_FILE} and {NOTICE_FILE} into --out, or "
        "inserts them into built pages with --into.",
    )
    parser.add_argument("--manifest", required=True, metavar="FILE", help="the AI manifest")
    parser.add_argument(
        "--system",
        action="append",
        default=[],
        metavar="ID",
        help="a system the page involves (repeat for several; default: every system)",
    )
    parser.add_argument(
        "--route",
        metavar="PATH",
        help="the page's path: its systems are those of the manifest's first matching route",
    )
    parser.add_argument(
        "--lang",
        metavar="TAG",
        help="the notice's language (default: the page's <html lang> with --into, "
        "else the service's default language)",
    )
    parser.add_argument(
        "--asset-prefix",
        default=ASSET_PREFIX,
        metavar="URL",
        help="where the site serves the widget files: ai-notice.css, ai-notice.js, "
        f"ai-notice-core.js, i18n/ (default {ASSET_PREFIX})",
    )
    parser.add_argument(
        "--position",
        choices=[p.value for p in Position],
        default=Position.AFTER_SKIP_LINKS.value,
        help="with --into: where the notice goes in <body> (default after-skip-links)",
    )
    parser.add_argument(
        "--nonce",
        metavar="VALUE",
        help="the page's CSP nonce (or a placeholder the server or CDN replaces per "
        "response) on the stylesheet and the module script",
    )
    parser.add_argument(
        "--routes",
        action="store_true",
        help="add the manifest's route rules after the notice, so that on a single-page "
        "app the notice follows the route (list every system the app's routes involve)",
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--out", metavar="DIR", help=f"write {HEAD_FILE} and {NOTICE_FILE} here")
    where.add_argument(
        "--into", nargs="+", metavar="PAGE", help="insert into these built HTML pages, in place"
    )
    parser.set_defaults(run=run)


def _systems(manifest: Manifest, ids: Sequence[str], route: str | None) -> list[System]:
    """The systems named, those of the route, or every system. ``KeyError`` names
    the known ids; ``LookupError`` says no route matches."""
    chosen = [manifest.system(system_id) for system_id in ids]
    if route is not None:
        match = Router(manifest).match(route)
        if match is None:
            rules = ", ".join(r.path for r in manifest.routes) or "none"
            raise LookupError(f"no route of {manifest.source} matches {route!r} (rules: {rules})")
        chosen += [s for s in match.systems if s not in chosen]
    return chosen or list(manifest.systems)


def routes_block(manifest: Manifest) -> str:
    """The route rules as the script reads them: ``[pattern, ["service/system", …]]``
    in the manifest's order (the first match wins, as on the server)."""
    service = manifest.service.id
    rules = [[r.path, [f"{service}/{s}" for s in r.systems]] for r in manifest.routes]
    return f"<script type=application/json data-ai-notice-routes>{json_for_html(rules)}</script>"


@dataclass(frozen=True, slots=True)
class Static:
    """What to render: the systems, the language (None: the page's, else the
    service's), where the widget files are, the page's CSP nonce and, with
    ``routes``, the route rules after the notice."""

    manifest: Manifest
    systems: Sequence[System]
    language: str | None = None
    asset_prefix: str = ASSET_PREFIX
    nonce: str | None = None
    routes: bool = False

    def fragments(self, page_language: str | None = None) -> tuple[str, str]:
        """The head fragment and the notice, as the middleware would insert them."""
        manifest, systems = self.manifest, self.systems
        lang = self.language or page_language or manifest.service.default_language
        prefix, nonce = self.asset_prefix, self.nonce
        head = render_head(
            manifest, systems, lang, nonce=nonce, style_nonce=nonce, asset_prefix=prefix
        )
        notice = render_notice(
            manifest, systems, lang, page_language=page_language, asset_prefix=prefix
        )
        if self.routes:
            notice += "\n" + routes_block(manifest)
        return head, notice

    def into_page(self, page: bytes, position: Position) -> bytes | None:
        """The page with the fragments inserted, in its own language, or None when it
        cannot safely be changed (it has a notice already, is a frameset, is cut
        short or empty)."""

        def render(page_language: str | None) -> tuple[bytes, bytes]:
            head, notice = self.fragments(page_language)
            return head.encode(), notice.encode()

        injector = Injector(b"", b"", position, max_holdback=len(page) + 1, render=render)
        out = injector.feed(page) + injector.close()
        return out if injector.injected else None


def run(args: argparse.Namespace) -> int:
    try:
        manifest = load_manifest(args.manifest)
        systems = _systems(manifest, args.system, args.route)
    except (ManifestError, LookupError) as exc:
        print(str(exc).strip('"') if isinstance(exc, KeyError) else exc, file=sys.stderr)
        return 1
    static = Static(manifest, systems, args.lang, args.asset_prefix, args.nonce, args.routes)
    if args.into:
        return _into(static, args.into, Position(args.position))
    head, notice = static.fragments()
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / HEAD_FILE).write_text(head, encoding="utf-8")
        (out / NOTICE_FILE).write_text(notice, encoding="utf-8")
        print(f"wrote {out / HEAD_FILE} and {out / NOTICE_FILE}")
    else:
        sys.stdout.write(f"{head}\n{notice}\n")
    return 0


def _into(static: Static, pages: Sequence[str], position: Position) -> int:
    failed = 0
    for name in pages:
        path = Path(name)
        changed = static.into_page(path.read_bytes(), position)
        if changed is None:
            failed += 1
            print(
                f"{path}: left unchanged - it already has a notice, or is a frameset, "
                "empty or cut short",
                file=sys.stderr,
            )
            continue
        path.write_bytes(changed)
        print(f"{path}: notice inserted ({position.value})")
    return 1 if failed else 0
