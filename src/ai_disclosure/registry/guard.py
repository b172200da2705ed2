"""Guards against slow and guessing clients, at the ASGI level.

uvicorn bounds header size and idle keep-alive connections but not how long a
request body may trickle, and nothing stops a client from trying token after
token. ``BodyTimeouts`` answers 408 to a body that stalls or drags on;
``BadTokens`` answers 429 to an address that keeps sending rejected tokens. The
address is only a key in memory: never logged, never stored.
"""

from __future__ import annotations

import asyncio
import ipaddress
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .problems import Problem, problem_response
from .ratelimit import FailureBudget

__all__ = ["BadTokens", "BodyTimeout", "BodyTimeouts", "client_key"]

_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class _TitledProblem(Problem):
    title = ""

    def as_json(self) -> dict[str, Any]:
        body = super().as_json()
        body["title"] = self.title
        return body


class BodyTimeout(_TitledProblem):
    """The body stopped arriving or took too long; the connection is closed after."""

    title = "The request body arrived too slowly"

    def __init__(self, detail: str) -> None:
        super().__init__(408, "request-timeout", detail, headers={"Connection": "close"})


class _TooManyBadTokens(_TitledProblem):
    title = "Too many rejected tokens from this address"

    def __init__(self, wait: int) -> None:
        super().__init__(
            429,
            "too-many-bad-tokens",
            f"too many unknown or revoked tokens were sent from this address; retry in {wait} s",
            headers={"Retry-After": str(wait), "Connection": "close"},
        )


class BodyTimeouts:
    """Wait at most ``idle`` seconds for each piece of the body and ``total`` seconds
    for all of it (counted from the app's first read), then raise ``BodyTimeout``,
    which the app answers as a problem. Once the body is in, reads (which then only
    wait for a disconnect) are left alone."""

    def __init__(self, app: ASGIApp, *, idle: float, total: float) -> None:
        self.app = app
        self.idle = idle
        self.total = total

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        deadline: float | None = None
        complete = False

        async def timed() -> Message:
            nonlocal deadline, complete
            if complete:
                return await receive()
            now = loop.time()
            if deadline is None:
                deadline = now + self.total
            wait = min(self.idle, deadline - now)
            if wait <= 0:
                raise BodyTimeout(f"the body was not received within {self.total:g} s")
            try:
                message = await asyncio.wait_for(receive(), wait)
            except TimeoutError:
                if deadline - loop.time() <= 0:
                    raise BodyTimeout(
                        f"the body was not received within {self.total:g} s"
                    ) from None
                raise BodyTimeout(f"no part of the body arrived for {self.idle:g} s") from None
            if message["type"] != "http.request" or not message.get("more_body", False):
                complete = True
            return message

        await self.app(scope, timed, send)


def client_key(scope: Scope) -> str:
    """The peer's address as a throttling key: IPv6 by its /64, which one host or
    household usually holds whole. ``""`` when the server names no peer."""
    client = scope.get("client")
    if not client:
        return ""
    host = str(client[0])
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


class BadTokens:
    """Each 401 to a request that carried a token spends the address's budget; an
    address out of budget gets 429 with ``Retry-After`` for any request that carries
    a token or writes, before the token is looked at or the body read. Reading the
    public register is never throttled."""

    def __init__(self, app: ASGIApp, *, budget: FailureBudget | None) -> None:
        self.app = app
        self.budget = budget

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        budget = self.budget
        if scope["type"] != "http" or budget is None:
            await self.app(scope, receive, send)
            return
        has_token = any(name == b"authorization" for name, _ in scope["headers"])
        if not has_token and scope["method"] not in _WRITE_METHODS:
            await self.app(scope, receive, send)
            return
        key = client_key(scope)
        wait = budget.wait(key)
        if wait:
            await problem_response(_TooManyBadTokens(wait))(scope, receive, send)
            return

        async def watch(message: Message) -> None:
            started = message["type"] == "http.response.start"
            if started and message["status"] == 401 and has_token:
                budget.fail(key)
            await send(message)

        await self.app(scope, receive, watch)
