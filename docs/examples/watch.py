"""Watches: follow a key, any blocking read, and new events, as async iterators.

Runs as is against the embedded dev agent. The ``# [name]`` / ``# [end]`` comments mark
the snippets that docs/watch.rst shows; the asserts after them check what the snippets
printed.
"""

import asyncio

from aioconsul import Consul
from aioconsul.testing import DevAgent


async def main() -> None:
    async with DevAgent() as agent, Consul(agent.address) as client:
        await client.kv.set("config/app", b"v1")

        async def writer() -> None:
            for version in (b"v2", b"v3"):
                await asyncio.sleep(0.05)
                await client.kv.set("config/app", version)

        seen = []
        task = asyncio.create_task(writer())
        # [kv]
        # The current value comes at once, then each change.
        async with client.kv.watch("config/app", wait="30s") as watch:
            async for entry, meta in watch:
                print(entry["Value"], "at index", meta["Index"])
                seen.append(entry["Value"])
                if entry["Value"] == b"v3":
                    break  # leaving "async with" closes the watch
        # [end]
        await task
        assert seen == [b"v1", b"v2", b"v3"]

        # [any]
        # Any read that takes watch= can be watched: here every key under a prefix.
        async with client.watch(client.kv.items, "config/") as watch:
            async for items, _ in watch:
                print([item["Key"] for item in items])
                break
        # [end]
        assert [item["Key"] for item in items] == ["config/app"]


if __name__ == "__main__":
    asyncio.run(main())
