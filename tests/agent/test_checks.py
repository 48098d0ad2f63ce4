"""Checks that run: agent/checks/check.go (TTL, HTTP, TCP), Agent.addCheck's runner choice,
Agent.reapServices (DeregisterCriticalServiceAfter) and session invalidation by a failing check
(state.checkSessionsTxn)."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web

from aioconsul.testing import DevAgent

from .conftest import Api

FAST = {"check_interval_min": 0.01}


@pytest_asyncio.fixture
async def fast(http: aiohttp.ClientSession) -> AsyncIterator[Api]:
    async with DevAgent(**FAST) as agent:
        yield Api(http, agent)


@pytest_asyncio.fixture
async def target() -> AsyncIterator[tuple[str, dict[str, int]]]:
    """A loopback HTTP server answering GET /<code> with that status."""
    hits: dict[str, int] = {}

    async def handler(request: web.Request) -> web.Response:
        code = int(request.match_info["code"])
        hits[str(code)] = hits.get(str(code), 0) + 1
        return web.Response(status=code, text=f"answer {code}")

    app = web.Application()
    app.router.add_get("/{code}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}", hits
    await runner.cleanup()


async def until(probe: Callable[[], Awaitable[bool]], timeout: float = 3.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await probe():
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


async def check_of(api: Api, check_id: str) -> dict[str, Any] | None:
    checks: dict[str, Any] = (await api.get("/v1/agent/checks")).json()
    return checks.get(check_id)


async def status_becomes(api: Api, check_id: str, status: str) -> dict[str, Any]:
    async def probe() -> bool:
        check = await check_of(api, check_id)
        return check is not None and check["Status"] == status

    await until(probe)
    check = await check_of(api, check_id)
    assert check is not None
    return check


async def test_ttl_check_goes_critical_when_not_updated(api: Api) -> None:
    """checks.CheckTTL.run: "TTL expired" once the TTL passes without an update."""
    body = {"Name": "job", "TTL": "50ms", "Status": "passing"}
    assert (await api.put("/v1/agent/check/register", json.dumps(body))).status == 200
    check = await status_becomes(api, "job", "critical")
    assert check["Output"] == "TTL expired"
    (catalog,) = (await api.get("/v1/health/state/critical")).json()
    assert catalog["CheckID"] == "job"


async def test_ttl_expiry_keeps_the_last_output(api: Api) -> None:
    """CheckTTL.getExpiredOutput quotes the output of the last update."""
    body = {"Name": "job", "TTL": "80ms"}
    await api.put("/v1/agent/check/register", json.dumps(body))
    await api.put("/v1/agent/check/pass/job?note=all%20good")
    check = await status_becomes(api, "job", "critical")
    assert check["Output"] == "TTL expired (last output before timeout follows): all good"


async def test_ttl_update_restarts_the_timer(api: Api) -> None:
    await api.put("/v1/agent/check/register", json.dumps({"Name": "job", "TTL": "150ms"}))
    for _ in range(4):
        await api.put("/v1/agent/check/pass/job")
        await asyncio.sleep(0.06)
    check = await check_of(api, "job")
    assert check is not None and check["Status"] == "passing"


@pytest.mark.parametrize(
    ("code", "status"), [(200, "passing"), (201, "passing"), (429, "warning"), (500, "critical")]
)
async def test_http_check_status_follows_the_response_code(
    fast: Api, target: tuple[str, dict[str, int]], code: int, status: str
) -> None:
    """checks.CheckHTTP.check: 2xx passing, 429 warning, anything else critical."""
    base, hits = target
    initial = "critical" if status != "critical" else "passing"
    body = {"Name": "web", "HTTP": f"{base}/{code}", "Interval": "20ms", "Status": initial}
    assert (await fast.put("/v1/agent/check/register", json.dumps(body))).status == 200
    check = await status_becomes(fast, "web", status)
    assert hits[str(code)] >= 1
    assert check["Output"].startswith(f"HTTP GET {base}/{code}: {code} ")
    assert check["Output"].endswith(f"Output: answer {code}")


async def test_http_check_against_a_closed_port_is_critical(fast: Api) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    body = {
        "Name": "web",
        "HTTP": f"http://127.0.0.1:{port}/",
        "Interval": "20ms",
        "Status": "passing",
    }
    await fast.put("/v1/agent/check/register", json.dumps(body))
    check = await status_becomes(fast, "web", "critical")
    assert "connection refused" in check["Output"]


async def test_tcp_check_passes_when_the_port_accepts(fast: Api) -> None:
    server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        body = {"Name": "db", "TCP": f"127.0.0.1:{port}", "Interval": "20ms"}
        await fast.put("/v1/agent/check/register", json.dumps(body))
        check = await status_becomes(fast, "db", "passing")
        assert check["Output"] == f"TCP connect 127.0.0.1:{port}: Success"
    finally:
        server.close()
        await server.wait_closed()


async def test_tcp_check_against_a_closed_port_is_critical(fast: Api) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    body = {"Name": "db", "TCP": f"127.0.0.1:{port}", "Interval": "20ms", "Status": "passing"}
    await fast.put("/v1/agent/check/register", json.dumps(body))
    check = await status_becomes(fast, "db", "critical")
    assert check["Output"] == f"dial tcp 127.0.0.1:{port}: connect: connection refused"


async def test_script_checks_are_refused(api: Api) -> None:
    """Agent.addCheck: enable_script_checks is off in -dev."""
    body = {"Name": "sh", "Args": ["true"], "Interval": "10s"}
    reply = await api.put("/v1/agent/check/register", json.dumps(body))
    assert reply.status == 500
    assert reply.text == (
        "Scripts are disabled on this agent from remote calls; "
        "to enable, configure 'enable_script_checks' to true"
    )


async def test_grpc_checks_are_registered_but_not_run(api: Api) -> None:
    body = {"Name": "g", "GRPC": "127.0.0.1:1", "Interval": "10ms"}
    assert (await api.put("/v1/agent/check/register", json.dumps(body))).status == 200
    await asyncio.sleep(0.05)
    check = await check_of(api, "g")
    assert check is not None
    assert (check["Status"], check["Type"]) == ("critical", "grpc")
    assert check["Output"] == "GRPC checks are not run by the aioconsul dev agent"


async def test_deregister_critical_service_after_reaps_the_service(
    http: aiohttp.ClientSession,
) -> None:
    """Agent.reapServicesInternal with shrunk CheckReapInterval / CheckDeregisterIntervalMin."""
    async with DevAgent(check_reap_interval=0.02, check_deregister_interval_min=0) as agent:
        api = Api(http, agent)
        check = {"TTL": "10s", "DeregisterCriticalServiceAfter": "30ms"}
        await api.put("/v1/agent/service/register", json.dumps({"Name": "web", "Check": check}))

        async def gone() -> bool:
            return (await api.get("/v1/catalog/service/web")).json() == []

        await until(gone, timeout=2)
        assert (await api.get("/v1/agent/services")).json() == {}


async def test_deregister_critical_service_after_respects_the_minimum(
    http: aiohttp.ClientSession,
) -> None:
    """CheckDeregisterIntervalMin raises a shorter DeregisterCriticalServiceAfter (1 min)."""
    async with DevAgent(check_reap_interval=0.02, check_deregister_interval_min=0.3) as agent:
        api = Api(http, agent)
        check = {"TTL": "10s", "DeregisterCriticalServiceAfter": "1ms"}
        await api.put("/v1/agent/service/register", json.dumps({"Name": "web", "Check": check}))
        await asyncio.sleep(0.15)
        assert "web" in (await api.get("/v1/agent/services")).json()

        async def gone() -> bool:
            return (await api.get("/v1/agent/services")).json() == {}

        await until(gone, timeout=2)


async def test_failing_check_invalidates_its_sessions(api: Api) -> None:
    """state.ensureCheckTxn -> checkSessionsTxn: a critical check destroys the sessions bound
    to it, which release their locks (Behavior release)."""
    body = {"Name": "job", "TTL": "10s", "Status": "passing"}
    await api.put("/v1/agent/check/register", json.dumps(body))
    session_id = await api.create_session(Checks=["serfHealth", "job"], LockDelay="0s")
    assert (await api.put(f"/v1/kv/lock?acquire={session_id}", b"x")).json() is True
    await api.put("/v1/agent/check/fail/job")
    assert (await api.get(f"/v1/session/info/{session_id}")).json() == []
    (entry,) = (await api.get("/v1/kv/lock")).json()
    assert "Session" not in entry


async def test_failing_service_check_deletes_keys_of_a_delete_session(api: Api) -> None:
    service = {"Name": "web", "Check": {"TTL": "10s", "Status": "passing"}}
    await api.put("/v1/agent/service/register", json.dumps(service))
    session_id = await api.create_session(
        ServiceChecks=[{"ID": "service:web"}], Behavior="delete", LockDelay="0s"
    )
    await api.put(f"/v1/kv/lock?acquire={session_id}", b"x")
    await api.put("/v1/agent/check/fail/service:web")
    assert (await api.get("/v1/kv/lock")).status == 404


async def test_session_bound_to_a_critical_check_is_refused(api: Api) -> None:
    """Session.Apply -> state.sessionCreateTxn refuses a check in critical state."""
    await api.put("/v1/agent/check/register", json.dumps({"Name": "job", "TTL": "10s"}))
    reply = await api.put("/v1/session/create", json.dumps({"Checks": ["serfHealth", "job"]}))
    assert (reply.status, reply.text) == (500, "apply failed: Check 'job' is in critical state")


async def test_session_bound_to_a_missing_check_is_refused(api: Api) -> None:
    reply = await api.put("/v1/session/create", json.dumps({"Checks": ["serfHealth", "nope"]}))
    assert (reply.status, reply.text) == (500, "apply failed: Missing check 'nope' registration")


async def test_stop_cancels_the_check_runners(
    http: aiohttp.ClientSession, target: tuple[str, dict[str, int]]
) -> None:
    base, hits = target
    before = asyncio.all_tasks()
    agent = await DevAgent(**FAST).start()
    api = Api(http, agent)
    body = {"Name": "web", "HTTP": f"{base}/200", "Interval": "10ms"}
    await api.put("/v1/agent/check/register", json.dumps(body))
    await status_becomes(api, "web", "passing")
    await agent.stop()
    assert asyncio.all_tasks() == before
    count = hits["200"]
    await asyncio.sleep(0.05)
    assert hits["200"] == count
