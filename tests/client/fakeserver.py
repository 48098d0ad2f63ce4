"""A small aiohttp.web server of the tests' own, for what no agent does on demand.

Every fake the client tests need (a fault-injecting proxy in front of the dev agent, a web server
that is not Consul, a scripted agent, a recorder of what went over the wire) is a
:class:`FakeServer` with its own handler. Imported by the tests of this folder as
``from fakeserver import FakeServer`` (pytest puts the folder on ``sys.path``).
"""

from __future__ import annotations

import ssl
from collections.abc import Awaitable, Callable
from types import TracebackType

from aiohttp import web

__all__ = ["FakeServer", "Handler"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class FakeServer:
    """Serves ``handler`` for every method and path on a free loopback port (or a unix socket),
    recording each request it saw and its body. ``async with FakeServer(handler) as server``,
    or :meth:`start` and :meth:`stop`."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.seen: list[web.Request] = []
        self.bodies: list[bytes] = []
        self.runner: web.AppRunner | None = None
        self.address = ""

    @property
    def calls(self) -> list[tuple[str, str, bytes]]:
        """What reached the server, as ``(method, raw path and query, body)``."""
        return [(request.method, request.raw_path, body)
                for request, body in zip(self.seen, self.bodies, strict=True)]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.seen.append(request)
        self.bodies.append(await request.read())
        return await self.handler(request)

    async def start(self, *, ssl_context: ssl.SSLContext | None = None,
                    unix_path: str | None = None) -> FakeServer:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self.runner = web.AppRunner(app, shutdown_timeout=0.1, access_log=None)
        await self.runner.setup()
        if unix_path is not None:
            await web.UnixSite(self.runner, unix_path).start()
            self.address = f"unix://{unix_path}"
            return self
        site = web.TCPSite(self.runner, "127.0.0.1", 0, ssl_context=ssl_context)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.address = f"{'https' if ssl_context else 'http'}://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None

    async def __aenter__(self) -> FakeServer:
        return await self.start()

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.stop()
