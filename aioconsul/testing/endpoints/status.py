"""HTTP endpoints of the status group (``/v1/status/...``): ``agent/status_endpoint.go``.

``Status.Leader`` and ``Status.Peers`` (``agent/consul/status_endpoint.go``) only forward to
another datacenter: they resolve no token and check nothing, so any request may read them.
"""

from __future__ import annotations

from typing import Final

from ..backend import Backend
from ..http.query import forward, parse
from ..http.reply import Context, Reply, Route

__all__ = ["ROUTES"]


async def _status_leader(api: Backend, ctx: Context) -> Reply:
    opts = parse(api, ctx)
    forward(api, opts.datacenter)
    return ctx.json("127.0.0.1:8300")


async def _status_peers(api: Backend, ctx: Context) -> Reply:
    opts = parse(api, ctx)
    forward(api, opts.datacenter)
    return ctx.json(["127.0.0.1:8300"])


ROUTES: Final[tuple[Route, ...]] = (
    Route.of("/v1/status/leader", ("GET",), _status_leader,
             no_acl="Status.Leader resolves no token"),
    Route.of("/v1/status/peers", ("GET",), _status_peers,
             no_acl="Status.Peers resolves no token"),
)
