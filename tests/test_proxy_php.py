"""A real PHP portal on PHP's built-in web server, behind the real ``ai-disclosure proxy``.

tests/fixtures/php/portal.php does to its pages what municipal PHP portals do:
ob_gzhandler compression, a head flushed before a slow part, a session whose CSRF
token is in the head and in the form, a legacy ISO-8859-1 page, header('Location')
redirects and its own 404 page. Each page is also fetched from PHP directly: through
the proxy it must be those very bytes plus exactly two additions, the head fragment
before ``</head>`` and one notice right after the skip link.

PHP's built-in server (not php-fpm) ends every answer by closing the connection:
no ``Content-Length``, no chunked coding, on pages streamed or not.
"""

from __future__ import annotations

import gzip
import html
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ai_disclosure.testing import assert_disclosed, assert_not_disclosed

from .conftest import EXAMPLE_MANIFEST
from .servers import free_port, proxy_to, thread_server, wait_until_up

PHP = shutil.which("php")
SITE = Path(__file__).resolve().parent / "fixtures" / "php"
PUBLIC = "portail.example"

pytestmark = pytest.mark.skipif(
    PHP is None, reason="php is not installed (apt-get install php-cli: its built-in web server)"
)

# AI routes of the example manifest (/dechets/assistant*), and one that is not.
GUIDE = "/dechets/assistant/guide"
NEWS = "/dechets/assistant/actualites"
FORM = "/dechets/assistant/signaler"
LEGACY = "/dechets/assistant/ancien"
THANKS = "/merci.php"

SKIP_LINK = '<a class="skip-link" href="#contenu">Aller au contenu</a>'
HEAD_FRAGMENT = re.compile(r'<meta name="ai-disclosure".*?/ai-notice\.js"></script>', re.DOTALL)
NOTICE = re.compile(r"<ai-notice .*?</ai-notice>", re.DOTALL)
TOKEN = re.compile(r'<input type="hidden" name="csrf_token" value="([0-9a-f]{64})">')


@pytest.fixture(scope="module")
def php(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """portal.php as the router of ``php -S``; sessions and the request log in a
    temporary folder (a pipe nobody reads would fill up and stop PHP)."""
    assert PHP is not None
    folder = tmp_path_factory.mktemp("php")
    port = free_port()
    command = [PHP, "-d", f"session.save_path={folder}", "-S", f"127.0.0.1:{port}",
               "-t", str(SITE), str(SITE / "portal.php")]  # fmt: skip
    log = folder / "php.log"
    with log.open("w") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, text=True)
    try:
        try:
            wait_until_up(f"http://127.0.0.1:{port}{THANKS}", process)
        except (RuntimeError, TimeoutError) as exc:
            raise RuntimeError(f"php -S did not start: {log.read_text()}") from exc
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture(scope="module")
def proxy(php: str) -> Iterator[str]:
    """The proxy as docs/proxy.md says to run it in front of PHP portals."""
    with proxy_to(php, "--preserve-host") as url:
        yield url


@pytest.fixture(scope="module")
def default_proxy(php: str) -> Iterator[str]:
    """The proxy with its default ``Host``: PHP sees its own address."""
    with proxy_to(php) as url:
        yield url


def visitor(proxy: str) -> httpx.Client:
    """A browser on the public site (it keeps its cookies)."""
    return httpx.Client(base_url=proxy, headers={"Host": PUBLIC})


def assert_only_added(served: str, original: str) -> tuple[str, str]:
    """``served`` is PHP's ``original`` with the head fragment right before
    ``</head>`` and one notice right after the skip link, nothing else changed;
    returns the two."""
    assert served.count("<ai-notice ") == 1, served
    assert served.count('<meta name="ai-disclosure"') == 1, served
    head, notice = HEAD_FRAGMENT.search(served), NOTICE.search(served)
    assert head is not None
    assert notice is not None
    assert (
        served[: head.start()] + served[head.end() : notice.start()] + served[notice.end() :]
        == original
    )
    assert head.start() == original.index("</head>")
    assert notice.start() - len(head[0]) == original.index(SKIP_LINK) + len(SKIP_LINK)
    return head[0], notice[0]


def test_a_page_php_gzips_itself_stays_gzipped_with_one_notice(php: str, proxy: str) -> None:
    """ob_gzhandler: gzip, ``Vary: Accept-Encoding``, no length. The notice must
    get through the compression, and the reader must get a valid gzip stream."""
    original = httpx.get(php + GUIDE, headers={"Accept-Encoding": "identity"}).text
    with (
        visitor(proxy) as client,
        client.stream("GET", GUIDE, headers={"Accept-Encoding": "gzip"}) as response,
    ):
        raw = b"".join(response.iter_raw())
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert "Accept-Encoding" in response.headers["vary"]
    assert response.headers.get("content-length", str(len(raw))) == str(len(raw))
    assert_disclosed(response, mode="ai-originated")
    assert_only_added(gzip.decompress(raw).decode(), original)  # checks CRC and length


def test_a_page_php_would_gzip_comes_plain_to_a_client_without_gzip(php: str, proxy: str) -> None:
    original = httpx.get(php + GUIDE, headers={"Accept-Encoding": "identity"}).text
    with visitor(proxy) as client:
        request = client.build_request("GET", GUIDE)
        del request.headers["Accept-Encoding"]
        response = client.send(request)
    assert "content-encoding" not in response.headers
    assert_disclosed(response, mode="ai-originated", notice=True)
    assert_only_added(response.text, original)


def test_phps_host_response_header_is_not_relayed(php: str, proxy: str) -> None:
    """PHP's built-in server answers with a ``Host`` header naming its own address:
    the proxy must not hand the upstream's internal address to visitors."""
    assert httpx.get(php + GUIDE).headers["host"].startswith("127.0.0.1:")
    with visitor(proxy) as client:
        response = client.get(GUIDE)
    assert response.status_code == 200
    assert "host" not in response.headers


def fetch_timed(proxy: str, path: str, query: dict[str, str]) -> tuple[httpx.Response, str, float]:
    """The response, its page decoded, and the seconds between its first and last bytes."""
    arrivals, raw = [], []
    with (
        visitor(proxy) as client,
        client.stream("GET", path, params=query, headers={"Accept-Encoding": "gzip"}) as response,
    ):
        for chunk in response.iter_raw():
            arrivals.append(time.monotonic())
            raw.append(chunk)
    body = b"".join(raw)
    compressed = response.headers.get("content-encoding") == "gzip"
    page = (gzip.decompress(body) if compressed else body).decode()
    return response, page, arrivals[-1] - arrivals[0]


@pytest.mark.parametrize("compressed", [False, True], ids=["plain", "gzip"])
def test_the_head_php_flushes_reaches_the_reader_before_the_slow_part(
    php: str, proxy: str, compressed: bool
) -> None:
    """A theme's ``flush()`` after the head: the page streams through (the head
    arrives while PHP waits 150 ms for its feed), with its notice."""
    original = httpx.get(php + NEWS).text
    response, page, spread = fetch_timed(proxy, NEWS, {"gzip": "1"} if compressed else {})
    assert response.headers.get("content-encoding") == ("gzip" if compressed else None)
    assert_disclosed(response, mode="ai-originated")
    assert_only_added(page, original)
    assert spread >= 0.1


#: From the end of the head to past the skip link: where both additions go.
AROUND = f"</head>\n<body>\n{SKIP_LINK}\n<header"
#: Where PHP flushes the page ("|": a cut at the first place that text is), the
#: pieces spread over 200 ms.
SPLITS = {
    "in-tags": ["<he|ad>", "</ti|tle>", "<bo|dy>"],
    "in-the-skip-link": ['href="#con|tenu"', "Aller au| contenu", "</|a>"],
    "where-the-notice-goes": ["contenu</a>|", "<hea|der"],
    "head-end-and-body": ["</head>|", "<body>|"],
    "every-byte-around": [f"{AROUND[:i]}|{AROUND[i:]}" for i in range(1, len(AROUND))],
}


@pytest.mark.parametrize("compressed", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("split", SPLITS.values(), ids=SPLITS.keys())
def test_a_page_php_flushes_anywhere_gets_one_notice_in_its_place(
    php: str, proxy: str, split: list[str], compressed: bool
) -> None:
    original = httpx.get(php + NEWS).text
    cuts = [original.index(cut.replace("|", "")) + cut.index("|") for cut in split]
    query = {"cuts": ",".join(map(str, cuts)), **({"gzip": "1"} if compressed else {})}
    response, page, _ = fetch_timed(proxy, NEWS, query)
    assert response.headers.get("content-encoding") == ("gzip" if compressed else None)
    assert_disclosed(response, mode="ai-originated")
    assert_only_added(page, original)


def get_form(client: httpx.Client) -> tuple[httpx.Response, str]:
    """GET the form through the proxy: it has its notice; and its CSRF token."""
    page = client.get(FORM)
    assert page.status_code == 200, page.text
    assert_disclosed(page, mode="ai-originated", notice=True)
    token = TOKEN.search(page.text)
    assert token is not None, page.text
    return page, token[1]


def test_a_php_session_form_posts_through_the_proxy(proxy: str) -> None:
    """session_start(), a CSRF token in $_SESSION, an Origin check against
    HTTP_HOST and a 303 to /merci.php, as PHP portals post forms."""
    with visitor(proxy) as client:
        page, token = get_form(client)
        assert f'<meta name="csrf-token" content="{token}">' in page.text
        assert "PHPSESSID" in client.cookies
        forged = client.post(
            FORM,
            data={"csrf_token": token, "rue": "Foch"},
            headers={"Origin": "http://evil.example"},
        )
        assert forged.status_code == 403  # the check is real
        posted = client.post(
            FORM, data={"csrf_token": token, "rue": "Foch"}, headers={"Origin": f"http://{PUBLIC}"}
        )
        assert posted.status_code == 303, posted.text
        assert posted.headers["location"] == THANKS
        assert "<ai-notice" not in posted.text
        thanks = client.get(posted.headers["location"])
    assert thanks.status_code == 200
    assert "Signalement reçu : Foch" in thanks.text  # the same session, through the proxy
    assert_not_disclosed(thanks)


def test_without_preserve_host_php_refuses_the_post(default_proxy: str) -> None:
    """PHP compares Origin with HTTP_HOST, then the upstream's own address: why
    docs/proxy.md says to run ``--preserve-host`` in front of PHP portals."""
    with visitor(default_proxy) as client:
        _, token = get_form(client)
        posted = client.post(
            FORM, data={"csrf_token": token, "rue": "Foch"}, headers={"Origin": f"http://{PUBLIC}"}
        )
    assert posted.status_code == 403


def test_each_session_has_its_own_token_in_the_head_and_gets_its_notice(
    php: str, proxy: str
) -> None:
    """The middleware recalls what it decided for a page start it has seen by its
    bytes; a token that differs per session in the head must not stop the notice."""
    first, second = visitor(proxy), visitor(proxy)
    tokens = []
    with first, second:
        for client in (first, second, first, second):
            page, token = get_form(client)
            # PHP's own page for that session: same token, same bytes.
            cookie = f"PHPSESSID={client.cookies['PHPSESSID']}"
            assert_only_added(page.text, httpx.get(php + FORM, headers={"Cookie": cookie}).text)
            tokens.append(token)
    assert tokens[0] != tokens[1]
    assert tokens[2:] == tokens[:2]


def test_a_legacy_latin1_page_gets_an_ascii_notice_and_keeps_its_text(php: str, proxy: str) -> None:
    """header('Content-Type: text/html; charset=ISO-8859-1'): the fragments go in
    as ASCII with character references (``_pagecheck``: legacy charset), which read
    right in Latin-1; the page's own accented bytes stay as they were."""
    original = httpx.get(php + LEGACY).content.decode("latin-1")
    with visitor(proxy) as client:
        response = client.get(LEGACY)
    assert response.headers["content-type"] == "text/html; charset=ISO-8859-1"
    assert_disclosed(response, mode="ai-originated", notice=True)
    page = response.content.decode("latin-1")
    head, notice = assert_only_added(page, original)
    assert "ramassés à côté de chez vous, même à Noël : ça évite la déchèterie" in page
    assert head.isascii()
    assert notice.isascii()
    assert "Vous échangez avec une IA" in html.unescape(notice)


@pytest.mark.parametrize("which", ["proxy", "default_proxy"])
def test_a_redirect_php_builds_from_its_host_names_the_public_site(
    which: str, request: pytest.FixtureRequest
) -> None:
    """header("Location: http://{$_SERVER['HTTP_HOST']}/..."): with --preserve-host
    PHP names the public host itself; by default it names its own address, which
    the proxy rewrites."""
    with visitor(request.getfixturevalue(which)) as client:
        response = client.get("/dechets/assistant/accueil")
    assert response.status_code == 302
    assert response.headers["location"] == f"http://{PUBLIC}{GUIDE}"


def test_php_redirects_and_404s_pass_untouched_and_count_nothing(
    php: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A redirect or an error page on an AI route shows nobody the AI's work: no
    notice, nothing counted in the register; the one page shown is counted."""
    from ai_disclosure.client import RegistryClient
    from ai_disclosure.registry import create_app, create_token

    db = str(tmp_path / "register.sqlite3")
    token = create_token(db, "demarches")
    monkeypatch.setenv("AI_DISCLOSURE_REGISTRY_TOKEN", token)
    with thread_server(create_app(db), lifespan="on") as register:
        with RegistryClient(register, token) as registry:
            registry.push_manifest(EXAMPLE_MANIFEST)
        options = ["--preserve-host", "--registry", register, "--spool-dir", str(tmp_path)]
        with proxy_to(php, *options) as proxy, visitor(proxy) as client:
            moved = client.get("/dechets/assistant/tri")
            missing = client.get("/dechets/assistant/inconnu")
            shown = client.get(GUIDE)
        # Stopping the proxy flushed its counts to the register.
        counts = httpx.get(register + "/v1/systems/demarches/assistant-dechets").json()["counts"]
    assert (moved.status_code, moved.headers["location"], moved.content) == (301, GUIDE, b"")
    assert missing.status_code == 404
    assert missing.content == httpx.get(php + "/dechets/assistant/inconnu").content
    for response in (moved, missing):
        assert_disclosed(response, mode="ai-originated", notice=False)  # the route's header
    assert_disclosed(shown, notice=True)
    assert (counts["total"], counts["notice_shown"]) == (1, 1)
