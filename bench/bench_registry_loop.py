"""Whether one service's heavy requests freeze the registry for everyone else.

For each backend (SQLite in a temporary directory; PostgreSQL at 127.0.0.1:5432/test
in a throwaway schema, with ``--backends sqlite,postgresql``) it starts the registry
on uvicorn in its own process and has one client fetch ``/openapi.json`` over and
over, one request at a time, timing each answer, while another client, with a
valid token:

1. waits (the latency at rest, measured in the same run);
2. posts a 7,000-row batch in which every 8th row is invalid (a ``422`` listing
   875 errors after a full pass of the schema validator: its worst case, as the
   registry stops listing at 1,000), ``--repeat`` times;
3. PUTs a 6,000-system manifest of another service, a new version each time,
   ``--repeat`` times.

It prints p50, p99 and the worst ``/openapi.json`` latency during each phase
beside the p99 at rest, how long the heavy requests took, and whether the p99
stays under 1 s (and within 1 s of the p99 at rest).

Run: ``.venv/bin/python bench/bench_registry_loop.py [--backends sqlite,postgresql]
[--rest 5] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import tomllib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from bench_registry import (  # the same server and database
    PG_URL,
    SERVER,
    free_port,
    scratch_schemas,
    wait_until_up,
)

from ai_disclosure.registry.db import create_engine, migrate
from ai_disclosure.registry.tokens import issue_token

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / "examples" / "montpellier" / "ai-disclosure.toml"
BIG = "grand-service"
WINDOW = (datetime.now(UTC) - timedelta(days=2)).strftime("%Y-%m-%dT%H:00:00Z")


def invalid_batch(rows: int) -> bytes:
    """A batch whose every 8th row has an unknown mode: the schema validator's worst
    case, a full pass that lists fewer errors than the registry's cap (1,000)."""
    good = {
        "system": "assistant-dechets",
        "route": "/dechets",
        "mode": "ai-originated",
        "notice_shown": True,
        "window_start": WINDOW,
        "count": 1,
    }
    bad = {**good, "mode": "ai-invented"}
    counts = [bad if n % 8 == 7 else good for n in range(rows)]
    body = {"batch_id": str(uuid.uuid4()), "service": "demarches", "counts": counts}
    return json.dumps(body, separators=(",", ":")).encode()


def big_manifest(systems: int, version: int) -> bytes:
    """A valid manifest of ``systems`` small systems; ``version`` changes its content."""
    manifest = {
        "service": {
            "id": BIG,
            "name": f"Service de test, version {version}",
            "operator": "Montpellier Méditerranée Métropole",
            "contact": "mailto:ia@montpellier3m.example",
            "default_language": "fr",
        },
        "systems": [
            {
                "id": f"s{n:05d}",
                "name": {"fr": f"Système {n}"},
                "interaction": "chatbot",
                "origin": "ai-originated",
                "human_review": False,
                "purpose": {"fr": f"Usage {n}."},
            }
            for n in range(systems)
        ],
    }
    return json.dumps(manifest, ensure_ascii=False, separators=(",", ":")).encode()


async def prepare(url: str, connect_args: dict[str, Any]) -> tuple[str, str]:
    engine = create_engine(url, connect_args=connect_args)
    try:
        await migrate(engine)
        return (await issue_token(engine, "demarches"))[1], (await issue_token(engine, BIG))[1]
    finally:
        await engine.dispose()


@dataclass
class Probe:
    """``/openapi.json`` fetched back to back: (start, seconds) of each answer."""

    client: httpx.AsyncClient
    samples: list[tuple[float, float]] = field(default_factory=list)
    running: bool = True

    async def run(self) -> None:
        while self.running:
            start = time.perf_counter()
            response = await self.client.get("/openapi.json")
            assert response.status_code == 200, response.status_code
            self.samples.append((start, time.perf_counter() - start))

    def between(self, start: float, end: float) -> list[float]:
        """Latencies of the requests that were under way at some point in [start, end]."""
        return sorted(s for t, s in self.samples if t <= end and t + s >= start)


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile of sorted ``values``."""
    if not values:
        return float("nan")
    return values[min(len(values) - 1, max(0, round(share * len(values)) - 1))]


@dataclass
class Phase:
    name: str
    latencies: list[float]
    heavy: list[float]  # seconds each heavy request took
    statuses: list[int]


async def run_backend(
    url: str, connect_args: dict[str, Any], rest: float, repeat: int
) -> list[Phase]:
    batch_token, big_token = await prepare(url, connect_args)
    port = free_port()
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-c", SERVER, url, str(port), json.dumps(connect_args)
    )
    base = f"http://127.0.0.1:{port}"
    json_headers = {"Content-Type": "application/json"}
    try:
        async with (
            httpx.AsyncClient(base_url=base, timeout=120) as prober,
            httpx.AsyncClient(base_url=base, timeout=120, headers=json_headers) as heavy,
        ):
            await wait_until_up(prober)
            with MANIFEST.open("rb") as file:
                example = tomllib.load(file)
            put = await heavy.put(
                "/v1/services/demarches/manifest",
                content=json.dumps(example).encode(),
                headers={"Authorization": f"Bearer {batch_token}"},
            )
            assert put.status_code in (200, 201), put.text
            batch_body = invalid_batch(7000)
            manifests = [big_manifest(6000, v) for v in range(repeat)]
            print(
                f"  bodies: invalid batch {len(batch_body):,} bytes, "
                f"manifest {len(manifests[0]):,} bytes",
                file=sys.stderr,
            )

            probe = Probe(prober)
            task = asyncio.create_task(probe.run())
            phases: list[Phase] = []

            start = time.perf_counter()
            await asyncio.sleep(rest)
            phases.append(Phase("at rest", probe.between(start, time.perf_counter()), [], []))

            async def heavy_phase(name: str, requests: list[tuple[str, str, bytes, str]]) -> None:
                times, statuses = [], []
                phase_start = time.perf_counter()
                for method, path, body, token in requests:
                    began = time.perf_counter()
                    response = await heavy.request(
                        method, path, content=body, headers={"Authorization": f"Bearer {token}"}
                    )
                    times.append(time.perf_counter() - began)
                    statuses.append(response.status_code)
                    assert response.status_code in (201, 422), response.text[:300]
                phases.append(
                    Phase(name, probe.between(phase_start, time.perf_counter()), times, statuses)
                )

            await heavy_phase(
                "7,000-row invalid batch",
                [("POST", "/v1/disclosures", batch_body, batch_token)] * repeat,
            )
            await heavy_phase(
                "6,000-system manifest PUT",
                [("PUT", f"/v1/services/{BIG}/manifest", m, big_token) for m in manifests],
            )
            probe.running = False
            await task
            return phases
    finally:
        server.terminate()
        await asyncio.wait_for(server.wait(), 30)


def report(backend: str, phases: list[Phase]) -> bool:
    rest_p99 = percentile(phases[0].latencies, 0.99)
    print(f"\n{backend}: /openapi.json latency, ms (p99 at rest {rest_p99 * 1000:.1f} ms)")
    print(
        f"{'phase':<28}{'samples':>8}{'p50':>9}{'p99':>9}{'max':>9}"
        f"{'p99 - rest':>12}{'heavy requests, s':>26}"
    )
    fine = True
    for phase in phases:
        p50 = percentile(phase.latencies, 0.50)
        p99 = percentile(phase.latencies, 0.99)
        worst = phase.latencies[-1] if phase.latencies else float("nan")
        heavy = ", ".join(
            f"{t:.2f} ({s})" for t, s in zip(phase.heavy, phase.statuses, strict=True)
        )
        print(
            f"{phase.name:<28}{len(phase.latencies):>8}{p50 * 1000:>9.1f}{p99 * 1000:>9.1f}"
            f"{worst * 1000:>9.1f}{(p99 - rest_p99) * 1000:>12.1f}  {heavy}"
        )
        if phase.heavy:
            fine = fine and p99 < 1.0 and p99 - rest_p99 < 1.0
    verdict = "stays" if fine else "does NOT stay"
    print(f"{backend}: the p99 {verdict} under 1 s (and within 1 s of the p99 at rest)")
    return fine


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backends", default="sqlite", help="comma-separated: sqlite,postgresql")
    parser.add_argument("--rest", type=float, default=5.0, help="seconds measured at rest")
    parser.add_argument("--repeat", type=int, default=3, help="heavy requests per phase")
    args = parser.parse_args()

    fine = True
    for backend in args.backends.split(","):
        print(f"{backend}: running", file=sys.stderr)
        if backend == "sqlite":
            with tempfile.TemporaryDirectory() as folder:
                url = f"sqlite+aiosqlite:///{folder}/registry.sqlite3"
                phases = asyncio.run(run_backend(url, {}, args.rest, args.repeat))
        else:
            with scratch_schemas("bench_loop") as schemas:
                if schemas is None:
                    continue
                scoped = {"server_settings": {"search_path": schemas[0]}}
                phases = asyncio.run(run_backend(PG_URL, scoped, args.rest, args.repeat))
        fine = report(backend, phases) and fine
    print(f"\n{os.cpu_count()} CPUs; p99 under 1 s throughout: {'yes' if fine else 'NO'}")
    return 0 if fine else 1


if __name__ == "__main__":
    sys.exit(main())
