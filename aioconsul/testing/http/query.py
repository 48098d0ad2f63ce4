"""The request parsing and query machinery every dev-agent handler shares (``agent/http.go``).

Functions over the :class:`~aioconsul.testing.backend.Backend` a handler receives: the common
parameters in Consul's order (``HTTPHandlers.parse``: dc, consistency, Cache-Control, then
wait/index), ``parseEntMeta`` (CE), ``conflictingFlags``, the RPC layer's datacenter
forwarding, ``setMeta`` and ``blockingquery.Query`` over the backend's watch channels.
This module never imports an endpoint module or the route table.
"""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from ..backend import DEFAULT_QUERY_TIME, MAX_QUERY_TIME, Backend
from ..golang.bexpr import FieldSchema, Filter, FilterError, compile_filter
from ..golang.stdlib import (
    SECOND,
    GoSyntaxError,
    parse_duration,
    parse_uint,
    strconv_quote,
    values_encode,
)
from ..state.memdb import Channel, RPCError
from ..state.snapshot import ABANDON
from .reply import Context, HTTPError, Reply

__all__ = [
    "build_filter",
    "decode_body",
    "parse_bool",
    "parse_meta_filter",
    "parse_near",
    "parse_tags",
    "partition_only",
    "rpc",
    "sort_near",
    "tail",
    "QueryOptions",
    "Result",
    "blocking",
    "conflicting",
    "ent_meta",
    "forward",
    "parse",
    "parse_wait",
    "query_timeout",
    "set_meta",
]

_JITTER_FRACTION = 16  # structs.JitterFraction


@dataclass(slots=True)
class QueryOptions:
    datacenter: str
    min_index: int = 0
    max_query_time: int = 0  # nanoseconds


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Result(Generic[T]):
    index: int
    value: T
    channels: tuple[Channel, ...]
    not_found: bool = False
    #: QueryMeta.ResultsFilteredByACLs: an ACL filter hid something from the answer
    filtered: bool = False
    #: errNotChanged: the answer is the one already sent, so a wake-up keeps blocking
    not_changed: bool = False


def query_timeout(wait: int) -> float:
    """Server.RPCQueryTimeout: cap at max_query_time, default when <= 0, add jitter."""
    if wait > MAX_QUERY_TIME:
        wait = MAX_QUERY_TIME
    elif wait <= 0:
        wait = DEFAULT_QUERY_TIME
    stagger = wait // _JITTER_FRACTION
    if stagger:
        wait += random.randrange(stagger)  # lib.RandomStagger
    return wait / SECOND


def _is_go_int(text: str) -> bool:
    """strconv.Atoi accepts an optional sign and decimal digits within int64."""
    if not re.fullmatch(r"[+-]?[0-9]+", text):
        return False
    return -(1 << 63) <= int(text) < 1 << 63


def parse(api: Backend, ctx: Context) -> QueryOptions:
    """HTTPHandlers.parse: dc, consistency, Cache-Control, then wait/index."""
    q = ctx.query
    opts = QueryOptions(q.get("dc") or api.datacenter)
    stale = "stale" in q
    consistent = "consistent" in q
    cached = "cached" in q  # http_config.use_cache defaults to true
    max_stale = q.get("max_stale")
    if max_stale:
        try:
            if parse_duration(max_stale) > 0:
                stale = True
        except GoSyntaxError:
            raise HTTPError(400, f"Invalid max_stale value {strconv_quote(max_stale)}") from None
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
    parse_wait(ctx, opts)
    return opts


def parse_wait(ctx: Context, opts: QueryOptions) -> None:
    """parseWait: ``wait`` is a Go duration, ``index`` an unsigned integer."""
    wait = _parsed(ctx, "wait", parse_duration, "Invalid wait time", opts.max_query_time)
    opts.max_query_time = wait
    opts.min_index = _parsed(ctx, "index", parse_uint, "Invalid index", opts.min_index)


def _parsed(
    ctx: Context, name: str, parser: Callable[[str], int], invalid: str, absent: int
) -> int:
    """A query parameter read with ``parser`` when present and not empty; 400 ``invalid`` if bad."""
    raw = ctx.query.get(name)
    if not raw:
        return absent
    try:
        return parser(raw)
    except GoSyntaxError:
        raise HTTPError(400, invalid) from None


def ent_meta(ctx: Context) -> None:
    """parseEntMeta (CE): any namespace or partition is an Enterprise feature."""
    feature = {"Namespace": "Namespaces", "Partition": "Partitions"}
    for kind, param in (("Namespace", "ns"), ("Partition", "partition")):
        header = f"X-Consul-{kind}"
        if ctx.request.headers.get(header):
            reason = f'Invalid header: "{header}" - {feature[kind]} are a Consul Enterprise feature'
            raise HTTPError(400, reason)
        if ctx.query.get(param):
            reason = (
                f'Invalid query parameter: "{param}" - '
                f"{feature[kind]} are a Consul Enterprise feature"
            )
            raise HTTPError(400, reason)


def forward(api: Backend, datacenter: str) -> None:
    """The RPC layer's datacenter forwarding: this cluster has a single datacenter."""
    if datacenter != api.datacenter:
        raise RPCError("No path to datacenter")


def set_meta(
    ctx: Context, index: int, *, known_leader: bool = True, filtered: bool = False
) -> None:
    """setMeta: index (0 is sent as 1), last contact, known leader, results filtered by ACLs."""
    ctx.headers["X-Consul-LastContact"] = "0"
    ctx.headers["X-Consul-Index"] = str(index or 1)
    ctx.headers["X-Consul-KnownLeader"] = "true" if known_leader else "false"
    if filtered:  # setResultsFilteredByACLs: only ever set to true
        ctx.headers["X-Consul-Results-Filtered-By-ACLs"] = "true"


def conflicting(ctx: Context, *flags: str) -> None:
    """conflictingFlags: at most one of ``flags`` may be present."""
    if sum(flag in ctx.query for flag in flags) > 1:
        raise HTTPError(400, "Conflicting flags: " + values_encode(ctx.query.pairs))


async def blocking(api: Backend, opts: QueryOptions, query: Callable[[], Result[T]]) -> Result[T]:
    """blockingquery.Query over the dev agent's watch channels."""
    result = query()
    if opts.min_index == 0:
        return result
    loop = asyncio.get_running_loop()
    deadline = loop.time() + query_timeout(opts.max_query_time)
    min_index = opts.min_index
    not_found = ran_once = False
    restores = api.restores
    while True:
        if result.not_found:
            # A result that stays "not found" keeps blocking whatever its index does.
            if not_found:
                min_index = result.index
            not_found = True
        elif result.not_changed and ran_once:
            min_index = result.index
        ran_once = True
        if result.index > min_index:
            return result
        remaining = deadline - loop.time()
        channels = (*result.channels, ABANDON)
        if remaining <= 0 or not await api.watch.wait(channels, remaining):
            return result
        if api.watch.closed or api.restores != restores:
            return result  # the state store was abandoned (a snapshot restore)
        result = query()


# -- shared by the catalog, health, coordinate and agent endpoints --------------------------

Record = dict[str, Any]


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


def parse_meta_filter(ctx: Context) -> dict[str, str] | None:
    """HTTPHandlers.parseMetaFilter: repeated ``node-meta=key:value`` (a later key wins)."""
    pairs = [value for key, value in ctx.query.pairs if key == "node-meta"]
    if not pairs:
        return None
    out: dict[str, str] = {}
    for pair in pairs:
        key, _, value = pair.partition(":")
        out[key] = value
    return out


def parse_near(api: Backend, ctx: Context) -> str:
    """HTTPHandlers.parseSource: ``?near=`` (``_agent`` is this agent's node)."""
    near = ctx.query.get("near")
    return api.node_name if near == "_agent" else near


def parse_tags(ctx: Context) -> list[str] | None:
    if "tag" not in ctx.query:
        return None
    return [value for key, value in ctx.query.pairs if key == "tag"]


async def rpc(
    api: Backend,
    ctx: Context,
    opts: QueryOptions,
    prepare: Callable[[], Callable[[], Result[Any]]],
    *,
    deferred_meta: bool = True,
) -> Result[Any]:
    """Forward, prepare (filters), block; the response metadata as Consul sets it."""
    index, known_leader, filtered = 0, False, False
    try:
        forward(api, opts.datacenter)
        query = prepare()
        result = await blocking(api, opts, query)
        index, known_leader, filtered = result.index, True, result.filtered
    finally:
        if deferred_meta or known_leader:
            set_meta(ctx, index, known_leader=known_leader, filtered=filtered)
    return result


async def filtered_rpc(
    api: Backend,
    ctx: Context,
    opts: QueryOptions,
    schema: FieldSchema,
    query: Callable[[Filter], Result[Any]],
    *,
    deferred_meta: bool = True,
) -> Reply:
    """:func:`rpc` for a filtered read, its value as the JSON answer.

    ``?filter=`` is compiled against ``schema`` once, after forwarding and before the first run
    (a bad expression fails the RPC); every run of the blocking query calls ``query`` with it.
    """

    def prepare() -> Callable[[], Result[Any]]:
        bexpr = build_filter(ctx, schema)
        return lambda: query(bexpr)

    result = await rpc(api, ctx, opts, prepare, deferred_meta=deferred_meta)
    return ctx.json(result.value)


def tail(ctx: Context, prefix: str) -> str:
    """The path after a route's ``prefix`` (the ``:id`` of a subtree route)."""
    return ctx.path[len(prefix) :]


def required_tail(ctx: Context, prefix: str, missing: str) -> str:
    """:func:`tail`, answered 400 with ``missing`` when empty (``Missing node name``...)."""
    name = tail(ctx, prefix)
    if not name:
        raise HTTPError(400, missing)
    return name


def sort_near(api: Backend, near: str, items: list[Any], node_of: Callable[[Any], str]) -> None:
    api.catalog.sort_by_distance(near, items, node_of)


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
