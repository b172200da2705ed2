"""``ai-disclosure registry ...``: serve, migrate, tokens and push-manifest."""

from __future__ import annotations

import argparse
import os
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

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
