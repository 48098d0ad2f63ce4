"""HTTP endpoints of the ACL group (``/v1/acl/...``): ``agent/acl_endpoint.go`` and the RPC half
of ``agent/consul/acl_endpoint.go`` (with ``auth/token_writer.go`` for token writes).

Every handler first answers 401 "ACL support disabled" when ACLs are off (``checkACLDisabled``),
then parses as Consul does (``parse``, ``parseEntMeta``, the body), forwards (one datacenter),
resolves the request's token and states its permission: ``acl:read`` for reads and lists,
``acl:write`` for writes; ``token/self``, ``bootstrap``, ``replication``, ``login`` and
``logout`` need none. Reads are blocking queries on the ACL tables; a missing object keeps a
read blocking (``errNotFound``) and is then answered 404 "Requested <kind> does not exist: ACL
not found" (the handler writes the 404 header before wrap sees the "ACL not found" text).
Deleting a missing object succeeds; a delete whose token is unknown is answered 404 "Cannot
find <kind> to delete", as Consul's handlers turn any "ACL not found" error into that.

State lives in :mod:`aioconsul.testing.state.acl`, wire shapes in
:mod:`aioconsul.testing.structs.acl`; this module never imports another endpoint module.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any, Final, TypeVar

from ..acl.authorizer import Enforcer, Permission
from ..acl.errors import ACLError, ACLNotFound, PermissionDenied
from ..acl.identities import is_valid_node_identity_name, is_valid_service_identity_name
from ..backend import Backend
from ..golang.stdlib import (
    GoSyntaxError,
    _query_unescape,
    format_duration,
    go_json,
    strconv_quote,
)
from ..http.acl import authorize, request_token
from ..http.query import QueryOptions, Result, ent_meta, forward, parse, partition_only, rpc, tail
from ..http.reply import Context, HTTPError, Reply, Route
from ..state.acl import (
    ACL_AUTH_METHODS,
    ACL_BINDING_RULES,
    ACL_POLICIES,
    ACL_ROLES,
    ACL_TOKENS,
    ANONYMOUS_TOKEN_ID,
    GLOBAL_MANAGEMENT_ID,
    ACLStore,
    GoTime,
    Link,
    NodeIdentity,
    ServiceIdentity,
    TemplatedPolicy,
    Token,
    generate_uuid,
    go_uuid_error,
    reserved_id,
)
from ..state.memdb import RPCError
from ..structs.acl import (
    decode_auth_method,
    decode_binding_rule,
    decode_bootstrap,
    decode_login,
    decode_policy,
    decode_role,
    decode_template_variables,
    decode_token,
    method_json,
    method_stub_json,
    policy_json,
    policy_stub_json,
    replication_status_json,
    role_json,
    rule_json,
    token_json,
    token_stub_json,
)
from ..structs.bodies import reword_enterprise_field

__all__ = ["ROUTES"]

T = TypeVar("T")
Record = dict[str, Any]

# acl/validation.go
_VALID_POLICY_NAME: Final = re.compile(r"[A-Za-z0-9\-_]{1,128}")
_VALID_ROLE_NAME: Final = re.compile(r"[A-Za-z0-9\-_]{1,256}")
_VALID_AUTH_METHOD: Final = re.compile(r"[A-Za-z0-9\-_]{1,128}")
_INVALID_IDENTITY: Final = "Only lowercase alphanumeric characters, '-' and '_' are allowed"
_INVALID_NAME: Final = "Only alphanumeric characters, '-' and '_' are allowed"
# authmethod.Types() of a CE build (kubernetes, jwt and aws-iam register; oidc is Enterprise).
_AUTH_METHOD_TYPES: Final = ("aws-iam", "jwt", "kubernetes")
_GO_ZERO_TIME_NS: Final = -62135596800 * 1_000_000_000


def _q(text: str) -> str:
    return strconv_quote(text)


# -- plumbing --------------------------------------------------------------------------------


def _enabled(api: Backend) -> ACLStore:
    """checkACLDisabled: 401 "ACL support disabled" before anything else is looked at."""
    if not api.acl.enabled:
        raise HTTPError(401, "ACL support disabled")
    return api.acl_store


async def _body(ctx: Context, decode: Callable[[bytes], T], prefix: str) -> T:
    """lib.DecodeJSON of the body; a bad one is 400 ``<prefix>: <error>`` (Enterprise fields
    reworded, ``rewordUnknownEnterpriseFieldError``)."""
    data = await ctx.request.read()
    try:
        return decode(data)
    except GoSyntaxError as exc:
        raise HTTPError(400, f"{prefix}: {reword_enterprise_field(exc)}") from None


def _write_authz(api: Backend, ctx: Context, datacenter: str | None = None) -> Enforcer:
    """The write RPCs: forward, resolve the request's token, ``ACLWriteAllowed``."""
    forward(api, datacenter or api.datacenter)
    authz = authorize(api, ctx)
    authz.require(Permission.ACL_WRITE)
    return authz


def _dc_param(api: Backend, ctx: Context) -> str:
    """parseDC: ``?dc=`` or the agent's datacenter."""
    return ctx.query.get("dc") or api.datacenter


def _not_found_on_delete(kind: str) -> Callable[[Exception], None]:
    def reraise(exc: Exception) -> None:
        if "ACL not found" in str(exc):  # strings.Contains(err.Error(), acl.ErrNotFound)
            raise HTTPError(404, f"Cannot find {kind} to delete") from None
        raise exc

    return reraise


async def _read(
    api: Backend,
    ctx: Context,
    opts: QueryOptions,
    query: Callable[[Enforcer], Result[T]],
    *,
    permission: Permission | None = Permission.ACL_READ,
) -> Result[T]:
    """An ACL read RPC: forward, resolve, the permission, then the blocking query."""

    def prepare() -> Callable[[], Result[T]]:
        authz = authorize(api, ctx) if permission is not None else None
        if authz is not None and permission is not None:
            authz.require(permission)
        return lambda: query(authz)  # type: ignore[arg-type]

    return await rpc(api, ctx, opts, prepare)


async def _crud(
    api: Backend,
    ctx: Context,
    prefix: str,
    missing: str,
    read: Callable[[str], Awaitable[Reply]],
    write: Callable[[str], Awaitable[Reply]],
    delete: Callable[[str], Awaitable[Reply]],
) -> Reply:
    """An ``<kind>/<id>`` route (ACLPolicyCRUD, ACLRoleCRUD, ...): GET reads, PUT writes,
    DELETE deletes; only a PUT (a create through the URL) may have no ID (400 ``missing``)."""
    _enabled(api)
    key = tail(ctx, prefix)
    method = ctx.request.method
    if not key and method != "PUT":
        raise HTTPError(400, missing)
    if method == "GET":
        return await read(key)
    if method == "PUT":
        return await write(key)
    return await delete(key)


async def _list_all(
    api: Backend,
    ctx: Context,
    get: Callable[[ACLStore], tuple[int, list[T]]],
    tables: tuple[str, ...],
    render: Callable[[T], Any],
) -> Reply:
    """A list RPC (ACL.PolicyList, ...): every object ``get`` finds, each rendered."""
    acls = _enabled(api)
    opts = parse(api, ctx)
    ent_meta(ctx)

    def query(authz: Enforcer) -> Result[list[T]]:
        index, values = get(acls)
        return Result(index, values, tables)

    result = await _read(api, ctx, opts, query)
    return ctx.json([render(value) for value in result.value])


async def _read_one(
    api: Backend,
    ctx: Context,
    get: Callable[[ACLStore], tuple[int, T | None]],
    tables: tuple[str, ...],
    kind: str,
    render: Callable[[T], Any],
) -> Reply:
    """A read RPC (ACL.PolicyRead, ...): the object ``get`` finds, or 404 (``_missing``)."""
    acls = api.acl_store
    opts = parse(api, ctx)
    ent_meta(ctx)

    def query(authz: Enforcer) -> Result[T | None]:
        index, value = get(acls)
        return Result(index, value, tables, not_found=value is None)

    result = await _read(api, ctx, opts, query)
    if result.value is None:
        raise _missing(kind)
    return ctx.json(render(result.value))


async def _delete_one(
    api: Backend,
    ctx: Context,
    kind: str,
    datacenter: str | None,
    find: Callable[[ACLStore], T | None],
    delete: Callable[[ACLStore, T], object],
) -> Reply:
    """A delete RPC (ACL.RoleDelete, ...): ``ACLWriteAllowed``, then the object ``find`` finds
    is deleted; none is also ``true``."""
    acls = api.acl_store
    ent_meta(ctx)
    try:
        _write_authz(api, ctx, datacenter)
    except ACLError as exc:
        _not_found_on_delete(kind)(exc)
        raise
    found = find(acls)
    if found is not None:
        try:
            delete(acls, found)
        except RPCError as exc:
            raise RPCError(f"Failed to apply {kind} delete request: {exc}") from None
    return ctx.json(True)


def _missing(kind: str) -> HTTPError:
    """acl.ACLResourceNotExistError (CE: no namespace), answered 404."""
    return HTTPError(404, f"Requested {kind} does not exist: ACL not found")


def _now(acls: ACLStore) -> GoTime:
    return GoTime.now(acls.now())


# -- bootstrap and replication ---------------------------------------------------------------


async def _bootstrap(api: Backend, ctx: Context) -> Reply:
    """ACLBootstrap + ACL.BootstrapTokens: once; then "ACL bootstrap no longer allowed"."""
    acls = _enabled(api)
    secret = ""
    length = ctx.request.content_length
    if length is not None and length > 0:
        secret = await _body(ctx, decode_bootstrap, "Request decoding failed")
    forward(api, api.datacenter)
    allowed, reset_index = acls.can_bootstrap()
    if not allowed:
        # ACLBootstrap wraps the RPC's error: PermissionDeniedError{Cause: err.Error()}
        raise PermissionDenied(
            cause=f"ACL bootstrap no longer allowed (reset index: {reset_index})"
        )
    accessor = generate_uuid(acls.token_id_in_use)
    if secret:
        error = go_uuid_error(secret)
        if error is not None:
            raise RPCError(error)
    else:
        secret = generate_uuid(acls.token_id_in_use)
    token = Token(
        accessor_id=accessor,
        secret_id=secret,
        description="Bootstrap Token (Global Management)",
        policies=(Link(GLOBAL_MANAGEMENT_ID),),
        create_time=_now(acls),
    ).with_hash()
    stored = acls.bootstrap(token)
    api.log.log(3, "agent.server.acl", "ACL bootstrap completed")
    return ctx.json({"ID": stored.secret_id, **token_json(stored)})  # aclBootstrapResponse


async def _replication(api: Backend, ctx: Context) -> Reply:
    """ACLReplicationStatus: no token needed; a primary datacenter replicates nothing."""
    _enabled(api)
    opts = parse(api, ctx)
    forward(api, opts.datacenter)
    return ctx.json(replication_status_json())


# -- policies --------------------------------------------------------------------------------


async def _policy_list(api: Backend, ctx: Context) -> Reply:
    return await _list_all(api, ctx, lambda acls: acls.policy_list(), (ACL_POLICIES,),
                           policy_stub_json)


async def _policy_crud(api: Backend, ctx: Context) -> Reply:
    """ACLPolicyCRUD: GET reads, PUT writes, DELETE deletes the policy of the path's ID."""
    return await _crud(
        api, ctx, "/v1/acl/policy/", "Missing policy ID",
        lambda key: _policy_read(api, ctx, key, ""),
        lambda key: _policy_write(api, ctx, key, create=False),
        lambda key: _policy_delete(api, ctx, key),
    )


async def _policy_by_name(api: Backend, ctx: Context) -> Reply:
    _enabled(api)
    name = tail(ctx, "/v1/acl/policy/name/")
    if not name:
        raise HTTPError(400, "Missing policy Name")
    return await _policy_read(api, ctx, "", name)


async def _policy_read(api: Backend, ctx: Context, policy_id: str, name: str) -> Reply:
    """ACLPolicyRead: the name is unescaped once more (url.QueryUnescape) for ``/``s."""
    name = _query_unescape(name)
    return await _read_one(api, ctx, lambda acls: acls.policy_get(policy_id, name),
                           (ACL_POLICIES,), "policy", policy_json)


async def _policy_create(api: Backend, ctx: Context) -> Reply:
    _enabled(api)
    return await _policy_write(api, ctx, "", create=True)


async def _policy_write(api: Backend, ctx: Context, policy_id: str, *, create: bool) -> Reply:
    """aclPolicyWriteInternal + ACL.PolicySet."""
    acls = api.acl_store
    ent_meta(ctx)
    policy = await _body(ctx, decode_policy, "Policy decoding failed")
    if create:
        if policy.id:
            raise HTTPError(400, "Cannot specify the ID when creating a new policy")
    elif policy.id and policy.id != policy_id:
        raise HTTPError(400, "Policy ID in URL and payload do not match")
    elif not policy.id:
        policy = replace(policy, id=policy_id)
    _write_authz(api, ctx)
    if not policy.name:
        raise RPCError("Invalid Policy: no Name is set")
    if not _VALID_POLICY_NAME.fullmatch(policy.name):
        raise RPCError(f"Invalid Policy: invalid Name. {_INVALID_NAME}")
    id_match = None
    if policy.id:
        if go_uuid_error(policy.id) is not None:
            raise RPCError("Policy ID invalid UUID")
        id_match = acls.policy_by_id(policy.id)
    name_match = acls.policy_by_name(policy.name)
    if not policy.id:
        policy = replace(policy, id=generate_uuid(lambda v: acls.policy_by_id(v) is not None))
        if name_match is not None:
            raise RPCError(f"Invalid Policy: A Policy with Name {_q(policy.name)} already exists")
    else:
        if id_match is None:
            raise RPCError(f"cannot find policy {policy.id}")
        if id_match.name != policy.name and name_match is not None:
            raise RPCError(f"Invalid Policy: A policy with name {_q(policy.name)} already exists")
        if policy.id == GLOBAL_MANAGEMENT_ID:
            if policy.datacenters is not None:
                raise RPCError(
                    "Changing the Datacenters of the builtin global-management policy is not "
                    "permitted"
                )
            if policy.rules != id_match.rules:
                raise RPCError(
                    "Changing the Rules for the builtin global-management policy is not permitted"
                )
    _validate_rules(policy.rules)
    try:
        stored = acls.policy_set(policy.with_hash())
    except RPCError as exc:
        raise RPCError(f"Failed to apply policy upsert request: {exc}") from None
    return ctx.json(policy_json(stored))


def _validate_rules(rules: str) -> None:
    """acl.NewPolicyFromSource: the rules must parse (the error is the parser's)."""
    from ..acl.policy import parse_policy

    try:
        parse_policy(rules)
    except ValueError as exc:
        raise RPCError(str(exc)) from None


async def _policy_delete(api: Backend, ctx: Context, policy_id: str) -> Reply:
    acls = api.acl_store
    ent_meta(ctx)
    try:
        _write_authz(api, ctx)
        policy = acls.policy_by_id(policy_id)
    except ACLError as exc:
        _not_found_on_delete("policy")(exc)
        raise
    if policy is not None:
        if policy.id == GLOBAL_MANAGEMENT_ID:
            raise RPCError(
                "Delete operation not permitted on the builtin global-management policy"
            )
        try:
            acls.policy_delete(policy.id)
        except RPCError as exc:
            raise RPCError(f"Failed to apply policy delete request: {exc}") from None
    return ctx.json(True)


# -- tokens ----------------------------------------------------------------------------------


def _redact(authz: Enforcer | None) -> bool:
    """aclfilter: a token without acl:write sees every SecretID as "<hidden>"."""
    return authz is not None and not authz.allows(Permission.ACL_WRITE)


async def _token_list(api: Backend, ctx: Context) -> Reply:
    acls = _enabled(api)
    opts = parse(api, ctx)
    ent_meta(ctx)
    q = ctx.query
    if q.get("authmethod-ns"):  # parseACLAuthMethodEnterpriseMeta (CE)
        raise HTTPError(
            400,
            'Invalid query parameter: "authmethod-ns" - Namespaces are a Consul Enterprise '
            "feature",
        )

    def query(authz: Enforcer) -> Result[list[Record]]:
        index, tokens = acls.token_list(
            policy=q.get("policy"), role=q.get("role"), method=q.get("authmethod"),
            service=q.get("servicename"),
        )
        now = acls.now()
        redact = _redact(authz)
        stubs = [token_stub_json(t, redact=redact) for t in tokens if not t.expired(now)]
        return Result(index, stubs, (ACL_TOKENS,))

    result = await _read(api, ctx, opts, query)
    return ctx.json(result.value)


async def _token_crud(api: Backend, ctx: Context) -> Reply:
    """ACLTokenCRUD: ``<id>`` (GET, PUT, DELETE) and ``<id>/clone`` (PUT)."""
    _enabled(api)
    accessor = tail(ctx, "/v1/acl/token/")
    method = ctx.request.method
    clone = method == "PUT" and accessor.endswith("/clone")
    if clone:
        accessor = accessor[: -len("/clone")]
    if not accessor and method != "PUT":
        raise HTTPError(400, "Missing token AccessorID")
    if clone:
        return await _token_clone(api, ctx, accessor)
    if method == "GET":
        return await _token_read(api, ctx, accessor)
    if method == "PUT":
        return await _token_write(api, ctx, accessor, create=False)
    return await _token_delete(api, ctx, accessor)


async def _token_self(api: Backend, ctx: Context) -> Reply:
    """ACLTokenSelf: ACL.TokenRead by the request's own SecretID; no permission needed."""
    acls = _enabled(api)
    opts = parse(api, ctx)
    secret = request_token(api, ctx)

    def query(authz: Enforcer) -> Result[Token | None]:
        index, token = acls.token_get(secret=secret)
        if token is not None and token.expired(acls.now()):
            token = None
        return Result(index, token, (ACL_TOKENS,), not_found=token is None)

    result = await _read(api, ctx, opts, query, permission=None)
    if result.value is None:
        raise HTTPError(404, "Supplied token does not exist")
    return ctx.json(token_json(result.value))


async def _token_read(api: Backend, ctx: Context, accessor: str) -> Reply:
    """ACLTokenGet + ACL.TokenRead by AccessorID (``?expanded``: lookupExpandedTokenInfo)."""
    acls = api.acl_store
    opts = parse(api, ctx)
    ent_meta(ctx)
    expanded = "expanded" in ctx.query

    def query(authz: Enforcer) -> Result[Record | None]:
        index, token = acls.token_get(accessor=accessor)
        if token is not None and token.expired(acls.now()):
            token = None
        if token is None:
            return Result(index, None, (ACL_TOKENS,), not_found=True)
        out = token_json(token, redact=_redact(authz))
        if expanded:
            out.update(_expanded_info(api, token))
        return Result(index, out, (ACL_TOKENS, ACL_POLICIES, ACL_ROLES))

    result = await _read(api, ctx, opts, query)
    if result.value is None:
        raise _missing("token")
    return ctx.json(result.value)


def _expanded_info(api: Backend, token: Token) -> Record:
    """lookupExpandedTokenInfo: the policies and roles in effect (identities synthesised).

    Consul builds both lists from Go maps, in no fixed order; here they are sorted by ID.
    """
    from ..acl.resolver import identity_policies

    acls = api.acl_store
    stored, synthetic = identity_policies(acls, token)
    roles = [r for r in (acls.role_by_id(link.id) for link in token.roles) if r is not None]
    unique = {p.id: p for p in synthetic}
    policies = sorted(stored, key=lambda p: p.id) + [unique[k] for k in sorted(unique)]
    config = api.acl_config
    return {
        "ExpandedPolicies": [policy_json(p) for p in policies] or None,
        "ExpandedRoles": [role_json(r) for r in roles] or None,
        "NamespaceDefaultPolicyIDs": None,
        "NamespaceDefaultRoleIDs": None,
        "AgentACLDefaultPolicy": config.default_policy,
        "AgentACLDownPolicy": config.down_policy,
        "ResolvedByAgent": api.node_name,
    }


async def _token_create(api: Backend, ctx: Context) -> Reply:
    _enabled(api)
    return await _token_write(api, ctx, "", create=True)


async def _token_write(api: Backend, ctx: Context, accessor: str, *, create: bool) -> Reply:
    """aclTokenSetInternal + ACL.TokenSet: TokenWriter.Create, or Update for a known ID."""
    ent_meta(ctx)
    body = await _body(ctx, decode_token, "Token decoding failed")
    token = body.token
    if not create:
        if not token.accessor_id:
            token = replace(token, accessor_id=accessor)
        if token.accessor_id != accessor:
            raise HTTPError(400, "Token Accessor ID in URL and payload do not match")
    _write_authz(api, ctx)
    writer = _TokenWriter(api)
    if not token.accessor_id or create:
        stored = writer.create(token, body.expiration_ttl)
    else:
        stored = writer.update(token, body.expiration_ttl)
    return ctx.json(token_json(stored))


async def _token_clone(api: Backend, ctx: Context, accessor: str) -> Reply:
    """ACLTokenClone + ACL.TokenClone: a new token with the same links and identities."""
    acls = _enabled(api)
    ent_meta(ctx)
    body = await _body(ctx, decode_token, "Token decoding failed")
    _write_authz(api, ctx)
    original = acls.token_by_accessor(accessor)
    if original is None or original.expired(acls.now()):
        raise ACLNotFound()
    if original.auth_method:
        raise RPCError("Cannot clone a token created from an auth method")
    clone = Token(
        accessor_id="",
        secret_id="",
        description=body.token.description or original.description,
        policies=original.policies,
        roles=original.roles,
        service_identities=original.service_identities,
        node_identities=original.node_identities,
        templated_policies=original.templated_policies,
        local=original.local,
        expiration_time=original.expiration_time,
    )
    return ctx.json(token_json(_TokenWriter(api).create(clone, 0)))


async def _token_delete(api: Backend, ctx: Context, accessor: str) -> Reply:
    """ACL.TokenDelete: never the anonymous token, nor the request's own."""
    acls = api.acl_store
    ent_meta(ctx)
    try:
        _write_authz(api, ctx)
    except ACLError as exc:
        _not_found_on_delete("token")(exc)
        raise
    if go_uuid_error(accessor) is not None:
        raise RPCError("Accessor ID is missing or an invalid UUID")
    if accessor == ANONYMOUS_TOKEN_ID:
        raise RPCError("Delete operation not permitted on the anonymous token")
    token = acls.token_by_accessor(accessor)
    if token is not None:
        if request_token(api, ctx) == token.secret_id:
            raise RPCError("Deletion of the request's authorization token is not permitted")
        try:
            acls.tokens_delete([token.accessor_id])
        except RPCError as exc:
            raise RPCError(f"Failed to apply token delete request: {exc}") from None
    return ctx.json(True)


class _TokenWriter:
    """auth.TokenWriter: the validation of every token create and update."""

    def __init__(self, api: Backend) -> None:
        self.api = api
        self.acls = api.acl_store

    def _check_id(self, value: str, field: str) -> None:
        """validateTokenID, then tokenIDInUse."""
        if reserved_id(value):
            raise RPCError(
                f"Invalid Token: {field} - UUIDs with the prefix "
                '"00000000-0000-0000-0000-0000000000" are reserved'
            )
        if go_uuid_error(value) is not None:
            raise RPCError(f"Invalid Token: {field} - not a valid UUID")
        if self.acls.token_id_in_use(value):
            raise RPCError(f"Invalid Token: {field} is already in use")

    def create(self, token: Token, ttl: int, *, from_login: bool = False) -> Token:
        """TokenWriter.Create."""
        acls = self.acls
        if not token.accessor_id:
            token = replace(token, accessor_id=generate_uuid(acls.token_id_in_use))
        else:
            self._check_id(token.accessor_id, "AccessorID")
        if not token.secret_id:
            token = replace(token, secret_id=generate_uuid(acls.token_id_in_use))
        else:
            self._check_id(token.secret_id, "SecretID")
        created = _now(acls)
        token = replace(token, create_time=created)
        expires = _expiration(token)
        if ttl < 0:
            raise RPCError(f"Token Expiration TTL '{format_duration(ttl)}' should be > 0")
        if ttl > 0:
            if expires is not None:
                raise RPCError("Token Expiration TTL and Expiration Time cannot both be set")
            expires = created.add(ttl)
        token = replace(token, expiration_time=expires)
        if expires is not None:
            if expires.ns < created.ns:
                raise RPCError("ExpirationTime cannot be before CreateTime")
            expires_in = expires.ns - created.ns
            config = self.api.acl_config
            if expires_in > config.token_max_expiration_ttl:
                raise RPCError(
                    "ExpirationTime cannot be more than "
                    f"{format_duration(config.token_max_expiration_ttl)} in the future "
                    f"(was {format_duration(expires_in)})"
                )
            if expires_in < config.token_min_expiration_ttl:
                raise RPCError(
                    "ExpirationTime cannot be less than "
                    f"{format_duration(config.token_min_expiration_ttl)} in the future "
                    f"(was {format_duration(expires_in)})"
                )
        if from_login:
            if not token.auth_method:
                raise RPCError("AuthMethod field is required during login")
        elif token.auth_method:
            raise RPCError("AuthMethod field is disallowed outside of login")
        return self._write(token, from_login=from_login)

    def update(self, token: Token, ttl: int) -> Token:
        """TokenWriter.Update: AccessorID, SecretID, locality, auth method and expiry stay."""
        acls = self.acls
        if go_uuid_error(token.accessor_id) is not None:
            raise RPCError("AccessorID is not a valid UUID")
        if token.secret_id in ("allow", "deny", "manage"):  # acl.RootAuthorizer
            raise PermissionDenied(cause="Cannot modify root ACL")
        match = acls.token_by_accessor(token.accessor_id)
        if match is None or match.expired(acls.now()):
            raise RPCError(f"Cannot find token {_q(token.accessor_id)}")
        if not token.secret_id:
            token = replace(token, secret_id=match.secret_id)
        elif token.secret_id != match.secret_id:
            raise RPCError("Changing a token's SecretID is not permitted")
        if token.local != match.local:
            raise RPCError(f"Cannot toggle local mode of {token.accessor_id}")
        if not token.auth_method:
            token = replace(token, auth_method=match.auth_method)
        elif token.auth_method != match.auth_method:
            raise RPCError(f"Cannot change AuthMethod of {token.accessor_id}")
        if ttl != 0:
            raise RPCError(f"Cannot change expiration time of {token.accessor_id}")
        expires = _expiration(token)
        if expires is not None and (
            match.expiration_time is None or match.expiration_time.ns != expires.ns
        ):
            raise RPCError(f"Cannot change expiration time of {token.accessor_id}")
        token = replace(token, expiration_time=match.expiration_time,
                        create_time=match.create_time)
        return self._write(token)

    def _write(self, token: Token, *, from_login: bool = False) -> Token:
        """TokenWriter.write: links by ID, identities checked and de-duplicated, then Raft."""
        acls = self.acls
        token = replace(
            token,
            roles=_normalize_links(acls, token.roles, "role"),
            policies=_normalize_links(acls, token.policies, "policy"),
            service_identities=_normalize_services(token.service_identities, "token",
                                                   local=token.local),
            node_identities=_normalize_nodes(token.node_identities, "token"),
            templated_policies=_normalize_templated(token.templated_policies, "token"),
        )
        try:
            return acls.token_set(
                token.with_hash(), allow_missing=from_login, prohibit_unprivileged=from_login
            )
        except RPCError as exc:
            raise RPCError(f"Failed to apply token write request: {exc}") from None


def _expiration(token: Token) -> GoTime | None:
    """HasExpirationTime: a nil or zero time is none."""
    expires = token.expiration_time
    return None if expires is None or expires.ns == _GO_ZERO_TIME_NS else expires


def _normalize_links(acls: ACLStore, links: tuple[Link, ...], kind: str) -> tuple[Link, ...]:
    """normalizeRoleLinks / normalizePolicyLinks: resolve names to IDs, check IDs, dedupe."""
    out: list[Link] = []
    seen: set[str] = set()
    by_name = acls.role_by_name if kind == "role" else acls.policy_by_name
    by_id = acls.role_by_id if kind == "role" else acls.policy_by_id
    for link in links:
        if not link.id:
            found = by_name(link.name)
            if found is None:
                raise RPCError(f"No such ACL {kind} with name {_q(link.name)}")
            link_id = found.id
        else:
            try:
                found = by_id(link.id)
            except RPCError as exc:
                raise RPCError(
                    f"Error looking up {kind} for ID: {_q(link.id)}: {exc}"
                ) from None
            if found is None:
                raise RPCError(f"No such ACL {kind} with ID {_q(link.id)}")
            link_id = link.id
        if link_id not in seen:
            seen.add(link_id)
            out.append(Link(link_id))
    return tuple(out)


def _normalize_services(
    items: tuple[ServiceIdentity, ...], owner: str, *, local: bool = False
) -> tuple[ServiceIdentity, ...]:
    for item in items:
        if not item.service_name:
            raise RPCError(f"Service identity is missing the service name field on this {owner}")
        if local and item.datacenters:
            raise RPCError(
                f"Service identity {_q(item.service_name)} cannot specify a list of datacenters "
                "on a local token"
            )
        if not is_valid_service_identity_name(item.service_name):
            raise RPCError(
                f"Service identity {_q(item.service_name)} has an invalid name. "
                f"{_INVALID_IDENTITY}"
            )
    merged: dict[str, set[str]] = {}  # ACLServiceIdentities.Deduplicate
    for item in items:
        merged.setdefault(item.service_name, set()).update(item.datacenters)
    return tuple(ServiceIdentity(name, tuple(sorted(dcs))) for name, dcs in merged.items())


def _normalize_nodes(items: tuple[NodeIdentity, ...], owner: str) -> tuple[NodeIdentity, ...]:
    for item in items:
        if not item.node_name:
            raise RPCError(f"Node identity is missing the node name field on this {owner}")
        if not item.datacenter:
            raise RPCError(f"Node identity is missing the datacenter field on this {owner}")
        if not is_valid_node_identity_name(item.node_name):
            raise RPCError(f"Node identity has an invalid name. {_INVALID_IDENTITY}")
    return tuple(dict.fromkeys(items))


def _normalize_templated(
    items: tuple[TemplatedPolicy, ...], owner: str
) -> tuple[TemplatedPolicy, ...]:
    """normalizeTemplatedPolicies: a known template, its variables valid; duplicates dropped."""
    from ..acl import identities

    out: list[TemplatedPolicy] = []
    seen: set[tuple[str, str]] = set()
    for item in items:
        if not item.template_name:
            raise RPCError(
                f"templated policy is missing the template name field on this {owner}"
            )
        base = identities.templated_policy_base(item.template_name)
        if base is None:
            raise RPCError(f"no such ACL templated policy with Name {_q(item.template_name)}")
        try:
            identities.validate_templated_policy(item.template_name, item.variables)
        except ValueError as exc:
            raise RPCError(
                f"validation error for templated policy {_q(item.template_name)}: {exc}"
            ) from None
        key = (item.template_name, item.variable_name if base.schema else "")
        if key in seen:
            continue  # ACLTemplatedPolicies.Deduplicate
        seen.add(key)
        out.append(replace(item, template_id=base.template_id))
    return tuple(out)


# -- roles -----------------------------------------------------------------------------------


async def _role_list(api: Backend, ctx: Context) -> Reply:
    policy = ctx.query.get("policy")
    return await _list_all(api, ctx, lambda acls: acls.role_list(policy),
                           (ACL_ROLES, ACL_POLICIES), role_json)


async def _role_crud(api: Backend, ctx: Context) -> Reply:
    return await _crud(
        api, ctx, "/v1/acl/role/", "Missing role ID",
        lambda key: _role_read(api, ctx, key, ""),
        lambda key: _role_write(api, ctx, key),
        lambda key: _role_delete(api, ctx, key),
    )


async def _role_by_name(api: Backend, ctx: Context) -> Reply:
    _enabled(api)
    name = tail(ctx, "/v1/acl/role/name/")
    if not name:
        raise HTTPError(400, "Missing role Name")
    return await _role_read(api, ctx, "", name)


async def _role_read(api: Backend, ctx: Context, role_id: str, name: str) -> Reply:
    return await _read_one(api, ctx, lambda acls: acls.role_get(role_id, name),
                           (ACL_ROLES, ACL_POLICIES), "role", role_json)


async def _role_create(api: Backend, ctx: Context) -> Reply:
    _enabled(api)
    return await _role_write(api, ctx, "")


async def _role_write(api: Backend, ctx: Context, role_id: str) -> Reply:
    """ACLRoleWrite + ACL.RoleSet (an ID in a create's body does not match the URL's "")."""
    acls = api.acl_store
    ent_meta(ctx)
    role = await _body(ctx, decode_role, "Role decoding failed")
    if role.id and role.id != role_id:
        raise HTTPError(400, "Role ID in URL and payload do not match")
    if not role.id:
        role = replace(role, id=role_id)
    _write_authz(api, ctx)
    if not role.name:
        raise RPCError("Invalid Role: no Name is set")
    if not _VALID_ROLE_NAME.fullmatch(role.name):
        raise RPCError(f"Invalid Role: invalid Name. {_INVALID_NAME}")
    if not role.id:
        role = replace(role, id=generate_uuid(lambda v: acls.role_by_id(v) is not None))
        if acls.role_by_name(role.name) is not None:
            raise RPCError(f"Invalid Role: A Role with Name {_q(role.name)} already exists")
    else:
        if go_uuid_error(role.id) is not None:
            raise RPCError("Role ID invalid UUID")
        existing = acls.role_by_id(role.id)
        if existing is None:
            raise RPCError(f"cannot find role {role.id}")
        if existing.name != role.name and acls.role_by_name(role.name) is not None:
            raise RPCError(f"Invalid Role: A role with name {_q(role.name)} already exists")
    links: list[Link] = []
    seen: set[str] = set()
    for link in role.policies:  # names to IDs; IDs are checked by the state store
        link_id = link.id
        if not link_id:
            policy = acls.policy_by_name(link.name)
            if policy is None:
                raise RPCError(f"No such ACL policy with name {_q(link.name)}")
            link_id = policy.id
        if link_id not in seen:
            seen.add(link_id)
            links.append(Link(link_id))
    role = replace(
        role,
        policies=tuple(links),
        service_identities=_normalize_services(role.service_identities, "role"),
        node_identities=_normalize_nodes(role.node_identities, "role"),
        templated_policies=_normalize_templated(role.templated_policies, "role"),
    )
    try:
        stored = acls.role_set(role.with_hash())
    except RPCError as exc:
        raise RPCError(f"Failed to apply role upsert request: {exc}") from None
    return ctx.json(role_json(stored))


async def _role_delete(api: Backend, ctx: Context, role_id: str) -> Reply:
    return await _delete_one(api, ctx, "role", None, lambda acls: acls.role_by_id(role_id),
                             lambda acls, role: acls.role_delete(role.id))


# -- templated policies ----------------------------------------------------------------------


def _templated_authz(api: Backend, ctx: Context) -> None:
    """parseToken, parseEntMetaPartition, ResolveTokenAndDefaultMeta, ACLReadAllowed."""
    partition_only(ctx)
    authorize(api, ctx).require(Permission.ACL_READ)


async def _templated_list(api: Backend, ctx: Context) -> Reply:
    _enabled(api)
    from ..acl import identities

    _templated_authz(api, ctx)
    bases = identities.templated_policy_bases()
    return ctx.json({name: bases[name].response() for name in sorted(bases)})


async def _templated_read(api: Backend, ctx: Context) -> Reply:
    _enabled(api)
    from ..acl import identities

    name = tail(ctx, "/v1/acl/templated-policy/name/")
    if not name:
        raise HTTPError(400, "Missing templated policy Name")
    _templated_authz(api, ctx)
    base = identities.templated_policy_base(name)
    if base is None:
        raise HTTPError(404, f"Invalid templated policy Name: {name}")
    return ctx.json(base.response())


async def _templated_preview(api: Backend, ctx: Context) -> Reply:
    """ACLTemplatedPolicyPreview: the synthetic policy the variables render to."""
    _enabled(api)
    from ..acl import identities
    from ..acl.resolver import templated_policy_policy

    name = tail(ctx, "/v1/acl/templated-policy/preview/")
    if not name:
        raise HTTPError(400, "Missing templated policy Name")
    _templated_authz(api, ctx)
    base = identities.templated_policy_base(name)
    if base is None:
        raise HTTPError(404, f"templated policy {_q(name)} does not exist")
    variables = await _body(ctx, decode_template_variables, "Failed to decode request body")
    try:
        identities.validate_templated_policy(name, variables)
    except ValueError as exc:
        raise HTTPError(
            400, f"validation error for templated policy: {_q(name)}: {exc}"
        ) from None
    templated = TemplatedPolicy(base.template_name, base.template_id, variables)
    return ctx.json(policy_json(templated_policy_policy(templated)))


# -- auth methods ----------------------------------------------------------------------------


async def _method_list(api: Backend, ctx: Context) -> Reply:
    return await _list_all(api, ctx, lambda acls: acls.method_list(), (ACL_AUTH_METHODS,),
                           method_stub_json)


async def _method_crud(api: Backend, ctx: Context) -> Reply:
    return await _crud(
        api, ctx, "/v1/acl/auth-method/", "Missing auth method name",
        lambda key: _method_read(api, ctx, key),
        lambda key: _method_write(api, ctx, key),
        lambda key: _method_delete(api, ctx, key),
    )


async def _method_read(api: Backend, ctx: Context, name: str) -> Reply:
    return await _read_one(api, ctx, lambda acls: acls.method_get(name), (ACL_AUTH_METHODS,),
                           "auth method", method_json)


async def _method_create(api: Backend, ctx: Context) -> Reply:
    _enabled(api)
    return await _method_write(api, ctx, "")


async def _method_write(api: Backend, ctx: Context, name: str) -> Reply:
    """ACLAuthMethodWrite + ACL.AuthMethodSet."""
    from ..acl.authmethod import AuthMethodError, new_validator

    acls = api.acl_store
    datacenter = _dc_param(api, ctx)
    ent_meta(ctx)
    method = await _body(ctx, decode_auth_method, "AuthMethod decoding failed")
    if name:
        if method.name and method.name != name:
            raise HTTPError(400, "AuthMethod Name in URL and payload do not match")
        if not method.name:
            method = replace(method, name=name)
    _write_authz(api, ctx, datacenter)
    if not method.name:
        raise RPCError("Invalid Auth Method: no Name is set")
    if not _VALID_AUTH_METHOD.fullmatch(method.name):
        raise RPCError(f"Invalid Auth Method: invalid Name. {_INVALID_NAME}")
    _, existing = acls.method_get(method.name)
    if existing is not None:
        if not method.type:
            method = replace(method, type=existing.type)
        elif existing.type != method.type:
            raise RPCError("the Type field of an Auth Method is immutable")
    if method.type not in _AUTH_METHOD_TYPES:
        types = " ".join(_AUTH_METHOD_TYPES)
        raise RPCError(f"Invalid Auth Method: Type should be one of: [{types}]")
    if method.max_token_ttl:
        if method.max_token_ttl > api.acl_config.token_max_expiration_ttl:
            raise RPCError(
                f"MaxTokenTTL {format_duration(method.max_token_ttl)} cannot be more than "
                f"{format_duration(api.acl_config.token_max_expiration_ttl)}"
            )
        if method.max_token_ttl < api.acl_config.token_min_expiration_ttl:
            raise RPCError(
                f"MaxTokenTTL {format_duration(method.max_token_ttl)} cannot be less than "
                f"{format_duration(api.acl_config.token_min_expiration_ttl)}"
            )
    if method.token_locality not in ("", "local", "global"):
        raise RPCError(
            "Invalid Auth Method: TokenLocality should be one of 'local' or 'global'"
        )
    try:
        new_validator(method)
    except AuthMethodError as exc:
        raise RPCError(f"Invalid Auth Method: {exc}") from None
    try:
        stored = acls.method_set(method)
    except RPCError as exc:
        raise RPCError(f"Failed to apply auth method upsert request: {exc}") from None
    return ctx.json(method_json(stored))


async def _method_delete(api: Backend, ctx: Context, name: str) -> Reply:
    return await _delete_one(api, ctx, "auth method", _dc_param(api, ctx),
                             lambda acls: acls.method_get(name)[1],
                             lambda acls, method: acls.method_delete(method.name))


# -- binding rules ---------------------------------------------------------------------------


async def _rule_list(api: Backend, ctx: Context) -> Reply:
    method = ctx.query.get("authmethod")
    return await _list_all(api, ctx, lambda acls: acls.rule_list(method), (ACL_BINDING_RULES,),
                           rule_json)


async def _rule_crud(api: Backend, ctx: Context) -> Reply:
    return await _crud(
        api, ctx, "/v1/acl/binding-rule/", "Missing binding rule ID",
        lambda key: _rule_read(api, ctx, key),
        lambda key: _rule_write(api, ctx, key),
        lambda key: _rule_delete(api, ctx, key),
    )


async def _rule_read(api: Backend, ctx: Context, rule_id: str) -> Reply:
    return await _read_one(api, ctx, lambda acls: acls.rule_get(rule_id), (ACL_BINDING_RULES,),
                           "binding rule", rule_json)


async def _rule_create(api: Backend, ctx: Context) -> Reply:
    _enabled(api)
    return await _rule_write(api, ctx, "")


async def _rule_write(api: Backend, ctx: Context, rule_id: str) -> Reply:
    """ACLBindingRuleWrite + ACL.BindingRuleSet."""
    from ..acl.authmethod import AuthMethodError, is_valid_binding_rule, new_validator
    from ..golang.bexpr import FilterError, compile_filter

    acls = api.acl_store
    datacenter = _dc_param(api, ctx)
    ent_meta(ctx)
    rule = await _body(ctx, decode_binding_rule, "BindingRule decoding failed")
    if rule.id and rule.id != rule_id:
        raise HTTPError(400, "BindingRule ID in URL and payload do not match")
    if not rule.id:
        rule = replace(rule, id=rule_id)
    _write_authz(api, ctx, datacenter)
    if not rule.id:
        rule = replace(rule, id=generate_uuid(lambda v: acls.rule_get(v)[1] is not None))
    else:
        if go_uuid_error(rule.id) is not None:
            raise RPCError("Binding Rule ID invalid UUID")
        _, existing = acls.rule_get(rule.id)
        if existing is None:
            raise RPCError(f"cannot find binding rule {rule.id}")
        if not rule.auth_method:
            rule = replace(rule, auth_method=existing.auth_method)
        elif existing.auth_method != rule.auth_method:
            raise RPCError("the AuthMethod field of an Binding Rule is immutable")
    if not rule.auth_method:
        raise RPCError("Invalid Binding Rule: no AuthMethod is set")
    _, method = acls.method_get(rule.auth_method)
    if method is None:
        raise RPCError(f"cannot find auth method with name {_q(rule.auth_method)}")
    try:
        blank = new_validator(method).new_identity()
    except AuthMethodError as exc:
        raise RPCError(str(exc)) from None
    if rule.selector:
        try:
            compile_filter(rule.selector, fields=blank.schema)
        except FilterError as exc:
            raise RPCError(f"invalid Binding Rule: Selector is invalid: {exc}") from None
    if not rule.bind_type:
        raise RPCError("Invalid Binding Rule: no BindType is set")
    if not rule.bind_name:
        raise RPCError("Invalid Binding Rule: no BindName is set")
    if rule.bind_type not in ("service", "node", "role", "policy", "templated-policy"):
        raise RPCError(f"Invalid Binding Rule: unknown BindType {_q(rule.bind_type)}")
    try:
        is_valid_binding_rule(rule.bind_type, rule.bind_name, rule.bind_vars,
                              blank.projected_vars)
    except AuthMethodError as exc:
        raise RPCError(f"Invalid Binding Rule: invalid BindName: {exc}") from None
    try:
        stored = acls.rule_set(rule)
    except RPCError as exc:
        raise RPCError(f"Failed to apply binding rule upsert request: {exc}") from None
    return ctx.json(rule_json(stored))


async def _rule_delete(api: Backend, ctx: Context, rule_id: str) -> Reply:
    return await _delete_one(api, ctx, "binding rule", _dc_param(api, ctx),
                             lambda acls: acls.rule_get(rule_id)[1],
                             lambda acls, rule: acls.rule_delete(rule.id))


# -- login and logout ------------------------------------------------------------------------


async def _login(api: Backend, ctx: Context) -> Reply:
    """ACLLogin + ACL.Login: the bearer token verified by the auth method, the binding rules
    that match its identity, and a token carrying what they bind."""
    from ..acl.authmethod import AuthMethodError, bind, new_validator

    acls = _enabled(api)
    datacenter = _dc_param(api, ctx)
    ent_meta(ctx)
    params = await _body(ctx, decode_login, "Failed to decode request body")
    forward(api, datacenter)
    _, method = acls.method_get(params.auth_method)
    if method is None:
        raise ACLNotFound(f"ACL not found: auth method {_q(params.auth_method)} not found")
    try:
        validator = new_validator(method)
        identity = validator.validate_login(params.bearer_token)
        bindings = bind(acls, method, identity, api.datacenter)
    except AuthMethodError as exc:
        raise RPCError(str(exc)) from None
    if bindings.none():
        raise PermissionDenied()
    description = "token created via login"
    if params.meta:  # auth.BuildTokenDescription
        meta = go_json(dict(sorted(params.meta.items()))).decode()  # json.Marshal of a map
        description = f"{description}: {meta}"
    token = Token(
        accessor_id="",
        secret_id="",
        description=description,
        policies=bindings.policies,
        roles=bindings.roles,
        service_identities=bindings.service_identities,
        node_identities=bindings.node_identities,
        templated_policies=bindings.templated_policies,
        local=method.token_locality != "global",
        auth_method=method.name,
    )
    try:
        stored = _TokenWriter(api).create(token, method.max_token_ttl, from_login=True)
    except RPCError as exc:
        if "Token has no privileges" in str(exc):
            raise PermissionDenied() from None
        raise
    return ctx.json(token_json(stored))


async def _logout(api: Backend, ctx: Context) -> Reply:
    """ACLLogout + ACL.Logout: destroys the request's token, if login created it."""
    acls = _enabled(api)
    datacenter = _dc_param(api, ctx)
    secret = request_token(api, ctx)
    if not secret:
        raise HTTPError(401, "Supplied token does not exist")
    forward(api, datacenter)
    token = acls.token_by_secret(secret)  # TokenWriter.Delete(secret, fromLogout=true)
    if token is None:
        raise ACLNotFound()
    if not token.auth_method:
        raise PermissionDenied(cause="token wasn't created via login")
    try:
        acls.tokens_delete([token.accessor_id])
    except RPCError as exc:
        raise RPCError(f"Failed to apply token delete request: {exc}") from None
    return ctx.json(True)


# -- internal/acl/authorize ------------------------------------------------------------------

#: acl.Enforce: (resource, access) -> the question it asks.
_ENFORCE: Final = {
    ("acl", "read"): Permission.ACL_READ,
    ("acl", "write"): Permission.ACL_WRITE,
    ("agent", "read"): Permission.AGENT_READ,
    ("agent", "write"): Permission.AGENT_WRITE,
    ("event", "read"): Permission.EVENT_READ,
    ("event", "write"): Permission.EVENT_WRITE,
    ("intention", "read"): Permission.INTENTION_READ,
    ("intention", "write"): Permission.INTENTION_WRITE,
    ("key", "read"): Permission.KEY_READ,
    ("key", "list"): Permission.KEY_LIST,
    ("key", "write"): Permission.KEY_WRITE,
    ("key", "write-prefix"): Permission.KEY_WRITE_PREFIX,
    ("keyring", "read"): Permission.KEYRING_READ,
    ("keyring", "write"): Permission.KEYRING_WRITE,
    ("mesh", "read"): Permission.MESH_READ,
    ("mesh", "write"): Permission.MESH_WRITE,
    ("peering", "read"): Permission.PEERING_READ,
    ("peering", "write"): Permission.PEERING_WRITE,
    ("node", "read"): Permission.NODE_READ,
    ("node", "write"): Permission.NODE_WRITE,
    ("operator", "read"): Permission.OPERATOR_READ,
    ("operator", "write"): Permission.OPERATOR_WRITE,
    ("query", "read"): Permission.QUERY_READ,
    ("query", "write"): Permission.QUERY_WRITE,
    ("service", "read"): Permission.SERVICE_READ,
    ("service", "write"): Permission.SERVICE_WRITE,
    ("session", "read"): Permission.SESSION_READ,
    ("session", "write"): Permission.SESSION_WRITE,
}
_RESOURCES: Final = frozenset(resource for resource, _ in _ENFORCE)


async def _authorize(api: Backend, ctx: Context) -> Reply:
    """ACLAuthorize (``POST /v1/internal/acl/authorize``): what the request's token may do,
    asked as ``acl.Enforce`` asks it; at most 64 questions."""
    from ..structs.acl import decode_authorization_requests

    _enabled(api)
    datacenter = _dc_param(api, ctx)
    requests = await _body(ctx, decode_authorization_requests, "Failed to decode request body")
    if len(requests) > 64:
        raise HTTPError(400, "Refusing to process more than 64 authorizations at once")
    if not requests:
        return ctx.json([])
    forward(api, datacenter)
    authz = authorize(api, ctx)
    out: list[Record] = []
    for request in requests:
        resource, access = request["Resource"], request["Access"]
        permission = _ENFORCE.get((resource, access.lower()))
        if permission is None:
            if resource not in _RESOURCES:
                text = f"Invalid ACL resource requested: {_q(resource)}"
            else:
                text = f"Invalid access level for {resource} resource: {access}"
            raise HTTPError(400, text)
        answer: Record = {"Resource": resource}
        if request["Segment"]:
            answer["Segment"] = request["Segment"]
        answer["Access"] = access
        answer["Allow"] = authz.allows(permission, request["Segment"])
        out.append(answer)
    return ctx.json(out)


#: http_register.go, the /v1/acl/ lines (a pattern before the subtree that contains it).
ROUTES: Final[tuple[Route, ...]] = (
    Route.of("/v1/acl/bootstrap", ("PUT",), _bootstrap,
             no_acl="ACL.BootstrapTokens resolves no token (agent/consul/acl_endpoint.go)"),
    Route.of("/v1/acl/login", ("POST",), _login,
             no_acl="ACL.Login is authenticated by its bearer token, not an ACL token"),
    Route.of("/v1/acl/logout", ("POST",), _logout,
             no_acl="ACL.Logout deletes the caller's own login token, checking no permission"),
    Route.of("/v1/acl/replication", ("GET",), _replication,
             no_acl='ACL.ReplicationStatus: "There\'s no ACL token required here"'),
    Route.of("/v1/acl/policies", ("GET",), _policy_list),
    Route.of("/v1/acl/policy", ("PUT",), _policy_create),
    Route.of("/v1/acl/policy/name/", ("GET",), _policy_by_name),
    Route.of("/v1/acl/policy/", ("GET", "PUT", "DELETE"), _policy_crud),
    Route.of("/v1/acl/roles", ("GET",), _role_list),
    Route.of("/v1/acl/role", ("PUT",), _role_create),
    Route.of("/v1/acl/role/name/", ("GET",), _role_by_name),
    Route.of("/v1/acl/role/", ("GET", "PUT", "DELETE"), _role_crud),
    Route.of("/v1/acl/binding-rules", ("GET",), _rule_list),
    Route.of("/v1/acl/binding-rule", ("PUT",), _rule_create),
    Route.of("/v1/acl/binding-rule/", ("GET", "PUT", "DELETE"), _rule_crud),
    Route.of("/v1/acl/auth-methods", ("GET",), _method_list),
    Route.of("/v1/acl/auth-method", ("PUT",), _method_create),
    Route.of("/v1/acl/auth-method/", ("GET", "PUT", "DELETE"), _method_crud),
    Route.of("/v1/acl/tokens", ("GET",), _token_list),
    Route.of("/v1/acl/token", ("PUT",), _token_create),
    Route.of("/v1/acl/token/self", ("GET",), _token_self,
             no_acl="ACL.TokenRead by SecretID: whoever has the secret may read the token"),
    Route.of("/v1/acl/token/", ("GET", "PUT", "DELETE"), _token_crud),
    Route.of("/v1/acl/templated-policies", ("GET",), _templated_list),
    Route.of("/v1/acl/templated-policy/name/", ("GET",), _templated_read),
    Route.of("/v1/acl/templated-policy/preview/", ("POST",), _templated_preview),
    Route.of("/v1/internal/acl/authorize", ("POST",), _authorize,
             no_acl="ACLAuthorize answers what the token may do and refuses nothing"),
)
