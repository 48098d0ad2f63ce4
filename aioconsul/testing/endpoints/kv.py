"""HTTP endpoints of the KV group (``/v1/kv/``): ``agent/kvs_endpoint.go``.

The RPC half follows ``agent/consul/kvs_endpoint.go``: the token is resolved after the
forwarding; ``KVS.Get`` checks ``key:read`` inside its blocking query, after the state read
(a missing key the token may not read is a 403, not a 404); ``KVS.List`` and ``KVS.ListKeys``
drop the entries the token may not read (FilterDirEnt) before the keys are collected;
``KVS.Apply`` (kvsPreApply) wants ``key:write`` on the key, or on every key under it
(``key:write`` prefix) for a recursive delete, whatever the lock or CAS flavour. The denials
are the detailed ``*Allowed`` errors. The state is ``state.store.Store``; this module never
imports another endpoint module.
"""

from __future__ import annotations

from typing import Final

from ..acl import filter as aclfilter
from ..acl.authorizer import Permission
from ..backend import KV_MAX_VALUE_SIZE, Backend
from ..golang.stdlib import parse_uint
from ..http.acl import authorize, request_token
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
from ..state.kvs import KV_TABLE, DirEntry, collect_keys, kv_key_channel
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
    authz = authorize(api, ctx)
    token = request_token(api, ctx)
    if recurse and _key_list_policy(api):
        authz.require(Permission.KEY_LIST, key)  # KVS.List, acl.enable_key_list_policy only
    store = api.store

    def get_one() -> Result[list[DirEntry]]:
        index, entry = store.kv_get(key)
        authz.require(Permission.KEY_READ, key)  # KVS.Get: after the read, missing key or not
        if entry is None:
            # A missing key reports the table index: any KV write can move it.
            return Result(index, [], (KV_TABLE,))
        return Result(index, [entry], (kv_key_channel(key),))

    def get_tree() -> Result[list[DirEntry]]:
        index, entries = store.kv_list(key)
        kept, hidden = aclfilter.dir_entries(authz, entries)
        return Result(index, kept, (KV_TABLE,), filtered=aclfilter.mask(token, hidden))

    result = await blocking(api, opts, get_tree if recurse else get_one)
    set_meta(ctx, result.index, filtered=result.filtered)
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
    authz = authorize(api, ctx)
    token = request_token(api, ctx)
    if _key_list_policy(api):
        authz.require(Permission.KEY_LIST, prefix)  # acl.enable_key_list_policy only
    store = api.store

    def list_keys() -> Result[list[str]]:
        index, entries = store.kv_list(prefix)
        kept, hidden = aclfilter.dir_entries(authz, entries)  # before the keys are cut
        keys = collect_keys(prefix, separator, kept)
        return Result(index, keys, (KV_TABLE,), filtered=aclfilter.mask(token, hidden))

    result = await blocking(api, opts, list_keys)
    set_meta(ctx, result.index, filtered=result.filtered)
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
    # KVS.Apply, kvsPreApply: key:write for set, cas, lock and unlock alike; then lock-delay.
    authorize(api, ctx).require(Permission.KEY_WRITE, key)
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
    authz = authorize(api, ctx)
    # kvsPreApply: a delete-tree needs write on every key under the prefix (KeyWritePrefix).
    authz.require(Permission.KEY_WRITE_PREFIX if recurse else Permission.KEY_WRITE, key)
    if cas is not None:
        return ctx.json(api.store.kv_delete_cas(key, cas))
    if recurse:
        api.store.kv_delete_tree(key)
    else:
        api.store.kv_delete(key)
    return ctx.json(True)


def _key_list_policy(api: Backend) -> bool:
    """acl.enable_key_list_policy (default false): recursive reads also need ``key:list``."""
    return api.acl_config.enable_key_list_policy


ROUTES: Final[tuple[Route, ...]] = (Route.of("/v1/kv/", ("GET", "PUT", "DELETE"), _kv),)
