"""Healthy-instance pools (``client.discover``) against the dev agent: the healthy view, no change
on check-output churn, weighted/round-robin/nearest picks, ejection, the startup gate, the
warning policy, a failing watch said so, and nothing left behind after exit or cancellation."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web

from aioconsul import Consul, TransportError
from aioconsul.testing import DevAgent
from aioconsul.toolkit import Changes, Instance, NoInstances, Pool, PoolChange
from aioconsul.toolkit.discovery import _status

#: A bound on waiting for something that follows a write at once (not an assertion on time).
BOUND = 10.0


async def until(condition: Callable[[], bool | Awaitable[bool]], bound: float = BOUND) -> None:
    """Wait until ``condition()`` is true, for at most ``bound`` seconds."""
    async def wait() -> None:
        while True:
            result = condition()
            if not isinstance(result, bool):
                result = await result
            if result:
                return
            await asyncio.sleep(0.01)
    await asyncio.wait_for(wait(), bound)


async def next_change(changes: Changes[PoolChange]) -> PoolChange:
    return await asyncio.wait_for(anext(changes), BOUND)


async def put(consul: Consul, node: str, sid: str, *, status: str = "passing",
              output: str = "ok", weights: dict[str, int] | None = None,
              tags: list[str] | None = None, meta: dict[str, str] | None = None,
              service: str = "db", address: str = "", port: int = 5432) -> None:
    """Register (or update) instance ``sid`` of ``service`` on ``node`` with one check, through
    the catalog: a write that changes only the check's output moves the index, as in Consul
    (``HealthCheck.IsSame`` compares ``Output``)."""
    definition: dict[str, Any] = {"ID": sid, "Service": service, "Port": port,
                                  "Address": address, "Tags": tags or [], "Meta": meta or {}}
    if weights is not None:
        definition["Weights"] = weights
    await consul.catalog.register(
        node, address=f"10.0.0.{int(node.removeprefix('n'))}", service=definition,
        check={"CheckID": f"{sid}:alive", "Name": "alive", "ServiceID": sid, "Status": status,
               "Output": output})


async def index_now(consul: Consul, service: str = "db") -> int:
    _, meta = await consul.health.service(service)
    return int(meta["Index"])


def our_tasks() -> list[asyncio.Task[Any]]:
    return [task for task in asyncio.all_tasks()
            if task.get_name().startswith("aioconsul discover")]


def assert_nothing_left(consul: Consul) -> None:
    assert our_tasks() == []
    connector = consul._core.transport._session.connector  # type: ignore[union-attr]
    assert connector is not None and len(connector._acquired) == 0


def keys(instances: tuple[Instance, ...] | list[Instance]) -> list[str]:
    return [instance.id for instance in instances]


async def test_the_pool_holds_the_healthy_instances_from_enter(consul: Consul) -> None:
    """Critical instances are left out; the address is the service's, else the node's (as
    Consul's DNS answers)."""
    await put(consul, "n1", "db1")
    await put(consul, "n2", "db2", address="192.168.1.2", tags=["primary"],
              meta={"zone": "a"})
    await put(consul, "n3", "db3", status="critical")
    async with consul.discover("db") as pool:
        assert keys(pool.instances) == ["db1", "db2"]
        first, second = pool.instances
        assert (first.node, first.address, first.port, first.status) == \
            ("n1", "10.0.0.1", 5432, "passing")
        assert (second.address, second.tags, dict(second.meta)) == \
            ("192.168.1.2", ("primary",), {"zone": "a"})
        assert pool.index == await index_now(consul)
        assert pool.pick().id in {"db1", "db2"}


async def test_an_instance_whose_check_goes_critical_is_dropped(consul: Consul) -> None:
    await put(consul, "n1", "db1")
    await put(consul, "n2", "db2")
    async with consul.discover("db") as pool:
        changes = pool.changes()
        await put(consul, "n2", "db2", status="critical", output="connection refused")
        change = await next_change(changes)
        assert keys(change.removed) == ["db2"]
        assert change.added == () and change.updated == ()
        assert keys(change.instances) == keys(pool.instances) == ["db1"]
        assert {pool.pick().id for _ in range(50)} == {"db1"}


async def test_maintenance_mode_takes_an_instance_out(consul: Consul) -> None:
    """A service in maintenance has a critical ``_service_maintenance:<id>`` check
    (agent/agent.go, ``EnableServiceMaintenance``)."""
    await consul.agent.services.register({"Name": "db", "ID": "db-local", "Port": 1})
    async with consul.discover("db") as pool:
        assert keys(pool.instances) == ["db-local"]
        changes = pool.changes()
        await consul.agent.services.maintenance("db-local", True, reason="upgrade")
        assert keys((await next_change(changes)).removed) == ["db-local"]


async def test_check_output_churn_emits_no_change(consul: Consul) -> None:
    """Each write moves the index and changes the answer (the check's Output), so the watch
    sees every one; the pool reports none of them, only the tag change after them."""
    await put(consul, "n1", "db1")
    await put(consul, "n2", "db2")
    async with consul.discover("db") as pool:
        changes = pool.changes()
        for beat in range(5):
            await put(consul, "n2", "db2", output=f"ok, {beat} connections")
        churned = await index_now(consul)
        assert churned > pool.index
        await until(lambda: pool.index >= churned)  # the pool has read the last churn
        assert changes.pending == 0
        await put(consul, "n2", "db2", output="ok, again", tags=["v2"])
        change = await next_change(changes)
        assert change.added == change.removed == ()
        [(before, after)] = change.updated
        assert (before.id, before.tags, after.tags) == ("db2", (), ("v2",))
        assert changes.pending == 0


async def test_weights_and_meta_changes_are_updates(consul: Consul) -> None:
    await put(consul, "n1", "db1")
    async with consul.discover("db") as pool:
        changes = pool.changes()
        await put(consul, "n1", "db1", weights={"Passing": 5, "Warning": 1})
        [(before, after)] = (await next_change(changes)).updated
        assert (before.weight, after.weight) == (1, 5)
        await put(consul, "n1", "db1", weights={"Passing": 5, "Warning": 1},
                  meta={"version": "2"})
        [(_, after)] = (await next_change(changes)).updated
        assert dict(after.meta) == {"version": "2"}


async def test_weighted_pick_honours_weights(consul: Consul) -> None:
    """In proportion to ``Weights.Passing`` (statistically, with a fixed seed)."""
    for n, weight in ((1, 1), (2, 3), (3, 6)):
        await put(consul, f"n{n}", f"db{n}", weights={"Passing": weight, "Warning": 1})
    async with consul.discover("db", seed=1234) as pool:
        picks = Counter(pool.pick().id for _ in range(20_000))
    shares = {sid: count / 20_000 for sid, count in picks.items()}
    assert shares == pytest.approx({"db1": 0.1, "db2": 0.3, "db3": 0.6}, abs=0.015)


async def test_the_same_seed_picks_the_same_sequence(consul: Consul) -> None:
    for n in (1, 2, 3):
        await put(consul, f"n{n}", f"db{n}")
    sequences = []
    for _ in range(2):
        async with consul.discover("db", strategy="random", seed=42) as pool:
            sequences.append([pool.pick().id for _ in range(30)])
    assert sequences[0] == sequences[1]
    assert set(sequences[0]) == {"db1", "db2", "db3"}


async def test_a_warning_instance_is_weighted_with_its_warning_weight(consul: Consul) -> None:
    """The default policy is Consul's DNS (agent/dns.go, ``findWeight``): a warning instance
    stays, with ``Weights.Warning``."""
    await put(consul, "n1", "db1", weights={"Passing": 9, "Warning": 1})
    await put(consul, "n2", "db2", status="warning", weights={"Passing": 9, "Warning": 1})
    async with consul.discover("db", seed=7) as pool:
        by_id = {i.id: i for i in pool.instances}
        assert (by_id["db1"].weight, by_id["db2"].weight) == (9, 1)
        assert by_id["db2"].status == "warning"
        picks = Counter(pool.pick().id for _ in range(10_000))
    assert picks["db2"] / 10_000 == pytest.approx(0.1, abs=0.015)


async def test_a_warning_instance_may_count_as_passing(consul: Consul) -> None:
    await put(consul, "n1", "db1", weights={"Passing": 9, "Warning": 1})
    await put(consul, "n2", "db2", status="warning", weights={"Passing": 9, "Warning": 1})
    async with consul.discover("db", warning="passing") as pool:
        assert [(i.id, i.status, i.weight) for i in pool.instances] == [
            ("db1", "passing", 9), ("db2", "warning", 9)]
        changes = pool.changes()
        # Its weight does not move when it turns passing: nothing to report.
        await put(consul, "n2", "db2", weights={"Passing": 9, "Warning": 1})
        await put(consul, "n1", "db1", weights={"Passing": 9, "Warning": 1}, tags=["t"])
        [(before, _)] = (await next_change(changes)).updated
        assert before.id == "db1"


async def test_a_warning_instance_may_be_excluded_with_passing(
        consul: Consul, agents: Callable[..., Any]) -> None:
    """``warning="exclude"`` is Consul's own ``?passing`` (``CheckServiceNodes.Filter``), so
    that is what the pool asks for."""
    await put(consul, "n1", "db1")
    await put(consul, "n2", "db2", status="warning")
    proxy = await agents()
    async with Consul(proxy.address) as client, \
            client.discover("db", warning="exclude") as pool:
        assert keys(pool.instances) == ["db1"]
        assert all("?passing" in path or "&passing" in path for path in proxy.paths("GET"))


async def test_a_warning_instance_that_recovers_is_an_update_under_weighted(
        consul: Consul) -> None:
    await put(consul, "n1", "db1", status="warning", weights={"Passing": 4, "Warning": 2})
    async with consul.discover("db") as pool:
        changes = pool.changes()
        await put(consul, "n1", "db1", weights={"Passing": 4, "Warning": 2})
        [(before, after)] = (await next_change(changes)).updated
        assert (before.weight, after.weight) == (2, 4)
        assert after.status == "passing"


async def test_passing_false_keeps_critical_instances_with_weight_zero(consul: Consul) -> None:
    await put(consul, "n1", "db1")
    await put(consul, "n2", "db2", status="critical")
    async with consul.discover("db", passing=False) as pool:
        assert [(i.id, i.weight) for i in pool.instances] == [("db1", 1), ("db2", 0)]
        assert {pool.pick().id for _ in range(200)} == {"db1"}
        pool.mark_failed(pool.instances[0])
        assert pool.pick().id == "db2"  # weight 0 only when nothing else is left


async def test_round_robin_takes_each_instance_in_turn(consul: Consul) -> None:
    for n in (1, 2, 3):
        await put(consul, f"n{n}", f"db{n}")
    async with consul.discover("db", strategy="round-robin") as pool:
        assert [pool.pick().id for _ in range(7)] == \
            ["db1", "db2", "db3", "db1", "db2", "db3", "db1"]


async def test_nearest_picks_by_round_trip_time(consul: Consul) -> None:
    """``?near=`` sorts by estimated RTT (agent/consul/rtt.go); the pool keeps that order and
    ``nearest`` takes the first instance that is not ejected."""
    for n in (1, 2, 3):
        await put(consul, f"n{n}", f"db{n}")
    for n, x in ((1, 0.0), (2, 0.050), (3, 0.010)):
        coord = {"Vec": [x, 0, 0, 0, 0, 0, 0, 0], "Error": 0.2, "Adjustment": 0.0,
                 "Height": 1e-5}
        await consul.coordinate.update(f"n{n}", coord)

    async def coordinates_applied() -> bool:  # applied by the agent's next batch
        nodes, _ = await consul.coordinate.nodes()
        return {entry["Node"] for entry in nodes} >= {"n1", "n2", "n3"}
    await until(coordinates_applied)
    async with consul.discover("db", near="n1", strategy="nearest") as pool:
        assert keys(pool.instances) == ["db1", "db3", "db2"]
        assert pool.pick().id == "db1"
        pool.mark_failed(pool.instances[0])
        assert pool.pick().id == "db3"
        assert pool.pick("round-robin").id in {"db3", "db2"}


async def test_nearest_needs_near(consul: Consul) -> None:
    await put(consul, "n1", "db1")
    async with consul.discover("db") as pool:
        with pytest.raises(ValueError, match="^strategy: 'nearest' needs"):
            pool.pick("nearest")
    assert Pool(consul, "db", strategy="nearest")._options["near"] == "_agent"


async def test_an_ejected_instance_is_skipped_until_its_time_is_over(consul: Consul) -> None:
    for n in (1, 2, 3):
        await put(consul, f"n{n}", f"db{n}")
    async with consul.discover("db", seed=3) as pool:
        db1, db2, _ = pool.instances
        pool.mark_failed(db1)
        assert keys(pool.available) == ["db2", "db3"]
        assert {pool.pick().id for _ in range(300)} == {"db2", "db3"}
        pool.mark_failed(db1, for_=0)  # ends the ejection
        assert keys(pool.available) == ["db1", "db2", "db3"]
        pool.mark_failed(db2, for_=0.05)
        await asyncio.sleep(0.1)  # at least the ejection's time has passed
        assert keys(pool.available) == ["db1", "db2", "db3"]


async def test_with_every_instance_ejected_pick_still_returns_one(consul: Consul) -> None:
    """Ejection is the client's guess: when it would leave nothing, all are candidates."""
    await put(consul, "n1", "db1")
    await put(consul, "n2", "db2")
    async with consul.discover("db", seed=5) as pool:
        for instance in pool.instances:
            pool.mark_failed(instance, for_="1m")
        assert pool.available == ()
        assert {pool.pick().id for _ in range(100)} == {"db1", "db2"}


async def test_an_instance_that_leaves_the_pool_is_forgotten_by_ejection(
        consul: Consul) -> None:
    await put(consul, "n1", "db1")
    await put(consul, "n2", "db2")
    async with consul.discover("db") as pool:
        changes = pool.changes()
        db2 = pool.instances[1]
        pool.mark_failed(db2)
        await consul.catalog.deregister("n2", service="db2")
        await next_change(changes)
        await put(consul, "n2", "db2")
        await next_change(changes)
        assert keys(pool.available) == ["db1", "db2"]


async def test_wait_ready_waits_for_enough_instances(consul: Consul) -> None:
    async with consul.discover("db") as pool:
        assert pool.instances == ()
        ready = asyncio.create_task(pool.wait_ready(2, timeout=BOUND))
        await put(consul, "n1", "db1")
        await put(consul, "n2", "db2")
        assert keys(await ready) == ["db1", "db2"]
        assert keys(await pool.wait_ready()) == ["db1", "db2"]  # at once


async def test_wait_ready_times_out_saying_how_many_there_are(consul: Consul) -> None:
    await put(consul, "n1", "db1")
    async with consul.discover("db") as pool:
        with pytest.raises(asyncio.TimeoutError,
                           match=r"^service 'db' has 1 passing or warning instances after "
                                 r"0.1s, 3 waited for$"):
            await pool.wait_ready(3, timeout=0.1)


async def test_pick_on_an_empty_pool_raises_a_clear_error(consul: Consul) -> None:
    async with consul.discover("db", warning="exclude") as pool:
        with pytest.raises(NoInstances, match="^no instance of service 'db' to pick: it has "
                                              "no passing instances$"):
            pool.pick()


async def test_a_failing_watch_says_so_and_keeps_its_last_view(
        consul: Consul, agents: Callable[..., Any]) -> None:
    await put(consul, "n1", "db1")
    proxy = await agents()
    async with Consul(proxy.address) as client, client.discover("db") as pool, \
            client.discover("cache") as empty:
        assert not pool.failing
        proxy.down = True
        # Wake both parked reads (writing directly at the agent): the churn wakes "db"; any
        # service write wakes a read of a service that does not exist, which watches the
        # whole catalog (agent/consul/state/catalog.go, maxIndexAndWatchChForService).
        # Their next reads meet an agent that is gone.
        await put(consul, "n1", "db1", output="still ok")
        await put(consul, "n2", "cache-other", service="other")
        await until(lambda: pool.failures >= 1 and empty.failures >= 1)
        assert pool.failing and isinstance(pool.last_error, TransportError)
        assert keys(pool.instances) == ["db1"] and pool.pick().id == "db1"
        with pytest.raises(NoInstances, match="the pool's watch has failed .* in a row"):
            empty.pick()
        with pytest.raises(asyncio.TimeoutError, match="the pool's watch has failed"):
            await empty.wait_ready(timeout=0.01)
        proxy.down = False
        await put(consul, "n1", "db1", tags=["back"])
        await until(lambda: not pool.failing)
        assert pool.instances[0].tags == ("back",)


def test_the_status_is_consuls_aggregated_status() -> None:
    """api/health.go, ``HealthChecks.AggregatedStatus``: maintenance before critical before
    warning; no check at all is passing."""
    def checks(*pairs: tuple[str, str]) -> list[dict[str, str]]:
        return [{"CheckID": check_id, "Status": status} for check_id, status in pairs]
    assert _status([]) == "passing"
    assert _status(checks(("serfHealth", "passing"), ("c", "warning"))) == "warning"
    assert _status(checks(("serfHealth", "critical"), ("c", "warning"))) == "critical"
    assert _status(checks(("c", "passing"), ("_service_maintenance:db1", "critical"))) == \
        "maintenance"
    assert _status(checks(("_node_maintenance", "critical"))) == "maintenance"


async def test_the_token_given_is_sent_with_every_read(
        serve: Callable[..., Awaitable[Any]]) -> None:
    async def agent(request: web.Request) -> web.Response:
        if request.query.get("index"):
            await asyncio.Event().wait()  # a blocking read that never returns
        return web.json_response([], headers={"X-Consul-Index": "7"})

    server = await serve(agent)
    async with Consul(server.address, token="the-clients") as client, \
            client.discover("db", token="the-pools"):
        await until(lambda: len(server.seen) >= 2)
    assert [r.headers.get("X-Consul-Token") for r in server.seen] == ["the-pools"] * 2


async def test_enter_raises_the_first_reads_error_and_leaves_nothing(unreachable: str) -> None:
    async with Consul(unreachable, retry=False) as client:
        with pytest.raises(TransportError):
            async with client.discover("db"):
                pass  # pragma: no cover - never entered
        assert our_tasks() == []


async def test_nothing_is_left_after_exit(consul: Consul, consul_agent: DevAgent) -> None:
    await put(consul, "n1", "db1")
    async with consul.discover("db") as pool:
        changes = pool.changes()
        await until(lambda: consul_agent.blocking_queries >= 1)
        assert len(our_tasks()) == 1
    assert not pool.running
    assert_nothing_left(consul)
    await until(lambda: consul_agent.blocking_queries == 0)
    with pytest.raises(StopAsyncIteration):
        await anext(changes)  # the iterator ended with the pool
    with pytest.raises(RuntimeError, match="closed"):
        pool.pick()


async def test_nothing_is_left_after_cancellation(consul: Consul, consul_agent: DevAgent) -> None:
    await put(consul, "n1", "db1")
    entered = asyncio.Event()
    seen: list[PoolChange] = []

    async def serve() -> None:
        async with consul.discover("db") as pool:
            entered.set()
            async for change in pool.changes():
                seen.append(change)  # pragma: no cover - nothing changes

    runner = asyncio.create_task(serve())
    await asyncio.wait_for(entered.wait(), BOUND)
    await until(lambda: consul_agent.blocking_queries >= 1)
    runner.cancel()
    with pytest.raises(asyncio.CancelledError):
        await runner
    assert_nothing_left(consul)
    await until(lambda: consul_agent.blocking_queries == 0)
    assert seen == []


async def test_arguments_are_checked_before_any_request(consul: Consul) -> None:
    with pytest.raises(ValueError, match="^warning: 'exclude' needs passing=True"):
        consul.discover("db", passing=False, warning="exclude")
    with pytest.raises(ValueError, match="^warning: expected one of"):
        consul.discover("db", warning="ignore")
    with pytest.raises(ValueError, match="^strategy: expected one of"):
        consul.discover("db", strategy="fastest")
    with pytest.raises(ValueError, match="^service: must not be empty"):
        consul.discover("")
    with pytest.raises(TypeError, match="^tag: expected a str or a list of str"):
        consul.discover("db", tag=3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="^eject_for: "):
        consul.discover("db", eject_for=-1)
