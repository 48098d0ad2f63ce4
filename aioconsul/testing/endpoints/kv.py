"""HTTP endpoints of the KV group (``/v1/kv/``): ``agent/kvs_endpoint.go``.

The state is ``state.store.Store``; this module never imports another endpoint module.
"""

from __future__ import annotations

from typing import Final

from ..backend import KV_MAX_VALUE_SIZE, Backend
from ..golang.stdlib import parse_uint
from ..http.query import (
    QueryOptions,
    Result,
    blocking,
    conflicting,
    ent_meta,
    forward,
    parse,
    set_meta,
)
from ..http.reply import Context, HTTPError, Reply, Route
from ..state.kvs import KV_TABLE, DirEntry, kv_key_channel
from ..structs.kvs import entry_json

__all__ = ["ROUTES"]


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


ROUTES: Final[tuple[Route, ...]] = (Route.of("/v1/kv/", ("GET", "PUT", "DELETE"), _kv),)
