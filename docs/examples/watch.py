"""Watches: follow a key, any blocking read, and new events, as async iterators.

Runs as is against the embedded dev agent.
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

        # The current value comes at once, then each change; "async with" closes the watch
        # (and its request in flight) when the loop ends early.
        seen = []
        task = asyncio.create_task(writer())
        async with client.kv.watch("config/app", wait="30s") as watch:
            async for entry, meta in watch:
                seen.append(entry["Value"])
                print(f"config/app = {entry['Value']!r} at index {meta['Index']}")
                if entry["Value"] == b"v3":
                    break
        await task
        assert seen == [b"v1", b"v2", b"v3"]

        # Any blocking read can be watched: here every key under a prefix.
        async with client.watch(client.kv.items, "config/") as watch:
            items, meta = await watch.__anext__()
            assert [item["Key"] for item in items] == ["config/app"]

        # Events: each new event exactly once.
        async with client.event.watch("deploy", since_now=True) as events:
            pending = asyncio.create_task(events.__anext__())
            await asyncio.sleep(0.05)
            await client.event.fire("deploy", b"v3")
            event, _ = await asyncio.wait_for(pending, 5)
            assert event["Payload"] == b"v3"


if __name__ == "__main__":
    asyncio.run(main())
