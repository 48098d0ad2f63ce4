"""HTTP endpoints of the prepared-query group (``/v1/query``, ``/v1/query/...``).

The HTTP half follows ``agent/prepared_query_endpoint.go`` (create, list, get, update,
delete, execute, explain; the 404 ``Query not found``), the RPC half
``agent/consul/prepared_query_endpoint.go``: ``Apply`` (ID generation, the ``query:write``
checks on the new and the stored query's ACL prefix, ``parseQuery``), ``Get``/``List`` with
``aclfilter``'s prepared-query filter, ``Explain``, and ``Execute`` against the catalog and
health (OnlyPassing and IgnoreCheckIDs, node and service meta, tags with ``!tag``, the
``Near`` sort, ``?limit``; one datacenter, so a failover never happens and ``Failovers`` is 0),
the results filtered with the stored token, or the caller's when the query has none.

State is read from ``state/prepared_query.py`` and ``state/catalog.py``; this module never
imports another endpoint module.
"""

from __future__ import annotations

import random
from typing import Any, Final

from ..acl import filter as aclfilter
from ..acl.authorizer import Enforcer, Permission
from ..acl.errors import PermissionDenied
from ..backend import Backend
from ..golang.stdlib import GoSyntaxError, parse_duration, strconv_quote
from ..http.acl import authorize, request_token
from ..http.cache import agent_cache, cache_options, set_cache_meta
from ..http.query import (
    QueryOptions,
    Record,
    Result,
    decode_body,
    forward,
    parse,
    parse_near,
    rpc,
    set_meta,
    sort_near,
    tail,
)
from ..http.reply import Context, HTTPError, Reply, Route
from ..state.catalog import node_json, validate_meta
from ..state.memdb import RPCError, generate_uuid
from ..state.prepared_query import QUERIES_TABLE
from ..structs.catalog import check_out, meta_satisfies, node_service_out
from ..structs.prepared_query import REDACTED_TOKEN, decode_query_body, new_query, query_json

__all__ = ["ROUTES"]

QUERY_NOT_FOUND: Final = "Query not found"  # structs.ErrQueryNotFound


def _acl_prefix(query: Record) -> str | None:
    """PreparedQuery.GetACLPrefix: the name, when the query has one or is a template."""
    if query["Name"] or query["Template"]["Type"]:
        return str(query["Name"])
    return None


def _decode(data: bytes) -> Record:
    query = decode_query_body(data)
    return query if query is not None else new_query()


def _consistency(ctx: Context) -> str:
    """QueryOptions.ConsistencyLevel."""
    if "consistent" in ctx.query:
        return "consistent"
    if "stale" in ctx.query or ctx.query.get("max_stale"):
        return "stale"
    return "leader"


# -- Apply (create, update, delete) -------------------------------------------------------------


def _parse_query(query: Record) -> None:
    """parseQuery / parseService / parseDNS: Consul's texts, wrapped "Invalid prepared query"."""
    service = query["Service"]
    failover = service["Failover"]
    problem = None
    if not query["Name"] and not query["Template"]["Type"] and not query["Session"]:
        problem = "Must be bound to a session"
    elif query["Token"] == REDACTED_TOKEN:
        problem = (
            f"Bad Token '{query['Token']}', it looks like a query definition with a redacted "
            "token was submitted"
        )
    elif not service["Service"]:
        problem = "Must provide a Service name to query"
    elif failover["NearestN"] < 0:
        problem = f"Bad NearestN '{failover['NearestN']}', must be >= 0"
    elif (failover["NearestN"] or failover["Datacenters"]) and failover["Targets"]:
        problem = "Targets cannot be populated with NearestN or Datacenters"
    else:
        # ValidateNodeMetadata(meta, allowConsulPrefix=true)
        meta = {k: v for k, v in (service["NodeMeta"] or {}).items()
                if not k.startswith("consul-")}
        problem = validate_meta(meta) if meta else None
        ttl = query["DNS"]["TTL"]
        if problem is None and ttl:
            try:
                duration = parse_duration(ttl)
            except GoSyntaxError as exc:
                problem = f"Bad DNS TTL '{ttl}': {exc}"
            else:
                if duration < 0:
                    problem = f"DNS TTL '{duration}', must be >=0"
    if problem:
        raise RPCError(f"Invalid prepared query: {problem}")


def _apply(api: Backend, ctx: Context, op: str, query: Record) -> str:
    """PreparedQuery.Apply; returns the query's ID."""
    forward(api, ctx.query.get("dc") or api.datacenter)
    table = api.queries
    if op == "create":
        if query["ID"]:
            raise RPCError("ID must be empty when creating a new prepared query")
        query["ID"] = generate_uuid()
        while table.exists(query["ID"]):
            query["ID"] = generate_uuid()
    authz = authorize(api, ctx)
    prefix = _acl_prefix(query)
    if prefix is not None:
        authz.require_plain(Permission.QUERY_WRITE, prefix)
    if op != "create":
        _, existing = table.get(query["ID"])
        if existing is None:
            raise RPCError(f"Cannot modify non-existent prepared query: '{query['ID']}'")
        prefix = _acl_prefix(existing)
        if prefix is not None:
            authz.require_plain(Permission.QUERY_WRITE, prefix)
    if op == "delete":
        table.delete(query["ID"])
    else:
        _parse_query(query)
        table.set(query)
    return str(query["ID"])


async def query_create(api: Backend, ctx: Context) -> Reply:
    """POST /v1/query: preparedQueryCreate -> {"ID": ...}."""
    query = await decode_body(ctx, _decode)
    return ctx.json({"ID": _apply(api, ctx, "create", query)})


async def _update(api: Backend, ctx: Context, query_id: str) -> Reply:
    """PUT /v1/query/:id: the body (if any) with the ID taken from the URL."""
    query = new_query()
    if ctx.request.content_length:
        query = await decode_body(ctx, _decode)
    query["ID"] = query_id
    _apply(api, ctx, "update", query)
    return Reply()


async def _delete(api: Backend, ctx: Context, query_id: str) -> Reply:
    query = new_query()
    query["ID"] = query_id
    _apply(api, ctx, "delete", query)
    return Reply()


# -- reads ---------------------------------------------------------------------------------------


async def query_list(api: Backend, ctx: Context) -> Reply:
    """GET /v1/query: PreparedQuery.List through filterPreparedQueries."""
    opts = parse(api, ctx)
    token = request_token(api, ctx)

    def prepare() -> Any:
        def run() -> Result[list[Record]]:
            authz = authorize(api, ctx)
            index, queries = api.queries.list()
            kept, hidden = aclfilter.prepared_queries(authz, [query_json(q) for q in queries])
            return Result(index, kept, (QUERIES_TABLE,), filtered=aclfilter.mask(token, hidden))

        return run

    result = await rpc(api, ctx, opts, prepare)
    return ctx.json(result.value)


async def _get(api: Backend, ctx: Context, opts: QueryOptions, query_id: str) -> Reply:
    """PreparedQuery.Get: unknown is 404 "Query not found"; a query without a name is shown to
    anyone with its ID (its token redacted), a named one needs ``query:read``."""

    def prepare() -> Any:
        def run() -> Result[list[Record] | None]:
            index, query = api.queries.get(query_id)
            if query is None:
                return Result(index, None, (QUERIES_TABLE,), not_found=True)
            authz = authorize(api, ctx)
            shown = query_json(query)
            if _acl_prefix(query) is None:
                return Result(index, [aclfilter.redact_query_token(authz, shown)],
                              (QUERIES_TABLE,))
            kept, _ = aclfilter.prepared_queries(authz, [shown])
            if not kept:
                raise aclfilter_denied()
            return Result(index, kept, (QUERIES_TABLE,))

        return run

    result = await rpc(api, ctx, opts, prepare)
    if result.value is None:
        return Reply.text(404, QUERY_NOT_FOUND)
    return ctx.json(result.value)


def aclfilter_denied() -> Exception:
    """acl.ErrPermissionDenied, as Get and Explain return it for a filtered-out query."""
    return PermissionDenied()


def _parse_limit(ctx: Context) -> int:
    """parseLimit: strconv.Atoi on ``?limit``; a bad one is "Bad limit: ..." (HTTP 500)."""
    raw = ctx.query.get("limit")
    if not raw:
        return 0
    text = raw[1:] if raw[:1] in "+-" else raw
    if not text.isdigit() or not text.isascii():
        raise RPCError(f'Bad limit: strconv.Atoi: parsing {strconv_quote(raw)}: invalid syntax')
    value = int(raw)
    if not -(1 << 63) <= value < 1 << 63:
        raise RPCError(
            f'Bad limit: strconv.Atoi: parsing {strconv_quote(raw)}: value out of range'
        )
    return value


def _query_meta(ctx: Context, filtered: bool) -> Record:
    """The embedded structs.QueryMeta of an execute or explain reply (setQueryMeta)."""
    meta: Record = {
        "Index": 0,
        "LastContact": 0,
        "KnownLeader": True,
        "ConsistencyLevel": _consistency(ctx),
        "NotModified": False,
        "Backend": 0,
    }
    if filtered:
        meta["ResultsFilteredByACLs"] = True
    return meta


def _resolve(api: Backend, id_or_name: str) -> Record:
    _, query = api.queries.resolve(id_or_name)
    if query is None:
        raise HTTPError(404, QUERY_NOT_FOUND)
    return query


def _tag_filter(tags: list[str], items: list[Record]) -> list[Record]:
    """tagFilter: every required tag and none of the ``!`` ones, case-insensitively."""
    must = [t.lower() for t in tags if not t.startswith("!")]
    never = [t[1:].lower() for t in tags if t.startswith("!")]
    out = []
    for item in items:
        have = {t.lower() for t in item["Service"]["Tags"] or ()}
        if all(t in have for t in must) and not any(t in have for t in never):
            out.append(item)
    return out


def _execute(api: Backend, query: Record, connect: bool) -> list[Record]:
    """PreparedQuery.execute: the local datacenter's instances, filtered as the query says."""
    service = query["Service"]
    _, rows = api.catalog.check_service_nodes(
        service["Service"], connect=bool(service["Connect"] or connect)
    )
    ignore = set(service["IgnoreCheckIDs"] or ())
    items: list[Record] = []
    for node, svc, checks in rows:
        # CheckServiceNodes.FilterIgnore: a critical check always excludes the instance, and
        # with OnlyPassing any check that is not passing; ignored check IDs do not count.
        relevant = [c for c in checks if c["CheckID"] not in ignore]
        if any(c["Status"] == "critical" for c in relevant):
            continue
        if service["OnlyPassing"] and any(c["Status"] != "passing" for c in relevant):
            continue
        items.append({"Node": node_json(node), "Service": node_service_out(svc),
                      "Checks": [check_out(c) for c in checks]})
    if service["NodeMeta"]:
        items = [i for i in items if meta_satisfies(i["Node"]["Meta"], service["NodeMeta"])]
    if service["ServiceMeta"]:
        items = [i for i in items
                 if meta_satisfies(i["Service"]["Meta"], service["ServiceMeta"])]
    if service["Tags"]:
        items = _tag_filter(service["Tags"], items)
    return items


def _filter_enforcer(api: Backend, ctx: Context, query: Record) -> tuple[Enforcer, str]:
    """The token the results are filtered with: the query's own, else the request's."""
    token = query["Token"] or request_token(api, ctx)
    return api.acl.resolve(token), token


async def _execute_handler(api: Backend, ctx: Context, id_or_name: str) -> Reply:
    """preparedQueryExecute + PreparedQuery.Execute; with ``?cached``, through the agent
    cache's ``prepared-query`` type, a simple one (``cachetype.PreparedQuery``: no background
    refresh, ``Cache-Control`` honoured). Its entry key is the query's ID or name, ``limit``
    and ``connect`` with the token and datacenter (``PreparedQueryExecuteRequest.CacheInfo``):
    ``near`` is not part of it, so a hit keeps the order of the read that fetched it."""
    near = parse_near(api, ctx)
    opts = parse(api, ctx)
    limit = _parse_limit(ctx)
    connect = "connect" in ctx.query
    options = cache_options(ctx)
    filtered = False

    def fetch() -> Result[Record]:
        query = _resolve(api, id_or_name)
        items = _execute(api, query, connect)
        authz, token = _filter_enforcer(api, ctx, query)
        items, hidden = aclfilter.check_service_nodes(authz, items)
        random.shuffle(items)
        source = near or query["Service"]["Near"]
        if source == "_agent":
            source = api.node_name
        elif source == "_ip":
            source = ""  # the dev agent has no request source address to match
        sort_near(api, source, items, lambda i: i["Node"]["Node"])
        if source:
            for i, item in enumerate(items[:10]):
                if item["Node"]["Node"] == source:
                    items[0], items[i] = items[i], items[0]
                    break
        if limit > 0:
            items = items[:limit]
        reply = {
            "Service": query["Service"]["Service"],
            "Nodes": items,
            "DNS": dict(query["DNS"]),
            "Datacenter": api.datacenter,
            "Failovers": 0,
        }
        return Result(0, reply, (QUERIES_TABLE,), filtered=aclfilter.mask(token, hidden))

    try:
        forward(api, opts.datacenter)
        if options.use_cache:
            cache = agent_cache(api)
            key = cache.key("prepared-query", opts.datacenter, request_token(api, ctx), ctx,
                            ignored=("near",))
            result, hit, age = await cache.get(api, key, options, opts, fetch, refresh=False,
                                               blocks=False)
            set_cache_meta(ctx, hit, age)
        else:
            result = fetch()
        filtered = result.filtered
    finally:
        set_meta(ctx, 0, filtered=filtered)
    return ctx.json({**result.value, **_query_meta(ctx, filtered)})


async def _explain_handler(api: Backend, ctx: Context, id_or_name: str) -> Reply:
    """preparedQueryExplain + PreparedQuery.Explain: the (rendered) query, ``query:read``."""
    parse_near(api, ctx)
    opts = parse(api, ctx)
    _parse_limit(ctx)
    try:
        forward(api, opts.datacenter)
        query = _resolve(api, id_or_name)
        kept, _ = aclfilter.prepared_queries(authorize(api, ctx), [query_json(query)])
        if not kept:
            raise aclfilter_denied()
    finally:
        set_meta(ctx, 0)
    return ctx.json({"Query": kept[0], **_query_meta(ctx, False)})


async def query_specific(api: Backend, ctx: Context) -> Reply:
    """PreparedQuerySpecific: ``/execute`` and ``/explain`` (GET only), else get/update/delete."""
    path = ctx.path
    query_id = tail(ctx, "/v1/query/")
    method = ctx.request.method
    for suffix, handler in (("/execute", _execute_handler), ("/explain", _explain_handler)):
        if path.endswith(suffix):
            if method != "GET":
                ctx.headers["Allow"] = "GET"
                raise HTTPError(405, f"method {method} not allowed")
            return await handler(api, ctx, query_id[: -len(suffix)])
    if method == "GET":
        return await _get(api, ctx, parse(api, ctx), query_id)
    if method == "PUT":
        return await _update(api, ctx, query_id)
    return await _delete(api, ctx, query_id)


async def query_general(api: Backend, ctx: Context) -> Reply:
    """PreparedQueryGeneral: POST creates, GET lists."""
    if ctx.request.method == "POST":
        return await query_create(api, ctx)
    return await query_list(api, ctx)


ROUTES: Final[tuple[Route, ...]] = (
    Route.of("/v1/query", ("GET", "POST"), query_general),
    Route.of("/v1/query/", ("GET", "PUT", "DELETE"), query_specific),
)
