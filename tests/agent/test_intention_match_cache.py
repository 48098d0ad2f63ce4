"""``GET /v1/connect/intentions/match?cached``: Intention.Match through the agent cache.

``agent/intentions_endpoint.go`` IntentionMatch reads ``cachetype.IntentionMatchName`` when the
request says ``?cached`` (``agent/cache-types/intention_match.go``: a blocking-refresh type, as
the proxies watch it); the entry key is the token, the datacenter and the hash of the Match
struct (``IntentionQueryRequest.CacheInfo``: its type and its entries in order). The refresh
is a blocking Intention.Match from the stored index, and that RPC does not return on a wake-up
whose matches hash as before (``errNotChanged`` in ``agent/consul/intention_endpoint.go``).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aioconsul.testing.acl.authorizer import Permission

from .conftest import Api, GrantResolver


async def upsert(api: Api, source: str, destination: str, action: str = "allow",
                 headers: dict[str, str] | None = None) -> None:
    reply = await api.put(f"/v1/connect/intentions/exact?source={source}&destination="
                          f"{destination}", json.dumps({"Action": action}), headers=headers)
    assert reply.status == 200, reply.text


async def unrelated_write(api: Api, name: str) -> None:
    """A config entry write that moves the config entries' index, not any match."""
    body = {"Kind": "service-defaults", "Name": name, "Protocol": "tcp"}
    reply = await api.put("/v1/config", json.dumps(body))
    assert reply.status == 200, reply.text


def sources(answer: Any, name: str) -> list[str]:
    return [ixn["SourceName"] for ixn in answer[name] or []]


async def test_first_cached_match_is_a_miss_then_a_hit_with_age_zero(api: Api) -> None:
    """A background-refresh type: a hit has ``Age: 0``; a MISS carries no Age."""
    await upsert(api, "mc1-web", "mc1-db")
    path = "/v1/connect/intentions/match?by=destination&name=mc1-db&cached"
    first = await api.get(path)
    assert first.status == 200, first.text
    assert first.headers["X-Cache"] == "MISS" and "Age" not in first.headers
    second = await api.get(path)
    assert second.headers["X-Cache"] == "HIT" and second.headers["Age"] == "0"
    assert second.json() == first.json() and sources(first.json(), "mc1-db") == ["mc1-web"]
    assert second.index == first.index


async def test_an_uncached_match_has_no_cache_headers(api: Api) -> None:
    reply = await api.get("/v1/connect/intentions/match?by=destination&name=mc2-db")
    assert reply.status == 200 and "X-Cache" not in reply.headers


async def test_cache_control_is_ignored(api: Api) -> None:
    path = "/v1/connect/intentions/match?by=source&name=mc3-web&cached"
    await api.get(path)
    for header in ("max-age=0", "must-revalidate"):
        reply = await api.get(path, headers={"Cache-Control": header})
        assert reply.headers["X-Cache"] == "HIT" and reply.headers["Age"] == "0"


async def test_the_entry_keeps_its_index_until_its_matches_change(api: Api) -> None:
    """errNotChanged: the refresh does not store an answer whose matches hash as before, so a
    config entry write that changes no match leaves the entry's index where it was (while an
    uncached read reports the new index); an intention that does match refreshes it."""
    await upsert(api, "mc4-web", "mc4-db")
    path = "/v1/connect/intentions/match?by=destination&name=mc4-db&cached"
    first = await api.get(path)
    await unrelated_write(api, "mc4-other")
    uncached = await api.get("/v1/connect/intentions/match?by=destination&name=mc4-db")
    assert uncached.index > first.index
    kept = await api.get(path)
    assert kept.headers["X-Cache"] == "HIT"
    assert kept.index == first.index and kept.json() == first.json()
    await upsert(api, "mc4-api", "mc4-db", "deny")
    changed = await api.get(path)
    assert changed.headers["X-Cache"] == "HIT" and changed.index > uncached.index
    assert sources(changed.json(), "mc4-db") == ["mc4-api", "mc4-web"]


async def test_a_blocking_cached_match_returns_only_when_its_matches_change(api: Api) -> None:
    """A blocking ?cached read at the entry's index waits on the entry (a MISS when it
    returns): an unrelated config entry write does not end it, the next matching intention
    does."""
    await upsert(api, "mc5-web", "mc5-db")
    path = "/v1/connect/intentions/match?by=destination&name=mc5-db&cached"
    first = await api.get(path)
    parked = api.agent.blocking_queries
    waiting = asyncio.ensure_future(api.get(f"{path}&index={first.index}&wait=30s"))
    while api.agent.blocking_queries == parked:
        await asyncio.sleep(0.01)
    await unrelated_write(api, "mc5-other")
    await upsert(api, "mc5-api", "mc5-db")
    reply = await waiting
    assert reply.headers["X-Cache"] == "MISS"
    assert sources(reply.json(), "mc5-db") == ["mc5-api", "mc5-web"]
    assert reply.index > first.index


async def test_the_same_names_in_another_order_are_another_entry(api: Api) -> None:
    """The key hashes the Match entries in order: another order is a MISS, and each name
    gets its own intentions."""
    await upsert(api, "mc6-a", "mc6-x")
    await upsert(api, "mc6-b", "mc6-y")
    one = await api.get("/v1/connect/intentions/match?by=destination&name=mc6-x&name=mc6-y"
                        "&cached")
    other = await api.get("/v1/connect/intentions/match?by=destination&name=mc6-y&name=mc6-x"
                          "&cached")
    assert one.headers["X-Cache"] == "MISS" and other.headers["X-Cache"] == "MISS"
    for answer in (one.json(), other.json()):
        assert sources(answer, "mc6-x") == ["mc6-a"] and sources(answer, "mc6-y") == ["mc6-b"]


async def test_a_cached_match_is_authorized_per_request(api: Api, grants: GrantResolver) -> None:
    """Every cached read checks ``intention:read`` on each name before the cache is asked,
    and the entry is keyed by token: a token without the right is refused, one with it
    starts its own entry."""
    writer = grants.grant("mc7-writer", {Permission.INTENTION_WRITE: ("",),
                                         Permission.INTENTION_READ: ("",)})
    reader = grants.grant("mc7-reader", {Permission.INTENTION_READ: ("mc7-",)})
    nobody = grants.grant("mc7-nobody", {Permission.SERVICE_READ: ("",)})
    await upsert(api, "mc7-web", "mc7-db", headers=writer)
    path = "/v1/connect/intentions/match?by=destination&name=mc7-db&cached"
    assert (await api.get(path, headers=writer)).headers["X-Cache"] == "MISS"
    refused = await api.get(path, headers=nobody)
    assert refused.status == 403 and "intention:read" in refused.text
    mine = await api.get(path, headers=reader)
    assert mine.headers["X-Cache"] == "MISS" and sources(mine.json(), "mc7-db") == ["mc7-web"]
