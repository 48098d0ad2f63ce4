"""The transport's deadline queues (aioconsul._core.transport._Deadlines): the timeouts of the
requests that share one duration, one timer for all of them."""

from __future__ import annotations

import asyncio

from aioconsul._core.transport import _Deadlines


async def test_an_expired_request_is_cancelled_and_marked() -> None:
    deadlines = _Deadlines(0.05)

    async def request() -> None:
        await asyncio.sleep(10)

    task = asyncio.create_task(request())
    await asyncio.sleep(0)
    entry = deadlines.start(task)
    await asyncio.sleep(0.2)
    assert task.cancelled() and entry[2] is True
    deadlines.close()


async def test_a_finished_request_is_passed_by() -> None:
    deadlines = _Deadlines(0.05)
    task = asyncio.current_task()
    assert task is not None
    entry = deadlines.start(task)
    deadlines.done(entry)
    await asyncio.sleep(0.2)  # the timer fires: nothing to cancel
    assert entry[2] is False
    deadlines.close()


async def test_finished_entries_behind_a_long_request_do_not_pile_up() -> None:
    """A watch whose key never changes blocks for its whole wait at the head of its queue;
    the reads of the busy watches behind it end by the thousand meanwhile. Their entries must
    not stay queued until the head one ends (memory would grow with the read rate)."""
    deadlines = _Deadlines(60)
    task = asyncio.current_task()
    assert task is not None
    deadlines.start(task)  # the long one, never done during the test
    for _ in range(10_000):
        deadlines.done(deadlines.start(task))
    assert len(deadlines._queue) <= 200
    deadlines.close()


async def test_finished_entries_leave_the_queue_when_nothing_older_is_running() -> None:
    """A watch's first read takes the client's timeout and its later reads another queue: the
    first reads' entries must not wait in their queue for a start that may never come."""
    deadlines = _Deadlines(60)
    task = asyncio.current_task()
    assert task is not None
    first, second, third = (deadlines.start(task) for _ in range(3))
    deadlines.done(second)
    assert len(deadlines._queue) == 3  # the oldest still runs: the timer needs it
    deadlines.done(first)
    assert list(deadlines._queue) == [third]
    deadlines.done(third)
    assert not deadlines._queue
    deadlines.close()
