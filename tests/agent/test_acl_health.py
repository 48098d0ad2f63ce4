"""The health endpoints' permission lines with ACLs on (the ``grants`` fixture, default deny).

agent/consul/health_endpoint.go: NodeChecks, ChecksInState and ServiceNodes filter with ACLs
*before* ``?filter=`` (GH-21950), ServiceChecks still *after* it; ServiceNodes answers a
connect or ingress query without service:read on the service with the bare
acl.ErrPermissionDenied. Filters: filterHealthChecks, filterCheckServiceNodes
(agent/structs/aclfilter/filter.go; CheckServiceNode.CanRead).
"""

from __future__ import annotations

import json
from typing import Any

from aioconsul.testing.acl.authorizer import Permission

from .conftest import Api, GrantResolver

FILTERED = "X-Consul-Results-Filtered-By-ACLs"
EVERYTHING: dict[Permission, tuple[str, ...]] = {permission: ("",) for permission in Permission}


async def register(api: Api, headers: dict[str, str], **body: Any) -> None:
    body.setdefault("Node", "node-a")
    body.setdefault("Address", "10.0.0.1")
    reply = await api.put("/v1/catalog/register", json.dumps(body), headers=headers)
    assert (reply.status, reply.text) == (200, "true")


async def seed(api: Api, grants: GrantResolver) -> None:
    """node-a: web (a passing check) and a warning node check; node-b: web (passing)."""
    admin = grants.grant("admin", EVERYTHING)
    await register(api, admin, Service={"Service": "web"},
                   Checks=[{"CheckID": "web-up", "Name": "up", "ServiceID": "web",
                            "Status": "passing"},
                           {"CheckID": "disk", "Name": "disk", "Status": "warning"}])
    await register(api, admin, Node="node-b", Address="10.0.0.2", Service={"Service": "web"},
                   Check={"CheckID": "web-up", "Name": "up", "ServiceID": "web",
                          "Status": "passing"})


def reader(grants: GrantResolver, secret: str, node: str, service: str) -> dict[str, str]:
    """A token with node:read and service:read on the given prefixes."""
    rules: dict[Permission, tuple[str, ...]] = {
        Permission.NODE_READ: (node,),
        Permission.SERVICE_READ: (service,),
    }
    return grants.grant(secret, rules)


def ids(reply: Any) -> list[tuple[str, str]]:
    return sorted((c["Node"], c["CheckID"]) for c in reply.json())


async def test_node_checks_are_filtered_by_node_and_service_read(
    api: Api, grants: GrantResolver
) -> None:
    """Health.NodeChecks: filterHealthChecks needs node:read, and service:read for a service
    check (a node check names no service)."""
    await seed(api, grants)
    headers = grants.grant("t", {Permission.NODE_READ: ("node-a",)})
    reply = await api.get("/v1/health/node/node-a", headers=headers)
    assert (ids(reply), reply.headers[FILTERED]) == ([("node-a", "disk")], "true")
    both = reader(grants, "both", "", "")
    reply = await api.get("/v1/health/node/node-a", headers=both)
    assert ids(reply) == [("node-a", "disk"), ("node-a", "web-up")]
    assert FILTERED not in reply.headers


async def test_node_checks_with_an_unknown_token_is_acl_not_found(
    api: Api, grants: GrantResolver
) -> None:
    reply = await api.get("/v1/health/node/node-a", headers={"X-Consul-Token": "nope"})
    assert (reply.status, reply.text) == (403, "ACL not found")


async def test_node_checks_compile_the_filter_before_the_token(
    api: Api, grants: GrantResolver
) -> None:
    """Health.NodeChecks: bexpr.CreateFilter (HTTP 500) precedes ResolveTokenAndDefaultMeta."""
    reply = await api.get("/v1/health/node/node-a?filter=%3D%3D", headers={"X-Consul-Token": "x"})
    assert reply.status == 500
    assert reply.text.startswith("Failed to create boolean expression evaluator")


async def test_checks_in_state_filter_with_acls_before_the_expression(
    api: Api, grants: GrantResolver
) -> None:
    """Health.ChecksInState: ACLs first, so hidden checks count even if the expression would
    have dropped them."""
    await seed(api, grants)
    headers = reader(grants, "t", "node-a", "")
    reply = await api.get("/v1/health/state/any", headers=headers)
    assert ids(reply) == [("node-a", "disk"), ("node-a", "web-up")]
    assert reply.headers[FILTERED] == "true"
    only_disk = await api.get("/v1/health/state/any?filter=CheckID%20%3D%3D%20disk",
                              headers=headers)
    assert (ids(only_disk), only_disk.headers[FILTERED]) == ([("node-a", "disk")], "true")


async def test_service_checks_filter_with_acls_after_the_expression(
    api: Api, grants: GrantResolver
) -> None:
    """Health.ServiceChecks still runs filterACL after the expression: a hidden check the
    expression dropped anyway does not set the header."""
    await seed(api, grants)
    headers = reader(grants, "t", "node-a", "")
    reply = await api.get("/v1/health/checks/web", headers=headers)
    assert (ids(reply), reply.headers[FILTERED]) == ([("node-a", "web-up")], "true")
    expression = "/v1/health/checks/web?filter=Node%20%3D%3D%20%22node-a%22"
    only_a = await api.get(expression, headers=headers)
    assert ids(only_a) == [("node-a", "web-up")]
    assert FILTERED not in only_a.headers


async def test_checks_filtered_for_an_anonymous_request_send_no_header(
    api: Api, grants: GrantResolver
) -> None:
    """maskResultsFilteredByACLs: a request without a token never learns it was filtered."""
    await seed(api, grants)
    reply = await api.get("/v1/health/state/any")
    assert (reply.status, reply.json()) == (200, [])
    assert FILTERED not in reply.headers


async def test_service_health_is_filtered_by_node_and_service_read(
    api: Api, grants: GrantResolver
) -> None:
    """Health.ServiceNodes: filterCheckServiceNodes (CheckServiceNode.CanRead)."""
    await seed(api, grants)
    headers = reader(grants, "t", "node-b", "web")
    reply = await api.get("/v1/health/service/web", headers=headers)
    assert [e["Node"]["Node"] for e in reply.json()] == ["node-b"]
    assert reply.headers[FILTERED] == "true"
    no_service = grants.grant("ns", {Permission.NODE_READ: ("",)})
    nothing = await api.get("/v1/health/service/web", headers=no_service)
    assert (nothing.json(), nothing.headers[FILTERED]) == ([], "true")


async def test_service_health_filters_with_acls_before_passing_and_the_expression(
    api: Api, grants: GrantResolver
) -> None:
    """The ACL filter runs before the bexpr filter and the ?passing filter."""
    await seed(api, grants)
    headers = reader(grants, "t", "node-b", "web")
    path = "/v1/health/service/web?passing&filter=Node.Node%20%3D%3D%20%22node-b%22"
    reply = await api.get(path, headers=headers)
    assert [e["Node"]["Node"] for e in reply.json()] == ["node-b"]
    assert reply.headers[FILTERED] == "true"


async def test_service_health_resolves_the_token_before_the_filter(
    api: Api, grants: GrantResolver
) -> None:
    """Health.ServiceNodes resolves the token before bexpr.CreateFilter."""
    reply = await api.get("/v1/health/service/web?filter=%3D%3D", headers={"X-Consul-Token": "x"})
    assert (reply.status, reply.text) == (403, "ACL not found")


async def test_connect_health_without_service_read_is_the_bare_denial(
    api: Api, grants: GrantResolver
) -> None:
    """Health.ServiceNodes: a connect query without service:read on the service returns
    acl.ErrPermissionDenied ("Permission denied", no detail) before the query; the handler
    sets no metadata on an error."""
    await seed(api, grants)
    headers = grants.grant("t", {Permission.NODE_READ: ("",)})
    reply = await api.get("/v1/health/connect/web", headers=headers)
    assert (reply.status, reply.text) == (403, "Permission denied")
    assert "X-Consul-Index" not in reply.headers
    allowed = grants.grant("ok", {Permission.SERVICE_READ: ("web",)})
    ok = await api.get("/v1/health/connect/web", headers=allowed)
    assert (ok.status, ok.text) == (200, "[]")


async def test_ingress_health_without_service_read_is_the_bare_denial(
    api: Api, grants: GrantResolver
) -> None:
    """Health.ServiceNodes checks ingress queries as it checks connect ones."""
    reply = await api.get("/v1/health/ingress/gw")
    assert (reply.status, reply.text) == (403, "Permission denied")
    allowed = grants.grant("ok", {Permission.SERVICE_READ: ("gw",)})
    ok = await api.get("/v1/health/ingress/gw", headers=allowed)
    assert (ok.status, ok.text) == (200, "[]")


async def test_service_health_of_a_plain_query_is_filtered_not_refused(
    api: Api, grants: GrantResolver
) -> None:
    """Without connect or ingress there is no up-front check: an empty, filtered answer."""
    await seed(api, grants)
    headers = grants.grant("t", {})
    reply = await api.get("/v1/health/service/web", headers=headers)
    assert (reply.status, reply.json(), reply.headers[FILTERED]) == (200, [], "true")
