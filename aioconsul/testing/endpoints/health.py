"""HTTP endpoints of the health group (``/v1/health/...``).

Each handler follows ``agent/health_endpoint.go`` and ``agent/consul/health_endpoint.go``: the
check lists by node, service and state, and the service health of ``/v1/health/service``,
``/connect`` and ``/ingress`` (``?passing``, tags, node-meta, ``?filter=``, ``?near=``). Where
Consul sets the response metadata in a deferred ``setMeta``, an RPC error still carries
``X-Consul-Index: 1`` and ``X-Consul-KnownLeader: false``.

State is read from ``state/catalog.py``; this module never imports another endpoint module.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from ..backend import Backend
from ..golang.bexpr import Filter
from ..http.query import (
    Record,
    Result,
    ent_meta,
    filtered_rpc,
    parse,
    parse_bool,
    parse_meta_filter,
    parse_near,
    parse_tags,
    required_tail,
    sort_near,
)
from ..http.reply import Context, HTTPError, Reply, Route
from ..state.catalog import CHECKS, NODES, SERVICES, node_json
from ..state.memdb import Channel
from ..structs.catalog import (
    CHECK_SCHEMA,
    CHECK_SERVICE_NODE_SCHEMA,
    check_out,
    meta_satisfies,
    node_service_out,
)

__all__ = ["ROUTES"]


async def health_node_checks(api: Backend, ctx: Context) -> Reply:
    """HealthNodeChecks + Health.NodeChecks."""
    ent_meta(ctx)
    opts = parse(api, ctx)
    node = required_tail(ctx, "/v1/health/node/", "Missing node name")
    catalog = api.catalog

    def query(bexpr: Filter) -> Result[list[Record]]:
        index, checks = catalog.node_checks(node)
        out = [c for c in map(check_out, checks) if bexpr.matches(c)]
        return Result(index, out, (CHECKS,))

    return await filtered_rpc(api, ctx, opts, CHECK_SCHEMA, query)


async def _health_checks(
    api: Backend,
    ctx: Context,
    prefix: str,
    missing: str,
    lookup: Callable[[str, dict[str, str] | None], tuple[int, list[Record]]],
    meta_channels: tuple[Channel, ...],
) -> Reply:
    """The check lists by service and by state: node-meta filtered, ``?near=`` sorted."""
    ent_meta(ctx)
    near = parse_near(api, ctx)
    meta = parse_meta_filter(ctx)
    opts = parse(api, ctx)
    name = required_tail(ctx, prefix, missing)

    def query(bexpr: Filter) -> Result[list[Record]]:
        index, checks = lookup(name, meta)
        out = [c for c in map(check_out, checks) if bexpr.matches(c)]
        sort_near(api, near, out, lambda c: c["Node"])
        return Result(index, out, meta_channels if meta else (CHECKS,))

    return await filtered_rpc(api, ctx, opts, CHECK_SCHEMA, query)


async def health_service_checks(api: Backend, ctx: Context) -> Reply:
    """HealthServiceChecks + Health.ServiceChecks."""
    where, lookup = "/v1/health/checks/", api.catalog.service_checks
    channels = (CHECKS, SERVICES, NODES)
    return await _health_checks(api, ctx, where, "Missing service name", lookup, channels)


async def health_checks_in_state(api: Backend, ctx: Context) -> Reply:
    """HealthChecksInState + Health.ChecksInState (``any`` for all; no other word is refused)."""
    where, lookup = "/v1/health/state/", api.catalog.checks_in_state
    return await _health_checks(api, ctx, where, "Missing check state", lookup, (CHECKS, NODES))


async def _health_service_nodes(api: Backend, ctx: Context, kind: str) -> Reply:
    """healthServiceNodes for ``service``, ``connect`` and ``ingress``."""
    ent_meta(ctx)
    near = parse_near(api, ctx)
    meta = parse_meta_filter(ctx)
    opts = parse(api, ctx)
    peer = ctx.query.get("peer")
    if ctx.query.get("sameness-group") and peer:
        raise HTTPError(400, "peer-name and sameness-group are mutually exclusive")
    tags = parse_tags(ctx)
    name = required_tail(ctx, f"/v1/health/{kind}/", "Missing service name")
    passing = False
    if "passing" in ctx.query:
        raw = ctx.query.get("passing")
        parsed = True if raw == "" else parse_bool(raw)
        if parsed is None:
            raise HTTPError(400, "Invalid value for ?passing")
        passing = parsed
    catalog = api.catalog

    def query(bexpr: Filter) -> Result[list[Record]]:
        if kind == "ingress" or peer:
            # No ingress gateway has services without config entries; no peer exists.
            return Result(0, [], (SERVICES, NODES, CHECKS))
        index, rows = catalog.check_service_nodes(name, tags=tags, connect=kind == "connect")
        if meta:
            rows = [r for r in rows if meta_satisfies(r[0]["Meta"], meta)]
        out = []
        for node, svc, checks in rows:
            item = {
                "Node": node_json(node),
                "Service": node_service_out(svc),
                "Checks": [check_out(c) for c in checks],
            }
            if not bexpr.matches(item):
                continue
            if passing and any(c["Status"] != "passing" for c in checks):
                continue
            out.append(item)
        sort_near(api, near, out, lambda i: i["Node"]["Node"])
        return Result(index, out, (SERVICES, NODES, CHECKS))

    schema = CHECK_SERVICE_NODE_SCHEMA
    return await filtered_rpc(api, ctx, opts, schema, query, deferred_meta=False)


async def health_service_nodes(api: Backend, ctx: Context) -> Reply:
    """GET /v1/health/service/:service."""
    return await _health_service_nodes(api, ctx, "service")


async def health_connect_nodes(api: Backend, ctx: Context) -> Reply:
    """GET /v1/health/connect/:service."""
    return await _health_service_nodes(api, ctx, "connect")


async def health_ingress_nodes(api: Backend, ctx: Context) -> Reply:
    """GET /v1/health/ingress/:service."""
    return await _health_service_nodes(api, ctx, "ingress")


ROUTES: Final[tuple[Route, ...]] = (
    Route.of("/v1/health/node/", ("GET",), health_node_checks),
    Route.of("/v1/health/checks/", ("GET",), health_service_checks),
    Route.of("/v1/health/state/", ("GET",), health_checks_in_state),
    Route.of("/v1/health/service/", ("GET",), health_service_nodes),
    Route.of("/v1/health/connect/", ("GET",), health_connect_nodes),
    Route.of("/v1/health/ingress/", ("GET",), health_ingress_nodes),
)
