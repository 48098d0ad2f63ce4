"""HTTP endpoints of the session group (``/v1/session/...``): ``agent/session_endpoint.go``.

The RPC half is ``agent/consul/session_endpoint.go``: ``Session.Apply`` wants ``session:write``
on the node of the session it creates (after "Must provide Node", before the behavior and TTL
checks) or destroys (the stored session's node; destroying a missing session checks nothing);
``Session.Renew`` the same on the stored session's node, after its lookup; the reads drop the
sessions on nodes the token may not ``session:read`` (filterSessions). TTL timers live on the
backend (``Server.resetSessionTimer``); this module never imports another endpoint module.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from ..acl import filter as aclfilter
from ..acl.authorizer import Permission
from ..backend import Backend
from ..golang.stdlib import SECOND, GoSyntaxError
from ..http.acl import authorize, request_token
from ..http.query import (
    Result,
    blocking,
    ent_meta,
    forward,
    parse,
    required_tail,
    set_meta,
)
from ..http.reply import Context, HTTPError, Reply, Route
from ..state.session import SESSIONS_TABLE, Session
from ..state.store import Store
from ..structs.session import decode_session_body, session_json

__all__ = ["ROUTES"]

_DEFAULT_LOCK_DELAY: Final = 15 * SECOND


_SERF_CHECK: Final = "serfHealth"


async def _session_create(api: Backend, ctx: Context) -> Reply:
    """SessionCreate: defaults, body decoding, fixupEmptySessionChecks, Session.Apply."""
    datacenter = ctx.query.get("dc") or api.datacenter
    ent_meta(ctx)
    fields: dict[str, Any] = {}
    length = ctx.request.content_length
    if length is not None and length > 0:
        body = await ctx.request.content.read()
        try:
            fields = decode_session_body(body)
        except GoSyntaxError as exc:
            raise HTTPError(400, f"Request decode failed: {exc}") from None
    checks: list[str] | None = fields.get("Checks", [_SERF_CHECK])
    node_checks: list[str] | None = fields.get("NodeChecks", [_SERF_CHECK])
    # fixupEmptySessionChecks (agent/session_endpoint.go): an explicit empty Checks clears
    # the default serfHealth node check; the default Checks give way to NodeChecks.
    if not checks:
        node_checks = []
    elif checks == [_SERF_CHECK] or not node_checks:
        checks = None
    forward(api, datacenter)
    node = fields.get("Node", api.node_name)
    if node:  # else the store's "Must provide Node", which Session.Apply checks first
        authorize(api, ctx).require(Permission.SESSION_WRITE, node)
    session = api.store.session_create(
        name=fields.get("Name", ""),
        node=node,
        lock_delay=fields.get("LockDelay", _DEFAULT_LOCK_DELAY),
        behavior=fields.get("Behavior", "release"),
        ttl=fields.get("TTL", ""),
        node_checks=node_checks,
        service_checks=fields.get("ServiceChecks"),
        checks=checks,
    )
    api.session_timers.reset(session)
    return ctx.json({"ID": session.id})


async def _session_destroy(api: Backend, ctx: Context) -> Reply:
    datacenter = ctx.query.get("dc") or api.datacenter
    ent_meta(ctx)
    session_id = required_tail(ctx, "/v1/session/destroy/", "Missing session")
    forward(api, datacenter)
    authz = authorize(api, ctx)
    _, existing = api.store.session_get(session_id)
    if existing is not None:  # a missing session is a no-op nobody is refused
        authz.require(Permission.SESSION_WRITE, existing.node)
    api.store.session_destroy(session_id)
    api.session_timers.clear(session_id)
    return ctx.json(True)


async def _session_renew(api: Backend, ctx: Context) -> Reply:
    opts = parse(api, ctx)
    ent_meta(ctx)
    session_id = required_tail(ctx, "/v1/session/renew/", "Missing session")
    forward(api, opts.datacenter)
    authz = authorize(api, ctx)
    _, session = api.store.session_get(session_id)
    if session is None:
        raise HTTPError(404, f"Session id '{session_id}' not found")
    authz.require(Permission.SESSION_WRITE, session.node)  # Session.Renew, after the lookup
    api.session_timers.reset(session)
    return ctx.json([session_json(session)])


async def _session_read(
    api: Backend,
    ctx: Context,
    query: Callable[[Store, str], Result[list[Session]]],
    prefix: str = "",
    missing: str = "",
) -> Reply:
    """The session reads: parameters, the path's ID or node after ``prefix``, a blocking query
    whose sessions go through filterSessions (a missing session is errNotFound, unfiltered)."""
    opts = parse(api, ctx)
    ent_meta(ctx)
    arg = required_tail(ctx, prefix, missing) if prefix else ""
    store = api.store
    index, known_leader, filtered = 0, False, False
    try:
        forward(api, opts.datacenter)
        authz = authorize(api, ctx)
        token = request_token(api, ctx)

        def filtered_query() -> Result[list[Session]]:
            found = query(store, arg)
            kept, hidden = aclfilter.sessions(authz, found.value)
            return Result(found.index, kept, found.channels, not_found=found.not_found,
                          filtered=aclfilter.mask(token, hidden))

        result = await blocking(api, opts, filtered_query)
        index, known_leader, filtered = result.index, True, result.filtered
    finally:
        set_meta(ctx, index, known_leader=known_leader, filtered=filtered)  # a deferred setMeta
    return ctx.json([session_json(s) for s in result.value])


def _get(store: Store, session_id: str) -> Result[list[Session]]:
    index, session = store.session_get(session_id)
    # Session.Get answers errNotFound: a missing session keeps blocking.
    sessions = [session] if session is not None else []
    return Result(index, sessions, (SESSIONS_TABLE,), not_found=session is None)


async def _session_info(api: Backend, ctx: Context) -> Reply:
    return await _session_read(api, ctx, _get, "/v1/session/info/", "Missing session")


async def _session_list(api: Backend, ctx: Context) -> Reply:
    return await _session_read(
        api, ctx, lambda store, _: Result(*store.session_list(), (SESSIONS_TABLE,))
    )


async def _session_node(api: Backend, ctx: Context) -> Reply:
    def for_node(store: Store, node: str) -> Result[list[Session]]:
        return Result(*store.node_sessions(node), (SESSIONS_TABLE,))

    return await _session_read(api, ctx, for_node, "/v1/session/node/", "Missing node name")


ROUTES: Final[tuple[Route, ...]] = (
    Route.of("/v1/session/create", ("PUT",), _session_create),
    Route.of("/v1/session/destroy/", ("PUT",), _session_destroy),
    Route.of("/v1/session/renew/", ("PUT",), _session_renew),
    Route.of("/v1/session/info/", ("GET",), _session_info),
    Route.of("/v1/session/node/", ("GET",), _session_node),
    Route.of("/v1/session/list", ("GET",), _session_list),
)
