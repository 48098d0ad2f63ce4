"""The client: address forms, the environment, a lent aiohttp session, closing.

Runs as is against the embedded dev agent.
"""

import asyncio
import os

import aiohttp

from aioconsul import Consul
from aioconsul.testing import DevAgent


async def main() -> None:
    async with DevAgent() as agent:
        # The same agent, three ways to say where it is.
        for address in (agent.address, f"{agent.host}:{agent.port}", (agent.host, agent.port)):
            async with Consul(address) as client:
                assert client.address == agent.address  # "http://127.0.0.1:PORT"
                assert await client.status.leader()

        # No address: CONSUL_HTTP_ADDR (else 127.0.0.1:8500). An explicit argument always wins.
        os.environ["CONSUL_HTTP_ADDR"] = agent.address
        try:
            assert Consul().address == agent.address
            assert Consul("127.0.0.1:1").address == "http://127.0.0.1:1"
        finally:
            del os.environ["CONSUL_HTTP_ADDR"]

        # The token goes in the X-Consul-Token header only: never in repr() or a URL.
        async with Consul(agent.address, token="s3cr3t", timeout=5) as client:
            assert "s3cr3t" not in repr(client)
            assert "s3cr3t" not in repr(client.config)
            assert await client.kv.set("hello", b"world")

        # A lent session is used, never closed by the client; close() is idempotent.
        async with aiohttp.ClientSession() as http:
            client = Consul(agent.address, session=http)
            entry, _ = await client.kv.get("hello")
            assert entry["Value"] == b"world"
            await client.close()
            await client.close()
            assert client.closed
            assert not http.closed
            try:
                await client.kv.get("hello")
            except RuntimeError:
                pass  # a closed client sends nothing more
            else:
                raise AssertionError("a closed client refuses requests")
        print("client checks passed against", agent.address)


if __name__ == "__main__":
    asyncio.run(main())
