"""HTTP endpoints of the coordinate group (``/v1/coordinate/...``).

Each handler follows ``agent/coordinate_endpoint.go`` and ``agent/consul/coordinate_endpoint.go``
(segments, the WAN view of the one datacenter, ``PUT /v1/coordinate/update`` validation).
Coordinates are Go float64s on the wire (``json_floats``). ACLs as the RPC half has them:
``Coordinate.ListNodes`` drops the nodes the token may not ``node:read`` (filterCoordinates),
``Coordinate.Node`` wants ``node:read`` on the node before its query, ``Coordinate.Update``
``node:write`` after the coordinate checks, and ``Coordinate.ListDatacenters`` resolves no token.

State is read from ``state/catalog.py``; this module never imports another endpoint module.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from ..acl import filter as aclfilter
from ..acl.authorizer import Permission
from ..backend import Backend
from ..http.acl import authorize, request_token
from ..http.query import (
    Record,
    Result,
    decode_body,
    ent_meta,
    forward,
    parse,
    partition_only,
    rpc,
    tail,
)
from ..http.reply import Context, Reply, Route, json_floats
from ..local.state import ORIGIN
from ..state.catalog import COORDINATES
from ..state.memdb import RPCError
from ..structs.bodies import coordinate_update

__all__ = ["ROUTES"]


_DIMENSIONALITY: Final = 8  # coordinate.DefaultConfig().Dimensionality


def _segment_filter(ctx: Context, coords: list[Record]) -> list[Record]:
    """filterCoordinates: ``?segment=`` keeps one segment."""
    if "segment" not in ctx.query:
        return coords
    segment = ctx.query.get("segment")
    return [c for c in coords if c["Segment"] == segment]


async def coordinate_datacenters(api: Backend, ctx: Context) -> Reply:
    """CoordinateDatacenters: the WAN coordinates of this datacenter's one server."""
    node = {"Node": api.node_name, "Segment": "", "Coord": dict(ORIGIN)}
    return json_floats(
        ctx, [{"Datacenter": api.datacenter, "AreaID": "wan", "Coordinates": [node]}]
    )


async def coordinate_nodes(api: Backend, ctx: Context) -> Reply:
    """CoordinateNodes + Coordinate.ListNodes."""
    opts = parse(api, ctx)
    partition_only(ctx)
    catalog = api.catalog

    def prepare() -> Callable[[], Result[list[Record]]]:
        authz = authorize(api, ctx)
        token = request_token(api, ctx)

        def query() -> Result[list[Record]]:
            index, coords = catalog.coordinates()
            kept, hidden = aclfilter.coordinates(authz, [dict(c) for c in coords])
            return Result(index, kept, (COORDINATES,), filtered=aclfilter.mask(token, hidden))

        return query

    result = await rpc(api, ctx, opts, prepare)
    return json_floats(ctx, _segment_filter(ctx, result.value))


async def coordinate_node(api: Backend, ctx: Context) -> Reply:
    """CoordinateNode + Coordinate.Node: 404 with an empty body when there is none."""
    node = tail(ctx, "/v1/coordinate/node/")
    opts = parse(api, ctx)
    partition_only(ctx)
    catalog = api.catalog

    def prepare() -> Callable[[], Result[list[Record]]]:
        authorize(api, ctx).require(Permission.NODE_READ, node)

        def query() -> Result[list[Record]]:
            index, coords = catalog.coordinate(node)
            out = [{"Node": node, "Segment": s, "Coord": c} for s, c in coords.items()]
            return Result(index, out, (COORDINATES,))

        return query

    result = await rpc(api, ctx, opts, prepare)
    coords = _segment_filter(ctx, result.value)
    if not coords:
        return Reply(404)
    return json_floats(ctx, coords)


async def coordinate_update_endpoint(api: Backend, ctx: Context) -> Reply:
    """CoordinateUpdate + Coordinate.Update: queued, applied by the next batch (100 ms)."""
    args = await decode_body(ctx, coordinate_update)
    datacenter = ctx.query.get("dc") or api.datacenter
    ent_meta(ctx)
    forward(api, datacenter)
    coord = args.get("Coord")
    # A missing Coord makes Consul dereference a nil pointer (the request dies); an update
    # whose vector has another dimensionality is refused as incompatible.
    if coord is None:
        raise RPCError("invalid coordinate")
    if len(coord.get("Vec") or ()) != _DIMENSIONALITY:
        raise RPCError("incompatible coordinate")
    authorize(api, ctx).require(Permission.NODE_WRITE, args.get("Node", ""))
    update = {
        "Node": args.get("Node", ""),
        "Segment": args.get("Segment", ""),
        "Coord": {
            "Vec": list(coord.get("Vec") or ()),
            "Error": coord.get("Error", 0.0),
            "Adjustment": coord.get("Adjustment", 0.0),
            "Height": coord.get("Height", 0.0),
        },
    }
    api.local.queue_coordinate(update)
    return Reply()


ROUTES: Final[tuple[Route, ...]] = (
    Route.of("/v1/coordinate/datacenters", ("GET",), coordinate_datacenters,
             no_acl="Coordinate.ListDatacenters resolves no token"),
    Route.of("/v1/coordinate/nodes", ("GET",), coordinate_nodes),
    Route.of("/v1/coordinate/node/", ("GET",), coordinate_node),
    Route.of("/v1/coordinate/update", ("PUT",), coordinate_update_endpoint),
)
