"""HTTP endpoints of the agent group (``/v1/agent/...``).

Each handler follows ``agent/agent_endpoint.go`` (and the vetting helpers of ``agent/acl.go``,
which answer 404 for an unknown service or check ID even with ACLs disabled): parameter order,
status codes, plain-text error bodies, the ``CodeWithPayloadError`` replies of the local health
endpoints (status 200/429/503/404 with ``X-Consul-Reason``) and the hash-based blocking of
``/v1/agent/service/:id`` (``Agent.LocalBlockingQuery``).

Gossip does not exist in an embedded agent, so the membership endpoints describe a one-member
cluster: ``join`` is accepted and changes nothing (a real agent would dial the address);
``force-leave`` knows only this agent's own member (any other name is the server's
``agent: No node found with name`` error, HTTP 500); ``leave`` answers 200, marks the member
left and shuts the agent down, as ``AgentLeave`` (``Agent.Leave`` then ``ShutdownAgent``) does.

This module never keeps state (that is ``local/state.py``) and never parses a body itself
(``structs/bodies.py`` does). It never imports another endpoint module.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import platform
import random
import shutil
import socket
import time
from typing import Any, Final

from aiohttp import web

from ..acl import filter as aclfilter
from ..acl.authorizer import Enforcer, Permission
from ..backend import BUILD_DATE, CONSUL_VERSION, LOG_LEVELS, REVISION, Backend
from ..golang.bexpr import FieldSchema
from ..golang.stdlib import MINUTE, SECOND, format_duration, go_json_floats, strconv_quote
from ..http.acl import authorize, request_token
from ..http.query import (
    QueryOptions,
    build_filter,
    decode_body,
    ent_meta,
    parse_bool,
    parse_wait,
    partition_only,
    tail,
)
from ..http.reply import JSON, TEXT, Context, HTTPError, Reply, Route, json_floats
from ..local.state import LOCAL, SIDECAR_SUFFIX, check_kind, validate_check_type
from ..state.catalog import (
    check_head,
    multierror,
    proxy_api_json,
    validate_meta,
    validate_node_service,
)
from ..state.memdb import RPCError
from ..structs.acl import decode_agent_token
from ..structs.bodies import (
    check_definition,
    check_is_empty,
    check_update,
    node_service_from_definition,
    service_definition,
)
from ..structs.catalog import CHECK_SCHEMA, NODE_SERVICE_FIELDS, PROXY_FIELDS, check_out

__all__ = ["ROUTES", "agent_service_json"]

Record = dict[str, Any]

_STATUSES: Final = ("passing", "warning", "critical")
_TEXT_PLAIN: Final = "text/plain"
_JSON: Final = "application/json"
_DEFAULT_QUERY_TIME: Final = 5 * MINUTE
_MAX_QUERY_TIME: Final = 10 * MINUTE
_PROMETHEUS_DISABLED: Final = "Prometheus is not enabled since its retention time is not positive"

#: api.AgentService (CreateIndex, ModifyIndex, ContentHash, Datacenter... are bexpr:"-"): the
#: fields of structs.NodeService, with a proxy config that has no AccessLogs.
AGENT_SERVICE_SCHEMA: Final = FieldSchema(
    {
        **NODE_SERVICE_FIELDS,
        "Proxy": {k: v for k, v in PROXY_FIELDS.items() if k != "AccessLogs"},
    }
)
#: serf.Member (Addr is a net.IP; it is matched as the string encoding/json writes).
MEMBER_SCHEMA: Final = FieldSchema(
    {
        "Name": "string",
        "Addr": "string",
        "Port": "uint16",
        "Tags": {"*": "string"},
        "Status": "int",
        "ProtocolMin": "uint8",
        "ProtocolMax": "uint8",
        "ProtocolCur": "uint8",
        "DelegateMin": "uint8",
        "DelegateMax": "uint8",
        "DelegateCur": "uint8",
    }
)


def agent_service_json(svc: Record, datacenter: str, content_hash: str = "") -> Record:
    """buildAgentService: the api.AgentService the agent endpoints show."""
    out: Record = {}
    if svc["Kind"]:
        out["Kind"] = svc["Kind"]
    weights = svc["Weights"] or {}
    out.update(
        {
            "ID": svc["ID"],
            "Service": svc["Service"],
            "Tags": svc["Tags"] if svc["Tags"] is not None else [],
            "Meta": svc["Meta"] if svc["Meta"] is not None else {},
            "Port": svc["Port"],
            "Address": svc["Address"],
        }
    )
    if svc["SocketPath"]:
        out["SocketPath"] = svc["SocketPath"]
    if svc["TaggedAddresses"]:
        out["TaggedAddresses"] = svc["TaggedAddresses"]
    out["Weights"] = {
        "Passing": weights.get("Passing", 0) if weights.get("Passing", 0) > 0 else 1,
        "Warning": weights.get("Warning", 1) if weights else 1,
    }
    out["EnableTagOverride"] = svc["EnableTagOverride"]
    if content_hash:
        out["ContentHash"] = content_hash
    if svc["Kind"] in (
        "connect-proxy",
        "mesh-gateway",
        "terminating-gateway",
        "ingress-gateway",
        "api-gateway",
    ):
        out["Proxy"] = proxy_api_json(svc["Proxy"])
    if (svc["Connect"] or {}).get("Native"):
        out["Connect"] = {"Native": True}
    out["Datacenter"] = datacenter
    if svc["Locality"] is not None:
        out["Locality"] = svc["Locality"]
    return out


def _local_check_json(check: Record) -> Record:
    return check_out(dict(check, CreateIndex=0, ModifyIndex=0))


def _api_check_json(check: Record) -> Record:
    """The api.HealthCheck agentHealthService builds (Type and the definition left empty)."""
    return {
        **check_head(check),
        "Type": "",
        "ExposedPort": 0,
        "Definition": {
            "Interval": "0s",
            "Timeout": "0s",
            "DeregisterCriticalServiceAfter": "0s",
            "HTTP": "",
            "Header": None,
            "Method": "",
            "Body": "",
            "TLSServerName": "",
            "TLSSkipVerify": False,
            "TCP": "",
            "TCPUseTLS": False,
            "UDP": "",
            "GRPC": "",
            "OSService": "",
            "GRPCUseTLS": False,
        },
        "CreateIndex": 0,
        "ModifyIndex": 0,
    }


def aggregated_status(checks: list[Record]) -> str:
    """api.HealthChecks.AggregatedStatus: maintenance first, then the worst status."""
    warning = critical = maintenance = False
    for check in checks:
        check_id = check["CheckID"]
        if check_id == "_node_maintenance" or check_id.startswith("_service_maintenance:"):
            maintenance = True
            continue
        status = check["Status"]
        if status not in ("passing", "warning", "critical"):
            return ""
        warning = warning or status == "warning"
        critical = critical or status == "critical"
    if maintenance:
        return "maintenance"
    if critical:
        return "critical"
    if warning:
        return "warning"
    return "passing"  # also with no checks at all


def _status_code(status: str) -> int:
    return {"warning": 429, "passing": 200}.get(status, 503)


def _wants_text(ctx: Context) -> bool:
    """returnTextPlain."""
    if ctx.request.headers.get("Accept", "").startswith("text/plain"):
        return True
    if ctx.query.get("format"):
        return ctx.query.get("format") == "text"
    return False


def _payload(ctx: Context, status: int, reason: str, obj: Any, *, text: bool) -> Reply:
    """A CodeWithPayloadError reply: the status, X-Consul-Reason and the object."""
    headers = [("X-Consul-Reason", reason)]
    if text:
        return Reply(status, str(obj).encode(), _TEXT_PLAIN, headers)
    reply = ctx.json(obj, status)
    reply.headers.extend(headers)
    return reply


def _results_filtered(ctx: Context, token: str, hidden: bool) -> None:
    """setResultsFilteredByACLs, done by hand for agent-local listings and only when the
    request carried a token (its own or the agent's default): ``if token != ""``."""
    if aclfilter.mask(token, hidden):
        ctx.headers["X-Consul-Results-Filtered-By-ACLs"] = "true"


def _require_agent(api: Backend, ctx: Context, permission: Permission) -> None:
    """Resolve the request's token and require ``agent:read``/``agent:write`` on this agent's
    node name (the ``Agent*Allowed`` check of AgentSelf, AgentReload, AgentJoin...)."""
    authorize(api, ctx).require(permission, api.node_name)


async def agent_self(api: Backend, ctx: Context) -> Reply:
    """AgentSelf: agent:read on the agent's node name before anything else."""
    _require_agent(api, ctx, Permission.AGENT_READ)
    # go_json_floats: the coordinate's Height is written 0.00001, as encoding/json does.
    return Reply(200, go_json_floats(api.self_info(), pretty=ctx.pretty), JSON)



# -- membership and agent ----------------------------------------------------------------------


def _members(api: Backend, *, wan: bool) -> list[Record]:
    member = dict(api.self_info()["Member"])
    if wan:
        member.update(Name=f"{api.node_name}.{api.datacenter}", Port=8302)
    return [member]


async def agent_members(api: Backend, ctx: Context) -> Reply:
    """AgentMembers: this agent, from the LAN or the WAN pool, filtered by node:read."""
    wan = bool(ctx.query.get("wan"))
    segment = ctx.query.get("segment")
    if wan and segment not in ("", "_all"):
        raise HTTPError(400, "Cannot provide a segment with wan=true")
    partition_only(ctx)
    if not wan and segment not in ("", "_all"):
        raise RPCError("network segments are not supported in this version of Consul")
    # filterMembers resolves the token here, after the pool was read, and hides the members
    # whose name the token may not read (node:read) before ``?filter=`` is compiled and run.
    members, hidden = aclfilter.members(authorize(api, ctx), _members(api, wan=wan))
    _results_filtered(ctx, request_token(api, ctx), hidden)
    if ctx.query.get("filter"):
        bexpr = build_filter(ctx, MEMBER_SCHEMA)
        members = [m for m in members if bexpr.matches(m)]
    return ctx.json(members)


async def agent_join(api: Backend, ctx: Context) -> Reply:
    """AgentJoin: agent:write first, then the partition; accepted, as an embedded agent has no
    gossip pool to join."""
    _require_agent(api, ctx, Permission.AGENT_WRITE)
    partition_only(ctx)
    return Reply()


async def agent_leave(api: Backend, ctx: Context) -> Reply:
    """AgentLeave: Agent.Leave, then ShutdownAgent; the 200 is still written, then the agent
    stops (``consul agent`` sees ShutdownCh close and exits 0). Needs agent:write."""
    _require_agent(api, ctx, Permission.AGENT_WRITE)
    api.leave()
    return Reply()


async def agent_force_leave(api: Backend, ctx: Context) -> Reply:
    """AgentForceLeave -> Agent.ForceLeave -> Server.RemoveFailedNode / RemoveFailedNodeWAN.

    ``removeFailedNode`` (agent/consul/server_ce.go) looks the name up in the LAN pool and
    (as ``node.dc`` unless it already ends so) in the WAN pool; ``?wan`` looks in the WAN pool
    only and passes an empty LAN name. Found nowhere: the plain error ``agent: No node found
    with name '<node>'`` (HTTP 500; with ``?wan`` the quoted name is the empty LAN one).
    Removing this alive agent itself succeeds (serf only broadcasts a leave intent). The token
    needs operator:write, checked before the partition is parsed.
    """
    authorize(api, ctx).require(Permission.OPERATOR_WRITE)
    partition_only(ctx)
    node = tail(ctx, "/v1/agent/force-leave/")
    if "wan" in ctx.query:
        found, lan_name = api.is_member(node, wan=True), ""
    else:
        wan_node = node if node.endswith("." + api.datacenter) else f"{node}.{api.datacenter}"
        found = api.is_member(node, wan=False) or api.is_member(wan_node, wan=True)
        lan_name = node
    if not found:
        raise RPCError(f"agent: No node found with name '{lan_name}'")
    return Reply()


async def agent_reload(api: Backend, ctx: Context) -> Reply:
    """AgentReload: agent:write; a -dev agent reloads its (empty) configuration and loses API
    state."""
    _require_agent(api, ctx, Permission.AGENT_WRITE)
    api.local.reload()
    api.local.sync_changes()
    return Reply()


async def agent_node_maintenance(api: Backend, ctx: Context) -> Reply:
    """AgentNodeMaintenance: the ``_node_maintenance`` critical check; after the ``enable``
    400s, node:write on the agent's node name."""
    enable = _enable(ctx)
    authorize(api, ctx).require(Permission.NODE_WRITE, api.node_name)
    if enable:
        api.local.enable_node_maintenance(ctx.query.get("reason"))
    else:
        api.local.disable_node_maintenance()
    api.local.sync_changes()
    return Reply()


def _enable(ctx: Context) -> bool:
    """The required ``?enable=`` of the maintenance endpoints (strconv.ParseBool)."""
    if "enable" not in ctx.query:
        raise HTTPError(400, "Missing value for enable")
    raw = ctx.query.get("enable")
    enable = parse_bool(raw)
    if enable is None:
        raise HTTPError(400, f"Invalid value for enable: {strconv_quote(raw)}")
    return enable


def _wants_prometheus(ctx: Context) -> bool:
    """enablePrometheusOutput."""
    if ctx.query.get("format") == "prometheus":
        return True
    for item in ctx.request.headers.get("Accept", "").split(","):
        mime, *params = item.split(";")
        mime = mime.strip(" ").lower()
        if mime == "application/openmetrics-text":
            return True
        if mime == "text/plain" and params and params[0].strip(" ") == "version=0.4.0":
            return True
    return False


async def agent_metrics(api: Backend, ctx: Context) -> Reply:
    """AgentMetrics: the in-memory sink's summary of the current 10 s interval.

    Without ``prometheus_retention_time`` (as in ``-dev``) a Prometheus request gets Consul's
    CodeWithPayloadError{415} with no payload object: ``HTTPHandlers.wrap`` then returns before
    writing the status, so the reply is a bodiless 200 carrying ``X-Consul-Reason``. The
    agent:read check comes first.
    """
    _require_agent(api, ctx, Permission.AGENT_READ)
    if _wants_prometheus(ctx):
        return Reply(200, headers=[("X-Consul-Reason", _PROMETHEUS_DISABLED)])
    interval = api.metrics_interval
    return json_floats(ctx, _metrics_summary(api, time.time() // interval * interval))


def _metrics_summary(api: Backend, start: float) -> Record:
    """go-metrics' MetricsSummary of the in-memory sink's interval that began at ``start``
    (Unix seconds): its Timestamp is that start, rounded to the second, in Go's
    ``time.Time.String`` form."""
    stamp = time.strftime("%Y-%m-%d %H:%M:%S +0000 UTC", time.gmtime(round(start)))
    nodes = api.catalog.nodes()[1]
    services = api.catalog.services()[1]
    labels: Record = {}
    gauges = [
        {"Name": "consul.state.nodes", "Value": float(len(nodes)), "Labels": labels},
        {
            "Name": "consul.state.services",
            "Value": float(len({s["Service"] for s in services})),
            "Labels": labels,
        },
        {"Name": "consul.state.service_instances", "Value": float(len(services)), "Labels": labels},
        {
            "Name": "consul.raft.applied_index",
            "Value": float(api.store.raft_index),
            "Labels": labels,
        },
    ]
    return {"Timestamp": stamp, "Gauges": gauges, "Points": [], "Counters": [], "Samples": []}


#: A channel no write touches: the metrics stream parks on it between two intervals, so that
#: the agent's shutdown (``Watch.close``) ends the stream at once.
_METRICS_STREAM: Final = ("agent", "metrics/stream")


async def agent_metrics_stream(api: Backend, ctx: Context) -> Reply:
    """AgentMetricsStream: agent:read (on the agent's own node), then the in-memory sink's
    ``Stream``: each time an interval ends, the summary of that interval, written with
    ``json.Encoder`` and four-space indentation (a document of several lines and a newline)
    and flushed; then the interval current at that moment is the next one waited for. The
    stream ends when the client hangs up or the agent shuts down. Like the monitor, it is
    answered 200 with no Content-Type of its own (Go sniffs the empty first write:
    ``text/plain``).
    """
    _require_agent(api, ctx, Permission.AGENT_READ)
    request = ctx.request

    async def stream(response: web.StreamResponse) -> None:
        try:
            await response.prepare(request)
            interval = api.metrics_interval
            start = time.time() // interval * interval
            while True:
                end = start + interval
                while (now := time.time()) < end:
                    await api.watch.wait((_METRICS_STREAM,), end - now)
                    if api.watch.closed:
                        return
                await response.write(go_json_floats(_metrics_summary(api, start), pretty=True))
                start = time.time() // interval * interval
        except ConnectionError:
            pass  # the client went away

    api.streams[id(request)] = stream
    return Reply(200, content_type=TEXT)


def _read_proc(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError:
        return ""


def host_info() -> Record:
    """debug.CollectHostInfo: gopsutil's memory, CPU, host and disk figures."""
    meminfo: dict[str, int] = {}
    for line in _read_proc("/proc/meminfo").splitlines():
        key, _, rest = line.partition(":")
        fields = rest.split()
        if fields and fields[0].isdigit():
            meminfo[key] = int(fields[0]) * (1024 if fields[1:] == ["kB"] else 1)
    total = meminfo.get("MemTotal", 0)
    available = meminfo.get("MemAvailable", 0)
    free = meminfo.get("MemFree", 0)
    used = total - free - meminfo.get("Buffers", 0) - meminfo.get("Cached", 0)
    memory = {
        "total": total,
        "available": available,
        "used": max(used, 0),
        "usedPercent": (100.0 * (total - available) / total) if total else 0.0,
        "free": free,
        "buffers": meminfo.get("Buffers", 0),
        "cached": meminfo.get("Cached", 0),
        "swapTotal": meminfo.get("SwapTotal", 0),
        "swapFree": meminfo.get("SwapFree", 0),
    }
    cpus = []
    for i in range(os.cpu_count() or 1):
        cpus.append(
            {
                "cpu": i,
                "vendorId": "",
                "family": "",
                "model": "",
                "stepping": 0,
                "physicalId": "",
                "coreId": "",
                "cores": 1,
                "modelName": platform.processor(),
                "mhz": 0,
                "cacheSize": 0,
                "flags": [],
                "microcode": "",
            }
        )
    uname = platform.uname()
    boot = 0
    for line in _read_proc("/proc/stat").splitlines():
        if line.startswith("btime "):
            boot = int(line.split()[1])
    disk = shutil.disk_usage("/")
    return {
        "Memory": memory,
        "CPU": cpus,
        "Host": {
            "hostname": socket.gethostname(),
            "uptime": max(int(time.time()) - boot, 0) if boot else 0,
            "bootTime": boot,
            "procs": len([d for d in os.listdir("/proc") if d.isdigit()])
            if os.path.isdir("/proc")
            else 0,
            "os": uname.system.lower(),
            "platform": "",
            "platformFamily": "",
            "platformVersion": "",
            "kernelVersion": uname.release,
            "kernelArch": uname.machine,
            "virtualizationSystem": "",
            "virtualizationRole": "",
            "hostId": "",
        },
        "Disk": {
            "path": "/",
            "fstype": "",
            "total": disk.total,
            "free": disk.free,
            "used": disk.used,
            "usedPercent": 100.0 * disk.used / disk.total if disk.total else 0.0,
            "inodesTotal": 0,
            "inodesUsed": 0,
            "inodesFree": 0,
            "inodesUsedPercent": 0.0,
        },
        "CollectionTime": time.time_ns(),
        "Errors": None,
    }


async def agent_host(api: Backend, ctx: Context) -> Reply:
    """AgentHost: operator:read."""
    authorize(api, ctx).require(Permission.OPERATOR_READ)
    return json_floats(ctx, host_info())


async def agent_version(api: Backend, ctx: Context) -> Reply:
    """AgentVersion: version.GetBuildInfo()."""
    return ctx.json(
        {"SHA": REVISION, "BuildDate": BUILD_DATE, "HumanVersion": CONSUL_VERSION, "FIPS": ""}
    )


async def agent_token(api: Backend, ctx: Context) -> Reply:
    """AgentToken: set one of the agent's own tokens, 200 with no body.

    With ACLs disabled nothing else is looked at (401). The token is resolved and checked
    (``AgentWriteAllowed`` on this agent's node name, as ``agent/agent_endpoint.go`` does since
    the ACL system's agent rules; not ``acl:write``) before the body is decoded and before the
    kind is looked at, so an unknown kind is 404 ``Token "<kind>" is unknown`` only for a token
    with ``agent:write``. The legacy kind
    names Consul still accepts (``acl_token``, ``acl_agent_token``, ``acl_agent_master_token``,
    ``agent_master``, ``acl_replication_token``, ``dns_token``) set the same tokens.
    """
    if not api.acl.enabled:
        raise HTTPError(401, "ACL support disabled")
    authorize(api, ctx).require(Permission.AGENT_WRITE, api.node_name)
    body = await decode_body(ctx, lambda data: {"Token": decode_agent_token(data)})
    secret = str(body["Token"])
    kind = tail(ctx, "/v1/agent/token/")
    tokens = api.tokens
    if kind in ("acl_token", "default"):
        tokens.default = secret
    elif kind in ("acl_agent_token", "agent"):
        tokens.agent = secret
    elif kind in ("acl_agent_master_token", "agent_master", "agent_recovery"):
        tokens.agent_recovery = secret
    elif kind in ("acl_replication_token", "replication"):
        tokens.replication = secret
    elif kind == "config_file_service_registration":
        tokens.config_file_service_registration = secret
    elif kind in ("dns_token", "dns"):
        tokens.dns = secret
    else:
        raise HTTPError(404, f"Token {strconv_quote(kind)} is unknown")
    api.log.log(3, "agent", "Updated agent's ACL token", ("token", kind))
    return Reply()


# -- services ------------------------------------------------------------------------------


async def agent_monitor(api: Backend, ctx: Context) -> Reply:
    """AgentMonitor: stream the agent's log at ``loglevel`` (INFO), hclog text or ``logjson``.

    The level is checked (``logging.ValidateLogLevel``, any case) before a byte is sent; the
    sink is attached before the header goes out, so what the agent logs from then on is in
    the stream. Each line is written (flushed) as it comes. The stream ends when the client
    hangs up (the handler is cancelled) or the agent shuts down. agent:read is checked before
    the log level.
    """
    _require_agent(api, ctx, Permission.AGENT_READ)
    level = ctx.query.get("loglevel") or "INFO"
    json_format = "logjson" in ctx.query
    if level.upper() not in LOG_LEVELS:
        raise HTTPError(400, f"Unknown log level: {level}")
    request = ctx.request

    async def stream(response: web.StreamResponse) -> None:
        sink = api.log.attach(LOG_LEVELS[level.upper()], json_format)
        try:
            await response.prepare(request)
            while (line := await sink.get()) is not None:
                await response.write(line)
        except ConnectionError:
            pass  # the client went away between two lines
        finally:
            api.log.detach(sink)

    api.streams[id(request)] = stream
    return Reply(200, content_type=TEXT)


async def agent_services(api: Backend, ctx: Context) -> Reply:
    """AgentServices: service ID -> api.AgentService; ``filter`` applies to the values.

    The token is resolved before the filter is compiled; filterServicesWithAuthorizer hides
    the services it may not read (service:read) *before* the filter runs.
    """
    ent_meta(ctx)
    authz = authorize(api, ctx)
    services = {
        svc["ID"]: agent_service_json(svc, api.datacenter) for svc in api.local.live_services()
    }
    bexpr = build_filter(ctx, AGENT_SERVICE_SCHEMA)
    services, hidden = aclfilter.agent_services(authz, services)
    _results_filtered(ctx, request_token(api, ctx), hidden)
    return ctx.json({k: v for k, v in sorted(services.items()) if bexpr.matches(v)})


def _content_hash(reply: Record) -> str:
    """Stands in for hashstructure.Hash: an opaque 64-bit hash of the reply, in hex."""
    from ..golang.stdlib import go_json

    digest = hashlib.blake2b(go_json(reply), digest_size=8).digest()
    return format(int.from_bytes(digest, "big"), "x")


async def agent_service(api: Backend, ctx: Context) -> Reply:
    """AgentService: one service, hash-blocking on ``?hash`` (LocalBlockingQuery).

    The token is resolved once up front ("ACL not found" before anything else) and again on
    every run, after the 404 for an unknown ID: service:read on the service's name.
    """
    service_id = tail(ctx, "/v1/agent/service/")
    opts = QueryOptions(api.datacenter)
    parse_wait(ctx, opts)
    ent_meta(ctx)
    authorize(api, ctx)
    wanted = ctx.query.get("hash")

    def current() -> tuple[str, Record]:
        svc = api.local.service(service_id)
        if svc is None:
            raise HTTPError(404, f"unknown service ID: {service_id}")
        authorize(api, ctx).require(Permission.SERVICE_READ, svc["Service"])
        reply = agent_service_json(svc, api.datacenter)
        content_hash = _content_hash(reply)
        return content_hash, agent_service_json(svc, api.datacenter, content_hash)

    content_hash, reply = current()
    if wanted:
        wait = opts.max_query_time or _DEFAULT_QUERY_TIME
        if wait > _MAX_QUERY_TIME:
            wait = _MAX_QUERY_TIME
        if wait // 16:
            wait += random.randrange(wait // 16)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait / SECOND
        while content_hash == wanted and not api.watch.closed:
            remaining = deadline - loop.time()
            if remaining <= 0 or not await api.watch.wait((LOCAL,), remaining):
                break
            content_hash, reply = current()
    ctx.headers["X-Consul-ContentHash"] = content_hash
    return ctx.json(reply)


def _service_health(api: Backend, service_id: str) -> tuple[int, str, list[Record]]:
    """agentHealthService: the service's checks and the node's checks of this agent."""
    checks = [
        _api_check_json(c) for c in api.local.checks_for_service(service_id, include_node=True)
    ]
    status = aggregated_status(checks)
    return _status_code(status), status, checks


async def agent_health_by_id(api: Backend, ctx: Context) -> Reply:
    """AgentHealthServiceByID: service:read on the service, once it is known to exist (an
    unknown ID is the 404 payload whatever the token)."""
    service_id = tail(ctx, "/v1/agent/health/service/id/")
    if not service_id:
        raise HTTPError(400, "Missing serviceID")
    ent_meta(ctx)
    authz = authorize(api, ctx)
    text = _wants_text(ctx)
    svc = api.local.service(service_id)
    if svc is not None:
        authz.require(Permission.SERVICE_READ, svc["Service"])
        code, status, checks = _service_health(api, service_id)
        if text:
            return _payload(ctx, code, status, status, text=True)
        info = {
            "AggregatedStatus": status,
            "Service": agent_service_json(svc, api.datacenter),
            "Checks": checks,
        }
        return _payload(ctx, code, status, info, text=False)
    reason = f"ServiceId {service_id} not found"
    if text:
        return _payload(ctx, 404, reason, reason, text=True)
    missing: Record = {"AggregatedStatus": "critical", "Service": None, "Checks": None}
    return _payload(ctx, 404, reason, missing, text=False)


async def agent_health_by_name(api: Backend, ctx: Context) -> Reply:
    """AgentHealthServiceByName: the worst status of the instances with that name; service:read
    on the name is required whether or not any instance exists."""
    name = tail(ctx, "/v1/agent/health/service/name/")
    if not name:
        raise HTTPError(400, "Missing service Name")
    ent_meta(ctx)
    authorize(api, ctx).require(Permission.SERVICE_READ, name)
    code, status = 404, f"ServiceName {name} Not Found"
    result = []
    for svc in api.local.live_services():
        if svc["Service"] != name:
            continue
        scode, sstatus, checks = _service_health(api, svc["ID"])
        result.append(
            {
                "AggregatedStatus": sstatus,
                "Service": agent_service_json(svc, api.datacenter),
                "Checks": checks,
            }
        )
        if code == 404 or code < scode:
            code, status = scode, sstatus
    if _wants_text(ctx):
        return _payload(ctx, code, status, status, text=True)
    return _payload(ctx, code, status, result, text=False)


def _check_types(definition: Record) -> list[Record]:
    """ServiceDefinition.CheckTypes, with the endpoint's error texts (HTTP 400)."""
    checks = [definition["Check"]] if definition["Check"] is not None else []
    checks += [c for c in definition["Checks"] if not check_is_empty(c)]
    return checks


def _validate_checks(checks: list[Record], label: str) -> None:
    for chk in checks:
        problem = validate_check_type(chk)
        if problem:
            raise HTTPError(400, f"{label}: {problem}")
    for chk in checks:
        if chk["Status"] and chk["Status"] not in _STATUSES:
            raise HTTPError(400, "Status for checks must 'passing', 'warning', 'critical'")


def _validate_weights(weights: Record) -> str | None:
    """structs.ValidateWeights."""
    passing, warning = weights.get("Passing", 0), weights.get("Warning", 0)
    if passing < 1:
        return "Passing must be greater than 0"
    if warning < 0:
        return "Warning must be greater or equal than 0"
    if passing > 65535 or warning > 65535:
        return "DNS Weight must be between 0 and 65535"
    return None


def _sidecar(ns: Record) -> tuple[Record, list[Record]] | None:
    """sidecarServiceFromNodeService: the sidecar's NodeService and its checks."""
    definition = (ns["Connect"] or {}).get("SidecarService")
    if definition is None:
        return None
    sidecar = node_service_from_definition(definition)
    sidecar["ID"] = ns["ID"] + SIDECAR_SUFFIX
    if sidecar["Meta"] is not None:
        problem = validate_meta(sidecar["Meta"], sidecar["Kind"])
        if problem:
            raise HTTPError(400, f"Invalid SidecarService: {problem}")
    if not sidecar["Meta"] and ns["Meta"]:
        sidecar["Meta"] = dict(ns["Meta"])
    if not sidecar["Tags"] and ns["Tags"]:
        sidecar["Tags"] = list(ns["Tags"])
    if sidecar["Locality"] is None and ns["Locality"] is not None:
        sidecar["Locality"] = dict(ns["Locality"])
    sidecar["Kind"] = sidecar["Kind"] or "connect-proxy"
    sidecar["Service"] = sidecar["Service"] or ns["Service"] + SIDECAR_SUFFIX
    sidecar["Address"] = sidecar["Address"] or ns["Address"]
    proxy = dict(sidecar["Proxy"])
    proxy["DestinationServiceName"] = proxy.get("DestinationServiceName") or ns["Service"]
    proxy["DestinationServiceID"] = proxy.get("DestinationServiceID") or ns["ID"]
    if not proxy.get("LocalServiceSocketPath") and (
        not proxy.get("LocalServiceAddress") or proxy.get("LocalServicePort", 0) < 1
    ):
        if ns["SocketPath"]:
            proxy["LocalServiceSocketPath"] = ns["SocketPath"]
        else:
            proxy["LocalServiceAddress"] = proxy.get("LocalServiceAddress") or "127.0.0.1"
            if proxy.get("LocalServicePort", 0) < 1:
                proxy["LocalServicePort"] = ns["Port"]
    sidecar["Proxy"] = proxy
    return sidecar, _check_types(definition)


async def agent_service_register(api: Backend, ctx: Context) -> Reply:
    """AgentRegisterService: validation in Consul's order, then the service and its sidecar.

    The token is resolved after the name and address checks; vetServiceRegisterWithAuthorizer
    runs once the service and its checks are valid, and the sidecar (with its own ``Token``
    when the definition has one) is vetted after it is built.
    """
    ent_meta(ctx)
    definition = await decode_body(ctx, service_definition)
    if not definition["Name"]:
        raise HTTPError(400, "Missing service name")
    if definition["Address"] in ("0.0.0.0", "::", "[::]"):  # ipaddr.IsAny
        raise HTTPError(400, "Invalid service address")
    token = request_token(api, ctx)
    authz = api.acl.resolve(token)
    ns = node_service_from_definition(definition)
    if ns["Weights"] is not None:
        problem = _validate_weights(ns["Weights"])
        if problem:
            raise HTTPError(400, f"Invalid Weights: {problem}")
    problem = validate_meta(ns["Meta"], ns["Kind"])
    if problem:
        raise HTTPError(400, f"Invalid Service Meta: {problem}")
    problems = validate_node_service(ns)
    if problems:
        raise HTTPError(400, f"Validation failed: {multierror(problems)}")
    checks = _check_types(definition)
    _validate_checks(checks, "Invalid check")
    sidecar_definition = (ns["Connect"] or {}).get("SidecarService")
    if sidecar_definition is not None:
        _validate_checks(_check_types(sidecar_definition), "Invalid check in sidecar_service")
    _vet_service_register(api, authz, ns)
    sidecar = _sidecar(ns)
    if sidecar is not None:
        problems = validate_node_service(sidecar[0], for_agent=True)
        if problems:
            raise HTTPError(400, f"Failed Validation: {multierror(problems)}")
        # vetServiceRegister: the sidecar's own token, if it names one, is resolved afresh.
        sidecar_token = (sidecar_definition or {}).get("Token") or token
        _vet_service_register(api, api.acl.resolve(sidecar_token), sidecar[0])
        ns["Connect"] = {k: v for k, v in ns["Connect"].items() if k != "SidecarService"}
    values = [v for k, v in ctx.query.pairs if k == "replace-existing-checks"]
    replace = bool(values) and values[0] in ("", "true")
    api.local.add_service(ns, checks, replace_existing_checks=replace)
    if sidecar is not None:
        api.local.add_service(sidecar[0], sidecar[1], sidecar=True, replace_existing_checks=replace)
    api.local.sync_changes()
    return Reply()


def _vet_service_register(api: Backend, authz: Enforcer, ns: Record) -> None:
    """vetServiceRegisterWithAuthorizer (``agent/acl.go``): service:write on the service, on
    any local service it overwrites, and for a connect proxy on its destination."""
    authz.require(Permission.SERVICE_WRITE, ns["Service"])
    existing = api.local.service(ns["ID"])
    if existing is not None:
        authz.require(Permission.SERVICE_WRITE, existing["Service"])
    if ns["Kind"] == "connect-proxy":
        destination = (ns["Proxy"] or {}).get("DestinationServiceName", "")
        authz.require(Permission.SERVICE_WRITE, destination)


def _vet_service(api: Backend, authz: Enforcer, service_id: str) -> None:
    """vetServiceUpdateWithAuthorizer: service:write on the existing service; an unknown
    service is 404, with ACLs or without."""
    existing = api.local.service(service_id)
    if existing is None:
        raise HTTPError(
            404,
            f"Unknown service ID {strconv_quote(service_id)}. "
            "Ensure that the service ID is passed, not the service name.",
        )
    authz.require(Permission.SERVICE_WRITE, existing["Service"])


def _require_check_write(api: Backend, authz: Enforcer, service_name: str) -> None:
    """A service check needs service:write on its service, a node check node:write on the
    agent's node name (``agent/acl.go``)."""
    if service_name:
        authz.require(Permission.SERVICE_WRITE, service_name)
    else:
        authz.require(Permission.NODE_WRITE, api.node_name)


def _vet_check(api: Backend, authz: Enforcer, check_id: str) -> None:
    """vetCheckUpdateWithAuthorizer: write on the existing check; an unknown one is 404."""
    existing = api.local.check(check_id)
    if existing is None:
        raise HTTPError(
            404,
            f"Unknown check ID {strconv_quote(check_id)}. "
            "Ensure that the check ID is passed, not the check name.",
        )
    _require_check_write(api, authz, existing["ServiceName"])


async def agent_service_deregister(api: Backend, ctx: Context) -> Reply:
    """AgentDeregisterService: the token, then vetServiceUpdateWithAuthorizer."""
    service_id = tail(ctx, "/v1/agent/service/deregister/")
    ent_meta(ctx)
    _vet_service(api, authorize(api, ctx), service_id)
    api.local.remove_service(service_id)
    api.local.sync_changes()
    return Reply()


async def agent_service_maintenance(api: Backend, ctx: Context) -> Reply:
    """AgentServiceMaintenance: the ``_service_maintenance:<id>`` critical check."""
    service_id = tail(ctx, "/v1/agent/service/maintenance/")
    if not service_id:
        raise HTTPError(400, "Missing service ID")
    enable = _enable(ctx)
    ent_meta(ctx)
    _vet_service(api, authorize(api, ctx), service_id)
    if enable:
        api.local.enable_service_maintenance(service_id, ctx.query.get("reason"))
    else:
        api.local.disable_service_maintenance(service_id)
    api.local.sync_changes()
    return Reply()


# -- checks --------------------------------------------------------------------------------


async def agent_checks(api: Backend, ctx: Context) -> Reply:
    """AgentChecks: check ID -> structs.HealthCheck; ``filter`` applies to the values.

    The token is resolved, the filter compiled, then filterChecksWithAuthorizer hides the
    checks the token may not read *before* the filter runs.
    """
    ent_meta(ctx)
    authz = authorize(api, ctx)
    bexpr = build_filter(ctx, CHECK_SCHEMA)
    checks = {c["CheckID"]: _local_check_json(c) for c in api.local.live_checks()}
    checks, hidden = aclfilter.agent_checks(authz, checks, api.node_name)
    _results_filtered(ctx, request_token(api, ctx), hidden)
    return ctx.json({k: v for k, v in sorted(checks.items()) if bexpr.matches(v)})


async def agent_check_register(api: Backend, ctx: Context) -> Reply:
    """AgentRegisterCheck: the token is resolved after the name and status checks;
    vetCheckRegisterWithAuthorizer runs once the check and its service are known."""
    ent_meta(ctx)
    definition = await decode_body(ctx, check_definition)
    if not definition["Name"]:
        raise HTTPError(400, "Missing check name")
    if definition["Status"] and definition["Status"] not in _STATUSES:
        raise HTTPError(400, "Bad check status")
    authz = authorize(api, ctx)
    # CheckDefinition.HealthCheck: Interval and Timeout as Duration.String(), "0s" included.
    health: Record = {
        "Node": api.node_name,
        "CheckID": definition["ID"] or definition["Name"],
        "Name": definition["Name"],
        "Status": definition["Status"] or "critical",
        "Notes": definition["Notes"],
        "Output": "",
        "ServiceID": definition["ServiceID"],
        "ServiceName": "",
        "ServiceTags": None,
        "Type": "",
        "Interval": format_duration(definition["Interval"]),
        "Timeout": format_duration(definition["Timeout"]),
        "ExposedPort": 0,
        "Definition": {},
    }
    chk = dict(definition)
    chk["CheckID"] = chk.pop("ID")
    problem = validate_check_type(chk)
    if problem:
        raise HTTPError(400, f"Invalid check: {problem}")
    health["Type"] = check_kind(chk)
    if health["ServiceID"]:
        svc = api.local.service(health["ServiceID"])
        if svc is None:
            raise HTTPError(404, f"ServiceID {strconv_quote(health['ServiceID'])} does not exist")
        health["ServiceName"] = svc["Service"]
    # vetCheckRegisterWithAuthorizer: the check itself, then any check it overwrites.
    _require_check_write(api, authz, health["ServiceName"])
    existing = api.local.check(health["CheckID"])
    if existing is not None:
        _require_check_write(api, authz, existing["ServiceName"])
    api.local.add_check(health, chk)
    api.local.sync_changes()
    return Reply()


async def agent_check_deregister(api: Backend, ctx: Context) -> Reply:
    """AgentDeregisterCheck: the token, then vetCheckUpdateWithAuthorizer."""
    check_id = tail(ctx, "/v1/agent/check/deregister/")
    ent_meta(ctx)
    _vet_check(api, authorize(api, ctx), check_id)
    api.local.remove_check(check_id)
    api.local.sync_changes()
    return Reply()


async def _check_update(
    api: Backend, ctx: Context, check_id: str, status: str, output: str
) -> Reply:
    """agentCheckUpdate: the token, vetCheckUpdateWithAuthorizer, then the TTL check update."""
    ent_meta(ctx)
    _vet_check(api, authorize(api, ctx), check_id)
    api.local.update_ttl_check(check_id, status, output)
    api.local.sync_changes()
    return Reply()


async def agent_check_pass(api: Backend, ctx: Context) -> Reply:
    """AgentCheckPass: ``note`` becomes the output."""
    check_id = tail(ctx, "/v1/agent/check/pass/")
    return await _check_update(api, ctx, check_id, "passing", ctx.query.get("note"))


async def agent_check_warn(api: Backend, ctx: Context) -> Reply:
    """AgentCheckWarn."""
    check_id = tail(ctx, "/v1/agent/check/warn/")
    return await _check_update(api, ctx, check_id, "warning", ctx.query.get("note"))


async def agent_check_fail(api: Backend, ctx: Context) -> Reply:
    """AgentCheckFail."""
    check_id = tail(ctx, "/v1/agent/check/fail/")
    return await _check_update(api, ctx, check_id, "critical", ctx.query.get("note"))


async def agent_check_update(api: Backend, ctx: Context) -> Reply:
    """AgentCheckUpdate: PUT {Status, Output}."""
    update = await decode_body(ctx, check_update)
    status = update.get("Status", "")
    if status not in _STATUSES:
        raise HTTPError(400, f"Invalid check status: '{status}'")
    check_id = tail(ctx, "/v1/agent/check/update/")
    return await _check_update(api, ctx, check_id, status, update.get("Output", ""))


ROUTES: Final[tuple[Route, ...]] = (
    Route.of("/v1/agent/self", ("GET",), agent_self),
    Route.of("/v1/agent/token/", ("PUT",), agent_token),
    Route.of("/v1/agent/host", ("GET",), agent_host),
    Route.of(
        "/v1/agent/version",
        ("GET",),
        agent_version,
        no_acl="AgentVersion resolves no token (agent/agent_endpoint.go)",
    ),
    Route.of("/v1/agent/maintenance", ("PUT",), agent_node_maintenance),
    Route.of("/v1/agent/reload", ("PUT",), agent_reload),
    Route.of("/v1/agent/metrics", ("GET",), agent_metrics),
    Route.of("/v1/agent/metrics/stream", ("GET",), agent_metrics_stream),
    Route.of("/v1/agent/monitor", ("GET",), agent_monitor),
    Route.of("/v1/agent/services", ("GET",), agent_services),
    Route.of("/v1/agent/service/register", ("PUT",), agent_service_register),
    Route.of("/v1/agent/service/deregister/", ("PUT",), agent_service_deregister),
    Route.of("/v1/agent/service/maintenance/", ("PUT",), agent_service_maintenance),
    Route.of("/v1/agent/service/", ("GET",), agent_service),
    Route.of("/v1/agent/checks", ("GET",), agent_checks),
    Route.of("/v1/agent/members", ("GET",), agent_members),
    Route.of("/v1/agent/join/", ("PUT",), agent_join),
    Route.of("/v1/agent/leave", ("PUT",), agent_leave),
    Route.of("/v1/agent/force-leave/", ("PUT",), agent_force_leave),
    Route.of("/v1/agent/health/service/id/", ("GET",), agent_health_by_id),
    Route.of("/v1/agent/health/service/name/", ("GET",), agent_health_by_name),
    Route.of("/v1/agent/check/register", ("PUT",), agent_check_register),
    Route.of("/v1/agent/check/deregister/", ("PUT",), agent_check_deregister),
    Route.of("/v1/agent/check/pass/", ("PUT",), agent_check_pass),
    Route.of("/v1/agent/check/warn/", ("PUT",), agent_check_warn),
    Route.of("/v1/agent/check/fail/", ("PUT",), agent_check_fail),
    Route.of("/v1/agent/check/update/", ("PUT",), agent_check_update),
)
