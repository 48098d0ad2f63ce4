"""The agent endpoints' permission lines with ACLs on (the ``grants`` fixture, default deny).

agent/agent_endpoint.go and agent/acl.go: agent:read or agent:write on the agent's node name
(self, metrics, monitor, reload, join, leave), operator:read/write (host, force-leave),
node:write for node maintenance, the vetting helpers (vetServiceRegisterWithAuthorizer,
vetServiceUpdateWithAuthorizer, vetCheckRegisterWithAuthorizer, vetCheckUpdateWithAuthorizer:
an unknown ID is still 404), the local listings filtered *before* ``?filter=``
(filterServicesWithAuthorizer, filterChecksWithAuthorizer, filterMembers) with the header set
by hand only when the request carried a token; AgentVersion checks nothing.
"""

from __future__ import annotations

import json
from typing import Any

from aioconsul.testing.acl.authorizer import Permission

from .conftest import Api, GrantResolver

NODE = "aioconsul-dev"
FILTERED = "X-Consul-Results-Filtered-By-ACLs"
EVERYTHING: dict[Permission, tuple[str, ...]] = {permission: ("",) for permission in Permission}


def denial(secret: str, rule: str, name: str | None = None) -> str:
    """PermissionDeniedByACL (or ...Unnamed) for a token the grants fixture made."""
    text = f"Permission denied: token with AccessorID 'accessor-{secret}' lacks permission '{rule}'"
    return text if name is None else f'{text} on "{name}"'


def anonymous_denial(rule: str, name: str) -> str:
    return (
        f"Permission denied: anonymous token lacks permission '{rule}' on \"{name}\". The "
        "anonymous token is used implicitly when a request does not specify a token."
    )


async def put(api: Api, path: str, headers: dict[str, str], body: Any = None) -> tuple[int, str]:
    data = None if body is None else json.dumps(body)
    reply = await api.put(path, data, headers=headers)
    return reply.status, reply.text


async def seed(api: Api, grants: GrantResolver) -> dict[str, str]:
    """Local services web and db, a TTL check on web and a TTL node check (manage-all)."""
    admin = grants.grant("admin", EVERYTHING)
    assert await put(api, "/v1/agent/service/register", admin, {"Name": "web"}) == (200, "")
    assert await put(api, "/v1/agent/service/register", admin, {"Name": "db"}) == (200, "")
    web_check = {"ID": "web-ttl", "Name": "web ttl", "ServiceID": "web", "TTL": "60s"}
    assert await put(api, "/v1/agent/check/register", admin, web_check) == (200, "")
    node_check = {"ID": "node-ttl", "Name": "node ttl", "TTL": "60s"}
    assert await put(api, "/v1/agent/check/register", admin, node_check) == (200, "")
    return admin


# -- agent:read / agent:write / operator -------------------------------------------------


async def test_self_needs_agent_read(api: Api, grants: GrantResolver) -> None:
    """AgentSelf: AgentReadAllowed on the node name; the anonymous token's own wording."""
    reply = await api.get("/v1/agent/self")
    assert (reply.status, reply.text) == (403, anonymous_denial("agent:read", NODE))
    allowed = grants.grant("ok", {Permission.AGENT_READ: (NODE,)})
    ok = await api.get("/v1/agent/self", headers=allowed)
    assert (ok.status, ok.json()["Config"]["NodeName"]) == (200, NODE)


async def test_metrics_need_agent_read_before_the_format(
    api: Api, grants: GrantResolver
) -> None:
    """AgentMetrics checks agent:read before it looks at the Prometheus format."""
    headers = grants.grant("t", {Permission.AGENT_WRITE: ("",)})
    reply = await api.get("/v1/agent/metrics?format=prometheus", headers=headers)
    assert (reply.status, reply.text) == (403, denial("t", "agent:read", NODE))
    allowed = grants.grant("ok", {Permission.AGENT_READ: ("",)})
    ok = await api.get("/v1/agent/metrics", headers=allowed)
    assert (ok.status, "Gauges" in ok.json()) == (200, True)


async def test_host_needs_operator_read(api: Api, grants: GrantResolver) -> None:
    """AgentHost: OperatorReadAllowed, an unnamed permission ("... 'operator:read'")."""
    headers = grants.grant("t", {Permission.AGENT_READ: ("",)})
    reply = await api.get("/v1/agent/host", headers=headers)
    assert (reply.status, reply.text) == (403, denial("t", "operator:read"))
    allowed = grants.grant("ok", {Permission.OPERATOR_READ: ("",)})
    ok = await api.get("/v1/agent/host", headers=allowed)
    assert (ok.status, "Memory" in ok.json()) == (200, True)


async def test_version_checks_no_acl(api: Api, grants: GrantResolver) -> None:
    """AgentVersion resolves no token: even an unknown one is served."""
    reply = await api.get("/v1/agent/version", headers={"X-Consul-Token": "nope"})
    assert reply.status == 200


async def test_monitor_needs_agent_read_before_the_log_level(
    api: Api, grants: GrantResolver
) -> None:
    """AgentMonitor: agent:read first, then "Unknown log level"."""
    reply = await api.get("/v1/agent/monitor?loglevel=bogus")
    assert (reply.status, reply.text) == (403, anonymous_denial("agent:read", NODE))
    allowed = grants.grant("ok", {Permission.AGENT_READ: (NODE,)})
    bad = await api.get("/v1/agent/monitor?loglevel=bogus", headers=allowed)
    assert (bad.status, bad.text) == (400, "Unknown log level: bogus")
    async with api.http.get(api.url("/v1/agent/monitor"), headers=allowed) as resp:
        assert resp.status == 200


async def test_reload_needs_agent_write(api: Api, grants: GrantResolver) -> None:
    headers = grants.grant("t", {Permission.AGENT_READ: ("",)})
    assert await put(api, "/v1/agent/reload", headers) == (403, denial("t", "agent:write", NODE))
    allowed = grants.grant("ok", {Permission.AGENT_WRITE: (NODE,)})
    assert await put(api, "/v1/agent/reload", allowed) == (200, "")


async def test_join_needs_agent_write_before_the_partition(
    api: Api, grants: GrantResolver
) -> None:
    """AgentJoin authorizes before parseEntMetaPartition's 400."""
    headers = grants.grant("t", {})
    path = "/v1/agent/join/127.0.0.1?partition=p1"
    assert await put(api, path, headers) == (403, denial("t", "agent:write", NODE))
    allowed = grants.grant("ok", {Permission.AGENT_WRITE: ("",)})
    status, _ = await put(api, path, allowed)
    assert status == 400
    assert await put(api, "/v1/agent/join/127.0.0.1", allowed) == (200, "")


async def test_force_leave_needs_operator_write(api: Api, grants: GrantResolver) -> None:
    """AgentForceLeave: OperatorWriteAllowed (unnamed), before the partition is parsed."""
    headers = grants.grant("t", {Permission.AGENT_WRITE: ("",)})
    path = f"/v1/agent/force-leave/{NODE}"
    assert await put(api, path + "?partition=p1", headers) == (
        403, denial("t", "operator:write")
    )
    allowed = grants.grant("ok", {Permission.OPERATOR_WRITE: ("",)})
    assert await put(api, path, allowed) == (200, "")


async def test_node_maintenance_needs_node_write_after_its_400s(
    api: Api, grants: GrantResolver
) -> None:
    """AgentNodeMaintenance: the ``enable`` checks, then NodeWriteAllowed on the node."""
    headers = grants.grant("t", {Permission.AGENT_WRITE: ("",)})
    assert await put(api, "/v1/agent/maintenance", headers) == (400, "Missing value for enable")
    assert await put(api, "/v1/agent/maintenance?enable=true", headers) == (
        403, denial("t", "node:write", NODE)
    )
    allowed = grants.grant("ok", {Permission.NODE_WRITE: (NODE,)})
    assert await put(api, "/v1/agent/maintenance?enable=true", allowed) == (200, "")


async def test_leave_needs_agent_write(api: Api, grants: GrantResolver) -> None:
    """AgentLeave: AgentWriteAllowed before Agent.Leave (which then stops this agent)."""
    headers = grants.grant("t", {Permission.OPERATOR_WRITE: ("",)})
    assert await put(api, "/v1/agent/leave", headers) == (403, denial("t", "agent:write", NODE))
    allowed = grants.grant("ok", {Permission.AGENT_WRITE: (NODE,)})
    assert await put(api, "/v1/agent/leave", allowed) == (200, "")


# -- members -------------------------------------------------------------------------------


async def test_members_are_filtered_by_node_read(api: Api, grants: GrantResolver) -> None:
    """AgentMembers: filterMembers (node:read on the member name; the WAN name is
    ``node.dc``), the header set when the request carried a token."""
    allowed = grants.grant("ok", {Permission.NODE_READ: (NODE,)})
    reply = await api.get("/v1/agent/members", headers=allowed)
    assert [m["Name"] for m in reply.json()] == [NODE]
    assert FILTERED not in reply.headers
    wan = await api.get("/v1/agent/members?wan=1", headers=allowed)
    assert [m["Name"] for m in wan.json()] == [f"{NODE}.dc1"]
    other = grants.grant("t", {Permission.NODE_READ: ("other",)})
    hidden = await api.get("/v1/agent/members", headers=other)
    assert (hidden.json(), hidden.headers[FILTERED]) == ([], "true")
    anonymous = await api.get("/v1/agent/members")
    assert anonymous.json() == []
    assert FILTERED not in anonymous.headers


async def test_members_with_an_unknown_token_is_acl_not_found(
    api: Api, grants: GrantResolver
) -> None:
    reply = await api.get("/v1/agent/members", headers={"X-Consul-Token": "nope"})
    assert (reply.status, reply.text) == (403, "ACL not found")


# -- local services ------------------------------------------------------------------------


async def test_services_are_filtered_by_service_read(api: Api, grants: GrantResolver) -> None:
    """AgentServices: filterServicesWithAuthorizer, then ``?filter=``; the header only for a
    request that carried a token."""
    await seed(api, grants)
    headers = grants.grant("t", {Permission.SERVICE_READ: ("web",)})
    reply = await api.get("/v1/agent/services", headers=headers)
    assert (list(reply.json()), reply.headers[FILTERED]) == (["web"], "true")
    by_filter = await api.get("/v1/agent/services?filter=Service%20%3D%3D%20web", headers=headers)
    assert (list(by_filter.json()), by_filter.headers[FILTERED]) == (["web"], "true")
    anonymous = await api.get("/v1/agent/services")
    assert anonymous.json() == {}
    assert FILTERED not in anonymous.headers
    everything = await api.get("/v1/agent/services", headers=grants.grant("all", EVERYTHING))
    assert sorted(everything.json()) == ["db", "web"]
    assert FILTERED not in everything.headers


async def test_service_read_is_404_first_then_service_read(
    api: Api, grants: GrantResolver
) -> None:
    """AgentService: an unknown ID is 404 whatever the token; a known one needs
    ServiceReadAllowed on its name."""
    await seed(api, grants)
    reply = await api.get("/v1/agent/service/nope")
    assert (reply.status, reply.text) == (404, "unknown service ID: nope")
    denied = await api.get("/v1/agent/service/web")
    assert (denied.status, denied.text) == (403, anonymous_denial("service:read", "web"))
    allowed = grants.grant("ok", {Permission.SERVICE_READ: ("web",)})
    ok = await api.get("/v1/agent/service/web", headers=allowed)
    assert (ok.status, ok.json()["Service"]) == (200, "web")


async def test_service_read_resolves_the_token_first(api: Api, grants: GrantResolver) -> None:
    reply = await api.get("/v1/agent/service/nope", headers={"X-Consul-Token": "nope"})
    assert (reply.status, reply.text) == (403, "ACL not found")


async def test_register_needs_service_write(api: Api, grants: GrantResolver) -> None:
    """vetServiceRegisterWithAuthorizer: ServiceWriteAllowed on the service's name."""
    headers = grants.grant("t", {Permission.SERVICE_WRITE: ("api",)})
    path = "/v1/agent/service/register"
    assert await put(api, path, headers, {"Name": "web"}) == (
        403, denial("t", "service:write", "web")
    )
    assert await put(api, path, headers, {"Name": "api"}) == (200, "")


async def test_register_over_an_existing_id_needs_write_on_it(
    api: Api, grants: GrantResolver
) -> None:
    """vetServiceRegisterWithAuthorizer vets the local service the ID would overwrite."""
    await seed(api, grants)
    headers = grants.grant("t", {Permission.SERVICE_WRITE: ("api",)})
    body = {"ID": "db", "Name": "api"}
    assert await put(api, "/v1/agent/service/register", headers, body) == (
        403, denial("t", "service:write", "db")
    )


async def test_register_of_a_proxy_needs_write_on_its_destination(
    api: Api, grants: GrantResolver
) -> None:
    body = {"Kind": "connect-proxy", "Name": "proxy", "Port": 21000,
            "Proxy": {"DestinationServiceName": "api"}}
    headers = grants.grant("t", {Permission.SERVICE_WRITE: ("proxy",)})
    assert await put(api, "/v1/agent/service/register", headers, body) == (
        403, denial("t", "service:write", "api")
    )
    allowed = grants.grant("ok", {Permission.SERVICE_WRITE: ("proxy", "api")})
    assert await put(api, "/v1/agent/service/register", allowed, body) == (200, "")


async def test_register_vets_the_sidecar_with_its_own_token(
    api: Api, grants: GrantResolver
) -> None:
    """AgentRegisterService: the sidecar is vetted with SidecarService.Token when it has one
    (sidecarServiceFromNodeService), else with the request's token; it is a connect proxy,
    so its destination needs write too."""
    headers = grants.grant("t", {Permission.SERVICE_WRITE: ("api",)})
    path = "/v1/agent/service/register"
    body: dict[str, Any] = {"Name": "api", "Connect": {"SidecarService": {"Name": "px-api"}}}
    assert await put(api, path, headers, body) == (403, denial("t", "service:write", "px-api"))
    grants.grant("sidecar", {Permission.SERVICE_WRITE: ("px-api", "api")})
    body["Connect"]["SidecarService"]["Token"] = "sidecar"
    assert await put(api, path, headers, body) == (200, "")
    body["Connect"]["SidecarService"]["Token"] = "unknown"
    assert await put(api, path, headers, body) == (403, "ACL not found")


async def test_register_resolves_the_token_after_name_and_address(
    api: Api, grants: GrantResolver
) -> None:
    """AgentRegisterService: "Missing service name" precedes the token; the weights,
    metadata and validation 400s come after it."""
    unknown = {"X-Consul-Token": "nope"}
    assert await put(api, "/v1/agent/service/register", unknown, {}) == (
        400, "Missing service name"
    )
    body = {"Name": "web", "Weights": {"Passing": 0, "Warning": 1}}
    assert await put(api, "/v1/agent/service/register", unknown, body) == (403, "ACL not found")


async def test_deregister_is_404_first_then_service_write(
    api: Api, grants: GrantResolver
) -> None:
    """vetServiceUpdateWithAuthorizer: 404 for an unknown ID, else service:write."""
    await seed(api, grants)
    headers = grants.grant("t", {Permission.SERVICE_WRITE: ("db",)})
    status, text = await put(api, "/v1/agent/service/deregister/nope", headers)
    assert (status, text.startswith('Unknown service ID "nope"')) == (404, True)
    assert await put(api, "/v1/agent/service/deregister/web", headers) == (
        403, denial("t", "service:write", "web")
    )
    assert await put(api, "/v1/agent/service/deregister/db", headers) == (200, "")


async def test_service_maintenance_needs_service_write(api: Api, grants: GrantResolver) -> None:
    """AgentServiceMaintenance: its 400s, then vetServiceUpdateWithAuthorizer."""
    await seed(api, grants)
    headers = grants.grant("t", {Permission.SERVICE_WRITE: ("db",)})
    base = "/v1/agent/service/maintenance/"
    assert await put(api, base + "web", headers) == (400, "Missing value for enable")
    assert await put(api, base + "web?enable=true", headers) == (
        403, denial("t", "service:write", "web")
    )
    status, _ = await put(api, base + "nope?enable=true", headers)
    assert status == 404
    assert await put(api, base + "db?enable=true", headers) == (200, "")


async def test_health_by_id_checks_service_read_once_the_service_exists(
    api: Api, grants: GrantResolver
) -> None:
    """AgentHealthServiceByID: an unknown ID is the 404 payload without any check."""
    await seed(api, grants)
    missing = await api.get("/v1/agent/health/service/id/nope?format=text")
    assert (missing.status, missing.text) == (404, "ServiceId nope not found")
    denied = await api.get("/v1/agent/health/service/id/web")
    assert (denied.status, denied.text) == (403, anonymous_denial("service:read", "web"))
    allowed = grants.grant("ok", {Permission.SERVICE_READ: ("web",)})
    ok = await api.get("/v1/agent/health/service/id/db", headers=allowed)
    assert (ok.status, ok.text) == (403, denial("ok", "service:read", "db"))
    ok = await api.get("/v1/agent/health/service/id/web?format=text", headers=allowed)
    assert ok.status == 503  # the TTL check has not passed yet: critical


async def test_health_by_name_needs_service_read_on_the_name(
    api: Api, grants: GrantResolver
) -> None:
    """AgentHealthServiceByName: ServiceReadAllowed on the name even when nothing has it."""
    reply = await api.get("/v1/agent/health/service/name/ghost")
    assert (reply.status, reply.text) == (403, anonymous_denial("service:read", "ghost"))
    allowed = grants.grant("ok", {Permission.SERVICE_READ: ("ghost",)})
    ok = await api.get("/v1/agent/health/service/name/ghost?format=text", headers=allowed)
    assert (ok.status, ok.text) == (404, "ServiceName ghost Not Found")


# -- local checks --------------------------------------------------------------------------


async def test_checks_are_filtered_by_service_or_node_read(
    api: Api, grants: GrantResolver
) -> None:
    """filterChecksWithAuthorizer: a service check by service:read on its service, a node
    check by node:read on the agent's node."""
    await seed(api, grants)
    service_only = grants.grant("s", {Permission.SERVICE_READ: ("web",)})
    reply = await api.get("/v1/agent/checks", headers=service_only)
    assert (list(reply.json()), reply.headers[FILTERED]) == (["web-ttl"], "true")
    node_only = grants.grant("n", {Permission.NODE_READ: (NODE,)})
    reply = await api.get("/v1/agent/checks?filter=Name%20%3D%3D%20%22node%20ttl%22",
                          headers=node_only)
    assert (list(reply.json()), reply.headers[FILTERED]) == (["node-ttl"], "true")
    everything = await api.get("/v1/agent/checks", headers=grants.grant("all", EVERYTHING))
    assert sorted(everything.json()) == ["node-ttl", "web-ttl"]
    assert FILTERED not in everything.headers


async def test_check_register_needs_node_or_service_write(
    api: Api, grants: GrantResolver
) -> None:
    """vetCheckRegisterWithAuthorizer: node:write on the agent's node for a node check,
    service:write for a service check, and write on any check it overwrites."""
    await seed(api, grants)
    path = "/v1/agent/check/register"
    headers = grants.grant("t", {Permission.SERVICE_WRITE: ("db",)})
    assert await put(api, path, headers, {"Name": "n", "TTL": "10s"}) == (
        403, denial("t", "node:write", NODE)
    )
    web = {"Name": "w", "TTL": "10s", "ServiceID": "web"}
    assert await put(api, path, headers, web) == (403, denial("t", "service:write", "web"))
    over = {"ID": "web-ttl", "Name": "x", "TTL": "10s", "ServiceID": "db"}
    assert await put(api, path, headers, over) == (403, denial("t", "service:write", "web"))
    assert await put(api, path, headers, {"Name": "d", "TTL": "10s", "ServiceID": "db"}) == (
        200, ""
    )


async def test_check_register_resolves_the_token_after_name_and_status(
    api: Api, grants: GrantResolver
) -> None:
    unknown = {"X-Consul-Token": "nope"}
    assert await put(api, "/v1/agent/check/register", unknown, {}) == (400, "Missing check name")
    assert await put(api, "/v1/agent/check/register", unknown, {"Name": "n"}) == (
        403, "ACL not found"
    )


async def test_check_updates_are_404_first_then_write(api: Api, grants: GrantResolver) -> None:
    """vetCheckUpdateWithAuthorizer for deregister, pass, warn, fail and update."""
    await seed(api, grants)
    headers = grants.grant("t", {Permission.SERVICE_WRITE: ("web",)})
    for path, body in [
        ("/v1/agent/check/pass/", None),
        ("/v1/agent/check/warn/", None),
        ("/v1/agent/check/fail/", None),
        ("/v1/agent/check/update/", {"Status": "passing"}),
        ("/v1/agent/check/deregister/", None),
    ]:
        status, text = await put(api, path + "nope", headers, body)
        assert (status, text.startswith('Unknown check ID "nope"')) == (404, True), path
        assert await put(api, path + "node-ttl", headers, body) == (
            403, denial("t", "node:write", NODE)
        ), path
        assert await put(api, path + "web-ttl", headers, body) == (200, ""), path
