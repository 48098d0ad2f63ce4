"""The local agent: register a service with a TTL check, report on it, watch it.

Runs as is against the embedded dev agent. The ``# [name]`` / ``# [end]`` comments mark
the snippets that docs/agent.rst shows; the asserts after them check what the snippets
printed.
"""

import asyncio
import contextlib
import datetime

from aioconsul import Consul
from aioconsul.testing import DevAgent


async def report_ttl(client: Consul, check_id: str, ttl: float) -> None:
    """Keep a TTL check passing: report every TTL/3, well within the TTL."""
    while True:
        await client.agent.checks.pass_(check_id, "serving")
        await asyncio.sleep(ttl / 3)


async def main() -> None:
    async with DevAgent() as agent, Consul(agent.address) as client:
        # [self]
        me = await client.agent.self()
        print("agent", me["Config"]["NodeName"], "in", me["Config"]["Datacenter"])
        # [end]

        # [register]
        # A Consul definition, or just a name, plus keyword fields.
        # Durations are Go duration strings or timedeltas.
        await client.agent.services.register(
            {"Name": "web", "Meta": {"version": "2"}},
            id="web-1",
            port=8080,
            tags=["v2"],
            check={"CheckID": "web-1-ttl", "TTL": datetime.timedelta(seconds=30)},
        )
        services, _ = await client.agent.services.items()
        print(services["web-1"]["Service"], services["web-1"]["Port"])
        # [end]
        assert services["web-1"]["Port"] == 8080

        # [health]
        # A new TTL check is critical until someone reports on it.
        report, _ = await client.agent.services.health(id="web-1")
        print(report["AggregatedStatus"])  # critical

        await client.agent.checks.pass_("web-1-ttl", "serving")
        reports, _ = await client.agent.services.health("web")
        print([r["AggregatedStatus"] for r in reports])  # ['passing']
        # [end]
        assert report["AggregatedStatus"] == "critical"
        assert [r["AggregatedStatus"] for r in reports] == ["passing"]

        # A background task reports on the check while the service runs.
        reporter = asyncio.create_task(report_ttl(client, "web-1-ttl", ttl=30))
        await asyncio.sleep(0.1)  # the service runs...
        reporter.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reporter

        # [check]
        # A check of its own, bound to the service, then updated with an output.
        await client.agent.checks.register("web-1-queue", service="web-1", ttl="1m")
        await client.agent.checks.update("web-1-queue", "warning", "queue 80% full")
        checks, _ = await client.agent.checks.items(filter='Status == "warning"')
        print(list(checks))  # ['web-1-queue']
        # [end]
        assert list(checks) == ["web-1-queue"]

        async def change() -> None:
            await asyncio.sleep(0.05)
            await client.agent.services.register("web", id="web-1", port=8081)

        task = asyncio.create_task(change())
        # [hash]
        service, meta = await client.agent.services.get("web-1")
        # Blocks until the definition hashes differently (10 s at most).
        service, new_meta = await client.agent.services.get(
            "web-1", watch=(meta, "10s"))
        print(service["Port"], new_meta["ContentHash"])
        # [end]
        await task
        assert service is not None and service["Port"] == 8081
        assert new_meta["ContentHash"] != meta["ContentHash"]

        # [maintenance]
        await client.agent.services.maintenance("web-1", True, reason="deploying")
        report, _ = await client.agent.services.health(id="web-1")
        print(report["AggregatedStatus"])  # maintenance
        await client.agent.services.maintenance("web-1", False)

        await client.agent.services.deregister("web-1")  # and its checks
        # [end]
        assert report["AggregatedStatus"] == "maintenance"
        assert (await client.agent.services.get("web-1"))[0] is None

        agent.backend.metrics_interval = 0.1  # the dev agent's sink (Consul: 10 s)
        # [metrics-stream]
        async with client.agent.metrics_stream() as summaries:
            async for summary in summaries:  # one per interval, as it ends
                gauges = {gauge["Name"]: gauge["Value"] for gauge in summary["Gauges"]}
                print(summary["Timestamp"], "nodes:", gauges["consul.state.nodes"])
                break
        # [end]
        assert gauges["consul.state.nodes"] == 1


if __name__ == "__main__":
    asyncio.run(main())
