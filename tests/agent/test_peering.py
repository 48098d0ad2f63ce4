"""Cluster peering over HTTP (``agent/peering_endpoint.go``, ``agent/rpc/peering/service.go``,
``agent/consul/state/peering.go``, ``agent/grpc-external/services/peerstream``) and the
exported services listing (``agent/exported_services_endpoint.go``).

Two dev agents in one process peer through the in-process stand-in for Consul's gRPC stream
(``aioconsul/testing/local/peerstream.py``): agent A generates a token for the peer ``b``,
agent B establishes it under the name ``a``.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from aioconsul.testing import DevAgent

from ._acl import ROOT, ACLApi, acl, acl_agent
from .conftest import Api, Reply

__all__ = ["acl", "acl_agent"]

GRPC: str = "rpc error: code = Unknown desc = "


async def post(api: Api, path: str, body: Any) -> Reply:
    return await api.request("POST", path, body if isinstance(body, str) else json.dumps(body))


async def token_for(api: Api, peer: str = "b", **body: Any) -> str:
    reply = await post(api, "/v1/peering/token", {"PeerName": peer, **body})
    assert reply.status == 200, reply.text
    token: str = reply.json()["PeeringToken"]
    return token


def decoded(token: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(base64.b64decode(token))
    return result


async def register(api: Api, name: str, sid: str, *, status: str = "passing",
                   tags: list[str] | None = None) -> None:
    body = {"Name": name, "ID": sid, "Port": 80, "Tags": tags or [],
            "Check": {"TTL": "30s", "Status": status}}
    reply = await api.put("/v1/agent/service/register", json.dumps(body))
    assert reply.status == 200, reply.text


async def export(api: Api, *services: tuple[str, list[str]]) -> None:
    entry = {"Kind": "exported-services", "Name": "default",
             "Services": [{"Name": name, "Consumers": [{"Peer": p} for p in peers]}
                          for name, peers in services]}
    reply = await api.put("/v1/config", json.dumps(entry))
    assert reply.status == 200, reply.text


async def peering(api: Api, name: str) -> dict[str, Any]:
    reply = await api.get(f"/v1/peering/{name}")
    assert reply.status == 200, reply.text
    result: dict[str, Any] = reply.json()
    return result


@pytest_asyncio.fixture
async def pair(http: aiohttp.ClientSession) -> AsyncIterator[tuple[Api, Api]]:
    async with DevAgent(node_name="node-a") as a, \
            DevAgent(node_name="node-b", datacenter="dc2") as b:
        yield Api(http, a), Api(http, b)


async def peer(a: Api, b: Api) -> None:
    reply = await post(b, "/v1/peering/establish", {"PeerName": "a",
                                                    "PeeringToken": await token_for(a)})
    assert reply.status == 200, reply.text
    assert reply.body == b"{}"


# -- tokens and the HTTP half's 400s --------------------------------------------------------------


async def test_a_token_names_this_agent_and_a_pending_peering(api: Api) -> None:
    """GenerateToken: structs.PeeringToken in base64; the peering is PENDING, and the stream
    tracker does not know it yet (StreamStatus all null)."""
    token = decoded(await token_for(api))
    agent = api.agent
    assert token["ServerAddresses"] == [f"{agent.host}:{agent.port}"]
    assert token["ServerName"].startswith("server.dc1.peering.")
    assert token["ServerName"].endswith(".consul")
    assert token["Remote"] == {"Partition": "default", "Datacenter": "dc1", "Locality": None}
    assert token["ManualServerAddresses"] is None and token["EstablishmentSecret"]
    stored = await peering(api, "b")
    assert stored["ID"] == token["PeerID"] and stored["State"] == "PENDING"
    assert stored["StreamStatus"] == {"ImportedServices": None, "ExportedServices": None,
                                      "LastHeartbeat": None, "LastReceive": None,
                                      "LastSend": None}
    assert stored["Remote"] == {"Partition": "", "Datacenter": ""}
    assert "PeerID" not in stored and "Meta" not in stored


async def test_server_external_addresses_and_meta_go_into_token_and_peering(api: Api) -> None:
    token = decoded(await token_for(api, ServerExternalAddresses=["10.0.0.1:8502"],
                                    Meta={"env": "prod"}))
    assert token["ManualServerAddresses"] == ["10.0.0.1:8502"]
    assert (await peering(api, "b"))["Meta"] == {"env": "prod"}


async def test_a_new_token_keeps_the_peering_with_a_fresh_secret(api: Api) -> None:
    first, second = decoded(await token_for(api)), decoded(await token_for(api))
    assert first["PeerID"] == second["PeerID"]
    assert first["EstablishmentSecret"] != second["EstablishmentSecret"]
    stored = await peering(api, "b")
    assert stored["ModifyIndex"] > stored["CreateIndex"]


@pytest.mark.parametrize(("path", "body", "text"), [
    ("/v1/peering/token", "", "Body decoding failed: EOF"),
    ("/v1/peering/token", "abc", "Body decoding failed: invalid character 'a' looking for "
                                 "beginning of value"),
    ("/v1/peering/token", {"PeerName": "x", "Bogus": 1},
     'Body decoding failed: json: unknown field "Bogus"'),
    ("/v1/peering/token", {}, "PeerName is required in the payload when generating a new "
                              "peering token."),
    ("/v1/peering/establish", {}, "PeerName is required in the payload when establishing a "
                                  "peering."),
    ("/v1/peering/establish", {"PeerName": "a"}, "PeeringToken is required in the payload "
                                                 "when establishing a peering."),
])
async def test_bodies_are_checked_by_the_http_half(api: Api, path: str, body: Any,
                                                   text: str) -> None:
    """PeeringGenerateToken / PeeringEstablish: lib.DecodeJSON, then the required fields."""
    reply = await post(api, path, body)
    assert (reply.status, reply.text) == (400, text)


async def test_an_invalid_peer_name_is_the_rpc_error(api: Api) -> None:
    """validatePeerName runs in the RPC; the HTTP side prints the gRPC client's error."""
    reply = await post(api, "/v1/peering/token", {"PeerName": "Peer_1"})
    assert reply.status == 500
    assert reply.text == (
        f"{GRPC}Peer_1 is not a valid peer name: a valid peering name must consist of lower "
        "case alphanumeric characters or '-', and must start and end with an alphanumeric "
        "character"
    )


@pytest.mark.parametrize(("token", "text"), [
    ("+++/+++", "failed to decode peering token: illegal base64 data at input byte 4"),
    ("Cg==", "unexpected end of JSON input"),
    ("e30K", "peering token server addresses value is empty"),
    (base64.b64encode(b'{"ServerAddresses":["1.2.3.4"]}').decode(),
     "1.2.3.4 is not a valid peering server address"),
    (base64.b64encode(b'{"ServerAddresses":["1.2.3.4:8502"]}').decode(),
     "peering token peer ID value is empty"),
])
async def test_bad_tokens_are_refused_with_consuls_texts(api: Api, token: str, text: str) -> None:
    """DecodeToken and validatePeeringToken (agent/rpc/peering/validate.go)."""
    reply = await post(api, "/v1/peering/establish", {"PeerName": "a", "PeeringToken": token})
    assert (reply.status, reply.text) == (500, GRPC + text)


async def test_a_token_cannot_peer_an_agent_with_itself(api: Api) -> None:
    """validatePeeringLocality: the token's ServerName is this cluster's."""
    token = await token_for(api)
    reply = await post(api, "/v1/peering/establish", {"PeerName": "self", "PeeringToken": token})
    server_name = decoded(token)["ServerName"]
    assert reply.status == 500
    assert reply.text == (
        f'{GRPC}cannot create a peering within the same cluster "{server_name}". Refer to the '
        "`exported-services` documentation if you want to export between partitions without "
        "peering"
    )


async def test_an_unreachable_peer_fails_the_dial_after_retrying() -> None:
    """retryExchange: 3 s of attempts, then go-multierror's list of refused connections."""
    async with DevAgent() as agent, aiohttp.ClientSession() as http:
        api = Api(http, agent)
        raw = {"ServerAddresses": ["127.0.0.1:1"], "PeerID": "a0affd3e-f1c8-4bb9-9168-90fd902c441d"}
        token = base64.b64encode(json.dumps(raw).encode()).decode()
        reply = await post(api, "/v1/peering/establish", {"PeerName": "a", "PeeringToken": token})
        assert reply.status == 500
        assert reply.text.startswith(GRPC) and " errors occurred:\n\t* " in reply.text
        assert ('failed to exchange peering secret through address "127.0.0.1:1": rpc error: '
                "code = Unavailable desc = connection error") in reply.text
        # The peering was written before the dial, and stays (Consul does not undo it).
        assert (await peering(api, "a"))["State"] == "PENDING"


async def test_reads_of_missing_peerings_and_paths(api: Api) -> None:
    """PeeringEndpoint: the name is required, only GET and DELETE; a missing peering is a
    404 on read and nothing on delete."""
    missing = await api.get("/v1/peering/nope")
    assert (missing.status, missing.text) == (404, 'Peering not found for "nope"')
    assert "X-Consul-Index" not in missing.headers
    gone = await api.delete("/v1/peering/nope")
    assert (gone.status, gone.body) == (200, b"")
    bare = await api.get("/v1/peering/")
    assert (bare.status, bare.text) == (400, "Must specify a name to fetch.")
    put = await api.put("/v1/peering/nope")
    assert put.status == 405 and put.headers["Allow"] == "OPTIONS,GET,DELETE"
    listed = await api.get("/v1/peerings")
    assert (listed.status, listed.json()) == (200, [])


async def test_a_partition_is_an_enterprise_feature(api: Api) -> None:
    reply = await post(api, "/v1/peering/token?partition=p1", {"PeerName": "b"})
    assert reply.status == 400
    assert reply.text == ('Invalid query parameter: "partition" - Partitions are a Consul '
                          "Enterprise feature")


# -- two agents -----------------------------------------------------------------------------------


async def test_establishing_makes_both_sides_active(pair: tuple[Api, Api]) -> None:
    """The acceptor's peering is PENDING until the dialer opens the stream; then
    reconcilePeering reports ACTIVE on both sides (the stored states stay PENDING and
    ESTABLISHING), and each side knows the other's datacenter."""
    a, b = pair
    token = await token_for(a)
    assert (await peering(a, "b"))["State"] == "PENDING"
    reply = await post(b, "/v1/peering/establish", {"PeerName": "a", "PeeringToken": token,
                                                    "Meta": {"team": "x"}})
    assert reply.status == 200, reply.text
    on_a, on_b = await peering(a, "b"), await peering(b, "a")
    assert on_a["State"] == on_b["State"] == "ACTIVE"
    assert on_a["Remote"] == {"Partition": "default", "Datacenter": "dc2"}
    assert on_b["Remote"] == {"Partition": "default", "Datacenter": "dc1"}
    assert on_b["PeerID"] == on_a["ID"] and on_b["Meta"] == {"team": "x"}
    assert on_b["PeerServerAddresses"] == decoded(token)["ServerAddresses"]
    assert on_b["PeerServerName"] == decoded(token)["ServerName"]
    assert b.agent.backend.peerings.table.read("a")[1]["State"] == "ESTABLISHING"  # type: ignore[index]
    assert a.agent.backend.peerings.table.read("b")[1]["State"] == "PENDING"  # type: ignore[index]
    assert on_a["StreamStatus"]["ExportedServices"] == []
    assert on_b["StreamStatus"]["ImportedServices"] == []
    assert on_a["StreamStatus"]["LastHeartbeat"] is None  # none yet (every 15 s)
    assert [p["Name"] for p in (await b.get("/v1/peerings")).json()] == ["a"]


async def test_a_token_is_used_once(pair: tuple[Api, Api]) -> None:
    """ExchangeSecret invalidates the establishment secret: a second establish with the same
    token is refused at once with PermissionDenied."""
    a, b = pair
    token = await token_for(a)
    first = await post(b, "/v1/peering/establish", {"PeerName": "a", "PeeringToken": token})
    assert first.status == 200, first.text
    again = await post(b, "/v1/peering/establish", {"PeerName": "a", "PeeringToken": token})
    assert again.status == 500
    assert again.text == ("rpc error: code = PermissionDenied desc = a new peering token must "
                          "be generated: invalid peering establishment secret")


async def test_a_dialer_name_cannot_generate_a_token(pair: tuple[Api, Api]) -> None:
    """validatePeer: a peering is either dialed or dialing."""
    a, b = pair
    await peer(a, b)
    reply = await post(b, "/v1/peering/token", {"PeerName": "a"})
    assert reply.status == 500
    assert reply.text == (f'{GRPC}cannot create peering with name: "a"; there is already an '
                          "established peering")


async def test_exported_services_are_visible_on_the_peer(pair: tuple[Api, Api]) -> None:
    """A service A exports to "b" is imported by B under the peer name "a": health and catalog
    reads with ?peer=a show it with PeerName set, its checks flattened into one overall check
    (subscription_manager.go flattenChecks); reads without ?peer= do not."""
    a, b = pair
    await register(a, "web", "web1", tags=["v1"])
    await register(a, "db", "db1")
    await export(a, ("web", ["b"]))
    await peer(a, b)
    health = await b.get("/v1/health/service/web?peer=a")
    assert health.status == 200
    [entry] = health.json()
    assert entry["Node"]["Node"] == "node-a" and entry["Node"]["PeerName"] == "a"
    assert entry["Node"]["Datacenter"] == "dc1"
    assert entry["Service"]["ID"] == "web1" and entry["Service"]["PeerName"] == "a"
    assert [(c["CheckID"], c["Name"], c["Status"], c["PeerName"]) for c in entry["Checks"]] == [
        ("web1:overall-check", "overall-check", "passing", "a")]
    [row] = (await b.get("/v1/catalog/service/web?peer=a")).json()
    assert (row["ServiceID"], row["Node"], row["PeerName"]) == ("web1", "node-a", "a")
    assert (await b.get("/v1/catalog/services?peer=a")).json() == {"web": ["v1"]}
    assert (await b.get("/v1/health/service/db?peer=a")).json() == []
    assert (await b.get("/v1/health/service/web")).json() == []
    assert "web" not in (await b.get("/v1/catalog/services")).json()
    on_a, on_b = await peering(a, "b"), await peering(b, "a")
    assert on_a["StreamStatus"]["ExportedServices"] == ["web"]
    assert on_b["StreamStatus"]["ImportedServices"] == ["web"]


async def test_the_worst_check_decides_the_imported_status(pair: tuple[Api, Api]) -> None:
    a, b = pair
    await register(a, "web", "web1", status="warning")
    await export(a, ("web", ["b"]))
    await peer(a, b)
    [entry] = (await b.get("/v1/health/service/web?peer=a")).json()
    assert [c["Status"] for c in entry["Checks"]] == ["warning"]
    assert (await b.get("/v1/health/service/web?peer=a&passing")).json() == []


async def test_changes_on_the_exporter_reach_the_peer(pair: tuple[Api, Api]) -> None:
    """The stream re-sends on every change: a blocking ?peer= read on B wakes when A gets a
    second instance, and un-exporting removes the service from B."""
    a, b = pair
    await register(a, "web", "web1")
    await export(a, ("web", ["b"]))
    await peer(a, b)
    first = await b.get("/v1/health/service/web?peer=a")
    assert len(first.json()) == 1
    waiting = asyncio.ensure_future(b.get(f"/v1/health/service/web?peer=a&index={first.index}"))
    await register(a, "web", "web2")
    woke = await waiting
    assert sorted(e["Service"]["ID"] for e in woke.json()) == ["web1", "web2"]
    assert woke.index > first.index
    await export(a, ("db", ["b"]))
    assert (await b.get("/v1/health/service/web?peer=a")).json() == []
    assert (await peering(b, "a"))["StreamStatus"]["ImportedServices"] == ["db"]


async def test_a_wildcard_exports_every_service_but_consul(pair: tuple[Api, Api]) -> None:
    a, b = pair
    await register(a, "web", "web1")
    await register(a, "db", "db1")
    await export(a, ("*", ["b"]))
    await peer(a, b)
    assert (await b.get("/v1/catalog/services?peer=a")).json() == {"db": [], "web": []}
    assert (await peering(a, "b"))["StreamStatus"]["ExportedServices"] == ["db", "web"]


async def test_the_dialer_exports_to_the_acceptor_too(pair: tuple[Api, Api]) -> None:
    """The stream replicates both ways: B's exports to "a" appear on A under "b"."""
    a, b = pair
    await register(b, "api", "api1")
    await export(b, ("api", ["a"]))
    await peer(a, b)
    [entry] = (await a.get("/v1/health/service/api?peer=b")).json()
    assert entry["Node"]["Node"] == "node-b" and entry["Service"]["PeerName"] == "b"


async def test_deleting_on_the_acceptor(pair: tuple[Api, Api]) -> None:
    """PeeringDelete marks the peering DELETING with DeletedAt (a blocking read sees it);
    the leader then removes it (404). The dialer is told: its peering is TERMINATED, and it
    keeps what it imported until it deletes the peering too."""
    a, b = pair
    await register(a, "web", "web1")
    await export(a, ("web", ["b"]))
    await peer(a, b)
    before = await peering(a, "b")
    body, gone = await delete_and_watch(a, "b")
    assert body["State"] == "DELETING" and body["DeletedAt"].endswith("Z")
    assert body["ID"] == before["ID"] and "PeerID" not in body
    assert gone.status == 404
    on_b = await peering(b, "a")
    assert on_b["State"] == "TERMINATED"
    assert len((await b.get("/v1/health/service/web?peer=a")).json()) == 1
    body, gone = await delete_and_watch(b, "a")
    assert body["State"] == "DELETING" and gone.status == 404
    assert (await b.get("/v1/health/service/web?peer=a")).json() == []


async def delete_and_watch(api: Api, name: str) -> tuple[dict[str, Any], Reply]:
    """DELETE with a blocking read parked on the peering: what it wakes with (the peering
    marked for deletion), then what a read blocking on that answer gets once it is removed."""
    before = await api.get(f"/v1/peering/{name}")
    parked = api.agent.blocking_queries
    waiting = asyncio.ensure_future(api.get(f"/v1/peering/{name}?index={before.index}"))
    while api.agent.blocking_queries <= parked:
        await asyncio.sleep(0)
    deleted = await api.delete(f"/v1/peering/{name}")
    assert (deleted.status, deleted.body) == (200, b"")
    marked = await waiting
    assert marked.status == 200, marked.text
    gone = await api.get(f"/v1/peering/{name}?index={marked.index}")
    result: dict[str, Any] = marked.json()
    return result, gone


async def test_deleting_on_the_dialer_terminates_the_acceptor(pair: tuple[Api, Api]) -> None:
    a, b = pair
    await register(b, "api", "api1")
    await export(b, ("api", ["a"]))
    await peer(a, b)
    assert (await b.delete("/v1/peering/a")).status == 200
    assert (await peering(a, "b"))["State"] == "TERMINATED"
    assert (await a.get("/v1/health/service/api?peer=b")).json() != []


async def test_a_stopped_peer_leaves_the_peering_failing(pair: tuple[Api, Api]) -> None:
    """The stream ends with an error when the peer goes away: reconcilePeering's FAILING."""
    a, b = pair
    await peer(a, b)
    await a.agent.stop()
    assert (await peering(b, "a"))["State"] == "FAILING"


async def test_the_peerings_list_blocks_until_a_change(pair: tuple[Api, Api]) -> None:
    a, _ = pair
    await token_for(a, "b")
    listed = await a.get("/v1/peerings")
    waiting = asyncio.ensure_future(a.get(f"/v1/peerings?index={listed.index}"))
    await token_for(a, "c")
    woke = await waiting
    assert [p["Name"] for p in woke.json()] == ["b", "c"]
    assert woke.index > listed.index


# -- exported services ----------------------------------------------------------------------------


async def test_exported_services_resolve_wildcards_and_consumers(api: Api) -> None:
    """ResolvedExportedServices (CE): wildcards expanded to typical services (never consul),
    one row per service, peers deduplicated and sorted; a partition consumer adds no peer."""
    assert (await api.get("/v1/exported-services")).json() == []
    await register(api, "web", "web1")
    await register(api, "db", "db1")
    entry = {"Kind": "exported-services", "Name": "default", "Services": [
        {"Name": "*", "Consumers": [{"Peer": "z"}]},
        {"Name": "web", "Consumers": [{"Peer": "b"}, {"Peer": "z"}]},
        {"Name": "cache", "Consumers": [{"Partition": "p"}]},
    ]}
    assert (await api.put("/v1/config", json.dumps(entry))).status == 200
    reply = await api.get("/v1/exported-services")
    assert reply.json() == [
        {"Service": "cache", "Consumers": {}},
        {"Service": "db", "Consumers": {"Peers": ["z"]}},
        {"Service": "web", "Consumers": {"Peers": ["b", "z"]}},
    ]
    assert reply.index >= 1


# -- ACLs -----------------------------------------------------------------------------------------


async def test_peering_needs_peering_write_and_read(acl: ACLApi) -> None:
    """PeeringWriteAllowed / PeeringReadAllowed in the RPC, printed by the gRPC client: a 403
    whose text holds Consul's denial; ``peering = "read"`` reads but may not write."""
    denied = await acl.call("POST", "/v1/peering/token", {"PeerName": "b"}, token=None)
    assert denied.status == 403
    assert denied.text == (
        f"{GRPC}Permission denied: anonymous token lacks permission 'peering:write'. The "
        "anonymous token is used implicitly when a request does not specify a token."
    )
    await acl.policy("peer-read", 'peering = "read"')
    reader = (await acl.token(Policies=[{"Name": "peer-read"}]))["SecretID"]
    await acl.ok("POST", "/v1/peering/token", {"PeerName": "b"})
    assert (await acl.call("GET", "/v1/peering/b", token=reader)).status == 200
    assert (await acl.call("GET", "/v1/peerings", token=reader)).status == 200
    refused = await acl.call("DELETE", "/v1/peering/b", token=reader)
    assert refused.status == 403 and "lacks permission 'peering:write'" in refused.text


async def test_operator_rules_grant_peering_and_exported_services(acl: ACLApi) -> None:
    """Without a peering (mesh) rule, the operator rule decides (policyAuthorizer)."""
    await acl.policy("op", 'operator = "read"')
    reader = (await acl.token(Policies=[{"Name": "op"}]))["SecretID"]
    assert (await acl.call("GET", "/v1/peerings", token=reader)).status == 200
    assert (await acl.call("GET", "/v1/exported-services", token=reader)).status == 200
    denied = await acl.call("GET", "/v1/exported-services", token=None)
    assert denied.status == 403 and "lacks permission 'mesh:read'" in denied.text


async def test_imported_data_needs_read_on_all_services_and_nodes(
    http: aiohttp.ClientSession,
) -> None:
    """ServiceRead/NodeRead with a peer: service:write on some service, or read on every
    service and node; otherwise the instances are hidden (X-Consul-Results-Filtered-By-ACLs)."""
    async with DevAgent(node_name="node-a") as plain, DevAgent(
        node_name="node-b", datacenter="dc2", acl_enabled=True, acl_default_policy="deny",
        acl_initial_management=ROOT,
    ) as guarded:
        a, b = Api(http, plain), ACLApi(http, guarded)
        await register(a, "web", "web1")
        await export(a, ("web", ["b"]))
        await b.ok("POST", "/v1/peering/establish", {"PeerName": "a",
                                                     "PeeringToken": await token_for(a)})
        await b.policy("web-only", 'service "web" { policy = "read" }')
        await b.policy("all", 'service_prefix "" { policy = "read" }\n'
                              'node_prefix "" { policy = "read" }')
        narrow = (await b.token(Policies=[{"Name": "web-only"}]))["SecretID"]
        wide = (await b.token(Policies=[{"Name": "all"}]))["SecretID"]
        hidden = await b.call("GET", "/v1/health/service/web?peer=a", token=narrow)
        assert hidden.json() == []
        assert hidden.headers["X-Consul-Results-Filtered-By-ACLs"] == "true"
        shown = await b.call("GET", "/v1/health/service/web?peer=a", token=wide)
        assert len(shown.json()) == 1


# -- the table ------------------------------------------------------------------------------------


async def test_the_peering_tables_dump_and_load_round_trip(pair: tuple[Api, Api]) -> None:
    a, b = pair
    await register(a, "web", "web1")
    await export(a, ("web", ["b"]))
    await peer(a, b)
    await token_for(a, "c")
    for api in (a, b):
        peerings = api.agent.backend.peerings
        dumped = peerings.dump()
        assert json.loads(json.dumps(dumped)) == dumped
        peerings.load(dumped)
        assert peerings.dump() == dumped
    # After a load the streams are gone: the peerings report their stored states.
    assert (await peering(a, "b"))["State"] == "PENDING"
    assert len((await b.get("/v1/health/service/web?peer=a")).json()) == 1
