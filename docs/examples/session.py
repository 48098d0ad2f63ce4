"""Sessions and KV locks: create a session, hold a key with it, release it, destroy it.

Runs as is against the embedded dev agent. The ``# [name]`` / ``# [end]`` comments mark
the snippets that docs/session.rst shows; the asserts after them check what the snippets
printed.
"""

import asyncio

from aioconsul import Consul
from aioconsul.testing import DevAgent


async def main() -> None:
    async with DevAgent() as agent, Consul(agent.address) as client:
        # [create]
        session = await client.session.create("leader", ttl="30s", lock_delay="0s")
        other = await client.session.create("follower", lock_delay="0s")
        print(session["ID"])
        # [end]

        # [lock]
        # The first session wins; the second is refused (False, not an error).
        won = await client.kv.lock("service/leader", b"node-a", session=session)
        lost = await client.kv.lock("service/leader", b"node-b", session=other)
        print(won, lost)  # True False

        entry, _ = await client.kv.get("service/leader")
        print(entry["Session"], entry["Value"])
        # [end]
        assert (won, lost) == (True, False)
        assert (entry["Session"], entry["Value"]) == (session["ID"], b"node-a")

        # [read]
        # A session id or the object Consul returned will do.
        info, _ = await client.session.info(session)
        print(info["Name"], info["TTL"], info["Node"])

        sessions, _ = await client.session.items()  # every session
        on_node, _ = await client.session.node(info["Node"])  # a node's sessions

        await client.session.renew(session)  # before its TTL runs out
        # [end]
        assert (info["Name"], info["TTL"]) == ("leader", "30s")
        assert {s["ID"] for s in sessions} == {session["ID"], other["ID"]}
        assert len(on_node) == 2

        # [release]
        # Consul stores the value given with the release; the key is free again.
        await client.kv.unlock("service/leader", b"node-a", session=session)
        await client.kv.lock("service/leader", b"node-b", session=other)

        # Destroying a session releases what it holds; info() then returns None.
        await client.session.destroy(other)
        gone, _ = await client.session.info(other)
        print(gone)  # None
        # [end]
        assert gone is None
        entry, _ = await client.kv.get("service/leader")
        assert not entry.get("Session")
        await client.session.destroy(session)


if __name__ == "__main__":
    asyncio.run(main())
