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
import re
from typing import Any, Final

from ..golang.bexpr import FilterError, compile_filter
from ..golang.bexpr.errors import PREFIX as FILTER_PREFIX
from ..golang.stdlib import GoSyntaxError, format_duration, parse_duration, strconv_quote
from .intention import IntentionError, normalize_intentions, validate_intentions

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
_OPAQUE: Final = frozenset({"Meta", "Config", "NodeMeta", "ServiceMeta", "LegacyMeta"})
#: Maps keyed by user names (subset names, header names) whose values are structs or
#: strings: the keys stay, the values' keys are translated.
_KEYED: Final = frozenset({"Subsets", "Failover", "Add", "Set"})
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
    "service-intentions": ("Name", "Sources", "JWT", *_COMMON),
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
        if name in _OPAQUE:
            out[name] = item
        elif name in _KEYED and isinstance(item, dict):
            out[name] = {k: _translate(v) for k, v in item.items()}
        else:
            out[name] = _translate(item)
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
        if name in _KEYED and isinstance(value, dict):
            entry[name] = {k: _translate(v) for k, v in value.items()}
        else:
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
    elif kind == "service-intentions":
        entry = normalize_intentions(entry)
    return entry


def validate_entry(entry: dict[str, Any]) -> None:
    """The kind's Validate, for what the common kinds check."""
    kind = entry["Kind"]
    if kind == "sameness-group":  # config_entry_sameness_group_ce.go
        raise ConfigEntryError("sameness-groups are an enterprise-only feature")
    if kind == "service-intentions":
        try:
            validate_intentions(entry)
        except IntentionError as exc:
            raise ConfigEntryError(str(exc)) from None
        return
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
        _validate_splits(entry.get("Splits"), name)
    elif kind == "service-router":
        _validate_router(entry)
    elif kind == "service-resolver":
        _validate_resolver(entry)


def _validate_splits(splits: Any, name: str = "") -> None:
    """ServiceSplitterConfigEntry.Validate: a split's Service defaults to the splitter's name
    in the duplicate check; a split with header modifiers never collides (Go compares the
    pointers as part of the key)."""
    if not isinstance(splits, list) or not splits:
        raise ConfigEntryError("no splits configured")
    seen: set[tuple[str, str, str, str]] = set()
    total = 0
    for split in splits:
        split = split if isinstance(split, dict) else {}
        key = (str(split.get("Service") or name), str(split.get("ServiceSubset") or ""),
               str(split.get("Namespace") or ""), str(split.get("Partition") or ""))
        if split.get("RequestHeaders") is not None or split.get("ResponseHeaders") is not None:
            total += _scale(split.get("Weight") or 0)
            continue
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


# -- service-router and service-resolver (config_entry_discoverychain.go) -----------------

_HTTP_METHODS: Final = frozenset(
    {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "CONNECT", "OPTIONS", "TRACE"})
_RETRY_CONDITIONS: Final = frozenset({
    "5xx", "gateway-error", "reset", "connect-failure", "envoy-ratelimited", "retriable-4xx",
    "refused-stream", "cancelled", "deadline-exceeded", "internal", "resource-exhausted",
    "unavailable",
})
_LB_POLICIES: Final = frozenset(
    {"", "random", "round_robin", "least_request", "ring_hash", "maglev"})
_HASH_FIELDS: Final = frozenset({"header", "cookie", "query_parameter"})
_SUBSET_NAME: Final = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?")


def _s(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _d(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _l(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _validate_router(entry: dict[str, Any]) -> None:
    """ServiceRouterConfigEntry.Validate (after Normalize upper-cased the methods)."""
    for i, route in enumerate(_l(entry.get("Routes"))):
        route = _d(route)
        prefix_rewrite_ok = False
        http = _d(_d(route.get("Match")).get("HTTP")) if route.get("Match") else {}
        if http:
            parts = 0
            for field in ("PathExact", "PathPrefix"):
                path = _s(http.get(field))
                if path:
                    prefix_rewrite_ok = True
                    parts += 1
                    if not path.startswith("/"):
                        raise ConfigEntryError(
                            f"Route[{i}] {field} doesn't start with '/': {strconv_quote(path)}")
            if _s(http.get("PathRegex")):
                parts += 1
            if parts > 1:
                raise ConfigEntryError(
                    f"Route[{i}] should only contain at most one of PathExact, PathPrefix, "
                    "or PathRegex")
            for j, header in enumerate(_l(http.get("Header"))):
                header = _d(header)
                if not _s(header.get("Name")):
                    raise ConfigEntryError(f"Route[{i}] Header[{j}] missing required Name field")
                count = bool(header.get("Present")) + sum(
                    bool(_s(header.get(f))) for f in ("Exact", "Regex", "Prefix", "Suffix"))
                if count != 1:
                    raise ConfigEntryError(
                        f"Route[{i}] Header[{j}] should only contain one of Present, Exact, "
                        "Prefix, Suffix, or Regex")
            for j, param in enumerate(_l(http.get("QueryParam"))):
                param = _d(param)
                if not _s(param.get("Name")):
                    raise ConfigEntryError(
                        f"Route[{i}] QueryParam[{j}] missing required Name field")
                count = bool(param.get("Present")) + sum(
                    bool(_s(param.get(f))) for f in ("Exact", "Regex"))
                if count != 1:
                    raise ConfigEntryError(
                        f"Route[{i}] QueryParam[{j}] should only contain one of Present, "
                        "Exact, or Regex")
            seen: set[str] = set()
            for method in _l(http.get("Methods")):
                method = _s(method).upper()
                if method not in _HTTP_METHODS:
                    raise ConfigEntryError(
                        f"Route[{i}] Methods contains an invalid method {strconv_quote(method)}")
                if method in seen:
                    raise ConfigEntryError(
                        f"Route[{i}] Methods contains {strconv_quote(method)} more than once")
                seen.add(method)
        destination = route.get("Destination")
        if isinstance(destination, dict):
            if _s(destination.get("PrefixRewrite")) and not prefix_rewrite_ok:
                raise ConfigEntryError(
                    f"Route[{i}] cannot make use of PrefixRewrite without configuring either "
                    "PathExact or PathPrefix")
            for condition in _l(destination.get("RetryOn")):
                if condition not in _RETRY_CONDITIONS:
                    raise ConfigEntryError(
                        f"Route[{i}] contains an invalid retry condition: "
                        f"{strconv_quote(_s(condition))}")


def _duration(value: Any) -> int:
    if isinstance(value, str) and value:
        try:
            return parse_duration(value)
        except GoSyntaxError:
            return 0
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    return 0


def _validate_resolver(entry: dict[str, Any]) -> None:
    """ServiceResolverConfigEntry.Validate (CE: one namespace and partition; subsets and
    failovers are checked in name order where Go walks its maps at random)."""
    name = _s(entry.get("Name"))
    subsets = _d(entry.get("Subsets"))
    for subset in sorted(subsets):
        if subset == "":
            raise ConfigEntryError("Subset defined with empty name")
        if len(subset) > 63:
            raise ConfigEntryError(
                f"Subset {strconv_quote(subset)} is invalid: must be non-empty and 63 "
                "characters or fewer")
        if not _SUBSET_NAME.fullmatch(subset):
            raise ConfigEntryError(
                f"Subset {strconv_quote(subset)} is invalid: must be 63 characters or fewer, "
                "begin or end with lower case alphanumeric characters, and contain lower case "
                "alphanumeric characters or '-' in between")
        expression = _s(_d(subsets[subset]).get("Filter"))
        if expression:
            try:
                compile_filter(expression)
            except FilterError as exc:
                raise ConfigEntryError(
                    f"Filter for subset {strconv_quote(subset)} is not a valid expression: "
                    f"{str(exc).removeprefix(FILTER_PREFIX)}") from None
    default_subset = _s(entry.get("DefaultSubset"))
    if default_subset and default_subset not in subsets:
        raise ConfigEntryError(
            f"DefaultSubset {strconv_quote(default_subset)} is not a valid subset")
    if _d(entry.get("PrioritizeByLocality")).get("Mode"):
        raise ConfigEntryError("Prioritize-by-locality requires Consul Enterprise ")
    failovers = _d(entry.get("Failover"))
    redirect = entry.get("Redirect")
    if isinstance(redirect, dict):
        _validate_redirect(redirect, name, subsets, bool(failovers))
    for subset in sorted(failovers):
        _validate_failover(_d(failovers[subset]), subset, name, subsets)
    for field in ("ConnectTimeout", "RequestTimeout"):
        ns = _duration(entry.get(field))
        if ns < 0:
            raise ConfigEntryError(f"Bad {field} '{format_duration(ns)}', must be >= 0")
    balancer = entry.get("LoadBalancer")
    if isinstance(balancer, dict):
        _validate_load_balancer(balancer)


def _validate_redirect(r: dict[str, Any], name: str, subsets: dict[str, Any],
                       has_failover: bool) -> None:
    service, subset = _s(r.get("Service")), _s(r.get("ServiceSubset"))
    namespace, partition = _s(r.get("Namespace")), _s(r.get("Partition"))
    datacenter, peer = _s(r.get("Datacenter")), _s(r.get("Peer"))
    sameness = _s(r.get("SamenessGroup"))
    if partition not in ("", "default") and datacenter:
        raise ConfigEntryError("Cross-datacenter and cross-partition redirect is not supported")
    for value, what in ((partition, "Partition"), (namespace, "Namespace"),
                        (sameness, "SamenessGroup")):
        if value:
            raise ConfigEntryError(f"Redirect: Setting {what} requires Consul Enterprise")
    if has_failover:
        raise ConfigEntryError("Redirect and Failover cannot both be set")
    if not any((service, subset, namespace, partition, datacenter, peer, sameness)):
        raise ConfigEntryError("Redirect is empty")
    if peer and subset:
        raise ConfigEntryError("Redirect.Peer cannot be set with Redirect.ServiceSubset")
    if peer and datacenter:
        raise ConfigEntryError("Redirect.Peer cannot be set with Redirect.Datacenter")
    if not service:
        for value, what in ((subset, "ServiceSubset"), (peer, "Peer")):
            if value:
                raise ConfigEntryError(f"Redirect.{what} defined without Redirect.Service")
    elif subset and service == name and subset not in subsets:
        raise ConfigEntryError(
            f"Redirect.ServiceSubset {strconv_quote(subset)} is not a valid subset of "
            f"{strconv_quote(name)}")


def _validate_failover(f: dict[str, Any], subset: str, name: str,
                       subsets: dict[str, Any]) -> None:
    prefix = f"Bad Failover[{strconv_quote(subset)}]: "
    service, service_subset = _s(f.get("Service")), _s(f.get("ServiceSubset"))
    namespace, sameness = _s(f.get("Namespace")), _s(f.get("SamenessGroup"))
    datacenters, targets = _l(f.get("Datacenters")), _l(f.get("Targets"))
    if namespace:
        raise ConfigEntryError(prefix + "Setting Namespace requires Consul Enterprise")
    if sameness:
        raise ConfigEntryError(prefix + "Setting SamenessGroup requires Consul Enterprise")
    if subset != "*" and subset not in subsets:
        raise ConfigEntryError(prefix + "not a valid subset subset")
    if not (service or service_subset or datacenters or targets):
        raise ConfigEntryError(
            prefix + "one of Service, ServiceSubset, Namespace, Targets, SamenessGroup, or "
            "Datacenters is required")
    policy = f.get("Policy")
    if isinstance(policy, dict) and _s(policy.get("Mode")):
        raise ConfigEntryError(prefix + "Setting failover policies requires Consul Enterprise")
    if service_subset and service in ("", name) and service_subset not in subsets:
        raise ConfigEntryError(
            f"{prefix}ServiceSubset {strconv_quote(service_subset)} is not a valid subset of "
            f"{strconv_quote(service)}")
    if datacenters and targets:
        raise ConfigEntryError(prefix + "Targets cannot be set with Datacenters")
    if service_subset and targets:
        raise ConfigEntryError(prefix + "Targets cannot be set with ServiceSubset")
    if service and targets:
        raise ConfigEntryError(prefix + "Targets cannot be set with Service")
    for i, target in enumerate(targets):
        target = _d(target)
        at = f"Bad Failover[{strconv_quote(subset)}].Targets[{i}]: "
        t_service, t_subset = _s(target.get("Service")), _s(target.get("ServiceSubset"))
        t_dc, t_peer = _s(target.get("Datacenter")), _s(target.get("Peer"))
        for value, what in ((_s(target.get("Partition")), "Partition"),
                            (_s(target.get("Namespace")), "Namespace")):
            if value:
                raise ConfigEntryError(f"{at}Setting {what} requires Consul Enterprise")
        if t_peer and t_subset:
            raise ConfigEntryError(at + "Peer cannot be set with ServiceSubset")
        if t_peer and t_dc:
            raise ConfigEntryError(at + "Peer cannot be set with Datacenter")
        if t_subset and t_service in ("", name) and t_subset not in subsets:
            raise ConfigEntryError(
                f"{at}ServiceSubset {strconv_quote(t_subset)} is not a valid subset of "
                f"{strconv_quote(name)}")
    if any(dc == "" for dc in datacenters):
        raise ConfigEntryError(
            f"Bad Failover[{strconv_quote(subset)}].Datacenters: found empty datacenter")


def _validate_load_balancer(lb: dict[str, Any]) -> None:
    policy = _s(lb.get("Policy"))
    if policy not in _LB_POLICIES:
        raise ConfigEntryError(
            f"Bad LoadBalancer policy: {strconv_quote(policy)} is not supported")
    for field, wanted in (("RingHashConfig", "ring_hash"),
                          ("LeastRequestConfig", "least_request")):
        if policy != wanted and lb.get(field) is not None:
            raise ConfigEntryError(
                f"Bad LoadBalancer configuration. {field} specified for incompatible load "
                f"balancing policy {strconv_quote(policy)}")
    policies = _l(lb.get("HashPolicies"))
    if policy not in ("ring_hash", "maglev") and policies:
        raise ConfigEntryError(
            "Bad LoadBalancer configuration: HashPolicies specified for non-hash-based "
            f"Policy: {strconv_quote(policy)}")
    for i, hp in enumerate(policies):
        hp = _d(hp)
        at = f"Bad LoadBalancer HashPolicy[{i}]: "
        field, value = _s(hp.get("Field")), _s(hp.get("FieldValue"))
        if field and field not in _HASH_FIELDS:
            raise ConfigEntryError(f"{at}{strconv_quote(field)} is not a supported field")
        if hp.get("SourceIP") and field:
            raise ConfigEntryError(
                f"{at}A single hash policy cannot hash both a source address and a "
                f"{strconv_quote(field)}")
        if hp.get("SourceIP") and value:
            raise ConfigEntryError(at + "A FieldValue cannot be specified when hashing SourceIP")
        if field and not value:
            raise ConfigEntryError(
                f"{at}Field {strconv_quote(field)} was specified without a FieldValue")
        if value and not field:
            raise ConfigEntryError(at + "FieldValue requires a Field to apply to")
        cookie = hp.get("CookieConfig")
        if isinstance(cookie, dict):
            if field != "cookie":
                raise ConfigEntryError(f"{at}cookie_config provided for {strconv_quote(field)}")
            if cookie.get("Session") and _duration(cookie.get("TTL")) != 0:
                raise ConfigEntryError(at + "a session cookie cannot have an associated TTL")


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
