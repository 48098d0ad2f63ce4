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

from ..acl import filter as aclfilter
from ..acl.authorizer import Permission
from ..backend import Backend
from ..golang.bexpr import Filter
from ..http.acl import authorize, request_token
from ..http.cache import cached_rpc
from ..http.peering import peer_check_service_nodes
from ..http.query import (
    Record,
    Result,
    build_filter,
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
    """HealthNodeChecks + Health.NodeChecks: the filter is compiled, the token resolved; each
    run hides the checks whose node or service the token may not read, then ``?filter=``."""
    ent_meta(ctx)
    opts = parse(api, ctx)
    node = required_tail(ctx, "/v1/health/node/", "Missing node name")
    catalog = api.catalog
    token = request_token(api, ctx)

    def query(bexpr: Filter) -> Result[list[Record]]:
        authz = authorize(api, ctx)
        index, checks = catalog.node_checks(node)
        shown, hidden = aclfilter.health_checks(authz, [check_out(c) for c in checks])
        out = [c for c in shown if bexpr.matches(c)]
        return Result(index, out, (CHECKS,), filtered=aclfilter.mask(token, hidden))

    return await filtered_rpc(api, ctx, opts, CHECK_SCHEMA, query)


async def _health_checks(
    api: Backend,
    ctx: Context,
    prefix: str,
    missing: str,
    lookup: Callable[[str, dict[str, str] | None], tuple[int, list[Record]]],
    meta_channels: tuple[Channel, ...],
    *,
    acl_first: bool,
) -> Reply:
    """The check lists by service and by state: node-meta filtered, ``?near=`` sorted.

    The filter is compiled, then the token resolved. ChecksInState hides what the token may
    not read *before* ``?filter=`` runs; Health.ServiceChecks still filters with ACLs *after*
    it, so its "filtered" flag only counts hidden checks the expression matched.
    """
    ent_meta(ctx)
    near = parse_near(api, ctx)
    meta = parse_meta_filter(ctx)
    opts = parse(api, ctx)
    name = required_tail(ctx, prefix, missing)
    token = request_token(api, ctx)

    def query(bexpr: Filter) -> Result[list[Record]]:
        authz = authorize(api, ctx)
        index, checks = lookup(name, meta)
        out = [check_out(c) for c in checks]
        if acl_first:
            out, hidden = aclfilter.health_checks(authz, out)
            out = [c for c in out if bexpr.matches(c)]
        else:
            out = [c for c in out if bexpr.matches(c)]
            out, hidden = aclfilter.health_checks(authz, out)
        sort_near(api, near, out, lambda c: c["Node"])
        channels = meta_channels if meta else (CHECKS,)
        return Result(index, out, channels, filtered=aclfilter.mask(token, hidden))

    return await filtered_rpc(api, ctx, opts, CHECK_SCHEMA, query)


async def health_service_checks(api: Backend, ctx: Context) -> Reply:
    """HealthServiceChecks + Health.ServiceChecks."""
    where, lookup = "/v1/health/checks/", api.catalog.service_checks
    channels = (CHECKS, SERVICES, NODES)
    return await _health_checks(
        api, ctx, where, "Missing service name", lookup, channels, acl_first=False
    )


async def health_checks_in_state(api: Backend, ctx: Context) -> Reply:
    """HealthChecksInState + Health.ChecksInState (``any`` for all; no other word is refused)."""
    where, lookup = "/v1/health/state/", api.catalog.checks_in_state
    return await _health_checks(
        api, ctx, where, "Missing check state", lookup, (CHECKS, NODES), acl_first=True
    )


async def _health_service_nodes(api: Backend, ctx: Context, kind: str) -> Reply:
    """healthServiceNodes for ``service``, ``connect`` and ``ingress``.

    Health.ServiceNodes resolves the token first; a connect or ingress query without
    service:read on the service is the bare "Permission denied" (acl.ErrPermissionDenied)
    before the filter is compiled. Each run hides the instances whose node or service the
    token may not read (CheckServiceNode.CanRead), then applies ``?filter=`` and ``?passing``.
    """
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
    token = request_token(api, ctx)

    def query(bexpr: Filter) -> Result[list[Record]]:
        if kind == "ingress" or (peer and kind != "service"):
            # No ingress gateway has services without config entries; no peer sends proxies.
            return Result(0, [], (SERVICES, NODES, CHECKS))
        if peer:  # the instances imported from the peer (PeerName set)
            authz = authorize(api, ctx)
            return peer_check_service_nodes(api, authz, peer, name, tags, meta, bexpr, passing)
        index, rows = catalog.check_service_nodes(name, tags=tags, connect=kind == "connect")
        if meta:
            rows = [r for r in rows if meta_satisfies(r[0]["Meta"], meta)]
        items = [
            {
                "Node": node_json(node),
                "Service": node_service_out(svc),
                "Checks": [check_out(c) for c in checks],
            }
            for node, svc, checks in rows
        ]
        shown, hidden = aclfilter.check_service_nodes(authorize(api, ctx), items)
        out = []
        for item in shown:
            if not bexpr.matches(item):
                continue
            if passing and any(c["Status"] != "passing" for c in item["Checks"]):
                continue
            out.append(item)
        sort_near(api, near, out, lambda i: i["Node"]["Node"])
        filtered = aclfilter.mask(token, hidden)
        return Result(index, out, (SERVICES, NODES, CHECKS), filtered=filtered)

    def prepare() -> Callable[[], Result[list[Record]]]:
        authz = authorize(api, ctx)
        if kind in ("connect", "ingress"):
            authz.require_plain(Permission.SERVICE_READ, name)
        bexpr = build_filter(ctx, CHECK_SERVICE_NODE_SCHEMA)
        return lambda: query(bexpr)

    result = await cached_rpc(
        api, ctx, opts, prepare, type_name="health-services", token=token, deferred_meta=False
    )
    return ctx.json(result.value)


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
