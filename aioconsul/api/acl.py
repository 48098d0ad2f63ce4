"""ACLs: ``/v1/acl/*`` — bootstrap, tokens, policies, roles, auth methods, binding rules,
templated policies, login and logout.

Thin over the request core, like every group: each method checks its arguments (a TypeError or
ValueError naming the argument, before anything is sent), builds Consul's JSON body with Consul's
field names, makes one request and returns ``(object, meta)`` or ``(list, meta)``. Deletes return
Consul's ``true``, also for an object that does not exist (the RPCs have nothing to do then). A
read of an object that does not exist (Consul 1.16+ answers 404, "Requested policy does not
exist: ACL not found") returns ``(None, meta)``, as Go's ``RoleRead`` and ``PolicyReadByName``
do. Every method takes ``token``: the ACL token of that call, instead of the client's. No
secret (a token's SecretID sent in a body, a bootstrap secret, a bearer token, the call's
token) ever appears in a URL, a log line or an error message.

Links to policies and roles are given as names (a str) or as objects with an ``ID`` and/or a
``Name`` (what Consul returned: ``{"ID": ...}`` or the policy itself). An update replaces every
link and identity of the object, as Consul does: pass the object read before (or returned by
create) to keep what the call does not change, or a bare ID to send only what is given.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from .._core import normalize
from .._core.core import Core, Endpoint
from .._core.request import quote_segment
from ..typing import Blocking, Collection, Consistency, Duration, Meta, Object, ObjectID

__all__ = [
    "ACL",
    "ACLAuthMethods",
    "ACLBindingRules",
    "ACLPolicies",
    "ACLRoles",
    "ACLTemplatedPolicies",
    "ACLTokens",
    "BIND_TYPES",
    "Rules",
]

#: How a policy's rules may be given: HCL or JSON text, or a dict (sent JSON-encoded).
Rules = str | Mapping[str, Any]
#: The binding rule types Consul knows (``structs.BindingRuleBindType*``).
BIND_TYPES = ("service", "node", "role", "policy", "templated-policy")
_TOKEN_LOCALITIES = ("local", "global")
#: What an update copies from an object given in place of its ID: its mutable fields.
_TOKEN_FIELDS = ("Description", "Policies", "Roles", "ServiceIdentities", "NodeIdentities",
                 "TemplatedPolicies", "Local")
_POLICY_FIELDS = ("Name", "Description", "Rules", "Datacenters")
_ROLE_FIELDS = ("Name", "Description", "Policies", "ServiceIdentities", "NodeIdentities",
                "TemplatedPolicies")
_AUTH_METHOD_FIELDS = ("Name", "Type", "DisplayName", "Description", "MaxTokenTTL",
                       "TokenLocality", "Config", "NamespaceRules")
_BINDING_RULE_FIELDS = ("Description", "AuthMethod", "Selector", "BindType", "BindName",
                        "BindVars")


# -- the inputs, each checked before anything is sent ---------------------------------------


def _links(value: Any, name: str, kind: str) -> list[dict[str, str]]:
    """Policy or role links: a name (str), or an object with ``ID`` and/or ``Name``."""
    links = []
    for i, item in enumerate(normalize.list_of(value, name, f"{kind} names or {kind} objects")):
        where = f"{name}[{i}]"
        if isinstance(item, str):
            links.append({"Name": normalize.text(item, where)})
            continue
        if not isinstance(item, Mapping):
            raise TypeError(f"{where}: expected a {kind} name or a {kind} object with 'ID' or "
                            f"'Name', got {type(item).__name__}")
        link = {field: normalize.text(item[field], f"{where}.{field}")
                for field in ("ID", "Name") if item.get(field) not in (None, "")}
        if not link:
            raise ValueError(f"{where}: a {kind} link needs an 'ID' or a 'Name'")
        links.append(link)
    return links


def _service_identities(value: Any, name: str) -> list[dict[str, Any]]:
    """Service identities: a service name, or ``{"ServiceName": ..., "Datacenters": [...]}``."""
    identities = []
    for i, item in enumerate(normalize.list_of(value, name, "service names or service identities")):
        where = f"{name}[{i}]"
        if isinstance(item, str):
            identities.append({"ServiceName": normalize.text(item, where)})
            continue
        identity = normalize.mapping(item, where, "a service name or a service identity")
        if "ServiceName" not in identity:
            raise ValueError(f"{where}: a service identity needs a 'ServiceName'")
        normalize.text(identity["ServiceName"], f"{where}.ServiceName")
        if identity.get("Datacenters") is not None:
            identity["Datacenters"] = normalize.strings(identity["Datacenters"],
                                                        f"{where}.Datacenters")
        identities.append(identity)
    return identities


def _node_identities(value: Any, name: str) -> list[dict[str, Any]]:
    """Node identities: ``{"NodeName": ..., "Datacenter": ...}`` or a ``(node, dc)`` pair."""
    identities = []
    for i, item in enumerate(normalize.list_of(value, name, "node identities")):
        where = f"{name}[{i}]"
        if isinstance(item, tuple) and len(item) == 2:
            item = {"NodeName": item[0], "Datacenter": item[1]}
        identity = normalize.mapping(item, where, "a node identity ({'NodeName', 'Datacenter'} "
                                                  "or a (node, datacenter) pair)")
        for field in ("NodeName", "Datacenter"):
            if field not in identity:
                raise ValueError(f"{where}: a node identity needs a '{field}'")
            normalize.text(identity[field], f"{where}.{field}")
        identities.append(identity)
    return identities


def _templated_policies(value: Any, name: str) -> list[dict[str, Any]]:
    """Templated policies: a template name, or ``{"TemplateName": ..., "TemplateVariables":
    {"Name": ...}, "Datacenters": [...]}``."""
    policies = []
    listed = normalize.list_of(value, name, "template names or templated policies")
    for i, item in enumerate(listed):
        where = f"{name}[{i}]"
        if isinstance(item, str):
            policies.append({"TemplateName": normalize.text(item, where)})
            continue
        policy = normalize.mapping(item, where, "a template name or a templated policy")
        if "TemplateName" not in policy:
            raise ValueError(f"{where}: a templated policy needs a 'TemplateName'")
        normalize.text(policy["TemplateName"], f"{where}.TemplateName")
        if policy.get("TemplateVariables") is not None:
            policy["TemplateVariables"] = normalize.mapping(
                policy["TemplateVariables"], f"{where}.TemplateVariables",
                "the template's variables (a mapping such as {'Name': 'web'})")
        if policy.get("Datacenters") is not None:
            policy["Datacenters"] = normalize.strings(policy["Datacenters"], f"{where}.Datacenters")
        policies.append(policy)
    return policies


def _rules(value: Any, name: str = "rules") -> str:
    """A policy's rules as Consul takes them: HCL or JSON text as given, a dict JSON-encoded."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        try:
            return json.dumps(value)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{name}: a dict of rules must be JSON-encodable ({exc})") from None
    raise TypeError(f"{name}: expected HCL or JSON text (a str) or a dict, "
                    f"got {type(value).__name__}")


def _time(value: Any, name: str) -> str:
    """An RFC 3339 time (Go's ``time.Time`` in JSON) from an aware datetime or a str."""
    if isinstance(value, str):
        return normalize.text(value, name)
    if not isinstance(value, datetime.datetime):
        raise TypeError(f"{name}: expected a datetime or an RFC 3339 str, "
                        f"got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name}: a naive datetime has no time zone; give an aware one "
                         "(datetime.now(timezone.utc) + ...)")
    return value.astimezone(datetime.timezone.utc).isoformat().replace("+00:00", "Z")


def _put(body: dict[str, Any], field: str, value: Any) -> None:
    if value is not None:
        body[field] = value


def _base(obj: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    """The mutable fields of an object given to an update in place of its ID."""
    if not isinstance(obj, Mapping):
        return {}
    return {field: obj[field] for field in fields if obj.get(field) is not None}


def _filter(name: str, value: Any, param: str, key: str = "ID") -> list[tuple[str, str]]:
    return [] if value is None else [(param, normalize.object_id(value, name, key))]


def _token_body(
    body: dict[str, Any], *, description: Any, policies: Any, roles: Any,
    service_identities: Any, node_identities: Any, templated_policies: Any, local: Any,
) -> dict[str, Any]:
    _put(body, "Description", None if description is None
         else normalize.text(description, "description", empty=True))
    _put(body, "Policies", None if policies is None else _links(policies, "policies", "policy"))
    _put(body, "Roles", None if roles is None else _links(roles, "roles", "role"))
    _put(body, "ServiceIdentities", None if service_identities is None
         else _service_identities(service_identities, "service_identities"))
    _put(body, "NodeIdentities", None if node_identities is None
         else _node_identities(node_identities, "node_identities"))
    _put(body, "TemplatedPolicies", None if templated_policies is None
         else _templated_policies(templated_policies, "templated_policies"))
    _put(body, "Local", None if local is None else normalize.flag(local, "local"))
    return body


def _role_body(
    body: dict[str, Any], *, name: Any, description: Any, policies: Any,
    service_identities: Any, node_identities: Any, templated_policies: Any,
) -> dict[str, Any]:
    _put(body, "Name", None if name is None else normalize.text(name, "name"))
    _put(body, "Description", None if description is None
         else normalize.text(description, "description", empty=True))
    _put(body, "Policies", None if policies is None else _links(policies, "policies", "policy"))
    _put(body, "ServiceIdentities", None if service_identities is None
         else _service_identities(service_identities, "service_identities"))
    _put(body, "NodeIdentities", None if node_identities is None
         else _node_identities(node_identities, "node_identities"))
    _put(body, "TemplatedPolicies", None if templated_policies is None
         else _templated_policies(templated_policies, "templated_policies"))
    if "Name" not in body:
        raise ValueError("name: a role needs a name")
    return body


def _auth_method_body(
    body: dict[str, Any], *, name: Any, type: Any, display_name: Any, description: Any,
    max_token_ttl: Any, token_locality: Any, config: Any, namespace_rules: Any,
) -> dict[str, Any]:
    _put(body, "Name", None if name is None else normalize.text(name, "name"))
    _put(body, "Type", None if type is None else normalize.text(type, "type"))
    _put(body, "DisplayName", None if display_name is None
         else normalize.text(display_name, "display_name", empty=True))
    _put(body, "Description", None if description is None
         else normalize.text(description, "description", empty=True))
    _put(body, "MaxTokenTTL", None if max_token_ttl is None
         else normalize.go_duration(max_token_ttl, "max_token_ttl"))
    if token_locality is not None and token_locality not in _TOKEN_LOCALITIES:
        raise ValueError(f"token_locality: expected 'local' or 'global', got {token_locality!r}")
    _put(body, "TokenLocality", token_locality)
    _put(body, "Config", None if config is None
         else normalize.mapping(config, "config", "the auth method's configuration (a mapping)"))
    if namespace_rules is not None:
        body["NamespaceRules"] = [
            normalize.mapping(rule, f"namespace_rules[{i}]", "a namespace rule (a mapping)")
            for i, rule in enumerate(normalize.list_of(namespace_rules, "namespace_rules",
                                                       "namespace rules"))]
    if "Name" not in body:
        raise ValueError("name: an auth method needs a name")
    if "Type" not in body:
        raise ValueError("type: an auth method needs a type ('jwt', 'kubernetes', ...)")
    return body


def _binding_rule_body(
    body: dict[str, Any], *, auth_method: Any, bind_type: Any, bind_name: Any, selector: Any,
    description: Any, bind_vars: Any,
) -> dict[str, Any]:
    _put(body, "AuthMethod", None if auth_method is None
         else normalize.object_id(auth_method, "auth_method", "Name"))
    if bind_type is not None and bind_type not in BIND_TYPES:
        raise ValueError(f"bind_type: expected one of {', '.join(BIND_TYPES)}, "
                         f"got {bind_type!r}")
    _put(body, "BindType", bind_type)
    _put(body, "BindName", None if bind_name is None else normalize.text(bind_name, "bind_name"))
    _put(body, "Selector", None if selector is None
         else normalize.text(selector, "selector", empty=True))
    _put(body, "Description", None if description is None
         else normalize.text(description, "description", empty=True))
    _put(body, "BindVars", None if bind_vars is None
         else normalize.mapping(bind_vars, "bind_vars", "the template's variables (such as "
                                                        "{'Name': '${value.name}'})"))
    for field, name in (("AuthMethod", "auth_method"), ("BindType", "bind_type"),
                        ("BindName", "bind_name")):
        if field not in body:
            raise ValueError(f"{name}: a binding rule needs {name}")
    return body


# -- the endpoint groups ---------------------------------------------------------------------


class _Group(Endpoint):
    """What the ACL groups share: one-object reads (None when missing), lists, writes.

    A group names where its objects live (``_PATH``; an object at ``_PATH/<id>``), the
    argument an object is given as (``_ARG``), the field that identifies it (``_KEY``) and the
    mutable fields an update copies from an object given in place of its ID (``_FIELDS``).
    """

    __slots__ = ()
    _PATH: ClassVar[str]
    _ARG: ClassVar[str]
    _KEY: ClassVar[str] = "ID"
    _FIELDS: ClassVar[tuple[str, ...]] = ()

    def _id(self, value: Any) -> str:
        return normalize.object_id(value, self._ARG, self._KEY)

    def _at(self, value: Any) -> str:
        return self._PATH + "/" + quote_segment(self._id(value))

    def _base(self, value: Any) -> dict[str, Any]:
        return _base(value, self._FIELDS)

    async def _read(self, value: Any, params: list[tuple[str, str]], dc: Any, namespace: Any,
                    partition: Any, consistency: Any, watch: Any,
                    token: str | None) -> tuple[Object | None, Meta]:
        return await self._get(self._at(value), params, dc, namespace, partition, consistency,
                               watch, token)

    async def _read_by_name(self, name: Any, dc: Any, namespace: Any, partition: Any,
                            consistency: Any, watch: Any,
                            token: str | None) -> tuple[Object | None, Meta]:
        path = self._PATH + "/name/" + quote_segment(normalize.text(name, "name"))
        return await self._get(path, [], dc, namespace, partition, consistency, watch, token)

    async def _create(self, body: dict[str, Any], dc: Any, namespace: Any, partition: Any,
                      token: str | None, *,
                      secrets: tuple[str | None, ...] = ()) -> tuple[Object, Meta]:
        return await self._write("PUT", self._PATH, body, dc, namespace, partition, token,
                                 secrets=secrets)

    async def _update(self, value: Any, body: dict[str, Any], dc: Any, namespace: Any,
                      partition: Any, token: str | None) -> tuple[Object, Meta]:
        ident = self._id(value)
        body[self._KEY] = ident
        return await self._write("PUT", self._PATH + "/" + quote_segment(ident), body, dc,
                                 namespace, partition, token, idempotent=True)

    async def _remove(self, value: Any, dc: Any, namespace: Any, partition: Any,
                      token: str | None) -> bool:
        return await self._delete(self._at(value), dc, namespace, partition, token)

    async def _get(self, path: str, params: list[tuple[str, str]], dc: Any, namespace: Any,
                   partition: Any, consistency: Any, watch: Any,
                   token: str | None) -> tuple[Object | None, Meta]:
        data, meta = await self._core.request(
            "GET", path, params=params, dc=dc, namespace=namespace, partition=partition,
            consistency=consistency, watch=watch, missing_ok=True, token=token,
        )
        return data, meta

    async def _items(self, path: str, params: list[tuple[str, str]], dc: Any, namespace: Any,
                     partition: Any, consistency: Any, watch: Any,
                     token: str | None) -> tuple[Collection, Meta]:
        data, meta = await self._core.request(
            "GET", path, params=params, dc=dc, namespace=namespace, partition=partition,
            consistency=consistency, watch=watch, token=token,
        )
        return (data or []), meta

    async def _write(self, method: str, path: str, body: Any, dc: Any, namespace: Any,
                     partition: Any, token: str | None, *, idempotent: bool = False,
                     secrets: tuple[str | None, ...] = ()) -> tuple[Object, Meta]:
        # Creates are not repeated after a failure once sent (a second token or policy, or a
        # "name already exists" about our own first one); updates set a state and may be.
        data, meta = await self._core.request(
            method, path, json=body, dc=dc, namespace=namespace, partition=partition,
            token=token, idempotent=idempotent, secrets=secrets,
        )
        result: Object = data
        return result, meta

    async def _delete(self, path: str, dc: Any, namespace: Any, partition: Any,
                      token: str | None) -> bool:
        data, _ = await self._core.request(
            "DELETE", path, dc=dc, namespace=namespace, partition=partition, token=token,
            idempotent=True, with_meta=False,
        )
        return data is True


class ACLTokens(_Group):
    """``client.acl.tokens``: ``/v1/acl/token*`` — create, read, update, clone, delete, list.

    A token is addressed by its AccessorID (a str, or the token object, whose ``AccessorID`` is
    read); its SecretID is what a client authenticates with. Reads need ``acl:read`` and show
    the SecretID only to a token with ``acl:write`` (``"<hidden>"`` otherwise).
    """

    __slots__ = ()
    _PATH = "/v1/acl/token"
    _ARG = "token_id"
    _KEY = "AccessorID"
    _FIELDS = _TOKEN_FIELDS

    async def create(
        self,
        *,
        description: str | None = None,
        policies: Iterable[str | Mapping[str, Any]] | None = None,
        roles: Iterable[str | Mapping[str, Any]] | None = None,
        service_identities: Iterable[str | Mapping[str, Any]] | None = None,
        node_identities: Iterable[Mapping[str, Any] | tuple[str, str]] | None = None,
        templated_policies: Iterable[str | Mapping[str, Any]] | None = None,
        local: bool | None = None,
        expiration_ttl: Duration | None = None,
        expiration_time: datetime.datetime | str | None = None,
        accessor_id: str | None = None,
        secret_id: str | None = None,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        token: str | None = None,
    ) -> tuple[Object, Meta]:
        """Create a token (``PUT /v1/acl/token``); returns it with its ``SecretID``.

        ``policies`` and ``roles`` link by name (a str) or by object (``{"ID": ...}``, or the
        policy itself); ``service_identities`` takes service names or ``{"ServiceName",
        "Datacenters"}``; ``node_identities`` ``{"NodeName", "Datacenter"}`` or ``(node, dc)``;
        ``templated_policies`` template names (``"builtin/dns"``) or ``{"TemplateName",
        "TemplateVariables": {"Name": ...}, "Datacenters"}``. ``local`` keeps the token in
        this datacenter. ``expiration_ttl`` (1 minute to 24 hours by default) or
        ``expiration_time`` (an aware datetime or an RFC 3339 str) make it expire.
        ``accessor_id`` and ``secret_id`` choose its IDs (UUIDs; Consul makes them otherwise);
        a chosen SecretID is never shown in a message.
        """
        body = _token_body({}, description=description, policies=policies, roles=roles,
                           service_identities=service_identities,
                           node_identities=node_identities,
                           templated_policies=templated_policies, local=local)
        if expiration_ttl is not None and expiration_time is not None:
            raise ValueError("expiration_ttl, expiration_time: give at most one of them")
        _put(body, "ExpirationTTL", None if expiration_ttl is None
             else normalize.go_duration(expiration_ttl, "expiration_ttl"))
        _put(body, "ExpirationTime", None if expiration_time is None
             else _time(expiration_time, "expiration_time"))
        _put(body, "AccessorID", None if accessor_id is None
             else normalize.text(accessor_id, "accessor_id"))
        _put(body, "SecretID", None if secret_id is None else normalize.token(secret_id,
                                                                              "secret_id"))
        return await self._create(body, dc, namespace, partition, token, secrets=(secret_id,))

    async def get(
        self,
        token_id: ObjectID,
        *,
        expanded: bool = False,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        consistency: Consistency | str | None = None,
        watch: Blocking | None = None,
        token: str | None = None,
    ) -> tuple[Object | None, Meta]:
        """Read a token by its AccessorID (``GET /v1/acl/token/<id>``); ``(None, meta)`` when
        there is none.

        ``expanded=True`` (``?expanded``) adds what the token grants: ``ExpandedPolicies``,
        ``ExpandedRoles``, ``NamespaceDefaultPolicyIDs``, ``NamespaceDefaultRoleIDs``,
        ``AgentACLDefaultPolicy``, ``AgentACLDownPolicy`` and ``ResolvedByAgent``.
        """
        params = [("expanded", "true")] if normalize.flag(expanded, "expanded") else []
        return await self._read(token_id, params, dc, namespace, partition, consistency, watch,
                                token)

    async def self(
        self,
        *,
        dc: str | None = None,
        consistency: Consistency | str | None = None,
        watch: Blocking | None = None,
        token: str | None = None,
    ) -> tuple[Object, Meta]:
        """The token this call is made with (``GET /v1/acl/token/self``): ``token``, else the
        client's. Needs no permission: the SecretID is the proof. An unknown (or expired)
        SecretID raises :class:`~aioconsul.errors.NotFound` ("Supplied token does not exist":
        ACL.TokenRead looks a SecretID up without resolving it), where every other endpoint
        raises :class:`~aioconsul.errors.ACLNotFound` for it."""
        data, meta = await self._core.request(
            "GET", "/v1/acl/token/self", dc=dc, consistency=consistency, watch=watch,
            token=token,
        )
        result: Object = data
        return result, meta

    async def update(
        self,
        token_id: ObjectID,
        *,
        description: str | None = None,
        policies: Iterable[str | Mapping[str, Any]] | None = None,
        roles: Iterable[str | Mapping[str, Any]] | None = None,
        service_identities: Iterable[str | Mapping[str, Any]] | None = None,
        node_identities: Iterable[Mapping[str, Any] | tuple[str, str]] | None = None,
        templated_policies: Iterable[str | Mapping[str, Any]] | None = None,
        local: bool | None = None,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        token: str | None = None,
    ) -> tuple[Object, Meta]:
        """Update a token (``PUT /v1/acl/token/<id>``) and return it.

        Consul replaces the description, links and identities with the ones sent. Given the
        token object (as read or created), the update starts from its description, links,
        identities and ``Local``, and the arguments given replace those; given an AccessorID,
        only the arguments given are sent (the rest is cleared). ``local`` must be the token's
        own (Consul cannot toggle it); the IDs, the auth method and the expiration cannot
        change either.
        """
        body = _token_body(self._base(token_id), description=description,
                           policies=policies, roles=roles,
                           service_identities=service_identities,
                           node_identities=node_identities,
                           templated_policies=templated_policies, local=local)
        return await self._update(token_id, body, dc, namespace, partition, token)

    async def clone(
        self,
        token_id: ObjectID,
        *,
        description: str | None = None,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        token: str | None = None,
    ) -> tuple[Object, Meta]:
        """A new token with the links, identities, locality and expiration of ``token_id`` and
        IDs of its own (``PUT /v1/acl/token/<id>/clone``); ``description`` is the clone's
        (the original's without it). A token made by :meth:`ACL.login` cannot be cloned."""
        body: dict[str, Any] = {}
        _put(body, "Description", None if description is None
             else normalize.text(description, "description", empty=True))
        return await self._write("PUT", self._at(token_id) + "/clone", body, dc, namespace,
                                 partition, token)

    async def delete(
        self,
        token_id: ObjectID,
        *,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        token: str | None = None,
    ) -> bool:
        """Delete a token (``DELETE /v1/acl/token/<id>``); deleting an unknown one is also True
        (ACL.TokenDelete has nothing to do). A token cannot delete itself, nor the anonymous
        token be deleted (a 500 with Consul's reason)."""
        return await self._remove(token_id, dc, namespace, partition, token)

    async def items(
        self,
        *,
        policy: ObjectID | None = None,
        role: ObjectID | None = None,
        auth_method: ObjectID | None = None,
        service_name: str | None = None,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        consistency: Consistency | str | None = None,
        watch: Blocking | None = None,
        token: str | None = None,
    ) -> tuple[Collection, Meta]:
        """Every token, without rules (``GET /v1/acl/tokens``).

        The filters keep the tokens linked to a ``policy`` or a ``role`` (an ID or the object;
        ``?policy=``, ``?role=``), made by the auth method ``auth_method`` (its name or the
        object; ``?authmethod=``), or with a service identity for ``service_name``
        (``?servicename=``).
        """
        params = (_filter("policy", policy, "policy") + _filter("role", role, "role")
                  + _filter("auth_method", auth_method, "authmethod", "Name"))
        if service_name is not None:
            params.append(("servicename", normalize.text(service_name, "service_name")))
        return await self._items("/v1/acl/tokens", params, dc, namespace, partition,
                                 consistency, watch, token)


class ACLPolicies(_Group):
    """``client.acl.policies``: ``/v1/acl/policy*`` — the rule sets tokens and roles link to.

    Rules are HCL or JSON text, or a dict (sent JSON-encoded), in Consul's rule language:
    ``key_prefix "app/" { policy = "write" }`` or ``{"key_prefix": {"app/": {"policy":
    "write"}}}``.
    """

    __slots__ = ()
    _PATH = "/v1/acl/policy"
    _ARG = "policy_id"
    _FIELDS = _POLICY_FIELDS

    async def create(
        self,
        name: str,
        rules: Rules | None = None,
        *,
        description: str | None = None,
        datacenters: Iterable[str] | None = None,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        token: str | None = None,
    ) -> tuple[Object, Meta]:
        """Create a policy (``PUT /v1/acl/policy``) and return it. ``datacenters`` limits
        where it applies (all, by default)."""
        body = self._body({}, name=name, rules=rules, description=description,
                          datacenters=datacenters)
        return await self._create(body, dc, namespace, partition, token)

    @staticmethod
    def _body(body: dict[str, Any], *, name: Any, rules: Any, description: Any,
              datacenters: Any) -> dict[str, Any]:
        _put(body, "Name", None if name is None else normalize.text(name, "name"))
        _put(body, "Rules", None if rules is None else _rules(rules))
        _put(body, "Description", None if description is None
             else normalize.text(description, "description", empty=True))
        _put(body, "Datacenters", None if datacenters is None
             else normalize.strings(datacenters, "datacenters"))
        if "Name" not in body:
            raise ValueError("name: a policy needs a name")
        return body

    async def get(
        self,
        policy_id: ObjectID,
        *,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        consistency: Consistency | str | None = None,
        watch: Blocking | None = None,
        token: str | None = None,
    ) -> tuple[Object | None, Meta]:
        """Read a policy with its rules (``GET /v1/acl/policy/<id>``); ``(None, meta)`` when
        there is none."""
        return await self._read(policy_id, [], dc, namespace, partition, consistency, watch, token)

    async def get_by_name(
        self,
        name: str,
        *,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        consistency: Consistency | str | None = None,
        watch: Blocking | None = None,
        token: str | None = None,
    ) -> tuple[Object | None, Meta]:
        """Read a policy by name (``GET /v1/acl/policy/name/<name>``); ``(None, meta)`` when
        there is none."""
        return await self._read_by_name(name, dc, namespace, partition, consistency, watch,
                                        token)

    async def update(
        self,
        policy_id: ObjectID,
        *,
        name: str | None = None,
        rules: Rules | None = None,
        description: str | None = None,
        datacenters: Iterable[str] | None = None,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        token: str | None = None,
    ) -> tuple[Object, Meta]:
        """Update a policy (``PUT /v1/acl/policy/<id>``) and return it.

        Consul replaces every field with the one sent and needs the name: given the policy
        object, the update starts from its name, description, rules and datacenters; given an
        ID, pass ``name`` (and whatever else it should keep).
        """
        body = self._body(self._base(policy_id), name=name, rules=rules,
                          description=description, datacenters=datacenters)
        return await self._update(policy_id, body, dc, namespace, partition, token)

    async def delete(
        self,
        policy_id: ObjectID,
        *,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        token: str | None = None,
    ) -> bool:
        """Delete a policy (``DELETE /v1/acl/policy/<id>``); deleting an unknown one is also
        True. The builtin ``global-management`` policy cannot be deleted."""
        return await self._remove(policy_id, dc, namespace, partition, token)

    async def items(
        self,
        *,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        consistency: Consistency | str | None = None,
        watch: Blocking | None = None,
        token: str | None = None,
    ) -> tuple[Collection, Meta]:
        """Every policy, without its rules (``GET /v1/acl/policies``)."""
        return await self._items("/v1/acl/policies", [], dc, namespace, partition, consistency,
                                 watch, token)


class ACLRoles(_Group):
    """``client.acl.roles``: ``/v1/acl/role*`` — named sets of policies and identities."""

    __slots__ = ()
    _PATH = "/v1/acl/role"
    _ARG = "role_id"
    _FIELDS = _ROLE_FIELDS

    async def create(
        self,
        name: str,
        *,
        description: str | None = None,
        policies: Iterable[str | Mapping[str, Any]] | None = None,
        service_identities: Iterable[str | Mapping[str, Any]] | None = None,
        node_identities: Iterable[Mapping[str, Any] | tuple[str, str]] | None = None,
        templated_policies: Iterable[str | Mapping[str, Any]] | None = None,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        token: str | None = None,
    ) -> tuple[Object, Meta]:
        """Create a role (``PUT /v1/acl/role``) and return it; the links and identities are
        given as for :meth:`ACLTokens.create`."""
        body = _role_body({}, name=name, description=description, policies=policies,
                          service_identities=service_identities,
                          node_identities=node_identities,
                          templated_policies=templated_policies)
        return await self._create(body, dc, namespace, partition, token)

    async def get(
        self,
        role_id: ObjectID,
        *,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        consistency: Consistency | str | None = None,
        watch: Blocking | None = None,
        token: str | None = None,
    ) -> tuple[Object | None, Meta]:
        """Read a role (``GET /v1/acl/role/<id>``); ``(None, meta)`` when there is none."""
        return await self._read(role_id, [], dc, namespace, partition, consistency, watch, token)

    async def get_by_name(
        self,
        name: str,
        *,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        consistency: Consistency | str | None = None,
        watch: Blocking | None = None,
        token: str | None = None,
    ) -> tuple[Object | None, Meta]:
        """Read a role by name (``GET /v1/acl/role/name/<name>``); ``(None, meta)`` when there
        is none."""
        return await self._read_by_name(name, dc, namespace, partition, consistency, watch,
                                        token)

    async def update(
        self,
        role_id: ObjectID,
        *,
        name: str | None = None,
        description: str | None = None,
        policies: Iterable[str | Mapping[str, Any]] | None = None,
        service_identities: Iterable[str | Mapping[str, Any]] | None = None,
        node_identities: Iterable[Mapping[str, Any] | tuple[str, str]] | None = None,
        templated_policies: Iterable[str | Mapping[str, Any]] | None = None,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        token: str | None = None,
    ) -> tuple[Object, Meta]:
        """Update a role (``PUT /v1/acl/role/<id>``) and return it. As for policies, Consul
        replaces every field: given the role object the update starts from its fields; given
        an ID, pass ``name`` and what it should keep."""
        body = _role_body(self._base(role_id), name=name, description=description,
                          policies=policies, service_identities=service_identities,
                          node_identities=node_identities,
                          templated_policies=templated_policies)
        return await self._update(role_id, body, dc, namespace, partition, token)

    async def delete(
        self,
        role_id: ObjectID,
        *,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        token: str | None = None,
    ) -> bool:
        """Delete a role (``DELETE /v1/acl/role/<id>``); deleting an unknown one is also
        True."""
        return await self._remove(role_id, dc, namespace, partition, token)

    async def items(
        self,
        *,
        policy: ObjectID | None = None,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        consistency: Consistency | str | None = None,
        watch: Blocking | None = None,
        token: str | None = None,
    ) -> tuple[Collection, Meta]:
        """Every role (``GET /v1/acl/roles``); ``policy`` (an ID or the policy) keeps the ones
        linked to it (``?policy=``)."""
        return await self._items("/v1/acl/roles", _filter("policy", policy, "policy"), dc,
                                 namespace, partition, consistency, watch, token)


class ACLAuthMethods(_Group):
    """``client.acl.auth_methods``: ``/v1/acl/auth-method*`` — how :meth:`ACL.login`
    exchanges an external identity (a JWT, a Kubernetes service account) for a token."""

    __slots__ = ()
    _PATH = "/v1/acl/auth-method"
    _ARG = "name"
    _KEY = "Name"
    _FIELDS = _AUTH_METHOD_FIELDS

    async def create(
        self,
        name: str,
        type: str,
        *,
        config: Mapping[str, Any] | None = None,
        display_name: str | None = None,
        description: str | None = None,
        max_token_ttl: Duration | None = None,
        token_locality: str | None = None,
        namespace_rules: Iterable[Mapping[str, Any]] | None = None,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        token: str | None = None,
    ) -> tuple[Object, Meta]:
        """Create an auth method (``PUT /v1/acl/auth-method``) and return it.

        ``type`` is ``"jwt"``, ``"kubernetes"``, ``"aws-iam"`` (``"oidc"`` in Enterprise);
        ``config`` its type's settings (for ``jwt``: ``JWTValidationPubKeys``, ``BoundIssuer``,
        ``BoundAudiences``, ``ClaimMappings``...). ``max_token_ttl`` bounds the tokens it makes;
        ``token_locality`` is ``"local"`` (default) or ``"global"``.
        """
        body = _auth_method_body({}, name=name, type=type, display_name=display_name,
                                 description=description, max_token_ttl=max_token_ttl,
                                 token_locality=token_locality, config=config,
                                 namespace_rules=namespace_rules)
        return await self._create(body, dc, namespace, partition, token)

    async def get(
        self,
        name: ObjectID,
        *,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        consistency: Consistency | str | None = None,
        watch: Blocking | None = None,
        token: str | None = None,
    ) -> tuple[Object | None, Meta]:
        """Read an auth method (``GET /v1/acl/auth-method/<name>``); ``(None, meta)`` when
        there is none."""
        return await self._read(name, [], dc, namespace, partition, consistency, watch, token)

    async def update(
        self,
        name: ObjectID,
        *,
        type: str | None = None,
        config: Mapping[str, Any] | None = None,
        display_name: str | None = None,
        description: str | None = None,
        max_token_ttl: Duration | None = None,
        token_locality: str | None = None,
        namespace_rules: Iterable[Mapping[str, Any]] | None = None,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        token: str | None = None,
    ) -> tuple[Object, Meta]:
        """Update an auth method (``PUT /v1/acl/auth-method/<name>``) and return it. Consul
        replaces every field and needs the type (which cannot change): given the auth method
        object, the update starts from its fields; given a name, pass ``type``."""
        body = _auth_method_body(self._base(name), name=self._id(name), type=type,
                                 display_name=display_name, description=description,
                                 max_token_ttl=max_token_ttl, token_locality=token_locality,
                                 config=config, namespace_rules=namespace_rules)
        return await self._update(name, body, dc, namespace, partition, token)

    async def delete(
        self,
        name: ObjectID,
        *,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        token: str | None = None,
    ) -> bool:
        """Delete an auth method, its binding rules and the tokens it made
        (``DELETE /v1/acl/auth-method/<name>``); deleting an unknown one is also True."""
        return await self._remove(name, dc, namespace, partition, token)

    async def items(
        self,
        *,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        consistency: Consistency | str | None = None,
        watch: Blocking | None = None,
        token: str | None = None,
    ) -> tuple[Collection, Meta]:
        """Every auth method, without its config (``GET /v1/acl/auth-methods``)."""
        return await self._items("/v1/acl/auth-methods", [], dc, namespace, partition,
                                 consistency, watch, token)


class ACLBindingRules(_Group):
    """``client.acl.binding_rules``: ``/v1/acl/binding-rule*`` — what a login through an
    auth method grants: a service or node identity, a role, a policy or a templated policy."""

    __slots__ = ()
    _PATH = "/v1/acl/binding-rule"
    _ARG = "rule_id"
    _FIELDS = _BINDING_RULE_FIELDS

    async def create(
        self,
        auth_method: ObjectID,
        bind_type: str,
        bind_name: str,
        *,
        selector: str | None = None,
        description: str | None = None,
        bind_vars: Mapping[str, Any] | None = None,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        token: str | None = None,
    ) -> tuple[Object, Meta]:
        """Create a binding rule (``PUT /v1/acl/binding-rule``) and return it.

        ``auth_method`` is the auth method's name (or the object); ``bind_type`` one of
        :data:`BIND_TYPES`; ``bind_name`` what it binds to, which may use the identity's
        claims (``"${value.name}"``); ``selector`` a filter expression over them
        (``value.role == "admin"``); ``bind_vars`` the variables of a ``templated-policy``
        binding (``{"Name": "${value.name}"}``).
        """
        body = _binding_rule_body({}, auth_method=auth_method, bind_type=bind_type,
                                  bind_name=bind_name, selector=selector,
                                  description=description, bind_vars=bind_vars)
        return await self._create(body, dc, namespace, partition, token)

    async def get(
        self,
        rule_id: ObjectID,
        *,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        consistency: Consistency | str | None = None,
        watch: Blocking | None = None,
        token: str | None = None,
    ) -> tuple[Object | None, Meta]:
        """Read a binding rule (``GET /v1/acl/binding-rule/<id>``); ``(None, meta)`` when there
        is none."""
        return await self._read(rule_id, [], dc, namespace, partition, consistency, watch, token)

    async def update(
        self,
        rule_id: ObjectID,
        *,
        auth_method: ObjectID | None = None,
        bind_type: str | None = None,
        bind_name: str | None = None,
        selector: str | None = None,
        description: str | None = None,
        bind_vars: Mapping[str, Any] | None = None,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        token: str | None = None,
    ) -> tuple[Object, Meta]:
        """Update a binding rule (``PUT /v1/acl/binding-rule/<id>``) and return it. Consul
        replaces every field (the auth method cannot change): given the rule object the update
        starts from its fields; given an ID, pass ``auth_method``, ``bind_type`` and
        ``bind_name``."""
        body = _binding_rule_body(self._base(rule_id),
                                  auth_method=auth_method, bind_type=bind_type,
                                  bind_name=bind_name, selector=selector,
                                  description=description, bind_vars=bind_vars)
        return await self._update(rule_id, body, dc, namespace, partition, token)

    async def delete(
        self,
        rule_id: ObjectID,
        *,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        token: str | None = None,
    ) -> bool:
        """Delete a binding rule (``DELETE /v1/acl/binding-rule/<id>``); deleting an unknown
        one is also True."""
        return await self._remove(rule_id, dc, namespace, partition, token)

    async def items(
        self,
        *,
        auth_method: ObjectID | None = None,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        consistency: Consistency | str | None = None,
        watch: Blocking | None = None,
        token: str | None = None,
    ) -> tuple[Collection, Meta]:
        """Every binding rule (``GET /v1/acl/binding-rules``); ``auth_method`` (a name or the
        object) keeps the ones of that auth method (``?authmethod=``)."""
        return await self._items("/v1/acl/binding-rules",
                                 _filter("auth_method", auth_method, "authmethod", "Name"), dc,
                                 namespace, partition, consistency, watch, token)


def _template(name: Any) -> str:
    # Template names hold a "/" ("builtin/service"), which Consul reads as part of the name:
    # it goes in the path as it is, each segment quoted (and none that would climb the path).
    if isinstance(name, Mapping):
        name = name.get("TemplateName")
    segments = normalize.text(name, "name").split("/")
    if any(segment in ("", ".", "..") for segment in segments):
        raise ValueError(f"name: not a template name (empty, '.' or '..' segment): {name!r}")
    return "/".join(quote_segment(segment) for segment in segments)


class ACLTemplatedPolicies(Endpoint):
    """``client.acl.templated_policies``: the policies Consul renders from a template and
    variables (``builtin/service``, ``builtin/node``, ``builtin/dns``...; Consul 1.17+)."""

    __slots__ = ()

    async def items(
        self, *, dc: str | None = None, token: str | None = None,
    ) -> tuple[dict[str, Object], Meta]:
        """Every templated policy by name, each ``{"TemplateName", "Schema", "Template",
        "Description"}`` (``GET /v1/acl/templated-policies``)."""
        data, meta = await self._core.request("GET", "/v1/acl/templated-policies", dc=dc,
                                              token=token)
        return (data or {}), meta

    async def get(
        self, name: str, *, dc: str | None = None, token: str | None = None,
    ) -> tuple[Object | None, Meta]:
        """One templated policy (``GET /v1/acl/templated-policy/name/<name>``); ``(None,
        meta)`` when Consul has none of that name."""
        data, meta = await self._core.request(
            "GET", "/v1/acl/templated-policy/name/" + _template(name), dc=dc, missing_ok=True,
            token=token,
        )
        return data, meta

    async def preview(
        self,
        name: str,
        variables: Mapping[str, Any] | None = None,
        *,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        token: str | None = None,
    ) -> tuple[Object, Meta]:
        """The policy template ``name`` renders with ``variables`` (``{"Name": "web"}``)
        (``POST /v1/acl/templated-policy/preview/<name>``): a synthetic policy with its
        ``Rules``. Consul answers 400 when the template needs a variable not given."""
        body = {} if variables is None else normalize.mapping(
            variables, "variables", "the template's variables (a mapping such as "
                                    "{'Name': 'web'})")
        data, meta = await self._core.request(
            "POST", "/v1/acl/templated-policy/preview/" + _template(name), json=body, dc=dc,
            namespace=namespace, partition=partition, token=token, idempotent=True,
        )
        result: Object = data
        return result, meta


class ACL(Endpoint):
    """``client.acl``: Consul's ACL system.

    ``client.acl.tokens`` (:class:`ACLTokens`), ``.policies`` (:class:`ACLPolicies`),
    ``.roles`` (:class:`ACLRoles`), ``.auth_methods`` (:class:`ACLAuthMethods`),
    ``.binding_rules`` (:class:`ACLBindingRules`) and ``.templated_policies``
    (:class:`ACLTemplatedPolicies`) hold the objects; bootstrap, replication, login and logout
    are here. An agent without ACLs answers :class:`~aioconsul.errors.PermissionDenied`
    (401, "ACL support disabled") to all of them.
    """

    __slots__ = ("auth_methods", "binding_rules", "policies", "roles", "templated_policies",
                 "tokens")

    tokens: ACLTokens
    policies: ACLPolicies
    roles: ACLRoles
    auth_methods: ACLAuthMethods
    binding_rules: ACLBindingRules
    templated_policies: ACLTemplatedPolicies

    def __init__(self, core: Core) -> None:
        super().__init__(core)
        self.tokens = ACLTokens(core)
        self.policies = ACLPolicies(core)
        self.roles = ACLRoles(core)
        self.auth_methods = ACLAuthMethods(core)
        self.binding_rules = ACLBindingRules(core)
        self.templated_policies = ACLTemplatedPolicies(core)

    async def bootstrap(
        self, secret: str | None = None, *, token: str | None = None,
    ) -> tuple[Object, Meta]:
        """Make the first management token (``PUT /v1/acl/bootstrap``) and return it, with its
        ``SecretID``.

        ``secret`` chooses its SecretID (a UUID; Consul's ``BootstrapSecret``), never shown in
        a message. Once done (or when the cluster has a management token from its
        configuration), Consul refuses with :class:`~aioconsul.errors.PermissionDenied` whose
        :attr:`~aioconsul.errors.PermissionDenied.cause` reads "ACL bootstrap no longer
        allowed (reset index: N)". Never repeated once sent: a second attempt would be refused
        after a first that succeeded.
        """
        body = None if secret is None else {"BootstrapSecret": normalize.token(secret, "secret")}
        data, meta = await self._core.request("PUT", "/v1/acl/bootstrap", json=body,
                                              token=token, secrets=(secret,))
        result: Object = data
        return result, meta

    async def replication(
        self, *, dc: str | None = None, token: str | None = None,
    ) -> tuple[Object, Meta]:
        """The state of ACL replication in a datacenter (``GET /v1/acl/replication``):
        ``Enabled``, ``Running``, ``SourceDatacenter``, ``ReplicationType``, the replicated
        indexes, ``LastSuccess``, ``LastError``, ``LastErrorMessage``."""
        data, meta = await self._core.request("GET", "/v1/acl/replication", dc=dc, token=token)
        result: Object = data
        return result, meta

    async def login(
        self,
        auth_method: ObjectID,
        bearer_token: str,
        *,
        meta: Mapping[str, str] | None = None,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        token: str | None = None,
    ) -> tuple[Object, Meta]:
        """Exchange ``bearer_token`` (a JWT, a Kubernetes service account token...) for a new
        Consul token through ``auth_method`` (``POST /v1/acl/login``); returns the token, with
        its ``SecretID``. ``meta`` is stored on it. The bearer token is never shown in a
        message. Never repeated once sent (a second login makes a second token)."""
        body: dict[str, Any] = {
            "AuthMethod": normalize.object_id(auth_method, "auth_method", "Name"),
            "BearerToken": normalize.text(bearer_token, "bearer_token")}
        if meta is not None:
            body["Meta"] = normalize.str_map(meta, "meta")
        data, result_meta = await self._core.request(
            "POST", "/v1/acl/login", json=body, dc=dc, namespace=namespace, partition=partition,
            token=token, secrets=(bearer_token,),
        )
        result: Object = data
        return result, result_meta

    async def logout(self, *, dc: str | None = None, token: str | None = None) -> None:
        """Destroy the token this call is made with (``POST /v1/acl/logout``): ``token``, else
        the client's. Only a token made by :meth:`login` can log out; any other is refused
        with :class:`~aioconsul.errors.PermissionDenied`. Without any token at all this is a
        ValueError, before anything is sent."""
        if token is None and not self._core.config.token and self._core.tokens is None:
            raise ValueError("token: logout destroys the token of the call; give token= (the "
                             "SecretID login returned) or use a client that has one")
        await self._core.request("POST", "/v1/acl/logout", dc=dc, token=token)

    async def oidc_auth_url(
        self,
        auth_method: ObjectID,
        redirect_uri: str,
        *,
        client_nonce: str | None = None,
        meta: Mapping[str, str] | None = None,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        token: str | None = None,
    ) -> tuple[str, Meta]:
        """Start an OIDC login (``POST /v1/acl/oidc/auth-url``, Consul Enterprise): the URL of
        the provider's authorization page for ``auth_method`` (an ``oidc`` one), which sends
        the browser back to ``redirect_uri``."""
        body: dict[str, Any] = {
            "AuthMethod": normalize.object_id(auth_method, "auth_method", "Name"),
            "RedirectURI": normalize.text(redirect_uri, "redirect_uri")}
        _put(body, "ClientNonce", None if client_nonce is None
             else normalize.text(client_nonce, "client_nonce"))
        if meta is not None:
            body["Meta"] = normalize.str_map(meta, "meta")
        data, result_meta = await self._core.request(
            "POST", "/v1/acl/oidc/auth-url", json=body, dc=dc, namespace=namespace,
            partition=partition, token=token,
        )
        return str((data or {}).get("AuthURL", "")), result_meta

    async def oidc_callback(
        self,
        auth_method: ObjectID,
        state: str,
        code: str,
        *,
        client_nonce: str | None = None,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        token: str | None = None,
    ) -> tuple[Object, Meta]:
        """Finish an OIDC login (``POST /v1/acl/oidc/callback``, Consul Enterprise) with the
        ``state`` and ``code`` the provider redirected with; returns the new token. The code
        is never shown in a message."""
        body: dict[str, Any] = {
            "AuthMethod": normalize.object_id(auth_method, "auth_method", "Name"),
            "State": normalize.text(state, "state"), "Code": normalize.text(code, "code")}
        _put(body, "ClientNonce", None if client_nonce is None
             else normalize.text(client_nonce, "client_nonce"))
        data, meta = await self._core.request(
            "POST", "/v1/acl/oidc/callback", json=body, dc=dc, namespace=namespace,
            partition=partition, token=token, secrets=(code,),
        )
        result: Object = data
        return result, meta
