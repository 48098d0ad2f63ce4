"""The service toolkit: a pool of the healthy instances of a service, and picks from it.

Runs as is against the embedded dev agent. The ``# [name]`` / ``# [end]`` comments mark
the snippets that docs/toolkit.rst shows; the asserts after them check what the snippets
printed.
"""

import asyncio
from collections import Counter

from aioconsul import Consul
from aioconsul.testing import DevAgent


async def add(client, node, sid, status="passing", output="ok", weights=None):
    """An instance of "db" on its own node, with one check (through the catalog)."""
    service = {"ID": sid, "Service": "db", "Port": 5432}
    if weights is not None:
        service["Weights"] = weights
    check = {"CheckID": f"{sid}:alive", "Name": "alive", "ServiceID": sid,
             "Status": status, "Output": output}
    address = f"10.0.0.{node[-1]}"
    await client.catalog.register(node, address=address, service=service, check=check)


async def main() -> None:
    async with DevAgent() as agent, Consul(agent.address) as client:
        await add(client, "n1", "db1", weights={"Passing": 3, "Warning": 1})
        await add(client, "n2", "db2", weights={"Passing": 1, "Warning": 1})
        await add(client, "n3", "db3", status="critical")

        # [discover]
        async with client.discover("db", seed=1) as pool:
            await pool.wait_ready(min=1, timeout=10)  # a startup gate
            print([(i.id, i.address, i.port, i.weight) for i in pool.instances])
            instance = pool.pick()  # weighted by Weights: db1 three times as often
            print("calling", instance.address, instance.port)
        # [end]
            assert [i.id for i in pool.instances] == ["db1", "db2"]  # db3 is critical
            picks = Counter(pool.pick().id for _ in range(4000))
            assert 2.5 < picks["db1"] / picks["db2"] < 3.5

        # [eject]
        async with client.discover("db", strategy="round-robin") as pool:
            first = pool.pick()
            # ... the call to it failed: leave it out of picks for 30 s.
            pool.mark_failed(first, for_=30)
            print([pool.pick().id for _ in range(3)])
        # [end]
            assert first.id == "db1"
            assert [i.id for i in pool.available] == ["db2"]

        # [changes]
        async with client.discover("db") as pool:
            changes = pool.changes()
            # Check output churn moves the index, but is not a change of the pool.
            await add(client, "n2", "db2", output="ok, 12 connections")
            await add(client, "n2", "db2", output="ok, 13 connections")
            await add(client, "n1", "db1", status="critical", output="refused")
            change = await anext(changes)
            print("removed:", [i.id for i in change.removed])
            print("left:", [i.id for i in change.instances])
        # [end]
            assert [i.id for i in change.removed] == ["db1"]
            assert change.added == change.updated == ()

        # [warning]
        weights = {"Passing": 3, "Warning": 1}
        await add(client, "n1", "db1", status="warning", weights=weights)
        seen = {}
        for policy in ("weighted", "passing", "exclude"):
            async with client.discover("db", warning=policy) as pool:
                seen[policy] = [(i.id, i.weight) for i in pool.instances]
        print(seen)
        # [end]
        assert seen == {"weighted": [("db1", 1), ("db2", 1)],
                        "passing": [("db1", 3), ("db2", 1)],
                        "exclude": [("db2", 1)]}


asyncio.run(main())
