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

This module never keeps state of its own beyond session TTL timers (the store lives in
``_state.py``) and never binds sockets (``_agent.py`` does).
"""

from __future__ import annotations

import asyncio
import base64
import functools
import random
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Final, Generic, TypeVar

from aiohttp import web
from multidict import CIMultiDict

from ._gocompat import (
    SECOND,
    GoSyntaxError,
    clean_path,
    decode_json_value,
    escape_path,
    format_duration,
    go_json,
    go_json_floats,
    is_printable_path,
    json_kind,
    parse_duration,
    parse_query,
    parse_uint,
    strconv_quote,
    unescape_path,
    valid_encoded_path,
    values_encode,
)
from ._state import (
    EVENTS,
    KV_TABLE,
    SESSIONS_TABLE,
    Channel,
    DirEntry,
    RPCError,
    Session,
    Store,
    UserEvent,
    kv_key_channel,
)
from ._watch import Watch

__all__ = ["CONSUL_VERSION", "CheckKnobs", "ConsulAPI"]

CONSUL_VERSION: Final = "1.21.4"  # the Consul release whose behaviour the dev agent follows
_REVISION: Final = "aioconsul"
_BUILD_DATE: Final = "2025-08-13T00:00:00Z"

_DEFAULT_QUERY_TIME: Final = 300 * SECOND  # default_query_time
_MAX_QUERY_TIME: Final = 600 * SECOND  # max_query_time; also agent maxQueryTime for events
_JITTER_FRACTION: Final = 16  # structs.JitterFraction
_KV_MAX_VALUE_SIZE: Final = 512 * 1024  # kv_max_value_size
_DEFAULT_LOCK_DELAY: Final = 15 * SECOND
_LOCK_DELAY_MIN_THRESHOLD: Final = 1000  # structs.lockDelayMinThreshold (nanoseconds)
_GZIP_MIN_SIZE: Final = 1400  # gziphandler.DefaultMinSize
_SERF_CHECK: Final = "serfHealth"

_JSON: Final = "application/json"
_TEXT: Final = "text/plain; charset=utf-8"  # what Go sniffs for a plain-text body
_ACL_HEADERS: Final = (("X-Consul-Default-ACL-Policy", "allow"),)


class HTTPError(Exception):
    """An error Consul answers with a specific status and a plain-text body."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(slots=True)
class _Reply:
    status: int = 200
    body: bytes = b""
    content_type: str | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def text(cls, status: int, text: str) -> _Reply:
        return cls(status, text.encode("utf-8", "surrogateescape"), _TEXT if text else None)


class _Query:
    """``req.URL.Query()``: presence tests and first values, plus the original pairs."""

    __slots__ = ("_first", "pairs")

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self.pairs = pairs
        self._first: dict[str, str] = {}
        for key, value in pairs:
            self._first.setdefault(key, value)

    def __contains__(self, key: str) -> bool:
        return key in self._first

    def get(self, key: str) -> str:
        return self._first.get(key, "")


@dataclass(slots=True)
class _Context:
    request: web.Request
    path: str  # the decoded request path, as Go's req.URL.Path
    query: _Query
    headers: CIMultiDict[str]

    @property
    def pretty(self) -> bool:
        return "pretty" in self.query

    def json(self, obj: Any, status: int = 200) -> _Reply:
        return _Reply(status, go_json(obj, pretty=self.pretty), _JSON)


@dataclass(slots=True)
class _QueryOptions:
    datacenter: str
    min_index: int = 0
    max_query_time: int = 0  # nanoseconds


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class _Result(Generic[T]):
    index: int
    value: T
    channels: tuple[Channel, ...]
    not_found: bool = False


_Handler = Callable[["ConsulAPI", _Context], Awaitable[_Reply]]


@dataclass(frozen=True, slots=True)
class _Route:
    pattern: str
    methods: tuple[str, ...]
    handler: _Handler
    segments: tuple[str, ...] = ()
    subtree: bool = False

    @classmethod
    def of(cls, pattern: str, methods: tuple[str, ...], handler: _Handler) -> _Route:
        subtree = pattern.endswith("/")
        segments = tuple(pattern.strip("/").split("/"))
        return cls(pattern, methods, handler, segments, subtree)

    def matches(self, segments: list[str]) -> bool:
        """Go 1.22 ServeMux matching: segments of the escaped path, each unescaped."""
        n = len(self.segments)
        if len(segments) <= n if self.subtree else len(segments) != n:
            return False
        try:
            return all(unescape_path(segments[i]) == self.segments[i] for i in range(n))
        except GoSyntaxError:
            return False

    @property
    def allow(self) -> str:
        return ",".join(("OPTIONS", *self.methods))


def _query_timeout(wait: int) -> float:
    """Server.RPCQueryTimeout: cap at max_query_time, default when <= 0, add jitter."""
    if wait > _MAX_QUERY_TIME:
        wait = _MAX_QUERY_TIME
    elif wait <= 0:
        wait = _DEFAULT_QUERY_TIME
    stagger = wait // _JITTER_FRACTION
    if stagger:
        wait += random.randrange(stagger)  # lib.RandomStagger
    return wait / SECOND


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


def _b64(data: bytes | None) -> str | None:
    return base64.b64encode(data).decode("ascii") if data else None


def _entry_json(entry: DirEntry) -> dict[str, Any]:
    out: dict[str, Any] = {
        "LockIndex": entry.lock_index,
        "Key": entry.key,
        "Flags": entry.flags,
        "Value": _b64(entry.value),
    }
    if entry.session:  # `json:",omitempty"`
        out["Session"] = entry.session
    out["CreateIndex"] = entry.create_index
    out["ModifyIndex"] = entry.modify_index
    return out


def _session_json(session: Session) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ID": session.id,
        "Name": session.name,
        "Node": session.node,
        "LockDelay": session.lock_delay,
        "Behavior": session.behavior,
        "TTL": session.ttl,
        "NodeChecks": session.node_checks,
        "ServiceChecks": session.service_checks,
    }
    if session.checks:  # `json:",omitempty"`
        out["Checks"] = session.checks
    out["CreateIndex"] = session.create_index
    out["ModifyIndex"] = session.modify_index
    return out


def _event_json(event: UserEvent) -> dict[str, Any]:
    return {
        "ID": event.id,
        "Name": event.name,
        "Payload": _b64(event.payload),
        "NodeFilter": event.node_filter,
        "ServiceFilter": event.service_filter,
        "TagFilter": event.tag_filter,
        "Version": event.version,
        "LTime": event.ltime,
    }


# -- session/create body ---------------------------------------------------------------------

_SESSION_STRINGS: Final = {
    "id": ("ID", "string"),
    "name": ("Name", "string"),
    "node": ("Node", "string"),
    "behavior": ("Behavior", "structs.SessionBehavior"),
    "ttl": ("TTL", "string"),
}
_SESSION_LISTS: Final = {
    "nodechecks": ("NodeChecks", "string"),
    "checks": ("Checks", "types.CheckID"),
}
_SESSION_UINTS: Final = {"createindex": "CreateIndex", "modifyindex": "ModifyIndex"}
_SESSION_AUX: Final = "struct { LockDelay interface {}; *structs.Alias }"


def _type_error(kind: str, path: str, go_type: str) -> GoSyntaxError:
    return GoSyntaxError(
        f"json: cannot unmarshal {kind} into Go struct field .{path} of type {go_type}"
    )


def _decode_service_check(value: Any) -> dict[str, str]:
    check = {"ID": "", "Namespace": ""}
    if value is None:
        return check
    if not isinstance(value, dict):
        raise _type_error(json_kind(value), "ServiceChecks", "structs.ServiceCheck")
    for key, item in value.items():
        name = {"id": "ID", "namespace": "Namespace"}.get(key.lower())
        if name is None or item is None:
            continue
        if not isinstance(item, str):
            raise _type_error(json_kind(item), f"ServiceChecks.{name}", "string")
        check[name] = item
    return check


def _decode_session_body(data: bytes) -> dict[str, Any]:
    """structs.Session.UnmarshalJSON as SessionCreate runs it (unknown fields are ignored).

    Returns the fields the body set; ``None`` for list fields explicitly set to ``null``.
    """
    value = decode_json_value(data)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise GoSyntaxError(
            f"json: cannot unmarshal {json_kind(value)} into Go value of type {_SESSION_AUX}"
        )
    out: dict[str, Any] = {}
    lock_delay: Any = None
    has_lock_delay = False
    error: GoSyntaxError | None = None
    for key, item in value.items():
        lowered = key.lower()
        try:
            if lowered == "lockdelay":
                lock_delay, has_lock_delay = item, item is not None
            elif lowered in _SESSION_STRINGS:
                name, go_type = _SESSION_STRINGS[lowered]
                if item is not None and not isinstance(item, str):
                    raise _type_error(json_kind(item), name, go_type)
                if item is not None:
                    out[name] = item
            elif lowered in _SESSION_LISTS:
                name, go_type = _SESSION_LISTS[lowered]
                if item is not None and not isinstance(item, list):
                    raise _type_error(json_kind(item), name, f"[]{go_type}")
                for element in item or ():
                    if element is not None and not isinstance(element, str):
                        raise _type_error(json_kind(element), name, go_type)
                out[name] = None if item is None else [e or "" for e in item]
            elif lowered == "servicechecks":
                if item is not None and not isinstance(item, list):
                    raise _type_error(json_kind(item), "ServiceChecks", "[]structs.ServiceCheck")
                out["ServiceChecks"] = (
                    None if item is None else [_decode_service_check(e) for e in item]
                )
            elif lowered in _SESSION_UINTS and item is not None:
                name = _SESSION_UINTS[lowered]
                if not isinstance(item, int | float) or isinstance(item, bool):
                    raise _type_error(json_kind(item), name, "uint64")
                if not (isinstance(item, int) and 0 <= item < 1 << 64):
                    raise _type_error(f"number {item}", name, "uint64")
        except GoSyntaxError as exc:
            error = error or exc  # Go reports the first type error after decoding everything
    if error is not None:
        raise error
    if has_lock_delay:
        # Strings are Go durations, numbers are nanoseconds; anything below 1000 means seconds.
        if isinstance(lock_delay, str):
            delay = parse_duration(lock_delay)
        elif isinstance(lock_delay, int | float) and not isinstance(lock_delay, bool):
            delay = int(float(lock_delay))
        else:
            delay = 0
        if delay < _LOCK_DELAY_MIN_THRESHOLD:
            delay *= SECOND
        out["LockDelay"] = delay
    return out


@dataclass(frozen=True, slots=True)
class CheckKnobs:
    """Timing of the agent's check machinery, in seconds (Consul's defaults)."""

    reap_interval: float = 30.0  # RuntimeConfig.CheckReapInterval (Agent.reapServices)
    deregister_interval_min: float = 60.0  # RuntimeConfig.CheckDeregisterIntervalMin
    interval_min: float = 1.0  # checks.MinInterval
    update_interval: float = 300.0  # check_update_interval (output-only changes are deferred)
    coordinate_sync_interval: float = 15.0  # RuntimeConfig.SyncCoordinateIntervalMin


class ConsulAPI:
    """The request handler behind a :class:`~aioconsul.testing.DevAgent`."""

    def __init__(
        self,
        *,
        node_name: str,
        datacenter: str,
        node_id: str,
        session_ttl_min: float,
        session_ttl_multiplier: float,
        checks: CheckKnobs | None = None,
    ) -> None:
        # Catalog, health, coordinate and /v1/agent services and checks live in _catalog.py,
        # _local.py, _catalog_http.py and _agent_http.py (imported here: they import us).
        from ._catalog import Catalog
        from ._local import LocalAgent

        self.node_name = node_name
        self.datacenter = datacenter
        self.node_id = node_id
        self.watch = Watch()
        self.store = Store(
            node_name=node_name,
            session_ttl_min=round(session_ttl_min * SECOND),
            on_change=self.watch.notify,
        )
        self._ttl_multiplier = session_ttl_multiplier
        self._session_timers: dict[str, asyncio.TimerHandle] = {}
        knobs = checks or CheckKnobs()
        self.catalog = Catalog(self.store)
        self.local = LocalAgent(
            self.catalog,
            self.watch,
            node_name=node_name,
            node_id=node_id,
            datacenter=datacenter,
            metadata={"consul-network-segment": "", "consul-version": CONSUL_VERSION},
            check_reap_interval=knobs.reap_interval,
            check_deregister_interval_min=knobs.deregister_interval_min,
            check_interval_min=knobs.interval_min,
            check_update_interval=knobs.update_interval,
            coordinate_sync_interval=knobs.coordinate_sync_interval,
        )
        self.local.bootstrap(CONSUL_VERSION)

    def close(self) -> None:
        """Release every parked blocking query and cancel the session TTL timers."""
        self.watch.close()
        for timer in self._session_timers.values():
            timer.cancel()
        self._session_timers.clear()

    async def shutdown(self) -> None:
        """:meth:`close`, then stop the check runners and the agent's timers."""
        self.close()
        await self.local.shutdown()

    # -- the net/http layer ------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Serve one request the way Consul's HTTP server stack would."""
        raw_path, _, raw_query = request.raw_path.partition("?")
        try:
            path = unescape_path(raw_path)
        except GoSyntaxError:
            # net/http rejects the request line before any handler runs, and hangs up.
            response = self._response(request, _Reply(400, b"400 Bad Request", _TEXT))
            response.force_close()
            return response
        if not is_printable_path(path):
            return self._response(request, _Reply(400))  # go-cleanhttp: status only
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
    def _match(path: str) -> _Route | None:
        segments = path.split("/")[1:]
        for route in _all_routes():
            if route.matches(segments):
                return route
        return None

    def _response(self, request: web.Request, reply: _Reply) -> web.Response:
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
        reply = _Reply(301, headers=[("Location", url)])
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
            return self._response(request, _Reply.text(200, text))
        if "/v1/" in path:
            text = "Invalid URL path: not a recognized HTTP API endpoint\n"
        else:
            text = (
                "Invalid URL path: if attempting to use the HTTP API, ensure the path starts "
                "with '/v1/'\n"
            )
        return self._response(request, _Reply.text(404, text))

    async def _serve(
        self, request: web.Request, route: _Route, path: str, raw_query: str
    ) -> web.Response:
        """HTTPHandlers.wrap: shared headers, query parsing, OPTIONS and 405, error bodies."""
        headers: CIMultiDict[str] = CIMultiDict(Vary="Accept-Encoding")
        try:
            query = _Query(parse_query(raw_query))
        except GoSyntaxError:
            return self._response(request, _Reply(500, headers=list(headers.items())))
        ctx = _Context(request, path, query, headers)
        try:
            if request.method == "OPTIONS":
                headers["Allow"] = route.allow
                reply = _Reply()
            elif request.method not in route.methods:
                headers["Allow"] = route.allow
                reply = _Reply.text(405, f"method {request.method} not allowed")
            else:
                reply = await route.handler(self, ctx)
        except HTTPError as exc:
            reply = _Reply.text(exc.status, exc.reason)
        except (RPCError, GoSyntaxError) as exc:
            reply = _Reply.text(500, str(exc))
        reply.headers[:0] = list(headers.items())
        return self._response(request, reply)

    # -- shared request parsing ------------------------------------------------------------

    def _parse(self, ctx: _Context) -> _QueryOptions:
        """HTTPHandlers.parse: dc, consistency, Cache-Control, then wait/index."""
        q = ctx.query
        opts = _QueryOptions(q.get("dc") or self.datacenter)
        stale = "stale" in q
        consistent = "consistent" in q
        cached = "cached" in q  # http_config.use_cache defaults to true
        max_stale = q.get("max_stale")
        if max_stale:
            try:
                if parse_duration(max_stale) > 0:
                    stale = True
            except GoSyntaxError:
                raise HTTPError(
                    400, f"Invalid max_stale value {strconv_quote(max_stale)}"
                ) from None
        if stale and consistent:
            raise HTTPError(400, "Cannot specify ?stale with ?consistent, conflicting semantics.")
        if cached and consistent:
            raise HTTPError(400, "Cannot specify ?cached with ?consistent, conflicting semantics.")
        cache_control = ctx.request.headers.get("Cache-Control", "").lower()
        if cache_control:
            for directive in cache_control.split(","):
                directive = directive.strip().lower()
                for prefix in ("max-age=", "stale-if-error="):
                    if directive.startswith(prefix) and not _is_go_int(directive[len(prefix) :]):
                        raise HTTPError(400, "Invalid Cache-Control header.")
        self._parse_wait(ctx, opts)
        return opts

    @staticmethod
    def _parse_wait(ctx: _Context, opts: _QueryOptions) -> None:
        """parseWait: ``wait`` is a Go duration, ``index`` an unsigned integer."""
        wait = ctx.query.get("wait")
        if wait:
            try:
                opts.max_query_time = parse_duration(wait)
            except GoSyntaxError:
                raise HTTPError(400, "Invalid wait time") from None
        index = ctx.query.get("index")
        if index:
            try:
                opts.min_index = parse_uint(index)
            except GoSyntaxError:
                raise HTTPError(400, "Invalid index") from None

    @staticmethod
    def _ent_meta(ctx: _Context) -> None:
        """parseEntMeta (CE): any namespace or partition is an Enterprise feature."""
        feature = {"Namespace": "Namespaces", "Partition": "Partitions"}
        for kind, param in (("Namespace", "ns"), ("Partition", "partition")):
            header = f"X-Consul-{kind}"
            if ctx.request.headers.get(header):
                reason = (
                    f'Invalid header: "{header}" - {feature[kind]} are a Consul Enterprise feature'
                )
                raise HTTPError(400, reason)
            if ctx.query.get(param):
                reason = (
                    f'Invalid query parameter: "{param}" - '
                    f"{feature[kind]} are a Consul Enterprise feature"
                )
                raise HTTPError(400, reason)

    def _forward(self, datacenter: str) -> None:
        """The RPC layer's datacenter forwarding: this cluster has a single datacenter."""
        if datacenter != self.datacenter:
            raise RPCError("No path to datacenter")

    @staticmethod
    def _set_meta(ctx: _Context, index: int, *, known_leader: bool = True) -> None:
        """setMeta: index (0 is sent as 1), last contact and known leader."""
        ctx.headers["X-Consul-LastContact"] = "0"
        ctx.headers["X-Consul-Index"] = str(index or 1)
        ctx.headers["X-Consul-KnownLeader"] = "true" if known_leader else "false"

    @staticmethod
    def _conflicting(ctx: _Context, *flags: str) -> None:
        """conflictingFlags: at most one of ``flags`` may be present."""
        if sum(flag in ctx.query for flag in flags) > 1:
            raise HTTPError(400, "Conflicting flags: " + values_encode(ctx.query.pairs))

    async def _blocking(self, opts: _QueryOptions, query: Callable[[], _Result[T]]) -> _Result[T]:
        """blockingquery.Query over the dev agent's watch channels."""
        result = query()
        if opts.min_index == 0:
            return result
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _query_timeout(opts.max_query_time)
        min_index = opts.min_index
        not_found = False
        while True:
            if result.not_found:
                # A result that stays "not found" keeps blocking whatever its index does.
                if not_found:
                    min_index = result.index
                not_found = True
            if result.index > min_index:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0 or not await self.watch.wait(result.channels, remaining):
                return result
            if self.watch.closed:
                return result
            result = query()

    # -- KV ----------------------------------------------------------------------------------

    async def _kv(self, ctx: _Context) -> _Reply:
        """KVSEndpoint."""
        opts = self._parse(ctx)
        key = ctx.path.removeprefix("/v1/kv/")
        method = ctx.request.method
        if method == "GET":
            if "keys" in ctx.query:
                return await self._kv_keys(ctx, opts, key)
            return await self._kv_get(ctx, opts, key)
        if method == "PUT":
            return await self._kv_put(ctx, opts, key)
        return self._kv_delete(ctx, opts, key)

    async def _kv_get(self, ctx: _Context, opts: _QueryOptions, key: str) -> _Reply:
        recurse = "recurse" in ctx.query
        if not recurse and not key:
            raise HTTPError(400, "Missing key name")
        self._ent_meta(ctx)
        self._forward(opts.datacenter)
        store = self.store

        def get_one() -> _Result[list[DirEntry]]:
            index, entry = store.kv_get(key)
            if entry is None:
                # A missing key reports the table index: any KV write can move it.
                return _Result(index, [], (KV_TABLE,))
            return _Result(index, [entry], (kv_key_channel(key),))

        def get_tree() -> _Result[list[DirEntry]]:
            index, entries = store.kv_list(key)
            return _Result(index, entries, (KV_TABLE,))

        result = await self._blocking(opts, get_tree if recurse else get_one)
        self._set_meta(ctx, result.index)
        if not result.value:
            return _Reply(404)  # empty body, headers still set
        if "raw" in ctx.query and not recurse:
            raw_headers = [
                ("X-Content-Type-Options", "nosniff"),
                ("Content-Security-Policy", "sandbox"),
            ]
            return _Reply(200, result.value[0].value or b"", "text/plain", raw_headers)
        return ctx.json([_entry_json(e) for e in result.value])

    async def _kv_keys(self, ctx: _Context, opts: _QueryOptions, prefix: str) -> _Reply:
        self._ent_meta(ctx)
        separator = ""
        if "seperator" in ctx.query:  # Consul still honours its historic misspelling
            separator = ctx.query.get("seperator")
        if "separator" in ctx.query:
            separator = ctx.query.get("separator")
        self._forward(opts.datacenter)
        store = self.store

        def list_keys() -> _Result[list[str]]:
            index, keys = store.kv_keys(prefix, separator)
            return _Result(index, keys, (KV_TABLE,))

        result = await self._blocking(opts, list_keys)
        self._set_meta(ctx, result.index)
        if not result.value and prefix:
            return _Reply(404)  # the root prefix answers [] instead
        return ctx.json(result.value)

    async def _kv_put(self, ctx: _Context, opts: _QueryOptions, key: str) -> _Reply:
        self._ent_meta(ctx)
        if not key:
            raise HTTPError(400, "Missing key name")
        self._conflicting(ctx, "cas", "acquire", "release")
        q = ctx.query
        flags = parse_uint(q.get("flags")) if "flags" in q else 0
        cas = parse_uint(q.get("cas")) if "cas" in q else None
        length = ctx.request.content_length
        if length is not None and length > _KV_MAX_VALUE_SIZE:
            raise HTTPError(
                413,
                f"Request body({length} bytes) too large, max size: {_KV_MAX_VALUE_SIZE} bytes. "
                "See https://www.consul.io/docs/agent/config/config-files#kv_max_value_size.",
            )
        value = await ctx.request.content.read()
        self._forward(opts.datacenter)
        if "release" in q:
            ok = self.store.kv_unlock(key, value, flags, q.get("release"))
        elif "acquire" in q:
            ok = self.store.kv_lock(key, value, flags, q.get("acquire"))
        elif cas is not None:
            ok = self.store.kv_cas(key, value, flags, cas)
        else:
            ok = self.store.kv_set(key, value, flags)
        return ctx.json(ok)

    def _kv_delete(self, ctx: _Context, opts: _QueryOptions, key: str) -> _Reply:
        self._ent_meta(ctx)
        self._conflicting(ctx, "recurse", "cas")
        recurse = "recurse" in ctx.query
        if not recurse and not key:
            raise HTTPError(400, "Missing key name")
        cas = parse_uint(ctx.query.get("cas")) if "cas" in ctx.query else None
        self._forward(opts.datacenter)
        if cas is not None:
            return ctx.json(self.store.kv_delete_cas(key, cas))
        if recurse:
            self.store.kv_delete_tree(key)
        else:
            self.store.kv_delete(key)
        return ctx.json(True)

    # -- sessions ----------------------------------------------------------------------------

    def _reset_session_timer(self, session: Session) -> None:
        """Server.resetSessionTimer: expire after TTL x multiplier without a renewal."""
        ttl = session.ttl_ns()
        if ttl == 0:
            return
        self._clear_session_timer(session.id)
        loop = asyncio.get_running_loop()
        delay = ttl * self._ttl_multiplier / SECOND
        self._session_timers[session.id] = loop.call_later(delay, self._expire_session, session.id)

    def _clear_session_timer(self, session_id: str) -> None:
        timer = self._session_timers.pop(session_id.lower(), None)
        if timer is not None:
            timer.cancel()

    def _expire_session(self, session_id: str) -> None:
        """Server.invalidateSession: a TTL lapse destroys the session like the HTTP API."""
        self._session_timers.pop(session_id, None)
        self.store.session_destroy(session_id)

    async def _session_create(self, ctx: _Context) -> _Reply:
        """SessionCreate: defaults, body decoding, fixupEmptySessionChecks, Session.Apply."""
        datacenter = ctx.query.get("dc") or self.datacenter
        self._ent_meta(ctx)
        fields: dict[str, Any] = {}
        length = ctx.request.content_length
        if length is not None and length > 0:
            body = await ctx.request.content.read()
            try:
                fields = _decode_session_body(body)
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
        self._forward(datacenter)
        session = self.store.session_create(
            name=fields.get("Name", ""),
            node=fields.get("Node", self.node_name),
            lock_delay=fields.get("LockDelay", _DEFAULT_LOCK_DELAY),
            behavior=fields.get("Behavior", "release"),
            ttl=fields.get("TTL", ""),
            node_checks=node_checks,
            service_checks=fields.get("ServiceChecks"),
            checks=checks,
        )
        self._reset_session_timer(session)
        return ctx.json({"ID": session.id})

    async def _session_destroy(self, ctx: _Context) -> _Reply:
        datacenter = ctx.query.get("dc") or self.datacenter
        self._ent_meta(ctx)
        session_id = ctx.path.removeprefix("/v1/session/destroy/")
        if not session_id:
            raise HTTPError(400, "Missing session")
        self._forward(datacenter)
        self.store.session_destroy(session_id)
        self._clear_session_timer(session_id)
        return ctx.json(True)

    async def _session_renew(self, ctx: _Context) -> _Reply:
        opts = self._parse(ctx)
        self._ent_meta(ctx)
        session_id = ctx.path.removeprefix("/v1/session/renew/")
        if not session_id:
            raise HTTPError(400, "Missing session")
        self._forward(opts.datacenter)
        _, session = self.store.session_get(session_id)
        if session is None:
            raise HTTPError(404, f"Session id '{session_id}' not found")
        self._reset_session_timer(session)
        return ctx.json([_session_json(session)])

    async def _session_read(
        self, ctx: _Context, opts: _QueryOptions, query: Callable[[], _Result[list[Session]]]
    ) -> _Reply:
        index, known_leader = 0, False
        try:
            self._forward(opts.datacenter)
            result = await self._blocking(opts, query)
            index, known_leader = result.index, True
        finally:
            self._set_meta(ctx, index, known_leader=known_leader)  # a deferred setMeta
        return ctx.json([_session_json(s) for s in result.value])

    async def _session_info(self, ctx: _Context) -> _Reply:
        opts = self._parse(ctx)
        self._ent_meta(ctx)
        session_id = ctx.path.removeprefix("/v1/session/info/")
        if not session_id:
            raise HTTPError(400, "Missing session")
        store = self.store

        def get() -> _Result[list[Session]]:
            index, session = store.session_get(session_id)
            # Session.Get answers errNotFound: a missing session keeps blocking.
            sessions = [session] if session is not None else []
            return _Result(index, sessions, (SESSIONS_TABLE,), not_found=session is None)

        return await self._session_read(ctx, opts, get)

    async def _session_list(self, ctx: _Context) -> _Reply:
        opts = self._parse(ctx)
        self._ent_meta(ctx)
        store = self.store

        def list_all() -> _Result[list[Session]]:
            return _Result(*store.session_list(), (SESSIONS_TABLE,))

        return await self._session_read(ctx, opts, list_all)

    async def _session_node(self, ctx: _Context) -> _Reply:
        opts = self._parse(ctx)
        self._ent_meta(ctx)
        node = ctx.path.removeprefix("/v1/session/node/")
        if not node:
            raise HTTPError(400, "Missing node name")
        store = self.store

        def for_node() -> _Result[list[Session]]:
            return _Result(*store.node_sessions(node), (SESSIONS_TABLE,))

        return await self._session_read(ctx, opts, for_node)

    # -- events ------------------------------------------------------------------------------

    async def _event_fire(self, ctx: _Context) -> _Reply:
        """EventFire; failures come back as 500 with the error text."""
        datacenter = ctx.query.get("dc") or self.datacenter
        name = ctx.path.removeprefix("/v1/event/fire/")
        if not name:
            raise HTTPError(400, "Missing name")
        q = ctx.query
        node, service, tag = q.get("node"), q.get("service"), q.get("tag")
        payload: bytes | None = None
        length = ctx.request.content_length
        if length is not None and length > 0:
            payload = await ctx.request.content.read()
        self.store.validate_event(UserEvent("", name, payload, node, service, tag))
        self._forward(datacenter)
        event = self.store.fire_event(
            name, payload, node_filter=node, service_filter=service, tag_filter=tag
        )
        return ctx.json(_event_json(event))

    async def _event_list(self, ctx: _Context) -> _Reply:
        """EventList: agent-local blocking on index *inequality*, no jitter."""
        opts = _QueryOptions(self.datacenter)
        self._parse_wait(ctx, opts)
        name = ctx.query.get("name")
        index, events = self.store.events_list(name)
        if opts.min_index > 0 and index == opts.min_index:
            wait = min(opts.max_query_time, _MAX_QUERY_TIME) or _MAX_QUERY_TIME
            loop = asyncio.get_running_loop()
            # A negative wait sets no timeout at all in Consul: wait for an event.
            deadline = loop.time() + wait / SECOND if wait > 0 else None
            while index == opts.min_index and not self.watch.closed:
                remaining = None if deadline is None else deadline - loop.time()
                if remaining is not None and remaining <= 0:
                    break
                if not await self.watch.wait((EVENTS,), remaining):
                    break
                index, events = self.store.events_list(name)
        ctx.headers["X-Consul-Index"] = str(index)
        return ctx.json([_event_json(e) for e in events])

    # -- transactions ----------------------------------------------------------------------------

    async def _txn(self, ctx: _Context) -> _Reply:
        """TxnEndpoint (agent/txn_endpoint.go); the whole endpoint lives in ``_txn.py``."""
        from ._txn import txn_endpoint  # _txn builds on this module's handler plumbing

        return await txn_endpoint(self, ctx)

    # -- status and agent ----------------------------------------------------------------------

    async def _status_leader(self, ctx: _Context) -> _Reply:
        opts = self._parse(ctx)
        self._forward(opts.datacenter)
        return ctx.json("127.0.0.1:8300")

    async def _status_peers(self, ctx: _Context) -> _Reply:
        opts = self._parse(ctx)
        self._forward(opts.datacenter)
        return ctx.json(["127.0.0.1:8300"])

    async def _agent_self(self, ctx: _Context) -> _Reply:
        # go_json_floats: the coordinate's Height is written 0.00001, as encoding/json does.
        return _Reply(200, go_json_floats(self.self_info(), pretty=ctx.pretty), _JSON)

    def self_info(self) -> dict[str, Any]:
        """The /v1/agent/self document (Config is stable; DebugConfig is a small subset)."""
        build = f"{CONSUL_VERSION}:{_REVISION}"
        return {
            "Config": {
                "Datacenter": self.datacenter,
                "PrimaryDatacenter": self.datacenter,
                "NodeName": self.node_name,
                "NodeID": self.node_id,
                "Revision": _REVISION,
                "Server": True,
                "Version": CONSUL_VERSION,
                "BuildDate": _BUILD_DATE,
            },
            "DebugConfig": {
                "ACLResolverSettings": {"ACLDefaultPolicy": "allow", "ACLsEnabled": False},
                "Datacenter": self.datacenter,
                "DefaultQueryTime": format_duration(_DEFAULT_QUERY_TIME),
                "DevMode": True,
                "KVMaxValueSize": _KV_MAX_VALUE_SIZE,
                "MaxQueryTime": format_duration(_MAX_QUERY_TIME),
                "NodeID": self.node_id,
                "NodeName": self.node_name,
                "PrimaryDatacenter": self.datacenter,
                "Revision": _REVISION,
                "ServerMode": True,
                "SessionTTLMin": format_duration(self.store.session_ttl_min),
                "Version": CONSUL_VERSION,
                "VersionPrerelease": "",
            },
            "Coord": {"Vec": [0] * 8, "Error": 1.5, "Adjustment": 0, "Height": 1e-05},
            "Member": {
                "Name": self.node_name,
                "Addr": "127.0.0.1",
                "Port": 8301,
                "Tags": {
                    "acls": "0",
                    "build": build,
                    "dc": self.datacenter,
                    "ft_fs": "1",
                    "ft_si": "1",
                    "id": self.node_id,
                    "port": "8300",
                    "raft_vsn": "3",
                    "role": "consul",
                    "segment": "",
                    "vsn": "2",
                    "vsn_max": "3",
                    "vsn_min": "2",
                    "wan_join_port": "8302",
                },
                "Status": self.local.member_status,
                "ProtocolMin": 1,
                "ProtocolMax": 5,
                "ProtocolCur": 2,
                "DelegateMin": 2,
                "DelegateMax": 5,
                "DelegateCur": 4,
            },
            "Stats": {
                "agent": self.local.stats(),
                "build": {"prerelease": "", "revision": _REVISION, "version": CONSUL_VERSION},
                "consul": {
                    "acl": "disabled",
                    "bootstrap": "false",
                    "known_datacenters": "1",
                    "leader": "true",
                    "leader_addr": "127.0.0.1:8300",
                    "server": "true",
                },
                "raft": {
                    "applied_index": str(self.store.raft_index),
                    "commit_index": str(self.store.raft_index),
                    "last_log_index": str(self.store.raft_index),
                    "num_peers": "0",
                    "state": "Leader",
                },
            },
            "Meta": {"consul-network-segment": "", "consul-version": CONSUL_VERSION},
        }


def _is_go_int(text: str) -> bool:
    """strconv.Atoi accepts an optional sign and decimal digits within int64."""
    if not re.fullmatch(r"[+-]?[0-9]+", text):
        return False
    return -(1 << 63) <= int(text) < 1 << 63


@functools.cache
def _all_routes() -> tuple[_Route, ...]:
    """This module's routes, then the catalog/health/coordinate and /v1/agent ones."""
    from . import _agent_http, _catalog_http  # they build on this module's plumbing

    return _ROUTES + _catalog_http.ROUTES + _agent_http.ROUTES


_ROUTES: Final[tuple[_Route, ...]] = (
    _Route.of("/v1/agent/self", ("GET",), ConsulAPI._agent_self),
    _Route.of("/v1/event/fire/", ("PUT",), ConsulAPI._event_fire),
    _Route.of("/v1/event/list", ("GET",), ConsulAPI._event_list),
    _Route.of("/v1/kv/", ("GET", "PUT", "DELETE"), ConsulAPI._kv),
    _Route.of("/v1/session/create", ("PUT",), ConsulAPI._session_create),
    _Route.of("/v1/session/destroy/", ("PUT",), ConsulAPI._session_destroy),
    _Route.of("/v1/session/renew/", ("PUT",), ConsulAPI._session_renew),
    _Route.of("/v1/session/info/", ("GET",), ConsulAPI._session_info),
    _Route.of("/v1/session/node/", ("GET",), ConsulAPI._session_node),
    _Route.of("/v1/session/list", ("GET",), ConsulAPI._session_list),
    _Route.of("/v1/status/leader", ("GET",), ConsulAPI._status_leader),
    _Route.of("/v1/status/peers", ("GET",), ConsulAPI._status_peers),
    _Route.of("/v1/txn", ("PUT",), ConsulAPI._txn),
)
