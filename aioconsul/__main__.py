"""``python -m aioconsul`` (or the ``aioconsul`` command): a short tour of the client (``demo``).

The demo talks to the agent at ``CONSUL_HTTP_ADDR`` when one answers there, else to an agent on
the default address ``127.0.0.1:8500`` when one answers there as Consul does, otherwise it starts
the embedded dev agent on the fly; it says which one it used. Against a real agent it writes only
under a fresh ``aioconsul-demo/<id>/`` prefix and deletes that prefix when it is done.

The help text is plain text (no reST markup), the program calls itself by the name it was run
as, and output piped into a reader that stops early (``| head``) ends quietly.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from . import ConnectError, Consul, ConsulError

#: Where Consul's own tools look when ``CONSUL_HTTP_ADDR`` is unset.
_DEFAULT_ADDRESS = "127.0.0.1:8500"
#: How long the demo waits for an agent to answer before it starts the embedded one.
_PROBE_TIMEOUT = 2.0

_DESCRIPTION = "A short tour of aioconsul, the asyncio client for HashiCorp Consul."
_EPILOG = ("The demo uses the agent at CONSUL_HTTP_ADDR, else one answering on the default "
           f"address {_DEFAULT_ADDRESS}, else it starts the embedded dev agent.")


async def _probe(address: str | None) -> tuple[Consul | None, str]:
    """A client for the agent at ``address`` (None: ``CONSUL_HTTP_ADDR``) if it answers
    ``/v1/agent/self`` as a Consul agent does, else ``(None, why not)``."""
    client = Consul(address, timeout=_PROBE_TIMEOUT, retry=False)
    try:
        info: Any = await client.agent.self()
        if not (isinstance(info, dict) and isinstance(info.get("Config"), dict)):
            raise ConsulError("its /v1/agent/self is not a Consul agent's",
                              address=client.address)
        leader = await client.status.leader()
    except ConnectError:
        await client.close()
        return None, "nothing listens there"
    except (ConsulError, TimeoutError) as exc:
        await client.close()
        return None, str(exc)
    config = info["Config"]
    return client, (f"the agent at {client.address} (node {config.get('NodeName', '?')}, "
                    f"datacenter {config.get('Datacenter', '?')}, leader {leader or 'none'})")


@asynccontextmanager
async def _agent() -> AsyncIterator[tuple[Consul, str]]:
    """A client for the agent at CONSUL_HTTP_ADDR or the default address if one answers there,
    else for a fresh dev agent; with the sentence that says which."""
    if os.environ.get("CONSUL_HTTP_ADDR"):
        client, which = await _probe(None)
        where = "CONSUL_HTTP_ADDR"
    else:
        client, which = await _probe(_DEFAULT_ADDRESS)
        where = f"the default address {_DEFAULT_ADDRESS} (CONSUL_HTTP_ADDR is unset)"
    if client is not None:
        try:
            yield client, which
        finally:
            await client.close()
        return
    print(f"No Consul agent at {where}: {which}.", flush=True)
    from .testing import DevAgent

    async with DevAgent() as agent, Consul(agent.address) as dev:
        yield dev, f"the embedded dev agent at {agent.address}"


async def demo() -> None:
    async with _agent() as (client, which):
        print(f"Using {which}.", flush=True)
        prefix = f"aioconsul-demo/{uuid.uuid4().hex[:8]}/"
        try:
            key = prefix + "greeting"
            await client.kv.set(key, b"hello")
            entry, meta = await client.kv.get(key)
            assert entry is not None
            print(f"KV    set {key!r} and read it back: {entry['Value']!r} "
                  f"(ModifyIndex {entry['ModifyIndex']}, X-Consul-Index {meta['Index']})",
                  flush=True)

            watcher = asyncio.create_task(client.kv.get(key, watch=(meta, "10s")))
            try:
                await asyncio.sleep(0.1)
                print(f"WATCH a blocking read waits past index {meta['Index']}; "
                      f"writing a new value", flush=True)
                await client.kv.set(key, b"hello again")
                entry, meta = await asyncio.wait_for(watcher, 15)
            finally:
                watcher.cancel()
            assert entry is not None
            print(f"WATCH woke up with {entry['Value']!r} at index {meta['Index']}", flush=True)

            event = await client.event.fire("aioconsul-demo", b"deployed v1")
            events, _ = await client.event.items("aioconsul-demo")
            print(f"EVENT fired {event['Name']!r} (ID {event['ID']}); the agent lists "
                  f"{len(events)} such event(s), the newest with payload {events[-1]['Payload']!r}",
                  flush=True)
        finally:
            await client.kv.delete_tree(prefix)
        print("Done.", flush=True)


def prog_name(module: str) -> str:
    """How the running program was invoked: ``python -m <module>`` or the command's name."""
    argv0 = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    if not argv0 or argv0 in ("__main__.py", "-c") or argv0.endswith(".py"):
        return f"python -m {module}"
    return argv0


def exit_quietly_on_broken_pipe(run: Callable[[], int]) -> int:
    """Run ``run()``; if stdout's reader went away (``| head``), end without a traceback.

    As the Python docs recommend (library/signal.html, "Note on SIGPIPE"): flush inside the
    ``try``, and on ``BrokenPipeError`` point stdout at devnull so the interpreter's own flush
    at exit cannot fail again; exit 1, as Python does on EPIPE.
    """
    try:
        try:
            status = run()
        except SystemExit as exc:  # argparse after --help or a usage error
            status = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
        sys.stdout.flush()
        return status
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog_name("aioconsul"), description=_DESCRIPTION,
                                     epilog=_EPILOG)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("demo", help="a short tour: KV, a blocking watch, an event",
                        description="A short tour: KV, a blocking watch, an event. " + _EPILOG)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""

    def run() -> int:
        args = _parser().parse_args(argv)
        if args.command == "demo":
            try:
                asyncio.run(demo())
            except ConsulError as exc:
                print(f"demo failed: {exc}", file=sys.stderr)
                return 1
        return 0

    return exit_quietly_on_broken_pipe(run)


if __name__ == "__main__":
    sys.exit(main())
