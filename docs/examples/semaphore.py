"""A Semaphore: at most N holders under one prefix, compatible with Go's api.Semaphore.

Runs as is against the embedded dev agent. The ``# [name]`` / ``# [end]`` comments mark
the snippets that docs/recipes.rst shows; the asserts after them check what the snippets
printed.
"""

import asyncio
import json

from aioconsul import Consul
from aioconsul.testing import DevAgent


async def main() -> None:
    async with DevAgent() as agent, Consul(agent.address) as client:
        running = 0
        most = 0

        # [slots]
        async def job(number: int) -> None:
            nonlocal running, most
            # Every contender agrees on the limit: 2 slots under "jobs/slots".
            value = f"job-{number}".encode()
            async with client.semaphore("jobs/slots", 2, value=value):
                running += 1
                most = max(most, running)
                await asyncio.sleep(0.05)  # at most two jobs run here at a time
                running -= 1

        await asyncio.gather(*(job(n) for n in range(5)))
        print("at most", most, "at a time")
        # [end]
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


if __name__ == "__main__":
    asyncio.run(main())
