"""Starting, stopping and reaching a DevAgent: TCP, unix socket, TLS, and the CLI."""

from __future__ import annotations

import asyncio
import os
import signal
import ssl
import sys
import tempfile
import time
from collections.abc import Iterator

import aiohttp
import pytest
import trustme

from aioconsul.testing import DevAgent

from .conftest import Api


async def test_start_time_is_reported(record_property: pytest.RecordProperty) -> None:
    started = time.perf_counter()
    agent = await DevAgent().start()
    elapsed = time.perf_counter() - started
    await agent.stop()
    record_property("dev_agent_start_seconds", elapsed)
    print(f"DevAgent started in {elapsed * 1000:.2f} ms")


async def test_address_names_the_bound_port() -> None:
    async with DevAgent() as agent:
        assert agent.port > 0
        assert agent.host == "127.0.0.1"
        assert agent.address == f"http://127.0.0.1:{agent.port}"
        assert agent.running


async def test_address_before_start_is_an_error() -> None:
    with pytest.raises(RuntimeError):
        _ = DevAgent().address


async def test_start_and_stop_are_idempotent(http: aiohttp.ClientSession) -> None:
    agent = DevAgent()
    assert await agent.start() is agent
    port = agent.port
    await agent.start()
    assert agent.port == port
    await agent.stop()
    await agent.stop()
    assert not agent.running
    with pytest.raises(aiohttp.ClientConnectionError):
        await http.get(agent.address + "/v1/status/leader")


async def test_a_new_agent_can_take_the_same_port_right_away(http: aiohttp.ClientSession) -> None:
    first = await DevAgent().start()
    api = Api(http, first)
    await api.put("/v1/kv/k", b"v")  # leaves a keep-alive connection open
    port = first.port
    await first.stop()
    async with DevAgent(port=port) as second:
        reply = await Api(http, second).get("/v1/kv/k")
        assert reply.status == 404  # every agent starts empty


async def test_a_stopped_agent_restarts_empty(http: aiohttp.ClientSession) -> None:
    agent = DevAgent()
    async with agent:
        await Api(http, agent).put("/v1/kv/k", b"v")
    async with agent:
        assert (await Api(http, agent).get("/v1/kv/k")).status == 404


async def test_stop_leaves_no_task_behind() -> None:
    before = asyncio.all_tasks()
    async with aiohttp.ClientSession() as http:
        async with DevAgent() as agent:
            pending = asyncio.ensure_future(Api(http, agent).get("/v1/kv/k?index=1&wait=1m"))
            while not agent.blocking_queries:
                await asyncio.sleep(0.005)
        assert (await pending).status == 404
    assert asyncio.all_tasks() - before == set()


@pytest.fixture
def socket_path() -> Iterator[str]:
    # A short directory: unix socket paths are limited to about 100 bytes.
    with tempfile.TemporaryDirectory(prefix="aioconsul-") as tmp:
        yield os.path.join(tmp, "consul.sock")


async def test_serves_on_a_unix_socket(socket_path: str) -> None:
    async with DevAgent(unix_path=socket_path) as agent:
        assert agent.address == f"unix://{socket_path}"
        assert agent.port == 0
        connector = aiohttp.UnixConnector(path=socket_path)
        async with aiohttp.ClientSession(connector=connector) as http:
            async with http.put("http://localhost/v1/kv/over-unix", data=b"v") as resp:
                assert await resp.json() is True
            async with http.get("http://localhost/v1/kv/over-unix?raw") as resp:
                assert await resp.read() == b"v"
    assert not os.path.exists(socket_path)


async def test_serves_https_with_an_ssl_context() -> None:
    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_ctx)
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)
    async with DevAgent(ssl_context=server_ctx) as agent:
        assert agent.address.startswith("https://127.0.0.1:")
        async with aiohttp.ClientSession() as http:
            url = agent.address + "/v1/status/leader"
            async with http.get(url, ssl=client_ctx) as resp:
                assert await resp.json() == "127.0.0.1:8300"


async def _start_cli(*args: str) -> tuple[asyncio.subprocess.Process, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "aioconsul.testing",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 10)
    return proc, line.decode()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
async def test_cli_prints_its_address_and_exits_zero_on_signal(signum: int) -> None:
    proc, line = await _start_cli("--port", "0", "--host", "127.0.0.1")
    try:
        assert line.startswith("http://127.0.0.1:")
        address = line.strip()
        async with aiohttp.ClientSession() as http, http.get(address + "/v1/agent/self") as resp:
            assert (await resp.json())["Config"]["NodeName"] == "aioconsul-dev"
        proc.send_signal(signum)
        stdout, stderr = await asyncio.wait_for(proc.communicate(), 10)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, stderr.decode()
    assert stdout == b""  # exactly one line was printed
    assert stderr == b""


async def test_cli_options_reach_the_agent() -> None:
    proc, line = await _start_cli("--port", "0", "--node-name", "n1", "--datacenter", "east")
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.get(line.strip() + "/v1/agent/self") as resp,
        ):
            config = (await resp.json())["Config"]
        assert (config["NodeName"], config["Datacenter"]) == ("n1", "east")
    finally:
        proc.terminate()
        await proc.communicate()
    assert proc.returncode == 0


async def test_a_busy_port_fails_start_cleanly() -> None:
    async with DevAgent() as first:
        second = DevAgent(port=first.port)
        with pytest.raises(OSError):
            await second.start()
        assert not second.running
