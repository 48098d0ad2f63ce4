"""The catalog: agent/catalog_endpoint.go, agent/consul/catalog_endpoint.go and
agent/consul/state/catalog.go (registration, indexes, blocking, filters, ``near``)."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from .conftest import Api

NODE = "aioconsul-dev"


async def register(api: Api, **body: Any) -> None:
    body.setdefault("Node", "node-a")
    body.setdefault("Address", "10.0.0.1")
    reply = await api.put("/v1/catalog/register", json.dumps(body))
    assert (reply.status, reply.text) == (200, "true")


async def test_new_agent_has_only_the_consul_service(api: Api) -> None:
    """A fresh ``consul agent -dev``: the leader registered the server's ``consul`` service."""
    reply = await api.get("/v1/catalog/services")
    assert reply.status == 200
    assert reply.json() == {"consul": []}


async def test_new_agent_lists_its_own_node(api: Api) -> None:
    (node,) = (await api.get("/v1/catalog/nodes")).json()
    assert node == {
        "ID": api.agent.node_id,
        "Node": NODE,
        "Address": "127.0.0.1",
        "Datacenter": "dc1",
        "TaggedAddresses": {
            "lan": "127.0.0.1",
            "lan_ipv4": "127.0.0.1",
            "wan": "127.0.0.1",
            "wan_ipv4": "127.0.0.1",
        },
        "Meta": {"consul-network-segment": "", "consul-version": node["Meta"]["consul-version"]},
        "CreateIndex": node["CreateIndex"],
        "ModifyIndex": node["ModifyIndex"],
    }


async def test_own_node_has_a_passing_serf_health_check(api: Api) -> None:
    (check,) = (await api.get(f"/v1/health/node/{NODE}")).json()
    assert (check["CheckID"], check["Name"], check["Status"]) == (
        "serfHealth",
        "Serf Health Status",
        "passing",
    )
    assert check["Output"] == "Agent alive and reachable"


async def test_datacenters_lists_the_agents_datacenter(api: Api) -> None:
    assert (await api.get("/v1/catalog/datacenters")).json() == ["dc1"]


async def test_service_nodes_have_the_flattened_service_node_shape(api: Api) -> None:
    """structs.ServiceNode as /v1/catalog/service/:name writes it (api-docs/catalog.mdx)."""
    await register(
        api,
        NodeMeta={"rack": "r1"},
        Service={"Service": "web", "Port": 80, "Tags": ["v1"], "Meta": {"k": "v"}},
    )
    (entry,) = (await api.get("/v1/catalog/service/web")).json()
    assert list(entry) == [
        "ID",
        "Node",
        "Address",
        "Datacenter",
        "TaggedAddresses",
        "NodeMeta",
        "ServiceKind",
        "ServiceID",
        "ServiceName",
        "ServiceTags",
        "ServiceAddress",
        "ServiceWeights",
        "ServiceMeta",
        "ServicePort",
        "ServiceSocketPath",
        "ServiceEnableTagOverride",
        "ServiceProxy",
        "ServiceConnect",
        "ServiceLocality",
        "CreateIndex",
        "ModifyIndex",
    ]
    assert (entry["Node"], entry["ServiceID"], entry["ServiceName"]) == ("node-a", "web", "web")
    assert entry["ServiceTags"] == ["v1"] and entry["ServiceMeta"] == {"k": "v"}
    assert entry["NodeMeta"] == {"rack": "r1"}
    assert entry["ServiceWeights"] == {"Passing": 1, "Warning": 1}


async def test_register_without_node_is_refused(api: Api) -> None:
    reply = await api.put("/v1/catalog/register", json.dumps({"Address": "10.0.0.1"}))
    assert (reply.status, reply.text) == (500, "Must provide node")


async def test_register_without_address_is_refused(api: Api) -> None:
    reply = await api.put("/v1/catalog/register", json.dumps({"Node": "n"}))
    assert (reply.status, reply.text) == (500, "Must provide address if SkipNodeUpdate is not set")


async def test_register_check_for_an_unknown_service_is_refused(api: Api) -> None:
    body = {"Node": "n", "Address": "10.0.0.1", "Check": {"CheckID": "c", "ServiceID": "nope"}}
    reply = await api.put("/v1/catalog/register", json.dumps(body))
    assert (reply.status, reply.text) == (500, "Unknown service ID 'nope' for check ID 'c'")


async def test_register_with_a_malformed_body_is_a_decode_error(api: Api) -> None:
    reply = await api.put("/v1/catalog/register", "{")
    assert reply.status == 400
    assert reply.text.startswith("Request decode failed: ")


async def test_register_only_accepts_put(api: Api) -> None:
    reply = await api.get("/v1/catalog/register")
    assert (reply.status, reply.text) == (405, "method GET not allowed")


async def test_deregister_node_removes_its_services(api: Api) -> None:
    await register(api, Service={"Service": "web"})
    reply = await api.put("/v1/catalog/deregister", json.dumps({"Node": "node-a"}))
    assert (reply.status, reply.text) == (200, "true")
    assert (await api.get("/v1/catalog/service/web")).json() == []
    assert "web" not in (await api.get("/v1/catalog/services")).json()


async def test_deregister_without_node_is_refused(api: Api) -> None:
    reply = await api.put("/v1/catalog/deregister", json.dumps({}))
    assert (reply.status, reply.text) == (500, "Must provide node")


async def test_services_map_names_to_their_tags(api: Api) -> None:
    await register(api, Service={"ID": "w1", "Service": "web", "Tags": ["a", "b"]})
    await register(api, Service={"ID": "w2", "Service": "web", "Tags": ["b", "c"]})
    services = (await api.get("/v1/catalog/services")).json()
    assert sorted(services["web"]) == ["a", "b", "c"]


async def test_repeated_tag_parameters_must_all_match(api: Api) -> None:
    await register(api, Service={"ID": "w1", "Service": "web", "Tags": ["a", "b"]})
    await register(api, Service={"ID": "w2", "Service": "web", "Tags": ["a"]})
    found = (await api.get("/v1/catalog/service/web?tag=a&tag=b")).json()
    assert [e["ServiceID"] for e in found] == ["w1"]


async def test_node_meta_filters_nodes(api: Api) -> None:
    await register(api, NodeMeta={"rack": "r1"})
    await register(api, Node="node-b", NodeMeta={"rack": "r2"})
    nodes = (await api.get("/v1/catalog/nodes?node-meta=rack:r1")).json()
    assert [n["Node"] for n in nodes] == ["node-a"]


async def test_filter_applies_to_nodes(api: Api) -> None:
    await register(api)
    nodes = (await api.get("/v1/catalog/nodes?filter=Node%20%3D%3D%20%22node-a%22")).json()
    assert [n["Node"] for n in nodes] == ["node-a"]


async def test_malformed_filter_is_a_500_with_the_bexpr_error(api: Api) -> None:
    """hashicorp/consul#7338: the evaluator's error comes back from the RPC as a 500."""
    reply = await api.get("/v1/catalog/nodes?filter=Node%20%3D%3D")
    assert reply.status == 500
    assert reply.text.startswith("Failed to create boolean expression evaluator: ")


async def test_node_returns_its_services_keyed_by_id(api: Api) -> None:
    await register(api, Service={"ID": "w1", "Service": "web", "Port": 80})
    body = (await api.get("/v1/catalog/node/node-a")).json()
    assert body["Node"]["Node"] == "node-a"
    assert list(body["Services"]) == ["w1"]
    assert body["Services"]["w1"]["Port"] == 80


async def test_node_filter_applies_to_its_services(api: Api) -> None:
    await register(api, Service={"ID": "w1", "Service": "web"})
    await register(api, Service={"ID": "d1", "Service": "db"})
    path = "/v1/catalog/node/node-a?filter=Service%20%3D%3D%20%22db%22"
    assert list((await api.get(path)).json()["Services"]) == ["d1"]


async def test_unknown_node_is_null(api: Api) -> None:
    """CatalogNodeServices returns the RPC's nil *NodeServices."""
    reply = await api.get("/v1/catalog/node/nope")
    assert (reply.status, reply.text) == (200, "null")


async def test_node_services_of_an_unknown_node_has_null_fields(api: Api) -> None:
    """CatalogNodeServiceList returns &out.NodeServices, a zero NodeServiceList."""
    reply = await api.get("/v1/catalog/node-services/nope")
    assert reply.json() == {"Node": None, "Services": None}


async def test_node_services_lists_services(api: Api) -> None:
    await register(api, Service={"ID": "w1", "Service": "web"})
    body = (await api.get("/v1/catalog/node-services/node-a")).json()
    assert [s["ID"] for s in body["Services"]] == ["w1"]
    assert body["Services"][0]["Tags"] == []


async def test_gateway_services_of_an_unknown_gateway_is_empty(api: Api) -> None:
    """Catalog.GatewayServices always runs filterACL, and filterGatewayServices
    (agent/structs/aclfilter/filter.go) rebuilds the nil slice with make(): ``[]``."""
    reply = await api.get("/v1/catalog/gateway-services/gw")
    assert (reply.status, reply.text) == (200, "[]")


async def test_connect_lists_connect_native_services(api: Api) -> None:
    await register(api, Service={"Service": "web", "Port": 80, "Connect": {"Native": True}})
    await register(api, Service={"ID": "plain", "Service": "web"})
    found = (await api.get("/v1/catalog/connect/web")).json()
    assert [e["ServiceID"] for e in found] == ["web"]


async def test_connect_native_service_needs_a_port(api: Api) -> None:
    """structs.NodeService.Validate, reported as a go-multierror list."""
    body = {
        "Node": "n",
        "Address": "10.0.0.1",
        "Service": {"Service": "web", "Connect": {"Native": True}},
    }
    reply = await api.put("/v1/catalog/register", json.dumps(body))
    assert reply.status == 500
    assert reply.text == (
        "1 error occurred:\n\t* Port or SocketPath must be set for a Connect native service.\n\n"
    )


async def test_service_index_is_the_services_own_index(api: Api) -> None:
    """state.ServiceNodes answers with the ``service.<name>`` index, not the table's."""
    await register(api, Service={"Service": "web"})
    web_index = (await api.get("/v1/catalog/service/web")).index
    await register(api, Node="node-b", Service={"Service": "db"})
    assert (await api.get("/v1/catalog/service/web")).index == web_index
    assert (await api.get("/v1/catalog/service/db")).index > web_index


async def test_blocking_service_query_wakes_on_a_change_of_that_service(api: Api) -> None:
    await register(api, Service={"Service": "web", "Port": 80})
    index = (await api.get("/v1/catalog/service/web")).index
    waiter = asyncio.ensure_future(api.get(f"/v1/catalog/service/web?index={index}&wait=5s"))
    await asyncio.sleep(0.05)
    assert not waiter.done()
    await register(api, Service={"Service": "web", "Port": 81})
    reply = await asyncio.wait_for(waiter, 2)
    assert reply.index > index and reply.json()[0]["ServicePort"] == 81


async def test_blocking_service_query_ignores_other_services(api: Api) -> None:
    await register(api, Service={"Service": "web"})
    index = (await api.get("/v1/catalog/service/web")).index
    started = time.monotonic()
    waiter = asyncio.ensure_future(api.get(f"/v1/catalog/service/web?index={index}&wait=200ms"))
    await asyncio.sleep(0.05)
    await register(api, Node="node-b", Service={"Service": "db"})
    reply = await waiter
    assert reply.index == index
    assert time.monotonic() - started >= 0.19


async def test_blocking_nodes_query_wakes_on_a_new_node(api: Api) -> None:
    index = (await api.get("/v1/catalog/nodes")).index
    waiter = asyncio.ensure_future(api.get(f"/v1/catalog/nodes?index={index}&wait=5s"))
    await asyncio.sleep(0.05)
    await register(api)
    reply = await asyncio.wait_for(waiter, 2)
    assert [n["Node"] for n in reply.json()] == [NODE, "node-a"]


async def test_near_sorts_nodes_by_network_distance(api: Api) -> None:
    """Server.sortNodesByDistanceFrom with lib.ComputeDistance; no coordinate sorts last."""
    for name, address in (("far", "10.0.0.2"), ("close", "10.0.0.3"), ("unknown", "10.0.0.4")):
        await register(api, Node=name, Address=address)
    base = {"Error": 0.1, "Adjustment": 0.0, "Height": 1e-05}
    for name, x in (("origin", 0.0), ("far", 0.5), ("close", 0.01)):
        if name == "origin":
            await register(api, Node=name, Address="10.0.0.5")
        coord = dict(base, Vec=[x] + [0.0] * 7)
        reply = await api.put("/v1/coordinate/update", json.dumps({"Node": name, "Coord": coord}))
        assert reply.status == 200
    for _ in range(100):  # the server applies coordinate updates in batches every 100 ms
        if len((await api.get("/v1/coordinate/nodes")).json()) == 3:
            break
        await asyncio.sleep(0.02)
    nodes = (await api.get("/v1/catalog/nodes?near=origin")).json()
    names = [n["Node"] for n in nodes]
    assert names[:3] == ["origin", "close", "far"]
    assert set(names[3:]) == {NODE, "unknown"}
