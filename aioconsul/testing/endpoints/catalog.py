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

from ..acl import filter as aclfilter
from ..acl.authorizer import Enforcer, Permission
from ..backend import Backend
from ..golang.bexpr import Filter
from ..http.acl import authorize, request_token
from ..http.cache import agent_cache, cache_options, cached_rpc, set_cache_meta
from ..http.peering import peer_service_nodes, peer_services
from ..http.query import (
    QueryOptions,
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
from ..state.memdb import RPCError
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


class _EmptyAnswer(Exception):
    """The RPC returns nil before its blocking query runs: an empty answer, zero metadata."""


async def catalog_register(api: Backend, ctx: Context) -> Reply:
    """CatalogRegister + Catalog.Register: the token is resolved after forwarding, its policy
    applied after the request is validated (servicePreApply, vetRegisterWithACL)."""
    ent_meta(ctx)
    req = await decode_body(ctx, register_request, reword_enterprise_field)
    req["Datacenter"] = req.get("Datacenter") or api.datacenter
    forward(api, req["Datacenter"])
    authz = authorize(api, ctx)

    def vet(service: Record | None, checks: list[Record]) -> None:
        _vet_register(api, authz, req, service, checks)

    api.catalog.register(req, vet=vet)
    return ctx.json(True)


def _changes_node(req: Record, node: Record) -> bool:
    """RegisterRequest.ChangesNode for an existing node (nil and empty maps differ, as
    reflect.DeepEqual says)."""
    if req.get("SkipNodeUpdate"):
        return False
    return (
        req.get("ID", "") != node.get("ID", "")
        or req["Node"].lower() != node["Node"].lower()
        or req.get("Address", "") != node.get("Address", "")
        or req.get("Datacenter", "") != node.get("Datacenter", "")
        or req.get("TaggedAddresses") != node.get("TaggedAddresses")
        or req.get("NodeMeta") != node.get("Meta")
        or req.get("Locality") != node.get("Locality")
    )


def _vet_register(
    api: Backend, authz: Enforcer, req: Record, service: Record | None, checks: list[Record]
) -> None:
    """servicePreApply's service:write lines, then vetRegisterWithACL (agent/consul/
    catalog_endpoint.go), in Consul's order; its node and service-ID errors apply with ACLs
    disabled too."""
    if service is not None:
        if service["Service"] != "consul":  # structs.ConsulServiceName is exempt here only
            authz.require(Permission.SERVICE_WRITE, service["Service"])
        if service["Kind"] == "connect-proxy":  # a proxy needs write on its destination
            destination = (service["Proxy"] or {}).get("DestinationServiceName", "")
            authz.require(Permission.SERVICE_WRITE, destination)
    node_name = req["Node"]
    _, node, existing = api.catalog.node_services(node_name)  # state.NodeServices
    # NodeServices.Services: keyed by the service ID exactly as it is stored.
    ns = None if node is None else {svc["ID"]: svc for svc in existing}
    if node is None or _changes_node(req, node):
        authz.require(Permission.NODE_WRITE, node_name)
    if service is not None:
        authz.require(Permission.SERVICE_WRITE, service["Service"])
        other = None if ns is None else ns.get(service["ID"])
        if other is not None:
            # Overwriting another service by its ID: the bare acl.ErrPermissionDenied.
            authz.require_plain(Permission.SERVICE_WRITE, other["Service"])
    for check in checks:
        check_id = check.get("CheckID", "")
        if check["Node"].lower() != node_name.lower():  # strings.EqualFold
            raise RPCError(
                f"Node '{check['Node']}' for check '{check_id}' doesn't match register "
                f"request node '{node_name}'"
            )
        service_id = check.get("ServiceID", "")
        if not service_id:
            authz.require(Permission.NODE_WRITE, node_name)
            continue
        if service is not None and service["ID"] == service_id:
            continue
        other = None if ns is None else ns.get(service_id)
        if other is None:
            raise RPCError(f"Unknown service ID '{service_id}' for check ID '{check_id}'")
        authz.require(Permission.SERVICE_WRITE, other["Service"])


def _node_service(api: Backend, node: str, service_id: str) -> Record | None:
    """state.NodeService: the node's service with this ID (both looked up case-blind)."""
    _, found, services = api.catalog.node_services(node)
    if found is None or found["Node"].lower() != node.lower():
        return None
    return next((s for s in services if s["ID"].lower() == service_id.lower()), None)


def _node_check(api: Backend, node: str, check_id: str) -> Record | None:
    """state.NodeCheck."""
    _, checks = api.catalog.node_checks(node)
    return next((c for c in checks if c["CheckID"].lower() == check_id.lower()), None)


def _vet_deregister(
    api: Backend, authz: Enforcer, node: str, service_id: str, check_id: str
) -> None:
    """vetDeregisterWithACL: node:write allows anything on the node; otherwise the service,
    else the check, is looked up (an unknown one is an RPC error) and needs write."""
    if authz.allows(Permission.NODE_WRITE, node):
        return
    if service_id:
        svc = _node_service(api, node, service_id)
        if svc is None:
            raise RPCError(f"Unknown service ID '{service_id}'")
        authz.require(Permission.SERVICE_WRITE, svc["Service"])
    elif check_id:
        check = _node_check(api, node, check_id)
        if check is None:
            raise RPCError(f"Unknown check ID '{check_id}'")
        if check["ServiceID"]:
            authz.require(Permission.SERVICE_WRITE, check["ServiceName"])
        else:
            authz.require(Permission.NODE_WRITE, node)
    else:
        authz.require(Permission.NODE_WRITE, node)


async def catalog_deregister(api: Backend, ctx: Context) -> Reply:
    """CatalogDeregister + Catalog.Deregister: "Must provide node", the token, then
    vetDeregisterWithACL (with ACLs off, node:write is granted and no lookup is made)."""
    ent_meta(ctx)
    req = await decode_body(ctx, deregister_request, reword_enterprise_field)
    forward(api, req.get("Datacenter") or api.datacenter)
    node = req.get("Node", "")
    if not node:
        raise RPCError("Must provide node")
    authz = authorize(api, ctx)
    service_id, check_id = req.get("ServiceID", ""), req.get("CheckID", "")
    _vet_deregister(api, authz, node, service_id, check_id)
    api.catalog.deregister(node, service_id=service_id, check_id=check_id)
    return ctx.json(True)


async def catalog_datacenters(api: Backend, ctx: Context) -> Reply:
    """CatalogDatacenters: the only datacenter there is. With ``?cached`` it goes through the
    agent cache's simple type ``catalog-datacenters`` (no token in its key: the handler reads
    none), honouring ``Cache-Control``."""
    options = cache_options(ctx)
    if not options.use_cache:
        return ctx.json([api.datacenter])
    cache = agent_cache(api)
    key = cache.key("catalog-datacenters", "", "", ctx)

    def query() -> Result[list[str]]:
        return Result(1, [api.datacenter], ())

    result, hit, age = await cache.get(
        api, key, options, QueryOptions(api.datacenter), query, refresh=False, blocks=False
    )
    set_cache_meta(ctx, hit, age)
    return ctx.json(result.value)


async def catalog_nodes(api: Backend, ctx: Context) -> Reply:
    """CatalogNodes + Catalog.ListNodes: the filter is compiled first; each run resolves the
    token (filterACL) and hides the nodes it may not read before ``?filter=`` applies."""
    near = parse_near(api, ctx)
    partition_only(ctx)
    meta = parse_meta_filter(ctx)
    opts = parse(api, ctx)
    catalog = api.catalog
    token = request_token(api, ctx)

    def prepare() -> Callable[[], Result[list[Record]]]:
        bexpr = build_filter(ctx, NODE_SCHEMA)

        def query() -> Result[list[Record]]:
            index, nodes = catalog.nodes(meta)
            shown, hidden = aclfilter.nodes(authorize(api, ctx), [node_json(n) for n in nodes])
            out = [j for j in shown if bexpr.matches(j)]
            sort_near(api, near, out, lambda n: n["Node"])
            return Result(index, out, (NODES,), filtered=aclfilter.mask(token, hidden))

        return query

    result = await rpc(api, ctx, opts, prepare)
    return ctx.json(result.value)


async def catalog_services(api: Backend, ctx: Context) -> Reply:
    """CatalogServices + Catalog.ListServices: service name -> the union of its tags.

    The token is resolved before the filter is compiled; the service rows are ACL-filtered as
    ServiceNodes (node:read on their node and service:read), then ``?filter=`` applies.
    """
    ent_meta(ctx)
    meta = parse_meta_filter(ctx)
    opts = parse(api, ctx)
    catalog = api.catalog
    token = request_token(api, ctx)
    peer = ctx.query.get("peer")

    def prepare() -> Callable[[], Result[dict[str, list[str]]]]:
        authz = authorize(api, ctx)
        bexpr = build_filter(ctx, SERVICE_NODE_SCHEMA)

        def query() -> Result[dict[str, list[str]]]:
            if peer:  # the services imported from the peer
                return peer_services(api, authz, peer, meta, bexpr)
            index, rows = catalog.services(meta)
            # The raw rows: Consul never fills in their node fields for this query.
            shown, hidden = aclfilter.service_nodes(
                authz, [service_node_json(svc, None) for svc in rows]
            )
            services: dict[str, list[str]] = {}
            for item in shown:
                if not bexpr.matches(item):
                    continue
                tags = services.setdefault(item["ServiceName"], [])
                tags.extend(t for t in item["ServiceTags"] or () if t not in tags)
            channels = (SERVICES, NODES) if meta else (SERVICES,)
            filtered = aclfilter.mask(token, hidden)
            return Result(index, dict(sorted(services.items())), channels, filtered=filtered)

        return query

    result = await cached_rpc(
        api, ctx, opts, prepare, type_name="catalog-list-services", token=token
    )
    return ctx.json(result.value)


async def _catalog_service_nodes(api: Backend, ctx: Context, prefix: str) -> Reply:
    """catalogServiceNodes (``/v1/catalog/service/`` and ``/v1/catalog/connect/``).

    Catalog.ServiceNodes resolves the token before compiling the filter; a connect query
    without service:read on the service returns nothing before any query runs (an empty
    list, X-Consul-Index 1, no known leader: "Just return nil"). Each run hides the instances
    whose node or service the token may not read, then applies ``?filter=``.
    """
    connect = prefix == "/v1/catalog/connect/"
    ent_meta(ctx)
    near = parse_near(api, ctx)
    meta = parse_meta_filter(ctx)
    opts = parse(api, ctx)
    tags = parse_tags(ctx)
    name = required_tail(ctx, prefix, "Missing service name")
    catalog = api.catalog
    token = request_token(api, ctx)
    peer = ctx.query.get("peer")

    def prepare() -> Callable[[], Result[list[Record]]]:
        authz = authorize(api, ctx)
        if connect and not authz.allows(Permission.SERVICE_READ, name):
            raise _EmptyAnswer
        bexpr = build_filter(ctx, SERVICE_NODE_SCHEMA)

        def query() -> Result[list[Record]]:
            if peer:  # the instances imported from the peer (no proxies are imported)
                if connect:
                    return Result(0, [], (SERVICES, NODES))
                return peer_service_nodes(api, authorize(api, ctx), peer, name, tags, meta, bexpr)
            index, pairs = catalog.service_nodes(name, tags=tags, connect=connect)
            if meta:
                pairs = [(s, n) for s, n in pairs if meta_satisfies(n["Meta"], meta)]
            items = [service_node_json(svc, node) for svc, node in pairs]
            shown, hidden = aclfilter.service_nodes(authorize(api, ctx), items)
            out = []
            for item in shown:
                if bexpr.matches(item):
                    if item["ServiceTags"] is None:
                        item["ServiceTags"] = []
                    out.append(item)
            sort_near(api, near, out, lambda s: s["Node"])
            return Result(index, out, (SERVICES, NODES), filtered=aclfilter.mask(token, hidden))

        return query

    try:
        result = await cached_rpc(
            api, ctx, opts, prepare, type_name="catalog-services", token=token
        )
    except _EmptyAnswer:
        return ctx.json([])
    return ctx.json(result.value)


async def catalog_service_nodes(api: Backend, ctx: Context) -> Reply:
    """GET /v1/catalog/service/:service."""
    return await _catalog_service_nodes(api, ctx, "/v1/catalog/service/")


async def catalog_connect_nodes(api: Backend, ctx: Context) -> Reply:
    """GET /v1/catalog/connect/:service: proxies for the service and its native instances."""
    return await _catalog_service_nodes(api, ctx, "/v1/catalog/connect/")


async def catalog_node_services(api: Backend, ctx: Context) -> Reply:
    """CatalogNodeServices + Catalog.NodeServices: {Node, Services: id -> service} or null.

    The filter is compiled, then the token resolved; each run ACL-filters (a node the token
    may not read answers null) before ``?filter=`` applies to the services.
    """
    ent_meta(ctx)
    opts = parse(api, ctx)
    name = required_tail(ctx, "/v1/catalog/node/", "Missing node name")
    catalog = api.catalog
    token = request_token(api, ctx)

    def query(bexpr: Filter) -> Result[Record | None]:
        authz = authorize(api, ctx)
        index, node, services = catalog.node_services(name)
        if node is None:
            return Result(index, None, (NODES, SERVICES))
        value, hidden = aclfilter.node_services(
            authz, {"Node": node_json(node), "Services": {s["ID"]: s for s in services}}
        )
        filtered = aclfilter.mask(token, hidden)
        if value is None:
            return Result(index, None, (NODES, SERVICES), filtered=filtered)
        value["Services"] = {
            sid: node_service_out(s)
            for sid, s in value["Services"].items()
            if bexpr.matches(node_service_json(s))
        }
        return Result(index, value, (NODES, SERVICES), filtered=filtered)

    return await filtered_rpc(api, ctx, opts, NODE_SERVICE_SCHEMA, query)


async def catalog_node_service_list(api: Backend, ctx: Context) -> Reply:
    """CatalogNodeServiceList + Catalog.NodeServiceList: {Node, Services: [service]}.

    As NodeServices; a node the token may not read leaves a zero NodeServiceList. The filter
    runs on ``Services`` even when that is nil (no node, or a hidden one), and bexpr's
    Execute turns a nil slice into an empty one.
    """
    ent_meta(ctx)
    opts = parse(api, ctx)
    name = required_tail(ctx, "/v1/catalog/node-services/", "Missing node name")
    catalog = api.catalog
    expression = ctx.query.get("filter")
    token = request_token(api, ctx)

    def query(bexpr: Filter) -> Result[Record]:
        authz = authorize(api, ctx)
        index, node, services = catalog.node_services(name)
        value: Record = {"Node": None, "Services": None}
        hidden = False
        if node is not None:
            # A node without services has a nil Services slice.
            listing = {"Node": node_json(node), "Services": list(services) or None}
            value, hidden = aclfilter.node_service_list(authz, listing)
        listed: list[Record] | None = value["Services"]
        if listed is not None:
            listed = [s for s in map(node_service_out, listed) if bexpr.matches(s)]
        elif expression:
            listed = []
        out = {"Node": value["Node"], "Services": listed}
        return Result(index, out, (NODES, SERVICES), filtered=aclfilter.mask(token, hidden))

    return await filtered_rpc(api, ctx, opts, NODE_SERVICE_SCHEMA, query)


async def catalog_gateway_services(api: Backend, ctx: Context) -> Reply:
    """CatalogGatewayServices + Catalog.GatewayServices: service:read on the gateway (the
    detailed denial), then the gateway-services table, filled by config entries only.

    No config entries exist on this agent, so no gateway has services and the table index
    never moves. filterGatewayServices rebuilds the (nil) list with ``make`` even with ACLs
    disabled (they resolve to manage-all), so the answer is ``[]``.
    """
    ent_meta(ctx)
    opts = parse(api, ctx)
    gateway = tail(ctx, "/v1/catalog/gateway-services/")
    if not gateway:
        raise HTTPError(400, "Missing gateway name")
    token = request_token(api, ctx)

    def prepare() -> Callable[[], Result[list[Record]]]:
        authorize(api, ctx).require(Permission.SERVICE_READ, gateway)

        def query() -> Result[list[Record]]:
            kept, hidden = aclfilter.gateway_services(authorize(api, ctx), None)
            return Result(0, kept, (), filtered=aclfilter.mask(token, hidden))

        return query

    result = await rpc(api, ctx, opts, prepare)
    return ctx.json(result.value)


ROUTES: Final[tuple[Route, ...]] = (
    Route.of("/v1/catalog/register", ("PUT",), catalog_register),
    Route.of("/v1/catalog/deregister", ("PUT",), catalog_deregister),
    Route.of(
        "/v1/catalog/datacenters",
        ("GET",),
        catalog_datacenters,
        no_acl="Catalog.ListDatacenters resolves no token (agent/consul/catalog_endpoint.go)",
    ),
    Route.of("/v1/catalog/nodes", ("GET",), catalog_nodes),
    Route.of("/v1/catalog/services", ("GET",), catalog_services),
    Route.of("/v1/catalog/service/", ("GET",), catalog_service_nodes),
    Route.of("/v1/catalog/connect/", ("GET",), catalog_connect_nodes),
    Route.of("/v1/catalog/node/", ("GET",), catalog_node_services),
    Route.of("/v1/catalog/node-services/", ("GET",), catalog_node_service_list),
    Route.of("/v1/catalog/gateway-services/", ("GET",), catalog_gateway_services),
)
