"""A real Java portal - Apache Tomcat 10.1, embedded - behind the real proxy.

Liferay, Jahia and in-house JEE portals of cities all run on Tomcat, which does
things no Python server here does: pages written through ``getWriter()`` go out
chunked with the head flushed first, the Connector gzips them itself, sessions
travel in a ``JSESSIONID`` cookie or in ``;jsessionid=`` path parameters,
redirects are relative or absolute by a Context setting, and the servlet default
charset is ISO-8859-1. ``tests/fixtures/tomcat/Portal.java`` serves each of
these on the example manifest's AI routes; Tomcat and the proxy start once for
the module.
"""

from __future__ import annotations

import gzip
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ai_disclosure.testing import assert_disclosed, assert_not_disclosed

from .servers import free_port, proxy_to, wait_until_up

JAVA = shutil.which("java")
JARS = Path("/usr/share/java")
PORTAL = Path(__file__).parent / "fixtures" / "tomcat" / "Portal.java"
#: The fewest of Debian's libtomcat10-java jars an embedded Tomcat starts with.
CLASS_PATH = ":".join(
    str(JARS / f"tomcat10-{name}.jar")
    for name in ("catalina", "coyote", "util", "util-scan", "juli", "api", "servlet-api",
                 "jaspic-api")
)  # fmt: skip

pytestmark = pytest.mark.skipif(
    JAVA is None or not (JARS / "tomcat10-catalina.jar").is_file(),
    reason="needs java and Tomcat 10.1's jars (apt-get install libtomcat10-java "
    "default-jdk-headless)",
)

PUBLIC = "portail.example"
ASSISTANT = "/dechets/assistant"
FORM = "/dechets/assistant/signaler"
IDENTITY = {"Accept-Encoding": "identity"}
STREET = "Allée des Érables"
#: What the middleware adds to a page: its head fragment (right before ``</head>``)
#: and the notice.
HEAD_FRAGMENT = re.compile(rb'<meta name="ai-disclosure".*?(?=</head>)', re.S)
NOTICE = re.compile(rb"<ai-notice\b.*?</ai-notice>", re.S)
TOKEN = re.compile(r'<input type="hidden" name="_csrf" value="([^"]+)">')
SESSION_COOKIE = re.compile(r"JSESSIONID=([0-9A-F]{32}); Path=/; HttpOnly")


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Tomcat serving Portal.java on 127.0.0.1; its base URL."""
    assert JAVA is not None
    port = free_port()
    base = tmp_path_factory.mktemp("tomcat")
    log = base / "portal.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            # TieredStopAtLevel=1: a JVM that lives seconds starts faster on C1 alone.
            [JAVA, "-XX:TieredStopAtLevel=1", "-Dfile.encoding=UTF-8", "-cp", CLASS_PATH,
             str(PORTAL), str(port), str(base)],
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_until_up(url + "/merci", process, timeout=30)
        except (RuntimeError, TimeoutError) as exc:
            raise RuntimeError(f"Tomcat did not start: {log.read_text()}") from exc
        yield url
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture(scope="module")
def proxy(portal: str) -> Iterator[str]:
    """``ai-disclosure proxy`` in front of Tomcat, with the example manifest."""
    with proxy_to(portal) as url:
        yield url


def without_disclosure(page: bytes) -> bytes:
    """The page as the app wrote it: what the middleware added taken out again."""
    return NOTICE.sub(b"", HEAD_FRAGMENT.sub(b"", page, count=1), count=1)


def raw_get(url: str, headers: dict[str, str]) -> tuple[httpx.Response, bytes]:
    """The response and its body exactly as it came over the wire (still gzipped)."""
    with httpx.stream("GET", url, headers=headers) as response:
        return response, b"".join(response.iter_raw())


@pytest.mark.parametrize(
    "path",
    [
        ASSISTANT,  # the skip link in a list: a theme that adds quick-access entries
        "/dechets/assistant/lien-seul",  # the link alone: recent Liferay releases
        "/dechets/assistant/theme-7-0",  # a hidden heading first: Liferay 7.0 - 7.3
    ],
)
def test_a_streamed_servlet_page_gets_one_notice_after_liferays_skip_link(
    portal: str, proxy: str, path: str
) -> None:
    """getWriter() with no length, the head flushed first: Tomcat sends it chunked, in
    pieces; the notice must still land once, after the quick-access nav."""
    direct = httpx.get(portal + path, headers=IDENTITY)
    assert direct.headers["transfer-encoding"] == "chunked"
    assert "content-length" not in direct.headers
    response = httpx.get(proxy + path, headers=IDENTITY)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html;charset=UTF-8"
    assert_disclosed(response, mode="ai-originated", notice=True)
    head, _, body = response.text.partition("</head>")
    assert '<meta name="ai-disclosure"' in head
    assert "</nav><ai-notice" in body  # right after the quick-access nav
    assert without_disclosure(response.content) == direct.content


@pytest.mark.parametrize("coding", ["gzip", "identity"])
def test_tomcats_own_gzip_keeps_a_valid_page_with_one_notice(
    portal: str, proxy: str, coding: str
) -> None:
    """compression="on" gzips the page in Tomcat itself, chunk by flushed chunk: it
    travels gzipped through the proxy and opens to the page plus the notice."""
    headers = {"Accept-Encoding": coding}
    direct, direct_raw = raw_get(portal + ASSISTANT, headers)
    response, raw = raw_get(proxy + ASSISTANT, headers)
    expected = None if coding == "identity" else "gzip"
    assert direct.headers.get("content-encoding") == expected  # Tomcat's own doing
    assert response.headers.get("content-encoding") == expected
    page = gzip.decompress(raw) if expected else raw  # a whole, valid gzip stream
    original = gzip.decompress(direct_raw) if expected else direct_raw
    assert page.count(b"<ai-notice") == 1
    assert_disclosed(response, mode="ai-originated")
    assert without_disclosure(page) == original


def test_a_first_visit_gets_the_session_cookie_and_rewritten_links(proxy: str) -> None:
    """Tomcat cannot tell yet whether the browser keeps cookies: it sets JSESSIONID
    and also puts ;jsessionid= in every encodeURL() link, once."""
    first = httpx.get(proxy + FORM)
    assert_disclosed(first, notice=True)
    cookie = SESSION_COOKIE.fullmatch(first.headers["set-cookie"])
    assert cookie is not None, first.headers["set-cookie"]
    session = cookie[1]
    assert f'action="{FORM};jsessionid={session}"' in first.text
    assert f'href="/merci;jsessionid={session}"' in first.text
    token = TOKEN.search(first.text)
    assert token is not None
    head = first.text.partition("</head>")[0]
    assert f'<meta name="_csrf" content="{token[1]}">' in head
    assert '<meta name="ai-disclosure"' in head

    again = httpx.get(proxy + FORM, headers={"Cookie": f"JSESSIONID={session}"})
    assert_disclosed(again, notice=True)
    assert "set-cookie" not in again.headers
    assert "jsessionid" not in again.text
    assert TOKEN.findall(again.text) == [token[1]]


@pytest.mark.parametrize(
    ("form", "location"),
    [
        pytest.param(FORM, "/merci", id="relative"),  # useRelativeRedirects, the default
        pytest.param("/eau/alertes/signaler", "{proxy}/eau/merci", id="absolute"),
    ],
)
def test_a_form_post_redirects_to_a_page_the_visitor_can_reach(
    portal: str, proxy: str, form: str, location: str
) -> None:
    """Post/Redirect/Get through the proxy, for a client that knows only the proxy:
    Tomcat's relative Location passes as it is, its absolute one (built from the
    Host it saw, the upstream's) comes back naming the proxy."""
    with httpx.Client(base_url=proxy) as client:
        page = client.get(form)
        assert_disclosed(page, notice=True)
        token = TOKEN.search(page.text)
        assert token is not None
        posted = client.post(form, data={"_csrf": token[1], "rue": STREET})
        assert posted.status_code == 302, posted.text
        assert posted.headers["location"] == location.format(proxy=proxy)
        assert portal not in posted.headers["location"]
        thanks = client.get(posted.headers["location"])
    assert thanks.status_code == 200
    assert f'<p id="rue">{STREET}</p>' in thanks.text  # the session and the UTF-8 body made it
    assert_not_disclosed(thanks)


def test_tomcats_absolute_redirect_names_the_visitors_host(proxy: str) -> None:
    """useRelativeRedirects=false: Tomcat writes its own address into Location, and
    the proxy puts back the host the visitor asked for."""
    form = "/eau/alertes/signaler"
    with httpx.Client(base_url=proxy, headers={"Host": PUBLIC}) as client:
        token = TOKEN.search(client.get(form).text)
        assert token is not None
        posted = client.post(form, data={"_csrf": token[1], "rue": STREET})
    assert posted.status_code == 302, posted.text
    assert posted.headers["location"] == f"http://{PUBLIC}/eau/merci"


def test_two_sessions_get_two_tokens_and_cannot_swap_them(proxy: str) -> None:
    """The proxy keeps no cookie of its own: two visitors are two Tomcat sessions,
    and one's CSRF token is refused in the other's session."""
    with httpx.Client(base_url=proxy) as one, httpx.Client(base_url=proxy) as two:
        pages = [one.get(FORM), two.get(FORM)]
        for page in pages:
            assert_disclosed(page, mode="ai-originated", notice=True)
        tokens = [TOKEN.findall(page.text) for page in pages]
        assert all(len(found) == 1 for found in tokens)
        assert tokens[0] != tokens[1]
        assert one.cookies["JSESSIONID"] != two.cookies["JSESSIONID"]
        swapped = one.post(FORM, data={"_csrf": tokens[1][0], "rue": STREET})
        assert swapped.status_code == 403
        assert_disclosed(swapped, notice=False)
        own = one.post(FORM, data={"_csrf": tokens[0][0], "rue": STREET})
        assert own.status_code == 302


def test_a_visitor_without_cookies_keeps_the_session_in_the_url(proxy: str) -> None:
    """A browser refusing cookies follows the ;jsessionid= links: the path goes to
    Tomcat as it was, the route rule still matches, the session holds to the end."""
    first = httpx.get(proxy + FORM)
    action = re.search(r'<form method="post" action="([^"]+)"', first.text)
    assert action is not None
    assert ";jsessionid=" in action[1]
    token = TOKEN.findall(first.text)
    page = httpx.get(proxy + action[1])  # no cookie sent: only the URL names the session
    assert_disclosed(page, mode="ai-originated", notice=True)
    assert TOKEN.findall(page.text) == token
    posted = httpx.post(proxy + action[1], data={"_csrf": token[0], "rue": STREET})
    assert posted.status_code == 302, posted.text
    session = action[1].partition(";")[2]
    assert posted.headers["location"] == f"/merci;{session}"
    thanks = httpx.get(proxy + posted.headers["location"])
    assert f'<p id="rue">{STREET}</p>' in thanks.text


@pytest.mark.parametrize(
    "path",
    [
        "/dechets/assistant/horaires",  # setContentType("text/html;charset=ISO-8859-1")
        "/dechets/assistant/guide",  # setContentType("text/html"): Tomcat adds ISO-8859-1
    ],
)
def test_an_iso_8859_1_page_gets_the_notice_in_ascii(portal: str, proxy: str, path: str) -> None:
    """A page in ISO-8859-1 (the servlet spec's old default) gets fragments written
    in ASCII with character references (_pagecheck's ``legacy``): no UTF-8 byte may
    land in it, and its own Latin-1 text stays as it was."""
    direct = httpx.get(portal + path, headers=IDENTITY)
    response = httpx.get(proxy + path, headers=IDENTITY)
    assert response.headers["content-type"] == "text/html;charset=ISO-8859-1"
    assert_disclosed(response, mode="ai-originated", notice=True)
    page = response.content
    assert without_disclosure(page) == direct.content
    assert "Ça dépend de votre quartier ; où déposer".encode("latin-1") in page
    added = [HEAD_FRAGMENT.search(page), NOTICE.search(page)]
    assert all(part is not None and part[0].isascii() for part in added)
    assert "Assistant tri des d&#233;chets" in response.text
    assert "Horaires de collecte à Montpellier" in response.text  # read as ISO-8859-1


def test_a_redirect_and_tomcats_404_page_pass_without_a_notice(portal: str, proxy: str) -> None:
    """Neither is the AI's work shown to someone: the header still names the route,
    the body goes through untouched."""
    moved = httpx.get(proxy + "/dechets/assistant/ancienne-adresse")
    assert moved.status_code == 302
    assert moved.headers["location"] == ASSISTANT
    assert_disclosed(moved, mode="ai-originated", notice=False)
    missing = httpx.get(proxy + "/dechets/assistant/inconnu", headers=IDENTITY)
    direct = httpx.get(portal + "/dechets/assistant/inconnu", headers=IDENTITY)
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "text/html;charset=utf-8"
    assert "HTTP Status 404" in missing.text  # Tomcat's ErrorReportValve page
    assert_disclosed(missing, mode="ai-originated", notice=False)
    assert missing.content == direct.content


def test_a_path_parameter_cannot_dodge_the_disclosure(proxy: str) -> None:
    """Tomcat (and every servlet container) serves /a;x=1/b as /a/b, the way it reads
    ;jsessionid=: a link so written must not lose the notice, no more than
    /x/../dechets/assistant does."""
    response = httpx.get(proxy + "/dechets;jsessionid=0123456789ABCDEF/assistant", headers=IDENTITY)
    assert "<h1>Assistant tri des déchets</h1>" in response.text  # Tomcat served the assistant
    assert_disclosed(response, mode="ai-originated", notice=True)
