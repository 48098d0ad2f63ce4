"""Leader election: run the leader's work while elected, step down cleanly.

Runs as is against the embedded dev agent. The ``# [name]`` / ``# [end]`` comments mark
the snippets that docs/recipes.rst shows; the asserts after them check what the snippets
printed.
"""

import asyncio

from aioconsul import Consul
from aioconsul.testing import DevAgent


async def main() -> None:
    async with DevAgent() as agent, Consul(agent.address) as client:
        log: list[str] = []

        # [run]
        async def candidate(name: str) -> str:
            async def lead() -> str:
                # Only one candidate runs this at a time; the key says who.
                entry, _ = await client.kv.get("service/leader")
                print(name, "leads; the key says", entry["Value"])
                log.append(entry["Value"].decode())
                await asyncio.sleep(0.02)
                return f"{name} done"

            election = client.election("service/leader", value=name.encode())
            # Campaign, lead, step down (release the key, destroy the session), return.
            return await election.run(lead)

        results = await asyncio.gather(candidate("a"), candidate("b"), candidate("c"))
        print(results)
        # [end]
        assert sorted(results) == ["a done", "b done", "c done"]
        assert sorted(log) == ["a", "b", "c"]

        # [terms]
        # A loop of terms: leadership lost mid-term cancels the block, and the loop
        # campaigns again; leaving the `async with terms` block steps down.
        election = client.election("service/leader", lock_delay="0s")
        async with election.terms() as terms:
            async for term in terms:
                async with term:
                    if term.number == 1:
                        await client.session.destroy(term.session)  # lose it on purpose
                        await asyncio.sleep(10)  # cancelled when the loss is seen
                if term.number == 2:
                    break
        # [end]
        sessions, _ = await client.session.items()
        assert sessions == []  # nothing left behind


if __name__ == "__main__":
    asyncio.run(main())
