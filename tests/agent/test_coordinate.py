"""Network coordinates: agent/coordinate_endpoint.go and agent/consul/coordinate_endpoint.go
(updates are queued and applied in batches every ``coordinate.update_period``, 100 ms in -dev)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from .conftest import Api

NODE = "aioconsul-dev"
COORD = {"Vec": [0.001] + [0.0] * 7, "Error": 0.2, "Adjustment": 0.0, "Height": 1e-05}


async def update(api: Api, **body: Any) -> int:
    return (await api.put("/v1/coordinate/update", json.dumps(body))).status


async def nodes_when(api: Api, count: int) -> list[dict[str, Any]]:
    for _ in range(100):
        nodes: list[dict[str, Any]] = (await api.get("/v1/coordinate/nodes")).json()
        if len(nodes) == count:
            return nodes
        await asyncio.sleep(0.02)
    raise AssertionError("coordinates never appeared")


async def test_new_agent_has_no_coordinates_yet(api: Api) -> None:
    """Agent.sendCoordinate first runs after sync_coordinate_interval_min plus a stagger."""
    assert (await api.get("/v1/coordinate/nodes")).json() == []


async def test_node_without_coordinate_is_a_404(api: Api) -> None:
    reply = await api.get(f"/v1/coordinate/node/{NODE}")
    assert (reply.status, reply.body) == (404, b"")


async def test_update_is_applied_by_the_batcher(api: Api) -> None:
    assert await update(api, Node=NODE, Coord=COORD) == 200
    assert await nodes_when(api, 1) == [{"Node": NODE, "Segment": "", "Coord": COORD}]
    (one,) = (await api.get(f"/v1/coordinate/node/{NODE}")).json()
    assert one["Coord"] == COORD


async def test_update_for_an_unknown_node_is_dropped(api: Api) -> None:
    """state.CoordinateBatchUpdate skips nodes that are not registered."""
    assert await update(api, Node="ghost", Coord=COORD) == 200
    assert await update(api, Node=NODE, Coord=COORD) == 200
    assert [e["Node"] for e in await nodes_when(api, 1)] == [NODE]


async def test_update_with_another_dimensionality_is_refused(api: Api) -> None:
    coord = dict(COORD, Vec=[0.0, 0.0])
    reply = await api.put("/v1/coordinate/update", json.dumps({"Node": NODE, "Coord": coord}))
    assert (reply.status, reply.text) == (500, "incompatible coordinate")


async def test_blocking_nodes_query_wakes_on_applied_updates(api: Api) -> None:
    index = (await api.get("/v1/coordinate/nodes")).index
    waiter = asyncio.ensure_future(api.get(f"/v1/coordinate/nodes?index={index}&wait=5s"))
    await asyncio.sleep(0.02)
    await update(api, Node=NODE, Coord=COORD)
    reply = await asyncio.wait_for(waiter, 2)
    assert [e["Node"] for e in reply.json()] == [NODE]


async def test_coordinates_are_written_as_go_writes_float64(api: Api) -> None:
    """encoding/json: 'f' format between 1e-6 and 1e21, no trailing ".0"."""
    await update(api, Node=NODE, Coord=COORD)
    await nodes_when(api, 1)
    body = (await api.get(f"/v1/coordinate/node/{NODE}")).text
    assert '"Vec":[0.001,0,0,0,0,0,0,0],"Error":0.2,"Adjustment":0,"Height":0.00001' in body


async def test_datacenters_lists_the_wan_coordinates_of_the_server(api: Api) -> None:
    (dc,) = (await api.get("/v1/coordinate/datacenters")).json()
    assert (dc["Datacenter"], dc["AreaID"]) == ("dc1", "wan")
    assert [c["Node"] for c in dc["Coordinates"]] == [NODE]
