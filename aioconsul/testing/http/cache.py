"""The agent cache behind ``?cached`` reads (``agent/cache/cache.go``, ``agent/cache-types``).

One :class:`AgentCache` per agent, kept beside its Backend. A read handler that Consul serves
from its cache calls :func:`cached_rpc` instead of :func:`~.query.rpc`; without ``?cached``
that is exactly :func:`~.query.rpc` (Consul bypasses the cache entirely).

Two kinds of cache type, as in Consul:

* **background refresh** (``catalog/services``, ``catalog/service``, ``health/service``...):
  Consul keeps the entry fresh with a blocking query of its own, so a later read is always a
  HIT with ``Age: 0`` while the agent reaches its servers, and ``Cache-Control`` is ignored. The
  dev agent's state is in memory, so its "background refresh" is done when the entry is read:
  the fetch runs again and the entry takes its result when the index moved (what Consul's
  refresh goroutine would have stored by then). A blocking ``?cached`` read (``index=``) at or
  past the entry's index waits on the entry, and answers MISS (``getWithIndex``: only the
  first look at the entry is a hit).
* **simple** (``catalog/datacenters``, prepared-query execute): the entry is what the first read
  fetched; later reads are HITs with ``Age`` (whole seconds since the fetch) unless
  ``max-age=N`` is older than that, ``max-age=0`` or ``must-revalidate`` asks for a fetch
  (a MISS). ``stale-if-error`` only matters when a fetch fails, which the dev agent's never
  does (Consul's own ``cache.go`` does not consult it either).

The entry key is Consul's ``makeEntryKey(type, dc, token, key)``: the request's token is part of
it, and every read is still authorized on its own (the handler's ``prepare`` runs each time).
The key is built from the query parameters that shape the answer (``CacheInfo().Key`` hashes
the request's fields), without the blocking, consistency and rendering ones.
This module never imports an endpoint module.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

from ..backend import Backend
from ..golang.stdlib import SECOND
from .query import QueryOptions, Result, blocking, forward, rpc, set_meta
from .reply import Context

__all__ = [
    "AgentCache",
    "CacheOptions",
    "agent_cache",
    "cache_options",
    "cached_rpc",
    "set_cache_meta",
]

#: Parameters that are not part of an entry's key: blocking, consistency, rendering, the token
#: (which is part of the key on its own) and the datacenter (idem).
_NOT_KEYED = frozenset(
    {"index", "wait", "cached", "stale", "consistent", "leader", "max_stale", "pretty",
     "token", "dc"}
)


@dataclass(frozen=True, slots=True)
class CacheOptions:
    """The cache fields of QueryOptions: ``UseCache``, ``MaxAge``, ``MustRevalidate`` and
    ``StaleIfError`` (nanoseconds), as ``parseConsistency`` and ``parseCacheControl`` set them."""

    use_cache: bool = False
    max_age: int = 0
    must_revalidate: bool = False
    stale_if_error: int = 0


def cache_options(ctx: Context) -> CacheOptions:
    """``?cached`` (http_config.use_cache defaults to true) and the ``Cache-Control`` directives.

    A malformed directive has already been answered 400 by :func:`~.query.parse`; one that
    reaches here (a handler that, like ``CatalogDatacenters``, ignores the parse error) counts
    as absent.
    """
    if "cached" not in ctx.query:
        return CacheOptions()
    max_age = stale = 0
    revalidate = False
    for directive in ctx.request.headers.get("Cache-Control", "").lower().split(","):
        directive = directive.strip()
        if directive == "must-revalidate":
            revalidate = True
        elif directive.startswith("max-age="):
            seconds = _seconds(directive[len("max-age="):])
            if seconds is not None:
                max_age = seconds * SECOND
                revalidate = revalidate or seconds == 0  # max-age=0: stale at once
        elif directive.startswith("stale-if-error="):
            seconds = _seconds(directive[len("stale-if-error="):])
            if seconds is not None:
                stale = seconds * SECOND
    return CacheOptions(True, max_age, revalidate, stale)


def _seconds(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


@dataclass(slots=True)
class _Entry:
    result: Result[Any]
    fetched_at: float


class AgentCache:
    """The entries of one agent's cache. ``clock`` (seconds, monotonic) may be replaced by a
    test to age the entries without waiting."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._entries: dict[tuple[Any, ...], _Entry] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        self._entries.clear()

    @staticmethod
    def key(type_name: str, datacenter: str, token: str, ctx: Context,
            ignored: Iterable[str] = ()) -> tuple[Any, ...]:
        """makeEntryKey(type, dc, token, key): ``key`` is the sorted parameters of the request
        that shape its answer (a repeated ``tag`` in any order is one key, as Consul sorts
        ServiceTags before hashing)."""
        skip = _NOT_KEYED.union(ignored)
        params = tuple(sorted((k, v) for k, v in ctx.query.pairs if k not in skip))
        return (type_name, datacenter, token, ctx.path, params)

    async def get(
        self,
        api: Backend,
        key: tuple[Any, ...],
        options: CacheOptions,
        opts: QueryOptions,
        query: Callable[[], Result[Any]],
        *,
        refresh: bool,
        blocks: bool = True,
    ) -> tuple[Result[Any], bool, float]:
        """Cache.getWithIndex: ``(result, hit, age in seconds)``."""
        entry = self._entries.get(key)
        now = self.clock()
        if entry is not None and refresh:
            fresh = query()  # what the background blocking query has stored by now
            if fresh.index != entry.result.index:
                entry.result, entry.fetched_at = _valid(fresh), now
        hit = entry is not None and _valid_for(entry, options, opts, now, refresh, blocks)
        if hit and entry is not None:
            age = 0.0 if refresh else now - entry.fetched_at
            return entry.result, True, age
        if refresh and blocks and opts.min_index:
            result = await blocking(api, opts, query)
        else:
            result = query()
        result = _valid(result)
        self._entries[key] = _Entry(result, self.clock())
        return result, False, 0.0


def _valid_for(entry: _Entry, options: CacheOptions, opts: QueryOptions, now: float,
               refresh: bool, blocks: bool) -> bool:
    """getEntryLocked: may the entry answer this request at once?"""
    if refresh:  # Cache-Control is ignored; a blocking read waits past the entry's index
        return not (blocks and opts.min_index and opts.min_index >= entry.result.index)
    if options.max_age and options.max_age < (now - entry.fetched_at) * SECOND:
        return False
    return not options.must_revalidate  # max-age=0 or must-revalidate: fetch once more


def _valid(result: Result[Any]) -> Result[Any]:
    """An index below 1 is stored as 1 (cache.go: no user data is ever written at index 1)."""
    if result.index >= 1:
        return result
    return Result(1, result.value, result.channels, result.not_found, result.filtered)


_CACHES: WeakKeyDictionary[Backend, AgentCache] = WeakKeyDictionary()


def agent_cache(api: Backend) -> AgentCache:
    """The cache of the agent ``api`` is the state of (made on first use)."""
    cache = _CACHES.get(api)
    if cache is None:
        cache = _CACHES[api] = AgentCache()
    return cache


def set_cache_meta(ctx: Context, hit: bool, age: float) -> None:
    """setCacheMeta: ``X-Cache: HIT|MISS``; ``Age`` (whole seconds, ``%.0f``) on a hit only."""
    ctx.headers["X-Cache"] = "HIT" if hit else "MISS"
    if hit:
        ctx.headers["Age"] = f"{age:.0f}"


async def cached_rpc(
    api: Backend,
    ctx: Context,
    opts: QueryOptions,
    prepare: Callable[[], Callable[[], Result[Any]]],
    *,
    type_name: str,
    token: str,
    refresh: bool = True,
    deferred_meta: bool = True,
) -> Result[Any]:
    """:func:`~.query.rpc` through the agent cache when the request says ``?cached``.

    ``prepare`` runs for every request, cached or not: it resolves the token and checks what
    the handler checks before its RPC, so a cached read is authorized like any other (and the
    entry is keyed by that token).
    """
    options = cache_options(ctx)
    if not options.use_cache:
        return await rpc(api, ctx, opts, prepare, deferred_meta=deferred_meta)
    index, known_leader, filtered = 0, False, False
    try:
        forward(api, opts.datacenter)
        query = prepare()
        cache = agent_cache(api)
        key = cache.key(type_name, opts.datacenter, token, ctx)
        result, hit, age = await cache.get(api, key, options, opts, query, refresh=refresh)
        index, known_leader, filtered = result.index, True, result.filtered
    finally:
        if deferred_meta or known_leader:
            set_meta(ctx, index, known_leader=known_leader, filtered=filtered)
    set_cache_meta(ctx, hit, age)
    return result
