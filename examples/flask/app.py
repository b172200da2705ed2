"""A Flask app (WSGI) wrapped with a2wsgi and the disclosure middleware.

Its layout leaves out the optional ``<html>``, ``<head>`` and ``<body>`` tags, as
the Flask tutorial's does: the notice still goes where the browser's body starts.

pip install 'ai-disclosure[wsgi,serve]' flask
uvicorn examples.flask.app:app --port 8000
"""

from __future__ import annotations

from pathlib import Path

from a2wsgi import WSGIMiddleware
from flask import Flask, jsonify, render_template_string, request

from ai_disclosure import AIDisclosureMiddleware, ai_content, disclose

MANIFEST = Path(__file__).resolve().parents[1] / "montpellier" / "ai-disclosure.toml"

flask_app = Flask(__name__)


# Valid HTML without the optional tags: the parser implies <html>, <head>, <body>.
LAYOUT = """<!doctype html>
<title>{{ title }} - Démarches</title>
<meta charset="utf-8">
<nav>
  <h1>Démarches</h1>
  <ul>
    <li><a href="/actualites">Actualités</a>
    <li><a href="/dechets/assistant">Assistant</a>
  </ul>
</nav>
<section class="content">
  <header><h2>{{ title }}</h2></header>
  <p>{{ text }}</p>
</section>
"""


@flask_app.get("/dechets/assistant")
def assistant() -> str:
    return render_template_string(
        LAYOUT, title="Assistant tri des déchets", text="Posez votre question sur le tri."
    )


@flask_app.get("/dechets/reponse")
def answer() -> str:
    # The answer in the page, marked and labelled (Jinja keeps the safe markup).
    marked = ai_content(
        request, "Le verre va dans la colonne à verre.", "assistant-dechets", tag="p",
        page_language="fr",
    )  # fmt: skip
    return render_template_string(
        "<!doctype html><html lang=fr><title>Réponse</title><h1>Réponse</h1>{{ marked }}",
        marked=marked,
    )


@flask_app.post("/api/question")
def question():  # type: ignore[no-untyped-def]
    disclose(request, "assistant-dechets")  # this answer is written by the AI system
    return jsonify(answer="Le verre va dans la colonne à verre.")


@flask_app.get("/actualites")
def news() -> str:
    return "<!doctype html><html lang=fr><head></head><body><h1>Actualités</h1></body></html>"


# WSGI -> ASGI, then the middleware: one line each.
app = AIDisclosureMiddleware(WSGIMiddleware(flask_app), MANIFEST)  # type: ignore[arg-type]
