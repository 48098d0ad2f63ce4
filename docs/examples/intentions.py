"""Connect intentions: allow and deny by precedence, read them back as the
destination's service-intentions config entry, ask the agent to authorize a
client certificate.

Runs as is against the embedded dev agent. The ``# [name]`` / ``# [end]``
comments mark the snippets that docs/intentions.rst shows; the asserts after
them check what the snippets printed.
"""

import asyncio

from aioconsul import Consul
from aioconsul.testing import DevAgent

WEB = "spiffe://11111111-2222-3333-4444-555555555555.consul/ns/default/dc/dc1/svc/web"
API = "spiffe://11111111-2222-3333-4444-555555555555.consul/ns/default/dc/dc1/svc/api"


async def main() -> None:
    async with DevAgent() as agent, Consul(agent.address) as client:
        # [precedence]
        ixns = client.connect.intentions
        await ixns.upsert("*", "db", action="deny")  # nobody reaches db...
        await ixns.upsert("web", "db", action="allow")  # ...except web
        print(await ixns.check("web", "db"))  # True
        print(await ixns.check("api", "db"))  # False
        found, _ = await ixns.match("destination", "db")
        print([(i["SourceName"], i["Precedence"]) for i in found["db"]])
        # [('web', 9), ('*', 8)]
        # [end]
        assert await ixns.check("web", "db") and not await ixns.check("api", "db")
        assert [i["SourceName"] for i in found["db"]] == ["web", "*"]

        # [entry]
        entry, _ = await client.config_entries.get("service-intentions", "db")
        print([(s["Name"], s["Action"]) for s in entry["Sources"]])
        # [('web', 'allow'), ('*', 'deny')]
        # [end]
        assert [s["Name"] for s in entry["Sources"]] == ["web", "*"]

        # [authorize]
        allowed, reason = await client.agent.connect.authorize("db", WEB, "01")
        print(allowed, reason)
        # True Matched L4 intention: default/web => default/db (Precedence: 9, ...)
        denied, _ = await client.agent.connect.authorize("db", API, "01")
        # [end]
        assert allowed and not denied
        assert reason.startswith("Matched L4 intention: default/web => default/db")

        # [delete]
        await ixns.delete("web", "db")
        await ixns.delete("*", "db")  # the entry goes with its last intention
        gone, _ = await client.config_entries.get("service-intentions", "db")
        print(gone)  # None
        # [end]
        assert gone is None and await ixns.check("api", "db")  # no ACLs: allowed


if __name__ == "__main__":
    asyncio.run(main())
