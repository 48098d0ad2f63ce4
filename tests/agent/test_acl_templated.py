"""Templated policies over HTTP: ``agent/acl_endpoint.go`` ACLTemplatedPoliciesList,
ACLTemplatedPolicyRead and ACLTemplatedPolicyPreview (``acl:read``, no blocking)."""

from __future__ import annotations

from ._acl import ACLApi, acl, acl_agent

__all__ = ["acl", "acl_agent"]


async def test_list_and_read(acl: ACLApi) -> None:
    listed = await acl.ok("GET", "/v1/acl/templated-policies")
    assert "builtin/service" in listed and "builtin/dns" in listed
    service = await acl.ok("GET", "/v1/acl/templated-policy/name/builtin/service")
    assert service == listed["builtin/service"]
    assert list(service) == ["TemplateName", "Schema", "Template", "Description"]
    missing = await acl.call("GET", "/v1/acl/templated-policy/name/builtin/nope")
    assert (missing.status, missing.text) == (404, "Invalid templated policy Name: builtin/nope")
    denied = await acl.call("GET", "/v1/acl/templated-policies", token=None)
    assert denied.status == 403


async def test_preview_renders_a_synthetic_policy(acl: ACLApi) -> None:
    """ACLTemplatedPolicy.SyntheticPolicy: the ID is the rules' hex followed by the FNV-128a
    offset basis (``hasher.Sum(rules)`` appends the hash of nothing)."""
    policy = await acl.ok("POST", "/v1/acl/templated-policy/preview/builtin/service",
                          {"Name": "web"})
    assert policy["ID"].startswith("0a73657276696365202277656222207b")
    assert policy["ID"].endswith("6c62272e07bb014262b821756295c58d")
    assert policy["Name"] == f"synthetic-policy-{policy['ID']}"
    assert policy["Description"] == (
        "synthetic policy generated from templated policy: builtin/service")
    assert 'service "web-sidecar-proxy"' in policy["Rules"]
    assert (policy["CreateIndex"], policy["ModifyIndex"]) == (0, 0)
    invalid = await acl.call("POST", "/v1/acl/templated-policy/preview/builtin/service", {})
    assert invalid.status == 400
    assert invalid.text.startswith('validation error for templated policy: "builtin/service": ')
