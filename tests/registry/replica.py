"""A real PostgreSQL streaming replica of the test server, for the read-replica
tests: ``pg_basebackup -R`` of the server on 127.0.0.1:5432 into a scratch
directory, started as a hot standby on a free port, stopped and removed after.

It needs the server's binaries, a ``replication`` line in ``pg_hba.conf`` (``.ci/run``
adds ``host replication all 127.0.0.1/32 trust``) and a way to run them as the
``postgres`` user (root, through ``runuser``, or that user itself)."""

from __future__ import annotations

import contextlib
import getpass
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

__all__ = ["ReplicaUnavailable", "streaming_replica"]


class ReplicaUnavailable(Exception):
    """This machine cannot run a replica; the message says why."""


def _bindir() -> Path:
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/pg_basebackup"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if not found:
        raise ReplicaUnavailable("no PostgreSQL server binaries under /usr/lib/postgresql")
    return found[-1].parent


def _as_postgres() -> list[str]:
    if getpass.getuser() == "postgres":
        return []
    if os.geteuid() == 0 and shutil.which("runuser"):
        return ["runuser", "-u", "postgres", "--"]
    raise ReplicaUnavailable("the replica must run as the postgres user (run the tests as root)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _run(command: list[str], what: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise ReplicaUnavailable(f"{what} failed: {(done.stderr or done.stdout).strip()}")


@contextlib.contextmanager
def streaming_replica(host: str = "127.0.0.1", port: int = 5432) -> Iterator[int]:
    """Run a hot standby of the server at ``host:port``; yield its port."""
    bindir, user = _bindir(), _as_postgres()
    scratch = Path(tempfile.mkdtemp(prefix="ai-disclosure-replica-"))
    data = scratch / "data"
    shutil.chown(scratch, "postgres")
    scratch.chmod(0o700)
    standby = _free_port()
    try:
        _run(
            [*user, str(bindir / "pg_basebackup"), "-h", host, "-p", str(port), "-U", "postgres",
             "-D", str(data), "-R", "-X", "stream", "-c", "fast"],
            "pg_basebackup (is there a 'host replication all 127.0.0.1/32 trust' line?)",
        )  # fmt: skip
        # Debian keeps the configuration outside the data directory: the standby
        # gets its own, minimal one.
        for name, text in {
            "postgresql.conf": f"listen_addresses = '127.0.0.1'\nport = {standby}\n"
            f"unix_socket_directories = '{scratch}'\nhot_standby = on\n",
            "pg_hba.conf": "local all all trust\nhost all all 127.0.0.1/32 trust\n",
        }.items():
            (data / name).write_text(text)
            shutil.chown(data / name, "postgres")
        _run(
            [*user, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(scratch / "log"), "-w",
             "-t", "60", "start"],
            "starting the standby",
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 30
            while True:
                with contextlib.suppress(OSError), socket.create_connection((host, standby), 1):
                    break
                if time.monotonic() > deadline:
                    raise ReplicaUnavailable("the standby did not open its port")
                time.sleep(0.2)
            yield standby
        finally:
            subprocess.run(
                [*user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                capture_output=True,
                timeout=60,
                check=False,
            )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
