"""The KV store: set, get, check-and-set, keys, items, delete, and a blocking get.

Runs as is against the embedded dev agent.
"""

import asyncio

from aioconsul import Consul
from aioconsul.testing import DevAgent


async def main() -> None:
    async with DevAgent() as agent, Consul(agent.address) as client:
        # Values are bytes in, bytes out.
        PAYLOAD = b"bar"
        await client.kv.set("foo", PAYLOAD)
        response, _ = await client.kv.get("foo")
        assert response["Value"] == PAYLOAD

        # A read returns the entry with Consul's field names, and the response's Meta.
        entry, meta = await client.kv.get("foo")
        assert entry["Key"] == "foo"
        assert entry["Flags"] == 0
        assert entry["ModifyIndex"] <= meta["Index"]
        raw, _ = await client.kv.raw("foo")  # the value alone, as bytes
        assert raw == PAYLOAD

        # Check-and-set: the write happens only if nobody wrote since our read.
        assert await client.kv.cas("foo", b"baz", index=entry) is True  # entry's ModifyIndex
        assert await client.kv.cas("foo", b"lost", index=entry) is False  # now stale
        # index=0: create the key only if it does not exist yet.
        assert await client.kv.cas("created-once", b"1", index=0) is True
        assert await client.kv.cas("created-once", b"2", index=0) is False
        # Flags: an opaque uint64 stored beside the value.
        await client.kv.set("flagged", b"", flags=42)
        flagged, _ = await client.kv.get("flagged")
        assert flagged["Flags"] == 42

        # Keys and items under a prefix.
        for name in ("web/1", "web/2", "web/config/port", "db/1"):
            await client.kv.set(f"app/{name}", name.encode())
        keys, _ = await client.kv.keys("app/web/")
        assert keys == ["app/web/1", "app/web/2", "app/web/config/port"]
        folders, _ = await client.kv.keys("app/", separator="/")
        assert folders == ["app/db/", "app/web/"]
        items, _ = await client.kv.items("app/web/")
        assert [(item["Key"], item["Value"]) for item in items] == [
            ("app/web/1", b"web/1"),
            ("app/web/2", b"web/2"),
            ("app/web/config/port", b"web/config/port"),
        ]
        nothing, _ = await client.kv.items("no-such-prefix/")
        assert nothing == []

        # Deletes: one key, a key at a known index, a whole prefix.
        assert await client.kv.delete("app/db/1") is True
        web1, _ = await client.kv.get("app/web/1")
        assert await client.kv.delete_cas("app/web/1", index=web1) is True
        assert await client.kv.delete_tree("app/") is True
        keys, _ = await client.kv.keys("app/")
        assert keys == []

        # A blocking get: wait (at most 5 s) for the key to change past meta's index.
        entry, meta = await client.kv.get("foo")

        async def writer() -> None:
            await asyncio.sleep(0.2)
            await client.kv.set("foo", b"changed")

        task = asyncio.create_task(writer())
        loop = asyncio.get_running_loop()
        started = loop.time()
        entry, new_meta = await client.kv.get("foo", watch=(meta, "5s"))
        waited = loop.time() - started
        await task
        assert entry["Value"] == b"changed"
        assert new_meta["Index"] > meta["Index"]
        assert 0.1 < waited < 5  # woken by the write, not by the end of the wait
        print(f"woken after {waited:.2f}s at index {new_meta['Index']}")


if __name__ == "__main__":
    asyncio.run(main())
