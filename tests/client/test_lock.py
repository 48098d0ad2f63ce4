"""``client.lock``: the Go client's Lock recipe (api/lock.go) against an agent over HTTP.

What a lock must do is lock.go's: the key's Flags are ``LockFlagValue``, its session is named
"Consul API Lock" with a 15s TTL, a key held by another session is waited on with blocking reads,
a refused acquisition of a free key means a lock-delay (api-docs/session.mdx: "the lock-delay
... prevents the lock from being acquired" after the holder's session is invalidated), and the
monitor reports the lock lost as soon as the key is no longer held by our session.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from aioconsul import (
    Consul,
    LockConflict,
    LockError,
    LockHeld,
    LockInUse,
    LockLost,
    LockNotHeld,
    LockTimeout,
    ServerError,
    TransportError,
)
from aioconsul import _cleanup as cleanup_module
from aioconsul.recipes.lock import LOCK_FLAG_VALUE, Lock
from aioconsul.recipes.semaphore import SEMAPHORE_FLAG_VALUE
from aioconsul.testing import DevAgent

KEY = "service/leader"


def _recipe_tasks() -> list[asyncio.Task[Any]]:
    return [task for task in asyncio.all_tasks() if task.get_name().startswith("aioconsul ")]


@pytest.fixture(autouse=True)
async def no_leftover_tasks() -> AsyncIterator[None]:
    yield
    assert _recipe_tasks() == []


async def _sessions(client: Consul) -> set[str]:
    listed, _ = await client.session.items()
    return {session["ID"] for session in listed}


async def _holder(client: Consul) -> str | None:
    """The session holding KEY, read straight from the agent."""
    entry, _ = await client.kv.get(KEY)
    return entry.get("Session") if entry is not None else None


async def _eventually(check: Callable[[], Awaitable[bool]]) -> None:
    async def poll() -> None:
        while not await check():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), 5)


async def _fail_acquire(lock: Lock, consul: Consul, how: str) -> None:
    """Make ``lock.acquire()`` fail after the agent applied its ``?acquire=``: answered 500
    (proxy step "applied-then-500"), or cancelled while the answer is held back ("applied-then-
    hold")."""
    if how == "applied-then-500":
        with pytest.raises(ServerError):
            await lock.acquire()
        return
    task = asyncio.create_task(lock.acquire())

    async def applied() -> bool:
        return await _holder(consul) is not None

    await _eventually(applied)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def test_flag_value_is_gos() -> None:
    assert LOCK_FLAG_VALUE == 0x2DDCCBC058A50C18 == 3304740253564472344


async def test_holds_the_key_like_the_go_client(consul: Consul) -> None:
    """lock.go: Flags LockFlagValue, the value, a session "Consul API Lock" with TTL 15s."""
    async with consul.lock(KEY, value=b"node-a") as lock:
        assert lock.held and lock.session is not None
        entry, _ = await consul.kv.get(KEY)
        assert entry is not None
        assert (entry["Flags"], entry["Value"], entry["Session"]) == (
            LOCK_FLAG_VALUE, b"node-a", lock.session)
        info, _ = await consul.session.info(lock.session)
        assert info is not None
        assert (info["Name"], info["TTL"], info["Behavior"]) == ("Consul API Lock", "15s",
                                                                 "release")
    # Unlock releases with the flag and the value, then destroys the session it created.
    entry, _ = await consul.kv.get(KEY)
    assert entry is not None and not entry.get("Session")
    assert (entry["Flags"], entry["Value"]) == (LOCK_FLAG_VALUE, b"node-a")
    assert await _sessions(consul) == set()
    assert lock.lost.is_set() and not lock.held


async def test_mutual_exclusion_under_contention(consul_agent: DevAgent) -> None:
    """20 tasks over 3 clients take the lock 200 times: never two holders at once.

    Checked twice: a record shared by the tasks, and the key's Session field, which must be the
    holder's session for the whole time it holds the lock.
    """
    clients = [Consul(consul_agent.address) for _ in range(3)]
    holder: list[str | None] = [None]
    taken: list[str] = []
    total = 200

    async def contender(number: int) -> None:
        client = clients[number % 3]
        lock = client.lock("contended", value=str(number).encode())
        while len(taken) < total:
            async with lock:
                if len(taken) >= total:
                    continue
                assert holder[0] is None, f"{number} entered while {holder[0]} held the lock"
                holder[0] = lock.session
                taken.append(str(number))
                entry, _ = await client.kv.get("contended")
                assert entry is not None and entry["Session"] == lock.session
                assert entry["Value"] == str(number).encode()
                await asyncio.sleep(0)
                assert holder[0] == lock.session
                holder[0] = None

    try:
        await asyncio.wait_for(asyncio.gather(*(contender(n) for n in range(20))), 30)
    finally:
        for client in clients:
            await client.close()
    assert len(taken) == total
    assert len(set(taken)) > 1  # really contended
    async with Consul(consul_agent.address) as client:
        assert await _sessions(client) == set()
        entry, _ = await client.kv.get("contended")
        assert entry is not None and not entry.get("Session")


async def test_lost_when_the_session_is_destroyed(consul: Consul) -> None:
    async with consul.lock(KEY) as lock:
        session = lock.session
        assert session is not None
        await consul.session.destroy(session)
        started = time.monotonic()
        await asyncio.wait_for(lock.lost.wait(), 1)
        assert time.monotonic() - started < 0.5
        assert not lock.held


@pytest.mark.devagent
async def test_lost_when_the_session_expires() -> None:
    """A lent TTL session nobody renews expires (agent-side), which releases the key."""
    async with DevAgent(session_ttl_min=0.05, session_ttl_multiplier=1) as agent, Consul(
            agent.address) as client:
        session = await client.session.create(ttl="200ms", lock_delay="0s")
        async with client.lock(KEY, session=session) as lock:
            started = time.monotonic()
            await asyncio.wait_for(lock.lost.wait(), 2)
            assert time.monotonic() - started < 0.5
        assert (await client.session.info(session))[0] is None


async def test_lost_when_the_key_is_deleted(consul: Consul) -> None:
    async with consul.lock(KEY) as lock:
        await consul.kv.delete(KEY)
        await asyncio.wait_for(lock.lost.wait(), 1)
        assert lock.lost_cause is None


async def test_lost_when_the_key_is_released_and_taken_over(consul: Consul) -> None:
    other = await consul.session.create(lock_delay="0s")
    async with consul.lock(KEY) as lock:
        assert await consul.kv.unlock(KEY, session=lock.session or "") is True
        assert await consul.kv.lock(KEY, session=other, flags=LOCK_FLAG_VALUE) is True
        await asyncio.wait_for(lock.lost.wait(), 1)
    # The release on the way out is refused (the key is other's) and changes nothing.
    entry, _ = await consul.kv.get(KEY)
    assert entry is not None and entry["Session"] == other["ID"]
    await consul.session.destroy(other)


async def test_cancel_on_loss_cancels_the_body_and_raises_lock_lost(consul: Consul) -> None:
    reached: list[str] = []
    with pytest.raises(LockLost) as caught:
        async with consul.lock(KEY, cancel_on_loss=True) as lock:
            await consul.session.destroy(lock.session or "")
            try:
                await asyncio.sleep(5)
            except asyncio.CancelledError:
                reached.append("cancelled")
                raise
    assert reached == ["cancelled"]
    assert isinstance(caught.value.__cause__, asyncio.CancelledError)
    assert caught.value.key == KEY and isinstance(caught.value, LockError)
    current = asyncio.current_task()
    if sys.version_info >= (3, 11):  # our cancellation was withdrawn, none is left pending
        assert current is not None and current.cancelling() == 0


async def test_cancel_on_loss_lets_an_outside_cancellation_through(consul: Consul) -> None:
    """An external cancel is not turned into LockLost, and the session is still destroyed."""
    entered = asyncio.Event()

    async def hold() -> None:
        async with consul.lock(KEY, cancel_on_loss=True):
            entered.set()
            await asyncio.sleep(5)

    task = asyncio.create_task(hold())
    await entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await _sessions(consul) == set()


async def test_without_cancel_on_loss_the_body_runs_on(consul: Consul) -> None:
    async with consul.lock(KEY) as lock:
        await consul.kv.delete(KEY)
        await asyncio.wait_for(lock.lost.wait(), 1)
        await asyncio.sleep(0.01)  # not cancelled
    assert await _sessions(consul) == set()


async def test_lock_delay_is_respected(consul: Consul) -> None:
    """After the holder's session is invalidated, nobody gets the key for the lock-delay; the
    waiter retries lock_retry_time apart (Go: DefaultLockRetryTime) instead of spinning."""
    first = consul.lock(KEY, lock_delay="1s")
    assert await first.acquire() is True
    await consul.session.destroy(first.session or "")
    invalidated = time.monotonic()
    second = consul.lock(KEY, lock_retry_time="100ms")
    try:
        assert await second.acquire() is True
        waited = time.monotonic() - invalidated
        assert 0.9 <= waited <= 1.6
    finally:
        await second.release()
        await first.release()


async def test_try_once_gives_up_after_lock_wait(consul: Consul) -> None:
    async with consul.lock(KEY) as held:
        late = consul.lock(KEY, lock_try_once=True, lock_wait="300ms")
        started = time.monotonic()
        assert await late.acquire() is False
        assert 0.3 <= time.monotonic() - started <= 0.8
        assert not late.held
        assert await _sessions(consul) == {held.session}  # the attempt's session is gone
        with pytest.raises(LockTimeout) as caught:
            async with late:
                pass
        assert isinstance(caught.value, TimeoutError)


async def test_try_once_takes_a_free_lock(consul: Consul) -> None:
    lock = consul.lock(KEY, lock_try_once=True, lock_wait="0s")
    assert await lock.acquire() is True
    await lock.release()


async def test_try_once_gives_up_during_a_lock_delay(consul: Consul) -> None:
    first = consul.lock(KEY, lock_delay="10s")
    assert await first.acquire()
    await consul.session.destroy(first.session or "")
    late = consul.lock(KEY, lock_try_once=True, lock_wait="200ms")
    started = time.monotonic()
    assert await late.acquire() is False  # the 5s retry pause is cut to the wait left
    assert time.monotonic() - started < 0.6
    await first.release()


async def test_a_semaphore_key_is_a_conflict(consul: Consul) -> None:
    """lock.go: a key whose Flags are not LockFlagValue is ErrLockConflict."""
    async with consul.semaphore("jobs/slots", 2):
        lock = consul.lock("jobs/slots/.lock")
        with pytest.raises(LockConflict, match="Existing key does not match lock use"):
            await lock.acquire()
        entry, _ = await consul.kv.get("jobs/slots/.lock")
        assert entry is not None and entry["Flags"] == SEMAPHORE_FLAG_VALUE
    assert await _sessions(consul) == set()


async def test_a_plain_key_is_a_conflict(consul: Consul) -> None:
    await consul.kv.set(KEY, b"config")
    with pytest.raises(LockConflict):
        await consul.lock(KEY).acquire()
    assert await _sessions(consul) == set()


async def test_reentrant_with_the_session_that_holds_the_key(consul: Consul) -> None:
    """lock.go: "pair.Session == l.lockSession" means held already (a restart with the same
    session): no second acquisition, and the lent session is not destroyed."""
    session = await consul.session.create(lock_delay="0s")
    assert await consul.kv.lock(KEY, b"v", session=session, flags=LOCK_FLAG_VALUE)
    before, _ = await consul.kv.get(KEY)
    lock = consul.lock(KEY, session=session, value=b"v")
    assert await lock.acquire() is True and lock.session == session["ID"]
    after, _ = await consul.kv.get(KEY)
    assert before is not None and after is not None
    assert after["ModifyIndex"] == before["ModifyIndex"]
    await lock.release()
    assert session["ID"] in await _sessions(consul)
    await consul.session.destroy(session)


async def test_a_lent_keepalive_session_counts_for_loss(consul: Consul) -> None:
    async with consul.session.keepalive() as session:
        async with consul.lock(KEY, session=session) as lock:
            assert lock.session == session.id
        assert session.running  # not destroyed by the lock
        async with consul.lock(KEY, session=session) as lock:
            await consul.session.destroy(session)
            await asyncio.wait_for(lock.lost.wait(), 1)


async def test_lost_before_the_body_began(consul: Consul) -> None:
    """A loss seen while acquiring cancels the body at its first await, never later (the
    release on the way out must not be hit by a stray cancellation)."""
    async with consul.session.keepalive() as session:
        session.lost.set()  # as if renewal had failed: the session may be gone
        with pytest.raises(LockLost):
            async with consul.lock(KEY, session=session, cancel_on_loss=True) as lock:
                assert lock.lost.is_set()
                await asyncio.sleep(1)
        async with consul.lock(KEY, session=session, cancel_on_loss=True) as lock:
            pass  # no await: the body completes
        await asyncio.sleep(0.01)  # and nothing cancels us afterwards
        assert (await consul.kv.get(KEY))[0] is not None


async def test_acquire_twice_and_release_unheld(consul: Consul) -> None:
    lock = consul.lock(KEY)
    with pytest.raises(LockNotHeld, match="Lock not held"):
        await lock.release()
    assert await lock.acquire()
    with pytest.raises(LockHeld, match="Lock already held"):
        await lock.acquire()
    await lock.release()
    assert await lock.acquire()  # a Lock object can be taken again, with a new session
    await lock.release()


async def test_destroy_follows_lock_go(consul: Consul) -> None:
    lock = consul.lock(KEY)
    await lock.destroy()  # nothing there: fine
    assert await lock.acquire()
    with pytest.raises(LockHeld):
        await lock.destroy()
    other = consul.lock(KEY)
    with pytest.raises(LockInUse, match="Lock in use"):
        await other.destroy()
    await lock.release()
    await other.destroy()
    assert (await consul.kv.get(KEY))[0] is None
    await consul.kv.set(KEY, b"not a lock")
    with pytest.raises(LockConflict):
        await other.destroy()


async def test_monitor_retries_ride_out_errors_before_declaring_loss(
        consul_agent: DevAgent) -> None:
    """lock.go monitorLock: with MonitorRetries, retryable errors (network, 500) are retried
    MonitorRetryTime apart before the lock counts as lost."""
    async with Consul(consul_agent.address, retry=False) as client:
        lock = client.lock(KEY, monitor_retries=2, monitor_retry_time="100ms")
        assert await lock.acquire()
        await consul_agent.stop()
        stopped = time.monotonic()
        await asyncio.wait_for(lock.lost.wait(), 3)
        assert time.monotonic() - stopped >= 0.2
        assert isinstance(lock.lost_cause, TransportError)
        # An explicit release reports that it could not reach the agent; nothing is held after.
        with pytest.raises(TransportError):
            await lock.release()
        assert not lock.held and lock.session is None


async def test_leaving_a_lost_lock_does_not_raise_a_failed_release(
        consul_agent: DevAgent) -> None:
    async with Consul(consul_agent.address, retry=False) as client, client.lock(KEY) as lock:
        await consul_agent.stop()
        await asyncio.wait_for(lock.lost.wait(), 3)


@pytest.mark.parametrize("how", ["applied-then-500", "applied-then-hold"])
async def test_a_failed_acquire_releases_the_key_of_a_lent_session(
        consul: Consul, agents: Any, session: str, how: str) -> None:
    """The agent may apply ``?acquire=`` and still answer 500 (leadership lost while committing),
    and a task may be cancelled after the agent applied it. The CAS write is never repeated
    (kv.set), so the lock sends ``?release=`` before the error or the cancellation propagates:
    afterwards the key is not held by the lent session, and that session is not destroyed."""
    proxy = await agents("forward", how)  # the read of the key, then the acquire
    async with Consul(proxy.address) as client:
        lock = client.lock(KEY, session=session, value=b"v")
        await _fail_acquire(lock, consul, how)
        assert not lock.held and lock.session is None
    assert await _holder(consul) is None
    assert session in await _sessions(consul)
    assert proxy.paths("PUT") == [f"/v1/kv/{KEY}?flags={LOCK_FLAG_VALUE}&{step}={session}"
                                  for step in ("acquire", "release")]


@pytest.mark.parametrize("how", ["applied-then-500", "applied-then-hold"])
async def test_a_failed_acquire_releases_the_key_before_destroying_its_session(
        consul: Consul, agents: Any, how: str) -> None:
    """With a session of its own the lock releases the key, then destroys the session. Only
    destroying it would free the key too, but with the session's lock-delay (15 s by default,
    api-docs/session.mdx): nobody could take the key for that long."""
    proxy = await agents("forward", "forward", how)  # session create, read, acquire
    async with Consul(proxy.address) as client:
        lock = client.lock(KEY)
        await _fail_acquire(lock, consul, how)
    assert await _holder(consul) is None
    assert await _sessions(consul) == set()
    other = await consul.session.create(lock_delay="0s")
    assert await consul.kv.lock(KEY, session=other, flags=LOCK_FLAG_VALUE) is True
    await consul.session.destroy(other)


async def test_the_cleanup_of_a_cancelled_acquire_survives_another_cancellation(
        consul: Consul, agents: Any, session: str) -> None:
    """The release after a cancelled acquire runs to its end although the task is cancelled
    again meanwhile (shielded): the task ends only once the agent has answered it."""
    proxy = await agents("forward", "applied-then-hold")
    answered = proxy.answered
    async with Consul(proxy.address) as client:
        task = asyncio.create_task(client.lock(KEY, session=session).acquire())

        async def applied() -> bool:
            return await _holder(consul) == session

        await _eventually(applied)
        proxy.hold = f"/v1/kv/{KEY}"  # the release waits at the proxy, not yet forwarded
        task.cancel()

        async def releasing() -> bool:
            return any("release=" in path for path in proxy.paths("PUT"))

        await _eventually(releasing)
        task.cancel()
        proxy.release.set()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert any("release=" in path for method, path in answered if method == "PUT")
    assert await _holder(consul) is None


async def test_the_cleanup_of_a_failed_acquire_is_bounded_in_time(
        consul: Consul, agents: Any, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    """An agent that does not answer the release does not hold the failed acquire up for more
    than CLEANUP_TIMEOUT: the acquire's own error is raised and the cleanup's logged; nothing is
    sent after the bound, but the session is no longer renewed (no task is left), so its TTL and
    lock-delay are what free the key in the end."""
    monkeypatch.setattr(cleanup_module, "CLEANUP_TIMEOUT", 0.2)
    proxy = await agents("forward", "forward", "applied-then-500")
    proxy.hold = "release="  # never answered during the test
    async with Consul(proxy.address) as client:
        with caplog.at_level(logging.WARNING, "aioconsul.recipes"), pytest.raises(ServerError):
            await asyncio.wait_for(client.lock(KEY).acquire(), 5)
        assert _recipe_tasks() == []
    assert "not done within 0.2s" in caplog.text
    assert not any("/session/destroy/" in path for path in proxy.paths("PUT"))
    (session,) = await _sessions(consul)
    assert await _holder(consul) == session
    await consul.session.destroy(session)


async def test_a_lent_session_is_never_destroyed(consul: Consul, agents: Any) -> None:
    """Neither a release nor an acquisition that fails (a conflict, a time-out, a 500 after the
    agent applied it) destroys a lent session or stops renewing it; they only release the key."""
    proxy = await agents()
    async with Consul(proxy.address) as client, client.session.keepalive() as session:
        async with client.lock(KEY, session=session):
            pass
        other = await consul.session.create(lock_delay="0s")
        assert await consul.kv.lock(KEY, session=other, flags=LOCK_FLAG_VALUE)
        assert await client.lock(KEY, session=session, lock_try_once=True,
                                 lock_wait="50ms").acquire() is False
        await consul.session.destroy(other)
        await consul.kv.set("plain", b"data")
        with pytest.raises(LockConflict):
            await client.lock("plain", session=session).acquire()
        proxy.faults[:] = ["forward", "applied-then-500"]
        with pytest.raises(ServerError):
            await client.lock(KEY, session=session).acquire()
        assert session.running
        assert session.id in await _sessions(consul)
        assert proxy.paths("PUT").count("/v1/session/destroy/" + session.id) == 0


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"key": ""}, ValueError, "^key: "),
    ({"key": "/abs"}, ValueError, "^key: "),
    ({"key": KEY, "value": "text"}, TypeError, "^value: "),
    ({"key": KEY, "session": 3}, TypeError, "^session: "),
    ({"key": KEY, "session_ttl": "0s"}, ValueError, "^session_ttl: "),
    ({"key": KEY, "lock_wait": "forever"}, ValueError, "^lock_wait: "),
    ({"key": KEY, "lock_try_once": 1}, TypeError, "^lock_try_once: "),
    ({"key": KEY, "lock_delay": -1}, ValueError, "^lock_delay: "),
    ({"key": KEY, "monitor_retries": -1}, ValueError, "^monitor_retries: "),
    ({"key": KEY, "monitor_retry_time": "2"}, ValueError, "^monitor_retry_time: "),
    ({"key": KEY, "cancel_on_loss": "yes"}, TypeError, "^cancel_on_loss: "),
])
def test_bad_arguments_are_refused_before_any_request(
        unreachable: str, kwargs: dict[str, Any], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        Consul(unreachable).lock(**kwargs)


def test_client_lock_builds_a_lock(unreachable: str) -> None:
    lock = Consul(unreachable).lock(KEY)
    assert isinstance(lock, Lock) and lock.key == KEY and not lock.held


# -- fencing tokens ------------------------------------------------------------------------------


async def test_the_fencing_token_is_the_key_modify_index_at_acquisition(consul: Consul) -> None:
    lock = consul.lock(KEY, lock_delay="0s")
    assert lock.fencing_token is None and lock.lock_index is None
    assert await lock.acquire()
    entry, _ = await consul.kv.get(KEY)
    assert entry is not None
    assert lock.fencing_token == entry["ModifyIndex"]
    assert lock.lock_index == entry["LockIndex"] == 1
    await lock.release()
    assert lock.fencing_token is None and lock.lock_index is None


async def test_successive_holders_get_increasing_fencing_tokens(consul: Consul) -> None:
    """A protected resource keeps the highest token it accepted: each later holder's token is
    higher, also after a plain write reset the key's LockIndex to 0 (state.kvsSetTxn stores the
    request's LockIndex) and after the key was deleted (LockIndex starts again at 1), which is
    why the token is the ModifyIndex, a Raft index that only grows."""
    tokens: list[int] = []
    lock_indexes: list[int] = []
    for step in range(4):
        async with consul.lock(KEY, lock_delay="0s") as lock:
            assert lock.fencing_token is not None and lock.lock_index is not None
            tokens.append(lock.fencing_token)
            lock_indexes.append(lock.lock_index)
            if step == 1:
                await consul.kv.set(KEY, b"", flags=LOCK_FLAG_VALUE)  # resets LockIndex
        if step == 2:
            await lock.destroy()  # deletes the key
    assert tokens == sorted(set(tokens))
    assert lock_indexes == [1, 2, 1, 1]  # not a fencing token on its own


async def test_the_fencing_token_is_none_once_the_lock_is_lost(consul: Consul) -> None:
    async with consul.lock(KEY) as lock:
        assert lock.fencing_token is not None
        assert lock.session is not None
        await consul.session.destroy(lock.session)
        await asyncio.wait_for(lock.lost.wait(), 5)
        assert lock.fencing_token is None


async def test_a_reentered_lock_takes_its_token_from_the_key(consul: Consul) -> None:
    """Re-entry with the session that holds the key writes nothing: the token is the entry's
    ModifyIndex as read."""
    session = await consul.session.create(lock_delay="0s")
    assert await consul.kv.lock(KEY, b"v", session=session, flags=LOCK_FLAG_VALUE)
    entry, _ = await consul.kv.get(KEY)
    assert entry is not None
    lock = consul.lock(KEY, session=session, value=b"v")
    assert await lock.acquire()
    assert lock.fencing_token == entry["ModifyIndex"]
    await lock.release()
    await consul.session.destroy(session)


async def test_the_monitor_blocks_from_the_acquisition_read(consul: Consul, agents: Any) -> None:
    """The read that gives the token is also where the monitor starts: its first read is
    already a blocking one, so the token costs no extra request."""
    proxy = await agents()
    async with Consul(proxy.address) as client, client.lock(KEY) as lock:
        async def blocking() -> bool:
            return any("index=" in path for path in proxy.paths("GET"))

        await _eventually(blocking)
        reads = [path for path in proxy.paths("GET") if path.startswith(f"/v1/kv/{KEY}")]
        assert len(reads) == 3  # campaign read, acquisition read, the monitor's blocking read
        assert "index=" in reads[2] and "consistent" in reads[1]
        assert lock.held
