"""Intentions on the wire, and the ``service-intentions`` config entry they live in.

Since Consul 1.9 an intention is one source of a ``service-intentions`` config entry named
after its destination (``agent/structs/config_entry_intentions.go``); the intention endpoints
show each source as a ``structs.Intention`` (``agent/structs/intention.go``):

* :func:`normalize_intentions` / :func:`validate_intentions` are the entry's ``Normalize`` /
  ``Validate`` (and, with ``legacy=True``, ``LegacyNormalize`` / ``LegacyValidate``, used by the
  deprecated ID-addressed endpoints): sources default to ``Type: consul``, get their
  ``Precedence`` (``computeIntentionPrecedence``: 9 for exact => exact, 8 for * => exact, 6 for
  exact => *, 5 for * => *) and are sorted by it, highest first; non-legacy writes drop the
  legacy fields; the texts are Consul's (``Sources[0].Action must be set to 'allow' or
  'deny'``...).
* :func:`render_intention` is ``ToIntention`` as the HTTP API encodes it: namespaces
  ``default``, ``omitempty`` fields left out, and for a legacy source (one with a
  ``LegacyID``) its ID, ``CreatedAt``/``UpdatedAt``, ``LegacyMeta`` as ``Meta`` and the
  ``Hash`` (``SetHash``: BLAKE2b-256 of the content fields).
* :func:`intention_string` is ``Intention.String`` (the agent's authorize reasons quote it);
  :func:`precedence_order` is ``IntentionPrecedenceSorter``.
* :func:`parse_component` is the HTTP layer's ``parseIntentionStringComponent``;
  :func:`decode_intention` reads a ``structs.Intention`` request body; :func:`check_uuid` is
  memdb's UUID index argument check (whose texts the ID routes answer with).

Pure: no I/O, no state.
"""

from __future__ import annotations

import base64
import hashlib
import time
from typing import Any, Final

from ..golang.bexpr import FieldSchema
from ..golang.jsondecode import Int, List, Map, Opaque, Str, Struct, Uint, unmarshal
from ..golang.stdlib import strconv_quote

__all__ = [
    "DEFAULT_NAMESPACE",
    "FILTER_SCHEMA",
    "KIND",
    "WILDCARD",
    "IntentionError",
    "check_uuid",
    "decode_intention",
    "go_now",
    "intention_string",
    "legacy_validate_intention",
    "normalize_intentions",
    "parse_component",
    "precedence",
    "precedence_order",
    "render_intention",
    "source_of",
    "to_source_intention",
    "validate_intentions",
]

Record = dict[str, Any]

WILDCARD: Final = "*"
DEFAULT_NAMESPACE: Final = "default"
KIND: Final = "service-intentions"

# agent/structs/structs.go
_META_MAX_PAIRS: Final = 64
_META_KEY_MAX: Final = 128
_META_VALUE_MAX: Final = 512

#: isValidHTTPMethod (net/http's method constants).
_HTTP_METHODS: Final = frozenset(
    {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "CONNECT", "OPTIONS", "TRACE"})

#: The fields of a SourceIntention, in Go's order, and whether encoding/json omits them empty.
_SOURCE_FIELDS: Final = (
    ("Name", False), ("Action", True), ("Permissions", True), ("Precedence", False),
    ("LegacyID", True), ("Type", False), ("Description", True), ("LegacyMeta", True),
    ("LegacyCreateTime", True), ("LegacyUpdateTime", True), ("Peer", True),
    ("SamenessGroup", True),
)

#: bexpr.GenerateFieldConfigurations of structs.Intention (agent/structs/filtering_test.go's
#: expectedFieldConfigIntention): Permissions, JWT, the times, Hash and the indexes are hidden.
FILTER_SCHEMA: Final = FieldSchema({
    "ID": "string",
    "Description": "string",
    "SourcePeer": "string",
    "SourceSamenessGroup": "string",
    "SourcePartition": "string",
    "SourceNS": "string",
    "SourceName": "string",
    "DestinationPartition": "string",
    "DestinationNS": "string",
    "DestinationName": "string",
    "SourceType": "string",
    "Action": "string",
    "Precedence": "int",
    "Meta": {"*": "string"},
})


class IntentionError(ValueError):
    """An intention or service-intentions entry Consul refuses; ``str()`` is Consul's text."""


def _multierror(errors: list[str]) -> str:
    """hashicorp/go-multierror's text."""
    points = "\n\t* ".join(errors)
    noun = "error" if len(errors) == 1 else "errors"
    return f"{len(errors)} {noun} occurred:\n\t* {points}\n\n"


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def go_now() -> str:
    """``time.Now().UTC()`` as time.Time.MarshalJSON writes it (RFC 3339, nanoseconds)."""
    ns = time.time_ns()
    seconds, nanos = divmod(ns, 1_000_000_000)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    if nanos:
        stamp += "." + f"{nanos:09d}".rstrip("0")
    return stamp + "Z"


# -- precedence ------------------------------------------------------------------------------


def _count_exact(name: str, namespace: str = DEFAULT_NAMESPACE) -> int:
    """intentionCountExact: */* has none, ns/* one, ns/name two."""
    if namespace == WILDCARD:
        return 0
    return 1 if name == WILDCARD else 2


def precedence(destination: str, source: str) -> int:
    """computeIntentionPrecedence for a destination and a source name (namespaces default)."""
    top = {2: 9, 1: 6, 0: 3}[_count_exact(destination)]
    return top - (2 - _count_exact(source))


def precedence_order(ixn: Record) -> tuple[int, str, str, str, str, str, str]:
    """IntentionPrecedenceSorter as a sort key: precedence first (highest first), then the
    canonical tuple (partitions, namespaces, names), lexicographically."""
    return (
        -int(ixn.get("Precedence") or 0),
        _str(ixn.get("SourcePartition")), _str(ixn.get("SourceNS")),
        _str(ixn.get("SourceName")), _str(ixn.get("DestinationPartition")),
        _str(ixn.get("DestinationNS")), _str(ixn.get("DestinationName")),
    )


# -- the config entry ------------------------------------------------------------------------


def _ordered_source(src: Record) -> Record:
    """A source with its fields in Go's order, the empty ``omitempty`` ones left out."""
    out: Record = {}
    for name, omitempty in _SOURCE_FIELDS:
        value = src.get(name)
        if omitempty and not value:
            continue
        if value is None and name == "Name":
            value = ""
        out[name] = value
    for name, value in src.items():  # keys no field takes stay, for Validate to see
        if name not in out and all(name != f for f, _ in _SOURCE_FIELDS):
            out[name] = value
    return out


def normalize_intentions(entry: Record, *, legacy: bool = False) -> Record:
    """ServiceIntentionsConfigEntry.Normalize (``legacy``: LegacyNormalize); a new dict."""
    entry = dict(entry)
    entry["Kind"] = KIND
    name = _str(entry.get("Name"))
    sources: list[Record] = []
    for raw in entry.get("Sources") or []:
        src = dict(raw) if isinstance(raw, dict) else {}
        if not src.get("Type"):
            src["Type"] = "consul"
        src["Precedence"] = precedence(name, _str(src.get("Name")))
        if legacy:
            if src.get("LegacyMeta") is None:
                src["LegacyMeta"] = {}
        else:
            for field in ("LegacyID", "LegacyCreateTime", "LegacyUpdateTime"):
                src.pop(field, None)
        permissions = src.get("Permissions")
        if isinstance(permissions, list):
            src["Permissions"] = [_upper_methods(p) for p in permissions]
        sources.append(src)
    sources.sort(key=lambda s: -int(s["Precedence"]))  # sort.SliceStable
    # A legacy LegacyMeta forced to an empty map is what encoding/json then omits.
    entry["Sources"] = [_ordered_source(s) for s in sources]
    return entry


def _upper_methods(permission: Any) -> Any:
    if not isinstance(permission, dict) or not isinstance(permission.get("HTTP"), dict):
        return permission
    http = dict(permission["HTTP"])
    if isinstance(http.get("Methods"), list):
        http["Methods"] = [m.upper() if isinstance(m, str) else m for m in http["Methods"]]
    return {**permission, "HTTP": http}


def _wildcards(name: str, peer: str = "", sameness_group: str = "") -> str | None:
    """validateIntentionWildcards (namespaces default, partitions empty in CE)."""
    if name != WILDCARD and WILDCARD in name:
        return "Name: wildcard character '*' cannot be used with partial values"
    if WILDCARD in peer:
        return "Peer: cannot use wildcard '*' in peer"
    if WILDCARD in sameness_group:
        return "SamenessGroup: cannot use wildcard '*' in sameness group"
    return None


def _meta_errors(meta: Any, prefix: str = "") -> list[str]:
    """validateConfigEntryMeta's checks (the legacy per-source form takes a prefix)."""
    if not isinstance(meta, dict):
        return []
    errors = []
    if len(meta) > _META_MAX_PAIRS:
        errors.append(f"{prefix}Meta exceeds maximum element count {_META_MAX_PAIRS}")
    for key, value in meta.items():
        if len(key) > _META_KEY_MAX:
            errors.append(
                f"{prefix}Meta key {strconv_quote(key)} exceeds maximum length {_META_KEY_MAX}")
        if isinstance(value, str) and len(value) > _META_VALUE_MAX:
            errors.append(f"{prefix}Meta value for key {strconv_quote(key)} exceeds maximum "
                          f"length {_META_VALUE_MAX}")
    return errors


def validate_intentions(entry: Record, *, legacy: bool = False) -> None:
    """ServiceIntentionsConfigEntry.Validate (``legacy``: LegacyValidate), on a normalized
    entry; raises :class:`IntentionError` with Consul's text."""
    name = _str(entry.get("Name"))
    if not name:
        raise IntentionError("Name is required")
    if (problem := _wildcards(name)) is not None:
        raise IntentionError(problem)
    dest_is_wild = name == WILDCARD
    jwt = entry.get("JWT")
    if isinstance(jwt, dict):
        for provider in jwt.get("Providers") or []:
            if not isinstance(provider, dict) or not provider.get("Name"):
                raise IntentionError(_multierror(["JWT provider name is required"]))
    if legacy:
        if entry.get("Meta"):
            raise IntentionError("Meta must be omitted for legacy intention writes")
    elif errors := _meta_errors(entry.get("Meta")):
        raise IntentionError(_multierror(errors))
    sources = entry.get("Sources") or []
    if not sources:
        raise IntentionError("At least one source is required")
    seen: set[tuple[str, str, str]] = set()
    for i, src in enumerate(sources):
        _validate_source(i, src, legacy=legacy, dest_is_wild=dest_is_wild)
        key = (_str(src.get("Peer")), _str(src.get("SamenessGroup")), _str(src.get("Name")))
        if key in seen:
            peer, group, source = key
            if peer:
                raise IntentionError(f"Sources[{i}] defines peer({strconv_quote(peer)}) "
                                     f"{strconv_quote(source)} more than once")
            if group:
                raise IntentionError(f"Sources[{i}] defines sameness-group("
                                     f"{strconv_quote(group)}) {strconv_quote(source)} more "
                                     "than once")
            raise IntentionError(f"Sources[{i}] defines {strconv_quote(source)} more than once")
        seen.add(key)


def _validate_source(i: int, src: Record, *, legacy: bool, dest_is_wild: bool) -> None:
    if not _str(src.get("Name")):
        raise IntentionError(f"Sources[{i}].Name is required")
    peer, group = _str(src.get("Peer")), _str(src.get("SamenessGroup"))
    if group:  # validateSamenessGroup (CE)
        raise IntentionError(
            f"Sources[{i}].SamenessGroup: Sameness groups are a Consul Enterprise feature. ")
    if (problem := _wildcards(_str(src.get("Name")), peer, group)) is not None:
        raise IntentionError(f"Sources[{i}].{problem}")
    if len(_str(src.get("Description"))) > _META_VALUE_MAX:
        raise IntentionError(
            f"Sources[{i}].Description exceeds maximum length {_META_VALUE_MAX}")
    permissions = src.get("Permissions") or []
    if legacy:
        if peer:
            raise IntentionError(f"Sources[{i}].Peer cannot be set by legacy intentions")
        errors = _meta_errors(src.get("LegacyMeta"), f"Sources[{i}].")
        if errors:
            raise IntentionError(errors[0])
        if not src.get("LegacyCreateTime"):
            raise IntentionError(f"Sources[{i}].LegacyCreateTime must be set")
        if not src.get("LegacyUpdateTime"):
            raise IntentionError(f"Sources[{i}].LegacyUpdateTime must be set")
        if not src.get("LegacyID"):
            raise IntentionError(f"Sources[{i}].LegacyID must be set")
    else:
        if src.get("LegacyMeta"):
            raise IntentionError(f"Sources[{i}].LegacyMeta must be omitted")
        src.pop("LegacyMeta", None)
    if (legacy or not permissions) and src.get("Action") not in ("allow", "deny"):
        raise IntentionError(f"Sources[{i}].Action must be set to 'allow' or 'deny'")
    if permissions and src.get("Action"):
        raise IntentionError(
            f"Sources[{i}].Action must be omitted if Permissions are specified")
    if dest_is_wild and permissions:
        raise IntentionError(f"Sources[{i}].Permissions cannot be specified on intentions "
                             "with wildcarded destinations")
    if src.get("Type") != "consul":
        raise IntentionError(f"Sources[{i}].Type must be set to 'consul'")
    for j, perm in enumerate(permissions if isinstance(permissions, list) else []):
        _validate_permission(i, j, perm if isinstance(perm, dict) else {})


def _validate_permission(i: int, j: int, perm: Record) -> None:
    if perm.get("Action") not in ("allow", "deny"):
        raise IntentionError(
            f"Sources[{i}].Permissions[{j}].Action must be set to 'allow' or 'deny'")
    prefix = f"Sources[{i}].Permissions[{j}].HTTP"
    http = perm.get("HTTP")
    if not isinstance(http, dict):
        raise IntentionError(f"{prefix} is required")
    path_parts = 0
    for field in ("PathExact", "PathPrefix"):
        value = _str(http.get(field))
        if value:
            path_parts += 1
            if not value.startswith("/"):
                raise IntentionError(
                    f"{prefix}.{field} doesn't start with '/': {strconv_quote(value)}")
    if _str(http.get("PathRegex")):
        path_parts += 1
    if path_parts > 1:
        raise IntentionError(
            f"{prefix} should only contain at most one of PathExact, PathPrefix, or PathRegex")
    parts = path_parts
    for k, header in enumerate(http.get("Header") or []):
        header = header if isinstance(header, dict) else {}
        if not _str(header.get("Name")):
            raise IntentionError(f"{prefix}.Header[{k}] missing required Name field")
        matchers = sum(bool(header.get(f)) for f in ("Present", "Exact", "Regex", "Prefix",
                                                     "Suffix"))
        if matchers != 1:
            raise IntentionError(f"{prefix}.Header[{k}] should only contain one of Present, "
                                 "Exact, Prefix, Suffix, or Regex")
        parts += 1
    methods = http.get("Methods") or []
    if methods:
        found: set[str] = set()
        for method in methods:
            if method not in _HTTP_METHODS:
                raise IntentionError(
                    f"{prefix}.Methods contains an invalid method {strconv_quote(str(method))}")
            if method in found:
                raise IntentionError(
                    f"{prefix}.Methods contains {strconv_quote(method)} more than once")
            found.add(method)
        parts += 1
    if parts == 0:
        raise IntentionError(f"{prefix} should not be empty")
    jwt = perm.get("JWT")
    if isinstance(jwt, dict):
        for provider in jwt.get("Providers") or []:
            if not isinstance(provider, dict) or not provider.get("Name"):
                raise IntentionError(_multierror(["JWT provider name is required"]))


def source_of(entry: Record, name: str, peer: str = "") -> Record | None:
    """The entry's source for ``name`` (``peer``: its cluster peer), if any."""
    for src in entry.get("Sources") or []:
        if _str(src.get("Name")) == name and _str(src.get("Peer")) == peer:
            return dict(src)
    return None


# -- structs.Intention -----------------------------------------------------------------------


def _hash(ixn: Record) -> str:
    """Intention.SetHash: BLAKE2b-256 over the content fields and the sorted Meta."""
    digest = hashlib.blake2b(digest_size=32)
    for field in ("Description", "SourcePeer", "SourcePartition", "SourceNS", "SourceName",
                  "DestinationPartition", "DestinationNS", "DestinationName", "SourceType",
                  "Action"):
        digest.update(_str(ixn.get(field)).encode())
    meta = ixn.get("Meta") or {}
    for key in sorted(meta):
        digest.update(key.encode())
        digest.update(_str(meta[key]).encode())
    return base64.b64encode(digest.digest()).decode("ascii")


def render_intention(entry: Record, src: Record, create_index: int, modify_index: int) -> Record:
    """ServiceIntentionsConfigEntry.ToIntention, as Intention.MarshalJSON writes it."""
    legacy_id = _str(src.get("LegacyID"))
    meta = src.get("LegacyMeta") if legacy_id else entry.get("Meta")
    out: Record = {}
    if legacy_id and src.get("LegacyCreateTime"):
        out["CreatedAt"] = src["LegacyCreateTime"]
    if legacy_id and src.get("LegacyUpdateTime"):
        out["UpdatedAt"] = src["LegacyUpdateTime"]
    fields: list[tuple[str, Any, bool]] = [
        ("ID", legacy_id, True),
        ("Description", src.get("Description"), True),
        ("SourcePeer", src.get("Peer"), True),
        ("SourceSamenessGroup", src.get("SamenessGroup"), True),
        ("SourceNS", DEFAULT_NAMESPACE, False),
        ("SourceName", _str(src.get("Name")), False),
        ("DestinationNS", DEFAULT_NAMESPACE, False),
        ("DestinationName", _str(entry.get("Name")), False),
        ("SourceType", src.get("Type") or "", False),
        ("Action", src.get("Action"), True),
        ("Permissions", src.get("Permissions"), True),
        ("JWT", entry.get("JWT"), True),
        ("Meta", meta, True),
        ("Precedence", int(src.get("Precedence") or 0), False),
    ]
    for name, value, omitempty in fields:
        if omitempty and not value:
            continue
        out[name] = value
    if legacy_id:
        out["Hash"] = _hash(out)
    out["CreateIndex"] = create_index
    out["ModifyIndex"] = modify_index
    return out


def intention_string(ixn: Record) -> str:
    """Intention.String: ``default/web => default/db (Precedence: 9, Action: ALLOW)``."""
    id_part = f"ID: {ixn['ID']}, " if ixn.get("ID") else ""
    permissions = ixn.get("Permissions") or []
    if permissions:
        detail = f"Permissions: {len(permissions)}"
    else:
        detail = "Action: " + _str(ixn.get("Action")).upper()
    return (f"{ixn.get('SourceNS', '')}/{ixn.get('SourceName', '')} => "
            f"{ixn.get('DestinationNS', '')}/{ixn.get('DestinationName', '')} "
            f"({id_part}Precedence: {ixn.get('Precedence', 0)}, {detail})")


def to_source_intention(ixn: Record, *, legacy: bool) -> Record:
    """Intention.ToSourceIntention: the source an intention write stores."""
    src: Record = {
        "Name": _str(ixn.get("SourceName")),
        "Action": _str(ixn.get("Action")),
        "Permissions": ixn.get("Permissions"),
        "Type": _str(ixn.get("SourceType")),
        "Description": _str(ixn.get("Description")),
        "Peer": _str(ixn.get("SourcePeer")),
        "SamenessGroup": _str(ixn.get("SourceSamenessGroup")),
    }
    if legacy:
        src["LegacyID"] = _str(ixn.get("ID"))
        src["LegacyMeta"] = ixn.get("Meta")
    return _ordered_source(src)


def legacy_validate_intention(ixn: Record) -> None:
    """Intention.Validate (the deprecated ID endpoints, namespaces filled in): a multierror."""
    errors = []
    for field in ("SourceName", "DestinationName"):
        if not _str(ixn.get(field)):
            errors.append(f"{field} must be set")
    for field in ("SourceName", "DestinationName"):
        value = _str(ixn.get(field))
        if value != WILDCARD and WILDCARD in value:
            errors.append(f"{field}: wildcard character '*' cannot be used with partial values")
    if len(_str(ixn.get("Description"))) > _META_VALUE_MAX:
        errors.append(f"Description exceeds maximum length {_META_VALUE_MAX}")
    errors += _meta_errors(ixn.get("Meta"))
    if ixn.get("Action") not in ("allow", "deny"):
        errors.append("Action must be set to 'allow' or 'deny'")
    if ixn.get("SourceType") != "consul":
        errors.append("SourceType must be set to 'consul'")
    if errors:
        raise IntentionError(_multierror(errors))


_INTENTION_BODY: Final = Struct(
    "structs.Intention", "Intention",
    {
        "ID": Str(), "Description": Str(), "SourcePeer": Str(), "SourceSamenessGroup": Str(),
        "SourceNS": Str(), "SourceName": Str(), "DestinationNS": Str(),
        "DestinationName": Str(), "SourcePartition": Str(), "DestinationPartition": Str(),
        "SourceType": Str("structs.IntentionSourceType"),
        "Action": Str("structs.IntentionAction"),
        "Permissions": List(Opaque(), "[]*structs.IntentionPermission"),
        "JWT": Opaque(), "DefaultAddr": Str(), "DefaultPort": Int(), "Meta": Map(Str()),
        "Precedence": Int(), "CreatedAt": Str(), "UpdatedAt": Str(), "Hash": Str(),
        "CreateIndex": Uint(), "ModifyIndex": Uint(),
    },
    strict=False,  # Intention.UnmarshalJSON decodes with a plain json.Unmarshal
)


def decode_intention(body: bytes) -> Record:
    """A ``structs.Intention`` request body (a :class:`GoSyntaxError` when Go would fail)."""
    value = unmarshal(body, _INTENTION_BODY)
    return value if isinstance(value, dict) else {}


def parse_component(text: str, *, allow_peer: bool) -> tuple[str, str, str, str]:
    """parseIntentionStringComponent: ``(peer, partition, namespace, name)`` of ``name``,
    ``ns/name``, ``ap/ns/name``, ``peer:p/name`` or ``peer:p/ns/name``."""
    if text.startswith("peer:") and not allow_peer:
        raise IntentionError("cannot specify a peer here")
    parts = text.split("/")
    if len(parts) == 1:
        if parts[0].startswith("peer:"):
            raise IntentionError("need to specify the service name as well")
        return "", "", "", parts[0]
    if len(parts) == 2:
        if parts[0].startswith("peer:"):
            return parts[0][len("peer:"):], "", "", parts[1]
        return "", "", parts[0], parts[1]
    if len(parts) == 3:
        if parts[0].startswith("peer:"):
            return parts[0][len("peer:"):], "", parts[1], parts[2]
        return "", parts[0], parts[1], parts[2]
    raise IntentionError("input can contain at most two '/'")


def check_uuid(text: str) -> None:
    """memdb.UUIDFieldIndex.FromArgs (length enforced): raises with memdb's text."""
    if len(text) != 36:
        raise IntentionError("UUID must be 36 characters")
    hyphens = text.count("-")
    if hyphens > 4:
        raise IntentionError(f'UUID should have maximum of 4 "-"; got {hyphens}')
    sanitized = text.replace("-", "")
    if len(sanitized) % 2:
        raise IntentionError("Input (without hyphens) must be even length")
    for char in sanitized:
        if char not in "0123456789abcdefABCDEF":
            raise IntentionError(
                f"Invalid UUID: encoding/hex: invalid byte: U+{ord(char):04X} {char!r}")
