"""The agent cache behind ``?cached`` (``agent/cache/cache.go``, ``agent/http.go`` setCacheMeta,
``website/content/api-docs/features/caching.mdx``), over HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from aioconsul.testing.acl.authorizer import Permission
from aioconsul.testing.http.cache import agent_cache

from .conftest import Api, GrantResolver


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(api: Api) -> Iterator[Clock]:
    clock = Clock()
    cache = agent_cache(api.agent.backend)
    before = cache.clock
    cache.clock = clock
    yield clock
    cache.clock = before


async def register(api: Api, name: str, node: str = "n1") -> None:
    body = {"Node": node, "Address": "10.0.0.1", "Service": {"Service": name, "Port": 80}}
    reply = await api.put("/v1/catalog/register", json.dumps(body))
    assert reply.status == 200, reply.text


async def test_an_uncached_read_has_no_cache_headers(api: Api) -> None:
    reply = await api.get("/v1/catalog/services")
    assert reply.status == 200
    assert "X-Cache" not in reply.headers and "Age" not in reply.headers


async def test_first_cached_read_is_a_miss_then_a_hit_with_age_zero(api: Api) -> None:
    """Background refresh: a hit's Age is 0 while the agent reaches its servers (caching.mdx);
    a MISS carries no Age (setCacheMeta sets it on hits only)."""
    await register(api, "web-c1")
    first = await api.get("/v1/catalog/service/web-c1?cached")
    assert first.headers["X-Cache"] == "MISS" and "Age" not in first.headers
    second = await api.get("/v1/catalog/service/web-c1?cached")
    assert second.headers["X-Cache"] == "HIT" and second.headers["Age"] == "0"
    assert second.json() == first.json()
    assert second.index == first.index


async def test_a_write_refreshes_a_background_refresh_entry(api: Api) -> None:
    """The background blocking query keeps the entry current: after a write the next cached
    read is still a HIT, with the new data and index."""
    await register(api, "web-c2", "n1")
    first = await api.get("/v1/health/service/web-c2?cached")
    assert first.headers["X-Cache"] == "MISS"
    await register(api, "web-c2", "n2")
    after = await api.get("/v1/health/service/web-c2?cached")
    assert after.headers["X-Cache"] == "HIT"
    assert sorted(e["Node"]["Node"] for e in after.json()) == ["n1", "n2"]
    assert after.index > first.index


async def test_cache_control_is_ignored_by_background_refresh_types(api: Api, clock: Clock) -> None:
    await api.get("/v1/catalog/services?cached")
    clock.now += 100
    for header in ("max-age=0", "must-revalidate", "max-age=5, stale-if-error=60"):
        reply = await api.get("/v1/catalog/services?cached", headers={"Cache-Control": header})
        assert reply.headers["X-Cache"] == "HIT" and reply.headers["Age"] == "0"


async def test_simple_type_age_and_max_age_refresh(api: Api, clock: Clock) -> None:
    """catalog/datacenters is a simple type: Age is seconds since the fetch; an entry older
    than max-age is fetched again (a MISS), a younger one is a HIT."""
    first = await api.get("/v1/catalog/datacenters?cached")
    assert first.headers["X-Cache"] == "MISS"
    clock.now += 7.4
    hit = await api.get("/v1/catalog/datacenters?cached", headers={"Cache-Control": "max-age=30"})
    assert hit.headers["X-Cache"] == "HIT" and hit.headers["Age"] == "7"
    assert hit.json() == first.json() == ["dc1"]
    stale = await api.get("/v1/catalog/datacenters?cached", headers={"Cache-Control": "max-age=5"})
    assert stale.headers["X-Cache"] == "MISS" and "Age" not in stale.headers
    clock.now += 2
    again = await api.get("/v1/catalog/datacenters?cached")
    assert again.headers["X-Cache"] == "HIT" and again.headers["Age"] == "2"


@pytest.mark.parametrize("header", ["max-age=0", "must-revalidate"])
async def test_simple_type_revalidates(api: Api, header: str) -> None:
    """parseCacheControl: max-age=0 sets MustRevalidate; either fetches again."""
    await api.get("/v1/catalog/datacenters?cached")
    reply = await api.get("/v1/catalog/datacenters?cached", headers={"Cache-Control": header})
    assert reply.headers["X-Cache"] == "MISS"


async def test_cache_key_includes_query_params(api: Api) -> None:
    await register(api, "web-c3")
    await api.get("/v1/catalog/service/web-c3?cached")
    other = await api.get("/v1/catalog/service/web-c3?cached&filter=ServicePort%3D%3D81")
    assert other.headers["X-Cache"] == "MISS" and other.json() == []
    tagged = await api.get("/v1/catalog/service/web-c3?cached&tag=a&tag=b")
    assert tagged.headers["X-Cache"] == "MISS"
    reordered = await api.get("/v1/catalog/service/web-c3?cached&tag=b&tag=a")
    assert reordered.headers["X-Cache"] == "HIT"  # ServiceTags are sorted before hashing


async def test_cache_key_includes_the_token(api: Api) -> None:
    """makeEntryKey(type, dc, token, key): another token is another entry."""
    await register(api, "web-c4")
    await api.get("/v1/catalog/services?cached")
    other = await api.get("/v1/catalog/services?cached", headers={"X-Consul-Token": "t2"})
    assert other.headers["X-Cache"] == "MISS"
    again = await api.get("/v1/catalog/services?cached", headers={"X-Consul-Token": "t2"})
    assert again.headers["X-Cache"] == "HIT"


async def test_blocking_cached_read_waits_on_the_entry(api: Api) -> None:
    """A blocking ?cached read at the entry's index waits for a newer value, and is a MISS
    (getWithIndex: only the first look at the entry counts as a hit)."""
    import asyncio

    await register(api, "web-c5")
    first = await api.get("/v1/health/service/web-c5?cached")
    waiting = asyncio.ensure_future(
        api.get(f"/v1/health/service/web-c5?cached&index={first.index}&wait=30s"))
    while api.agent.blocking_queries == 0:
        await asyncio.sleep(0.01)
    await register(api, "web-c5", "n2")
    reply = await waiting
    assert reply.headers["X-Cache"] == "MISS"
    assert reply.index > first.index and len(reply.json()) == 2
    older = await api.get(f"/v1/health/service/web-c5?cached&index={first.index}")
    assert older.headers["X-Cache"] == "HIT"


async def test_cached_with_consistent_is_refused(api: Api) -> None:
    reply = await api.get("/v1/catalog/services?cached&consistent")
    assert reply.status == 400
    assert reply.text == "Cannot specify ?cached with ?consistent, conflicting semantics."


async def test_invalid_cache_control_is_refused(api: Api) -> None:
    reply = await api.get("/v1/catalog/services?cached", headers={"Cache-Control": "max-age=x"})
    assert reply.status == 400 and reply.text == "Invalid Cache-Control header."


async def test_a_cached_read_is_authorized_per_request(api: Api, grants: GrantResolver) -> None:
    """The entry is keyed by token and every read resolves its token first: an unknown
    token is 403 "ACL not found" even after another token filled the cache, and a token
    that may not read the service gets an empty answer of its own."""
    admin = grants.grant("admin", {Permission.SERVICE_WRITE: ("",), Permission.NODE_WRITE: ("",),
                                   Permission.SERVICE_READ: ("",), Permission.NODE_READ: ("",)})
    nobody = grants.grant("nobody", {Permission.NODE_READ: ("",)})
    body = {"Node": "n1", "Address": "10.0.0.1", "Service": {"Service": "web-c6", "Port": 80}}
    assert (await api.put("/v1/catalog/register", json.dumps(body), headers=admin)).status == 200
    full = await api.get("/v1/catalog/service/web-c6?cached", headers=admin)
    assert len(full.json()) == 1
    unknown = await api.get("/v1/catalog/service/web-c6?cached", headers={"X-Consul-Token": "x"})
    assert unknown.status == 403 and "ACL not found" in unknown.text
    hidden = await api.get("/v1/catalog/service/web-c6?cached", headers=nobody)
    assert hidden.headers["X-Cache"] == "MISS" and hidden.json() == []
