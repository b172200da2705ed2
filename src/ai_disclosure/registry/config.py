"""Registry settings and database URL handling, kept apart so the CLI, the app and
the helpers agree on one default and one spelling of every URL."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DEFAULT_DB_PATH", "Settings", "default_db_url", "normalize_db_url"]

DEFAULT_DB_PATH = "ai-disclosure-registry.sqlite3"


@dataclass(frozen=True, slots=True)
class Settings:
    """What an operator may tune. The defaults suit one metropolis on one small machine."""

    #: Largest request body accepted, both as sent and after gzip decompression.
    max_body_bytes: int = 1 << 20
    #: Sustained batches per second per service (token bucket refill); ``None`` disables.
    rate_per_second: float | None = 50.0
    #: Batches a service may send at once before the rate applies.
    rate_burst: int = 100
    #: Longest wait, in seconds, for the next piece of a request body: a client that
    #: stops sending is answered 408 instead of holding a connection and a task.
    body_idle_timeout: float = 10.0
    #: Longest time, in seconds, to receive a whole request body, however it trickles.
    body_timeout: float = 60.0
    #: Failed tokens a client address may try at once before it is answered 429.
    bad_token_burst: int = 10
    #: Failed tokens per minute an address may go on trying after that; ``None``
    #: disables the throttle.
    bad_tokens_per_minute: float | None = 6.0
    #: Run the Alembic migrations when the app starts.
    migrate: bool = True
    #: Who publishes the register, shown in the page header and the exports.
    operator: str = "Montpellier Méditerranée Métropole"
    #: The pages' language when neither ``?lang=`` nor ``Accept-Language`` names one
    #: of the catalog's (``widgets/i18n/<language>.json``).
    language: str = "fr"
    #: Largest page size the list endpoints accept.
    max_per_page: int = 500
    #: The register's public address (``https://registre.example``). Absolute links in
    #: exports and API answers use it; without it they follow the request's Host
    #: header, which a client chooses.
    public_url: str | None = None
    #: Seconds a browser, CDN or reverse-proxy cache may keep a public read before
    #: asking again (``Cache-Control: public, max-age=...``); a copy asked again is
    #: answered ``304`` while the register has not changed.
    public_max_age: int = 60
    #: Seconds a download of the whole register (an export with no filter) may lag
    #: behind the register: it is sent from a file rebuilt in the background, since
    #: at scale counts arrive all the time and a live export takes seconds. ``0``:
    #: always current (a download streams live while its file is rebuilt).
    export_max_age: int = 300
    #: Where those files are kept; ``None``: a private temporary directory.
    export_dir: Path | None = None
    #: A second database URL (a read replica) for the public reads; writes and
    #: token-protected reads stay on the main database. ``None``: one database.
    read_db_url: str | None = None
    #: The registry's clock (epoch seconds): window starts and decision times are
    #: accepted from 400 days before it to 1 day after it.
    clock: Callable[[], float] = time.time


def default_db_url() -> str:
    """``./ai-disclosure-registry.sqlite3`` in the working directory."""
    return f"sqlite+aiosqlite:///{Path(DEFAULT_DB_PATH).resolve()}"


def normalize_db_url(value: str | None) -> str:
    """An async SQLAlchemy URL from what people type.

    A bare path means a SQLite file; ``sqlite://`` and ``postgresql://`` get their
    async drivers (aiosqlite, asyncpg) so one ``--db`` value works everywhere.
    """
    if not value:
        return default_db_url()
    if "://" not in value:
        return f"sqlite+aiosqlite:///{Path(value).resolve()}"
    scheme, rest = value.split("://", 1)
    if scheme == "sqlite":
        scheme = "sqlite+aiosqlite"
    elif scheme in ("postgresql", "postgres"):
        scheme = "postgresql+asyncpg"
    return f"{scheme}://{rest}"
