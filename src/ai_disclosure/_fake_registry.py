"""A registry in a test's memory: the write API's contract, what it received, and faults.

Apps test that they log disclosures by pointing their ``DisclosureLogger`` (or a
``RegistryClient``) at this fake through ``transport=`` and reading what arrived,
as they would read a real register, without a database or a server.

It answers the two write endpoints (``POST /v1/disclosures``, ``PUT
/v1/services/{id}/manifest``) the way ``registry/api.py`` does: the same status
codes, the same ``application/problem+json`` types, every batch checked against
``disclosure-batch.schema.json``, a batch id stored once (``duplicate`` when sent
again, ``409`` when reused for other content). It is an ``httpx.MockTransport``,
which is both a blocking and an asynchronous transport, so the logger's
background task and its synchronous exit path reach it alike.

It deliberately does less than the registry: no reads (a test reads
``counts``/``batches`` instead), no body size limit, no rate limit unless asked
for, and no check of times against a clock (apps test with fake clocks). It
must not import ``registry/``: the SDK core runs without the registry's extras.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any, NamedTuple
from urllib.parse import unquote

import httpx

from . import _problems
from ._body import BodyDecoder, check_media_type, is_gzipped, parse_json
from ._manifest import ManifestError, ManifestSource, load_manifest, parse_manifest
from ._model import Manifest
from ._problems import PROBLEM_TYPE, Problem
from ._receipts import ReceiptStatus, batch_receipt, manifest_receipt
from ._schemas import validator

__all__ = ["DayCount", "FakeRegistry", "fake_registry"]

_INSTANT = "%Y-%m-%dT%H:%M:%SZ"


class DayCount(NamedTuple):
    """The key of ``FakeRegistry.counts``: the register's daily total for one system."""

    service: str
    system: str
    day: str  # YYYY-MM-DD, UTC, the day the window started


def _response(problem: Problem) -> httpx.Response:
    """A refusal as the registry's ``problem_response`` sends it."""
    return httpx.Response(
        problem.status,
        content=json.dumps(problem.as_json(), ensure_ascii=False).encode("utf-8"),
        headers={"content-type": PROBLEM_TYPE, **problem.headers},
    )


class _Fault(NamedTuple):
    status: int
    times: int | None  # None: until ``recover()``
    retry_after: int | None
    handled: bool  # the request is handled first: only its answer is lost

    def refusal(self) -> httpx.Response:
        headers = {"Retry-After": str(self.retry_after)} if self.retry_after is not None else None
        if self.status == 429:
            return _response(
                Problem(429, "rate-limited", "too many requests (injected)", headers=headers)
            )
        return _response(Problem(self.status, "server-error", "injected failure", headers=headers))


def _pointer(parts: Iterator[Any] | list[Any]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _read_json(request: httpx.Request) -> Any:
    """The request's JSON body, refused as the registry refuses it (400, 415)."""
    check_media_type(request.headers.get("content-type"))
    decoder = BodyDecoder(is_gzipped(request.headers.get("content-encoding")))
    decoder.feed(request.content)
    return parse_json(decoder.finish())


def _batch_errors(batch: Any) -> list[dict[str, str]]:
    """Every way ``batch`` breaks the schema, then times that are not real instants
    (2026-02-30T00:00:00Z matches the schema's pattern; the registry refuses it)."""
    found = sorted(
        validator("disclosure-batch").iter_errors(batch),
        key=lambda e: [str(p) for p in e.absolute_path],
    )
    errors = [{"pointer": _pointer(list(e.absolute_path)), "detail": e.message} for e in found]
    if errors:
        return errors
    times = [
        (f"/counts/{i}/window_start", r["window_start"]) for i, r in enumerate(batch["counts"])
    ]
    times += [(f"/decisions/{i}/at", d["at"]) for i, d in enumerate(batch.get("decisions", ()))]
    for pointer, value in times:
        try:
            datetime.strptime(value, _INSTANT)
        except ValueError:
            errors.append({"pointer": pointer, "detail": f"{value!r} is not a real date and time"})
    return errors


def _content(batch: Mapping[str, Any]) -> str:
    """What a batch stores, as text: its counts summed per key, its decisions (each
    once, earliest time) and its drops. Two sends of one batch id are the same batch
    when this is equal, whatever their ``sent_at``, ``sdk`` or row order."""
    summed: Counter[tuple[Any, ...]] = Counter()
    for row in batch["counts"]:
        key = (row["system"], row["window_start"], row["route"], row["mode"])
        summed[(*key, row["notice_shown"], row.get("language", ""))] += int(row["count"])
    decisions: dict[tuple[str, str], str] = {}
    for item in batch.get("decisions", ()):
        key2 = (item["reference"], item["system"])
        decisions[key2] = min(item["at"], decisions.get(key2, item["at"]))
    content = [sorted(summed.items()), sorted(decisions.items()), batch.get("dropped", 0)]
    return json.dumps(content, separators=(",", ":"))


class FakeRegistry:
    """The registry's write API in memory. Point a logger or client at ``url`` with
    ``transport=registry.transport`` and the ``token``; then read:

    - ``batches``: every batch stored, as the JSON it was sent as, in order;
    - ``counts``: the counts summed per ``DayCount(service, system, day)``;
    - ``problems``: the problem details answered to refused requests (bad input);
    - ``requests``: every request received, failed ones included (retries show here);
    - ``manifests``: the manifest last published per service.

    To test resilience: set ``down`` (connections refused), or ``fail(...)`` (5xx,
    or 429 with ``Retry-After``; or an answer lost after the batch was stored);
    ``recover()`` ends both.
    """

    def __init__(
        self,
        manifest: ManifestSource | None = None,
        *,
        token: str = "test-token",
        url: str = "http://registry.test",
    ) -> None:
        self.url = url
        self.token = token
        self.transport = httpx.MockTransport(self._handle)
        self.batches: list[dict[str, Any]] = []
        self.problems: list[dict[str, Any]] = []
        self.requests: list[httpx.Request] = []
        self.manifests: dict[str, dict[str, Any]] = {}
        self.down = False
        self.closed = False
        self._fault: _Fault | None = None
        self._base = httpx.URL(url).path.rstrip("/")
        self._lock = threading.Lock()  # the logger's exit path sends from another thread
        self._stored: dict[tuple[str, str], tuple[str, int]] = {}
        self._declared: dict[str, frozenset[str]] = {}
        self._versions: dict[str, int] = {}
        # The service the token belongs to; None: whichever service a batch names.
        self._owner: str | None = None
        if manifest is not None:
            loaded = load_manifest(manifest)
            self._owner = loaded.service.id
            self._publish(loaded.service.id, dict(loaded.raw), loaded)

    # --- what was received ------------------------------------------------------

    @property
    def counts(self) -> Counter[DayCount]:
        """The stored counts summed per service, system and day (UTC)."""
        with self._lock:
            batches = list(self.batches)
        summed: Counter[DayCount] = Counter()
        for batch in batches:
            for row in batch["counts"]:
                key = DayCount(batch["service"], row["system"], row["window_start"][:10])
                summed[key] += row["count"]
        return summed

    def total(self, system: str | None = None) -> int:
        """Every stored count, or those of ``system`` only."""
        return sum(n for key, n in self.counts.items() if system in (None, key.system))

    @property
    def dropped(self) -> int:
        """The drops the stored batches reported (counts the sender had to lose)."""
        with self._lock:
            return sum(batch.get("dropped", 0) for batch in self.batches)

    @property
    def decisions(self) -> list[dict[str, Any]]:
        """Every decision the stored batches carried, in the order they arrived."""
        with self._lock:
            return [dict(item) for batch in self.batches for item in batch.get("decisions", ())]

    # --- faults -----------------------------------------------------------------

    def fail(
        self,
        status: int = 503,
        *,
        times: int | None = None,
        retry_after: int | None = None,
        after_storing: bool = False,
    ) -> None:
        """Answer the next ``times`` requests (every one until ``recover()`` if None)
        with ``status`` - a 5xx, or 429 - and, with ``retry_after``, a ``Retry-After``
        header in seconds. Nothing is stored meanwhile, unless ``after_storing``: then
        each request is handled as usual and only its answer is lost on the way back
        (a gateway timing out), so a sender that retries must not count twice."""
        if status != 429 and not 500 <= status <= 599:
            raise ValueError(f"a registry fault is 429 or a 5xx status, not {status}")
        if times is not None and times < 1:
            raise ValueError("times must be at least 1 (or None: until recover())")
        with self._lock:
            self._fault = _Fault(status, times, retry_after, after_storing)

    def recover(self) -> None:
        """Up again, and no more injected failures."""
        with self._lock:
            self.down = False
            self._fault = None

    # --- the transport ----------------------------------------------------------

    def _handle(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.requests.append(request)
            if self.down or self.closed:
                raise httpx.ConnectError("connection refused (fake registry down)", request=request)
            fault = self._next_fault()
            if fault is not None and not fault.handled:
                return fault.refusal()
            try:
                answer = self._answer(request)
            except Problem as refused:  # bad input: what the test may want to see
                self.problems.append(refused.as_json())
                return _response(refused)
            return answer if fault is None else fault.refusal()

    def _next_fault(self) -> _Fault | None:
        """The fault for this request, if any, counted against its ``times``."""
        fault = self._fault
        if fault is not None and fault.times is not None:
            left = fault.times - 1
            self._fault = fault._replace(times=left) if left else None
        return fault

    def _answer(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if not path.startswith(self._base + "/"):
            raise Problem(404, "not-found", "Not Found")
        path = path[len(self._base) :]
        parts = path.split("/")
        if path == "/v1/disclosures":
            self._method(request, "POST")
            return self._post_batch(request)
        if len(parts) == 5 and parts[:3] == ["", "v1", "services"] and parts[4] == "manifest":
            self._method(request, "PUT")
            return self._put_manifest(request, unquote(parts[3]))
        raise Problem(404, "not-found", "Not Found")

    @staticmethod
    def _method(request: httpx.Request, allowed: str) -> None:
        if request.method != allowed:
            raise Problem(
                405, "method-not-allowed", "Method Not Allowed", headers={"Allow": allowed}
            )

    def _authenticate(self, request: httpx.Request) -> None:
        token = _problems.bearer_token(request.headers.get("authorization"))
        if token is None:
            raise _problems.no_token()
        if token != self.token:
            raise _problems.unknown_token()

    def _check_owner(self, service: str, what: str) -> None:
        if self._owner is not None and service != self._owner:
            raise _problems.other_service(self._owner, f"{what} {service!r}")

    def _post_batch(self, request: httpx.Request) -> httpx.Response:
        self._authenticate(request)
        batch = _read_json(request)
        claimed = batch.get("service") if isinstance(batch, dict) else None
        if isinstance(claimed, str):
            self._check_owner(claimed, "the batch for")
        errors = _batch_errors(batch)
        if errors:
            raise _problems.invalid_batch(errors)
        key = (batch["service"], batch["batch_id"])
        content = _content(batch)
        stored = self._stored.get(key)
        if stored is None:
            self._check_declared(batch)
        elif stored[0] != content:
            raise _problems.batch_conflict(*key)
        else:
            return _json(*batch_receipt(key[1], ReceiptStatus.DUPLICATE, stored[1]))
        records = len(batch["counts"])
        self._stored[key] = (content, records)
        self.batches.append(batch)
        return _json(*batch_receipt(key[1], ReceiptStatus.STORED, records))

    def _check_declared(self, batch: Mapping[str, Any]) -> None:
        """Refuse rows naming systems the service's published manifest lacks. Unlike
        the registry, a service that published none may name any system."""
        declared = self._declared.get(batch["service"])
        if declared is None:
            return
        errors = [
            {
                "pointer": f"/{field}/{index}/system",
                "detail": f"system {row['system']!r} is not in the published manifest of "
                f"{batch['service']!r} (declared: {', '.join(sorted(declared)) or 'none'})",
            }
            for field in ("counts", "decisions")
            for index, row in enumerate(batch.get(field, ()))
            if row["system"] not in declared
        ]
        if errors:
            raise _problems.undeclared_systems(errors)

    def _put_manifest(self, request: httpx.Request, service: str) -> httpx.Response:
        self._authenticate(request)
        self._check_owner(service, "not")
        data = _problems.manifest_object(_read_json(request))
        try:
            manifest = parse_manifest(data, source=f"PUT /v1/services/{service}/manifest")
        except ManifestError as exc:
            raise _problems.invalid_manifest(exc) from None
        _problems.check_manifest_service(manifest, service)
        changed = self._publish(service, data, manifest)
        return _json(*manifest_receipt(service, self._versions[service], changed))

    def _publish(self, service: str, data: Mapping[str, Any], manifest: Manifest) -> bool:
        # JSON round trip: the stored manifest is plain data, as the registry keeps it.
        plain = json.loads(json.dumps(data, default=dict))
        if self.manifests.get(service) == plain:
            return False
        self.manifests[service] = plain
        self._versions[service] = self._versions.get(service, 0) + 1
        self._declared[service] = frozenset(s.id for s in manifest.systems)
        return True


def _json(status: int, body: Mapping[str, Any]) -> httpx.Response:
    return httpx.Response(status, json=dict(body))


@contextmanager
def fake_registry(
    manifest: ManifestSource | None = None,
    *,
    token: str = "test-token",
    url: str = "http://registry.test",
) -> Iterator[FakeRegistry]:
    """A ``FakeRegistry`` for the block; it refuses connections once the block ends,
    so a logger left running in a later test cannot write into it.

    With ``manifest`` (a path, a mapping or a ``Manifest``), the token belongs to
    that manifest's service and the manifest is already published: batches from
    another service are refused (403), and rows naming systems it does not declare
    (422), as the registry does.
    """
    registry = FakeRegistry(manifest, token=token, url=url)
    try:
        yield registry
    finally:
        registry.closed = True
