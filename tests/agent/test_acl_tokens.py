"""ACL tokens over HTTP: ``agent/acl_endpoint.go`` (ACLToken*), ``agent/consul/acl_endpoint.go``
(TokenRead, TokenSet, TokenClone, TokenDelete, TokenList), ``agent/consul/auth/token_writer.go``,
``agent/consul/acl_token_exp.go`` (reaping) and ``agent/consul/state/acl.go``."""

from __future__ import annotations

import asyncio
import re

from aioconsul.testing import DevAgent
from aioconsul.testing.golang.stdlib import MINUTE

from ._acl import ROOT, ACLApi, acl, acl_agent

__all__ = ["acl", "acl_agent"]

ANONYMOUS = "00000000-0000-0000-0000-000000000002"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


async def test_a_token_links_policies_by_name_or_id(acl: ACLApi) -> None:
    a = await acl.policy("a", "")
    await acl.policy("b", "")
    token = await acl.token(Description="t", Policies=[{"ID": a["ID"]}, {"Name": "b"},
                                                         {"Name": "a"}])
    assert UUID.fullmatch(token["AccessorID"]) and UUID.fullmatch(token["SecretID"])
    assert [p["Name"] for p in token["Policies"]] == ["a", "b"]  # de-duplicated by ID
    assert list(token) == ["AccessorID", "SecretID", "Description", "Policies", "Local",
                           "CreateTime", "Hash", "CreateIndex", "ModifyIndex"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)",
                        token["CreateTime"])


async def test_unknown_links_are_refused(acl: ACLApi) -> None:
    missing = await acl.call("PUT", "/v1/acl/token", {"Policies": [{"Name": "nope"}]})
    assert (missing.status, missing.text) == (500, 'No such ACL policy with name "nope"')
    by_id = await acl.call("PUT", "/v1/acl/token",
                           {"Roles": [{"ID": "5e52a099-4c90-c067-5478-980f06be9af5"}]})
    assert by_id.text == 'No such ACL role with ID "5e52a099-4c90-c067-5478-980f06be9af5"'


async def test_identities_are_validated(acl: ACLApi) -> None:
    cases = [
        ({"ServiceIdentities": [{"ServiceName": ""}]},
         "Service identity is missing the service name field on this token"),
        ({"ServiceIdentities": [{"ServiceName": "Web"}]},
         'Service identity "Web" has an invalid name. Only lowercase alphanumeric characters, '
         "'-' and '_' are allowed"),
        ({"Local": True, "ServiceIdentities": [{"ServiceName": "web", "Datacenters": ["dc1"]}]},
         'Service identity "web" cannot specify a list of datacenters on a local token'),
        ({"NodeIdentities": [{"NodeName": "n1"}]},
         "Node identity is missing the datacenter field on this token"),
        ({"TemplatedPolicies": [{"TemplateName": "builtin/nope"}]},
         'no such ACL templated policy with Name "builtin/nope"'),
    ]
    for body, text in cases:
        reply = await acl.call("PUT", "/v1/acl/token", body)
        assert (reply.status, reply.text) == (500, text), body


async def test_chosen_ids_must_be_free_unreserved_uuids(acl: ACLApi) -> None:
    accessor = "5e52a099-4c90-c067-5478-980f06be9af5"
    token = await acl.token(AccessorID=accessor, SecretID="a4c0e7e0-0000-4c90-8000-000000000001")
    assert token["AccessorID"] == accessor
    again = await acl.call("PUT", "/v1/acl/token", {"AccessorID": accessor})
    assert again.text == "Invalid Token: AccessorID is already in use"
    reserved = await acl.call("PUT", "/v1/acl/token", {"SecretID": ANONYMOUS})
    assert reserved.text == ('Invalid Token: SecretID - UUIDs with the prefix '
                             '"00000000-0000-0000-0000-0000000000" are reserved')
    bad = await acl.call("PUT", "/v1/acl/token", {"AccessorID": "x"})
    assert bad.text == "Invalid Token: AccessorID - not a valid UUID"


async def test_secrets_are_hidden_from_acl_read_only_tokens(acl: ACLApi) -> None:
    """aclfilter: without acl:write a token reads every SecretID as "<hidden>"."""
    reader = await acl.policy("reader", 'acl = "read"')
    token = await acl.token(Policies=[{"ID": reader["ID"]}])
    listed = await acl.ok("GET", "/v1/acl/tokens", token=token["SecretID"])
    assert {t["SecretID"] for t in listed} == {"<hidden>"}
    read = await acl.ok("GET", f"/v1/acl/token/{token['AccessorID']}", token=token["SecretID"])
    assert read["SecretID"] == "<hidden>"
    own = await acl.ok("GET", "/v1/acl/token/self", token=token["SecretID"])
    assert own["SecretID"] == token["SecretID"]  # reading by secret needs no permission


async def test_the_list_is_in_secret_id_order_and_filters(acl: ACLApi) -> None:
    """ACLTokenList iterates memdb's "id" index (the SecretID); at most one filter."""
    policy = await acl.policy("p", "")
    with_policy = await acl.token(Policies=[{"ID": policy["ID"]}])
    with_service = await acl.token(ServiceIdentities=[{"ServiceName": "web"}])
    listed = await acl.ok("GET", "/v1/acl/tokens")
    secrets = [t["SecretID"] for t in listed]
    assert secrets == sorted(secrets) and ROOT in secrets and "anonymous" in secrets
    by_policy = await acl.ok("GET", f"/v1/acl/tokens?policy={policy['ID']}")
    assert [t["AccessorID"] for t in by_policy] == [with_policy["AccessorID"]]
    by_service = await acl.ok("GET", "/v1/acl/tokens?servicename=WEB")
    assert [t["AccessorID"] for t in by_service] == [with_service["AccessorID"]]
    both = await acl.call("GET", f"/v1/acl/tokens?policy={policy['ID']}&servicename=web")
    assert (both.status, both.text) == (
        500, "can only filter by one of policy, role, serviceName, or authMethod at a time")
    ns = await acl.call("GET", "/v1/acl/tokens?authmethod-ns=x")
    assert ns.status == 400


async def test_update_keeps_the_immutable_fields(acl: ACLApi) -> None:
    token = await acl.token(Description="before", ExpirationTTL="10m")
    accessor = token["AccessorID"]
    updated = await acl.ok("PUT", f"/v1/acl/token/{accessor}", {"Description": "after"})
    assert updated["SecretID"] == token["SecretID"]
    assert updated["ExpirationTime"] == token["ExpirationTime"]
    assert updated["CreateTime"] == token["CreateTime"]
    cases = [
        ({"SecretID": "5e52a099-4c90-c067-5478-980f06be9af5"},
         "Changing a token's SecretID is not permitted"),
        ({"Local": True}, f"Cannot toggle local mode of {accessor}"),
        ({"ExpirationTTL": "5m"}, f"Cannot change expiration time of {accessor}"),
        ({"AuthMethod": "x"}, f"Cannot change AuthMethod of {accessor}"),
    ]
    for body, text in cases:
        reply = await acl.call("PUT", f"/v1/acl/token/{accessor}", body)
        assert (reply.status, reply.text) == (500, text), body
    mismatch = await acl.call("PUT", f"/v1/acl/token/{accessor}", {"AccessorID": ANONYMOUS})
    assert (mismatch.status, mismatch.text) == (
        400, "Token Accessor ID in URL and payload do not match")
    unknown = await acl.call("PUT", "/v1/acl/token/5e52a099-4c90-c067-5478-980f06be9af5", {})
    assert unknown.text == 'Cannot find token "5e52a099-4c90-c067-5478-980f06be9af5"'


async def test_expiration_ttl_bounds(acl: ACLApi) -> None:
    """TokenWriter.Create: ExpirationTTL becomes ExpirationTime = CreateTime + TTL, within
    acl.token_min_expiration_ttl (1m) and token_max_expiration_ttl (24h)."""
    short = await acl.call("PUT", "/v1/acl/token", {"ExpirationTTL": "30s"})
    assert short.text == "ExpirationTime cannot be less than 1m0s in the future (was 30s)"
    long = await acl.call("PUT", "/v1/acl/token", {"ExpirationTTL": "25h"})
    assert long.text == "ExpirationTime cannot be more than 24h0m0s in the future (was 25h0m0s)"
    negative = await acl.call("PUT", "/v1/acl/token", {"ExpirationTTL": "-1m"})
    assert negative.text == "Token Expiration TTL '-1m0s' should be > 0"
    both = await acl.call("PUT", "/v1/acl/token",
                          {"ExpirationTTL": "5m", "ExpirationTime": "2099-01-01T00:00:00Z"})
    assert both.text == "Token Expiration TTL and Expiration Time cannot both be set"
    bad = await acl.call("PUT", "/v1/acl/token", {"ExpirationTTL": "soon"})
    assert (bad.status, bad.text) == (
        400, 'Token decoding failed: time: invalid duration "soon"')
    ok = await acl.token(ExpirationTTL=90 * 1_000_000_000)  # a number is nanoseconds
    assert "ExpirationTime" in ok and "ExpirationTTL" not in ok


async def test_an_expired_token_stops_resolving_then_is_reaped(
    acl: ACLApi, acl_agent: DevAgent
) -> None:
    """IsExpired is checked on every resolution and read; the leader's reaper then deletes
    the expired tokens in one Raft entry (acl_token_exp.go)."""
    token = await acl.token(ExpirationTTL="2m", ServiceIdentities=[{"ServiceName": "web"}])
    acl_store = acl_agent.backend.acl_store
    real = acl_store.wall_clock
    acl_store.wall_clock = lambda: real() + 3 * MINUTE  # the clock moves past ExpirationTime
    used = await acl.call("GET", "/v1/acl/token/self", token=token["SecretID"])
    assert (used.status, used.text) == (404, "Supplied token does not exist")
    kv = await acl.call("PUT", "/v1/kv/x", "1", token=token["SecretID"])
    assert (kv.status, kv.text) == (403, "ACL not found")
    listed = await acl.call("GET", "/v1/acl/tokens")
    assert token["AccessorID"] not in {t["AccessorID"] for t in listed.json()}
    read = await acl.call("GET", f"/v1/acl/token/{token['AccessorID']}")
    assert read.status == 404
    assert acl_store.reap_expired() == 1
    after = await acl.call("GET", "/v1/acl/tokens")
    assert after.index > listed.index


async def test_clone_copies_links_and_identities(acl: ACLApi) -> None:
    policy = await acl.policy("p", "")
    original = await acl.token(Description="orig", Policies=[{"ID": policy["ID"]}],
                               NodeIdentities=[{"NodeName": "n1", "Datacenter": "dc1"}])
    clone = await acl.ok("PUT", f"/v1/acl/token/{original['AccessorID']}/clone",
                         {"Description": "copy"})
    assert clone["AccessorID"] != original["AccessorID"]
    assert clone["Description"] == "copy"
    assert clone["Policies"] == original["Policies"]
    assert clone["NodeIdentities"] == original["NodeIdentities"]
    unknown = await acl.call("PUT", "/v1/acl/token/5e52a099-4c90-c067-5478-980f06be9af5/clone",
                             {})
    assert (unknown.status, unknown.text) == (403, "ACL not found")


async def test_delete_refuses_the_anonymous_token_and_the_callers_own(acl: ACLApi) -> None:
    anonymous = await acl.call("DELETE", f"/v1/acl/token/{ANONYMOUS}")
    assert anonymous.text == "Delete operation not permitted on the anonymous token"
    me = await acl.ok("GET", "/v1/acl/token/self")
    own = await acl.call("DELETE", f"/v1/acl/token/{me['AccessorID']}")
    assert own.text == "Deletion of the request's authorization token is not permitted"
    bad = await acl.call("DELETE", "/v1/acl/token/nope")
    assert bad.text == "Accessor ID is missing or an invalid UUID"
    token = await acl.token()
    assert await acl.ok("DELETE", f"/v1/acl/token/{token['AccessorID']}") is True
    gone = await acl.call("GET", "/v1/acl/token/self", token=token["SecretID"])
    assert gone.status == 404
    unknown_caller = await acl.call("DELETE", f"/v1/acl/token/{token['AccessorID']}",
                                    token="nope")
    assert (unknown_caller.status, unknown_caller.text) == (404, "Cannot find token to delete")


async def test_token_self_without_a_token(acl: ACLApi) -> None:
    reply = await acl.call("GET", "/v1/acl/token/self", token=None)
    assert (reply.status, reply.text) == (404, "Supplied token does not exist")
    missing = await acl.call("GET", "/v1/acl/token/")
    assert (missing.status, missing.text) == (400, "Missing token AccessorID")
    wrong_method = await acl.call("PUT", "/v1/acl/token/self")
    assert wrong_method.status == 405


async def test_expanded_read_lists_what_is_in_effect(acl: ACLApi) -> None:
    """lookupExpandedTokenInfo: the policies (identities as synthetic policies) and roles."""
    policy = await acl.policy("p", 'key_prefix "" { policy = "read" }')
    role = await acl.ok("PUT", "/v1/acl/role", {"Name": "r", "Policies": [{"ID": policy["ID"]}]})
    token = await acl.token(Roles=[{"Name": "r"}], ServiceIdentities=[{"ServiceName": "web"}])
    expanded = await acl.ok("GET", f"/v1/acl/token/{token['AccessorID']}?expanded")
    assert list(expanded)[-7:] == [
        "ExpandedPolicies", "ExpandedRoles", "NamespaceDefaultPolicyIDs",
        "NamespaceDefaultRoleIDs", "AgentACLDefaultPolicy", "AgentACLDownPolicy",
        "ResolvedByAgent"]
    names = [p["Name"] for p in expanded["ExpandedPolicies"]]
    assert names[0] == "p" and names[1].startswith("synthetic-policy-")
    assert expanded["ExpandedPolicies"][1]["Description"] == (
        'synthetic policy for service identity "web"')
    assert [r["ID"] for r in expanded["ExpandedRoles"]] == [role["ID"]]
    assert (expanded["AgentACLDefaultPolicy"], expanded["AgentACLDownPolicy"]) == (
        "deny", "extend-cache")
    assert expanded["NamespaceDefaultPolicyIDs"] is None


async def test_a_token_read_blocks_until_the_token_changes(acl: ACLApi) -> None:
    token = await acl.token(Description="one")
    first = await acl.call("GET", f"/v1/acl/token/{token['AccessorID']}")

    async def later() -> None:
        await asyncio.sleep(0.05)
        await acl.ok("PUT", f"/v1/acl/token/{token['AccessorID']}", {"Description": "two"})

    task = asyncio.create_task(later())
    woken = await acl.call("GET", f"/v1/acl/token/{token['AccessorID']}?index={first.index}")
    await task
    assert woken.json()["Description"] == "two"
    assert woken.index > first.index
