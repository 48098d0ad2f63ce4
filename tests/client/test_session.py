"""``client.session`` against an agent over HTTP (website/content/api-docs/session.mdx,
agent/session_endpoint.go; ../shared/consul-api/semantics.md §12)."""

from __future__ import annotations

import asyncio
import datetime
from typing import Any

import pytest

import aioconsul
from aioconsul import Consul
from aioconsul.testing import DevAgent


async def test_create_with_defaults(consul: Consul) -> None:
    """Defaults: this agent's node, LockDelay 15s (in ns), Behavior release, serfHealth."""
    created = await consul.session.create()
    info, meta = await consul.session.info(created)
    assert info is not None and meta["Index"] > 0
    assert info["ID"] == created["ID"]
    assert info["LockDelay"] == 15 * 10**9
    assert info["Behavior"] == "release"
    assert info["NodeChecks"] == ["serfHealth"]
    assert isinstance(info["Node"], str) and info["Node"]


async def test_create_with_options(consul: Consul) -> None:
    created = await consul.session.create(
        "locker", lock_delay=datetime.timedelta(seconds=2), behavior="delete", ttl="30s",
        node_checks=[],
    )
    info, _ = await consul.session.info(created["ID"])
    assert info is not None
    assert (info["Name"], info["LockDelay"], info["Behavior"], info["TTL"]) == (
        "locker", 2 * 10**9, "delete", "30s")
    assert not info.get("NodeChecks")


async def test_list_node_and_destroy(consul: Consul) -> None:
    first = await consul.session.create("one")
    second = await consul.session.create("two")
    listed, _ = await consul.session.items()
    assert {s["ID"] for s in listed} == {first["ID"], second["ID"]}
    node = listed[0]["Node"]
    on_node, _ = await consul.session.node(node)
    assert {s["ID"] for s in on_node} == {first["ID"], second["ID"]}
    assert await consul.session.destroy(first) is True
    assert await consul.session.destroy(first) is True  # idempotent
    assert (await consul.session.info(first))[0] is None
    assert [s["ID"] for s in (await consul.session.items())[0]] == [second["ID"]]


async def test_renew_returns_the_session(consul: Consul) -> None:
    created = await consul.session.create(ttl="10s")
    renewed = await consul.session.renew(created)
    assert renewed["ID"] == created["ID"] and renewed["TTL"] == "10s"


async def test_renew_of_an_unknown_session_is_not_found(consul: Consul) -> None:
    """Renewing an expired or unknown session answers 404 (session_endpoint.go)."""
    with pytest.raises(aioconsul.NotFound, match="not found"):
        await consul.session.renew("6d7c0ad1-0000-4000-8000-000000000000")


async def test_blocking_list_wakes_on_create(consul: Consul) -> None:
    _, meta = await consul.session.items()
    waiter = asyncio.create_task(consul.session.items(watch=(meta, "10s")))
    await asyncio.sleep(0.05)
    created = await consul.session.create()
    listed, new_meta = await asyncio.wait_for(waiter, 5)
    assert [s["ID"] for s in listed] == [created["ID"]]
    assert new_meta["Index"] > meta["Index"]


@pytest.mark.parametrize("kwargs, error, match", [
    ({"behavior": "keep"}, ValueError, "^behavior: "),
    ({"ttl": "30"}, ValueError, "^ttl: "),
    ({"lock_delay": 15}, ValueError, "^lock_delay: "),
    ({"node_checks": "serfHealth"}, TypeError, "^node_checks: "),
    ({"name": 3}, TypeError, "^name: "),
])
async def test_bad_create_arguments_are_refused_before_sending(
        unreachable: str, kwargs: dict[str, object], error: type[Exception], match: str) -> None:
    async with Consul(unreachable) as client:
        with pytest.raises(error, match=match):
            await client.session.create(**kwargs)  # type: ignore[arg-type]


async def test_sub_millisecond_lock_delay_rounds_up_to_one_millisecond(consul: Consul) -> None:
    """Consul reads a LockDelay under 1000ns as seconds (session_endpoint.go fixupLockDelay),
    so the client sends whole milliseconds; like the Go client's durToMsec (api/api.go) a
    positive delay under 1ms becomes 1ms, never 0ms (which would turn the delay off)."""
    for tiny in ("500ns", "1us", datetime.timedelta(microseconds=999)):
        created = await consul.session.create(lock_delay=tiny)
        info, _ = await consul.session.info(created)
        assert info is not None and info["LockDelay"] == 1_000_000, tiny
    created = await consul.session.create(lock_delay="0s")
    info, _ = await consul.session.info(created)
    assert info is not None and info["LockDelay"] == 0
    created = await consul.session.create(lock_delay="1500ms")
    info, _ = await consul.session.info(created)
    assert info is not None and info["LockDelay"] == 1_500_000_000


@pytest.fixture
async def quick() -> Any:
    """A dev agent whose session TTLs may be milliseconds and expire exactly at their TTL."""
    async with DevAgent(session_ttl_min=0.05, session_ttl_multiplier=1) as agent, \
            Consul(agent.address) as client:
        yield client


async def _wait_until_unlocked(consul: Consul, key: str) -> Any:
    async with asyncio.timeout(5):
        while True:
            entry, meta = await consul.kv.get(key)
            if entry is None or not entry.get("Session"):
                return entry
            await consul.kv.get(key, watch=(meta, "1s"))


@pytest.mark.devagent
@pytest.mark.parametrize("behavior", ["release", "delete"])
async def test_a_lock_follows_its_session_behavior_when_the_ttl_lapses(
        quick: Consul, behavior: str) -> None:
    """A session not renewed within its TTL is invalidated; its locks are then released or
    deleted as its Behavior says (session.mdx, "Behavior"; the agent may take up to 2xTTL)."""
    created = await quick.session.create(ttl="100ms", behavior=behavior, lock_delay="0s")
    assert await quick.kv.lock("held", b"value", session=created) is True
    entry = await _wait_until_unlocked(quick, "held")
    if behavior == "delete":
        assert entry is None
    else:
        assert entry is not None and entry["Value"] == b"value" and entry["LockIndex"] == 1
    assert (await quick.session.info(created))[0] is None


@pytest.mark.parametrize("behavior", ["release", "delete"])
async def test_a_lock_follows_its_session_behavior_when_destroyed(
        consul: Consul, behavior: str) -> None:
    created = await consul.session.create(behavior=behavior, lock_delay="0s")
    assert await consul.kv.lock("held", b"value", session=created) is True
    assert await consul.session.destroy(created) is True
    entry, _ = await consul.kv.get("held")
    if behavior == "delete":
        assert entry is None
    else:
        assert entry is not None and not entry.get("Session") and entry["Value"] == b"value"


async def test_lock_delay_refuses_reacquisition_after_invalidation(consul: Consul) -> None:
    """After a session holding a lock is invalidated, the key cannot be acquired again until its
    lock-delay passes (session.mdx, "LockDelay"; kvs acquire answers false)."""
    first = await consul.session.create(lock_delay="1s")
    second = await consul.session.create(lock_delay="0s")
    assert await consul.kv.lock("mutex", session=first) is True
    await consul.session.destroy(first)
    assert await consul.kv.lock("mutex", session=second) is False
    await asyncio.sleep(1.1)
    assert await consul.kv.lock("mutex", session=second) is True
