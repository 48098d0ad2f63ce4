"""``client.query`` against the dev agent (``api/prepared_query.go`` semantics)."""

from __future__ import annotations

import pytest

import aioconsul
from aioconsul import Consul


async def _register(consul: Consul, node: str, status: str = "passing") -> None:
    await consul.catalog.register({
        "Node": node, "Address": "10.0.0.1",
        "Service": {"Service": "web", "ID": f"web-{node}"},
        "Check": {"CheckID": f"c-{node}", "Name": "c", "Status": status,
                  "ServiceID": f"web-{node}"},
    })


async def test_create_get_update_delete(consul: Consul) -> None:
    query_id, _ = await consul.query.create({"Name": "web", "Service": {"Service": "web"}})
    query, meta = await consul.query.get(query_id)
    assert query is not None and query["Name"] == "web"
    assert meta["Index"] == query["ModifyIndex"]
    await consul.query.update(query_id, {"Name": "web2", "Service": {"Service": "web"}})
    items, _ = await consul.query.items()
    assert [q["Name"] for q in items] == ["web2"]
    await consul.query.delete(query_id)
    assert (await consul.query.get(query_id))[0] is None


async def test_execute_only_passing_near_and_limit(consul: Consul) -> None:
    await _register(consul, "n1")
    await _register(consul, "n2")
    await _register(consul, "n3", "warning")
    await consul.query.create(
        {"Name": "web", "Service": {"Service": "web", "OnlyPassing": True}})
    result, _ = await consul.query.execute("web", near="n2")
    assert [n["Node"]["Node"] for n in result["Nodes"]][:1] == ["n2"]
    assert sorted(n["Node"]["Node"] for n in result["Nodes"]) == ["n1", "n2"]
    assert result["Failovers"] == 0
    limited, _ = await consul.query.execute("web", limit=1)
    assert len(limited["Nodes"]) == 1


async def test_explain_renders_a_template(consul: Consul) -> None:
    await consul.query.create({"Name": "svc-", "Template": {"Type": "name_prefix_match"},
                               "Service": {"Service": "${name.suffix}"}})
    query, _ = await consul.query.explain("svc-db")
    assert query["Service"]["Service"] == "db"


async def test_unknown_query_execute_raises_not_found(consul: Consul) -> None:
    with pytest.raises(aioconsul.NotFound):
        await consul.query.execute("nothing")


async def test_inputs_are_checked_before_sending(consul: Consul) -> None:
    with pytest.raises(ValueError):
        await consul.query.create({"Name": "x"})
    with pytest.raises(ValueError):
        await consul.query.execute("web", limit=-1)
    with pytest.raises(TypeError):
        await consul.query.create("web")  # type: ignore[arg-type]


@pytest.mark.consul_acl
async def test_token_is_per_call(consul: Consul) -> None:
    """Apply refuses a named query without query:write (agent/consul/prepared_query_endpoint.go)."""
    weak, _ = await consul.acl.tokens.create(description="no rights")
    secret = weak["SecretID"]
    with pytest.raises(aioconsul.PermissionDenied):
        await consul.query.create({"Name": "q", "Service": {"Service": "web"}}, token=secret)
    query_id, _ = await consul.query.create({"Name": "q", "Service": {"Service": "web"}})
    with pytest.raises(aioconsul.PermissionDenied):
        await consul.query.get(query_id, token=secret)


async def test_execute_through_the_agent_cache(consul: Consul) -> None:
    """agent/prepared_query_endpoint.go serves ?cached from the agent cache's prepared-query
    type (simple: no background refresh); Meta holds X-Cache and Age."""
    await _register(consul, "n1")
    await consul.query.create({"Name": "web", "Service": {"Service": "web"}})
    _, plain = await consul.query.execute("web")
    assert "CacheHit" not in plain
    first, miss = await consul.query.execute("web", cached=True)
    assert miss["CacheHit"] is False
    await _register(consul, "n2")
    again, hit = await consul.query.execute("web", cached=True, max_age="1h")
    assert hit["CacheHit"] is True and isinstance(hit["CacheAge"], int)
    assert again["Nodes"] == first["Nodes"]  # the stored result, n2 not in it
    fresh, refetched = await consul.query.execute("web", cached=True, max_age="0s")
    assert refetched["CacheHit"] is False
    assert sorted(n["Node"]["Node"] for n in fresh["Nodes"]) == ["n1", "n2"]


async def test_execute_cache_options_are_checked_before_sending(consul: Consul) -> None:
    with pytest.raises(ValueError, match="max_age: only a cached read"):
        await consul.query.execute("web", max_age="10s")
    with pytest.raises(ValueError, match="consistent"):
        await consul.query.execute("web", cached=True, consistency="consistent")
