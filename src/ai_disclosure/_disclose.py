"""``disclose()``: a handler says which AI systems shaped the response it is making."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from ._middleware import SCOPE_KEY, RequestDisclosure

__all__ = ["disclose", "request_disclosure"]


def _scope(request: Any) -> Any:
    """The ASGI scope behind a request of any framework this project wraps."""
    scope = getattr(request, "scope", None)  # Starlette, FastAPI, Django's ASGIRequest
    if isinstance(scope, MutableMapping):
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
    state = scope.get(SCOPE_KEY) if isinstance(scope, MutableMapping) else None
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
