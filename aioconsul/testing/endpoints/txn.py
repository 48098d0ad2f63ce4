"""``PUT /v1/txn`` (``agent/txn_endpoint.go``): the body limits, ``convertOps``, the RPC.

The body limit (``max(txn_max_req_len, kv_max_value_size)``, 512 KiB) is checked on
``Content-Length`` and again while reading; the body is decoded by ``lib.DecodeJSON`` into
``api.TxnOps`` (unknown fields refused, so a ``{"Session": ...}`` operation is a 400:
``api.TxnOp`` has no such field), at most ``maxTxnOps`` = 128 operations, each KV value at most
``kv_max_value_size``; elements with none of ``KV``/``Node``/``Service``/``Check`` are dropped,
so ``OpIndex`` counts the operations that remain. A transaction without writes is served like a
read (``?stale``/``?consistent`` honoured, ``X-Consul-LastContact``/``X-Consul-KnownLeader``
set, the ``QueryMeta`` fields in the body, never an ``X-Consul-Index``); one with writes goes
through Raft (only ``?dc`` is read).

ACLs (``agent/consul/txn_endpoint.go``): both RPCs resolve the token after forwarding; preCheck
vets every operation (:func:`vet_op`) and reports a denial as that operation's ``TxnError``
(409, the detailed "Permission denied: ..." text), never as a 403; the results of both are
filtered (FilterTxnResults), and the read path reports it in its body's
``ResultsFilteredByACLs`` (masked for an anonymous request). Session and intention operations
exist only in the RPC form: ``api.TxnOp`` has no such fields, so no HTTP request carries one.

The body's Go types and the RPC form of the operations are :mod:`aioconsul.testing.structs.txn`;
the engine (``preCheck``, the operations against the store) is
:mod:`aioconsul.testing.state.txn`. This module never imports another endpoint module.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from ..acl import filter as aclfilter
from ..acl.authorizer import Enforcer, Permission
from ..acl.errors import PermissionDenied
from ..backend import Backend
from ..golang.jsondecode import unmarshal
from ..golang.stdlib import GoSyntaxError, strconv_quote
from ..http.acl import authorize, request_token
from ..http.query import forward, parse
from ..http.reply import Context, HTTPError, Reply, Route
from ..state.txn import CatalogTxn, Result, pre_check, read, write
from ..structs.txn import TXN_OPS, Op, TxnError, to_op

__all__ = ["GoPanic", "ROUTES", "convert_ops", "txn_endpoint", "vet_op"]

MAX_TXN_OPS: Final = 128  # agent/txn_endpoint.go maxTxnOps
TXN_MAX_REQ_LEN: Final = 512 * 1024  # txn_max_req_len default (raft's suggested entry size)
KV_MAX_VALUE_SIZE: Final = 512 * 1024  # kv_max_value_size default
LIMIT_DOCS: Final = "https://www.consul.io/docs/agent/config/config-files#txn_max_req_len"


class GoPanic(Exception):
    """Consul's handler would panic (a ``null`` operation is dereferenced): Go's net/http
    recovers and hangs up without an answer."""


def convert_ops(body: bytes, *, datacenter: str) -> list[Op]:
    """convertOps after the size check: decode, count, convert. Raises :class:`HTTPError`."""
    try:
        decoded = unmarshal(body, TXN_OPS)
    except GoSyntaxError as exc:
        raise HTTPError(400, f"Failed to parse body: {exc}") from None
    decoded = decoded or []
    if len(decoded) > MAX_TXN_OPS:
        raise HTTPError(
            413, f"Transaction contains too many operations ({len(decoded)} > {MAX_TXN_OPS})"
        )
    ops: list[Op] = []
    for item in decoded:
        if item is None:
            raise GoPanic("nil pointer dereference: a null operation")
        kv = item.get("KV")
        if kv is not None and kv.get("Value") is not None:
            value = kv["Value"]
            if len(value) > KV_MAX_VALUE_SIZE:
                key = strconv_quote(kv.get("Key", ""))
                raise HTTPError(
                    413,
                    f"Value for key {key} is too large ({len(value)} > {KV_MAX_VALUE_SIZE} bytes)",
                )
        op = to_op(item, datacenter=datacenter)
        if op is not None:
            ops.append(op)
    return ops


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


_KV_READS: Final = ("get", "get-tree", "get-or-empty")  # filtered on the way out instead
_KV_CHECKS: Final = ("check-session", "check-index")  # "could reveal information": key:read


def _require_op(authz: Enforcer, op: Op) -> None:
    """The permission one operation needs; raises the detailed PermissionDenied."""
    if op.kind == "KV":  # kvsPreApply
        if op.verb == "delete-tree":
            authz.require(Permission.KEY_WRITE_PREFIX, op.key)
        elif op.verb in _KV_CHECKS:
            authz.require(Permission.KEY_READ, op.key)
        elif op.verb not in _KV_READS:  # every other verb, check-not-exists included
            authz.require(Permission.KEY_WRITE, op.key)
    elif op.kind == "Node":  # vetNodeTxnOp
        authz.require(Permission.NODE_WRITE, op.body["Node"].get("Node", ""))
    elif op.kind == "Service":  # servicePreApply's checks, after its validation
        service = op.body["Service"]
        name = service.get("Service", "")
        if name != "consul":  # structs.ConsulServiceName is managed by the servers
            authz.require(Permission.SERVICE_WRITE, name)
        if service.get("Kind") == "connect-proxy":  # a proxy needs write on its destination
            proxy = service.get("Proxy") or {}
            authz.require(Permission.SERVICE_WRITE, proxy.get("DestinationServiceName", ""))
    elif op.kind == "Check":  # vetCheckTxnOp
        check = op.body["Check"]
        if not check.get("ServiceID"):
            authz.require(Permission.NODE_WRITE, check.get("Node", ""))
        else:
            authz.require(Permission.SERVICE_WRITE, check.get("ServiceName", ""))


def vet_op(authz: Enforcer) -> Callable[[Op], str | None]:
    """preCheck's permission checks for ``authz``: the denial's text for an operation, or None."""

    def vet(op: Op) -> str | None:
        try:
            _require_op(authz, op)
        except PermissionDenied as exc:
            return str(exc)
        return None

    return vet


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
        authz = authorize(api, ctx)  # Txn.Read: ResolveToken, then preCheck
        errors = pre_check(store, ops, catalog, vet_op(authz))
        results: list[Result] | None = None
        known_leader = False  # preCheck failures return before SetQueryMeta
        filtered = False
        if not errors:
            results, errors = read(store, ops, catalog)
            if results is not None:
                results, hidden = aclfilter.txn_results(authz, results)
                filtered = aclfilter.mask(request_token(api, ctx), hidden)  # SetQueryMeta
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
            "ResultsFilteredByACLs": filtered,
        }
    else:
        forward(api, ctx.query.get("dc") or api.datacenter)  # parseDC only; Txn.Apply
        authz = authorize(api, ctx)
        errors = pre_check(store, ops, catalog, vet_op(authz))
        results = None
        if not errors:
            results, errors = write(store, ops, catalog)
            if results is not None:  # filtered too, but TxnResponse has no flag to tell
                results, _ = aclfilter.txn_results(authz, results)
        reply = {"Results": results, "Errors": _errors_json(errors)}
    return ctx.json(reply, 409 if errors else 200)


ROUTES: Final[tuple[Route, ...]] = (Route.of("/v1/txn", ("PUT",), txn_endpoint),)
