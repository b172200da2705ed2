"""``disclose()``: a handler says which AI systems shaped the response it is making."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from markupsafe import Markup

from ._content import render_content
from ._middleware import SCOPE_KEY, RequestDisclosure
from ._rawheaders import request_header

__all__ = ["ai_content", "disclose", "disclosure_head", "disclosure_notice", "request_disclosure"]


def _scope(request: Any) -> Any:
    """The ASGI scope behind a request of any framework this project wraps."""
    if type(request) is dict:  # a scope already (or a WSGI environ, see below)
        return request.get("asgi.scope", request)
    scope = getattr(request, "scope", None)  # Starlette, FastAPI, Django's ASGIRequest
    # A plain dict first: the ABC check alone costs more than the rest of a helper.
    if type(scope) is dict or isinstance(scope, MutableMapping):
        return scope
    # Flask/Werkzeug (.environ), Django's WSGIRequest (.META) or a bare WSGI environ:
    # a2wsgi keeps the ASGI scope in the environ.
    environ = getattr(request, "environ", None) or getattr(request, "META", None) or request
    if isinstance(environ, MutableMapping) and "asgi.scope" in environ:
        return environ["asgi.scope"]
    return request


def request_disclosure(request_or_scope: Any) -> RequestDisclosure:
    """The per-request disclosure state of a request (Starlette, FastAPI, Flask or
    Django behind ``a2wsgi``, Django ASGI), a WSGI environ or an ASGI scope."""
    scope = _scope(request_or_scope)
    mapping = type(scope) is dict or isinstance(scope, MutableMapping)
    state = scope.get(SCOPE_KEY) if mapping else None
    if not isinstance(state, RequestDisclosure):
        raise RuntimeError(
            "this request did not pass through AIDisclosureMiddleware: wrap the app with "
            "AIDisclosureMiddleware(app, manifest=...) before calling disclose()"
        )
    return state


def disclose(request_or_scope: Any, *system_ids: str) -> None:
    """Declare that AI systems (manifest ids) shaped this response.

    Call it before the response starts, e.g. in the handler of a chatbot answer::

        disclose(request, "assistant-dechets")

    An unknown id raises ``KeyError`` naming the known ones: a typo must not
    silently leave a response undisclosed.
    """
    request_disclosure(request_or_scope).add(system_ids)


def _language(state: RequestDisclosure, scope: Any, language: str | None) -> tuple[str, bool]:
    """The notice's language, and whether the reader's Accept-Language chose it."""
    if language is not None:
        return language, False
    accept = request_header(scope, b"accept-language")
    return state.middleware.choose_language(None, accept)


def _prepare(request: Any, language: str | None) -> tuple[RequestDisclosure, tuple[Any, ...], str]:
    """State, systems and language for an app that places the fragments itself."""
    scope = _scope(request)
    state = request_disclosure(scope)
    systems = state.involved()
    chosen, negotiated = _language(state, scope, language)
    state.language = chosen
    state.negotiated = state.negotiated or negotiated
    return state, systems, chosen


def disclosure_notice(
    request: Any, language: str | None = None, page_language: str | None = None
) -> Markup:
    """The notice for this response, for an app that places it in its own template.

    The middleware then injects no notice into this page, and counts it as shown.
    Without ``language``, the reader's ``Accept-Language`` picks among the service's
    languages (and the response says ``Vary: Accept-Language``). Give the page's
    language as ``page_language`` so the notice states its own ``lang`` only when it
    differs. Empty when no AI system is involved. With jinja2::

        templates.env.globals["ai_disclosure_notice"] = disclosure_notice
        {{ ai_disclosure_notice(request, page_language="fr") }}
    """
    state, systems, chosen = _prepare(request, language)
    state.notice_placed = True
    return state.middleware.templates.notice(systems, chosen, page_language=page_language)


def disclosure_head(
    request: Any,
    language: str | None = None,
    nonce: str | None = None,
    style_nonce: str | None = None,
) -> Markup:
    """The ``<head>`` fragment (meta, JSON-LD, stylesheet, script) for this response,
    for an app that places it in its own template: the middleware then inserts the
    notice only (or nothing, with :func:`disclosure_notice` placed too).

    Under a Content-Security-Policy with nonces, give the page's script nonce as
    ``nonce`` and its style nonce as ``style_nonce`` (the same value when one nonce
    serves both), or the browser blocks the widget's script or stylesheet."""
    state, systems, chosen = _prepare(request, language)
    state.head_placed = True
    if not systems:
        return Markup("")
    return state.middleware.templates.head(systems, chosen, nonce=nonce, style_nonce=style_nonce)


def ai_content(
    request: Any,
    content: str,
    *system_ids: str,
    language: str | None = None,
    tag: str = "div",
    page_language: str | None = None,
) -> Markup:
    """One piece of AI content (a chatbot answer, a generated summary, a translated
    article) for the page: in a ``tag`` element carrying the W3C ``ai-disclosure``
    attribute (and ``ai-model``/``ai-provider`` from the manifest), preceded by a
    visible label (EU icon, "IA"/"AI", generated or modified, who reviewed it).

    The systems (manifest ids) are also disclosed for the whole response, as
    :func:`disclose` does. ``content`` is text (escaped) or ``Markup`` (kept).
    Give the page's language as ``page_language``: the label is then in it (or in
    ``language`` when given, stating its own ``lang``), like the notice the
    middleware adds; with neither, the reader's ``Accept-Language`` picks among the
    service's languages. In a template::

        templates.env.globals["ai_content"] = ai_content
        {{ ai_content(request, answer, "assistant-dechets", tag="p", page_language="fr") }}

    Django templates show it as it is (it is ``Markup``): build it in the view.
    """
    disclose(request, *system_ids)
    state, _, chosen = _prepare(request, language or page_language)
    systems = [state.manifest.system(system_id) for system_id in system_ids]
    return render_content(
        state.manifest, systems, content, chosen, tag=tag, page_language=page_language
    )
