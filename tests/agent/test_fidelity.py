"""Fidelity gaps of issue 11, each decided from Consul's sources (named in each docstring):
agent/leave shutting the agent down, the xDS block of agent/self, force-leave of an unknown
node, null versus [] in the list endpoints, and how request bodies are decoded."""

from __future__ import annotations

import asyncio
import json
import sys

import aiohttp
import pytest

from aioconsul.testing import DevAgent

from .conftest import Api

NODE = "aioconsul-dev"


# -- PUT /v1/agent/leave -------------------------------------------------------------------


async def test_leave_answers_200_then_the_agent_shuts_down() -> None:
    """agent/agent_endpoint.go AgentLeave: ``s.agent.Leave()`` then ``ShutdownAgent()``, and
    the handler's nil result is written as an empty 200 (HTTPHandlers.wrap)."""
    before = asyncio.all_tasks()
    agent = await DevAgent().start()
    async with aiohttp.ClientSession() as http:
        api = Api(http, agent)
        reply = await api.put("/v1/agent/leave")
        assert (reply.status, reply.body) == (200, b"")
        await asyncio.wait_for(agent.wait_stopped(), 10)
        assert not agent.running
        with pytest.raises(aiohttp.ClientConnectionError):
            await http.get(agent.address + "/v1/status/leader")
    await agent.stop()  # harmless afterwards
    await agent.stop()
    assert asyncio.all_tasks() - before == set()


async def test_stop_right_after_leave_waits_for_the_shutdown() -> None:
    """A stop() racing the shutdown agent/leave began finishes it: nothing is left running."""
    before = asyncio.all_tasks()
    agent = await DevAgent().start()
    async with aiohttp.ClientSession() as http:
        assert (await Api(http, agent).put("/v1/agent/leave")).status == 200
        await agent.stop()
        assert not agent.running
    await agent.wait_stopped()  # returns at once on a stopped agent
    assert asyncio.all_tasks() - before == set()


async def test_leave_releases_parked_blocking_queries() -> None:
    agent = await DevAgent().start()
    async with aiohttp.ClientSession() as http:
        api = Api(http, agent)
        pending = asyncio.ensure_future(api.get("/v1/kv/k?index=1&wait=1m"))
        while not agent.blocking_queries:
            await asyncio.sleep(0.005)
        assert (await api.put("/v1/agent/leave")).status == 200
        assert (await asyncio.wait_for(pending, 10)).status == 404
    await agent.stop()


async def test_an_agent_that_left_starts_again_as_a_fresh_alive_member() -> None:
    agent = await DevAgent().start()
    async with aiohttp.ClientSession() as http:
        assert (await Api(http, agent).put("/v1/agent/leave")).status == 200
        await agent.wait_stopped()
        async with agent:
            (member,) = (await Api(http, agent).get("/v1/agent/members")).json()
            assert member["Status"] == 1  # serf.StatusAlive
    assert not agent.running


async def test_cli_exits_zero_after_agent_leave() -> None:
    """command/agent/agent.go handleSignals: ``case <-agent.ShutdownCh(): return 0``
    ("agent is already down!")."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "aioconsul.testing",
        "--port",
        "0",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        address = (await asyncio.wait_for(proc.stdout.readline(), 10)).decode().strip()
        async with aiohttp.ClientSession() as http, http.put(address + "/v1/agent/leave") as resp:
            assert (resp.status, await resp.read()) == (200, b"")
        stdout, stderr = await asyncio.wait_for(proc.communicate(), 10)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, stderr.decode()
    assert (stdout, stderr) == (b"", b"")


# -- GET /v1/agent/self --------------------------------------------------------------------


async def test_agent_self_has_every_top_level_key_of_a_real_agent(api: Api) -> None:
    """agent/agent_endpoint.go ``Self``: Config, DebugConfig, Coord, Member, Stats, Meta and
    ``XDS *XDSSelf `json:"xDS,omitempty"```, set when the agent runs its xDS server (a -dev
    agent does: ports.grpc = 8502). The key order is the struct's, as in a real payload
    (hashicorp/nomad client/fingerprint/test_fixtures/consul/agent_self_oss.json)."""
    body = (await api.get("/v1/agent/self")).json()
    assert list(body) == ["Config", "DebugConfig", "Coord", "Member", "Stats", "Meta", "xDS"]


async def test_agent_self_xds_names_the_grpc_ports_and_envoy_versions(api: Api) -> None:
    """XDSSelf{SupportedProxies: {"envoy": xdscommon.EnvoyVersions}, Port, Ports: GRPCPorts}.
    A server's grpc_tls port defaults to 8503 (agent/config/builder.go), and ``Port`` prefers
    the TLS port, falling back to the plain one only when TLS is off."""
    xds = (await api.get("/v1/agent/self")).json()["xDS"]
    assert list(xds) == ["SupportedProxies", "Port", "Ports"]
    assert list(xds["SupportedProxies"]) == ["envoy"]
    versions = xds["SupportedProxies"]["envoy"]
    assert versions and all(len(v.split(".")) == 3 for v in versions)
    assert [tuple(map(int, v.split("."))) for v in versions] == sorted(
        (tuple(map(int, v.split("."))) for v in versions), reverse=True
    )  # "sorted by semver descending", one point release per minor
    assert xds["Ports"] == {"Plaintext": 8502, "TLS": 8503}
    assert xds["Port"] == 8503


# -- PUT /v1/agent/force-leave/<node> ------------------------------------------------------


async def test_force_leave_of_an_unknown_node_is_the_servers_error(api: Api) -> None:
    """agent/consul/server_ce.go removeFailedNode: a name in neither serf pool is
    ``fmt.Errorf("agent: No node found with name '%s'", node)``, a plain error: HTTP 500
    with its text (HTTPHandlers.wrap)."""
    reply = await api.put("/v1/agent/force-leave/ghost")
    assert (reply.status, reply.text) == (500, "agent: No node found with name 'ghost'")
    reply = await api.put("/v1/agent/force-leave/ghost?prune")
    assert (reply.status, reply.text) == (500, "agent: No node found with name 'ghost'")


async def test_force_leave_of_a_member_succeeds(api: Api) -> None:
    """Server.RemoveFailedNode looks the name up in the LAN pool and, with ``.dc`` appended
    unless present, in the WAN pool; this agent is a member of both."""
    for node in (NODE, f"{NODE}.dc1"):
        reply = await api.put(f"/v1/agent/force-leave/{node}")
        assert (reply.status, reply.text) == (200, ""), node
    (member,) = (await api.get("/v1/agent/members")).json()
    assert member["Status"] == 1


async def test_force_leave_wan_looks_only_in_the_wan_pool(api: Api) -> None:
    """Server.RemoveFailedNodeWAN passes the name unchanged and an empty LAN name, which is
    the one the error quotes."""
    reply = await api.put(f"/v1/agent/force-leave/{NODE}.dc1?wan")
    assert (reply.status, reply.text) == (200, "")
    reply = await api.put(f"/v1/agent/force-leave/{NODE}?wan")
    assert (reply.status, reply.text) == (500, "agent: No node found with name ''")


# -- null versus [] ------------------------------------------------------------------------


async def test_gateway_services_with_nothing_registered_is_empty(api: Api) -> None:
    """agent/catalog_endpoint.go CatalogGatewayServices returns ``out.Services`` as is, and
    state.GatewayServices builds it from ``var results`` (nil) when no gateway config entry
    links a service; but Catalog.GatewayServices then always runs filterACL (ACLs disabled
    resolve to manage-all), and filterGatewayServices (agent/structs/aclfilter/filter.go)
    rebuilds the slice with ``make``: real Consul answers ``[]``, not ``null``."""
    reply = await api.get("/v1/catalog/gateway-services/no-such-gateway")
    assert (reply.status, reply.text) == (200, "[]")


EMPTY_LISTS = [
    # agent/catalog_endpoint.go: CatalogNodes, catalogServiceNodes ("Use empty list").
    "/v1/catalog/nodes?filter=Node%20%3D%3D%20nobody",
    "/v1/catalog/service/nothing",
    "/v1/catalog/connect/nothing",
    # agent/health_endpoint.go: every handler turns a nil slice into [].
    "/v1/health/node/nobody",
    "/v1/health/checks/nothing",
    "/v1/health/state/warning",
    "/v1/health/service/nothing",
    "/v1/health/connect/nothing",
    "/v1/health/ingress/nothing",
    # agent/agent_endpoint.go AgentMembers: the filtered serf member slice.
    "/v1/agent/members?filter=Name%20%3D%3D%20nobody",
]


@pytest.mark.parametrize("path", EMPTY_LISTS)
async def test_list_endpoints_answer_an_empty_list(api: Api, path: str) -> None:
    reply = await api.get(path)
    assert (reply.status, reply.text) == (200, "[]"), path


@pytest.mark.parametrize(
    ("path", "text"),
    [
        # CatalogServices: "Use empty map instead of nil".
        ("/v1/catalog/services?filter=ServiceName%20%3D%3D%20nothing", "{}"),
        # AgentServices / AgentChecks: maps made with make(), filtered by bexpr.
        ("/v1/agent/services", "{}"),
        ("/v1/agent/checks", "{}"),
        # CatalogNodeServices returns the RPC's nil *NodeServices for an unknown node.
        ("/v1/catalog/node/nobody", "null"),
        # CatalogNodeServiceList returns &out.NodeServices: a struct of two nil fields.
        ("/v1/catalog/node-services/nobody", '{"Node":null,"Services":null}'),
    ],
)
async def test_endpoints_that_are_not_lists_keep_consuls_shape(
    api: Api, path: str, text: str
) -> None:
    reply = await api.get(path)
    assert (reply.status, reply.text) == (200, text), path


async def test_checks_without_service_tags_show_an_empty_list(api: Api) -> None:
    """The health handlers clone each check whose ServiceTags is nil with ``[]``."""
    body = {"Node": "n1", "Address": "10.0.0.1", "Check": {"CheckID": "c", "Name": "c"}}
    assert (await api.put("/v1/catalog/register", json.dumps(body))).status == 200
    for path in ("/v1/health/node/n1", "/v1/health/state/any"):
        checks = [c for c in (await api.get(path)).json() if c["Node"] == "n1"]
        assert [c["ServiceTags"] for c in checks] == [[]], path


# -- request bodies ------------------------------------------------------------------------


async def test_catalog_deregister_takes_the_go_clients_body(api: Api) -> None:
    """api/catalog.go CatalogDeregistration tags ``Address`` ``json:",omitempty"`` ("Obsolete"),
    so the Go client sends Node, Datacenter, ServiceID and CheckID, which
    structs.DeregisterRequest has."""
    reg = {"Node": "n1", "Address": "10.0.0.1", "Service": {"ID": "s1", "Service": "web"}}
    assert (await api.put("/v1/catalog/register", json.dumps(reg))).status == 200
    body = {"Node": "n1", "Datacenter": "", "ServiceID": "s1", "CheckID": ""}
    reply = await api.put("/v1/catalog/deregister", json.dumps(body))
    assert (reply.status, reply.text) == (200, "true")
    assert (await api.get("/v1/catalog/service/web")).json() == []


async def test_bodies_are_decoded_with_disallow_unknown_fields(api: Api) -> None:
    """agent/http.go decodeBody is lib.DecodeJSON (lib/json.go), which calls
    ``decoder.DisallowUnknownFields()``: a field the request struct lacks is refused. An
    ``Address`` (set on the Go client's obsolete field) is not a DeregisterRequest field."""
    def refused(field: str) -> tuple[int, str]:
        return 400, f'Request decode failed: json: unknown field "{field}"'

    body = {"Node": "n1", "Address": "10.0.0.1"}
    reply = await api.put("/v1/catalog/deregister", json.dumps(body))
    assert (reply.status, reply.text) == refused("Address")
    reply = await api.put("/v1/catalog/register", json.dumps({"Node": "n1", "Bogus": 1}))
    assert (reply.status, reply.text) == refused("Bogus")
    check = {"Name": "c", "TTL": "10s", "Bogus": 1}
    reply = await api.put("/v1/agent/check/register", json.dumps(check))
    assert (reply.status, reply.text) == refused("Bogus")


async def test_a_check_definition_inside_a_registration_is_decoded_leniently(api: Api) -> None:
    """The one nested exception: agent/structs HealthCheckDefinition.UnmarshalJSON decodes
    its alias with plain ``json.Unmarshal``, so DisallowUnknownFields stops at its border."""
    check = {"Name": "c", "Definition": {"HTTP": "http://127.0.0.1/", "Bogus": 1}}
    body = {"Node": "n1", "Address": "10.0.0.1", "Check": check}
    reply = await api.put("/v1/catalog/register", json.dumps(body))
    assert (reply.status, reply.text) == (200, "true")
