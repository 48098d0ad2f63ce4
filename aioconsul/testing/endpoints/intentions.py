"""HTTP endpoints of Connect intentions (``/v1/connect/intentions...``) and the agent's
``POST /v1/agent/connect/authorize``.

``agent/intentions_endpoint.go`` (the HTTP half: parameter order, which errors are 400s and
which plain errors, i.e. 500s) and ``agent/consul/intention_endpoint.go`` (the RPC half:
``Intention.Apply`` / ``Get`` / ``List`` / ``Match`` / ``Check``), over the intentions kept in
service-intentions config entries (``state/intention.py``). The ACL lines are Consul's:

* writes need ``intention:write`` on the destination (``Intention.CanWrite``), a bare
  "Permission denied";
* ``Get`` and ``List`` keep what ``Intention.CanRead`` allows (``intention:read`` on either
  end); a ``Get`` left with nothing is a bare denial; ``Match`` needs ``intention:read`` on
  each name, ``Check`` ``service:read`` on the destination, ``authorize`` ``service:write`` on
  the target (and the match it runs ``intention:read`` on it);
* with no intention matching, ``Check`` and ``authorize`` answer the token's
  ``IntentionDefaultAllow``: allow with ACLs off, the ACL default policy with them on.

The ID-addressed routes are Consul's deprecated legacy API: they still work in 1.21, on
intentions made through them (entries whose every source has a ``LegacyID``), and refuse to edit
an entry written any other way. This module never imports another endpoint module.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Final

from ..acl import filter as aclfilter
from ..acl.authorizer import Decision, Enforcer, Permission
from ..acl.errors import ACLError, ACLNotFound, PermissionDenied
from ..backend import Backend
from ..connect.uri import CertURIError, SpiffeIDService, parse_cert_uri
from ..golang.jsondecode import Str, Struct, unmarshal
from ..golang.stdlib import GoSyntaxError, strconv_quote
from ..http.acl import authorize, request_token
from ..http.cache import CacheOptions, agent_cache, cached_rpc, set_cache_meta
from ..http.query import (
    QueryOptions,
    Result,
    blocking,
    build_filter,
    ent_meta,
    forward,
    parse,
    query_timeout,
    rpc,
    set_meta,
)
from ..http.reply import Context, HTTPError, Reply, Route
from ..state.config_entry import config_entries
from ..state.intention import (
    CONFIG_ENTRIES,
    DESTINATION,
    SOURCE,
    decide,
    digest,
    intentions,
    matching,
)
from ..state.memdb import RPCError, generate_uuid
from ..structs.intention import (
    DEFAULT_NAMESPACE,
    FILTER_SCHEMA,
    IntentionError,
    decode_intention,
    go_now,
    intention_string,
    legacy_validate_intention,
    parse_component,
    to_source_intention,
)

__all__ = ["ROUTES"]

Record = dict[str, Any]

#: consul.ErrIntentionNotFound
_NOT_FOUND: Final = "Intention not found"


class _NotFound(Exception):
    """ErrIntentionNotFound out of the blocking query."""


def _values(ctx: Context, name: str) -> list[str]:
    """``q[name]``: every value the query string gives the parameter."""
    return [value for key, value in ctx.query.pairs if key == name]


def _one(ctx: Context, name: str, *, non_empty: bool = False) -> str:
    """A parameter given exactly once (else Consul's plain "not set" error, a 500)."""
    values = _values(ctx, name)
    if len(values) != 1 or (non_empty and not values[0]):
        raise RPCError(f"required query parameter '{name}' not set")
    return values[0]


def _component(text: str, what: str, *, allow_peer: bool = False) -> tuple[str, str, str]:
    """parseIntentionStringComponent, its error as the handler words it: (peer, ns, name)."""
    try:
        peer, _, namespace, name = parse_component(text, allow_peer=allow_peer)
    except IntentionError as exc:
        raise RPCError(f"{what} {strconv_quote(text)} is invalid: {exc}") from None
    return peer, namespace, name


def _ce_namespace(namespace: str, label: str) -> None:
    """Server.validateEnterpriseIntentionNamespace (CE): only ``default`` (or none)."""
    if namespace and namespace.lower() != DEFAULT_NAMESPACE:
        raise RPCError(f"{label} {strconv_quote(namespace)}: Namespaces is a Consul "
                       "Enterprise feature")


def _can_write(authz: Enforcer, destination: str) -> None:
    """Intention.CanWrite: ``intention:write`` on the destination, a bare denial."""
    authz.require_plain(Permission.INTENTION_WRITE, destination)


def _default_allow(authz: Enforcer) -> bool:
    """authz.IntentionDefaultAllow(nil) == acl.Allow."""
    return authz.decide(Permission.INTENTION_DEFAULT_ALLOW) is Decision.ALLOW


# -- list, create -------------------------------------------------------------------------


async def intention_endpoint(api: Backend, ctx: Context) -> Reply:
    """IntentionEndpoint: GET lists, POST creates a legacy intention."""
    if ctx.request.method == "POST":
        return await _legacy_create(api, ctx)
    opts = parse(api, ctx)
    ent_meta(ctx)
    table = intentions(api.store)

    def prepare() -> Callable[[], Result[list[Record]]]:
        bexpr = build_filter(ctx, FILTER_SCHEMA)  # bexpr.CreateFilter, before the token
        authz = authorize(api, ctx)
        token = request_token(api, ctx)

        def query() -> Result[list[Record]]:
            index, listed = table.all()
            shown = [ixn for ixn in listed if bexpr.matches(ixn)]
            kept, hidden = aclfilter.intentions(authz, shown)  # after the user's filter
            return Result(index, kept, (CONFIG_ENTRIES,), filtered=aclfilter.mask(token, hidden))

        return query

    result = await rpc(api, ctx, opts, prepare)
    return ctx.json(result.value)


async def _decode_legacy_body(ctx: Context, *, create: bool) -> Record:
    body = await ctx.request.read()
    try:
        return decode_intention(body)
    except GoSyntaxError as exc:
        if create:  # IntentionCreate wraps it in a plain error
            raise RPCError(f"Failed to decode request body: {exc}") from None
        raise HTTPError(400, f"Request decode failed: {exc}") from None


def _legacy_http_checks(ixn: Record) -> None:
    """The legacy handlers' partition checks and validateEnterpriseIntention (CE)."""
    for field, side in (("DestinationPartition", "destination"), ("SourcePartition", "source")):
        if ixn.get(field) not in (None, "", "default"):
            raise HTTPError(400, f"Cannot specify a {side} partition with this endpoint")
    for field in ("SourceNS", "DestinationNS"):
        namespace = ixn.get(field) or ""
        if namespace and namespace.lower() != DEFAULT_NAMESPACE:
            raise HTTPError(400, f"Invalid {field}({namespace}): Namespaces is a Consul "
                                 "Enterprise feature")


def _apply_preamble(api: Backend, ctx: Context, ixn: Record) -> Enforcer:
    """Intention.Apply up to the operation: no SourcePeer, then the token."""
    if ixn.get("SourcePeer"):
        raise RPCError("SourcePeer field is not supported on this endpoint. "
                       "Use config entries instead")
    return authorize(api, ctx)


def _legacy_source(ixn: Record) -> Record:
    """The legacy source a create or update stores, with its times set now."""
    if not ixn.get("SourceType"):
        ixn["SourceType"] = "consul"
    ixn["SourceNS"] = ixn["DestinationNS"] = DEFAULT_NAMESPACE
    try:
        legacy_validate_intention(ixn)
    except IntentionError as exc:
        raise RPCError(str(exc)) from None
    source = to_source_intention(ixn, legacy=True)
    now = go_now()
    return {**source, "LegacyCreateTime": now, "LegacyUpdateTime": now}


async def _legacy_create(api: Backend, ctx: Context) -> Reply:
    """IntentionCreate + Intention.Apply (IntentionOpCreate): ``{"ID": "<uuid>"}``."""
    ent_meta(ctx)
    ixn = await _decode_legacy_body(ctx, create=True)
    _legacy_http_checks(ixn)
    authz = _apply_preamble(api, ctx, ixn)
    destination = ixn.get("DestinationName") or ""
    _can_write(authz, destination)
    if ixn.get("ID"):
        raise RPCError("ID must be empty when creating a new intention")
    ixn["ID"] = generate_uuid()
    source = _legacy_source(ixn)
    intentions(api.store).legacy_create(destination, source)
    return ctx.json({"ID": ixn["ID"]})


# -- exact ---------------------------------------------------------------------------------


def _exact_names(ctx: Context) -> tuple[str, str]:
    """parseIntentionQueryExact (PUT and DELETE): both names, non-empty, no peer."""
    source = _one(ctx, "source", non_empty=True)
    destination = _one(ctx, "destination", non_empty=True)
    _, _, source_name = _component(source, "source")
    _, _, destination_name = _component(destination, "destination")
    return source_name, destination_name


async def intention_exact(api: Backend, ctx: Context) -> Reply:
    """IntentionExact: GET, PUT, DELETE by source and destination name."""
    if ctx.request.method == "PUT":
        return await _put_exact(api, ctx)
    if ctx.request.method == "DELETE":
        return _delete_exact(api, ctx)
    ent_meta(ctx)
    opts = parse(api, ctx)
    source_peer, source_ns, source = _component(_one(ctx, "source"), "source", allow_peer=True)
    _, destination_ns, destination = _component(_one(ctx, "destination"), "destination")
    forward(api, opts.datacenter)
    authz = authorize(api, ctx)
    _ce_namespace(source_ns, "Invalid SourceNS")
    _ce_namespace(destination_ns, "Invalid DestinationNS")
    table = intentions(api.store)

    def query() -> Result[Record]:
        if not source:
            raise RPCError("SourceName is required")
        if not destination:
            raise RPCError("DestinationName is required")
        index, _, ixn = table.get_exact(source, destination, source_peer)
        return _readable(authz, index, ixn)

    return await _get(api, ctx, opts, query)


def _readable(authz: Enforcer, index: int, ixn: Record | None) -> Result[Record]:
    """Intention.Get's ending: not found, or the intention if CanRead allows it."""
    if ixn is None:
        raise _NotFound()
    if not aclfilter.intention_readable(authz, ixn):
        raise PermissionDenied()
    return Result(index, ixn, (CONFIG_ENTRIES,))


async def _get(
    api: Backend, ctx: Context, opts: QueryOptions, query: Callable[[], Result[Record]]
) -> Reply:
    """The Get handlers: no metadata headers; "Intention not found" is a 404, an error
    naming a UUID a 400."""
    try:
        result = await blocking(api, opts, query)
    except _NotFound:
        raise HTTPError(404, _NOT_FOUND) from None
    except RPCError as exc:
        if "UUID" in str(exc):
            raise HTTPError(400, str(exc)) from None
        raise
    return ctx.json(result.value)


async def _put_exact(api: Backend, ctx: Context) -> Reply:
    """IntentionPutExact + Intention.Apply (IntentionOpUpsert): ``true``."""
    ent_meta(ctx)
    source, destination = _exact_names(ctx)
    body = await ctx.request.read()
    try:
        ixn = decode_intention(body)
    except GoSyntaxError as exc:
        raise HTTPError(400, f"Request decode failed: {exc}") from None
    ixn.update(ID="", SourceName=source, DestinationName=destination)
    authz = _apply_preamble(api, ctx, ixn)
    _can_write(authz, destination)
    table = intentions(api.store)
    _, stored = _table_entry(api, destination)
    meta = ixn.get("Meta") or {}
    if stored is None and meta:
        raise RPCError("Meta must not be specified")
    if stored is not None and meta and meta != (stored.get("Meta") or {}):
        raise RPCError("Meta must not be specified, or should be unchanged during an update.")
    table.upsert(destination, to_source_intention(ixn, legacy=False))
    return ctx.json(True)


def _table_entry(api: Backend, destination: str) -> tuple[int, Record | None]:
    """The destination's service-intentions entry, as the RPC half reads it before Raft."""
    index, stored = config_entries(api.store).get("service-intentions", destination)
    return index, stored.entry if stored is not None else None


def _delete_exact(api: Backend, ctx: Context) -> Reply:
    """IntentionDeleteExact + Intention.Apply (delete by name): ``true``, idempotent."""
    ent_meta(ctx)
    source, destination = _exact_names(ctx)
    authz = authorize(api, ctx)
    _can_write(authz, destination)
    table = intentions(api.store)
    _, _, existing = table.get_exact(source, destination)
    if existing is not None:  # the pre-flight: by-name deletions are idempotent
        table.delete(destination, source)
    return ctx.json(True)


# -- by ID (legacy) ------------------------------------------------------------------------


async def intention_specific(api: Backend, ctx: Context) -> Reply:
    """IntentionSpecific: GET, PUT, DELETE ``/v1/connect/intentions/:id``."""
    legacy_id = ctx.path.removeprefix("/v1/connect/intentions/")
    table = intentions(api.store)
    if ctx.request.method == "GET":
        opts = parse(api, ctx)
        forward(api, opts.datacenter)
        authz = authorize(api, ctx)

        def query() -> Result[Record]:
            if not legacy_id:
                raise _NotFound()
            index, _, ixn = table.get_by_id(legacy_id)
            return _readable(authz, index, ixn)

        return await _get(api, ctx, opts, query)
    if ctx.request.method == "PUT":
        ent_meta(ctx)
        ixn = await _decode_legacy_body(ctx, create=False)
        _legacy_http_checks(ixn)
        ixn["ID"] = legacy_id
        authz = _apply_preamble(api, ctx, ixn)
        existing = _legacy_lookup(api, legacy_id, "modify")
        _can_write(authz, existing["DestinationName"])
        if (ixn.get("DestinationName") or "") != existing["DestinationName"]:
            raise RPCError("Cannot modify Destination partition/namespace/name for an "
                           "intention once it exists.")
        table.legacy_update(existing["ID"], _legacy_source(ixn))
        return ctx.json({"ID": legacy_id})
    authz = authorize(api, ctx)
    existing = _legacy_lookup(api, legacy_id, "delete")
    _can_write(authz, existing["DestinationName"])
    table.legacy_delete(existing["ID"])
    return ctx.json(True)


def _legacy_lookup(api: Backend, legacy_id: str, verb: str) -> Record:
    """computeApplyChangesLegacy{Update,Delete}: the intention, or Consul's error."""
    try:
        _, _, ixn = intentions(api.store).get_by_id(legacy_id)
    except RPCError as exc:
        raise RPCError(f"Intention lookup failed: {exc}") from None
    if ixn is None:
        raise RPCError(f"Cannot {verb} non-existent intention: '{legacy_id}'")
    return ixn


# -- match, check --------------------------------------------------------------------------


def _match_entries(ctx: Context) -> tuple[str, list[str], list[str]]:
    """IntentionMatch's parameters: by, and the names (as given, and parsed)."""
    by = _values(ctx, "by")
    if len(by) != 1:
        raise RPCError("required query parameter 'by' not set")
    if by[0] not in (SOURCE, DESTINATION):
        raise RPCError("'by' parameter must be one of 'source' or 'destination'")
    names = _values(ctx, "name")
    if not names:
        raise RPCError("required query parameter 'name' not set")
    parsed = []
    for name in names:
        _, namespace, service = _component(name, "name")
        parsed.append((namespace, service))
    for namespace, _ in parsed:
        _ce_namespace(namespace, "Invalid match entry namespace")
    return by[0], names, [service for _, service in parsed]


def _match_read_check(authz: Enforcer, services: list[str]) -> None:
    """Intention.Match: ``intention:read`` on each name (the detailed denial)."""
    for service in services:
        if service:
            authz.require(Permission.INTENTION_READ, service)


async def _match_blocking(
    api: Backend, opts: QueryOptions, query: Callable[[], Result[Any]]
) -> Result[Any]:
    """Intention.Match's blocking query: a wake-up whose matches hash as before is no change
    (``errNotChanged``), and an answer without any match keeps blocking (``errNotFound``)."""
    result = query()
    if opts.min_index == 0:
        return result
    loop = asyncio.get_running_loop()
    deadline = loop.time() + query_timeout(opts.max_query_time)
    min_index, prior, unchanged, not_found = opts.min_index, digest(result.value), False, False
    while True:
        if result.not_found:
            if not_found:
                min_index = result.index
            not_found = True
        if result.index > min_index and not unchanged:
            return result
        remaining = deadline - loop.time()
        if remaining <= 0 or not await api.watch.wait(result.channels, remaining):
            return result
        if api.watch.closed:
            return result
        result = query()
        current = digest(result.value)
        unchanged, prior = current == prior, current


async def intention_match(api: Backend, ctx: Context) -> Reply:
    """IntentionMatch + Intention.Match: ``{name: [intention, ...]}`` in precedence order."""
    opts = parse(api, ctx)
    ent_meta(ctx)
    by, names, services = _match_entries(ctx)
    table = intentions(api.store)

    def prepare() -> Callable[[], Result[list[list[Record]]]]:
        authz = authorize(api, ctx)
        _match_read_check(authz, services)

        def query() -> Result[list[list[Record]]]:
            index, matches = table.match(by, services)
            return Result(index, matches, (CONFIG_ENTRIES,),
                          not_found=not any(matches))

        return query

    if "cached" in ctx.query:
        result = await cached_rpc(api, ctx, opts, prepare, type_name="intention-match",
                                  token=request_token(api, ctx))
    else:
        result = await _match_rpc(api, ctx, opts, prepare)
    # a name without matches is a nil slice: JSON null
    return ctx.json({name: (found or None) for name, found in zip(names, result.value,
                                                                  strict=True)})


async def _match_rpc(
    api: Backend, ctx: Context, opts: QueryOptions,
    prepare: Callable[[], Callable[[], Result[Any]]],
) -> Result[Any]:
    index, known_leader = 0, False
    try:
        forward(api, opts.datacenter)
        result = await _match_blocking(api, opts, prepare())
        index, known_leader = result.index, True
    finally:
        set_meta(ctx, index, known_leader=known_leader)
    return result


async def intention_check(api: Backend, ctx: Context) -> Reply:
    """IntentionCheck + Intention.Check: ``{"Allowed": bool}`` (L7 intentions deny)."""
    opts = parse(api, ctx)
    ent_meta(ctx)
    source_type = _values(ctx, "source-type")
    kind = source_type[0] if source_type else "consul"
    source = _one(ctx, "source")
    destination = _one(ctx, "destination")
    source_ns, source_name = "", source
    if kind == "consul":
        _, source_ns, source_name = _component(source, "source")
    _, destination_ns, destination_name = _component(destination, "destination")
    forward(api, opts.datacenter)
    authz = authorize(api, ctx)
    _ce_namespace(source_ns, "Invalid source namespace")
    _ce_namespace(destination_ns, "Invalid destination namespace")
    if kind != "consul":
        raise RPCError(f"unsupported SourceType: {strconv_quote(kind)}")
    if destination_name:
        authz.require(Permission.SERVICE_READ, destination_name)
    ixns = intentions(api.store).match_one(source_name, SOURCE)
    decision = decide(ixns, destination_name, DESTINATION,
                      default_allow=_default_allow(authz), allow_permissions=False)
    return ctx.json({"Allowed": decision.allowed})


# -- agent connect authorize ---------------------------------------------------------------

_AUTHORIZE_BODY: Final = Struct(
    "structs.ConnectAuthorizeRequest", "ConnectAuthorizeRequest",
    {"Target": Str(), "ClientCertURI": Str(), "ClientCertSerial": Str()},
)


async def agent_connect_authorize(api: Backend, ctx: Context) -> Reply:
    """AgentConnectAuthorize: ``{"Authorized": bool, "Reason": text}`` for a client
    certificate's service (its SPIFFE URI) connecting to ``Target``."""
    token = request_token(api, ctx)
    ent_meta(ctx)
    body = await ctx.request.read()
    try:
        decoded = unmarshal(body, _AUTHORIZE_BODY)
    except GoSyntaxError as exc:
        raise HTTPError(400, f"Request decode failed: {exc}") from None
    request = decoded if isinstance(decoded, dict) else {}
    target = request.get("Target") or ""
    if not target:
        raise HTTPError(400, "Target service must be specified")
    try:
        uri = parse_cert_uri(request.get("ClientCertURI") or "")
    except CertURIError:
        raise HTTPError(400, "ClientCertURI not a valid Connect identifier") from None
    if not isinstance(uri, SpiffeIDService):
        raise HTTPError(400, "ClientCertURI not a valid Service identifier")
    try:
        authz = authorize(api, ctx)
    except ACLError as exc:
        # wrapped with %w: still an ACL "not found", answered 403 with the whole text
        raise ACLNotFound(f"Could not resolve token to authorizer: {exc}") from None
    authz.require(Permission.SERVICE_WRITE, target)
    if uri.partition_or_default() != "default":
        raise HTTPError(400, f"Mismatched partitions: {strconv_quote(uri.partition_or_default())}"
                             f' != "default"')
    table = intentions(api.store)

    def query() -> Result[list[list[Record]]]:
        index, matches = table.match(DESTINATION, [target])
        return Result(index, matches, (CONFIG_ENTRIES,))

    try:
        _match_read_check(authz, [target])  # the cached Intention.Match runs with the token
    except ACLError as exc:
        raise ACLError(f"failed getting intention match: {exc}") from None
    key = ("intention-match", api.datacenter, token, DESTINATION, target)
    result, hit, age = await agent_cache(api).get(
        api, key, CacheOptions(True), QueryOptions(api.datacenter), query, refresh=True)
    match = matching(result.value[0], uri.service, SOURCE)
    if match is not None and not match.get("Permissions"):
        authorized = match.get("Action") == "allow"
        reason = f"Matched L4 intention: {intention_string(match)}"
    elif match is not None:
        authorized, reason = False, f"Matched L7 intention: {intention_string(match)}"
    else:
        authorized, reason = _default_allow(authz), "Default behavior configured by ACLs"
    set_cache_meta(ctx, hit, age)
    return ctx.json({"Authorized": authorized, "Reason": reason})


ROUTES: Final[tuple[Route, ...]] = (
    Route.of("/v1/agent/connect/authorize", ("POST",), agent_connect_authorize),
    Route.of("/v1/connect/intentions", ("GET", "POST"), intention_endpoint),
    Route.of("/v1/connect/intentions/match", ("GET",), intention_match),
    Route.of("/v1/connect/intentions/check", ("GET",), intention_check),
    Route.of("/v1/connect/intentions/exact", ("GET", "PUT", "DELETE"), intention_exact),
    Route.of("/v1/connect/intentions/", ("GET", "PUT", "DELETE"), intention_specific),
)
