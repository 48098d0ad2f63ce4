"""User events: fire one, list them, and block until a new one arrives.

Runs as is against the embedded dev agent.
"""

import asyncio

from aioconsul import Consul
from aioconsul.testing import DevAgent


async def main() -> None:
    async with DevAgent() as agent, Consul(agent.address) as client:
        # Payloads are bytes in, bytes out.
        PAYLOAD = b"qux"
        response = await client.event.fire("baz", PAYLOAD)
        assert response["Payload"] == PAYLOAD
        responses, _ = await client.event.items("baz")
        assert responses[0]["Payload"] == PAYLOAD

        # fire() returns the event as created, with its ID and Consul's field names.
        assert response["Name"] == "baz"
        assert responses[0]["ID"] == response["ID"]

        # An event without payload; a list of every name, oldest first.
        await client.event.fire("deploy")
        events, meta = await client.event.items()
        assert [event["Name"] for event in events] == ["baz", "deploy"]
        assert events[-1]["Payload"] == b""

        # A blocking list: wait (at most 5 s) for an event newer than the ones meta saw.
        async def announce() -> None:
            await asyncio.sleep(0.2)
            await client.event.fire("deploy", b"v2")

        task = asyncio.create_task(announce())
        events, new_meta = await client.event.items("deploy", watch=(meta, "5s"))
        await task
        assert events[-1]["Payload"] == b"v2"
        # The index of an event list is derived from the newest event's ID, not a Raft
        # index: compare it for inequality only.
        assert new_meta["Index"] != meta["Index"]
        print(f"{len(events)} deploy events, the last one carries {events[-1]['Payload']!r}")


if __name__ == "__main__":
    asyncio.run(main())
