"""Embedding: under another app's Mount (no lifespan) the registry opens its
database on first use, and ``create_token`` works from sync and async code."""

from __future__ import annotations

from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.routing import Mount

from ai_disclosure.registry import create_app, create_token

from .conftest import batch, example_manifest, row


async def test_mounted_registry_migrates_on_first_request(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'embedded.sqlite3'}"
    token = create_token(url, "demarches")  # called inside a running loop: still works
    registry = create_app(url)
    outer = Starlette(routes=[Mount("/registre", app=registry)])
    transport = httpx.ASGITransport(app=outer)
    headers = {"Authorization": f"Bearer {token}"}
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://site.test") as client:
            put = await client.put(
                "/registre/v1/services/demarches/manifest",
                json=example_manifest(),
                headers=headers,
            )
            assert put.status_code == 201, put.text
            sent = await client.post(
                "/registre/v1/disclosures", json=batch([row()]), headers=headers
            )
            assert sent.status_code == 202
            page = await client.get("/registre/systems/demarches/assistant-dechets")
            assert page.status_code == 200
            assert 'href="/registre/static/register.css"' in page.text
            assert 'href="/registre/"' in page.text
    finally:
        await registry.state.registry.close()


def test_create_token_from_sync_code(tmp_path: Path) -> None:
    url = str(tmp_path / "sync.sqlite3")
    first, second = create_token(url, "demarches"), create_token(url, "demarches")
    assert first != second
    assert first.startswith("aidr_")
