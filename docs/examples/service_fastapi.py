"""Building a service: a FastAPI app on Consul, its lifespan doing the Consul work.

The same service "web" as service_aiohttp.py: it registers itself, finds instances of
"prices" through Consul, reads its settings from KV as they change, runs a periodic job
on the elected leader only, and drains before it stops. uvicorn serves it.

Runs as is against the embedded dev agent. The ``# [name]`` / ``# [end]`` comments mark
the snippets that docs/service.rst shows; the code after them plays the rest of the
world (the dependency, a client of the service) and checks that the service is gone and
left nothing behind.
"""

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import uvicorn
from aiohttp import web
from fastapi import FastAPI, HTTPException, Request

from aioconsul import Consul
from aioconsul.testing import DevAgent
from aioconsul.toolkit import LiveConfig, NoInstances


# [lifespan]
async def cleanup_job(consul: Consul, config: LiveConfig, me: str) -> None:
    """The leader's work, done by one instance at a time."""
    while True:
        # ... the periodic cleanup itself, then a note of who did it ...
        await consul.kv.set("jobs/web/cleanup", me.encode())
        await asyncio.sleep(config["cleanup_every"])  # live: read every round


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    host, port = app.state.host, app.state.port  # where this instance listens
    me = f"{host}:{port}"
    async with (
        Consul(app.state.consul) as consul,  # Consul(): CONSUL_HTTP_ADDR
        consul.kv.config("config/web/", codec="json",
                         validate=lambda data: data["rate"] > 0) as config,
        consul.discover("prices") as prices,
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http,
    ):
        await prices.wait_ready(min=1, timeout=10)  # a startup gate on the dependency
        election = consul.election("service/web/leader", value=me.encode())
        campaign = asyncio.create_task(
            election.run(lambda: cleanup_job(consul, config, me)))
        try:
            # Registered last, so that traffic comes once everything else is ready.
            service = {"Name": "web", "Address": host, "Port": port}
            async with consul.register(service, ttl="10s", grace=0.5) as registration:
                state = app.state  # what the handlers use
                state.config, state.prices, state.http = config, prices, http
                state.election, state.registration = election, registration
                yield
            # Left: drained (critical, grace, deregistered) unless drained already.
        finally:
            campaign.cancel()  # steps down: the key released, the session destroyed
            with contextlib.suppress(asyncio.CancelledError):
                await campaign


app = FastAPI(lifespan=lifespan)
# [end]


# [handler]
@app.get("/quote/{item}")
async def quote(item: str, request: Request) -> dict[str, Any]:
    """A price from one instance of "prices", in the currency the config says."""
    state = request.app.state
    try:
        instance = state.prices.pick()  # weighted by Consul's Weights
    except NoInstances:
        raise HTTPException(503, "no healthy prices instance") from None
    url = f"http://{instance.address}:{instance.port}/prices/{item}"
    try:
        async with state.http.get(url, raise_for_status=True) as response:
            price = (await response.json())["price"]
    except aiohttp.ClientError:
        state.prices.mark_failed(instance)  # left out of picks for a while
        raise HTTPException(502, f"{instance.id} failed") from None
    config = state.config.data  # this version: a reload replaces it, never edits it
    return {"item": item, "price": round(price * config["rate"], 2),
            "currency": config["currency"], "from": instance.id,
            "leader": state.election.leader}
# [end]


# What follows plays the rest of the world and checks what happened.


@contextlib.asynccontextmanager
async def prices_service(client: Consul) -> AsyncIterator[str]:
    """The dependency: a stand-in "prices" on a free port, registered with Consul."""

    async def price(request: web.Request) -> web.Response:
        return web.json_response({"item": request.match_info["item"], "price": 2.5})

    prices = web.Application()
    prices.router.add_get("/prices/{item}", price)
    runner = web.AppRunner(prices)
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


async def main() -> None:
    async with DevAgent() as agent, Consul(agent.address) as client:
        values = {"currency": b'"EUR"', "rate": b"1.2", "cleanup_every": b"30"}
        for key, value in values.items():
            await client.kv.set(f"config/web/{key}", value)
        async with prices_service(client) as prices_id:
            # [serve]
            # Listening before the app starts: its port is what registers, and a client
            # that comes before uvicorn accepts waits in the backlog, not refused.
            sock = socket.create_server(("127.0.0.1", 0))
            app.state.consul = agent.address
            app.state.host, app.state.port = sock.getsockname()
            config = uvicorn.Config(app, lifespan="on", log_level="warning")
            server = uvicorn.Server(config)
            serving = asyncio.create_task(server.serve(sockets=[sock]))
            # [end]

            # A client of "web" finds it through Consul, once its leader job ran.
            async with client.discover("web") as web_pool:
                await web_pool.wait_ready(timeout=10)
                cleaned_by = await value_of(client, "jobs/web/cleanup")
                assert cleaned_by == f"127.0.0.1:{app.state.port}".encode()
                instance = web_pool.pick()
                url = f"http://{instance.address}:{instance.port}/quote/apple"
                async with aiohttp.ClientSession() as http, http.get(url) as response:
                    assert response.status == 200, await response.text()
                    body = await response.json()
            print(body)
            assert body == {"item": "apple", "price": 3.0, "currency": "EUR",
                            "from": prices_id, "leader": True}
            assert instance.id == f"web-127.0.0.1-{app.state.port}"
            assert not serving.done()

            # [stop]
            await app.state.registration.drain()  # no new traffic; still serving
            server.should_exit = True  # uvicorn stops listening; the lifespan exits
            await serving
            # [end]

            # Gone from Consul, and nothing left behind: no session, no lock, no task.
            services, _ = await client.agent.services.items()
            assert sorted(s["Service"] for s in services.values()) == ["prices"]
            sessions, _ = await client.session.items()
            assert sessions == []
            entry, _ = await client.kv.get("service/web/leader")
            assert entry is not None and "Session" not in entry
            assert sock.fileno() == -1  # closed by uvicorn
    assert asyncio.all_tasks() == {asyncio.current_task()}


if __name__ == "__main__":
    asyncio.run(main())
