"""A small but realistic municipal site that shows ai_disclosure at work.

Pages use the example manifest's systems: a chatbot whose answers are marked at
run time (``ai_content()`` in the page, ``disclose()`` on the JSON API),
water-leak alerts (one page streamed in chunks), mail triage, a
machine-translated page whose text is marked with ``ai_content()``, and pages
without AI. The site places no notice: the middleware adds it.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .._disclose import ai_content, disclose
from .._manifest import load_manifest, parse_manifest
from .._middleware import AIDisclosureMiddleware, DisclosureRecorder
from .._model import Manifest
from .._resources import data_dir

__all__ = ["example_manifest_path", "site", "wrapped_site"]

HERE = Path(__file__).resolve().parent
_templates = Environment(
    loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True)
)

#: The demo's stand-in for a language model: a few rules, so it runs anywhere.
ANSWERS = (
    (("verre", "bouteille", "bocal", "glass"), "Le verre (bouteilles, pots, bocaux) va dans la "
     "colonne à verre, sans bouchon ni couvercle. La vaisselle cassée va aux ordures ménagères."),
    (("papier", "carton", "journal", "paper"), "Papiers et petits cartons vont dans le bac jaune, "
     "bien vidés et non imbriqués. Les gros cartons vont en déchèterie."),
    (("plastique", "emballage", "canette", "plastic"), "Tous les emballages en plastique et en "
     "métal vont dans le bac jaune, en vrac, sans les laver."),
    (("encombrant", "meuble", "matelas", "furniture"), "Les encombrants sont collectés sur "
     "rendez-vous : appelez le 0 800 88 11 77 ou déposez-les en déchèterie."),
    (("collecte", "jour", "quand", "passage", "when"), "Les jours de collecte dépendent de votre "
     "adresse : consultez le calendrier de votre commune sur ce portail."),
)  # fmt: skip
FALLBACK = (
    "Je n'ai pas de réponse sûre à cette question. Un agent peut vous aider : "
    "0 800 88 11 77 (appel gratuit)."
)


def answer(question: str) -> str:
    words = question.lower()
    for keys, text in ANSWERS:
        if any(key in words for key in keys):
            return text
    return FALLBACK


def example_manifest_path() -> Path:
    """The Montpellier example manifest, from the checkout or the installed package."""
    return data_dir("examples") / "montpellier" / "ai-disclosure.toml"


def _render(name: str, **context: Any) -> HTMLResponse:
    context.setdefault("lang", "fr")
    return HTMLResponse(_templates.get_template(name).render(**context))


def site(register_url: str | None = None) -> Starlette:
    """The demo site; it marks AI content with ``ai_content()``, so it runs behind
    the middleware (``wrapped_site``)."""

    async def home(request: Request) -> Response:
        return _render("home.html", title="Accueil", register=register_url)

    async def assistant(request: Request) -> Response:
        question = answer_text = None
        if request.method == "POST":
            # A plain urlencoded form: the stdlib reads it, no multipart parser needed.
            form = parse_qs((await request.body()).decode("utf-8", "replace"))
            question = form.get("question", [""])[0][:300]
            # The answer is the AI's: marked and labelled where it stands.
            answer_text = ai_content(
                request, answer(question), "assistant-dechets", tag="p", page_language="fr"
            )
        return _render(
            "assistant.html",
            title="Assistant tri des déchets",
            question=question,
            answer=answer_text,
            register=register_url,
        )

    async def ask(request: Request) -> Response:
        try:
            payload = json.loads(await request.body())
            question = str(payload["question"])[:300]
        except (ValueError, KeyError, TypeError):
            return JSONResponse(
                {"title": "Bad request", "detail": 'send {"question": "..."}'},
                status_code=400,
                media_type="application/problem+json",
            )
        # The answer is written by the AI system: say so on this response.
        disclose(request, "assistant-dechets")
        return JSONResponse({"answer": answer(question)})

    async def alerts(request: Request) -> Response:
        return _render(
            "page.html",
            title="Alertes fuites d'eau",
            register=register_url,
            paragraphs=[
                "Votre compteur communicant signale une consommation continue la nuit depuis "
                "trois jours : une fuite est probable après le compteur.",
                "Cette alerte a été produite automatiquement, puis vérifiée par un agent de la "
                "Régie des eaux avant de vous être envoyée.",
            ],
        )

    async def journal(request: Request) -> Response:
        async def chunks() -> AsyncIterator[bytes]:
            head = _templates.get_template("page.html").render(
                lang="fr", title="Journal des alertes", paragraphs=[], register=register_url
            )
            opening, closing = head.split("</main>")
            yield opening.encode()
            for day in range(1, 8):
                await asyncio.sleep(0.15)
                yield f"<p>Jour {day} : consommation nocturne {day * 3} L/h.</p>\n".encode()
            yield ("</main>" + closing).encode()

        return StreamingResponse(chunks(), media_type="text/html; charset=utf-8")

    async def mail(request: Request) -> Response:
        return _render(
            "page.html",
            title="Écrire à la Métropole",
            register=register_url,
            paragraphs=[
                "Envoyez votre courrier à l'adresse de la Métropole : il sera orienté vers le "
                "service compétent.",
                "Une IA propose aux agents le service destinataire ; c'est toujours un agent "
                "qui décide.",
            ],
        )

    async def news(request: Request) -> Response:
        return _render(
            "page.html",
            title="Actualités",
            register=register_url,
            paragraphs=[
                "La déchèterie de Lattes ouvre le dimanche matin à partir du 1er décembre.",
                "Travaux sur le réseau d'eau avenue de la Mer du 2 au 6 décembre.",
            ],
        )

    async def translated(request: Request) -> Response:
        text = Markup(
            "<p>Glass bottles and jars go in the glass bank, without caps or lids.</p>"
            "<p>Paper and small cardboard go in the yellow bin, emptied and not nested.</p>"
        )
        return _render(
            "page.html",
            lang="en",
            title="Waste sorting",
            register=register_url,
            paragraphs=["This page was translated from French; the French page is authoritative."],
            content=ai_content(
                request, text, "traduction-pages", language="en", page_language="en"
            ),
        )

    return Starlette(
        routes=[
            Route("/", home),
            Route("/dechets/assistant", assistant, methods=["GET", "POST"]),
            Route("/api/dechets/question", ask, methods=["POST"]),
            Route("/eau/alertes", alerts),
            Route("/eau/alertes/journal", journal),
            Route("/courrier", mail),
            Route("/actualites", news),
            Route("/en/waste", translated),
            Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
        ]
    )


def wrapped_site(
    manifest: Manifest | str | os.PathLike[str] | Mapping[str, Any] | None = None,
    *,
    register_url: str | None = None,
    logger: DisclosureRecorder | None = None,
) -> AIDisclosureMiddleware:
    """The demo site behind the middleware: what ``ai-disclosure demo`` serves.

    ``register_url`` points the notices' "learn more" links at a running register.
    """
    loaded = load_manifest(manifest or example_manifest_path())
    if register_url:
        data = json.loads(json.dumps(dict(loaded.raw)))
        data["service"]["register_url"] = register_url
        loaded = parse_manifest(data, source=loaded.source)
    return AIDisclosureMiddleware(site(register_url), loaded, logger=logger)
