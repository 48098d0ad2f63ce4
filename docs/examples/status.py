"""Raft status: the leader and the peers of the datacenter.

Runs as is against the embedded dev agent, a single server that leads itself. The ``#
[name]`` / ``# [end]`` comments mark the snippet that docs/status.rst shows.
"""

import asyncio

from aioconsul import Consul
from aioconsul.testing import DevAgent


async def main() -> None:
    async with DevAgent() as agent, Consul(agent.address) as client:
        # [status]
        leader = await client.status.leader()  # "ip:port", "" while there is none
        peers = await client.status.peers()  # the Raft peers, "ip:port" each
        print(f"leader {leader}, peers {peers}")
        # [end]
        host, _, port = leader.rpartition(":")
        assert host and port.isdigit()
        assert leader in peers


if __name__ == "__main__":
    asyncio.run(main())
