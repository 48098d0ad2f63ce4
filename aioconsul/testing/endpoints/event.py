"""HTTP endpoints of the event group (``/v1/event/...``): ``agent/event_endpoint.go``.

Firing is authorized by the server: ``agent.UserEvent`` validates, then calls
``Internal.EventFire``, which resolves the token and wants ``event:write`` on the name
(``agent/consul/internal_endpoint.go``). The agent answers any permission denial with the bare
"Permission denied" (403) and every other failure, an unknown token's "ACL not found"
included, with 500 and its text. ``/v1/event/list`` is agent-local: it resolves the token after
``parseWait``, drops the events the token may not ``event:read`` after the name filter, and
computes the index from what is left; it has its own blocking loop (index inequality, 600 s, no
jitter). This module never imports another endpoint module.
"""

from __future__ import annotations

import asyncio
from typing import Final

from ..acl import filter as aclfilter
from ..acl.authorizer import Enforcer, Permission
from ..acl.errors import ACLNotFound, PermissionDenied
from ..backend import MAX_QUERY_TIME, Backend
from ..golang.stdlib import SECOND
from ..http.acl import authorize, request_token
from ..http.query import QueryOptions, forward, parse_wait
from ..http.reply import Context, HTTPError, Reply, Route
from ..state.event import EVENTS, UserEvent, uuid_to_uint64
from ..state.memdb import RPCError
from ..structs.event import event_json

__all__ = ["ROUTES"]


async def _event_fire(api: Backend, ctx: Context) -> Reply:
    """EventFire; failures come back as 500 with the error text."""
    datacenter = ctx.query.get("dc") or api.datacenter
    name = ctx.path.removeprefix("/v1/event/fire/")
    if not name:
        raise HTTPError(400, "Missing name")
    q = ctx.query
    node, service, tag = q.get("node"), q.get("service"), q.get("tag")
    payload: bytes | None = None
    length = ctx.request.content_length
    if length is not None and length > 0:
        payload = await ctx.request.content.read()
    api.store.validate_event(UserEvent("", name, payload, node, service, tag))
    forward(api, datacenter)
    try:  # Internal.EventFire
        authorize(api, ctx).require(Permission.EVENT_WRITE, name)
    except PermissionDenied:
        raise HTTPError(403, str(PermissionDenied())) from None  # acl.ErrPermissionDenied
    except ACLNotFound as exc:
        raise RPCError(str(exc)) from None  # not a denial: the 500 of any other failure
    event = api.store.fire_event(
        name, payload, node_filter=node, service_filter=service, tag_filter=tag
    )
    return ctx.json(event_json(event))


async def _event_list(api: Backend, ctx: Context) -> Reply:
    """EventList: agent-local blocking on index *inequality*, no jitter."""
    opts = QueryOptions(api.datacenter)
    parse_wait(ctx, opts)
    authz = authorize(api, ctx)
    token = request_token(api, ctx)
    name = ctx.query.get("name")
    index, events = _visible_events(api, ctx, authz, token, name)
    if opts.min_index > 0 and index == opts.min_index:
        wait = min(opts.max_query_time, MAX_QUERY_TIME) or MAX_QUERY_TIME
        loop = asyncio.get_running_loop()
        # A negative wait sets no timeout at all in Consul: wait for an event.
        deadline = loop.time() + wait / SECOND if wait > 0 else None
        while index == opts.min_index and not api.watch.closed:
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                break
            if not await api.watch.wait((EVENTS,), remaining):
                break
            index, events = _visible_events(api, ctx, authz, token, name)
    ctx.headers["X-Consul-Index"] = str(index)
    return ctx.json([event_json(e) for e in events])


def _visible_events(
    api: Backend, ctx: Context, authz: Enforcer, token: str, name: str
) -> tuple[int, list[UserEvent]]:
    """One run of EventList's query: the events named ``name`` (all without one) the token may
    read and the index of the newest of them (1 when none is left). A run that drops one sets
    the "filtered" header, which stays set for the answer (setResultsFilteredByACLs)."""
    _, events = api.store.events_list(name)
    events, hidden = aclfilter.events(authz, events)
    if aclfilter.mask(token, hidden):
        ctx.headers["X-Consul-Results-Filtered-By-ACLs"] = "true"
    index = uuid_to_uint64(events[-1].id) if events else 1
    return index, events


ROUTES: Final[tuple[Route, ...]] = (
    Route.of("/v1/event/fire/", ("PUT",), _event_fire),
    Route.of("/v1/event/list", ("GET",), _event_list),
)
