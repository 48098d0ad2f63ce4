"""What a token may do: ``ACLResolver.ResolveToken`` (``agent/consul/acl.go``), asked through
``POST /v1/internal/acl/authorize`` (``agent/acl_endpoint.go`` ACLAuthorize, ``acl.Enforce``)."""

from __future__ import annotations

import aiohttp

from aioconsul.testing import DevAgent

from ._acl import ROOT, ACLApi, acl, acl_agent

__all__ = ["acl", "acl_agent"]


async def _may(acl: ACLApi, token: str | None, *questions: tuple[str, str, str]) -> list[bool]:
    body = [{"Resource": r, "Segment": s, "Access": a} for r, s, a in questions]
    answers = await acl.ok("POST", "/v1/internal/acl/authorize", body, token=token)
    return [answer["Allow"] for answer in answers]


async def test_the_management_token_may_do_anything(acl: ACLApi) -> None:
    assert await _may(acl, ROOT, ("acl", "", "write"), ("key", "x", "write"),
                      ("operator", "", "write")) == [True, True, True]


async def test_the_anonymous_token_gets_the_default_policy(acl: ACLApi) -> None:
    """An empty token resolves to the anonymous token: no policies, then deny."""
    assert await _may(acl, None, ("key", "x", "read"), ("node", "n", "read")) == [False, False]


async def test_the_answer_echoes_the_questions(acl: ACLApi) -> None:
    body = [{"Resource": "key", "Segment": "a", "Access": "READ"}, {"Resource": "acl",
                                                                     "Access": "read"}]
    answers = await acl.ok("POST", "/v1/internal/acl/authorize", body)
    assert answers == [{"Resource": "key", "Segment": "a", "Access": "READ", "Allow": True},
                       {"Resource": "acl", "Access": "read", "Allow": True}]
    bad = await acl.call("POST", "/v1/internal/acl/authorize",
                         [{"Resource": "key", "Access": "own"}])
    assert (bad.status, bad.text) == (400, "Invalid access level for key resource: own")


async def test_a_service_identity_writes_its_service_and_reads_the_catalog(acl: ACLApi) -> None:
    token = await acl.token(ServiceIdentities=[{"ServiceName": "web"}])
    assert await _may(
        acl, token["SecretID"],
        ("service", "web", "write"), ("service", "web-sidecar-proxy", "write"),
        ("service", "db", "read"), ("service", "db", "write"), ("node", "any", "read"),
        ("key", "x", "read"),
    ) == [True, True, True, False, True, False]


async def test_a_node_identity_applies_in_its_datacenter_only(acl: ACLApi) -> None:
    """ACLNodeIdentity.SyntheticPolicy has Datacenters [dc]; filterPoliciesByScope drops it
    elsewhere."""
    here = await acl.token(NodeIdentities=[{"NodeName": "n1", "Datacenter": "dc1"}])
    there = await acl.token(NodeIdentities=[{"NodeName": "n1", "Datacenter": "dc2"}])
    question = ("node", "n1", "write")
    assert await _may(acl, here["SecretID"], question) == [True]
    assert await _may(acl, there["SecretID"], question) == [False]


async def test_a_policy_scoped_to_another_datacenter_grants_nothing(acl: ACLApi) -> None:
    policy = await acl.policy("elsewhere", 'key_prefix "" { policy = "write" }',
                              Datacenters=["dc2"])
    token = await acl.token(Policies=[{"ID": policy["ID"]}])
    assert await _may(acl, token["SecretID"], ("key", "x", "write")) == [False]


async def test_a_templated_policy_renders_its_template(acl: ACLApi) -> None:
    token = await acl.token(TemplatedPolicies=[
        {"TemplateName": "builtin/service", "TemplateVariables": {"Name": "api"}}])
    assert await _may(acl, token["SecretID"], ("service", "api", "write"),
                      ("service", "web", "write")) == [True, False]


async def test_a_policy_edit_takes_effect_at_once(acl: ACLApi) -> None:
    """Compiled authorizers are cached by policy ID and hash: an edit changes the hash."""
    policy = await acl.policy("p", 'key "a" { policy = "read" }')
    token = await acl.token(Policies=[{"ID": policy["ID"]}])
    assert await _may(acl, token["SecretID"], ("key", "a", "write")) == [False]
    await acl.ok("PUT", f"/v1/acl/policy/{policy['ID']}",
                 {"Name": "p", "Rules": 'key "a" { policy = "write" }'})
    assert await _may(acl, token["SecretID"], ("key", "a", "write")) == [True]


async def test_unknown_and_root_tokens(acl: ACLApi) -> None:
    unknown = await acl.call("POST", "/v1/internal/acl/authorize",
                             [{"Resource": "key", "Access": "read"}], token="nope")
    assert (unknown.status, unknown.text) == (403, "ACL not found")
    root = await acl.call("POST", "/v1/internal/acl/authorize",
                          [{"Resource": "key", "Access": "read"}], token="manage")
    assert (root.status, root.text) == (500, "Cannot resolve root ACL")


async def test_a_default_allow_agent_lets_the_anonymous_token_read(
    http: aiohttp.ClientSession,
) -> None:
    async with DevAgent(acl_enabled=True, acl_default_policy="allow",
                        acl_initial_management=ROOT) as agent:
        api = ACLApi(http, agent)
        assert await _may(api, None, ("key", "x", "write"), ("acl", "", "read")) == [
            True, False]  # acl is a management permission: allow-all does not grant it
        reply = await api.call("GET", "/v1/status/leader", token=None)
        assert reply.headers["X-Consul-Default-ACL-Policy"] == "allow"


async def test_the_agent_recovery_token_manages_this_agent(acl: ACLApi) -> None:
    """resolveLocallyManagedToken: agent:write on this node, node:read, nothing else."""
    secret = "5e52a099-4c90-c067-5478-980f06be9af5"
    await acl.ok("PUT", "/v1/agent/token/agent_recovery", {"Token": secret})
    node = (await acl.ok("GET", "/v1/agent/self"))["Config"]["NodeName"]
    assert await _may(acl, secret, ("agent", node, "write"), ("agent", "other", "write"),
                      ("node", "x", "read"), ("key", "x", "read")) == [True, False, True, False]
