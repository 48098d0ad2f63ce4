"""The discovery chain: the default chain of a service, then one changed by a splitter.

Runs against an embedded dev agent, so it needs nothing installed but aioconsul.
"""

from __future__ import annotations

import asyncio

from aioconsul import Consul
from aioconsul.testing import DevAgent


async def main() -> None:
    async with DevAgent() as agent, Consul(agent.address) as client:
        # [default]
        chain, meta = await client.discovery_chain.get("web")
        # resolver:web.default.default.dc1 tcp
        print(chain["StartNode"], chain["Protocol"])
        # [end]
        assert chain["Default"] is True
        # [split]
        entries = client.config_entries
        # Splitting needs an L7 protocol on every service of the chain.
        for name in ("web", "web-v2"):
            await entries.apply(
                {"Kind": "service-defaults", "Name": name, "Protocol": "http"})
        _, meta = await client.discovery_chain.get("web")
        waiting = asyncio.ensure_future(client.discovery_chain.get("web", watch=meta))
        await entries.apply({"Kind": "service-splitter", "Name": "web", "Splits": [
            {"Weight": 90}, {"Weight": 10, "Service": "web-v2"}]})
        chain, meta = await waiting  # woken by the splitter's write
        for split in chain["Nodes"][chain["StartNode"]]["Splits"]:
            print(split["Weight"], split["NextNode"])
        # [end]
        assert chain["StartNode"] == "splitter:web.default.default"
        # [overrides]
        custom, _ = await client.discovery_chain.get(
            "web", override_protocol="tcp", override_connect_timeout="2s")
        print(custom["StartNode"], custom["CustomizationHash"])  # no splitter on tcp
        # [end]
        assert custom["StartNode"] == "resolver:web.default.default.dc1"


if __name__ == "__main__":
    asyncio.run(main())
