"""Heavy work never runs on the event loop: while a big batch is checked or a big
manifest parsed, a real server keeps answering; one service holds one worker
thread at a time; an invalid batch's error list is bounded."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from ai_disclosure.registry import api as api_module
from ai_disclosure.registry.db import create_engine
from ai_disclosure.registry.tokens import issue_token
from ai_disclosure.registry.validation import MAX_ERRORS
from ai_disclosure.registry.workers import Workers

from .conftest import SERVICE, Backend, Harness, batch, example_manifest, row

JSON = {"Content-Type": "application/json"}


class Gate:
    """Wraps a function so that it waits, once called, until the test releases it,
    and records whether it was called on a thread that runs an event loop."""

    def __init__(self, func: Callable[..., Any]) -> None:
        self.func = func
        self.started = threading.Event()
        self.release = threading.Event()
        self.on_loop: list[bool] = []

    def __call__(self, *args: Any) -> Any:
        try:
            asyncio.get_running_loop()
            self.on_loop.append(True)
        except RuntimeError:
            self.on_loop.append(False)
        self.started.set()
        self.release.wait(30)  # never reached unless the test fails
        return self.func(*args)


async def token_for(backend: Backend, service: str) -> str:
    engine = create_engine(backend.url, connect_args=backend.connect_args)
    try:
        return (await issue_token(engine, service))[1]
    finally:
        await engine.dispose()


async def held(
    client: httpx.AsyncClient, gate: Gate, request: Any
) -> tuple[httpx.Response, httpx.Response]:
    """Send ``request`` (a coroutine); while the gate holds it, fetch /openapi.json.
    Returns both answers, and checks the held request was still waiting meanwhile."""
    task = asyncio.create_task(request)
    for _ in range(3000):
        if gate.started.is_set() or task.done():
            break
        await asyncio.sleep(0.01)
    assert not task.done(), f"answered before its work started: {(await task).text[:300]}"
    assert gate.started.is_set(), "the gated work never started"
    meanwhile = await client.get("/openapi.json")
    assert not task.done(), "the request finished while its work was held"
    gate.release.set()
    return await task, meanwhile


async def test_a_big_invalid_batch_is_checked_off_the_loop(
    server: str, backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = Gate(api_module._checked)
    monkeypatch.setattr(api_module, "_checked", gate)
    token = await token_for(backend, SERVICE)
    auth = {"Authorization": f"Bearer {token}"}
    invalid = batch([row(mode="ai-invented") for _ in range(3000)])
    async with httpx.AsyncClient(base_url=server, timeout=60, headers=auth) as client:
        published = await client.put(f"/v1/services/{SERVICE}/manifest", json=example_manifest())
        assert published.status_code == 201, published.text
        posted, meanwhile = await held(
            client, gate, client.post("/v1/disclosures", content=json.dumps(invalid), headers=JSON)
        )
    assert meanwhile.status_code == 200
    assert posted.status_code == 422
    assert len(posted.json()["errors"]) == MAX_ERRORS
    assert gate.on_loop == [False]


async def test_a_big_manifest_is_parsed_off_the_loop(
    server: str, backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = Gate(api_module._parse)
    monkeypatch.setattr(api_module, "_parse", gate)
    token = await token_for(backend, SERVICE)
    manifest = example_manifest()
    model = manifest["systems"][0]
    model.pop("uuid", None)  # each system has its own
    manifest["systems"] = [{**model, "id": f"systeme-{n:04d}"} for n in range(300)]
    manifest["routes"] = []
    auth = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=server, timeout=60, headers=auth) as client:
        put, meanwhile = await held(
            client, gate, client.put(f"/v1/services/{SERVICE}/manifest", json=manifest)
        )
        assert meanwhile.status_code == 200
        assert put.status_code == 201, put.text
        listed = await client.get("/v1/systems", params={"per_page": "10"})
    assert listed.json()["total"] == 300
    assert gate.on_loop == [False]


async def test_one_service_holds_one_worker_thread_at_a_time() -> None:
    workers = Workers(threads=2)
    release = threading.Event()
    started: dict[str, threading.Event] = {n: threading.Event() for n in ("a1", "a2", "b1")}

    def job(name: str) -> str:
        started[name].set()
        release.wait(30)
        return name

    first = asyncio.create_task(workers.run(job, "a1", service="a"))
    assert await asyncio.to_thread(started["a1"].wait, 30)
    second = asyncio.create_task(workers.run(job, "a2", service="a"))
    other = asyncio.create_task(workers.run(job, "b1", service="b"))
    # b1 gets the second thread although a2 asked first: a2 waits behind a1.
    assert await asyncio.to_thread(started["b1"].wait, 30)
    assert not started["a2"].is_set()
    assert workers.busy("a") == 2
    assert workers.busy("b") == 1
    release.set()
    assert await asyncio.gather(first, second, other) == ["a1", "a2", "b1"]
    assert workers.busy("a") == workers.busy("b") == 0  # nothing kept per service


async def test_the_worker_threads_are_bounded() -> None:
    workers = Workers(threads=2)
    release = threading.Event()
    running = 0
    most = 0
    lock = threading.Lock()

    def job() -> None:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        release.wait(30)
        with lock:
            running -= 1

    tasks = [asyncio.create_task(workers.run(job, service=f"s{n}")) for n in range(6)]
    tasks += [asyncio.create_task(workers.run(job)) for _ in range(3)]
    # Every task reaches the pool: two run, seven wait for a thread. A task holding
    # a thread's token may not have started its job yet on a loaded machine.
    for _ in range(3000):
        with lock:
            started = running
        if workers.limiter.statistics().tasks_waiting == 7 and started == 2:
            break
        await asyncio.sleep(0.01)
    assert workers.limiter.statistics().tasks_waiting == 7
    with lock:
        assert running == 2
    release.set()
    await asyncio.gather(*tasks)
    assert most == 2


@pytest.mark.parametrize(("invalid", "listed"), [(999, 999), (1000, 1000), (1500, MAX_ERRORS)])
async def test_the_error_list_is_bounded(harness: Harness, invalid: int, listed: int) -> None:
    token = await harness.ready()
    rows = [row(mode="ai-invented") for _ in range(invalid)] + [row()]
    response = await harness.send(token, batch(rows))
    assert response.status_code == 422
    problem = response.json()
    assert len(problem["errors"]) == listed
    assert problem["errors"][0]["pointer"] == "/counts/0/mode"
    if invalid > MAX_ERRORS:
        assert problem["detail"].startswith(f"more than {MAX_ERRORS} problems in the batch")
    else:
        assert problem["detail"].startswith(f"{invalid} problems in the batch")
