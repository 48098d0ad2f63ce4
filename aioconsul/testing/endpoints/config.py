"""HTTP endpoints of the config entries group (``/v1/config``).

``agent/config_endpoint.go`` (the 400/404s, ``?cas=``) and ``agent/consul/config_endpoint.go``
(the RPC half): ``ConfigEntry.Apply`` resolves the token, normalises and validates the entry,
then asks the kind's CanWrite; ``ConfigEntry.Get`` asks CanRead of the kind and name before
its blocking query; ``ConfigEntry.List`` checks the kind ("invalid config entry kind") and
drops the entries the token may not read; ``ConfigEntry.Delete`` normalises, then CanWrite.
Errors of the RPC half are 500s with Consul's text. The state is ``state/config_entry.py``;
this module never imports another endpoint module.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Final

from ..acl import filter as aclfilter
from ..backend import Backend
from ..golang.stdlib import GoSyntaxError, decode_json_value, parse_uint
from ..http.acl import authorize, request_token
from ..http.query import Result, ent_meta, forward, parse, rpc
from ..http.reply import Context, HTTPError, Reply, Route
from ..state.config_entry import CONFIG_ENTRIES, StoredEntry, config_entries
from ..state.memdb import RPCError
from ..structs.config_entry import (
    ConfigEntryError,
    decode_entry,
    entry_name,
    make_entry,
    normalize_entry,
    render_entry,
    validate_entry,
)

__all__ = ["ROUTES"]


def _render(stored: StoredEntry) -> dict[str, Any]:
    return render_entry(stored.entry, stored.create_index, stored.modify_index)


def _cas(ctx: Context) -> int | None:
    """``?cas=``: strconv.ParseUint's error is the handler's plain error (500)."""
    text = ctx.query.get("cas")
    if not text:
        return None
    try:
        return parse_uint(text)
    except GoSyntaxError as exc:
        raise RPCError(str(exc)) from None


async def config_apply(api: Backend, ctx: Context) -> Reply:
    """ConfigApply + ConfigEntry.Apply."""
    datacenter = ctx.query.get("dc") or api.datacenter
    body = await ctx.request.read()
    try:
        decode_json_value(body)
        raw = json.loads(body)
        if raw is not None and not isinstance(raw, dict):
            kind = "array" if isinstance(raw, list) else type(raw).__name__
            kind = {"str": "string", "int": "number", "float": "number", "bool": "bool"}.get(
                kind, kind)
            raise GoSyntaxError(
                f"json: cannot unmarshal {kind} into Go value of type map[string]interface {{}}")
        entry = decode_entry(raw)
    except (GoSyntaxError, ConfigEntryError) as exc:
        raise HTTPError(400, f"Request decoding failed: {exc}") from None
    ent_meta(ctx)
    cas = _cas(ctx)
    forward(api, datacenter)
    authz = authorize(api, ctx)
    try:
        entry = normalize_entry(entry)
        validate_entry(entry)
    except ConfigEntryError as exc:
        raise RPCError(str(exc)) from None
    authz.require(aclfilter.config_entry_write(entry["Kind"]), entry_name(entry))
    return ctx.json(config_entries(api.store).upsert(entry, cas))


def _kind_and_name(ctx: Context) -> list[str]:
    return ctx.path.removeprefix("/v1/config/").split("/", 1)


async def config(api: Backend, ctx: Context) -> Reply:
    """Config: GET one entry or a kind's list, DELETE one entry."""
    if ctx.request.method == "DELETE":
        return _config_delete(api, ctx)
    opts = parse(api, ctx)
    args = _kind_and_name(ctx)
    table = config_entries(api.store)
    ent_meta(ctx)
    if len(args) == 2:
        kind, name = args

        def prepare_get() -> Callable[[], Result[StoredEntry | None]]:
            authz = authorize(api, ctx)
            try:
                make_entry(kind, name)
            except ConfigEntryError as exc:
                raise RPCError(str(exc)) from None
            permission = aclfilter.config_entry_read(kind)
            if permission is not None:
                authz.require(permission, name)

            def query() -> Result[StoredEntry | None]:
                index, stored = table.get(kind, name)
                return Result(index, stored, (CONFIG_ENTRIES,))

            return query

        result = await rpc(api, ctx, opts, prepare_get)
        if result.value is None:
            raise HTTPError(404, f'Config entry not found for "{kind}" / "{name}"')
        return ctx.json(_render(result.value))

    kind = args[0]

    def prepare_list() -> Callable[[], Result[list[dict[str, Any]]]]:
        authz = authorize(api, ctx)
        token = request_token(api, ctx)
        if kind:
            try:
                make_entry(kind, "")
            except ConfigEntryError:
                raise RPCError(f"invalid config entry kind: {kind}") from None

        def query() -> Result[list[dict[str, Any]]]:
            index, entries = table.by_kind(kind)
            kept, hidden = aclfilter.config_entries(authz, entries, lambda e: (e.kind, e.name))
            return Result(index, [_render(e) for e in kept], (CONFIG_ENTRIES,),
                          filtered=aclfilter.mask(token, hidden))

        return query

    listed = await rpc(api, ctx, opts, prepare_list)
    return ctx.json(listed.value)


def _config_delete(api: Backend, ctx: Context) -> Reply:
    """configDelete + ConfigEntry.Delete."""
    datacenter = ctx.query.get("dc") or api.datacenter
    args = _kind_and_name(ctx)
    if len(args) != 2:
        raise HTTPError(404, "Must provide both a kind and name to delete")
    kind, name = args
    try:
        entry = make_entry(kind, name)
    except ConfigEntryError as exc:
        raise HTTPError(400, str(exc)) from None
    ent_meta(ctx)
    cas = _cas(ctx)
    forward(api, datacenter)
    authz = authorize(api, ctx)
    try:
        entry = normalize_entry(entry)
    except ConfigEntryError as exc:
        raise RPCError(str(exc)) from None
    authz.require(aclfilter.config_entry_write(kind), entry_name(entry))
    deleted = config_entries(api.store).delete(kind, entry_name(entry), cas)
    return ctx.json(deleted if cas is not None else {})


ROUTES: Final[tuple[Route, ...]] = (
    Route.of("/v1/config", ("PUT",), config_apply),
    Route.of("/v1/config/", ("GET", "DELETE"), config),
)
