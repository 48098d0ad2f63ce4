"""Wire shapes of cluster peering: request bodies, the peering token, the JSON Consul writes.

* the bodies of ``POST /v1/peering/token`` and ``/v1/peering/establish``
  (``api.PeeringGenerateTokenRequest``, ``api.PeeringEstablishRequest``, decoded as
  ``lib.DecodeJSON`` does: unknown fields refused);
* the peering token: ``structs.PeeringToken`` as JSON, in standard base64
  (``PeeringBackend.EncodeToken`` / ``DecodeToken``) and ``validatePeeringToken``'s checks;
* ``api.Peering`` as ``encoding/json`` writes it (:func:`peering_json`), with the stream status
  computed on read, and Go's ``time.Time`` text (:func:`go_time`);
* the catalog rows imported from a peer, rendered with ``PeerName`` set where Consul's
  structs carry it (:func:`imported_node_json` and friends).

Pure: no I/O. The peer name rule is ``validatePeerName``'s (``agent/rpc/peering/validate.go``).
"""

from __future__ import annotations

import base64
import re
from datetime import datetime, timezone
from typing import Any, Final

from ..golang.jsondecode import List, Map, Str, Struct, b64_std_decode, unmarshal
from ..golang.stdlib import GoSyntaxError, go_json
from ..state.catalog import check_json, node_json, node_service_json, service_node_json

__all__ = [
    "ERR_INVALID_PEER_NAME",
    "TokenError",
    "decode_establish_body",
    "decode_generate_body",
    "decode_token",
    "encode_token",
    "go_time",
    "imported_check_json",
    "imported_node_json",
    "imported_node_service_json",
    "imported_service_node_json",
    "peering_json",
    "valid_peer_name",
    "validate_token",
]

Record = dict[str, Any]

#: validatePeerName's text.
ERR_INVALID_PEER_NAME: Final = (
    "a valid peering name must consist of lower case alphanumeric characters or '-', and must "
    "start and end with an alphanumeric character"
)
_PEER_NAME: Final = re.compile(r"[a-z0-9]([a-z0-9\-]{0,61}[a-z0-9])?")
_STRINGS: Final = List(Str(), name="[]string")
_META: Final = Map(Str(), name="map[string]string")

_GENERATE: Final = Struct(
    name="api.PeeringGenerateTokenRequest",
    short="PeeringGenerateTokenRequest",
    fields={"PeerName": Str(), "Partition": Str(), "Meta": _META,
            "ServerExternalAddresses": _STRINGS},
)
_ESTABLISH: Final = Struct(
    name="api.PeeringEstablishRequest",
    short="PeeringEstablishRequest",
    fields={"PeerName": Str(), "PeeringToken": Str(), "Partition": Str(), "Meta": _META},
)
_TOKEN: Final = Struct(
    name="structs.PeeringToken",
    short="PeeringToken",
    fields={
        "CA": _STRINGS,
        "ManualServerAddresses": _STRINGS,
        "ServerAddresses": _STRINGS,
        "ServerName": Str(),
        "PeerID": Str(),
        "EstablishmentSecret": Str(),
        "Remote": Struct(
            name="structs.PeeringTokenRemote",
            short="PeeringTokenRemote",
            fields={"Partition": Str(), "Datacenter": Str(),
                    "Locality": Struct(name="*structs.Locality", short="Locality",
                                       fields={"Region": Str(), "Zone": Str()},
                                       strict=False)},
            strict=False,
        ),
    },
    strict=False,  # json.Unmarshal, not lib.DecodeJSON
)


def valid_peer_name(name: str) -> bool:
    """validatePeerName: a lower-case RFC 1123 DNS label."""
    return _PEER_NAME.fullmatch(name) is not None


def _decode(data: bytes, schema: Struct) -> Record:
    """lib.DecodeJSON: an empty body is Go's ``EOF``; ``null`` decodes to the zero value."""
    if not data.strip(b" \t\r\n"):
        raise GoSyntaxError("EOF")
    decoded = unmarshal(data, schema)
    return decoded if isinstance(decoded, dict) else {}


def decode_generate_body(data: bytes) -> Record:
    """api.PeeringGenerateTokenRequest (raises GoSyntaxError with Go's text)."""
    body = _decode(data, _GENERATE)
    return {
        "PeerName": body.get("PeerName", ""),
        "Partition": body.get("Partition", ""),
        "Meta": body.get("Meta"),
        "ServerExternalAddresses": body.get("ServerExternalAddresses"),
    }


def decode_establish_body(data: bytes) -> Record:
    """api.PeeringEstablishRequest (raises GoSyntaxError with Go's text)."""
    body = _decode(data, _ESTABLISH)
    return {
        "PeerName": body.get("PeerName", ""),
        "PeeringToken": body.get("PeeringToken", ""),
        "Partition": body.get("Partition", ""),
        "Meta": body.get("Meta"),
    }


# -- the peering token ----------------------------------------------------------------------------


class TokenError(Exception):
    """A token Consul refuses, with its text."""


def encode_token(token: Record) -> str:
    """PeeringBackend.EncodeToken: json.Marshal(structs.PeeringToken), standard base64."""
    remote = token.get("Remote") or {}
    ordered = {
        "CA": token.get("CA"),
        "ManualServerAddresses": token.get("ManualServerAddresses"),
        "ServerAddresses": token.get("ServerAddresses"),
        "ServerName": token.get("ServerName", ""),
        "PeerID": token.get("PeerID", ""),
        "EstablishmentSecret": token.get("EstablishmentSecret", ""),
        "Remote": {"Partition": remote.get("Partition", ""),
                   "Datacenter": remote.get("Datacenter", ""),
                   "Locality": remote.get("Locality")},
    }
    return base64.b64encode(go_json(ordered)).decode("ascii")


def decode_token(text: str) -> Record:
    """PeeringBackend.DecodeToken: base64 (``failed to decode peering token: ...``), then
    ``json.Unmarshal`` (its own text)."""
    try:
        raw = b64_std_decode(text)
    except GoSyntaxError as exc:
        raise TokenError(f"failed to decode peering token: {exc}") from None
    if not raw.strip(b" \t\r\n"):
        raise TokenError("unexpected end of JSON input")
    try:
        decoded = unmarshal(raw, _TOKEN)
    except GoSyntaxError as exc:
        raise TokenError(str(exc)) from None
    token = decoded if isinstance(decoded, dict) else {}
    remote = token.get("Remote") or {}
    return {
        "CA": token.get("CA"),
        "ManualServerAddresses": token.get("ManualServerAddresses"),
        "ServerAddresses": token.get("ServerAddresses"),
        "ServerName": token.get("ServerName", ""),
        "PeerID": token.get("PeerID", ""),
        "EstablishmentSecret": token.get("EstablishmentSecret", ""),
        "Remote": {"Partition": remote.get("Partition", ""),
                   "Datacenter": remote.get("Datacenter", "")},
    }


def _valid_address(addr: str) -> bool:
    """net.SplitHostPort, then a port in 1..65535 (strconv.Atoi)."""
    if addr.startswith("["):
        end = addr.find("]")
        if end < 0 or addr[end + 1 : end + 2] != ":":
            return False
        host, port = addr[1:end], addr[end + 2 :]
        if ":" not in host and not host:
            host = host  # "[]:port" splits fine in Go
    else:
        host, sep, port = addr.rpartition(":")
        if not sep or ":" in host:
            return False
    if not re.fullmatch(r"[+-]?[0-9]+", port):
        return False
    return 1 <= int(port) <= 65535


def _valid_pem(text: str) -> bool:
    """connect.ParseCert: a PEM block of type CERTIFICATE (the DER is not checked here)."""
    match = re.search(r"-----BEGIN ([A-Z ]+)-----\s*([A-Za-z0-9+/=\s]+?)-----END \1-----", text)
    return match is not None and match.group(1) == "CERTIFICATE"


def validate_token(token: Record) -> None:
    """validatePeeringToken, with Consul's error texts."""
    for cert in token["CA"] or ():
        if not _valid_pem(cert):
            raise TokenError("peering token invalid CA: no PEM-encoded data found")
    if not token["ServerAddresses"] and not token["ManualServerAddresses"]:
        raise TokenError("peering token server addresses value is empty")
    for addr in (*(token["ManualServerAddresses"] or ()), *(token["ServerAddresses"] or ())):
        if not _valid_address(addr):
            raise TokenError(f"{addr} is not a valid peering server address")
    if token["CA"] and not token["ServerName"]:
        raise TokenError("peering token server name value is empty")
    if not token["PeerID"]:
        raise TokenError("peering token peer ID value is empty")


# -- api.Peering ----------------------------------------------------------------------------------


def go_time(stamp: float | None) -> str:
    """time.Time (UTC) as encoding/json writes it: RFC 3339 with trimmed nanoseconds.

    ``0.0`` is Go's zero time, which ``reconcilePeering`` reports for a stream that never
    sent or received anything.
    """
    if stamp is None or stamp == 0.0:
        return "0001-01-01T00:00:00Z"
    moment = datetime.fromtimestamp(stamp, timezone.utc)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    fraction = f"{moment.microsecond:06d}".rstrip("0")
    return f"{text}.{fraction}Z" if fraction else f"{text}Z"


def peering_json(peering: Record, state: str, status: Record | None) -> Record:
    """api.Peering as encoding/json writes it (PeeringToAPI of the reconciled peering).

    ``state`` is the reconciled state (ACTIVE while a stream is connected); ``status`` the
    stream tracker's view (None when the tracker does not know the peering: then every
    field of StreamStatus is null).
    """
    out: Record = {"ID": peering["ID"], "Name": peering["Name"]}
    if peering["Partition"]:
        out["Partition"] = peering["Partition"]
    if peering.get("DeletedAt"):
        out["DeletedAt"] = go_time(peering["DeletedAt"])
    if peering["Meta"]:
        out["Meta"] = peering["Meta"]
    out["State"] = state
    if peering["PeerID"]:
        out["PeerID"] = peering["PeerID"]
    if peering["PeerCAPems"]:
        out["PeerCAPems"] = peering["PeerCAPems"]
    if peering["PeerServerName"]:
        out["PeerServerName"] = peering["PeerServerName"]
    if peering["PeerServerAddresses"]:
        out["PeerServerAddresses"] = peering["PeerServerAddresses"]
    if status is None:
        stream: Record = {"ImportedServices": None, "ExportedServices": None,
                          "LastHeartbeat": None, "LastReceive": None, "LastSend": None}
    else:
        heartbeat = status.get("LastHeartbeat")
        stream = {
            "ImportedServices": status.get("ImportedServices"),
            "ExportedServices": status.get("ExportedServices"),
            "LastHeartbeat": go_time(heartbeat) if heartbeat else None,
            "LastReceive": go_time(status.get("LastReceive") or 0.0),
            "LastSend": go_time(status.get("LastSend") or 0.0),
        }
    out["StreamStatus"] = stream
    out["CreateIndex"] = peering["CreateIndex"]
    out["ModifyIndex"] = peering["ModifyIndex"]
    remote = peering.get("Remote") or {}
    out["Remote"] = {"Partition": remote.get("Partition", ""),
                     "Datacenter": remote.get("Datacenter", "")}
    return out


# -- imported catalog rows ------------------------------------------------------------------------


def imported_node_json(node: Record, peer: str) -> Record:
    """structs.Node of an imported node: ``PeerName`` (omitempty) after ``Datacenter``."""
    out: Record = {}
    for key, value in node_json(node).items():
        out[key] = value
        if key == "Datacenter":
            out["PeerName"] = peer
    return out


def imported_node_service_json(svc: Record, peer: str) -> Record:
    """structs.NodeService of an imported instance (``Tags`` never null, as the endpoints)."""
    out = node_service_json(svc)
    out["PeerName"] = peer
    if out["Tags"] is None:
        out["Tags"] = []
    return out


def imported_service_node_json(svc: Record, node: Record, peer: str) -> Record:
    """structs.ServiceNode of an imported instance: ``PeerName`` before the Raft index."""
    out = service_node_json(svc, node)
    create, modify = out.pop("CreateIndex"), out.pop("ModifyIndex")
    out["PeerName"] = peer
    out["CreateIndex"], out["ModifyIndex"] = create, modify
    if out["ServiceTags"] is None:
        out["ServiceTags"] = []
    return out


def imported_check_json(check: Record, peer: str) -> Record:
    """structs.HealthCheck of an imported check: ``PeerName`` after ``ExposedPort``."""
    out: Record = {}
    for key, value in check_json(check).items():
        out[key] = value
        if key == "ExposedPort":
            out["PeerName"] = peer
    if out["ServiceTags"] is None:
        out["ServiceTags"] = []
    return out
