"""Real frameworks behind the real proxy, each on its own server on 127.0.0.1.

Django runs in a subprocess (its settings are process-wide and differ per test)
on the standard library's WSGI server; Flask on Werkzeug's, in a thread. The
proxy is ``ai-disclosure proxy`` itself. A form post sends what a browser sends:
the CSRF cookie, the form's token and ``Origin`` naming the site the visitor sees.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from ai_disclosure.testing import assert_disclosed

from .servers import free_port, proxy_to, wait_until_up

PUBLIC = "portail.example"
CHROMIUM = Path("/usr/bin/chromium")

#: A one-file Django site: a form on an AI route, and a page telling what the app
#: believes about the request. Settings come as JSON in argv[2].
DJANGO_SITE = r"""
import json, sys
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import django
from django.conf import settings

settings.configure(
    DEBUG=False,
    SECRET_KEY="test-only-never-deployed",
    ROOT_URLCONF="__main__",
    INSTALLED_APPS=[],
    MIDDLEWARE=["django.middleware.csrf.CsrfViewMiddleware"],
    TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates"}],
    **json.loads(sys.argv[2]),
)
django.setup()

from django.core.wsgi import get_wsgi_application
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.template import engines
from django.urls import path

FORM = engines["django"].from_string(
    "<!doctype html><html lang=fr><head><title>Signaler</title></head><body><main>"
    "<h1>Signaler un dépôt sauvage</h1><form method=post>{% csrf_token %}"
    "<label>Rue <input name=rue></label><button>Envoyer</button></form></main></body></html>"
)


def form(request):
    if request.method == "POST":
        return redirect(request.build_absolute_uri("/merci/?rue=" + request.POST["rue"]))
    return HttpResponse(FORM.render({}, request))


def merci(request):
    return HttpResponse("<!doctype html><title>Merci</title><h1>Merci</h1>")


def whoami(request):
    return JsonResponse({
        "host": request.get_host(),
        "secure": request.is_secure(),
        "remote": request.META.get("REMOTE_ADDR"),
        "absolute": request.build_absolute_uri("/x/"),
    })


urlpatterns = [
    path("dechets/assistant/signaler/", form),
    path("merci/", merci),
    path("whoami/", whoami),
]


class Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass


class Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


make_server(
    "127.0.0.1", int(sys.argv[1]), get_wsgi_application(), server_class=Server,
    handler_class=Quiet,
).serve_forever()
"""

FORM_PATH = "/dechets/assistant/signaler/"
#: Django's settings for a site behind a proxy that passes its own host.
BEHIND_PROXY = {"USE_X_FORWARDED_HOST": True}
#: ... and behind a TLS terminator as well.
BEHIND_TLS = {
    "USE_X_FORWARDED_HOST": True,
    "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
}


@contextmanager
def django_site(**settings: Any) -> Iterator[str]:
    port = free_port()
    settings.setdefault("ALLOWED_HOSTS", [PUBLIC, "127.0.0.1"])
    process = subprocess.Popen(
        [sys.executable, "-c", DJANGO_SITE, str(port), json.dumps(settings)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/merci/", process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)
        if process.stdout:
            process.stdout.close()


def post_form(proxy: str, origin: str, extra: dict[str, str] | None = None) -> httpx.Response:
    """GET the form then POST it, as a browser on ``origin`` would."""
    headers = {"Host": origin.split("://")[1], **(extra or {})}
    with httpx.Client(base_url=proxy, headers=headers) as client:
        page = client.get(FORM_PATH)
        assert page.status_code == 200, page.text
        assert_disclosed(page, notice=True)  # the AI page got its notice
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert token is not None, page.text
        cookie = page.cookies["csrftoken"]
        return client.post(
            FORM_PATH,
            data={"csrfmiddlewaretoken": token[1], "rue": "Foch"},
            headers={
                "Origin": origin,
                "Referer": origin + FORM_PATH,
                "Cookie": f"csrftoken={cookie}",
            },
        )


def test_django_without_settings_rejects_the_post_by_default() -> None:
    # What was measured on real sites: the app sees its own address as Host, the
    # browser's Origin names the public one, and the CSRF check says 403.
    with django_site() as site, proxy_to(site) as proxy:
        response = post_form(proxy, f"http://{PUBLIC}")
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("options", "settings"),
    [
        pytest.param(["--preserve-host"], {"ALLOWED_HOSTS": [PUBLIC]}, id="preserve-host"),
        pytest.param([], {**BEHIND_PROXY, "ALLOWED_HOSTS": [PUBLIC]}, id="x-forwarded-host"),
        pytest.param([], {"CSRF_TRUSTED_ORIGINS": [f"http://{PUBLIC}"]}, id="trusted-origins"),
    ],
)
def test_django_form_posts_succeed_behind_the_proxy(
    options: list[str], settings: dict[str, Any]
) -> None:
    with django_site(**settings) as site, proxy_to(site, *options) as proxy:
        response = post_form(proxy, f"http://{PUBLIC}")
        assert response.status_code == 302, response.text
        # Built by Django from the host it saw, or rewritten by the proxy from the
        # upstream's own address: either way the visitor's site.
        assert response.headers["location"] == f"http://{PUBLIC}/merci/?rue=Foch"
        # One Date and one Server, the application server's.
        assert len(response.headers.get_list("date")) == 1
        assert response.headers.get_list("server")[0].startswith("WSGIServer/")
        assert len(response.headers.get_list("server")) == 1


def test_django_behind_a_tls_terminator_knows_the_request_was_https() -> None:
    # The terminator (the test client, from 127.0.0.1) says https and who the client is.
    terminator = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.20"}
    with (
        django_site(**BEHIND_TLS) as site,
        proxy_to(site, "--forwarded-allow-ips", "127.0.0.1") as proxy,
    ):
        response = post_form(proxy, f"https://{PUBLIC}", terminator)
        seen = httpx.get(proxy + "/whoami/", headers={"Host": PUBLIC, **terminator}).json()
    assert response.status_code == 302, response.text
    assert response.headers["location"] == f"https://{PUBLIC}/merci/?rue=Foch"
    assert seen["secure"] is True
    assert seen["absolute"] == f"https://{PUBLIC}/x/"


def test_a_visitor_cannot_tell_django_another_scheme_or_host() -> None:
    forged = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example",
              "X-Forwarded-For": "198.51.100.66", "Host": PUBLIC}  # fmt: skip
    with django_site(**BEHIND_TLS) as site, proxy_to(site) as proxy:
        seen = httpx.get(proxy + "/whoami/", headers=forged).json()
    assert seen["host"] == PUBLIC
    assert seen["secure"] is False
    assert seen["absolute"] == f"http://{PUBLIC}/x/"


@contextmanager
def flask_site(proxy_fix: bool) -> Iterator[str]:
    from flask import Flask, jsonify, request, url_for
    from werkzeug.middleware.proxy_fix import ProxyFix
    from werkzeug.serving import make_server

    app = Flask("behind_the_proxy")

    @app.get("/dechets/assistant/ici")
    def here() -> Any:
        return jsonify(url=url_for("here", _external=True), remote=request.remote_addr)

    if proxy_fix:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)


def test_flask_with_proxyfix_sees_the_visitors_host() -> None:
    with flask_site(proxy_fix=True) as site, proxy_to(site) as proxy:
        seen = httpx.get(proxy + "/dechets/assistant/ici", headers={"Host": PUBLIC}).json()
    assert seen["url"] == f"http://{PUBLIC}/dechets/assistant/ici"
    assert seen["remote"] == "127.0.0.1"


def test_flask_without_proxyfix_sees_its_own_address() -> None:
    with flask_site(proxy_fix=False) as site, proxy_to(site) as proxy:
        seen = httpx.get(proxy + "/dechets/assistant/ici", headers={"Host": PUBLIC}).json()
    assert seen["url"] == f"{site}/dechets/assistant/ici"


def test_flask_with_proxyfix_behind_a_tls_terminator() -> None:
    terminator = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.20",
                  "Host": PUBLIC}  # fmt: skip
    with (
        flask_site(proxy_fix=True) as site,
        proxy_to(site, "--forwarded-allow-ips", "127.0.0.1") as proxy,
    ):
        seen = httpx.get(proxy + "/dechets/assistant/ici", headers=terminator).json()
    assert seen["url"] == f"https://{PUBLIC}/dechets/assistant/ici"
    assert seen["remote"] == "198.51.100.20"


@pytest.mark.skipif(
    not CHROMIUM.exists() and not os.environ.get("CI"), reason=f"{CHROMIUM} is not installed"
)
@pytest.mark.parametrize(
    ("options", "status"), [([], 403), (["--preserve-host"], 200)], ids=["default", "preserve"]
)
async def test_a_real_browser_posts_a_django_form_through_the_proxy(
    options: Sequence[str], status: int
) -> None:
    from playwright.async_api import async_playwright

    from .browser.conftest import CHROMIUM_ARGS

    with django_site() as site, proxy_to(site, *options) as proxy:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
            )
            try:
                page = await browser.new_page()
                await page.goto(proxy + FORM_PATH)
                await page.get_by_label("Rue").fill("Foch")
                async with page.expect_navigation() as navigation:
                    await page.get_by_role("button", name="Envoyer").click()
                response = await navigation.value
                assert response is not None
                assert response.status == status
                if status == 200:
                    assert page.url == proxy + "/merci/?rue=Foch"
                    assert await page.get_by_role("heading").inner_text() == "Merci"
            finally:
                await browser.close()
