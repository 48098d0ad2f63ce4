"""``PUT /v1/txn`` (``agent/txn_endpoint.go``): body limits, then Txn.Read or Txn.Apply.

The transaction engine (decoding, ``preCheck``, the operations against the store) is
:mod:`aioconsul.testing.state.txn`; this module is the HTTP half and never imports another endpoint
module.
"""

from __future__ import annotations

from typing import Any, Final

from ..backend import Backend
from ..http.query import forward, parse
from ..http.reply import Context, HTTPError, Reply, Route
from ..state.txn import (
    KV_MAX_VALUE_SIZE,
    LIMIT_DOCS,
    TXN_MAX_REQ_LEN,
    CatalogTxn,
    GoPanic,
    Result,
    TxnError,
    convert_ops,
    pre_check,
    read,
    write,
)

__all__ = ["ROUTES", "txn_endpoint"]


async def _read_body(ctx: Context, limit: int) -> bytes:
    """The body under http.MaxBytesReader(limit): a longer one is a 413."""
    length = ctx.request.content_length
    if length is not None and length > limit:
        raise HTTPError(
            413,
            f"Request body({length} bytes) too large, max size: {limit} bytes. See {LIMIT_DOCS}.",
        )
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await ctx.request.content.read(64 * 1024)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            raise HTTPError(
                413, f"Request body too large, max size: {limit} bytes. See {LIMIT_DOCS}."
            )
        chunks.append(chunk)


def _errors_json(errors: list[TxnError]) -> list[dict[str, Any]] | None:
    return [error.json() for error in errors] or None


async def txn_endpoint(api: Backend, ctx: Context) -> Reply:
    """HTTPHandlers.Txn: convert the operations, then Txn.Read or Txn.Apply; 409 on failure."""
    body = await _read_body(ctx, max(TXN_MAX_REQ_LEN, KV_MAX_VALUE_SIZE))
    try:
        ops = convert_ops(body, datacenter=api.datacenter)
    except GoPanic:
        # net/http recovers a handler's panic and closes the connection: no answer at all.
        transport = ctx.request.transport
        if transport is not None:
            transport.abort()
        return Reply(500)
    store = api.store
    catalog = CatalogTxn(api.catalog)
    if not any(op.is_write for op in ops):
        # Fast path: Txn.Read supports consistency modes, not blocking; no X-Consul-Index.
        opts = parse(api, ctx)
        forward(api, opts.datacenter)
        errors = pre_check(store, ops, catalog)
        results: list[Result] | None = None
        known_leader = False  # preCheck failures return before SetQueryMeta
        if not errors:
            results, errors = read(store, ops, catalog)
            known_leader = True
        ctx.headers["X-Consul-LastContact"] = "0"
        ctx.headers["X-Consul-KnownLeader"] = "true" if known_leader else "false"
        # structs.TxnReadResponse embeds QueryMeta, whose fields have no json tags.
        reply: dict[str, Any] = {
            "Results": results,
            "Errors": _errors_json(errors),
            "Index": 0,
            "LastContact": 0,
            "KnownLeader": known_leader,
            "ConsistencyLevel": "",
            "NotModified": False,
            "Backend": 0,
            "ResultsFilteredByACLs": False,
        }
    else:
        forward(api, ctx.query.get("dc") or api.datacenter)  # parseDC only; Txn.Apply
        errors = pre_check(store, ops, catalog)
        results = None
        if not errors:
            results, errors = write(store, ops, catalog)
        reply = {"Results": results, "Errors": _errors_json(errors)}
    return ctx.json(reply, 409 if errors else 200)


ROUTES: Final[tuple[Route, ...]] = (Route.of("/v1/txn", ("PUT",), txn_endpoint),)
