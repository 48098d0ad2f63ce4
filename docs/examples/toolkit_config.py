"""The service toolkit: live configuration from a KV folder.

Runs as is against the embedded dev agent. The ``# [name]`` / ``# [end]`` comments mark
the snippets that docs/toolkit.rst shows; the asserts after them check what the snippets
printed.
"""

import asyncio
import json

from aioconsul import Consul
from aioconsul.testing import DevAgent


async def main() -> None:
    async with DevAgent() as agent, Consul(agent.address) as client:
        await client.kv.set("config/web/port", b"8080")
        await client.kv.set("config/web/db/host", b'"10.0.0.5"')
        await client.kv.set("config/web/db/pool", b"10")

        # [config]
        async with client.kv.config("config/web/", codec="json") as cfg:
            print(cfg.data)  # the prefix stripped, one dict per folder
            print(cfg["db"]["host"], cfg.index)
        # [end]
            assert cfg.data == {"port": 8080, "db": {"host": "10.0.0.5", "pool": 10}}

        # [changes]
        async with client.kv.config("config/web/", codec="json",
                                    wait=(0.5, 5)) as cfg:
            changes = cfg.changes()
            # A burst of writes: one reload, once 0.5 s passed without another.
            for size in range(11, 31):
                await client.kv.set("config/web/db/pool", str(size).encode())
            await client.kv.delete("config/web/port")
            change = await anext(changes)
            print("modified:", change.modified)
            print("deleted:", change.deleted)
        # [end]
            assert change.modified == {"db/pool": (10, 30)}
            assert change.deleted == {"port": 8080} and change.added == {}
            assert cfg.reloads == 1

        # [validate]
        def valid(data):
            return 1 <= data["db"]["pool"] <= 100  # False refuses the version

        async with client.kv.config("config/web/", codec="json",
                                    validate=valid) as cfg:
            await client.kv.set("config/web/db/pool", json.dumps(5000).encode())
            while cfg.rejected is None:  # or on_reject=...
                await asyncio.sleep(0.05)
            print(cfg.rejected)
            print("still", cfg["db"]["pool"])
        # [end]
            assert cfg["db"]["pool"] == 30 and cfg.rejections == 1


asyncio.run(main())
