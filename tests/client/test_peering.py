"""``client.peering`` against dev agents (``api/peering.go``, ``api/exported_services.go``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

import aioconsul
from aioconsul import Consul
from aioconsul.testing import DevAgent


@pytest_asyncio.fixture
async def peer_agent() -> AsyncIterator[Consul]:
    """A second cluster (datacenter dc2) and a client for it."""
    async with DevAgent(node_name="node-b", datacenter="dc2") as agent, \
            Consul(agent.address) as client:
        yield client


async def _export_web(consul: Consul, peer: str) -> None:
    await consul.agent.services.register({"Name": "web", "ID": "web1", "Port": 80})
    await consul.config_entries.apply({
        "Kind": "exported-services", "Name": "default",
        "Services": [{"Name": "web", "Consumers": [{"Peer": peer}]}],
    })


async def test_generate_token_creates_a_pending_peering(consul: Consul) -> None:
    token = await consul.peering.generate_token("east", meta={"env": "dev"})
    assert isinstance(token, str) and token
    peering, meta = await consul.peering.get("east")
    assert peering is not None
    assert peering["State"] == "PENDING" and peering["Meta"] == {"env": "dev"}
    assert meta["Index"] == peering["ModifyIndex"]
    items, _ = await consul.peering.items()
    assert [p["Name"] for p in items] == ["east"]


async def test_get_of_a_missing_peering_is_none(consul: Consul) -> None:
    """Peerings.Read: a 404 is "no peering", not an error."""
    peering, _ = await consul.peering.get("missing")
    assert peering is None
    assert (await consul.peering.items())[0] == []


async def test_two_clusters_peer_and_share_a_service(
    consul: Consul, peer_agent: Consul
) -> None:
    await _export_web(consul, "west")
    token = await consul.peering.generate_token("west")
    await peer_agent.peering.establish("east", token)
    ours, _ = await consul.peering.get("west")
    theirs, _ = await peer_agent.peering.get("east")
    assert ours is not None and theirs is not None
    assert ours["State"] == theirs["State"] == "ACTIVE"
    assert theirs["StreamStatus"]["ImportedServices"] == ["web"]
    nodes, _ = await peer_agent.health.service("web", peer="east")
    assert [(n["Service"]["ID"], n["Service"]["PeerName"]) for n in nodes] == [("web1", "east")]
    exported, _ = await consul.peering.exported_services()
    assert exported == [{"Service": "web", "Consumers": {"Peers": ["west"]}}]


async def test_delete_marks_then_removes(consul: Consul, peer_agent: Consul) -> None:
    """Delete answers at once; the peering is DELETING until the leader removed it, and the
    other side becomes TERMINATED."""
    token = await consul.peering.generate_token("west")
    await peer_agent.peering.establish("east", token)
    _, meta = await consul.peering.get("west")
    watch = asyncio.ensure_future(consul.peering.get("west", watch=meta))
    await asyncio.sleep(0)
    await consul.peering.delete("west")
    marked, _ = await watch
    if marked is not None:  # the read woke on the mark; the removal follows
        assert marked["State"] == "DELETING"
    assert (await consul.peering.get("west"))[0] is None
    theirs, _ = await peer_agent.peering.get("east")
    assert theirs is not None and theirs["State"] == "TERMINATED"
    await consul.peering.delete("west")  # a missing peering: nothing to do


async def test_a_reused_token_is_refused(consul: Consul, peer_agent: Consul) -> None:
    token = await consul.peering.generate_token("west")
    await peer_agent.peering.establish("east", token)
    with pytest.raises(aioconsul.ServerError, match="a new peering token must be generated"):
        await peer_agent.peering.establish("east", token)


@pytest.mark.parametrize(("call", "error", "text"), [
    (lambda c: c.peering.generate_token(""), ValueError, "peer_name"),
    (lambda c: c.peering.generate_token("Upper"), ValueError, "peer_name"),
    (lambda c: c.peering.generate_token(5), TypeError, "peer_name"),
    (lambda c: c.peering.generate_token("b", meta=["x"]), TypeError, "meta"),
    (lambda c: c.peering.generate_token("b", server_external_addresses="1.2.3.4:1"),
     TypeError, "server_external_addresses"),
    (lambda c: c.peering.generate_token("b", server_external_addresses=["1.2.3.4"]),
     ValueError, "server_external_addresses"),
    (lambda c: c.peering.establish("b", ""), ValueError, "peering_token"),
    (lambda c: c.peering.establish("b", None), TypeError, "peering_token"),
    (lambda c: c.peering.get(""), ValueError, "name"),
    (lambda c: c.peering.delete(None), TypeError, "name"),
])
async def test_bad_input_is_refused_before_a_request(
    consul: Consul, call: Any, error: type[Exception], text: str
) -> None:
    with pytest.raises(error, match=text):
        await call(consul)
    assert (await consul.peering.items())[0] == []
