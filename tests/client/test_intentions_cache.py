"""``client.connect.intentions.match(cached=True)``: the match read through the agent cache
(``agent/intentions_endpoint.go`` IntentionMatch reads ``cachetype.IntentionMatchName`` on
``?cached``; Go's ``api.QueryOptions.UseCache``/``MaxAge``/``StaleIfError``)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from aioconsul import Consul
from aioconsul.testing import DevAgent


def sources(found: dict[str, list[Any]], name: str) -> list[str]:
    return [ixn["SourceName"] for ixn in found[name]]


async def test_a_cached_match_is_a_miss_then_a_hit(consul: Consul) -> None:
    ixns = consul.connect.intentions
    await ixns.upsert("web", "db", action="allow")
    first, meta = await ixns.match("destination", "db", cached=True)
    assert meta["CacheHit"] is False and "CacheAge" not in meta
    again, meta = await ixns.match("destination", "db", cached=True, max_age="10s",
                                   stale_if_error="1m")
    assert meta["CacheHit"] is True and meta["CacheAge"] == 0
    assert again == first and sources(first, "db") == ["web"]


async def test_an_uncached_match_has_no_cache_fields(consul: Consul) -> None:
    _, meta = await consul.connect.intentions.match("source", "web")
    assert "CacheHit" not in meta and "CacheAge" not in meta


async def test_a_cached_match_watch_wakes_when_the_matches_change(
    consul: Consul, consul_agent: DevAgent
) -> None:
    """A blocking cached read returns with the new matches, not on a config entry write
    that changes none of them (the entry keeps its index until its matches change)."""
    ixns = consul.connect.intentions
    await ixns.upsert("web", "db", action="allow")
    _, meta = await ixns.match("destination", "db", cached=True)
    parked = consul_agent.blocking_queries
    waiting = asyncio.ensure_future(
        ixns.match("destination", "db", cached=True, watch=(meta, "30s")))
    while consul_agent.blocking_queries == parked:
        await asyncio.sleep(0.01)
    await consul.config_entries.apply({"Kind": "service-defaults", "Name": "other",
                                       "Protocol": "tcp"})
    await ixns.upsert("api", "db", action="deny")
    found, after = await waiting
    assert sources(found, "db") == ["api", "web"]
    assert after["Index"] > meta["Index"] and after["CacheHit"] is False


@pytest.mark.parametrize(("kwargs", "error", "text"), [
    ({"cached": "yes"}, TypeError, "^cached: "),
    ({"max_age": "10s"}, ValueError, "^max_age: only a cached read"),
    ({"cached": True, "max_age": 10}, TypeError, "^max_age: "),
    ({"cached": True, "consistency": "consistent"}, ValueError, "^cached: Consul refuses"),
])
async def test_cache_options_are_checked_before_sending(
    unreachable: str, kwargs: dict[str, Any], error: type[Exception], text: str
) -> None:
    async with Consul(unreachable, retry=False) as client:
        with pytest.raises(error, match=text):
            await client.connect.intentions.match("destination", "db", **kwargs)
        assert client._core.transport._session is None
