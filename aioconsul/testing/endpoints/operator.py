"""HTTP endpoints of the operator group (``/v1/operator/...``): ``agent/operator_endpoint.go``.

The RPC halves follow ``agent/consul/operator_raft_endpoint.go``,
``operator_autopilot_endpoint.go``, ``operator_usage_endpoint.go`` and, for the keyring,
``agent/keyring.go`` with ``Internal.KeyringOperation`` (``internal_endpoint.go``): each
forwards, resolves the token and checks ``operator:read``/``operator:write`` (or
``keyring:read``/``keyring:write``) before touching anything, with the detailed ``*Allowed``
denials. The dev agent is a single bootstrapped server: the Raft configuration holds only it
(leader, voter), so a leadership transfer finds no peer and removing a peer either names an
unknown one or would leave no voter. The keyring is the agent's (:mod:`..local.keyring`); the
autopilot configuration is a state table (:mod:`..state.autopilot`). Consul CE registers no
area, segment or license route (they answer the mux's 404); utilization is registered and
answers 404 "operator utilization requires Consul Enterprise" before anything else.
"""

from __future__ import annotations

import json
import time
from typing import Any, Final

from ..acl.authorizer import Permission
from ..backend import CONSUL_VERSION, Backend
from ..golang.stdlib import (
    GoSyntaxError,
    decode_json_value,
    format_duration,
    json_kind,
    parse_duration,
    parse_uint,
    strconv_quote,
)
from ..http.acl import authorize
from ..http.query import (
    Result,
    ent_meta,
    forward,
    parse,
    parse_bool,
    partition_only,
    rpc,
)
from ..http.reply import Context, HTTPError, Reply, Route
from ..local.keyring import KeyringError, decode_key, pool_response
from ..state.autopilot import DEFAULT_AUTOPILOT
from ..state.catalog import NODES, SERVICES
from ..state.memdb import RPCError

__all__ = ["ROUTES"]

_RAFT_ADDRESS: Final = "127.0.0.1:8300"  # the -dev server's RPC address (ports.server)
_RAFT_TERM: Final = 2  # a freshly bootstrapped single server's term
_CONNECT_KINDS: Final = (
    "api-gateway", "connect-native", "connect-proxy", "ingress-gateway", "mesh-gateway",
    "terminating-gateway",
)


def _parse_dc(api: Backend, ctx: Context) -> str:
    """parseDC: ``?dc=``, else the agent's datacenter."""
    return ctx.query.get("dc") or api.datacenter


# -- Raft -------------------------------------------------------------------------------------


def _raft_server(api: Backend) -> dict[str, Any]:
    """structs.RaftServer of this server."""
    return {
        "ID": api.node_id,
        "Node": api.node_name,
        "Address": _RAFT_ADDRESS,
        "Leader": True,
        "ProtocolVersion": "3",
        "Voter": True,
        "LastIndex": api.store.raft_index,
    }


async def _raft_configuration(api: Backend, ctx: Context) -> Reply:
    """OperatorRaftConfiguration -> Operator.RaftGetConfiguration (operator:read)."""
    opts = parse(api, ctx)
    forward(api, opts.datacenter)
    authorize(api, ctx).require(Permission.OPERATOR_READ)
    # Index: the index of the latest configuration, the bootstrap entry.
    return ctx.json({"Servers": [_raft_server(api)], "Index": 1})


async def _raft_transfer_leader(api: Backend, ctx: Context) -> Reply:
    """OperatorRaftTransferLeader -> the operator gRPC service (operator:write), then
    Server.attemptLeadershipTransfer: a known ID is looked up in the server lookup and raft
    refuses a transfer to itself; without an ID raft picks a peer and finds none."""
    partition_only(ctx)
    target = ctx.query.get("id")
    authorize(api, ctx).require(Permission.OPERATOR_WRITE)
    if target:
        if target != api.node_id:
            raise RPCError(f"Could not find address for server id {target}")
        raise RPCError("cannot transfer leadership to itself")
    raise RPCError("cannot find peer")


async def _raft_peer(api: Backend, ctx: Context) -> Reply:
    """OperatorRaftPeer -> Operator.RaftRemovePeerByID / ByAddress (operator:write)."""
    datacenter = _parse_dc(api, ctx)
    has_id, has_address = "id" in ctx.query, "address" in ctx.query
    if not has_id and not has_address:
        raise HTTPError(400, "Must specify either ?id with the server's ID or ?address with "
                             "IP:port of peer to remove")
    if has_id and has_address:
        raise HTTPError(400, "Must specify only one of ?id or ?address")
    forward(api, datacenter)
    authorize(api, ctx).require(Permission.OPERATOR_WRITE)
    if has_address:
        address = ctx.query.get("address")
        if address != _RAFT_ADDRESS:
            raise RPCError(f"address {strconv_quote(address)} was not found in the Raft "
                           "configuration")
    else:
        server_id = ctx.query.get("id")
        if server_id != api.node_id:
            raise RPCError(f"id {strconv_quote(server_id)} was not found in the Raft "
                           "configuration")
    # raft.RemoveServer of the only voter: checkConfiguration refuses the next configuration.
    raise RPCError("need at least one voter in configuration: {[]}")


# -- autopilot --------------------------------------------------------------------------------


def _autopilot_json(config: dict[str, Any]) -> dict[str, Any]:
    """api.AutopilotConfiguration: durations as api.ReadableDuration strings."""
    return {
        "CleanupDeadServers": config["CleanupDeadServers"],
        "LastContactThreshold": format_duration(config["LastContactThreshold"]),
        "MaxTrailingLogs": config["MaxTrailingLogs"],
        "MinQuorum": config["MinQuorum"],
        "ServerStabilizationTime": format_duration(config["ServerStabilizationTime"]),
        "RedundancyZoneTag": config["RedundancyZoneTag"],
        "DisableUpgradeMigration": config["DisableUpgradeMigration"],
        "UpgradeVersionTag": config["UpgradeVersionTag"],
        "CreateIndex": config["CreateIndex"],
        "ModifyIndex": config["ModifyIndex"],
    }


_AUTOPILOT_KINDS: Final = {
    "CleanupDeadServers": "bool", "LastContactThreshold": "duration", "MaxTrailingLogs": "uint64",
    "MinQuorum": "uint", "ServerStabilizationTime": "duration", "RedundancyZoneTag": "string",
    "DisableUpgradeMigration": "bool", "UpgradeVersionTag": "string",
    "CreateIndex": "uint64", "ModifyIndex": "uint64",
}


def _decode_autopilot(body: bytes) -> dict[str, Any]:
    """decodeBody into api.NewAutopilotConfiguration(): absent fields keep the defaults;
    field names match case-insensitively, as encoding/json does."""
    value = decode_json_value(body)
    if value is None:
        return dict(DEFAULT_AUTOPILOT)
    if not isinstance(value, dict):
        raise GoSyntaxError(f"json: cannot unmarshal {json_kind(value)} into Go value of type "
                            "api.AutopilotConfiguration")
    config = dict(DEFAULT_AUTOPILOT)
    names = {name.lower(): name for name in _AUTOPILOT_KINDS}
    for key, raw in value.items():
        name = names.get(key.lower())
        if name is None or raw is None:
            continue
        kind = _AUTOPILOT_KINDS[name]
        if kind == "duration":  # api.ReadableDuration.UnmarshalJSON
            if isinstance(raw, str):
                parsed: Any = parse_duration(raw)
            elif isinstance(raw, int | float) and not isinstance(raw, bool):
                parsed = int(raw)
            else:  # not a string: strconv.ParseFloat of the raw JSON text
                text = json.dumps(raw, separators=(",", ":"))
                raise GoSyntaxError(
                    f"strconv.ParseFloat: parsing {strconv_quote(text)}: invalid syntax")
        else:
            ok = {
                "bool": isinstance(raw, bool),
                "string": isinstance(raw, str),
            }.get(kind, isinstance(raw, int) and not isinstance(raw, bool) and raw >= 0)
            if not ok:
                what = json_kind(raw)
                if what == "number":  # UnmarshalTypeError quotes a number's text
                    what += " " + json.dumps(raw)
                raise GoSyntaxError(
                    f"json: cannot unmarshal {what} into Go struct field "
                    f"AutopilotConfiguration.{name} of type {kind}")
            parsed = raw
        config[name] = parsed
    return config


async def _autopilot_configuration(api: Backend, ctx: Context) -> Reply:
    """OperatorAutopilotConfiguration: GET (operator:read) and PUT with ``?cas=``
    (operator:write; answers ``true`` unless a CAS write lost)."""
    if ctx.request.method == "GET":
        opts = parse(api, ctx)
        forward(api, opts.datacenter)
        authorize(api, ctx).require(Permission.OPERATOR_READ)
        _, config = api.autopilot.get()
        return ctx.json(_autopilot_json(config))
    datacenter = _parse_dc(api, ctx)
    try:
        config = _decode_autopilot(await ctx.request.read())
    except GoSyntaxError as exc:
        raise HTTPError(400, f"Error parsing autopilot config: {exc}") from None
    cas: int | None = None
    if "cas" in ctx.query:
        try:
            cas = parse_uint(ctx.query.get("cas"))
        except GoSyntaxError as exc:
            raise HTTPError(400, f"Error parsing cas value: {exc}") from None
    forward(api, datacenter)
    authorize(api, ctx).require(Permission.OPERATOR_WRITE)
    applied = api.autopilot.set(config, cas=cas)
    return ctx.json(applied if cas is not None else True)


def _stable_since(api: Backend) -> str:
    """StableSince, rounded to the second and in UTC as the health endpoint writes it."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(round(api.started_at)))


async def _autopilot_health(api: Backend, ctx: Context) -> Reply:
    """OperatorServerHealth -> Operator.ServerHealth (operator:read); one healthy server (a
    429 would mean unhealthy)."""
    opts = parse(api, ctx)
    forward(api, opts.datacenter)
    authorize(api, ctx).require(Permission.OPERATOR_READ)
    server = {
        "ID": api.node_id,
        "Name": api.node_name,
        "Address": _RAFT_ADDRESS,
        "SerfStatus": "alive",
        "Version": CONSUL_VERSION,
        "Leader": True,
        "LastContact": "0s",
        "LastTerm": _RAFT_TERM,
        "LastIndex": api.store.raft_index,
        "Healthy": True,
        "Voter": True,
        "StableSince": _stable_since(api),
    }
    return ctx.json({"Healthy": True, "FailureTolerance": 0, "Servers": [server]})


async def _autopilot_state(api: Backend, ctx: Context) -> Reply:
    """OperatorAutopilotState -> Operator.AutopilotState (operator:read): autopilotToAPIState
    of one healthy leader and voter."""
    opts = parse(api, ctx)
    forward(api, opts.datacenter)
    authorize(api, ctx).require(Permission.OPERATOR_READ)
    server = {
        "ID": api.node_id,
        "Name": api.node_name,
        "Address": _RAFT_ADDRESS,
        "NodeStatus": "alive",
        "Version": CONSUL_VERSION,
        "LastContact": "0s",
        "LastTerm": _RAFT_TERM,
        "LastIndex": api.store.raft_index,
        "Healthy": True,
        "StableSince": _stable_since(api),
        "Status": "leader",
        "Meta": {"consul-network-segment": "", "consul-version": CONSUL_VERSION},
        "NodeType": "voter",
    }
    return ctx.json({
        "Healthy": True,
        "FailureTolerance": 0,
        "OptimisticFailureTolerance": 0,
        "Servers": {api.node_id: server},
        "Leader": api.node_id,
        "Voters": [api.node_id],
    })


# -- usage ------------------------------------------------------------------------------------


def _usage(api: Backend) -> Result[dict[str, Any]]:
    """state.ServiceUsage and NodeUsage: counts of the catalog."""
    index, rows = api.catalog.services()
    nodes_index, nodes = api.catalog.nodes()
    kinds = dict.fromkeys(_CONNECT_KINDS, 0)
    billable = 0
    for row in rows:
        native = bool((row.get("Connect") or {}).get("Native"))
        if row["Kind"] in kinds:
            kinds[row["Kind"]] += 1
        if native:
            kinds["connect-native"] += 1
        if (not row["Kind"] or native) and row["Service"] != "consul":
            billable += 1
    usage = {
        "Services": len({row["Service"] for row in rows}),
        "ServiceInstances": len(rows),
        "ConnectServiceInstances": kinds,
        "BillableServiceInstances": billable,
        "Nodes": len(nodes),
    }
    return Result(max(index, nodes_index), usage, (SERVICES, NODES))


async def _operator_usage(api: Backend, ctx: Context) -> Reply:
    """OperatorUsage -> Operator.Usage (operator:read), a blocking query on the catalog."""
    ent_meta(ctx)
    opts = parse(api, ctx)
    stale = "stale" in ctx.query or bool(ctx.query.get("max_stale"))
    level = "consistent" if "consistent" in ctx.query else "stale" if stale else "leader"

    def prepare() -> Any:
        authorize(api, ctx).require(Permission.OPERATOR_READ)
        return lambda: _usage(api)

    result = await rpc(api, ctx, opts, prepare)
    return ctx.json({
        "Usage": {api.datacenter: result.value},
        "Index": result.index,
        "LastContact": 0,
        "KnownLeader": True,
        "ConsistencyLevel": level,
        "NotModified": False,
        "Backend": 0,
        "ResultsFilteredByACLs": False,
    })


async def _operator_utilization(api: Backend, ctx: Context) -> Reply:
    """OperatorUtilizationEndpoint: CE answers 404 before anything else."""
    raise HTTPError(404, "operator utilization requires Consul Enterprise")


# -- keyring ----------------------------------------------------------------------------------


def _multierror(errors: list[str]) -> str:
    """go-multierror's ListFormatFunc."""
    if len(errors) == 1:
        return f"1 error occurred:\n\t* {errors[0]}\n\n"
    points = "\n\t".join(f"* {e}" for e in errors)
    return f"{len(errors)} errors occurred:\n\t{points}\n\n"


def _keyring_errors(responses: list[dict[str, Any]]) -> None:
    """keyringErrorsOrNil: every pool's error and messages, as one 500."""
    errors: list[str] = []
    for response in responses:
        if response.get("Error"):
            pool = "WAN" if response["WAN"] else f"{response['Datacenter']} (LAN)"
            errors.append(f"{pool} error: {response['Error']}")
            errors.extend(f"{k}: {v}" for k, v in (response.get("Messages") or {}).items())
    if errors:
        raise RPCError(_multierror(errors))


def _pools(api: Backend, local_only: bool) -> list[tuple[bool, str]]:
    """The pools an operation runs on, in Internal.KeyringOperation's order: the WAN pool
    first, then (through globalRPC) each datacenter's LAN pool; ``local-only`` asks only
    this agent's LAN pool."""
    lan = (False, api.node_name)
    return [lan] if local_only else [(True, f"{api.node_name}.{api.datacenter}"), lan]


async def _keyring(api: Backend, ctx: Context) -> Reply:
    """OperatorKeyringEndpoint: GET lists (keyring:read); POST installs, PUT uses, DELETE
    removes (keyring:write)."""
    method = ctx.request.method
    key = ""
    if method != "GET":
        try:
            body = decode_json_value(await ctx.request.read())
        except GoSyntaxError as exc:
            raise HTTPError(400, f"Request decode failed: {exc}") from None
        if isinstance(body, dict):
            named = {k.lower(): v for k, v in body.items()}
            raw = named.get("key")
            if raw is not None and not isinstance(raw, str):
                raise HTTPError(400, f"Request decode failed: json: cannot unmarshal "
                                     f"{json_kind(raw)} into Go struct field keyringArgs.Key "
                                     "of type string")
            key = raw or ""
        elif body is not None:
            raise HTTPError(400, f"Request decode failed: json: cannot unmarshal "
                                 f"{json_kind(body)} into Go value of type agent.keyringArgs")
    relay = ctx.query.get("relay-factor")
    if relay:
        try:
            n = int(relay, 10) if relay.isascii() and relay.lstrip("+-").isdigit() else None
        except ValueError:
            n = None
        if n is None:
            raise HTTPError(400, "Error parsing relay factor: strconv.Atoi: parsing "
                                 f"{strconv_quote(relay)}: invalid syntax")
        if not 0 <= n <= 5:
            raise HTTPError(400, "Invalid relay-factor: Relay factor must be in range: [0, 5]")
    local_only = False
    raw_local = ctx.query.get("local-only")
    if raw_local:
        parsed = parse_bool(raw_local)
        if parsed is None:
            raise HTTPError(400, "Error parsing local-only: strconv.ParseBool: parsing "
                                 f"{strconv_quote(raw_local)}: invalid syntax")
        local_only = parsed
        if local_only and method != "GET":
            raise HTTPError(400, "Invalid use of local-only: local-only can only be set for "
                                 "list requests")
    authz = authorize(api, ctx)
    authz.require(Permission.KEYRING_READ if method == "GET" else Permission.KEYRING_WRITE)
    responses: list[dict[str, Any]] = []
    if method == "GET":
        keys, primary, message = api.keyring.list()
        for wan, member in _pools(api, local_only):
            responses.append(pool_response(wan=wan, datacenter=api.datacenter, member=member,
                                           message=message, keys=keys, primary=primary))
        _keyring_errors(responses)
        return ctx.json(responses)
    operation = {"POST": "install", "PUT": "use"}.get(method, "remove")
    try:
        raw_key = decode_key(key)  # serf's handleKeyRequest decodes before any query
    except KeyringError as exc:
        responses = [pool_response(wan=wan, datacenter=api.datacenter, member=member,
                                   error=str(exc)) for wan, member in _pools(api, False)]
    else:
        message = api.keyring.apply(operation, raw_key)
        responses = [pool_response(wan=wan, datacenter=api.datacenter, member=member,
                                   message=message) for wan, member in _pools(api, False)]
    _keyring_errors(responses)
    return Reply()


ROUTES: Final[tuple[Route, ...]] = (
    Route.of("/v1/operator/raft/configuration", ("GET",), _raft_configuration),
    Route.of("/v1/operator/raft/transfer-leader", ("POST",), _raft_transfer_leader),
    Route.of("/v1/operator/raft/peer", ("DELETE",), _raft_peer),
    Route.of("/v1/operator/keyring", ("GET", "POST", "PUT", "DELETE"), _keyring),
    Route.of("/v1/operator/usage", ("GET",), _operator_usage),
    Route.of("/v1/operator/utilization", ("GET",), _operator_utilization,
             no_acl="OperatorUtilizationEndpoint answers CE's 404 before resolving a token"),
    Route.of("/v1/operator/autopilot/configuration", ("GET", "PUT"), _autopilot_configuration),
    Route.of("/v1/operator/autopilot/health", ("GET",), _autopilot_health),
    Route.of("/v1/operator/autopilot/state", ("GET",), _autopilot_state),
)
