"""The operator group over HTTP: agent/operator_endpoint.go and the RPC halves in
agent/consul/operator_raft_endpoint.go, operator_autopilot_endpoint.go,
operator_usage_endpoint.go, internal_endpoint.go (keyring), as a single -dev server answers."""

from __future__ import annotations

import base64
import json

import aiohttp
import pytest

from aioconsul.testing import DevAgent
from aioconsul.testing.acl.authorizer import Permission

from .conftest import Api, GrantResolver

NODE = "aioconsul-dev"
KEY1 = base64.b64encode(b"k" * 32).decode()
KEY2 = base64.b64encode(b"2" * 16).decode()


# -- Raft ---------------------------------------------------------------------------------------


async def test_raft_configuration_is_this_one_server(api: Api) -> None:
    reply = await api.get("/v1/operator/raft/configuration")
    assert reply.status == 200, reply.text
    body = reply.json()
    assert body["Index"] == 1
    (server,) = body["Servers"]
    assert server["ID"] == api.agent.node_id
    assert server["Node"] == NODE
    assert server["Address"] == "127.0.0.1:8300"
    assert (server["Leader"], server["Voter"], server["ProtocolVersion"]) == (True, True, "3")
    assert server["LastIndex"] >= 12


async def test_raft_configuration_other_datacenter_has_no_path(api: Api) -> None:
    reply = await api.get("/v1/operator/raft/configuration?dc=dc2")
    assert (reply.status, reply.text) == (500, "No path to datacenter")


async def test_transfer_leader_without_peer_is_refused(api: Api) -> None:
    """raft's leadershipTransfer: with no other voter pickServer finds none."""
    reply = await api.request("POST", "/v1/operator/raft/transfer-leader")
    assert (reply.status, reply.text) == (500, "cannot find peer")


async def test_transfer_leader_to_itself_is_refused(api: Api) -> None:
    reply = await api.request("POST", f"/v1/operator/raft/transfer-leader?id={api.agent.node_id}")
    assert (reply.status, reply.text) == (500, "cannot transfer leadership to itself")


async def test_transfer_leader_to_unknown_id(api: Api) -> None:
    """Server.attemptLeadershipTransfer looks the ID up in the server lookup first."""
    reply = await api.request("POST", "/v1/operator/raft/transfer-leader?id=nope")
    assert (reply.status, reply.text) == (500, "Could not find address for server id nope")


async def test_remove_peer_needs_id_or_address(api: Api) -> None:
    reply = await api.delete("/v1/operator/raft/peer")
    assert reply.status == 400
    assert reply.text == ("Must specify either ?id with the server's ID or ?address with "
                          "IP:port of peer to remove")
    reply = await api.delete("/v1/operator/raft/peer?id=a&address=b")
    assert (reply.status, reply.text) == (400, "Must specify only one of ?id or ?address")


async def test_remove_unknown_peer(api: Api) -> None:
    reply = await api.delete("/v1/operator/raft/peer?address=10.0.0.9:8300")
    assert (reply.status, reply.text) == (
        500, 'address "10.0.0.9:8300" was not found in the Raft configuration')
    reply = await api.delete("/v1/operator/raft/peer?id=abc")
    assert (reply.status, reply.text) == (500, 'id "abc" was not found in the Raft configuration')


async def test_removing_the_only_voter_is_refused(api: Api) -> None:
    """raft's checkConfiguration: the next configuration would have no voter."""
    for query in ("address=127.0.0.1:8300", f"id={api.agent.node_id}"):
        reply = await api.delete(f"/v1/operator/raft/peer?{query}")
        assert (reply.status, reply.text) == (
            500, "need at least one voter in configuration: {[]}")


# -- autopilot ----------------------------------------------------------------------------------


async def test_autopilot_defaults(api: Api) -> None:
    reply = await api.get("/v1/operator/autopilot/configuration")
    assert reply.status == 200, reply.text
    body = reply.json()
    assert {k: v for k, v in body.items() if not k.endswith("Index")} == {
        "CleanupDeadServers": True,
        "LastContactThreshold": "200ms",
        "MaxTrailingLogs": 250,
        "MinQuorum": 0,
        "ServerStabilizationTime": "10s",
        "RedundancyZoneTag": "",
        "DisableUpgradeMigration": False,
        "UpgradeVersionTag": "",
    }
    assert 0 < body["CreateIndex"] == body["ModifyIndex"] < 12


async def test_autopilot_set_replaces_with_client_defaults(api: Api) -> None:
    """The PUT body is decoded onto api.NewAutopilotConfiguration(): fields left out are the
    defaults again, not the stored values."""
    reply = await api.put("/v1/operator/autopilot/configuration",
                          json.dumps({"MaxTrailingLogs": 99, "LastContactThreshold": "1s"}))
    assert (reply.status, reply.json()) == (200, True)
    reply = await api.put("/v1/operator/autopilot/configuration", json.dumps({"MinQuorum": 3}))
    assert reply.json() is True
    body = (await api.get("/v1/operator/autopilot/configuration")).json()
    assert (body["MaxTrailingLogs"], body["LastContactThreshold"], body["MinQuorum"]) == (
        250, "200ms", 3)
    assert body["ModifyIndex"] > body["CreateIndex"]


async def test_autopilot_cas(api: Api) -> None:
    """AutopilotCASConfig: only when ModifyIndex matches; a lost CAS answers false."""
    before = (await api.get("/v1/operator/autopilot/configuration")).json()
    stale = before["ModifyIndex"]
    ok = await api.put(f"/v1/operator/autopilot/configuration?cas={stale}",
                       json.dumps({"MinQuorum": 1}))
    assert ok.json() is True
    lost = await api.put(f"/v1/operator/autopilot/configuration?cas={stale}",
                         json.dumps({"MinQuorum": 2}))
    assert (lost.status, lost.json()) == (200, False)
    after = (await api.get("/v1/operator/autopilot/configuration")).json()
    assert after["MinQuorum"] == 1
    assert after["CreateIndex"] == before["CreateIndex"]


async def test_autopilot_bad_inputs(api: Api) -> None:
    reply = await api.put("/v1/operator/autopilot/configuration?cas=x", "{}")
    assert (reply.status, reply.text) == (
        400, 'Error parsing cas value: strconv.ParseUint: parsing "x": invalid syntax')
    reply = await api.put("/v1/operator/autopilot/configuration",
                          json.dumps({"LastContactThreshold": "soon"}))
    assert (reply.status, reply.text) == (
        400, 'Error parsing autopilot config: time: invalid duration "soon"')
    reply = await api.put("/v1/operator/autopilot/configuration", json.dumps({"MinQuorum": -1}))
    assert (reply.status, reply.text) == (
        400, "Error parsing autopilot config: json: cannot unmarshal number -1 into Go struct "
             "field AutopilotConfiguration.MinQuorum of type uint")
    reply = await api.put("/v1/operator/autopilot/configuration", "")
    assert (reply.status, reply.text) == (400, "Error parsing autopilot config: EOF")


async def test_autopilot_health_of_one_healthy_server(api: Api) -> None:
    reply = await api.get("/v1/operator/autopilot/health")
    assert reply.status == 200
    body = reply.json()
    assert (body["Healthy"], body["FailureTolerance"]) == (True, 0)
    (server,) = body["Servers"]
    assert server["ID"] == api.agent.node_id
    assert (server["Name"], server["SerfStatus"], server["Leader"], server["Voter"]) == (
        NODE, "alive", True, True)
    assert server["StableSince"].endswith("Z")


async def test_autopilot_state(api: Api) -> None:
    body = (await api.get("/v1/operator/autopilot/state")).json()
    node_id = api.agent.node_id
    assert (body["Leader"], body["Voters"], body["Healthy"]) == (node_id, [node_id], True)
    server = body["Servers"][node_id]
    assert (server["Status"], server["NodeType"], server["NodeStatus"]) == (
        "leader", "voter", "alive")


# -- usage --------------------------------------------------------------------------------------


async def test_usage_counts_the_catalog(api: Api) -> None:
    for body in ({"Name": "web", "ID": "web1", "Port": 80}, {"Name": "web", "ID": "web2"},
                 {"Name": "web-proxy", "Kind": "connect-proxy", "Port": 21000,
                  "Proxy": {"DestinationServiceName": "web"}}):
        assert (await api.put("/v1/agent/service/register", json.dumps(body))).status == 200
    reply = await api.get("/v1/operator/usage")
    assert reply.status == 200, reply.text
    body = reply.json()
    usage = body["Usage"]["dc1"]
    assert usage["Services"] == 3  # consul, web, web-proxy
    assert usage["ServiceInstances"] == 4
    assert usage["ConnectServiceInstances"]["connect-proxy"] == 1
    assert usage["BillableServiceInstances"] == 2  # typical kinds, "consul" excluded
    assert usage["Nodes"] == 1
    assert (body["KnownLeader"], body["ConsistencyLevel"]) == (True, "leader")
    assert body["Index"] == reply.index


# -- Enterprise endpoints -----------------------------------------------------------------------


async def test_utilization_is_enterprise(api: Api) -> None:
    reply = await api.get("/v1/operator/utilization")
    assert (reply.status, reply.text) == (404, "operator utilization requires Consul Enterprise")


@pytest.mark.parametrize("path", ["/v1/operator/area", "/v1/operator/segment",
                                  "/v1/operator/license"])
async def test_enterprise_routes_are_not_registered_in_ce(api: Api, path: str) -> None:
    """agent/http_register.go (CE) registers no area, segment or license route."""
    reply = await api.get(path)
    assert reply.status == 404


# -- keyring ------------------------------------------------------------------------------------


NOT_ENABLED = (
    "4 errors occurred:\n"
    "\t* WAN error: 1/1 nodes reported failure\n"
    f"\t* {NODE}.dc1: Keyring is empty (encryption not enabled)\n"
    "\t* dc1 (LAN) error: 1/1 nodes reported failure\n"
    f"\t* {NODE}: Keyring is empty (encryption not enabled)\n\n"
)


async def test_keyring_without_encryption(api: Api) -> None:
    """serf's handleListKeys without a keyring; keyringErrorsOrNil joins the pools' errors."""
    reply = await api.get("/v1/operator/keyring")
    assert (reply.status, reply.text) == (500, NOT_ENABLED)
    reply = await api.request("POST", "/v1/operator/keyring", json.dumps({"Key": KEY1}))
    assert reply.status == 500
    assert "No keyring to modify (encryption not enabled)" in reply.text


async def test_keyring_input_errors(api: Api) -> None:
    reply = await api.get("/v1/operator/keyring?relay-factor=9")
    assert (reply.status, reply.text) == (
        400, "Invalid relay-factor: Relay factor must be in range: [0, 5]")
    reply = await api.get("/v1/operator/keyring?relay-factor=x")
    assert (reply.status, reply.text) == (
        400, 'Error parsing relay factor: strconv.Atoi: parsing "x": invalid syntax')
    reply = await api.request("DELETE", "/v1/operator/keyring?local-only=true",
                              json.dumps({"Key": KEY1}))
    assert (reply.status, reply.text) == (
        400, "Invalid use of local-only: local-only can only be set for list requests")
    reply = await api.request("DELETE", "/v1/operator/keyring")
    assert (reply.status, reply.text) == (400, "Request decode failed: EOF")


def test_encrypt_key_is_validated() -> None:
    with pytest.raises(ValueError, match="encrypt has invalid key: key size must be 16, 24 or"):
        DevAgent(encrypt=base64.b64encode(b"short").decode())
    with pytest.raises(ValueError, match="illegal base64 data at input byte 3"):
        DevAgent(encrypt="abc!")


async def _keyring(http: aiohttp.ClientSession, agent: DevAgent, method: str,
                   key: str | None = None, query: str = "") -> tuple[int, str]:
    data = json.dumps({"Key": key}) if key is not None else None
    async with http.request(method, f"{agent.address}/v1/operator/keyring{query}",
                            data=data) as resp:
        return resp.status, await resp.text()


async def test_keyring_install_use_remove(http: aiohttp.ClientSession) -> None:
    """memberlist's Keyring: AddKey, UseKey (must be installed), RemoveKey (never the
    primary)."""
    async with DevAgent(encrypt=KEY1) as agent:
        status, text = await _keyring(http, agent, "GET")
        assert status == 200, text
        pools = json.loads(text)
        assert [(p["WAN"], p["Datacenter"], p["NumNodes"]) for p in pools] == [
            (True, "dc1", 1), (False, "dc1", 1)]
        assert pools[1]["Keys"] == {KEY1: 1} and pools[1]["PrimaryKeys"] == {KEY1: 1}

        assert await _keyring(http, agent, "POST", KEY2) == (200, "")
        status, text = await _keyring(http, agent, "PUT", KEY2)
        assert status == 200, text
        lan = json.loads((await _keyring(http, agent, "GET"))[1])[1]
        assert lan["Keys"] == {KEY1: 1, KEY2: 1} and lan["PrimaryKeys"] == {KEY2: 1}

        status, text = await _keyring(http, agent, "DELETE", KEY2)
        assert status == 500
        assert f"{NODE}: Removing the primary key is not allowed" in text
        assert await _keyring(http, agent, "DELETE", KEY1) == (200, "")
        lan = json.loads((await _keyring(http, agent, "GET", query="?local-only=1"))[1])
        assert [(p["WAN"], p["Keys"]) for p in lan] == [(False, {KEY2: 1})]


async def test_keyring_refuses_bad_keys(http: aiohttp.ClientSession) -> None:
    async with DevAgent(encrypt=KEY1) as agent:
        status, text = await _keyring(http, agent, "POST", "not base64!")
        assert (status, text) == (500, (
            "2 errors occurred:\n\t* WAN error: illegal base64 data at input byte 3\n"
            "\t* dc1 (LAN) error: illegal base64 data at input byte 3\n\n"))
        status, text = await _keyring(http, agent, "POST", base64.b64encode(b"x" * 8).decode())
        assert status == 500 and f"{NODE}: key size must be 16, 24 or 32 bytes" in text
        status, text = await _keyring(http, agent, "PUT", KEY2)
        assert status == 500 and f"{NODE}: Requested key is not in the keyring" in text


# -- ACLs ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path", "permission"), [
    ("GET", "/v1/operator/raft/configuration", Permission.OPERATOR_READ),
    ("POST", "/v1/operator/raft/transfer-leader", Permission.OPERATOR_WRITE),
    ("DELETE", "/v1/operator/raft/peer?address=127.0.0.1:8300", Permission.OPERATOR_WRITE),
    ("GET", "/v1/operator/autopilot/configuration", Permission.OPERATOR_READ),
    ("PUT", "/v1/operator/autopilot/configuration", Permission.OPERATOR_WRITE),
    ("GET", "/v1/operator/autopilot/health", Permission.OPERATOR_READ),
    ("GET", "/v1/operator/autopilot/state", Permission.OPERATOR_READ),
    ("GET", "/v1/operator/usage", Permission.OPERATOR_READ),
    ("GET", "/v1/operator/keyring", Permission.KEYRING_READ),
    ("POST", "/v1/operator/keyring", Permission.KEYRING_WRITE),
])
async def test_each_route_wants_its_permission(
    api: Api, grants: GrantResolver, method: str, path: str, permission: Permission
) -> None:
    """The *Allowed checks of the operator RPCs and Internal.KeyringOperation: a token
    without the permission is refused with the detailed denial; with it, it gets past."""
    body = json.dumps({"Key": KEY1}) if "keyring" in path or method == "PUT" else None
    other = Permission.KEYRING_WRITE if permission.resource == "operator" else (
        Permission.OPERATOR_WRITE)
    weak = grants.grant("weak", {other: ("",)})
    reply = await api.request(method, path, body, headers=weak)
    assert reply.status == 403, reply.text
    assert reply.text == (f"Permission denied: token with AccessorID 'accessor-weak' lacks "
                          f"permission '{permission.resource}:{permission.access}'")
    strong = grants.grant("strong", {permission: ("",)})
    reply = await api.request(method, path, body, headers=strong)
    assert reply.status != 403, reply.text



def test_cli_takes_encrypt_like_consul_agent() -> None:
    """consul agent -encrypt: a bad key ends the CLI before the agent starts."""
    from aioconsul.testing import __main__ as cli

    agent = cli._agent(cli._parser().parse_args(["--encrypt", KEY1]))
    assert agent._encrypt == KEY1
    assert cli.main(["--encrypt", "bm9wZQ=="]) == 2  # base64 of 4 bytes
