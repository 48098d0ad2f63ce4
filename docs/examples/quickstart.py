"""Quickstart: connect, write a key, read it back, wait for a change.

Runs as is: it starts the embedded dev agent, so no Consul is needed. Against a real
agent, replace the DevAgent block by ``async with Consul() as client:``
(CONSUL_HTTP_ADDR, else 127.0.0.1:8500).
"""

import asyncio

from aioconsul import Consul
from aioconsul.testing import DevAgent


async def main() -> None:
    async with DevAgent() as agent, Consul(agent.address) as client:
        # Writes return Consul's answer: True when the value was stored.
        await client.kv.set("app/greeting", b"hello")

        # Reads return (data, meta); values are bytes, field names are Consul's.
        entry, meta = await client.kv.get("app/greeting")
        print(entry["Key"], "=", entry["Value"], "at index", meta["Index"])

        # A missing key is not an error: (None, meta).
        missing, _ = await client.kv.get("app/nothing-here")
        print(missing)  # None

        # Something else changes the key in a moment...
        async def update() -> None:
            await asyncio.sleep(0.1)
            await client.kv.set("app/greeting", b"hello again")

        writer = asyncio.create_task(update())

        # ...and a blocking read waits (5 s at most) for the change past meta's index.
        entry, meta = await client.kv.get("app/greeting", watch=(meta, "5s"))
        print(entry["Key"], "=", entry["Value"], "at index", meta["Index"])
        await writer

    assert missing is None
    assert entry["Value"] == b"hello again"


if __name__ == "__main__":
    asyncio.run(main())
