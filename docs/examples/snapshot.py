"""Snapshots: save the servers' state into a file, lose a key, restore it, and
restore the same archive into a fresh agent.

Runs as is against the embedded dev agent. The ``# [name]`` / ``# [end]``
comments mark the snippets that docs/snapshot.rst shows; the asserts after them
check what the snippets printed.
"""

import asyncio
import os
import tempfile

from aioconsul import Consul
from aioconsul.testing import DevAgent


class Counter:
    """A byte sink: any object with write(bytes), a coroutine or a plain call."""

    def __init__(self) -> None:
        self.chunks = 0
        self.size = 0

    async def write(self, chunk: bytes) -> None:
        self.chunks += 1
        self.size += len(chunk)


async def main() -> None:
    with tempfile.TemporaryDirectory() as workdir:
        path = os.path.join(workdir, "backup.snap")
        async with DevAgent() as agent, Consul(agent.address) as client:
            await client.kv.set("app/config", b"v1")
            _, before = await client.kv.get("app/config")

            # [save]
            meta = await client.snapshot.save(path)  # streamed into the file
            print(meta["Index"] > 0)  # True: the Raft index of the snapshot

            await client.kv.delete("app/config")
            await client.snapshot.restore(path)  # streamed from the file
            entry, meta = await client.kv.get("app/config")
            print(entry["Value"], meta["Index"] == before["Index"])  # b'v1' True
            # [end]
            assert entry is not None and entry["Value"] == b"v1"
            assert meta["Index"] == before["Index"]

            # [sink]
            sink = Counter()
            await client.snapshot.save(sink)
            print(sink.size > 0)  # True: written chunk by chunk
            # [end]
            assert sink.size > 0 and sink.chunks >= 1

        # [fresh]
        async with DevAgent() as fresh, Consul(fresh.address) as other:
            await other.snapshot.restore(path)
            entry, _ = await other.kv.get("app/config")
            print(entry["Value"])  # b'v1'
        # [end]
        assert entry is not None and entry["Value"] == b"v1"


if __name__ == "__main__":
    asyncio.run(main())
