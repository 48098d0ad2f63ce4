"""Quickstart: connect, write a key, read it back, wait for a change.

Runs as is: it starts the embedded dev agent, so no Consul is needed. Against a real agent,
replace the DevAgent block by ``async with Consul() as client:`` (CONSUL_HTTP_ADDR, else
127.0.0.1:8500).
"""

import asyncio

from aioconsul import Consul
from aioconsul.testing import DevAgent


async def main() -> None:
    async with DevAgent() as agent, Consul(agent.address) as client:
        # Writes return Consul's answer: True when the value was stored.
        assert await client.kv.set("app/greeting", b"hello") is True

        # Reads return (data, meta); values are bytes, field names are Consul's.
        entry, meta = await client.kv.get("app/greeting")
        assert entry is not None
        assert entry["Key"] == "app/greeting"
        assert entry["Value"] == b"hello"
        assert meta["Index"] >= entry["ModifyIndex"]

        # A missing key is not an error: (None, meta).
        missing, _ = await client.kv.get("app/nothing-here")
        assert missing is None

        # Blocking read: wait (at most 5 s) until the key changes past meta's index.
        async def update() -> None:
            await asyncio.sleep(0.1)
            await client.kv.set("app/greeting", b"hello again")

        writer = asyncio.create_task(update())
        entry, meta = await client.kv.get("app/greeting", watch=(meta, "5s"))
        await writer
        assert entry is not None
        assert entry["Value"] == b"hello again"
        print("app/greeting =", entry["Value"].decode(), "at index", meta["Index"])


if __name__ == "__main__":
    asyncio.run(main())
