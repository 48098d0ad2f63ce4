"""``client.discovery_chain`` against the dev agent (``api/discovery_chain.go`` semantics:
GET without overrides, POST carrying them)."""

from __future__ import annotations

import asyncio

import pytest

from aioconsul import Consul
from aioconsul.errors import ServerError


async def test_get_returns_the_default_chain_of_a_plain_service(consul: Consul) -> None:
    chain, meta = await consul.discovery_chain.get("web")
    assert chain["ServiceName"] == "web"
    assert chain["Default"] is True
    assert chain["Protocol"] == "tcp"
    assert chain["StartNode"] == "resolver:web.default.default.dc1"
    assert list(chain["Targets"]) == ["web.default.default.dc1"]
    assert meta["Index"] >= 1


async def test_a_splitter_changes_the_chain(consul: Consul) -> None:
    entries = consul.config_entries
    await entries.apply({"Kind": "service-defaults", "Name": "web", "Protocol": "http"})
    await entries.apply({"Kind": "service-defaults", "Name": "web-v2", "Protocol": "http"})
    await entries.apply({"Kind": "service-splitter", "Name": "web", "Splits": [
        {"Weight": 75}, {"Weight": 25, "Service": "web-v2"}]})
    chain, _ = await consul.discovery_chain.get("web")
    assert "Default" not in chain
    assert chain["StartNode"] == "splitter:web.default.default"
    splits = chain["Nodes"]["splitter:web.default.default"]["Splits"]
    assert [(s["Weight"], s["NextNode"]) for s in splits] == [
        (75, "resolver:web.default.default.dc1"), (25, "resolver:web-v2.default.default.dc1")]
    assert sorted(chain["Targets"]) == ["web-v2.default.default.dc1", "web.default.default.dc1"]


async def test_compile_dc_is_sent(consul: Consul) -> None:
    chain, _ = await consul.discovery_chain.get("web", compile_dc="dc9")
    assert chain["Datacenter"] == "dc9"
    assert chain["StartNode"] == "resolver:web.default.default.dc9"


async def test_overrides_are_posted_and_customize_the_chain(consul: Consul) -> None:
    """The Go client's requiresPOST: any override makes the read a POST with the options."""
    await consul.config_entries.apply({"Kind": "service-resolver", "Name": "web",
                                       "Redirect": {"Datacenter": "dc2"}})
    chain, _ = await consul.discovery_chain.get(
        "web", override_mesh_gateway="remote", override_protocol="grpc",
        override_connect_timeout="7s")
    assert chain["CustomizationHash"] == "b94f529a"  # Consul's docs, same overrides
    assert chain["Protocol"] == "grpc"
    target = chain["Targets"]["web.default.default.dc2"]
    assert target["MeshGateway"] == {"Mode": "remote"}
    assert target["ConnectTimeout"] == "7s"


async def test_a_blocking_get_wakes_on_a_config_entry_write(consul: Consul) -> None:
    _, meta = await consul.discovery_chain.get("web")
    waiting = asyncio.ensure_future(consul.discovery_chain.get("web", watch=meta))
    await consul.config_entries.apply({"Kind": "service-resolver", "Name": "web",
                                       "ConnectTimeout": "9s"})
    chain, after = await waiting
    assert after["Index"] > meta["Index"]
    assert chain["Nodes"]["resolver:web.default.default.dc1"]["Resolver"]["ConnectTimeout"] \
        == "9s"


async def test_cached_reads_go_through_the_agent_cache(consul: Consul) -> None:
    """agent/discovery_chain_endpoint.go serves ?cached from CompiledDiscoveryChainName, a
    background-refresh type: a second read is a hit."""
    _, plain = await consul.discovery_chain.get("web")
    assert "CacheHit" not in plain
    _, first = await consul.discovery_chain.get("web", cached=True)
    assert first["CacheHit"] is False
    _, second = await consul.discovery_chain.get("web", cached=True)
    assert second["CacheHit"] is True


async def test_a_refused_entry_is_the_agents_error(consul: Consul) -> None:
    with pytest.raises(ServerError, match="does not permit advanced routing"):
        await consul.config_entries.apply({"Kind": "service-splitter", "Name": "db",
                                           "Splits": [{"Weight": 100}]})


async def test_bad_overrides_are_refused_before_sending(consul: Consul) -> None:
    with pytest.raises(ValueError, match="override_mesh_gateway"):
        await consul.discovery_chain.get("web", override_mesh_gateway="sideways")
    with pytest.raises(TypeError, match="override_protocol"):
        await consul.discovery_chain.get("web", override_protocol=7)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="override_connect_timeout"):
        await consul.discovery_chain.get("web", override_connect_timeout="soon")
