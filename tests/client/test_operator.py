"""``client.operator`` against a dev agent over HTTP (Go's ``api/operator_*.go``)."""

from __future__ import annotations

import base64

import pytest

from aioconsul import Consul
from aioconsul.errors import NotFound, ServerError
from aioconsul.testing import DevAgent

KEY1 = base64.b64encode(b"a" * 32).decode()
KEY2 = base64.b64encode(b"b" * 16).decode()


async def test_raft_configuration(consul: Consul, consul_agent: DevAgent) -> None:
    config, _ = await consul.operator.raft_configuration()
    (server,) = config["Servers"]
    assert (server["ID"], server["Leader"], server["Voter"]) == (
        consul_agent.node_id, True, True)
    stale, _ = await consul.operator.raft_configuration(consistency="stale")
    assert stale["Servers"][0]["ID"] == consul_agent.node_id


async def test_transfer_leader_with_one_server_fails(consul: Consul) -> None:
    with pytest.raises(ServerError, match="cannot find peer"):
        await consul.operator.transfer_leader()


async def test_remove_peer_needs_exactly_one_of_address_or_id(consul: Consul) -> None:
    with pytest.raises(ValueError, match="exactly one"):
        await consul.operator.remove_peer()
    with pytest.raises(ValueError, match="exactly one"):
        await consul.operator.remove_peer(address="a:1", id="x")
    with pytest.raises(ServerError, match="was not found in the Raft configuration"):
        await consul.operator.remove_peer(address="10.1.1.1:8300")


async def test_autopilot_cas(consul: Consul) -> None:
    config, _ = await consul.operator.autopilot_configuration()
    assert config["LastContactThreshold"] == "200ms"
    index = config["ModifyIndex"]
    ok, _ = await consul.operator.set_autopilot_configuration({"MaxTrailingLogs": 500}, cas=index)
    assert ok is True
    lost, _ = await consul.operator.set_autopilot_configuration({"MaxTrailingLogs": 1}, cas=index)
    assert lost is False
    config, _ = await consul.operator.autopilot_configuration()
    assert config["MaxTrailingLogs"] == 500


async def test_autopilot_inputs_checked_before_sending(consul: Consul) -> None:
    with pytest.raises(ValueError, match="unknown autopilot fields"):
        await consul.operator.set_autopilot_configuration({"Bogus": 1})
    with pytest.raises(ValueError, match="cas"):
        await consul.operator.set_autopilot_configuration({}, cas=-1)
    with pytest.raises(TypeError, match="config"):
        await consul.operator.set_autopilot_configuration([])  # type: ignore[arg-type]


async def test_autopilot_health_and_state(consul: Consul, consul_agent: DevAgent) -> None:
    health, _ = await consul.operator.autopilot_health()
    assert health["Healthy"] is True
    assert health["Servers"][0]["ID"] == consul_agent.node_id
    state, _ = await consul.operator.autopilot_state()
    assert state["Leader"] == consul_agent.node_id


async def test_usage(consul: Consul) -> None:
    await consul.agent.services.register("web", port=80)
    usage, meta = await consul.operator.usage()
    counts = usage["Usage"]["dc1"]
    assert counts["ServiceInstances"] == 2
    assert counts["BillableServiceInstances"] == 1
    assert meta["Index"] == usage["Index"]


async def test_keyring_without_encryption_is_a_server_error(consul: Consul) -> None:
    with pytest.raises(ServerError, match="encryption not enabled"):
        await consul.operator.keyring_list()


async def test_keyring_rotation() -> None:
    async with DevAgent(encrypt=KEY1) as agent, Consul(agent.address) as client:
        pools, _ = await client.operator.keyring_list()
        assert [p["PrimaryKeys"] for p in pools] == [{KEY1: 1}, {KEY1: 1}]
        await client.operator.keyring_install(KEY2)
        await client.operator.keyring_use(KEY2)
        with pytest.raises(ServerError, match="Removing the primary key is not allowed"):
            await client.operator.keyring_remove(KEY2)
        await client.operator.keyring_remove(KEY1, relay_factor=2)
        local, _ = await client.operator.keyring_list(local_only=True)
        assert [p["Keys"] for p in local] == [{KEY2: 1}]


async def test_keyring_inputs_checked_before_sending(consul: Consul) -> None:
    with pytest.raises(ValueError, match="relay_factor"):
        await consul.operator.keyring_list(relay_factor=6)
    with pytest.raises(TypeError, match="relay_factor"):
        await consul.operator.keyring_list(relay_factor="1")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="key: must not be empty"):
        await consul.operator.keyring_install("")


@pytest.mark.parametrize("call", [
    lambda c: c.operator.areas(),
    lambda c: c.operator.area_get("0b3a4b0e-0000-4000-8000-000000000000"),
    lambda c: c.operator.segments(),
    lambda c: c.operator.license(),
    lambda c: c.operator.utilization(),
])
async def test_enterprise_methods_are_404_on_ce(consul: Consul, call: object) -> None:
    with pytest.raises(NotFound):
        await call(consul)  # type: ignore[operator]
