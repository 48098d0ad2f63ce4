"""The catalog tables of the dev agent's state store: nodes, services, checks and coordinates.

A port of ``agent/consul/state/catalog.go``, ``catalog_ce.go`` and ``coordinate.go`` on top of
the :class:`~aioconsul.testing.state.store.Store`, whose single Raft-like index every write uses:

* records keep Consul's field names (``ServiceKind``, ``ServicePort``...) so that endpoints only
  pick and order fields; lookups of node names, service names, service IDs and check IDs are
  case-insensitive, as memdb's lower-cased indexes are;
* the index table is reproduced entry by entry: ``nodes``, ``services``, ``checks`` and
  ``coordinates`` table indexes, ``service.<name>`` (moved by the service's instances, by its
  checks and by the nodes it runs on; dropped with its last instance, which moves
  ``service_last_extinction``), ``node.<name>`` (moved by the node and its services; dropped with
  the node, which moves ``node_last_extinction``). Reads return the index Consul's state store
  returns for the same query (``maxIndexForService`` and friends);
* a critical or deleted check invalidates the sessions bound to it, deleting a node invalidates
  its sessions (``ensureCheckTxn``, ``deleteCheckTxn``, ``deleteNodeTxn``);
* errors are Consul's texts (:class:`~aioconsul.testing.state.memdb.RPCError`);
* service virtual IPs (Consul >= 1.11, ``assignServiceVirtualIP`` and ``freeServiceVirtualIP``):
  a connect proxy or a connect-native service gets one for the service it stands for, in
  ``TaggedAddresses["consul-virtual"]``, once the ``virtual-ips`` flag is on
  (:attr:`Catalog.virtual_ips_enabled`, which Consul's leader sets when Connect is enabled);
  writing a service-resolver, -router or -splitter assigns one to the service it names, flag
  or not. They count up from 240.0.0.1 in 240.0.0.0/4; a service's VIP is freed with its last
  instance when no chain, service-defaults or intentions entry names it, and the next
  assignment takes the freed one back.

Writes touch the channels :data:`NODES`, :data:`SERVICES`, :data:`CHECKS` and
:data:`COORDINATES`; a blocking query parks on the channels its index is computed from.

This module never does I/O, never imports asyncio or aiohttp and never decodes HTTP bodies: it
receives requests already shaped like Consul's ``structs.RegisterRequest``.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Callable, Iterable
from typing import Any, Final

from ..golang.stdlib import format_duration
from .config_entry import config_entries
from .memdb import Restore, RPCError
from .store import Store

__all__ = [
    "CHECKS",
    "COORDINATES",
    "NODES",
    "SERVICES",
    "TAGGED_ADDRESS_VIRTUAL_IP",
    "Catalog",
    "compute_distance",
    "multierror",
    "node_json",
    "node_service_json",
    "proxy_api_json",
    "service_node_json",
    "check_head",
    "check_json",
    "validate_meta",
    "validate_node_service",
]

NODES: Final = "catalog:nodes"
SERVICES: Final = "catalog:services"
CHECKS: Final = "catalog:checks"
COORDINATES: Final = "catalog:coordinates"

PASSING: Final = "passing"
WARNING: Final = "warning"
CRITICAL: Final = "critical"
CONNECT_PROXY: Final = "connect-proxy"
GATEWAY_KINDS: Final = ("mesh-gateway", "terminating-gateway", "ingress-gateway", "api-gateway")
SERF_CHECK_ID: Final = "serfHealth"

#: structs.TaggedAddressVirtualIP: the tagged address that carries a service's virtual IP.
TAGGED_ADDRESS_VIRTUAL_IP: Final = "consul-virtual"
#: startingVirtualIP (240.0.0.0): the table stores offsets from it.
_VIRTUAL_IP_START: Final = 240 << 24
#: virtualIPMaxOffset (15.255.255.254): the counter may never reach it.
_VIRTUAL_IP_MAX_OFFSET: Final = (15 << 24) | 0xFFFFFE
_VIRTUAL_IPS_INDEX: Final = "service-virtual-ips"
#: freeServiceVirtualIP keeps a VIP while an entry of one of these kinds names the service.
_VIRTUAL_IP_KINDS: Final = (
    "service-resolver", "service-router", "service-splitter", "service-defaults",
    "service-intentions",
)

_META_MAX_PAIRS: Final = 64
_META_KEY_MAX: Final = 128
_META_VALUE_MAX: Final = 512
_META_KEY_FORMAT: Final = re.compile(r"[a-zA-Z0-9_-]+")
_META_RESERVED_PREFIX: Final = "consul-"
_MESH_GATEWAY_META: Final = frozenset({"consul-wan-federation"})

Record = dict[str, Any]


# -- Go helpers ------------------------------------------------------------------------------


def multierror(errors: list[str]) -> str:
    """go-multierror's ListFormatFunc."""
    if len(errors) == 1:
        return f"1 error occurred:\n\t* {errors[0]}\n\n"
    points = "\n\t".join(f"* {e}" for e in errors)
    return f"{len(errors)} errors occurred:\n\t{points}\n\n"


def _parse_uuid(text: str) -> str | None:
    """hashicorp/go-uuid ParseUUID; returns the error text, or None when valid."""
    if len(text) != 36:
        return "uuid string is wrong length"
    if text[8] != "-" or text[13] != "-" or text[18] != "-" or text[23] != "-":
        return "uuid is improperly formatted"
    for ch in text.replace("-", ""):
        if ch not in "0123456789abcdefABCDEF":
            return f"encoding/hex: invalid byte: U+{ord(ch):04X} {_go_rune(ch)}"
    return None


def _go_rune(ch: str) -> str:
    return "'\\''" if ch == "'" else f"'{ch}'"


def validate_meta(meta: dict[str, str] | None, kind: str = "") -> str | None:
    """structs.ValidateServiceMetadata(kind, meta, false); the error text or None."""
    if not meta:
        return None
    if len(meta) > _META_MAX_PAIRS:
        return f"Node metadata cannot contain more than {_META_MAX_PAIRS} key/value pairs"
    allowed = _MESH_GATEWAY_META if kind == "mesh-gateway" else frozenset()
    for key, value in meta.items():
        problem = None
        if key == "":
            problem = "Key cannot be blank"
        elif not _META_KEY_FORMAT.fullmatch(key):
            problem = "Key contains invalid characters"
        elif len(key) > _META_KEY_MAX:
            problem = f"Key is too long (limit: {_META_KEY_MAX} characters)"
        elif key.startswith(_META_RESERVED_PREFIX) and key not in allowed:
            problem = f"Key prefix '{_META_RESERVED_PREFIX}' is reserved for internal use"
        elif len(value) > _META_VALUE_MAX:
            problem = f"Value is too long (limit: {_META_VALUE_MAX} characters)"
        if problem:
            return f"Couldn't load metadata pair ('{key}', '{value}'): {problem}"
    return None


def _upstream_errors(upstream: Record) -> str | None:
    """structs.Upstream.Validate."""
    kind = upstream.get("DestinationType", "")
    if kind not in ("", "service", "prepared_query"):
        return f'unknown upstream destination type: "{kind}"'
    name = upstream.get("DestinationName", "")
    central = upstream.get("CentrallyConfigured", False)
    if not name:
        return "upstream destination name cannot be empty"
    if name == "*" and not central:
        return "upstream destination name cannot be a wildcard"
    if upstream.get("DestinationPeer") and upstream.get("Datacenter"):
        return "upstream cannot specify both destination peer and datacenter"
    port, socket = upstream.get("LocalBindPort", 0), upstream.get("LocalBindSocketPath", "")
    if port == 0 and not socket and not central:
        return "upstream local bind port or local socket path must be defined and nonzero"
    if port != 0 and socket and not central:
        return (
            "only one of upstream local bind port or local socket path can be defined and nonzero"
        )
    return None


def validate_node_service(svc: Record, *, for_agent: bool = False) -> list[str]:
    """structs.NodeService.Validate (or ValidateForAgent): the list of problems."""
    errors: list[str] = []
    kind = svc.get("Kind", "")
    proxy: Record = svc.get("Proxy") or {}
    connect: Record = svc.get("Connect") or {}
    port, socket = svc.get("Port", 0), svc.get("SocketPath", "")
    if kind == CONNECT_PROXY and not for_agent and port == 0 and not socket:
        errors.append(f"Port or SocketPath must be set for a {kind}")
    if kind == CONNECT_PROXY:
        destination = proxy.get("DestinationServiceName", "")
        if not destination.strip():
            errors.append(
                "Proxy.DestinationServiceName must be non-empty for Connect proxy services"
            )
        if destination == "*":
            errors.append(
                "Proxy.DestinationServiceName must not be a wildcard for Connect proxy services"
            )
        if connect.get("Native"):
            errors.append("A Proxy cannot also be Connect Native, only typical services")
        seen: set[tuple[str, ...]] = set()
        for upstream in proxy.get("Upstreams") or ():
            problem = _upstream_errors(upstream)
            if problem:
                errors.append(problem)
                continue
            key = tuple(
                str(upstream.get(k, ""))
                for k in (
                    "DestinationType",
                    "DestinationName",
                    "DestinationPartition",
                    "DestinationNamespace",
                    "DestinationPeer",
                    "Datacenter",
                )
            )
            if key in seen:
                errors.append(
                    "upstreams cannot contain duplicates of "
                    f'[type="{key[0]}", name="{key[1]}", partition="{key[2]}", '
                    f'namespace="{key[3]}", peer="{key[4]}", datacenter="{key[5]}"]'
                )
            seen.add(key)
    if kind in GATEWAY_KINDS:
        if port == 0 and kind not in ("ingress-gateway", "api-gateway"):
            errors.append(f"Port must be non-zero for a {kind}")
        if connect.get("SidecarService") is not None:
            errors.append(f"A {kind} cannot have a sidecar service defined")
        for field, label in (
            ("DestinationServiceName", "Proxy.DestinationServiceName"),
            ("DestinationServiceID", "Proxy.DestinationServiceID"),
            ("LocalServiceAddress", "Proxy.LocalServiceAddress"),
            ("LocalServicePort", "Proxy.LocalServicePort"),
            ("LocalServiceSocketPath", "Proxy.LocalServiceSocketPath"),
            ("Upstreams", "Proxy.Upstreams"),
        ):
            if proxy.get(field):
                errors.append(f"The {label} configuration is invalid for a {kind}")
    sidecar = connect.get("SidecarService")
    if sidecar is not None:
        if sidecar.get("ID"):
            errors.append("A SidecarService cannot specify an ID as this is managed by the agent")
        if (sidecar.get("Connect") or {}).get("SidecarService") is not None:
            errors.append("A SidecarService cannot have a nested SidecarService")
    if connect.get("Native") and port == 0 and not socket:
        errors.append("Port or SocketPath must be set for a Connect native service.")
    return errors


def compute_distance(a: Record | None, b: Record | None) -> float:
    """lib.ComputeDistance: serf's Coordinate.DistanceTo in seconds; +Inf when one is missing."""
    if a is None or b is None:
        return math.inf
    vec_a, vec_b = a.get("Vec") or [], b.get("Vec") or []
    magnitude = math.sqrt(sum((x - y) ** 2 for x, y in zip(vec_a, vec_b, strict=False)))
    dist = magnitude + a.get("Height", 0.0) + b.get("Height", 0.0)
    adjusted = dist + a.get("Adjustment", 0.0) + b.get("Adjustment", 0.0)
    if adjusted > 0.0:
        dist = adjusted
    return int(dist * 1e9) / 1e9  # time.Duration truncates to whole nanoseconds


# -- JSON shapes ---------------------------------------------------------------------------


def node_json(node: Record) -> Record:
    """structs.Node as encoding/json writes it."""
    out: Record = {
        "ID": node["ID"],
        "Node": node["Node"],
        "Address": node["Address"],
        "Datacenter": node["Datacenter"],
        "TaggedAddresses": node["TaggedAddresses"],
        "Meta": node["Meta"],
    }
    if node.get("Locality") is not None:
        out["Locality"] = node["Locality"]
    out["CreateIndex"] = node["CreateIndex"]
    out["ModifyIndex"] = node["ModifyIndex"]
    return out


def _mesh_gateway_json(config: Record | None) -> Record:
    mode = (config or {}).get("Mode", "")
    return {"Mode": mode} if mode else {}


def _expose_json(expose: Record | None) -> Record:
    out: Record = {}
    if (expose or {}).get("Checks"):
        out["Checks"] = True
    paths = (expose or {}).get("Paths")
    if paths:
        out["Paths"] = paths
    return out


def _omitempty(source: Record, keys: Iterable[str]) -> Record:
    return {k: source[k] for k in keys if source.get(k)}


_PROXY_DESTINATION_FIELDS: Final = (
    "EnvoyExtensions",
    "DestinationServiceName",
    "DestinationServiceID",
    "LocalServiceAddress",
    "LocalServicePort",
    "LocalServiceSocketPath",
)
_STRUCT_FIELDS: Final = {
    "TransparentProxy": ("OutboundListenerPort", "DialedDirectly"),
    "AccessLogs": ("Enabled", "DisableListenerLogs", "Type", "Path", "JSONFormat", "TextFormat"),
}


def _set_nonzero_struct(out: Record, proxy: Record, key: str) -> None:
    """A proxy's value-typed struct field (``omitempty`` leaves it out only when all zero)."""
    if any((proxy.get(key) or {}).values()):
        out[key] = _omitempty(proxy[key], _STRUCT_FIELDS[key])


def _upstream_json(upstream: Record) -> Record:
    """structs.Upstream (no custom marshaller)."""
    out: Record = {"DestinationType": upstream.get("DestinationType", "")}
    out.update(
        _omitempty(upstream, ("DestinationNamespace", "DestinationPartition", "DestinationPeer"))
    )
    out["DestinationName"] = upstream.get("DestinationName", "")
    out["Datacenter"] = upstream.get("Datacenter", "")
    out.update(
        _omitempty(
            upstream,
            (
                "LocalBindAddress",
                "LocalBindPort",
                "LocalBindSocketPath",
                "LocalBindSocketMode",
                "Config",
            ),
        )
    )
    out["MeshGateway"] = _mesh_gateway_json(upstream.get("MeshGateway"))
    if upstream.get("CentrallyConfigured"):
        out["CentrallyConfigured"] = True
    return out


def proxy_json(proxy: Record | None) -> Record:
    """structs.ConnectProxyConfig.MarshalJSON (what the catalog and health endpoints show)."""
    proxy = proxy or {}
    out: Record = {}
    _set_nonzero_struct(out, proxy, "TransparentProxy")
    _set_nonzero_struct(out, proxy, "AccessLogs")
    out.update(_omitempty(proxy, _PROXY_DESTINATION_FIELDS))
    out["Mode"] = proxy.get("Mode", "")
    if proxy.get("Config"):
        out["Config"] = proxy["Config"]
    if proxy.get("Upstreams"):
        out["Upstreams"] = [_upstream_json(u) for u in proxy["Upstreams"]]
    out["MeshGateway"] = _mesh_gateway_json(proxy.get("MeshGateway"))
    out["Expose"] = _expose_json(proxy.get("Expose"))
    return out


def proxy_api_json(proxy: Record | None) -> Record:
    """ConnectProxyConfig.ToAPI(): the api.AgentServiceConnectProxyConfig the agent shows."""
    proxy = proxy or {}
    out = _omitempty(proxy, (*_PROXY_DESTINATION_FIELDS, "Mode"))
    _set_nonzero_struct(out, proxy, "TransparentProxy")
    if proxy.get("Config"):
        out["Config"] = proxy["Config"]
    if proxy.get("Upstreams"):
        upstreams = []
        for upstream in proxy["Upstreams"]:
            item = _omitempty(
                upstream,
                (
                    "DestinationType",
                    "DestinationPartition",
                    "DestinationNamespace",
                    "DestinationPeer",
                ),
            )
            item["DestinationName"] = upstream.get("DestinationName", "")
            item.update(
                _omitempty(
                    upstream,
                    (
                        "Datacenter",
                        "LocalBindAddress",
                        "LocalBindPort",
                        "LocalBindSocketPath",
                        "LocalBindSocketMode",
                        "Config",
                    ),
                )
            )
            item["MeshGateway"] = _mesh_gateway_json(upstream.get("MeshGateway"))
            upstreams.append(item)
        out["Upstreams"] = upstreams
    out["MeshGateway"] = _mesh_gateway_json(proxy.get("MeshGateway"))
    out["Expose"] = _expose_json(proxy.get("Expose"))
    _set_nonzero_struct(out, proxy, "AccessLogs")
    return out


def connect_json(connect: Record | None) -> Record:
    """structs.ServiceConnect: every field is omitempty."""
    connect = connect or {}
    out: Record = {}
    if connect.get("Native"):
        out["Native"] = True
    if connect.get("PeerMeta"):
        out["PeerMeta"] = connect["PeerMeta"]
    return out


def service_node_json(svc: Record, node: Record | None) -> Record:
    """structs.ServiceNode: service fields prefixed, node fields from ``node`` (or empty).

    ``node`` is None for ``/v1/catalog/services`` filtering, where Consul evaluates the raw
    ServiceNode rows whose node fields are never filled in.
    """
    out: Record = {
        "ID": node["ID"] if node else "",
        "Node": node["Node"] if node else svc["Node"],
        "Address": node["Address"] if node else "",
        "Datacenter": node["Datacenter"] if node else "",
        "TaggedAddresses": node["TaggedAddresses"] if node else None,
        "NodeMeta": node["Meta"] if node else None,
        "ServiceKind": svc["Kind"],
        "ServiceID": svc["ID"],
        "ServiceName": svc["Service"],
        "ServiceTags": svc["Tags"],
        "ServiceAddress": svc["Address"],
    }
    if svc["TaggedAddresses"]:
        out["ServiceTaggedAddresses"] = svc["TaggedAddresses"]
    out.update(
        {
            "ServiceWeights": svc["Weights"],
            "ServiceMeta": svc["Meta"],
            "ServicePort": svc["Port"],
            "ServiceSocketPath": svc["SocketPath"],
            "ServiceEnableTagOverride": svc["EnableTagOverride"],
            "ServiceProxy": proxy_json(svc["Proxy"]),
            "ServiceConnect": connect_json(svc["Connect"]),
            "ServiceLocality": svc["Locality"],
            "CreateIndex": svc["CreateIndex"],
            "ModifyIndex": svc["ModifyIndex"],
        }
    )
    return out


def node_service_json(svc: Record) -> Record:
    """structs.NodeService as encoding/json writes it (catalog node and health endpoints)."""
    out: Record = {}
    if svc["Kind"]:
        out["Kind"] = svc["Kind"]
    out.update(
        {"ID": svc["ID"], "Service": svc["Service"], "Tags": svc["Tags"], "Address": svc["Address"]}
    )
    if svc["TaggedAddresses"]:
        out["TaggedAddresses"] = svc["TaggedAddresses"]
    out["Meta"] = svc["Meta"]
    if svc["Port"]:
        out["Port"] = svc["Port"]
    if svc["SocketPath"]:
        out["SocketPath"] = svc["SocketPath"]
    out["Weights"] = svc["Weights"]
    out["EnableTagOverride"] = svc["EnableTagOverride"]
    if svc["Locality"] is not None:
        out["Locality"] = svc["Locality"]
    out["Proxy"] = proxy_json(svc["Proxy"])
    out["Connect"] = connect_json(svc["Connect"])
    out["PeerName"] = ""
    out["CreateIndex"] = svc["CreateIndex"]
    out["ModifyIndex"] = svc["ModifyIndex"]
    return out


_DEFINITION_STRINGS: Final = ("Interval", "Timeout", "DeregisterCriticalServiceAfter")
_DEFINITION_FIELDS: Final = (
    "HTTP",
    "TLSServerName",
    "TLSSkipVerify",
    "Header",
    "Method",
    "Body",
    "DisableRedirects",
    "TCP",
    "TCPUseTLS",
    "UDP",
    "H2PING",
    "OSService",
    "H2PingUseTLS",
    "ScriptArgs",
    "DockerContainerID",
    "Shell",
    "GRPC",
    "GRPCUseTLS",
    "AliasNode",
    "AliasService",
    "TTL",
)


def definition_json(definition: Record | None) -> Record:
    """structs.HealthCheckDefinition.MarshalJSON: durations as strings, except TTL (in ns)."""
    definition = definition or {}
    out: Record = {}
    if definition.get("Interval"):
        out["Interval"] = format_duration(definition["Interval"])
    if definition.get("OutputMaxSize"):
        out["OutputMaxSize"] = definition["OutputMaxSize"]
    for key in _DEFINITION_STRINGS[1:]:
        if definition.get(key):
            out[key] = format_duration(definition[key])
    out.update(_omitempty(definition, _DEFINITION_FIELDS))
    return out


_CHECK_HEAD: Final = (
    "Node",
    "CheckID",
    "Name",
    "Status",
    "Notes",
    "Output",
    "ServiceID",
    "ServiceName",
    "ServiceTags",
)


def check_head(check: Record) -> Record:
    """The fields structs.HealthCheck and api.HealthCheck both begin with, in their order."""
    return {name: check[name] for name in _CHECK_HEAD}


def check_json(check: Record) -> Record:
    """structs.HealthCheck as encoding/json writes it."""
    return {
        **check_head(check),
        "Type": check["Type"],
        "Interval": check["Interval"],
        "Timeout": check["Timeout"],
        "ExposedPort": check["ExposedPort"],
        "Definition": definition_json(check["Definition"]),
        "CreateIndex": check["CreateIndex"],
        "ModifyIndex": check["ModifyIndex"],
    }


def check_type(definition: Record | None) -> str:
    """CheckType.Type() for a check registered with only a Definition (Catalog.Register)."""
    d = definition or {}
    interval = d.get("Interval", 0) > 0
    if d.get("GRPC") and interval:
        return "grpc"
    if d.get("HTTP") and interval:
        return "http"
    if d.get("TTL", 0) > 0:
        return "ttl"
    if d.get("TCP") and interval:
        return "tcp"
    if d.get("UDP") and interval:
        return "udp"
    if d.get("AliasNode") or d.get("AliasService"):
        return "alias"
    if d.get("ScriptArgs") and d.get("DockerContainerID") and interval:
        return "docker"
    if d.get("ScriptArgs"):
        return "script"
    if d.get("H2PING") and interval:
        return "h2ping"
    if d.get("OSService") and interval:
        return "os_service"
    return ""


# -- the tables -------------------------------------------------------------------------------


def _svc_key(node: str, service_id: str) -> tuple[str, str]:
    return node.lower(), service_id.lower()


def _stamp(
    entry: Record,
    existing: Record | None,
    index: int,
    is_same: Callable[[Record, Record], bool],
) -> bool:
    """Set ``entry``'s raft indexes as memdb keeps them; True when it changes nothing.

    A new entry is created at ``index``; a replacement keeps its CreateIndex and moves its
    ModifyIndex to ``index`` only when it differs from ``existing``.
    """
    if existing is None:
        entry["CreateIndex"] = entry["ModifyIndex"] = index
        return False
    entry["CreateIndex"] = existing["CreateIndex"]
    entry["ModifyIndex"] = existing["ModifyIndex"]
    if is_same(entry, existing):
        return True
    entry["ModifyIndex"] = index
    return False


class Catalog:
    """Nodes, services, checks and coordinates, sharing the Raft index of ``store``."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.store: Final = store  # the Store whose index and sessions the tables share
        store.catalog = self
        self._nodes: dict[str, Record] = {}
        self._services: dict[tuple[str, str], Record] = {}
        self._checks: dict[tuple[str, str], Record] = {}
        self._coords: dict[tuple[str, str], Record] = {}
        self._index: dict[str, int] = {}
        #: The ``virtual-ips`` system metadata flag: with it off a connect service gets no
        #: virtual IP (and none is freed). Consul's leader sets it when Connect is enabled.
        self.virtual_ips_enabled = False
        self._vips: dict[str, Record] = {}  # service-virtual-ips, by lower-cased service name
        self._vip_counter = 0  # the counter row of free-virtual-ips: the last offset handed out
        self._vip_freed: int | None = None  # its one freed row (see free_virtual_ip)
        store._register_table(self._vip_snapshot)
        config_entries(store).virtual_ips = self

    # -- index table ------------------------------------------------------------------------

    def _bump(self, key: str, index: int) -> None:
        """indexUpdateMaxTxn."""
        key = key.lower()
        if index > self._index.get(key, 0):
            self._index[key] = index

    def _max(self, *keys: str) -> int:
        return max((self._index.get(k.lower(), 0) for k in keys), default=0)

    def max_index_for_service(self, name: str, exists: bool, checks: bool) -> int:
        """state.maxIndexForService."""
        if not exists and "service_last_extinction" in self._index:
            return self._index["service_last_extinction"]
        key = f"service.{name}".lower()
        if key in self._index:
            return self._index[key]
        if checks:
            return self._max("checks", "services", "nodes")
        return self._max("services", "nodes")

    # -- snapshots (fsm persistNodes: nodes, services, checks, coordinates; persistIndex) --

    def dump(self) -> dict[str, Any]:
        """Every node, service, check and coordinate, and the index table's catalog entries
        (``nodes``, ``service.<name>``, ``node_last_extinction``...), each row with its key."""
        def rows(table: dict[Any, Record]) -> list[list[Any]]:
            return [[list(key) if isinstance(key, tuple) else key, copy.deepcopy(table[key])]
                    for key in sorted(table)]

        return {
            "Nodes": rows(self._nodes),
            "Services": rows(self._services),
            "Checks": rows(self._checks),
            "Coordinates": rows(self._coords),
            "Index": dict(sorted(self._index.items())),
            "VirtualIPs": {
                "Services": [copy.deepcopy(self._vips[key]) for key in sorted(self._vips)],
                "Counter": self._vip_counter,
                "Freed": self._vip_freed,
            },
        }

    def load(self, data: dict[str, Any]) -> None:
        """Replace every catalog table and its index entries with a :meth:`dump`."""
        def table(items: list[list[Any]]) -> dict[Any, Record]:
            return {tuple(key) if isinstance(key, list) else key: copy.deepcopy(record)
                    for key, record in items}

        self._nodes = table(data["Nodes"])
        self._services = table(data["Services"])
        self._checks = table(data["Checks"])
        self._coords = table(data["Coordinates"])
        self._index = {str(key): int(value) for key, value in data["Index"].items()}
        vips = data.get("VirtualIPs") or {}
        self._vips = {str(r["Service"]["Name"]).lower(): copy.deepcopy(r)
                      for r in vips.get("Services") or ()}
        self._vip_counter = int(vips.get("Counter") or 0)
        freed = vips.get("Freed")
        self._vip_freed = None if freed is None else int(freed)

    # -- virtual IPs (catalog.go assignServiceVirtualIP, freeServiceVirtualIP) ---------------

    def _vip_snapshot(self) -> Restore:
        """What a write transaction saves of the virtual-IP tables (rows are replaced)."""
        saved = dict(self._vips), self._vip_counter, self._vip_freed

        def restore() -> None:
            self._vips = dict(saved[0])
            self._vip_counter, self._vip_freed = saved[1], saved[2]

        return restore

    def virtual_ip(self, service: str) -> str:
        """VirtualIPForService: the service's virtual IP, or "" without one."""
        row = self._vips.get(service.lower())
        return "" if row is None else _vip_address(row["IP"])

    def service_virtual_ips(self, service: str) -> tuple[list[str], list[str]] | None:
        """serviceVIPsTxn as ServiceDiscoveryChain reads it: ``(auto, manual)``, the assigned
        VIP and a copy of the manual ones (``[]`` when none), or None without a row."""
        row = self._vips.get(service.lower())
        if row is None:
            return None
        return [_vip_address(row["IP"])], list(row["ManualIPs"] or ())

    def assign_virtual_ip(self, index: int, service: str) -> str:
        """assignServiceVirtualIP: the service's VIP, assigned at ``index`` if it has none,
        from the freed row first, else from the counter (240.0.0.1 first)."""
        row = self._vips.get(service.lower())
        if row is not None:
            return _vip_address(row["IP"])
        if self._vip_freed is not None:
            offset, self._vip_freed = self._vip_freed, None
        else:
            offset = self._vip_counter + 1
            if offset == _VIRTUAL_IP_MAX_OFFSET:
                raise RPCError("cannot allocate any more unique service virtual IPs")
            self._vip_counter = offset
        self._vips[service.lower()] = {
            "Service": {"Name": service, "Peer": ""},
            "IP": offset,
            "ManualIPs": None,
            "CreateIndex": index,
            "ModifyIndex": index,
        }
        self._bump(_VIRTUAL_IPS_INDEX, index)
        return _vip_address(offset)

    def free_virtual_ip(self, index: int, service: str) -> None:
        """freeServiceVirtualIP: with the flag on, drop the service's VIP unless an instance
        of it is left or a resolver, router, splitter, service-defaults or intentions entry
        names it (the dev agent has no terminating gateways' services table to consult).

        The freed offset goes into free-virtual-ips, whose ID index is a StringFieldIndex over
        a ``net.IP`` field: every IP indexes as ``"<net.IP Value>"``, so the table holds one
        freed row besides the counter, and a second free replaces the first.
        """
        if not self.virtual_ips_enabled:
            return
        name = service.lower()
        if any(s["Service"].lower() == name for s in self._services.values()):
            return
        entries = config_entries(self._store)
        if any(entries.get(kind, service)[1] is not None for kind in _VIRTUAL_IP_KINDS):
            return
        row = self._vips.pop(name, None)
        if row is None:
            return
        self._vip_freed = row["IP"]
        self._bump(_VIRTUAL_IPS_INDEX, index)

    def assign_manual_virtual_ips(self, service: str, ips: list[str]) -> tuple[bool, list[str]]:
        """AssignManualServiceVIPs (one Raft entry): give ``service`` these manual VIPs, taking
        each away from any other service that had it. ``(found, services changed)``; a
        service without a VIP row changes nothing."""
        index = self._store.next_index()
        row = self._vips.get(service.lower())
        if row is None:
            return False, []
        wanted = set(ips)
        modified: list[str] = []
        for key, other in sorted(self._vips.items()):
            if key == service.lower() or not wanted.intersection(other["ManualIPs"] or ()):
                continue
            kept = [ip for ip in other["ManualIPs"] if ip not in wanted]
            self._vips[key] = dict(other, ManualIPs=kept or None, ModifyIndex=index)
            modified.append(other["Service"]["Name"])
        self._vips[service.lower()] = dict(row, ManualIPs=list(ips), ModifyIndex=index)
        self._bump(_VIRTUAL_IPS_INDEX, index)
        self._store.commit()
        return True, modified

    def _with_virtual_ip(self, index: int, node: str, svc: Record) -> Record:
        """ensureServiceTxn: a connect proxy, or a connect-native service, carries the VIP of
        the service it stands for in ``TaggedAddresses["consul-virtual"]`` (its own port)."""
        proxy = svc["Kind"] == CONNECT_PROXY
        if not (proxy or (svc["Connect"] or {}).get("Native")):
            return svc
        name = (svc["Proxy"] or {}).get("DestinationServiceName", "") if proxy else svc["Service"]
        if not self.virtual_ips_enabled or not name:
            return svc
        try:
            vip = self.assign_virtual_ip(index, name)
        except RPCError as exc:
            raise RPCError(f"failed inserting service: failed updating virtual IP: {exc}") from None
        tagged = dict(svc["TaggedAddresses"] or {})
        tagged[TAGGED_ADDRESS_VIRTUAL_IP] = {"Address": vip, "Port": svc["Port"]}
        return dict(svc, TaggedAddresses=tagged)

    # -- NodeCatalog (session validation) ---------------------------------------------------

    def has_node(self, node: str) -> bool:
        return node.lower() in self._nodes

    def check_status(self, node: str, check_id: str) -> str | None:
        check = self._checks.get((node.lower(), check_id.lower()))
        return None if check is None else str(check["Status"])

    # -- lookups ----------------------------------------------------------------------------

    def node(self, name: str) -> Record | None:
        """The node named ``name`` (case-insensitive), or None."""
        return self._nodes.get(name.lower())

    def find_node(self, name_or_id: str) -> Record | None:
        """state.nodeServices' lookup: by name, else by a unique ID prefix (2+ characters)."""
        node = self._nodes.get(name_or_id.lower())
        if node is not None or len(name_or_id) < 2:
            return node
        prefix = name_or_id.lower()
        if len(prefix) % 2:
            prefix = prefix[:-1]  # resizeNodeLookupKey
        matches = [
            n for n in self._nodes.values() if n["ID"] and n["ID"].lower().startswith(prefix)
        ]
        return matches[0] if len(matches) == 1 else None

    def _node_services(self, node: str) -> list[Record]:
        lowered = node.lower()
        keys = sorted(k for k in self._services if k[0] == lowered)
        return [self._services[k] for k in keys]

    def _node_checks(self, node: str) -> list[Record]:
        lowered = node.lower()
        keys = sorted(k for k in self._checks if k[0] == lowered)
        return [self._checks[k] for k in keys]

    # -- writes -----------------------------------------------------------------------------

    def _touch(self, *channels: str) -> None:
        self._store.touch(*channels)

    def _update_all_service_indexes_of_node(self, node: str, index: int) -> None:
        for svc in self._node_services(node):
            self._bump(f"service.{svc['Service']}", index)
        self._touch(SERVICES)

    def _insert_node(self, node: Record) -> None:
        """catalogInsertNode."""
        index = node["ModifyIndex"]
        self._nodes[node["Node"].lower()] = node
        self._bump("nodes", index)
        self._bump(f"node.{node['Node']}", index)
        self._update_all_service_indexes_of_node(node["Node"], index)
        self._touch(NODES)

    def _ensure_node(self, index: int, node: Record) -> None:
        """state.ensureNodeTxn, with its ID rename and name-clash rules."""
        existing: Record | None = None
        if node["ID"]:
            by_id = [n for n in self._nodes.values() if n["ID"].lower() == node["ID"].lower()]
            if by_id:
                existing = by_id[0]
                if existing["Node"].lower() != node["Node"].lower():
                    clash = self._name_clash(node, allow_without_id=False)
                    if clash:
                        raise RPCError(
                            f"failed inserting node: Error while renaming Node ID: "
                            f'"{node["ID"]}" ({node["Address"]}): {clash}'
                        )
                    self._delete_node(index, existing["Node"])
            else:
                clash = self._name_clash(node, allow_without_id=True)
                if clash:
                    raise RPCError(
                        f'failed inserting node: Error while renaming Node ID: "{node["ID"]}": '
                        f"{clash}"
                    )
        if existing is None:
            existing = self._nodes.get(node["Node"].lower())
        if _stamp(node, existing, index, _node_is_same):
            return
        self._insert_node(node)

    def _name_clash(self, node: Record, *, allow_without_id: bool) -> str | None:
        """ensureNoNodeWithSimilarNameTxn."""
        for other in self._nodes.values():
            if other["Node"].lower() != node["Node"].lower() or other["ID"] == node["ID"]:
                continue
            serf = self._checks.get((other["Node"].lower(), SERF_CHECK_ID.lower()))
            healthy = serf is not None and serf["Status"] != CRITICAL
            if not (other["ID"] == "" and allow_without_id) and healthy:
                return (
                    f"Node name {node['Node']} is reserved by node {other['ID']} with name "
                    f"{other['Node']} ({other['Address']})"
                )
        return None

    def _ensure_service(self, index: int, node: str, svc: Record) -> None:
        """state.ensureServiceTxn."""
        problem = validate_meta(svc["Meta"], svc["Kind"])
        if problem:
            raise RPCError(
                f"failed inserting service: Invalid Service Meta for node {node} and "
                f"serviceID {svc['ID']}: {problem}"
            )
        svc = self._with_virtual_ip(index, node, svc)
        key = _svc_key(node, svc["ID"])
        existing = self._services.get(key)
        entry = dict(svc, Node=node)
        if _stamp(entry, existing, index, _service_is_same):
            return
        self._services[key] = entry
        # catalogInsertService
        self._bump("services", index)
        self._bump(f"service.{entry['Service']}", index)
        self._bump("nodes", index)
        self._bump(f"node.{node}", index)
        self._touch(SERVICES, NODES)

    def _ensure_check(self, index: int, check: Record) -> None:
        """state.ensureCheckTxn."""
        key = (check["Node"].lower(), check["CheckID"].lower())
        existing = self._checks.get(key)
        if existing is not None:
            check["CreateIndex"] = existing["CreateIndex"]
            check["ModifyIndex"] = existing["ModifyIndex"]
        else:
            check["CreateIndex"] = index
        if not check["Status"]:
            check["Status"] = CRITICAL
        if check["Node"].lower() not in self._nodes:
            raise RPCError(
                f'failed inserting check on node "{check["Node"]}": Missing node registration'
            )
        modified = True
        if check["ServiceID"]:
            svc = self._services.get(_svc_key(check["Node"], check["ServiceID"]))
            if svc is None:
                raise RPCError(
                    f'failed inserting check on node "{check["Node"]}": '
                    "Missing service registration"
                )
            check["ServiceName"] = svc["Service"]
            check["ServiceTags"] = svc["Tags"]
            if existing is not None and _check_is_same(check, existing):
                modified = False
            else:
                self._bump(f"service.{svc['Service']}", index)
                self._touch(SERVICES)
        elif existing is not None and _check_is_same(check, existing):
            modified = False
        else:
            self._update_all_service_indexes_of_node(check["Node"], index)
        if check["Status"] == CRITICAL:
            self._store.invalidate_check_sessions(index, check["Node"], check["CheckID"])
        if not modified:
            return
        check["ModifyIndex"] = index
        self._checks[key] = check
        self._bump("checks", index)
        self._touch(CHECKS)

    def _delete_check(self, index: int, node: str, check_id: str) -> None:
        """state.deleteCheckTxn."""
        check = self._checks.pop((node.lower(), check_id.lower()), None)
        if check is None:
            return
        if check["ServiceID"]:
            self._bump(f"service.{check['ServiceName']}", index)
        else:
            self._update_all_service_indexes_of_node(check["Node"], index)
            self._bump("services", index)
        self._bump("checks", index)
        self._touch(CHECKS, SERVICES)
        self._store.invalidate_check_sessions(index, check["Node"], check["CheckID"])

    def _delete_service(self, index: int, node: str, service_id: str) -> None:
        """state.deleteServiceTxn."""
        key = _svc_key(node, service_id)
        svc = self._services.get(key)
        if svc is None:
            return
        for check in self._node_checks(node):
            if check["ServiceID"].lower() == service_id.lower():
                self._delete_check(index, node, check["CheckID"])
        self._bump("checks", index)
        del self._services[key]
        self._bump("services", index)
        self._bump("nodes", index)
        self._bump(f"node.{node}", index)
        name = svc["Service"].lower()
        if any(s["Service"].lower() == name for s in self._services.values()):
            self._bump(f"service.{name}", index)
        else:
            self._index.pop(f"service.{name}", None)
            self._bump("service_last_extinction", index)
            self.free_virtual_ip(index, svc["Service"])
        self._touch(SERVICES, NODES, CHECKS)

    def _delete_node(self, index: int, name: str) -> None:
        """state.deleteNodeTxn: services, checks, coordinates, the node, its sessions."""
        node = self._nodes.get(name.lower())
        if node is None:
            return
        for svc in self._node_services(name):
            self._bump(f"service.{svc['Service']}", index)
            self._delete_service(index, name, svc["ID"])
        for check in self._node_checks(name):
            self._delete_check(index, name, check["CheckID"])
        for key in [k for k in self._coords if k[0] == name.lower()]:
            del self._coords[key]
            self._bump("coordinates", index)
            self._touch(COORDINATES)
        del self._nodes[name.lower()]
        self._bump("nodes", index)
        self._index.pop(f"node.{name}".lower(), None)
        self._bump("node_last_extinction", index)
        self._touch(NODES)
        self._store.invalidate_node_sessions(index, name)

    def register(
        self,
        req: Record,
        *,
        index: int | None = None,
        vet: Callable[[Record | None, list[Record]], None] | None = None,
    ) -> None:
        """Catalog.Register then state.EnsureRegistration (one Raft entry).

        ``req`` is shaped like structs.RegisterRequest (``Node``, ``Address``, ``Service``,
        ``Check``, ``Checks``...). ``index`` is only for entries written at agent start-up.
        ``vet`` is called with the service (its ID defaulted) and the flattened checks where
        Catalog.Register applies its ACL policy (servicePreApply, then vetRegisterWithACL):
        after the request's validation, before anything is written.
        """
        node_name = req.get("Node", "")
        if not node_name:
            raise RPCError("Must provide node")
        node_id = req.get("ID", "")
        if node_id:
            problem = _parse_uuid(node_id)
            if problem:
                raise RPCError(f"Bad node ID: {problem}")
        if not req.get("Address") and not req.get("SkipNodeUpdate"):
            raise RPCError("Must provide address if SkipNodeUpdate is not set")
        service: Record | None = req.get("Service")
        if service is not None:
            service = _service_pre_apply(service)
        checks: list[Record] = [dict(c) for c in req.get("Checks") or () if c is not None]
        if req.get("Check") is not None:
            checks.append(dict(req["Check"]))
        for check in checks:
            if not check.get("Node"):
                check["Node"] = node_name
            if not check.get("CheckID") and check.get("Name"):
                check["CheckID"] = check["Name"]
            if not check.get("Type"):
                check["Type"] = check_type(check.get("Definition"))
        if vet is not None:
            vet(service, checks)
        # vetRegisterWithACL: its node and service checks apply with ACLs disabled too.
        existing_node = self._nodes.get(node_name.lower())
        for check in checks:
            if check["Node"].lower() != node_name.lower():
                raise RPCError(
                    f"Node '{check['Node']}' for check '{check.get('CheckID', '')}' doesn't "
                    f"match register request node '{node_name}'"
                )
            service_id = check.get("ServiceID", "")
            if not service_id or (service is not None and service["ID"] == service_id):
                continue
            known = existing_node is not None and any(
                s["ID"] == service_id for s in self._node_services(existing_node["Node"])
            )
            if not known:
                raise RPCError(
                    f"Unknown service ID '{service_id}' for check ID '{check.get('CheckID', '')}'"
                )
        write = self._store.next_index() if index is None else index
        self._apply_register(write, req, service, checks)
        self._store.commit()

    def _apply_register(
        self, index: int, req: Record, service: Record | None, checks: list[Record]
    ) -> None:
        """state.ensureRegistrationTxn."""
        node: Record = {
            "ID": req.get("ID", ""),
            "Node": req["Node"],
            "Address": req.get("Address", ""),
            "Datacenter": req.get("Datacenter", ""),
            "TaggedAddresses": req.get("TaggedAddresses"),
            "Meta": req.get("NodeMeta"),
            "Locality": req.get("Locality"),
        }
        existing = self._nodes.get(node["Node"].lower())
        if existing is None or (
            not req.get("SkipNodeUpdate") and not _node_is_same(node, existing)
        ):
            self._ensure_node(index, node)
        if service is not None:
            self._ensure_service(index, req["Node"], service)
        for check in checks:
            self._ensure_check(index, _check_record(check))

    def deregister(self, node: str, service_id: str = "", check_id: str = "") -> None:
        """Catalog.Deregister then applyDeregister: a service, else a check, else the node."""
        if not node:
            raise RPCError("Must provide node")
        index = self._store.next_index()
        if service_id:
            self._delete_service(index, node, service_id)
        elif check_id:
            self._delete_check(index, node, check_id)
        else:
            self._delete_node(index, node)
        self._store.commit()

    def coordinate_batch_update(self, updates: list[Record]) -> None:
        """state.CoordinateBatchUpdate: unknown nodes are skipped, the table index moves."""
        index = self._store.next_index()
        for update in updates:
            node = self._nodes.get(update["Node"].lower())
            if node is None:
                continue
            key = (update["Node"].lower(), update.get("Segment", ""))
            self._coords[key] = {
                "Node": update["Node"],
                "Segment": update.get("Segment", ""),
                "Coord": update["Coord"],
            }
        self._index["coordinates"] = index
        self._touch(COORDINATES)
        self._store.commit()

    # -- reads ------------------------------------------------------------------------------

    def nodes(self, meta: dict[str, str] | None = None) -> tuple[int, list[Record]]:
        """state.Nodes / NodesByMeta."""
        nodes = [self._nodes[k] for k in sorted(self._nodes)]
        if meta:
            nodes = [n for n in nodes if _meta_matches(n["Meta"], meta)]
        return self._max("nodes"), nodes

    def services(self, meta: dict[str, str] | None = None) -> tuple[int, list[Record]]:
        """state.Services / ServicesByNodeMeta: raw service rows, service-name order."""
        rows = sorted(
            self._services.values(),
            key=lambda s: (s["Service"].lower(), s["Node"].lower(), s["ID"].lower()),
        )
        if not meta:
            return self._max("services"), rows
        index = self._max("services", "nodes")
        matching = {k for k, n in self._nodes.items() if _meta_matches(n["Meta"], meta)}
        return index, [s for s in rows if s["Node"].lower() in matching]

    def _instances(self, name: str, *, connect: bool) -> list[Record]:
        lowered = name.lower()
        if connect:
            rows = [
                s
                for s in self._services.values()
                if (
                    s["Kind"] == CONNECT_PROXY
                    and (s["Proxy"] or {}).get("DestinationServiceName", "").lower() == lowered
                )
                or ((s["Connect"] or {}).get("Native") and s["Service"].lower() == lowered)
            ]
            return sorted(
                rows, key=lambda s: (s["Service"].lower(), s["Node"].lower(), s["ID"].lower())
            )
        rows = [s for s in self._services.values() if s["Service"].lower() == lowered]
        return sorted(rows, key=lambda s: (s["Node"].lower(), s["ID"].lower()))

    def service_nodes(
        self, name: str, *, tags: list[str] | None = None, connect: bool = False
    ) -> tuple[int, list[tuple[Record, Record]]]:
        """state.ServiceNodes / ServiceTagNodes / ConnectServiceNodes: (service, node) pairs."""
        rows = self._instances(name, connect=connect)
        exists = bool(rows)
        if tags is not None and not connect:
            rows = [s for s in rows if _has_tags(s, tags)]
        pairs = [(s, self._nodes[s["Node"].lower()]) for s in rows]
        return self.max_index_for_service(name, exists, False), pairs

    def node_services(self, name_or_id: str) -> tuple[int, Record | None, list[Record]]:
        """state.NodeServices: (index, node or None, its services in ID order)."""
        node = self.find_node(name_or_id)
        if node is None:
            extinct = self._index.get("node_last_extinction", 0) if len(name_or_id) >= 2 else 0
            return extinct, None, []
        return self._max(f"node.{node['Node']}"), node, self._node_services(node["Node"])

    def node_checks(self, node: str) -> tuple[int, list[Record]]:
        """state.NodeChecks."""
        return self._max("checks"), self._node_checks(node)

    def service_checks(
        self, name: str, meta: dict[str, str] | None = None
    ) -> tuple[int, list[Record]]:
        """state.ServiceChecks / ServiceChecksByNodeMeta."""
        lowered = name.lower()
        keys = sorted(k for k, c in self._checks.items() if c["ServiceName"].lower() == lowered)
        checks = [self._checks[k] for k in keys]
        if not meta:
            return self._max("checks"), checks
        index = self.max_index_for_service(name, True, True)
        return index, [c for c in checks if self._node_meta_matches(c["Node"], meta)]

    def checks_in_state(
        self, state: str, meta: dict[str, str] | None = None
    ) -> tuple[int, list[Record]]:
        """state.ChecksInState / ChecksInStateByNodeMeta (``any`` lists every check)."""
        checks = [self._checks[k] for k in sorted(self._checks)]
        if state != "any":
            checks = [c for c in checks if c["Status"] == state]
        if meta:
            checks = [c for c in checks if self._node_meta_matches(c["Node"], meta)]
        return self._max("checks"), checks

    def _node_meta_matches(self, node: str, meta: dict[str, str]) -> bool:
        record = self._nodes.get(node.lower())
        return record is not None and _meta_matches(record["Meta"], meta)

    def check_service_nodes(
        self, name: str, *, tags: list[str] | None = None, connect: bool = False
    ) -> tuple[int, list[tuple[Record, Record, list[Record]]]]:
        """state.CheckServiceNodes / CheckServiceTagNodes / CheckConnectServiceNodes.

        Returns (index, [(node, service, checks)]): node checks first, then service checks.
        """
        rows = self._instances(name, connect=connect)
        if tags is not None and not connect:
            exists = bool(rows)
            rows = [s for s in rows if _has_tags(s, tags)]
            index = self.max_index_for_service(name, exists, True)
        elif rows:
            names = {s["Service"] for s in rows}
            index = max(self.max_index_for_service(n, True, True) for n in names)
        else:
            index = self.max_index_for_service(name, False, True)
        out = []
        for svc in rows:
            node = self._nodes[svc["Node"].lower()]
            checks = [c for c in self._node_checks(svc["Node"]) if not c["ServiceID"]]
            checks += [
                c
                for c in self._node_checks(svc["Node"])
                if c["ServiceID"] and c["ServiceID"].lower() == svc["ID"].lower()
            ]
            out.append((node, svc, checks))
        return index, out

    def coordinates(self) -> tuple[int, list[Record]]:
        """state.Coordinates, node-name order."""
        return self._max("coordinates"), [self._coords[k] for k in sorted(self._coords)]

    def coordinate(self, node: str) -> tuple[int, dict[str, Record]]:
        """state.Coordinate: segment -> coordinate for one node."""
        lowered = node.lower()
        coords = {k[1]: c["Coord"] for k, c in self._coords.items() if k[0] == lowered}
        return self._max("coordinates"), coords

    def sort_by_distance(
        self, source: str, items: list[Any], node_of: Callable[[Any], str]
    ) -> None:
        """Server.sortNodesByDistanceFrom: a stable sort; nodes without a coordinate go last."""
        if not source:
            return
        origin = self.coordinate(source)[1].get("")
        if origin is None:
            return
        distances = [
            compute_distance(origin, self.coordinate(node_of(i))[1].get("")) for i in items
        ]
        order = sorted(range(len(items)), key=lambda i: distances[i])
        items[:] = [items[i] for i in order]


# -- helpers ---------------------------------------------------------------------------------


def _meta_matches(meta: dict[str, str] | None, wanted: dict[str, str]) -> bool:
    """structs.SatisfiesMetaFilters."""
    meta = meta or {}
    return all(k in meta and meta[k] == v for k, v in wanted.items())


def _has_tags(svc: Record, tags: list[str]) -> bool:
    """Not serviceTagsFilter: every requested tag is present, case-insensitively."""
    present = {t.lower() for t in svc["Tags"] or ()}
    return all(t.lower() in present for t in tags)


def _node_is_same(a: Record, b: Record) -> bool:
    """structs.Node.IsSame (nil and empty maps differ, as reflect.DeepEqual says)."""
    return (
        a["ID"] == b["ID"]
        and a["Node"].lower() == b["Node"].lower()
        and a["Address"] == b["Address"]
        and a["Datacenter"] == b["Datacenter"]
        and a["TaggedAddresses"] == b["TaggedAddresses"]
        and a["Meta"] == b["Meta"]
        and (a["TaggedAddresses"] is None) == (b["TaggedAddresses"] is None)
        and (a["Meta"] is None) == (b["Meta"] is None)
    )


_SERVICE_FIELDS: Final = (
    "Kind",
    "ID",
    "Service",
    "Tags",
    "Address",
    "TaggedAddresses",
    "Meta",
    "Port",
    "SocketPath",
    "Weights",
    "EnableTagOverride",
    "Proxy",
    "Connect",
    "Locality",
)


def _service_is_same(a: Record, b: Record) -> bool:
    """structs.ServiceNode.IsSameService."""
    return a["Node"].lower() == b["Node"].lower() and all(
        a[f] == b[f] and (a[f] is None) == (b[f] is None) for f in _SERVICE_FIELDS
    )


_CHECK_FIELDS: Final = (*_CHECK_HEAD[1:], "Definition")  # the node is compared case-blind


def _check_is_same(a: Record, b: Record) -> bool:
    """structs.HealthCheck.IsSame."""
    return a["Node"].lower() == b["Node"].lower() and all(a[f] == b[f] for f in _CHECK_FIELDS)


def _service_pre_apply(service: Record) -> Record:
    """servicePreApply and NodeService.ToServiceNode defaults."""
    problems = validate_node_service(service)
    if problems:
        raise RPCError(multierror(problems))
    svc = _service_record(service)
    if not svc["ID"] and svc["Service"]:
        svc["ID"] = svc["Service"]
    if svc["ID"] and not svc["Service"]:
        raise RPCError("Must provide service name (Service.Service) when service ID is provided")
    if svc["Address"] in ("0.0.0.0", "::", "[::]"):  # ipaddr.IsAny
        raise RPCError("Invalid service address")
    return svc


def _weights(weights: Record | None) -> Record:
    """ToServiceNode: {1, 1} unless the given weights pass ValidateWeights."""
    if weights is not None:
        passing, warning = weights.get("Passing", 0), weights.get("Warning", 0)
        if passing >= 1 and warning >= 0 and passing <= 65535 and warning <= 65535:
            return {"Passing": passing, "Warning": warning}
    return {"Passing": 1, "Warning": 1}


def _service_record(service: Record) -> Record:
    """A stored service row from a NodeService-shaped request."""
    return {
        "Kind": service.get("Kind", ""),
        "ID": service.get("ID", ""),
        "Service": service.get("Service", ""),
        "Tags": service.get("Tags"),
        "Address": service.get("Address", ""),
        "TaggedAddresses": service.get("TaggedAddresses") or None,
        "Meta": service.get("Meta"),
        "Port": service.get("Port", 0),
        "SocketPath": service.get("SocketPath", ""),
        "Weights": _weights(service.get("Weights")),
        "EnableTagOverride": service.get("EnableTagOverride", False),
        "Proxy": service.get("Proxy") or {},
        "Connect": service.get("Connect") or {},
        "Locality": service.get("Locality"),
        "CreateIndex": 0,
        "ModifyIndex": 0,
    }


def _check_record(check: Record) -> Record:
    """A stored check row from a HealthCheck-shaped request."""
    return {
        "Node": check.get("Node", ""),
        "CheckID": check.get("CheckID", ""),
        "Name": check.get("Name", ""),
        "Status": check.get("Status", ""),
        "Notes": check.get("Notes", ""),
        "Output": check.get("Output", ""),
        "ServiceID": check.get("ServiceID", ""),
        "ServiceName": check.get("ServiceName", ""),
        "ServiceTags": check.get("ServiceTags"),
        "Type": check.get("Type", ""),
        "Interval": check.get("Interval", ""),
        "Timeout": check.get("Timeout", ""),
        "ExposedPort": check.get("ExposedPort", 0),
        "Definition": dict(check.get("Definition") or {}),
        "CreateIndex": 0,
        "ModifyIndex": 0,
    }


def _vip_address(offset: int) -> str:
    """addIPOffset(startingVirtualIP, offset) as dotted text."""
    value = _VIRTUAL_IP_START + offset
    return ".".join(str((value >> shift) & 0xFF) for shift in (24, 16, 8, 0))
