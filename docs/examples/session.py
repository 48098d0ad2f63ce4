"""Sessions and KV locks: create a session, hold a key with it, release it, destroy it.

Runs as is against the embedded dev agent.
"""

import asyncio

from aioconsul import Consul
from aioconsul.testing import DevAgent


async def main() -> None:
    async with DevAgent() as agent, Consul(agent.address) as client:
        # A session with a TTL, no lock-delay, released keys kept (the default behavior).
        session = await client.session.create("docs-leader", ttl="30s", lock_delay="0s")
        other = await client.session.create("docs-follower", lock_delay="0s")

        # Hold a key: the first session wins, the second is refused (False, not an error).
        assert await client.kv.lock("service/leader", b"node-a", session=session) is True
        assert await client.kv.lock("service/leader", b"node-b", session=other) is False
        entry, _ = await client.kv.get("service/leader")
        assert entry["Session"] == session["ID"]
        assert entry["Value"] == b"node-a"

        # Read, list and renew sessions; a session id or the object Consul returned will do.
        info, _ = await client.session.info(session)
        assert info is not None
        assert info["Name"] == "docs-leader"
        assert info["TTL"] == "30s"
        sessions, _ = await client.session.items()
        assert {s["ID"] for s in sessions} == {session["ID"], other["ID"]}
        on_node, _ = await client.session.node(info["Node"])
        assert len(on_node) == 2
        renewed = await client.session.renew(session["ID"])
        assert renewed["ID"] == session["ID"]

        # Release the key (Consul stores the value given with the release), then hand it over.
        assert await client.kv.unlock("service/leader", b"node-a", session=session) is True
        assert await client.kv.lock("service/leader", b"node-b", session=other) is True

        # Destroying a session releases what it holds; info() then returns None.
        assert await client.session.destroy(other) is True
        entry, _ = await client.kv.get("service/leader")
        assert "Session" not in entry or not entry["Session"]
        gone, _ = await client.session.info(other)
        assert gone is None
        await client.session.destroy(session)
        print("lock handed over and released, sessions destroyed")


if __name__ == "__main__":
    asyncio.run(main())
