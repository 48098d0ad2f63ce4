"""The embedded dev agent: start and stop it, ask it who it is, let a session expire quickly.

Runs as is: no Consul binary involved.
"""

import asyncio

import aiohttp

from aioconsul import Consul
from aioconsul.testing import DevAgent


async def main() -> None:
    # Quick session expiry for tests: TTLs from 50 ms, invalidated 1 x TTL after the last renewal
    # (Consul's own defaults are 10 s and 2 x TTL).
    agent = DevAgent(
        node_name="docs-node",
        datacenter="dc2",
        session_ttl_min=0.05,
        session_ttl_multiplier=1,
    )
    await agent.start()
    try:
        assert agent.running
        assert agent.address == f"http://{agent.host}:{agent.port}"

        # Any HTTP client will do: it answers like a Consul 1.21 agent.
        url = agent.address + "/v1/agent/self"
        async with aiohttp.ClientSession() as http, http.get(url) as response:
            self_info = await response.json()
        assert self_info["Config"]["NodeName"] == "docs-node"
        assert self_info["Config"]["Datacenter"] == "dc2"
        assert self_info["Config"]["Version"].startswith("1.21")

        async with Consul(agent.address) as client:
            session = await client.session.create(ttl="100ms", lock_delay="0s")
            assert await client.kv.lock("leader", b"me", session=session) is True
            await asyncio.sleep(0.3)  # no renewal: the session expires, the lock is released
            gone, _ = await client.session.info(session)
            assert gone is None
            entry, _ = await client.kv.get("leader")
            assert not entry.get("Session")
    finally:
        await agent.stop()
    assert not agent.running
    await agent.stop()  # idempotent
    print("dev agent checks passed")


if __name__ == "__main__":
    asyncio.run(main())
