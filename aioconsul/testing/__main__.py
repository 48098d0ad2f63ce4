"""Command line: serve a dev agent in the foreground (``python -m aioconsul.testing``).

Prints exactly one line, the agent's address, once it accepts connections, then serves until
SIGINT or SIGTERM, or until ``PUT /v1/agent/leave`` shuts the agent down (``consul agent``
returns 0 when its agent's ShutdownCh closes), and exits 0. It must never print anything else
on stdout: scripts read that line to find the agent.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys

from .agent import DevAgent


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m aioconsul.testing",
        description="Serve an in-memory Consul-compatible dev agent, like consul agent -dev. "
                    "Prints the agent's address once it accepts connections, then serves until "
                    "interrupted (Ctrl-C or SIGTERM) or told to leave (PUT /v1/agent/leave).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8500, help="TCP port, 0 for any (default 8500)")
    parser.add_argument("--node-name", default="aioconsul-dev", help="the agent's node name")
    parser.add_argument("--datacenter", default="dc1", help="the agent's datacenter")
    return parser


async def _serve(args: argparse.Namespace) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    agent = DevAgent(args.host, args.port, node_name=args.node_name, datacenter=args.datacenter)
    async with agent:
        print(agent.address, flush=True)
        interrupted = asyncio.ensure_future(stop.wait())
        left = asyncio.ensure_future(agent.wait_stopped())
        try:
            await asyncio.wait((interrupted, left), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in (interrupted, left):
                waiter.cancel()
            await asyncio.gather(interrupted, left, return_exceptions=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the dev agent until interrupted; returns the exit status.

    A reader of stdout that went away (``| head``) ends it quietly, as the Python docs
    recommend (library/signal.html, "Note on SIGPIPE"): stdout is pointed at devnull so the
    interpreter's flush at exit cannot fail again, and the status is 1.
    """
    try:
        try:
            args = _parser().parse_args(argv)
        except SystemExit as exc:  # --help, or a usage error
            sys.stdout.flush()
            return exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 2
        try:
            return asyncio.run(_serve(args))
        except KeyboardInterrupt:  # interrupted before the signal handlers were installed
            return 0
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
