"""Raft status: the leader and the peers of the datacenter.

Runs as is against the embedded dev agent, a single server that leads itself.
"""

import asyncio

from aioconsul import Consul
from aioconsul.testing import DevAgent


async def main() -> None:
    async with DevAgent() as agent, Consul(agent.address) as client:
        leader = await client.status.leader()
        peers = await client.status.peers()
        # Both are "ip:port" strings of the servers' Raft (server RPC) addresses.
        host, _, port = leader.rpartition(":")
        assert host and port.isdigit()
        assert leader in peers
        print(f"leader {leader}, peers {peers}")


if __name__ == "__main__":
    asyncio.run(main())
