"""``client.semaphore``: the Go client's Semaphore recipe (api/semaphore.go) over HTTP.

A semaphore is a contender key ``<prefix>/<session>`` per contender, held by a session with
Behavior delete (so it vanishes with the session), and the coordination key ``<prefix>/.lock``
holding ``{"Limit": N, "Holders": {"<session>": true}}``, both flagged ``SemaphoreFlagValue``.
Holders whose contender key is no longer held are pruned; ``.lock`` changes only by
check-and-set.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from aioconsul import (
    Consul,
    LockConflict,
    LockHeld,
    LockInUse,
    LockNotHeld,
    LockTimeout,
    ServerError,
)
from aioconsul.recipes.lock import LOCK_FLAG_VALUE
from aioconsul.recipes.semaphore import SEMAPHORE_FLAG_VALUE, Semaphore
from aioconsul.testing import DevAgent

PREFIX = "jobs/slots"
LOCK_KEY = f"{PREFIX}/.lock"


def _recipe_tasks() -> list[asyncio.Task[Any]]:
    return [task for task in asyncio.all_tasks() if task.get_name().startswith("aioconsul ")]


@pytest.fixture(autouse=True)
async def no_leftover_tasks() -> AsyncIterator[None]:
    yield
    assert _recipe_tasks() == []


async def _holders(client: Consul) -> dict[str, Any]:
    entry, _ = await client.kv.get(LOCK_KEY)
    assert entry is not None
    document: dict[str, Any] = json.loads(entry["Value"])
    return document


async def _sessions(client: Consul) -> set[str]:
    listed, _ = await client.session.items()
    return {session["ID"] for session in listed}


async def _until(check: Any) -> None:
    while not await check():
        await asyncio.sleep(0.01)


def test_flag_value_is_gos() -> None:
    assert SEMAPHORE_FLAG_VALUE == 0xE0F69A2BAA414DE0 == 16210313421097356768


async def test_keys_and_json_like_the_go_client(consul: Consul) -> None:
    async with consul.semaphore(PREFIX + "/", 3, value=b"worker-1") as slot:
        session = slot.session
        assert session is not None and slot.prefix == PREFIX and slot.limit == 3
        contender, _ = await consul.kv.get(f"{PREFIX}/{session}")
        assert contender is not None
        assert (contender["Flags"], contender["Value"], contender["Session"]) == (
            SEMAPHORE_FLAG_VALUE, b"worker-1", session)
        lock, _ = await consul.kv.get(LOCK_KEY)
        assert lock is not None and lock["Flags"] == SEMAPHORE_FLAG_VALUE
        # encoding/json's bytes exactly: no spaces, fields in struct order.
        assert lock["Value"] == b'{"Limit":3,"Holders":{"%s":true}}' % session.encode()
        info, _ = await consul.session.info(session)
        assert info is not None
        assert (info["Name"], info["TTL"], info["Behavior"]) == (
            "Consul API Semaphore", "15s", "delete")
    # Release: out of Holders, contender key deleted, session destroyed.
    assert await _holders(consul) == {"Limit": 3, "Holders": {}}
    keys, _ = await consul.kv.keys(PREFIX + "/")
    assert keys == [LOCK_KEY]
    assert await _sessions(consul) == set()


async def test_limit_three_never_admits_a_fourth(consul_agent: DevAgent) -> None:
    """12 tasks over 3 clients take a 3-slot semaphore 45 times: at most 3 at once, checked
    by a shared counter and by the Holders of ``.lock``."""
    clients = [Consul(consul_agent.address) for _ in range(3)]
    inside: set[int] = set()
    most = 0
    taken = 0

    async def worker(number: int) -> None:
        nonlocal most, taken
        client = clients[number % 3]
        slot = client.semaphore(PREFIX, 3)
        while taken < 45:
            async with slot:
                taken += 1
                inside.add(number)
                most = max(most, len(inside))
                assert len(inside) <= 3
                document = await _holders(client)
                assert slot.session in document["Holders"]
                assert len(document["Holders"]) <= 3
                await asyncio.sleep(0.03)  # long enough for the others to fill every slot
                inside.discard(number)

    try:
        await asyncio.wait_for(asyncio.gather(*(worker(n) for n in range(12))), 30)
    finally:
        for client in clients:
            await client.close()
    assert taken >= 45 and most == 3
    async with Consul(consul_agent.address) as client:
        assert await _sessions(client) == set()
        assert (await _holders(client))["Holders"] == {}


async def test_a_full_semaphore_waits_for_a_slot(consul: Consul) -> None:
    second = consul.semaphore(PREFIX, 1)
    async with consul.semaphore(PREFIX, 1) as first:
        waiter = asyncio.create_task(second.acquire())
        await asyncio.sleep(0.1)
        assert not waiter.done()
    assert not first.held
    assert await asyncio.wait_for(waiter, 2) is True
    assert set((await _holders(consul))["Holders"]) == {second.session}
    await second.release()


async def test_dead_holders_are_pruned(consul: Consul) -> None:
    """semaphore.go pruneDeadHolders: a holder whose contender key is gone frees its slot."""
    await consul.kv.set(LOCK_KEY, b'{"Limit":1,"Holders":{"dead-session":true}}',
                        flags=SEMAPHORE_FLAG_VALUE)
    async with consul.semaphore(PREFIX, 1) as slot:
        assert set((await _holders(consul))["Holders"]) == {slot.session}


async def test_lost_when_the_session_is_destroyed(consul: Consul) -> None:
    async with consul.semaphore(PREFIX, 2) as slot:
        await consul.session.destroy(slot.session or "")
        started = time.monotonic()
        await asyncio.wait_for(slot.lost.wait(), 1)
        assert time.monotonic() - started < 0.5


async def test_lost_when_the_contender_key_is_deleted(consul: Consul) -> None:
    """The holder is then pruned from ``.lock``: its slot is free for others."""
    async with consul.semaphore(PREFIX, 2) as slot:
        await consul.kv.delete(f"{PREFIX}/{slot.session}")
        await asyncio.wait_for(slot.lost.wait(), 1)


async def test_lost_when_removed_from_the_holders(consul: Consul) -> None:
    async with consul.semaphore(PREFIX, 2) as slot:
        await consul.kv.set(LOCK_KEY, b'{"Limit":2,"Holders":{}}', flags=SEMAPHORE_FLAG_VALUE)
        await asyncio.wait_for(slot.lost.wait(), 1)


async def test_try_once_gives_up_after_the_wait(consul: Consul) -> None:
    async with consul.semaphore(PREFIX, 1) as held:
        late = consul.semaphore(PREFIX, 1, semaphore_try_once=True, semaphore_wait="300ms")
        started = time.monotonic()
        assert await late.acquire() is False
        assert 0.3 <= time.monotonic() - started <= 0.8
        assert await _sessions(consul) == {held.session}
        keys, _ = await consul.kv.keys(PREFIX + "/")
        assert keys == sorted([LOCK_KEY, f"{PREFIX}/{held.session}"])  # its contender is gone
        with pytest.raises(LockTimeout):
            async with late:
                pass


async def test_a_limit_conflict_is_refused(consul: Consul) -> None:
    async with consul.semaphore(PREFIX, 2):
        with pytest.raises(LockConflict, match=r"semaphore limit conflict \(lock: 2, local: 3\)"):
            await consul.semaphore(PREFIX, 3).acquire()
        assert len(await _sessions(consul)) == 1


async def test_a_lock_key_is_a_conflict(consul: Consul) -> None:
    async with consul.lock(LOCK_KEY):
        with pytest.raises(LockConflict, match="Existing key does not match semaphore use"):
            await consul.semaphore(PREFIX, 2).acquire()
        entry, _ = await consul.kv.get(LOCK_KEY)
        assert entry is not None and entry["Flags"] == LOCK_FLAG_VALUE


async def test_undecodable_json_is_a_conflict(consul: Consul) -> None:
    await consul.kv.set(LOCK_KEY, b"not json", flags=SEMAPHORE_FLAG_VALUE)
    with pytest.raises(LockConflict, match="lock decoding failed"):
        await consul.semaphore(PREFIX, 2).acquire()
    assert await _sessions(consul) == set()


async def test_a_lent_session_is_kept_and_its_contender_cleaned_up(consul: Consul) -> None:
    session = await consul.session.create(behavior="delete", lock_delay="0s")
    await consul.kv.set(LOCK_KEY, b"{}", flags=0)
    with pytest.raises(LockConflict):
        await consul.semaphore(PREFIX, 2, session=session).acquire()
    assert (await consul.kv.get(f"{PREFIX}/{session['ID']}"))[0] is None
    await consul.kv.delete(LOCK_KEY)
    async with consul.semaphore(PREFIX, 2, session=session) as slot:
        assert slot.session == session["ID"]
    assert session["ID"] in await _sessions(consul)
    await consul.session.destroy(session)


async def test_a_failed_acquire_leaves_the_holders_with_a_lent_session(
        consul: Consul, agents: Any, session: str) -> None:
    """The check-and-set that adds us to ``.lock`` may be applied and answered 500; it is never
    repeated (the CAS retry rule), so the semaphore takes our session out of the holders again
    and deletes its contender key before raising. The lent session is kept."""
    proxy = await agents("forward", "forward", "applied-then-500")  # contender, list, .lock
    async with Consul(proxy.address) as client:
        with pytest.raises(ServerError):
            await client.semaphore(PREFIX, 2, session=session).acquire()
    assert await _holders(consul) == {"Limit": 2, "Holders": {}}
    keys, _ = await consul.kv.keys(PREFIX + "/")
    assert keys == [LOCK_KEY]
    assert session in await _sessions(consul)


async def test_a_cancelled_acquire_leaves_the_holders(consul: Consul, agents: Any) -> None:
    """Cancelled while the ``.lock`` write that added us is in flight (the agent applied it):
    our session leaves the holders (a release would do no less), then the session is destroyed.
    Destroying it alone would leave a dead holder for the others to prune."""
    proxy = await agents("forward", "forward", "forward", "applied-then-hold")
    async with Consul(proxy.address) as client:
        task = asyncio.create_task(client.semaphore(PREFIX, 2).acquire())

        async def applied() -> bool:
            entry, _ = await consul.kv.get(LOCK_KEY)
            return entry is not None and bool(json.loads(entry["Value"])["Holders"])

        await asyncio.wait_for(_until(applied), 5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert await _holders(consul) == {"Limit": 2, "Holders": {}}
    assert await _sessions(consul) == set()


async def test_acquire_twice_and_release_unheld(consul: Consul) -> None:
    slot = consul.semaphore(PREFIX, 2)
    with pytest.raises(LockNotHeld, match="Semaphore not held"):
        await slot.release()
    assert await slot.acquire()
    with pytest.raises(LockHeld, match="Semaphore already held"):
        await slot.acquire()
    await slot.release()


async def test_destroy_follows_semaphore_go(consul: Consul) -> None:
    slot = consul.semaphore(PREFIX, 2)
    await slot.destroy()  # no .lock: fine
    assert await slot.acquire()
    with pytest.raises(LockHeld):
        await slot.destroy()
    other = consul.semaphore(PREFIX, 2)
    with pytest.raises(LockInUse, match="Semaphore in use"):
        await other.destroy()
    await slot.release()
    await other.destroy()
    assert (await consul.kv.get(LOCK_KEY))[0] is None


@pytest.mark.parametrize(("args", "kwargs", "error", "match"), [
    (("", 1), {}, ValueError, "^prefix: "),
    ((PREFIX, 0), {}, ValueError, "^limit: "),
    ((PREFIX, True), {}, TypeError, "^limit: "),
    ((PREFIX, "3"), {}, TypeError, "^limit: "),
    ((PREFIX, 3), {"semaphore_wait": 5}, ValueError, "^semaphore_wait: "),
    ((PREFIX, 3), {"semaphore_try_once": None}, TypeError, "^semaphore_try_once: "),
    ((PREFIX, 3), {"value": 1}, TypeError, "^value: "),
])
def test_bad_arguments_are_refused_before_any_request(
        unreachable: str, args: tuple[Any, ...], kwargs: dict[str, Any],
        error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        Consul(unreachable).semaphore(*args, **kwargs)


def test_client_semaphore_builds_a_semaphore(unreachable: str) -> None:
    slot = Consul(unreachable).semaphore(PREFIX, 2)
    assert isinstance(slot, Semaphore) and slot.key == PREFIX
