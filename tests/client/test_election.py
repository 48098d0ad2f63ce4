"""``client.election``: leader election on a Lock (api/lock.go's "client-side leader election").

A candidate campaigns until it holds the key, runs the leader's work while it does, has that work
cancelled when the lock is lost (sessions favour liveness: lock.go warns "It is NOT safe to assume
that the lock is held until Unlock()"), campaigns again, and steps down cleanly — key released,
session destroyed, no task left — however it stops.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from typing import Any

import pytest

from aioconsul import Consul, LockConflict
from aioconsul.recipes.election import Election, Term
from aioconsul.recipes.lock import LOCK_FLAG_VALUE

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


async def _forever() -> None:
    await asyncio.sleep(60)


async def _holder(client: Consul) -> str | None:
    entry, _ = await client.kv.get(KEY)
    return entry.get("Session") if entry is not None else None


async def test_run_returns_the_result_and_steps_down(consul: Consul) -> None:
    election = consul.election(KEY, value=b"node-a")

    async def lead() -> str:
        entry, _ = await consul.kv.get(KEY)
        assert entry is not None and entry["Value"] == b"node-a"
        assert entry["Flags"] == LOCK_FLAG_VALUE and entry["Session"]
        assert election.leader
        return "done"

    assert await election.run(lead) == "done"
    assert not election.leader
    assert await _holder(consul) is None and await _sessions(consul) == set()


async def test_one_leader_at_a_time(consul: Consul) -> None:
    """Three candidates each lead once; their terms never overlap."""
    terms: list[tuple[str, float, float]] = []
    loop = asyncio.get_running_loop()

    def candidate(name: str) -> Any:
        async def lead() -> None:
            start = loop.time()
            assert await _holder(consul) is not None
            await asyncio.sleep(0.05)
            terms.append((name, start, loop.time()))
        return consul.election(KEY).run(lead)

    await asyncio.wait_for(asyncio.gather(*(candidate(n) for n in "abc")), 10)
    terms.sort(key=lambda term: term[1])
    assert [name for name, _, _ in terms] != [] and len(terms) == 3
    for (_, _, end), (_, start, _) in itertools.pairwise(terms):
        assert end <= start
    assert await _sessions(consul) == set()


async def test_lost_leadership_cancels_the_work_and_campaigns_again(consul: Consul) -> None:
    calls: list[str] = []

    async def lead() -> str:
        calls.append("lead")
        if len(calls) == 1:
            session = await _holder(consul)
            assert session is not None
            await consul.session.destroy(session)  # leadership lost behind our back
            try:
                await asyncio.sleep(5)
            except asyncio.CancelledError:
                calls.append("cancelled")
                raise
        return "second term"

    election = consul.election(KEY, lock_delay="0s")
    assert await asyncio.wait_for(election.run(lead), 5) == "second term"
    assert calls == ["lead", "cancelled", "lead"]
    assert await _sessions(consul) == set()


async def test_cancelling_run_steps_down(consul: Consul) -> None:
    leading = asyncio.Event()

    async def lead() -> None:
        leading.set()
        await asyncio.sleep(60)

    task = asyncio.create_task(consul.election(KEY).run(lead))
    await leading.wait()
    assert await _holder(consul) is not None
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await _holder(consul) is None and await _sessions(consul) == set()


async def test_cancelling_a_campaign_leaves_nothing_behind(consul: Consul) -> None:
    async with consul.lock(KEY) as held:
        task = asyncio.create_task(consul.election(KEY).run(_forever))
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await _sessions(consul) == {held.session}


async def test_an_error_in_the_work_steps_down_and_propagates(consul: Consul) -> None:
    async def lead() -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await consul.election(KEY).run(lead)
    assert await _holder(consul) is None and await _sessions(consul) == set()


async def test_terms_one_after_another(consul: Consul) -> None:
    """``async for term in terms`` with ``async with term``: a lost term ends quietly."""
    seen: list[Term] = []
    election = consul.election(KEY, lock_delay="0s")
    async with election.terms() as terms:
        async for term in terms:
            seen.append(term)
            async with term:
                assert term.active and term.session == await _holder(consul)
                if term.number == 1:
                    await consul.session.destroy(term.session or "")
                    await asyncio.sleep(5)  # cancelled when the loss is seen
            if term.number == 2:
                break
    assert [term.number for term in seen] == [1, 2]
    assert seen[0].lost_leadership and not seen[1].lost_leadership
    assert all(term.lost.is_set() and not term.active for term in seen)
    assert await _sessions(consul) == set()


async def test_leaving_the_terms_block_steps_down(consul: Consul) -> None:
    async with consul.election(KEY).terms() as terms:
        async for term in terms:
            assert term.active and await _holder(consul) == term.session
            break
    assert await _holder(consul) is None and await _sessions(consul) == set()


async def test_a_conflicting_key_ends_the_election(consul: Consul) -> None:
    await consul.kv.set(KEY, b"not a lock")
    with pytest.raises(LockConflict):
        await consul.election(KEY).run(_forever)
    assert await _sessions(consul) == set()


async def test_a_campaign_applied_then_answered_500_is_won_at_once_on_retry(
        consul: Consul, agents: Any) -> None:
    """The campaign's ``?acquire=`` is applied but answered 500: the attempt releases the key
    before destroying its session, so the retry takes the key with its first acquire instead of
    waiting out the destroyed session's lock-delay (15 s by default, api-docs/session.mdx)."""
    proxy = await agents("forward", "forward", "applied-then-500")  # create, read, acquire

    async def lead() -> list[str]:
        return [path for path in proxy.paths("PUT") if "acquire=" in path]

    async with Consul(proxy.address) as client:
        election = client.election(KEY, retry_time="10ms", lock_retry_time="10ms")
        acquires = await asyncio.wait_for(election.run(lead), 10)
    assert len(acquires) == 2
    assert await _holder(consul) is None and await _sessions(consul) == set()


async def test_transient_errors_are_retried(unreachable: str) -> None:
    async with Consul(unreachable, retry=False) as client:
        task = asyncio.create_task(client.election(KEY, retry_time="20ms").run(_forever))
        await asyncio.sleep(0.1)
        assert not task.done()  # still campaigning, not failed
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"key": ""}, ValueError, "^key: "),
    ({"key": KEY, "retry_time": "soon"}, ValueError, "^retry_time: "),
    ({"key": KEY, "session_ttl": "0s"}, ValueError, "^session_ttl: "),
])
def test_bad_arguments_are_refused_before_any_request(
        unreachable: str, kwargs: dict[str, Any], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        Consul(unreachable).election(**kwargs)


async def test_run_needs_a_callable(unreachable: str) -> None:
    election = Consul(unreachable).election(KEY)
    assert isinstance(election, Election) and election.key == KEY
    with pytest.raises(TypeError, match="^lead: "):
        await election.run("not callable")  # type: ignore[arg-type]
