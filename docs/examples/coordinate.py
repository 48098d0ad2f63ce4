"""Network coordinates: read them, and estimate the round-trip time between two nodes.

Runs as is against the embedded dev agent. The ``# [name]`` / ``# [end]`` comments mark
the snippets that docs/coordinate.rst shows.
"""

import asyncio

from aioconsul import Consul
from aioconsul.api.coordinate import rtt
from aioconsul.testing import DevAgent


async def main() -> None:
    async with DevAgent() as agent, Consul(agent.address) as client:
        await client.catalog.register("edge", address="10.0.2.1")
        _, meta = await client.coordinate.nodes()
        # [update]
        await client.coordinate.update("edge", {
            "Vec": [0.002, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
            "Error": 0.2,
            "Adjustment": 0.0,
            "Height": 0.0001,
        })
        # [end]
        # [rtt]
        # The servers apply coordinate updates in batches: block until this one lands.
        nodes, _ = await client.coordinate.nodes(watch=(meta, "5s"))
        by_node = {entry["Node"]: entry for entry in nodes}
        edge = by_node["edge"]
        print("edge:", edge["Coord"]["Vec"][:2], "...")
        for name, entry in by_node.items():
            if name != "edge":
                print(f"RTT {name} <-> edge: {rtt(entry, edge) * 1000:.2f} ms")
        # [end]

        # [near]
        # The catalog can sort by that estimate: nearest to "edge" first.
        nearest, _ = await client.catalog.nodes(near="edge")
        print([node["Node"] for node in nearest])
        # [end]
        assert nearest[0]["Node"] == "edge"


if __name__ == "__main__":
    asyncio.run(main())
