"""Cluster peering: two clusters peer with a token, one exports a service,
the other reads it with ``peer=``; then the peering is deleted.

Runs as is against two embedded dev agents (datacenters dc1 and dc2). The
``# [name]`` / ``# [end]`` comments mark the snippets that docs/peering.rst
shows; the asserts after them check what the snippets printed.
"""

import asyncio

from aioconsul import Consul
from aioconsul.testing import DevAgent


async def main() -> None:
    async with DevAgent(node_name="east-node") as east_agent, \
            DevAgent(node_name="west-node", datacenter="dc2") as west_agent, \
            Consul(east_agent.address) as east, Consul(west_agent.address) as west:
        await east.agent.services.register({"Name": "web", "ID": "web1", "Port": 80})

        # [establish]
        token = await east.peering.generate_token("west")  # east calls its peer "west"
        await west.peering.establish("east", token)  # west calls its peer "east"
        peering, _ = await east.peering.get("west")
        print(peering["State"])  # ACTIVE
        # [end]
        assert peering["State"] == "ACTIVE"

        # [export]
        await east.config_entries.apply({
            "Kind": "exported-services", "Name": "default",
            "Services": [{"Name": "web", "Consumers": [{"Peer": "west"}]}],
        })
        nodes, _ = await west.health.service("web", peer="east")
        print([(n["Service"]["ID"], n["Service"]["PeerName"]) for n in nodes])
        # [('web1', 'east')]
        # [end]
        assert [n["Service"]["ID"] for n in nodes] == ["web1"]

        # [exported]
        exported, _ = await east.peering.exported_services()
        print(exported)  # [{'Service': 'web', 'Consumers': {'Peers': ['west']}}]
        # [end]
        assert exported == [{"Service": "web", "Consumers": {"Peers": ["west"]}}]

        # [delete]
        await east.peering.delete("west")
        theirs, _ = await west.peering.get("east")
        print(theirs["State"])  # TERMINATED: east ended the peering
        # [end]
        assert theirs["State"] == "TERMINATED"


asyncio.run(main())
