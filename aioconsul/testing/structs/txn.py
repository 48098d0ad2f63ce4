"""The body of ``PUT /v1/txn`` (``api.TxnOps``) and the RPC form of its operations.

``agent/txn_endpoint.go`` decodes the body with ``lib.DecodeJSON`` into ``api.TxnOps`` (unknown
fields refused: ``api.TxnOp`` has no ``Session``), then ``convertOps`` turns each element into a
``structs.TxnOp``; :func:`to_op` is that conversion for one element, :class:`Op` its result, and
:class:`TxnError` the ``structs.TxnError`` a failed transaction answers. The limits and the
HTTP errors are the endpoint's (:mod:`aioconsul.testing.endpoints.txn`); the engine that runs
the operations is :mod:`aioconsul.testing.state.txn`. Pure: nothing from the HTTP layer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Final

from ..golang import jsondecode as go
from ..golang.stdlib import parse_duration

__all__ = ["TXN_OPS", "Op", "TxnError", "to_op"]

_KV_WRITES: Final = frozenset(
    ("set", "delete", "delete-cas", "delete-tree", "cas", "lock", "unlock")
)  # agent/txn_endpoint.go isWrite


def _check_definition(value: Any, state: go.DecodeState) -> Any:
    """api.HealthCheckDefinition.UnmarshalJSON: a plain json.Unmarshal into an aux struct
    (unknown fields accepted), then time.ParseDuration of its three duration strings. Its first
    error ends the whole decoding."""
    definition = go.unmarshal(json.dumps(value).encode(), _DEFINITION)
    for name in ("Interval", "Timeout", "DeregisterCriticalServiceAfter"):
        if definition.get(name):
            parse_duration(definition[name])
    return definition


_DEFINITION: Final = go.Struct(
    "struct { Interval string; Timeout string; DeregisterCriticalServiceAfter string; "
    "*api.Alias }",
    "",
    {
        "Interval": go.Str(),
        "Timeout": go.Str(),
        "DeregisterCriticalServiceAfter": go.Str(),
        "HTTP": go.Str(),
        "Header": go.Map(go.List(go.Str()), "map[string][]string"),
        "Method": go.Str(),
        "Body": go.Str(),
        "TLSServerName": go.Str(),
        "TLSSkipVerify": go.Bool(),
        "TCP": go.Str(),
        "TCPUseTLS": go.Bool(),
        "UDP": go.Str(),
        "GRPC": go.Str(),
        "GRPCUseTLS": go.Bool(),
        "OSService": go.Str(),
    },
    strict=False,
)

_LOCALITY: Final = go.Struct("api.Locality", "Locality", {"Region": go.Str(), "Zone": go.Str()})

_KV_TXN_OP: Final = go.Struct(
    "api.KVTxnOp",
    "KVTxnOp",
    {
        "Verb": go.Str("api.KVOp"),
        "Key": go.Str(),
        "Value": go.Bytes(),
        "Flags": go.Uint(),
        "Index": go.Uint(),
        "Session": go.Str(),
        "Namespace": go.Str(),
        "Partition": go.Str(),
    },
)

_NODE: Final = go.Struct(
    "api.Node",
    "Node",
    {
        "ID": go.Str(),
        "Node": go.Str(),
        "Address": go.Str(),
        "Datacenter": go.Str(),
        "TaggedAddresses": go.Map(go.Str()),
        "Meta": go.Map(go.Str()),
        "CreateIndex": go.Uint(),
        "ModifyIndex": go.Uint(),
        "Partition": go.Str(),
        "PeerName": go.Str(),
        "Locality": go.Ptr(_LOCALITY),
    },
)

_AGENT_SERVICE: Final = go.Struct(
    "api.AgentService",
    "AgentService",
    {
        "Kind": go.Str("api.ServiceKind"),
        "ID": go.Str(),
        "Service": go.Str(),
        "Tags": go.List(go.Str()),
        "Meta": go.Map(go.Str()),
        "Port": go.Int(),
        "Address": go.Str(),
        "SocketPath": go.Str(),
        "TaggedAddresses": go.Map(
            go.Struct(
                "api.ServiceAddress", "ServiceAddress", {"Address": go.Str(), "Port": go.Int()}
            ),
            "map[string]api.ServiceAddress",
        ),
        "Weights": go.Struct(
            "api.AgentWeights", "AgentWeights", {"Passing": go.Int(), "Warning": go.Int()}
        ),
        "EnableTagOverride": go.Bool(),
        "CreateIndex": go.Uint(),
        "ModifyIndex": go.Uint(),
        "ContentHash": go.Str(),
        # Connect settings are carried through undecoded (their own deep Go types).
        "Proxy": go.Opaque("api.AgentServiceConnectProxyConfig"),
        "Connect": go.Opaque("api.AgentServiceConnect"),
        "PeerName": go.Str(),
        "Namespace": go.Str(),
        "Partition": go.Str(),
        "Datacenter": go.Str(),
        "Locality": go.Ptr(_LOCALITY),
    },
)

_HEALTH_CHECK: Final = go.Struct(
    "api.HealthCheck",
    "HealthCheck",
    {
        "Node": go.Str(),
        "CheckID": go.Str(),
        "Name": go.Str(),
        "Status": go.Str(),
        "Notes": go.Str(),
        "Output": go.Str(),
        "ServiceID": go.Str(),
        "ServiceName": go.Str(),
        "ServiceTags": go.List(go.Str()),
        "Type": go.Str(),
        "Namespace": go.Str(),
        "Partition": go.Str(),
        "ExposedPort": go.Int(),
        "PeerName": go.Str(),
        "Definition": go.Custom(_check_definition, "api.HealthCheckDefinition"),
        "CreateIndex": go.Uint(),
        "ModifyIndex": go.Uint(),
    },
)

TXN_OPS: Final = go.List(
    go.Ptr(
        go.Struct(
            "api.TxnOp",
            "TxnOp",
            {
                "KV": go.Ptr(_KV_TXN_OP),
                "Node": go.Ptr(
                    go.Struct(
                        "api.NodeTxnOp", "NodeTxnOp", {"Verb": go.Str("api.NodeOp"), "Node": _NODE}
                    )
                ),
                "Service": go.Ptr(
                    go.Struct(
                        "api.ServiceTxnOp",
                        "ServiceTxnOp",
                        {
                            "Verb": go.Str("api.ServiceOp"),
                            "Node": go.Str(),
                            "Service": _AGENT_SERVICE,
                        },
                    )
                ),
                "Check": go.Ptr(
                    go.Struct(
                        "api.CheckTxnOp",
                        "CheckTxnOp",
                        {"Verb": go.Str("api.CheckOp"), "Check": _HEALTH_CHECK},
                    )
                ),
            },
        )
    ),
    "api.TxnOps",
)


@dataclass(frozen=True, slots=True)
class Op:
    """One operation in the RPC format (structs.TxnOp): its kind, verb and fields."""

    kind: str  # "KV", "Node", "Service" or "Check"
    verb: str
    key: str = ""
    value: bytes | None = None
    flags: int = 0
    index: int = 0
    session: str = ""
    body: dict[str, Any] = field(default_factory=dict)  # Node/Service/Check op as decoded

    @property
    def is_write(self) -> bool:
        """isWrite for KV; any Node/Service/Check verb but ``get`` writes."""
        if self.kind == "KV":
            return self.verb in _KV_WRITES
        return self.verb != "get"


@dataclass(frozen=True, slots=True)
class TxnError:
    """structs.TxnError: which operation failed, and why."""

    op_index: int
    what: str

    def json(self) -> dict[str, Any]:
        return {"OpIndex": self.op_index, "What": self.what}




def to_op(item: dict[str, Any], *, datacenter: str) -> Op | None:
    """convertOps for one decoded ``api.TxnOp``; None for one with none of the four kinds.

    An element with none of ``KV``, ``Node``, ``Service`` and ``Check`` has no RPC form and is
    dropped, so ``OpIndex`` counts the operations that remain.
    """
    if item.get("KV") is not None:
        kv = item["KV"]
        return Op(
            "KV",
            kv.get("Verb", ""),
            key=kv.get("Key", ""),
            value=kv.get("Value"),
            flags=kv.get("Flags", 0),
            index=kv.get("Index", 0),
            session=kv.get("Session", ""),
        )
    if item.get("Node") is not None:
        node_op = item["Node"]
        node = dict(node_op.get("Node") or {})
        if not node.get("Datacenter"):
            node["Datacenter"] = datacenter  # "Setup the default DC if not provided"
        return Op("Node", node_op.get("Verb", ""), body={"Node": node})
    if item.get("Service") is not None:
        svc_op = item["Service"]
        body_fields = {"Node": svc_op.get("Node", ""), "Service": svc_op.get("Service") or {}}
        return Op("Service", svc_op.get("Verb", ""), body=body_fields)
    if item.get("Check") is not None:
        check_op = item["Check"]
        return Op("Check", check_op.get("Verb", ""), body={"Check": check_op.get("Check") or {}})
    return None
