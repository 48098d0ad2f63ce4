"""A Lock: hold a key alone, notice when it is lost, interoperate with Go's api.Lock.

Runs as is against the embedded dev agent. The ``# [name]`` / ``# [end]`` comments mark
the snippets that docs/recipes.rst shows; the asserts after them check what the snippets
printed.
"""

import asyncio

from aioconsul import Consul, LockConflict, LockLost
from aioconsul.recipes.lock import LOCK_FLAG_VALUE
from aioconsul.testing import DevAgent


async def main() -> None:
    async with DevAgent() as agent, Consul(agent.address) as client:
        # [hold]
        # Hold the key while the block runs; the value says who holds it.
        async with client.lock("service/leader", value=b"node-a") as lock:
            entry, _ = await client.kv.get("service/leader")
            print(entry["Value"], entry["Session"] == lock.session)  # b'node-a' True

            # Anyone else waits; with try-once they give up after lock_wait.
            other = client.lock(
                "service/leader", lock_try_once=True, lock_wait="100ms")
            print(await other.acquire())  # False
        # Released, and the lock's session destroyed.
        # [end]
            assert entry["Flags"] == LOCK_FLAG_VALUE  # as Go's api.Lock writes it
        entry, _ = await client.kv.get("service/leader")
        assert not entry.get("Session")

        # [lost]
        # A lock can be lost at any time (here its session is destroyed behind its
        # back): `lost` is set, and with cancel_on_loss=True the block is cancelled
        # and raises LockLost.
        try:
            async with client.lock("service/leader", cancel_on_loss=True) as lock:
                await client.session.destroy(lock.session)
                await asyncio.sleep(10)  # cancelled within moments
        except LockLost:
            print("lost:", lock.lost.is_set())  # lost: True
        # [end]
        assert lock.lost.is_set()

        # [fencing]
        # The resource the lock protects keeps the highest token it accepted and
        # refuses a lower one: a holder that lost the lock without knowing it (a
        # long pause, a partition) can no longer overwrite its successor's work.
        highest = 0

        def store(token: int, data: bytes) -> bool:
            nonlocal highest
            if token < highest:
                return False  # a stale holder
            highest = token
            return True

        async with client.lock("service/leader") as first:
            old_token = first.fencing_token
        async with client.lock("service/leader") as second:
            print(store(second.fencing_token, b"new"))  # True
        print(store(old_token, b"stale"), first.fencing_token)  # False None
        # [end]
        assert old_token is not None and second.fencing_token is None
        assert highest > old_token

        # [explicit]
        # Explicit calls, as in Go: acquire() -> True (False with try-once), release().
        lock = client.lock("batch/nightly", lock_delay="0s")
        if await lock.acquire():
            ...  # the nightly batch
            await lock.release()
        await lock.destroy()  # delete the key: refused while anyone holds it
        # [end]

        # [conflict]
        # A key that is not a lock (here, a plain value) is refused, not overwritten.
        await client.kv.set("config/mode", b"blue")
        try:
            await client.lock("config/mode").acquire()
        except LockConflict as error:
            print("refused:", error)
        # [end]


if __name__ == "__main__":
    asyncio.run(main())
