"""HTTP endpoints of the event group (``/v1/event/...``): ``agent/event_endpoint.go``.

``/v1/event/list`` has its own agent-local blocking loop (index inequality, 600 s, no
jitter). This module never imports another endpoint module.
"""

from __future__ import annotations

import asyncio
from typing import Final

from ..backend import MAX_QUERY_TIME, Backend
from ..golang.stdlib import SECOND
from ..http.query import QueryOptions, forward, parse_wait
from ..http.reply import Context, HTTPError, Reply, Route
from ..state.event import EVENTS, UserEvent
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
    event = api.store.fire_event(
        name, payload, node_filter=node, service_filter=service, tag_filter=tag
    )
    return ctx.json(event_json(event))


async def _event_list(api: Backend, ctx: Context) -> Reply:
    """EventList: agent-local blocking on index *inequality*, no jitter."""
    opts = QueryOptions(api.datacenter)
    parse_wait(ctx, opts)
    name = ctx.query.get("name")
    index, events = api.store.events_list(name)
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
            index, events = api.store.events_list(name)
    ctx.headers["X-Consul-Index"] = str(index)
    return ctx.json([event_json(e) for e in events])


ROUTES: Final[tuple[Route, ...]] = (
    Route.of("/v1/event/fire/", ("PUT",), _event_fire),
    Route.of("/v1/event/list", ("GET",), _event_list),
)
