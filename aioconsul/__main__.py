"""``python -m aioconsul``: a short tour of the client (``demo``).

The demo talks to the agent at ``CONSUL_HTTP_ADDR`` when one answers there, otherwise it starts the
embedded dev agent on the fly, and says which one it used. Against a real agent it writes only
under a fresh ``aioconsul-demo/<id>/`` prefix and deletes that prefix when it is done.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from . import Consul, ConsulError


@asynccontextmanager
async def _agent() -> AsyncIterator[tuple[Consul, str]]:
    """A client for the agent at CONSUL_HTTP_ADDR if it answers, else for a fresh dev agent."""
    if os.environ.get("CONSUL_HTTP_ADDR"):
        client = Consul(timeout=2)
        try:
            leader = await client.status.leader()
        except ConsulError as exc:
            print(f"No agent answered at CONSUL_HTTP_ADDR ({exc}); using the embedded dev agent.")
            await client.close()
        else:
            try:
                yield client, f"the agent at {client.address} (leader {leader or 'none'})"
            finally:
                await client.close()
            return
    from .testing import DevAgent

    async with DevAgent() as agent, Consul(agent.address) as client:
        yield client, f"the embedded dev agent at {agent.address}"


async def demo() -> None:
    async with _agent() as (client, which):
        print(f"Using {which}.")
        prefix = f"aioconsul-demo/{uuid.uuid4().hex[:8]}/"
        try:
            key = prefix + "greeting"
            await client.kv.set(key, b"hello")
            entry, meta = await client.kv.get(key)
            assert entry is not None
            print(f"KV    set {key!r} and read it back: {entry['Value']!r} "
                  f"(ModifyIndex {entry['ModifyIndex']}, X-Consul-Index {meta['Index']})")

            watcher = asyncio.create_task(client.kv.get(key, watch=(meta, "10s")))
            try:
                await asyncio.sleep(0.1)
                print(f"WATCH a blocking read waits past index {meta['Index']}; "
                      f"writing a new value")
                await client.kv.set(key, b"hello again")
                entry, meta = await asyncio.wait_for(watcher, 15)
            finally:
                watcher.cancel()
            assert entry is not None
            print(f"WATCH woke up with {entry['Value']!r} at index {meta['Index']}")

            event = await client.event.fire("aioconsul-demo", b"deployed v1")
            events, _ = await client.event.items("aioconsul-demo")
            print(f"EVENT fired {event['Name']!r} (ID {event['ID']}); the agent lists "
                  f"{len(events)} such event(s), the newest with payload {events[-1]['Payload']!r}")
        finally:
            await client.kv.delete_tree(prefix)
        print("Done.")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m aioconsul", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("demo", help="a short tour: KV, a blocking watch, an event")
    args = parser.parse_args(argv)
    if args.command == "demo":
        try:
            asyncio.run(demo())
        except ConsulError as exc:
            print(f"demo failed: {exc}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
