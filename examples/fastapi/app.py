"""A FastAPI app with the disclosure middleware.

pip install 'ai-disclosure[serve]' fastapi
uvicorn examples.fastapi.app:app --port 8000
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse

from ai_disclosure import AIDisclosureMiddleware, ai_content, disclose

MANIFEST = Path(__file__).resolve().parents[1] / "montpellier" / "ai-disclosure.toml"

api = FastAPI()


@api.get("/dechets/assistant", response_class=HTMLResponse)
async def assistant() -> str:
    return (
        "<!doctype html><html lang=fr><head><title>Assistant</title></head>"
        "<body><h1>Assistant tri des déchets</h1></body></html>"
    )


@api.get("/dechets/reponse", response_class=HTMLResponse)
async def answer(request: Request) -> str:
    # The answer in the page, marked and labelled (also disclosed for the response).
    marked = ai_content(
        request, "Le verre va dans la colonne à verre.", "assistant-dechets", tag="p",
        page_language="fr",
    )  # fmt: skip
    return (
        "<!doctype html><html lang=fr><head><title>Réponse</title></head>"
        f"<body><h1>Réponse de l’assistant</h1>{marked}</body></html>"
    )


@api.post("/api/question")
async def question(request: Request) -> dict[str, str]:
    disclose(request, "assistant-dechets")
    return {"answer": "Le verre va dans la colonne à verre."}


app = AIDisclosureMiddleware(api, MANIFEST)
