"""The catalog's permission lines with ACLs on (the ``grants`` fixture, default deny).

agent/consul/catalog_endpoint.go: Register (servicePreApply, vetRegisterWithACL), Deregister
(vetDeregisterWithACL), the listings filtered by agent/structs/aclfilter/filter.go (filterNodes,
filterServiceNodes, filterNodeServices, filterNodeServiceList, filterGatewayServices) before
``?filter=`` runs (Consul 1.20.2+, GH-21950), ListDatacenters with no check at all. The
"filtered" header is only sent to a request that carried a token (maskResultsFilteredByACLs).
"""

from __future__ import annotations

import json
from typing import Any

from aioconsul.testing.acl.authorizer import Permission

from .conftest import Api, GrantResolver

FILTERED = "X-Consul-Results-Filtered-By-ACLs"
EVERYTHING: dict[Permission, tuple[str, ...]] = {permission: ("",) for permission in Permission}


def denial(secret: str, rule: str, name: str) -> str:
    """PermissionDeniedByACL's text for a token the grants fixture made."""
    return (
        f"Permission denied: token with AccessorID 'accessor-{secret}' lacks permission "
        f"'{rule}' on \"{name}\""
    )


async def register(api: Api, headers: dict[str, str], **body: Any) -> tuple[int, str]:
    body.setdefault("Node", "node-a")
    body.setdefault("Address", "10.0.0.1")
    reply = await api.put("/v1/catalog/register", json.dumps(body), headers=headers)
    return reply.status, reply.text


async def seed(api: Api, grants: GrantResolver) -> dict[str, str]:
    """node-a (web as w1, a node check), node-b (db): registered with a manage-all token."""
    admin = grants.grant("admin", EVERYTHING)
    assert await register(api, admin, Service={"ID": "w1", "Service": "web", "Tags": ["v1"]},
                          Check={"CheckID": "nc", "Name": "node check"}) == (200, "true")
    assert await register(api, admin, Node="node-b", Address="10.0.0.2",
                          Service={"Service": "db"}) == (200, "true")
    return admin


# -- Catalog.Register ----------------------------------------------------------------------


async def test_register_of_a_new_node_needs_node_write(api: Api, grants: GrantResolver) -> None:
    """vetRegisterWithACL: a node that does not exist yet "changes" (NodeWriteAllowed)."""
    denied = grants.grant("t", {Permission.NODE_WRITE: ("other",)})
    assert await register(api, denied) == (403, denial("t", "node:write", "node-a"))
    allowed = grants.grant("ok", {Permission.NODE_WRITE: ("node-",)})
    assert await register(api, allowed) == (200, "true")


async def test_register_checks_the_service_before_the_node(
    api: Api, grants: GrantResolver
) -> None:
    """servicePreApply's ServiceWriteAllowed runs before vetRegisterWithACL's node check."""
    headers = grants.grant("t", {})
    status, text = await register(api, headers, Service={"Service": "web"})
    assert (status, text) == (403, denial("t", "service:write", "web"))
    allowed = grants.grant(
        "ok", {Permission.NODE_WRITE: ("node-a",), Permission.SERVICE_WRITE: ("web",)}
    )
    assert await register(api, allowed, Service={"Service": "web"}) == (200, "true")


async def test_register_may_repost_unchanged_node_info_without_node_write(
    api: Api, grants: GrantResolver
) -> None:
    """RegisterRequest.ChangesNode: the same node fields need no node:write; a new address
    does."""
    await seed(api, grants)
    headers = grants.grant("t", {Permission.SERVICE_WRITE: ("api",)})
    assert await register(api, headers, Service={"Service": "api"}) == (200, "true")
    status, text = await register(api, headers, Address="10.9.9.9", Service={"Service": "api"})
    assert (status, text) == (403, denial("t", "node:write", "node-a"))


async def test_register_over_another_services_id_is_the_bare_denial(
    api: Api, grants: GrantResolver
) -> None:
    """vetRegisterWithACL returns acl.ErrPermissionDenied ("Permission denied", no detail)
    when the service ID belongs to a service the token may not write."""
    await seed(api, grants)
    headers = grants.grant("t", {Permission.SERVICE_WRITE: ("api",)})
    status, text = await register(api, headers, Service={"ID": "w1", "Service": "api"})
    assert (status, text) == (403, "Permission denied")
    assert await register(api, headers, Service={"ID": "a1", "Service": "api"}) == (200, "true")


async def test_register_of_a_proxy_needs_write_on_its_destination(
    api: Api, grants: GrantResolver
) -> None:
    """servicePreApply: a connect-proxy needs service:write on DestinationServiceName."""
    await seed(api, grants)
    proxy = {"Kind": "connect-proxy", "Service": "web-proxy", "Port": 21000,
             "Proxy": {"DestinationServiceName": "web"}}
    headers = grants.grant("t", {Permission.SERVICE_WRITE: ("web-proxy",)})
    assert await register(api, headers, Service=proxy) == (403, denial("t", "service:write", "web"))
    allowed = grants.grant("ok", {Permission.SERVICE_WRITE: ("web",)})
    assert await register(api, allowed, Service=proxy) == (200, "true")


async def test_register_checks_need_node_or_service_write(
    api: Api, grants: GrantResolver
) -> None:
    """vetRegisterWithACL: a node check needs node:write, a check of another service on the
    node service:write on that service."""
    await seed(api, grants)
    headers = grants.grant("t", {Permission.SERVICE_WRITE: ("web",)})
    node_check = {"CheckID": "n2", "Name": "n2"}
    status, text = await register(api, headers, Check=node_check)
    assert (status, text) == (403, denial("t", "node:write", "node-a"))
    assert await register(api, headers, Check={"Name": "c", "ServiceID": "w1"}) == (200, "true")
    db_check = {"Name": "c", "ServiceID": "db"}
    status, text = await register(api, headers, Node="node-b", Address="10.0.0.2", Check=db_check)
    assert (status, text) == (403, denial("t", "service:write", "db"))


async def test_register_resolves_the_token_before_validating(
    api: Api, grants: GrantResolver
) -> None:
    """Catalog.Register: ResolveTokenAndDefaultMeta ("ACL not found") precedes nodePreApply's
    "Must provide node", which precedes any permission."""
    unknown = await api.put("/v1/catalog/register", "{}", headers={"X-Consul-Token": "nope"})
    assert (unknown.status, unknown.text) == (403, "ACL not found")
    anonymous = await api.put("/v1/catalog/register", "{}")
    assert (anonymous.status, anonymous.text) == (500, "Must provide node")


async def test_register_node_mismatch_is_checked_in_acl_order(
    api: Api, grants: GrantResolver
) -> None:
    """vetRegisterWithACL vets the node before it compares each check's node."""
    headers = grants.grant("t", {})
    status, text = await register(api, headers, Check={"Node": "elsewhere", "Name": "c"})
    assert (status, text) == (403, denial("t", "node:write", "node-a"))
    allowed = grants.grant("ok", {Permission.NODE_WRITE: ("",)})
    status, text = await register(api, allowed, Check={"Node": "elsewhere", "Name": "c"})
    assert (status, text) == (
        500, "Node 'elsewhere' for check 'c' doesn't match register request node 'node-a'"
    )


# -- Catalog.Deregister --------------------------------------------------------------------


async def deregister(api: Api, headers: dict[str, str], **body: Any) -> tuple[int, str]:
    reply = await api.put("/v1/catalog/deregister", json.dumps(body), headers=headers)
    return reply.status, reply.text


async def test_deregister_of_a_node_needs_node_write(api: Api, grants: GrantResolver) -> None:
    """vetDeregisterWithACL: without a service or check ID, the NodeWriteAllowed error."""
    await seed(api, grants)
    headers = grants.grant("t", {Permission.SERVICE_WRITE: ("",)})
    assert await deregister(api, headers, Node="node-b") == (
        403, denial("t", "node:write", "node-b")
    )
    allowed = grants.grant("ok", {Permission.NODE_WRITE: ("node-b",)})
    assert await deregister(api, allowed, Node="node-b") == (200, "true")
    assert (await api.get("/v1/catalog/node/node-b", headers=allowed)).text == "null"


async def test_deregister_of_a_service_needs_write_on_it(
    api: Api, grants: GrantResolver
) -> None:
    """vetDeregisterWithACL: service:write on the service found by ID; an unknown ID is an
    RPC error (HTTP 500) once node:write is missing."""
    await seed(api, grants)
    headers = grants.grant("t", {Permission.SERVICE_WRITE: ("web",)})
    assert await deregister(api, headers, Node="node-b", ServiceID="db") == (
        403, denial("t", "service:write", "db")
    )
    assert await deregister(api, headers, Node="node-a", ServiceID="nope") == (
        500, "Unknown service ID 'nope'"
    )
    assert await deregister(api, headers, Node="node-a", ServiceID="w1") == (200, "true")


async def test_deregister_of_a_node_check_needs_node_write(
    api: Api, grants: GrantResolver
) -> None:
    """vetDeregisterWithACL: a check without a service needs node:write."""
    await seed(api, grants)
    headers = grants.grant("t", {Permission.SERVICE_WRITE: ("",)})
    assert await deregister(api, headers, Node="node-a", CheckID="nc") == (
        403, denial("t", "node:write", "node-a")
    )
    assert await deregister(api, headers, Node="node-a", CheckID="gone") == (
        500, "Unknown check ID 'gone'"
    )


async def test_deregister_without_a_node_fails_before_the_token(
    api: Api, grants: GrantResolver
) -> None:
    """Catalog.Deregister checks "Must provide node" before resolving the token."""
    assert await deregister(api, {"X-Consul-Token": "nope"}) == (500, "Must provide node")
    assert await deregister(api, {"X-Consul-Token": "nope"}, Node="n") == (403, "ACL not found")


# -- ListDatacenters -----------------------------------------------------------------------


async def test_datacenters_checks_no_acl(api: Api, grants: GrantResolver) -> None:
    """Catalog.ListDatacenters resolves no token: even an unknown one is served."""
    reply = await api.get("/v1/catalog/datacenters", headers={"X-Consul-Token": "nope"})
    assert (reply.status, reply.json()) == (200, ["dc1"])


# -- the listings --------------------------------------------------------------------------


async def test_nodes_are_filtered_by_node_read(api: Api, grants: GrantResolver) -> None:
    """ListNodes: filterNodes keeps the nodes the token may read and sets the header."""
    await seed(api, grants)
    headers = grants.grant("t", {Permission.NODE_READ: ("node-a",)})
    reply = await api.get("/v1/catalog/nodes", headers=headers)
    assert [n["Node"] for n in reply.json()] == ["node-a"]
    assert reply.headers[FILTERED] == "true"


async def test_nodes_all_readable_send_no_header(api: Api, grants: GrantResolver) -> None:
    admin = await seed(api, grants)
    reply = await api.get("/v1/catalog/nodes", headers=admin)
    assert len(reply.json()) == 3
    assert FILTERED not in reply.headers


async def test_nodes_filtered_for_an_anonymous_request_send_no_header(
    api: Api, grants: GrantResolver
) -> None:
    """maskResultsFilteredByACLs: no token, no header, even though everything was hidden."""
    await seed(api, grants)
    reply = await api.get("/v1/catalog/nodes")
    assert (reply.status, reply.json()) == (200, [])
    assert FILTERED not in reply.headers


async def test_nodes_acl_filter_runs_before_the_expression(
    api: Api, grants: GrantResolver
) -> None:
    """GH-21950: ACLs filter first, so the header says nodes were hidden even when the
    expression would have dropped them anyway."""
    await seed(api, grants)
    headers = grants.grant("t", {Permission.NODE_READ: ("node-a",)})
    reply = await api.get("/v1/catalog/nodes?filter=Node%20%3D%3D%20%22node-a%22", headers=headers)
    assert [n["Node"] for n in reply.json()] == ["node-a"]
    assert reply.headers[FILTERED] == "true"


async def test_nodes_with_an_unknown_token_is_acl_not_found(
    api: Api, grants: GrantResolver
) -> None:
    """filterACL resolves the token inside the query: "ACL not found", metadata deferred."""
    reply = await api.get("/v1/catalog/nodes", headers={"X-Consul-Token": "nope"})
    assert (reply.status, reply.text) == (403, "ACL not found")
    assert reply.headers["X-Consul-Index"] == "1"


async def test_services_need_service_and_node_read(api: Api, grants: GrantResolver) -> None:
    """ListServices filters the service rows as ServiceNodes: node:read on their node and
    service:read on the service."""
    await seed(api, grants)
    headers = grants.grant(
        "t", {Permission.SERVICE_READ: ("",), Permission.NODE_READ: ("node-a",)}
    )
    reply = await api.get("/v1/catalog/services", headers=headers)
    assert reply.json() == {"web": ["v1"]}
    assert reply.headers[FILTERED] == "true"
    admin = grants.grant("admin", EVERYTHING)
    everything = await api.get("/v1/catalog/services", headers=admin)
    assert everything.json() == {"consul": [], "db": [], "web": ["v1"]}
    assert FILTERED not in everything.headers


async def test_services_resolve_the_token_before_the_filter(
    api: Api, grants: GrantResolver
) -> None:
    """ListServices resolves the token before bexpr.CreateFilter: 403, not the 500."""
    reply = await api.get("/v1/catalog/services?filter=%3D%3D", headers={"X-Consul-Token": "x"})
    assert (reply.status, reply.text) == (403, "ACL not found")


async def test_service_nodes_are_filtered_by_node_and_service_read(
    api: Api, grants: GrantResolver
) -> None:
    """ServiceNodes: filterServiceNodes (node:read and service:read)."""
    admin = await seed(api, grants)
    assert await register(api, admin, Node="node-c", Address="10.0.0.3",
                          Service={"ID": "w2", "Service": "web"}) == (200, "true")
    headers = grants.grant(
        "t", {Permission.SERVICE_READ: ("web",), Permission.NODE_READ: ("node-c",)}
    )
    reply = await api.get("/v1/catalog/service/web", headers=headers)
    assert [s["ServiceID"] for s in reply.json()] == ["w2"]
    assert reply.headers[FILTERED] == "true"
    denied = grants.grant("none", {Permission.NODE_READ: ("",)})
    nothing = await api.get("/v1/catalog/service/web", headers=denied)
    assert (nothing.json(), nothing.headers[FILTERED]) == ([], "true")


async def test_connect_without_service_read_is_an_empty_answer(
    api: Api, grants: GrantResolver
) -> None:
    """ServiceNodes with Connect: without service:read "just return nil" before the blocking
    query: [], X-Consul-Index 1, no known leader, no "filtered" header."""
    await seed(api, grants)
    headers = grants.grant("t", {Permission.NODE_READ: ("",)})
    reply = await api.get("/v1/catalog/connect/web", headers=headers)
    assert (reply.status, reply.text) == (200, "[]")
    assert reply.headers["X-Consul-Index"] == "1"
    assert reply.headers["X-Consul-KnownLeader"] == "false"
    assert FILTERED not in reply.headers
    allowed = grants.grant("ok", {Permission.SERVICE_READ: ("web",)})
    ok = await api.get("/v1/catalog/connect/web", headers=allowed)
    assert (ok.status, ok.headers["X-Consul-KnownLeader"]) == (200, "true")


async def test_node_services_of_an_unreadable_node_is_null(
    api: Api, grants: GrantResolver
) -> None:
    """filterNodeServices: a node the token may not read makes the whole answer nil."""
    await seed(api, grants)
    headers = grants.grant("t", {Permission.SERVICE_READ: ("",)})
    reply = await api.get("/v1/catalog/node/node-a", headers=headers)
    assert (reply.status, reply.text, reply.headers[FILTERED]) == (200, "null", "true")


async def test_node_services_are_filtered_by_service_id(api: Api, grants: GrantResolver) -> None:
    """filterNodeServices asks service:read about the Services map *key*, which is the
    service ID ("w1"), not the service's name ("web")."""
    await seed(api, grants)
    by_name = grants.grant("name", {Permission.NODE_READ: ("",), Permission.SERVICE_READ: ("web",)})
    reply = await api.get("/v1/catalog/node/node-a", headers=by_name)
    assert (reply.json()["Services"], reply.headers[FILTERED]) == ({}, "true")
    by_id = grants.grant("id", {Permission.NODE_READ: ("",), Permission.SERVICE_READ: ("w1",)})
    reply = await api.get("/v1/catalog/node/node-a", headers=by_id)
    assert list(reply.json()["Services"]) == ["w1"]
    assert FILTERED not in reply.headers


async def test_node_service_list_is_filtered_by_service_name(
    api: Api, grants: GrantResolver
) -> None:
    """filterNodeServiceList: services by service:read on their name; an unreadable node
    leaves a zero NodeServiceList, and ``?filter=`` then turns its nil Services into []."""
    await seed(api, grants)
    headers = grants.grant(
        "t", {Permission.NODE_READ: ("node-a",), Permission.SERVICE_READ: ("web",)}
    )
    reply = await api.get("/v1/catalog/node-services/node-a", headers=headers)
    assert [s["ID"] for s in reply.json()["Services"]] == ["w1"]
    assert FILTERED not in reply.headers
    hidden = await api.get("/v1/catalog/node-services/node-b", headers=headers)
    assert (hidden.json(), hidden.headers[FILTERED]) == ({"Node": None, "Services": None}, "true")
    expression = "/v1/catalog/node-services/node-b?filter=Service%20%3D%3D%20db"
    filtered = await api.get(expression, headers=headers)
    assert filtered.json() == {"Node": None, "Services": []}
    nodb = grants.grant("nodb", {Permission.NODE_READ: ("",)})
    emptied = await api.get("/v1/catalog/node-services/node-b", headers=nodb)
    assert (emptied.json()["Services"], emptied.headers[FILTERED]) == ([], "true")


async def test_gateway_services_need_service_read_on_the_gateway(
    api: Api, grants: GrantResolver
) -> None:
    """Catalog.GatewayServices: ServiceReadAllowed on the gateway name, the detailed error."""
    headers = grants.grant("t", {Permission.SERVICE_READ: ("web",)})
    reply = await api.get("/v1/catalog/gateway-services/gw", headers=headers)
    assert (reply.status, reply.text) == (403, denial("t", "service:read", "gw"))
    allowed = grants.grant("ok", {Permission.SERVICE_READ: ("gw",)})
    ok = await api.get("/v1/catalog/gateway-services/gw", headers=allowed)
    assert (ok.status, ok.text) == (200, "[]")
