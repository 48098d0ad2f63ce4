"""The typing contract: equivalent inputs give the same result; others are refused.

Runs as is against the embedded dev agent. The ``# [name]`` / ``# [end]`` comments mark
the snippet that docs/typing.rst shows.
"""

import asyncio
import datetime
import re

from aioconsul import Consistency, Consul
from aioconsul.testing import DevAgent


async def main() -> None:
    async with DevAgent() as agent, Consul(agent.address) as client:
        await client.kv.set("typing/key", b"one")
        _, meta = await client.kv.get("typing/key")
        await client.kv.set("typing/key", b"two")  # the data moves past meta's index

        # Blocking: every form of "wait past meta's index" (the data already changed, so
        # each read answers at once).
        index = meta["Index"]
        for watch in (
            meta,
            index,
            str(index),
            {"Index": index},
            (meta, None),
            (meta, "5s"),
            (index, datetime.timedelta(seconds=5)),
        ):
            entry, newer = await client.kv.get("typing/key", watch=watch)
            assert entry["Value"] == b"two"
            assert newer["Index"] > index

        # Duration: a Go string or a timedelta. Nothing changes here, so each read waits
        # its 100 ms and answers with the same index.
        _, meta = await client.kv.get("typing/key")
        loop = asyncio.get_running_loop()
        for wait in ("100ms", "0.1s", datetime.timedelta(milliseconds=100)):
            started = loop.time()
            _, same = await client.kv.get("typing/key", watch=(meta, wait))
            assert loop.time() - started >= 0.09
            assert same["Index"] == meta["Index"]

        # ObjectIndex for a check-and-set: the entry (its ModifyIndex), the int, its
        # text, a mapping with "Index". Each round writes a new value (an identical
        # write would change nothing, ModifyIndex included), then finds it stale.
        for version, as_index in enumerate(
            (
                lambda entry: entry,
                lambda entry: entry["ModifyIndex"],
                lambda entry: str(entry["ModifyIndex"]),
                lambda entry: {"Index": entry["ModifyIndex"]},
            ),
            start=1,
        ):
            entry, _ = await client.kv.get("typing/key")
            value = f"v{version}".encode()
            index = as_index(entry)
            assert await client.kv.cas("typing/key", value, index=index) is True
            assert await client.kv.cas("typing/key", b"lost", index=index) is False

        # ObjectID: the session object Consul returned, its "ID", or a mapping with it.
        session = await client.session.create(lock_delay="0s")
        for holder in (session, session["ID"], {"ID": session["ID"]}):
            assert await client.kv.lock("typing/lock", b"", session=holder) is True
            assert await client.kv.unlock("typing/lock", b"", session=holder) is True
        await client.session.destroy(session)

        # Consistency: the enum member or its value, in any case.
        assert Consistency.STALE == "stale"
        for mode in (Consistency.STALE, "stale", "STALE"):
            entry, _ = await client.kv.get("typing/key", consistency=mode)
            assert entry["Value"] == b"v4"

        # Filter: text or a compiled pattern, whose flags become Go's inline flags.
        fired = await client.event.fire("typing", node="(?i)^AIOCONSUL-")
        pattern = re.compile("^AIOCONSUL-", re.IGNORECASE)
        compiled = await client.event.fire("typing", node=pattern)
        assert fired["NodeFilter"] == compiled["NodeFilter"] == "(?i)^AIOCONSUL-"

        # Payload: bytes or bytearray.
        await client.kv.set("typing/payload", bytearray(b"raw"))
        entry, _ = await client.kv.get("typing/payload")
        assert entry["Value"] == b"raw"

        # [refused]
        # Everything else is refused before a request is sent.
        refused = [
            client.kv.set("typing/payload", "text"),  # Payload: encode first
            client.kv.get("typing/key", watch="1234-43-6789"),  # not an index
            client.kv.get("typing/key", watch=(meta, "90")),  # no unit
            client.kv.get("typing/key", watch=(meta, 90)),  # not a Duration
            client.kv.get("typing/key", consistency="eventual"),
            client.event.fire("typing", node=b"^web"),  # Filter: str or Pattern
        ]
        for call in refused:
            try:
                await call
            except (TypeError, ValueError) as exc:
                print(f"{type(exc).__name__}: {exc}")
        # [end]
            else:
                raise AssertionError("expected TypeError or ValueError")


if __name__ == "__main__":
    asyncio.run(main())
