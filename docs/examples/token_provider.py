"""A token that changes: a provider callable, a watched token file, and a registration
that follows the token.

Runs as is against the embedded dev agent with ACLs on (default policy "deny"). The
``# [name]`` / ``# [end]`` comments mark the snippets that docs/client.rst and
docs/toolkit.rst show; the asserts after them check what the snippets printed.
"""

import asyncio
import os
import tempfile
from pathlib import Path
from typing import Any

from aioconsul import Consul
from aioconsul.testing import DevAgent


async def main() -> None:
    agent = DevAgent(acl_enabled=True, acl_default_policy="deny",
                     acl_initial_management="root")
    async with agent, Consul(agent.address, token="root") as admin:
        await admin.acl.policies.create("app", 'key_prefix "app/" { policy = "write" }')

        async def issue(**fields: Any) -> dict[str, Any]:
            token, _ = await admin.acl.tokens.create(policies=["app"], **fields)
            return token

        issued = [await issue()]
        # [provider]
        async def consul_token() -> str:
            # Ask your secrets engine (Vault's Consul secrets engine, say) for the
            # current token; here, the one issued last.
            return issued[-1]["SecretID"]

        async with Consul(agent.address, token=consul_token) as client:
            await client.kv.set("app/greeting", b"hello")

            # The token is revoked, a new one issued: the next request is refused
            # with "ACL not found", the client asks consul_token() again and sends
            # that request once more, with the new token.
            issued.append(await issue())
            await admin.acl.tokens.delete(issued[0])
            entry, _ = await client.kv.get("app/greeting")
            print(entry["Value"])  # b'hello'
        # [end]
            assert entry is not None and entry["Value"] == b"hello"
            me, _ = await client.acl.tokens.self()
            assert me["AccessorID"] == issued[-1]["AccessorID"]

        with tempfile.TemporaryDirectory() as directory:
            first, second = await issue(), await issue()
            path = Path(directory) / "consul-token"
            path.write_text(first["SecretID"])
            # [token-file]
            # A file that Vault agent (or a Kubernetes secret) rewrites: looked at
            # once a second at most, read again when it changed, and at once when
            # the agent answers "ACL not found".
            async with Consul(agent.address, token_file=str(path)) as client:
                await client.kv.set("app/step", b"1")

                new = path.with_name("consul-token.new")  # rotate it atomically
                new.write_text(second["SecretID"])
                os.replace(new, path)
                await admin.acl.tokens.delete(first)

                await client.kv.set("app/step", b"2")  # sent with the new token
            # [end]
            step, _ = await admin.kv.get("app/step")
            assert step is not None and step["Value"] == b"2"

        tokens = [await issue(service_identities=["web"])]
        # [registration]
        async def web_token() -> str:
            return tokens[-1]["SecretID"]

        async with Consul(agent.address, token=web_token) as client, \
                client.register("web", ttl="10s", grace=0) as reg:
            # The token rotates. The agent keeps the token a service was registered
            # with, so once the client has the new one (here at its next request),
            # reg registers "web" again with it.
            tokens.append(await issue(service_identities=["web"]))
            await admin.acl.tokens.delete(tokens[0])
            await client.kv.get("app/greeting")
        # [end]
            for _ in range(500):
                if reg.registrations == 2:
                    break
                await asyncio.sleep(0.01)
            assert reg.registrations == 2, reg.registrations


if __name__ == "__main__":
    asyncio.run(main())
