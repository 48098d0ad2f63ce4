"""``client.coordinate`` against an agent over HTTP (website/content/api-docs/coordinate.mdx)."""

from __future__ import annotations

import asyncio

from aioconsul import Consul
from aioconsul.api.coordinate import rtt

COORD = {"Vec": [0.001, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], "Error": 0.5, "Adjustment": 0.0,
         "Height": 1e-05}


async def test_datacenters_lists_this_datacenter(consul: Consul) -> None:
    datacenters = await consul.coordinate.datacenters()
    assert [dc["Datacenter"] for dc in datacenters] == ["dc1"]


async def test_update_then_read_a_node_coordinate(consul: Consul) -> None:
    await consul.catalog.register("far", address="10.9.9.9")
    _, meta = await consul.coordinate.nodes()
    waiter = asyncio.create_task(consul.coordinate.nodes(watch=(meta, "10s")))
    await asyncio.sleep(0.05)
    await consul.coordinate.update("far", COORD)
    nodes, _ = await asyncio.wait_for(waiter, 5)
    assert "far" in [n["Node"] for n in nodes]
    coords, _ = await consul.coordinate.node("far")
    assert coords[0]["Coord"]["Vec"] == COORD["Vec"]
    assert rtt(coords[0], COORD) == 2e-05


async def test_node_without_coordinates_is_an_empty_list(consul: Consul) -> None:
    coords, _ = await consul.coordinate.node("nobody")
    assert coords == []
