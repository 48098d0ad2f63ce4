"""ACL policies over HTTP: ``agent/acl_endpoint.go`` (ACLPolicy*), ``agent/consul/acl_endpoint.go``
(PolicySet, PolicyRead, PolicyDelete, PolicyList), ``agent/consul/state/acl.go``."""

from __future__ import annotations

import asyncio

from ._acl import ACLApi, acl, acl_agent

__all__ = ["acl", "acl_agent"]

GLOBAL_MANAGEMENT = "00000000-0000-0000-0000-000000000001"
KV_READ = 'key_prefix "" { policy = "read" }'


async def test_create_read_update_delete(acl: ACLApi) -> None:
    created = await acl.policy("kv-read", KV_READ, Description="reads keys")
    assert list(created) == [
        "ID", "Name", "Description", "Rules", "Hash", "CreateIndex", "ModifyIndex"]
    assert created["CreateIndex"] == created["ModifyIndex"]
    read = await acl.ok("GET", f"/v1/acl/policy/{created['ID']}")
    assert read == created
    updated = await acl.ok("PUT", f"/v1/acl/policy/{created['ID']}",
                           {"Name": "kv-read", "Rules": KV_READ, "Datacenters": ["dc1"]})
    assert updated["Datacenters"] == ["dc1"]
    assert updated["CreateIndex"] == created["CreateIndex"] < updated["ModifyIndex"]
    assert updated["Hash"] != created["Hash"]  # Name, Description, Rules, Datacenters
    assert await acl.ok("DELETE", f"/v1/acl/policy/{created['ID']}") is True
    missing = await acl.call("GET", f"/v1/acl/policy/{created['ID']}")
    assert (missing.status, missing.text) == (
        404, "Requested policy does not exist: ACL not found")


async def test_read_by_name_takes_a_slash(acl: ACLApi) -> None:
    """ACLPolicyReadByName: the rest of the path is the name (url.QueryUnescape'd again)."""
    policy = await acl.ok("GET", "/v1/acl/policy/name/builtin/global-read-only")
    assert policy["ID"] == "00000000-0000-0000-0000-000000000002"
    assert (await acl.call("GET", "/v1/acl/policy/name/")).text == "Missing policy Name"
    missing = await acl.call("GET", "/v1/acl/policy/name/nope")
    assert missing.status == 404


async def test_names_are_unique_case_insensitively(acl: ACLApi) -> None:
    """The policies' name index is lower-cased (acl_schema.go); PolicySet's own texts."""
    first = await acl.policy("web", "")
    again = await acl.call("PUT", "/v1/acl/policy", {"Name": "WEB"})
    assert (again.status, again.text) == (
        500, 'Invalid Policy: A Policy with Name "WEB" already exists')
    other = await acl.policy("db", "")
    rename = await acl.call("PUT", f"/v1/acl/policy/{other['ID']}", {"Name": "web"})
    assert rename.text == 'Invalid Policy: A policy with name "web" already exists'
    assert first["Name"] == "web"


async def test_invalid_policies_are_refused_before_raft(acl: ACLApi) -> None:
    cases = [
        ({}, "Invalid Policy: no Name is set"),
        ({"Name": "a b"},
         "Invalid Policy: invalid Name. Only alphanumeric characters, '-' and '_' are allowed"),
        ({"Name": "ok", "Rules": 'key "x" { policy = "maybe" }'}, None),
    ]
    for body, text in cases:
        reply = await acl.call("PUT", "/v1/acl/policy", body)
        assert reply.status == 500, body
        if text is not None:
            assert reply.text == text
        else:
            assert reply.text.startswith("Invalid key policy")
    with_id = await acl.call("PUT", "/v1/acl/policy", {"Name": "x", "ID": GLOBAL_MANAGEMENT})
    assert (with_id.status, with_id.text) == (
        400, "Cannot specify the ID when creating a new policy")
    mismatch = await acl.call("PUT", f"/v1/acl/policy/{GLOBAL_MANAGEMENT}", {"ID": "x"})
    assert (mismatch.status, mismatch.text) == (400, "Policy ID in URL and payload do not match")
    unknown = await acl.call("PUT", "/v1/acl/policy", {"Name": "x", "Namespace": "ns"})
    assert unknown.status == 400
    assert unknown.text == ('Policy decoding failed: json: unknown field "Namespace" '
                            "(Namespaces are a Consul Enterprise feature)")
    bad_id = await acl.call("PUT", "/v1/acl/policy/nope", {"Name": "x"})
    assert (bad_id.status, bad_id.text) == (500, "Policy ID invalid UUID")


async def test_global_management_may_be_renamed_only(acl: ACLApi) -> None:
    gm = await acl.ok("GET", f"/v1/acl/policy/{GLOBAL_MANAGEMENT}")
    rules = await acl.call("PUT", f"/v1/acl/policy/{GLOBAL_MANAGEMENT}",
                           {"Name": "global-management", "Rules": ""})
    assert rules.text == (
        "Changing the Rules for the builtin global-management policy is not permitted")
    dcs = await acl.call("PUT", f"/v1/acl/policy/{GLOBAL_MANAGEMENT}",
                         {"Name": "gm", "Rules": gm["Rules"], "Datacenters": []})
    assert dcs.text == (
        "Changing the Datacenters of the builtin global-management policy is not permitted")
    renamed = await acl.ok("PUT", f"/v1/acl/policy/{GLOBAL_MANAGEMENT}",
                           {"Name": "gm", "Rules": gm["Rules"]})
    assert renamed["Name"] == "gm"
    me = await acl.ok("GET", "/v1/acl/token/self")
    assert me["Policies"] == [{"ID": GLOBAL_MANAGEMENT, "Name": "gm"}]  # links fixed up
    delete = await acl.call("DELETE", f"/v1/acl/policy/{GLOBAL_MANAGEMENT}")
    assert (delete.status, delete.text) == (
        500, "Delete operation not permitted on the builtin global-management policy")


async def test_deleting_a_missing_policy_succeeds(acl: ACLApi) -> None:
    """PolicyDelete returns early when there is nothing to delete."""
    reply = await acl.call("DELETE", "/v1/acl/policy/5e52a099-4c90-c067-5478-980f06be9af5")
    assert (reply.status, reply.text) == (200, "true")


async def test_a_delete_with_an_unknown_token_is_404(acl: ACLApi) -> None:
    """ACLPolicyDelete turns any "ACL not found" error into 404 "Cannot find policy to delete"."""
    policy = await acl.policy("p", "")
    reply = await acl.call("DELETE", f"/v1/acl/policy/{policy['ID']}", token="nope")
    assert (reply.status, reply.text) == (404, "Cannot find policy to delete")
    denied = await acl.call("DELETE", f"/v1/acl/policy/{policy['ID']}", token=None)
    assert denied.status == 403


async def test_a_malformed_id_is_the_state_stores_uuid_error(acl: ACLApi) -> None:
    """memdb's UUIDFieldIndex refuses the lookup; the RPC error is a 500."""
    reply = await acl.call("GET", "/v1/acl/policy/abc")
    assert (reply.status, reply.text) == (
        500, "failed acl policy lookup: index error: UUID must be 36 characters")


async def test_reads_need_acl_read_and_writes_acl_write(acl: ACLApi) -> None:
    reader = await acl.policy("reader", 'acl = "read"')
    token = await acl.token(Policies=[{"ID": reader["ID"]}])
    secret = token["SecretID"]
    assert len(await acl.ok("GET", "/v1/acl/policies", token=secret)) == 3
    denied = await acl.call("PUT", "/v1/acl/policy", {"Name": "x"}, token=secret)
    assert (denied.status, denied.text) == (
        403,
        f"Permission denied: token with AccessorID '{token['AccessorID']}' lacks permission "
        "'acl:write'",
    )
    anonymous = await acl.call("GET", "/v1/acl/policies", token=None)
    assert anonymous.status == 403
    assert anonymous.text.startswith("Permission denied: anonymous token lacks permission")


async def test_the_list_blocks_until_a_policy_changes(acl: ACLApi) -> None:
    first = await acl.call("GET", "/v1/acl/policies")
    index = first.index

    async def later() -> None:
        await asyncio.sleep(0.05)
        await acl.policy("late", "")

    task = asyncio.create_task(later())
    woken = await acl.call("GET", f"/v1/acl/policies?index={index}&wait=10s")
    await task
    assert woken.index > index
    assert [p["Name"] for p in woken.json()].count("late") == 1


async def test_a_missing_policy_keeps_a_read_blocking(acl: ACLApi) -> None:
    """PolicyRead answers errNotFound for a missing policy: the read keeps blocking on it."""
    policy = await acl.policy("gone", "")
    await acl.ok("DELETE", f"/v1/acl/policy/{policy['ID']}")
    first = await acl.call("GET", f"/v1/acl/policy/{policy['ID']}")
    reply = await acl.call("GET", f"/v1/acl/policy/{policy['ID']}?index={first.index}&wait=50ms")
    assert reply.status == 404
    assert reply.index == first.index
