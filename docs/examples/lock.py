"""A Lock: hold a key alone, notice when it is lost, interoperate with Go's api.Lock.

Runs as is against the embedded dev agent.
"""

import asyncio

from aioconsul import Consul, LockConflict, LockLost
from aioconsul.recipes.lock import LOCK_FLAG_VALUE
from aioconsul.testing import DevAgent


async def main() -> None:
    async with DevAgent() as agent, Consul(agent.address) as client:
        # Hold the key while the block runs; the value says who holds it.
        async with client.lock("service/leader", value=b"node-a") as lock:
            entry, _ = await client.kv.get("service/leader")
            assert entry["Session"] == lock.session  # a session made for this lock
            assert entry["Flags"] == LOCK_FLAG_VALUE  # what Go's api.Lock writes and checks
            assert entry["Value"] == b"node-a"

            # Anyone else waits; with try-once they give up after lock_wait.
            other = client.lock("service/leader", lock_try_once=True, lock_wait="100ms")
            assert await other.acquire() is False
        # Released, and the lock's session destroyed.
        entry, _ = await client.kv.get("service/leader")
        assert not entry.get("Session")

        # A lock can be lost at any time (here its session is destroyed behind its back):
        # `lost` is set, and with cancel_on_loss=True the block is cancelled and raises LockLost.
        try:
            async with client.lock("service/leader", cancel_on_loss=True) as lock:
                await client.session.destroy(lock.session)
                await asyncio.sleep(10)  # cancelled within moments
        except LockLost:
            assert lock.lost.is_set()

        # Explicit calls, as in Go: acquire() -> True (or False with try-once), release().
        lock = client.lock("batch/nightly", lock_delay="0s")
        assert await lock.acquire() is True
        await lock.release()
        await lock.destroy()  # delete the key: refused while anyone holds it

        # A key that is not a lock (here, a plain value) is refused, not overwritten.
        await client.kv.set("config/mode", b"blue")
        try:
            await client.lock("config/mode").acquire()
        except LockConflict as error:
            print("refused:", error)
        print("lock held, lost and released")


if __name__ == "__main__":
    asyncio.run(main())
