"""Shared watches: a thousand watches of one key, one blocking request at the agent.

Runs as is against the embedded dev agent. The ``# [name]`` / ``# [end]`` comments mark
the snippets that docs/watch.rst shows; the asserts after them check what the snippets
printed.
"""

import asyncio

from aioconsul import Consul
from aioconsul.testing import DevAgent


async def main() -> None:
    async with DevAgent() as agent, Consul(agent.address) as client:
        await client.kv.set("config/flag", b"off")

        # [shared]
        # A thousand parts of a service follow the same key...
        async def follow() -> bytes:
            async with client.kv.watch("config/flag") as watch:
                async for entry, _ in watch:
                    if entry["Value"] == b"on":
                        return entry["Value"]
            raise AssertionError("the watch ended")

        followers = [asyncio.create_task(follow()) for _ in range(1000)]
        while agent.blocking_queries == 0:  # until the shared read is parked
            await asyncio.sleep(0.01)
        # ... through one blocking request, which the write wakes for all of them.
        print("blocking requests at the agent:", agent.blocking_queries)
        await client.kv.set("config/flag", b"on")
        values = await asyncio.gather(*followers)
        print(len(values), "followers saw", values[0])
        # [end]
        assert agent.blocking_queries <= 1 and values == [b"on"] * 1000

        # [late]
        async with client.kv.watch("config/flag") as first:
            await anext(first)
            # A watch of the same read joins it: the current value comes at once,
            # without a request of its own.
            async with client.kv.watch("config/flag") as late:
                entry, _ = await anext(late)
                print(late.subscribers, "subscribers; late one got", entry["Value"])
            # Another token, consistency mode, wait... is another read, and so is
            # a watch that asks for a read of its own.
            async with client.kv.watch("config/flag", shared=False) as own:
                alone = own.subscribers
                print("own read shared by", alone)
        # [end]
        assert entry["Value"] == b"on" and alone == 1


if __name__ == "__main__":
    asyncio.run(main())
