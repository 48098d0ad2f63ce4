"""``client.event`` against an agent over HTTP (website/content/api-docs/event.mdx,
agent/event_endpoint.go; ../shared/consul-api/semantics.md §11)."""

from __future__ import annotations

import asyncio
import re

import aiohttp
import pytest
from aiohttp import web
from fakeserver import FakeServer

from aioconsul import Consul
from aioconsul.api.event import id_to_index
from aioconsul.testing import DevAgent
from aioconsul.watch import Backoff

FAST = Backoff(initial=0.01, maximum=0.04, multiplier=2.0, jitter=0.0)


async def test_seed_example(consul: Consul) -> None:
    client = consul
    PAYLOAD = b"qux"
    response = await client.event.fire("baz", PAYLOAD)
    assert response["Payload"] == PAYLOAD
    responses, _ = await client.event.items("baz")
    assert responses[0]["Payload"] == PAYLOAD


async def test_fired_event_has_consul_fields(consul: Consul) -> None:
    event = await consul.event.fire("deploy", b"v1", node="^web", service="api", tag="v1")
    assert event["Name"] == "deploy" and event["Version"] == 1
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
                        event["ID"])
    assert (event["NodeFilter"], event["ServiceFilter"], event["TagFilter"]) == ("^web", "api",
                                                                                "v1")


async def test_event_without_payload_has_empty_bytes(consul: Consul) -> None:
    assert (await consul.event.fire("ping"))["Payload"] == b""
    assert (await consul.event.items("ping"))[0][0]["Payload"] == b""


async def test_compiled_patterns_are_sent_as_filters(consul: Consul) -> None:
    event = await consul.event.fire("x", node=re.compile("web-[0-9]+", re.I))
    assert event["NodeFilter"] == "(?i)web-[0-9]+"


async def test_items_lists_oldest_first_and_filters_by_name(consul: Consul) -> None:
    for name in ("a", "b", "a"):
        await consul.event.fire(name, name.encode())
    everything, _ = await consul.event.items()
    assert [event["Name"] for event in everything] == ["a", "b", "a"]
    only_a, _ = await consul.event.items("a")
    assert [event["Name"] for event in only_a] == ["a", "a"]


async def test_index_is_the_fold_of_the_newest_event_id(consul: Consul) -> None:
    """X-Consul-Index of /v1/event/list is uuidToUint64 of the newest event (event_endpoint.go)."""
    await consul.event.fire("e1")
    last = await consul.event.fire("e2")
    _, meta = await consul.event.items()
    assert meta["Index"] == id_to_index(last["ID"])


async def test_blocking_items_wakes_on_a_new_event(consul: Consul) -> None:
    await consul.event.fire("tick", b"1")
    _, meta = await consul.event.items("tick")
    waiter = asyncio.create_task(consul.event.items("tick", watch=(meta, "10s")))
    await asyncio.sleep(0.05)
    assert not waiter.done()
    await consul.event.fire("tick", b"2")
    events, new_meta = await asyncio.wait_for(waiter, 5)
    assert events[-1]["Payload"] == b"2"
    assert new_meta["Index"] != meta["Index"]


def test_id_to_index_matches_the_go_client() -> None:
    """api/event.go IDToIndex: first 16 hex digits XOR last 16."""
    assert id_to_index("b54fe110-7af5-cafc-d1fb-afc8ba432b1c") == \
        0xb54fe1107af5cafc ^ 0xd1fbafc8ba432b1c
    with pytest.raises(ValueError, match="^event_id"):
        id_to_index("not-a-uuid")


@pytest.mark.parametrize("kwargs, error, match", [
    ({"name": ""}, ValueError, "^name: must not be empty"),
    ({"name": "_rexec"}, ValueError, "^name: names starting with '_'"),
    ({"name": 3}, TypeError, "^name: "),
    ({"name": "x", "payload": "text"}, TypeError, "^payload: "),
    ({"name": "x", "tag": "v1"}, ValueError, "^tag: a tag filter needs a service filter"),
    ({"name": "x", "node": 3}, TypeError, "^node: "),
])
async def test_bad_fire_arguments_are_refused_before_sending(
        unreachable: str, kwargs: dict[str, object], error: type[Exception], match: str) -> None:
    async with Consul(unreachable) as client:
        with pytest.raises(error, match=match):
            await client.event.fire(**kwargs)  # type: ignore[arg-type]


async def test_an_event_fired_right_after_entering_a_since_now_watch_is_delivered(
        consul: Consul) -> None:
    """Entering ``async with`` takes the baseline (one /v1/event/list read), so an event fired
    next is new to the watch, not part of the skipped listing (issue 9, item 12)."""
    await consul.event.fire("early-deploy", b"old")
    async with consul.event.watch("early-deploy", since_now=True, wait="5s") as ev:
        fired = await consul.event.fire("early-deploy", b"new")
        event, _ = await asyncio.wait_for(anext(ev), 30)
    assert event["ID"] == fired["ID"] and event["Payload"] == b"new"


async def test_ready_takes_the_baseline_without_async_with(consul: Consul) -> None:
    ev = consul.event.watch("ready-deploy", since_now=True, wait="5s")
    try:
        await ev.ready()
        await ev.ready()  # idempotent: no second baseline
        fired = await consul.event.fire("ready-deploy", b"x")
        event, _ = await asyncio.wait_for(anext(ev), 30)
        assert event["ID"] == fired["ID"]
    finally:
        await ev.aclose()


async def test_entering_a_watch_keeps_the_listed_events_first_without_since_now(
        consul: Consul) -> None:
    old = await consul.event.fire("kept-deploy", b"old")
    async with consul.event.watch("kept-deploy", wait="5s") as ev:
        new = await consul.event.fire("kept-deploy", b"new")
        first, _ = await asyncio.wait_for(anext(ev), 30)
        second, _ = await asyncio.wait_for(anext(ev), 30)
    assert (first["ID"], second["ID"]) == (old["ID"], new["ID"])


class GossipedAgent:
    """A second agent of the cluster, whose /v1/event/list buffer holds what gossip gave it:
    ``events`` (Consul JSON, oldest first). Like agent/event_endpoint.go EventList it answers
    with the fold of the newest event's ID as index; it never blocks."""

    def __init__(self) -> None:
        self.events: list[dict[str, object]] = []
        self.reads = 0

    async def handle(self, request: web.Request) -> web.Response:
        self.reads += 1
        name = request.query.get("name")
        events = [e for e in self.events if not name or e["Name"] == name]
        index = id_to_index(str(events[-1]["ID"])) if events else 1
        return web.json_response(events, headers={"X-Consul-Index": str(index),
                                                  "X-Consul-KnownLeader": "true"})


async def test_an_event_watch_yields_no_event_twice_across_a_fail_over() -> None:
    """/v1/event/list is served from each agent's own buffer (agent/event_endpoint.go,
    agent/user_event.go): after the switch the other agent lists the events gossip gave it,
    most of them already delivered. The watch remembers the IDs it saw, so only the event the
    first agent never delivered comes next (issue 9, item 11)."""
    gossip = GossipedAgent()
    async with FakeServer(gossip.handle) as second, DevAgent() as first, \
            Consul([first.address, second.address]) as client:
        one = await client.event.fire("deploy", b"1")
        two = await client.event.fire("deploy", b"2")
        async with client.event.watch("deploy", wait="5s", backoff=FAST) as ev:
            got = [(await asyncio.wait_for(anext(ev), 30))[0]["ID"] for _ in range(2)]
            assert got == [one["ID"], two["ID"]]
            three = await client.event.fire("deploy", b"3")
            assert (await asyncio.wait_for(anext(ev), 30))[0]["ID"] == three["ID"]
            # Gossip brought one and two to the second agent, not three (lost with the
            # first agent), plus four, fired elsewhere in the cluster.
            async with aiohttp.ClientSession() as http, http.get(
                    f"{first.address}/v1/event/list?name=deploy") as answer:
                listed = await answer.json()
            four = dict(listed[0], ID="0b6c5e2c-1d2e-4f3a-8b9c-0d1e2f3a4b5c",
                        Payload=None, LTime=99)
            gossip.events = [*listed[:2], four]
            await first.stop()
            event, _ = await asyncio.wait_for(anext(ev), 30)
            assert event["ID"] == four["ID"]
            assert gossip.reads >= 1
