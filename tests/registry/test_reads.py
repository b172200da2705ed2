"""The public lists answered by the database: pages, filters, search, totals, export
chunks and the register-wide marker, on both backends - and the same answers from
both for one corpus of queries."""

from __future__ import annotations

import copy
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import text

from ai_disclosure.registry import reads as reads_module
from ai_disclosure.registry.caching import validators
from ai_disclosure.registry.db import create_engine
from ai_disclosure.registry.reads import Filters, Reads
from ai_disclosure.registry.store import Store

from .conftest import TABLES, Backend, batch, example_manifest, row

EXAMPLE = example_manifest()
#: One template system per interaction, so that every system stays valid.
TEMPLATES = {s["interaction"]: s for s in EXAMPLE["systems"]}


def system(
    system_id: str,
    name: str,
    purpose: str,
    *,
    interaction: str = "chatbot",
    status: str = "in-use",
    provider: str | None = None,
) -> dict[str, Any]:
    made = copy.deepcopy(TEMPLATES[interaction])
    made.update({"id": system_id, "name": {"fr": name}, "purpose": {"fr": purpose}})
    made["status"] = status
    made["provider"] = provider or "Service interne"
    made.pop("model", None)
    made.pop("uuid", None)  # each system has its own
    return made


def manifest(service: str, name: str, systems: list[dict[str, Any]]) -> dict[str, Any]:
    data = copy.deepcopy(EXAMPLE)
    data["service"]["id"] = service
    data["service"]["name"] = name
    data["systems"] = systems
    data["routes"] = [{"path": f"/{s['id']}*", "systems": [s["id"]]} for s in systems]
    return data


def corpus() -> list[dict[str, Any]]:
    """Services whose texts exercise accents, case, scripts, punctuation, ligatures,
    digits and prefixes; and a series of look-alike systems that rank alike."""
    return [
        manifest(
            "eau",
            "Régie de l'Eau",
            [
                system(
                    "fuites",
                    "Détection des fuites d'eau",
                    "Repérer une consommation anormale sur le réseau.",
                    interaction="automated-decision",
                ),
                system(
                    "factures",
                    "Explication des factures",
                    "Répondre aux abonnés sur leur facture d'EAU.",
                    provider="Mistral AI",
                ),
            ],
        ),
        manifest(
            "dechets",
            "Propreté et déchets",
            [
                system("tri", "Assistant tri des déchets", "Les jours de collecte, rue par rue."),
                system(
                    "encombrants",
                    "Prise de rendez-vous encombrants",
                    "Œuvre commune avec la Straße 12 ; 2024 édition.",
                    status="in-development",
                ),
                system(
                    "arabe",
                    "مساعد فرز النفايات",
                    "الإجابة عن الأسئلة المتعلقة بفرز النفايات",
                    interaction="translation",
                ),
            ],
        ),
        manifest(
            "serie",
            "Guichet unique",
            [system(f"g{n}", f"Guichet numéro {n}", "Orienter les usagers.") for n in range(1, 6)],
        ),
    ]


QUERIES = [
    "eau",
    "EAU",
    "Eau fuites",
    "déch",
    "DECHETS",
    "réseau",
    "seau",
    "l'eau",
    "d eau",
    "mistral",
    "mistral ai",
    "œuvre",
    "oeuvre",
    "strasse",
    "straße",
    "12",
    "202",
    "النفايات",
    "نفا",
    "guichet",
    "guichet numéro 3",
    "numero",
    "orienter usagers",
    "rendez-vous",
    "zzz",
    "eau zzz",
    # Full-text syntax is text here: never an error, never an operator.
    '"',
    "*",
    "eau OR dechets",
    "NEAR(eau fuites)",
    "' & ! | :*",
    "eau:*",
    "-eau",
    "\\",
]


#: A service where a word is one system's name and another's purpose.
ZETA = manifest(
    "zeta",
    "Zeta",
    [
        system("autre", "Autre chose", "Une collecte des données."),
        system("collecte", "Collecte sélective", "Autre chose encore."),
    ],
)


async def _publish_corpus(store: Store) -> None:
    for data in corpus():
        await store.publish(data["service"]["id"], data)


@pytest_asyncio.fixture
async def store(backend: Backend) -> AsyncIterator[Store]:
    engine = create_engine(backend.url, connect_args=backend.connect_args)
    try:
        made = Store(engine)
        await _publish_corpus(made)
        yield made
    finally:
        await engine.dispose()


def keys(page: Any) -> list[tuple[str, str]]:
    return [item.key for item in page.items]


REGISTER_ORDER = [
    (data["service"]["id"], s["id"])
    for data in sorted(corpus(), key=lambda d: d["service"]["id"])
    for s in data["systems"]
]


async def test_pages_in_register_order_with_the_total(store: Store) -> None:
    reads = Reads(store.engine)
    first = await reads.page(Filters(), offset=0, limit=4)
    assert first.total == len(REGISTER_ORDER)
    assert keys(first) == REGISTER_ORDER[:4]
    second = await reads.page(Filters(), offset=4, limit=4)
    assert keys(second) == REGISTER_ORDER[4:8]
    past = await reads.page(Filters(), offset=100, limit=4)
    assert (past.total, past.items) == (len(REGISTER_ORDER), [])


async def test_filters(store: Store) -> None:
    reads = Reads(store.engine)

    async def found(**filters: str) -> list[tuple[str, str]]:
        page = await reads.page(Filters(**filters), offset=0, limit=50)
        assert page.total == len(page.items)
        return keys(page)

    assert await found(service="eau") == [("eau", "fuites"), ("eau", "factures")]
    assert await found(status="in-development") == [("dechets", "encombrants")]
    assert await found(interaction="translation") == [("dechets", "arabe")]
    assert await found(interaction="chatbot", service="eau") == [("eau", "factures")]
    assert await found(interaction="chatbot", query="eau") == [("eau", "factures")]
    assert await found(service="nowhere") == []


async def test_cards_hold_what_lists_show(store: Store) -> None:
    page = await Reads(store.engine).page(Filters(service="eau"), offset=0, limit=1)
    card = page.items[0].card
    assert card["summary"]["system"] == "fuites"
    assert card["summary"]["url"] == "/systems/eau/fuites"
    assert card["texts"]["name"] == {"fr": "Détection des fuites d'eau"}
    assert card["service_name"] == "Régie de l'Eau"
    assert card["default_language"] == "fr"
    assert await Reads(store.engine).service_choices(3) == [
        ("dechets", "Propreté et déchets"),
        ("eau", "Régie de l'Eau"),
        ("serie", "Guichet unique"),
    ]
    assert await Reads(store.engine).service_choices(2) is None


async def test_search_matches_word_prefixes_of_every_query_word(store: Store) -> None:
    reads = Reads(store.engine)

    async def found(query: str) -> set[tuple[str, str]]:
        return set(keys(await reads.page(Filters(query=query), offset=0, limit=50)))

    # Accents and case do not matter; prefixes of words match, inner parts do not.
    assert await found("DÉCH") == {
        ("dechets", "tri"),
        ("dechets", "encombrants"),
        ("dechets", "arabe"),
    }
    assert await found("seau") == set()
    assert await found("réseau") == {("eau", "fuites")}
    assert await found("oeuvre") == await found("ŒUVRE") == {("dechets", "encombrants")}
    # Every word must match (in any of the searched texts).
    assert await found("fuites reseau") == {("eau", "fuites")}
    assert await found("fuites collecte") == set()
    # Provider, ids and the service's name are searched too.
    assert await found("mistral") == {("eau", "factures")}
    assert await found("g3") == {("serie", "g3")}
    # A query without a letter or digit filters nothing.
    assert len(await found("' * :")) == len(REGISTER_ORDER)


async def test_search_ranks_title_words_first(store: Store) -> None:
    reads = Reads(store.engine)
    await store.publish("zeta", ZETA)
    page = await reads.page(Filters(query="collecte"), offset=0, limit=50)
    # Last in register order, the system named for it ranks above the two that only
    # mention it in their purpose.
    assert keys(page)[0] == ("zeta", "collecte")
    assert set(keys(page)) == {("zeta", "collecte"), ("zeta", "autre"), ("dechets", "tri")}


async def test_a_new_manifest_replaces_the_service_rows(store: Store) -> None:
    reads = Reads(store.engine)
    data = corpus()[0]
    data["systems"] = data["systems"][1:]
    data["routes"] = data["routes"][1:]
    await store.publish("eau", data)
    assert keys(await reads.page(Filters(service="eau"), offset=0, limit=50)) == [
        ("eau", "factures")
    ]
    assert keys(await reads.page(Filters(query="fuites"), offset=0, limit=50)) == []
    # The same manifest again: no new version, the same rows.
    await store.publish("eau", data)
    assert (await reads.page(Filters(), offset=0, limit=50)).total == len(REGISTER_ORDER) - 1


async def test_totals_of_the_given_systems_only(store: Store) -> None:
    reads = Reads(store.engine)
    counts = [
        row(system="tri", count=3),
        row(system="tri", count=4, window_start="2026-11-27T10:00:00Z", notice_shown=False),
        row(system="arabe", count=5),
    ]
    await store.ingest(batch(counts, service="dechets"))
    totals = await reads.totals([("dechets", "tri"), ("dechets", "tri"), ("eau", "fuites")])
    assert set(totals) == {("dechets", "tri")}
    tri = totals[("dechets", "tri")]
    assert (tri.count, tri.notice_shown, tri.first_day, tri.last_day) == (
        7,
        3,
        "2026-11-26",
        "2026-11-27",
    )
    assert await reads.totals([]) == {}


async def test_export_chunks_walk_the_filtered_register_by_key(store: Store) -> None:
    reads = Reads(store.engine)
    chunks = [[i.key for i in chunk] async for chunk in reads.chunks(Filters(), size=3)]
    assert [len(c) for c in chunks] == [3, 3, 3, 1]
    assert [key for chunk in chunks for key in chunk] == REGISTER_ORDER
    searched = [i.key async for chunk in reads.chunks(Filters(query="eau"), size=1) for i in chunk]
    assert searched == [("eau", "fuites"), ("eau", "factures")]
    assert [c async for c in reads.chunks(Filters(service="none"))] == []


async def test_marker_changes_with_a_manifest_or_a_batch_only(store: Store) -> None:
    reads = Reads(store.engine)
    first = await reads.marker("1.0")
    assert first == await reads.marker("1.0")
    assert first.last_modified is not None
    assert first.key != (await reads.marker("1.1")).key  # another software version
    await store.publish("eau", corpus()[0])  # unchanged: not a new version
    assert await reads.marker("1.0") == first
    await store.ingest(batch([row(system="tri")], service="dechets"))
    second = await reads.marker("1.0")
    assert second.key != first.key
    assert second.last_modified is not None
    assert second.last_modified >= first.last_modified
    changed = corpus()[0]
    changed["service"]["name"] = "Régie de l'eau, nouveau nom"
    await store.publish("eau", changed)
    assert (await reads.marker("1.0")).key not in (first.key, second.key)


async def test_an_empty_register(backend: Backend) -> None:
    engine = create_engine(backend.url, connect_args=backend.connect_args)
    try:
        reads = Reads(engine)
        assert await reads.page(Filters(query="eau"), offset=0, limit=10) == (
            await reads.page(Filters(), offset=0, limit=10)
        )
        marker = await reads.marker()
        assert marker.last_modified is None
        assert validators(marker, 0.0)[0].startswith('"')  # a valid ETag all the same
    finally:
        await engine.dispose()


async def _answers(engine: Any) -> dict[str, list[tuple[str, str]]]:
    reads = Reads(engine)
    return {
        query: keys(await reads.page(Filters(query=query), offset=0, limit=100))
        for query in QUERIES
    }


async def test_both_backends_answer_the_corpus_alike(
    sqlite_template: Path, pg_schema: Backend, tmp_path: Path
) -> None:
    path = tmp_path / "registry.sqlite3"
    shutil.copy(sqlite_template, path)
    backends = [Backend("sqlite", f"sqlite+aiosqlite:///{path}"), pg_schema]
    answers = []
    for backend in backends:
        engine = create_engine(backend.url, connect_args=backend.connect_args)
        try:
            if backend.name == "postgresql":
                async with engine.begin() as connection:
                    await connection.execute(text(f"TRUNCATE {', '.join(TABLES)}"))
            await _publish_corpus(Store(engine))
            answers.append(await _answers(engine))
        finally:
            await engine.dispose()
    sqlite, postgresql = answers
    for query in QUERIES:
        assert set(sqlite[query]) == set(postgresql[query]), query
    # Where matches rank alike (the look-alike series), both fall back to register order.
    for query in ("guichet", "orienter usagers", "numero"):
        assert sqlite[query] == postgresql[query] == [("serie", f"g{n}") for n in range(1, 6)]
    # Sanity: the corpus finds things, and not everything.
    assert 0 < len(sqlite["eau"]) < len(REGISTER_ORDER)
    assert sqlite["zzz"] == sqlite["eau zzz"] == []


async def test_every_page_is_the_same_read_from_either_end(store: Store) -> None:
    reads = Reads(store.engine)
    everything = keys(await reads.page(Filters(), offset=0, limit=100))
    assert everything == REGISTER_ORDER
    for limit in (1, 3, 4, 10):
        for offset in range(0, len(everything) + 2):
            page = await reads.page(Filters(), offset=offset, limit=limit)
            assert keys(page) == everything[offset : offset + limit], (offset, limit)
    tail = await reads.page(Filters(service="serie"), offset=3, limit=10)
    assert keys(tail) == [("serie", "g4"), ("serie", "g5")]


async def test_a_query_matching_too_many_systems_lists_them_in_register_order(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = Reads(store.engine)
    await store.publish("zeta", ZETA)
    ranked = keys(await reads.page(Filters(query="collecte"), offset=0, limit=10))
    assert ranked[0] == ("zeta", "collecte")
    monkeypatch.setattr(reads_module, "RANKED_AT_MOST", 2)
    page = await reads.page(Filters(query="collecte"), offset=0, limit=10)
    assert keys(page) == [("dechets", "tri"), ("zeta", "autre"), ("zeta", "collecte")]
    assert page.total == 3
    assert keys(await reads.page(Filters(query="collecte"), offset=2, limit=10)) == [
        ("zeta", "collecte")
    ]
