"""Building a service: an aiohttp.web app on Consul, from its start to a clean shutdown.

The service "web" quotes prices: it registers itself, finds instances of "prices" (its
dependency) through Consul, reads its settings from KV as they change, runs a periodic
job on one instance only (the elected leader), and on SIGTERM drains before it stops.

Runs as is against the embedded dev agent. The ``# [name]`` / ``# [end]`` comments mark
the snippets that docs/service.rst shows; the code after them plays the rest of the
world (the dependency, a client of the service, an orchestrator sending SIGTERM) and
checks that the service is gone and left nothing behind.
"""

import asyncio
import contextlib
import logging
import os
import signal
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
from aiohttp import web

from aioconsul import Consul
from aioconsul.recipes.election import Election
from aioconsul.testing import DevAgent
from aioconsul.toolkit import LiveConfig, NoInstances, Pool, Registration

# [tracing]
log = logging.getLogger("web.consul")


def consul_tracing() -> aiohttp.TraceConfig:
    """Log every request the Consul client sends, with its status and duration."""

    async def start(session, context, params) -> None:
        context.started = time.monotonic()

    async def end(session, context, params) -> None:
        took = (time.monotonic() - context.started) * 1000
        status = params.response.status
        log.debug("%s %s: %d in %.1f ms", params.method, params.url.path, status, took)

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(start)
    trace.on_request_end.append(end)
    return trace
# [end]


# [app]
@dataclass(frozen=True)
class Settings:
    consul: str  # the local agent, e.g. from CONSUL_HTTP_ADDR
    host: str  # where this instance listens: what it registers
    port: int

    @property
    def me(self) -> str:
        return f"{self.host}:{self.port}"


SETTINGS = web.AppKey("settings", Settings)
CONSUL = web.AppKey("consul", Consul)
CONFIG = web.AppKey("config", LiveConfig)
PRICES = web.AppKey("prices", Pool)
HTTP = web.AppKey("http", aiohttp.ClientSession)
ELECTION = web.AppKey("election", Election)
REGISTRATION = web.AppKey("registration", Registration)


async def connect(app: web.Application) -> AsyncIterator[None]:
    """The Consul client, the live config, the pool of "prices", an HTTP session."""
    async with (
        Consul(app[SETTINGS].consul, trace_configs=[consul_tracing()]) as consul,
        # A first version that fails validate= is raised here: no config, no service.
        consul.kv.config("config/web/", codec="json",
                         validate=lambda data: data["rate"] > 0) as config,
        consul.discover("prices") as prices,
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http,
    ):
        await prices.wait_ready(min=1, timeout=10)  # a startup gate on the dependency
        app[CONSUL], app[CONFIG], app[PRICES], app[HTTP] = consul, config, prices, http
        yield


async def cleanup_job(app: web.Application) -> None:
    """The leader's work, done by one instance at a time."""
    while True:
        # ... the periodic cleanup itself, then a note of who did it ...
        await app[CONSUL].kv.set("jobs/web/cleanup", app[SETTINGS].me.encode())
        await asyncio.sleep(app[CONFIG]["cleanup_every"])  # live: read every round


async def lead(app: web.Application) -> AsyncIterator[None]:
    """Campaign in the background; while elected, run the job."""
    me = app[SETTINGS].me.encode()
    election = app[ELECTION] = app[CONSUL].election("service/web/leader", value=me)
    campaign = asyncio.create_task(election.run(lambda: cleanup_job(app)))
    yield
    campaign.cancel()  # steps down: the key released, the session destroyed
    with contextlib.suppress(asyncio.CancelledError):
        await campaign  # an election that ended with an error raises it here


async def register(app: web.Application) -> AsyncIterator[None]:
    """Registered last, so that traffic comes once everything else is ready."""
    settings = app[SETTINGS]
    service = {"Name": "web", "Address": settings.host, "Port": settings.port}
    # grace: how long clients get to see the instance go critical (2 s by default).
    async with app[CONSUL].register(service, ttl="10s", grace=0.5) as registration:
        app[REGISTRATION] = registration
        yield
    # Left: drained (critical, grace, deregistered) unless serve() drained already.


def make_app(settings: Settings) -> web.Application:
    app = web.Application()
    app[SETTINGS] = settings
    # Entered in this order on startup, left in the reverse order on cleanup.
    app.cleanup_ctx.extend([connect, lead, register])
    app.router.add_get("/quote/{item}", quote)
    return app
# [end]


# [handler]
async def quote(request: web.Request) -> web.Response:
    """A price from one instance of "prices", in the currency the config says."""
    app, item = request.app, request.match_info["item"]
    try:
        instance = app[PRICES].pick()  # weighted by Consul's Weights
    except NoInstances:
        raise web.HTTPServiceUnavailable(text="no healthy prices instance") from None
    url = f"http://{instance.address}:{instance.port}/prices/{item}"
    try:
        async with app[HTTP].get(url, raise_for_status=True) as response:
            price = (await response.json())["price"]
    except aiohttp.ClientError:
        app[PRICES].mark_failed(instance)  # left out of picks for a while
        raise web.HTTPBadGateway(text=f"{instance.id} failed") from None
    config = app[CONFIG].data  # this version: a reload replaces it, never edits it
    return web.json_response({
        "item": item, "price": round(price * config["rate"], 2),
        "currency": config["currency"], "from": instance.id,
        "leader": app[ELECTION].leader,
    })
# [end]


# [serve]
async def serve(app: web.Application, sock: socket.socket) -> None:
    """Serve until SIGTERM; then drain while still listening, and stop."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    runner = web.AppRunner(app)
    try:
        await runner.setup()  # enters the cleanup contexts: connect, lead, register
        await web.SockSite(runner, sock).start()
        await stop.wait()
        await app[REGISTRATION].drain()  # critical, grace, deregistered: no new traffic
    finally:
        await runner.cleanup()  # stop listening, finish requests, leave the contexts
        loop.remove_signal_handler(signal.SIGTERM)


def listening_socket(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """The socket, listening before the app starts: its port is what registers, and a
    client that comes between the registration and the server's start waits in the
    backlog instead of being refused."""
    return socket.create_server((host, port))
# [end]


# What follows plays the rest of the world and checks what happened.


@contextlib.asynccontextmanager
async def prices_service(client: Consul) -> AsyncIterator[str]:
    """The dependency: a stand-in "prices" on a free port, registered with Consul."""

    async def price(request: web.Request) -> web.Response:
        return web.json_response({"item": request.match_info["item"], "price": 2.5})

    app = web.Application()
    app.router.add_get("/prices/{item}", price)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    definition = {"Name": "prices", "Address": "127.0.0.1", "Port": port}
    try:
        async with client.register(definition, ttl="10s", grace=0) as registration:
            yield registration.id
    finally:
        await runner.cleanup()


async def value_of(client: Consul, key: str) -> bytes:
    """The value of ``key``, waiting (blocking reads) until it is written."""
    async with client.kv.watch(key, wait="10s") as watch:
        async for entry, _ in watch:
            if entry is not None:
                return entry["Value"]
    raise AssertionError("unreachable: a watch never ends by itself")


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


async def main() -> None:
    traced = Lines()
    log.addHandler(traced)
    log.setLevel(logging.DEBUG)
    async with DevAgent() as agent, Consul(agent.address) as client:
        values = {"currency": b'"EUR"', "rate": b"1.2", "cleanup_every": b"30"}
        for key, value in values.items():
            await client.kv.set(f"config/web/{key}", value)
        async with prices_service(client) as prices_id:
            sock = listening_socket()
            settings = Settings(agent.address, "127.0.0.1", sock.getsockname()[1])
            server = asyncio.create_task(serve(make_app(settings), sock))

            # A client of "web" finds it through Consul, once its leader job ran.
            async with client.discover("web") as web_pool:
                await web_pool.wait_ready(timeout=10)
                cleaned_by = await value_of(client, "jobs/web/cleanup")
                assert cleaned_by == settings.me.encode()
                instance = web_pool.pick()
                url = f"http://{instance.address}:{instance.port}/quote/apple"
                async with aiohttp.ClientSession() as http, http.get(url) as response:
                    assert response.status == 200, await response.text()
                    body = await response.json()
            print(body)
            assert body == {"item": "apple", "price": 3.0, "currency": "EUR",
                            "from": prices_id, "leader": True}
            assert instance.id == f"web-127.0.0.1-{settings.port}"

            os.kill(os.getpid(), signal.SIGTERM)  # what an orchestrator sends
            await server

            # Gone from Consul, and nothing left behind: no session, no lock, no task.
            services, _ = await client.agent.services.items()
            assert sorted(s["Service"] for s in services.values()) == ["prices"]
            sessions, _ = await client.session.items()
            assert sessions == []
            entry, _ = await client.kv.get("service/web/leader")
            assert entry is not None and "Session" not in entry
            assert sock.fileno() == -1  # closed with the site
    assert asyncio.all_tasks() == {asyncio.current_task()}
    # The trace saw every request, and the shutdown's order: drained, then stepped down.
    requests = [line.rsplit(": ", 1)[0] for line in traced.lines]
    me = f"web-127.0.0.1-{settings.port}"
    assert "PUT /v1/agent/service/register" in requests
    drained = requests.index(f"PUT /v1/agent/check/update/service:{me}")
    deregistered = requests.index(f"PUT /v1/agent/service/deregister/{me}")
    stepped_down = next(i for i, request in enumerate(requests)
                        if request.startswith("PUT /v1/session/destroy/"))
    assert drained < deregistered < stepped_down

if __name__ == "__main__":
    asyncio.run(main())
