"""Blocking queries: agent/blockingquery/blockingquery.go and Server.RPCQueryTimeout.

A request with ?index=N returns as soon as its result's index exceeds N, or after ?wait plus a
random jitter of at most wait/16, with the unchanged result and 200.
"""

from __future__ import annotations

import asyncio
import sys
import time

import aiohttp
import pytest

from aioconsul.testing import DevAgent

from .conftest import Api, Reply

WAIT = 0.2
JITTER = WAIT / 16
SLACK = 0.15  # scheduling noise allowed on top of the jitter bound


async def timed(coro: asyncio.Future[Reply] | asyncio.Task[Reply]) -> tuple[Reply, float]:
    start = time.perf_counter()
    reply = await coro
    return reply, time.perf_counter() - start


async def parked(agent: DevAgent, count: int = 1) -> None:
    """Wait until ``count`` blocking queries are parked on the agent."""
    for _ in range(500):
        if agent.blocking_queries >= count:
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"only {agent.blocking_queries} of {count} queries parked")


async def test_blocking_get_returns_on_a_write_to_the_key(api: Api) -> None:
    await api.put("/v1/kv/watched", b"1")
    index = (await api.get("/v1/kv/watched")).index
    task = asyncio.ensure_future(api.get(f"/v1/kv/watched?index={index}&wait=5s"))
    await parked(api.agent)
    await api.put("/v1/kv/watched", b"2")
    reply, elapsed = await timed(task)
    assert reply.index > index
    assert elapsed < 1
    assert reply.json()[0]["ModifyIndex"] == reply.index


async def test_blocking_get_times_out_with_the_unchanged_result(api: Api) -> None:
    await api.put("/v1/kv/quiet", b"1")
    index = (await api.get("/v1/kv/quiet")).index
    reply, elapsed = await timed(
        asyncio.ensure_future(api.get(f"/v1/kv/quiet?index={index}&wait=200ms"))
    )
    assert (reply.status, reply.index) == (200, index)
    assert WAIT <= elapsed <= WAIT + JITTER + SLACK


async def test_timeout_on_a_missing_key_is_404_with_its_index(api: Api) -> None:
    reply, elapsed = await timed(asyncio.ensure_future(api.get("/v1/kv/absent?index=1&wait=200ms")))
    assert (reply.status, reply.index) == (404, 1)
    assert WAIT <= elapsed <= WAIT + JITTER + SLACK


async def test_index_zero_or_absent_does_not_block(api: Api) -> None:
    await api.put("/v1/kv/k", b"1")
    for query in ("index=0&wait=5s", "wait=5s", ""):
        reply, elapsed = await timed(asyncio.ensure_future(api.get(f"/v1/kv/k?{query}")))
        assert reply.status == 200
        assert elapsed < 1


async def test_a_stale_index_returns_immediately(api: Api) -> None:
    await api.put("/v1/kv/k", b"1")
    index = (await api.get("/v1/kv/k")).index
    reply, elapsed = await timed(
        asyncio.ensure_future(api.get(f"/v1/kv/k?index={index - 1}&wait=5s"))
    )
    assert reply.index == index
    assert elapsed < 1


async def test_writes_to_other_keys_do_not_wake_a_single_key_query(api: Api) -> None:
    await api.put("/v1/kv/mine", b"1")
    index = (await api.get("/v1/kv/mine")).index
    task = asyncio.ensure_future(api.get(f"/v1/kv/mine?index={index}&wait=200ms"))
    await parked(api.agent)
    await api.put("/v1/kv/theirs", b"x")
    reply, elapsed = await timed(task)
    assert reply.index == index
    assert elapsed >= WAIT - 0.05


async def test_a_missing_key_returns_when_it_is_created(api: Api) -> None:
    index = (await api.get("/v1/kv/future")).index
    task = asyncio.ensure_future(api.get(f"/v1/kv/future?index={index}&wait=5s"))
    await parked(api.agent)
    await api.put("/v1/kv/future", b"here")
    reply = await task
    assert reply.status == 200
    assert reply.index > index


async def test_recurse_returns_on_a_write_under_the_prefix(api: Api) -> None:
    await api.put("/v1/kv/tree/a", b"1")
    index = (await api.get("/v1/kv/tree/?recurse")).index
    task = asyncio.ensure_future(api.get(f"/v1/kv/tree/?recurse&index={index}&wait=5s"))
    await parked(api.agent)
    await api.put("/v1/kv/tree/b", b"2")
    reply = await task
    assert [e["Key"] for e in reply.json()] == ["tree/a", "tree/b"]


async def test_recurse_keeps_blocking_on_writes_outside_the_prefix(api: Api) -> None:
    await api.put("/v1/kv/tree/a", b"1")
    index = (await api.get("/v1/kv/tree/?recurse")).index
    started = time.perf_counter()  # from the request's start: the wait can only run longer
    task = asyncio.ensure_future(api.get(f"/v1/kv/tree/?recurse&index={index}&wait=200ms"))
    await parked(api.agent)
    await api.put("/v1/kv/elsewhere", b"x")
    reply = await task
    assert reply.index == index
    assert time.perf_counter() - started >= WAIT - 0.01  # not woken by the write elsewhere


async def test_deleting_the_newest_key_wakes_a_list_query(api: Api) -> None:
    await api.put("/v1/kv/tree/a", b"1")
    await api.put("/v1/kv/tree/b", b"2")
    index = (await api.get("/v1/kv/tree/?keys")).index
    task = asyncio.ensure_future(api.get(f"/v1/kv/tree/?keys&index={index}&wait=5s"))
    await parked(api.agent)
    await api.delete("/v1/kv/tree/b")
    reply = await task
    assert reply.json() == ["tree/a"]
    assert reply.index > index  # the tombstone carries the delete's index


async def test_a_missing_session_keeps_blocking_until_it_exists(api: Api) -> None:
    """Session.Get returns errNotFound, so unrelated session writes do not end the wait."""
    index = (await api.get("/v1/session/info/nope")).index
    task = asyncio.ensure_future(api.get(f"/v1/session/info/nope?index={index}&wait=200ms"))
    await parked(api.agent)
    await api.create_session()  # moves the sessions table index
    reply, elapsed = await timed(task)
    assert reply.json() == []
    assert elapsed >= WAIT - 0.05


async def test_session_list_returns_on_a_new_session(api: Api) -> None:
    index = (await api.get("/v1/session/list")).index
    task = asyncio.ensure_future(api.get(f"/v1/session/list?index={index}&wait=5s"))
    await parked(api.agent)
    session_id = await api.create_session()
    reply = await task
    assert [s["ID"] for s in reply.json()] == [session_id]


async def test_stop_answers_parked_queries_promptly(http: aiohttp.ClientSession) -> None:
    agent = await DevAgent().start()
    api = Api(http, agent)
    tasks = [asyncio.ensure_future(api.get("/v1/kv/k?index=1&wait=10m")) for _ in range(20)]
    await parked(agent, 20)
    start = time.perf_counter()
    await agent.stop()
    replies = await asyncio.gather(*tasks)
    assert time.perf_counter() - start < 1
    assert {r.status for r in replies} == {404}
    assert agent.blocking_queries == 0


async def test_a_client_that_hangs_up_releases_its_query(api: Api) -> None:
    task = asyncio.ensure_future(api.get("/v1/kv/k?index=1&wait=10m"))
    await parked(api.agent)
    task.cancel()
    for _ in range(200):
        if api.agent.blocking_queries == 0:
            break
        await asyncio.sleep(0.005)
    assert api.agent.blocking_queries == 0


async def test_a_thousand_parked_clients_wake_on_one_write(api: Api) -> None:
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        many = Api(http, api.agent)
        tasks = [
            asyncio.ensure_future(many.get("/v1/kv/shared?index=1&wait=1m")) for _ in range(1000)
        ]
        await parked(api.agent, 1000)
        start = time.perf_counter()
        await api.put("/v1/kv/shared", b"go")
        replies = await asyncio.gather(*tasks)
        print(f"woke 1000 parked clients in {time.perf_counter() - start:.3f}s")
    assert {r.status for r in replies} == {200}


@pytest.mark.slow
async def test_ten_thousand_parked_clients_wake_on_one_write() -> None:
    """The agent runs in a child process: 2 x 10,000 sockets exceed one process's fd limit."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "aioconsul.testing", "--port", "0", stdout=asyncio.subprocess.PIPE
    )
    assert proc.stdout is not None
    address = (await asyncio.wait_for(proc.stdout.readline(), 10)).decode().strip()
    sent = 0

    async def on_sent(*_: object) -> None:
        nonlocal sent
        sent += 1

    tracing = aiohttp.TraceConfig()
    tracing.on_request_headers_sent.append(on_sent)
    try:
        connector = aiohttp.TCPConnector(limit=0)
        timeout = aiohttp.ClientTimeout(total=None)
        async with aiohttp.ClientSession(
            connector=connector, timeout=timeout, trace_configs=[tracing]
        ) as http:
            url = address + "/v1/kv/shared?index=1&wait=5m"
            tasks = [asyncio.ensure_future(http.get(url)) for _ in range(10_000)]
            while sent < len(tasks):
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)  # let the agent park the last ones
            assert not any(task.done() for task in tasks)
            start = time.perf_counter()
            async with http.put(address + "/v1/kv/shared", data=b"go") as resp:
                assert await resp.json() is True
            responses = await asyncio.gather(*tasks)
            statuses = {r.status for r in responses}
            for response in responses:
                response.release()
            print(f"woke 10,000 parked clients in {time.perf_counter() - start:.2f}s")
        assert statuses == {200}
    finally:
        proc.terminate()
        await proc.wait()
