"""How fast the registry ingests disclosure counts.

For each backend (SQLite in a temporary file; PostgreSQL at 127.0.0.1:5432/test
in a throwaway schema, when reachable) it measures, in the same run and on the
same rows (batches of 1,000 distinct count rows, as a service sends them):

1. end to end: ``POST /v1/disclosures`` over real HTTP to uvicorn on 127.0.0.1
   (its own process), from concurrent clients sending ready-made bodies;
2. raw: the same upserts straight through the database driver (sqlite3,
   asyncpg), no HTTP, no parsing, no validation;

and prints records per second for both and their ratio. Target: at least
50,000 records/s end to end on SQLite.

Run: ``.venv/bin/python bench/bench_registry.py [--batches 200] [--concurrency 4] [--gzip]``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gzip
import json
import os
import socket
import sqlite3
import sys
import tempfile
import time
import tomllib
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from ai_disclosure.registry.db import create_engine, migrate
from ai_disclosure.registry.store import _upsert_sql
from ai_disclosure.registry.tokens import issue_token

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / "examples" / "montpellier" / "ai-disclosure.toml"
PG_URL = os.environ.get(
    "AI_DISCLOSURE_BENCH_PG", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
SYSTEMS = ("assistant-dechets", "detection-fuites", "tri-courrier", "traduction-pages")
LANGUAGES = ("fr", "en", "oc", "es", "ar")


#: Windows start a month back: the registry refuses those far from its clock.
START = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=30)


def make_rows(index: int, size: int) -> list[dict[str, Any]]:
    """``size`` distinct rows in one minute window: every system, route, language, notice."""
    window = (START + timedelta(minutes=index)).strftime("%Y-%m-%dT%H:%M:%SZ")
    rows = []
    for n in range(size):
        rows.append(
            {
                "system": SYSTEMS[n % len(SYSTEMS)],
                "route": f"/demarches/page-{n // 40}",
                "mode": "ai-originated",
                "notice_shown": n % 2 == 0,
                "language": LANGUAGES[(n // 2) % len(LANGUAGES)],
                "window_start": window,
                "count": 1 + n % 7,
            }
        )
    return rows


# --- raw driver rates ------------------------------------------------------------------


def raw_tuples(
    service: str, rows: list[dict[str, Any]]
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The rows as the store writes them (summed per key, sorted)."""
    summed: dict[tuple[Any, ...], int] = {}
    daily: dict[tuple[str, str], list[int]] = {}
    for r in rows:
        key = (
            r["system"],
            r["window_start"],
            r["route"],
            r["mode"],
            r["notice_shown"],
            r["language"],
        )
        summed[key] = summed.get(key, 0) + r["count"]
        d = daily.setdefault((r["system"], r["window_start"][:10]), [0, 0])
        d[0] += r["count"]
        d[1] += r["count"] if r["notice_shown"] else 0
    counts = [(service, *k, n) for k, n in sorted(summed.items())]
    days = [(service, *k, n, s) for k, (n, s) in sorted(daily.items())]
    return counts, days


def raw_sqlite(path: Path, batches: list[list[dict[str, Any]]]) -> float:
    counts_sql, daily_sql = _upsert_sql(postgresql=False)
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    start = time.perf_counter()
    for rows in batches:
        counts, days = raw_tuples("demarches", rows)
        connection.execute("BEGIN")
        connection.executemany(counts_sql, counts)
        connection.executemany(daily_sql, days)
        connection.execute("COMMIT")
    elapsed = time.perf_counter() - start
    connection.close()
    return sum(len(b) for b in batches) / elapsed


async def raw_postgresql(schema: str, batches: list[list[dict[str, Any]]]) -> float:
    import asyncpg  # type: ignore[import-untyped]

    counts_sql, daily_sql = _upsert_sql(postgresql=True)
    dsn = PG_URL.replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(dsn, server_settings={"search_path": schema})
    try:
        start = time.perf_counter()
        for rows in batches:
            counts, days = raw_tuples("demarches", rows)
            async with connection.transaction():
                await connection.execute(
                    counts_sql, "demarches", *zip(*(c[1:] for c in counts), strict=True)
                )
                await connection.execute(
                    daily_sql, "demarches", *zip(*(d[1:] for d in days), strict=True)
                )
        elapsed = time.perf_counter() - start
    finally:
        await connection.close()
    return sum(len(b) for b in batches) / elapsed


# --- end to end over HTTP ----------------------------------------------------------------


SERVER = """
import sys, json, uvicorn
from ai_disclosure.registry import Settings, create_app
url, port, connect_args = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
app = create_app(url, settings=Settings(rate_per_second=None), connect_args=connect_args)
uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def prepare(url: str, connect_args: dict[str, Any]) -> str:
    engine = create_engine(url, connect_args=connect_args)
    try:
        await migrate(engine)
        return (await issue_token(engine, "demarches"))[1]
    finally:
        await engine.dispose()


async def http_rate(
    url: str,
    connect_args: dict[str, Any],
    batches: list[list[dict[str, Any]]],
    concurrency: int,
    compress: bool,
) -> float:
    token = await prepare(url, connect_args)
    port = free_port()
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-c", SERVER, url, str(port), json.dumps(connect_args)
    )
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    if compress:
        headers["Content-Encoding"] = "gzip"
    try:
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as client:
            await wait_until_up(client)
            with MANIFEST.open("rb") as file:
                manifest = tomllib.load(file)
            put = await client.put(
                "/v1/services/demarches/manifest",
                content=json.dumps(manifest),
                headers={"Content-Encoding": "identity"},
            )
            assert put.status_code in (200, 201), put.text
            bodies = []
            for rows in batches:
                raw = json.dumps(
                    {"batch_id": str(uuid.uuid4()), "service": "demarches", "counts": rows},
                    separators=(",", ":"),
                ).encode()
                bodies.append(gzip.compress(raw, 6, mtime=0) if compress else raw)
            # Warm up: connections, caches, prepared statements.
            for body in bodies[:3]:
                response = await client.post("/v1/disclosures", content=body)
                assert response.status_code == 202, response.text
            queue = list(bodies[3:])
            sent = 0

            async def worker() -> None:
                nonlocal sent
                while queue:
                    body = queue.pop()
                    response = await client.post("/v1/disclosures", content=body)
                    assert response.status_code == 202, response.text
                    sent += 1

            start = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            elapsed = time.perf_counter() - start
            return sent * len(batches[0]) / elapsed
    finally:
        server.terminate()
        await asyncio.wait_for(server.wait(), 30)


# --- the runs -----------------------------------------------------------------------------


async def pg_schema(statement: str) -> None:
    from sqlalchemy import text

    engine = create_engine(PG_URL)
    try:
        async with engine.begin() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


@contextlib.contextmanager
def scratch_schemas(*prefixes: str) -> Iterator[list[str] | None]:
    """Throwaway PostgreSQL schemas, one per prefix, dropped afterwards; None (said
    on stderr) when the server cannot make them, so a run goes on with SQLite."""
    tag = uuid.uuid4().hex[:8]
    names = [f"{prefix}_{tag}" for prefix in prefixes]
    try:
        for name in names:
            asyncio.run(pg_schema(f'CREATE SCHEMA "{name}"'))
    except Exception as exc:  # report and go on with the other backends
        print(f"postgresql: skipped ({exc})", file=sys.stderr)
        yield None
        return
    try:
        yield names
    finally:
        for name in names:
            asyncio.run(pg_schema(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))


async def wait_until_up(client: httpx.AsyncClient, path: str = "/openapi.json") -> None:
    """Until the registry started in its own process answers ``path`` (two minutes
    at most: a big register's start-up is part of what is measured, not a hang)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            await client.get(path)
            return
        except httpx.TransportError:
            await asyncio.sleep(0.05)
    raise RuntimeError(f"the registry at {client.base_url} never answered")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--batches", type=int, default=200, help="batches per measurement")
    parser.add_argument("--size", type=int, default=1000, help="count rows per batch")
    parser.add_argument("--concurrency", type=int, default=4, help="concurrent HTTP clients")
    parser.add_argument("--gzip", action="store_true", help="send gzip-compressed bodies")
    parser.add_argument("--backends", default="sqlite,postgresql", help="comma-separated")
    args = parser.parse_args()

    http_batches = [make_rows(i, args.size) for i in range(args.batches)]
    raw_batches = [make_rows(i, args.size) for i in range(args.batches)]
    results: list[tuple[str, float, float]] = []
    for backend in args.backends.split(","):
        with tempfile.TemporaryDirectory() as folder:
            if backend == "sqlite":
                http_url = f"sqlite+aiosqlite:///{folder}/http.sqlite3"
                raw_path = Path(folder) / "raw.sqlite3"
                asyncio.run(prepare(f"sqlite+aiosqlite:///{raw_path}", {}))
                raw = raw_sqlite(raw_path, raw_batches)
                rate = asyncio.run(
                    http_rate(http_url, {}, http_batches, args.concurrency, args.gzip)
                )
            else:
                with scratch_schemas("bench_http", "bench_raw") as schemas:
                    if schemas is None:
                        continue
                    http_schema, raw_schema = schemas
                    scoped = {"server_settings": {"search_path": raw_schema}}
                    asyncio.run(prepare(PG_URL, scoped))
                    raw = asyncio.run(raw_postgresql(raw_schema, raw_batches))
                    scoped = {"server_settings": {"search_path": http_schema}}
                    rate = asyncio.run(
                        http_rate(PG_URL, scoped, http_batches, args.concurrency, args.gzip)
                    )
            results.append((backend, rate, raw))

    body = "gzip" if args.gzip else "JSON"
    print(
        f"\nregistry ingest: {args.batches} batches of {args.size} rows, "
        f"{args.concurrency} concurrent clients, {body} bodies, {os.cpu_count()} CPUs"
    )
    print(f"{'backend':<12}{'HTTP records/s':>16}{'raw DB records/s':>18}{'HTTP / raw':>12}")
    for backend, rate, raw in results:
        print(f"{backend:<12}{rate:>16,.0f}{raw:>18,.0f}{rate / raw:>12.0%}")
    sqlite_rate = next((rate for backend, rate, _ in results if backend == "sqlite"), None)
    if sqlite_rate is not None:
        verdict = "meets" if sqlite_rate >= 50_000 else "MISSES"
        print(f"SQLite end to end {verdict} the 50,000 records/s target")
    return 0


if __name__ == "__main__":
    sys.exit(main())
