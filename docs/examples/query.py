"""Prepared queries: store a service lookup, execute it by name (through the agent
cache too), bind one to a session, explain a template.

Runs as is against the embedded dev agent. The ``# [name]`` / ``# [end]``
comments mark the snippets that docs/query.rst shows; the asserts after them
check what the snippets printed.
"""

import asyncio

from aioconsul import Consul
from aioconsul.testing import DevAgent


async def main() -> None:
    async with DevAgent() as agent, Consul(agent.address) as client:
        for node, status in (("n1", "passing"), ("n2", "warning")):
            await client.catalog.register({
                "Node": node, "Address": "10.0.0.1",
                "Service": {"Service": "web", "ID": f"web-{node}"},
                "Check": {"CheckID": f"c-{node}", "Name": "up", "Status": status,
                          "ServiceID": f"web-{node}"},
            })

        # [create]
        query_id, _ = await client.query.create({
            "Name": "web",
            "Service": {"Service": "web", "OnlyPassing": True, "Near": "_agent"},
            "DNS": {"TTL": "10s"},
        })
        result, _ = await client.query.execute("web", limit=3)
        print([entry["Node"]["Node"] for entry in result["Nodes"]])  # ['n1']
        # [end]
        assert [entry["Node"]["Node"] for entry in result["Nodes"]] == ["n1"]

        # [cached]
        first, meta = await client.query.execute("web", cached=True)  # fetched: a MISS
        again, meta = await client.query.execute("web", cached=True, max_age="30s")
        print(meta["CacheHit"], meta["CacheAge"])  # True 0: stored 0 s ago
        # [end]
        assert meta["CacheHit"] is True and again["Nodes"] == first["Nodes"]

        # [session]
        session = await client.session.create(lock_delay="0s")
        await client.query.create(
            {"Session": session["ID"], "Service": {"Service": "web"}})
        await client.session.destroy(session)  # its queries go with it
        # [end]
        assert [q["Name"] for q in (await client.query.items())[0]] == ["web"]

        # [template]
        await client.query.create({
            "Name": "svc-",
            "Template": {"Type": "name_prefix_match"},
            "Service": {"Service": "${name.suffix}"},
        })
        rendered, _ = await client.query.explain("svc-web")
        print(rendered["Service"]["Service"])  # web
        # [end]
        assert rendered["Service"]["Service"] == "web"
        await client.query.delete(query_id)


if __name__ == "__main__":
    asyncio.run(main())
