"""``ai-disclosure registry ...``: serve, migrate, tokens and push-manifest."""

from __future__ import annotations

import argparse
import asyncio
import gzip
import os
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ai_disclosure.cli import registry as command

from ..conftest import EXAMPLE_MANIFEST


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="ai-disclosure")
    command.register(parser.add_subparsers())
    args = parser.parse_args(list(argv))
    code: int = args.run(args)
    return code


def test_token_lifecycle(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "r.sqlite3")
    assert run("registry", "migrate", "--db", db) == 0
    assert "database up to date" in capsys.readouterr().out
    assert run("registry", "token", "create", "demarches", "--label", "production", "--db", db) == 0
    secret = capsys.readouterr().out.strip()
    assert secret.startswith("aidr_")
    assert len(secret) > 40
    assert run("registry", "token", "list", "demarches", "--db", db) == 0
    listing = capsys.readouterr().out
    assert secret not in listing
    assert "live" in listing
    assert "production" in listing
    token_id = listing.split()[0]
    assert token_id.startswith("tok_")
    with sqlite3.connect(db) as connection:
        stored = connection.execute("SELECT hash FROM tokens").fetchone()[0]
    assert secret not in stored
    assert len(stored) == 64
    assert run("registry", "token", "revoke", token_id, "--db", db) == 0
    assert run("registry", "token", "revoke", token_id, "--db", db) == 1
    assert run("registry", "token", "list", "demarches", "--db", db) == 0
    assert "revoked" in capsys.readouterr().out


def test_token_for_an_invalid_service_id_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("registry", "token", "create", "Not An Id", "--db", str(tmp_path / "r.db")) == 1
    assert "not a service id" in capsys.readouterr().err


def test_registry_without_a_command_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("registry") == 2
    assert "serve" in capsys.readouterr().err


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


SERVE = (
    "import argparse, sys\n"
    "from ai_disclosure.cli import registry\n"
    "parser = argparse.ArgumentParser(); registry.register(parser.add_subparsers())\n"
    "args = parser.parse_args(sys.argv[1:]); sys.exit(args.run(args))\n"
)


def test_serve_creates_a_sqlite_file_and_push_manifest_publishes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AI_DISCLOSURE_")}
    process = subprocess.Popen(
        [sys.executable, "-c", SERVE, "registry", "serve", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(base + "/openapi.json").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            assert time.monotonic() < deadline, "the registry did not start"
            time.sleep(0.1)
        database = tmp_path / "ai-disclosure-registry.sqlite3"
        assert database.exists()
        with sqlite3.connect(database) as connection:
            assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert run("registry", "token", "create", "demarches", "--db", str(database)) == 0
        secret = capsys.readouterr().out.strip()
        pushed = run(
            "registry",
            "push-manifest",
            str(EXAMPLE_MANIFEST),
            "--registry",
            base,
            "--token",
            secret,
        )
        assert pushed == 0
        assert "version 1" in capsys.readouterr().out
        assert (
            run(
                "registry",
                "push-manifest",
                str(EXAMPLE_MANIFEST),
                "--registry",
                base,
                "--token",
                secret,
            )
            == 0
        )
        assert "unchanged, still version 1" in capsys.readouterr().out
        refused = run(
            "registry", "push-manifest", str(EXAMPLE_MANIFEST), "--registry", base, "--token", "bad"
        )
        assert refused == 1
        assert "401" in capsys.readouterr().err
        assert httpx.get(base + "/systems/demarches/assistant-dechets").status_code == 200

        # send-test: an empty batch checks URL and token; --system counts one disclosure.
        common = ["--registry", base, "--token", secret]
        assert run("registry", "send-test", str(EXAMPLE_MANIFEST), *common) == 0
        assert "stored (nothing counted)" in capsys.readouterr().out
        entry = base + "/v1/systems/demarches/detection-fuites"
        before = httpx.get(entry).json()["counts"]["total"]
        args = ["registry", "send-test", str(EXAMPLE_MANIFEST), "--system", "detection-fuites"]
        assert run(*args, *common) == 0
        assert "1 disclosure of 'detection-fuites' counted" in capsys.readouterr().out
        assert httpx.get(entry).json()["counts"]["total"] == before + 1
        assert run("registry", "send-test", str(EXAMPLE_MANIFEST), "--system", "nope", *common) == 1
        assert "no AI system 'nope'" in capsys.readouterr().err
        assert run("registry", "send-test", str(EXAMPLE_MANIFEST), "--registry", base,
                   "--token", "bad") == 1  # fmt: skip
        assert "401" in capsys.readouterr().err
    finally:
        process.terminate()
        process.wait(timeout=15)
        if process.stdout:
            process.stdout.close()


# --- newcomers: tokens land where the registry reads them ------------------------------


def cli(
    *argv: str, cwd: Path, env: dict[str, str] | None = None, prelude: str = ""
) -> subprocess.CompletedProcess[str]:
    """The real command line in a subprocess, with no AI_DISCLOSURE_ variable unless given.
    ``prelude`` runs first (e.g. to make a module look absent)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("AI_DISCLOSURE_")}
    code = (
        f"{prelude}\nimport sys\nfrom ai_disclosure.cli import main\nsys.exit(main(sys.argv[1:]))"
    )
    return subprocess.run(
        [sys.executable, "-c", code, *argv],
        cwd=cwd,
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_token_create_elsewhere_refuses_to_make_a_new_database(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = cli("registry", "token", "create", "demarches", cwd=elsewhere)
    assert result.returncode == 1
    assert "no registry database at" in result.stderr
    assert str(elsewhere / "ai-disclosure-registry.sqlite3") in result.stderr
    assert "--create" in result.stderr
    assert result.stdout == ""  # no token printed
    assert list(elsewhere.iterdir()) == []  # no file created
    for argv in (("token", "list", "demarches"), ("token", "revoke", "tok_x")):
        refused = cli("registry", *argv, cwd=elsewhere)
        assert refused.returncode == 1
        assert "no registry database" in refused.stderr
    assert list(elsewhere.iterdir()) == []


def test_token_create_with_create_or_an_existing_database_says_where(tmp_path: Path) -> None:
    db = tmp_path / "registry.sqlite3"
    made = cli(
        "registry", "token", "create", "demarches", "--create", "--db", str(db), cwd=tmp_path
    )
    assert made.returncode == 0, made.stderr
    assert made.stdout.strip().startswith("aidr_")
    assert f"written to sqlite+aiosqlite:///{db}" in made.stderr
    env = {"AI_DISCLOSURE_REGISTRY_DB": str(db)}
    again = cli("registry", "token", "create", "demarches", cwd=tmp_path, env=env)
    assert again.returncode == 0, again.stderr
    assert str(db) in again.stderr
    listing = cli("registry", "token", "list", "demarches", "--db", str(db), cwd=tmp_path)
    assert listing.stdout.count("live") == 2


def test_a_file_without_the_registry_tables_is_not_a_registry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty.sqlite3"
    sqlite3.connect(empty).close()
    assert run("registry", "token", "create", "demarches", "--db", str(empty)) == 1
    assert "holds no registry" in capsys.readouterr().err
    assert run("registry", "token", "create", "demarches", "--db", str(empty), "--create") == 0


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A new, empty PostgreSQL database, dropped afterwards."""
    from sqlalchemy import text

    from ai_disclosure.registry.db import create_engine

    from .conftest import PG_URL, _pg_reachable

    reason = _pg_reachable()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    name = f"cli_test_{uuid.uuid4().hex[:10]}"

    async def execute(statement: str) -> None:
        engine = create_engine(PG_URL, connect_args={})
        engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as connection:
                await connection.execute(text(statement))
        finally:
            await engine.dispose()

    asyncio.run(execute(f"CREATE DATABASE {name}"))
    try:
        yield PG_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        asyncio.run(execute(f"DROP DATABASE {name} WITH (FORCE)"))


def test_token_create_on_an_empty_postgresql_database_needs_create(
    pg_database: str, tmp_path: Path
) -> None:
    refused = cli("registry", "token", "create", "demarches", "--db", pg_database, cwd=tmp_path)
    assert refused.returncode == 1
    assert "holds no registry" in refused.stderr
    made = cli(
        "registry", "token", "create", "demarches", "--db", pg_database, "--create", cwd=tmp_path
    )
    assert made.returncode == 0, made.stderr
    assert "written to postgresql+asyncpg://" in made.stderr
    listing = cli("registry", "token", "list", "demarches", "--db", pg_database, cwd=tmp_path)
    assert "live" in listing.stdout


def test_an_unreachable_database_is_one_line(tmp_path: Path) -> None:
    port = _free_port()
    url = f"postgresql://postgres:hunter2@127.0.0.1:{port}/test"
    serve = ("serve", "--port", str(_free_port()))
    for argv in (("token", "list", "demarches"), ("migrate",), serve):
        result = cli("registry", *argv, "--db", url, cwd=tmp_path)
        assert result.returncode == 1
        [line] = result.stderr.splitlines()
        assert line.startswith("ai-disclosure registry: cannot use the database")
        assert "hunter2" not in line
        assert result.stdout == ""  # no banner


NO_ASYNCPG = "import sys; sys.modules['asyncpg'] = None"


@pytest.mark.parametrize(
    "argv",
    [
        ("serve", "--port", "0"),
        ("migrate",),
        ("token", "create", "demarches", "--create"),
        ("token", "list", "demarches"),
    ],
)
def test_a_missing_driver_is_one_line_with_the_pip_command(
    tmp_path: Path, argv: tuple[str, ...]
) -> None:
    result = cli(
        "registry", *argv, "--db", "postgresql://postgres@127.0.0.1/test", cwd=tmp_path,
        prelude=NO_ASYNCPG,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "ai-disclosure registry: this database needs the asyncpg driver, not installed: "
        "pip install 'ai-disclosure[postgres]'"
    ]
    assert result.stdout == ""


def test_without_the_registry_extra_the_command_says_what_to_install(tmp_path: Path) -> None:
    result = cli(
        "registry", "migrate", cwd=tmp_path, prelude="import sys; sys.modules['sqlalchemy'] = None"
    )
    assert result.returncode == 1
    assert result.stderr.strip().endswith("pip install 'ai-disclosure[registry]'")
    assert "Traceback" not in result.stderr


def test_serve_on_a_taken_port_does_no_work(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = cli("registry", "serve", "--port", str(port), cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"ai-disclosure registry: port {port} on 127.0.0.1 is taken: stop what uses it or "
        "choose another with --port"
    ]
    assert "AI register on" not in result.stdout  # no banner
    assert list(tmp_path.iterdir()) == []  # no database created


def test_serve_refuses_a_language_the_catalog_lacks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run("registry", "serve", "--language", "xx", "--db", str(tmp_path / "r.sqlite3"))
    assert code == 1
    assert "--language xx: the catalog has no such language; one of fr, " in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []  # no database created


# --- talking to a registry: tokens never echoed, unreachable only when it is ------------


@pytest.fixture(scope="module")
def served_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, Path]]:
    """A real registry on uvicorn: (base URL, a token of 'demarches', the database)."""
    from ai_disclosure.registry import Settings, create_app, create_token

    from ..servers import thread_server

    db = tmp_path_factory.mktemp("served") / "registry.sqlite3"
    token = create_token(str(db), "demarches")
    app = create_app(str(db), settings=Settings(rate_per_second=None))
    with thread_server(app, lifespan="on") as url:
        yield url, token, db


def test_a_token_with_a_newline_from_a_secret_file_works(
    served_registry: tuple[str, str, Path], tmp_path: Path
) -> None:
    url, token, _db = served_registry
    env = {"AI_DISCLOSURE_REGISTRY_URL": url, "AI_DISCLOSURE_REGISTRY_TOKEN": token + "\n"}
    result = cli("registry", "push-manifest", str(EXAMPLE_MANIFEST), cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert "service 'demarches'" in result.stdout
    sent = cli("registry", "send-test", str(EXAMPLE_MANIFEST), cwd=tmp_path, env=env)
    assert sent.returncode == 0, sent.stderr


def test_a_broken_token_is_never_printed(
    served_registry: tuple[str, str, Path], tmp_path: Path
) -> None:
    url, token, _db = served_registry
    broken = token[:12] + "\n" + token[12:]
    env = {"AI_DISCLOSURE_REGISTRY_URL": url, "AI_DISCLOSURE_REGISTRY_TOKEN": broken}
    for name in ("push-manifest", "send-test"):
        result = cli("registry", name, str(EXAMPLE_MANIFEST), cwd=tmp_path, env=env)
        assert result.returncode == 1
        assert "registry token has a character" in result.stderr
        assert token[:12] not in result.stderr + result.stdout
        assert token[12:] not in result.stderr + result.stdout
        assert "unreachable" not in result.stderr


def test_unreachable_is_said_with_the_address(tmp_path: Path) -> None:
    port = _free_port()
    env = {
        "AI_DISCLOSURE_REGISTRY_URL": f"http://127.0.0.1:{port}",
        "AI_DISCLOSURE_REGISTRY_TOKEN": "aidr_not-a-real-one",
    }
    result = cli("registry", "push-manifest", str(EXAMPLE_MANIFEST), cwd=tmp_path, env=env)
    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert line.startswith(
        f"ai-disclosure registry: cannot send the manifest: registry unreachable at "
        f"http://127.0.0.1:{port}"
    )
    assert "ConnectError" in line
    assert "refused the manifest" not in line
    assert "aidr_not-a-real-one" not in line


# --- parked batches: listed and resent -------------------------------------------------

POISON_ROUTE = "/poison*"


class PoisonFor:
    """Wraps the registry: a batch with a count on ``POISON_ROUTE`` gets a 500, as a
    registry bug on that one batch would; everything else reaches the registry."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != "/v1/disclosures":
            await self.app(scope, receive, send)
            return
        messages, body = [], b""
        while True:
            message = await receive()
            messages.append(message)
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        if POISON_ROUTE.encode() in gzip.decompress(body):
            await send({"type": "http.response.start", "status": 500, "headers": []})
            await send({"type": "http.response.body", "body": b"Internal Server Error"})
            return
        replay = iter(messages)

        async def again() -> Any:
            return next(replay, {"type": "http.disconnect"})

        await self.app(scope, again, send)


async def test_a_parked_batch_is_listed_then_resent_once_the_registry_is_fixed(
    tmp_path: Path,
) -> None:
    from ai_disclosure import DisclosureLogger
    from ai_disclosure.client import AsyncRegistryClient
    from ai_disclosure.registry import Settings, create_app, create_token_async

    from ..servers import thread_server

    db = tmp_path / "registry.sqlite3"
    spool = tmp_path / "spool"
    token = await create_token_async(str(db), "demarches")
    app = create_app(str(db), settings=Settings(rate_per_second=None))
    system = "assistant-dechets"
    with thread_server(PoisonFor(app), lifespan="on") as url:
        async with AsyncRegistryClient(url, token) as client:
            await client.push_manifest(EXAMPLE_MANIFEST)
        logger = DisclosureLogger(
            "demarches", url, token, spool_dir=spool, poison_after=2, random=lambda: 0.0
        )
        for _ in range(3):
            logger.record(system, POISON_ROUTE, "ai-originated", True, "fr")
        assert not await logger.flush()
        assert not await logger.flush()  # twice: a suspect, but alone it could be an outage
        for _ in range(4):
            logger.record(system, "/dechets/assistant*", "ai-originated", True, "fr")
        assert await logger.flush()  # stored; the poison is parked, so it flowed
        await logger.aclose()
        assert logger.stats()["parked"] == 3
        async with AsyncRegistryClient(url, token) as client:
            assert (await client.system_entry("demarches", system))["counts"]["total"] == 4

        listed = cli("registry", "parked", "list", "--spool-dir", str(spool), cwd=tmp_path)
        assert listed.returncode == 0, listed.stderr
        [line] = listed.stdout.splitlines()
        assert line.startswith("demarches  ")
        assert "3 increments" in line
        assert "500 Internal Server Error" in line
        batch_id = line.split()[1]

        env = {"AI_DISCLOSURE_REGISTRY_URL": url, "AI_DISCLOSURE_REGISTRY_TOKEN": token}
        resend = ["registry", "parked", "resend", "--spool-dir", str(spool)]
        still = cli(*resend, cwd=tmp_path, env=env)  # the registry still fails on it
        assert still.returncode == 1
        assert f"{batch_id}: the registry refused it: 500" in still.stderr
        assert token not in still.stderr + still.stdout

    with thread_server(app, lifespan="on") as fixed:  # the same database, the bug fixed
        env["AI_DISCLOSURE_REGISTRY_URL"] = fixed
        done = cli(*resend, batch_id, cwd=tmp_path, env=env)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == f"{batch_id}: stored (3 increments)"
        async with AsyncRegistryClient(fixed, token) as client:
            assert (await client.system_entry("demarches", system))["counts"]["total"] == 7
        empty = cli("registry", "parked", "list", "--spool-dir", str(spool), cwd=tmp_path)
        assert empty.stdout.strip() == f"no parked batch in {spool}"
        twice = cli(*resend, batch_id, cwd=tmp_path, env=env)
        assert twice.returncode == 1
        assert "not parked in this spool" in twice.stderr


def test_parked_commands_need_an_existing_spool(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    listed = cli("registry", "parked", "list", "--spool-dir", str(missing), cwd=tmp_path)
    assert listed.returncode == 1
    assert f"no spool directory {missing}" in listed.stderr
    assert not missing.exists()
    (tmp_path / "a.spool.sqlite3").touch()
    (tmp_path / "b.spool.sqlite3").touch()
    env = {"AI_DISCLOSURE_REGISTRY_URL": "http://127.0.0.1:9", "AI_DISCLOSURE_REGISTRY_TOKEN": "t"}
    several = cli(
        "registry", "parked", "resend", "--spool-dir", str(tmp_path), cwd=tmp_path, env=env
    )
    assert several.returncode == 1
    assert "choose one with --service" in several.stderr
