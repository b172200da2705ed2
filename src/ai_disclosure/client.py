"""Talk to the central registry: publish a manifest, send a batch, read entries and stats.

``RegistryClient`` (blocking) and ``AsyncRegistryClient`` share one method set,
one request builder and one response reader (httpx's ``BaseClient`` way), so
both speak exactly the same protocol. They
do not retry: they serve commands and scripts, where the person running them
decides. The background ``DisclosureLogger`` does the retrying.

Every refusal raises ``RegistryError`` carrying the registry's RFC 9457 problem
details, so a command can print what is wrong and where.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import gzip
import json
import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, NamedTuple, Self
from urllib.parse import quote

import httpx

from ._aggregate import SDK_NAME, Batch
from ._errors import AIDisclosureError
from ._manifest import load_manifest
from ._model import Manifest
from ._version import __version__

__all__ = [
    "AsyncRegistryClient",
    "BatchSent",
    "ManifestPushed",
    "ProblemField",
    "RegistryClient",
    "RegistryError",
    "clean_token",
    "parse_retry_after",
    "transport_error",
]

ManifestSource = Manifest | str | os.PathLike[str] | Mapping[str, Any]
DateLike = str | dt.date | dt.datetime


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delay-seconds or HTTP-date); None if absent
    or unreadable. A date in the past gives 0."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class ProblemField(NamedTuple):
    """One field the registry found wrong: a JSON pointer into what was sent, and why."""

    pointer: str
    detail: str


class RegistryError(AIDisclosureError):
    """The registry refused a request, or could not be reached (``status`` is None).

    Carries the RFC 9457 problem details: ``status``, ``title``, ``detail``, ``type``
    and ``errors``, a list of ``(pointer, detail)``.
    """

    def __init__(
        self,
        status: int | None,
        title: str,
        detail: str | None = None,
        *,
        type: str = "about:blank",
        errors: tuple[ProblemField, ...] = (),
        retry_after: float | None = None,
    ) -> None:
        self.status = status
        self.title = title
        self.detail = detail
        self.type = type
        self.errors = errors
        self.retry_after = retry_after
        super().__init__(str(self))

    def __str__(self) -> str:
        head = f"{self.status} {self.title}" if self.status is not None else self.title
        parts = [f"{head}: {self.detail}" if self.detail else head]
        parts += [f"{e.pointer or '/'}: {e.detail}" for e in self.errors]
        return "; ".join(parts)

    @classmethod
    def from_response(cls, response: httpx.Response) -> RegistryError:
        """Read the problem details of an error response, or make do with its status line."""
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        data: Any = None
        with contextlib.suppress(ValueError, UnicodeDecodeError):
            data = response.json()
        if not isinstance(data, Mapping):
            text = response.text.strip()[:200] if response.content else None
            return cls(
                response.status_code, response.reason_phrase, text or None, retry_after=retry_after
            )
        errors = tuple(
            ProblemField(str(e.get("pointer", "")), str(e.get("detail", "")))
            for e in data.get("errors") or ()
            if isinstance(e, Mapping)
        )
        status = data.get("status")
        return cls(
            status if isinstance(status, int) else response.status_code,
            str(data.get("title") or response.reason_phrase),
            str(data["detail"]) if data.get("detail") is not None else None,
            type=str(data.get("type") or "about:blank"),
            errors=errors,
            retry_after=retry_after,
        )


@dataclass(frozen=True, slots=True)
class ManifestPushed:
    """The registry's answer to a manifest: its version there, and whether it changed."""

    service: str
    version: str | int | None
    changed: bool


@dataclass(frozen=True, slots=True)
class BatchSent:
    """The registry's answer to a batch: ``status`` is "stored" or "duplicate"."""

    batch_id: str
    status: str
    records: int | None

    @property
    def duplicate(self) -> bool:
        return self.status == "duplicate"


# --- requests and responses, shared by both clients --------------------------------


_warned_plaintext: set[str] = set()


def _warn_if_plaintext(base_url: str, token: str | None) -> None:
    """A token sent over plain http to another machine can be read on the way: say so,
    once per address (a test or a loopback register is fine)."""
    url = httpx.URL(base_url)
    if not token or url.scheme != "http" or base_url in _warned_plaintext:
        return
    host = url.host
    if host in ("localhost", "::1") or host.startswith("127."):
        return
    _warned_plaintext.add(base_url)
    logging.getLogger("ai_disclosure.logging").warning(
        "the registry token is sent in clear text to %s: use https:// for a register on "
        "another machine",
        base_url,
    )


def _options(base_url: str, token: str | None, transport: Any, timeout: Any) -> dict[str, Any]:
    """What both clients give httpx (warning first when a token would travel in clear)."""
    if transport is None:
        _warn_if_plaintext(base_url, token)
    return {
        "base_url": base_url,
        "headers": _headers(token),
        "transport": transport,
        "timeout": timeout,
    }


def clean_token(token: str | None) -> str | None:
    """The token without surrounding whitespace (a token read from a secret file ends
    with a newline); ``ValueError`` if what is left cannot be one. The message never
    repeats the token: it is a secret."""
    if token is None:
        return None
    token = token.strip()
    if not token:
        return None
    if not all("!" <= char <= "~" for char in token):
        raise ValueError(
            "the registry token has a character a token cannot have (a space, a control "
            "character or a non-ASCII letter inside it): check the secret it was read from"
        )
    return token


def _headers(token: str | None) -> dict[str, str]:
    headers = {
        "User-Agent": f"{SDK_NAME}/{__version__}",
        "Accept": "application/json, application/problem+json",
    }
    token = clean_token(token)
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return headers


def _manifest_request(source: ManifestSource) -> tuple[str, bytes]:
    manifest = load_manifest(source)
    if not manifest.raw:
        raise ValueError("this Manifest has no source data; load it with load_manifest()")
    path = f"/v1/services/{quote(manifest.service.id, safe='')}/manifest"
    return path, _json_bytes(_plain(manifest.raw))


def _plain(value: Any) -> Any:
    """Mappings (the manifest's read-only views included) as dicts, for ``json``."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _json_bytes(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def encode_batch(batch: Batch | Mapping[str, Any], *, compress: bool = True) -> bytes:
    """The request body for a batch: compact JSON, gzip-compressed unless ``compress`` is off.

    ``mtime=0`` makes the body a pure function of the batch.
    """
    data = batch.to_json() if isinstance(batch, Batch) else _plain(batch)
    raw = _json_bytes(data)
    return gzip.compress(raw, compresslevel=6, mtime=0) if compress else raw


def _batch_headers(compress: bool) -> dict[str, str]:
    headers = {"Content-Type": "application/json"}
    if compress:
        headers["Content-Encoding"] = "gzip"
    return headers


def _stats_params(
    service: str | None, system: str | None, from_: DateLike | None, to: DateLike | None
) -> dict[str, str]:
    params: dict[str, str] = {}
    for name, value in (("service", service), ("system", system), ("from", from_), ("to", to)):
        if value is None:
            continue
        params[name] = value.isoformat() if isinstance(value, dt.date) else str(value)
    return params


def _json(response: httpx.Response) -> dict[str, Any]:
    if response.status_code >= 300:
        raise RegistryError.from_response(response)
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {"data": data}


def _pushed(response: httpx.Response) -> ManifestPushed:
    data = _json(response)
    return ManifestPushed(
        service=str(data.get("service", "")),
        version=data.get("version"),
        changed=bool(data.get("changed", response.status_code == 201)),
    )


def _sent(response: httpx.Response, batch_id: str) -> BatchSent:
    data = _json(response)
    default = "duplicate" if response.status_code == 200 else "stored"
    records = data.get("records")
    return BatchSent(
        batch_id=str(data.get("batch_id", batch_id)),
        status=str(data.get("status", default)),
        records=records if isinstance(records, int) else None,
    )


def _batch_id(batch: Batch | Mapping[str, Any]) -> str:
    return batch.batch_id if isinstance(batch, Batch) else str(batch.get("batch_id", ""))


def _origin(url: httpx.URL | str) -> str:
    """Scheme, host, port and path of the registry's address: no credentials, no query."""
    url = httpx.URL(url)
    return str(url.copy_with(username=None, password=None, query=None, fragment=None))


def transport_error(exc: BaseException, base_url: httpx.URL | str) -> RegistryError:
    """A failed exchange as a ``RegistryError`` without status, naming the registry.

    "Unreachable" only when it is - connection refused, name not found, timeout -;
    any other failure is named by its type alone, since the messages of some (a
    header httpx refused to send) would repeat what was sent, the token included.
    """
    where = _origin(base_url)
    if isinstance(exc, httpx.ConnectError | httpx.TimeoutException | ConnectionError):
        return RegistryError(None, f"registry unreachable at {where}", _why(exc))
    if isinstance(exc, httpx.NetworkError | httpx.RemoteProtocolError):
        return RegistryError(None, f"the connection to the registry at {where} failed", _why(exc))
    return RegistryError(
        None, f"could not send the request to the registry at {where}", type(exc).__name__
    )


def _why(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _system_path(service: str, system: str) -> str:
    return f"/v1/systems/{quote(service, safe='')}/{quote(system, safe='')}"


def _decision_path(service: str, reference: str) -> str:
    return f"/v1/services/{quote(service, safe='')}/decisions/{quote(reference, safe='')}"


# --- the clients -------------------------------------------------------------------------


class _Call(NamedTuple):
    """One request, ready for either client to send."""

    method: str
    path: str
    content: bytes | None = None
    headers: dict[str, str] | None = None
    params: dict[str, str] | None = None


class _BaseRegistryClient:
    """What the blocking and the asynchronous client share: each operation's request.

    The two subclasses only send (``_send``) and read the answer with the same
    module-level readers, so they keep one method set and one protocol.
    """

    @staticmethod
    def _push_manifest_call(source: ManifestSource) -> _Call:
        path, body = _manifest_request(source)
        return _Call("PUT", path, body, {"Content-Type": "application/json"})

    @staticmethod
    def _batch_call(body: bytes, *, compressed: bool = True) -> _Call:
        return _Call("POST", "/v1/disclosures", body, _batch_headers(compressed))

    @staticmethod
    def _stats_call(
        service: str | None, system: str | None, from_: DateLike | None, to: DateLike | None
    ) -> _Call:
        return _Call("GET", "/v1/stats", params=_stats_params(service, system, from_, to))


def _kwargs(call: _Call) -> dict[str, Any]:
    return {"content": call.content, "headers": call.headers, "params": call.params}


class RegistryClient(_BaseRegistryClient):
    """Blocking client for the registry; a context manager that closes its connections."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float | httpx.Timeout = 10.0,
    ) -> None:
        self._http = httpx.Client(**_options(base_url, token, transport, timeout))

    def _send(self, call: _Call) -> httpx.Response:
        try:
            return self._http.request(call.method, call.path, **_kwargs(call))
        except httpx.HTTPError as exc:
            raise transport_error(exc, self._http.base_url) from None

    def push_manifest(self, manifest_or_path: ManifestSource) -> ManifestPushed:
        """Publish a manifest (checked locally first: ``ManifestError`` if invalid)."""
        return _pushed(self._send(self._push_manifest_call(manifest_or_path)))

    def send_batch(self, batch: Batch | Mapping[str, Any], *, compress: bool = True) -> BatchSent:
        """Send one batch; sending it again is harmless (answered "duplicate")."""
        body = encode_batch(batch, compress=compress)
        return _sent(self._send(self._batch_call(body, compressed=compress)), _batch_id(batch))

    def resend(self, body: bytes, batch_id: str) -> BatchSent:
        """Send a batch body exactly as it was first sent (gzip JSON), e.g. a parked one."""
        return _sent(self._send(self._batch_call(body)), batch_id)

    def post_body(self, body: bytes, *, compressed: bool = True) -> httpx.Response:
        """``POST /v1/disclosures`` with a ready body, returning the response as is.

        Network errors propagate as ``httpx`` exceptions: the logger classifies
        them and the status codes itself to decide whether to retry.
        """
        call = self._batch_call(body, compressed=compressed)
        return self._http.request(call.method, call.path, **_kwargs(call))

    def system_entry(self, service: str, system: str) -> dict[str, Any]:
        """A system's public register entry, with its disclosure ``counts``."""
        return _json(self._send(_Call("GET", _system_path(service, system))))

    def decision(self, service: str, reference: str) -> dict[str, Any]:
        """Which system took the decision ``reference`` (this service's token only)."""
        return _json(self._send(_Call("GET", _decision_path(service, reference))))

    def stats(
        self,
        *,
        service: str | None = None,
        system: str | None = None,
        from_: DateLike | None = None,
        to: DateLike | None = None,
    ) -> dict[str, Any]:
        """Disclosure statistics, filtered by service, system and date range."""
        return _json(self._send(self._stats_call(service, system, from_, to)))

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncRegistryClient(_BaseRegistryClient):
    """Asynchronous client for the registry; an async context manager.

    The same methods as ``RegistryClient``, awaited; ``aclose`` for ``close``.
    """

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float | httpx.Timeout = 10.0,
    ) -> None:
        self._http = httpx.AsyncClient(**_options(base_url, token, transport, timeout))

    async def _send(self, call: _Call) -> httpx.Response:
        try:
            return await self._http.request(call.method, call.path, **_kwargs(call))
        except httpx.HTTPError as exc:
            raise transport_error(exc, self._http.base_url) from None

    async def push_manifest(self, manifest_or_path: ManifestSource) -> ManifestPushed:
        """Publish a manifest (checked locally first: ``ManifestError`` if invalid)."""
        return _pushed(await self._send(self._push_manifest_call(manifest_or_path)))

    async def send_batch(
        self, batch: Batch | Mapping[str, Any], *, compress: bool = True
    ) -> BatchSent:
        """Send one batch; sending it again is harmless (answered "duplicate")."""
        body = encode_batch(batch, compress=compress)
        call = self._batch_call(body, compressed=compress)
        return _sent(await self._send(call), _batch_id(batch))

    async def resend(self, body: bytes, batch_id: str) -> BatchSent:
        """Send a batch body exactly as it was first sent (gzip JSON), e.g. a parked one."""
        return _sent(await self._send(self._batch_call(body)), batch_id)

    async def post_body(self, body: bytes, *, compressed: bool = True) -> httpx.Response:
        """``POST /v1/disclosures`` with a ready body, returning the response as is.

        Network errors propagate as ``httpx`` exceptions: the logger classifies
        them and the status codes itself to decide whether to retry.
        """
        call = self._batch_call(body, compressed=compressed)
        return await self._http.request(call.method, call.path, **_kwargs(call))

    async def system_entry(self, service: str, system: str) -> dict[str, Any]:
        """A system's public register entry, with its disclosure ``counts``."""
        return _json(await self._send(_Call("GET", _system_path(service, system))))

    async def decision(self, service: str, reference: str) -> dict[str, Any]:
        """Which system took the decision ``reference`` (this service's token only)."""
        return _json(await self._send(_Call("GET", _decision_path(service, reference))))

    async def stats(
        self,
        *,
        service: str | None = None,
        system: str | None = None,
        from_: DateLike | None = None,
        to: DateLike | None = None,
    ) -> dict[str, Any]:
        """Disclosure statistics, filtered by service, system and date range."""
        return _json(await self._send(self._stats_call(service, system, from_, to)))

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
