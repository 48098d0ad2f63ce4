"""Config entries on the wire (Consul's ``agent/structs/config_entry*.go``).

:func:`decode_entry` is ``structs.DecodeConfigEntry``: the kind is read from ``Kind`` (or
``kind``), every key is matched to its field the way mapstructure with
``decode.HookTranslateKeys`` does (snake_case aliases and any letter case both name the
CamelCase field), opaque maps (``Meta``, proxy-defaults ``Config``) keep their keys, and a key
no field takes is refused (``validateUnusedKeys``: ``invalid config key "x"``) for the kinds
whose fields are listed here. :func:`normalize_entry` and :func:`validate_entry` are the kinds'
``Normalize``/``Validate`` for the common kinds; :func:`render_entry` is the JSON Consul
answers (the entry, then ``CreateIndex``/``ModifyIndex``).

Pure: no I/O, no state.
"""

from __future__ import annotations

import math
from typing import Any, Final

from ..golang.stdlib import strconv_quote

__all__ = [
    "KINDS",
    "L7_PROTOCOLS",
    "ConfigEntryError",
    "decode_entry",
    "entry_name",
    "make_entry",
    "normalize_entry",
    "render_entry",
    "validate_entry",
]

#: Every kind ``structs.MakeConfigEntry`` of Consul CE 1.21 knows.
KINDS: Final = (
    "service-defaults",
    "proxy-defaults",
    "service-router",
    "service-splitter",
    "service-resolver",
    "ingress-gateway",
    "terminating-gateway",
    "service-intentions",
    "mesh",
    "exported-services",
    "sameness-group",
    "api-gateway",
    "bound-api-gateway",
    "file-system-certificate",
    "inline-certificate",
    "http-route",
    "tcp-route",
    "jwt-provider",
    "control-plane-request-limit",
)
#: Protocols whose discovery chain may route and split (``enableAdvancedRoutingForProtocol``).
L7_PROTOCOLS: Final = frozenset({"http", "http2", "grpc"})

#: Fields holding user maps whose keys are never translated.
_OPAQUE: Final = frozenset({"Meta", "Config", "NodeMeta", "ServiceMeta"})
#: Canonical field names whose CamelCase is not just the capitalised snake_case words.
_WORDS: Final = {
    "sni": "SNI", "tls": "TLS", "http": "HTTP", "json": "JSON", "jwt": "JWT", "id": "ID",
    "ip": "IP", "ttl": "TTL", "uri": "URI", "url": "URL", "jwks": "JWKS", "ca": "CA",
    "grpc": "GRPC", "sds": "SDS", "acl": "ACL", "dns": "DNS", "san": "SAN", "sans": "SANs",
    "ms": "Ms",
}
# Top-level fields of the kinds whose every field is listed (the rest of a kind's keys are
# refused as Consul's validateUnusedKeys does); CreateIndex/ModifyIndex and Kind are ignored.
_COMMON: Final = ("Meta", "Namespace", "Partition")
_FIELDS: Final[dict[str, tuple[str, ...]]] = {
    "service-defaults": (
        "Name", "Protocol", "Mode", "TransparentProxy", "MutualTLSMode", "MeshGateway", "Expose",
        "ExternalSNI", "UpstreamConfig", "Destination", "MaxInboundConnections",
        "LocalConnectTimeoutMs", "LocalRequestTimeoutMs", "BalanceInboundConnections",
        "RateLimits", "EnvoyExtensions", *_COMMON,
    ),
    "proxy-defaults": (
        "Name", "Config", "Mode", "TransparentProxy", "MutualTLSMode", "MeshGateway", "Expose",
        "AccessLogs", "EnvoyExtensions", "FailoverPolicy", "PrioritizeByLocality", *_COMMON,
    ),
    "service-router": ("Name", "Routes", *_COMMON),
    "service-splitter": ("Name", "Splits", *_COMMON),
    "service-resolver": (
        "Name", "DefaultSubset", "Subsets", "Redirect", "Failover", "ConnectTimeout",
        "RequestTimeout", "PrioritizeByLocality", "LoadBalancer", *_COMMON,
    ),
    "mesh": (
        "TransparentProxy", "AllowEnablingPermissiveMutualTLS", "ValidateClusters", "TLS",
        "HTTP", "Peering", *_COMMON,
    ),
}
# What encoding/json writes for fields without omitempty (structs zero values), per kind.
_ZERO: Final[dict[str, dict[str, Any]]] = {
    "service-defaults": {"Protocol": "", "TransparentProxy": {}, "MeshGateway": {},
                         "Expose": {}},
    "proxy-defaults": {"Config": None, "TransparentProxy": {}, "MeshGateway": {},
                       "Expose": {}},
    "service-splitter": {"Splits": None},
    "service-router": {"Routes": None},
    "mesh": {"TransparentProxy": {"MeshDestinationsOnly": False}},
}


class ConfigEntryError(ValueError):
    """A config entry Consul refuses; ``str()`` is Consul's text."""


def _canonical(key: str) -> str:
    """The field a key names: ``external_sni`` and ``externalsni`` both give ``ExternalSNI``."""
    if "_" in key or key.islower():
        return "".join(_WORDS.get(word, word[:1].upper() + word[1:])
                       for word in key.lower().split("_") if word)
    return key[:1].upper() + key[1:]


def _translate(value: Any, known: dict[str, str] | None = None) -> Any:
    if isinstance(value, list):
        return [_translate(item) for item in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        name = (known or {}).get(key.replace("_", "").lower()) or _canonical(key)
        out[name] = item if name in _OPAQUE else _translate(item)
    return out


def make_entry(kind: str, name: str) -> dict[str, Any]:
    """structs.MakeConfigEntry: an empty entry of the kind, or Consul's error."""
    if kind not in KINDS:
        raise ConfigEntryError(f"invalid config entry kind: {kind}")
    return {"Kind": kind} if kind == "mesh" else {"Kind": kind, "Name": name}


def entry_name(entry: dict[str, Any]) -> str:
    """GetName: a mesh entry is always named ``mesh``."""
    return "mesh" if entry["Kind"] == "mesh" else str(entry.get("Name", ""))


def _multierror(errors: list[str]) -> str:
    """hashicorp/go-multierror's text."""
    if len(errors) == 1:
        return f"1 error occurred:\n\t* {errors[0]}\n\n"
    points = "\n\t* ".join(errors)
    return f"{len(errors)} errors occurred:\n\t* {points}\n\n"


def decode_entry(raw: Any) -> dict[str, Any]:
    """structs.DecodeConfigEntry of a decoded JSON body (a map, or None for ``null``)."""
    raw = raw if isinstance(raw, dict) else {}
    if "Kind" in raw:
        kind = raw["Kind"]
    elif "kind" in raw:
        kind = raw["kind"]
    else:
        raise ConfigEntryError("Payload does not contain a kind/Kind key at the top level")
    if not isinstance(kind, str):
        raise ConfigEntryError("Kind value in payload is not a string")
    entry = make_entry(kind, "")
    fields = _FIELDS.get(kind)
    known = {f.lower(): f for f in fields} if fields else None
    unused: list[str] = []
    for key, value in raw.items():
        if key in ("Kind", "kind", "CreateIndex", "ModifyIndex"):
            continue
        name = (known or {}).get(key.replace("_", "").lower())
        if name is None:
            if known is not None:
                unused.append(f"invalid config key {strconv_quote(key)}")
                continue
            name = _canonical(key)
        if name == "Name" and value is not None and not isinstance(value, str):
            raise ConfigEntryError(
                f"1 error(s) decoding:\n\n* '{name}' expected type 'string', "
                f"got unconvertible type '{type(value).__name__}'")
        entry[name] = value if name in _OPAQUE else _translate(value)
    if unused:
        raise ConfigEntryError(_multierror(unused))
    return entry


def _scale(weight: Any) -> int:
    """scaleWeight: a split weight in hundredths of a percent."""
    return math.floor(float(weight) * 100 + 0.5)


def normalize_entry(entry: dict[str, Any]) -> dict[str, Any]:
    """The kind's Normalize: defaults and the fixed names (a new dict)."""
    entry = dict(entry)
    kind = entry["Kind"]
    if kind == "proxy-defaults":
        name = entry.get("Name") or ""
        if name not in ("", "global"):
            raise ConfigEntryError(
                f"invalid name ({strconv_quote(name)}), only \"global\" is supported")
        entry["Name"] = "global"
    elif kind == "service-defaults":
        entry["Protocol"] = str(entry.get("Protocol") or "").lower()
    elif kind == "service-splitter":
        splits = entry.get("Splits")
        if isinstance(splits, list):
            entry["Splits"] = [
                {**split, "Weight": _scale(split.get("Weight") or 0) / 100}
                if isinstance(split, dict) else split for split in splits
            ]
    return entry


def validate_entry(entry: dict[str, Any]) -> None:
    """The kind's Validate, for what the common kinds check."""
    kind = entry["Kind"]
    if kind == "sameness-group":  # config_entry_sameness_group_ce.go
        raise ConfigEntryError("sameness-groups are an enterprise-only feature")
    if kind == "mesh":
        return
    name = entry.get("Name") or ""
    if kind == "proxy-defaults":
        if name != "global":
            raise ConfigEntryError(
                f"invalid name ({strconv_quote(name)}), only \"global\" is supported")
        return
    if not name:
        raise ConfigEntryError("Name is required")
    if kind == "service-defaults" and name == "*":
        raise ConfigEntryError(
            "service-defaults name must be the name of a service, and not a wildcard")
    if kind == "service-splitter":
        _validate_splits(entry.get("Splits"))


def _validate_splits(splits: Any) -> None:
    """ServiceSplitterConfigEntry.Validate."""
    if not isinstance(splits, list) or not splits:
        raise ConfigEntryError("no splits configured")
    seen: set[tuple[str, str, str, str]] = set()
    total = 0
    for split in splits:
        split = split if isinstance(split, dict) else {}
        key = (str(split.get("Service") or ""), str(split.get("ServiceSubset") or ""),
               str(split.get("Namespace") or ""), str(split.get("Partition") or ""))
        if key in seen:
            service, subset, namespace, partition = (strconv_quote(k) for k in key)
            raise ConfigEntryError(
                f"split destination occurs more than once: service={service}, "
                f"subset={subset}, namespace={namespace}, partition={partition}")
        seen.add(key)
        total += _scale(split.get("Weight") or 0)
    if total != 10000:
        raise ConfigEntryError(
            f"the sum of all split weights must be 100, not {total / 100:f}")


def render_entry(entry: dict[str, Any], create_index: int, modify_index: int) -> dict[str, Any]:
    """The entry as Consul's JSON has it: its fields (zero values included), then the indexes."""
    kind = entry["Kind"]
    out: dict[str, Any] = {"Kind": kind}
    if kind != "mesh":
        out["Name"] = entry.get("Name", "")
    for key, value in _ZERO.get(kind, {}).items():
        out[key] = entry.get(key, value)
    for key, value in entry.items():
        if key not in out:
            out[key] = value
    out["CreateIndex"] = create_index
    out["ModifyIndex"] = modify_index
    return out
