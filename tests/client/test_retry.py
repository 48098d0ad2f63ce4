"""Retries and fail-over, with faults injected by small aiohttp.web apps of the tests' own.

The rules: reads (and writes safe to repeat: a CAS with an index, a PUT that sets a state) are
repeated on transport failures, 429, 500 and 503; other writes only when the connection could not
be made, so a retried write never applies twice. With several addresses, a request that cannot
reach one agent moves to the next (semantics.md §14: the Go client treats 500 as retryable for
reads only; §14.1: a 429 "Resource Exhausted" should be retried against another server).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp import web

import aioconsul
from aioconsul import Backoff, Consul, Retry

FAST = Retry(attempts=3, backoff=Backoff(initial=0.01, maximum=0.02, jitter=0.0))
ENTRY = [{"Key": "k", "Value": "dg==", "Flags": 0, "LockIndex": 0, "CreateIndex": 3,
          "ModifyIndex": 3}]


class Agent:
    """A fake agent: answers each request with the next of ``statuses`` (then 200s), counting
    requests per method."""

    def __init__(self, statuses: list[int | str]) -> None:
        self.statuses = statuses
        self.seen: list[tuple[str, str]] = []
        self.runner: web.AppRunner | None = None
        self.address = ""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.seen.append((request.method, request.path_qs))
        step = self.statuses.pop(0) if self.statuses else 200
        if step == "reset":
            assert request.transport is not None
            request.transport.close()
            return web.Response()
        if step != 200:
            return web.Response(status=int(step), text="No cluster leader",
                                headers={"X-Consul-Index": "3"})
        body: Any = True if request.method in ("PUT", "DELETE") else ENTRY
        return web.json_response(body, headers={"X-Consul-Index": "3"})

    async def start(self) -> Agent:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        self.runner = web.AppRunner(app, shutdown_timeout=0.1, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.address = f"127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        assert self.runner is not None
        await self.runner.cleanup()


@pytest.fixture
async def agents() -> AsyncIterator[Callable[..., Any]]:
    started: list[Agent] = []

    async def start(*statuses: int | str) -> Agent:
        agent = await Agent(list(statuses)).start()
        started.append(agent)
        return agent

    yield start
    for agent in started:
        await agent.stop()


def closed_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{sock.getsockname()[1]}"


@pytest.mark.parametrize("status", [500, 503, 429])
async def test_reads_are_retried_on_no_leader_and_rate_limits(agents, status: int) -> None:
    agent = await agents(status, status)
    async with Consul(agent.address, retry=FAST) as client:
        entry, _ = await client.kv.get("k")
    assert entry is not None and entry["Value"] == b"v"
    assert len(agent.seen) == 3


async def test_reads_are_retried_after_a_reset_connection(agents) -> None:
    agent = await agents("reset")
    async with Consul(agent.address, retry=FAST) as client:
        entry, _ = await client.kv.get("k")
    assert entry is not None and len(agent.seen) == 2


async def test_retries_give_up_with_the_last_error(agents) -> None:
    agent = await agents(500, 500, 500, 500, 500)
    async with Consul(agent.address, retry=FAST) as client:
        with pytest.raises(aioconsul.NoLeader):
            await client.kv.get("k")
    assert len(agent.seen) == 4  # the first try and 3 retries


async def test_retries_can_be_switched_off(agents) -> None:
    agent = await agents(500)
    async with Consul(agent.address, retry=False) as client:
        with pytest.raises(aioconsul.NoLeader):
            await client.kv.get("k")
    assert len(agent.seen) == 1


@pytest.mark.parametrize("fault", [500, 503, 429, "reset"])
async def test_a_plain_write_is_never_retried_once_sent(agents, fault: int | str) -> None:
    """It may have been applied: repeating it could apply it twice."""
    agent = await agents(fault)
    async with Consul(agent.address, retry=FAST) as client:
        with pytest.raises(aioconsul.ConsulError):
            await client.kv.set("k", b"v")
        agent.statuses.append(fault)
        with pytest.raises(aioconsul.ConsulError):
            await client.event.fire("deploy")
    assert [method for method, _ in agent.seen] == ["PUT", "PUT"]


async def test_a_cas_write_is_retried(agents) -> None:
    """A CAS write cannot apply twice: the second attempt would see another ModifyIndex."""
    agent = await agents(500, "reset")
    async with Consul(agent.address, retry=FAST) as client:
        assert await client.kv.cas("k", b"v", index=3) is True
        assert await client.kv.delete_cas("k", index=3) is True
    assert [method for method, _ in agent.seen] == ["PUT", "PUT", "PUT", "DELETE"]


async def test_a_write_that_never_connected_is_retried_on_the_next_agent(agents) -> None:
    agent = await agents()
    async with Consul([closed_port(), agent.address], retry=FAST) as client:
        assert await client.kv.set("k", b"v") is True
        assert await client.kv.set("k", b"w") is True  # sticks to the agent that answered
    assert [method for method, _ in agent.seen] == ["PUT", "PUT"]


async def test_reads_fail_over_and_stick_to_the_agent_that_answers(agents) -> None:
    first = await agents("reset")
    second = await agents()
    async with Consul([first.address, second.address], retry=FAST) as client:
        await client.kv.get("k")
        await client.kv.get("k")
    assert len(first.seen) == 1 and len(second.seen) == 2


async def test_every_agent_down_raises_a_connect_error_naming_one(agents) -> None:
    addresses = [closed_port(), closed_port()]
    async with Consul(addresses, retry=FAST) as client:
        with pytest.raises(aioconsul.ConnectError) as info:
            await client.kv.get("k")
    assert any(address in str(info.value) for address in addresses)


async def test_a_watch_keeps_its_index_across_a_fail_over(agents) -> None:
    first = await agents()
    second = await agents()
    async with Consul([first.address, second.address], retry=FAST) as client, \
            client.kv.watch("k", wait="1s") as watch:
        await watch.__anext__()
        await first.stop()
        pending = asyncio.create_task(watch.__anext__())
        async with asyncio.timeout(5):
            while not any("index=3" in path for _, path in second.seen):
                await asyncio.sleep(0.01)
        pending.cancel()
        await asyncio.gather(pending, return_exceptions=True)
    assert any("index=3" in path and "wait=1000ms" in path for _, path in second.seen)


@pytest.mark.parametrize("value", [3, "3", "x"])
async def test_bad_retry_settings_are_refused(value: Any) -> None:
    with pytest.raises(TypeError, match="^retry: "):
        Consul("h:1", retry=value)
    with pytest.raises(ValueError, match="^retry: "):
        Retry(attempts=-1)


async def test_agent_endpoints_never_fail_over_to_another_agent(agents) -> None:
    """/v1/agent/* describes the agent asked: a retry elsewhere would answer about another one."""
    first = await agents(500, 500, 500, 500)
    second = await agents()
    async with Consul([first.address, second.address], retry=FAST) as client:
        with pytest.raises(aioconsul.NoLeader):
            await client.agent.self()
    assert len(first.seen) == 4 and second.seen == []
