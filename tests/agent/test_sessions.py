"""Sessions and KV locks: agent/session_endpoint.go, consul/session_endpoint.go,
state/session.go (invalidation, lock-delay) and state/kvs.go (acquire/release)."""

from __future__ import annotations

import asyncio
import base64
import json

import aiohttp
import pytest

from aioconsul.testing import DevAgent

from .conftest import Api


async def test_create_applies_consul_defaults(api: Api) -> None:
    session_id = await api.create_session()
    (session,) = (await api.get(f"/v1/session/info/{session_id}")).json()
    assert session == {
        "ID": session_id,
        "Name": "",
        "Node": "aioconsul-dev",
        "LockDelay": 15_000_000_000,
        "Behavior": "release",
        "TTL": "",
        "NodeChecks": ["serfHealth"],
        "ServiceChecks": None,
        "CreateIndex": session["CreateIndex"],
        "ModifyIndex": session["CreateIndex"],
    }


@pytest.mark.parametrize(
    ("lock_delay", "nanoseconds"),
    [
        ("10s", 10_000_000_000),
        ("250ms", 250_000_000),
        (5, 5_000_000_000),  # numbers below 1000 are seconds
        (2_000_000_000, 2_000_000_000),  # larger numbers are nanoseconds
        ("500ns", 500_000_000_000),  # so is a tiny duration string (lockDelayMinThreshold)
        ("0s", 0),
    ],
)
async def test_lock_delay_parsing(api: Api, lock_delay: object, nanoseconds: int) -> None:
    """structs.Session.UnmarshalJSON."""
    session_id = await api.create_session(LockDelay=lock_delay)
    (session,) = (await api.get(f"/v1/session/info/{session_id}")).json()
    assert session["LockDelay"] == nanoseconds


@pytest.mark.parametrize(
    ("body", "text"),
    [
        ("{", "Request decode failed: unexpected EOF"),
        ("[1]", "Request decode failed: json: cannot unmarshal array into Go value of type"),
        (
            '{"Name": 5}',
            "Request decode failed: "
            "json: cannot unmarshal number into Go struct field .Name of type string",
        ),
        ('{"LockDelay": "15"}', 'Request decode failed: time: missing unit in duration "15"'),
    ],
)
async def test_undecodable_bodies_are_400(api: Api, body: str, text: str) -> None:
    reply = await api.put("/v1/session/create", body)
    assert reply.status == 400
    assert reply.text.startswith(text)


@pytest.mark.parametrize(
    ("body", "text"),
    [
        ({"Behavior": "keep"}, "Invalid Behavior setting 'keep'"),
        ({"TTL": "5s"}, "Invalid Session TTL '5000000000', must be between [10s=24h0m0s]"),
        ({"TTL": "25h"}, "Invalid Session TTL '90000000000000', must be between [10s=24h0m0s]"),
        ({"TTL": "soon"}, "Session TTL 'soon' invalid: time: invalid duration \"soon\""),
        ({"Node": "elsewhere"}, "apply failed: Missing node registration"),
        ({"NodeChecks": ["serfHealth", "disk"]}, "apply failed: Missing check 'disk' registration"),
        ({"ServiceChecks": [{"ID": "web"}]}, "apply failed: Missing check 'web' registration"),
    ],
)
async def test_invalid_sessions_are_500_with_consul_text(
    api: Api, body: dict[str, object], text: str
) -> None:
    reply = await api.put("/v1/session/create", json.dumps(body))
    assert (reply.status, reply.text) == (500, text)


async def test_zero_ttl_means_no_ttl(api: Api) -> None:
    session_id = await api.create_session(TTL="0s")
    (session,) = (await api.get(f"/v1/session/info/{session_id}")).json()
    assert session["TTL"] == "0s"


async def test_empty_checks_removes_the_default_serf_check(api: Api) -> None:
    """fixupEmptySessionChecks: pre-1.7 clients send "Checks": [] for a check-less session."""
    session_id = await api.create_session(Checks=[])
    (session,) = (await api.get(f"/v1/session/info/{session_id}")).json()
    assert session["NodeChecks"] == []
    assert "Checks" not in session


async def test_unknown_session_info_is_an_empty_list(api: Api) -> None:
    reply = await api.get("/v1/session/info/00000000-0000-0000-0000-000000000000")
    assert (reply.status, reply.json(), reply.index) == (200, [], 1)


async def test_renewing_an_unknown_session_is_404(api: Api) -> None:
    reply = await api.put("/v1/session/renew/nope")
    assert (reply.status, reply.text) == (404, "Session id 'nope' not found")


async def test_renew_returns_the_session(api: Api) -> None:
    session_id = await api.create_session(TTL="30s", Name="lease")
    reply = await api.put(f"/v1/session/renew/{session_id}")
    (session,) = reply.json()
    assert (session["ID"], session["TTL"], session["Name"]) == (session_id, "30s", "lease")


async def test_destroying_an_unknown_session_is_true(api: Api) -> None:
    reply = await api.put("/v1/session/destroy/nope")
    assert (reply.status, reply.json()) == (200, True)


async def test_missing_ids_are_400(api: Api) -> None:
    for method, path, text in (
        ("PUT", "/v1/session/destroy/", "Missing session"),
        ("PUT", "/v1/session/renew/", "Missing session"),
        ("GET", "/v1/session/info/", "Missing session"),
        ("GET", "/v1/session/node/", "Missing node name"),
    ):
        reply = await api.request(method, path)
        assert (reply.status, reply.text) == (400, text)


async def test_list_and_node_sessions(api: Api) -> None:
    first, second = await api.create_session(), await api.create_session()
    listed = await api.get("/v1/session/list")
    assert sorted(s["ID"] for s in listed.json()) == sorted([first, second])
    assert listed.index == max(s["CreateIndex"] for s in listed.json())
    by_node = await api.get("/v1/session/node/AIOCONSUL-DEV")  # node names ignore case
    assert len(by_node.json()) == 2
    assert (await api.get("/v1/session/node/other")).json() == []


async def test_acquire_sets_the_session_and_increments_lock_index(api: Api) -> None:
    session_id = await api.create_session()
    assert (await api.put(f"/v1/kv/lock?acquire={session_id}", b"me")).json() is True
    (entry,) = (await api.get("/v1/kv/lock")).json()
    assert (entry["LockIndex"], entry["Session"]) == (1, session_id)
    assert list(entry).index("Session") == 4  # between Value and CreateIndex
    # Re-acquiring by the holder updates the value but not LockIndex.
    assert (await api.put(f"/v1/kv/lock?acquire={session_id}", b"again")).json() is True
    (entry,) = (await api.get("/v1/kv/lock")).json()
    assert (entry["LockIndex"], base64.b64decode(entry["Value"])) == (1, b"again")


async def test_acquire_of_a_key_held_by_another_session_is_false(api: Api) -> None:
    holder, other = await api.create_session(), await api.create_session()
    await api.put(f"/v1/kv/lock?acquire={holder}", b"x")
    assert (await api.put(f"/v1/kv/lock?acquire={other}", b"y")).json() is False


async def test_release_must_come_from_the_holder_and_keeps_lock_index(api: Api) -> None:
    holder, other = await api.create_session(), await api.create_session()
    await api.put(f"/v1/kv/lock?acquire={holder}", b"x")
    assert (await api.put(f"/v1/kv/lock?release={other}", b"x")).json() is False
    assert (await api.put("/v1/kv/unlocked?release=" + holder, b"x")).json() is False
    assert (await api.put(f"/v1/kv/lock?release={holder}", b"done")).json() is True
    (entry,) = (await api.get("/v1/kv/lock")).json()
    assert "Session" not in entry
    assert entry["LockIndex"] == 1
    assert base64.b64decode(entry["Value"]) == b"done"  # the body always replaces the value
    # A new holder increments LockIndex again.
    assert (await api.put(f"/v1/kv/lock?acquire={other}", b"y")).json() is True
    assert (await api.get("/v1/kv/lock")).json()[0]["LockIndex"] == 2


async def test_acquire_with_an_unknown_session_is_500(api: Api) -> None:
    reply = await api.put("/v1/kv/lock?acquire=nope", b"x")
    assert (reply.status, reply.text) == (500, 'invalid session "nope"')
    reply = await api.put("/v1/kv/lock?acquire=", b"x")
    assert (reply.status, reply.text) == (500, "missing session")


async def test_plain_put_on_a_locked_key_keeps_the_holder_but_resets_lock_index(api: Api) -> None:
    """kvsSetTxn keeps Session (locks are advisory) and takes the request's LockIndex, 0."""
    session_id = await api.create_session()
    await api.put(f"/v1/kv/lock?acquire={session_id}", b"x")
    assert (await api.put("/v1/kv/lock", b"stolen")).json() is True
    (entry,) = (await api.get("/v1/kv/lock")).json()
    assert (entry["Session"], entry["LockIndex"]) == (session_id, 0)


async def test_destroy_releases_held_keys_and_starts_lock_delay(api: Api) -> None:
    """deleteSessionTxn releases the key; kvsPreApply refuses acquires until lock-delay ends."""
    session_id = await api.create_session(LockDelay="300ms")
    await api.put(f"/v1/kv/lock?acquire={session_id}", b"x")
    assert (await api.put(f"/v1/session/destroy/{session_id}")).json() is True
    (entry,) = (await api.get("/v1/kv/lock")).json()
    assert "Session" not in entry
    assert entry["LockIndex"] == 1
    newcomer = await api.create_session()
    assert (await api.put(f"/v1/kv/lock?acquire={newcomer}", b"y")).json() is False
    await asyncio.sleep(0.35)
    assert (await api.put(f"/v1/kv/lock?acquire={newcomer}", b"y")).json() is True


async def test_lock_delay_is_checked_before_the_session(api: Api) -> None:
    """The lock-delay check runs before Raft, the session lookup in the FSM."""
    session_id = await api.create_session(LockDelay="5s")
    await api.put(f"/v1/kv/lock?acquire={session_id}", b"x")
    await api.put(f"/v1/session/destroy/{session_id}")
    reply = await api.put("/v1/kv/lock?acquire=nope", b"x")
    assert (reply.status, reply.json()) == (200, False)


async def test_behavior_delete_deletes_held_keys(api: Api) -> None:
    session_id = await api.create_session(Behavior="delete", LockDelay="0s")
    await api.put(f"/v1/kv/held?acquire={session_id}", b"x")
    await api.put("/v1/kv/free", b"x")
    await api.put(f"/v1/session/destroy/{session_id}")
    assert (await api.get("/v1/kv/held")).status == 404
    assert (await api.get("/v1/kv/free")).status == 200
    newcomer = await api.create_session()
    assert (await api.put(f"/v1/kv/held?acquire={newcomer}", b"y")).json() is True


async def test_session_ttl_expiry_invalidates_and_releases(http: aiohttp.ClientSession) -> None:
    """Consul invalidates a session TTL x SessionTTLMultiplier after its last renewal."""
    async with DevAgent(session_ttl_min=0.05, session_ttl_multiplier=1) as agent:
        api = Api(http, agent)
        session_id = await api.create_session(TTL="150ms", LockDelay="0s")
        await api.put(f"/v1/kv/lock?acquire={session_id}", b"x")
        await asyncio.sleep(0.1)
        assert (await api.put(f"/v1/session/renew/{session_id}")).status == 200
        await asyncio.sleep(0.1)  # 200 ms after creation, 100 ms after the renewal
        assert (await api.get(f"/v1/session/info/{session_id}")).json() != []
        await asyncio.sleep(0.2)
        assert (await api.get(f"/v1/session/info/{session_id}")).json() == []
        (entry,) = (await api.get("/v1/kv/lock")).json()
        assert "Session" not in entry
        assert (await api.put(f"/v1/session/renew/{session_id}")).status == 404


async def test_default_ttl_multiplier_doubles_the_ttl(http: aiohttp.ClientSession) -> None:
    async with DevAgent(session_ttl_min=0.05) as agent:
        api = Api(http, agent)
        session_id = await api.create_session(TTL="100ms")
        await asyncio.sleep(0.15)
        assert (await api.get(f"/v1/session/info/{session_id}")).json() != []
        await asyncio.sleep(0.15)
        assert (await api.get(f"/v1/session/info/{session_id}")).json() == []


async def test_session_ids_are_looked_up_case_insensitively(api: Api) -> None:
    session_id = await api.create_session()
    reply = await api.get(f"/v1/session/info/{session_id.upper()}")
    assert reply.json()[0]["ID"] == session_id
