"""Health: instances with their checks, only the passing ones, checks by state.

Runs as is against the embedded dev agent. The ``# [name]`` / ``# [end]`` comments mark
the snippets that docs/health.rst shows; the asserts after them check what the snippets
printed.
"""

import asyncio

from aioconsul import Consul
from aioconsul.testing import DevAgent


async def main() -> None:
    async with DevAgent() as agent, Consul(agent.address) as client:
        for index, status in enumerate(["passing", "critical"], start=1):
            await client.catalog.register(
                f"api-host-{index}",
                address=f"10.0.1.{index}",
                service={"ID": f"api-{index}", "Service": "api", "Port": 80},
                check={"CheckID": f"api-{index}-http", "Name": "HTTP",
                       "ServiceID": f"api-{index}", "Status": status},
            )

        # [service]
        # Every instance, each with its node, service and checks.
        entries, meta = await client.health.service("api")
        for entry in entries:
            statuses = [check["Status"] for check in entry["Checks"]]
            print(entry["Service"]["ID"], "on", entry["Node"]["Node"], statuses)
        # [end]

        # [passing]
        # Only the instances whose every check passes: what a load balancer wants.
        healthy, meta = await client.health.service("api", passing=True)
        print([entry["Service"]["ID"] for entry in healthy])  # ['api-1']
        # [end]
        assert [entry["Service"]["ID"] for entry in healthy] == ["api-1"]

        # [state]
        # Checks by state, across the datacenter.
        critical, _ = await client.health.state("critical")
        print([check["CheckID"] for check in critical])  # ['api-2-http']
        # [end]
        assert [check["CheckID"] for check in critical] == ["api-2-http"]

        async def recover() -> None:
            await asyncio.sleep(0.05)
            await client.catalog.register(
                "api-host-2",
                address="10.0.1.2",
                check={"CheckID": "api-2-http", "Name": "HTTP",
                       "ServiceID": "api-2", "Status": "passing"},
            )

        task = asyncio.create_task(recover())
        # [blocking]
        # Block until the set of passing instances changes (10 s at most).
        healthy, meta = await client.health.service(
            "api", passing=True, watch=(meta, "10s"))
        print(sorted(entry["Service"]["ID"] for entry in healthy))
        # [end]
        await task
        assert sorted(entry["Service"]["ID"] for entry in healthy) == ["api-1", "api-2"]


if __name__ == "__main__":
    asyncio.run(main())
