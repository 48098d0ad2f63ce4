"""The catalog: register a node with a service, find it, watch for a new instance.

Runs as is against the embedded dev agent.
"""

import asyncio

from aioconsul import Consul
from aioconsul.testing import DevAgent


async def main() -> None:
    async with DevAgent() as agent, Consul(agent.address) as client:
        # The agent's own node is in the catalog from the start.
        nodes, meta = await client.catalog.nodes()
        print("nodes:", [node["Node"] for node in nodes])

        # Register an external node with a service (as an external service monitor would).
        await client.catalog.register(
            "db-host", address="10.0.0.5", node_meta={"rack": "r1"},
            service={"ID": "db-1", "Service": "db", "Tags": ["primary"], "Port": 5432},
        )
        services, _ = await client.catalog.services()
        assert services["db"] == ["primary"]

        instances, meta = await client.catalog.service("db", tag="primary")
        assert [(i["Node"], i["ServiceAddress"] or i["Address"], i["ServicePort"])
                for i in instances] == [("db-host", "10.0.0.5", 5432)]

        # Consul's filter expressions run on the server.
        racked, _ = await client.catalog.nodes(filter='Meta.rack == "r1"')
        assert [node["Node"] for node in racked] == ["db-host"]

        # A blocking read returns as soon as the service's instances change.
        watcher = asyncio.create_task(client.catalog.service("db", watch=(meta, "10s")))
        await asyncio.sleep(0.05)
        await client.catalog.register(
            "db-host-2", address="10.0.0.6",
            service={"ID": "db-2", "Service": "db", "Port": 5432},
        )
        instances, _ = await asyncio.wait_for(watcher, 5)
        assert sorted(i["ServiceID"] for i in instances) == ["db-1", "db-2"]

        # Deregister one service, then a whole node.
        await client.catalog.deregister("db-host-2", service="db-2")
        await client.catalog.deregister("db-host")
        assert (await client.catalog.service("db"))[0] == []


if __name__ == "__main__":
    asyncio.run(main())
