"""``python -m aioconsul`` (or the ``aioconsul`` command): a short tour of the client (``demo``)
and the KV store from the shell (``kv get/put/delete/ls/export/import``).

The demo talks to the agent at ``CONSUL_HTTP_ADDR`` when one answers there, else to an agent on
the default address ``127.0.0.1:8500`` when one answers there as Consul does, otherwise it starts
the embedded dev agent on the fly; it says which one it used. Against a real agent it writes only
under a fresh ``aioconsul-demo/<id>/`` prefix and deletes that prefix when it is done.

The ``kv`` commands talk to the agent at ``CONSUL_HTTP_ADDR`` (else ``127.0.0.1:8500``) with
``CONSUL_HTTP_TOKEN`` and the other variables the client reads, and print what ``consul kv`` prints:
``kv export`` the same JSON (tab-indented, ``<>&`` escaped as Go does), ``kv get`` a missing key as
``Error! No key exists at: KEY`` on stderr with exit status 1.

The help text is plain text (no reST markup), the program calls itself by the name it was run
as, and output piped into a reader that stops early (``| head``) ends quietly.
"""

from __future__ import annotations

import argparse
import asyncio
import json
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


class _Failed(Exception):
    """A kv command's error, printed to stderr as it is; exit status 1."""


def _go_json(entries: list[dict[str, Any]]) -> str:
    """``json.MarshalIndent(entries, "", "\\t")`` as Go prints it: UTF-8, ``<``, ``>``, ``&``,
    U+2028 and U+2029 escaped (they only occur inside strings)."""
    text = json.dumps(entries, indent="\t", ensure_ascii=False)
    for char in "<>&\u2028\u2029":
        text = text.replace(char, f"\\u{ord(char):04x}")
    return text


def _key(key: str) -> str:
    # As consul kv does: keys cannot start with "/", so a leading one is dropped for the user.
    return key[1:] if key.startswith("/") else key


def _read_import(source: str) -> Any:
    """The entries of ``kv import SOURCE``: a file, ``-`` (stdin) or ``@file`` (consul's)."""
    try:
        if source == "-":
            data = sys.stdin.read()
        else:
            with open(source.removeprefix("@"), encoding="utf-8") as file:
                data = file.read()
    except OSError as exc:
        raise _Failed(f"Error! Failed to read {source}: {exc.strerror or exc}") from None
    try:
        return json.loads(data)
    except ValueError as exc:
        raise _Failed(f"Cannot unmarshal data: {exc}") from None


async def kv(args: argparse.Namespace) -> None:
    """Run one ``kv`` command against the agent at CONSUL_HTTP_ADDR."""
    entries: Any = _read_import(args.source) if args.kv == "import" else None
    async with Consul() as client:
        if args.kv == "get":
            entry, _ = await client.kv.get(_key(args.key))
            if entry is None:
                raise _Failed(f"Error! No key exists at: {_key(args.key)}")
            sys.stdout.buffer.write(bytes(entry["Value"] or b"") + b"\n")
        elif args.kv == "put":
            await client.kv.set(_key(args.key), os.fsencode(args.value))
            print(f"Success! Data written to: {_key(args.key)}")
        elif args.kv == "delete":
            await client.kv.delete(_key(args.key))
            print(f"Success! Deleted key: {_key(args.key)}")
        elif args.kv == "ls":
            keys, _ = await client.kv.keys(_key(args.prefix), separator="/")
            for key in keys:
                print(key)
        elif args.kv == "export":
            print(_go_json(await client.kv.export(_key(args.prefix))))
        else:
            try:
                await client.kv.import_(entries)
            except (TypeError, ValueError) as exc:
                raise _Failed(f"Error! {exc}") from None
            for entry in entries:  # as consul kv import reports them
                print(f"Imported: {entry['key']}")


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
    kv = commands.add_parser("kv", help="read and write the KV store, as consul kv does",
                             description="Read and write the KV store of the agent at "
                             "CONSUL_HTTP_ADDR (else " + _DEFAULT_ADDRESS + "), with "
                             "CONSUL_HTTP_TOKEN, as consul kv does.")
    verbs = kv.add_subparsers(dest="kv", required=True, metavar="COMMAND")
    verbs.add_parser("get", help="print the value of KEY (exit 1 if missing)").add_argument("key")
    put = verbs.add_parser("put", help="write VALUE to KEY")
    put.add_argument("key")
    put.add_argument("value", help="the value, as text")
    verbs.add_parser("delete", help="delete KEY").add_argument("key")
    verbs.add_parser("ls", help="list the keys under PREFIX, one folder level").add_argument(
        "prefix", nargs="?", default="")
    verbs.add_parser("export", help="print the entries under PREFIX as consul kv export's JSON"
                     ).add_argument("prefix", nargs="?", default="")
    verbs.add_parser("import", help="write the entries of consul kv export's JSON").add_argument(
        "source", metavar="FILE", help="the JSON file, or - for stdin")
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
        elif args.command == "kv":
            try:
                asyncio.run(kv(args))
            except _Failed as exc:
                print(exc, file=sys.stderr)
                return 1
            except ConsulError as exc:
                print(f"Error! {exc}", file=sys.stderr)
                return 1
        return 0

    return exit_quietly_on_broken_pipe(run)


if __name__ == "__main__":
    sys.exit(main())
