"""The safety net: no route may forget its permission line.

With ACLs on (default deny, through the ``grants`` fixture) and no token (the anonymous token),
every route of :data:`aioconsul.testing.endpoints.ROUTES` is called with every method it serves
and a plausible path and body, against an agent that holds something of every kind. Each call
must be refused (403, or for a transaction a 409 whose every error is a permission denial),
answer a filtered result (empty, where the same call with a management token is not), or belong
to a route marked ``Route.of(..., no_acl=...)``: a route whose Consul handler resolves no token.
A marked route must indeed serve the anonymous request.

A route with no entry in :data:`CALLS` is still called, with a generic request (the pattern,
``x`` for a subtree's tail, ``{}`` as a PUT body), so a new route is covered from the start.
The filtered header is never expected here: maskResultsFilteredByACLs (agent/consul/rpc.go)
hides it from anonymous requests.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import pytest

from aioconsul.testing.endpoints import ROUTES
from aioconsul.testing.http.reply import Route

from .acl_texts import ADMIN
from .conftest import Api, GrantResolver, Reply

NODE = "aioconsul-dev"
COORD = {"Vec": [0.001] + [0.0] * 7, "Error": 0.2, "Adjustment": 0.0, "Height": 1e-05}


@dataclass(frozen=True)
class Call:
    method: str
    path: str  # "{session}", "{query}", "{intention}": the seeded session's, query's... ID
    body: Any = None  # JSON-encoded unless bytes
    coordinates: bool = False  # the call needs the agent's coordinate applied first

    def encoded(self, ids: dict[str, str]) -> tuple[str, bytes | None]:
        body = self.body
        if body is not None and not isinstance(body, bytes):
            body = json.dumps(body).encode()
        path = self.path
        for name, value in ids.items():
            path = path.replace("{" + name + "}", value)
        return path, body


GOSSIP_KEY = "a2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2s="  # base64 of 32 bytes

WEB_PROXY = {"Name": "web-proxy", "Kind": "connect-proxy", "Port": 21000,
             "Proxy": {"DestinationServiceName": "web"}}

#: A peering token that decodes and validates: base64 of {"ServerAddresses": [...], "PeerID"}.
PEERING_TOKEN = ("eyJTZXJ2ZXJBZGRyZXNzZXMiOiBbIjEyNy4wLjAuMToxIl0sICJQZWVySUQiOiAiYTBhZmZkM2Ut"
                 "ZjFjOC00YmI5LTkxNjgtOTBmZDkwMmM0NDFkIn0=")
#: How Consul's HTTP handlers print an RPC error they got from their gRPC client (peering,
#: exported services): still a 403 for a denial (agent/http.go: the text holds it).
GRPC_DENIED = "rpc error: code = Unknown desc = Permission denied"

#: Plausible requests per route pattern (a route missing here gets a generic one per method).
CALLS: dict[str, tuple[Call, ...]] = {
    "/v1/agent/token/": (Call("PUT", "/v1/agent/token/default", {"Token": "t"}),),
    "/v1/agent/maintenance": (Call("PUT", "/v1/agent/maintenance?enable=true"),),
    "/v1/agent/service/register": (Call("PUT", "/v1/agent/service/register",
                                        {"Name": "api", "Port": 8080}),),
    "/v1/agent/service/deregister/": (Call("PUT", "/v1/agent/service/deregister/web1"),),
    "/v1/agent/service/maintenance/": (
        Call("PUT", "/v1/agent/service/maintenance/web1?enable=true"),),
    "/v1/agent/service/": (Call("GET", "/v1/agent/service/web1"),),
    "/v1/agent/join/": (Call("PUT", "/v1/agent/join/127.0.0.1"),),
    "/v1/agent/force-leave/": (Call("PUT", "/v1/agent/force-leave/ghost"),),
    "/v1/agent/health/service/id/": (Call("GET", "/v1/agent/health/service/id/web1"),),
    "/v1/agent/health/service/name/": (Call("GET", "/v1/agent/health/service/name/web"),),
    "/v1/agent/check/register": (Call("PUT", "/v1/agent/check/register",
                                      {"Name": "disk", "TTL": "30s"}),),
    "/v1/agent/check/deregister/": (Call("PUT", "/v1/agent/check/deregister/mem"),),
    "/v1/agent/check/pass/": (Call("PUT", "/v1/agent/check/pass/mem"),),
    "/v1/agent/check/warn/": (Call("PUT", "/v1/agent/check/warn/mem"),),
    "/v1/agent/check/fail/": (Call("PUT", "/v1/agent/check/fail/mem"),),
    "/v1/agent/check/update/": (Call("PUT", "/v1/agent/check/update/mem",
                                     {"Status": "passing"}),),
    "/v1/catalog/register": (Call("PUT", "/v1/catalog/register",
                                  {"Node": "n9", "Address": "10.0.0.9"}),),
    "/v1/catalog/deregister": (Call("PUT", "/v1/catalog/deregister", {"Node": "other"}),),
    "/v1/catalog/service/": (Call("GET", "/v1/catalog/service/web"),),
    "/v1/catalog/connect/": (Call("GET", "/v1/catalog/connect/web"),),
    "/v1/catalog/node/": (Call("GET", f"/v1/catalog/node/{NODE}"),),
    "/v1/catalog/node-services/": (Call("GET", f"/v1/catalog/node-services/{NODE}"),),
    "/v1/catalog/gateway-services/": (Call("GET", "/v1/catalog/gateway-services/gw"),),
    "/v1/coordinate/nodes": (Call("GET", "/v1/coordinate/nodes", coordinates=True),),
    "/v1/coordinate/node/": (Call("GET", f"/v1/coordinate/node/{NODE}", coordinates=True),),
    "/v1/config": (Call("PUT", "/v1/config", {"Kind": "service-defaults", "Name": "web"}),),
    "/v1/config/": (Call("GET", "/v1/config/service-defaults/web"),
                    Call("DELETE", "/v1/config/service-defaults/web")),
    "/v1/coordinate/update": (Call("PUT", "/v1/coordinate/update",
                                   {"Node": NODE, "Coord": COORD}),),
    "/v1/discovery-chain/": (Call("GET", "/v1/discovery-chain/web"),
                             Call("POST", "/v1/discovery-chain/web",
                                  {"OverrideProtocol": "http"})),
    "/v1/event/fire/": (Call("PUT", "/v1/event/fire/deploy", b"payload"),),
    "/v1/health/node/": (Call("GET", f"/v1/health/node/{NODE}"),),
    "/v1/health/checks/": (Call("GET", "/v1/health/checks/web"),),
    "/v1/health/state/": (Call("GET", "/v1/health/state/any"),),
    "/v1/health/service/": (Call("GET", "/v1/health/service/web"),),
    "/v1/health/connect/": (Call("GET", "/v1/health/connect/web"),),
    "/v1/health/ingress/": (Call("GET", "/v1/health/ingress/web"),),
    "/v1/kv/": (
        Call("GET", "/v1/kv/app/key"),
        Call("GET", "/v1/kv/app/?recurse"),
        Call("GET", "/v1/kv/app/?keys"),
        Call("GET", "/v1/kv/?keys"),
        Call("PUT", "/v1/kv/app/key", b"new"),
        Call("PUT", "/v1/kv/app/key?cas=0", b"new"),
        Call("DELETE", "/v1/kv/app/key"),
        Call("DELETE", "/v1/kv/app/?recurse"),
    ),
    "/v1/operator/raft/peer": (Call("DELETE", "/v1/operator/raft/peer?address=10.0.0.9:8300"),),
    "/v1/operator/keyring": tuple(
        Call(method, "/v1/operator/keyring", {"Key": GOSSIP_KEY})
        for method in ("POST", "PUT", "DELETE")
    ),
    # An execute is never refused: its answer (Service, DNS...) is filtered to no Nodes,
    # which test_prepared_query.py checks; the GET here is the explain that refuses.
    "/v1/query": (Call("POST", "/v1/query", {"Name": "mine", "Service": {"Service": "web"}}),),
    "/v1/query/": (
        Call("GET", "/v1/query/{query}"),
        Call("GET", "/v1/query/web-query/explain"),
        Call("PUT", "/v1/query/{query}", {"Name": "web-query", "Service": {"Service": "db"}}),
        Call("DELETE", "/v1/query/{query}"),
    ),
    # Peering: a body that passes the HTTP half's 400s and the token checks, so the RPC's
    # peering:write is what refuses (agent/rpc/peering/service.go).
    "/v1/peering/token": (Call("POST", "/v1/peering/token", {"PeerName": "east"}),),
    "/v1/peering/establish": (Call("POST", "/v1/peering/establish", {
        "PeerName": "west", "PeeringToken": PEERING_TOKEN}),),
    # -- connect.ca (agent/consul/connect_ca_endpoint.go: operator:write; Sign: service:write)
    "/v1/connect/ca/configuration": (Call("PUT", "/v1/connect/ca/configuration", {
        "Provider": "consul", "Config": {"LeafCertTTL": "24h"}}),),
    "/v1/agent/connect/ca/leaf/": (Call("GET", "/v1/agent/connect/ca/leaf/web"),),
    # -- connect.intentions, agent.connect.authorize (agent/consul/intention_endpoint.go:
    # intention:write on the destination, Get/List filtered by intention:read, Match
    # intention:read, Check service:read; authorize service:write on the target)
    "/v1/connect/intentions": (
        Call("GET", "/v1/connect/intentions"),
        Call("POST", "/v1/connect/intentions",
             {"SourceName": "web", "DestinationName": "api", "Action": "allow"}),
    ),
    "/v1/connect/intentions/exact": tuple(
        Call(method, "/v1/connect/intentions/exact?source=web&destination=db",
             {"Action": "deny"} if method == "PUT" else None)
        for method in ("GET", "PUT", "DELETE")
    ),
    "/v1/connect/intentions/match": (
        Call("GET", "/v1/connect/intentions/match?by=destination&name=db"),),
    "/v1/connect/intentions/check": (
        Call("GET", "/v1/connect/intentions/check?source=web&destination=db"),),
    "/v1/connect/intentions/": (
        Call("GET", "/v1/connect/intentions/{intention}"),
        Call("PUT", "/v1/connect/intentions/{intention}",
             {"SourceName": "web", "DestinationName": "legacy", "Action": "deny"}),
        Call("DELETE", "/v1/connect/intentions/{intention}"),
    ),
    "/v1/agent/connect/authorize": (Call("POST", "/v1/agent/connect/authorize", {
        "Target": "db", "ClientCertURI": "spiffe://x.consul/ns/default/dc/dc1/svc/web"}),),
    # SnapshotAllowed (acl:write) comes before the archive is read.
    "/v1/snapshot": (Call("GET", "/v1/snapshot"), Call("PUT", "/v1/snapshot", b"archive")),
    "/v1/session/create": (Call("PUT", "/v1/session/create"),),
    "/v1/session/destroy/": (Call("PUT", "/v1/session/destroy/{session}"),),
    "/v1/session/renew/": (Call("PUT", "/v1/session/renew/{session}"),),
    "/v1/session/info/": (Call("GET", "/v1/session/info/{session}"),),
    "/v1/session/node/": (Call("GET", f"/v1/session/node/{NODE}"),),
    "/v1/txn": (
        Call("PUT", "/v1/txn", [{"KV": {"Verb": "set", "Key": "app/key", "Value": "eA=="}}]),
        Call("PUT", "/v1/txn", [{"KV": {"Verb": "get", "Key": "app/key"}}]),
        Call("PUT", "/v1/txn", [{"Node": {"Verb": "get", "Node": {"Node": NODE}}}]),
    ),
}

#: Calls whose filtered answer cannot be told from an empty store: nothing the dev agent can
#: hold makes them answer anything (ingress gateways need config entries it does not have).
NOTHING_TO_SEED: frozenset[str] = frozenset({"/v1/health/ingress/web"})

#: Calls known to fail the net today, each with the reason. A strict xfail: once the route
#: refuses, filters, or is marked no_acl, the call passes and must leave this list.
KNOWN_MISSING: dict[tuple[str, str], str] = {}


def generic(route: Route, method: str) -> Call:
    path = route.pattern + ("x" if route.subtree else "")
    return Call(method, path, {} if method == "PUT" else None)


def cases() -> list[Any]:
    out = []
    for route in ROUTES:
        calls = list(CALLS.get(route.pattern, ()))
        covered = {c.method for c in calls}
        calls += [generic(route, m) for m in route.methods if m not in covered]
        for call in calls:
            marks = []
            reason = KNOWN_MISSING.get((route.pattern, call.method))
            if reason:
                marks.append(pytest.mark.xfail(reason=reason, strict=True))
            out.append(pytest.param(route, call, id=f"{call.method} {call.path}", marks=marks))
    return out


async def request(
    api: Api, call: Call, ids: dict[str, str], headers: dict[str, str] | None
) -> Reply:
    path, body = call.encoded(ids)
    # A bound, not an assertion: a route that wrongly serves the monitor would never end.
    return await asyncio.wait_for(api.request(call.method, path, body, headers=headers), 30)


async def seed(api: Api, admin: dict[str, str], *, coordinates: bool) -> dict[str, str]:
    """Something of every kind, written with a management token; the IDs it made."""
    writes: list[tuple[str, Any]] = [
        ("/v1/kv/app/key", b"v"),
        ("/v1/event/fire/deploy", None),
        ("/v1/agent/service/register",
         {"Name": "web", "ID": "web1", "Port": 80, "Check": {"TTL": "30s"}}),
        ("/v1/agent/service/register", WEB_PROXY),
        ("/v1/agent/check/register", {"Name": "mem", "TTL": "30s"}),
        ("/v1/catalog/register", {"Node": "other", "Address": "10.0.0.2",
                                  "Service": {"Service": "db"}}),
        ("/v1/connect/intentions/exact?source=web&destination=db", {"Action": "allow"}),
    ]
    for path, body in writes:
        data = body if body is None or isinstance(body, bytes) else json.dumps(body)
        reply = await api.put(path, data, headers=admin)
        assert reply.status == 200, (path, reply.text)
    session = (await api.put("/v1/session/create", headers=admin)).json()["ID"]
    query = await api.request("POST", "/v1/query", json.dumps(
        {"Name": "web-query", "Service": {"Service": "web"}}), headers=admin)
    assert query.status == 200, query.text
    legacy = await api.request("POST", "/v1/connect/intentions", json.dumps(
        {"SourceName": "web", "DestinationName": "legacy", "Action": "allow"}), headers=admin)
    assert legacy.status == 200, legacy.text
    if coordinates:
        body = json.dumps({"Node": NODE, "Coord": COORD})
        assert (await api.put("/v1/coordinate/update", body, headers=admin)).status == 200
        for _ in range(200):
            if (await api.get("/v1/coordinate/nodes", headers=admin)).json():
                break
            await asyncio.sleep(0.02)
        else:
            raise AssertionError("the coordinate was never applied")
    return {"session": session, "query": query.json()["ID"], "intention": legacy.json()["ID"]}


def denied_txn(reply: Reply) -> bool:
    """A transaction refused in preCheck: 409, every error a permission denial."""
    if reply.status != 409:
        return False
    errors = reply.json()["Errors"] or []
    return bool(errors) and all(e["What"].startswith("Permission denied") for e in errors)


def empty(reply: Reply) -> bool:
    """An answer with nothing in it: a bare 404, an empty JSON document, no txn results."""
    if reply.status == 404:
        return reply.body == b""
    if reply.status != 200:
        return False
    try:
        value = json.loads(reply.body)
    except ValueError:
        return False
    if isinstance(value, dict) and "Results" in value and "Errors" in value:
        return not value["Results"]  # a read-only transaction
    if isinstance(value, dict):  # {} or a struct of nothing ({"Node": null, "Services": null})
        return all(v is None for v in value.values())
    return value in ([], None)


@pytest.mark.parametrize(("route", "call"), cases())
async def test_every_route_refuses_filters_or_is_marked(
    api: Api, grants: GrantResolver, route: Route, call: Call
) -> None:
    admin = grants.grant("admin", ADMIN)
    ids = await seed(api, admin, coordinates=call.coordinates)
    reply = await request(api, call, ids, None)
    if route.no_acl:
        assert reply.status != 403, f"marked no_acl ({route.no_acl}) but refused: {reply.text}"
        return
    if reply.status == 403 or denied_txn(reply):
        assert (reply.text.startswith(("Permission denied", GRPC_DENIED))
                or denied_txn(reply)), reply.text
        return
    assert empty(reply), (
        f"{call.method} {call.path} served an anonymous request: {reply.status} {reply.text!r}"
    )
    if call.path in NOTHING_TO_SEED:
        return
    full = await request(api, call, ids, admin)
    assert not empty(full), (
        f"{call.method} {call.path} is empty for a management token too: the test seeds "
        "nothing it could have hidden"
    )


def test_every_marked_route_says_why() -> None:
    """A ``no_acl`` marker names the Consul handler that checks nothing."""
    marked = {r.pattern: r.no_acl for r in ROUTES if r.no_acl}
    assert marked, "no route is marked: the marker is unused"
    assert all(len(reason) > 10 for reason in marked.values()), marked
