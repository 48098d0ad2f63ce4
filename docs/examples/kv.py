"""The KV store: set, get, check-and-set, update, keys, items, tree, delete, blocking.

Runs as is against the embedded dev agent. The ``# [name]`` / ``# [end]`` comments mark
the snippets that docs/kv.rst shows; the asserts after them check what the snippets
printed.
"""

import asyncio
import json

from aioconsul import Consul
from aioconsul.testing import DevAgent


async def main() -> None:
    async with DevAgent() as agent, Consul(agent.address) as client:
        # [set-get]
        await client.kv.set("config/mode", b"blue")

        entry, meta = await client.kv.get("config/mode")
        print(entry["Key"], entry["Value"], entry["ModifyIndex"])

        value, meta = await client.kv.raw("config/mode")  # the value alone
        print(value)
        # [end]
        assert entry["Value"] == value == b"blue"
        assert entry["ModifyIndex"] <= meta["Index"]

        # [missing]
        entry, meta = await client.kv.get("config/missing")
        if entry is None:
            print("no such key, index", meta["Index"])
        # [end]
        assert entry is None

        # [flags]
        await client.kv.set("config/flagged", b"", flags=42)
        entry, _ = await client.kv.get("config/flagged")
        print(entry["Flags"])
        # [end]
        assert entry["Flags"] == 42

        # [cas]
        entry, _ = await client.kv.get("config/mode")
        # Written only if nobody wrote since our read (its ModifyIndex).
        won = await client.kv.cas("config/mode", b"green", index=entry)
        print("written:", won)
        # The same entry is stale now: someone (we) wrote in between.
        lost = await client.kv.cas("config/mode", b"red", index=entry)
        print("written:", lost)

        # index=0 creates the key only if it does not exist yet.
        created = await client.kv.cas("config/created-once", b"1", index=0)
        again = await client.kv.cas("config/created-once", b"2", index=0)
        print(created, again)
        # [end]
        assert (won, lost, created, again) == (True, False, True, False)

        for name in ("web/1", "web/2", "web/config/port", "db/1"):
            await client.kv.set(f"app/{name}", name.encode())
        # [list]
        keys, _ = await client.kv.keys("app/web/")
        print(keys)  # ['app/web/1', 'app/web/2', 'app/web/config/port']

        folders, _ = await client.kv.keys("app/", separator="/")
        print(folders)  # ['app/db/', 'app/web/']

        items, _ = await client.kv.items("app/web/")
        for item in items:
            print(item["Key"], item["Value"])
        # [end]
        assert keys == ["app/web/1", "app/web/2", "app/web/config/port"]
        assert folders == ["app/db/", "app/web/"]
        assert [(item["Key"], item["Value"]) for item in items] == [
            ("app/web/1", b"web/1"),
            ("app/web/2", b"web/2"),
            ("app/web/config/port", b"web/config/port"),
        ]
        nothing, _ = await client.kv.items("no-such-prefix/")
        assert nothing == []

        # [update]
        # Read-modify-write with check-and-set, retried on a conflict: no increment
        # is lost to a concurrent writer. fn gets None while the key is missing.
        def increment(value: bytes | None) -> bytes:
            return str(int(value or b"0") + 1).encode()

        await asyncio.gather(*(client.kv.update("stats/hits", increment)
                               for _ in range(5)))
        entry = await client.kv.update("stats/hits", increment)
        print(entry["Value"], entry["ModifyIndex"])  # b'6' and the write's own index
        # [end]
        assert entry["Value"] == b"6"
        stored, _ = await client.kv.get("stats/hits")
        assert entry["ModifyIndex"] == stored["ModifyIndex"]

        # [tree]
        # A folder as a nested dict, the prefix stripped; codec= decodes the values.
        await client.kv.set("config/web/port", b"8080")
        await client.kv.set("config/web/db/hosts", json.dumps(["a", "b"]).encode())
        config = await client.kv.tree("config/web/", codec="json")
        print(config)  # {'db': {'hosts': ['a', 'b']}, 'port': 8080}
        # [end]
        assert config == {"db": {"hosts": ["a", "b"]}, "port": 8080}

        # [delete]
        await client.kv.delete("app/db/1")

        entry, _ = await client.kv.get("app/web/1")
        await client.kv.delete_cas("app/web/1", index=entry)  # only if unchanged

        await client.kv.delete_tree("app/")  # every key under the prefix
        # [end]
        keys, _ = await client.kv.keys("app/")
        assert keys == []

        async def writer() -> None:
            await asyncio.sleep(0.2)
            await client.kv.set("config/mode", b"changed")

        task = asyncio.create_task(writer())
        # [blocking]
        entry, meta = await client.kv.get("config/mode")
        # Wait (5 s at most) for the key to change past meta's index.
        entry, new_meta = await client.kv.get("config/mode", watch=(meta, "5s"))
        print(entry["Value"], "at index", new_meta["Index"])
        # [end]
        await task
        assert entry["Value"] == b"changed"
        assert new_meta["Index"] > meta["Index"]


if __name__ == "__main__":
    asyncio.run(main())
