"""HTTP endpoints of cluster peering (``/v1/peering/...``, ``/v1/peerings``) and exported services.

The HTTP half follows ``agent/peering_endpoint.go`` (the 400s on the body, the 404
``Peering not found for "<name>"``, an empty 200 on delete) and
``agent/exported_services_endpoint.go``; the RPC half ``agent/rpc/peering/service.go``
(GenerateToken, Establish, PeeringRead, PeeringList, PeeringDelete: ``validatePeerName``, the
token checks, ``peering:write`` / ``peering:read``, the blocking reads, ``reconcilePeering``)
and ``agent/grpc-external/services/configentry`` (``GetResolvedExportedServices``, ``mesh:read``).

Consul's HTTP handlers reach these RPCs through a gRPC client, so an RPC error reaches the
body as the client prints it: ``rpc error: code = Unknown desc = <text>`` (a 403 when the text
holds "Permission denied", else a 500). Peering requests are never forwarded to another
datacenter (``RequestDatacenter`` is empty) and ignore a malformed ``?wait``/``?index``, as
the handlers ignore ``parse``'s error.

The peer streams are :mod:`aioconsul.testing.local.peerstream`; state is
``state/peering.py``. This module never imports another endpoint module.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, Final

from ..acl.authorizer import Permission
from ..acl.errors import ACLError
from ..backend import GRPC_PORT, Backend
from ..golang.stdlib import GoSyntaxError, strconv_quote
from ..http.acl import authorize
from ..http.query import (
    QueryOptions,
    Record,
    Result,
    blocking,
    parse,
    partition_only,
    set_meta,
)
from ..http.reply import Context, HTTPError, Reply, Route
from ..local.peerstream import GRPCError
from ..state.catalog import SERVICES, validate_meta
from ..state.config_entry import CONFIG_ENTRIES
from ..state.memdb import RPCError
from ..state.peering import (
    DELETING,
    ESTABLISHING,
    PEERING_TABLE,
    new_peering,
    resolved_exported_services,
    should_dial,
)
from ..structs.peering import (
    ERR_INVALID_PEER_NAME,
    TokenError,
    decode_establish_body,
    decode_generate_body,
    decode_token,
    encode_token,
    peering_json,
    valid_peer_name,
    validate_token,
)

__all__ = ["ROUTES"]

_NOT_ENTERPRISE: Final = "Partitions are a Consul Enterprise feature"


class _GRPCDenied(ACLError):
    """An ACL error as the HTTP side's gRPC client reports it (still a 403)."""


def _rpc(call: Callable[[], Any]) -> Any:
    """Run an RPC half; its error as Consul's gRPC client prints it."""
    try:
        return call()
    except GRPCError:
        raise
    except ACLError as exc:
        raise _GRPCDenied(f"rpc error: code = Unknown desc = {exc}") from None
    except RPCError as exc:
        raise RPCError(f"rpc error: code = Unknown desc = {exc}") from None


def _check_partition(partition: str) -> None:
    """EnterpriseCheckPartitions (CE): only the default partition exists."""
    if partition and partition.lower() != "default":
        raise GRPCError("InvalidArgument", _NOT_ENTERPRISE)


def _read_options(api: Backend, ctx: Context) -> QueryOptions:
    """HTTPHandlers.parse, whose error these handlers ignore (no blocking then)."""
    try:
        return parse(api, ctx)
    except HTTPError:
        return QueryOptions(api.datacenter)


async def _body(ctx: Context, decode: Callable[[bytes], Record]) -> Record:
    data = await ctx.request.read()
    try:
        return decode(data)
    except GoSyntaxError as exc:
        raise HTTPError(400, f"Body decoding failed: {exc}") from None


def _validate_name_and_meta(name: str, meta: dict[str, str] | None) -> None:
    if not valid_peer_name(name):
        raise RPCError(f"{name} is not a valid peer name: {ERR_INVALID_PEER_NAME}")
    problem = validate_meta(meta)
    if problem:
        raise RPCError(f"meta tags failed validation: {problem}")


def _local_address(api: Backend, ctx: Context) -> str:
    """GetLocalServerAddresses: where a peer reaches this agent (its HTTP listener here)."""
    transport = ctx.request.transport
    sockname = transport.get_extra_info("sockname") if transport is not None else None
    if isinstance(sockname, tuple) and len(sockname) >= 2:
        host = str(sockname[0])
        return f"[{host}]:{sockname[1]}" if ":" in host else f"{host}:{sockname[1]}"
    return f"127.0.0.1:{GRPC_PORT}"  # a unix socket: no address a peer could dial


# -- POST /v1/peering/token -----------------------------------------------------------------------


async def peering_generate_token(api: Backend, ctx: Context) -> Reply:
    """PeeringGenerateToken + PeeringService.GenerateToken."""
    req = await _body(ctx, decode_generate_body)
    if not req["PeerName"]:
        raise HTTPError(
            400, "PeerName is required in the payload when generating a new peering token."
        )
    partition_only(ctx)
    address = _local_address(api, ctx)

    def call() -> str:
        _check_partition(req["Partition"])
        _validate_name_and_meta(req["PeerName"], req["Meta"])
        authorize(api, ctx).require(Permission.PEERING_WRITE)
        peerings = api.peerings
        table = peerings.table
        _, existing = table.read(req["PeerName"])
        if existing is None:
            peering = new_peering(ID=_new_id(api), Name=req["PeerName"], Meta=req["Meta"])
        else:
            if should_dial(existing):  # validatePeer(peering, false)
                raise RPCError(
                    f"cannot create peering with name: {strconv_quote(existing['Name'])}; "
                    "there is already an established peering"
                )
            peering = dict(existing)
        secret = str(uuid.uuid4())
        try:
            table.write(peering, ("generate", secret))
        except RPCError as exc:
            raise RPCError(f"failed to write peering: {exc}") from None
        peerings.serve(address)
        return encode_token({
            "PeerID": peering["ID"],
            "CA": peerings.ca_pems,
            "ManualServerAddresses": req["ServerExternalAddresses"],
            "ServerAddresses": [peerings.address or address],
            "ServerName": peerings.server_name,
            "EstablishmentSecret": secret,
            "Remote": {"Partition": "default", "Datacenter": api.datacenter},
        })

    token = _rpc(call)
    return ctx.json({"PeeringToken": token})


def _new_id(api: Backend) -> str:
    """lib.GenerateUUID(CheckPeeringUUID): a UUID no peering has."""
    while True:
        candidate = str(uuid.uuid4())
        if api.peerings.table.read_by_id(candidate)[1] is None:
            return candidate


# -- POST /v1/peering/establish -------------------------------------------------------------------


async def peering_establish(api: Backend, ctx: Context) -> Reply:
    """PeeringEstablish + PeeringService.Establish: write the peering, exchange the token's
    secret with the peer, then store ESTABLISHING with the stream secret and open the stream."""
    req = await _body(ctx, decode_establish_body)
    if not req["PeerName"]:
        raise HTTPError(400, "PeerName is required in the payload when establishing a peering.")
    if not req["PeeringToken"]:
        raise HTTPError(
            400, "PeeringToken is required in the payload when establishing a peering."
        )
    partition_only(ctx)
    peerings = api.peerings
    table = peerings.table

    def prepare() -> Record:
        if not valid_peer_name(req["PeerName"]):
            raise RPCError(
                f"{req['PeerName']} is not a valid peer name: {ERR_INVALID_PEER_NAME}"
            )
        try:
            token = decode_token(req["PeeringToken"])
            validate_token(token)
        except TokenError as exc:
            raise RPCError(str(exc)) from None
        _validate_name_and_meta(req["PeerName"], req["Meta"])
        authorize(api, ctx).require(Permission.PEERING_WRITE)
        _, existing = table.read(req["PeerName"])
        if token["ServerName"] == peerings.server_name:  # validatePeeringLocality
            raise RPCError(
                f"cannot create a peering within the same cluster "
                f"{strconv_quote(peerings.server_name)}. Refer to the `exported-services` "
                "documentation if you want to export between partitions without peering"
            )
        addresses = token["ServerAddresses"]
        if existing is None:
            peering_id = _new_id(api)
        else:
            peering_id = existing["ID"]
            _, status = peerings.reconcile(existing)
            if status is not None and status["Connected"]:
                addresses = existing["PeerServerAddresses"]
            if not should_dial(existing):  # validatePeer(existing, true)
                raise RPCError(
                    f"cannot create peering with name: {strconv_quote(existing['Name'])}; "
                    "there is an existing peering expecting to be dialed"
                )
        peering = new_peering(
            ID=peering_id,
            Name=req["PeerName"],
            PeerCAPems=token["CA"],
            ManualServerAddresses=token["ManualServerAddresses"],
            PeerServerAddresses=addresses,
            PeerServerName=token["ServerName"],
            PeerID=token["PeerID"],
            Meta=req["Meta"],
            Remote=dict(token["Remote"]),
        )
        try:
            table.write(peering)
        except RPCError as exc:
            raise RPCError(f"failed to write peering: {exc}") from None
        return {"peering": peering, "token": token}

    prepared = _rpc(prepare)
    peering, token = prepared["peering"], prepared["token"]
    dial = peering["ManualServerAddresses"] or peering["PeerServerAddresses"]
    try:
        stream_secret = await peerings.exchange(
            list(dial), token["PeerID"], token["EstablishmentSecret"]
        )
    except GRPCError:
        raise
    except RPCError as exc:
        raise RPCError(f"rpc error: code = Unknown desc = {exc}") from None

    def finish() -> None:
        written = dict(table.read_by_id(peering["ID"])[1] or peering, State=ESTABLISHING)
        try:
            table.write(written, ("establish", stream_secret))
        except RPCError as exc:
            raise RPCError(f"failed to write peering: {exc}") from None
        # The leader's establishStream, at once: the stream is open when establish returns.
        peerings.connect(table.read_by_id(peering["ID"])[1] or written, stream_secret)

    _rpc(finish)
    return ctx.json({})


# -- GET/DELETE /v1/peering/:name, GET /v1/peerings -----------------------------------------------


async def _peering_read(api: Backend, ctx: Context, name: str) -> Reply:
    """peeringRead + PeeringService.PeeringRead: 404 when missing (no metadata then)."""
    partition_only(ctx)
    opts = _read_options(api, ctx)
    peerings = api.peerings

    def check() -> None:
        authorize(api, ctx).require(Permission.PEERING_READ)

    _rpc(check)

    def query() -> Result[Record | None]:
        index, peering = peerings.table.read(name)
        if peering is None:
            return Result(index, None, (PEERING_TABLE,), not_found=True)
        state, status = peerings.reconcile(peering)
        return Result(index, peering_json(peering, state, status), (PEERING_TABLE,))

    result = await blocking(api, opts, query)
    if result.value is None:
        return Reply.text(404, f"Peering not found for {strconv_quote(name)}")
    set_meta(ctx, result.index)
    return ctx.json(result.value)


async def _peering_delete(api: Backend, ctx: Context, name: str) -> Reply:
    """peeringDelete + PeeringService.PeeringDelete: mark the peering DELETING (with
    DeletedAt); the leader then removes its imported data and the peering."""
    partition_only(ctx)
    peerings = api.peerings
    table = peerings.table

    def call() -> None:
        authorize(api, ctx).require(Permission.PEERING_WRITE)
        _, existing = table.read(name)
        if existing is None or existing["State"] == DELETING:
            return
        marked = new_peering(
            ID=existing["ID"],
            Name=name,
            State=DELETING,
            ManualServerAddresses=existing["ManualServerAddresses"],
            PeerServerAddresses=existing["PeerServerAddresses"],
            DeletedAt=peerings.clock(),
        )
        table.write(marked)
        peerings.marked_for_deletion(table.read_by_id(existing["ID"])[1] or marked)

    _rpc(call)
    return Reply()


async def peering_endpoint(api: Backend, ctx: Context) -> Reply:
    """PeeringEndpoint: GET reads, DELETE deletes (the route allows nothing else)."""
    name = ctx.path[len("/v1/peering/"):]
    if not name:
        raise HTTPError(400, "Must specify a name to fetch.")
    if ctx.request.method == "DELETE":
        return await _peering_delete(api, ctx, name)
    return await _peering_read(api, ctx, name)


async def peering_list(api: Backend, ctx: Context) -> Reply:
    """PeeringList + PeeringService.PeeringList (blocking on the peering table)."""
    partition_only(ctx)
    opts = _read_options(api, ctx)
    peerings = api.peerings

    def check() -> None:
        authorize(api, ctx).require(Permission.PEERING_READ)

    _rpc(check)

    def query() -> Result[list[Record]]:
        index, items = peerings.table.list_peerings()
        out = [peering_json(p, *peerings.reconcile(p)) for p in items]
        return Result(index, out, (PEERING_TABLE,))

    result = await blocking(api, opts, query)
    set_meta(ctx, result.index)
    return ctx.json(result.value)


# -- GET /v1/exported-services --------------------------------------------------------------------


async def exported_services(api: Backend, ctx: Context) -> Reply:
    """ExportedServices + ConfigEntryService.GetResolvedExportedServices (``mesh:read``)."""
    partition_only(ctx)
    opts = _read_options(api, ctx)

    def check() -> None:
        authorize(api, ctx).require(Permission.MESH_READ)

    _rpc(check)

    def query() -> Result[list[Record]]:
        index, services = resolved_exported_services(api.store, api.catalog)
        return Result(index, services, (CONFIG_ENTRIES, SERVICES))

    result = await blocking(api, opts, query)
    set_meta(ctx, result.index)
    return ctx.json(result.value)


ROUTES: Final[tuple[Route, ...]] = (
    Route.of("/v1/peering/token", ("POST",), peering_generate_token),
    Route.of("/v1/peering/establish", ("POST",), peering_establish),
    Route.of("/v1/peering/", ("GET", "DELETE"), peering_endpoint),
    Route.of("/v1/peerings", ("GET",), peering_list),
    Route.of("/v1/exported-services", ("GET",), exported_services),
)
