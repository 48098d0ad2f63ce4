"""The ACL tables of the state store (``agent/consul/state/acl.go``, ``acl_ce.go``, schema).

Five tables, each with the table index ``X-Consul-Index`` reports for every read of it (CE's
``acl*MaxIndex`` is always the table's index, never the object's ModifyIndex):

* ``acl-tokens``: by AccessorID (a UUID index: any case, hex decoded) and SecretID; listed in
  SecretID order (memdb's ``id`` index), also by policy, role, auth method (any case) and
  service name. A token's policy and role links are stored by ID and their names are fixed up
  on every read; a link to a deleted policy or role disappears from what is read.
* ``acl-policies`` and ``acl-roles``: by ID and by (case-insensitive) name.
* ``acl-binding-rules``: by ID, and by auth method (any case).
* ``acl-auth-methods``: by (case-insensitive) name; deleting one deletes its binding rules and
  the tokens it created (``aclAuthMethodDeleteTxn``).

Bootstrapping is recorded as the ``acl-token-bootstrap`` index entry: the Raft index of the
bootstrap, which is also the "reset index" Consul's refusal names. Tokens may expire
(``ExpirationTime``): the state keeps them until they are reaped, every reader checks
:meth:`Token.expired` (Consul's ``IsExpired``), and :meth:`ACLStore.reap_expired` deletes them
in one Raft entry as the leader's reaper does (``acl_token_exp.go``); ``on_expiry`` tells the
owner when the next token expires so it can schedule that.

Writes spend one Raft index of the shared :class:`~.store.Store` each, like the catalog
tables, and wake the blocking queries parked on the table. Time is nanoseconds since the
epoch from the injected ``wall_clock``, kept with the UTC offset Go's ``time.Now()`` carries.
This module never does I/O and never imports asyncio or aiohttp.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final

from ..golang.stdlib import MINUTE, strconv_quote
from .memdb import RPCError, dump_value, load_value
from .store import Store

__all__ = [
    "ACL_AUTH_METHODS",
    "ACL_BINDING_RULES",
    "ACL_POLICIES",
    "ACL_ROLES",
    "ACL_TOKENS",
    "ANONYMOUS_SECRET",
    "ANONYMOUS_TOKEN_ID",
    "BUILTIN_POLICIES",
    "GLOBAL_MANAGEMENT_ID",
    "GLOBAL_READ_ONLY_ID",
    "TOKEN_MAX_EXPIRATION_TTL",
    "TOKEN_MIN_EXPIRATION_TTL",
    "ACLStore",
    "AuthMethod",
    "BindingRule",
    "GoTime",
    "Link",
    "NodeIdentity",
    "Policy",
    "Role",
    "ServiceIdentity",
    "TemplatedPolicy",
    "Token",
    "generate_uuid",
    "go_uuid_error",
    "initialize_acls",
    "reserved_id",
    "synthetic_policy",
]

ACL_TOKENS: Final = "acl-tokens"
ACL_POLICIES: Final = "acl-policies"
ACL_ROLES: Final = "acl-roles"
ACL_BINDING_RULES: Final = "acl-binding-rules"
ACL_AUTH_METHODS: Final = "acl-auth-methods"
_TABLES: Final = (ACL_TOKENS, ACL_POLICIES, ACL_ROLES, ACL_BINDING_RULES, ACL_AUTH_METHODS)

#: structs.ACLReservedIDPrefix: the IDs of builtin objects; never generated, never accepted.
RESERVED_PREFIX: Final = "00000000-0000-0000-0000-0000000000"
#: acl.AnonymousTokenID and the SecretID the leader gives it (``anonymousToken``).
ANONYMOUS_TOKEN_ID: Final = "00000000-0000-0000-0000-000000000002"
ANONYMOUS_SECRET: Final = "anonymous"

GLOBAL_MANAGEMENT_ID: Final = "00000000-0000-0000-0000-000000000001"
GLOBAL_READ_ONLY_ID: Final = "00000000-0000-0000-0000-000000000002"

#: structs.ACLPolicyGlobalManagementRules (CE: no enterprise suffix).
GLOBAL_MANAGEMENT_RULES: Final = """
acl = "write"
agent_prefix "" {
	policy = "write"
}
event_prefix "" {
	policy = "write"
}
key_prefix "" {
	policy = "write"
}
keyring = "write"
node_prefix "" {
	policy = "write"
}
operator = "write"
mesh = "write"
peering = "write"
query_prefix "" {
	policy = "write"
}
service_prefix "" {
	policy = "write"
	intentions = "write"
}
session_prefix "" {
	policy = "write"
}"""

#: structs.ACLPolicyGlobalReadOnlyRules (CE).
GLOBAL_READ_ONLY_RULES: Final = """
acl = "read"
agent_prefix "" {
	policy = "read"
}
event_prefix "" {
	policy = "read"
}
key_prefix "" {
	policy = "read"
}
keyring = "read"
node_prefix "" {
	policy = "read"
}
operator = "read"
mesh = "read"
peering = "read"
query_prefix "" {
	policy = "read"
}
service_prefix "" {
	policy = "read"
	intentions = "read"
}
session_prefix "" {
	policy = "read"
}"""

#: structs.ACLBuiltinPolicies: (ID, Name, Description, Rules).
BUILTIN_POLICIES: Final = (
    (GLOBAL_MANAGEMENT_ID, "global-management", "Builtin Policy that grants unlimited access",
     GLOBAL_MANAGEMENT_RULES),
    (GLOBAL_READ_ONLY_ID, "builtin/global-read-only",
     "Builtin Policy that grants unlimited read-only access to all components",
     GLOBAL_READ_ONLY_RULES),
)

# agent/config defaults: acl.token_min_expiration_ttl / token_max_expiration_ttl.
TOKEN_MIN_EXPIRATION_TTL: Final = 1 * MINUTE
TOKEN_MAX_EXPIRATION_TTL: Final = 24 * 60 * MINUTE

# fnv.New128a().Sum(nil): the FNV-128a offset basis, appended by ``hasher.Sum(rules)``.
_FNV128A_EMPTY: Final = bytes.fromhex("6c62272e07bb014262b821756295c58d")


# -- Go helpers ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GoTime:
    """A Go ``time.Time``: nanoseconds since the epoch and the UTC offset it is shown in."""

    ns: int
    offset: int = 0  # seconds east of UTC

    @classmethod
    def now(cls, ns: int) -> GoTime:
        """``time.Now()`` at ``ns``: in the local zone, as Go's Local location."""
        return cls(ns, time.localtime(ns / 1e9).tm_gmtoff or 0)

    def add(self, duration: int) -> GoTime:
        return GoTime(self.ns + duration, self.offset)


def reserved_id(value: str) -> bool:
    """structs.ACLIDReserved."""
    return value.startswith(RESERVED_PREFIX)


def go_uuid_error(value: str) -> str | None:
    """hashicorp/go-uuid ParseUUID's error text for ``value``, or None when it is a UUID."""
    if len(value) != 36:
        return "uuid string is wrong length"
    if value[8] != "-" or value[13] != "-" or value[18] != "-" or value[23] != "-":
        return "uuid is improperly formatted"
    text = value[0:8] + value[9:13] + value[14:18] + value[19:23] + value[24:36]
    return _hex_error(text)


def _hex_error(text: str) -> str | None:
    """encoding/hex.DecodeString's error (odd length aside)."""
    for ch in text:
        if ch not in "0123456789abcdefABCDEF":
            code = ord(ch)
            return f"encoding/hex: invalid byte: U+{code:04X} {_go_rune_quote(ch)}"
    return None


def _go_rune_quote(ch: str) -> str:
    if ch == "'":
        return "'\\''"
    if ch.isprintable():
        return f"'{ch}'"
    return f"'\\x{ord(ch):02x}'" if ord(ch) < 0x80 else f"'\\u{ord(ch):04x}'"


def _uuid_key(value: str) -> bytes:
    """memdb.UUIDFieldIndex.FromArgs: the bytes of a UUID (hyphens anywhere, any case).

    Raises :class:`LookupError` with memdb's text, which the callers prefix.
    """
    if len(value) != 36:
        raise LookupError("index error: UUID must be 36 characters")
    hyphens = value.count("-")
    if hyphens > 4:
        raise LookupError(f'index error: UUID should have maximum of 4 "-"; got {hyphens}')
    sanitized = value.replace("-", "")
    if len(sanitized) % 2:
        raise LookupError("index error: Input (without hyphens) must be even length")
    error = _hex_error(sanitized)
    if error is not None:
        raise LookupError(f"index error: Invalid UUID: {error}")
    return bytes.fromhex(sanitized)


def generate_uuid(in_use: Callable[[str], bool] = lambda _: False) -> str:
    """lib.GenerateUUID with a check: random UUIDs until one is not reserved or in use."""
    while True:
        h = os.urandom(16).hex()
        value = f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
        if not reserved_id(value) and not in_use(value):
            return value


def _blake2b(parts: Iterable[str]) -> bytes:
    digest = hashlib.blake2b(digest_size=32)
    for part in parts:
        digest.update(part.encode("utf-8", "surrogateescape"))
    return digest.digest()


# -- the objects -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Link:
    """ACLTokenPolicyLink / ACLTokenRoleLink / ACLRolePolicyLink: stored by ID."""

    id: str
    name: str = ""


@dataclass(frozen=True, slots=True)
class ServiceIdentity:
    """structs.ACLServiceIdentity."""

    service_name: str
    datacenters: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class NodeIdentity:
    """structs.ACLNodeIdentity."""

    node_name: str
    datacenter: str


@dataclass(frozen=True, slots=True)
class TemplatedPolicy:
    """structs.ACLTemplatedPolicy; ``variables`` is ``TemplateVariables`` (None when nil)."""

    template_name: str
    template_id: str = ""
    variables: dict[str, str] | None = None
    datacenters: tuple[str, ...] = ()

    @property
    def variable_name(self) -> str:
        return (self.variables or {}).get("name", "")


def _identity_hash_parts(
    service_identities: Sequence[ServiceIdentity],
    node_identities: Sequence[NodeIdentity],
    templated_policies: Sequence[TemplatedPolicy],
) -> list[str]:
    parts: list[str] = []
    for sid in service_identities:  # ACLServiceIdentity.AddToHash
        parts += [sid.service_name, *sid.datacenters]
    for nid in node_identities:  # ACLNodeIdentity.AddToHash
        parts += [nid.node_name, nid.datacenter]
    for tp in templated_policies:  # ACLTemplatedPolicy.AddToHash
        parts += [tp.template_id, tp.template_name]
        if tp.variables is not None:
            parts.append(tp.variable_name)
        parts += list(tp.datacenters)
    return parts


@dataclass(frozen=True, slots=True)
class Token:
    """structs.ACLToken (CE fields)."""

    accessor_id: str
    secret_id: str
    description: str = ""
    policies: tuple[Link, ...] = ()
    roles: tuple[Link, ...] = ()
    service_identities: tuple[ServiceIdentity, ...] = ()
    node_identities: tuple[NodeIdentity, ...] = ()
    templated_policies: tuple[TemplatedPolicy, ...] = ()
    local: bool = False
    auth_method: str = ""
    expiration_time: GoTime | None = None
    create_time: GoTime | None = None
    hash: bytes = b""
    create_index: int = 0
    modify_index: int = 0

    def expired(self, now_ns: int) -> bool:
        """ACLToken.IsExpired: strictly after its ExpirationTime."""
        return self.expiration_time is not None and self.expiration_time.ns < now_ns

    def with_hash(self) -> Token:
        """ACLToken.SetHash(true): Description, locality, links by ID, the identities."""
        parts = [self.description, "local" if self.local else "global"]
        parts += [link.id for link in self.policies]
        parts += [link.id for link in self.roles]
        parts += _identity_hash_parts(
            self.service_identities, self.node_identities, self.templated_policies
        )
        return replace(self, hash=_blake2b(parts))


@dataclass(frozen=True, slots=True)
class Policy:
    """structs.ACLPolicy."""

    id: str
    name: str
    description: str = ""
    rules: str = ""
    datacenters: tuple[str, ...] | None = None
    hash: bytes = b""
    create_index: int = 0
    modify_index: int = 0

    def with_hash(self) -> Policy:
        """ACLPolicy.SetHash(true): Name, Description, Rules, Datacenters."""
        parts = [self.name, self.description, self.rules, *(self.datacenters or ())]
        return replace(self, hash=_blake2b(parts))


@dataclass(frozen=True, slots=True)
class Role:
    """structs.ACLRole."""

    id: str
    name: str
    description: str = ""
    policies: tuple[Link, ...] = ()
    service_identities: tuple[ServiceIdentity, ...] = ()
    node_identities: tuple[NodeIdentity, ...] = ()
    templated_policies: tuple[TemplatedPolicy, ...] = ()
    hash: bytes = b""
    create_index: int = 0
    modify_index: int = 0

    def with_hash(self) -> Role:
        """ACLRole.SetHash(true): Name, Description, policy IDs, the identities."""
        parts = [self.name, self.description, *(link.id for link in self.policies)]
        parts += _identity_hash_parts(
            self.service_identities, self.node_identities, self.templated_policies
        )
        return replace(self, hash=_blake2b(parts))


@dataclass(frozen=True, slots=True)
class BindingRule:
    """structs.ACLBindingRule; ``bind_vars`` is ``BindVars`` (None when nil)."""

    id: str
    auth_method: str
    description: str = ""
    selector: str = ""
    bind_type: str = ""
    bind_name: str = ""
    bind_vars: dict[str, str] | None = None
    create_index: int = 0
    modify_index: int = 0


@dataclass(frozen=True, slots=True)
class AuthMethod:
    """structs.ACLAuthMethod (CE: no namespace rules)."""

    name: str
    type: str
    display_name: str = ""
    description: str = ""
    max_token_ttl: int = 0  # nanoseconds
    token_locality: str = ""
    config: dict[str, object] = field(default_factory=dict)
    create_index: int = 0
    modify_index: int = 0


def synthetic_policy(rules: str, description: str, datacenters: Sequence[str] = ()) -> Policy:
    """The synthetic policy of an identity or templated policy (``SyntheticPolicy``).

    Its ID is ``fmt.Sprintf("%x", fnv.New128a().Sum([]byte(rules)))``: ``Sum`` *appends* the
    hash of nothing to the rules, so the ID is the rules' hex followed by the FNV offset basis.
    """
    hash_id = (rules.encode("utf-8", "surrogateescape") + _FNV128A_EMPTY).hex()
    policy = Policy(
        id=hash_id,
        name=f"synthetic-policy-{hash_id}",
        description=description,
        rules=rules,
        datacenters=tuple(datacenters) or None,
    )
    return policy.with_hash()


# -- the tables ------------------------------------------------------------------------------


class ACLStore:
    """The ACL tables beside the :class:`~.store.Store` whose Raft index they share."""

    def __init__(
        self,
        store: Store,
        *,
        wall_clock: Callable[[], int] = time.time_ns,
        on_expiry: Callable[[int | None], None] | None = None,
    ) -> None:
        self._store = store
        #: the wall clock (ns since the epoch); tests may move it to make tokens expire
        self.wall_clock = wall_clock
        #: called with the ExpirationTime (ns) of the next token to expire, None when none
        self.on_expiry = on_expiry
        self._index = dict.fromkeys(_TABLES, 0)
        self._bootstrap_index = 0  # the "acl-token-bootstrap" index entry
        self._tokens: dict[bytes, Token] = {}  # by AccessorID (UUID bytes)
        self._by_secret: dict[str, bytes] = {}
        self._policies: dict[bytes, Policy] = {}
        self._policy_names: dict[str, bytes] = {}  # lower-case name -> ID
        self._roles: dict[bytes, Role] = {}
        self._role_names: dict[str, bytes] = {}
        self._rules: dict[bytes, BindingRule] = {}
        self._methods: dict[str, AuthMethod] = {}  # lower-case name

    # -- bookkeeping -------------------------------------------------------------------------

    def now(self) -> int:
        """The wall clock, nanoseconds since the epoch."""
        return self.wall_clock()

    def index(self, table: str) -> int:
        """maxIndexTxn(table)."""
        return self._index[table]

    def _begin(self) -> int:
        return self._store.next_index()

    def _commit(self, index: int, *tables: str) -> None:
        for table in tables:
            self._index[table] = index
        self._store.touch(*tables)
        self._store.commit()

    def _expiry_changed(self) -> None:
        if self.on_expiry is not None:
            self.on_expiry(self.next_expiration())

    # -- snapshots (fsm persistACLs; the bootstrap state is the index table's entry) ----------

    def dump(self) -> dict[str, Any]:
        """Tokens (expired ones too: "Wait for explicit deletions"), policies, roles, binding
        rules and auth methods, the five table indexes and the ``acl-token-bootstrap`` entry."""
        return {
            "Tokens": [dump_value(self._tokens[k]) for k in sorted(self._tokens)],
            "Policies": [dump_value(self._policies[k]) for k in sorted(self._policies)],
            "Roles": [dump_value(self._roles[k]) for k in sorted(self._roles)],
            "BindingRules": [dump_value(self._rules[k]) for k in sorted(self._rules)],
            "AuthMethods": [dump_value(self._methods[k]) for k in sorted(self._methods)],
            "Index": dict(self._index),
            "BootstrapIndex": self._bootstrap_index,
        }

    def load(self, data: dict[str, Any]) -> None:
        """Replace every ACL table with a :meth:`dump`; the token reaper is re-armed."""
        tokens = [load_value(Token, item) for item in data["Tokens"]]
        policies = [load_value(Policy, item) for item in data["Policies"]]
        roles = [load_value(Role, item) for item in data["Roles"]]
        self._tokens = {_uuid_key(t.accessor_id): t for t in tokens}
        self._by_secret = {t.secret_id: _uuid_key(t.accessor_id) for t in tokens}
        self._policies = {_uuid_key(p.id): p for p in policies}
        self._policy_names = {p.name.lower(): _uuid_key(p.id) for p in policies}
        self._roles = {_uuid_key(r.id): r for r in roles}
        self._role_names = {r.name.lower(): _uuid_key(r.id) for r in roles}
        rules = [load_value(BindingRule, item) for item in data["BindingRules"]]
        self._rules = {_uuid_key(r.id): r for r in rules}
        methods = [load_value(AuthMethod, item) for item in data["AuthMethods"]]
        self._methods = {m.name.lower(): m for m in methods}
        self._index = {table: int(data["Index"].get(table, 0)) for table in _TABLES}
        self._bootstrap_index = int(data["BootstrapIndex"])
        self._expiry_changed()

    # -- bootstrap ---------------------------------------------------------------------------

    def can_bootstrap(self) -> tuple[bool, int]:
        """CanBootstrapACLToken: whether it is allowed, else the reset index."""
        if self._bootstrap_index == 0:
            return True, 0
        return False, self._bootstrap_index

    def bootstrap(self, token: Token) -> Token:
        """ACLBootstrap: insert the token and mark bootstrapping done, at one Raft index."""
        index = self._begin()
        if self._bootstrap_index:
            raise RPCError("ACL bootstrap no longer allowed")
        stored = self._token_set_txn(index, token)
        self._bootstrap_index = index
        self._commit(index, ACL_TOKENS)
        self._expiry_changed()
        return self._fix_token(stored)

    # -- policies ----------------------------------------------------------------------------

    def _policy_key(self, policy_id: str) -> bytes:
        try:
            return _uuid_key(policy_id)
        except LookupError as exc:
            raise RPCError(f"failed acl policy lookup: {exc}") from None

    def policy_by_id(self, policy_id: str) -> Policy | None:
        return self._policies.get(self._policy_key(policy_id))

    def policy_by_name(self, name: str) -> Policy | None:
        key = self._policy_names.get(name.lower())
        return self._policies[key] if key is not None else None

    def policy_get(self, policy_id: str = "", name: str = "") -> tuple[int, Policy | None]:
        """ACLPolicyGetByID / ByName: the table index and the policy."""
        policy = self.policy_by_id(policy_id) if policy_id else self.policy_by_name(name)
        return self._index[ACL_POLICIES], policy

    def policy_list(self) -> tuple[int, list[Policy]]:
        """ACLPolicyList, in ID order."""
        return self._index[ACL_POLICIES], [self._policies[k] for k in sorted(self._policies)]

    def policy_set(self, policy: Policy) -> Policy:
        """ACLPolicyBatchSet of one policy (aclPolicySetTxn)."""
        index = self._begin()
        if not policy.id:
            raise RPCError("Missing ACL Policy ID")
        if not policy.name:
            raise RPCError("Missing ACL Policy Name")
        key = self._policy_key(policy.id)
        existing = self._policies.get(key)
        if existing is not None and policy.id == GLOBAL_MANAGEMENT_ID:
            if policy.rules != GLOBAL_MANAGEMENT_RULES:
                raise RPCError(
                    "Changing the Rules for the builtin global-management policy is not permitted"
                )
            if policy.datacenters:
                raise RPCError(
                    "Changing the Datacenters of the builtin global-management policy is "
                    "not permitted"
                )
        match = self._policy_names.get(policy.name.lower())
        if match is not None and match != key:
            raise RPCError(f"A policy with name {strconv_quote(policy.name)} already exists")
        create = existing.create_index if existing is not None else index
        stored = replace(policy, create_index=create, modify_index=index)
        if existing is not None:
            del self._policy_names[existing.name.lower()]
        self._policies[key] = stored
        self._policy_names[stored.name.lower()] = key
        self._commit(index, ACL_POLICIES)
        return stored

    def policy_delete(self, policy_id: str) -> None:
        """ACLPolicyBatchDelete of one ID (a missing policy is a no-op)."""
        index = self._begin()
        key = self._policy_key(policy_id)
        policy = self._policies.get(key)
        if policy is None:
            return
        if policy.id == GLOBAL_MANAGEMENT_ID:
            raise RPCError("Deletion of the builtin global-management policy is not permitted")
        del self._policies[key]
        del self._policy_names[policy.name.lower()]
        self._commit(index, ACL_POLICIES)

    # -- roles -------------------------------------------------------------------------------

    def _role_key(self, role_id: str) -> bytes:
        try:
            return _uuid_key(role_id)
        except LookupError as exc:
            raise RPCError(f"failed acl role lookup: {exc}") from None

    def _fix_links(self, links: Iterable[Link]) -> tuple[Link, ...]:
        """fixupTokenPolicyLinks / fixupRolePolicyLinks: current names, deleted ones dropped."""
        out: list[Link] = []
        for link in links:
            policy = self._policies.get(_uuid_key(link.id))
            if policy is not None:
                out.append(Link(link.id, policy.name))
        return tuple(out)

    def _fix_role(self, role: Role) -> Role:
        return replace(role, policies=self._fix_links(role.policies))

    def role_by_id(self, role_id: str) -> Role | None:
        role = self._roles.get(self._role_key(role_id))
        return self._fix_role(role) if role is not None else None

    def role_by_name(self, name: str) -> Role | None:
        key = self._role_names.get(name.lower())
        return self._fix_role(self._roles[key]) if key is not None else None

    def role_get(self, role_id: str = "", name: str = "") -> tuple[int, Role | None]:
        role = self.role_by_id(role_id) if role_id else self.role_by_name(name)
        return self._index[ACL_ROLES], role

    def role_list(self, policy: str = "") -> tuple[int, list[Role]]:
        """ACLRoleList (by policy ID when given), in ID order."""
        roles = [self._roles[k] for k in sorted(self._roles)]
        if policy:
            roles = [r for r in roles if any(link.id == policy for link in r.policies)]
        return self._index[ACL_ROLES], [self._fix_role(r) for r in roles]

    def role_set(self, role: Role) -> Role:
        """ACLRoleBatchSet of one role (aclRoleSetTxn)."""
        index = self._begin()
        if not role.id:
            raise RPCError("Missing ACL Role ID")
        if not role.name:
            raise RPCError("Missing ACL Role Name")
        key = self._role_key(role.id)
        existing = self._roles.get(key)
        match = self._role_names.get(role.name.lower())
        if match is not None and match != key:
            raise RPCError(f"A role with name {strconv_quote(role.name)} already exists")
        links = []
        for link in role.policies:  # resolveRolePolicyLinks
            policy = self._policies.get(_uuid_key(link.id))
            if policy is None:
                raise RPCError(f"No such policy with ID: {link.id}")
            links.append(Link(link.id, policy.name))
        create = existing.create_index if existing is not None else index
        stored = replace(role, policies=tuple(links), create_index=create, modify_index=index)
        if existing is not None:
            del self._role_names[existing.name.lower()]
        self._roles[key] = stored
        self._role_names[stored.name.lower()] = key
        self._commit(index, ACL_ROLES)
        return self._fix_role(stored)

    def role_delete(self, role_id: str) -> None:
        index = self._begin()
        key = self._role_key(role_id)
        role = self._roles.pop(key, None)
        if role is None:
            return
        del self._role_names[role.name.lower()]
        self._commit(index, ACL_ROLES)

    # -- tokens ------------------------------------------------------------------------------

    def _fix_token(self, token: Token) -> Token:
        roles = []
        for link in token.roles:
            role = self._roles.get(_uuid_key(link.id))
            if role is not None:
                roles.append(Link(link.id, role.name))
        return replace(token, policies=self._fix_links(token.policies), roles=tuple(roles))

    def token_by_accessor(self, accessor: str) -> Token | None:
        try:
            key = _uuid_key(accessor)
        except LookupError as exc:
            raise RPCError(f"failed acl token lookup: {exc}") from None
        token = self._tokens.get(key)
        return self._fix_token(token) if token is not None else None

    def token_by_secret(self, secret: str) -> Token | None:
        key = self._by_secret.get(secret)
        return self._fix_token(self._tokens[key]) if key is not None else None

    def token_id_in_use(self, value: str) -> bool:
        """tokenIDInUse: an AccessorID or SecretID of some token."""
        if value in self._by_secret:
            return True
        try:
            return _uuid_key(value) in self._tokens
        except LookupError:
            return False

    def token_get(self, accessor: str = "", secret: str = "") -> tuple[int, Token | None]:
        token = self.token_by_accessor(accessor) if accessor else self.token_by_secret(secret)
        return self._index[ACL_TOKENS], token

    def token_list(
        self, *, policy: str = "", role: str = "", method: str = "", service: str = ""
    ) -> tuple[int, list[Token]]:
        """ACLTokenList: every token in SecretID order, or those of one policy, role, auth
        method or service name (at most one of them)."""
        if sum(1 for value in (policy, role, method, service) if value) > 1:
            raise RPCError(
                "can only filter by one of policy, role, serviceName, or authMethod at a time"
            )
        tokens = sorted(self._tokens.values(), key=lambda t: t.secret_id)
        if policy:
            tokens = [t for t in tokens if any(link.id == policy for link in t.policies)]
        elif role:
            tokens = [t for t in tokens if any(link.id == role for link in t.roles)]
        elif method:
            tokens = [t for t in tokens if t.auth_method.lower() == method.lower()]
        elif service:
            wanted = service.lower()
            tokens = [
                t for t in tokens
                if any(s.service_name.lower() == wanted for s in t.service_identities)
            ]
        return self._index[ACL_TOKENS], [self._fix_token(t) for t in tokens]

    def token_set(
        self, token: Token, *, allow_missing: bool = False, prohibit_unprivileged: bool = False
    ) -> Token:
        """ACLTokenBatchSet of one token (aclTokenSetTxn); returns it as read back."""
        index = self._begin()
        stored = self._token_set_txn(
            index, token, allow_missing=allow_missing,
            prohibit_unprivileged=prohibit_unprivileged,
        )
        self._commit(index, ACL_TOKENS)
        self._expiry_changed()
        return self._fix_token(stored)

    def _token_set_txn(
        self, index: int, token: Token, *, allow_missing: bool = False,
        prohibit_unprivileged: bool = False,
    ) -> Token:
        if not token.secret_id:
            raise RPCError("Missing ACL Token SecretID")
        if not token.accessor_id:
            raise RPCError("Missing ACL Token AccessorID")
        existing_key = self._by_secret.get(token.secret_id)
        original = self._tokens.get(existing_key) if existing_key is not None else None
        policies = []
        for link in token.policies:  # resolveTokenPolicyLinks
            policy = self._policies.get(_uuid_key(link.id))
            if policy is not None:
                policies.append(Link(link.id, policy.name))
            elif not allow_missing:
                raise RPCError(f"No such policy with ID: {link.id}")
        roles = []
        for link in token.roles:  # resolveTokenRoleLinks
            role = self._roles.get(_uuid_key(link.id))
            if role is not None:
                roles.append(Link(link.id, role.name))
            elif not allow_missing:
                raise RPCError(f"No such role with ID: {link.id}")
        if token.auth_method and token.auth_method.lower() not in self._methods:
            raise RPCError(f"No such auth method with Name: {token.auth_method}")
        if prohibit_unprivileged and not (
            roles or policies or token.service_identities or token.node_identities
            or token.templated_policies
        ):
            raise RPCError("Token has no privileges")  # ErrTokenHasNoPrivileges
        if original is not None:
            if token.accessor_id.lower() != original.accessor_id.lower():
                raise RPCError("The ACL Token AccessorID field is immutable")
            create = original.create_index
        else:
            create = index
        stored = replace(token, create_index=create, modify_index=index)
        if not stored.hash:
            stored = stored.with_hash()
        key = _uuid_key(stored.accessor_id)
        old = self._tokens.get(key)
        if old is not None and old.secret_id != stored.secret_id:
            del self._by_secret[old.secret_id]
        self._tokens[key] = stored
        self._by_secret[stored.secret_id] = key
        return stored

    def tokens_delete(self, accessors: Iterable[str]) -> None:
        """ACLTokenBatchDelete by AccessorID (missing ones are skipped)."""
        index = self._begin()
        self._tokens_delete_txn(accessors)
        self._commit(index, ACL_TOKENS)
        self._expiry_changed()

    def _tokens_delete_txn(self, accessors: Iterable[str]) -> None:
        for accessor in accessors:
            key = _uuid_key(accessor)
            token = self._tokens.get(key)
            if token is None:
                continue
            if token.accessor_id == ANONYMOUS_TOKEN_ID:
                raise RPCError("Deletion of the builtin anonymous token is not permitted")
            del self._tokens[key]
            del self._by_secret[token.secret_id]

    def next_expiration(self) -> int | None:
        """ACLTokenMinExpirationTime: when the next token expires (ns), None when none will."""
        times = [t.expiration_time.ns for t in self._tokens.values() if t.expiration_time]
        return min(times, default=None)

    def reap_expired(self) -> int:
        """The leader's token reaper: delete every expired token in one Raft entry."""
        now = self.now()
        doomed = [t.accessor_id for t in self._tokens.values() if t.expired(now)]
        if doomed:
            self.tokens_delete(doomed)
        else:
            self._expiry_changed()
        return len(doomed)

    # -- auth methods and binding rules ------------------------------------------------------

    def method_get(self, name: str) -> tuple[int, AuthMethod | None]:
        return self._index[ACL_AUTH_METHODS], self._methods.get(name.lower())

    def method_list(self) -> tuple[int, list[AuthMethod]]:
        methods = [self._methods[k] for k in sorted(self._methods)]
        return self._index[ACL_AUTH_METHODS], methods

    def method_set(self, method: AuthMethod) -> AuthMethod:
        index = self._begin()
        if not method.name:
            raise RPCError("Missing ACL Auth Method Name")
        if not method.type:
            raise RPCError("Missing ACL Auth Method Type")
        existing = self._methods.get(method.name.lower())
        create = existing.create_index if existing is not None else index
        stored = replace(method, create_index=create, modify_index=index)
        self._methods[method.name.lower()] = stored
        self._commit(index, ACL_AUTH_METHODS)
        return stored

    def method_delete(self, name: str) -> None:
        """aclAuthMethodDeleteTxn: its binding rules and its tokens go with it."""
        index = self._begin()
        method = self._methods.get(name.lower())
        if method is None:
            return
        tables = [ACL_AUTH_METHODS]
        rules = [k for k, r in self._rules.items() if r.auth_method.lower() == name.lower()]
        for key in rules:
            del self._rules[key]
        if rules:
            tables.append(ACL_BINDING_RULES)
        global_method = method.token_locality == "global"
        tokens = [
            t.accessor_id for t in self._tokens.values()
            if t.auth_method.lower() == name.lower() and (not t.local) == global_method
        ]
        if tokens:
            self._tokens_delete_txn(tokens)
            tables.append(ACL_TOKENS)
        del self._methods[name.lower()]
        self._commit(index, *tables)
        if tokens:
            self._expiry_changed()

    def _rule_key(self, rule_id: str) -> bytes:
        try:
            return _uuid_key(rule_id)
        except LookupError as exc:
            raise RPCError(f"failed acl binding rule lookup: {exc}") from None

    def rule_get(self, rule_id: str) -> tuple[int, BindingRule | None]:
        return self._index[ACL_BINDING_RULES], self._rules.get(self._rule_key(rule_id))

    def rule_list(self, method: str = "") -> tuple[int, list[BindingRule]]:
        rules = [self._rules[k] for k in sorted(self._rules)]
        if method:
            rules = [r for r in rules if r.auth_method.lower() == method.lower()]
        return self._index[ACL_BINDING_RULES], rules

    def rule_set(self, rule: BindingRule) -> BindingRule:
        index = self._begin()
        if not rule.id:
            raise RPCError("Missing ACL Binding Rule ID")
        if not rule.auth_method:
            raise RPCError("Missing ACL Binding Rule Auth Method")
        key = self._rule_key(rule.id)
        existing = self._rules.get(key)
        if rule.auth_method.lower() not in self._methods:
            raise RPCError("failed inserting acl binding rule: auth method not found")
        create = existing.create_index if existing is not None else index
        stored = replace(rule, create_index=create, modify_index=index)
        self._rules[key] = stored
        self._commit(index, ACL_BINDING_RULES)
        return stored

    def rule_delete(self, rule_id: str) -> None:
        index = self._begin()
        if self._rules.pop(self._rule_key(rule_id), None) is None:
            return
        self._commit(index, ACL_BINDING_RULES)




def initialize_acls(acls: ACLStore, initial_management: str | None) -> None:
    """The leader's initializeACLs (``agent/consul/leader.go``), primary datacenter.

    The builtin policies, then the configured initial management token (a bootstrap when
    bootstrapping is still possible, so the bootstrap API refuses afterwards), then the
    anonymous token; each write is a Raft entry of its own.
    """
    for policy_id, name, description, rules in BUILTIN_POLICIES:  # initializePolicy
        existing = acls.policy_by_id(policy_id)
        if existing is None or existing.rules != rules:
            if existing is not None:
                name, description = existing.name, existing.description
            acls.policy_set(Policy(policy_id, name, description, rules).with_hash())
    # initializeManagementToken("Initial Management Token", ...)
    if initial_management and acls.token_by_secret(initial_management) is None:
        token = Token(
            accessor_id=generate_uuid(acls.token_id_in_use),
            secret_id=initial_management,
            description="Initial Management Token",
            policies=(Link(GLOBAL_MANAGEMENT_ID),),
            create_time=GoTime.now(acls.now()),
        ).with_hash()
        if acls.can_bootstrap()[0]:
            acls.bootstrap(token)
        else:
            acls.token_set(token)
    if acls.token_by_secret(ANONYMOUS_SECRET) is None:  # insertAnonymousToken
        anonymous = Token(
            accessor_id=ANONYMOUS_TOKEN_ID,
            secret_id=ANONYMOUS_SECRET,
            description="Anonymous Token",
            create_time=GoTime.now(acls.now()),
        ).with_hash()
        acls.token_set(anonymous)
