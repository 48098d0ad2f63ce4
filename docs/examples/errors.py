"""Errors: what is not an error, what is refused before sending, and what Consul refuses.

Runs as is against the embedded dev agent.
"""

import asyncio

from aioconsul import Consul, ConsulError, NotFound, ResponseError, TransportError
from aioconsul.testing import DevAgent


async def main() -> None:
    async with DevAgent() as agent:
        address = agent.address
        async with Consul(address) as client:
            # A missing key is not an error: (None, meta), with an index to block on.
            entry, meta = await client.kv.get("no/such/key")
            assert entry is None
            assert isinstance(meta["Index"], int)

            # Bad arguments never reach Consul: TypeError or ValueError, not ConsulError.
            try:
                await client.kv.set("foo", "text")
            except TypeError as exc:
                assert "value" in str(exc)  # names the argument; encode text first
            else:
                raise AssertionError("str values are refused")
            try:
                await client.kv.get("/foo")
            except ValueError as exc:
                assert "key" in str(exc)  # a leading "/" would be redirected by Consul
            else:
                raise AssertionError("keys starting with '/' are refused")

            # Consul refuses a request: a ResponseError subclass chosen by the status.
            session = "00000000-0000-4000-8000-000000000000"  # no such session
            try:
                await client.kv.lock("foo", b"", session=session)
            except ResponseError as exc:
                assert exc.status == 500  # Consul: invalid session
                assert exc.operation == "PUT /v1/kv/foo"
                assert exc.address == address
                print("refused:", exc)
            else:
                raise AssertionError("a lock needs an existing session")

        # NotFound (404): here, a client pointed at a path prefix where no agent answers.
        async with Consul(address + "/not-consul") as client:
            try:
                await client.status.leader()
            except NotFound as exc:
                assert exc.status == 404
                assert exc.operation == "GET /v1/status/leader"
                print("not found:", exc)
            else:
                raise AssertionError("expected a 404")

    # The agent is stopped: nothing listens at its address any more.
    async with Consul(address, timeout=1) as client:
        try:
            await client.status.leader()
        except TransportError as exc:
            assert exc.status is None  # no answer at all
            print("unreachable:", exc)
        else:
            raise AssertionError("expected a transport error")

        # ConsulError is the root of the tree: one except clause for every failed request.
        try:
            await client.kv.get("foo")
        except ConsulError as exc:
            assert isinstance(exc, TransportError)
        else:
            raise AssertionError("expected a ConsulError")


if __name__ == "__main__":
    asyncio.run(main())
