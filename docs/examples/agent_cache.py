"""Reads served from the agent cache: ``cached=True``, ``max_age``, ``stale_if_error``.

Runs as is against the embedded dev agent. The ``# [name]`` / ``# [end]`` comments mark
the snippet docs/client.rst shows; the asserts after it check what it printed.
"""

import asyncio

from aioconsul import Consul
from aioconsul.testing import DevAgent


async def main() -> None:
    async with DevAgent() as agent, Consul(agent.address) as client:
        await client.catalog.register("node-a", address="10.0.0.1",
                                      service={"Service": "web", "Port": 80})
        # [cache]
        # A background-refresh type: the first read fills the cache, later ones are
        # hits, kept current by the agent's own blocking query.
        entries, meta = await client.health.service("web", cached=True)
        print(len(entries), meta["CacheHit"])         # 1 False: a MISS filled it
        entries, meta = await client.health.service("web", cached=True)
        print(len(entries), meta["CacheHit"], meta["CacheAge"])  # 1 True 0

        # A simple type: ask for a value at most 30 s old, or one up to 3 days old
        # when the servers cannot be reached.
        names, meta = await client.catalog.datacenters_meta(
            cached=True, max_age="30s", stale_if_error="72h")
        print(names, meta["CacheHit"])                # ['dc1'] False
        # [end]
        assert meta["CacheHit"] is False and names == ["dc1"]
        _, meta = await client.catalog.datacenters_meta(cached=True, max_age="30s")
        assert meta["CacheHit"] is True and meta["CacheAge"] < 30


if __name__ == "__main__":
    asyncio.run(main())
