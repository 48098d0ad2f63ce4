"""Errors: what is not an error, what is refused before sending, what Consul refuses.

Runs as is against the embedded dev agent. The ``# [name]`` / ``# [end]`` comments mark
the snippets that docs/errors.rst shows; the asserts after them check what the snippets
printed.
"""

import asyncio

from aioconsul import (
    Consul,
    ConsulError,
    NotConsul,
    NotFound,
    ResponseError,
    TransportError,
)
from aioconsul.testing import DevAgent


async def main() -> None:
    async with DevAgent() as agent:
        address = agent.address
        async with Consul(address) as client:
            # [not-an-error]
            # A missing key is not an error: (None, meta), with an index to block on.
            entry, meta = await client.kv.get("no/such/key")
            print(entry, meta["Index"])
            # [end]
            assert entry is None

            # [bad-arguments]
            # Bad arguments never reach Consul: TypeError or ValueError.
            try:
                await client.kv.set("foo", "text")  # a str, not bytes
            except TypeError as exc:
                print(exc)
            # [end]
                assert "value" in str(exc)  # names the argument
            else:
                raise AssertionError("str values are refused")
            try:
                await client.kv.get("/foo")
            except ValueError as exc:
                assert "key" in str(exc)  # a leading "/" would be redirected by Consul
            else:
                raise AssertionError("keys starting with '/' are refused")

            # [refused]
            # Consul refuses a request: a ResponseError subclass chosen by the status.
            no_such_session = "00000000-0000-4000-8000-000000000000"
            try:
                await client.kv.lock("foo", b"", session=no_such_session)
            except ResponseError as exc:
                print(exc.status, exc.operation, exc.address)
                print(exc.message)
            # [end]
                assert exc.status == 500  # Consul: invalid session
                assert exc.operation == "PUT /v1/kv/foo"
                assert exc.address == address
            else:
                raise AssertionError("a lock needs an existing session")

            # [not-found]
            try:
                await client.agent.services.deregister("no-such-service-id")
            except NotFound as exc:
                print("not found:", exc)
            # [end]
                assert exc.status == 404
            else:
                raise AssertionError("expected a 404")

        # [not-consul]
        # An address where something answers, but not Consul (here a wrong path prefix).
        async with Consul(address + "/not-consul") as client:
            try:
                await client.kv.get("config/mode")
            except NotConsul as exc:
                print(exc)
        # [end]
                assert isinstance(exc, ConsulError)
            else:
                raise AssertionError("expected NotConsul")

    # [unreachable]
    # Nothing listens at the address any more: the agent is stopped.
    async with Consul(address, timeout=1) as client:
        try:
            await client.status.leader()
        except TransportError as exc:
            print("unreachable:", exc.status, exc)  # status None: no answer at all
    # [end]
            assert exc.status is None
        else:
            raise AssertionError("expected a transport error")

        # ConsulError is the root of the tree: one except clause for any failed request.
        try:
            await client.kv.get("foo")
        except ConsulError as exc:
            assert isinstance(exc, TransportError)
        else:
            raise AssertionError("expected a ConsulError")


if __name__ == "__main__":
    asyncio.run(main())
