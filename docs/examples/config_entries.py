"""Config entries: an L7 protocol for a service, a splitter over it, and a CAS write.

Runs as is against the embedded dev agent. The ``# [name]`` / ``# [end]``
comments mark the snippet that docs/config.rst shows.
"""

import asyncio

from aioconsul import Consul
from aioconsul.testing import DevAgent


async def main() -> None:
    async with DevAgent() as agent, Consul(agent.address) as client:
        # [config]
        entries = client.config_entries
        # A splitter needs an L7 protocol: set it first, create-only (cas=0).
        created = await entries.apply(
            {"Kind": "service-defaults", "Name": "web", "Protocol": "http"}, cas=0)
        # ... on every service the split sends to: one protocol per discovery chain.
        await entries.apply(
            {"Kind": "service-defaults", "Name": "web-canary", "Protocol": "http"})
        await entries.apply({"Kind": "service-splitter", "Name": "web", "Splits": [
            {"Weight": 90}, {"Weight": 10, "Service": "web-canary"}]})
        splitter, meta = await entries.get("service-splitter", "web")
        print(splitter["Splits"], splitter["ModifyIndex"])
        # A write over a stale ModifyIndex is refused with False.
        stale = splitter["ModifyIndex"]
        first = await entries.apply(splitter, cas=stale)  # True
        second = await entries.apply(splitter, cas=stale)  # False: the index moved
        listed, meta = await entries.items("service-splitter")  # watch=meta blocks
        # [end]
        assert created and first and not second
        assert meta["Index"] >= splitter["ModifyIndex"]
        assert [e["Name"] for e in listed] == ["web"]


if __name__ == "__main__":
    asyncio.run(main())
