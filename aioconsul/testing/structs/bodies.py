"""Request bodies of the catalog, agent and coordinate endpoints, decoded the way Consul does.

Consul decodes these bodies with ``lib.DecodeJSON`` (``DisallowUnknownFields``) into Go structs,
several of which have an ``UnmarshalJSON`` that also accepts snake_case keys
(``structs.ServiceDefinition``, ``CheckType``, ``CheckDefinition``, ``ConnectProxyConfig``,
``Upstream``, ``ServiceConnect``) and Go durations as strings or nanoseconds. This module
states those Go types as :mod:`~aioconsul.testing.golang.jsondecode` schemas and turns a decoded
body into plain dicts with every field present (Consul's zero values for the absent ones), so
that the endpoint code never looks at raw JSON.

It never validates Consul semantics (missing names, bad statuses): the endpoints do that, in
Consul's order. Pure: no I/O, no asyncio, no aiohttp.
"""

from __future__ import annotations

from typing import Any, Final

from ..golang.jsondecode import (
    Bool,
    Custom,
    DecodeState,
    GoTypeError,
    Int,
    List,
    Map,
    Opaque,
    Ptr,
    Str,
    Struct,
    Uint,
    unmarshal,
)
from ..golang.stdlib import GoSyntaxError, json_kind, parse_duration

__all__ = [
    "check_definition",
    "check_update",
    "coordinate_update",
    "deregister_request",
    "node_service_from_definition",
    "register_request",
    "service_definition",
]

Record = dict[str, Any]


def _duration(value: Any, state: DecodeState) -> int:
    """The ``interface{}`` duration fields: a Go duration string, or nanoseconds."""
    if isinstance(value, str):
        return parse_duration(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    return 0  # Go's type switch ignores any other kind


def _float(value: Any, state: DecodeState) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    raise GoTypeError(json_kind(value), "float64").in_context(state)


_STR: Final = Str()
_INT: Final = Int()
_BOOL: Final = Bool()
_STRS: Final = List(_STR)
_DURATION: Final = Custom(_duration, "interface {}")
_FLOAT: Final = Custom(_float, "float64")
_UINT: Final = Uint()

_SERVICE_ADDRESS: Final = Struct(
    "structs.ServiceAddress", "ServiceAddress", {"Address": _STR, "Port": _INT}
)
_WEIGHTS: Final = Struct("structs.Weights", "Weights", {"Passing": _INT, "Warning": _INT})
_LOCALITY: Final = Struct("structs.Locality", "Locality", {"Region": _STR, "Zone": _STR})
_MESH_GATEWAY: Final = Struct(
    "structs.MeshGatewayConfig", "MeshGatewayConfig", {"Mode": Str("structs.MeshGatewayMode")}
)
_EXPOSE_PATH: Final = Struct(
    "structs.ExposePath",
    "ExposePath",
    {
        "ListenerPort": _INT,
        "Path": _STR,
        "LocalPathPort": _INT,
        "Protocol": _STR,
        "ParsedFromCheck": _BOOL,
        "listener_port": _INT,
        "local_path_port": _INT,
    },
)
_EXPOSE: Final = Struct(
    "structs.ExposeConfig", "ExposeConfig", {"Checks": _BOOL, "Paths": List(_EXPOSE_PATH)}
)
_TPROXY: Final = Struct(
    "structs.TransparentProxyConfig",
    "TransparentProxyConfig",
    {
        "OutboundListenerPort": _INT,
        "DialedDirectly": _BOOL,
        "outbound_listener_port": _INT,
        "dialed_directly": _BOOL,
    },
)
_ACCESS_LOGS: Final = Struct(
    "structs.AccessLogsConfig",
    "AccessLogsConfig",
    {
        "Enabled": _BOOL,
        "DisableListenerLogs": _BOOL,
        "Type": Str("structs.LogSinkType"),
        "Path": _STR,
        "JSONFormat": _STR,
        "TextFormat": _STR,
        "disable_listener_logs": _BOOL,
        "json_format": _STR,
        "text_format": _STR,
    },
)
_UPSTREAM_SNAKE: Final = {
    "destination_type": "DestinationType",
    "destination_namespace": "DestinationNamespace",
    "destination_partition": "DestinationPartition",
    "destination_peer": "DestinationPeer",
    "destination_name": "DestinationName",
    "local_bind_address": "LocalBindAddress",
    "local_bind_port": "LocalBindPort",
    "local_bind_socket_path": "LocalBindSocketPath",
    "local_bind_socket_mode": "LocalBindSocketMode",
    "mesh_gateway": "MeshGateway",
}
_UPSTREAM: Final = Struct(
    "structs.Upstream",
    "",
    {
        "DestinationType": _STR,
        "DestinationNamespace": _STR,
        "DestinationPartition": _STR,
        "DestinationPeer": _STR,
        "DestinationName": _STR,
        "Datacenter": _STR,
        "LocalBindAddress": _STR,
        "LocalBindPort": _INT,
        "LocalBindSocketPath": _STR,
        "LocalBindSocketMode": _STR,
        "Config": Map(Opaque()),
        "MeshGateway": _MESH_GATEWAY,
        "CentrallyConfigured": _BOOL,
        **{snake: _STR for snake in _UPSTREAM_SNAKE},
        "local_bind_port": _INT,
        "mesh_gateway": _MESH_GATEWAY,
    },
)
_PROXY_SNAKE: Final = {
    "destination_service_name": "DestinationServiceName",
    "destination_service_id": "DestinationServiceID",
    "local_service_address": "LocalServiceAddress",
    "local_service_port": "LocalServicePort",
    "local_service_socket_path": "LocalServiceSocketPath",
    "mesh_gateway": "MeshGateway",
    "transparent_proxy": "TransparentProxy",
    "access_logs": "AccessLogs",
}
_PROXY: Final = Struct(
    "structs.ConnectProxyConfig",
    "",
    {
        "EnvoyExtensions": List(Opaque()),
        "DestinationServiceName": _STR,
        "DestinationServiceID": _STR,
        "LocalServiceAddress": _STR,
        "LocalServicePort": _INT,
        "LocalServiceSocketPath": _STR,
        "Mode": Str("structs.ProxyMode"),
        "Config": Map(Opaque()),
        "Upstreams": List(_UPSTREAM),
        "MeshGateway": _MESH_GATEWAY,
        "Expose": _EXPOSE,
        "TransparentProxy": _TPROXY,
        "AccessLogs": _ACCESS_LOGS,
        "destination_service_name": _STR,
        "destination_service_id": _STR,
        "local_service_address": _STR,
        "local_service_port": _INT,
        "local_service_socket_path": _STR,
        "mesh_gateway": _MESH_GATEWAY,
        "transparent_proxy": _TPROXY,
        "access_logs": _ACCESS_LOGS,
    },
)
_CHECK_SNAKE: Final = {
    "script_args": "ScriptArgs",
    "deregister_critical_service_after": "DeregisterCriticalServiceAfter",
    "docker_container_id": "DockerContainerID",
    "tls_server_name": "TLSServerName",
    "tls_skip_verify": "TLSSkipVerify",
    "grpc_use_tls": "GRPCUseTLS",
    "service_id": "ServiceID",
}
# Where a service is reached, as ServiceDefinition and NodeService both list it (same order).
_SERVICE_ADDRESSING: Final[dict[str, Any]] = {
    "Tags": _STRS,
    "Address": _STR,
    "TaggedAddresses": Map(_SERVICE_ADDRESS),
    "Meta": Map(_STR),
    "Port": _INT,
    "SocketPath": _STR,
}
# The probe settings CheckType and HealthCheckDefinition both carry, in the same order.
_PROBE: Final[dict[str, Any]] = {
    "Header": Map(_STRS),
    "Method": _STR,
    "Body": _STR,
    "DisableRedirects": _BOOL,
    "TCP": _STR,
    "TCPUseTLS": _BOOL,
    "UDP": _STR,
}
_CHECK_COMMON: Final[dict[str, Any]] = {
    "Name": _STR,
    "Status": _STR,
    "Notes": _STR,
    "ScriptArgs": _STRS,
    "HTTP": _STR,
    "H2PING": _STR,
    "H2PingUseTLS": _BOOL,
    **_PROBE,
    "OSService": _STR,
    "Interval": _DURATION,
    "AliasNode": _STR,
    "AliasService": _STR,
    "DockerContainerID": _STR,
    "Shell": _STR,
    "GRPC": _STR,
    "GRPCUseTLS": _BOOL,
    "TLSServerName": _STR,
    "TLSSkipVerify": _BOOL,
    "Timeout": _DURATION,
    "TTL": _DURATION,
    "SuccessBeforePassing": _INT,
    "FailuresBeforeWarning": _INT,
    "FailuresBeforeCritical": _INT,
    "DeregisterCriticalServiceAfter": _DURATION,
    "OutputMaxSize": _INT,
    "args": _STRS,
    "script_args": _STRS,
    "deregister_critical_service_after": _DURATION,
    "docker_container_id": _STR,
    "tls_server_name": _STR,
    "tls_skip_verify": _BOOL,
    "grpc_use_tls": _BOOL,
    "h2ping_use_tls": _BOOL,
    "service_id": _STR,
}
#: structs.CheckType (a service's Check / Checks).
_CHECK_TYPE: Final = Struct(
    "structs.CheckType",
    "",
    {
        "CheckID": Str("types.CheckID"),
        **_CHECK_COMMON,
        "ProxyHTTP": _STR,
        "ProxyGRPC": _STR,
        "ServiceID": _STR,
    },
)
#: structs.CheckDefinition (PUT /v1/agent/check/register).
_CHECK_DEFINITION: Final = Struct(
    "structs.CheckDefinition",
    "",
    {"ID": Str("types.CheckID"), "ServiceID": _STR, "Token": _STR, **_CHECK_COMMON},
)
_SERVICE_DEFINITION: Final = Struct(
    'struct { EnableTagOverrideSnake bool "json:\\"enable_tag_override\\""; '
    'TaggedAddressesSnake map[string]structs.ServiceAddress "json:\\"tagged_addresses\\""; '
    "*structs.Alias }",
    "",
    {
        "Kind": Str("structs.ServiceKind"),
        "ID": _STR,
        "Name": _STR,
        **_SERVICE_ADDRESSING,
        "Check": _CHECK_TYPE,
        "Checks": List(Ptr(_CHECK_TYPE)),
        "Weights": Ptr(_WEIGHTS),
        "Token": _STR,
        "EnableTagOverride": _BOOL,
        "Locality": Ptr(_LOCALITY),
        "Proxy": Ptr(_PROXY),
        "enable_tag_override": _BOOL,
        "tagged_addresses": Map(_SERVICE_ADDRESS),
    },
)
_SERVICE_CONNECT: Final = Struct(
    "structs.ServiceConnect",
    "",
    {
        "Native": _BOOL,
        "SidecarService": Ptr(_SERVICE_DEFINITION),
        "PeerMeta": Opaque(),
        "sidecar_service": Ptr(_SERVICE_DEFINITION),
    },
)
_SERVICE_DEFINITION.fields["Connect"] = Ptr(_SERVICE_CONNECT)  # the type is recursive

_DEFINITION: Final = Struct(
    "structs.HealthCheckDefinition",
    "",
    {
        "HTTP": _STR,
        "TLSServerName": _STR,
        "TLSSkipVerify": _BOOL,
        **_PROBE,
        "H2PING": _STR,
        "OSService": _STR,
        "H2PingUseTLS": _BOOL,
        "Interval": _DURATION,
        "OutputMaxSize": _INT,
        "Timeout": _DURATION,
        "DeregisterCriticalServiceAfter": _DURATION,
        "ScriptArgs": _STRS,
        "DockerContainerID": _STR,
        "Shell": _STR,
        "GRPC": _STR,
        "GRPCUseTLS": _BOOL,
        "AliasNode": _STR,
        "AliasService": _STR,
        "TTL": _DURATION,
    },
    strict=False,  # HealthCheckDefinition.UnmarshalJSON uses plain json.Unmarshal
)
_HEALTH_CHECK: Final = Struct(
    "structs.HealthCheck",
    "HealthCheck",
    {
        "Node": _STR,
        "CheckID": Str("types.CheckID"),
        "Name": _STR,
        "Status": _STR,
        "Notes": _STR,
        "Output": _STR,
        "ServiceID": _STR,
        "ServiceName": _STR,
        "ServiceTags": _STRS,
        "Type": _STR,
        "Interval": _STR,
        "Timeout": _STR,
        "ExposedPort": _INT,
        "PeerName": _STR,
        "Definition": _DEFINITION,
        "CreateIndex": _UINT,
        "ModifyIndex": _UINT,
    },
)
_NODE_SERVICE: Final = Struct(
    "structs.NodeService",
    "NodeService",
    {
        "Kind": Str("structs.ServiceKind"),
        "ID": _STR,
        "Service": _STR,
        **_SERVICE_ADDRESSING,
        "Weights": Ptr(_WEIGHTS),
        "EnableTagOverride": _BOOL,
        "Locality": Ptr(_LOCALITY),
        "Proxy": _PROXY,
        "Connect": _SERVICE_CONNECT,
        "PeerName": _STR,
        "CreateIndex": _UINT,
        "ModifyIndex": _UINT,
    },
)
_REGISTER_REQUEST: Final = Struct(
    "structs.RegisterRequest",
    "RegisterRequest",
    {
        "Datacenter": _STR,
        "ID": Str("types.NodeID"),
        "Node": _STR,
        "Address": _STR,
        "TaggedAddresses": Map(_STR),
        "NodeMeta": Map(_STR),
        "Service": Ptr(_NODE_SERVICE),
        "Check": Ptr(_HEALTH_CHECK),
        "Checks": List(Ptr(_HEALTH_CHECK)),
        "SkipNodeUpdate": _BOOL,
        "PeerName": _STR,
        "Locality": Ptr(_LOCALITY),
        "Token": _STR,
        "CreateIndex": _UINT,
        "ModifyIndex": _UINT,
    },
)
_DEREGISTER_REQUEST: Final = Struct(
    "structs.DeregisterRequest",
    "DeregisterRequest",
    {
        "Node": _STR,
        "ServiceID": _STR,
        "CheckID": Str("types.CheckID"),
        "Datacenter": _STR,
        "PeerName": _STR,
        "Token": _STR,
    },
)
_COORDINATE: Final = Struct(
    "coordinate.Coordinate",
    "Coordinate",
    {"Vec": List(_FLOAT), "Error": _FLOAT, "Adjustment": _FLOAT, "Height": _FLOAT},
)
_COORDINATE_UPDATE: Final = Struct(
    "structs.CoordinateUpdateRequest",
    "CoordinateUpdateRequest",
    {
        "Datacenter": _STR,
        "Node": _STR,
        "Segment": _STR,
        "Coord": Ptr(_COORDINATE),
        "Token": _STR,
    },
)
_CHECK_UPDATE: Final = Struct("agent.checkUpdate", "checkUpdate", {"Status": _STR, "Output": _STR})


def _decode(data: bytes, schema: Struct) -> Record:
    value = unmarshal(data, schema)
    return value if isinstance(value, dict) else {}


def _snake(record: Record, mapping: dict[str, str]) -> Record:
    """The UnmarshalJSON translations: a snake_case key fills its field when that is empty."""
    for snake, camel in mapping.items():
        if snake in record:
            value = record.pop(snake)
            if not record.get(camel):
                record[camel] = value
    return record


def _check(raw: Record | None, *, definition: bool = False) -> Record:
    """A CheckType (or CheckDefinition) with every field, as UnmarshalJSON leaves it."""
    raw = dict(raw or {})
    h2ping_tls = raw.get("H2PingUseTLS", raw.get("h2ping_use_tls"))
    raw.pop("h2ping_use_tls", None)
    args = raw.pop("args", None)
    _snake(raw, _CHECK_SNAKE)
    if not raw.get("ScriptArgs") and args:
        raw["ScriptArgs"] = args
    out: Record = {
        ("ID" if definition else "CheckID"): raw.get("ID" if definition else "CheckID", ""),
        "Name": raw.get("Name", ""),
        "Status": raw.get("Status", ""),
        "Notes": raw.get("Notes", ""),
        "ServiceID": raw.get("ServiceID", ""),
        "Token": raw.get("Token", ""),
        "ScriptArgs": raw.get("ScriptArgs") or None,
        "HTTP": raw.get("HTTP", ""),
        "H2PING": raw.get("H2PING", ""),
        "H2PingUseTLS": bool(raw.get("H2PING")) if h2ping_tls is None else bool(h2ping_tls),
        "Header": raw.get("Header"),
        "Method": raw.get("Method", ""),
        "Body": raw.get("Body", ""),
        "DisableRedirects": raw.get("DisableRedirects", False),
        "TCP": raw.get("TCP", ""),
        "TCPUseTLS": raw.get("TCPUseTLS", False),
        "UDP": raw.get("UDP", ""),
        "OSService": raw.get("OSService", ""),
        "Interval": raw.get("Interval", 0),
        "AliasNode": raw.get("AliasNode", ""),
        "AliasService": raw.get("AliasService", ""),
        "DockerContainerID": raw.get("DockerContainerID", ""),
        "Shell": raw.get("Shell", ""),
        "GRPC": raw.get("GRPC", ""),
        "GRPCUseTLS": raw.get("GRPCUseTLS", False),
        "TLSServerName": raw.get("TLSServerName", ""),
        "TLSSkipVerify": raw.get("TLSSkipVerify", False),
        "Timeout": raw.get("Timeout", 0),
        "TTL": raw.get("TTL", 0),
        "SuccessBeforePassing": raw.get("SuccessBeforePassing", 0),
        "FailuresBeforeWarning": raw.get("FailuresBeforeWarning", 0),
        "FailuresBeforeCritical": raw.get("FailuresBeforeCritical", 0),
        "DeregisterCriticalServiceAfter": raw.get("DeregisterCriticalServiceAfter", 0),
        "OutputMaxSize": raw.get("OutputMaxSize", 0),
    }
    return out


def check_is_empty(check: Record) -> bool:
    """CheckType.Empty(): every field at its zero value."""
    return not any(check.values())


def _proxy(raw: Record | None) -> Record | None:
    if raw is None:
        return None
    proxy = _snake(dict(raw), _PROXY_SNAKE)
    for key in ("TransparentProxy", "AccessLogs"):
        if proxy.get(key):
            proxy[key] = {
                k: v
                for k, v in _snake(
                    dict(proxy[key]),
                    {
                        "outbound_listener_port": "OutboundListenerPort",
                        "dialed_directly": "DialedDirectly",
                        "disable_listener_logs": "DisableListenerLogs",
                        "json_format": "JSONFormat",
                        "text_format": "TextFormat",
                    },
                ).items()
            }
    upstreams = []
    for upstream in proxy.get("Upstreams") or ():
        upstreams.append(_snake(dict(upstream), _UPSTREAM_SNAKE))
    if upstreams:
        proxy["Upstreams"] = upstreams
    if proxy.get("Expose"):
        expose = dict(proxy["Expose"])
        expose["Paths"] = [
            _snake(dict(p), {"listener_port": "ListenerPort", "local_path_port": "LocalPathPort"})
            for p in expose.get("Paths") or ()
        ] or None
        proxy["Expose"] = expose
    return proxy


def _connect(raw: Record | None) -> Record | None:
    if raw is None:
        return None
    connect = _snake(dict(raw), {"sidecar_service": "SidecarService"})
    if connect.get("SidecarService") is not None:
        connect["SidecarService"] = _service(connect["SidecarService"])
    return connect


def _service(raw: Record) -> Record:
    raw = _snake(
        dict(raw),
        {"enable_tag_override": "EnableTagOverride", "tagged_addresses": "TaggedAddresses"},
    )
    check = _check(raw.get("Check"))
    return {
        "Kind": raw.get("Kind", ""),
        "ID": raw.get("ID", ""),
        "Name": raw.get("Name", ""),
        "Tags": raw.get("Tags"),
        "Address": raw.get("Address", ""),
        "TaggedAddresses": raw.get("TaggedAddresses"),
        "Meta": raw.get("Meta"),
        "Port": raw.get("Port", 0),
        "SocketPath": raw.get("SocketPath", ""),
        "Check": None if check_is_empty(check) else check,
        "Checks": [_check(c) for c in raw.get("Checks") or () if c is not None],
        "Weights": raw.get("Weights"),
        "Token": raw.get("Token", ""),
        "EnableTagOverride": raw.get("EnableTagOverride", False),
        "Locality": raw.get("Locality"),
        "Proxy": _proxy(raw.get("Proxy")),
        "Connect": _connect(raw.get("Connect")),
    }


def service_definition(data: bytes) -> Record:
    """PUT /v1/agent/service/register: structs.ServiceDefinition, every field present."""
    return _service(_decode(data, _SERVICE_DEFINITION))


def node_service_from_definition(definition: Record) -> Record:
    """ServiceDefinition.NodeService(): ID defaults to the name, upstream types to service."""
    proxy = dict(definition["Proxy"]) if definition["Proxy"] is not None else {}
    if proxy.get("Upstreams"):
        proxy["Upstreams"] = [
            dict(u, DestinationType=u.get("DestinationType") or "service")
            for u in proxy["Upstreams"]
        ]
    return {
        "Kind": definition["Kind"],
        "ID": definition["ID"] or definition["Name"],
        "Service": definition["Name"],
        "Tags": definition["Tags"],
        "Address": definition["Address"],
        "TaggedAddresses": dict(definition["TaggedAddresses"] or {}) or None,
        "Meta": definition["Meta"],
        "Port": definition["Port"],
        "SocketPath": definition["SocketPath"],
        "Weights": definition["Weights"],
        "EnableTagOverride": definition["EnableTagOverride"],
        "Locality": definition["Locality"],
        "Proxy": proxy,
        "Connect": dict(definition["Connect"] or {}),
    }


def check_definition(data: bytes) -> Record:
    """PUT /v1/agent/check/register: structs.CheckDefinition, every field present."""
    return _check(_decode(data, _CHECK_DEFINITION), definition=True)


def register_request(data: bytes) -> Record:
    """PUT /v1/catalog/register: structs.RegisterRequest (nested shapes as decoded)."""
    req = _decode(data, _REGISTER_REQUEST)
    service = req.get("Service")
    if service is not None:
        service = dict(service)
        service["Proxy"] = _proxy(service.get("Proxy")) or {}
        service["Connect"] = _connect(service.get("Connect")) or {}
        req["Service"] = service
    return req


def deregister_request(data: bytes) -> Record:
    """PUT /v1/catalog/deregister: structs.DeregisterRequest."""
    return _decode(data, _DEREGISTER_REQUEST)


def coordinate_update(data: bytes) -> Record:
    """PUT /v1/coordinate/update: structs.CoordinateUpdateRequest."""
    return _decode(data, _COORDINATE_UPDATE)


def check_update(data: bytes) -> Record:
    """PUT /v1/agent/check/update/:id: agent.checkUpdate {Status, Output}."""
    return _decode(data, _CHECK_UPDATE)


def reword_enterprise_field(error: GoSyntaxError) -> str:
    """HTTPHandlers.rewordUnknownEnterpriseFieldError (catalog register and deregister)."""
    text = str(error)
    if text == 'json: unknown field "Namespace"':
        return f"{text} (Namespaces are a Consul Enterprise feature)"
    return text
