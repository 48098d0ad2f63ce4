"""Operator: the Raft configuration, autopilot with CAS, usage and the gossip keyring.

Runs as is against the embedded dev agent, a single server started with a gossip
key. The ``# [name]`` / ``# [end]`` comments mark the snippets docs/operator.rst shows.
"""

import asyncio
import base64
import os

from aioconsul import Consul
from aioconsul.errors import ServerError
from aioconsul.testing import DevAgent

FIRST = base64.b64encode(os.urandom(32)).decode()  # like `consul keygen`
SECOND = base64.b64encode(os.urandom(32)).decode()


async def main() -> None:
    async with DevAgent(encrypt=FIRST) as agent, Consul(agent.address) as client:
        # [raft]
        raft, _ = await client.operator.raft_configuration()
        for server in raft["Servers"]:
            role = "leader" if server["Leader"] else "follower"
            print(server["Node"], server["Address"], role)
        # [end]
        assert [s["Leader"] for s in raft["Servers"]] == [True]

        # [autopilot]
        config, _ = await client.operator.autopilot_configuration()
        # Only if nobody changed it since we read it: False otherwise.
        ok, _ = await client.operator.set_autopilot_configuration(
            {**config, "MinQuorum": 3}, cas=config["ModifyIndex"]
        )
        stale, _ = await client.operator.set_autopilot_configuration(
            {**config, "MinQuorum": 5}, cas=config["ModifyIndex"]
        )
        health, _ = await client.operator.autopilot_health()
        print("applied", ok, "then", stale, "- healthy:", health["Healthy"])
        # [end]
        assert (ok, stale, health["Healthy"]) == (True, False, True)

        # [keyring]
        await client.operator.keyring_install(SECOND)  # every member learns it
        await client.operator.keyring_use(SECOND)  # encrypt with it from now on
        await client.operator.keyring_remove(FIRST)  # then forget the old one
        pools, _ = await client.operator.keyring_list()
        for pool in pools:
            print("WAN" if pool["WAN"] else "LAN", pool["PrimaryKeys"])
        try:
            await client.operator.keyring_remove(SECOND)
        except ServerError as exc:
            print("refused:", exc)  # "Removing the primary key is not allowed"
        # [end]
        assert all(pool["Keys"] == {SECOND: 1} for pool in pools)

        # [usage]
        await client.agent.services.register("web", port=8080)
        usage, _ = await client.operator.usage()
        print(usage["Usage"]["dc1"]["ServiceInstances"], "service instances")
        # [end]
        assert usage["Usage"]["dc1"]["BillableServiceInstances"] == 1


if __name__ == "__main__":
    asyncio.run(main())
