"""The ACL objects on the wire: Consul's JSON renderings and the request bodies it decodes.

Renderers follow ``agent/structs/acl.go`` (CE): field order of the Go structs, ``omitempty``
where Consul has it, ``Hash`` as base64 (``[]byte``), times as Go's RFC 3339 with nanoseconds
in the zone they were made in, and ``ACLAuthMethod.MarshalJSON``'s alias trick, which puts
``MaxTokenTTL`` (a duration string) *first*. Decoders are the ``UnmarshalJSON`` of those types
run by ``lib.DecodeJSON`` (unknown fields refused): ``ExpirationTTL`` and ``MaxTokenTTL`` take a
Go duration string or nanoseconds, ``Hash`` is a plain string.

Pure: no I/O, no asyncio, no aiohttp; it never validates Consul semantics (the endpoints do).
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Final

from ..golang.jsondecode import (
    Bool,
    Custom,
    DecodeState,
    List,
    Map,
    Opaque,
    Ptr,
    Str,
    Struct,
    Uint,
    unmarshal,
)
from ..golang.stdlib import GoSyntaxError, format_duration, parse_duration
from ..state.acl import (
    AuthMethod,
    BindingRule,
    GoTime,
    Link,
    NodeIdentity,
    Policy,
    Role,
    ServiceIdentity,
    TemplatedPolicy,
    Token,
)

__all__ = [
    "REDACTED",
    "LoginParams",
    "TokenBody",
    "decode_agent_token",
    "decode_authorization_requests",
    "decode_auth_method",
    "decode_binding_rule",
    "decode_bootstrap",
    "decode_login",
    "decode_policy",
    "decode_role",
    "decode_template_variables",
    "decode_token",
    "go_time",
    "method_json",
    "method_stub_json",
    "policy_json",
    "policy_stub_json",
    "replication_status_json",
    "role_json",
    "rule_json",
    "token_json",
    "token_stub_json",
]

Record = dict[str, Any]

#: aclfilter.RedactedToken: the SecretID shown to a token without acl:write.
REDACTED: Final = "<hidden>"

_ZERO_TIME: Final = "0001-01-01T00:00:00Z"


# -- rendering -------------------------------------------------------------------------------


def go_time(t: GoTime) -> str:
    """time.Time.MarshalJSON: RFC 3339 with the nanoseconds, trailing zeros cut."""
    seconds, nanos = divmod(t.ns, 1_000_000_000)
    zone = timezone(timedelta(seconds=t.offset))
    stamp = datetime.fromtimestamp(seconds, zone).strftime("%Y-%m-%dT%H:%M:%S")
    if nanos:
        stamp += "." + f"{nanos:09d}".rstrip("0")
    if t.offset == 0:
        return stamp + "Z"
    sign = "-" if t.offset < 0 else "+"
    hours, minutes = divmod(abs(t.offset) // 60, 60)
    return f"{stamp}{sign}{hours:02d}:{minutes:02d}"


def _b64(data: bytes) -> str | None:
    return base64.b64encode(data).decode() if data else None  # a nil []byte is null


def _links(links: tuple[Link, ...]) -> list[Record]:
    return [{"ID": link.id, "Name": link.name} for link in links]


def _service_identity(sid: ServiceIdentity) -> Record:
    out: Record = {"ServiceName": sid.service_name}
    if sid.datacenters:
        out["Datacenters"] = list(sid.datacenters)
    return out


def _node_identity(nid: NodeIdentity) -> Record:
    return {"NodeName": nid.node_name, "Datacenter": nid.datacenter}


def _templated(tp: TemplatedPolicy) -> Record:
    """ACLTemplatedPolicy: every field ``omitempty``; the variables' ``name`` in lower case."""
    out: Record = {}
    if tp.template_id:
        out["TemplateID"] = tp.template_id
    if tp.template_name:
        out["TemplateName"] = tp.template_name
    if tp.variables is not None:
        out["TemplateVariables"] = {"name": tp.variable_name} if tp.variable_name else {}
    if tp.datacenters:
        out["Datacenters"] = list(tp.datacenters)
    return out


def _identities(
    out: Record,
    services: tuple[ServiceIdentity, ...],
    nodes: tuple[NodeIdentity, ...],
    templated: tuple[TemplatedPolicy, ...],
) -> None:
    if services:
        out["ServiceIdentities"] = [_service_identity(s) for s in services]
    if nodes:
        out["NodeIdentities"] = [_node_identity(n) for n in nodes]
    if templated:
        out["TemplatedPolicies"] = [_templated(t) for t in templated]


def _token_fields(token: Token, secret: str) -> Record:
    out: Record = {
        "AccessorID": token.accessor_id,
        "SecretID": secret,
        "Description": token.description,
    }
    if token.policies:
        out["Policies"] = _links(token.policies)
    if token.roles:
        out["Roles"] = _links(token.roles)
    _identities(out, token.service_identities, token.node_identities, token.templated_policies)
    out["Local"] = token.local
    if token.auth_method:
        out["AuthMethod"] = token.auth_method
    if token.expiration_time is not None:
        out["ExpirationTime"] = go_time(token.expiration_time)
    out["CreateTime"] = go_time(token.create_time) if token.create_time else _ZERO_TIME
    out["Hash"] = _b64(token.hash)
    return out


def token_json(token: Token, *, redact: bool = False) -> Record:
    """structs.ACLToken (CE): what token create, read, update, clone and self answer."""
    out = _token_fields(token, REDACTED if redact else token.secret_id)
    out["CreateIndex"] = token.create_index
    out["ModifyIndex"] = token.modify_index
    return out


def token_stub_json(token: Token, *, redact: bool = False) -> Record:
    """structs.ACLTokenListStub: a token in ``/v1/acl/tokens`` (the same fields, CE)."""
    return token_json(token, redact=redact)


def policy_json(policy: Policy) -> Record:
    """structs.ACLPolicy."""
    out: Record = {
        "ID": policy.id,
        "Name": policy.name,
        "Description": policy.description,
        "Rules": policy.rules,
    }
    if policy.datacenters:
        out["Datacenters"] = list(policy.datacenters)
    out["Hash"] = _b64(policy.hash)
    out["CreateIndex"] = policy.create_index
    out["ModifyIndex"] = policy.modify_index
    return out


def policy_stub_json(policy: Policy) -> Record:
    """structs.ACLPolicyListStub: no Rules; Datacenters without ``omitempty``."""
    return {
        "ID": policy.id,
        "Name": policy.name,
        "Description": policy.description,
        "Datacenters": list(policy.datacenters) if policy.datacenters is not None else None,
        "Hash": _b64(policy.hash),
        "CreateIndex": policy.create_index,
        "ModifyIndex": policy.modify_index,
    }


def role_json(role: Role) -> Record:
    """structs.ACLRole."""
    out: Record = {"ID": role.id, "Name": role.name, "Description": role.description}
    if role.policies:
        out["Policies"] = _links(role.policies)
    _identities(out, role.service_identities, role.node_identities, role.templated_policies)
    out["Hash"] = _b64(role.hash)
    out["CreateIndex"] = role.create_index
    out["ModifyIndex"] = role.modify_index
    return out


def rule_json(rule: BindingRule) -> Record:
    """structs.ACLBindingRule."""
    out: Record = {
        "ID": rule.id,
        "Description": rule.description,
        "AuthMethod": rule.auth_method,
        "Selector": rule.selector,
        "BindType": rule.bind_type,
        "BindName": rule.bind_name,
    }
    if rule.bind_vars is not None:
        name = rule.bind_vars.get("name", "")
        out["BindVars"] = {"name": name} if name else {}
    out["CreateIndex"] = rule.create_index
    out["ModifyIndex"] = rule.modify_index
    return out


def _sorted_config(value: Any) -> Any:
    """A Go ``map[string]interface{}`` marshals with its keys sorted, at every depth."""
    if isinstance(value, dict):
        return {k: _sorted_config(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted_config(v) for v in value]
    return value


def _method_head(method: AuthMethod) -> Record:
    """MarshalJSON's ``struct { MaxTokenTTL string; *Alias }``: the outer field comes first."""
    out: Record = {}
    if method.max_token_ttl:
        out["MaxTokenTTL"] = format_duration(method.max_token_ttl)
    out["Name"] = method.name
    out["Type"] = method.type
    if method.display_name:
        out["DisplayName"] = method.display_name
    if method.description:
        out["Description"] = method.description
    if method.token_locality:
        out["TokenLocality"] = method.token_locality
    return out


def method_json(method: AuthMethod) -> Record:
    """structs.ACLAuthMethod (MarshalJSON)."""
    out = _method_head(method)
    out["Config"] = _sorted_config(method.config) if method.config is not None else None
    out["CreateIndex"] = method.create_index
    out["ModifyIndex"] = method.modify_index
    return out


def method_stub_json(method: AuthMethod) -> Record:
    """structs.ACLAuthMethodListStub (no Config)."""
    out = _method_head(method)
    out["CreateIndex"] = method.create_index
    out["ModifyIndex"] = method.modify_index
    return out


def replication_status_json() -> Record:
    """structs.ACLReplicationStatus of the primary datacenter: nothing replicates."""
    return {
        "Enabled": False,
        "Running": False,
        "SourceDatacenter": "",
        "ReplicationType": "",
        "ReplicatedIndex": 0,
        "ReplicatedRoleIndex": 0,
        "ReplicatedTokenIndex": 0,
        "LastSuccess": _ZERO_TIME,
        "LastError": _ZERO_TIME,
        "LastErrorMessage": "",
    }


# -- decoding --------------------------------------------------------------------------------

_RFC3339: Final = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?"
    r"(?:([Zz])|([+-])(\d{2}):(\d{2}))"
)


def parse_go_time(text: str) -> GoTime:
    """time.Time.UnmarshalJSON's RFC 3339 parsing (the error text is Go's for the common case)."""
    match = _RFC3339.fullmatch(text)
    if match is None:
        raise GoSyntaxError(
            f'parsing time "\\"{text}\\"" as "\\"2006-01-02T15:04:05Z07:00\\"": '
            f'cannot parse "{text}\\"" as "2006"'
        )
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    fraction = match.group(7) or ""
    offset = 0
    if match.group(9):
        offset = int(match.group(10)) * 3600 + int(match.group(11)) * 60
        if match.group(9) == "-":
            offset = -offset
    try:
        stamp = datetime(year, month, day, hour, minute, second,
                         tzinfo=timezone(timedelta(seconds=offset)))
    except ValueError as exc:
        raise GoSyntaxError(f'parsing time "\\"{text}\\"": {exc}') from None
    ns = int(stamp.timestamp()) * 1_000_000_000 + int(fraction.ljust(9, "0") or 0)
    return GoTime(ns, offset)


def _time(value: Any, state: DecodeState) -> GoTime | None:
    if not isinstance(value, str):
        raise GoSyntaxError("Time.UnmarshalJSON: input is not a JSON string")
    return parse_go_time(value)


def _duration(value: Any, state: DecodeState) -> int:
    """The ``interface{}`` TTL of ``UnmarshalJSON``: a duration string or nanoseconds."""
    if isinstance(value, str):
        return parse_duration(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    return 0  # any other kind is ignored by the type switch


_STR: Final = Str()
_STRS: Final = List(_STR)
_UINT: Final = Uint()
_BOOL: Final = Bool()
_TIME: Final = Custom(_time, "time.Time")
_TTL: Final = Custom(_duration, "interface {}")
_TOKEN_LINK: Final = Struct(
    "structs.ACLTokenPolicyLink", "ACLTokenPolicyLink", {"ID": _STR, "Name": _STR}
)
_ROLE_LINK: Final = Struct(
    "structs.ACLTokenRoleLink", "ACLTokenRoleLink", {"ID": _STR, "Name": _STR}
)
_ROLE_POLICY_LINK: Final = Struct(
    "structs.ACLRolePolicyLink", "ACLRolePolicyLink", {"ID": _STR, "Name": _STR}
)
_SERVICE_IDENTITY: Final = Ptr(Struct(
    "structs.ACLServiceIdentity", "ACLServiceIdentity",
    {"ServiceName": _STR, "Datacenters": _STRS},
))
_NODE_IDENTITY: Final = Ptr(Struct(
    "structs.ACLNodeIdentity", "ACLNodeIdentity", {"NodeName": _STR, "Datacenter": _STR}
))
_VARIABLES: Final = Struct(
    "structs.ACLTemplatedPolicyVariables", "ACLTemplatedPolicyVariables", {"name": _STR}
)
_TEMPLATED: Final = Ptr(Struct(
    "structs.ACLTemplatedPolicy", "ACLTemplatedPolicy",
    {
        "TemplateID": _STR,
        "TemplateName": _STR,
        "TemplateVariables": Ptr(_VARIABLES),
        "Datacenters": _STRS,
    },
))
_TOKEN: Final = Struct(
    # ACLToken.UnmarshalJSON: struct { ExpirationTTL interface{}; Hash string; *Alias }
    "struct { ExpirationTTL interface {}; Hash string; *structs.Alias }",
    "",
    {
        "ExpirationTTL": _TTL,
        "Hash": _STR,
        "AccessorID": _STR,
        "SecretID": _STR,
        "Description": _STR,
        "Policies": List(_TOKEN_LINK),
        "Roles": List(_ROLE_LINK),
        "ServiceIdentities": List(_SERVICE_IDENTITY),
        "NodeIdentities": List(_NODE_IDENTITY),
        "TemplatedPolicies": List(_TEMPLATED),
        "Local": _BOOL,
        "AuthMethod": _STR,
        "ExpirationTime": Ptr(_TIME),
        "CreateTime": _TIME,
        "CreateIndex": _UINT,
        "ModifyIndex": _UINT,
    },
)
_POLICY: Final = Struct(
    "struct { Hash string; *structs.Alias }",
    "",
    {
        "Hash": _STR,
        "ID": _STR,
        "Name": _STR,
        "Description": _STR,
        "Rules": _STR,
        "Datacenters": _STRS,
        "CreateIndex": _UINT,
        "ModifyIndex": _UINT,
    },
)
_ROLE: Final = Struct(
    "struct { Hash string; *structs.Alias }",
    "",
    {
        "Hash": _STR,
        "ID": _STR,
        "Name": _STR,
        "Description": _STR,
        "Policies": List(_ROLE_POLICY_LINK),
        "ServiceIdentities": List(_SERVICE_IDENTITY),
        "NodeIdentities": List(_NODE_IDENTITY),
        "TemplatedPolicies": List(_TEMPLATED),
        "CreateIndex": _UINT,
        "ModifyIndex": _UINT,
    },
)
_BINDING_RULE: Final = Struct(
    "structs.ACLBindingRule",
    "ACLBindingRule",
    {
        "ID": _STR,
        "Description": _STR,
        "AuthMethod": _STR,
        "Selector": _STR,
        "BindType": _STR,
        "BindName": _STR,
        "BindVars": Ptr(_VARIABLES),
        "CreateIndex": _UINT,
        "ModifyIndex": _UINT,
    },
)
_AUTH_METHOD: Final = Struct(
    "struct { MaxTokenTTL interface {}; *structs.Alias }",
    "",
    {
        "MaxTokenTTL": _TTL,
        "Name": _STR,
        "Type": _STR,
        "DisplayName": _STR,
        "Description": _STR,
        "TokenLocality": _STR,
        "Config": Map(Opaque()),
        "CreateIndex": _UINT,
        "ModifyIndex": _UINT,
    },
)
_LOGIN: Final = Struct(
    "structs.ACLLoginParams",
    "ACLLoginParams",
    {"AuthMethod": _STR, "BearerToken": _STR, "Meta": Map(_STR)},
)
_BOOTSTRAP: Final = Struct(
    "api.BootstrapRequest", "BootstrapRequest", {"BootstrapSecret": _STR}
)
_AGENT_TOKEN: Final = Struct("api.AgentToken", "AgentToken", {"Token": _STR})
_AUTHORIZATION_REQUEST: Final = Struct(
    "structs.ACLAuthorizationRequest",
    "ACLAuthorizationRequest",
    {"Resource": _STR, "Segment": _STR, "Access": _STR},
)


def _decode(data: bytes, schema: Struct) -> Record:
    value = unmarshal(data, schema)
    return value if isinstance(value, dict) else {}


def _link_tuple(raw: list[Record] | None) -> tuple[Link, ...]:
    return tuple(Link(item.get("ID", ""), item.get("Name", "")) for item in raw or ())


def _service_identities(raw: list[Record | None] | None) -> tuple[ServiceIdentity, ...]:
    out = []
    for item in raw or ():
        item = item or {}
        out.append(ServiceIdentity(item.get("ServiceName", ""),
                                   tuple(item.get("Datacenters") or ())))
    return tuple(out)


def _node_identities(raw: list[Record | None] | None) -> tuple[NodeIdentity, ...]:
    return tuple(
        NodeIdentity((item or {}).get("NodeName", ""), (item or {}).get("Datacenter", ""))
        for item in raw or ()
    )


def _variables(raw: Record | None) -> dict[str, str] | None:
    if raw is None:
        return None
    return {"name": raw["name"]} if raw.get("name") else {}


def _templated_policies(raw: list[Record | None] | None) -> tuple[TemplatedPolicy, ...]:
    out = []
    for item in raw or ():
        item = item or {}
        out.append(TemplatedPolicy(
            template_name=item.get("TemplateName", ""),
            template_id=item.get("TemplateID", ""),
            variables=_variables(item.get("TemplateVariables")),
            datacenters=tuple(item.get("Datacenters") or ()),
        ))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class TokenBody:
    """A decoded ``structs.ACLToken`` body: the token and its one-shot ExpirationTTL."""

    token: Token
    expiration_ttl: int = 0


def decode_token(data: bytes) -> TokenBody:
    """ACLToken.UnmarshalJSON under lib.DecodeJSON (token create, update, clone)."""
    raw = _decode(data, _TOKEN)
    token = Token(
        accessor_id=raw.get("AccessorID", ""),
        secret_id=raw.get("SecretID", ""),
        description=raw.get("Description", ""),
        policies=_link_tuple(raw.get("Policies")),
        roles=_link_tuple(raw.get("Roles")),
        service_identities=_service_identities(raw.get("ServiceIdentities")),
        node_identities=_node_identities(raw.get("NodeIdentities")),
        templated_policies=_templated_policies(raw.get("TemplatedPolicies")),
        local=raw.get("Local", False),
        auth_method=raw.get("AuthMethod", ""),
        expiration_time=raw.get("ExpirationTime"),
        create_time=raw.get("CreateTime"),
    )
    return TokenBody(token, raw.get("ExpirationTTL", 0))


def decode_policy(data: bytes) -> Policy:
    """ACLPolicy.UnmarshalJSON under lib.DecodeJSON."""
    raw = _decode(data, _POLICY)
    dcs = raw.get("Datacenters")
    return Policy(
        id=raw.get("ID", ""),
        name=raw.get("Name", ""),
        description=raw.get("Description", ""),
        rules=raw.get("Rules", ""),
        datacenters=tuple(dcs) if dcs is not None else None,
    )


def decode_role(data: bytes) -> Role:
    """ACLRole.UnmarshalJSON under lib.DecodeJSON."""
    raw = _decode(data, _ROLE)
    return Role(
        id=raw.get("ID", ""),
        name=raw.get("Name", ""),
        description=raw.get("Description", ""),
        policies=_link_tuple(raw.get("Policies")),
        service_identities=_service_identities(raw.get("ServiceIdentities")),
        node_identities=_node_identities(raw.get("NodeIdentities")),
        templated_policies=_templated_policies(raw.get("TemplatedPolicies")),
    )


def decode_binding_rule(data: bytes) -> BindingRule:
    raw = _decode(data, _BINDING_RULE)
    return BindingRule(
        id=raw.get("ID", ""),
        auth_method=raw.get("AuthMethod", ""),
        description=raw.get("Description", ""),
        selector=raw.get("Selector", ""),
        bind_type=raw.get("BindType", ""),
        bind_name=raw.get("BindName", ""),
        bind_vars=_variables(raw.get("BindVars")),
    )


def decode_auth_method(data: bytes) -> AuthMethod:
    """ACLAuthMethod.UnmarshalJSON under lib.DecodeJSON."""
    raw = _decode(data, _AUTH_METHOD)
    return AuthMethod(
        name=raw.get("Name", ""),
        type=raw.get("Type", ""),
        display_name=raw.get("DisplayName", ""),
        description=raw.get("Description", ""),
        max_token_ttl=raw.get("MaxTokenTTL", 0),
        token_locality=raw.get("TokenLocality", ""),
        config=raw.get("Config") or {},
    )


@dataclass(frozen=True, slots=True)
class LoginParams:
    """structs.ACLLoginParams."""

    auth_method: str
    bearer_token: str
    meta: dict[str, str]


def decode_login(data: bytes) -> LoginParams:
    raw = _decode(data, _LOGIN)
    return LoginParams(raw.get("AuthMethod", ""), raw.get("BearerToken", ""),
                       raw.get("Meta") or {})


def decode_bootstrap(data: bytes) -> str:
    """api.BootstrapRequest: the operator's BootstrapSecret."""
    return str(_decode(data, _BOOTSTRAP).get("BootstrapSecret", ""))


def decode_agent_token(data: bytes) -> str:
    """The ``{"Token": ...}`` body of ``/v1/agent/token/<kind>``."""
    return str(_decode(data, _AGENT_TOKEN).get("Token", ""))


def decode_authorization_requests(data: bytes) -> list[dict[str, str]]:
    """The ``[]structs.ACLAuthorizationRequest`` body of ``/v1/internal/acl/authorize``."""
    raw = unmarshal(data, List(_AUTHORIZATION_REQUEST))
    return [
        {"Resource": r.get("Resource", ""), "Segment": r.get("Segment", ""),
         "Access": r.get("Access", "")}
        for r in raw or ()
    ]


def decode_template_variables(data: bytes) -> dict[str, str]:
    """structs.ACLTemplatedPolicyVariables (the templated-policy preview body)."""
    raw = _decode(data, _VARIABLES)
    return {"name": raw["name"]} if raw.get("name") else {}
