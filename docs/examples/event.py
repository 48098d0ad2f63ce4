"""User events: fire one, list them, block until a new one arrives, and watch them.

Runs as is against the embedded dev agent. The ``# [name]`` / ``# [end]`` comments mark
the snippets that docs/event.rst shows; the asserts after them check what the snippets
printed.
"""

import asyncio

from aioconsul import Consul
from aioconsul.testing import DevAgent


async def main() -> None:
    async with DevAgent() as agent, Consul(agent.address) as client:
        # [fire]
        event = await client.event.fire("baz", b"qux")
        print(event["ID"], event["Name"], event["Payload"])

        await client.event.fire("deploy")  # no payload: b""
        # [end]
        assert (event["Name"], event["Payload"]) == ("baz", b"qux")

        # [items]
        events, meta = await client.event.items()  # every name, oldest first
        for event in events:
            print(event["Name"], event["Payload"])

        deploys, _ = await client.event.items("deploy")  # one name only
        # [end]
        assert [(e["Name"], e["Payload"]) for e in events] == [
            ("baz", b"qux"), ("deploy", b"")]
        assert [e["Name"] for e in deploys] == ["deploy"]

        async def announce() -> None:
            await asyncio.sleep(0.2)
            await client.event.fire("deploy", b"v2")

        task = asyncio.create_task(announce())
        # [blocking]
        # Wait (5 s at most) for an event newer than the ones meta saw.
        events, new_meta = await client.event.items("deploy", watch=(meta, "5s"))
        print(events[-1]["Payload"])
        # [end]
        await task
        assert events[-1]["Payload"] == b"v2"
        # The index of an event list is derived from the newest event's ID, not a Raft
        # index: compare it for inequality only.
        assert new_meta["Index"] != meta["Index"]

        # [watch]
        async with client.event.watch("deploy", since_now=True) as watch:
            # Entering took the baseline: an event fired from now on is delivered.
            await client.event.fire("deploy", b"v3")
            async for event, _ in watch:
                print("new deploy:", event["Payload"])
                break
        # [end]
        assert event["Payload"] == b"v3"


if __name__ == "__main__":
    asyncio.run(main())
