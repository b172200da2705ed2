"""Slow and guessing clients: bodies that stall or trickle are cut off with 408 over a
real uvicorn server; an address that keeps sending rejected tokens is answered 429;
a client that leaves mid-body is no error."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from prometheus_client.parser import text_string_to_metric_families

from ai_disclosure.registry import create_app, create_token
from ai_disclosure.registry.guard import client_key
from ai_disclosure.registry.ratelimit import FailureBudget

from .conftest import Harness, batch, example_manifest, row, settings

PROBLEM = "application/problem+json"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# --- the failure budget, on a clock the test controls ------------------------------


def test_failures_spend_the_budget_checks_do_not() -> None:
    clock = Clock()
    budget = FailureBudget(0.1, 3, clock=clock)
    assert [budget.wait("a") for _ in range(10)] == [0] * 10
    for _ in range(3):
        assert budget.wait("a") == 0
        budget.fail("a")
    assert budget.wait("a") == 10
    assert budget.wait("b") == 0  # its own budget
    clock.now += 9.5
    assert budget.wait("a") == 1
    clock.now += 0.5
    assert budget.wait("a") == 0
    budget.fail("a")
    assert budget.wait("a") == 10
    clock.now += 1000
    budget.fail("a")
    budget.fail("a")
    assert budget.wait("a") == 0  # refilled to the burst, never above


def test_budget_remembers_at_most_max_keys() -> None:
    budget = FailureBudget(1.0, 1, max_keys=3, clock=Clock())
    for key in "abcd":
        budget.fail(key)
    assert len(budget) == 3
    assert budget.wait("a") == 0  # the oldest was forgotten
    assert budget.wait("d") == 1


@pytest.mark.parametrize(("rate", "burst"), [(0, 1), (-1, 1), (1, 0)])
def test_budget_refuses_nonsense(rate: float, burst: int) -> None:
    with pytest.raises(ValueError, match="rate must be positive"):
        FailureBudget(rate, burst)


@pytest.mark.parametrize(
    ("client", "key"),
    [
        (("203.0.113.7", 5000), "203.0.113.7"),
        (("2001:db8:1:2:3:4:5:6", 5000), "2001:db8:1:2::/64"),
        (("2001:db8:1:2:ffff::1", 5000), "2001:db8:1:2::/64"),
        (("::ffff:203.0.113.7", 5000), "203.0.113.7"),
        (("unix-socket", 0), "unix-socket"),
        (None, ""),
    ],
)
def test_client_key(client: Any, key: str) -> None:
    assert client_key({"type": "http", "client": client}) == key


# --- bad tokens, through the app ----------------------------------------------------


def _client(harness: Harness, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=harness.app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://registry.test")


async def test_bad_tokens_are_throttled_per_address(make_harness: Any) -> None:
    harness: Harness = await make_harness(bad_token_burst=3, bad_tokens_per_minute=1.0)
    token = await harness.ready()
    bad = {"Authorization": "Bearer aidr_not-a-real-token"}
    async with (
        _client(harness, "198.51.100.9") as guesser,
        _client(harness, "198.51.100.10") as other,
    ):
        for _ in range(3):
            refused = await guesser.post("/v1/disclosures", json=batch([row()]), headers=bad)
            assert refused.status_code == 401
        throttled = await guesser.post("/v1/disclosures", json=batch([row()]), headers=bad)
        assert throttled.status_code == 429, throttled.text
        assert throttled.headers["content-type"] == PROBLEM
        assert 1 <= int(throttled.headers["retry-after"]) <= 60
        body = throttled.json()
        assert body["type"].endswith("/problems/too-many-bad-tokens")
        assert body["title"]
        assert body["status"] == 429
        assert "aidr_" not in throttled.text
        # Even a good token from that address waits: the token is not looked at.
        good = {"Authorization": f"Bearer {token}"}
        held = await guesser.post("/v1/disclosures", json=batch([row()]), headers=good)
        assert held.status_code == 429
        decision = await guesser.get("/v1/services/demarches/decisions/A", headers=bad)
        assert decision.status_code == 429
        # Reading the public register is never throttled.
        assert (await guesser.get("/v1/systems")).status_code == 200
        assert (await guesser.get("/")).status_code == 200
        # Another address has its own budget.
        sent = await other.post("/v1/disclosures", json=batch([row()]), headers=good)
        assert sent.status_code == 202, sent.text


async def test_missing_tokens_and_good_tokens_spend_nothing(make_harness: Any) -> None:
    harness: Harness = await make_harness(bad_token_burst=1, bad_tokens_per_minute=1.0)
    token = await harness.ready()
    async with _client(harness, "198.51.100.9") as client:
        for _ in range(3):
            missing = await client.post("/v1/disclosures", json=batch([row()]))
            assert missing.status_code == 401
            sent = await client.post(
                "/v1/disclosures",
                json=batch([row()]),
                headers={"Authorization": f"Bearer {token}"},
            )
            assert sent.status_code == 202


async def test_throttle_can_be_disabled(make_harness: Any) -> None:
    harness: Harness = await make_harness(bad_tokens_per_minute=None)
    await harness.ready()
    bad = {"Authorization": "Bearer aidr_wrong"}
    for _ in range(30):
        refused = await harness.client.post("/v1/disclosures", json=batch([row()]), headers=bad)
        assert refused.status_code == 401


# --- slow bodies and disconnects, over a real server --------------------------------


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # runs in a thread
        pass


@dataclass
class Live:
    port: int
    token: str
    db: Path

    def metrics(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        text = httpx.get(f"http://127.0.0.1:{self.port}/metrics").text
        return {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text)
            for s in family.samples
        }


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    """The registry on SQLite behind uvicorn as ``registry serve`` runs it (h11), with
    short body timeouts: half a second between pieces, three seconds in all."""
    db = tmp_path / "registry.sqlite3"
    url = f"sqlite+aiosqlite:///{db}"
    token = create_token(url, "demarches")
    app = create_app(url, settings=settings(body_idle_timeout=0.5, body_timeout=3.0))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, http="h11", log_level="warning", access_log=False, ws="none", lifespan="on"
    )
    server = _Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert thread.is_alive(), "the server stopped"
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    published = httpx.put(
        f"http://127.0.0.1:{port}/v1/services/demarches/manifest",
        json=example_manifest(),
        headers={"Authorization": f"Bearer {token}"},
    )
    assert published.status_code == 201, published.text
    yield Live(port, token, db)
    server.should_exit = True
    thread.join(timeout=15)
    sock.close()


def _open(live: Live, length: int) -> socket.socket:
    conn = socket.create_connection(("127.0.0.1", live.port), timeout=30)
    conn.sendall(
        (
            "POST /v1/disclosures HTTP/1.1\r\n"
            "Host: 127.0.0.1\r\n"
            f"Authorization: Bearer {live.token}\r\n"
            "Content-Type: application/json\r\n"
            "Connection: close\r\n"
            f"Content-Length: {length}\r\n\r\n"
        ).encode()
    )
    return conn


def _read_all(conn: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection. A server closing
    while bytes it did not read wait in its buffer sends a reset rather than an end:
    that is a close too (and what came before it is what was received)."""
    data = b""
    try:
        while chunk := conn.recv(65536):
            data += chunk
    except ConnectionResetError:
        pass
    return data


def _parse(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, v in (x.split(":", 1) for x in lines[1:])}
    return status, headers, body


def test_a_stalled_body_is_answered_408_and_closed(live: Live) -> None:
    body = json.dumps(batch([row()])).encode()
    with _open(live, len(body)) as conn:
        conn.sendall(body[:10])  # then nothing more
        status, headers, content = _parse(_read_all(conn))  # ends: the server closed
    assert status == 408
    assert headers["content-type"] == PROBLEM
    assert headers["connection"] == "close"
    problem = json.loads(content)
    assert problem["type"].endswith("/problems/request-timeout")
    assert "no part of the body arrived" in problem["detail"]
    assert (
        live.metrics()[("ai_disclosure_registry_batches_total", (("outcome", "refused"),))] == 1.0
    )


def test_a_trickled_body_is_cut_off(live: Live) -> None:
    """One byte at a time, each well within the pause allowed, never the whole body
    within the total allowed: cut off before the end."""
    body = json.dumps(batch([row()])).encode()
    sent = 0
    with _open(live, len(body)) as conn:
        conn.settimeout(0.2)
        raw = b""
        while sent < len(body):
            conn.sendall(body[sent : sent + 1])
            sent += 1
            try:
                raw = conn.recv(65536)
            except TimeoutError:
                continue
            break
        conn.settimeout(30)
        raw += _read_all(conn)
    assert sent < len(body)
    status, headers, content = _parse(raw)
    assert status == 408
    assert headers["connection"] == "close"
    # The server closes with the trickled bytes it no longer reads still in its
    # buffer, so the kernel may reset the connection and drop the answer's last
    # segment: its length, when the answer arrived whole, says its detail.
    if len(content) == int(headers["content-length"]):
        assert "not received within 3 s" in json.loads(content)["detail"]


def test_a_body_in_time_is_stored(live: Live) -> None:
    body = json.dumps(batch([row()])).encode()
    with _open(live, len(body)) as conn:
        conn.sendall(body[:20])
        conn.sendall(body[20:])
        status, _headers, content = _parse(_read_all(conn))
    assert status == 202, content
    assert json.loads(content)["status"] == "stored"


def test_a_client_leaving_mid_body_is_no_error(
    live: Live, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    body = json.dumps(batch([row()])).encode()
    with _open(live, len(body)) as conn:
        conn.sendall(body[:10])
    abandoned = ("ai_disclosure_registry_batches_total", (("outcome", "abandoned"),))
    deadline = time.monotonic() + 10
    while live.metrics()[abandoned] < 1:  # the server has seen the request end
        assert time.monotonic() < deadline, "the disconnect was never noticed"
        time.sleep(0.05)
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    errors = ("ai_disclosure_registry_batches_total", (("outcome", "error"),))
    assert live.metrics()[errors] == 0.0
    # And the registry goes on serving.
    sent = httpx.post(
        f"http://127.0.0.1:{live.port}/v1/disclosures",
        json=batch([row()]),
        headers={"Authorization": f"Bearer {live.token}"},
    )
    assert sent.status_code == 202
