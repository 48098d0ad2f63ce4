"""The agent half of the dev agent: its local services and checks, kept in sync with the catalog.

What ``agent/agent.go`` and ``agent/local/state.go`` do for services and checks registered
through ``/v1/agent``:

* the local state holds each service and check with an *in sync* flag; every change calls
  :meth:`LocalAgent.sync_changes` (``State.SyncChanges``) at once, which pushes exactly the
  registrations and deregistrations Consul's anti-entropy would send, one Raft entry each
  (a service travels with its out-of-sync checks, a check with its service);
* a check whose *output* changes but whose status does not is synced only after
  ``check_update_interval`` (``State.UpdateCheck``'s deferral: half the interval plus a random
  stagger of up to the whole interval);
* check runners (:mod:`~aioconsul.testing.local.checks`): TTL timers, HTTP and TCP probes at their
  interval (never below ``check_interval_min``), thresholds; script checks run as
  ``CheckMonitor`` does when the agent allows them (``enable_script_checks`` for checks
  registered over HTTP, see :func:`script_refusal`) and are refused otherwise, Docker checks
  likewise (but never run); gRPC, H2PING, UDP, OS-service and alias
  checks are registered with Consul's initial status and never run (their output says so);
* ``DeregisterCriticalServiceAfter``: the reaper runs every ``check_reap_interval`` and
  deregisters a service whose check has been critical for longer than its timeout (raised to
  ``check_deregister_interval_min``);
* sidecar services (``Connect.SidecarService``), maintenance checks, ``reload``;
* the agent's own network coordinate, sent first after ``coordinate_sync_interval`` plus a
  random stagger (``Agent.sendCoordinate``), and the server's coordinate batcher that applies
  ``/v1/coordinate/update`` requests every ``coordinate_update_period`` (100 ms in ``-dev``).

Errors are :class:`~aioconsul.testing.state.memdb.RPCError` with Consul's texts (the HTTP layer
answers 500). This module never parses HTTP requests and never binds a socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import random
from dataclasses import dataclass, field
from typing import Any, Final

import aiohttp

from ..golang.stdlib import SECOND, format_duration
from ..state.catalog import CRITICAL, SERF_CHECK_ID, Catalog
from ..state.memdb import RPCError
from ..state.watch import Watch
from .checks import (
    DEFAULT_BUF_SIZE,
    DEFAULT_TIMEOUT,
    SCRIPT_TIMEOUT,
    IntervalCheck,
    MonitorCheck,
    StatusHandler,
    TTLCheck,
    http_probe,
    tcp_probe,
)

__all__ = ["LOCAL", "LocalAgent", "ORIGIN", "check_kind", "script_refusal", "validate_check_type"]

#: The channel woken by every change of the agent's local state (hash-based blocking).
LOCAL: Final = "agent:local"
#: A serf coordinate no probe has moved yet: what a single-node agent reports.
ORIGIN: Final = {"Vec": [0.0] * 8, "Error": 1.5, "Adjustment": 0.0, "Height": 1e-05}
SIDECAR_SUFFIX: Final = "-sidecar-proxy"
SIDECAR_MIN_PORT: Final = 21000
SIDECAR_MAX_PORT: Final = 21255
NODE_MAINT: Final = "_node_maintenance"
SERVICE_MAINT_PREFIX: Final = "_service_maintenance:"
DEFAULT_NODE_MAINT_REASON: Final = (
    "Maintenance mode is enabled for this node, but no reason was provided. "
    "This is a default message."
)
DEFAULT_SERVICE_MAINT_REASON: Final = (
    "Maintenance mode is enabled for this service, but no reason was provided. "
    "This is a default message."
)
_NOT_RUN: Final = "{} checks are not run by the aioconsul dev agent"
#: structs.ConsulServiceID: the servers' own service, which the leader registers.
CONSUL_SERVICE_ID: Final = "consul"
#: The agent's advertise address.
_ADDRESS: Final = "127.0.0.1"

Record = dict[str, Any]


def check_kind(chk: Record) -> str:
    """CheckType.Type()."""
    interval = chk.get("Interval", 0) > 0
    script = bool(chk.get("ScriptArgs"))
    for kind, present in (
        ("grpc", chk.get("GRPC") and interval),
        ("http", chk.get("HTTP") and interval),
        ("ttl", chk.get("TTL", 0) > 0),
        ("tcp", chk.get("TCP") and interval),
        ("udp", chk.get("UDP") and interval),
        ("alias", chk.get("AliasNode") or chk.get("AliasService")),
        ("docker", script and chk.get("DockerContainerID") and interval),
        ("script", script),
        ("h2ping", chk.get("H2PING") and interval),
        ("os_service", chk.get("OSService") and interval),
    ):
        if present:
            return kind
    return ""


def script_refusal(
    chk: Record, source: str, *, enable_local: bool, enable_remote: bool
) -> str | None:
    """Agent.addCheck's gate on script checks (``CheckType.IsScript``: any ``ScriptArgs``).

    ``source`` is Consul's configSource: ``"local"`` for checks from the agent's own config
    files, ``"remote"`` for everything registered through the HTTP API (AgentRegisterCheck and
    AgentRegisterService pass ConfigSourceRemote). ``enable_script_checks`` turns both on,
    ``enable_local_script_checks`` only the local one (config/builder.go). Returns the error
    text, or None when the check may be added.
    """
    if not chk.get("ScriptArgs"):
        return None
    if source == "local" and not enable_local:
        return (
            "Scripts are disabled on this agent; to enable, configure 'enable_script_checks' "
            "or 'enable_local_script_checks' to true"
        )
    if source == "remote" and not enable_remote:
        return (
            "Scripts are disabled on this agent from remote calls; to enable, configure "
            "'enable_script_checks' to true"
        )
    return None


def validate_check_type(chk: Record) -> str | None:
    """CheckType.Validate: the error text, or None."""
    interval_check = any(
        chk.get(k) for k in ("ScriptArgs", "HTTP", "TCP", "UDP", "GRPC", "H2PING", "OSService")
    )
    alias = bool(chk.get("AliasNode") or chk.get("AliasService"))
    interval, ttl = chk.get("Interval", 0), chk.get("TTL", 0)
    if interval > 0 and ttl > 0:
        return "Interval and TTL cannot both be specified"
    if interval_check and interval <= 0:
        return "Interval must be > 0 for Script, HTTP, H2PING, TCP, UDP or OSService checks"
    if interval_check and alias:
        return "Interval cannot be set for Alias checks"
    if alias and ttl > 0:
        return "TTL must be not be set for Alias checks"
    if not interval_check and not alias and ttl <= 0:
        return "TTL must be > 0 for TTL checks"
    if chk.get("OutputMaxSize", 0) < 0:
        return "MaxOutputMaxSize must be positive"
    if chk.get("FailuresBeforeWarning", 0) > chk.get("FailuresBeforeCritical", 0):
        return "FailuresBeforeWarning can't be higher than FailuresBeforeCritical"
    return None


def _parse_ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped  # net.IP.To4 sees IPv4-mapped addresses as IPv4
    return address


@dataclass
class LocalService:
    """local.ServiceState."""

    service: Record
    sidecar: bool = False  # LocallyRegisteredAsSidecar
    in_sync: bool = False
    deleted: bool = False


@dataclass
class LocalCheck:
    """local.CheckState."""

    check: Record
    in_sync: bool = False
    deleted: bool = False
    critical_since: float | None = None
    deferred: asyncio.TimerHandle | None = None


@dataclass
class _Timers:
    reaper: asyncio.TimerHandle | None = None
    coordinate: asyncio.TimerHandle | None = None
    flush: asyncio.TimerHandle | None = None
    pending: dict[str, Record] = field(default_factory=dict)


class LocalAgent:
    """Local services and checks of the dev agent's node, and the runners that feed them."""

    def __init__(
        self,
        catalog: Catalog,
        watch: Watch,
        *,
        node_name: str,
        node_id: str,
        datacenter: str,
        metadata: dict[str, str],
        check_reap_interval: float,
        check_deregister_interval_min: float,
        check_interval_min: float,
        check_update_interval: float,
        coordinate_sync_interval: float,
        coordinate_update_period: float = 0.1,
        enable_script_checks: bool = False,
        enable_local_script_checks: bool | None = None,
    ) -> None:
        self._catalog = catalog
        self._watch = watch
        self.node_name = node_name
        self.node_id = node_id
        self.datacenter = datacenter
        self.metadata = metadata
        self.tagged_addresses = {
            "lan": "127.0.0.1",
            "lan_ipv4": "127.0.0.1",
            "wan": "127.0.0.1",
            "wan_ipv4": "127.0.0.1",
        }
        self._reap_interval = check_reap_interval
        self._deregister_min = round(check_deregister_interval_min * SECOND)
        self._interval_min = check_interval_min
        self._update_interval = check_update_interval
        self._coordinate_interval = coordinate_sync_interval
        self._coordinate_period = coordinate_update_period
        # config/builder.go: enable_local_script_checks defaults to enable_script_checks.
        self.enable_remote_script_checks = enable_script_checks
        self.enable_local_script_checks = (
            enable_script_checks if enable_local_script_checks is None
            else enable_local_script_checks
        )
        self.services: dict[str, LocalService] = {}
        self.checks: dict[str, LocalCheck] = {}
        self._ttls: dict[str, TTLCheck] = {}
        self._loops: dict[str, IntervalCheck] = {}
        self._stopped_loops: set[IntervalCheck] = set()
        self._reap_after: dict[str, int] = {}
        self._session: aiohttp.ClientSession | None = None
        self._timers = _Timers()
        self._loop = asyncio.get_running_loop()
        self._started = self._loop.time()
        self._closed = False
        self._node_in_sync = True  # nodeInfoInSync: bootstrap registers the node info
        self.member_status = 1  # serf.StatusAlive

    # -- lifecycle --------------------------------------------------------------------------

    def bootstrap(self, version: str) -> None:
        """Register the node, ``serfHealth`` and the ``consul`` service; start the timers.

        What a fresh ``consul agent -dev`` has in its catalog once it has elected itself: the
        leader's ``handleAliveMember`` registers the node with the passing ``serfHealth`` check
        and, on a server, the ``consul`` service (port 8300, no tags); anti-entropy adds the
        node's ID, tagged addresses and metadata. It is written at the store's current index
        so that a new agent's first write still gets the index it always had. The agent's own
        network coordinate is sent after ``coordinate_sync_interval`` plus a random stagger
        (``Agent.sendCoordinate``), so a new agent has none, like a real one.
        """
        request = self._node_request()
        del request["SkipNodeUpdate"]
        request.update(self._alive_member(version))
        self._catalog.register(request, index=self._catalog.store.raft_index)
        self._timers.reaper = self._loop.call_later(self._reap_interval, self._reap)
        delay = self._coordinate_interval * (1 + random.random())
        self._timers.coordinate = self._loop.call_later(delay, self._send_coordinate)

    def _alive_member(self, version: str) -> Record:
        """The consul service and serfHealth check of leader.go handleAliveMember."""
        return {
            "Service": {
                "ID": CONSUL_SERVICE_ID,
                "Service": "consul",
                "Port": 8300,
                "Weights": {"Passing": 1, "Warning": 1},
                "Meta": {
                    "non_voter": "false",
                    "read_replica": "false",
                    "raft_version": "3",
                    "serf_protocol_current": "2",
                    "serf_protocol_min": "1",
                    "serf_protocol_max": "5",
                    "version": version,
                    "grpc_port": "8502",
                    "grpc_tls_port": "8503",
                },
            },
            "Check": {
                "Node": self.node_name,
                "CheckID": SERF_CHECK_ID,
                "Name": "Serf Health Status",
                "Status": "passing",
                "Output": "Agent alive and reachable",
            },
        }

    def reconcile(self, version: str) -> None:
        """The leader's Server.reconcile, for a catalog that changed under the agent (a
        snapshot restore): handleAliveMember for this agent's member (the only one of its
        serf pool), then reconcileReaped.

        The member's node is registered again, with the consul service and a passing
        serfHealth, unless it is there at its address with both (the service's Meta equal);
        an existing node keeps its tagged addresses and meta, a new one gets only
        ``consul-version``. Then every other node with a serfHealth check, which no serf
        member stands for, is deregistered ("reaped"). A refused write (the node's name
        held by another live node ID) is logged by Consul and skipped.
        """
        catalog = self._catalog
        alive = self._alive_member(version)
        node = catalog.node(self.node_name)
        registered = node is not None and node["Address"] == _ADDRESS and (
            catalog.check_status(self.node_name, SERF_CHECK_ID) == "passing")
        if registered:
            services = catalog.node_services(self.node_name)[2]
            registered = any(svc["ID"] == CONSUL_SERVICE_ID
                             and svc["Meta"] == alive["Service"]["Meta"] for svc in services)
        if not registered:
            request: Record = {"ID": self.node_id, "Node": self.node_name, "Address": _ADDRESS,
                               "Datacenter": self.datacenter, **alive,
                               "NodeMeta": {"consul-version": version}}
            if node is not None:
                request["TaggedAddresses"] = node["TaggedAddresses"]
                request["NodeMeta"] = node["Meta"]
            # A refusal is "failed to reconcile member": retried at the next reconcile.
            with contextlib.suppress(RPCError):
                catalog.register(request)
        for check in catalog.checks_in_state("any")[1]:
            reaped = check["Node"]
            if check["CheckID"] == SERF_CHECK_ID and reaped.lower() != self.node_name.lower():
                catalog.deregister(reaped)  # handleReapMember -> handleDeregisterMember

    def stats(self) -> dict[str, str]:
        """The ``agent`` section of ``/v1/agent/self`` Stats (Agent.Stats)."""
        return {
            "check_monitors": str(
                sum(isinstance(loop, MonitorCheck) for loop in self._loops.values())
            ),
            "check_ttls": str(len(self._ttls)),
            "checks": str(len(self.live_checks())),
            "services": str(len(self.live_services())),
        }

    async def shutdown(self) -> None:
        """Stop every timer and runner and close the HTTP client of the checks."""
        self._closed = True
        timers = self._timers
        for handle in (timers.reaper, timers.coordinate, timers.flush):
            if handle is not None:
                handle.cancel()
        for local in self.checks.values():
            if local.deferred is not None:
                local.deferred.cancel()
        for check_id in list(self._ttls) + list(self._loops):
            self._stop_runner(check_id)
        await asyncio.gather(*(loop.wait_closed() for loop in self._stopped_loops))
        self._stopped_loops.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _changed(self) -> None:
        self._watch.notify((LOCAL,))

    # -- anti-entropy (local/state.go SyncChanges) ----------------------------------------

    def _node_request(self) -> Record:
        return {
            "ID": self.node_id,
            "Node": self.node_name,
            "Address": _ADDRESS,
            "Datacenter": self.datacenter,
            "TaggedAddresses": dict(self.tagged_addresses),
            "NodeMeta": dict(self.metadata),
            "SkipNodeUpdate": self._node_in_sync,  # nodeInfoInSync
        }

    def sync_full(self) -> None:
        """State.SyncFull: updateSyncState, then the node info and SyncChanges.

        The catalog's view of this node is compared with the local state, as after a snapshot
        restore: the node info is out of sync when the node is missing or its ID, tagged
        addresses or meta differ; a local service or check the catalog lacks, or holds
        differently, is out of sync; one the catalog holds but the agent does not is marked
        deleted (except the consul service and serfHealth, which the leader manages). Then
        the node info is sent when needed (syncNodeInfo), and SyncChanges pushes the rest.
        """
        catalog = self._catalog
        node = catalog.node(self.node_name)
        remote_services: dict[str, Record] = {}
        remote_checks: dict[str, Record] = {}
        if node is not None:
            remote_services = {s["ID"]: s for s in catalog.node_services(node["Node"])[2]}
            remote_checks = {c["CheckID"]: c for c in catalog.node_checks(node["Node"])[1]}
        if node is None or node["ID"] != self.node_id or (
            node["TaggedAddresses"] != self.tagged_addresses or node["Meta"] != self.metadata
        ):
            self._node_in_sync = False
        for service_id, local in self.services.items():
            if service_id not in remote_services:
                local.in_sync = False
        for service_id, remote in remote_services.items():
            found = self.services.get(service_id)
            if found is None:
                if service_id != CONSUL_SERVICE_ID:
                    self.services[service_id] = LocalService(remote, deleted=True)
                continue
            if not found.deleted:
                # The server's own tagged addresses ("consul-" keys: the virtual IP) are
                # merged back into the local definition before comparing.
                reserved = {k: v for k, v in (remote["TaggedAddresses"] or {}).items()
                            if k.startswith("consul-")}
                if reserved:
                    tagged = {**(found.service["TaggedAddresses"] or {}), **reserved}
                    found.service = dict(found.service, TaggedAddresses=tagged)
                found.in_sync = _is_same(found.service, remote)
        for check_id, check in self.checks.items():
            if check_id not in remote_checks:
                check.in_sync = False
        for check_id, remote in remote_checks.items():
            known = self.checks.get(check_id)
            if known is None:
                if check_id != SERF_CHECK_ID:
                    self.checks[check_id] = LocalCheck(remote, deleted=True)
                continue
            if not known.deleted:
                # A deferred output-only change is not compared (it syncs when its timer
                # fires); with check_update_interval 0 the output counts too.
                skip = ("Output",) if known.deferred is not None else ()
                known.in_sync = _is_same(known.check, remote, skip)
        if not self._node_in_sync:
            request = self._node_request()
            try:
                catalog.register(request)  # syncNodeInfo
            except RPCError:
                pass  # "Syncing node info failed": the next full sync tries again
            else:
                self._node_in_sync = True
        self.sync_changes()

    def sync_changes(self) -> None:
        """State.SyncChanges: deleted or changed services first, then checks."""
        for service_id, local in list(self.services.items()):
            if local.deleted:
                self._catalog.deregister(self.node_name, service_id=service_id)
                del self.services[service_id]
                for check_id, check in list(self.checks.items()):
                    if check.deleted and check.check["ServiceID"] == service_id:
                        del self.checks[check_id]
            elif not local.in_sync:
                self._sync_service(service_id)
        for check_id, check in list(self.checks.items()):
            if check.deleted:
                self._catalog.deregister(self.node_name, check_id=check_id)
                del self.checks[check_id]
            elif not check.in_sync:
                if check.deferred is not None:
                    check.deferred.cancel()
                    check.deferred = None
                self._sync_check(check_id)
        self._changed()

    def _sync_service(self, service_id: str) -> None:
        local = self.services[service_id]
        checks = [
            c
            for c in self.checks.values()
            if not c.deleted and not c.in_sync and c.check["ServiceID"] == service_id
        ]
        request = self._node_request()
        request["Service"] = local.service
        if len(checks) == 1:
            request["Check"] = checks[0].check
        else:
            request["Checks"] = [c.check for c in checks]
        try:
            self._catalog.register(request)
        except RPCError:  # validated before it got here, or the node info refused; retried
            return
        local.in_sync = True
        self._node_in_sync = True  # the registration carried the node info too
        for check in checks:
            check.in_sync = True

    def _sync_check(self, check_id: str) -> None:
        local = self.checks[check_id]
        request = self._node_request()
        request["Check"] = local.check
        service = self.services.get(local.check["ServiceID"])
        if service is not None and not service.deleted:
            request["Service"] = service.service
        try:
            self._catalog.register(request)
        except RPCError:  # its service is gone, or the node info refused: retried later
            return
        local.in_sync = True
        self._node_in_sync = True

    # -- check state (local/state.go UpdateCheck) ------------------------------------------

    def update_check(self, check_id: str, status: str, output: str) -> None:
        """State.UpdateCheck: status changes sync at once, output-only changes are deferred."""
        local = self.checks.get(check_id)
        if local is None or local.deleted or self._closed:
            return
        if status == CRITICAL:
            if local.critical_since is None:
                local.critical_since = self._loop.time()
        else:
            local.critical_since = None
        check = local.check
        if check["Status"] == status and check["Output"] == output:
            return
        if self._update_interval > 0 and check["Status"] == status:
            local.check = dict(check, Output=output)
            if local.deferred is None:
                delay = self._update_interval / 2 + random.random() * self._update_interval
                local.deferred = self._loop.call_later(delay, self._deferred_sync, check_id)
            self._changed()
            return
        local.check = dict(check, Status=status, Output=output)
        local.in_sync = False
        self.sync_changes()

    def _deferred_sync(self, check_id: str) -> None:
        local = self.checks.get(check_id)
        if local is None:
            return
        local.deferred = None
        if not local.deleted:
            local.in_sync = False
            self.sync_changes()

    # -- runners ----------------------------------------------------------------------------

    def _stop_runner(self, check_id: str) -> None:
        self._reap_after.pop(check_id, None)
        ttl = self._ttls.pop(check_id, None)
        if ttl is not None:
            ttl.stop()
        loop = self._loops.pop(check_id, None)
        if loop is not None:
            loop.stop()
            self._stopped_loops.add(loop)

    def _http_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            # Consul's HTTP checks disable keep-alives.
            connector = aiohttp.TCPConnector(force_close=True)
            self._session = aiohttp.ClientSession(connector=connector)
        return self._session

    def _start_runner(self, check_id: str, chk: Record) -> str | None:
        """Agent.addCheck's runner switch; returns the output of a check that never runs."""
        self._stop_runner(check_id)
        max_size = DEFAULT_BUF_SIZE
        if 0 < chk["OutputMaxSize"] < max_size:
            max_size = chk["OutputMaxSize"]

        def report(status: str, output: str) -> None:
            self.update_check(check_id, status, output)

        handler = StatusHandler(
            report,
            chk["SuccessBeforePassing"],
            chk["FailuresBeforeWarning"] or chk["FailuresBeforeCritical"],
            chk["FailuresBeforeCritical"],
        )
        kind = check_kind(chk)
        interval = max(chk["Interval"] / SECOND, self._interval_min)
        timeout = chk["Timeout"] / SECOND if chk["Timeout"] > 0 else DEFAULT_TIMEOUT
        note: str | None = None
        if kind == "ttl":
            self._ttls[check_id] = TTLCheck(chk["TTL"] / SECOND, report, max_size)
        elif kind == "http":
            session = self._http_session()

            async def probe_http() -> tuple[str, str]:
                return await http_probe(
                    session,
                    chk["HTTP"],
                    method=chk["Method"],
                    header=chk["Header"],
                    body=chk["Body"],
                    timeout=timeout,
                    disable_redirects=chk["DisableRedirects"],
                    skip_verify=chk["TLSSkipVerify"],
                    server_name=chk["TLSServerName"],
                    output_max_size=max_size,
                )

            self._loops[check_id] = IntervalCheck(probe_http, interval, handler)
        elif kind == "tcp":

            async def probe_tcp() -> tuple[str, str]:
                return await tcp_probe(
                    chk["TCP"],
                    timeout,
                    use_tls=chk["TCPUseTLS"],
                    skip_verify=chk["TLSSkipVerify"],
                    server_name=chk["TLSServerName"],
                )

            self._loops[check_id] = IntervalCheck(probe_tcp, interval, handler)
        elif kind == "script":
            script_timeout = chk["Timeout"] or round(SCRIPT_TIMEOUT * SECOND)
            if script_timeout < 0:
                script_timeout = round(SCRIPT_TIMEOUT * SECOND)
            self._loops[check_id] = MonitorCheck(
                chk["ScriptArgs"],
                interval,
                handler,
                report,
                timeout=script_timeout / SECOND,
                timeout_text=format_duration(script_timeout),
                output_max_size=max_size,
            )
        else:
            label = {"os_service": "OSService", "h2ping": "H2PING"}.get(kind, kind.upper())
            note = _NOT_RUN.format("Alias" if kind == "alias" else label)
        after = chk["DeregisterCriticalServiceAfter"]
        if after > 0:
            self._reap_after[check_id] = max(after, self._deregister_min)
        return note

    # -- services ---------------------------------------------------------------------------

    def service(self, service_id: str) -> Record | None:
        """The local service with this ID (case-sensitive, as the agent's map is)."""
        local = self.services.get(service_id)
        return None if local is None or local.deleted else local.service

    def live_services(self) -> list[Record]:
        """Every registered service, in registration order."""
        return [s.service for s in self.services.values() if not s.deleted]

    def live_checks(self) -> list[Record]:
        """Every registered check, in registration order."""
        return [c.check for c in self.checks.values() if not c.deleted]

    def checks_for_service(self, service_id: str, *, include_node: bool) -> list[Record]:
        """State.ChecksForService, in check-ID order."""
        found = [
            c
            for c in self.live_checks()
            if c["ServiceID"] == service_id or (include_node and not c["ServiceID"])
        ]
        return sorted(found, key=lambda c: c["CheckID"])

    def _sidecar_port(self, service_id: str) -> int:
        """Agent.sidecarPortFromServiceIDLocked: the lowest free port from 21000."""
        used = set()
        for local in self.services.values():
            port = local.service["Port"]
            if SIDECAR_MIN_PORT <= port <= SIDECAR_MAX_PORT:
                if local.service["ID"] == service_id:
                    return int(port)
                used.add(port)
        for port in range(SIDECAR_MIN_PORT, SIDECAR_MAX_PORT + 1):
            if port not in used:
                return port
        raise RPCError(
            "no port provided for sidecar_service and none left in the configured range "
            f"[{SIDECAR_MIN_PORT}, {SIDECAR_MAX_PORT}]"
        )

    def add_service(
        self,
        service: Record,
        chk_types: list[Record],
        *,
        sidecar: bool = False,
        replace_existing_checks: bool = False,
    ) -> None:
        """Agent.addServiceLocked + addServiceInternal (the caller then syncs)."""
        service = dict(service)
        if sidecar:
            if service["Port"] < 1:
                service["Port"] = self._sidecar_port(service["ID"])
            if not chk_types:
                chk_types = self._sidecar_default_checks(service)
        # validateService
        if not service["Service"]:
            raise RPCError("Service name missing")
        if not service["ID"]:
            service["ID"] = service["Service"]
        for chk in chk_types:
            problem = validate_check_type(chk)
            if problem:
                raise RPCError(f"Check is not valid: {problem}")
        if service["Weights"] is None:
            service["Weights"] = {"Passing": 1, "Warning": 1}
        tagged = dict(service["TaggedAddresses"] or {})
        for key, want in (("lan_ipv4", 4), ("wan_ipv4", 4), ("lan_ipv6", 6)):
            if key in tagged:
                ip = _parse_ip(tagged[key].get("Address", ""))
                if ip is None or ip.version != want:
                    kind = "ipv4" if want == 4 else "ipv6"
                    raise RPCError(f'Service tagged address "{key}" must be a valid {kind} address')
        for chk in chk_types:
            self._refuse_scripts(chk)
        # addServiceInternal: default tagged addresses from an IP service address
        ip = _parse_ip(service["Address"])
        if ip is not None:
            suffix = "ipv4" if ip.version == 4 else "ipv6"
            for prefix in ("lan", "wan"):
                tagged.setdefault(
                    f"{prefix}_{suffix}", {"Address": service["Address"], "Port": service["Port"]}
                )
        service["TaggedAddresses"] = tagged
        service_id = service["ID"]
        kept: set[str] = set()
        new_checks: list[tuple[Record, Record]] = []
        for i, chk in enumerate(chk_types):
            check_id = chk["CheckID"] or f"service:{service_id}"
            if not chk["CheckID"] and len(chk_types) > 1:
                check_id += f":{i + 1}"
            kept.add(check_id)
            health: Record = {
                "Node": self.node_name,
                "CheckID": check_id,
                "Name": chk["Name"] or f"Service '{service['Service']}' check",
                "Status": chk["Status"] or CRITICAL,
                "Notes": chk["Notes"],
                "Output": "",
                "ServiceID": service_id,
                "ServiceName": service["Service"],
                "ServiceTags": service["Tags"],
                "Type": check_kind(chk),
                "Interval": format_duration(chk["Interval"]) if chk["Interval"] else "",
                "Timeout": format_duration(chk["Timeout"]) if chk["Timeout"] else "",
                "ExposedPort": 0,
                "Definition": {},
            }
            previous = self.checks.get(check_id)
            if previous is not None and not previous.deleted:  # the checkStateSnapshot
                health["Output"] = previous.check["Output"]
                health["Status"] = previous.check["Status"]
            new_checks.append((health, chk))
        self.services[service_id] = LocalService(service, sidecar=sidecar)
        for health, chk in new_checks:
            self._add_check_state(health, chk)
        if replace_existing_checks:
            for local in self.checks.values():
                check = local.check
                if check["ServiceID"] == service_id and check["CheckID"] not in kept:
                    self._remove_check_state(check["CheckID"])

    def _sidecar_default_checks(self, sidecar: Record) -> list[Record]:
        """sidecarDefaultChecks: a TCP check on the proxy and an alias of the parent."""
        address = sidecar["Address"] or sidecar["Proxy"].get("LocalServiceAddress", "")
        host = f"[{address}]" if ":" in address else address
        parent = sidecar["ID"].removesuffix(SIDECAR_SUFFIX)
        tcp = _blank_check_type()
        tcp.update(
            Name="Connect Sidecar Listening", TCP=f"{host}:{sidecar['Port']}", Interval=10 * SECOND
        )
        alias = _blank_check_type()
        alias.update(Name=f"Connect Sidecar Aliasing {parent}", AliasService=parent)
        return [tcp, alias]

    def _refuse_scripts(self, chk: Record, source: str = "remote") -> None:
        """Agent.addCheck: script (and Docker) checks need enable_script_checks, off in -dev.

        Every registration the dev agent receives comes through its HTTP API: Consul's
        ConfigSourceRemote, which only ``enable_script_checks`` allows.
        """
        problem = script_refusal(
            chk,
            source,
            enable_local=self.enable_local_script_checks,
            enable_remote=self.enable_remote_script_checks,
        )
        if problem:
            raise RPCError(problem)

    def _add_check_state(self, health: Record, chk: Record | None) -> None:
        """Agent.addCheck + State.AddCheck: start the runner, record the check."""
        check_id = health["CheckID"]
        if chk is not None:
            note = self._start_runner(check_id, chk)
            if note and not health["Output"]:
                health = dict(health, Output=note)
        previous = self.checks.get(check_id)
        if previous is not None and previous.deferred is not None:
            previous.deferred.cancel()
        critical_since = None
        if health["Status"] == CRITICAL:
            same = previous is not None and previous.check["Status"] == CRITICAL
            critical_since = previous.critical_since if same and previous else self._loop.time()
        self.checks[check_id] = LocalCheck(health, critical_since=critical_since)

    def _remove_check_state(self, check_id: str) -> None:
        self._stop_runner(check_id)
        local = self.checks.get(check_id)
        if local is not None:
            local.deleted = True
            if local.deferred is not None:
                local.deferred.cancel()
                local.deferred = None

    def remove_service(self, service_id: str) -> None:
        """Agent.removeServiceLocked: the service, its checks and a sidecar it brought."""
        local = self.services.get(service_id)
        if local is None or local.deleted:
            return
        local.deleted = True
        for check in self.live_checks():
            if check["ServiceID"] == service_id:
                self._remove_check_state(check["CheckID"])
        sidecar = self.services.get(service_id + SIDECAR_SUFFIX)
        if sidecar is not None and sidecar.sidecar and not sidecar.deleted:
            self.remove_service(service_id + SIDECAR_SUFFIX)

    # -- checks -----------------------------------------------------------------------------

    def check(self, check_id: str) -> Record | None:
        """The local check with this ID (case-sensitive)."""
        local = self.checks.get(check_id)
        return None if local is None or local.deleted else local.check

    def add_check(self, health: Record, chk: Record | None) -> None:
        """Agent.addCheckLocked: the check keeps the status and output it had before."""
        health = dict(health)
        if health["ServiceID"]:
            service = self.service(health["ServiceID"])
            if service is None:
                raise RPCError(f'ServiceID "{health["ServiceID"]}" does not exist')
            health["ServiceName"] = service["Service"]
            health["ServiceTags"] = service["Tags"]
        if chk is not None:
            problem = validate_check_type(chk)
            if problem:
                raise RPCError(f"Check is not valid: {problem}")
            self._refuse_scripts(chk)
        existing = self.check(health["CheckID"])
        if existing is not None:
            health["Status"], health["Output"] = existing["Status"], existing["Output"]
        self._add_check_state(health, chk)

    def remove_check(self, check_id: str) -> None:
        """Agent.removeCheckLocked."""
        self._remove_check_state(check_id)

    def update_ttl_check(self, check_id: str, status: str, output: str) -> None:
        """Agent.updateTTLCheck: only TTL checks take a status from the API."""
        ttl = self._ttls.get(check_id)
        if ttl is None:
            raise RPCError(f'CheckID "{check_id}" does not have associated TTL')
        ttl.set_status(status, output)

    # -- maintenance ------------------------------------------------------------------------

    def enable_service_maintenance(self, service_id: str, reason: str) -> None:
        """Agent.EnableServiceMaintenance."""
        service = self.service(service_id)
        if service is None:
            raise RPCError(f'No service registered with ID "{service_id}"')
        check_id = SERVICE_MAINT_PREFIX + service_id
        if self.check(check_id) is not None:
            return
        self.add_check(
            _maintenance_check(
                self.node_name,
                check_id,
                "Service Maintenance Mode",
                reason or DEFAULT_SERVICE_MAINT_REASON,
                service_id,
            ),
            None,
        )

    def disable_service_maintenance(self, service_id: str) -> None:
        """Agent.DisableServiceMaintenance."""
        if self.service(service_id) is None:
            raise RPCError(f'No service registered with ID "{service_id}"')
        if self.check(SERVICE_MAINT_PREFIX + service_id) is not None:
            self.remove_check(SERVICE_MAINT_PREFIX + service_id)

    def enable_node_maintenance(self, reason: str) -> None:
        """Agent.EnableNodeMaintenance."""
        if self.check(NODE_MAINT) is None:
            self.add_check(
                _maintenance_check(
                    self.node_name,
                    NODE_MAINT,
                    "Node Maintenance Mode",
                    reason or DEFAULT_NODE_MAINT_REASON,
                    "",
                ),
                None,
            )

    def disable_node_maintenance(self) -> None:
        """Agent.DisableNodeMaintenance."""
        if self.check(NODE_MAINT) is not None:
            self.remove_check(NODE_MAINT)

    def reload(self) -> None:
        """Agent.reloadConfigInternal in -dev: everything registered through the API goes.

        A dev agent has no data directory, so nothing it was given over HTTP is persisted:
        reloading unloads every service and check and loads those of the configuration files
        (none here).
        """
        for service_id in list(self.services):
            self.remove_service(service_id)
        for check_id in list(self.checks):
            self._remove_check_state(check_id)

    # -- timers: reaper and coordinates -----------------------------------------------------

    def _reap(self) -> None:
        """Agent.reapServicesInternal."""
        now = self._loop.time()
        reaped: set[str] = set()
        for check_id, local in list(self.checks.items()):
            service_id = local.check["ServiceID"]
            if local.deleted or local.check["Status"] != CRITICAL or not service_id:
                continue
            if service_id in reaped:
                continue
            timeout = self._reap_after.get(check_id, 0)
            since = local.critical_since
            if timeout > 0 and since is not None and (now - since) * SECOND > timeout:
                reaped.add(service_id)
                self.remove_service(service_id)
        if reaped:
            self.sync_changes()
        self._timers.reaper = self._loop.call_later(self._reap_interval, self._reap)

    def _send_coordinate(self) -> None:
        """Agent.sendCoordinate: the serf coordinate, sent through Coordinate.Update."""
        self.queue_coordinate({"Node": self.node_name, "Segment": "", "Coord": dict(ORIGIN)})
        delay = self._coordinate_interval * (1 + random.random())
        self._timers.coordinate = self._loop.call_later(delay, self._send_coordinate)

    def queue_coordinate(self, update: Record) -> None:
        """Coordinate.Update: the latest update per node waits for the next batch."""
        timers = self._timers
        timers.pending[f"{update['Node']}:{update.get('Segment', '')}"] = update
        if timers.flush is None:
            # batchUpdate ticks every CoordinateUpdatePeriod since the server started.
            elapsed = (self._loop.time() - self._started) % self._coordinate_period
            delay = self._coordinate_period - elapsed
            timers.flush = self._loop.call_later(delay, self._flush_coordinates)

    def _flush_coordinates(self) -> None:
        timers = self._timers
        timers.flush = None
        pending, timers.pending = list(timers.pending.values()), {}
        if pending:
            self._catalog.coordinate_batch_update(pending)


def _blank_check_type() -> Record:
    """A CheckType with every field at its zero value."""
    return {
        "CheckID": "",
        "Name": "",
        "Status": "",
        "Notes": "",
        "ServiceID": "",
        "Token": "",
        "ScriptArgs": None,
        "HTTP": "",
        "H2PING": "",
        "H2PingUseTLS": False,
        "Header": None,
        "Method": "",
        "Body": "",
        "DisableRedirects": False,
        "TCP": "",
        "TCPUseTLS": False,
        "UDP": "",
        "OSService": "",
        "Interval": 0,
        "AliasNode": "",
        "AliasService": "",
        "DockerContainerID": "",
        "Shell": "",
        "GRPC": "",
        "GRPCUseTLS": False,
        "TLSServerName": "",
        "TLSSkipVerify": False,
        "Timeout": 0,
        "TTL": 0,
        "SuccessBeforePassing": 0,
        "FailuresBeforeWarning": 0,
        "FailuresBeforeCritical": 0,
        "DeregisterCriticalServiceAfter": 0,
        "OutputMaxSize": 0,
    }


def _maintenance_check(node: str, check_id: str, name: str, notes: str, service_id: str) -> Record:
    return {
        "Node": node,
        "CheckID": check_id,
        "Name": name,
        "Status": CRITICAL,
        "Notes": notes,
        "Output": "",
        "ServiceID": service_id,
        "ServiceName": "",
        "ServiceTags": None,
        "Type": "maintenance",
        "Interval": "",
        "Timeout": "",
        "ExposedPort": 0,
        "Definition": {},
    }


def _is_same(local: Record, remote: Record, skip: tuple[str, ...] = ()) -> bool:
    """NodeService.IsSame / HealthCheck.IsSame of a local record and the catalog's row: every
    field the agent keeps, as the catalog stores it (no tagged addresses is null there)."""
    for key, value in local.items():
        if key in skip or key in ("Node", "CreateIndex", "ModifyIndex"):
            continue
        if key == "TaggedAddresses":
            value = value or None
        if remote.get(key) != value:
            return False
    return True
