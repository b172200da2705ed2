"""Against a real uvicorn server on 127.0.0.1: the wire format as clients send it."""

from __future__ import annotations

import gzip
import json

import httpx

from ai_disclosure.registry import create_token

from .conftest import Backend, batch, example_manifest, row


async def test_gzip_batches_over_real_http(server: str, backend: Backend) -> None:
    token = create_token(backend.url, "demarches") if backend.name == "sqlite" else None
    if token is None:  # the PostgreSQL schema is only reachable with its search path
        from ai_disclosure.registry.db import create_engine
        from ai_disclosure.registry.tokens import issue_token

        engine = create_engine(backend.url, connect_args=backend.connect_args)
        try:
            token = (await issue_token(engine, "demarches"))[1]
        finally:
            await engine.dispose()
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=server, headers=headers) as client:
        published = await client.put("/v1/services/demarches/manifest", json=example_manifest())
        assert published.status_code == 201
        body = batch([row(route=f"/dechets/assistant/{i}", count=i + 1) for i in range(1000)])
        raw = gzip.compress(json.dumps(body).encode())
        sent = await client.post(
            "/v1/disclosures",
            content=raw,
            headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
        )
        assert sent.status_code == 202, sent.text
        assert sent.json()["records"] == 1000
        again = await client.post(
            "/v1/disclosures",
            content=raw,
            headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
        )
        assert again.json()["status"] == "duplicate"
        entry = (await client.get("/v1/systems/demarches/assistant-dechets")).json()
        assert entry["counts"]["total"] == sum(range(1, 1001))
        page = await client.get("/systems/demarches/assistant-dechets")
        assert page.status_code == 200
        assert page.headers["ai-disclosure"] == "mode=none"
        assert "<svg" in page.text
