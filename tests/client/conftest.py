"""Fixtures of the client tests: they run against the embedded dev agent over HTTP (the plugin's
``consul_agent``/``consul`` fixtures), or against a real agent named by ``AIOCONSUL_TEST_ADDR``."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from fakeserver import FakeServer, Handler

from aioconsul import Consul


@pytest.fixture
async def session(consul: Consul) -> AsyncIterator[str]:
    """A session with no TTL and no lock-delay, destroyed after the test."""
    created = await consul.session.create("aioconsul-test", lock_delay="0s")
    yield created["ID"]
    await consul.session.destroy(created)


def _closed_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture
def unreachable() -> str:
    """An address where nothing listens: a call that reaches the network fails there."""
    return _closed_port()


@pytest.fixture
def closed_port() -> Callable[[], str]:
    """``closed_port()``: a new address where nothing listens, each time it is called."""
    return _closed_port


#: Headers of the agent's answer that the proxy passes on (hop-by-hop ones are its own).
_PASSED = ("Content-Type", "X-Consul-Index", "X-Consul-Knownleader", "X-Consul-Lastcontact",
           "X-Consul-Contenthash", "X-Consul-Effective-Consistency", "X-Consul-Default-Acl-Policy",
           "X-Consul-Translate-Addresses")

Fault = int | str


class Proxy:
    """One agent address: forwards every request to the dev agent at ``upstream``, except that
    each request first takes the next step of ``faults``:

    * an int status: answered with that status and ``No cluster leader`` (never forwarded);
    * ``"reset"``: the connection is closed without an answer (never forwarded);
    * ``"applied-then-500"``: forwarded (the agent applies it), then answered 500;
    * ``"applied-then-hold"``: forwarded, then the agent's answer waits for ``release`` (a
      request in flight after the agent applied it, for a test to cancel);
    * ``"forward"``: forwarded as usual.

    ``down`` resets every connection (an agent that is gone, but counted); ``hold`` makes the
    requests whose path and query contain it wait for ``release`` before taking their step.
    ``seen`` lists ``(method, path and query)`` as requests arrive, ``answered`` as they are
    answered; ``tokens`` the ``X-Consul-Token`` header of each request of ``seen`` (None when it
    had none).
    """

    def __init__(self, upstream: str, faults: list[Fault]) -> None:
        self.upstream = upstream
        self.faults = faults
        self.down = False
        self.seen: list[tuple[str, str]] = []
        self.tokens: list[str | None] = []
        self.answered: list[tuple[str, str]] = []
        self.hold: str | None = None
        self.release = asyncio.Event()
        self.server = FakeServer(self.handle)
        self.http: aiohttp.ClientSession | None = None
        self.address = ""

    def paths(self, method: str | None = None) -> list[str]:
        return [path for verb, path in self.seen if method is None or verb == method]

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.seen.append((request.method, request.path_qs))
        self.tokens.append(request.headers.get("X-Consul-Token"))
        if self.hold is not None and self.hold in request.path_qs:
            await self.release.wait()
        response = await self._step(request)
        self.answered.append((request.method, request.path_qs))
        return response

    async def _step(self, request: web.Request) -> web.StreamResponse:
        step: Fault = "reset" if self.down else self.faults.pop(0) if self.faults else "forward"
        if step == "reset":
            assert request.transport is not None
            request.transport.close()
            return web.Response()
        if isinstance(step, int):
            return web.Response(status=step, text="No cluster leader",
                                headers={"X-Consul-Index": "3"})
        assert self.http is not None
        headers = {name: value for name, value in request.headers.items()
                   if name in ("X-Consul-Token", "Content-Type", "Authorization")}
        async with self.http.request(request.method, self.upstream + request.path_qs,
                                     data=await request.read(), headers=headers) as answer:
            body = await answer.read()
            passed = {name: answer.headers[name] for name in _PASSED if name in answer.headers}
            status = answer.status
        if step == "applied-then-hold":
            await self.release.wait()
        elif step == "applied-then-500":
            return web.Response(status=500, text="rpc error making call: leadership lost "
                                                 "while committing log")
        return web.Response(status=status, body=body, headers=passed)

    async def start(self) -> Proxy:
        self.http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None))
        await self.server.start()
        self.address = self.server.address.removeprefix("http://")
        return self

    async def stop(self) -> None:
        self.release.set()
        await self.server.stop()
        if self.http is not None:
            await self.http.close()
            self.http = None


@pytest.fixture
async def agents(consul: Consul) -> AsyncIterator[Callable[..., Any]]:
    """``await agents(*faults)``: a new fault-injecting :class:`Proxy` (one agent address) in
    front of the test's dev agent, stopped after the test."""
    started: list[Proxy] = []

    async def start(*faults: Fault) -> Proxy:
        proxy = await Proxy(consul.config.base_url, list(faults)).start()
        started.append(proxy)
        return proxy

    yield start
    for proxy in started:
        await proxy.stop()



@pytest.fixture
async def serve() -> AsyncIterator[Callable[..., Awaitable[FakeServer]]]:
    """``server = await serve(handler, ssl_context=..., unix_path=...)``: a started
    :class:`~fakeserver.FakeServer`, stopped after the test."""
    servers: list[FakeServer] = []

    async def start(handler: Handler, **options: Any) -> FakeServer:
        servers.append(FakeServer(handler))
        return await servers[-1].start(**options)

    yield start
    for server in servers:
        await server.stop()


NGINX_404 = ("<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n"
             "<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx/1.25.3</center>\r\n"
             "</body>\r\n</html>\r\n" + "<!-- a padding comment -->\r\n" * 20)


@pytest.fixture
async def web_server(serve: Callable[..., Awaitable[FakeServer]]) -> str:
    """The address of a plain web server (not Consul) answering every path with nginx's HTML
    404 page."""

    async def not_found(request: web.Request) -> web.Response:
        return web.Response(status=404, text=NGINX_404, content_type="text/html")

    return (await serve(not_found)).address.removeprefix("http://")
