"""The catalog's Go types as ``?filter=`` sees them, and the check as the HTTP API writes it.

The field schemas follow the Go structs ``go-bexpr`` evaluates (fields tagged ``bexpr:"-"``
left out): ``structs.Node``, ``structs.NodeService``, ``structs.HealthCheck``,
``structs.ServiceNode``, ``structs.CheckServiceNode``. Shared by the catalog, health and agent
endpoints; pure.
"""

from __future__ import annotations

from typing import Any, Final

from ..golang.bexpr import FieldSchema, FieldSpec
from ..state.catalog import check_json, node_service_json

__all__ = [
    "CHECK_SCHEMA",
    "CHECK_SERVICE_NODE_SCHEMA",
    "NODE_SCHEMA",
    "NODE_SERVICE_FIELDS",
    "NODE_SERVICE_SCHEMA",
    "PROXY_FIELDS",
    "SERVICE_NODE_SCHEMA",
    "check_out",
    "meta_satisfies",
    "node_service_out",
]

Record = dict[str, Any]


_SERVICE_ADDRESS: Final[dict[str, FieldSpec]] = {"Address": "string", "Port": "int"}


_WEIGHTS: Final[dict[str, FieldSpec]] = {"Passing": "int", "Warning": "int"}


_MESH_GATEWAY: Final[dict[str, FieldSpec]] = {"Mode": "string"}


_UPSTREAM: Final[dict[str, FieldSpec]] = {
    "DestinationType": "string",
    "DestinationNamespace": "string",
    "DestinationPartition": "string",
    "DestinationPeer": "string",
    "DestinationName": "string",
    "Datacenter": "string",
    "LocalBindAddress": "string",
    "LocalBindPort": "int",
    "LocalBindSocketPath": "string",
    "LocalBindSocketMode": "string",
    "MeshGateway": _MESH_GATEWAY,
}


PROXY_FIELDS: Final[dict[str, FieldSpec]] = {
    "DestinationServiceName": "string",
    "DestinationServiceID": "string",
    "LocalServiceAddress": "string",
    "LocalServicePort": "int",
    "LocalServiceSocketPath": "string",
    "Mode": "string",
    "Upstreams": [_UPSTREAM],
    "MeshGateway": _MESH_GATEWAY,
    "Expose": {
        "Checks": "bool",
        "Paths": [
            {
                "ListenerPort": "int",
                "Path": "string",
                "LocalPathPort": "int",
                "Protocol": "string",
                "ParsedFromCheck": "bool",
            }
        ],
    },
    "TransparentProxy": {"OutboundListenerPort": "int", "DialedDirectly": "bool"},
    "AccessLogs": {
        "Enabled": "bool",
        "DisableListenerLogs": "bool",
        "Type": "string",
        "Path": "string",
        "JSONFormat": "string",
        "TextFormat": "string",
    },
}


# A node's identity, first in both structs.Node and structs.ServiceNode.
_NODE_IDENTITY: Final[dict[str, FieldSpec]] = {
    "ID": "string",
    "Node": "string",
    "Address": "string",
    "Datacenter": "string",
}

_NODE_FIELDS: Final[dict[str, FieldSpec]] = {
    **_NODE_IDENTITY,
    "Partition": "string",
    "PeerName": "string",
    "TaggedAddresses": {"*": "string"},
    "Meta": {"*": "string"},
}


NODE_SERVICE_FIELDS: Final[dict[str, FieldSpec]] = {
    "Kind": "string",
    "ID": "string",
    "Service": "string",
    "Tags": ["string"],
    "Address": "string",
    "TaggedAddresses": {"*": _SERVICE_ADDRESS},
    "Meta": {"*": "string"},
    "Port": "int",
    "SocketPath": "string",
    "Weights": _WEIGHTS,
    "EnableTagOverride": "bool",
    "Proxy": PROXY_FIELDS,
    "Connect": {"Native": "bool"},
    "PeerName": "string",
}


_CHECK_FIELDS: Final[dict[str, FieldSpec]] = {
    "Node": "string",
    "CheckID": "string",
    "Name": "string",
    "Status": "string",
    "Notes": "string",
    "Output": "string",
    "ServiceID": "string",
    "ServiceName": "string",
    "ServiceTags": ["string"],
    "Type": "string",
    "Interval": "string",
    "Timeout": "string",
    "ExposedPort": "int",
    "PeerName": "string",
}


NODE_SCHEMA: Final = FieldSchema(_NODE_FIELDS)


NODE_SERVICE_SCHEMA: Final = FieldSchema(NODE_SERVICE_FIELDS)


CHECK_SCHEMA: Final = FieldSchema(_CHECK_FIELDS)


SERVICE_NODE_SCHEMA: Final = FieldSchema(
    {
        **_NODE_IDENTITY,
        "TaggedAddresses": {"*": "string"},
        "NodeMeta": {"*": "string"},
        "ServiceKind": "string",
        "ServiceID": "string",
        "ServiceName": "string",
        "ServiceTags": ["string"],
        "ServiceAddress": "string",
        "ServiceTaggedAddresses": {"*": _SERVICE_ADDRESS},
        "ServiceWeights": _WEIGHTS,
        "ServiceMeta": {"*": "string"},
        "ServicePort": "int",
        "ServiceSocketPath": "string",
        "ServiceEnableTagOverride": "bool",
        "ServiceProxy": PROXY_FIELDS,
        "ServiceConnect": {"Native": "bool"},
        "PeerName": "string",
    }
)


CHECK_SERVICE_NODE_SCHEMA: Final = FieldSchema(
    {"Node": _NODE_FIELDS, "Service": NODE_SERVICE_FIELDS, "Checks": [_CHECK_FIELDS]}
)


def check_out(check: Record) -> Record:
    """check_json as the endpoints write it: nil ServiceTags become ``[]``."""
    out = check_json(check)
    if out["ServiceTags"] is None:
        out["ServiceTags"] = []
    return out


def node_service_out(svc: Record) -> Record:
    out = node_service_json(svc)
    if out["Tags"] is None:
        out["Tags"] = []
    return out


def meta_satisfies(meta: dict[str, str] | None, wanted: dict[str, str]) -> bool:
    meta = meta or {}
    return all(k in meta and meta[k] == v for k, v in wanted.items())
