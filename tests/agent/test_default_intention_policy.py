"""``default_intention_policy`` (Consul 1.18+ agent configuration, ``agent/config/runtime.go``):
what the intention check (``Intention.Check``, ``agent/consul/intention_endpoint.go``) and
``POST /v1/agent/connect/authorize`` (``AgentConnectAuthorize``, ``agent/agent_endpoint.go``,
where the "Default intention policy" reason was read) decide when no intention matches; the
stored ``intention_endpoint.go`` predates the setting, so the check's use of it is inferred.
Set, it wins over the ACL default policy, and authorize says "Default intention policy";
unset, the token's IntentionDefaultAllow decides ("Default behavior configured by ACLs")."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from aioconsul.testing import DevAgent

from ._acl import ROOT, ACLApi
from .conftest import Api

TRUST = "11111111-2222-3333-4444-555555555555.consul"


async def _check(api: Api, source: str, destination: str,
                 headers: dict[str, str] | None = None) -> bool:
    reply = await api.get(f"/v1/connect/intentions/check?source={source}&destination="
                          f"{destination}", headers=headers)
    assert reply.status == 200, reply.text
    allowed: bool = reply.json()["Allowed"]
    return allowed


async def _authorize(api: Api, source: str, target: str,
                     headers: dict[str, str] | None = None) -> dict[str, Any]:
    body = {"Target": target, "ClientCertURI": f"spiffe://{TRUST}/ns/default/dc/dc1/svc/{source}",
            "ClientCertSerial": "01"}
    reply = await api.request("POST", "/v1/agent/connect/authorize", json.dumps(body),
                              headers=headers)
    assert reply.status == 200, reply.text
    answer: dict[str, Any] = reply.json()
    return answer


@pytest.fixture
async def denying(http: aiohttp.ClientSession) -> AsyncIterator[Api]:
    """ACLs off (everything allowed), default_intention_policy = "deny"."""
    async with DevAgent(default_intention_policy="deny") as agent:
        yield Api(http, agent)


@pytest.fixture
async def allowing(http: aiohttp.ClientSession) -> AsyncIterator[ACLApi]:
    """ACLs on with default deny, default_intention_policy = "allow"."""
    async with DevAgent(acl_enabled=True, acl_default_policy="deny",
                        acl_initial_management=ROOT,
                        default_intention_policy="allow") as agent:
        yield ACLApi(http, agent)


async def test_deny_wins_over_acls_off(denying: Api) -> None:
    assert await _check(denying, "web", "db") is False
    assert await _authorize(denying, "web", "db") == {
        "Authorized": False, "Reason": "Default intention policy"}


async def test_allow_wins_over_the_acl_default_deny(allowing: ACLApi) -> None:
    headers = {"X-Consul-Token": ROOT}
    assert await _check(allowing, "web", "db", headers) is True
    assert await _authorize(allowing, "web", "db", headers) == {
        "Authorized": True, "Reason": "Default intention policy"}


async def test_a_matching_intention_still_decides(denying: Api) -> None:
    reply = await denying.put("/v1/connect/intentions/exact?source=web&destination=db",
                              json.dumps({"Action": "allow"}))
    assert reply.status == 200
    assert await _check(denying, "web", "db") is True
    answer = await _authorize(denying, "web", "db")
    assert answer["Authorized"] is True and answer["Reason"].startswith("Matched L4 intention")
    assert await _check(denying, "api", "db") is False


async def test_unset_the_acls_decide(api: Api) -> None:
    assert await _check(api, "web", "db") is True
    assert await _authorize(api, "web", "db") == {
        "Authorized": True, "Reason": "Default behavior configured by ACLs"}


async def test_the_policy_is_reported_in_debug_config(denying: Api, api: Api) -> None:
    """RuntimeConfig.DefaultIntentionPolicy (empty when not set)."""
    assert (await denying.get("/v1/agent/self")).json()["DebugConfig"][
        "DefaultIntentionPolicy"] == "deny"
    assert (await api.get("/v1/agent/self")).json()["DebugConfig"][
        "DefaultIntentionPolicy"] == ""


def test_another_policy_is_refused() -> None:
    with pytest.raises(ValueError, match="default_intention_policy must be 'allow' or 'deny'"):
        DevAgent(default_intention_policy="maybe")
