"""``client.catalog`` against an agent over HTTP (website/content/api-docs/catalog.mdx,
agent/catalog_endpoint.go, agent/consul/state/catalog.go)."""

from __future__ import annotations

import asyncio

import pytest

import aioconsul
from aioconsul import Consul

WEB = {"ID": "web-1", "Service": "web", "Tags": ["v1", "primary"], "Port": 8080,
       "Meta": {"version": "1.0"}}


async def register_web(consul: Consul, node: str = "node-a", address: str = "10.0.0.1",
                       service: dict[str, object] | None = None) -> None:
    assert await consul.catalog.register(node, address=address, node_meta={"rack": "r1"},
                                         service=service or WEB) is True


async def test_the_agent_node_is_registered(consul: Consul) -> None:
    """A dev agent registers its own node with the serfHealth check (agent/local)."""
    nodes, meta = await consul.catalog.nodes()
    assert len(nodes) == 1 and meta["Index"] > 0 and meta["KnownLeader"] is True
    checks, _ = await consul.health.node(nodes[0])
    assert [c["CheckID"] for c in checks] == ["serfHealth"]


async def test_datacenters(consul: Consul) -> None:
    assert await consul.catalog.datacenters() == ["dc1"]


async def test_register_a_node_with_a_service(consul: Consul) -> None:
    await register_web(consul)
    node, _ = await consul.catalog.node("node-a")
    assert node is not None
    assert node["Node"]["Address"] == "10.0.0.1" and node["Node"]["Meta"] == {"rack": "r1"}
    assert node["Services"]["web-1"]["Port"] == 8080
    services, _ = await consul.catalog.services()
    assert services["web"] == ["primary", "v1"] or sorted(services["web"]) == ["primary", "v1"]


async def test_registration_object_and_keywords_combine(consul: Consul) -> None:
    await consul.catalog.register({"Node": "node-b", "Address": "10.0.0.2",
                                   "Service": {"Service": "db", "Port": 5432}},
                                  address="10.0.0.3")
    instances, _ = await consul.catalog.service("db")
    assert [(i["Node"], i["Address"], i["ServicePort"]) for i in instances] == [
        ("node-b", "10.0.0.3", 5432)]


async def test_service_instances_have_the_flattened_shape(consul: Consul) -> None:
    await register_web(consul)
    instances, meta = await consul.catalog.service("web")
    assert len(instances) == 1 and meta["Index"] > 0
    instance = instances[0]
    assert (instance["ServiceID"], instance["ServiceName"], instance["ServicePort"],
            instance["ServiceTags"], instance["ServiceMeta"], instance["Node"]) == (
        "web-1", "web", 8080, ["v1", "primary"], {"version": "1.0"}, "node-a")


async def test_service_by_tag_keeps_instances_having_every_tag(consul: Consul) -> None:
    await register_web(consul)
    await register_web(consul, "node-b", "10.0.0.2",
                       {"ID": "web-2", "Service": "web", "Tags": ["v2"], "Port": 8080})
    assert [i["ServiceID"] for i in (await consul.catalog.service("web", tag="v1"))[0]] == \
        ["web-1"]
    assert (await consul.catalog.service("web", tag=["v1", "v2"]))[0] == []


async def test_filter_expression_on_nodes_and_services(consul: Consul) -> None:
    await register_web(consul)
    await register_web(consul, "node-b", "10.0.0.2",
                       {"ID": "web-2", "Service": "web", "Port": 9090})
    instances, _ = await consul.catalog.service("web", filter="ServicePort == 9090")
    assert [i["ServiceID"] for i in instances] == ["web-2"]
    nodes, _ = await consul.catalog.nodes(filter='Meta.rack == "r1" and Node != "node-b"')
    assert [n["Node"] for n in nodes] == ["node-a"]


async def test_malformed_filter_is_refused_like_consul(consul: Consul) -> None:
    """Consul answers a malformed filter with 500 "Failed to create boolean expression
    evaluator" (hashicorp/consul#7338); the client raises a ServerError carrying that text."""
    with pytest.raises(aioconsul.ServerError, match="Failed to create boolean expression"):
        await consul.catalog.nodes(filter="Node ==")


async def test_node_meta_filter(consul: Consul) -> None:
    await register_web(consul)
    nodes, _ = await consul.catalog.nodes(node_meta={"rack": "r1"})
    assert [n["Node"] for n in nodes] == ["node-a"]
    assert (await consul.catalog.nodes(node_meta={"rack": "r2"}))[0] == []


async def test_unknown_node_is_none(consul: Consul) -> None:
    node, meta = await consul.catalog.node("no-such-node")
    assert node is None and meta["Index"] > 0
    assert (await consul.catalog.node_services("no-such-node"))[0] is None


async def test_node_services_lists_services(consul: Consul) -> None:
    await register_web(consul)
    node, _ = await consul.catalog.node_services("node-a")
    assert node is not None and [s["ID"] for s in node["Services"]] == ["web-1"]


async def test_deregister_a_service_then_the_node(consul: Consul) -> None:
    await register_web(consul)
    assert await consul.catalog.deregister("node-a", service={"ServiceID": "web-1"}) is True
    assert (await consul.catalog.service("web"))[0] == []
    assert await consul.catalog.deregister({"Node": "node-a"}) is True
    assert (await consul.catalog.node("node-a"))[0] is None


async def test_blocking_service_read_wakes_on_registration(consul: Consul) -> None:
    _, meta = await consul.catalog.service("web")
    waiter = asyncio.create_task(consul.catalog.service("web", watch=(meta, "10s")))
    await asyncio.sleep(0.05)
    assert not waiter.done()
    await register_web(consul)
    instances, new_meta = await asyncio.wait_for(waiter, 5)
    assert [i["ServiceID"] for i in instances] == ["web-1"]
    assert new_meta["Index"] > meta["Index"]


async def test_blocking_nodes_read_wakes_on_a_new_node(consul: Consul) -> None:
    _, meta = await consul.catalog.nodes()
    waiter = asyncio.create_task(consul.catalog.nodes(watch=(meta, "10s")))
    await asyncio.sleep(0.05)
    await register_web(consul)
    nodes, _ = await asyncio.wait_for(waiter, 5)
    assert "node-a" in [n["Node"] for n in nodes]


async def test_gateway_services_of_an_unknown_gateway_is_empty(consul: Consul) -> None:
    services, _ = await consul.catalog.gateway_services("no-gateway")
    assert services == []


async def test_connect_lists_no_plain_services(consul: Consul) -> None:
    await register_web(consul)
    assert (await consul.catalog.connect("web"))[0] == []


@pytest.mark.parametrize("kwargs, error, match", [
    ({"node": "n"}, ValueError, "^address: "),
    ({"node": "n", "address": "a", "service": ["x"]}, TypeError, "^service: "),
    ({"node": 3, "address": "a"}, TypeError, "^node: "),
])
async def test_bad_registrations_are_refused_before_sending(
        unreachable: str, kwargs: dict[str, object], error: type[Exception], match: str) -> None:
    async with Consul(unreachable) as client:
        with pytest.raises(error, match=match):
            await client.catalog.register(**kwargs)  # type: ignore[arg-type]
