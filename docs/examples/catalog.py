"""The catalog: register a node with a service, find it, watch for a new instance.

Runs as is against the embedded dev agent. The ``# [name]`` / ``# [end]`` comments mark
the snippets that docs/catalog.rst shows; the asserts after them check what the snippets
printed.
"""

import asyncio

from aioconsul import Consul
from aioconsul.testing import DevAgent


async def main() -> None:
    async with DevAgent() as agent, Consul(agent.address) as client:
        # [nodes]
        # The agent's own node is in the catalog from the start.
        nodes, meta = await client.catalog.nodes()
        print("nodes:", [node["Node"] for node in nodes])
        # [end]

        # [register]
        # An external node with a service, as an external service monitor registers it.
        await client.catalog.register(
            "db-host",
            address="10.0.0.5",
            node_meta={"rack": "r1"},
            service={"ID": "db-1", "Service": "db", "Tags": ["primary"], "Port": 5432},
        )
        # [end]

        # [find]
        services, _ = await client.catalog.services()
        print(services)  # {'consul': [], 'db': ['primary']}

        instances, meta = await client.catalog.service("db", tag="primary")
        for i in instances:
            print(i["Node"], i["ServiceAddress"] or i["Address"], i["ServicePort"])

        # Consul's filter expressions run on the server.
        racked, _ = await client.catalog.nodes(filter='Meta.rack == "r1"')
        print([node["Node"] for node in racked])  # ['db-host']
        # [end]
        assert services["db"] == ["primary"]
        assert [(i["Node"], i["ServiceAddress"] or i["Address"], i["ServicePort"])
                for i in instances] == [("db-host", "10.0.0.5", 5432)]
        assert [node["Node"] for node in racked] == ["db-host"]

        async def scale_up() -> None:
            await asyncio.sleep(0.05)
            await client.catalog.register(
                "db-host-2",
                address="10.0.0.6",
                service={"ID": "db-2", "Service": "db", "Port": 5432},
            )

        task = asyncio.create_task(scale_up())
        # [blocking]
        # Returns as soon as the service's instances change (10 s at most).
        instances, meta = await client.catalog.service("db", watch=(meta, "10s"))
        print(sorted(i["ServiceID"] for i in instances))  # ['db-1', 'db-2']
        # [end]
        await task
        assert sorted(i["ServiceID"] for i in instances) == ["db-1", "db-2"]

        # [deregister]
        await client.catalog.deregister("db-host-2", service="db-2")  # one service
        await client.catalog.deregister("db-host")  # a whole node
        # [end]
        assert (await client.catalog.service("db"))[0] == []


if __name__ == "__main__":
    asyncio.run(main())
