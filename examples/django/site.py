"""A one-file Django project, served both ways: WSGI (through a2wsgi) and ASGI.

It compresses its own pages, as production Django sites do (``GZipMiddleware``):
the disclosure middleware, outside Django, decompresses AI pages, adds the
notice and compresses them again.

pip install 'ai-disclosure[wsgi,serve]' django
uvicorn examples.django.site:asgi_app --port 8000     # Django's ASGI handler
uvicorn examples.django.site:wsgi_app --port 8000     # Django's WSGI handler
"""

from __future__ import annotations

from pathlib import Path

import django
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path

from ai_disclosure import AIDisclosureMiddleware, ai_content, disclose

MANIFEST = Path(__file__).resolve().parents[1] / "montpellier" / "ai-disclosure.toml"

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="example-only-never-deployed",
        ALLOWED_HOSTS=["*"],
        ROOT_URLCONF=__name__,
        MIDDLEWARE=["django.middleware.gzip.GZipMiddleware"],
        INSTALLED_APPS=[],
        USE_TZ=True,
    )
    django.setup()


def assistant(request: HttpRequest) -> HttpResponse:
    return HttpResponse(
        "<!doctype html><html lang=fr><head><meta charset=utf-8><title>Assistant</title></head>"
        "<body><a href=#contenu class=skip-link>Aller au contenu</a>"
        "<main id=contenu><h1>Assistant tri des déchets</h1>"
        "<p>Posez votre question sur le tri : verre, papiers, emballages, encombrants, "
        "déchets verts ou dangereux. L’assistant vous répond et vous oriente.</p>"
        "</main></body></html>"
    )


def question(request: HttpRequest) -> JsonResponse:
    disclose(request, "assistant-dechets")  # works for WSGI and ASGI requests alike
    return JsonResponse({"answer": "Le verre va dans la colonne à verre."})


def answer(request: HttpRequest) -> HttpResponse:
    # The answer in the page, marked and labelled (safe markup: Django shows it as is).
    marked = ai_content(
        request, "Le verre va dans la colonne à verre.", "assistant-dechets", tag="p",
        page_language="fr",
    )  # fmt: skip
    return HttpResponse(
        "<!doctype html><html lang=fr><head><meta charset=utf-8><title>Réponse</title></head>"
        f"<body><main><h1>Réponse de l’assistant</h1>{marked}</main></body></html>"
    )


urlpatterns = [
    path("dechets/assistant", assistant),
    path("dechets/reponse", answer),
    path("api/question", question),
]

from a2wsgi import WSGIMiddleware  # noqa: E402
from django.core.asgi import get_asgi_application  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402

asgi_app = AIDisclosureMiddleware(get_asgi_application(), MANIFEST)
wsgi_app = AIDisclosureMiddleware(WSGIMiddleware(get_wsgi_application()), MANIFEST)  # type: ignore[arg-type]
