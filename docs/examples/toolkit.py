"""The service toolkit: managed registration, a health probe, draining, tracing.

Runs as is against the embedded dev agent. The ``# [name]`` / ``# [end]`` comments mark
the snippets that docs/toolkit.rst shows; the asserts after them check what the snippets
printed.
"""

import asyncio

import aiohttp

from aioconsul import Consul
from aioconsul.testing import DevAgent


async def main() -> None:
    async with DevAgent() as agent, Consul(agent.address) as client:
        # [register]
        service = {"Name": "web", "Address": "10.0.0.5", "Port": 8080, "Tags": ["v1"]}
        async with client.register(service, ttl="1s", grace=0.2) as reg:
            # Registered, and passing at once: the TTL check starts as "passing".
            nodes, _ = await client.health.service("web", passing=True)
            print(reg.id, [node["Service"]["ID"] for node in nodes])
            # ... serve; a heartbeat keeps the check passing every TTL/2 ...
        # Left: marked critical, 0.2 s of grace, then deregistered.
        # [end]
            assert reg.id == "web-10.0.0.5-8080"
            assert [node["Service"]["ID"] for node in nodes] == [reg.id]
        services, _ = await client.agent.services.items()
        assert services == {}

        # [probe]
        pool_ok = True

        async def probe() -> tuple[bool, str]:
            # Asked at every heartbeat: True/False, a status, or (either, note).
            return pool_ok, "pool ok" if pool_ok else "no database connection"

        async with client.register("worker", ttl="1s", probe=probe, grace=0) as reg:
            pool_ok = False
            check = {"Status": "passing"}
            while check["Status"] != "critical":  # the next heartbeat reports it
                await asyncio.sleep(0.1)
                check = (await client.agent.checks.items())[0][reg.check_id]
            print(check["Status"], check["Output"])
        # [end]
            assert check["Output"] == "no database connection"

        # [status]
        async with client.register("batch", ttl="30s", grace=0) as reg:
            await reg.set_status("warning", "catching up on a backlog")
            check = (await client.agent.checks.items())[0][reg.check_id]
            print(check["Status"], check["Output"])
            await reg.drain()  # out of rotation now; leaving does nothing more
        # [end]
            assert check["Status"] == "warning"
            assert not reg.running

    async with DevAgent() as agent:
        # [tracing]
        started = []

        async def on_request_start(session, context, params) -> None:
            started.append(f"{params.method} {params.url.path}")

        trace = aiohttp.TraceConfig()
        trace.on_request_start.append(on_request_start)
        async with Consul(agent.address, trace_configs=[trace]) as client:
            await client.kv.set("traced", b"yes")
        print(started)
        # [end]
        assert started == ["PUT /v1/kv/traced"]


asyncio.run(main())
