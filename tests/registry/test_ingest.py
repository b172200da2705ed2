"""POST /v1/disclosures: stored once, refused with a precise problem otherwise."""

from __future__ import annotations

import asyncio
import gzip
import json
import uuid
import zlib
from typing import Any

import pytest
from sqlalchemy import func, select

from ai_disclosure.registry.tables import batches, counts, daily_totals

from .answers import conforms
from .conftest import SERVICE, Harness, batch, load_batch, row


def assert_problem(response: Any, status: int, kind: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = conforms(response, "problem")
    assert body["status"] == status
    assert body["type"].endswith("/problems/" + kind)
    assert body["title"]
    assert body["detail"]
    return body


async def total(harness: Harness, **where: Any) -> int:
    store = await harness.store()
    query = select(func.coalesce(func.sum(counts.c.count), 0))
    for name, value in where.items():
        query = query.where(counts.c[name] == value)
    async with store.engine.connect() as connection:
        return int((await connection.execute(query)).scalar_one())


async def test_new_batch_is_stored_and_counted(harness: Harness) -> None:
    token = await harness.ready()
    body = load_batch("valid", "typical.json")
    response = await harness.send(token, body)
    assert response.status_code == 202
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"batch_id": body["batch_id"], "status": "stored", "records": 2}
    assert await total(harness) == 45
    assert await total(harness, language="en") == 3


async def test_replayed_batch_is_a_duplicate_and_changes_nothing(harness: Harness) -> None:
    token = await harness.ready()
    body = batch([row(count=5), row(language="en", count=2)])
    assert (await harness.send(token, body)).status_code == 202
    again = await harness.send(token, body)
    assert again.status_code == 200
    assert again.json() == {"batch_id": body["batch_id"], "status": "duplicate", "records": 2}
    assert await total(harness) == 7


async def test_same_key_twice_in_a_batch_adds_up(harness: Harness) -> None:
    token = await harness.ready()
    response = await harness.send(token, batch([row(count=5), row(count=6)]))
    assert response.json()["records"] == 2
    assert await total(harness) == 11
    later = await harness.send(token, batch([row(count=4)]))
    assert later.status_code == 202
    assert await total(harness) == 15
    store = await harness.store()
    async with store.engine.connect() as connection:
        assert (await connection.execute(select(func.count()).select_from(counts))).scalar() == 1
        daily = (await connection.execute(select(daily_totals))).one()
    assert (daily.day, daily._mapping["count"], daily.notice_shown) == ("2026-11-26", 15, 15)


async def test_empty_heartbeat_batch_is_accepted(harness: Harness) -> None:
    token = await harness.ready()
    response = await harness.send(token, load_batch("valid", "empty-heartbeat.json"))
    assert response.status_code == 202
    assert response.json()["records"] == 0


async def test_gzip_body_is_accepted(harness: Harness) -> None:
    token = await harness.ready()
    body = batch([row(count=3)])
    raw = gzip.compress(json.dumps(body).encode())
    response = await harness.send(token, raw, **{"Content-Encoding": "gzip"})
    assert response.status_code == 202, response.text
    assert await total(harness) == 3


async def test_integral_float_count_is_an_integer(harness: Harness) -> None:
    token = await harness.ready()
    response = await harness.send(token, batch([row(count=2.0)]))
    assert response.status_code == 202
    assert await total(harness) == 2


# --- authentication and authorisation ------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Basic dXNlcjpwYXNz", "Bearer aidr_unknown", "Bearer a b"],
)
async def test_missing_or_unknown_token_is_401(harness: Harness, authorization: str | None) -> None:
    await harness.ready()
    headers = {"Content-Type": "application/json"}
    if authorization is not None:
        headers["Authorization"] = authorization
    response = await harness.client.post(
        "/v1/disclosures", content=json.dumps(batch([row()])), headers=headers
    )
    assert_problem(response, 401, "unauthorized")
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert await total(harness) == 0


async def test_revoked_token_is_401(harness: Harness) -> None:
    from ai_disclosure.registry.tokens import issue_token, revoke_token

    await harness.ready()
    store = await harness.store()
    record, secret = await issue_token(store.engine, SERVICE)
    assert (await harness.send(secret, batch([row()]))).status_code == 202
    assert await revoke_token(store.engine, record.id)
    response = await harness.send(secret, batch([row()]))
    assert_problem(response, 401, "unauthorized")
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_token_of_another_service_is_403(harness: Harness) -> None:
    await harness.ready()
    other = await harness.token("eau")
    response = await harness.send(other, batch([row()]))
    body = assert_problem(response, 403, "forbidden")
    assert "'eau'" in body["detail"]
    assert "'demarches'" in body["detail"]
    assert await total(harness) == 0


# --- malformed and invalid bodies ---------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [b"{", b"", b"not json", b'{"a": NaN}', b"\xff\xfe\x00", b"[" * 100000],
    ids=["truncated", "empty", "text", "nan", "not-utf8", "deep"],
)
async def test_malformed_json_is_400(harness: Harness, raw: bytes) -> None:
    token = await harness.ready()
    assert_problem(await harness.send(token, raw), 400, "malformed-body")


async def test_bad_gzip_is_400(harness: Harness) -> None:
    token = await harness.ready()
    good = gzip.compress(json.dumps(batch([row()])).encode())
    for raw in (b"not gzip at all", good[: len(good) // 2], good + b"trailing"):
        response = await harness.send(token, raw, **{"Content-Encoding": "gzip"})
        assert_problem(response, 400, "malformed-body")
    assert await total(harness) == 0


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml", ""]
)
async def test_not_json_is_415(harness: Harness, content_type: str) -> None:
    token = await harness.ready()
    response = await harness.send(token, batch([row()]), **{"Content-Type": content_type})
    assert_problem(response, 415, "unsupported-media-type")


async def test_json_with_charset_and_suffix_types_are_accepted(harness: Harness) -> None:
    token = await harness.ready()
    for content_type in ("application/json; charset=utf-8", "application/vnd.batch+json"):
        response = await harness.send(token, batch([row()]), **{"Content-Type": content_type})
        assert response.status_code == 202


async def test_unknown_content_encoding_is_415(harness: Harness) -> None:
    token = await harness.ready()
    response = await harness.send(token, batch([row()]), **{"Content-Encoding": "br"})
    assert_problem(response, 415, "unsupported-media-type")


async def test_declared_oversize_body_is_413(make_harness: Any) -> None:
    token = await (await make_harness()).ready()
    harness = await make_harness(max_body_bytes=1000)
    body = batch([row(route=f"/r{i}") for i in range(50)])
    assert len(json.dumps(body)) > 1000
    assert_problem(await harness.send(token, body), 413, "payload-too-large")


async def test_streamed_oversize_body_without_length_is_413(make_harness: Any) -> None:
    token = await (await make_harness()).ready()
    harness = await make_harness(max_body_bytes=1000)
    raw = json.dumps(batch([row(route=f"/r{i}") for i in range(50)])).encode()

    async def chunks() -> Any:
        for start in range(0, len(raw), 100):
            yield raw[start : start + 100]

    response = await harness.client.post(
        "/v1/disclosures",
        content=chunks(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert "content-length" not in response.request.headers
    assert_problem(response, 413, "payload-too-large")


async def test_gzip_bomb_is_413(harness: Harness) -> None:
    token = await harness.ready()
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    bomb = compressor.compress(b" " * (64 << 20)) + compressor.flush()  # 64 MiB of spaces
    assert len(bomb) < 100_000
    response = await harness.send(token, bomb, **{"Content-Encoding": "gzip"})
    body = assert_problem(response, 413, "payload-too-large")
    assert "expands" in body["detail"]


@pytest.mark.parametrize(
    ("name", "pointer"),
    sorted(
        json.loads(
            (load_batch.__globals__["BATCH_EXAMPLES"] / "invalid" / "EXPECTED.json").read_text()
        ).items()
    ),
)
async def test_schema_invalid_examples_are_422_with_pointers(
    harness: Harness, name: str, pointer: str
) -> None:
    token = await harness.ready()
    body = load_batch("invalid", name)
    if "service" in body:
        body["service"] = SERVICE
    response = await harness.send(token, body)
    problem = assert_problem(response, 422, "invalid-batch")
    assert pointer in [e["pointer"] for e in problem["errors"]], problem
    assert await total(harness) == 0


async def test_every_schema_error_is_listed(harness: Harness) -> None:
    token = await harness.ready()
    body = batch(
        [
            row(count="3"),
            row(notice_shown="yes"),
            row(mode="ai-assisted"),
            row(window_start="yesterday"),
            row(route="https://x.example/?q=1"),
            {**row(), "ip": "203.0.113.9"},
        ],
        dropped=-1,
    )
    problem = assert_problem(await harness.send(token, body), 422, "invalid-batch")
    pointers = {e["pointer"] for e in problem["errors"]}
    assert pointers >= {
        "/counts/0/count",
        "/counts/1/notice_shown",
        "/counts/2/mode",
        "/counts/3/window_start",
        "/counts/4/route",
        "/counts/5/ip",
        "/dropped",
    }
    assert all(e["detail"] for e in problem["errors"])


async def test_impossible_window_start_is_422(harness: Harness) -> None:
    token = await harness.ready()
    body = batch([row(), row(window_start="2026-02-30T10:00:00Z")])
    problem = assert_problem(await harness.send(token, body), 422, "invalid-batch")
    assert problem["errors"][0]["pointer"] == "/counts/1/window_start"


@pytest.mark.parametrize("value", [[], {}, "x", 3, None])
async def test_body_that_is_not_an_object_is_422(harness: Harness, value: Any) -> None:
    token = await harness.ready()
    assert_problem(await harness.send(token, value), 422, "invalid-batch")


# --- systems and manifests --------------------------------------------------------------


async def test_system_not_in_the_manifest_is_422(harness: Harness) -> None:
    token = await harness.ready()
    body = batch([row(), row(system="inconnu"), row(system="autre")])
    problem = assert_problem(await harness.send(token, body), 422, "unknown-system")
    assert [e["pointer"] for e in problem["errors"]] == ["/counts/1/system", "/counts/2/system"]
    assert "'inconnu'" in problem["errors"][0]["detail"]
    assert "assistant-dechets" in problem["errors"][0]["detail"]
    assert await total(harness) == 0


async def test_service_without_manifest_is_told_to_push_it(harness: Harness) -> None:
    token = await harness.token()
    problem = assert_problem(await harness.send(token, batch([row()])), 422, "unknown-system")
    assert "ai-disclosure registry push-manifest" in problem["detail"]
    assert problem["errors"][0]["pointer"] == "/counts/0/system"


async def test_retry_after_the_system_was_removed_is_still_a_duplicate(harness: Harness) -> None:
    from .conftest import example_manifest

    token = await harness.ready()
    body = batch([row(count=4)])
    assert (await harness.send(token, body)).status_code == 202
    manifest = example_manifest()
    manifest["systems"] = [s for s in manifest["systems"] if s["id"] != "assistant-dechets"]
    manifest["routes"] = [r for r in manifest["routes"] if "assistant-dechets" not in r["systems"]]
    assert (await harness.publish(token, manifest)).status_code == 201
    again = await harness.send(token, body)
    assert again.status_code == 200
    assert again.json()["status"] == "duplicate"
    assert await total(harness) == 4


# --- concurrency --------------------------------------------------------------------------


async def test_eight_concurrent_writers_give_exact_totals(make_harness: Any) -> None:
    """Eight apps (eight pools) on one database, each sending batches that overlap."""
    harnesses = [await make_harness() for _ in range(8)]
    token = await harnesses[0].ready()
    windows = [f"2026-11-26T10:{m:02d}:00Z" for m in range(5)]

    async def writer(harness: Harness, seed: int) -> None:
        for number in range(5):
            rows = [
                row(window_start=w, language=lang, count=seed + number + 1)
                for w in windows
                for lang in (("fr", "en") if (seed + number) % 2 else ("en", "fr"))
            ]
            response = await harness.send(token, batch(rows))
            assert response.status_code == 202, response.text

    await asyncio.gather(*(writer(h, seed) for seed, h in enumerate(harnesses)))
    expected = sum((seed + n + 1) * 10 for seed in range(8) for n in range(5))
    assert await total(harnesses[0]) == expected
    store = await harnesses[0].store()
    async with store.engine.connect() as connection:
        daily = (await connection.execute(select(func.sum(daily_totals.c.count)))).scalar()
        stored = (await connection.execute(select(func.count()).select_from(batches))).scalar()
    assert daily == expected
    assert stored == 40


async def test_identical_batches_at_once_are_counted_once(make_harness: Any) -> None:
    harnesses = [await make_harness() for _ in range(8)]
    token = await harnesses[0].ready()
    body = batch([row(count=7), row(language="en", count=1)])
    responses = await asyncio.gather(*(h.send(token, body) for h in harnesses))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 7 + [202]
    assert {r.json()["records"] for r in responses} == {2}
    assert await total(harnesses[0]) == 8


# --- rate limiting ----------------------------------------------------------------------


async def test_rate_limit_answers_429_with_retry_after(make_harness: Any) -> None:
    harness = await make_harness(rate_per_second=0.5, rate_burst=3)
    token = await harness.token()
    assert (await harness.publish(token)).status_code == 201  # uses one token of the bucket
    statuses = [(await harness.send(token, batch([row()]))).status_code for _ in range(3)]
    assert statuses == [202, 202, 429]
    limited = await harness.send(token, batch([row()]))
    assert_problem(limited, 429, "rate-limited")
    assert int(limited.headers["retry-after"]) >= 1
    # Another service has its own bucket.
    other = await harness.token("eau")
    response = await harness.send(other, batch([row(system="x")], service="eau"))
    assert response.status_code == 422  # not 429: eau has not published, but was not throttled


async def test_bad_batch_id_never_reaches_the_database(harness: Harness) -> None:
    token = await harness.ready()
    response = await harness.send(token, batch([row()], batch_id=str(uuid.uuid4()).upper()))
    assert_problem(response, 422, "invalid-batch")
