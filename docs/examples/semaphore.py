"""A Semaphore: at most N holders under one prefix, compatible with Go's api.Semaphore.

Runs as is against the embedded dev agent.
"""

import asyncio
import json

from aioconsul import Consul
from aioconsul.testing import DevAgent


async def main() -> None:
    async with DevAgent() as agent, Consul(agent.address) as client:
        running = 0
        most = 0

        async def job(number: int) -> None:
            nonlocal running, most
            # Every contender must agree on the limit (here 2 slots under "jobs/slots").
            async with client.semaphore("jobs/slots", 2, value=f"job-{number}".encode()):
                running += 1
                most = max(most, running)
                await asyncio.sleep(0.05)
                running -= 1

        await asyncio.gather(*(job(n) for n in range(5)))
        assert most == 2  # never a third holder

        # While a slot is held, the coordination key lists the holders' sessions.
        async with client.semaphore("jobs/slots", 2) as slot:
            entry, _ = await client.kv.get("jobs/slots/.lock")
            document = json.loads(entry["Value"])
            assert document == {"Limit": 2, "Holders": {slot.session: True}}
            # Each contender also holds <prefix>/<session> with its value.
            contender, _ = await client.kv.get(f"jobs/slots/{slot.session}")
            assert contender["Session"] == slot.session
            assert not slot.lost.is_set()  # set if the slot is lost
        print("five jobs ran, at most two at a time")


if __name__ == "__main__":
    asyncio.run(main())
