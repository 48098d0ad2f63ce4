"""The pytest plugin's ``consul_acl`` marker: an ACL-enabled dev agent and a management client.

Consul's ``acl.tokens.initial_management`` token is bootstrapped with the global-management
policy (``agent/consul/leader.go``, initializeACLs), so the marked test's client may do
anything, while a request without a token is served with the anonymous token and denied
under ``default_policy = "deny"``.
"""

from __future__ import annotations

import aiohttp
import pytest

import aioconsul
from aioconsul.testing import DevAgent


@pytest.mark.consul_acl
async def test_the_marker_gives_an_acl_agent_and_a_management_client(
    consul: aioconsul.Consul, consul_agent: DevAgent, consul_management_token: str
) -> None:
    token, _ = await consul.acl.tokens.self()
    assert token is not None
    assert token["SecretID"] == consul_management_token
    assert [p["Name"] for p in token["Policies"]] == ["global-management"]
    assert await consul.kv.set("app/x", b"1") is True
    async with (
        aiohttp.ClientSession() as http,
        http.put(consul_agent.address + "/v1/kv/app/x", data=b"2") as resp,
    ):
        assert resp.status == 403  # the anonymous token, default deny
        assert resp.headers["X-Consul-Default-ACL-Policy"] == "deny"


@pytest.mark.consul_acl(default_policy="allow")
async def test_the_marker_takes_the_default_policy(
    consul: aioconsul.Consul, consul_agent: DevAgent
) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.put(consul_agent.address + "/v1/kv/app/x", data=b"2") as resp,
    ):
        assert resp.status == 200
        assert resp.headers["X-Consul-Default-ACL-Policy"] == "allow"


async def test_without_the_marker_acls_are_off(consul_agent: DevAgent) -> None:
    assert consul_agent.acl_initial_management is None
    async with (
        aiohttp.ClientSession() as http,
        http.get(consul_agent.address + "/v1/acl/tokens") as resp,
    ):
        assert (resp.status, await resp.text()) == (401, "ACL support disabled")
