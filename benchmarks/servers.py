"""The servers the benchmarks talk to, each run in its own process, and how to start and stop them.

``python -m benchmarks.servers fixed`` serves the *fixed-response* server: a minimal aiohttp
server with canned, Consul-shaped answers (``X-Consul-Index`` and the other headers included) for
exactly the requests the suite sends, so that what is measured is the client's own cost.
It still blocks like Consul where the suite needs it: a ``GET /v1/kv/<key>?index=N`` with ``N`` at
or past the key's index waits (``wait``, 5 min by default) until a ``PUT`` to that key.

``python -m benchmarks.servers agent`` serves aioconsul's embedded dev agent
(:class:`aioconsul.testing.DevAgent`), through its public API only.

Each prints one JSON line, ``{"address", "control", "start_ms", "pid"}``, once it accepts
connections, then serves until SIGTERM or SIGINT. ``control`` is a second listener answering
``GET /stats`` with the server's parked blocking queries and its own CPU time, so the client
side can wait until every watch is parked and count the server's CPU per request, and
``GET /connections`` with how many TCP connections the server holds open (read from
``/proc/net/tcp``: established, on the server's own port).

``python -m benchmarks.servers startup`` times the dev agent's start in a fresh interpreter.

Only 127.0.0.1 is ever bound or connected to. Nothing here imports aiohttp at module level, so
the start-up timing sees the imports it causes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from types import TracebackType
from typing import Any

from .common import (
    KEY_GET,
    KEY_WATCH,
    ROOT,
    VALUE,
    cpu_seconds,
    dumps,
    health_instances,
    kv_entry,
    median,
    raise_fd_limit,
)

HOST = "127.0.0.1"
_BACKLOG = 4096


# -- the fixed-response server ------------------------------------------------------------------

def _wait_seconds(text: str) -> float:
    """A ``wait`` parameter as the suite's clients send it (``300s``, ``5m``, ``30000ms``)."""
    for unit, scale in (("ms", 0.001), ("s", 1.0), ("m", 60.0), ("h", 3600.0)):
        if text.endswith(unit) and text[: -len(unit)].isdigit():
            return min(600.0, int(text[: -len(unit)]) * scale)
    return 300.0


class _Key:
    """One stored key: its index and the exact answer to a read of it, built once per write."""

    __slots__ = ("body", "headers", "index", "waiters")

    def __init__(self) -> None:
        self.index = 0
        self.body = b""
        self.headers: dict[str, str] = {}
        self.waiters: set[asyncio.Future[None]] = set()


def _meta_headers(index: int) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "Vary": "Accept-Encoding",
        "X-Consul-Default-ACL-Policy": "allow",
        "X-Consul-Index": str(index),
        "X-Consul-KnownLeader": "true",
        "X-Consul-LastContact": "0",
    }


class FixedConsul:
    """The canned answers: KV get/put (blocking on index), health service, 404 otherwise."""

    def __init__(self) -> None:
        self.raft_index = 100
        self.keys: dict[str, _Key] = {}
        self.put(KEY_GET, VALUE)
        self.put(KEY_WATCH, VALUE)
        self.health_body = dumps(health_instances())
        self.health_headers = _meta_headers(200)
        # A KV write's answer carries no index.
        self.put_headers = {"Content-Type": "application/json", "Vary": "Accept-Encoding",
                            "X-Consul-Default-ACL-Policy": "allow"}

    @property
    def parked(self) -> int:
        return sum(len(key.waiters) for key in self.keys.values())

    def release(self) -> None:
        """Answer every parked read now (on shutdown)."""
        for key in self.keys.values():
            for waiter in key.waiters:
                if not waiter.done():
                    waiter.set_result(None)

    def put(self, name: str, value: bytes) -> None:
        self.raft_index += 1
        key = self.keys.get(name)
        if key is None:
            key = self.keys[name] = _Key()
        key.index = self.raft_index
        key.body = dumps(kv_entry(name, value, key.index))
        key.headers = _meta_headers(key.index)
        waiters, key.waiters = key.waiters, set()
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def handle(self, request: Any) -> Any:
        from aiohttp import web

        path = request.path
        if path.startswith("/v1/kv/"):
            name = path[7:]
            if request.method == "PUT":
                self.put(name, await request.read())
                return web.Response(body=b"true", headers=self.put_headers)
            key = self.keys.get(name)
            if key is None:
                return web.Response(status=404, headers=_meta_headers(self.raft_index))
            index = request.query.get("index")
            if index is not None and index.isdigit() and int(index) >= key.index:
                await self._park(key, _wait_seconds(request.query.get("wait", "")))
                key = self.keys[name]
            return web.Response(body=key.body, headers=key.headers)
        if path == "/v1/health/service/web":
            return web.Response(body=self.health_body, headers=self.health_headers)
        return web.Response(status=404, text="Not found")

    async def _park(self, key: _Key, timeout: float) -> None:
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        key.waiters.add(waiter)
        try:
            await asyncio.wait_for(waiter, timeout)
        except asyncio.TimeoutError:
            pass
        finally:
            key.waiters.discard(waiter)


# -- serving ------------------------------------------------------------------------------------

def established(port: int, table: str = "/proc/net/tcp") -> int:
    """How many established TCP connections have ``port`` as their local port (the accepted
    connections of a server listening there); -1 where ``/proc/net/tcp`` cannot be read."""
    try:
        with open(table, encoding="ascii") as lines:
            next(lines, None)  # the header
            count = 0
            for line in lines:
                fields = line.split(None, 4)
                # fields: sl, local "IP:PORT" (hex), remote, state ("01": established), ...
                if len(fields) > 3 and fields[3] == "01" \
                        and int(fields[1].rpartition(":")[2], 16) == port:
                    count += 1
            return count
    except OSError:
        return -1


async def _control(parked: Any, port: int) -> tuple[Any, str]:
    """The ``/stats`` listener: parked blocking queries, CPU seconds and peak RSS of this
    process; ``/connections``: the connections the server holds on ``port``."""
    from aiohttp import web

    from .common import peak_rss_mib

    async def stats(_: Any) -> Any:
        return web.json_response({"parked": parked(), "cpu": cpu_seconds(),
                                  "peak_rss_mib": peak_rss_mib()})

    async def connections(_: Any) -> Any:
        return web.json_response({"connections": established(port)})

    app = web.Application()
    app.router.add_get("/stats", stats)
    app.router.add_get("/connections", connections)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, HOST, 0)
    await site.start()
    return runner, f"http://{HOST}:{runner.addresses[0][1]}"


async def _stop_when_orphaned(stop: asyncio.Event) -> None:
    """Stop serving if the process that started this one is gone (killed without a chance to
    stop its servers), so no server outlives its benchmark run."""
    parent = os.getppid()
    while os.getppid() == parent:
        await asyncio.sleep(1.0)
    stop.set()


async def _serve(kind: str) -> None:
    from aiohttp import web

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    orphaned = asyncio.ensure_future(_stop_when_orphaned(stop))
    started = time.perf_counter()
    if kind == "fixed":
        fixed = FixedConsul()
        runner: Any = web.ServerRunner(web.Server(fixed.handle, handler_cancellation=True),
                                       access_log=None, shutdown_timeout=2.0)
        await runner.setup()
        await web.TCPSite(runner, HOST, 0, backlog=_BACKLOG).start()
        port = runner.addresses[0][1]
        address = f"http://{HOST}:{port}"
        parked = lambda: fixed.parked  # noqa: E731
    else:
        from aioconsul.testing import DevAgent

        agent = await DevAgent(HOST, 0).start()
        address, port = agent.address, agent.port
        parked = lambda: agent.blocking_queries  # noqa: E731
    start_ms = (time.perf_counter() - started) * 1000
    control_runner, control = await _control(parked, port)
    print(json.dumps({"address": address, "control": control, "start_ms": start_ms,
                      "pid": os.getpid()}), flush=True)
    try:
        await stop.wait()
    finally:
        orphaned.cancel()
        await control_runner.cleanup()
        if kind == "fixed":
            fixed.release()
            await runner.cleanup()
        else:
            await agent.stop()


async def _first_answer(port: int) -> None:
    reader, writer = await asyncio.open_connection(HOST, port)
    writer.write(b"GET /v1/status/leader HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    await reader.read()
    writer.close()
    await writer.wait_closed()


async def _startup(repeat: int) -> dict[str, Any]:
    """Time ``DevAgent.start()`` and the first answer, cold (first start in this process) and
    warm (median of the next ``repeat - 1``)."""
    began = time.perf_counter()
    from aioconsul.testing import DevAgent

    import_ms = (time.perf_counter() - began) * 1000
    starts, answers = [], []
    for _ in range(max(1, repeat)):
        agent = DevAgent(HOST, 0)
        t0 = time.perf_counter()
        await agent.start()
        t1 = time.perf_counter()
        await _first_answer(agent.port)
        t2 = time.perf_counter()
        await agent.stop()
        starts.append((t1 - t0) * 1000)
        answers.append((t2 - t0) * 1000)
    return {"import_ms": import_ms, "cold_start_ms": starts[0], "cold_answer_ms": answers[0],
            "warm_start_ms": median(starts[1:]) if repeat > 1 else starts[0],
            "warm_answer_ms": median(answers[1:]) if repeat > 1 else answers[0]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.servers")
    parser.add_argument("kind", choices=("fixed", "agent", "startup"))
    parser.add_argument("--repeat", type=int, default=10, help="startup: how many starts")
    args = parser.parse_args(argv)
    raise_fd_limit()
    if args.kind == "startup":
        print(json.dumps(asyncio.run(_startup(args.repeat))), flush=True)
        return 0
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.kind))
    return 0


# -- the parent's side: start, query, stop ------------------------------------------------------

def child_env() -> dict[str, str]:
    """The environment of every process the suite starts: the repository importable first,
    no proxy (all traffic is to 127.0.0.1), no CONSUL_* settings."""
    env = {name: value for name, value in os.environ.items()
           if not name.startswith("CONSUL_") and name.lower() not in ("http_proxy", "all_proxy")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(ROOT), env.get("PYTHONPATH"))))
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    return env


def read_line(proc: subprocess.Popen[bytes], timeout: float) -> str:
    """The first line ``proc`` prints, or ``RuntimeError`` if it exits or stays silent."""
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    buffer = b""
    while not buffer.endswith(b"\n"):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise RuntimeError(f"{proc.args!r} printed no line within {timeout:g}s")
        ready, _, _ = select.select([proc.stdout], [], [], remaining)
        if ready:
            chunk = os.read(proc.stdout.fileno(), 4096)
            if not chunk:
                raise RuntimeError(f"{proc.args!r} exited ({proc.wait()}) before printing a line")
            buffer += chunk
    return buffer.decode()


def stop_process(proc: subprocess.Popen[Any], grace: float = 5.0) -> None:
    """SIGTERM, then SIGKILL after ``grace`` seconds; always reaps the process."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()


#: Never through a proxy: the control listener is on 127.0.0.1.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class ServerProcess:
    """A server subprocess: ``with ServerProcess("fixed") as server: server.address``."""

    def __init__(self, kind: str, timeout: float = 30.0) -> None:
        if kind not in ("fixed", "agent"):
            raise ValueError(f"kind: expected 'fixed' or 'agent', got {kind!r}")
        self.kind = kind
        self.timeout = timeout
        self.proc: subprocess.Popen[bytes] | None = None
        self.info: dict[str, Any] = {}
        self._stderr: Any = None

    @property
    def address(self) -> str:
        return str(self.info["address"])

    @property
    def control(self) -> str:
        return str(self.info["control"])

    def start(self) -> ServerProcess:
        # Kept open for the server's lifetime (read on failure), closed in __exit__.
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.servers", self.kind], stdout=subprocess.PIPE,
            stderr=self._stderr, cwd=ROOT, env=child_env(),
        )
        try:
            self.info = json.loads(read_line(self.proc, self.timeout))
        except BaseException as exc:
            self.stop()
            raise RuntimeError(f"the {self.kind} server did not start: {exc}\n"
                               f"{self.stderr()}") from None
        return self

    def stats(self) -> dict[str, Any]:
        """The server's ``/stats``: parked blocking queries, CPU seconds, peak RSS."""
        with _DIRECT.open(self.control + "/stats", timeout=10) as answer:
            return dict(json.load(answer))

    def stderr(self) -> str:
        if self._stderr is None or self._stderr.closed:
            return ""
        self._stderr.seek(0)
        return str(self._stderr.read()[-4000:].decode("utf-8", "replace"))

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc)
            self.proc = None

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
        if self._stderr is not None:
            self._stderr.close()


@contextlib.contextmanager
def servers(*kinds: str) -> Iterator[dict[str, ServerProcess]]:
    """Start the named servers, stop every one of them on the way out (errors, Ctrl-C)."""
    started: dict[str, ServerProcess] = {}
    try:
        for kind in kinds:
            started[kind] = ServerProcess(kind).start()
        yield started
    finally:
        for server in started.values():
            server.__exit__(None, None, None)


if __name__ == "__main__":
    sys.exit(main())
