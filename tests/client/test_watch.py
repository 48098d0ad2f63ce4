"""Watches: async iterators over blocking reads.

The loop's rules come from website/content/api-docs/features/blocking.mdx ("Implementation
Details": reset the index when it goes backwards, sanity-check it is at least 1, rate-limit) and
from the Go watch package (api/watch/plan.go: yield only when the index moved and the result
changed; back off on errors). The rules that need precise control of the agent's answers are
tested against a small aiohttp.web app of the test's own; the rest against the dev agent.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from fakeserver import FakeServer

import aioconsul
from aioconsul import Consul
from aioconsul.testing import DevAgent
from aioconsul.watch import Backoff, Watch

FAST = Backoff(initial=0.01, maximum=0.04, multiplier=2.0, jitter=0.0)


class Script:
    """A fake agent answering /v1/kv/ reads from a list of (status, index, value) steps; the
    last step repeats. Records the query of every request."""

    def __init__(self, steps: list[tuple[int, int | None, str]]) -> None:
        self.steps = steps
        self.queries: list[dict[str, str]] = []
        self.times: list[float] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.queries.append(dict(request.query))
        self.times.append(time.monotonic())
        status, index, value = self.steps[min(len(self.queries), len(self.steps)) - 1]
        headers = {} if index is None else {"X-Consul-Index": str(index)}
        if status != 200:
            return web.Response(status=status, text="No cluster leader", headers=headers)
        # The entry itself does not carry the index: the same value is the same data.
        entry = {"Key": "k", "Value": value, "Flags": 0, "LockIndex": 0, "CreateIndex": 1,
                 "ModifyIndex": 1}
        return web.json_response([entry], headers=headers)


@contextlib.asynccontextmanager
async def scripted(steps: list[tuple[int, int | None, str]]) -> AsyncIterator[tuple[Script, str]]:
    script = Script(steps)
    async with FakeServer(script.handle) as server:
        yield script, server.address


async def take(watch: Watch[Any], count: int, timeout: float = 5) -> list[Any]:
    items = []
    async with asyncio.timeout(timeout):
        async for item in watch:
            items.append(item)
            if len(items) == count:
                break
    return items


async def test_first_result_comes_at_once(consul: Consul) -> None:
    await consul.kv.set("config/app", b"v1")
    async with consul.kv.watch("config/app") as watch:
        [(entry, meta)] = await take(watch, 1)
    assert entry is not None and entry["Value"] == b"v1" and meta["Index"] > 0


async def test_missing_key_is_yielded_as_none_then_its_creation(consul: Consul) -> None:
    async with consul.kv.watch("later") as watch:
        first, _ = await watch.__anext__()
        assert first is None
        await consul.kv.set("later", b"here")
        entry, _ = await asyncio.wait_for(watch.__anext__(), 5)
    assert entry is not None and entry["Value"] == b"here"


async def test_each_change_is_yielded(consul: Consul) -> None:
    await consul.kv.set("k", b"0")
    async with consul.kv.watch("k") as watch:
        await watch.__anext__()
        for value in (b"1", b"2"):
            await consul.kv.set("k", value)
            entry, _ = await asyncio.wait_for(watch.__anext__(), 5)
            assert entry is not None and entry["Value"] == value


async def test_a_moved_index_with_the_same_data_is_not_yielded() -> None:
    """Go's watch plan skips results equal to the last one (reflect.DeepEqual)."""
    steps = [(200, 5, "YQ=="), (200, 6, "YQ=="), (200, 7, "Yg==")]
    async with scripted(steps) as (script, address), Consul(address, retry=False) as client, \
            client.kv.watch("k", wait="1s") as watch:
        items = await take(watch, 2)
    assert [(entry["Value"], meta["Index"]) for entry, meta in items] == [(b"a", 5), (b"b", 7)]
    assert [q.get("index") for q in script.queries[:3]] == [None, "5", "6"]
    assert script.queries[1]["wait"] == "1000ms"


async def test_an_index_going_backwards_resets_to_zero() -> None:
    """blocking.mdx: "Reset the index if it goes backwards" — the next read uses no index."""
    steps = [(200, 10, "YQ=="), (200, 4, "Yg=="), (200, 4, "Yg=="), (200, 5, "Yw==")]
    async with scripted(steps) as (script, address), Consul(address, retry=False) as client, \
            client.kv.watch("k") as watch:
        items = await take(watch, 3)
    assert [entry["Value"] for entry, _ in items] == [b"a", b"b", b"c"]
    assert [q.get("index") for q in script.queries[:4]] == [None, "10", None, "4"]


async def test_a_missing_or_zero_index_never_makes_the_loop_spin() -> None:
    """blocking.mdx: sanity-check the index is at least 1, and rate-limit the loop."""
    async with scripted([(200, None, "YQ==")]) as (script, address), \
            Consul(address, retry=False) as client:
        watch = client.watch(client.kv.get, "k")
        async with watch:
            await watch.__anext__()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(watch.__anext__(), 0.5)
    assert {q.get("index") for q in script.queries[1:]} == {"1"}
    # a burst of 2, then one request per 50 ms: about 11 in 0.5 s, never hundreds
    assert len(script.queries) <= 15


async def test_errors_are_logged_and_the_watch_resumes(caplog: pytest.LogCaptureFixture) -> None:
    steps = [(200, 5, "YQ=="), (500, None, ""), (500, None, ""), (200, 6, "Yg==")]
    async with scripted(steps) as (script, address), Consul(address, retry=False) as client, \
            client.kv.watch("k", backoff=FAST) as watch:
        items = await take(watch, 2)
    assert [entry["Value"] for entry, _ in items] == [b"a", b"b"]
    assert "No cluster leader" in caplog.text
    assert script.queries[3].get("index") is None  # after errors, one read that does not block


async def test_the_index_survives_errors() -> None:
    """After a failure the watch re-reads once without blocking (the agent may have restarted
    with other data at the same index), then blocks again on the index it kept."""
    steps = [(200, 5, "YQ=="), (500, None, ""), (200, 5, "YQ=="), (200, 5, "YQ=="),
             (200, 6, "Yg==")]
    async with scripted(steps) as (script, address), Consul(address, retry=False) as client, \
            client.kv.watch("k", backoff=FAST) as watch:
        items = await take(watch, 2)
    assert [entry["Value"] for entry, _ in items] == [b"a", b"b"]
    assert [q.get("index") for q in script.queries[:5]] == [None, "5", None, "5", "5"]


async def test_errors_back_off_exponentially() -> None:
    steps = [(200, 5, "YQ==")] + [(500, None, "")] * 5 + [(200, 6, "Yg==")]
    async with scripted(steps) as (script, address), Consul(address, retry=False) as client, \
            client.kv.watch("k", backoff=FAST) as watch:
        await take(watch, 2)
    gaps = [b - a for a, b in zip(script.times[1:7], script.times[2:7], strict=False)]
    # 10, 20, 40, 40, 40 ms (capped): each gap at least its back-off
    for gap, expected in zip(gaps, (0.01, 0.02, 0.04, 0.04, 0.04), strict=True):
        assert gap >= expected * 0.9


async def test_errors_can_be_raised() -> None:
    async with scripted([(200, 5, "YQ=="), (500, None, "")]) as (_, address), \
            Consul(address, retry=False) as client, client.kv.watch("k", errors="raise") as watch:
        await watch.__anext__()
        with pytest.raises(aioconsul.NoLeader):
            await watch.__anext__()


async def test_errors_can_be_yielded() -> None:
    steps = [(200, 5, "YQ=="), (500, None, ""), (200, 6, "Yg==")]
    async with scripted(steps) as (_, address), Consul(address, retry=False) as client, \
            client.kv.watch("k", errors="yield", backoff=FAST) as watch:
        items = await take(watch, 3)
    assert isinstance(items[1], aioconsul.NoLeader)
    assert items[2][0]["Value"] == b"b"


async def test_watch_ends_on_the_final_value_after_rapid_writes(consul: Consul) -> None:
    await consul.kv.set("counter", b"0")
    seen: list[bytes] = []
    done = asyncio.Event()

    async def follow() -> None:
        async with consul.kv.watch("counter") as watch:
            async for entry, _ in watch:
                assert entry is not None
                seen.append(entry["Value"])
                if entry["Value"] == b"1000":
                    done.set()
                    return

    follower = asyncio.create_task(follow())
    for number in range(1, 1001):
        await consul.kv.set("counter", str(number).encode())
    await asyncio.wait_for(done.wait(), 10)
    await follower
    assert seen[-1] == b"1000"
    assert [int(value) for value in seen] == sorted(int(value) for value in seen)


@pytest.mark.devagent
async def test_watch_survives_an_agent_restart_on_the_same_port() -> None:
    """The watch keeps going while the agent is down (backing off), and yields the restarted
    agent's value even when its index happens to equal the old one: after a failure the watch
    re-reads once without blocking."""
    agent = DevAgent()
    await agent.start()
    port = agent.port
    values: asyncio.Queue[bytes | None] = asyncio.Queue()

    async def follow(watch: Watch[Any]) -> None:
        async with watch:
            async for entry, _ in watch:
                await values.put(None if entry is None else entry["Value"])

    try:
        async with Consul(agent.address) as client:
            await client.kv.set("k", b"before")
            watch = client.kv.watch("k", backoff=FAST)
            follower = asyncio.create_task(follow(watch))
            assert await asyncio.wait_for(values.get(), 5) == b"before"
            await agent.stop()
            async with asyncio.timeout(5):  # the watch notices the agent is gone
                while watch.failures == 0:
                    await asyncio.sleep(0.01)
            agent = DevAgent(port=port)
            await agent.start()
            async with Consul(agent.address) as writer:
                await writer.kv.set("k", b"after")
            value = await asyncio.wait_for(values.get(), 10)
            while value != b"after":  # the empty restarted agent may be seen first
                value = await asyncio.wait_for(values.get(), 10)
            follower.cancel()
            await asyncio.gather(follower, return_exceptions=True)
    finally:
        await agent.stop()


async def test_aclose_from_another_task_ends_the_watch_at_once(consul: Consul) -> None:
    await consul.kv.set("k", b"v")
    watch = consul.kv.watch("k", wait="5m")
    await watch.__anext__()
    pending = asyncio.create_task(watch.__anext__())
    await asyncio.sleep(0.05)
    started = time.monotonic()
    await watch.aclose()
    with pytest.raises(StopAsyncIteration):
        await pending
    assert time.monotonic() - started < 1
    with pytest.raises(StopAsyncIteration):
        await watch.__anext__()


async def test_aclose_from_another_task_leaves_the_consumer_running_not_cancelled(
        consul: Consul, consul_agent: DevAgent) -> None:
    """The read runs in the consumer's own task; aclose() interrupts it there, and the
    consumer goes on after its loop as if the watch had ended, not as if it were cancelled
    (on Python 3.11+ through Task.uncancel)."""
    await consul.kv.set("k", b"v")
    watch = consul.kv.watch("k", wait="5m")
    after: list[str] = []

    async def consume() -> str:
        async for _ in watch:
            pass
        await asyncio.sleep(0)  # a cancellation left pending would be raised here
        after.append("went on")
        task = asyncio.current_task()
        assert task is not None
        return "cancelling" if sys.version_info >= (3, 11) and task.cancelling() else "clean"

    consumer = asyncio.create_task(consume())
    async with asyncio.timeout(10):
        while consul_agent.blocking_queries < 1:
            await asyncio.sleep(0.01)
    await watch.aclose()  # returns once the consumer has let go of the read
    assert await asyncio.wait_for(consumer, 5) == "clean"
    assert after == ["went on"]


async def test_a_consumer_cancelled_by_its_owner_stays_cancelled(
        consul: Consul, consul_agent: DevAgent) -> None:
    """Only aclose()'s own cancellation becomes the end of the loop: a cancellation from
    elsewhere, even one that arrives together with aclose(), cancels the consumer (that last
    case on Python 3.11+, where Task.uncancel tells the two apart)."""
    await consul.kv.set("k", b"v")
    for close_too in (False, True) if sys.version_info >= (3, 11) else (False,):
        watch = consul.kv.watch("k", wait="5m")
        consumer = asyncio.create_task(anext(watch))
        await consumer
        consumer = asyncio.create_task(anext(watch))
        async with asyncio.timeout(10):
            while consul_agent.blocking_queries < 1:
                await asyncio.sleep(0.01)
        consumer.cancel()
        if close_too:
            await watch.aclose()
        with pytest.raises(asyncio.CancelledError):
            await consumer
        assert consumer.cancelled()
        await watch.aclose()


async def test_cancelling_many_watches_leaves_no_task_or_connection(
        consul: Consul, consul_agent: DevAgent) -> None:
    """1,000 watches with a read each (shared=False; shared ones: test_shared_watch.py)."""
    await consul.kv.set("k", b"v")
    before = asyncio.all_tasks()

    async def follow() -> None:
        async with consul.kv.watch("k", shared=False) as watch:
            async for _ in watch:
                pass

    followers = [asyncio.create_task(follow()) for _ in range(1000)]
    async with asyncio.timeout(20):
        while consul_agent.blocking_queries < 1000:
            await asyncio.sleep(0.05)
    for follower in followers:
        follower.cancel()
    await asyncio.gather(*followers, return_exceptions=True)
    await asyncio.sleep(0.05)
    # (the dev agent runs in this loop: its tasks for the parked reads end with them)
    assert asyncio.all_tasks() <= before
    connector = consul._core.transport._session.connector  # type: ignore[union-attr]
    assert connector is not None and len(connector._acquired) == 0  # type: ignore[attr-defined]


async def test_general_watch_over_a_prefix(consul: Consul) -> None:
    async with consul.watch(consul.kv.items, "app/") as watch:
        items, _ = await watch.__anext__()
        assert items == []
        await consul.kv.set("app/a", b"1")
        items, _ = await asyncio.wait_for(watch.__anext__(), 5)
    assert [entry["Key"] for entry in items] == ["app/a"]


async def test_event_watch_delivers_each_new_event_once(consul: Consul) -> None:
    await consul.event.fire("deploy", b"old")
    async with consul.event.watch("deploy") as watch:
        event, _ = await watch.__anext__()
        assert event["Payload"] == b"old"
        for payload in (b"v1", b"v2"):
            await consul.event.fire("deploy", payload)
        first, _ = await asyncio.wait_for(watch.__anext__(), 5)
        second, _ = await asyncio.wait_for(watch.__anext__(), 5)
    assert (first["Payload"], second["Payload"]) == (b"v1", b"v2")


async def test_event_watch_since_now_skips_existing_events(consul: Consul) -> None:
    await consul.event.fire("deploy", b"old")
    async with consul.event.watch("deploy", since_now=True) as watch:
        pending = asyncio.create_task(watch.__anext__())
        await asyncio.sleep(0.1)
        assert not pending.done()
        await consul.event.fire("deploy", b"new")
        event, _ = await asyncio.wait_for(pending, 5)
    assert event["Payload"] == b"new"


@pytest.mark.parametrize("kwargs, error, match", [
    ({"wait": "forever"}, ValueError, "^wait: "),
    ({"errors": "ignore"}, ValueError, "^errors: "),
    ({"min_interval": -1}, ValueError, "^min_interval: "),
    ({"watch": 3}, TypeError, "^watch: "),
])
async def test_bad_watch_options_are_refused(unreachable: str, kwargs: dict[str, Any],
                                             error: type[Exception], match: str) -> None:
    async with Consul(unreachable) as client:
        with pytest.raises(error, match=match):
            client.watch(client.kv.get, "k", **kwargs)


async def test_hash_based_reads_can_be_watched(consul: Consul) -> None:
    """/v1/agent/service/:id blocks on X-Consul-ContentHash, not on an index (blocking.mdx,
    "Hash-based blocking queries"): the watch follows the hash."""
    await consul.agent.services.register("web", port=80)
    async with consul.watch(consul.agent.services.get, "web", wait="10s") as watch:
        service, meta = await watch.__anext__()
        assert service is not None and service["Port"] == 80 and meta["ContentHash"]
        await consul.agent.services.register("web", port=81)
        service, _ = await asyncio.wait_for(watch.__anext__(), 5)
    assert service is not None and service["Port"] == 81


async def test_a_raised_error_still_owes_its_back_off_before_the_next_read() -> None:
    """A consumer that catches the error and iterates again must not hammer a failing agent:
    with errors="raise" the back-off is owed before the next read, as with "log" (issue 9,
    item 6). Counted in requests the agent received, not in time."""
    slow = Backoff(initial=30.0, maximum=30.0, jitter=0.0)
    async with scripted([(500, None, "")]) as (script, address), \
            Consul(address, retry=False) as client, \
            client.kv.watch("k", errors="raise", backoff=slow) as watch:
        for _ in range(3):  # catching and iterating again, as a consumer loop would
            attempt = asyncio.create_task(anext(watch))
            await asyncio.sleep(0.3)  # today: several requests in this time (bucket: 20/s)
            if not attempt.done():
                break
            with pytest.raises(aioconsul.NoLeader):
                attempt.result()
        assert len(script.queries) == 1  # the second read waits out the 30 s back-off
        assert not attempt.done()
        await watch.aclose()
        with pytest.raises(StopAsyncIteration):
            await attempt
    assert len(script.queries) == 1


@pytest.mark.parametrize("read", ["set", "delete", "cas"])
async def test_a_callable_without_watch_is_refused_when_the_watch_is_created(
        unreachable: str, read: str) -> None:
    """client.watch(client.kv.set, ...) used to fail only when iterated (issue 9, item 15)."""
    async with Consul(unreachable) as client:
        method = getattr(client.kv, read)
        with pytest.raises(TypeError, match=rf"^read: KV\.{read} takes no watch= argument"):
            client.watch(method, "k", b"v")
        with pytest.raises(TypeError, match="^read: "):
            Watch(method, "k")


async def test_a_read_taking_any_keyword_is_accepted(unreachable: str) -> None:
    async def read(*args: Any, **kwargs: Any) -> tuple[None, aioconsul.Meta]:
        return None, aioconsul.Meta()

    async with Consul(unreachable) as client, client.watch(read) as watch:
        assert (await anext(watch))[0] is None


async def test_watching_a_service_survives_its_404_until_it_is_registered(
        consul: Consul) -> None:
    """Waiting for a sidecar: /v1/agent/service/:id answers 404 without X-Consul-ContentHash
    until the service exists. Go's agentServiceWatch (api/watch/funcs.go) takes the 404 as an
    error, backs off and retries; so does the watch, and it yields the service once registered.
    Today the second read raised a bare ValueError (no ContentHash) that ended the watch
    (issue 9, item 2)."""
    async with consul.watch(consul.agent.services.get, "web-sidecar-proxy", wait="10s",
                            backoff=FAST) as watch:
        first = asyncio.create_task(anext(watch))
        async with asyncio.timeout(10):
            while watch.failures < 3:  # three 404s in a row: the watch keeps going
                assert not first.done(), first
                await asyncio.sleep(0.01)
        await consul.agent.services.register("web-sidecar-proxy", port=21000)
        service, meta = await asyncio.wait_for(first, 10)
        assert service is not None and service["ID"] == "web-sidecar-proxy"
        assert meta["ContentHash"] and watch.failures == 0
        # It then blocks on the hash as usual.
        await consul.agent.services.register("web-sidecar-proxy", port=21001)
        service, _ = await asyncio.wait_for(anext(watch), 10)
        assert service is not None and service["Port"] == 21001


async def test_a_watched_service_404_is_yielded_as_not_found(consul: Consul) -> None:
    async with consul.watch(consul.agent.services.get, "web-sidecar-proxy", wait="10s",
                            errors="yield", backoff=FAST) as watch:
        missing = await asyncio.wait_for(anext(watch), 10)
        assert isinstance(missing, aioconsul.NotFound) and missing.status == 404
        await consul.agent.services.register("web-sidecar-proxy", port=21000)
        async with asyncio.timeout(10):
            item = await anext(watch)
            while isinstance(item, aioconsul.NotFound):
                item = await anext(watch)
        assert not isinstance(item, aioconsul.ConsulError)
        service, _ = item
        assert service is not None and service["Port"] == 21000
        # Deregistered: the hash read answers 404 again, a failed read once more.
        await consul.agent.services.deregister("web-sidecar-proxy")
        gone = await asyncio.wait_for(anext(watch), 10)
        assert isinstance(gone, aioconsul.NotFound)


async def test_an_event_watch_remembers_a_bounded_number_of_event_ids() -> None:
    """The IDs kept for de-duplication are bounded: the agent's buffer (256) plus margin."""
    from aioconsul.watch import EVENT_MEMORY, EventWatch

    listing = [{"ID": f"00000000-0000-4000-8000-{n:012d}", "Name": "x"} for n in range(1000)]

    async def read(*, watch: Any = None) -> tuple[list[dict[str, str]], aioconsul.Meta]:
        return listing, aioconsul.Meta(Index=7)

    async with EventWatch(Watch(read)) as events:
        assert (await anext(events))[0] is listing[0]
        assert len(events._seen) == len(events._order) == EVENT_MEMORY == 512
