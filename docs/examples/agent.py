"""The local agent: register a service with a TTL check, report its health, wait for a change.

Runs as is against the embedded dev agent.
"""

import asyncio
import datetime

from aioconsul import Consul
from aioconsul.testing import DevAgent


async def main() -> None:
    async with DevAgent() as agent, Consul(agent.address) as client:
        me = await client.agent.self()
        print("agent", me["Config"]["NodeName"], "in", me["Config"]["Datacenter"])

        # Register a service: a Consul definition, or just a name, plus keyword fields.
        # Durations are Go duration strings or timedeltas.
        await client.agent.services.register(
            {"Name": "web", "Meta": {"version": "2"}},
            id="web-1", port=8080, tags=["v2"],
            check={"CheckID": "web-1-ttl", "TTL": datetime.timedelta(seconds=30)},
        )
        services, _ = await client.agent.services.items()
        assert services["web-1"]["Port"] == 8080

        # A new TTL check is critical until someone reports on it. The agent answers the
        # health endpoints with 503 (critical) and 429 (warning): reports, not errors.
        report, _ = await client.agent.services.health(id="web-1")
        assert report is not None
        assert report["AggregatedStatus"] == "critical"
        await client.agent.checks.pass_("web-1-ttl", "serving")
        reports, _ = await client.agent.services.health("web")
        assert [r["AggregatedStatus"] for r in reports] == ["passing"]

        # A check of its own, bound to the service, then updated with an output.
        await client.agent.checks.register("web-1-queue", service="web-1", ttl="1m")
        await client.agent.checks.update("web-1-queue", "warning", "queue 80% full")
        checks, _ = await client.agent.checks.items(filter='Status == "warning"')
        assert list(checks) == ["web-1-queue"]

        # /v1/agent/service/<id> blocks on a content hash: pass the previous Meta (or the
        # service itself) as watch=, with an optional wait.
        service, meta = await client.agent.services.get("web-1")
        assert service is not None
        waiter = asyncio.create_task(client.agent.services.get("web-1", watch=(meta, "10s")))
        await asyncio.sleep(0.05)
        await client.agent.services.register("web", id="web-1", port=8081)
        changed, new_meta = await waiter
        assert changed is not None and changed["Port"] == 8081
        assert new_meta["ContentHash"] != meta["ContentHash"]

        # Maintenance mode adds a critical check, and the health report says "maintenance";
        # deregistering removes the service and its checks.
        await client.agent.services.maintenance("web-1", True, reason="deploying")
        report, _ = await client.agent.services.health(id="web-1")
        assert report is not None and report["AggregatedStatus"] == "maintenance"
        await client.agent.services.maintenance("web-1", False)
        await client.agent.services.deregister("web-1")
        assert (await client.agent.services.get("web-1"))[0] is None
        print("registered, reported on, watched and deregistered web-1")


if __name__ == "__main__":
    asyncio.run(main())
