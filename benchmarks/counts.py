"""``python -m benchmarks.counts``: deterministic costs of a call and of a watch, by client.

Timings on a busy machine move from run to run; these do not (or barely):

* **calls per op**: Python function calls under cProfile for one ``kv.get`` / ``kv.set``
  (C functions cProfile sees included), against the fixed-response server;
* **garbage per op**: objects that only the cyclic garbage collector frees (the collector is
  off during the ops, ``gc.collect()`` counts them after): what makes a busy client collect;
* **instructions per op** (``--instructions``, needs valgrind): user-space CPU instructions
  of the client process per ``kv.get`` / ``kv.set`` and per watch wake-up, counted by
  ``valgrind --tool=cachegrind`` in two runs of different lengths (their difference over the
  difference of calls or wake-ups, so that start-up and imports cancel out). What CPU time
  measures, less the kernel's share (the same for every client: the same syscalls) and the
  machine's noise;
* **per parked watch**: ``tracemalloc`` bytes and blocks, and the objects ``gc.get_objects()``
  finds, for N watches of one key parked at the server (the biggest kinds of object listed),
  against the bare aiohttp loop (``raw``);
* **per wake-up**: function calls and garbage per watch wake-up, a write fanning out to every
  watch until all of them are parked again (the server's ``/stats`` polled meanwhile, a few
  calls per wake-up, the same for every client).

The numbers are the client process's own (the server is another process). They are not the
targets' measures (CPU and RSS: ``python -m benchmarks``), but what moves them, and a change
that lowers these without raising anything else is a change the interleaved runs will show.

    python -m benchmarks.counts                    # calls, then 1,000 watches
    python -m benchmarks.counts --loop uvloop --watches 2000 --only watches
    python -m benchmarks.counts --only calls --instructions
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import json
import os
import pstats
import re
import subprocess
import sys
import time
import tracemalloc
from collections import Counter
from typing import Any

from .cases import _ops, wait_parked
from .clients import RawClient, available, index_of, make
from .common import KEY_WATCH, raise_fd_limit
from .servers import ServerProcess, child_env


def _profiled_calls(profile: cProfile.Profile) -> int:
    return int(pstats.Stats(profile).total_calls)  # type: ignore[attr-defined]


async def count_calls(address: str, client_name: str, case: str, calls: int) -> dict[str, Any]:
    client = make(client_name, address)
    try:
        op = _ops(client, case)
        for _ in range(200):  # connections, caches, imports
            await op()
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(calls):
            await op()
        profile.disable()
        gc.collect()
        gc.disable()
        try:
            for _ in range(calls):
                await op()
            garbage = gc.collect()
        finally:
            gc.enable()
        return {"client": client_name, "case": case,
                "calls_per_op": _profiled_calls(profile) / calls,
                "garbage_per_op": garbage / calls}
    finally:
        await client.aclose()


async def _worker(address: str, client_name: str, case: str, count: int) -> None:
    """What is counted under valgrind: a warm-up, then ``count`` ops; or, for the case
    ``watches:<n>:<control>``, n watches parked, then ``count`` wake-ups of all of them."""
    if case.startswith("watches:"):
        _, n, control = case.split(":", 2)
        await _wake_ups(address, control, client_name, int(n), count)
        return
    client = make(client_name, address)
    try:
        op = _ops(client, case)
        for _ in range(200 + count):
            await op()
    finally:
        await client.aclose()


async def _wake_ups(address: str, control: str, client_name: str, n: int, wakes: int) -> None:
    writer = RawClient(address)
    await writer.kv_set(KEY_WATCH, b"w0")
    client = make(client_name, address)
    woken = 0
    all_woken = asyncio.Event()

    async def watcher() -> None:
        nonlocal woken
        async for _ in client.watch(KEY_WATCH, "300s"):
            woken += 1
            if woken >= n:
                all_woken.set()

    tasks = [asyncio.ensure_future(watcher()) for _ in range(n)]
    try:
        for w in range(wakes + 1):  # the first values, then the wake-ups counted
            await asyncio.wait_for(all_woken.wait(), 600)
            await wait_parked(control, n, 600, poll=0.05)
            if w < wakes:
                woken = 0
                all_woken.clear()
                await writer.kv_set(KEY_WATCH, f"w{w + 1}".encode())
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await client.aclose()
        await writer.aclose()


_IREFS = re.compile(rb"I\s+refs:\s+([\d,]+)")


def _instructions_of(address: str, client_name: str, case: str, calls: int, loop: str) -> int:
    env = {**child_env(), "PYTHONHASHSEED": "0"}
    command = ["valgrind", "--tool=cachegrind", "--cache-sim=no",
               "--cachegrind-out-file=/dev/null", sys.executable, "-m", "benchmarks.counts",
               "--worker", address, client_name, case, str(calls), "--loop", loop]
    done = subprocess.run(command, capture_output=True, env=env, check=True, timeout=900,
                          cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    found = _IREFS.search(done.stderr)
    if found is None:
        raise RuntimeError(f"no instruction count from valgrind: {done.stderr[-500:]!r}")
    return int(found.group(1).replace(b",", b""))


def count_instructions(address: str, client_name: str, case: str, calls: int,
                       loop: str, short_run: int = 0) -> float:
    """User-space instructions per op (two runs under valgrind: their difference)."""
    short = _instructions_of(address, client_name, case, short_run, loop)
    long = _instructions_of(address, client_name, case, short_run + calls, loop)
    return (long - short) / calls


def _kinds() -> Counter[str]:
    return Counter(type(o).__qualname__ for o in gc.get_objects())


async def count_watches(address: str, control: str, client_name: str, n: int,
                        wakes: int) -> dict[str, Any]:
    writer = RawClient(address)
    await writer.kv_set(KEY_WATCH, b"w0")
    client = make(client_name, address)
    await client.kv_get(KEY_WATCH)  # session, connector, imports
    expected = [b"w0"]
    woken = 0
    all_woken = asyncio.Event()

    async def watcher() -> None:
        nonlocal woken
        items = client.watch(KEY_WATCH, "300s")
        try:
            async for item in items:
                assert item[0]["Value"] == expected[-1] and index_of(item) > 0
                woken += 1
                if woken >= n:
                    all_woken.set()
        finally:
            await items.aclose()  # type: ignore[attr-defined]

    gc.collect()
    kinds0 = _kinds()
    tracemalloc.start()
    base_bytes = tracemalloc.get_traced_memory()[0]
    base_blocks = sys.getallocatedblocks()
    tasks = [asyncio.ensure_future(watcher()) for _ in range(n)]
    result: dict[str, Any] = {"client": client_name, "n": n}
    try:
        await wait_parked(control, n, 300, poll=0.05)
        await asyncio.wait_for(all_woken.wait(), 300)  # every first value is in
        await asyncio.sleep(0.2)  # each one's next read sent
        await wait_parked(control, n, 300, poll=0.05)
        gc.collect()
        result["bytes_per_watch"] = (tracemalloc.get_traced_memory()[0] - base_bytes) / n
        tracemalloc.stop()
        result["blocks_per_watch"] = (sys.getallocatedblocks() - base_blocks) / n
        kinds = _kinds()
        kinds.subtract(kinds0)
        result["objects_per_watch"] = sum(kinds.values()) / n
        result["kinds_per_watch"] = {kind: count / n for kind, count in kinds.most_common(16)}
        profile = cProfile.Profile()
        garbage = 0
        for w in range(1, wakes + 1):
            woken = 0
            all_woken.clear()
            expected.append(f"w{w}".encode())
            gc.collect()
            gc.disable()
            try:
                profile.enable()
                await writer.kv_set(KEY_WATCH, expected[-1])
                await asyncio.wait_for(all_woken.wait(), 300)
                await wait_parked(control, n, 300, poll=0.05)  # blocking again
                profile.disable()
                garbage += gc.collect()
            finally:
                gc.enable()
        result["calls_per_wake"] = _profiled_calls(profile) / (n * wakes)
        result["garbage_per_wake"] = garbage / (n * wakes)
    finally:
        if tracemalloc.is_tracing():
            tracemalloc.stop()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await client.aclose()
        await writer.aclose()
    return result


def _print_table(rows: list[dict[str, Any]], columns: list[str]) -> None:
    widths = [max(len(c), *(len(_fmt(r.get(c))) for r in rows)) for c in columns]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    for row in rows:
        print("  ".join(_fmt(row.get(c)).ljust(w) for c, w in zip(columns, widths, strict=True)))


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) >= 100 else f"{value:.2f}"
    return "-" if value is None else str(value)


async def _main(args: argparse.Namespace) -> dict[str, Any]:
    clients = [c for c in args.clients.split(",") if c in available()]
    out: dict[str, Any] = {"loop": args.loop}
    with ServerProcess("fixed") as server:
        if "calls" in args.only:
            rows = [await count_calls(server.address, client, case, args.calls)
                    for case in ("kv.get", "kv.set") for client in clients]
            columns = ["case", "client", "calls_per_op", "garbage_per_op"]
            if args.instructions:
                for row in rows:
                    row["kinstructions_per_op"] = await asyncio.to_thread(
                        count_instructions, server.address, row["client"], row["case"],
                        args.instructions, args.loop) / 1000
                columns.append("kinstructions_per_op")
            out["calls"] = rows
            _print_table(rows, columns)
            print()
        if "watches" in args.only:
            rows = []
            for client in ("raw", "aioconsul"):
                rows.append(await count_watches(server.address, server.control, client,
                                                args.watches, args.wakes))
                await asyncio.sleep(0.5)  # the server lets go of the closed connections
            columns = ["client", "n", "bytes_per_watch", "blocks_per_watch",
                       "objects_per_watch", "calls_per_wake", "garbage_per_wake"]
            if args.instructions:
                # Fewer watches under valgrind (some 50 times slower): 1 wake-up against 3.
                n = min(args.watches, 500)
                for row in rows:
                    row["kinstructions_per_wake"] = await asyncio.to_thread(
                        count_instructions, server.address, row["client"],
                        f"watches:{n}:{server.control}", 2, args.loop, 1) / n / 1000
                columns.append("kinstructions_per_wake")
            out["watches"] = rows
            _print_table(rows, columns)
            for row in rows:
                kinds = ", ".join(f"{k} {v:.2f}" for k, v in row["kinds_per_watch"].items())
                print(f"  {row['client']} objects per watch: {kinds}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.counts")
    parser.add_argument("--clients", default="raw,naive,py-consul,aioconsul",
                        help="call clients, comma-separated")
    parser.add_argument("--calls", type=int, default=2_000)
    parser.add_argument("--watches", type=int, default=1_000)
    parser.add_argument("--wakes", type=int, default=3)
    parser.add_argument("--only", default="calls,watches")
    parser.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio")
    parser.add_argument("--instructions", type=int, nargs="?", const=1_000, default=0,
                        metavar="CALLS", help="also count instructions per call under valgrind "
                        "(over CALLS calls, 1,000 by default)")
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    raise_fd_limit()
    started = time.monotonic()
    run: Any = asyncio.run
    if args.loop == "uvloop":
        import uvloop

        run = uvloop.run
    if args.worker:
        address, client_name, case, calls = args.worker
        run(_worker(address, client_name, case, int(calls)))
        return 0
    result = run(_main(args))
    print(f"\n({time.monotonic() - started:.0f} s, loop {args.loop})")
    if args.json:
        with open(args.json, "w") as out:
            json.dump(result, out, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
