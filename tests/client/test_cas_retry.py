"""The CAS retry rule, against the dev agent behind a fault-injecting aiohttp.web proxy.

A CAS write (``kv.cas``, ``kv.set`` with ``cas=``/``acquire=``/``release=``, ``kv.delete_cas``)
is repeated only when the connection could not be made. Once sent it is never repeated: Consul
may have applied it before answering 500 (a lost leadership while the Raft log committed, an RPC
cut after the commit), and a repeat would meet its own new ModifyIndex (or its own session) and
answer False although it won. The Go client says the same of writes in ``IsRetryableError``
(api/api.go): a write that may have gone through is not retried.

The proxy forwards each request to the real dev agent, which applies it, and then answers with
the step the test asked for, so "applied, then 500" is what the agent really did.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web

import aioconsul
from aioconsul import Backoff, Consul, Retry

FAST = Retry(attempts=3, backoff=Backoff(initial=0.01, maximum=0.02, jitter=0.0))
_PASSED = ("Content-Type", "X-Consul-Index", "X-Consul-Knownleader", "X-Consul-Lastcontact")


class Proxy:
    """Forwards every request to ``upstream``; each one takes the next of ``steps`` first:
    ``"applied-then-500"`` (forwarded, then answered 500), ``"500"`` (answered 500 "No cluster
    leader", never forwarded) or ``"forward"`` (the default once the steps run out)."""

    def __init__(self, upstream: str, steps: list[str]) -> None:
        self.upstream = upstream
        self.steps = steps
        self.seen: list[str] = []
        self.runner: web.AppRunner | None = None
        self.http: aiohttp.ClientSession | None = None
        self.address = ""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.seen.append(request.method)
        step = self.steps.pop(0) if self.steps else "forward"
        if step == "500":
            return web.Response(status=500, text="No cluster leader",
                                headers={"X-Consul-Index": "3"})
        assert self.http is not None
        async with self.http.request(request.method, self.upstream + request.path_qs,
                                     data=await request.read()) as answer:
            body = await answer.read()
            headers = {name: answer.headers[name] for name in _PASSED if name in answer.headers}
            status = answer.status
        if step == "applied-then-500":
            return web.Response(status=500, text="rpc error making call: leadership lost "
                                                 "while committing log")
        return web.Response(status=status, body=body, headers=headers)

    async def start(self) -> Proxy:
        self.http = aiohttp.ClientSession()
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        self.runner = web.AppRunner(app, shutdown_timeout=0.1, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.address = f"127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
        if self.http is not None:
            await self.http.close()


@pytest.fixture
async def proxy(consul: Consul) -> AsyncIterator[Callable[..., Any]]:
    """``await proxy(*steps)``: a proxy in front of the test's agent."""
    started: list[Proxy] = []

    async def start(*steps: str) -> Proxy:
        started.append(await Proxy(consul.config.base_url, list(steps)).start())
        return started[-1]

    yield start
    for each in started:
        await each.stop()


def closed_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{sock.getsockname()[1]}"


async def test_a_cas_create_applied_then_answered_500_never_reports_false(consul, proxy) -> None:
    """Before the rule, the retry met the new ModifyIndex and answered False: "someone else
    won" when the key holds our value."""
    agent = await proxy("applied-then-500")
    async with Consul(agent.address, retry=FAST) as client:
        with pytest.raises(aioconsul.ServerError, match="leadership lost"):
            await client.kv.cas("config", b"ours", index=0)
    assert agent.seen == ["PUT"]  # sent once, never repeated
    entry, _ = await consul.kv.get("config")
    assert entry is not None and entry["Value"] == b"ours"  # the write we did not deny


async def test_a_cas_with_an_index_applied_then_answered_500_is_not_repeated(
        consul, proxy) -> None:
    await consul.kv.set("config", b"old")
    entry, _ = await consul.kv.get("config")
    agent = await proxy("applied-then-500")
    async with Consul(agent.address, retry=FAST) as client:
        with pytest.raises(aioconsul.ServerError):
            await client.kv.set("config", b"new", cas=entry)
    assert agent.seen == ["PUT"]
    after, _ = await consul.kv.get("config")
    assert after is not None and after["Value"] == b"new"
    assert after["ModifyIndex"] > entry["ModifyIndex"]


async def test_a_delete_cas_applied_then_answered_500_is_not_repeated(consul, proxy) -> None:
    """A repeat would find the key gone (or recreated by someone else: then False, though our
    delete won)."""
    await consul.kv.set("config", b"old")
    entry, _ = await consul.kv.get("config")
    agent = await proxy("applied-then-500")
    async with Consul(agent.address, retry=FAST) as client:
        with pytest.raises(aioconsul.ServerError):
            await client.kv.delete_cas("config", index=entry)
    assert agent.seen == ["DELETE"]
    assert (await consul.kv.get("config"))[0] is None


async def test_an_acquire_applied_then_answered_500_is_not_repeated(
        consul, proxy, session: str) -> None:
    agent = await proxy("applied-then-500", "applied-then-500")
    async with Consul(agent.address, retry=FAST) as client:
        with pytest.raises(aioconsul.ServerError):
            await client.kv.lock("leader", b"me", session=session)
        with pytest.raises(aioconsul.ServerError):
            await client.kv.unlock("leader", b"me", session=session)
    assert agent.seen == ["PUT", "PUT"]
    entry, _ = await consul.kv.get("leader")
    assert entry is not None and "Session" not in entry  # acquired, then released: both applied


async def test_a_cas_answered_500_before_it_reached_consul_is_not_repeated_either(
        consul, proxy) -> None:
    """From the client's side a 500 that was applied and one that was not look the same, so
    neither is repeated; the caller reads the key to learn the outcome."""
    agent = await proxy("500")
    async with Consul(agent.address, retry=FAST) as client:
        with pytest.raises(aioconsul.NoLeader):
            await client.kv.cas("config", b"ours", index=0)
        assert await client.kv.cas("config", b"ours", index=0) is True  # asked again by us
    assert agent.seen == ["PUT", "PUT"]


async def test_a_cas_that_could_not_connect_is_repeated_on_the_next_agent(consul, proxy) -> None:
    """Never sent, so it cannot have been applied: the one case a CAS is repeated."""
    agent = await proxy()
    async with Consul([closed_port(), agent.address], retry=FAST) as client:
        assert await client.kv.cas("config", b"ours", index=0) is True
        assert await client.kv.cas("config", b"again", index=0) is False  # Consul's own answer
    assert agent.seen == ["PUT", "PUT"]
