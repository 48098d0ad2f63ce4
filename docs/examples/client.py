"""The client: address forms, the environment, a lent aiohttp session, closing.

Runs as is against the embedded dev agent. The ``# [name]`` / ``# [end]`` comments mark
the snippets that docs/client.rst shows; the asserts after them check what the snippets
printed.
"""

import asyncio
import os

import aiohttp

from aioconsul import Consul
from aioconsul.testing import DevAgent


async def main() -> None:
    async with DevAgent() as agent:
        host, port = agent.host, agent.port
        # [address]
        # The same agent, three ways to say where it is.
        for address in (f"http://{host}:{port}", f"{host}:{port}", (host, port)):
            async with Consul(address) as client:
                print(client.address, await client.status.leader())
        # [end]
                assert client.address == agent.address

        os.environ["CONSUL_HTTP_ADDR"] = agent.address
        try:
            # [environment]
            # No address: CONSUL_HTTP_ADDR, else 127.0.0.1:8500.
            print(Consul().address)
            # An explicit argument always wins over the environment.
            print(Consul("127.0.0.1:1").address)  # http://127.0.0.1:1
            # [end]
            assert Consul().address == agent.address
            assert Consul("127.0.0.1:1").address == "http://127.0.0.1:1"
        finally:
            del os.environ["CONSUL_HTTP_ADDR"]

        # [token]
        # The token goes in the X-Consul-Token header only: never in repr() or a URL.
        async with Consul(agent.address, token="s3cr3t", timeout=5) as client:
            print(client)
            await client.kv.set("hello", b"world")
        # [end]
            assert "s3cr3t" not in repr(client)
            assert "s3cr3t" not in repr(client.config)

        # [lent]
        # A lent session is used, never closed by the client.
        async with aiohttp.ClientSession() as http:
            client = Consul(agent.address, session=http)
            entry, _ = await client.kv.get("hello")
            await client.close()  # idempotent; leaves http open
            print(client.closed, http.closed)  # True False
        # [end]
            assert entry["Value"] == b"world"
            await client.close()
            assert client.closed
            assert not http.closed
            try:
                await client.kv.get("hello")
            except RuntimeError:
                pass  # a closed client sends nothing more
            else:
                raise AssertionError("a closed client refuses requests")


if __name__ == "__main__":
    asyncio.run(main())
