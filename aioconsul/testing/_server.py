"""The dev agent's HTTP API: Consul's routing, parameters, headers, status codes and bodies.

Each handler follows its counterpart in ``hashicorp/consul`` (``agent/http.go`` for the shared
wrapper, ``agent/kvs_endpoint.go``, ``agent/session_endpoint.go``, ``agent/event_endpoint.go``,
``agent/status_endpoint.go``, ``agent/agent_endpoint.go``), including the order in which
parameters are checked, so that a bad request fails with the same status and text as against
a real agent. Request paths go through the same gates as in Consul: Go's request parsing
(malformed escapes), go-cleanhttp's printable-path check, then ``net/http.ServeMux`` (Go 1.22+:
path cleaning on the *escaped* path, 301 redirects, ``/tree`` -> ``/tree/``).

Blocking queries follow ``agent/blockingquery``: no index means no blocking; otherwise the
query re-runs each time a write touches what it read and returns as soon as its index exceeds
the requested one, or after ``wait`` (default 5 min, at most 10 min) plus up to ``wait/16`` of
random jitter. ``/v1/event/list`` has its own agent-local loop (index inequality, 600 s, no
jitter).

The state lives in the :class:`~aioconsul.testing.backend.Backend` this class extends, the
shared request plumbing in :mod:`~aioconsul.testing.http`; this module never binds sockets
(``_agent.py`` does).
"""

from __future__ import annotations

import asyncio
import functools
import re
from collections.abc import Callable
from typing import Any, Final

from aiohttp import web
from multidict import CIMultiDict

from . import _agent_http, _catalog_http
from ._gocompat import (
    SECOND,
    GoSyntaxError,
    clean_path,
    escape_path,
    go_json_floats,
    is_printable_path,
    parse_query,
    parse_uint,
    unescape_path,
    valid_encoded_path,
)
from ._state import (
    EVENTS,
    KV_TABLE,
    SESSIONS_TABLE,
    DirEntry,
    RPCError,
    Session,
    UserEvent,
    kv_key_channel,
)
from ._txn import txn_endpoint
from .backend import CONSUL_VERSION, KV_MAX_VALUE_SIZE, MAX_QUERY_TIME, Backend, CheckKnobs
from .http.query import (
    QueryOptions,
    Result,
    blocking,
    conflicting,
    ent_meta,
    forward,
    parse,
    parse_wait,
    set_meta,
)
from .http.reply import JSON, TEXT, Context, HTTPError, Query, Reply, Route
from .structs.event import event_json
from .structs.kvs import entry_json
from .structs.session import decode_session_body, session_json

__all__ = ["CONSUL_VERSION", "CheckKnobs", "ConsulAPI"]

_DEFAULT_LOCK_DELAY: Final = 15 * SECOND
_GZIP_MIN_SIZE: Final = 1400  # gziphandler.DefaultMinSize
_SERF_CHECK: Final = "serfHealth"
_ACL_HEADERS: Final = (("X-Consul-Default-ACL-Policy", "allow"),)


def _accepts_gzip(request: web.Request) -> bool:
    for coding in request.headers.get("Accept-Encoding", "").split(","):
        name, _, params = coding.partition(";")
        if name.strip().lower() != "gzip":
            continue
        q = re.search(r"q\s*=\s*([0-9.]+)", params)
        try:
            return q is None or float(q.group(1)) > 0
        except ValueError:
            return False
    return False


def _html_escape(text: str) -> str:
    for raw, entity in (("&", "&amp;"), ("'", "&#39;"), ("<", "&lt;"), (">", "&gt;")):
        text = text.replace(raw, entity)
    return text.replace('"', "&#34;")


class ConsulAPI(Backend):
    """The request handler behind a :class:`~aioconsul.testing.DevAgent`."""

    # -- the net/http layer ------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Serve one request the way Consul's HTTP server stack would."""
        raw_path, _, raw_query = request.raw_path.partition("?")
        try:
            path = unescape_path(raw_path)
        except GoSyntaxError:
            # net/http rejects the request line before any handler runs, and hangs up.
            response = self._response(request, Reply(400, b"400 Bad Request", TEXT))
            response.force_close()
            return response
        if not is_printable_path(path):
            return self._response(request, Reply(400))  # go-cleanhttp: status only
        escaped = raw_path if valid_encoded_path(raw_path) else escape_path(path)
        cleaned = clean_path(escaped)
        route = self._match(cleaned)
        if route is None and not cleaned.endswith("/"):
            # ServeMux: "/tree" redirects to "/tree/" when only the subtree is registered.
            slash = self._match(cleaned + "/")
            if slash is not None and slash.subtree and cleaned.count("/") == len(slash.segments):
                return self._redirect(request, escape_path(clean_path(path) + "/"), raw_query)
        if cleaned != escaped:
            # Go escapes the already-escaped cleaned path again when it builds Location.
            return self._redirect(request, escape_path(cleaned), raw_query)
        if route is None:
            return self._index(request, path)
        return await self._serve(request, route, path, raw_query)

    @staticmethod
    def _match(path: str) -> Route | None:
        segments = path.split("/")[1:]
        for route in _all_routes():
            if route.matches(segments):
                return route
        return None

    def _response(self, request: web.Request, reply: Reply) -> web.Response:
        headers = CIMultiDict(_ACL_HEADERS)
        headers.extend(reply.headers)
        if reply.content_type is not None:
            headers["Content-Type"] = reply.content_type
        response = web.Response(status=reply.status, body=reply.body, headers=headers)
        if len(reply.body) >= _GZIP_MIN_SIZE and _accepts_gzip(request):
            response.enable_compression(web.ContentCoding.gzip)
        return response

    def _redirect(self, request: web.Request, location: str, raw_query: str) -> web.Response:
        """http.Redirect with 301, as ServeMux answers a path that needs cleaning."""
        url = location + ("?" + raw_query if raw_query else "")
        reply = Reply(301, headers=[("Location", url)])
        if request.method in ("GET", "HEAD"):
            reply.content_type = "text/html; charset=utf-8"
        if request.method == "GET":
            reply.body = f'<a href="{_html_escape(url)}">Moved Permanently</a>.\n\n'.encode()
        return self._response(request, reply)

    def _index(self, request: web.Request, path: str) -> web.Response:
        """HTTPHandlers.Index: the catch-all "/" handler."""
        if path == "/":
            text = (
                "Consul Agent: UI disabled. To enable, set ui_config.enabled=true in the agent "
                "configuration and restart."
            )
            return self._response(request, Reply.text(200, text))
        if "/v1/" in path:
            text = "Invalid URL path: not a recognized HTTP API endpoint\n"
        else:
            text = (
                "Invalid URL path: if attempting to use the HTTP API, ensure the path starts "
                "with '/v1/'\n"
            )
        return self._response(request, Reply.text(404, text))

    async def _serve(
        self, request: web.Request, route: Route, path: str, raw_query: str
    ) -> web.Response:
        """HTTPHandlers.wrap: shared headers, query parsing, OPTIONS and 405, error bodies."""
        headers: CIMultiDict[str] = CIMultiDict(Vary="Accept-Encoding")
        try:
            query = Query(parse_query(raw_query))
        except GoSyntaxError:
            return self._response(request, Reply(500, headers=list(headers.items())))
        ctx = Context(request, path, query, headers)
        try:
            if request.method == "OPTIONS":
                headers["Allow"] = route.allow
                reply = Reply()
            elif request.method not in route.methods:
                headers["Allow"] = route.allow
                reply = Reply.text(405, f"method {request.method} not allowed")
            else:
                reply = await route.handler(self, ctx)
        except HTTPError as exc:
            reply = Reply.text(exc.status, exc.reason)
        except (RPCError, GoSyntaxError) as exc:
            reply = Reply.text(500, str(exc))
        reply.headers[:0] = list(headers.items())
        return self._response(request, reply)


# -- KV ----------------------------------------------------------------------------------


async def _kv(api: Backend, ctx: Context) -> Reply:
    """KVSEndpoint."""
    opts = parse(api, ctx)
    key = ctx.path.removeprefix("/v1/kv/")
    method = ctx.request.method
    if method == "GET":
        if "keys" in ctx.query:
            return await _kv_keys(api, ctx, opts, key)
        return await _kv_get(api, ctx, opts, key)
    if method == "PUT":
        return await _kv_put(api, ctx, opts, key)
    return _kv_delete(api, ctx, opts, key)


async def _kv_get(api: Backend, ctx: Context, opts: QueryOptions, key: str) -> Reply:
    recurse = "recurse" in ctx.query
    if not recurse and not key:
        raise HTTPError(400, "Missing key name")
    ent_meta(ctx)
    forward(api, opts.datacenter)
    store = api.store

    def get_one() -> Result[list[DirEntry]]:
        index, entry = store.kv_get(key)
        if entry is None:
            # A missing key reports the table index: any KV write can move it.
            return Result(index, [], (KV_TABLE,))
        return Result(index, [entry], (kv_key_channel(key),))

    def get_tree() -> Result[list[DirEntry]]:
        index, entries = store.kv_list(key)
        return Result(index, entries, (KV_TABLE,))

    result = await blocking(api, opts, get_tree if recurse else get_one)
    set_meta(ctx, result.index)
    if not result.value:
        return Reply(404)  # empty body, headers still set
    if "raw" in ctx.query and not recurse:
        raw_headers = [
            ("X-Content-Type-Options", "nosniff"),
            ("Content-Security-Policy", "sandbox"),
        ]
        return Reply(200, result.value[0].value or b"", "text/plain", raw_headers)
    return ctx.json([entry_json(e) for e in result.value])


async def _kv_keys(api: Backend, ctx: Context, opts: QueryOptions, prefix: str) -> Reply:
    ent_meta(ctx)
    separator = ""
    if "seperator" in ctx.query:  # Consul still honours its historic misspelling
        separator = ctx.query.get("seperator")
    if "separator" in ctx.query:
        separator = ctx.query.get("separator")
    forward(api, opts.datacenter)
    store = api.store

    def list_keys() -> Result[list[str]]:
        index, keys = store.kv_keys(prefix, separator)
        return Result(index, keys, (KV_TABLE,))

    result = await blocking(api, opts, list_keys)
    set_meta(ctx, result.index)
    if not result.value and prefix:
        return Reply(404)  # the root prefix answers [] instead
    return ctx.json(result.value)


async def _kv_put(api: Backend, ctx: Context, opts: QueryOptions, key: str) -> Reply:
    ent_meta(ctx)
    if not key:
        raise HTTPError(400, "Missing key name")
    conflicting(ctx, "cas", "acquire", "release")
    q = ctx.query
    flags = parse_uint(q.get("flags")) if "flags" in q else 0
    cas = parse_uint(q.get("cas")) if "cas" in q else None
    length = ctx.request.content_length
    if length is not None and length > KV_MAX_VALUE_SIZE:
        raise HTTPError(
            413,
            f"Request body({length} bytes) too large, max size: {KV_MAX_VALUE_SIZE} bytes. "
            "See https://www.consul.io/docs/agent/config/config-files#kv_max_value_size.",
        )
    value = await ctx.request.content.read()
    forward(api, opts.datacenter)
    if "release" in q:
        ok = api.store.kv_unlock(key, value, flags, q.get("release"))
    elif "acquire" in q:
        ok = api.store.kv_lock(key, value, flags, q.get("acquire"))
    elif cas is not None:
        ok = api.store.kv_cas(key, value, flags, cas)
    else:
        ok = api.store.kv_set(key, value, flags)
    return ctx.json(ok)


def _kv_delete(api: Backend, ctx: Context, opts: QueryOptions, key: str) -> Reply:
    ent_meta(ctx)
    conflicting(ctx, "recurse", "cas")
    recurse = "recurse" in ctx.query
    if not recurse and not key:
        raise HTTPError(400, "Missing key name")
    cas = parse_uint(ctx.query.get("cas")) if "cas" in ctx.query else None
    forward(api, opts.datacenter)
    if cas is not None:
        return ctx.json(api.store.kv_delete_cas(key, cas))
    if recurse:
        api.store.kv_delete_tree(key)
    else:
        api.store.kv_delete(key)
    return ctx.json(True)


# -- sessions ----------------------------------------------------------------------------


def _reset_session_timer(api: Backend, session: Session) -> None:
    """Server.resetSessionTimer: expire after TTL x multiplier without a renewal."""
    ttl = session.ttl_ns()
    if ttl == 0:
        return
    api.clear_session_timer(session.id)
    loop = asyncio.get_running_loop()
    delay = ttl * api._ttl_multiplier / SECOND
    api._session_timers[session.id] = loop.call_later(delay, api._expire_session, session.id)


def _clear_session_timer(api: Backend, session_id: str) -> None:
    timer = api._session_timers.pop(session_id.lower(), None)
    if timer is not None:
        timer.cancel()


def _expire_session(api: Backend, session_id: str) -> None:
    """Server.invalidateSession: a TTL lapse destroys the session like the HTTP API."""
    api._session_timers.pop(session_id, None)
    api.store.session_destroy(session_id)


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
    session = api.store.session_create(
        name=fields.get("Name", ""),
        node=fields.get("Node", api.node_name),
        lock_delay=fields.get("LockDelay", _DEFAULT_LOCK_DELAY),
        behavior=fields.get("Behavior", "release"),
        ttl=fields.get("TTL", ""),
        node_checks=node_checks,
        service_checks=fields.get("ServiceChecks"),
        checks=checks,
    )
    api.reset_session_timer(session)
    return ctx.json({"ID": session.id})


async def _session_destroy(api: Backend, ctx: Context) -> Reply:
    datacenter = ctx.query.get("dc") or api.datacenter
    ent_meta(ctx)
    session_id = ctx.path.removeprefix("/v1/session/destroy/")
    if not session_id:
        raise HTTPError(400, "Missing session")
    forward(api, datacenter)
    api.store.session_destroy(session_id)
    api.clear_session_timer(session_id)
    return ctx.json(True)


async def _session_renew(api: Backend, ctx: Context) -> Reply:
    opts = parse(api, ctx)
    ent_meta(ctx)
    session_id = ctx.path.removeprefix("/v1/session/renew/")
    if not session_id:
        raise HTTPError(400, "Missing session")
    forward(api, opts.datacenter)
    _, session = api.store.session_get(session_id)
    if session is None:
        raise HTTPError(404, f"Session id '{session_id}' not found")
    api.reset_session_timer(session)
    return ctx.json([session_json(session)])


async def _session_read(
    api: Backend, ctx: Context, opts: QueryOptions, query: Callable[[], Result[list[Session]]]
) -> Reply:
    index, known_leader = 0, False
    try:
        forward(api, opts.datacenter)
        result = await blocking(api, opts, query)
        index, known_leader = result.index, True
    finally:
        set_meta(ctx, index, known_leader=known_leader)  # a deferred setMeta
    return ctx.json([session_json(s) for s in result.value])


async def _session_info(api: Backend, ctx: Context) -> Reply:
    opts = parse(api, ctx)
    ent_meta(ctx)
    session_id = ctx.path.removeprefix("/v1/session/info/")
    if not session_id:
        raise HTTPError(400, "Missing session")
    store = api.store

    def get() -> Result[list[Session]]:
        index, session = store.session_get(session_id)
        # Session.Get answers errNotFound: a missing session keeps blocking.
        sessions = [session] if session is not None else []
        return Result(index, sessions, (SESSIONS_TABLE,), not_found=session is None)

    return await _session_read(api, ctx, opts, get)


async def _session_list(api: Backend, ctx: Context) -> Reply:
    opts = parse(api, ctx)
    ent_meta(ctx)
    store = api.store

    def list_all() -> Result[list[Session]]:
        return Result(*store.session_list(), (SESSIONS_TABLE,))

    return await _session_read(api, ctx, opts, list_all)


async def _session_node(api: Backend, ctx: Context) -> Reply:
    opts = parse(api, ctx)
    ent_meta(ctx)
    node = ctx.path.removeprefix("/v1/session/node/")
    if not node:
        raise HTTPError(400, "Missing node name")
    store = api.store

    def for_node() -> Result[list[Session]]:
        return Result(*store.node_sessions(node), (SESSIONS_TABLE,))

    return await _session_read(api, ctx, opts, for_node)


# -- events ------------------------------------------------------------------------------


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


# -- transactions ----------------------------------------------------------------------------


async def _txn(api: Backend, ctx: Context) -> Reply:
    """TxnEndpoint (agent/txn_endpoint.go); the whole endpoint lives in ``_txn.py``."""
    return await txn_endpoint(api, ctx)


# -- status and agent ----------------------------------------------------------------------


async def _status_leader(api: Backend, ctx: Context) -> Reply:
    opts = parse(api, ctx)
    forward(api, opts.datacenter)
    return ctx.json("127.0.0.1:8300")


async def _status_peers(api: Backend, ctx: Context) -> Reply:
    opts = parse(api, ctx)
    forward(api, opts.datacenter)
    return ctx.json(["127.0.0.1:8300"])


async def _agent_self(api: Backend, ctx: Context) -> Reply:
    # go_json_floats: the coordinate's Height is written 0.00001, as encoding/json does.
    return Reply(200, go_json_floats(api.self_info(), pretty=ctx.pretty), JSON)


@functools.cache
def _all_routes() -> tuple[Route, ...]:
    """This module's routes, then the catalog/health/coordinate and /v1/agent ones."""
    return _ROUTES + _catalog_http.ROUTES + _agent_http.ROUTES


_ROUTES: Final[tuple[Route, ...]] = (
    Route.of("/v1/agent/self", ("GET",), _agent_self),
    Route.of("/v1/event/fire/", ("PUT",), _event_fire),
    Route.of("/v1/event/list", ("GET",), _event_list),
    Route.of("/v1/kv/", ("GET", "PUT", "DELETE"), _kv),
    Route.of("/v1/session/create", ("PUT",), _session_create),
    Route.of("/v1/session/destroy/", ("PUT",), _session_destroy),
    Route.of("/v1/session/renew/", ("PUT",), _session_renew),
    Route.of("/v1/session/info/", ("GET",), _session_info),
    Route.of("/v1/session/node/", ("GET",), _session_node),
    Route.of("/v1/session/list", ("GET",), _session_list),
    Route.of("/v1/status/leader", ("GET",), _status_leader),
    Route.of("/v1/status/peers", ("GET",), _status_peers),
    Route.of("/v1/txn", ("PUT",), _txn),
)
