"""``client.connect.intentions`` and ``client.agent.connect.authorize`` against the dev agent
(``api/connect_intention.go``, ``api/agent.go`` ConnectAuthorize)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from aioconsul import Consul
from aioconsul.errors import ConsulError, PermissionDenied, ServerError
from aioconsul.testing import DevAgent

TRUST = "11111111-2222-3333-4444-555555555555.consul"


def uri(service: str) -> str:
    return f"spiffe://{TRUST}/ns/default/dc/dc1/svc/{service}"


async def test_upsert_get_items_delete(consul: Consul) -> None:
    ixns = consul.connect.intentions
    assert await ixns.upsert("web", "db", action="allow", description="web may") is True
    got, _ = await ixns.get("web", "db")
    assert got is not None
    assert (got["SourceName"], got["DestinationName"], got["Action"], got["Precedence"]) == (
        "web", "db", "allow", 9)
    assert got["Description"] == "web may"
    await ixns.upsert("web", "db", action="deny")  # replaces, one intention per pair
    items, meta = await ixns.items()
    assert [(i["SourceName"], i["Action"]) for i in items] == [("web", "deny")]
    assert meta["Index"] >= items[0]["ModifyIndex"]
    assert await ixns.delete("web", "db") is True
    missing, _ = await ixns.get("web", "db")
    assert missing is None
    assert (await ixns.items())[0] == []


async def test_the_config_entry_and_the_intentions_agree(consul: Consul) -> None:
    await consul.connect.intentions.upsert("*", "db", action="deny")
    await consul.connect.intentions.upsert("web", "db", action="allow")
    entry, _ = await consul.config_entries.get("service-intentions", "db")
    assert entry is not None
    assert [(s["Name"], s["Action"], s["Precedence"]) for s in entry["Sources"]] == [
        ("web", "allow", 9), ("*", "deny", 8)]
    items, _ = await consul.connect.intentions.items()
    assert [(i["SourceName"], i["Precedence"], i["ModifyIndex"]) for i in items] == [
        ("web", 9, entry["ModifyIndex"]), ("*", 8, entry["ModifyIndex"])]
    await consul.config_entries.apply({"Kind": "service-intentions", "Name": "db",
                                       "Sources": [{"Name": "api", "Action": "allow"}]})
    items, _ = await consul.connect.intentions.items()
    assert [i["SourceName"] for i in items] == ["api"]


async def test_check_and_authorize_decide_by_precedence(consul: Consul) -> None:
    """Exact beats wildcard; with no intention and no ACLs, allow."""
    ixns = consul.connect.intentions
    assert await ixns.check("web", "db") is True
    assert await consul.agent.connect.authorize("db", uri("web"), "01") == (
        True, "Default behavior configured by ACLs")
    await ixns.upsert("*", "db", action="deny")
    await ixns.upsert("web", "db", action="allow")
    assert await ixns.check("web", "db") is True
    assert await ixns.check("api", "db") is False
    allowed, reason = await consul.agent.connect.authorize("db", uri("web"), "01")
    assert allowed is True and reason == (
        "Matched L4 intention: default/web => default/db (Precedence: 9, Action: ALLOW)")
    denied, reason = await consul.agent.connect.authorize("db", uri("api"), "01")
    assert denied is False and reason.startswith("Matched L4 intention: default/* =>")


async def test_match_in_evaluation_order(consul: Consul) -> None:
    ixns = consul.connect.intentions
    await ixns.upsert("*", "*", action="deny")
    await ixns.upsert("web", "db", action="allow")
    found, _ = await ixns.match("destination", ["db", "other"])
    assert [(i["SourceName"], i["DestinationName"]) for i in found["db"]] == [
        ("web", "db"), ("*", "*")]
    assert [(i["SourceName"], i["DestinationName"]) for i in found["other"]] == [("*", "*")]
    by_source, _ = await ixns.match("source", "web")
    assert [i["DestinationName"] for i in by_source["web"]] == ["db", "*"]
    await ixns.delete("*", "*")
    nothing, _ = await ixns.match("destination", "other")
    assert nothing == {"other": []}


async def test_items_filter_and_watch(consul: Consul) -> None:
    ixns = consul.connect.intentions
    await ixns.upsert("web", "db", action="allow")
    await ixns.upsert("api", "db", action="deny")
    denied, _ = await ixns.items(filter='Action == "deny"')
    assert [i["SourceName"] for i in denied] == ["api"]
    _, meta = await ixns.items()

    async def later() -> None:
        await asyncio.sleep(0.05)
        await ixns.delete("api", "db")

    task = asyncio.ensure_future(later())
    items, after = await ixns.items(watch=(meta, "10s"))
    await task
    assert after["Index"] > meta["Index"]
    assert [i["SourceName"] for i in items] == ["web"]


async def test_l7_permissions(consul: Consul) -> None:
    await consul.config_entries.apply({"Kind": "service-defaults", "Name": "db",
                                       "Protocol": "http"})
    permissions = [{"Action": "allow", "HTTP": {"PathPrefix": "/api"}}]
    await consul.connect.intentions.upsert("web", "db", permissions=permissions)
    got, _ = await consul.connect.intentions.get("web", "db")
    assert got is not None and got["Permissions"] == permissions
    assert await consul.connect.intentions.check("web", "db") is False  # L7: deny here
    allowed, reason = await consul.agent.connect.authorize("db", uri("web"), "01")
    assert allowed is False and reason.startswith("Matched L7 intention:")


async def test_legacy_id_methods(consul: Consul) -> None:
    ixns = consul.connect.intentions
    ixn_id = await ixns.create("web", "legacy", action="allow", meta={"owner": "me"})
    got, _ = await ixns.get_by_id(ixn_id)
    assert got is not None and got["ID"] == ixn_id and got["Meta"] == {"owner": "me"}
    await ixns.update(got, "web", "legacy", action="deny")
    updated, _ = await ixns.get_by_id(ixn_id)
    assert updated is not None and updated["Action"] == "deny"
    exact, _ = await ixns.get("web", "legacy")
    assert exact is not None and exact["ID"] == ixn_id
    await ixns.delete_by_id(ixn_id)
    assert (await ixns.get_by_id(ixn_id))[0] is None
    with pytest.raises(ServerError, match="non-existent intention"):
        await ixns.delete_by_id(ixn_id)
    await ixns.upsert("web", "db", action="allow")
    with pytest.raises(ServerError, match="cannot use legacy intention API"):
        await ixns.create("api", "db", action="allow")


async def test_refusals(consul: Consul) -> None:
    with pytest.raises(ConsulError, match="partial values"):
        await consul.connect.intentions.upsert("w*b", "db", action="allow")


@pytest.mark.parametrize(
    ("call", "error", "text"),
    [
        (lambda c: c.connect.intentions.upsert("web", "db"), ValueError, "action"),
        (lambda c: c.connect.intentions.upsert("web", "db", action="maybe"), ValueError,
         "action"),
        (lambda c: c.connect.intentions.upsert("web", "db", action="allow", permissions=[]),
         ValueError, "not both"),
        (lambda c: c.connect.intentions.upsert(1, "db", action="allow"), TypeError, "source"),
        (lambda c: c.connect.intentions.get("web", ""), ValueError, "destination"),
        (lambda c: c.connect.intentions.match("both", "db"), ValueError, "by"),
        (lambda c: c.connect.intentions.match("source", []), ValueError, "names"),
        (lambda c: c.connect.intentions.items(filter=""), ValueError, "filter"),
        (lambda c: c.connect.intentions.check("web", None), TypeError, "destination"),
        (lambda c: c.connect.intentions.get_by_id(""), ValueError, "id"),
        (lambda c: c.agent.connect.authorize("", uri("web"), "01"), ValueError, "target"),
        (lambda c: c.agent.connect.authorize("db", 5, "01"), TypeError, "client_cert_uri"),
    ],
)
async def test_bad_input_is_refused_before_any_request(
    consul: Consul, call: Any, error: type[Exception], text: str
) -> None:
    with pytest.raises(error, match=text):
        await call(consul)


@pytest.fixture
async def acl_agent() -> AsyncIterator[DevAgent]:
    async with DevAgent(acl_enabled=True, acl_default_policy="deny",
                        acl_initial_management="root") as running:
        yield running


async def test_under_acl_default_deny_no_intention_denies(acl_agent: DevAgent) -> None:
    async with Consul(acl_agent.address, token="root", retry=False) as root:
        policy, _ = await root.acl.policies.create(
            "svc", 'service_prefix "" { policy = "write" }')
        token, _ = await root.acl.tokens.create(policies=[{"ID": policy["ID"]}])
        secret = token["SecretID"]
        assert await root.connect.intentions.check("web", "db", token=secret) is False
        assert await root.agent.connect.authorize("db", uri("web"), "01", token=secret) == (
            False, "Default behavior configured by ACLs")
        await root.connect.intentions.upsert("web", "db", action="allow")
        assert await root.connect.intentions.check("web", "db", token=secret) is True
        assert (await root.agent.connect.authorize("db", uri("web"), "01", token=secret))[0]
        with pytest.raises(PermissionDenied):
            await root.connect.intentions.upsert("api", "db", action="allow", token=secret)
