"""Consul Enterprise tenancy: namespaces, admin partitions, what a CE agent answers.

Runs as is against the embedded dev agent, which answers as Consul CE does: it has
no namespace or partition endpoint, so every call raises NotFound. Against a Consul
Enterprise agent the same calls create, read and delete. The ``# [name]`` /
``# [end]`` comments mark the snippets docs/enterprise.rst shows.
"""

import asyncio
from collections.abc import Awaitable
from typing import Any

from aioconsul import BadRequest, Consul, ConsulError, NotFound
from aioconsul.testing import DevAgent


async def refusal(call: Awaitable[Any], error: type[ConsulError]) -> str:
    """The text of the error ``call`` raises (it must raise ``error``)."""
    try:
        await call
    except error as exc:
        return str(exc)
    raise AssertionError(f"expected {error.__name__}")


async def main() -> None:
    async with DevAgent() as agent, Consul(agent.address) as client:
        # [namespaces]
        try:
            created, _ = await client.namespaces.create({
                "Name": "team-a",
                "Description": "Team A's services",
                "ACLs": {"PolicyDefaults": [{"Name": "team-a-read"}]},
                "Meta": {"owner": "team-a"},
            })
            print("created", created["Name"], "at", created["CreateIndex"])
            namespaces, _ = await client.namespaces.items()
            print([ns["Name"] for ns in namespaces])
        except NotFound as exc:  # Consul CE: no such endpoint
            print("not Enterprise:", exc.status)
        # [end]
        assert "not a recognized HTTP API endpoint" in await refusal(
            client.namespaces.items(), NotFound)

        # [partitions]
        try:
            partition, _ = await client.partitions.get("default")
            print(partition["Name"], partition.get("Description", ""))
        except NotFound as exc:
            print("not Enterprise:", exc.status)
        # [end]

        # [options]
        # The namespace= and partition= options of the other groups are sent as ?ns=
        # and ?partition=; a CE agent refuses them: 400 "... Enterprise feature".
        try:
            await client.kv.get("config/app", namespace="team-a")
        except BadRequest as exc:
            print(exc.message)
        # [end]
        assert "Namespaces are a Consul Enterprise feature" in await refusal(
            client.kv.get("config/app", namespace="team-a"), BadRequest)


if __name__ == "__main__":
    asyncio.run(main())
