"""Connect intentions over HTTP (``agent/intentions_endpoint.go``,
``agent/consul/intention_endpoint.go``, ``agent/consul/state/intention.go`` and
``config_entry_intention.go``, ``agent/structs/config_entry_intentions.go``) and
``POST /v1/agent/connect/authorize`` (``agent/agent_endpoint.go``)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aioconsul.testing.acl.authorizer import Permission

from ._acl import ACLApi, acl, acl_agent
from .conftest import Api, GrantResolver

__all__ = ["acl", "acl_agent"]

TRUST = "11111111-2222-3333-4444-555555555555.consul"


def uri(service: str) -> str:
    return f"spiffe://{TRUST}/ns/default/dc/dc1/svc/{service}"


async def upsert(api: Api, source: str, destination: str, body: Any,
                 headers: dict[str, str] | None = None) -> tuple[int, str]:
    reply = await api.put(f"/v1/connect/intentions/exact?source={source}&destination="
                          f"{destination}", json.dumps(body), headers=headers)
    return reply.status, reply.text


async def check(api: Api, source: str, destination: str,
                headers: dict[str, str] | None = None) -> bool:
    reply = await api.get(f"/v1/connect/intentions/check?source={source}&destination="
                          f"{destination}", headers=headers)
    assert reply.status == 200, reply.text
    allowed: bool = reply.json()["Allowed"]
    return allowed


async def authorize(api: Api, source: str, target: str,
                    headers: dict[str, str] | None = None) -> dict[str, Any]:
    body = {"Target": target, "ClientCertURI": uri(source), "ClientCertSerial": "01"}
    reply = await api.request("POST", "/v1/agent/connect/authorize", json.dumps(body),
                              headers=headers)
    assert reply.status == 200, reply.text
    answer: dict[str, Any] = reply.json()
    return answer


# -- the config entry behind the intentions ----------------------------------------------


async def test_upsert_get_delete_kept_in_the_destinations_config_entry(api: Api) -> None:
    assert await upsert(api, "web", "db", {"Action": "allow", "Description": "d"}) == (
        200, "true")
    assert await upsert(api, "*", "db", {"Action": "deny"}) == (200, "true")
    got = (await api.get("/v1/connect/intentions/exact?source=web&destination=db")).json()
    entry = (await api.get("/v1/config/service-intentions/db")).json()
    assert got == {
        "Description": "d", "SourceNS": "default", "SourceName": "web",
        "DestinationNS": "default", "DestinationName": "db", "SourceType": "consul",
        "Action": "allow", "Precedence": 9, "CreateIndex": entry["CreateIndex"],
        "ModifyIndex": entry["ModifyIndex"],
    }
    assert entry["Sources"] == [
        {"Name": "web", "Action": "allow", "Precedence": 9, "Type": "consul",
         "Description": "d"},
        {"Name": "*", "Action": "deny", "Precedence": 8, "Type": "consul"},
    ]
    assert entry["CreateIndex"] < entry["ModifyIndex"]  # one entry, two writes
    assert (await api.delete("/v1/connect/intentions/exact?source=web&destination=db")).json()
    entry = (await api.get("/v1/config/service-intentions/db")).json()
    assert [s["Name"] for s in entry["Sources"]] == ["*"]
    assert (await api.delete("/v1/connect/intentions/exact?source=*&destination=db")).json()
    gone = await api.get("/v1/config/service-intentions/db")
    assert gone.status == 404  # intentionMutationDelete: the entry goes with its last source
    missing = await api.get("/v1/connect/intentions/exact?source=web&destination=db")
    assert (missing.status, missing.text) == (404, "Intention not found")
    # by-name deletions are idempotent
    assert (await api.delete("/v1/connect/intentions/exact?source=web&destination=db")).json()


async def test_a_config_entry_write_shows_in_the_intention_endpoints(api: Api) -> None:
    entry = {"Kind": "service-intentions", "Name": "api", "Meta": {"team": "a"},
             "Sources": [{"Name": "*", "Action": "allow"}, {"Name": "web", "Action": "deny"}]}
    assert (await api.put("/v1/config", json.dumps(entry))).json() is True
    listed = (await api.get("/v1/connect/intentions")).json()
    assert [(i["SourceName"], i["Action"], i["Precedence"]) for i in listed] == [
        ("web", "deny", 9), ("*", "allow", 8)]
    assert all(i["Meta"] == {"team": "a"} for i in listed)  # the entry's Meta
    stored = (await api.get("/v1/config/service-intentions/api")).json()
    assert [s["Name"] for s in stored["Sources"]] == ["web", "*"]  # sorted by precedence
    assert not await check(api, "web", "api")
    assert await check(api, "other", "api")


async def test_meta_is_refused_on_the_exact_endpoint(api: Api) -> None:
    """computeApplyChangesUpsert: Meta lives on the enclosing entry."""
    status, text = await upsert(api, "web", "db", {"Action": "allow", "Meta": {"k": "v"}})
    assert (status, text) == (500, "Meta must not be specified")


async def test_validation_texts(api: Api) -> None:
    """ServiceIntentionsConfigEntry.Validate, run by the FSM: plain errors (500)."""
    assert await upsert(api, "w*b", "db", {"Action": "allow"}) == (
        500, "Sources[0].Name: wildcard character '*' cannot be used with partial values")
    assert await upsert(api, "web", "db", {}) == (
        500, "Sources[0].Action must be set to 'allow' or 'deny'")
    assert await upsert(api, "web", "d*", {"Action": "allow"}) == (
        500, "Name: wildcard character '*' cannot be used with partial values")
    perms = [{"Action": "allow", "HTTP": {"PathPrefix": "/x"}}]
    assert await upsert(api, "web", "*", {"Permissions": perms}) == (
        500, "Sources[0].Permissions cannot be specified on intentions with wildcarded "
        "destinations")
    entry = {"Kind": "service-intentions", "Name": "db"}
    reply = await api.put("/v1/config", json.dumps(entry))
    assert (reply.status, reply.text) == (500, "At least one source is required")


async def test_query_parameter_errors(api: Api) -> None:
    """parseIntentionQueryExact and IntentionMatch return plain errors: HTTP 500."""
    cases = {
        "/v1/connect/intentions/exact?destination=db": "required query parameter 'source' not set",
        "/v1/connect/intentions/exact?source=web":
            "required query parameter 'destination' not set",
        "/v1/connect/intentions/exact?source=a/b/c/d&destination=db":
            'source "a/b/c/d" is invalid: input can contain at most two \'/\'',
        "/v1/connect/intentions/match?name=db": "required query parameter 'by' not set",
        "/v1/connect/intentions/match?by=x&name=db":
            "'by' parameter must be one of 'source' or 'destination'",
        "/v1/connect/intentions/match?by=source": "required query parameter 'name' not set",
        "/v1/connect/intentions/check?source=web":
            "required query parameter 'destination' not set",
        "/v1/connect/intentions/check?source=web&destination=db&source-type=x":
            'unsupported SourceType: "x"',
    }
    for path, text in cases.items():
        reply = await api.get(path)
        assert (reply.status, reply.text) == (500, text), path
    reply = await api.put("/v1/connect/intentions/exact?source=web&destination=db", "{")
    assert reply.status == 400 and reply.text.startswith("Request decode failed: "), reply.text


# -- precedence: list, match, check, authorize -------------------------------------------


async def test_match_lists_in_precedence_order_and_null_without_any(api: Api) -> None:
    await upsert(api, "*", "*", {"Action": "deny"})
    await upsert(api, "web", "*", {"Action": "allow"})
    await upsert(api, "*", "db", {"Action": "deny"})
    await upsert(api, "web", "db", {"Action": "allow"})
    reply = await api.get("/v1/connect/intentions/match?by=destination&name=db&name=zzz")
    found = reply.json()
    assert [(i["SourceName"], i["DestinationName"], i["Precedence"]) for i in found["db"]] == [
        ("web", "db", 9), ("*", "db", 8), ("web", "*", 6), ("*", "*", 5)]
    assert [(i["SourceName"], i["DestinationName"]) for i in found["zzz"]] == [
        ("web", "*"), ("*", "*")]
    by_source = (await api.get("/v1/connect/intentions/match?by=source&name=web")).json()
    assert [(i["SourceName"], i["DestinationName"]) for i in by_source["web"]] == [
        ("web", "db"), ("*", "db"), ("web", "*"), ("*", "*")]
    assert reply.index == (await api.get("/v1/connect/intentions")).index
    await api.delete("/v1/connect/intentions/exact?source=*&destination=*")
    await api.delete("/v1/connect/intentions/exact?source=web&destination=*")
    empty = (await api.get("/v1/connect/intentions/match?by=destination&name=zzz")).json()
    assert empty == {"zzz": None}  # a nil slice in Go


async def test_exact_beats_wildcard_and_authorize_agrees_with_check(api: Api) -> None:
    """Without ACLs the default (no intention matching) is allow."""
    assert await check(api, "web", "db")
    assert await authorize(api, "web", "db") == {
        "Authorized": True, "Reason": "Default behavior configured by ACLs"}
    await upsert(api, "*", "db", {"Action": "deny"})
    await upsert(api, "web", "db", {"Action": "allow"})
    assert await check(api, "web", "db")
    assert not await check(api, "api", "db")
    assert await authorize(api, "web", "db") == {
        "Authorized": True,
        "Reason": "Matched L4 intention: default/web => default/db (Precedence: 9, "
                  "Action: ALLOW)"}
    assert await authorize(api, "api", "db") == {
        "Authorized": False,
        "Reason": "Matched L4 intention: default/* => default/db (Precedence: 8, "
                  "Action: DENY)"}


async def test_l7_permissions_are_stored_and_deny_a_connection_check(api: Api) -> None:
    """Intention.Check and AgentConnectAuthorize treat an L7 intention as deny."""
    defaults = {"Kind": "service-defaults", "Name": "db", "Protocol": "http"}
    assert (await api.put("/v1/config", json.dumps(defaults))).json() is True
    perms = [{"Action": "allow", "HTTP": {"PathPrefix": "/v1", "Methods": ["get"]}}]
    assert await upsert(api, "web", "db", {"Permissions": perms}) == (200, "true")
    got = (await api.get("/v1/connect/intentions/exact?source=web&destination=db")).json()
    assert got["Permissions"] == [
        {"Action": "allow", "HTTP": {"PathPrefix": "/v1", "Methods": ["GET"]}}]
    assert "Action" not in got
    assert not await check(api, "web", "db")
    answer = await authorize(api, "web", "db")
    assert answer == {"Authorized": False, "Reason": "Matched L7 intention: default/web => "
                      "default/db (Precedence: 9, Permissions: 1)"}


async def test_list_filter_and_bad_filter(api: Api) -> None:
    await upsert(api, "web", "db", {"Action": "allow"})
    await upsert(api, "api", "db", {"Action": "deny"})
    reply = await api.get("/v1/connect/intentions?filter=Action%20%3D%3D%20%22deny%22")
    assert [i["SourceName"] for i in reply.json()] == ["api"]
    bad = await api.get("/v1/connect/intentions?filter=Nope%20%3D%3D%201")
    assert bad.status == 500 and 'Selector "Nope" is not valid' in bad.text, bad.text


async def test_list_blocks_until_an_intention_changes(api: Api) -> None:
    first = await api.get("/v1/connect/intentions")

    async def later() -> None:
        await asyncio.sleep(0.05)
        await upsert(api, "web", "db", {"Action": "allow"})

    task = asyncio.ensure_future(later())
    reply = await api.get(f"/v1/connect/intentions?index={first.index}&wait=10s")
    await task
    assert reply.index > first.index
    assert [i["SourceName"] for i in reply.json()] == ["web"]


async def test_authorize_request_errors(api: Api) -> None:
    """AgentConnectAuthorize's 400s, in its order."""
    async def post(body: Any) -> tuple[int, str]:
        reply = await api.request("POST", "/v1/agent/connect/authorize", json.dumps(body))
        return reply.status, reply.text

    assert await post({}) == (400, "Target service must be specified")
    assert await post({"Target": "db", "ClientCertURI": "http://x"}) == (
        400, "ClientCertURI not a valid Connect identifier")
    agent = f"spiffe://{TRUST}/agent/client/dc/dc1/id/n1"
    assert await post({"Target": "db", "ClientCertURI": agent}) == (
        400, "ClientCertURI not a valid Service identifier")
    assert await post({"Target": "db", "ClientCertURI": uri("web"), "Nope": 1}) == (
        400, 'Request decode failed: json: unknown field "Nope"')


# -- the deprecated ID-addressed API ------------------------------------------------------


async def test_legacy_create_read_update_delete(api: Api) -> None:
    body = {"SourceName": "web", "DestinationName": "api", "Action": "allow",
            "Meta": {"k": "v"}}
    created = await api.request("POST", "/v1/connect/intentions", json.dumps(body))
    ixn_id = created.json()["ID"]
    got = (await api.get(f"/v1/connect/intentions/{ixn_id}")).json()
    assert got["ID"] == ixn_id and got["Meta"] == {"k": "v"} and got["Precedence"] == 9
    assert got["CreatedAt"] == got["UpdatedAt"] and got["Hash"]
    entry = (await api.get("/v1/config/service-intentions/api")).json()
    assert entry["Sources"][0]["LegacyID"] == ixn_id
    assert entry["Sources"][0]["LegacyMeta"] == {"k": "v"}
    update = {**body, "Action": "deny"}
    reply = await api.put(f"/v1/connect/intentions/{ixn_id}", json.dumps(update))
    assert reply.json() == {"ID": ixn_id}
    updated = (await api.get(f"/v1/connect/intentions/{ixn_id}")).json()
    assert updated["Action"] == "deny" and updated["CreatedAt"] == got["CreatedAt"]
    moved = {**body, "DestinationName": "other"}
    reply = await api.put(f"/v1/connect/intentions/{ixn_id}", json.dumps(moved))
    assert (reply.status, reply.text) == (500, "Cannot modify Destination partition/"
                                               "namespace/name for an intention once it exists.")
    assert (await api.delete(f"/v1/connect/intentions/{ixn_id}")).json() is True
    assert (await api.get("/v1/config/service-intentions/api")).status == 404
    gone = await api.get(f"/v1/connect/intentions/{ixn_id}")
    assert (gone.status, gone.text) == (404, "Intention not found")
    reply = await api.delete(f"/v1/connect/intentions/{ixn_id}")
    assert (reply.status, reply.text) == (
        500, f"Cannot delete non-existent intention: '{ixn_id}'")


async def test_legacy_api_refuses_an_entry_written_otherwise(api: Api) -> None:
    """checkLegacyIntentionApplyAllowed."""
    await upsert(api, "web", "db", {"Action": "allow"})
    body = {"SourceName": "api", "DestinationName": "db", "Action": "allow"}
    reply = await api.request("POST", "/v1/connect/intentions", json.dumps(body))
    assert (reply.status, reply.text) == (
        500, 'cannot use legacy intention API to edit intentions with a destination of "db" '
             "after editing them via a service-intentions config entry")


async def test_legacy_id_must_look_like_a_uuid(api: Api) -> None:
    """IntentionSpecificGet: an error naming a UUID is a 400."""
    reply = await api.get("/v1/connect/intentions/nope")
    assert (reply.status, reply.text) == (
        400, "failed config entry lookup: UUID must be 36 characters")


# -- ACLs ---------------------------------------------------------------------------------


async def test_acl_default_deny_is_the_default_decision(acl: ACLApi) -> None:
    """IntentionDefaultAllow follows the ACL default policy (deny here)."""
    policy = await acl.policy("p", 'service_prefix "" { policy = "write" }')
    secret = (await acl.token(Policies=[{"ID": policy["ID"]}]))["SecretID"]
    headers = {"X-Consul-Token": secret}
    assert not await check(acl, "web", "db", headers)
    assert await authorize(acl, "web", "db", headers) == {
        "Authorized": False, "Reason": "Default behavior configured by ACLs"}
    await acl.ok("PUT", "/v1/connect/intentions/exact?source=web&destination=db",
                 {"Action": "allow"})
    assert await check(acl, "web", "db", headers)
    assert (await authorize(acl, "web", "db", headers))["Authorized"] is True
    assert not await check(acl, "api", "db", headers)


async def test_acl_lines(api: Api, grants: GrantResolver) -> None:
    admin = grants.grant("admin", {p: ("",) for p in Permission})
    await upsert(api, "web", "db", {"Action": "allow"}, admin)
    await upsert(api, "web", "api", {"Action": "allow"}, admin)
    reader = grants.grant("reader", {Permission.INTENTION_READ: ("db",)})
    listed = await api.get("/v1/connect/intentions", headers=reader)
    assert [i["DestinationName"] for i in listed.json()] == ["db"]
    assert listed.headers.get("X-Consul-Results-Filtered-By-ACLs") == "true"
    hidden = await api.get("/v1/connect/intentions/exact?source=web&destination=api",
                           headers=reader)
    assert (hidden.status, hidden.text) == (403, "Permission denied")
    write = await upsert(api, "web", "db", {"Action": "deny"}, reader)
    assert write == (403, "Permission denied")
    match = await api.get("/v1/connect/intentions/match?by=destination&name=api",
                          headers=reader)
    assert match.status == 403 and match.text == (
        "Permission denied: token with AccessorID 'accessor-reader' lacks permission "
        "'intention:read' on \"api\"")
    checked = await api.get("/v1/connect/intentions/check?source=web&destination=db",
                            headers=reader)
    assert checked.status == 403 and "'service:read' on \"db\"" in checked.text
    body = json.dumps({"Target": "db", "ClientCertURI": uri("web")})
    refused = await api.request("POST", "/v1/agent/connect/authorize", body, headers=reader)
    assert refused.status == 403 and "'service:write' on \"db\"" in refused.text
