"""User events: agent/event_endpoint.go and agent/user_event.go (plus serf's Lamport clock)."""

from __future__ import annotations

import asyncio
import base64
import time

import pytest

from .conftest import Api


def id_to_index(uuid: str) -> int:
    """api.UserEvent.IDToIndex: XOR of the UUID's two 64-bit halves."""
    lower = uuid[0:8] + uuid[9:13] + uuid[14:18]
    upper = uuid[19:23] + uuid[24:36]
    return int(lower, 16) ^ int(upper, 16)


async def test_fire_echoes_the_event_with_ltime_zero(api: Api) -> None:
    reply = await api.put("/v1/event/fire/deploy?node=aioconsul", b"v1.2")
    assert reply.status == 200
    event = reply.json()
    assert list(event) == [
        "ID",
        "Name",
        "Payload",
        "NodeFilter",
        "ServiceFilter",
        "TagFilter",
        "Version",
        "LTime",
    ]
    assert event["Name"] == "deploy"
    assert base64.b64decode(event["Payload"]) == b"v1.2"
    assert (event["NodeFilter"], event["Version"], event["LTime"]) == ("aioconsul", 1, 0)


async def test_filters_are_query_decoded_like_go(api: Api) -> None:
    """url.ParseQuery: '+' is a space, %2B a plus sign."""
    event = (await api.put("/v1/event/fire/x?node=web-%5B0-9%5D%2B+")).json()
    assert event["NodeFilter"] == "web-[0-9]+ "


async def test_fire_without_a_body_has_a_null_payload(api: Api) -> None:
    assert (await api.put("/v1/event/fire/ping")).json()["Payload"] is None


async def test_fire_without_a_name_is_400(api: Api) -> None:
    reply = await api.put("/v1/event/fire/")
    assert (reply.status, reply.text) == (400, "Missing name")


@pytest.mark.parametrize(
    ("query", "text"),
    [
        ("tag=v1", "Cannot provide tag filter without service filter"),
        ("node=(", "Invalid node filter: error parsing regexp:"),
        (
            "service=a(?=b)",
            "Invalid service filter: error parsing regexp: "
            "invalid or unsupported Perl syntax: `(?=`",
        ),
    ],
)
async def test_invalid_filters_are_500(api: Api, query: str, text: str) -> None:
    """EventFire writes 500 itself, then the wrapper appends the error text."""
    reply = await api.put(f"/v1/event/fire/deploy?{query}")
    assert reply.status == 500
    assert reply.text.startswith(text)


async def test_oversized_events_are_refused_by_serf(api: Api) -> None:
    reply = await api.put("/v1/event/fire/big", b"x" * 500)
    assert reply.status == 500
    assert reply.text == "user event exceeds configured limit of 512 bytes before encoding"
    assert (await api.put("/v1/event/fire/small", b"x" * 100)).status == 200


async def test_list_is_oldest_first_with_lamport_times(api: Api) -> None:
    """The leader's "consul:new-leader" event takes LTime 1; user events follow from 2."""
    ids = [(await api.put(f"/v1/event/fire/e{i}", b"p")).json()["ID"] for i in range(3)]
    reply = await api.get("/v1/event/list")
    events = reply.json()
    assert [e["ID"] for e in events] == ids
    assert [e["LTime"] for e in events] == [2, 3, 4]
    assert reply.index == id_to_index(ids[-1])
    assert "X-Consul-KnownLeader" not in reply.headers


async def test_empty_list_has_index_one(api: Api) -> None:
    reply = await api.get("/v1/event/list")
    assert (reply.json(), reply.index) == ([], 1)


async def test_name_filter_selects_events_and_their_index(api: Api) -> None:
    deploy = (await api.put("/v1/event/fire/deploy")).json()["ID"]
    await api.put("/v1/event/fire/other")
    reply = await api.get("/v1/event/list?name=deploy")
    assert [e["ID"] for e in reply.json()] == [deploy]
    assert reply.index == id_to_index(deploy)


async def test_events_filtered_away_from_this_node_are_not_listed(api: Api) -> None:
    """shouldProcessUserEvent: the node filter must match this node, and a service filter
    must match a local service (the dev agent has none)."""
    await api.put("/v1/event/fire/elsewhere?node=^other-node$")
    await api.put("/v1/event/fire/to-web?service=web")
    await api.put("/v1/event/fire/here?node=^aioconsul-dev$")
    names = [e["Name"] for e in (await api.get("/v1/event/list")).json()]
    assert names == ["here"]


async def test_the_list_keeps_the_256_most_recent_events(api: Api) -> None:
    for i in range(260):
        await api.put(f"/v1/event/fire/e{i}")
    names = [e["Name"] for e in (await api.get("/v1/event/list")).json()]
    assert len(names) == 256
    assert (names[0], names[-1]) == ("e4", "e259")


async def test_blocking_list_returns_on_a_new_event(api: Api) -> None:
    await api.put("/v1/event/fire/first")
    index = (await api.get("/v1/event/list")).index
    task = asyncio.ensure_future(api.get(f"/v1/event/list?index={index}&wait=5s"))
    await asyncio.sleep(0.05)
    assert not task.done()
    second = (await api.put("/v1/event/fire/second")).json()["ID"]
    reply = await task
    assert reply.index == id_to_index(second)


async def test_blocking_list_uses_inequality_not_ordering(api: Api) -> None:
    """The index is a hash of the newest ID: any different index returns at once."""
    await api.put("/v1/event/fire/first")
    index = (await api.get("/v1/event/list")).index
    start = time.perf_counter()
    reply = await api.get(f"/v1/event/list?index={index + 1}&wait=5s")
    assert reply.index == index
    assert time.perf_counter() - start < 1


async def test_blocking_list_times_out_without_jitter(api: Api) -> None:
    start = time.perf_counter()
    reply = await api.get("/v1/event/list?index=1&wait=100ms")
    elapsed = time.perf_counter() - start
    assert (reply.json(), reply.index) == ([], 1)
    assert 0.1 <= elapsed < 0.1 + 0.1


async def test_blocking_list_ignores_events_of_other_names(api: Api) -> None:
    start = time.perf_counter()
    task = asyncio.ensure_future(api.get("/v1/event/list?name=mine&index=1&wait=200ms"))
    await asyncio.sleep(0.05)
    await api.put("/v1/event/fire/theirs")
    reply = await task
    assert reply.json() == []
    assert time.perf_counter() - start >= 0.19


async def test_event_list_rejects_a_bad_wait(api: Api) -> None:
    reply = await api.get("/v1/event/list?index=1&wait=forever")
    assert (reply.status, reply.text) == (400, "Invalid wait time")
