"""A client belongs to the event loop it is first used in.

Used from a second ``asyncio.run()`` it used to fail deep inside aiohttp with "Event loop is
closed" and leave an unclosed-session warning behind; it now raises a RuntimeError that says what
to do, and a client left open when its loop ends leaks nothing. These tests run their own loops,
so they are plain (sync) tests, with the dev agent served from a thread of its own.
"""

from __future__ import annotations

import asyncio
import gc
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from aioconsul import Consul
from aioconsul.testing import DevAgent


@pytest.fixture
def agent_address() -> Iterator[str]:
    """A dev agent running in a loop of its own thread, for the whole test."""
    loop = asyncio.new_event_loop()
    agent = DevAgent()
    loop.run_until_complete(agent.start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield agent.address
    finally:
        asyncio.run_coroutine_threadsafe(agent.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


@pytest.fixture
def unraisable() -> Iterator[list[Any]]:
    """What the garbage collector could not clean up quietly (unclosed sessions, connectors,
    transports, sockets), collected for the test to check."""
    seen: list[Any] = []
    previous = sys.unraisablehook
    sys.unraisablehook = lambda info: seen.append(info.exc_value)
    try:
        yield seen
    finally:
        gc.collect()
        sys.unraisablehook = previous


def test_a_client_used_in_a_second_asyncio_run_raises_a_clear_error(
        agent_address: str, unraisable: list[Any]) -> None:
    client = Consul(agent_address)

    async def read() -> Any:
        return await client.kv.get("k")

    assert asyncio.run(read())[0] is None  # left open: the loop ends with a pooled connection
    for _ in range(2):
        with pytest.raises(RuntimeError, match="bound to the event loop it was first used in"
                                               ".*one client per event loop"):
            asyncio.run(read())
    gc.collect()
    assert unraisable == []


def test_a_client_closed_in_its_loop_leaves_nothing_behind(agent_address: str,
                                                           unraisable: list[Any]) -> None:
    async def use() -> None:
        async with Consul(agent_address) as client:
            await client.kv.get("k")

    asyncio.run(use())
    asyncio.run(use())  # a client per loop: fine
    gc.collect()
    assert unraisable == []


def test_a_client_created_outside_any_loop_binds_to_its_first(agent_address: str,
                                                             unraisable: list[Any]) -> None:
    client = Consul(agent_address)

    async def use() -> None:
        await client.kv.get("k")
        await client.close()

    asyncio.run(use())
    gc.collect()
    assert unraisable == []
