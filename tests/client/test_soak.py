"""A bounded soak test (opt-in: ``pytest --run-slow``): 200 watchers, writers and random agent
restarts for about a minute (``AIOCONSUL_SOAK_SECONDS`` shortens or lengthens it). At the end every
watcher holds the final value, no task or file descriptor has leaked, and memory is flat."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import random
import resource
import time

import pytest

from aioconsul import Backoff, Consul, Retry
from aioconsul.testing import DevAgent
from aioconsul.watch import Watch

KEYS = [f"soak/key-{number}" for number in range(20)]
WATCHERS = 200


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _rss_kib() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * resource.getpagesize() // 1024


@pytest.mark.slow
@pytest.mark.devagent
async def test_soak_watchers_writers_and_restarts() -> None:
    seconds = float(os.environ.get("AIOCONSUL_SOAK_SECONDS", "60"))
    # The watches log every failure while the agent restarts: thousands of records, which
    # pytest's log capture would keep, growing the memory this test watches. Log them, but to
    # a handler that drops them.
    library_log = logging.getLogger("aioconsul")
    drop = logging.NullHandler()
    library_log.addHandler(drop)
    propagate, library_log.propagate = library_log.propagate, False
    rng = random.Random(7)
    agent = DevAgent()
    await agent.start()
    port = agent.port
    tasks_before = len(asyncio.all_tasks())
    fds_before = _open_fds()
    latest: dict[int, bytes | None] = {}
    fast = Backoff(initial=0.02, maximum=0.5)
    client = Consul(agent.address, retry=Retry(attempts=2, backoff=fast))

    async def watcher(number: int) -> None:
        async with Watch(client.kv.get, KEYS[number % len(KEYS)], wait="2s",
                         backoff=fast) as watch:
            async for entry, _ in watch:
                latest[number] = None if entry is None else entry["Value"]

    async def writer(stop: asyncio.Event) -> None:
        count = 0
        while not stop.is_set():
            count += 1
            try:
                await client.kv.set(rng.choice(KEYS), str(count).encode())
            except Exception:  # the agent may be restarting
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.002)

    watchers = [asyncio.create_task(watcher(number)) for number in range(WATCHERS)]
    stop = asyncio.Event()
    writers = [asyncio.create_task(writer(stop)) for _ in range(4)]
    rss_samples = []
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            await asyncio.sleep(rng.uniform(2, 6))
            await agent.stop()
            await asyncio.sleep(rng.uniform(0.05, 0.5))
            agent = DevAgent(port=port)
            await agent.start()
            gc.collect()
            rss_samples.append(_rss_kib())
        stop.set()
        await asyncio.gather(*writers)
        for key in KEYS:
            await client.kv.set(key, b"final-" + key.encode())
        async with asyncio.timeout(30):
            while any(latest.get(n) != b"final-" + KEYS[n % len(KEYS)].encode()
                      for n in range(WATCHERS)):
                await asyncio.sleep(0.1)
    finally:
        library_log.propagate = propagate
        library_log.removeHandler(drop)
        stop.set()
        for task in watchers + writers:
            task.cancel()
        await asyncio.gather(*watchers, *writers, return_exceptions=True)
        await client.close()
        await agent.stop()
    await asyncio.sleep(0.1)
    gc.collect()
    assert len(asyncio.all_tasks()) <= tasks_before
    assert _open_fds() <= fds_before + 2
    if len(rss_samples) >= 4:  # flat: the second half grows by less than 16 MiB
        half = len(rss_samples) // 2
        assert max(rss_samples[half:]) - rss_samples[half - 1] < 16 * 1024, rss_samples
    print(f"RSS KiB after each restart: {rss_samples}")
