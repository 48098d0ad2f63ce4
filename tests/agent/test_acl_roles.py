"""ACL roles over HTTP: ``agent/acl_endpoint.go`` (ACLRole*), ``agent/consul/acl_endpoint.go``
(RoleSet, RoleRead, RoleDelete, RoleList) and the link fix-ups of ``agent/consul/state/acl.go``."""

from __future__ import annotations

from ._acl import ACLApi, acl, acl_agent

__all__ = ["acl", "acl_agent"]


async def test_create_read_by_id_and_name_delete(acl: ACLApi) -> None:
    policy = await acl.policy("p", "")
    role = await acl.ok("PUT", "/v1/acl/role", {
        "Name": "web-role", "Description": "d", "Policies": [{"Name": "p"}],
        "ServiceIdentities": [{"ServiceName": "web", "Datacenters": ["dc2", "dc1"]}],
        "TemplatedPolicies": [{"TemplateName": "builtin/dns"}],
    })
    assert list(role) == ["ID", "Name", "Description", "Policies", "ServiceIdentities",
                          "TemplatedPolicies", "Hash", "CreateIndex", "ModifyIndex"]
    assert role["Policies"] == [{"ID": policy["ID"], "Name": "p"}]
    assert role["ServiceIdentities"] == [{"ServiceName": "web", "Datacenters": ["dc1", "dc2"]}]
    assert role["TemplatedPolicies"] == [
        {"TemplateID": "00000000-0000-0000-0000-000000000005", "TemplateName": "builtin/dns"}]
    assert await acl.ok("GET", f"/v1/acl/role/{role['ID']}") == role
    assert await acl.ok("GET", "/v1/acl/role/name/WEB-ROLE") == role  # lower-cased index
    assert await acl.ok("DELETE", f"/v1/acl/role/{role['ID']}") is True
    missing = await acl.call("GET", f"/v1/acl/role/{role['ID']}")
    assert (missing.status, missing.text) == (404, "Requested role does not exist: ACL not found")


async def test_an_id_in_a_create_body_does_not_match_the_url(acl: ACLApi) -> None:
    """ACLRoleCreate passes "" as the URL's ID, so any ID in the body "does not match"."""
    reply = await acl.call("PUT", "/v1/acl/role",
                           {"ID": "5e52a099-4c90-c067-5478-980f06be9af5", "Name": "r"})
    assert (reply.status, reply.text) == (400, "Role ID in URL and payload do not match")


async def test_role_validation(acl: ACLApi) -> None:
    cases = [
        ({}, "Invalid Role: no Name is set"),
        ({"Name": "r/1"},
         "Invalid Role: invalid Name. Only alphanumeric characters, '-' and '_' are allowed"),
        ({"Name": "r", "Policies": [{"Name": "nope"}]}, 'No such ACL policy with name "nope"'),
        ({"Name": "r", "Policies": [{"ID": "5e52a099-4c90-c067-5478-980f06be9af5"}]},
         "Failed to apply role upsert request: No such policy with ID: "
         "5e52a099-4c90-c067-5478-980f06be9af5"),
        ({"Name": "r", "NodeIdentities": [{"NodeName": "", "Datacenter": "dc1"}]},
         "Node identity is missing the node name field on this role"),
        ({"Name": "r", "TemplatedPolicies": [{"TemplateName": "builtin/service"}]},
         'validation error for templated policy "builtin/service": 1 error occurred:\n'
         "\t* Invalid type. Expected: object, given: null\n\n"),
    ]
    for body, text in cases:
        reply = await acl.call("PUT", "/v1/acl/role", body)
        assert (reply.status, reply.text) == (500, text), body
    await acl.ok("PUT", "/v1/acl/role", {"Name": "dup"})
    dup = await acl.call("PUT", "/v1/acl/role", {"Name": "DUP"})
    assert dup.text == 'Invalid Role: A Role with Name "DUP" already exists'


async def test_links_follow_renames_and_deletions(acl: ACLApi) -> None:
    """fixupRolePolicyLinks / fixupTokenRoleLinks: the current name on every read; a link to
    a deleted object disappears."""
    policy = await acl.policy("before", "")
    role = await acl.ok("PUT", "/v1/acl/role", {"Name": "r", "Policies": [{"ID": policy["ID"]}]})
    token = await acl.token(Roles=[{"ID": role["ID"]}])
    await acl.ok("PUT", f"/v1/acl/policy/{policy['ID']}", {"Name": "after"})
    assert (await acl.ok("GET", f"/v1/acl/role/{role['ID']}"))["Policies"] == [
        {"ID": policy["ID"], "Name": "after"}]
    assert (await acl.ok("GET", f"/v1/acl/token/{token['AccessorID']}"))["Roles"] == [
        {"ID": role["ID"], "Name": "r"}]
    await acl.ok("DELETE", f"/v1/acl/role/{role['ID']}")
    assert "Roles" not in await acl.ok("GET", f"/v1/acl/token/{token['AccessorID']}")


async def test_the_list_filters_by_policy(acl: ACLApi) -> None:
    policy = await acl.policy("p", "")
    with_policy = await acl.ok("PUT", "/v1/acl/role",
                               {"Name": "a", "Policies": [{"ID": policy["ID"]}]})
    await acl.ok("PUT", "/v1/acl/role", {"Name": "b"})
    assert len(await acl.ok("GET", "/v1/acl/roles")) == 2
    filtered = await acl.ok("GET", f"/v1/acl/roles?policy={policy['ID']}")
    assert [r["ID"] for r in filtered] == [with_policy["ID"]]


async def test_a_role_grants_its_policies(acl: ACLApi) -> None:
    await acl.policy("kv", 'key_prefix "app/" { policy = "write" }')
    await acl.ok("PUT", "/v1/acl/role", {"Name": "writer", "Policies": [{"Name": "kv"}]})
    token = await acl.token(Roles=[{"Name": "writer"}])
    ok = await acl.call("PUT", "/v1/kv/app/x", "1", token=token["SecretID"])
    assert (ok.status, ok.text) == (200, "true")
    denied = await acl.call("PUT", "/v1/kv/other", "1", token=token["SecretID"])
    assert denied.status == 403
