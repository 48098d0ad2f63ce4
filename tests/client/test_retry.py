"""Retries and fail-over against the dev agent, behind fault-injecting aiohttp.web proxies.

Every request a test sends goes through a proxy of its own (the ``agents`` fixture of
conftest.py) to the real dev agent (or to the agent ``AIOCONSUL_TEST_ADDR`` names), which applies
writes and answers as Consul does; the proxy injects the fault a test needs before or after
forwarding (an error status, a reset connection, an agent that is down) and records what reached
it.

The rules: reads (and writes safe to repeat: a PUT that sets a state; never a CAS) are
repeated on transport failures, 429, 500 and 503, except an answer that cannot change (a malformed
filter, a validation error); other writes only when the connection could not be made, so a
retried write never applies twice. With several addresses, a cluster-wide request that fails at
one agent moves the shared pointer to the next, only if it still points at the agent that failed
(semantics.md §14: the Go client treats 500 as retryable for reads only; §14.1: a 429 "Resource
Exhausted" should be retried against another server). Agent-local calls (``/v1/agent/*``, a
session on the agent's own node) always go to the first, home agent and never fail over.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import aioconsul
from aioconsul import Backoff, Consul, Retry

FAST = Retry(attempts=3, backoff=Backoff(initial=0.01, maximum=0.02, jitter=0.0))
# -- retries on one agent ------------------------------------------------------------------------

@pytest.mark.parametrize("status", [500, 503, 429])
async def test_reads_are_retried_on_no_leader_and_rate_limits(consul, agents,
                                                              status: int) -> None:
    await consul.kv.set("k", b"v")
    agent = await agents(status, status)
    async with Consul(agent.address, retry=FAST) as client:
        entry, _ = await client.kv.get("k")
    assert entry is not None and entry["Value"] == b"v"
    assert len(agent.seen) == 3


async def test_reads_are_retried_after_a_reset_connection(consul, agents) -> None:
    await consul.kv.set("k", b"v")
    agent = await agents("reset")
    async with Consul(agent.address, retry=FAST) as client:
        entry, _ = await client.kv.get("k")
    assert entry is not None and entry["Value"] == b"v" and len(agent.seen) == 2


async def test_retries_give_up_with_the_last_error(agents) -> None:
    agent = await agents(500, 500, 500, 500, 500)
    async with Consul(agent.address, retry=FAST) as client:
        with pytest.raises(aioconsul.NoLeader):
            await client.kv.get("k")
    assert len(agent.seen) == 4  # the first try and 3 retries


async def test_retries_can_be_switched_off(agents) -> None:
    agent = await agents(500)
    async with Consul(agent.address, retry=False) as client:
        with pytest.raises(aioconsul.NoLeader):
            await client.kv.get("k")
    assert len(agent.seen) == 1


async def test_a_malformed_filter_is_not_retried(agents) -> None:
    """Consul answers a filter go-bexpr cannot parse with 500 "Failed to create boolean
    expression evaluator: ..." (go-bexpr filter.go CreateFilter; hashicorp/consul#7338): the
    same request can only fail the same way, so it is sent once."""
    agent = await agents()
    async with Consul(agent.address, retry=FAST) as client:
        with pytest.raises(aioconsul.ServerError, match="boolean expression evaluator"):
            await client.catalog.nodes(filter="Node ==")
    assert len(agent.seen) == 1


async def test_a_transient_500_is_still_retried_after_a_permanent_one(agents) -> None:
    agent = await agents()
    async with Consul(agent.address, retry=FAST) as client:
        with pytest.raises(aioconsul.ServerError):
            await client.catalog.nodes(filter="Node ==")
        agent.faults.extend([500, 500])  # "No cluster leader"
        nodes, _ = await client.catalog.nodes()
    assert nodes and len(agent.seen) == 4


@pytest.mark.parametrize("fault", [500, 503, 429, "reset", "applied-then-500"])
async def test_a_plain_write_is_never_retried_once_sent(consul, agents, fault: int | str) -> None:
    """It may have been applied: repeating it could apply it twice."""
    agent = await agents(fault)
    async with Consul(agent.address, retry=FAST) as client:
        with pytest.raises(aioconsul.ConsulError):
            await client.kv.set("k", b"v")
        agent.faults.append(fault)
        with pytest.raises(aioconsul.ConsulError):
            await client.event.fire("deploy")
    assert [method for method, _ in agent.seen] == ["PUT", "PUT"]
    events, _ = await consul.event.items("deploy")
    assert len(events) == (1 if fault == "applied-then-500" else 0)  # never twice


async def test_a_cas_write_is_not_repeated_once_sent(consul, agents) -> None:
    """The CAS retry rule (tests/client/test_cas_retry.py): a CAS is repeated only when it
    could not connect; a sent attempt that was applied and answered 500 would report False."""
    await consul.kv.set("k", b"old")
    entry, _ = await consul.kv.get("k")
    assert entry is not None
    agent = await agents(500, "reset")
    async with Consul(agent.address, retry=FAST) as client:
        with pytest.raises(aioconsul.NoLeader):
            await client.kv.cas("k", b"v", index=entry["ModifyIndex"])
        with pytest.raises(aioconsul.TransportError):
            await client.kv.delete_cas("k", index=entry["ModifyIndex"])
    assert [method for method, _ in agent.seen] == ["PUT", "DELETE"]
    after, _ = await consul.kv.get("k")
    assert after is not None and after["Value"] == b"old"


# -- fail-over between agents --------------------------------------------------------------------

async def test_a_write_that_never_connected_is_retried_on_the_next_agent(
        consul, agents, closed_port) -> None:
    agent = await agents()
    async with Consul([closed_port(), agent.address], retry=FAST) as client:
        assert await client.kv.set("k", b"v") is True
        assert await client.kv.set("k", b"w") is True  # sticks to the agent that answered
    assert [method for method, _ in agent.seen] == ["PUT", "PUT"]
    entry, _ = await consul.kv.get("k")
    assert entry is not None and entry["Value"] == b"w"


async def test_reads_fail_over_and_stick_to_the_agent_that_answers(agents) -> None:
    first = await agents("reset")
    second = await agents()
    async with Consul([first.address, second.address], retry=FAST) as client:
        await client.kv.get("k")
        await client.kv.get("k")
    assert len(first.seen) == 1 and len(second.seen) == 2


@pytest.mark.parametrize("concurrent", [4, 8])
async def test_concurrent_reads_with_one_agent_down_all_succeed_and_leave_it(
        consul, agents, concurrent: int) -> None:
    """Each of the concurrent failures at the dead agent used to advance the shared pointer: an
    even number of them brought it back onto the dead agent. It now moves only from the agent
    that failed (compare-and-advance)."""
    await consul.kv.set("k", b"v")
    dead = await agents()
    dead.down = True
    alive = await agents()
    async with Consul([dead.address, alive.address], retry=FAST) as client:
        answers = await asyncio.gather(*(client.kv.get("k") for _ in range(concurrent)))
        assert all(entry is not None and entry["Value"] == b"v" for entry, _ in answers)
        assert len(dead.seen) == concurrent  # each tried the dead agent once, then moved on
        for _ in range(4):
            entry, _ = await client.kv.get("k")
            assert entry is not None
        more = await asyncio.gather(*(client.kv.get("k") for _ in range(concurrent)))
        assert all(entry is not None for entry, _ in more)
    assert len(dead.seen) == concurrent  # nothing landed on the dead agent afterwards
    assert len(alive.seen) == 2 * concurrent + 4


@pytest.mark.parametrize("fault", ["reset", 500])
async def test_an_error_names_the_agent_the_request_went_to(agents, fault: int | str) -> None:
    """A slow request to the first agent fails after another request moved the client to the
    second one: its error still names the first."""
    first = await agents("reset")
    first.hold = "/v1/kv/slow"
    second = await agents()
    async with Consul([first.address, second.address], retry=False) as client:
        slow = asyncio.create_task(client.kv.get("slow"))
        while not first.seen:
            await asyncio.sleep(0.01)
        first.faults[:] = ["reset", fault]  # the fast one is reset, the slow one gets ``fault``
        with pytest.raises(aioconsul.TransportError) as fast_error:
            await client.kv.get("fast")
        assert client._core.transport.address.endswith(second.address)  # moved on
        first.release.set()
        with pytest.raises(aioconsul.ConsulError) as slow_error:
            await slow
    assert fast_error.value.address.endswith(first.address)
    assert slow_error.value.address.endswith(first.address)
    assert not second.seen


async def test_every_agent_down_raises_a_connect_error_naming_one(agents, closed_port) -> None:
    addresses = [closed_port(), closed_port()]
    async with Consul(addresses, retry=FAST) as client:
        with pytest.raises(aioconsul.ConnectError) as info:
            await client.kv.get("k")
    assert any(address in str(info.value) for address in addresses)


async def test_a_watch_keeps_its_index_across_a_fail_over(consul, agents) -> None:
    await consul.kv.set("k", b"v")
    first = await agents()
    second = await agents()
    async with Consul([first.address, second.address], retry=FAST) as client, \
            client.kv.watch("k", wait="1s") as watch:
        _, meta = await watch.__anext__()
        await first.stop()
        pending = asyncio.create_task(watch.__anext__())
        async with asyncio.timeout(5):
            while not any(f"index={meta['Index']}" in path for path in second.paths()):
                await asyncio.sleep(0.01)
        pending.cancel()
        await asyncio.gather(pending, return_exceptions=True)
    assert any(f"index={meta['Index']}" in path and "wait=1000ms" in path
               for path in second.paths())


async def test_a_watch_does_not_fail_over_within_a_read_when_retries_are_off(
        consul, agents) -> None:
    """``retry=False`` holds for a watch's reads too: the failed read is the watch's to report
    (here yielded), and only its next read goes to the next agent."""
    await consul.kv.set("k", b"v")
    first = await agents()
    first.down = True
    second = await agents()
    async with Consul([first.address, second.address], retry=False) as client, \
            client.kv.watch("k", wait="1s", errors="yield",
                            backoff=Backoff(initial=0.01, maximum=0.01)) as watch:
        failed = await watch.__anext__()
        assert isinstance(failed, aioconsul.TransportError)
        assert not second.seen
        entry, _ = await watch.__anext__()
    assert entry is not None and entry["Value"] == b"v" and len(first.seen) == 1


@pytest.mark.parametrize("value", [3, "3", "x"])
async def test_bad_retry_settings_are_refused(value: Any) -> None:
    with pytest.raises(TypeError, match="^retry: "):
        Consul("h:1", retry=value)
    with pytest.raises(ValueError, match="^retry: "):
        Retry(attempts=-1)


# -- agent-local calls stay home -----------------------------------------------------------------

async def test_agent_endpoints_never_fail_over_to_another_agent(agents) -> None:
    """/v1/agent/* describes the agent asked: a retry elsewhere would answer about another one."""
    first = await agents(500, 500, 500, 500)
    second = await agents()
    async with Consul([first.address, second.address], retry=FAST) as client:
        with pytest.raises(aioconsul.NoLeader):
            await client.agent.self()
    assert len(first.seen) == 4 and second.seen == []


async def test_agent_calls_stay_home_after_a_cluster_wide_fail_over(agents) -> None:
    """A failed KV read moves cluster-wide calls to the second agent; agent-local calls (service
    registration, TTL updates, maintenance, the agent's own service, hash-blocking reads of it)
    still go to the first, the agent they are about."""
    home = await agents("reset")
    other = await agents()
    async with Consul([home.address, other.address], retry=FAST) as client:
        await client.kv.get("k")  # reset at home: moves on to the other agent
        assert len(other.seen) == 1
        home.seen.clear()
        await client.agent.services.register("web", id="web-1", check={"TTL": "30s"})
        await client.agent.checks.pass_("service:web-1")
        await client.agent.maintenance(True, reason="test")
        await client.agent.maintenance(False)
        service, meta = await client.agent.services.get("web-1")
        assert service is not None
        again, _ = await client.agent.services.get("web-1", watch=(meta, "10ms"))
        assert again is not None
        await client.agent.self()
        await client.kv.get("k")  # cluster-wide: still sticks to the other agent
    assert not [path for path in other.paths() if path.startswith("/v1/agent/")]
    assert len(other.seen) == 2
    home_paths = home.paths()
    assert len(home_paths) == 7 and all(path.startswith("/v1/agent/") for path in home_paths)
    assert any("hash=" in path for path in home_paths)


async def test_a_session_on_the_agents_own_node_is_created_at_home(consul, agents) -> None:
    """``session.create()`` without ``node`` binds the session to the node of the agent that
    receives it (session_endpoint.go: ``s.agent.config.NodeName`` when Node is empty): that is
    the home agent, fail-over or not. A session for a named node is cluster-wide."""
    home = await agents("reset")
    other = await agents()
    async with Consul([home.address, other.address], retry=FAST) as client:
        await client.kv.get("k")  # moves cluster-wide calls to the other agent
        home.seen.clear()
        own = await client.session.create("mine", lock_delay="0s")
        node = (await client.agent.self())["Config"]["NodeName"]
        named = await client.session.create("named", node=node, lock_delay="0s")
        await client.session.destroy(own)
        await client.session.destroy(named)
    assert home.paths("PUT") == ["/v1/session/create"]
    assert other.paths("PUT").count("/v1/session/create") == 1
    info, _ = await consul.session.info(own)
    assert info is None


async def test_a_locks_session_binds_to_the_home_agent_after_a_fail_over(consul, agents) -> None:
    """The session behind a Lock is created on the home agent's node; the lock's KV reads and
    writes are cluster-wide and go where the client moved."""
    home = await agents("reset")
    other = await agents()
    async with Consul([home.address, other.address], retry=FAST) as client:
        await client.kv.get("k")
        home.seen.clear()
        lock = client.lock("service/leader")
        assert await lock.acquire()
        entry, _ = await consul.kv.get("service/leader")
        assert entry is not None and entry.get("Session")
        await lock.release()
    assert home.paths("PUT") == ["/v1/session/create"]
    assert any(path.startswith("/v1/kv/service/leader?") and "acquire=" in path
               for path in other.paths("PUT"))


async def test_agent_calls_never_fail_over_when_home_is_down(consul, agents, closed_port) -> None:
    """Home down: an agent-local call raises, naming home's address; it is never sent to another
    agent. Cluster-wide calls still fail over."""
    home = closed_port()
    other = await agents()
    async with Consul([home, other.address], retry=FAST) as client:
        with pytest.raises(aioconsul.ConnectError) as info:
            await client.agent.services.register("web", id="web-2")
        with pytest.raises(aioconsul.ConnectError):
            await client.session.create("mine")
        assert (await client.kv.get("k"))[0] is None
    assert home in str(info.value) and info.value.address.endswith(home)
    assert other.paths() == ["/v1/kv/k"]
    services, _ = await consul.agent.services.items()
    assert "web-2" not in services
