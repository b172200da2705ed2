"""docs/deploy.md as written: its backup and restore commands bring back the same
register, on SQLite and PostgreSQL, and its systemd unit's command line serves
the registry behind a proxy it trusts."""

from __future__ import annotations

import asyncio
import configparser
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from ai_disclosure.registry import create_app, create_token_async

from ..conftest import ROOT
from ..servers import free_port, wait_until_up
from .conftest import PG_URL, _pg_reachable, batch, example_manifest, row, settings

DEPLOY = ROOT / "docs" / "deploy.md"
READS = (
    "/v1/systems",
    "/v1/stats",
    "/v1/services/demarches",
    "/v1/systems/demarches/assistant-dechets",
    "/v1/systems.csv",
)


def block(name: str) -> str:
    """The fenced block marked ``<!-- test: name -->`` in docs/deploy.md."""
    text = DEPLOY.read_text("utf-8")
    found = re.search(rf"<!-- test: {re.escape(name)} -->\n```\w*\n(.*?)```", text, re.S)
    assert found is not None, f"no block {name!r} in {DEPLOY}"
    return found.group(1)


def run_block(name: str, **env: str) -> str:
    """Run a documented shell block with ``env``, as an operator would."""
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", block(name)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@asynccontextmanager
async def registry(url: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(url, settings=settings(migrate=True))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://registry.test") as c:
            yield c


async def fill(url: str) -> str:
    """A register with a manifest, counts over several days and a decision; the token."""
    async with registry(url) as client:
        token = await create_token_async(url, "demarches")
        auth = {"Authorization": f"Bearer {token}"}
        manifest = example_manifest()
        published = await client.put("/v1/services/demarches/manifest", json=manifest, headers=auth)
        assert published.status_code == 201, published.text
        rows = [
            row(window_start=f"2026-11-{day}T10:00:00Z", count=day, language=language)
            for day in range(26, 31)
            for language in ("fr", "en")
        ]
        decision = {"system": "detection-fuites", "reference": "A", "at": "2026-11-26T10:00:00Z"}
        sent = await client.post(
            "/v1/disclosures", json=batch(rows, decisions=[decision]), headers=auth
        )
        assert sent.status_code == 202, sent.text
    return token


async def snapshot(url: str) -> dict[str, str]:
    async with registry(url) as client:
        found = {}
        for path in READS:
            response = await client.get(path)
            assert response.status_code == 200, (path, response.text)
            found[path] = response.text
        return found


async def later_write(url: str, token: str) -> None:
    """A batch after the backup: the restore must not have it."""
    async with registry(url) as client:
        sent = await client.post(
            "/v1/disclosures",
            json=batch([row(count=1000)]),
            headers={"Authorization": f"Bearer {token}"},
        )
        assert sent.status_code == 202


async def test_sqlite_backup_while_serving_and_restore(tmp_path: Path) -> None:
    if shutil.which("sqlite3") is None and not os.environ.get("CI"):
        pytest.skip("the sqlite3 tool is not installed")
    db = tmp_path / "registry.sqlite3"
    url = f"sqlite+aiosqlite:///{db}"
    backup = tmp_path / "backups" / "registry-2026-12-10.sqlite3"
    backup.parent.mkdir()
    token = await fill(url)
    before = await snapshot(url)
    async with registry(url) as client:  # online: the registry holds the database open
        assert (await client.get("/healthz")).status_code == 200
        checked = await asyncio.to_thread(
            run_block, "sqlite-backup", DB=str(db), BACKUP=str(backup)
        )
        assert checked.strip() == "ok"
    await later_write(url, token)
    assert await snapshot(url) != before
    await asyncio.to_thread(run_block, "sqlite-restore", DB=str(db), BACKUP=str(backup))
    assert await snapshot(url) == before


@pytest.fixture
def databases() -> Iterator[tuple[str, str]]:
    """Two new, empty PostgreSQL database names; dropped afterwards."""
    reason = _pg_reachable()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    suffix = uuid.uuid4().hex[:10]
    names = (f"registry_{suffix}", f"registry_restored_{suffix}")
    yield names
    admin = _libpq(PG_URL)
    for name in names:
        subprocess.run(
            ["dropdb", "--if-exists", "--force", f"--maintenance-db={admin}", name],
            capture_output=True,
            check=False,
        )


def _libpq(url: str, database: str | None = None) -> str:
    """The URL as libpq tools spell it, optionally for another database."""
    plain = url.replace("postgresql+asyncpg://", "postgresql://", 1)
    return plain if database is None else plain.rsplit("/", 1)[0] + "/" + database


async def test_pg_dump_and_restore(databases: tuple[str, str], tmp_path: Path) -> None:
    source, restored = databases
    admin = _libpq(PG_URL)
    created = await asyncio.to_thread(
        subprocess.run,
        ["createdb", f"--maintenance-db={admin}", source],
        capture_output=True,
        text=True,
    )
    assert created.returncode == 0, created.stderr
    url = _libpq(PG_URL, source).replace("postgresql://", "postgresql+asyncpg://", 1)
    token = await fill(url)
    before = await snapshot(url)
    backup = tmp_path / "registry.dump"
    async with registry(url):  # online
        await asyncio.to_thread(
            run_block, "pg-backup", DATABASE_URL=_libpq(PG_URL, source), BACKUP=str(backup)
        )
    await later_write(url, token)
    restored_url = _libpq(PG_URL, restored)
    await asyncio.to_thread(
        run_block,
        "pg-restore",
        ADMIN_URL=admin,
        RESTORED=restored,
        RESTORED_URL=restored_url,
        BACKUP=str(backup),
    )
    back = restored_url.replace("postgresql://", "postgresql+asyncpg://", 1)
    assert await snapshot(back) == before
    assert await snapshot(url) != before


# --- the systemd unit ---------------------------------------------------------------


def unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(block("systemd-unit"))
    return parser


def _installed(command: list[str]) -> list[str]:
    """The unit's command with this environment's ``ai-disclosure`` in place of the
    documented virtual environment's."""
    assert command[0] == "/opt/ai-register/venv/bin/ai-disclosure"
    here = Path(sys.executable).parent / "ai-disclosure"
    assert here.exists(), here
    return [str(here), *command[1:]]


def test_the_unit_is_valid_for_systemd(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    text = block("systemd-unit")
    command = shlex.split(unit()["Service"]["ExecStart"])
    text = text.replace(command[0], _installed(command)[0])
    path = tmp_path / "ai-register.service"
    path.write_text(text, "utf-8")
    done = subprocess.run([analyze, "verify", str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "Unknown" not in done.stderr, done.stderr


def test_the_unit_command_serves_behind_a_trusted_proxy(tmp_path: Path) -> None:
    service = unit()["Service"]
    command = _installed(shlex.split(service["ExecStart"]))
    port = free_port()
    command[command.index("--port") + 1] = str(port)
    state = tmp_path / "state"
    state.mkdir()
    name, _, value = service["Environment"].partition("=")
    env = {
        **os.environ,
        name: value.replace(service["WorkingDirectory"], str(state)),
        "PYTHONUNBUFFERED": "1",
    }
    process = subprocess.Popen(
        command, cwd=state, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/healthz", process)
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(base + "/healthz").json() == {"status": "ok"}
        assert (state / "registry.sqlite3").exists()  # where the unit's Environment says
        bad = {"Authorization": "Bearer aidr_guess", "Content-Type": "application/json"}

        def post(address: str) -> int:
            headers = {**bad, "X-Forwarded-For": address}
            return httpx.post(base + "/v1/disclosures", content=b"{}", headers=headers).status_code

        # The proxy at 127.0.0.1 is trusted: each forwarded client has its own budget.
        assert [post("203.0.113.1") for _ in range(10)] == [401] * 10
        assert post("203.0.113.1") == 429
        assert post("203.0.113.2") == 401
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    # uvicorn stops gracefully, then dies of the signal it caught, which systemd counts
    # as a clean stop (SuccessExitStatus includes SIGTERM).
    assert process.returncode in (0, -signal.SIGTERM), output
    assert "Application shutdown complete" in output
    for private in ("203.0.113", "aidr_guess", "/v1/disclosures"):
        assert private not in output


def test_serve_bounds_open_connections(tmp_path: Path) -> None:
    """Connections that send nothing, which uvicorn never times out, are bounded by
    --limit-concurrency: beyond it, requests are answered 503 at once."""
    port = free_port()
    here = Path(sys.executable).parent / "ai-disclosure"
    command = [str(here), "registry", "serve", "--db", str(tmp_path / "registry.sqlite3")]
    command += ["--port", str(port), "--limit-concurrency", "4"]
    process = subprocess.Popen(
        command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base + "/healthz", process)
        idle = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(4)]
        try:
            with httpx.Client(base_url=base) as client:
                # Wait until the server has accepted them all: then it is full.
                deadline = time.monotonic() + 10
                while (status := client.get("/healthz").status_code) != 503:
                    assert status == 200
                    assert time.monotonic() < deadline, "the limit never applied"
                    time.sleep(0.05)
        finally:
            for sock in idle:
                sock.close()
        deadline = time.monotonic() + 10
        while httpx.get(base + "/healthz").status_code != 200:
            assert time.monotonic() < deadline, "the server did not recover"
            time.sleep(0.05)
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
