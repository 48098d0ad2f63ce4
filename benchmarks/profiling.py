"""``python -m benchmarks.profiling``: profile one client's calls against the fixed-response server.

Uses pyinstrument when it is installed (``pip install pyinstrument``: a developer tool, not a
dependency of the project), else the standard library's cProfile. Either way the profiler's own
overhead inflates every frame: read the shares, and confirm any gain with ``python -m
benchmarks`` (whose interleaved ratios are what the targets are judged on).

    python -m benchmarks.profiling --client aioconsul --case kv.get --calls 20000
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import importlib.util
import io
import pstats
import sys

from .cases import _ops
from .clients import CLIENTS, make
from .servers import ServerProcess


async def _profile(address: str, client_name: str, case: str, calls: int, tool: str) -> str:
    client = make(client_name, address)
    try:
        op = _ops(client, case)
        for _ in range(min(calls, 500)):  # connections, caches, imports
            await op()
        if tool == "pyinstrument":
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0002, async_mode="disabled")
            profiler.start()
            for _ in range(calls):
                await op()
            profiler.stop()
            return str(profiler.output_text(unicode=False, color=False))
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(calls):
            await op()
        profile.disable()
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(40)
        return out.getvalue()
    finally:
        await client.aclose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profiling")
    parser.add_argument("--client", choices=sorted(CLIENTS), default="aioconsul")
    parser.add_argument("--case", choices=("kv.get", "kv.set", "health.service"),
                        default="kv.get")
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--tool", choices=("auto", "pyinstrument", "cprofile"), default="auto")
    args = parser.parse_args(argv)
    # asyncio reads a socket into a fresh 256 KiB buffer. Until glibc's malloc has freed one
    # block that big, it maps each such buffer from the kernel and unmaps it again: some 20 µs of
    # page faults per read, charged to recv(), which depend on the process's history rather than
    # on the client under study (the call benchmarks run every client in one process, so they
    # share whatever state malloc is in). Freeing one big block first raises glibc's dynamic
    # mmap threshold, so every client profiled here reads into the heap as a long-running one
    # would. (A no-op on other allocators.)
    block = bytearray(512 * 1024)
    del block
    tool = args.tool
    if tool == "auto":
        tool = "pyinstrument" if importlib.util.find_spec("pyinstrument") else "cprofile"
    with ServerProcess("fixed") as server:
        print(asyncio.run(_profile(server.address, args.client, args.case,
                                   max(1, args.calls), tool)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
