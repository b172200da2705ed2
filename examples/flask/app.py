"""A Flask app (WSGI) wrapped with a2wsgi and the disclosure middleware.

pip install 'ai-disclosure[wsgi,serve]' flask
uvicorn examples.flask.app:app --port 8000
"""

from __future__ import annotations

from pathlib import Path

from a2wsgi import WSGIMiddleware
from flask import Flask, jsonify, request

from ai_disclosure import AIDisclosureMiddleware, disclose

MANIFEST = Path(__file__).resolve().parents[1] / "montpellier" / "ai-disclosure.toml"

flask_app = Flask(__name__)


@flask_app.get("/dechets/assistant")
def assistant() -> str:
    return (
        "<!doctype html><html lang=fr><head><title>Assistant</title></head>"
        "<body><h1>Assistant tri des déchets</h1></body></html>"
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
