"""``PUT /v1/agent/token/<kind>`` with ACLs on: ``agent/agent_endpoint.go`` AgentToken."""

from __future__ import annotations

import pytest

from aioconsul.testing import DevAgent

from ._acl import ACLApi, acl, acl_agent

__all__ = ["acl", "acl_agent"]

KINDS = {
    "default": "default", "acl_token": "default",
    "agent": "agent", "acl_agent_token": "agent",
    "agent_recovery": "agent_recovery", "agent_master": "agent_recovery",
    "acl_agent_master_token": "agent_recovery",
    "replication": "replication", "acl_replication_token": "replication",
    "config_file_service_registration": "config_file_service_registration",
    "dns": "dns", "dns_token": "dns",
}


@pytest.mark.parametrize(("kind", "field"), sorted(KINDS.items()))
async def test_every_kind_sets_its_token(
    acl: ACLApi, acl_agent: DevAgent, kind: str, field: str
) -> None:
    """The current names and the legacy ones Consul still accepts."""
    reply = await acl.call("PUT", f"/v1/agent/token/{kind}", {"Token": "t-" + kind})
    assert (reply.status, reply.body) == (200, b"")
    assert getattr(acl_agent.backend.tokens, field) == "t-" + kind


async def test_an_unknown_kind_is_404(acl: ACLApi) -> None:
    reply = await acl.call("PUT", "/v1/agent/token/master", {"Token": "x"})
    assert (reply.status, reply.text) == (404, 'Token "master" is unknown')


async def test_it_needs_agent_write_before_anything_else(acl: ACLApi) -> None:
    """AgentToken checks ``AgentWriteAllowed(s.agent.config.NodeName)`` (agent/agent_endpoint.go)
    before the body is decoded and before the kind is looked at."""
    reply = await acl.call("PUT", "/v1/agent/token/nope", raw="{", token=None)
    assert reply.status == 403
    assert "lacks permission 'agent:write' on \"aioconsul-dev\"" in reply.text
    bad = await acl.call("PUT", "/v1/agent/token/default", raw="{")
    assert (bad.status, bad.text) == (400, "Request decode failed: unexpected EOF")


async def test_the_default_token_serves_requests_without_one(acl: ACLApi) -> None:
    """parseTokenWithDefault: the agent's user token stands in for a missing one."""
    policy = await acl.policy("kv", 'key_prefix "" { policy = "write" }')
    token = await acl.token(Policies=[{"ID": policy["ID"]}])
    before = await acl.call("PUT", "/v1/kv/x", "1", token=None)
    assert before.status == 403
    await acl.ok("PUT", "/v1/agent/token/default", {"Token": token["SecretID"]})
    after = await acl.call("PUT", "/v1/kv/x", "1", token=None)
    assert (after.status, after.text) == (200, "true")
    me = await acl.ok("GET", "/v1/acl/token/self", token=None)
    assert me["AccessorID"] == token["AccessorID"]


async def test_agent_write_on_the_node_is_what_it_takes_not_acl_write(acl: ACLApi) -> None:
    """AgentWriteAllowed on the agent's node name: ``acl = "write"`` alone is refused, an
    ``agent`` rule for the node grants it (agent/agent_endpoint.go, AgentToken)."""
    acl_writer = await acl.policy("acl-writer", 'acl = "write"')
    writer = await acl.token(Policies=[{"ID": acl_writer["ID"]}])
    refused = await acl.call("PUT", "/v1/agent/token/default", {"Token": "x"},
                             token=writer["SecretID"])
    assert refused.status == 403 and "'agent:write'" in refused.text
    agent_writer = await acl.policy("agent-writer", 'agent "aioconsul-dev" { policy = "write" }')
    agent_token = await acl.token(Policies=[{"ID": agent_writer["ID"]}])
    ok = await acl.call("PUT", "/v1/agent/token/default", {"Token": "x"},
                        token=agent_token["SecretID"])
    assert (ok.status, ok.body) == (200, b"")
