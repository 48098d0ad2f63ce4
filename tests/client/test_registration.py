"""Managed registration (``client.register``) against the dev agent: visible at once, kept passing,
probed, registered again when the agent lost it, drained on exit, nothing left behind."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from aioconsul import Consul, NotFound, Registration, ServerError
from aioconsul.testing import DevAgent
from aioconsul.toolkit.registration import _lost_registration, _probe_result

#: A bound on waiting for something that happens within a few heartbeats of a 1 s TTL.
BOUND = 10.0


async def until(condition: Callable[[], Awaitable[bool]], bound: float = BOUND) -> None:
    """Wait until ``condition()`` is true (a bound, not an assertion on time)."""
    async with asyncio.timeout(bound):
        while not await condition():
            await asyncio.sleep(0.02)


def our_tasks() -> list[asyncio.Task[Any]]:
    return [task for task in asyncio.all_tasks()
            if task.get_name().startswith(("aioconsul heartbeat", "aioconsul watch"))]


async def check_of(client: Consul, check_id: str) -> dict[str, Any] | None:
    checks, _ = await client.agent.checks.items()
    return checks.get(check_id)


async def test_registered_and_passing_at_once(consul: Consul) -> None:
    """The TTL check starts passing (explicit Status), so ``?passing`` finds the instance
    before any heartbeat; the ID is derived from name, address and port."""
    async with consul.register({"Name": "web", "Address": "10.0.0.5", "Port": 8080},
                               ttl="1s", grace=0) as reg:
        assert reg.id == "web-10.0.0.5-8080"
        assert reg.heartbeats == 0
        nodes, _ = await consul.health.service("web", passing=True)
        assert [entry["Service"]["ID"] for entry in nodes] == [reg.id]
        check = await check_of(consul, "service:web-10.0.0.5-8080")
        assert check is not None and check["Status"] == "passing"
        assert check["ServiceID"] == reg.id


async def test_the_id_is_stable_and_may_be_given(consul: Consul) -> None:
    assert consul.register({"Name": "web", "Port": 80}).id == "web-80"
    assert consul.register("web").id == "web"
    assert consul.register({"Name": "web", "ID": "web-1"}).id == "web-1"
    assert consul.register({"Name": "web", "ID": "web-1"}, id="web-2").id == "web-2"


async def test_deregister_critical_service_after_is_set_by_default(consul: Consul) -> None:
    reg = consul.register("web", ttl="1s")
    assert reg.definition["Checks"][0]["DeregisterCriticalServiceAfter"] == "1m"
    reg = consul.register("web", ttl="1s", deregister_after=None)
    assert "DeregisterCriticalServiceAfter" not in reg.definition["Checks"][0]


async def test_heartbeat_keeps_it_passing_past_its_ttl(consul: Consul) -> None:
    async with consul.register("web", ttl="1s", grace=0) as reg:
        async def three_beats() -> bool:  # at least 1.2 s, past the 1 s TTL
            return reg.heartbeats >= 3
        await until(three_beats)
        check = await check_of(consul, reg.check_id or "")
        assert check is not None and check["Status"] == "passing"
        assert reg.losses == 0


async def test_a_failing_probe_turns_it_critical_with_the_note(consul: Consul) -> None:
    healthy = True

    async def probe() -> tuple[bool, str]:
        return healthy, "ok" if healthy else "database unreachable"

    async with consul.register("web", ttl="1s", probe=probe, grace=0) as reg:
        healthy = False

        async def critical() -> bool:
            check = await check_of(consul, reg.check_id or "")
            return check is not None and check["Status"] == "critical"
        await until(critical)
        check = await check_of(consul, reg.check_id or "")
        assert check is not None and check["Output"] == "database unreachable"
        nodes, _ = await consul.health.service("web", passing=True)
        assert nodes == []


async def test_a_probe_that_raises_reports_critical_with_the_error(consul: Consul) -> None:
    def probe() -> bool:
        raise RuntimeError("disk full")

    async with consul.register("web", ttl="1s", probe=probe, grace=0) as reg:
        async def critical() -> bool:
            check = await check_of(consul, reg.check_id or "")
            return check is not None and check["Status"] == "critical"
        await until(critical)
        check = await check_of(consul, reg.check_id or "")
        assert check is not None and "RuntimeError: disk full" in check["Output"]


def test_probe_results_map_to_statuses() -> None:
    assert _probe_result(None) == ("passing", "")
    assert _probe_result(True) == ("passing", "")
    assert _probe_result(False) == ("critical", "")
    assert _probe_result("warning") == ("warning", "")
    assert _probe_result(("warning", "slow")) == ("warning", "slow")
    assert _probe_result((True, "fine")) == ("passing", "fine")
    assert _probe_result(42)[0] == "critical"


async def test_set_status_reports_at_once(consul: Consul) -> None:
    async with consul.register("web", ttl="10s", grace=0) as reg:
        await reg.set_status("warning", "high load")
        check = await check_of(consul, reg.check_id or "")
        assert check is not None
        assert (check["Status"], check["Output"]) == ("warning", "high load")
        assert reg.status == "warning"


async def test_an_initial_status_other_than_passing(consul: Consul) -> None:
    async with consul.register("web", ttl="10s", status="critical", grace=0) as reg:
        check = await check_of(consul, reg.check_id or "")
        assert check is not None and check["Status"] == "critical"


def test_a_lost_check_is_recognized_by_consuls_answers() -> None:
    """agent/agent.go ``updateTTLCheck`` answers 500 ``CheckID "x" does not have associated
    TTL``; agent/agent_endpoint.go ``vetCheckUpdateWithAuthorizer`` answers 404 first on newer
    agents. Both mean the agent lost the registration; another 500 does not."""
    assert _lost_registration(ServerError('CheckID "service:web" does not have associated TTL'))
    assert _lost_registration(NotFound('Unknown check ID "service:web"'))
    assert not _lost_registration(ServerError("No cluster leader"))


@pytest.mark.devagent
async def test_survives_a_dev_agent_restart_on_the_same_port() -> None:
    """The restarted agent knows nothing of the service: the next heartbeat is refused (404)
    or the hash watch sees a 404, and the service is registered again; it is back in the
    catalog within two heartbeats of the agent's return."""
    agent = DevAgent()
    await agent.start()
    port = agent.port
    try:
        async with Consul(agent.address) as client:
            async with client.register({"Name": "web", "Port": 8080}, ttl="1s",
                                       grace=0) as reg:
                await agent.stop()
                agent = DevAgent(port=port)
                await agent.start()
                before = reg.heartbeats

                async def in_catalog() -> bool:
                    try:
                        nodes, _ = await client.catalog.service("web")
                    except Exception:
                        return False
                    return [node["ServiceID"] for node in nodes] == [reg.id]
                await until(in_catalog)
                assert reg.heartbeats - before <= 2
                assert reg.losses >= 1 and reg.lost.is_set()
                assert reg.registrations >= 2
                nodes, _ = await client.health.service("web", passing=True)
                assert len(nodes) == 1
            services, _ = await client.agent.services.items()
            assert services == {}
    finally:
        await agent.stop()


async def test_the_watch_registers_it_again_when_deregistered_behind_its_back(
        consul: Consul, consul_agent: DevAgent) -> None:
    """With an HTTP/TCP check there is no heartbeat: the hash watch of
    ``/v1/agent/service/<id>`` notices the 404 alone."""
    check = {"TCP": f"127.0.0.1:{consul_agent.port}", "Interval": "10s"}
    async with consul.register("web", check=check, grace=0) as reg:
        assert [task.get_name() for task in our_tasks()] == ["aioconsul watch: web"]
        await asyncio.sleep(0.05)  # let the watch take its first read
        await consul.agent.services.deregister(reg.id)
        await asyncio.wait_for(reg.lost.wait(), BOUND)

        async def back() -> bool:
            service, _ = await consul.agent.services.get(reg.id)
            return service is not None
        await until(back)
        assert reg.losses == 1


async def test_on_exit_it_drains_critical_first_then_gone(consul_agent: DevAgent) -> None:
    """Seen from a second client's blocking health watch: the instance turns critical, then,
    after the grace period, disappears."""
    async with Consul(consul_agent.address) as owner, Consul(consul_agent.address) as observer:
        seen: list[list[str]] = []
        watching = asyncio.Event()

        async def observe() -> None:
            async with observer.watch(observer.health.checks, "web", wait="10s") as watch:
                async for checks, _ in watch:
                    seen.append([check["Status"] for check in checks])
                    watching.set()
                    if seen[-1] == [] and len(seen) > 1:
                        return

        async with owner.register("web", ttl="10s", grace=0.5) as reg:
            follower = asyncio.create_task(observe())
            await asyncio.wait_for(watching.wait(), BOUND)
        await asyncio.wait_for(follower, BOUND)
        assert seen[0] == ["passing"]
        assert ["critical"] in seen
        assert seen.index(["critical"]) < len(seen) - 1 and seen[-1] == []
        assert not reg.running and our_tasks() == []
        services, _ = await observer.agent.services.items()
        assert services == {}


async def test_drain_in_maintenance_mode(consul: Consul) -> None:
    async with consul.register("web", ttl="10s", drain="maintenance", grace=0.3) as reg:
        pass_through = asyncio.create_task(reg.drain())

        async def in_maintenance() -> bool:
            return await check_of(consul, "_service_maintenance:web") is not None
        await until(in_maintenance)
        await pass_through
    services, _ = await consul.agent.services.items()
    assert services == {}


async def test_cancellation_mid_run_leaves_nothing_registered_and_no_task(
        consul: Consul) -> None:
    started = asyncio.Event()

    async def serve() -> None:
        async with consul.register("web", ttl="1s", grace=0.1):
            started.set()
            await asyncio.Event().wait()

    runner = asyncio.create_task(serve())
    await asyncio.wait_for(started.wait(), BOUND)
    assert len(our_tasks()) == 2
    runner.cancel()
    with pytest.raises(asyncio.CancelledError):
        await runner
    assert our_tasks() == []
    # The watch's parked read ended with its task: no connection is left in use.
    connector = consul._core.transport._session.connector  # type: ignore[union-attr]
    assert connector is not None and len(connector._acquired) == 0  # type: ignore[attr-defined]
    services, _ = await consul.agent.services.items()
    assert services == {}


async def test_a_second_cancellation_cuts_the_grace_but_still_deregisters(
        consul: Consul) -> None:
    started = asyncio.Event()

    async def serve() -> None:
        async with consul.register("web", ttl="10s", grace=3600):
            started.set()
            await asyncio.Event().wait()

    runner = asyncio.create_task(serve())
    await asyncio.wait_for(started.wait(), BOUND)
    runner.cancel()  # the first: drain (it now waits out its hour of grace)

    async def draining() -> bool:
        check = await check_of(consul, "service:web")
        return check is not None and check["Status"] == "critical"
    await until(draining)
    runner.cancel()  # the second: no more grace
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(runner, BOUND)
    services, _ = await consul.agent.services.items()
    assert services == {} and our_tasks() == []


async def test_drain_is_idempotent_and_exit_after_it_does_nothing(consul: Consul) -> None:
    async with consul.register("web", ttl="10s", grace=0) as reg:
        await reg.drain()
        await reg.drain()
        assert not reg.running
        services, _ = await consul.agent.services.items()
        assert services == {}
        with pytest.raises(RuntimeError):
            await reg.set_status("passing")


@pytest.mark.parametrize(("kwargs", "error", "name"), [
    ({"service": 42}, TypeError, "service"),
    ({"service": {"Port": 80}}, ValueError, "service"),
    ({"service": {"Name": "web", "Port": "80"}}, TypeError, "service.Port"),
    ({"id": ""}, ValueError, "id"),
    ({"ttl": "soon"}, ValueError, "ttl"),
    ({"ttl": "0s"}, ValueError, "ttl"),
    ({"ttl": "1s", "status": "ok"}, ValueError, "status"),
    ({"ttl": "1s", "probe": 3}, TypeError, "probe"),
    ({"probe": lambda: True}, ValueError, "probe"),
    ({"ttl": "1s", "drain": "later"}, ValueError, "drain"),
    ({"drain": "critical"}, ValueError, "drain"),
    ({"ttl": "1s", "grace": -1}, ValueError, "grace"),
    ({"check": {"TTL": "5s"}}, ValueError, "check"),
    ({"check": "http://x"}, TypeError, "check"),
    ({"deregister_after": 5}, ValueError, "deregister_after"),
])
async def test_bad_arguments_are_refused_before_any_request(
        unreachable: str, kwargs: dict[str, Any], error: type[Exception], name: str) -> None:
    """Refused when the registration is made: nothing is sent (the address is unreachable,
    so a request would fail with ConnectError instead)."""
    kwargs = {"service": "web", **kwargs}
    async with Consul(unreachable) as client:
        with pytest.raises(error, match=rf"^{name}:"):
            client.register(**kwargs)


async def test_set_status_without_ttl_is_refused(consul: Consul) -> None:
    reg = consul.register("web")
    with pytest.raises(RuntimeError):
        await reg.set_status("warning")
    with pytest.raises(ValueError, match="^status:"):
        await consul.register("web", ttl="1s").set_status("fine")


async def test_a_registration_is_a_registration(consul: Consul) -> None:
    assert isinstance(consul.register("web"), Registration)
