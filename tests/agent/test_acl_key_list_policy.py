"""``acl.enable_key_list_policy`` (recursive KV reads and key listings need ``key:list``) and
``acl.token_min_expiration_ttl``.

``agent/consul/kvs_endpoint.go`` (KVS.List, KVS.ListKeys): with the setting on, the prefix is
checked with KeyListAllowed before the blocking query, so a token that may only read is
refused with the detailed error naming ``key:list``; a single-key read still needs only
``key:read``. With the setting off (Consul's default) ``list`` is never asked for.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest_asyncio

from aioconsul.testing import DevAgent

from ._acl import ROOT, ACLApi

READ = 'key_prefix "app/" { policy = "read" }'
LIST = 'key_prefix "app/" { policy = "list" }'


@pytest_asyncio.fixture
async def listing(http: aiohttp.ClientSession) -> AsyncIterator[ACLApi]:
    async with DevAgent(
        acl_enabled=True, acl_default_policy="deny", acl_initial_management=ROOT,
        acl_enable_key_list_policy=True,
    ) as agent:
        api = ACLApi(http, agent)
        assert (await api.call("PUT", "/v1/kv/app/a", raw=b"1")).status == 200
        yield api


async def _token(api: ACLApi, name: str, rules: str) -> str:
    policy = await api.policy(name, rules)
    token = await api.token(Policies=[{"ID": policy["ID"]}])
    secret: str = token["SecretID"]
    return secret


async def test_read_alone_is_refused_a_recursive_read_naming_key_list(listing: ACLApi) -> None:
    secret = await _token(listing, "reader", READ)
    accessor = (await listing.ok("GET", "/v1/acl/token/self", token=secret))["AccessorID"]
    for path in ("/v1/kv/app/?recurse", "/v1/kv/app/?keys"):
        reply = await listing.call("GET", path, token=secret)
        assert (reply.status, reply.text) == (
            403,
            f"Permission denied: token with AccessorID '{accessor}' lacks permission "
            "'key:list' on \"app/\"",
        ), path
    assert (await listing.call("GET", "/v1/kv/app/a", token=secret)).status == 200


async def test_list_grants_the_recursive_reads(listing: ACLApi) -> None:
    secret = await _token(listing, "lister", LIST)
    reply = await listing.call("GET", "/v1/kv/app/?keys", token=secret)
    assert (reply.status, reply.json()) == (200, ["app/a"])
    reply = await listing.call("GET", "/v1/kv/app/?recurse", token=secret)
    assert reply.status == 200 and [e["Key"] for e in reply.json()] == ["app/a"]


async def test_the_setting_is_reported_in_agent_self(listing: ACLApi) -> None:
    me = await listing.ok("GET", "/v1/agent/self")
    assert me["DebugConfig"]["ACLEnableKeyListPolicy"] is True


async def test_a_lower_token_min_expiration_ttl_lets_a_token_expire_for_real(
    http: aiohttp.ClientSession,
) -> None:
    """acl.token_min_expiration_ttl bounds ExpirationTTL (structs.ACLToken validation in
    ACL.TokenSet: "ExpirationTime cannot be less than 1m0s in the future"); lowered, a token
    expires within a test, and an expired token resolves as "ACL not found"
    (ACLResolver: IsExpired; acl/errors.go)."""
    async with DevAgent(
        acl_enabled=True, acl_default_policy="allow", acl_initial_management=ROOT,
        acl_token_min_expiration_ttl=0.05,
    ) as agent:
        api = ACLApi(http, agent)
        short = await api.token(ExpirationTTL="100ms")
        assert (await api.call("PUT", "/v1/kv/x", raw=b"1", token=short["SecretID"])).status == 200
        await asyncio.sleep(0.3)
        reply = await api.call("PUT", "/v1/kv/x", raw=b"1", token=short["SecretID"])
        assert (reply.status, reply.text) == (403, "ACL not found")
        too_short = await api.call("PUT", "/v1/acl/token", {"ExpirationTTL": "10ms"})
        assert too_short.status == 500
        assert too_short.text.startswith("ExpirationTime cannot be less than 50ms in the future")
