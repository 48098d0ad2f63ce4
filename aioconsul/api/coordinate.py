"""Network coordinates: ``/v1/coordinate/*`` — the Vivaldi coordinates behind ``near`` sorting.

Estimate the round-trip time between two nodes with :func:`rtt`, which computes Consul's
distance (``lib.ComputeDistance``) from two coordinates.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from .._core import normalize
from .._core.core import Endpoint
from .._core.request import id_path
from ..typing import Blocking, Collection, Consistency, Meta, ObjectID

__all__ = ["Coordinate", "rtt"]


def rtt(a: Mapping[str, Any], b: Mapping[str, Any]) -> float:
    """Estimated round-trip time in seconds between two coordinates (``Coord`` objects, or
    entries with a ``Coord``), as Consul's ``lib.ComputeDistance`` computes it."""
    first = a.get("Coord", a)
    second = b.get("Coord", b)
    vec_a, vec_b = first["Vec"], second["Vec"]
    if len(vec_a) != len(vec_b):
        raise ValueError("a, b: coordinates of different dimensions")
    distance = math.sqrt(sum((x - y) ** 2 for x, y in zip(vec_a, vec_b, strict=True)))
    distance += first["Height"] + second["Height"]
    adjusted = distance + first["Adjustment"] + second["Adjustment"]
    if adjusted > 0.0:
        distance = adjusted
    return float(distance)


class Coordinate(Endpoint):
    """``client.coordinate``: the network coordinates of servers and nodes. Every method takes
    ``token``: the ACL token of that call, instead of the client's."""

    __slots__ = ()

    async def datacenters(self, *, token: str | None = None) -> Collection:
        """The WAN coordinates of each datacenter's servers (``GET /v1/coordinate/datacenters``)."""
        data, _ = await self._core.request("GET", "/v1/coordinate/datacenters", token=token,
                                           with_meta=False)
        return list(data or [])

    async def nodes(
        self,
        *,
        segment: str | None = None,
        dc: str | None = None,
        partition: str | None = None,
        consistency: Consistency | str | None = None,
        watch: Blocking | None = None,
        token: str | None = None,
    ) -> tuple[Collection, Meta]:
        """The LAN coordinates of every node (``GET /v1/coordinate/nodes``)."""
        params = [("segment", segment)] if segment is not None else []
        data, meta = await self._core.request(
            "GET", "/v1/coordinate/nodes", params=params, dc=dc, partition=partition,
            consistency=consistency, watch=watch, token=token,
        )
        return (data or []), meta

    async def node(
        self,
        node: ObjectID,
        *,
        segment: str | None = None,
        dc: str | None = None,
        partition: str | None = None,
        consistency: Consistency | str | None = None,
        watch: Blocking | None = None,
        token: str | None = None,
    ) -> tuple[Collection, Meta]:
        """The coordinates of one node, one per segment (``GET /v1/coordinate/node/<node>``);
        ``([], meta)`` when the node has none."""
        params = [("segment", segment)] if segment is not None else []
        data, meta = await self._core.request(
            "GET", id_path("/v1/coordinate/node/", node, "node", "Node"), params=params, dc=dc,
            partition=partition, consistency=consistency, watch=watch, missing_ok=True,
            token=token,
        )
        return (data or []), meta

    async def update(
        self,
        node: ObjectID,
        coord: Mapping[str, Any],
        *,
        segment: str | None = None,
        dc: str | None = None,
        partition: str | None = None,
        token: str | None = None,
    ) -> None:
        """Set a node's LAN coordinate (``PUT /v1/coordinate/update``).

        ``coord`` is ``{"Vec": [...], "Error", "Adjustment", "Height"}``, as Consul returns it.
        """
        if not isinstance(coord, Mapping):
            raise TypeError(f"coord: expected a mapping, got {type(coord).__name__}")
        body: dict[str, Any] = {"Node": normalize.object_id(node, "node", "Node"),
                                "Coord": dict(coord.get("Coord", coord))}
        if segment is not None:
            body["Segment"] = segment
        await self._core.request("PUT", "/v1/coordinate/update", json=body, dc=dc,
                                 partition=partition, idempotent=True, token=token)
