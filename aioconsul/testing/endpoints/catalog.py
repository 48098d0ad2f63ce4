"""HTTP endpoints of the catalog group (``/v1/catalog/...``).

Each handler follows ``agent/catalog_endpoint.go`` (parameter parsing, order of the checks,
error texts) and the RPC it calls in ``agent/consul/catalog_endpoint.go``: datacenter
forwarding, the ``?filter=`` expression, the blocking query, node-meta filtering and the
``?near=`` sort (``rpc`` and friends in :mod:`aioconsul.testing.http.query`). A malformed
``?filter=`` is Consul's HTTP 500 with go-bexpr's text (hashicorp/consul#7338).

This module never keeps state (the tables are in ``state/catalog.py``) and never imports another
endpoint module.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from ..backend import Backend
from ..golang.bexpr import Filter
from ..http.query import (
    Record,
    Result,
    build_filter,
    decode_body,
    ent_meta,
    filtered_rpc,
    forward,
    parse,
    parse_meta_filter,
    parse_near,
    parse_tags,
    partition_only,
    required_tail,
    rpc,
    sort_near,
    tail,
)
from ..http.reply import Context, HTTPError, Reply, Route
from ..state.catalog import (
    NODES,
    SERVICES,
    node_json,
    node_service_json,
    service_node_json,
)
from ..structs.bodies import (
    deregister_request,
    register_request,
    reword_enterprise_field,
)
from ..structs.catalog import (
    NODE_SCHEMA,
    NODE_SERVICE_SCHEMA,
    SERVICE_NODE_SCHEMA,
    meta_satisfies,
    node_service_out,
)

__all__ = ["ROUTES"]


async def catalog_register(api: Backend, ctx: Context) -> Reply:
    """CatalogRegister + Catalog.Register."""
    ent_meta(ctx)
    req = await decode_body(ctx, register_request, reword_enterprise_field)
    req["Datacenter"] = req.get("Datacenter") or api.datacenter
    forward(api, req["Datacenter"])
    api.catalog.register(req)
    return ctx.json(True)


async def catalog_deregister(api: Backend, ctx: Context) -> Reply:
    """CatalogDeregister + Catalog.Deregister (with ACLs off, no lookup precedes it)."""
    ent_meta(ctx)
    req = await decode_body(ctx, deregister_request, reword_enterprise_field)
    forward(api, req.get("Datacenter") or api.datacenter)
    api.catalog.deregister(
        req.get("Node", ""), service_id=req.get("ServiceID", ""), check_id=req.get("CheckID", "")
    )
    return ctx.json(True)


async def catalog_datacenters(api: Backend, ctx: Context) -> Reply:
    """CatalogDatacenters: the only datacenter there is."""
    return ctx.json([api.datacenter])


async def catalog_nodes(api: Backend, ctx: Context) -> Reply:
    """CatalogNodes + Catalog.ListNodes."""
    near = parse_near(api, ctx)
    partition_only(ctx)
    meta = parse_meta_filter(ctx)
    opts = parse(api, ctx)
    catalog = api.catalog

    def prepare() -> Callable[[], Result[list[Record]]]:
        bexpr = build_filter(ctx, NODE_SCHEMA)

        def query() -> Result[list[Record]]:
            index, nodes = catalog.nodes(meta)
            out = [j for j in map(node_json, nodes) if bexpr.matches(j)]
            sort_near(api, near, out, lambda n: n["Node"])
            return Result(index, out, (NODES,))

        return query

    result = await rpc(api, ctx, opts, prepare)
    return ctx.json(result.value)


async def catalog_services(api: Backend, ctx: Context) -> Reply:
    """CatalogServices + Catalog.ListServices: service name -> the union of its tags."""
    ent_meta(ctx)
    meta = parse_meta_filter(ctx)
    opts = parse(api, ctx)
    catalog = api.catalog

    def prepare() -> Callable[[], Result[dict[str, list[str]]]]:
        bexpr = build_filter(ctx, SERVICE_NODE_SCHEMA)

        def query() -> Result[dict[str, list[str]]]:
            index, rows = catalog.services(meta)
            services: dict[str, list[str]] = {}
            for svc in rows:
                # The raw rows: Consul never fills in their node fields for this query.
                if not bexpr.matches(service_node_json(svc, None)):
                    continue
                tags = services.setdefault(svc["Service"], [])
                tags.extend(t for t in svc["Tags"] or () if t not in tags)
            channels = (SERVICES, NODES) if meta else (SERVICES,)
            return Result(index, dict(sorted(services.items())), channels)

        return query

    result = await rpc(api, ctx, opts, prepare)
    return ctx.json(result.value)


async def _catalog_service_nodes(api: Backend, ctx: Context, prefix: str) -> Reply:
    """catalogServiceNodes (``/v1/catalog/service/`` and ``/v1/catalog/connect/``)."""
    connect = prefix == "/v1/catalog/connect/"
    ent_meta(ctx)
    near = parse_near(api, ctx)
    meta = parse_meta_filter(ctx)
    opts = parse(api, ctx)
    tags = parse_tags(ctx)
    name = required_tail(ctx, prefix, "Missing service name")
    catalog = api.catalog

    def prepare() -> Callable[[], Result[list[Record]]]:
        bexpr = build_filter(ctx, SERVICE_NODE_SCHEMA)

        def query() -> Result[list[Record]]:
            index, pairs = catalog.service_nodes(name, tags=tags, connect=connect)
            if meta:
                pairs = [(s, n) for s, n in pairs if meta_satisfies(n["Meta"], meta)]
            out = []
            for svc, node in pairs:
                item = service_node_json(svc, node)
                if bexpr.matches(item):
                    if item["ServiceTags"] is None:
                        item["ServiceTags"] = []
                    out.append(item)
            sort_near(api, near, out, lambda s: s["Node"])
            return Result(index, out, (SERVICES, NODES))

        return query

    result = await rpc(api, ctx, opts, prepare)
    return ctx.json(result.value)


async def catalog_service_nodes(api: Backend, ctx: Context) -> Reply:
    """GET /v1/catalog/service/:service."""
    return await _catalog_service_nodes(api, ctx, "/v1/catalog/service/")


async def catalog_connect_nodes(api: Backend, ctx: Context) -> Reply:
    """GET /v1/catalog/connect/:service: proxies for the service and its native instances."""
    return await _catalog_service_nodes(api, ctx, "/v1/catalog/connect/")




async def catalog_node_services(api: Backend, ctx: Context) -> Reply:
    """CatalogNodeServices + Catalog.NodeServices: {Node, Services: id -> service} or null."""
    ent_meta(ctx)
    opts = parse(api, ctx)
    name = required_tail(ctx, "/v1/catalog/node/", "Missing node name")
    catalog = api.catalog

    def query(bexpr: Filter) -> Result[Record | None]:
        index, node, services = catalog.node_services(name)
        if node is None:
            return Result(index, None, (NODES, SERVICES))
        shown = [node_service_json(s) for s in services]
        value = {
            "Node": node_json(node),
            "Services": {
                s["ID"]: node_service_out(s)
                for s, j in zip(services, shown, strict=True)
                if bexpr.matches(j)
            },
        }
        return Result(index, value, (NODES, SERVICES))

    return await filtered_rpc(api, ctx, opts, NODE_SERVICE_SCHEMA, query)


async def catalog_node_service_list(api: Backend, ctx: Context) -> Reply:
    """CatalogNodeServiceList + Catalog.NodeServiceList: {Node, Services: [service]}."""
    ent_meta(ctx)
    opts = parse(api, ctx)
    name = required_tail(ctx, "/v1/catalog/node-services/", "Missing node name")
    catalog = api.catalog
    expression = ctx.query.get("filter")

    def query(bexpr: Filter) -> Result[Record]:
        index, node, services = catalog.node_services(name)
        if node is None:
            return Result(index, {"Node": None, "Services": None}, (NODES, SERVICES))
        shown = [node_service_out(s) for s in services]
        listed: list[Record] | None = [s for s in shown if bexpr.matches(s)]
        if not services and not expression:
            listed = None  # a nil slice, which bexpr's Execute would have made empty
        return Result(index, {"Node": node_json(node), "Services": listed}, (NODES, SERVICES))

    return await filtered_rpc(api, ctx, opts, NODE_SERVICE_SCHEMA, query)


async def catalog_gateway_services(api: Backend, ctx: Context) -> Reply:
    """CatalogGatewayServices: the gateway-services table, filled by config entries only."""
    ent_meta(ctx)
    opts = parse(api, ctx)
    if not tail(ctx, "/v1/catalog/gateway-services/"):
        raise HTTPError(400, "Missing gateway name")

    def prepare() -> Callable[[], Result[None]]:
        # No config entries exist on this agent: no gateway has services, and the table index
        # never moves (state.GatewayServices returns a nil list: JSON null).
        return lambda: Result(0, None, ())

    result = await rpc(api, ctx, opts, prepare)
    return ctx.json(result.value)


ROUTES: Final[tuple[Route, ...]] = (
    Route.of("/v1/catalog/register", ("PUT",), catalog_register),
    Route.of("/v1/catalog/deregister", ("PUT",), catalog_deregister),
    Route.of("/v1/catalog/datacenters", ("GET",), catalog_datacenters),
    Route.of("/v1/catalog/nodes", ("GET",), catalog_nodes),
    Route.of("/v1/catalog/services", ("GET",), catalog_services),
    Route.of("/v1/catalog/service/", ("GET",), catalog_service_nodes),
    Route.of("/v1/catalog/connect/", ("GET",), catalog_connect_nodes),
    Route.of("/v1/catalog/node/", ("GET",), catalog_node_services),
    Route.of("/v1/catalog/node-services/", ("GET",), catalog_node_service_list),
    Route.of("/v1/catalog/gateway-services/", ("GET",), catalog_gateway_services),
)
