"""The benchmark cases. Each runs in the client process, against a server in another process.

``python -m benchmarks.cases '<spec as JSON>'`` runs one case in a fresh interpreter and prints
its result as one JSON line; the runner starts one such process per case, so that each case's
peak RSS is its own and a watch case measures one client's memory alone.

Call cases (``kv.get``, ``kv.set``, ``health.service``) interleave the clients batch by batch in
one process (A, B, C, then B, C, A, ...) against the same server, and report per client the
median over batches of CPU time per call (``getrusage(RUSAGE_SELF)`` of this process: the server
is another one), p50/p99 latency and requests per second; and per pair, the median of the
per-batch CPU ratios, so that drift of the machine cancels out.

Every loop is bounded in count and in time.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import json
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .clients import _CONTENT_LENGTH, BenchClient, RawClient, index_of, make
from .common import (
    INSTANCES,
    KEY_GET,
    KEY_SET,
    KEY_WATCH,
    SERVICE,
    VALUE,
    cpu_seconds,
    median,
    peak_rss_mib,
    percentile,
    raise_fd_limit,
    registration,
    rss_bytes,
)

Op = Callable[[], Awaitable[Any]]


# -- talking to the server's control listener, without aiohttp ----------------------------------

async def control_stats(control: str) -> dict[str, Any]:
    """``GET <control>/stats`` over a plain asyncio stream (no client session to skew memory)."""
    parts = urlsplit(control)
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection(parts.hostname, parts.port), 10)
    try:
        writer.write(b"GET /stats HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        answer = await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    return dict(json.loads(answer.partition(b"\r\n\r\n")[2]))


async def wait_parked(control: str, count: int, timeout: float, poll: float = 0.002) -> int:
    """Wait until the server holds at least ``count`` blocking reads; return how many."""
    deadline = time.monotonic() + timeout
    while True:
        parked = int((await control_stats(control))["parked"])
        if parked >= count:
            return parked
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {parked} of {count} blocking reads parked after {timeout}s")
        await asyncio.sleep(poll)


# -- interleaved call batches -------------------------------------------------------------------

@dataclass
class Batch:
    calls: int
    wall: float
    cpu: float
    latencies: list[float] = field(repr=False)

    @property
    def cpu_per_call(self) -> float:
        return self.cpu / self.calls

    @property
    def rps(self) -> float:
        return self.calls / self.wall if self.wall else float("nan")


async def run_batch(op: Op, calls: int, concurrency: int) -> Batch:
    """``calls`` calls of ``op``, ``concurrency`` at a time; CPU and wall time around the lot."""
    latencies: list[float] = []
    record = latencies.append
    clock = time.perf_counter

    async def worker(count: int) -> None:
        for _ in range(count):
            started = clock()
            await op()
            record(clock() - started)

    gc.collect()
    cpu0, wall0 = cpu_seconds(), clock()
    if concurrency <= 1:
        await worker(calls)
    else:
        share, extra = divmod(calls, concurrency)
        await asyncio.gather(*(worker(share + (i < extra)) for i in range(concurrency)))
    wall, cpu = clock() - wall0, cpu_seconds() - cpu0
    return Batch(calls, wall, cpu, latencies)


def _ops(client: BenchClient, case: str) -> Op:
    if case == "kv.get":
        return lambda: client.kv_get(KEY_GET)
    if case == "kv.set":
        return lambda: client.kv_set(KEY_SET, VALUE)
    if case == "health.service":
        return lambda: client.health_service(SERVICE)
    raise ValueError(f"unknown call case {case!r}")


async def _prepare(spec: dict[str, Any]) -> None:
    """Give the server what the case reads (the dev agent starts empty)."""
    if spec["server"] != "agent":
        return
    from aioconsul import Consul

    async with Consul(spec["address"]) as consul:
        await consul.kv.set(KEY_GET, VALUE)
        if spec["case"] == "health.service":
            entries, _ = await consul.health.service(SERVICE)
            if len(entries) < INSTANCES:
                for i in range(INSTANCES):
                    await consul.catalog.register(registration(i))


def _check(case: str, client: str, result: tuple[Any, ...] | bool) -> None:
    """Every client must have decoded the same thing."""
    if case == "kv.get":
        entry, index = result  # type: ignore[misc]
        assert entry["Value"] == VALUE and index > 0, result
    elif case == "kv.set":
        assert result is True, result
    else:
        nodes, index = result  # type: ignore[misc]
        # (discovery-client's health read returns no index: see benchmarks.clients.)
        assert len(nodes) == INSTANCES and (index > 0 or client == "discovery-client"), len(nodes)


async def run_calls(spec: dict[str, Any]) -> dict[str, Any]:
    """One call case, the clients interleaved batch by batch."""
    case, concurrency = spec["case"], int(spec.get("concurrency", 1))
    rounds, batch_seconds = int(spec["rounds"]), float(spec["batch_seconds"])
    await _prepare(spec)
    clients = {name: make(name, spec["address"]) for name in spec["clients"]}
    try:
        ops = {name: _ops(client, case) for name, client in clients.items()}
        warmup, probe_calls = int(spec.get("warmup", 20)), int(spec.get("probe", 50))
        slowest = 0.0
        for name, op in ops.items():
            _check(case, name, await op())
            warm = await run_batch(op, max(concurrency, warmup), concurrency)  # connections
            # The batch size comes from a second, warm batch (or, with probe 0, the first).
            probe = await run_batch(op, max(concurrency, probe_calls), concurrency) \
                if probe_calls else warm
            slowest = max(slowest, probe.wall / probe.calls)
        calls = int(batch_seconds / slowest) if slowest else concurrency
        calls = max(concurrency, int(spec.get("min_calls", 20)),
                    min(calls, int(spec.get("max_calls", 20_000))))
        batches: dict[str, list[Batch]] = {name: [] for name in ops}
        names = list(ops)
        deadline = time.monotonic() + float(spec.get("time_limit", 120))
        for r in range(rounds):
            order = names[r % len(names):] + names[: r % len(names)]
            for name in order:
                batches[name].append(await run_batch(ops[name], calls, concurrency))
            if time.monotonic() > deadline:
                break
    finally:
        for client in clients.values():
            await client.aclose()
    return {**_summary(batches), "calls_per_batch": calls, "batches": len(batches[names[0]]),
            "peak_rss_mib": peak_rss_mib()}


#: What each client's CPU is compared against, batch by batch: the per-batch ratio
#: ``<client>/<base>`` of every client to each of these that ran.
BASES = ("naive", "raw", "floor", "py-consul", "discovery-client")


def _summary(batches: dict[str, list[Batch]]) -> dict[str, Any]:
    clients = {}
    for name, runs in batches.items():
        latencies = [x for run in runs for x in run.latencies]
        clients[name] = {
            "cpu_us": median([run.cpu_per_call for run in runs]) * 1e6,
            "p50_ms": percentile(latencies, 50) * 1e3,
            "p99_ms": percentile(latencies, 99) * 1e3,
            "rps": median([run.rps for run in runs]),
            "calls": sum(run.calls for run in runs),
        }
    ratios = {}
    for b in BASES:
        for a in batches:
            if a == b or b not in batches:
                continue
            pairs = list(zip(batches[a], batches[b], strict=False))
            ratios[f"{a}/{b}"] = {
                "cpu": median([x.cpu_per_call / y.cpu_per_call for x, y in pairs]),
                "wall": median([y.rps / x.rps for x, y in pairs]),
            }
    return {"clients": clients, "ratios": ratios}


# -- write-to-watcher latency -------------------------------------------------------------------

async def run_latency(spec: dict[str, Any]) -> dict[str, Any]:
    """A blocking read woken by a write: from just before the PUT is sent to the decoded new
    value in the watcher's hands. The read is parked at the server before each write."""
    rounds, samples = int(spec["rounds"]), int(spec["samples"])
    control = spec["control"]
    writer = RawClient(spec["address"])
    clients = {name: make(name, spec["address"]) for name in spec["clients"]}
    results: dict[str, list[float]] = {name: [] for name in clients}
    counter = 0
    try:
        await writer.kv_set(KEY_WATCH, b"start")
        deadline = time.monotonic() + float(spec.get("time_limit", 120))
        names = list(clients)
        for r in range(rounds):
            order = names[r % len(names):] + names[: r % len(names)]
            for name in order:
                client = clients[name]
                _, index = await client.kv_get(KEY_WATCH)
                for _ in range(samples):
                    counter += 1
                    value = f"v{counter}".encode()

                    async def blocked(client: BenchClient = client, index: int = index) -> Any:
                        entry, new = await client.kv_get_blocking(KEY_WATCH, index, "30s")
                        return entry, new, time.perf_counter()

                    task = asyncio.ensure_future(blocked())
                    await wait_parked(control, 1, 10)
                    started = time.perf_counter()
                    await writer.kv_set(KEY_WATCH, value)
                    entry, index, woken = await asyncio.wait_for(task, 30)
                    assert entry["Value"] == value, (entry, value)
                    results[name].append(woken - started)
            if time.monotonic() > deadline:
                break
    finally:
        for client in (writer, *clients.values()):
            await client.aclose()
    return {"clients": {name: {"p50_ms": percentile(lat, 50) * 1e3,
                               "p99_ms": percentile(lat, 99) * 1e3, "samples": len(lat)}
                        for name, lat in results.items()},
            "peak_rss_mib": peak_rss_mib()}


# -- N concurrent watches -----------------------------------------------------------------------

def _collections() -> int:
    """Garbage collections run so far in this process, all generations."""
    return sum(generation["collections"] for generation in gc.get_stats())


async def control_connections(control: str) -> int:
    """How many connections the server holds open (its ``/connections``; -1: unknown)."""
    parts = urlsplit(control)
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection(parts.hostname, parts.port), 10)
    try:
        writer.write(b"GET /connections HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        answer = await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    return int(json.loads(answer.partition(b"\r\n\r\n")[2])["connections"])


async def run_watches(spec: dict[str, Any]) -> dict[str, Any]:
    """``n`` watches of one key by one client: RSS per watch once all are parked, then
    ``wakes`` writes, each timed until every watcher holds the new value (fan-out).

    ``watches.shared``: the same with aioconsul's shared watches, ``n`` subscribers of one
    blocking read. Set up once every subscriber has its first value and the read is parked;
    reported per subscriber: the client's RSS, and the connections the server holds for the
    client (the server's count beside the writer's own connection)."""
    name, n, wakes = spec["client"], int(spec["n"]), int(spec["wakes"])
    shared = spec["case"] == "watches.shared"
    control, timeout = spec["control"], float(spec.get("time_limit", 300))
    writer = RawClient(spec["address"])
    await writer.kv_set(KEY_WATCH, b"w0")
    baseline = await control_connections(control)  # the writer's
    client = make(name, spec["address"])
    await client.kv_get(KEY_WATCH)  # the client's session, connector and imports exist
    gc.collect()
    rss0 = rss_bytes()
    gate = asyncio.Semaphore(256)  # connect a few hundred at a time, as a real fleet ramps up
    woken: list[float] = []
    expected: list[bytes] = [b"w0"]
    all_woken = asyncio.Event()
    ready = 0
    wrong = 0

    async def watcher() -> None:
        nonlocal wrong, ready
        items = (client.shared_watch if shared else client.watch)(KEY_WATCH, "300s")
        try:
            async with gate:
                await items.__anext__()
            ready += 1
            async for item in items:
                woken.append(time.perf_counter())
                if item[0]["Value"] != expected[-1] or index_of(item) <= 0:
                    wrong += 1
                if len(woken) >= n:
                    all_woken.set()
        finally:
            await items.aclose()  # type: ignore[attr-defined]

    async def all_parked() -> int:
        """Every watcher waits (parked at the server, or on the shared read parked there)."""
        if not shared:
            return await wait_parked(control, n, timeout, poll=0.05)
        deadline = time.monotonic() + timeout
        while ready < n:
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {ready} of {n} subscribers had a value")
            await asyncio.sleep(0.01)
        return await wait_parked(control, 1, timeout, poll=0.01)

    started = time.perf_counter()
    tasks = [asyncio.ensure_future(watcher()) for _ in range(n)]
    result: dict[str, Any] = {"client": name, "n": n}
    try:
        result["held"] = await all_parked()
        result["setup_s"] = time.perf_counter() - started
        gc.collect()
        result["rss_kib_per_watch"] = (rss_bytes() - rss0) / n / 1024
        held = await control_connections(control)
        if held >= 0 and baseline >= 0:
            result["connections"] = held - baseline
            result["connections_per_watch"] = (held - baseline) / n
        fanouts, p50s, cpus, collections = [], [], [], []
        for w in range(1, wakes + 1):
            woken.clear()
            all_woken.clear()
            expected.append(f"w{w}".encode())
            gc0 = _collections()
            cpu0, t0 = cpu_seconds(), time.perf_counter()
            await writer.kv_set(KEY_WATCH, expected[-1])
            await asyncio.wait_for(all_woken.wait(), timeout)
            cpus.append((cpu_seconds() - cpu0) / n)
            collections.append(_collections() - gc0)
            fanouts.append(max(woken) - t0)
            p50s.append(median([x - t0 for x in woken]))
            await wait_parked(control, 1 if shared else n, timeout, poll=0.05)  # blocking again
        result.update(fanout_ms=median(fanouts) * 1e3, wake_p50_ms=median(p50s) * 1e3,
                      cpu_us_per_wake=median(cpus) * 1e6, gc_per_wake=median(collections),
                      wrong=wrong,
                      peak_rss_mib=peak_rss_mib())
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await client.aclose()
        await writer.aclose()
    return result


# -- the dev agent's throughput -----------------------------------------------------------------

class _Reader(asyncio.Protocol):
    """A keep-alive HTTP/1.1 load generator connection: one request in flight, the next sent
    as soon as the answer is whole. Costs the client a few µs per request, so the server is
    what saturates."""

    def __init__(self, request: bytes, stop_at: float, done: asyncio.Future[None]) -> None:
        self.request, self.stop_at, self.done = request, stop_at, done
        self.buffer = bytearray()
        self.need = -1
        self.count = self.errors = 0
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.transport.write(self.request)  # type: ignore[union-attr]

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        while True:
            if self.need < 0:
                end = buffer.find(b"\r\n\r\n")
                if end < 0:
                    return
                if not buffer.startswith(b"HTTP/1.1 200"):
                    self.errors += 1
                match = _CONTENT_LENGTH.search(buffer, 0, end + 2)
                self.need = end + 4 + (int(match.group(1)) if match else 0)
            if len(buffer) < self.need:
                return
            del buffer[: self.need]
            self.need = -1
            self.count += 1
            if time.monotonic() >= self.stop_at:
                assert self.transport is not None
                self.transport.close()
                return
            assert self.transport is not None
            self.transport.write(self.request)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_result(None)


async def run_throughput(spec: dict[str, Any]) -> dict[str, Any]:
    """KV reads per second the dev agent serves, per CPU-second of its (single-threaded)
    process, driven by a minimal keep-alive load generator."""
    parts = urlsplit(spec["address"])
    seconds, connections = float(spec["seconds"]), int(spec["connections"])
    from aioconsul import Consul

    async with Consul(spec["address"]) as consul:
        await consul.kv.set(KEY_GET, VALUE)
    request = (f"GET /v1/kv/{KEY_GET} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               f"User-Agent: bench\r\n\r\n").encode()
    loop = asyncio.get_running_loop()
    before = await control_stats(spec["control"])
    cpu0, t0 = cpu_seconds(), time.perf_counter()
    stop_at = time.monotonic() + seconds
    readers = []
    for _ in range(connections):
        done: asyncio.Future[None] = loop.create_future()
        _, reader = await loop.create_connection(
            functools.partial(_Reader, request, stop_at, done), parts.hostname, parts.port)
        readers.append(reader)
    await asyncio.wait_for(asyncio.gather(*(r.done for r in readers)), seconds + 30)
    wall, client_cpu = time.perf_counter() - t0, cpu_seconds() - cpu0
    after = await control_stats(spec["control"])
    reads = sum(r.count for r in readers)
    server_cpu = after["cpu"] - before["cpu"]
    return {"reads": reads, "errors": sum(r.errors for r in readers), "seconds": wall,
            "reads_per_s": reads / wall, "reads_per_cpu_s": reads / server_cpu,
            "server_cpu_share": server_cpu / wall, "client_cpu_us_per_read":
                client_cpu / reads * 1e6 if reads else float("nan"),
            "connections": connections}


RUNNERS: dict[str, Callable[[dict[str, Any]], Coroutine[Any, Any, dict[str, Any]]]] = {
    "kv.get": run_calls, "kv.set": run_calls, "health.service": run_calls,
    "watch.latency": run_latency, "watches": run_watches, "watches.shared": run_watches,
    "agent.throughput": run_throughput,
}


LOOPS = ("asyncio", "uvloop")


async def _run_and_name_the_loop(spec: dict[str, Any]) -> dict[str, Any]:
    result = await RUNNERS[spec["case"]](spec)
    loop = type(asyncio.get_running_loop())
    result["loop_class"] = f"{loop.__module__}.{loop.__qualname__}"
    return result


def run(spec: dict[str, Any]) -> dict[str, Any]:
    """Run one case in this process, in its own event loop (``spec["loop"]``: ``asyncio``, the
    default, or ``uvloop``); return its result."""
    raise_fd_limit()
    loop = spec.get("loop", "asyncio")
    if loop not in LOOPS:
        raise ValueError(f"loop: expected one of {', '.join(LOOPS)}, got {loop!r}")
    if loop == "uvloop":
        import uvloop

        return uvloop.run(_run_and_name_the_loop(spec))
    return asyncio.run(_run_and_name_the_loop(spec))


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m benchmarks.cases '<case spec as JSON>'", file=sys.stderr)
        return 2
    result = run(json.loads(args[0]))
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
