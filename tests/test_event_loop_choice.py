"""The suite runs on the loop it was asked for (``pytest --loop uvloop``)."""

from __future__ import annotations

import asyncio

from aioconsul import Consul


async def test_async_tests_run_on_the_requested_loop(requested_loop: str) -> None:
    loop = asyncio.get_running_loop()
    if requested_loop == "uvloop":
        assert type(loop).__module__.startswith("uvloop")
    else:
        assert isinstance(loop, asyncio.BaseEventLoop)
        assert not type(loop).__module__.startswith("uvloop")


async def test_the_client_works_on_the_requested_loop(consul: Consul) -> None:
    await consul.kv.set("loop/check", b"x")
    entry, meta = await consul.kv.get("loop/check")
    assert entry is not None and entry["Value"] == b"x" and meta["Index"] > 0
