"""The agent cache options of the client (``cached``, ``max_age``, ``stale_if_error``): how they
are sent (Go's ``api/api.go``: ``?cached`` and ``Cache-Control: max-age=N, stale-if-error=M``),
the Meta fields of a cached answer (``CacheHit``, ``CacheAge``) and the inputs refused."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from aioconsul import Consul
from aioconsul._core.config import resolve
from aioconsul._core.request import build

CONFIG = resolve("127.0.0.1:8500", env={})


async def register(consul: Consul, name: str, node: str = "n1") -> None:
    await consul.catalog.register(node, address="10.0.0.1", service={"Service": name})


def test_cached_sends_the_flag_and_no_cache_control_by_default() -> None:
    request = build("GET", "/v1/catalog/services", CONFIG, consistency=None, cached=True)
    assert request.target == "/v1/catalog/services?cached"
    assert request.headers is None


def test_max_age_and_stale_if_error_are_whole_seconds_in_cache_control() -> None:
    """Go formats both with %.0f: 1.5s rounds to 2 (half to even, as Go)."""
    request = build("GET", "/v1/catalog/services", CONFIG, consistency=None, cached=True,
                    max_age="1.5s", stale_if_error=datetime.timedelta(days=3))
    assert request.headers == {"Cache-Control": "max-age=2, stale-if-error=259200"}


def test_max_age_zero_is_sent_as_must_revalidate() -> None:
    request = build("GET", "/v1/catalog/services", CONFIG, consistency=None, cached=True,
                    max_age="0s")
    assert request.headers == {"Cache-Control": "max-age=0"}


@pytest.mark.parametrize(("kwargs", "error", "text"), [
    ({"cached": "yes"}, TypeError, "cached: expected a bool"),
    ({"max_age": "10s"}, ValueError, "max_age: only a cached read"),
    ({"stale_if_error": "10s"}, ValueError, "stale_if_error: only a cached read"),
    ({"cached": True, "stale_if_error": "10s"}, ValueError, "stale_if_error: give max_age"),
    ({"cached": True, "max_age": 10}, TypeError, "max_age: expected a duration"),
    ({"cached": True, "max_age": "-1s"}, ValueError, "max_age: a duration must not be negative"),
    ({"cached": True, "max_age": "soon"}, ValueError, "max_age:"),
    ({"cached": True, "max_age": "1s", "stale_if_error": True}, TypeError, "stale_if_error:"),
    ({"cached": True, "consistency": "consistent"}, ValueError, "cached: Consul refuses"),
])
def test_bad_cache_options_are_refused(kwargs: dict[str, Any], error: type[Exception],
                                       text: str) -> None:
    options = {"consistency": None, **kwargs}
    with pytest.raises(error, match=text):
        build("GET", "/v1/catalog/services", CONFIG, **options)


def test_cached_conflicts_with_the_clients_consistent_mode() -> None:
    config = resolve("127.0.0.1:8500", consistency="consistent", env={})
    with pytest.raises(ValueError, match="cached: Consul refuses"):
        build("GET", "/v1/catalog/services", config, consistency=None, cached=True)
    # a call's own mode wins over the client's
    assert build("GET", "/v1/catalog/services", config, consistency="stale",
                 cached=True).target == "/v1/catalog/services?cached&stale"


async def test_an_uncached_read_has_no_cache_fields(consul: Consul) -> None:
    _, meta = await consul.catalog.services()
    assert "CacheHit" not in meta and "CacheAge" not in meta


async def test_catalog_service_miss_then_hit(consul: Consul) -> None:
    await register(consul, "cache-web")
    first, meta = await consul.catalog.service("cache-web", cached=True)
    assert meta["CacheHit"] is False and "CacheAge" not in meta
    again, meta = await consul.catalog.service("cache-web", cached=True)
    assert meta["CacheHit"] is True and meta["CacheAge"] == 0
    assert again == first


async def test_health_service_cached_sees_a_write(consul: Consul) -> None:
    await register(consul, "cache-db", "n1")
    _, meta = await consul.health.service("cache-db", cached=True, max_age="10s")
    assert meta["CacheHit"] is False
    await register(consul, "cache-db", "n2")
    entries, meta = await consul.health.service("cache-db", cached=True)
    assert meta["CacheHit"] is True
    assert sorted(e["Node"]["Node"] for e in entries) == ["n1", "n2"]


async def test_datacenters_simple_cache_with_max_age(consul: Consul) -> None:
    names, meta = await consul.catalog.datacenters_meta(cached=True)
    assert names == ["dc1"] and meta["CacheHit"] is False
    _, meta = await consul.catalog.datacenters_meta(cached=True, max_age="1h",
                                                    stale_if_error="72h")
    assert meta["CacheHit"] is True and isinstance(meta["CacheAge"], int)
    _, meta = await consul.catalog.datacenters_meta(cached=True, max_age="0s")
    assert meta["CacheHit"] is False  # max-age=0: fetched again
    assert await consul.catalog.datacenters(cached=True) == ["dc1"]


async def test_cached_consistent_read_is_refused_before_sending(consul: Consul) -> None:
    with pytest.raises(ValueError, match="cached"):
        await consul.health.service("web", cached=True, consistency="consistent")
