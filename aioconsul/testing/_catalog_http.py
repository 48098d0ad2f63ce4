"""HTTP endpoints of the catalog, health and coordinate groups.

Each handler follows its counterpart in ``agent/catalog_endpoint.go``,
``agent/health_endpoint.go`` and ``agent/coordinate_endpoint.go`` (parameter parsing, order of
the checks, error texts), and the RPC it calls in ``agent/consul/catalog_endpoint.go``,
``health_endpoint.go`` and ``coordinate_endpoint.go`` (datacenter forwarding, then the
``?filter=`` expression, then the blocking query, node-meta filtering, ``filter`` and the
``?near=`` sort by network distance, ``rtt.go``). Where Consul sets the response metadata in a
deferred ``setMeta``, errors raised by the RPC still carry ``X-Consul-Index: 1`` and
``X-Consul-KnownLeader: false``.

A malformed ``?filter=`` is Consul's HTTP 500 with go-bexpr's text (hashicorp/consul#7338: the
error comes back from the servers' RPC layer untyped); every endpoint here answers that way.

This module never keeps state: the tables are in ``_catalog.py``, the agent's own services and
checks in ``_local.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from ._catalog import (
    CHECKS,
    COORDINATES,
    NODES,
    SERVICES,
    check_json,
    node_json,
    node_service_json,
    service_node_json,
)
from ._defs import (
    coordinate_update,
    deregister_request,
    register_request,
    reword_enterprise_field,
)
from ._filter import FieldSchema, FieldSpec, Filter, FilterError, compile_filter
from ._gocompat import GoSyntaxError, go_json_floats
from ._local import ORIGIN
from ._state import Channel, RPCError
from .http.query import QueryOptions, Result, blocking, ent_meta, forward, parse, set_meta
from .http.reply import Context, HTTPError, Reply, Route

if TYPE_CHECKING:
    from .backend import Backend

__all__ = [
    "CHECK_SCHEMA",
    "NODE_SCHEMA",
    "NODE_SERVICE_FIELDS",
    "NODE_SERVICE_SCHEMA",
    "PROXY_FIELDS",
    "ROUTES",
    "build_filter",
    "check_out",
    "decode_body",
    "json_floats",
    "parse_bool",
    "partition_only",
    "tail",
]

Record = dict[str, Any]
_DIMENSIONALITY: Final = 8  # coordinate.DefaultConfig().Dimensionality

# -- the Go types ?filter= is evaluated against (fields tagged bexpr:"-" left out) ------------

_SERVICE_ADDRESS: Final[dict[str, FieldSpec]] = {"Address": "string", "Port": "int"}
_WEIGHTS: Final[dict[str, FieldSpec]] = {"Passing": "int", "Warning": "int"}
_MESH_GATEWAY: Final[dict[str, FieldSpec]] = {"Mode": "string"}
_UPSTREAM: Final[dict[str, FieldSpec]] = {
    "DestinationType": "string",
    "DestinationNamespace": "string",
    "DestinationPartition": "string",
    "DestinationPeer": "string",
    "DestinationName": "string",
    "Datacenter": "string",
    "LocalBindAddress": "string",
    "LocalBindPort": "int",
    "LocalBindSocketPath": "string",
    "LocalBindSocketMode": "string",
    "MeshGateway": _MESH_GATEWAY,
}
PROXY_FIELDS: Final[dict[str, FieldSpec]] = {
    "DestinationServiceName": "string",
    "DestinationServiceID": "string",
    "LocalServiceAddress": "string",
    "LocalServicePort": "int",
    "LocalServiceSocketPath": "string",
    "Mode": "string",
    "Upstreams": [_UPSTREAM],
    "MeshGateway": _MESH_GATEWAY,
    "Expose": {
        "Checks": "bool",
        "Paths": [
            {
                "ListenerPort": "int",
                "Path": "string",
                "LocalPathPort": "int",
                "Protocol": "string",
                "ParsedFromCheck": "bool",
            }
        ],
    },
    "TransparentProxy": {"OutboundListenerPort": "int", "DialedDirectly": "bool"},
    "AccessLogs": {
        "Enabled": "bool",
        "DisableListenerLogs": "bool",
        "Type": "string",
        "Path": "string",
        "JSONFormat": "string",
        "TextFormat": "string",
    },
}
_NODE_FIELDS: Final[dict[str, FieldSpec]] = {
    "ID": "string",
    "Node": "string",
    "Address": "string",
    "Datacenter": "string",
    "Partition": "string",
    "PeerName": "string",
    "TaggedAddresses": {"*": "string"},
    "Meta": {"*": "string"},
}
NODE_SERVICE_FIELDS: Final[dict[str, FieldSpec]] = {
    "Kind": "string",
    "ID": "string",
    "Service": "string",
    "Tags": ["string"],
    "Address": "string",
    "TaggedAddresses": {"*": _SERVICE_ADDRESS},
    "Meta": {"*": "string"},
    "Port": "int",
    "SocketPath": "string",
    "Weights": _WEIGHTS,
    "EnableTagOverride": "bool",
    "Proxy": PROXY_FIELDS,
    "Connect": {"Native": "bool"},
    "PeerName": "string",
}
_CHECK_FIELDS: Final[dict[str, FieldSpec]] = {
    "Node": "string",
    "CheckID": "string",
    "Name": "string",
    "Status": "string",
    "Notes": "string",
    "Output": "string",
    "ServiceID": "string",
    "ServiceName": "string",
    "ServiceTags": ["string"],
    "Type": "string",
    "Interval": "string",
    "Timeout": "string",
    "ExposedPort": "int",
    "PeerName": "string",
}
NODE_SCHEMA: Final = FieldSchema(_NODE_FIELDS)
NODE_SERVICE_SCHEMA: Final = FieldSchema(NODE_SERVICE_FIELDS)
CHECK_SCHEMA: Final = FieldSchema(_CHECK_FIELDS)
SERVICE_NODE_SCHEMA: Final = FieldSchema(
    {
        "ID": "string",
        "Node": "string",
        "Address": "string",
        "Datacenter": "string",
        "TaggedAddresses": {"*": "string"},
        "NodeMeta": {"*": "string"},
        "ServiceKind": "string",
        "ServiceID": "string",
        "ServiceName": "string",
        "ServiceTags": ["string"],
        "ServiceAddress": "string",
        "ServiceTaggedAddresses": {"*": _SERVICE_ADDRESS},
        "ServiceWeights": _WEIGHTS,
        "ServiceMeta": {"*": "string"},
        "ServicePort": "int",
        "ServiceSocketPath": "string",
        "ServiceEnableTagOverride": "bool",
        "ServiceProxy": PROXY_FIELDS,
        "ServiceConnect": {"Native": "bool"},
        "PeerName": "string",
    }
)
CHECK_SERVICE_NODE_SCHEMA: Final = FieldSchema(
    {"Node": _NODE_FIELDS, "Service": NODE_SERVICE_FIELDS, "Checks": [_CHECK_FIELDS]}
)


def json_floats(ctx: Context, obj: Any) -> Reply:
    """``ctx.json`` for documents with floats (coordinates, metrics): Go's float64 text."""
    return Reply(200, go_json_floats(obj, pretty=ctx.pretty), "application/json")


def build_filter(ctx: Context, schema: FieldSchema) -> Filter:
    """bexpr.CreateFilter on ``?filter=``; a bad expression is the RPC's error (HTTP 500)."""
    try:
        return compile_filter(ctx.query.get("filter"), fields=schema)
    except FilterError as exc:
        raise RPCError(str(exc)) from None


async def decode_body(
    ctx: Context,
    decode: Callable[[bytes], Record],
    reword: Callable[[GoSyntaxError], str] = str,
) -> Record:
    """The request body through ``decode``; a malformed one is HTTP 400 (decodeBody)."""
    body = await ctx.request.read()
    try:
        return decode(body)
    except GoSyntaxError as exc:
        raise HTTPError(400, f"Request decode failed: {reword(exc)}") from None


def parse_bool(text: str) -> bool | None:
    """strconv.ParseBool; None when Go would return an error."""
    if text in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if text in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    return None


def _meta_filters(ctx: Context) -> dict[str, str] | None:
    """HTTPHandlers.parseMetaFilter: repeated ``node-meta=key:value`` (a later key wins)."""
    pairs = [value for key, value in ctx.query.pairs if key == "node-meta"]
    if not pairs:
        return None
    out: dict[str, str] = {}
    for pair in pairs:
        key, _, value = pair.partition(":")
        out[key] = value
    return out


def _near(api: Backend, ctx: Context) -> str:
    """HTTPHandlers.parseSource: ``?near=`` (``_agent`` is this agent's node)."""
    near = ctx.query.get("near")
    return api.node_name if near == "_agent" else near


def _tags(ctx: Context) -> list[str] | None:
    if "tag" not in ctx.query:
        return None
    return [value for key, value in ctx.query.pairs if key == "tag"]


async def _rpc(
    api: Backend,
    ctx: Context,
    opts: QueryOptions,
    prepare: Callable[[], Callable[[], Result[Any]]],
    *,
    deferred_meta: bool = True,
) -> Result[Any]:
    """Forward, prepare (filters), block; the response metadata as Consul sets it."""
    index, known_leader = 0, False
    try:
        forward(api, opts.datacenter)
        query = prepare()
        result = await blocking(api, opts, query)
        index, known_leader = result.index, True
    finally:
        if deferred_meta or known_leader:
            set_meta(ctx, index, known_leader=known_leader)
    return result


def tail(ctx: Context, prefix: str) -> str:
    """The path after a route's ``prefix`` (the ``:id`` of a subtree route)."""
    return ctx.path[len(prefix) :]


def _sort_near(api: Backend, near: str, items: list[Any], node_of: Callable[[Any], str]) -> None:
    api.catalog.sort_by_distance(near, items, node_of)


# -- catalog -----------------------------------------------------------------------------------


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
    near = _near(api, ctx)
    partition_only(ctx)
    meta = _meta_filters(ctx)
    opts = parse(api, ctx)
    catalog = api.catalog

    def prepare() -> Callable[[], Result[list[Record]]]:
        bexpr = build_filter(ctx, NODE_SCHEMA)

        def query() -> Result[list[Record]]:
            index, nodes = catalog.nodes(meta)
            out = [j for j in map(node_json, nodes) if bexpr.matches(j)]
            _sort_near(api, near, out, lambda n: n["Node"])
            return Result(index, out, (NODES,))

        return query

    result = await _rpc(api, ctx, opts, prepare)
    return ctx.json(result.value)


async def catalog_services(api: Backend, ctx: Context) -> Reply:
    """CatalogServices + Catalog.ListServices: service name -> the union of its tags."""
    ent_meta(ctx)
    meta = _meta_filters(ctx)
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

    result = await _rpc(api, ctx, opts, prepare)
    return ctx.json(result.value)


async def _catalog_service_nodes(api: Backend, ctx: Context, prefix: str) -> Reply:
    """catalogServiceNodes (``/v1/catalog/service/`` and ``/v1/catalog/connect/``)."""
    connect = prefix == "/v1/catalog/connect/"
    ent_meta(ctx)
    near = _near(api, ctx)
    meta = _meta_filters(ctx)
    opts = parse(api, ctx)
    tags = _tags(ctx)
    name = tail(ctx, prefix)
    if not name:
        raise HTTPError(400, "Missing service name")
    catalog = api.catalog

    def prepare() -> Callable[[], Result[list[Record]]]:
        bexpr = build_filter(ctx, SERVICE_NODE_SCHEMA)

        def query() -> Result[list[Record]]:
            index, pairs = catalog.service_nodes(name, tags=tags, connect=connect)
            if meta:
                pairs = [(s, n) for s, n in pairs if _satisfies(n["Meta"], meta)]
            out = []
            for svc, node in pairs:
                item = service_node_json(svc, node)
                if bexpr.matches(item):
                    if item["ServiceTags"] is None:
                        item["ServiceTags"] = []
                    out.append(item)
            _sort_near(api, near, out, lambda s: s["Node"])
            return Result(index, out, (SERVICES, NODES))

        return query

    result = await _rpc(api, ctx, opts, prepare)
    return ctx.json(result.value)


async def catalog_service_nodes(api: Backend, ctx: Context) -> Reply:
    """GET /v1/catalog/service/:service."""
    return await _catalog_service_nodes(api, ctx, "/v1/catalog/service/")


async def catalog_connect_nodes(api: Backend, ctx: Context) -> Reply:
    """GET /v1/catalog/connect/:service: proxies for the service and its native instances."""
    return await _catalog_service_nodes(api, ctx, "/v1/catalog/connect/")


def _node_service_out(svc: Record) -> Record:
    out = node_service_json(svc)
    if out["Tags"] is None:
        out["Tags"] = []
    return out


async def catalog_node_services(api: Backend, ctx: Context) -> Reply:
    """CatalogNodeServices + Catalog.NodeServices: {Node, Services: id -> service} or null."""
    ent_meta(ctx)
    opts = parse(api, ctx)
    name = tail(ctx, "/v1/catalog/node/")
    if not name:
        raise HTTPError(400, "Missing node name")
    catalog = api.catalog

    def prepare() -> Callable[[], Result[Record | None]]:
        bexpr = build_filter(ctx, NODE_SERVICE_SCHEMA)

        def query() -> Result[Record | None]:
            index, node, services = catalog.node_services(name)
            if node is None:
                return Result(index, None, (NODES, SERVICES))
            shown = [node_service_json(s) for s in services]
            value = {
                "Node": node_json(node),
                "Services": {
                    s["ID"]: _node_service_out(s)
                    for s, j in zip(services, shown, strict=True)
                    if bexpr.matches(j)
                },
            }
            return Result(index, value, (NODES, SERVICES))

        return query

    result = await _rpc(api, ctx, opts, prepare)
    return ctx.json(result.value)


async def catalog_node_service_list(api: Backend, ctx: Context) -> Reply:
    """CatalogNodeServiceList + Catalog.NodeServiceList: {Node, Services: [service]}."""
    ent_meta(ctx)
    opts = parse(api, ctx)
    name = tail(ctx, "/v1/catalog/node-services/")
    if not name:
        raise HTTPError(400, "Missing node name")
    catalog = api.catalog
    expression = ctx.query.get("filter")

    def prepare() -> Callable[[], Result[Record]]:
        bexpr = build_filter(ctx, NODE_SERVICE_SCHEMA)

        def query() -> Result[Record]:
            index, node, services = catalog.node_services(name)
            if node is None:
                return Result(index, {"Node": None, "Services": None}, (NODES, SERVICES))
            shown = [_node_service_out(s) for s in services]
            listed: list[Record] | None = [s for s in shown if bexpr.matches(s)]
            if not services and not expression:
                listed = None  # a nil slice, which bexpr's Execute would have made empty
            return Result(index, {"Node": node_json(node), "Services": listed}, (NODES, SERVICES))

        return query

    result = await _rpc(api, ctx, opts, prepare)
    return ctx.json(result.value)


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

    result = await _rpc(api, ctx, opts, prepare)
    return ctx.json(result.value)


# -- health ------------------------------------------------------------------------------------


def check_out(check: Record) -> Record:
    """check_json as the endpoints write it: nil ServiceTags become ``[]``."""
    out = check_json(check)
    if out["ServiceTags"] is None:
        out["ServiceTags"] = []
    return out


async def health_node_checks(api: Backend, ctx: Context) -> Reply:
    """HealthNodeChecks + Health.NodeChecks."""
    ent_meta(ctx)
    opts = parse(api, ctx)
    node = tail(ctx, "/v1/health/node/")
    if not node:
        raise HTTPError(400, "Missing node name")
    catalog = api.catalog

    def prepare() -> Callable[[], Result[list[Record]]]:
        bexpr = build_filter(ctx, CHECK_SCHEMA)

        def query() -> Result[list[Record]]:
            index, checks = catalog.node_checks(node)
            out = [c for c in map(check_out, checks) if bexpr.matches(c)]
            return Result(index, out, (CHECKS,))

        return query

    result = await _rpc(api, ctx, opts, prepare)
    return ctx.json(result.value)


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
    near = _near(api, ctx)
    meta = _meta_filters(ctx)
    opts = parse(api, ctx)
    name = tail(ctx, prefix)
    if not name:
        raise HTTPError(400, missing)

    def prepare() -> Callable[[], Result[list[Record]]]:
        bexpr = build_filter(ctx, CHECK_SCHEMA)

        def query() -> Result[list[Record]]:
            index, checks = lookup(name, meta)
            out = [c for c in map(check_out, checks) if bexpr.matches(c)]
            _sort_near(api, near, out, lambda c: c["Node"])
            return Result(index, out, meta_channels if meta else (CHECKS,))

        return query

    result = await _rpc(api, ctx, opts, prepare)
    return ctx.json(result.value)


async def health_service_checks(api: Backend, ctx: Context) -> Reply:
    """HealthServiceChecks + Health.ServiceChecks."""
    return await _health_checks(
        api,
        ctx,
        "/v1/health/checks/",
        "Missing service name",
        api.catalog.service_checks,
        (CHECKS, SERVICES, NODES),
    )


async def health_checks_in_state(api: Backend, ctx: Context) -> Reply:
    """HealthChecksInState + Health.ChecksInState (``any`` for all; no other word is refused)."""
    return await _health_checks(
        api,
        ctx,
        "/v1/health/state/",
        "Missing check state",
        api.catalog.checks_in_state,
        (CHECKS, NODES),
    )


def _satisfies(meta: dict[str, str] | None, wanted: dict[str, str]) -> bool:
    meta = meta or {}
    return all(k in meta and meta[k] == v for k, v in wanted.items())


async def _health_service_nodes(api: Backend, ctx: Context, kind: str) -> Reply:
    """healthServiceNodes for ``service``, ``connect`` and ``ingress``."""
    ent_meta(ctx)
    near = _near(api, ctx)
    meta = _meta_filters(ctx)
    opts = parse(api, ctx)
    peer = ctx.query.get("peer")
    if ctx.query.get("sameness-group") and peer:
        raise HTTPError(400, "peer-name and sameness-group are mutually exclusive")
    tags = _tags(ctx)
    name = tail(ctx, f"/v1/health/{kind}/")
    if not name:
        raise HTTPError(400, "Missing service name")
    passing = False
    if "passing" in ctx.query:
        raw = ctx.query.get("passing")
        parsed = True if raw == "" else parse_bool(raw)
        if parsed is None:
            raise HTTPError(400, "Invalid value for ?passing")
        passing = parsed
    catalog = api.catalog

    def prepare() -> Callable[[], Result[list[Record]]]:
        bexpr = build_filter(ctx, CHECK_SERVICE_NODE_SCHEMA)

        def query() -> Result[list[Record]]:
            if kind == "ingress" or peer:
                # No ingress gateway has services without config entries; no peer exists.
                return Result(0, [], (SERVICES, NODES, CHECKS))
            index, rows = catalog.check_service_nodes(name, tags=tags, connect=kind == "connect")
            if meta:
                rows = [r for r in rows if _satisfies(r[0]["Meta"], meta)]
            out = []
            for node, svc, checks in rows:
                item = {
                    "Node": node_json(node),
                    "Service": _node_service_out(svc),
                    "Checks": [check_out(c) for c in checks],
                }
                if not bexpr.matches(item):
                    continue
                if passing and any(c["Status"] != "passing" for c in checks):
                    continue
                out.append(item)
            _sort_near(api, near, out, lambda i: i["Node"]["Node"])
            return Result(index, out, (SERVICES, NODES, CHECKS))

        return query

    result = await _rpc(api, ctx, opts, prepare, deferred_meta=False)
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


# -- coordinates -----------------------------------------------------------------------------


def _segment_filter(ctx: Context, coords: list[Record]) -> list[Record]:
    """filterCoordinates: ``?segment=`` keeps one segment."""
    if "segment" not in ctx.query:
        return coords
    segment = ctx.query.get("segment")
    return [c for c in coords if c["Segment"] == segment]


def partition_only(ctx: Context) -> None:
    """parseEntMetaPartition (CE): only ``partition`` is looked at."""
    if ctx.request.headers.get("X-Consul-Partition"):
        raise HTTPError(
            400, 'Invalid header: "X-Consul-Partition" - Partitions are a Consul Enterprise feature'
        )
    if ctx.query.get("partition"):
        raise HTTPError(
            400,
            'Invalid query parameter: "partition" - Partitions are a Consul Enterprise feature',
        )


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
        def query() -> Result[list[Record]]:
            index, coords = catalog.coordinates()
            return Result(index, [dict(c) for c in coords], (COORDINATES,))

        return query

    result = await _rpc(api, ctx, opts, prepare)
    return json_floats(ctx, _segment_filter(ctx, result.value))


async def coordinate_node(api: Backend, ctx: Context) -> Reply:
    """CoordinateNode + Coordinate.Node: 404 with an empty body when there is none."""
    node = tail(ctx, "/v1/coordinate/node/")
    opts = parse(api, ctx)
    partition_only(ctx)
    catalog = api.catalog

    def prepare() -> Callable[[], Result[list[Record]]]:
        def query() -> Result[list[Record]]:
            index, coords = catalog.coordinate(node)
            out = [{"Node": node, "Segment": s, "Coord": c} for s, c in coords.items()]
            return Result(index, out, (COORDINATES,))

        return query

    result = await _rpc(api, ctx, opts, prepare)
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
    Route.of("/v1/health/node/", ("GET",), health_node_checks),
    Route.of("/v1/health/checks/", ("GET",), health_service_checks),
    Route.of("/v1/health/state/", ("GET",), health_checks_in_state),
    Route.of("/v1/health/service/", ("GET",), health_service_nodes),
    Route.of("/v1/health/connect/", ("GET",), health_connect_nodes),
    Route.of("/v1/health/ingress/", ("GET",), health_ingress_nodes),
    Route.of("/v1/coordinate/datacenters", ("GET",), coordinate_datacenters),
    Route.of("/v1/coordinate/nodes", ("GET",), coordinate_nodes),
    Route.of("/v1/coordinate/node/", ("GET",), coordinate_node),
    Route.of("/v1/coordinate/update", ("PUT",), coordinate_update_endpoint),
)
