"""Health: instances with their checks, only the passing ones, checks by state.

Runs as is against the embedded dev agent.
"""

import asyncio

from aioconsul import Consul
from aioconsul.testing import DevAgent


async def main() -> None:
    async with DevAgent() as agent, Consul(agent.address) as client:
        for index, status in enumerate(["passing", "critical"], start=1):
            await client.catalog.register(
                f"api-host-{index}", address=f"10.0.1.{index}",
                service={"ID": f"api-{index}", "Service": "api", "Port": 80},
                check={"CheckID": f"api-{index}-http", "Name": "HTTP",
                       "ServiceID": f"api-{index}", "Status": status},
            )

        # Every instance, each with its node, service and checks.
        entries, meta = await client.health.service("api")
        for entry in entries:
            statuses = [check["Status"] for check in entry["Checks"]]
            print(entry["Service"]["ID"], "on", entry["Node"]["Node"], statuses)

        # Only instances whose every check passes: what a load balancer wants.
        healthy, meta = await client.health.service("api", passing=True)
        assert [entry["Service"]["ID"] for entry in healthy] == ["api-1"]

        # Checks by state, across the datacenter.
        critical, _ = await client.health.state("critical")
        assert [check["CheckID"] for check in critical] == ["api-2-http"]

        # Block until the set of passing instances changes.
        watcher = asyncio.create_task(
            client.health.service("api", passing=True, watch=(meta, "10s")))
        await asyncio.sleep(0.05)
        await client.catalog.register(
            "api-host-2", address="10.0.1.2",
            check={"CheckID": "api-2-http", "Name": "HTTP", "ServiceID": "api-2",
                   "Status": "passing"},
        )
        healthy, _ = await asyncio.wait_for(watcher, 5)
        assert sorted(entry["Service"]["ID"] for entry in healthy) == ["api-1", "api-2"]


if __name__ == "__main__":
    asyncio.run(main())
