"""Turning ACLs on: bootstrap, the builtin objects the leader creates, the disabled answers.

``agent/acl_endpoint.go`` (ACLBootstrap, checkACLDisabled), ``agent/consul/acl_endpoint.go``
(BootstrapTokens), ``agent/consul/leader.go`` (initializeACLs), ``agent/structs/acl.go``.
"""

from __future__ import annotations

import json

import aiohttp
import pytest

from aioconsul.testing import DevAgent
from aioconsul.testing.endpoints.acl import ROUTES

from ._acl import ROOT, ACLApi, acl, acl_agent
from .conftest import Api

__all__ = ["acl", "acl_agent"]

GLOBAL_MANAGEMENT = "00000000-0000-0000-0000-000000000001"
ANONYMOUS = "00000000-0000-0000-0000-000000000002"


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.pattern)
async def test_every_acl_route_is_401_with_acls_disabled(api: Api, route: object) -> None:
    """checkACLDisabled: 401 "ACL support disabled" before any parsing (after the 405)."""
    pattern = route.pattern  # type: ignore[attr-defined]
    method = route.methods[0]  # type: ignore[attr-defined]
    path = pattern + ("x" if pattern.endswith("/") else "")
    reply = await api.request(method, path, b"{")
    assert (reply.status, reply.text) == (401, "ACL support disabled")


async def test_agent_token_is_401_with_acls_disabled(api: Api) -> None:
    reply = await api.put("/v1/agent/token/default", json.dumps({"Token": "x"}))
    assert (reply.status, reply.text) == (401, "ACL support disabled")


async def test_bootstrap_once_then_refused_with_the_reset_index(
    http: aiohttp.ClientSession,
) -> None:
    """BootstrapTokens: a management token the first time; then the RPC's error wrapped in
    PermissionDeniedError{Cause} (403), naming the bootstrap's Raft index."""
    async with DevAgent(acl_enabled=True) as agent:
        api = ACLApi(http, agent)
        first = await api.call("PUT", "/v1/acl/bootstrap", token=None)
        assert first.status == 200
        token = first.json()
        assert token["ID"] == token["SecretID"]
        assert list(token)[:3] == ["ID", "AccessorID", "SecretID"]
        assert token["Description"] == "Bootstrap Token (Global Management)"
        assert token["Policies"] == [{"ID": GLOBAL_MANAGEMENT, "Name": "global-management"}]
        again = await api.call("PUT", "/v1/acl/bootstrap", token=None)
        assert (again.status, again.text) == (
            403,
            "Permission denied: ACL bootstrap no longer allowed "
            f"(reset index: {token['CreateIndex']})",
        )
        me = await api.ok("GET", "/v1/acl/token/self", token=token["SecretID"])
        assert me["AccessorID"] == token["AccessorID"]


async def test_bootstrap_takes_the_operators_secret(http: aiohttp.ClientSession) -> None:
    secret = "2b778dd9-f5f1-6f29-b4b4-9a5fa948757a"
    async with DevAgent(acl_enabled=True) as agent:
        api = ACLApi(http, agent)
        bad = await api.call("PUT", "/v1/acl/bootstrap", {"BootstrapSecret": "nope"}, token=None)
        assert (bad.status, bad.text) == (500, "uuid string is wrong length")
        token = await api.ok("PUT", "/v1/acl/bootstrap", {"BootstrapSecret": secret}, token=None)
        assert token["SecretID"] == secret


async def test_the_initial_management_token_is_the_bootstrap(acl: ACLApi) -> None:
    """initializeManagementToken bootstraps with the configured secret, so the API refuses."""
    me = await acl.ok("GET", "/v1/acl/token/self")
    assert me["SecretID"] == ROOT
    assert me["Description"] == "Initial Management Token"
    refused = await acl.call("PUT", "/v1/acl/bootstrap")
    assert refused.status == 403
    assert refused.text.endswith(f"(reset index: {me['CreateIndex']})")


async def test_the_leader_creates_the_builtin_policies_and_the_anonymous_token(
    acl: ACLApi,
) -> None:
    policies = await acl.ok("GET", "/v1/acl/policies")
    assert [(p["ID"], p["Name"]) for p in policies] == [
        (GLOBAL_MANAGEMENT, "global-management"),
        ("00000000-0000-0000-0000-000000000002", "builtin/global-read-only"),
    ]
    assert "Rules" not in policies[0] and policies[0]["Datacenters"] is None
    anonymous = await acl.ok("GET", f"/v1/acl/token/{ANONYMOUS}")
    assert (anonymous["SecretID"], anonymous["Description"]) == ("anonymous", "Anonymous Token")
    assert "Policies" not in anonymous  # `json:",omitempty"`


async def test_every_answer_carries_the_configured_default_policy(acl: ACLApi) -> None:
    reply = await acl.call("GET", "/v1/status/leader", token=None)
    assert reply.headers["X-Consul-Default-ACL-Policy"] == "deny"


async def test_replication_status_of_the_primary_needs_no_token(acl: ACLApi) -> None:
    """ACL.ReplicationStatus: no ACL check; nothing replicates into a primary datacenter."""
    reply = await acl.call("GET", "/v1/acl/replication", token=None)
    assert reply.status == 200
    assert reply.json() == {
        "Enabled": False, "Running": False, "SourceDatacenter": "", "ReplicationType": "",
        "ReplicatedIndex": 0, "ReplicatedRoleIndex": 0, "ReplicatedTokenIndex": 0,
        "LastSuccess": "0001-01-01T00:00:00Z", "LastError": "0001-01-01T00:00:00Z",
        "LastErrorMessage": "",
    }
    assert "X-Consul-Index" not in reply.headers


async def test_agent_self_reports_the_acl_configuration(acl: ACLApi) -> None:
    body = await acl.ok("GET", "/v1/agent/self")
    settings = body["DebugConfig"]["ACLResolverSettings"]
    assert (settings["ACLsEnabled"], settings["ACLDefaultPolicy"], settings["ACLDownPolicy"]) == (
        True, "deny", "extend-cache")
    assert body["DebugConfig"]["ACLInitialManagementToken"] == "hidden"
    assert body["Member"]["Tags"]["acls"] == "1"
    assert body["Stats"]["consul"]["acl"] == "enabled"


def test_the_cli_flags_configure_acls() -> None:
    """--acl-initial-management implies --acl-enabled (a management token needs ACLs)."""
    from aioconsul.testing import __main__ as cli

    args = cli._parser().parse_args(
        ["--acl-initial-management", "root", "--acl-default-policy", "deny",
         "--acl-down-policy", "async-cache", "--acl-enable-token-persistence"])
    agent = cli._agent(args)
    assert agent._acl.enabled and agent._acl.initial_management == "root"
    assert (agent._acl.default_policy, agent._acl.down_policy) == ("deny", "async-cache")
    assert agent._acl.enable_token_persistence
    assert not cli._agent(cli._parser().parse_args([]))._acl.enabled


def test_a_bad_default_policy_is_refused() -> None:
    with pytest.raises(ValueError, match="acl_default_policy"):
        DevAgent(acl_enabled=True, acl_default_policy="maybe")
