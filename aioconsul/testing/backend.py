"""The dev agent's backend: the state every handler works on, and the agent's configuration.

One :class:`Backend` per running agent holds the store (:mod:`.state.store`), the catalog
tables (:mod:`.state.catalog`), the agent-local half (:mod:`.local.state`), the watch channels
blocking queries park on, and the session TTL timers (:mod:`.local.session_timers`). Handlers
receive it as their first argument. This module knows nothing of HTTP: it never imports
:mod:`.http`, an endpoint module or the route table.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final

from .acl.resolver import ACLResolver, Resolver
from .golang.stdlib import SECOND, format_duration, go_json, strconv_quote
from .local.keyring import Keyring
from .local.peerstream import Peerings
from .local.session_timers import SessionTimers
from .local.state import LocalAgent
from .local.tokens import AgentTokens
from .state.acl import (
    TOKEN_MAX_EXPIRATION_TTL,
    TOKEN_MIN_EXPIRATION_TTL,
    ACLStore,
    initialize_acls,
)
from .state.autopilot import AutopilotTable
from .state.catalog import Catalog
from .state.config_entry import config_entries
from .state.connect_ca import ConnectCATable
from .state.prepared_query import PreparedQueryTable
from .state.snapshot import ABANDON, SnapshotPart, apply, collect
from .state.store import Store
from .state.watch import Watch

__all__ = [
    "BUILD_DATE",
    "CONSUL_VERSION",
    "DEFAULT_QUERY_TIME",
    "ENVOY_VERSIONS",
    "GRPC_PORT",
    "GRPC_TLS_PORT",
    "KV_MAX_VALUE_SIZE",
    "MAX_QUERY_TIME",
    "REVISION",
    "LOG_LEVELS",
    "ACLConfig",
    "Backend",
    "CheckKnobs",
    "LogHub",
    "LogSink",
]

CONSUL_VERSION: Final = "1.21.4"  # the Consul release whose behaviour the dev agent follows
REVISION: Final = "aioconsul"
BUILD_DATE: Final = "2025-08-13T00:00:00Z"

DEFAULT_QUERY_TIME: Final = 300 * SECOND  # default_query_time
MAX_QUERY_TIME: Final = 600 * SECOND  # max_query_time; also agent maxQueryTime for events
KV_MAX_VALUE_SIZE: Final = 512 * 1024  # kv_max_value_size
# A -dev agent is a server: ports.grpc = 8502 (DevSource), and the builder gives servers
# grpc_tls = 8503 when it is not set. AgentSelf reports them in xDS (Port prefers TLS).
GRPC_PORT: Final = 8502
GRPC_TLS_PORT: Final = 8503
# xdscommon.EnvoyVersions (envoyextensions/xdscommon/ENVOY_VERSIONS) of a 1.21 release.
ENVOY_VERSIONS: Final = ("1.34.1", "1.33.2", "1.32.5", "1.31.8")


#: hclog's levels by the names ``logging.ValidateLogLevel`` accepts (upper case); ``ERR`` is
#: Consul's alias of ``ERROR`` (``logging.LevelFromString``).
LOG_LEVELS: Final = {"TRACE": 1, "DEBUG": 2, "INFO": 3, "WARN": 4, "ERR": 5, "ERROR": 5}
_LEVEL_BRACKETS: Final = ("", "[TRACE]", "[DEBUG]", "[INFO] ", "[WARN] ", "[ERROR]")
_LEVEL_NAMES: Final = ("", "trace", "debug", "info", "warn", "error")
#: monitor.MonitorConfig.BufferSize of AgentMonitor: lines past it are dropped, and counted.
_SINK_BUFFER: Final = 512


def _hclog_time(now: float, fraction: int) -> str:
    """Go's ``time.Now().Format`` with ``.000Z0700`` (text) or ``.000000Z07:00`` (JSON)."""
    local = time.localtime(now)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", local)
    digits = f"{now % 1:.6f}"[2:2 + fraction]
    offset = local.tm_gmtoff or 0
    if offset == 0:
        zone = "Z"
    else:
        sign = "-" if offset < 0 else "+"
        hours, minutes = divmod(abs(offset) // 60, 60)
        zone = f"{sign}{hours:02d}{':' if fraction == 6 else ''}{minutes:02d}"
    return f"{stamp}.{digits}{zone}"


def _hclog_value(value: str) -> str:
    """hclog's text writer: a value with a space, a quote or an unprintable rune is quoted."""
    if value == "":
        return '""'
    if any(ch.isspace() or ch == '"' or not ch.isprintable() for ch in value):
        return strconv_quote(value)
    return value


class LogSink:
    """One monitor attached to the agent's log: hclog's SinkAdapter with its own level."""

    __slots__ = ("_ready", "closed", "dropped", "json", "level", "lines")

    def __init__(self, level: int, json_format: bool) -> None:
        self.level = level
        self.json = json_format
        self.lines: deque[bytes] = deque()
        self.dropped = 0
        self.closed = False
        self._ready = asyncio.Event()

    def put(self, line: bytes) -> None:
        if len(self.lines) >= _SINK_BUFFER:
            self.dropped += 1  # monitor.go Write: a full channel drops the line
            return
        self.lines.append(line)
        self._ready.set()

    def close(self) -> None:
        self.closed = True
        self._ready.set()

    async def get(self) -> bytes | None:
        """The next line, or None once the agent shuts down."""
        while not self.lines:
            if self.closed:
                return None
            self._ready.clear()
            await self._ready.wait()
        return self.lines.popleft()


class LogHub:
    """The agent's logger (hclog's InterceptLogger): what it logs goes to the attached sinks.

    Nothing is formatted while no monitor is attached; with monitors, each line is formatted
    once per format, in hclog's text (``<time> [DEBUG] agent.http: Request finished:
    method=GET ...``) or JSON (``@level``, ``@message``, ``@module``, ``@timestamp``) form.
    """

    __slots__ = ("_sinks",)

    def __init__(self) -> None:
        self._sinks: list[LogSink] = []

    @property
    def monitored(self) -> bool:
        return bool(self._sinks)

    def attach(self, level: int, json_format: bool) -> LogSink:
        sink = LogSink(level, json_format)
        self._sinks.append(sink)
        return sink

    def detach(self, sink: LogSink) -> None:
        """monitor.Stop: the sink leaves; its dropped lines are reported (as AgentMonitor)."""
        if sink in self._sinks:
            self._sinks.remove(sink)
        if sink.dropped:
            self.log(4, "agent", "Dropped logs during monitor request",
                     ("dropped_count", str(sink.dropped)))

    def log(self, level: int, module: str, message: str, *args: tuple[str, str]) -> None:
        if not self._sinks:
            return
        now = time.time()
        text = as_json = b""
        for sink in self._sinks:
            if level < sink.level:
                continue
            if sink.json:
                if not as_json:
                    record = {"@level": _LEVEL_NAMES[level], "@message": message,
                              "@module": module, "@timestamp": _hclog_time(now, 6), **dict(args)}
                    as_json = go_json(dict(sorted(record.items()))) + b"\n"
                sink.put(as_json)
            else:
                if not text:
                    pairs = "".join(f" {key}={_hclog_value(value)}" for key, value in args)
                    line = f"{_hclog_time(now, 3)} {_LEVEL_BRACKETS[level]} {module}: {message}"
                    text = (line + (":" + pairs if pairs else "") + "\n").encode()
                sink.put(text)

    def close(self) -> None:
        """The agent shuts down: every monitor's stream ends."""
        for sink in self._sinks:
            sink.close()


@dataclass(frozen=True, slots=True)
class CheckKnobs:
    """Timing of the agent's check machinery, in seconds (Consul's defaults)."""

    reap_interval: float = 30.0  # RuntimeConfig.CheckReapInterval (Agent.reapServices)
    deregister_interval_min: float = 60.0  # RuntimeConfig.CheckDeregisterIntervalMin
    interval_min: float = 1.0  # checks.MinInterval
    update_interval: float = 300.0  # check_update_interval (output-only changes are deferred)
    coordinate_sync_interval: float = 15.0  # RuntimeConfig.SyncCoordinateIntervalMin
    enable_script_checks: bool = False  # enable_script_checks (EnableRemoteScriptChecks)
    enable_local_script_checks: bool | None = None  # None: as enable_script_checks


@dataclass(frozen=True, slots=True)
class ACLConfig:
    """The agent's ``acl`` configuration block (Consul's defaults; ACLs off as in ``-dev``)."""

    enabled: bool = False  # acl.enabled
    default_policy: str = "allow"  # acl.default_policy
    down_policy: str = "extend-cache"  # acl.down_policy
    initial_management: str | None = None  # acl.tokens.initial_management
    enable_token_persistence: bool = False  # acl.enable_token_persistence
    enable_key_list_policy: bool = False  # acl.enable_key_list_policy
    token_min_expiration_ttl: int = TOKEN_MIN_EXPIRATION_TTL  # ns; acl.token_min_expiration_ttl
    token_max_expiration_ttl: int = TOKEN_MAX_EXPIRATION_TTL  # ns; acl.token_max_expiration_ttl


class Backend:
    """The state behind a :class:`~aioconsul.testing.DevAgent`: store, catalog, local agent."""

    def __init__(
        self,
        *,
        node_name: str,
        datacenter: str,
        node_id: str,
        session_ttl_min: float,
        session_ttl_multiplier: float,
        checks: CheckKnobs | None = None,
        acl: ACLConfig | None = None,
        encrypt: str | None = None,
        connect_enabled: bool = True,
        prometheus_retention_time: float = 0.0,
        default_intention_policy: str = "",
    ) -> None:
        self.node_name = node_name
        self.datacenter = datacenter
        self.node_id = node_id
        self.watch = Watch()
        self.store = Store(
            node_name=node_name,
            session_ttl_min=round(session_ttl_min * SECOND),
            on_change=self.watch.notify,
        )
        #: The session TTL timers (``Server.resetSessionTimer``): a lapse destroys the session.
        self.session_timers = SessionTimers(
            self.store.session_destroy, multiplier=session_ttl_multiplier
        )
        knobs = checks or CheckKnobs()
        self.catalog = Catalog(self.store)
        # The leader's runVirtualIPVersionCheck (startConnectLeader: Connect on) sets the flag.
        self.catalog.virtual_ips_enabled = connect_enabled
        self.queries = PreparedQueryTable(self.store)
        self.autopilot = AutopilotTable(self.store)
        #: The Connect CA (``connect.enabled``: on, as in ``-dev``): config, roots, signing.
        self.connect_ca = ConnectCATable(self.store, datacenter=datacenter,
                                         enabled=connect_enabled)
        #: Cluster peerings: the peering tables, the stream tracker, the peer streams.
        self.peerings = Peerings(self.store, self.catalog, self.watch, datacenter=datacenter,
                                 connect_ca=self.connect_ca)
        #: The gossip keyring (``encrypt``); without a key the agent does not encrypt.
        self.keyring = Keyring(encrypt)
        self.started_at = time.time()
        #: The in-memory metrics sink's interval in seconds (lib/telemetry.go: 10 s), the
        #: period of /v1/agent/metrics/stream; a test may shorten it.
        self.metrics_interval = 10.0
        #: telemetry.prometheus_retention_time in seconds: above 0, /v1/agent/metrics answers
        #: Prometheus' text format when asked (off, as in -dev).
        self.prometheus_retention_time = prometheus_retention_time
        #: default_intention_policy ("allow", "deny", or "" to follow the ACL default policy):
        #: what intention checks and authorize decide when no intention matches.
        self.default_intention_policy = default_intention_policy
        self.local = LocalAgent(
            self.catalog,
            self.watch,
            node_name=node_name,
            node_id=node_id,
            datacenter=datacenter,
            metadata={"consul-network-segment": "", "consul-version": CONSUL_VERSION},
            check_reap_interval=knobs.reap_interval,
            check_deregister_interval_min=knobs.deregister_interval_min,
            check_interval_min=knobs.interval_min,
            check_update_interval=knobs.update_interval,
            coordinate_sync_interval=knobs.coordinate_sync_interval,
            enable_script_checks=knobs.enable_script_checks,
            enable_local_script_checks=knobs.enable_local_script_checks,
        )
        self.local.bootstrap(CONSUL_VERSION)
        #: The agent's ``acl`` configuration.
        self.acl_config = acl_config = acl or ACLConfig()
        #: The agent's own tokens (``/v1/agent/token/<kind>``).
        self.tokens = AgentTokens()
        #: The ACL tables (tokens, policies, roles, auth methods, binding rules).
        self.acl_store = ACLStore(self.store, on_expiry=self._schedule_token_reaping)
        self._reap_timer: asyncio.TimerHandle | None = None
        #: The ACL system: a request's token to its enforcer (ACLs disabled: manage-all).
        self.acl: Resolver = Resolver()
        if acl_config.enabled:
            self.acl = ACLResolver(
                self.acl_store,
                self.tokens,
                datacenter=datacenter,
                node_name=node_name,
                default_policy=acl_config.default_policy,
                down_policy=acl_config.down_policy,
            )
            initialize_acls(self.acl_store, acl_config.initial_management)
        #: The replicated tables a snapshot holds (``/v1/snapshot``), by name: one line per
        #: table with ``dump()``/``load()`` (fsm/snapshot_ce.go; user events are gossip).
        self.snapshot_parts: dict[str, SnapshotPart] = {
            "store": self.store,  # the Raft index, KV entries and tombstones, sessions
            "catalog": self.catalog,
            "acl": self.acl_store,
            "prepared_queries": self.queries,
            "autopilot": self.autopilot,
            "config_entries": config_entries(self.store),
            "connect_ca": self.connect_ca,
            "peerings": self.peerings,
        }
        #: How many times a restore replaced the state (blocking queries then return).
        self.restores = 0
        #: The agent's log, streamed by ``/v1/agent/monitor``.
        self.log = LogHub()
        #: A handler with a streamed body (the monitor) leaves here, by ``id(request)``, the
        #: coroutine that writes it; the server takes it, prepares the response and awaits it.
        self.streams: dict[int, Callable[[Any], Awaitable[None]]] = {}
        #: Called (once) by :meth:`leave`: the owner stops the agent after the reply is sent.
        self.on_leave: Callable[[], None] | None = None

    def snapshot_state(self) -> dict[str, Any]:
        """The state document of a snapshot (:func:`.state.snapshot.collect`)."""
        return collect(self.snapshot_parts)

    def restore_snapshot(self, snapshot_index: int, state: dict[str, Any]) -> None:
        """Raft.Restore into the FSM, then what the leader reasserts (snapshot_endpoint.go).

        Every table is replaced (or none, :class:`~.state.snapshot.SnapshotError`); Raft
        applies the restore past both its log and the snapshot, then a barrier, so the next
        write gets an index above both; the old state is abandoned (every blocking query on
        it returns); the ACL caches go; then revokeLeadership + establishLeadership: the
        builtin ACL objects are put back if missing and every session TTL timer is re-armed;
        then the leader's reconcile and the agent's full sync (``LocalAgent.reconcile``,
        ``LocalAgent.sync_full``).
        """
        before = self.store.raft_index
        apply(self.snapshot_parts, state)
        self.store.index_load(max(before, snapshot_index, self.store.raft_index) + 2)
        self.restores += 1
        self.watch.notify((ABANDON,))
        self.acl.purge()
        if self.acl_config.enabled:
            initialize_acls(self.acl_store, self.acl_config.initial_management)
        self.session_timers.clear_all()
        for session in self.store.session_list()[1]:
            self.session_timers.reset(session)
        # What Consul does within a reconcile interval and a full sync, done at once: the
        # leader's reconcile puts this member's node back (and reaps nodes no member stands
        # for), the agent's anti-entropy its node info and local services and checks.
        self.local.reconcile(CONSUL_VERSION)
        self.local.sync_full()

    def leave(self) -> None:
        """Agent.Leave, then ShutdownAgent: the member leaves and the agent is to shut down."""
        self.local.member_status = 3  # serf.StatusLeft
        on_leave, self.on_leave = self.on_leave, None
        if on_leave is not None:
            on_leave()

    def is_member(self, name: str, *, wan: bool) -> bool:
        """isSerfMember: whether the LAN (``node``) or WAN (``node.dc``) pool knows ``name``."""
        return name == (f"{self.node_name}.{self.datacenter}" if wan else self.node_name)

    def close(self) -> None:
        """Release every parked blocking query and cancel the session TTL timers."""
        self.watch.close()
        self.peerings.close()
        self.log.close()
        self.session_timers.clear_all()
        if self._reap_timer is not None:
            self._reap_timer.cancel()
            self._reap_timer = None
        self.acl_store.on_expiry = None

    async def shutdown(self) -> None:
        """:meth:`close`, then stop the check runners and the agent's timers."""
        self.close()
        await self.local.shutdown()

    def _schedule_token_reaping(self, expires_ns: int | None) -> None:
        """The leader's token reaper (``acl_token_exp.go``): run when the next token expires."""
        if self._reap_timer is not None:
            self._reap_timer.cancel()
            self._reap_timer = None
        if expires_ns is None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # outside the agent's loop (a test building a backend by hand)
            return
        delay = max(0.0, (expires_ns - self.acl_store.now()) / 1e9) + 0.001
        self._reap_timer = loop.call_later(delay, self.acl_store.reap_expired)

    def _acl_debug(self) -> dict[str, Any]:
        """The DebugConfig ACL fields (RuntimeConfig.Sanitized: every token is "hidden")."""
        config = self.acl_config
        return {
            "ACLEnableKeyListPolicy": config.enable_key_list_policy,
            "ACLInitialManagementToken": "hidden",
            "ACLResolverSettings": {
                "ACLDefaultPolicy": config.default_policy,
                "ACLDownPolicy": config.down_policy,
                "ACLPolicyTTL": "30s",
                "ACLRoleTTL": "30s",
                "ACLTokenTTL": "30s",
                "ACLsEnabled": config.enabled,
                "Datacenter": self.datacenter,
                "EnterpriseMeta": {},
                "NodeName": self.node_name,
            },
            "ACLTokenReplication": False,
            "ACLTokens": {
                "ACLAgentRecoveryToken": "hidden",
                "ACLAgentToken": "hidden",
                "ACLConfigFileRegistrationToken": "hidden",
                "ACLDNSToken": "hidden",
                "ACLDefaultToken": "hidden",
                "ACLReplicationToken": "hidden",
                "DataDir": "",
                "EnablePersistence": config.enable_token_persistence,
                "EnterpriseConfig": {},
            },
            "ACLsEnabled": config.enabled,
        }

    def self_info(self) -> dict[str, Any]:
        """The /v1/agent/self document (Config is stable; DebugConfig is a small subset)."""
        build = f"{CONSUL_VERSION}:{REVISION}"
        return {
            "Config": {
                "Datacenter": self.datacenter,
                "PrimaryDatacenter": self.datacenter,
                "NodeName": self.node_name,
                "NodeID": self.node_id,
                "Revision": REVISION,
                "Server": True,
                "Version": CONSUL_VERSION,
                "BuildDate": BUILD_DATE,
            },
            "DebugConfig": {
                **self._acl_debug(),
                "Datacenter": self.datacenter,
                "DefaultIntentionPolicy": self.default_intention_policy,
                "DefaultQueryTime": format_duration(DEFAULT_QUERY_TIME),
                "DevMode": True,
                "KVMaxValueSize": KV_MAX_VALUE_SIZE,
                "MaxQueryTime": format_duration(MAX_QUERY_TIME),
                "NodeID": self.node_id,
                "NodeName": self.node_name,
                "PrimaryDatacenter": self.datacenter,
                "Revision": REVISION,
                "ServerMode": True,
                "SessionTTLMin": format_duration(self.store.session_ttl_min),
                "Version": CONSUL_VERSION,
                "VersionPrerelease": "",
            },
            "Coord": {"Vec": [0] * 8, "Error": 1.5, "Adjustment": 0, "Height": 1e-05},
            "Member": {
                "Name": self.node_name,
                "Addr": "127.0.0.1",
                "Port": 8301,
                "Tags": {
                    "acls": "1" if self.acl_config.enabled else "0",
                    "build": build,
                    "dc": self.datacenter,
                    "ft_fs": "1",
                    "ft_si": "1",
                    "id": self.node_id,
                    "port": "8300",
                    "raft_vsn": "3",
                    "role": "consul",
                    "segment": "",
                    "vsn": "2",
                    "vsn_max": "3",
                    "vsn_min": "2",
                    "wan_join_port": "8302",
                },
                "Status": self.local.member_status,
                "ProtocolMin": 1,
                "ProtocolMax": 5,
                "ProtocolCur": 2,
                "DelegateMin": 2,
                "DelegateMax": 5,
                "DelegateCur": 4,
            },
            "Stats": {
                "agent": self.local.stats(),
                "build": {"prerelease": "", "revision": REVISION, "version": CONSUL_VERSION},
                "consul": {
                    "acl": "enabled" if self.acl_config.enabled else "disabled",
                    "bootstrap": "false",
                    "known_datacenters": "1",
                    "leader": "true",
                    "leader_addr": "127.0.0.1:8300",
                    "server": "true",
                },
                "raft": {
                    "applied_index": str(self.store.raft_index),
                    "commit_index": str(self.store.raft_index),
                    "last_log_index": str(self.store.raft_index),
                    "num_peers": "0",
                    "state": "Leader",
                },
            },
            "Meta": {"consul-network-segment": "", "consul-version": CONSUL_VERSION},
            # XDSSelf (json:"xDS,omitempty"): present because a -dev agent runs the xDS server.
            "xDS": {
                "SupportedProxies": {"envoy": list(ENVOY_VERSIONS)},
                "Port": GRPC_TLS_PORT,
                "Ports": {"Plaintext": GRPC_PORT, "TLS": GRPC_TLS_PORT},
            },
        }
