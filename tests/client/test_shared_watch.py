"""Shared watches (issue 14): identical blocking reads of one client share one request.

Counted where it happens: the requests and connections a proxy in front of the dev agent sees
(``agents`` in conftest.py), and the blocking queries parked at the dev agent itself
(``consul_agent.blocking_queries``). The rules that need precise control of the answers (errors)
run against a scripted agent of the test's own. No assertion is on time: "at once" is checked as
"without a request", and every wait is bounded only against a hang.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from fakeserver import FakeServer

import aioconsul
from aioconsul import Consul
from aioconsul.testing import DevAgent
from aioconsul.watch import Backoff, Watch

FAST = Backoff(initial=0.01, maximum=0.04, multiplier=2.0, jitter=0.0)
#: A bound on waiting for something that follows at once (not an assertion on time).
BOUND = 20.0


async def until(condition: Callable[[], bool], bound: float = BOUND) -> None:
    """Wait until ``condition()`` is true, for at most ``bound`` seconds."""
    async with asyncio.timeout(bound):
        while not condition():
            await asyncio.sleep(0.01)


def gets(proxy: Any, key: str = "/v1/kv/k") -> list[str]:
    """The GETs of ``key`` the proxy has seen, in order."""
    return [path for path in proxy.paths("GET") if path.split("?")[0] == key]


def connections(proxy: Any) -> int:
    """How many connections reached the proxy (one aiohttp protocol object each)."""
    return len({id(request.protocol) for request in proxy.server.seen})


def watch_tasks() -> list[asyncio.Task[Any]]:
    """The tasks of shared reads (named apart from the toolkit's "aioconsul watch" tasks)."""
    return [task for task in asyncio.all_tasks()
            if task.get_name().startswith("aioconsul-watch-read")]


async def test_a_thousand_subscribers_of_one_key_hold_one_request_and_see_the_final_value(
        consul: Consul, consul_agent: DevAgent, agents: Callable[..., Awaitable[Any]]) -> None:
    await consul.kv.set("k", b"0")
    proxy = await agents()
    final = b"5"
    async with Consul(proxy.address) as client:
        watches = [client.kv.watch("k") for _ in range(1000)]
        last: list[bytes] = []

        async def follow(watch: Watch[Any]) -> None:
            async with watch:
                async for entry, _ in watch:
                    if entry["Value"] == final:
                        last.append(entry["Value"])
                        return

        followers = [asyncio.create_task(follow(watch)) for watch in watches]
        await until(lambda: consul_agent.blocking_queries == 1)
        assert watches[0].subscribers == 1000
        # The first read (no index), then one blocking read parked for all of them.
        assert len(gets(proxy)) == 2 and consul_agent.blocking_queries == 1
        for value in (b"1", b"2", b"3", b"4", final):
            await consul.kv.set("k", value)
        async with asyncio.timeout(BOUND):
            await asyncio.gather(*followers)
    assert last == [final] * 1000
    # One read per change at most (several writes may land between two reads), not 1,000.
    assert len(gets(proxy)) <= 2 + 5
    assert connections(proxy) == 1
    await until(lambda: consul_agent.blocking_queries == 0)


async def test_a_late_subscriber_gets_the_current_value_without_a_request(
        consul: Consul, consul_agent: DevAgent, agents: Callable[..., Awaitable[Any]]) -> None:
    await consul.kv.set("k", b"v1")
    proxy = await agents()
    async with Consul(proxy.address) as client, client.kv.watch("k") as first:
        await anext(first)
        pending = asyncio.create_task(anext(first))  # parks the blocking read
        await until(lambda: consul_agent.blocking_queries == 1)
        sent = len(gets(proxy))
        async with client.kv.watch("k") as late:
            entry, meta = await anext(late)
            assert entry["Value"] == b"v1" and meta["Index"] == first.index
            assert len(gets(proxy)) == sent  # taken from the shared read, no request
            await consul.kv.set("k", b"v2")
            entry, _ = await asyncio.wait_for(anext(late), BOUND)
            assert entry["Value"] == b"v2"
        (entry, _) = await asyncio.wait_for(pending, BOUND)
        assert entry["Value"] == b"v2"


@pytest.mark.parametrize(("a", "b"), [
    ({"token": "token-a"}, {"token": "token-b"}),
    ({}, {"token": "token-b"}),
    ({}, {"consistency": "stale"}),
    ({"consistency": "consistent"}, {"consistency": "stale"}),
    ({}, {"wait": "1m"}),
    ({}, {"dc": "dc1"}),
])
async def test_watches_that_would_send_other_requests_do_not_share(
        consul: Consul, consul_agent: DevAgent, agents: Callable[..., Awaitable[Any]],
        a: dict[str, Any], b: dict[str, Any]) -> None:
    """The token, the consistency mode, the wait and the datacenter are part of the request:
    each such watch has a read of its own (the dev agent runs without ACLs, so any token
    reads)."""
    await consul.kv.set("k", b"v")
    proxy = await agents()
    async with Consul(proxy.address) as client, client.kv.watch("k", **a) as one, \
            client.kv.watch("k", **b) as other:
        assert one.subscribers == other.subscribers == 1
        await anext(one)
        await anext(other)
        pending = [asyncio.create_task(anext(one)), asyncio.create_task(anext(other))]
        await until(lambda: consul_agent.blocking_queries == 2)
        assert len(gets(proxy)) == 4
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)


async def test_the_same_token_shares_and_no_repr_shows_it(
        consul: Consul, consul_agent: DevAgent, agents: Callable[..., Awaitable[Any]]) -> None:
    await consul.kv.set("k", b"v")
    proxy = await agents()
    secret = "5b2e7f0c-secret-token"
    async with Consul(proxy.address) as client, client.kv.watch("k", token=secret) as one, \
            client.kv.watch("k", token="5b2e7f0c-secret-" + "token") as other:
        assert one.subscribers == other.subscribers == 2
        await anext(one)
        await anext(other)
        assert len(gets(proxy)) == 1 and proxy.tokens == [secret]
        shown = [repr(one), repr(other), repr(one._read), repr(one._read.key),
                 repr(one._read.key._parts), repr(one._read.shares)]  # type: ignore[union-attr]
        assert not any(secret in text for text in shown), shown


async def test_shared_false_gives_a_watch_a_read_of_its_own(
        consul: Consul, consul_agent: DevAgent) -> None:
    await consul.kv.set("k", b"v")
    async with consul.kv.watch("k") as one, consul.kv.watch("k", shared=False) as own, \
            consul.watch(consul.kv.get, "k", shared=False) as other:
        assert one.subscribers == own.subscribers == other.subscribers == 1
        for watch in (one, own, other):
            await anext(watch)
        pending = [asyncio.create_task(anext(watch)) for watch in (one, own, other)]
        await until(lambda: consul_agent.blocking_queries == 3)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)


async def test_the_last_subscriber_leaving_stops_the_request(
        consul: Consul, consul_agent: DevAgent) -> None:
    await consul.kv.set("k", b"v")
    watches = [consul.kv.watch("k") for _ in range(3)]
    for watch in watches:
        await anext(watch)
    pending = [asyncio.create_task(anext(watch)) for watch in watches]
    await until(lambda: consul_agent.blocking_queries == 1)
    for watch, task in zip(watches[:2], pending[:2], strict=True):
        await watch.aclose()
        with pytest.raises(StopAsyncIteration):
            await task
    assert watches[2].subscribers == 1 and consul_agent.blocking_queries == 1
    assert not pending[2].done()
    await watches[2].aclose()
    with pytest.raises(StopAsyncIteration):
        await pending[2]
    assert watch_tasks() == []
    await until(lambda: consul_agent.blocking_queries == 0)
    # The read is gone with its last subscriber: a new watch reads afresh.
    async with consul.kv.watch("k") as fresh:
        assert fresh.subscribers == 1 and fresh.index == 0


async def test_cancelling_one_subscriber_mid_read_leaves_the_shared_read_running(
        consul: Consul, consul_agent: DevAgent, agents: Callable[..., Awaitable[Any]]) -> None:
    await consul.kv.set("k", b"v1")
    proxy = await agents()
    async with Consul(proxy.address) as client:
        seen: dict[int, list[bytes]] = {0: [], 1: [], 2: []}

        async def follow(number: int) -> None:
            async with client.kv.watch("k") as watch:
                async for entry, _ in watch:
                    seen[number].append(entry["Value"])

        followers = [asyncio.create_task(follow(number)) for number in seen]
        await until(lambda: consul_agent.blocking_queries == 1 and all(seen.values()))
        sent = len(gets(proxy))
        followers[0].cancel()
        with pytest.raises(asyncio.CancelledError):
            await followers[0]
        # The read in flight was not cut: no new request, still parked, the others wait on it.
        await asyncio.sleep(0.05)
        assert len(gets(proxy)) == sent and consul_agent.blocking_queries == 1
        assert not followers[1].done() and not followers[2].done()
        await consul.kv.set("k", b"v2")
        await until(lambda: seen[1][-1:] == seen[2][-1:] == [b"v2"])
        assert seen[0] == [b"v1"]
        for follower in followers[1:]:
            follower.cancel()
        await asyncio.gather(*followers[1:], return_exceptions=True)


async def test_a_lone_watch_reads_in_its_own_task_and_a_shared_one_in_a_task_of_the_read(
        consul: Consul, consul_agent: DevAgent) -> None:
    """The single-subscriber path costs no task (issue 10's wake-up path; on Python 3.10,
    without Task.uncancel, every read is a task); once shared, the read is a task that no
    subscriber's cancellation touches."""
    await consul.kv.set("k", b"v")
    async with consul.kv.watch("k") as alone:
        await anext(alone)
        pending = asyncio.create_task(anext(alone))
        await until(lambda: consul_agent.blocking_queries == 1)
        assert watch_tasks() == [] or not aioconsul.watch._UNCANCEL
        pending.cancel()
        await asyncio.gather(pending, return_exceptions=True)
        async with consul.kv.watch("k") as other:
            await anext(other)
            both = [asyncio.create_task(anext(alone)), asyncio.create_task(anext(other))]
            await until(lambda: len(watch_tasks()) == 1)
            for task in both:
                task.cancel()
            await asyncio.gather(*both, return_exceptions=True)
            assert len(watch_tasks()) == 1  # the subscribers' cancellation left it running
    await until(lambda: watch_tasks() == [] and consul_agent.blocking_queries == 0)


async def test_a_subscriber_that_joined_a_lone_watchs_read_takes_over_when_it_leaves(
        consul: Consul, consul_agent: DevAgent) -> None:
    await consul.kv.set("k", b"v1")
    lone = consul.kv.watch("k")
    await anext(lone)
    reading = asyncio.create_task(anext(lone))  # the read runs in this task
    await until(lambda: consul_agent.blocking_queries == 1)
    async with consul.kv.watch("k") as joined:
        entry, _ = await anext(joined)
        assert entry["Value"] == b"v1"
        waiting = asyncio.create_task(anext(joined))
        await asyncio.sleep(0.05)
        await lone.aclose()  # cuts the read in the lone watch's task
        with pytest.raises(StopAsyncIteration):
            await reading
        await until(lambda: consul_agent.blocking_queries == 1)  # sent again, same index
        await consul.kv.set("k", b"v2")
        entry, _ = await asyncio.wait_for(waiting, BOUND)
        assert entry["Value"] == b"v2"


async def test_a_slow_subscriber_gets_the_latest_value_not_a_backlog(
        consul: Consul) -> None:
    await consul.kv.set("k", b"0")
    async with consul.kv.watch("k") as fast, consul.kv.watch("k") as slow:
        await anext(fast)
        await anext(slow)
        for value in (b"1", b"2", b"3"):
            await consul.kv.set("k", value)
            entry, _ = await asyncio.wait_for(anext(fast), BOUND)
            while entry["Value"] != value:
                entry, _ = await asyncio.wait_for(anext(fast), BOUND)
        entry, _ = await asyncio.wait_for(anext(slow), BOUND)
        assert entry["Value"] == b"3"


async def test_a_dropped_subscriber_leaves_the_read(consul: Consul) -> None:
    """A watch left without aclose() (a break out of async for) stops counting once it is
    collected."""
    await consul.kv.set("k", b"v")
    async with consul.kv.watch("k") as kept:
        dropped = consul.kv.watch("k")
        async for _ in dropped:
            break
        assert kept.subscribers == 2
        del dropped
        gc.collect()
        assert kept.subscribers == 1


class Script:
    """A fake agent answering /v1/kv/ reads from a list of (status, index, value) steps; the
    last step repeats after a short pause (a read that blocks a little)."""

    def __init__(self, steps: list[tuple[int, int | None, str]]) -> None:
        self.steps = steps
        self.queries: list[dict[str, str]] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.queries.append(dict(request.query))
        if len(self.queries) >= len(self.steps):
            await asyncio.sleep(0.05)
        status, index, value = self.steps[min(len(self.queries), len(self.steps)) - 1]
        headers = {} if index is None else {"X-Consul-Index": str(index)}
        if status != 200:
            return web.Response(status=status, text="No cluster leader", headers=headers)
        entry = {"Key": "k", "Value": value, "Flags": 0, "LockIndex": 0, "CreateIndex": 1,
                 "ModifyIndex": 1}
        return web.json_response([entry], headers=headers)


@contextlib.asynccontextmanager
async def scripted(steps: list[tuple[int, int | None, str]]) -> AsyncIterator[tuple[Script, str]]:
    script = Script(steps)
    async with FakeServer(script.handle) as server:
        yield script, server.address


async def test_an_error_of_the_shared_read_reaches_each_subscriber_per_its_mode(
        caplog: pytest.LogCaptureFixture) -> None:
    steps = [(200, 5, "YQ=="), (500, None, ""), (200, 6, "Yg==")]
    caplog.set_level(logging.WARNING, "aioconsul.watch")
    async with scripted(steps) as (script, address), Consul(address, retry=False) as client, \
            client.kv.watch("k", backoff=FAST) as logs, \
            client.kv.watch("k", errors="raise", backoff=FAST) as raises, \
            client.kv.watch("k", errors="yield", backoff=FAST) as yields:
        assert logs.subscribers == 3  # errors= is each subscriber's own
        for watch in (logs, raises, yields):
            entry, _ = await anext(watch)
            assert entry["Value"] == b"a"
        logged, raised, yielded = await asyncio.wait_for(asyncio.gather(
            anext(logs), anext(raises), anext(yields), return_exceptions=True), BOUND)
        assert logged[0]["Value"] == b"b"
        assert isinstance(raised, aioconsul.NoLeader) and isinstance(yielded, aioconsul.NoLeader)
        assert raised is not yielded and str(raised) == str(yielded)  # each its own object
        assert len(script.queries) == 3  # one failed read for the three of them
        assert caplog.text.count("watch of KV.get failed") == 1  # logged once, not per watch
        # After the error, the raising and yielding subscribers go on to the new value.
        for watch in (raises, yields):
            entry, _ = await asyncio.wait_for(anext(watch), BOUND)
            assert entry["Value"] == b"b"


async def test_a_failure_of_raising_subscribers_only_is_not_logged(
        caplog: pytest.LogCaptureFixture) -> None:
    steps = [(200, 5, "YQ=="), (500, None, ""), (200, 6, "Yg==")]
    caplog.set_level(logging.WARNING, "aioconsul.watch")
    async with scripted(steps) as (_, address), Consul(address, retry=False) as client, \
            client.kv.watch("k", errors="raise", backoff=FAST) as one, \
            client.kv.watch("k", errors="raise", backoff=FAST) as two:
        await anext(one)
        await anext(two)
        results = await asyncio.wait_for(asyncio.gather(
            anext(one), anext(two), return_exceptions=True), BOUND)
        assert all(isinstance(result, aioconsul.NoLeader) for result in results)
        assert "watch of KV.get failed" not in caplog.text


async def test_a_late_subscriber_of_a_failing_read_gets_its_failure_then_the_value() -> None:
    steps = [(200, 5, "YQ=="), (500, None, ""), (200, 6, "Yg==")]
    async with scripted(steps) as (script, address), Consul(address, retry=False) as client, \
            client.kv.watch("k", errors="yield", backoff=FAST) as first:
        await anext(first)
        assert isinstance(await anext(first), aioconsul.NoLeader)
        async with client.kv.watch("k", errors="yield", backoff=FAST) as late:
            assert isinstance(await anext(late), aioconsul.NoLeader)  # the state it is in
            entry, _ = await asyncio.wait_for(anext(late), BOUND)
            assert entry["Value"] == b"b"
        assert len(script.queries) == 3


async def test_close_of_the_client_ends_every_watch_and_leaves_no_task(
        consul: Consul, consul_agent: DevAgent) -> None:
    await consul.kv.set("k", b"v")
    await consul.kv.set("other", b"v")
    before = asyncio.all_tasks()
    client = Consul(consul.config.base_url)
    ended: list[str] = []

    async def follow(watch: Watch[Any], name: str) -> None:
        async for _ in watch:
            pass
        ended.append(name)

    watches = [client.kv.watch("k") for _ in range(10)] + [client.kv.watch("other"),
                                                           client.kv.watch("k", shared=False)]
    followers = [asyncio.create_task(follow(watch, str(number)))
                 for number, watch in enumerate(watches)]
    await until(lambda: consul_agent.blocking_queries == 3)
    await client.close()
    async with asyncio.timeout(BOUND):
        await asyncio.gather(*followers)
    assert len(ended) == 12 and all(watch.closed for watch in watches)
    assert watch_tasks() == []
    # (the dev agent runs in this loop: its tasks for the parked reads end with them)
    await until(lambda: consul_agent.blocking_queries == 0 and asyncio.all_tasks() <= before)
    for watch in watches:
        await watch.aclose()


async def test_toolkit_views_of_the_same_data_share_one_read(
        consul: Consul, consul_agent: DevAgent) -> None:
    """Two pools of one service, two live configs of one folder: one request each."""
    await consul.agent.services.register({"Name": "web", "Port": 80})
    await consul.kv.set("config/app/a", b"1")
    async with consul.discover("web") as one, consul.discover("web") as two, \
            consul.kv.config("config/app/") as config, consul.kv.config("config/app/") as again:
        await until(lambda: consul_agent.blocking_queries == 2)
        await asyncio.sleep(0.05)
        assert consul_agent.blocking_queries == 2
        assert len(one.instances) == len(two.instances) == 1
        await consul.kv.set("config/app/a", b"2")
        await until(lambda: config.data == again.data == {"a": b"2"})
    await until(lambda: consul_agent.blocking_queries == 0)
