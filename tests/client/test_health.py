"""``client.health`` against an agent over HTTP (website/content/api-docs/health.mdx,
agent/health_endpoint.go: aggregation, ``passing``, nil slices as ``[]``)."""

from __future__ import annotations

import asyncio

import pytest

from aioconsul import Consul


async def register(consul: Consul, node: str, service_id: str, status: str,
                   tags: list[str] | None = None) -> None:
    await consul.catalog.register(
        node, address="10.0.0.9",
        service={"ID": service_id, "Service": "api", "Port": 80, "Tags": tags or []},
        check={"CheckID": f"check-{service_id}", "Name": "probe", "Status": status,
               "ServiceID": service_id},
    )


async def test_service_entries_carry_node_service_and_checks(consul: Consul) -> None:
    await register(consul, "n1", "api-1", "passing", ["v1"])
    entries, meta = await consul.health.service("api")
    assert len(entries) == 1 and meta["Index"] > 0
    entry = entries[0]
    assert entry["Node"]["Node"] == "n1"
    assert entry["Service"]["ID"] == "api-1" and entry["Service"]["Tags"] == ["v1"]
    assert [c["CheckID"] for c in entry["Checks"]] == ["check-api-1"]


async def test_passing_keeps_only_instances_whose_every_check_passes(consul: Consul) -> None:
    await register(consul, "n1", "api-1", "passing")
    await register(consul, "n2", "api-2", "warning")
    await register(consul, "n3", "api-3", "critical")
    everything, _ = await consul.health.service("api")
    assert sorted(e["Service"]["ID"] for e in everything) == ["api-1", "api-2", "api-3"]
    passing, _ = await consul.health.service("api", passing=True)
    assert [e["Service"]["ID"] for e in passing] == ["api-1"]


async def test_tags_of_a_service_without_tags_are_an_empty_list(consul: Consul) -> None:
    await register(consul, "n1", "api-1", "passing")
    entries, _ = await consul.health.service("api")
    assert entries[0]["Service"]["Tags"] == []


async def test_checks_of_a_service(consul: Consul) -> None:
    await register(consul, "n1", "api-1", "warning")
    checks, _ = await consul.health.checks("api")
    assert [(c["CheckID"], c["Status"], c["ServiceName"]) for c in checks] == [
        ("check-api-1", "warning", "api")]


async def test_node_checks(consul: Consul) -> None:
    await register(consul, "n1", "api-1", "critical")
    checks, _ = await consul.health.node("n1")
    assert [(c["CheckID"], c["Status"]) for c in checks] == [("check-api-1", "critical")]


@pytest.mark.parametrize("state, expected", [
    ("critical", ["check-api-3"]), ("warning", ["check-api-2"]),
    ("passing", ["check-api-1", "serfHealth"]),
])
async def test_state_lists_checks_in_that_state(consul: Consul, state: str,
                                                expected: list[str]) -> None:
    await register(consul, "n1", "api-1", "passing")
    await register(consul, "n2", "api-2", "warning")
    await register(consul, "n3", "api-3", "critical")
    checks, _ = await consul.health.state(state)
    assert sorted(c["CheckID"] for c in checks) == expected


async def test_state_any_lists_every_check(consul: Consul) -> None:
    await register(consul, "n1", "api-1", "critical")
    checks, _ = await consul.health.state()
    assert sorted(c["CheckID"] for c in checks) == ["check-api-1", "serfHealth"]


async def test_filter_on_health_service(consul: Consul) -> None:
    await register(consul, "n1", "api-1", "passing", ["v1"])
    await register(consul, "n2", "api-2", "passing", ["v2"])
    entries, _ = await consul.health.service("api", filter='"v2" in Service.Tags')
    assert [e["Service"]["ID"] for e in entries] == ["api-2"]


async def test_blocking_health_wakes_when_a_check_changes(consul: Consul) -> None:
    await register(consul, "n1", "api-1", "passing")
    _, meta = await consul.health.service("api", passing=True)
    waiter = asyncio.create_task(consul.health.service("api", passing=True, watch=(meta, "10s")))
    await asyncio.sleep(0.05)
    assert not waiter.done()
    await register(consul, "n1", "api-1", "critical")
    entries, new_meta = await asyncio.wait_for(waiter, 5)
    assert entries == [] and new_meta["Index"] > meta["Index"]


async def test_unknown_state_is_refused_before_sending(unreachable: str) -> None:
    async with Consul(unreachable) as client:
        with pytest.raises(ValueError, match="^state: "):
            await client.health.state("broken")
        with pytest.raises(TypeError, match="^passing: "):
            await client.health.service("api", passing="yes")  # type: ignore[arg-type]
