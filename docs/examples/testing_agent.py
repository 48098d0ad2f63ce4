"""The embedded dev agent: start and stop it, ask who it is, expire a session quickly.

Runs as is: no Consul binary involved. The ``# [name]`` / ``# [end]`` comments mark the
snippets that docs/testing.rst shows; the asserts after them check what they printed.
"""

import asyncio

import aiohttp

from aioconsul import Consul
from aioconsul.testing import DevAgent


async def main() -> None:
    # [start]
    # Quick session expiry for tests: TTLs from 50 ms, invalidated 1 x TTL after the
    # last renewal (Consul's own defaults are 10 s and 2 x TTL).
    agent = DevAgent(
        node_name="docs-node",
        datacenter="dc2",
        session_ttl_min=0.05,
        session_ttl_multiplier=1,
    )
    await agent.start()
    print(agent.address)  # http://127.0.0.1:PORT
    # [end]
    try:
        assert agent.running
        assert agent.address == f"http://{agent.host}:{agent.port}"

        # [http]
        # Any HTTP client will do: it answers like a Consul 1.21 agent.
        url = agent.address + "/v1/agent/self"
        async with aiohttp.ClientSession() as http, http.get(url) as response:
            config = (await response.json())["Config"]
        print(config["NodeName"], config["Datacenter"], config["Version"])
        # [end]
        assert (config["NodeName"], config["Datacenter"]) == ("docs-node", "dc2")
        assert config["Version"].startswith("1.21")

        # [expiry]
        async with Consul(agent.address) as client:
            session = await client.session.create(ttl="100ms", lock_delay="0s")
            await client.kv.lock("leader", b"me", session=session)
            await asyncio.sleep(0.3)  # no renewal: the session expires...
            gone, _ = await client.session.info(session)
            entry, _ = await client.kv.get("leader")
            print(gone, entry.get("Session"))  # ...and the lock is released
        # [end]
            assert gone is None
            assert not entry.get("Session")
    finally:
        await agent.stop()  # idempotent; a stopped agent can start again, empty
    assert not agent.running
    await agent.stop()


if __name__ == "__main__":
    asyncio.run(main())
