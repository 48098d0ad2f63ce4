"""Authorizers and the enforcer a handler holds (``acl/authorizer.go``, ``static_authorizer.go``,
``chained_authorizer.go``).

Consul's ``acl.Authorizer`` has one method per question ("may this token read key k?"); here
each question is a :class:`Permission` and an :class:`Authorizer` answers
``decide(permission, name)`` with a :class:`Decision`, so static, chained and policy
authorizers each implement one method. An :class:`Enforcer` (Consul's ``AllowAuthorizer``)
pairs an authorizer with the token's AccessorID: ``require`` raises Consul's detailed
:class:`~.errors.PermissionDenied` and is the one line a handler writes where Consul checks;
``allows`` is what listing filters ask.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Final

from .errors import PermissionDenied

__all__ = [
    "ALLOW_ALL",
    "DENY_ALL",
    "MANAGE_ALL",
    "Authorizer",
    "ChainedAuthorizer",
    "Decision",
    "Enforcer",
    "Permission",
    "StaticAuthorizer",
]


class Decision(enum.IntEnum):
    """acl.EnforcementDecision: a rule denied, a rule allowed, or no rule matched."""

    DENY = 0
    ALLOW = 1
    DEFAULT = 2


class Permission(enum.Enum):
    """One question of ``acl.Authorizer``: its resource, access level, and how it is named.

    ``named`` questions take a resource name (a key, a service, a node...). The others are
    global; a few of those still name something in Consul's denial ("all nodes").
    """

    # value: (resource, access, named, fixed name in the denial, manage-only)
    ACL_READ = ("acl", "read", False, "", True)
    ACL_WRITE = ("acl", "write", False, "", True)
    AGENT_READ = ("agent", "read", True, "", False)
    AGENT_WRITE = ("agent", "write", True, "", False)
    EVENT_READ = ("event", "read", True, "", False)
    EVENT_WRITE = ("event", "write", True, "", False)
    INTENTION_DEFAULT_ALLOW = ("intention", "default", False, "", False)
    INTENTION_READ = ("intention", "read", True, "", False)
    INTENTION_WRITE = ("intention", "write", True, "", False)
    KEY_LIST = ("key", "list", True, "", False)
    KEY_READ = ("key", "read", True, "", False)
    KEY_WRITE = ("key", "write", True, "", False)
    KEY_WRITE_PREFIX = ("key", "write-prefix", True, "", False)
    KEYRING_READ = ("keyring", "read", False, "", False)
    KEYRING_WRITE = ("keyring", "write", False, "", False)
    MESH_READ = ("mesh", "read", False, "", False)
    MESH_WRITE = ("mesh", "write", False, "", False)
    PEERING_READ = ("peering", "read", False, "", False)
    PEERING_WRITE = ("peering", "write", False, "", False)
    NODE_READ = ("node", "read", True, "", False)
    NODE_READ_ALL = ("node", "read-all", False, "all nodes", False)
    NODE_WRITE = ("node", "write", True, "", False)
    OPERATOR_READ = ("operator", "read", False, "", False)
    OPERATOR_WRITE = ("operator", "write", False, "", False)
    QUERY_READ = ("query", "read", True, "", False)
    QUERY_WRITE = ("query", "write", True, "", False)
    SERVICE_READ = ("service", "read", True, "", False)
    SERVICE_READ_ALL = ("service", "read-all", False, "all services", False)
    SERVICE_WRITE = ("service", "write", True, "", False)
    SERVICE_WRITE_ANY = ("service", "write-any", False, "any service", False)
    SESSION_READ = ("session", "read", True, "", False)
    SESSION_WRITE = ("session", "write", True, "", False)
    SNAPSHOT = ("acl", "snapshot", False, "", True)

    @property
    def resource(self) -> str:
        return str(self.value[0])

    @property
    def access(self) -> str:
        return str(self.value[1])

    @property
    def named(self) -> bool:
        return bool(self.value[2])

    @property
    def label(self) -> str:
        return str(self.value[3])

    @property
    def manage(self) -> bool:
        """StaticAuthorizer answers it with allowManage, not defaultAllow."""
        return bool(self.value[4])

    def denial(self, name: str, accessor: str) -> PermissionDenied:
        """The AllowAuthorizer's ``*Allowed`` error for this question."""
        if self is Permission.INTENTION_DEFAULT_ALLOW:
            return PermissionDenied(cause="Denied by intention default")
        access = self.access
        if access in ("read-all", "write-prefix", "write-any"):
            access = access.partition("-")[0]
        resource, access = ("acl", "write") if self is Permission.SNAPSHOT else (
            self.resource, access)
        return PermissionDenied(resource, access, self.label or name, accessor=accessor)


class Authorizer:
    """acl.Authorizer: answers every :class:`Permission` question with a :class:`Decision`."""

    def decide(self, permission: Permission, name: str = "") -> Decision:
        raise NotImplementedError


class StaticAuthorizer(Authorizer):
    """acl.StaticAuthorizer: allow or deny everything; management questions apart."""

    __slots__ = ("allow_manage", "default_allow")

    def __init__(self, *, allow_manage: bool, default_allow: bool) -> None:
        self.allow_manage = allow_manage
        self.default_allow = default_allow

    def decide(self, permission: Permission, name: str = "") -> Decision:
        allowed = self.allow_manage if permission.manage else self.default_allow
        return Decision.ALLOW if allowed else Decision.DENY


#: acl.AllowAll (a default policy of "allow"), acl.DenyAll, acl.ManageAll (ACLs disabled).
ALLOW_ALL: Final = StaticAuthorizer(allow_manage=False, default_allow=True)
DENY_ALL: Final = StaticAuthorizer(allow_manage=False, default_allow=False)
MANAGE_ALL: Final = StaticAuthorizer(allow_manage=True, default_allow=True)


class ChainedAuthorizer(Authorizer):
    """acl.ChainedAuthorizer: the first decision that is not DEFAULT; DENY when all are."""

    __slots__ = ("chain",)

    def __init__(self, chain: Sequence[Authorizer]) -> None:
        self.chain = tuple(chain)

    def decide(self, permission: Permission, name: str = "") -> Decision:
        for authorizer in self.chain:
            decision = authorizer.decide(permission, name)
            if decision is not Decision.DEFAULT:
                return decision
        return Decision.DENY


class Enforcer:
    """acl.AllowAuthorizer: an authorizer with the AccessorID its denials name.

    ``accessor`` is the token's AccessorID ("" with ACLs off). ``secret`` is the SecretID the
    request presented (resolution keeps it for endpoints that act on "this token").
    """

    __slots__ = ("accessor", "authorizer", "secret")

    def __init__(self, authorizer: Authorizer, accessor: str = "", secret: str = "") -> None:
        self.authorizer = authorizer
        self.accessor = accessor
        self.secret = secret

    def decide(self, permission: Permission, name: str = "") -> Decision:
        return self.authorizer.decide(permission, name)

    def allows(self, permission: Permission, name: str = "") -> bool:
        return self.authorizer.decide(permission, name) is Decision.ALLOW

    def require(self, permission: Permission, name: str = "") -> None:
        """The ``*Allowed`` check: Consul's detailed PermissionDenied unless ALLOW."""
        if self.authorizer.decide(permission, name) is not Decision.ALLOW:
            raise permission.denial(name, self.accessor)

    def require_plain(self, permission: Permission, name: str = "") -> None:
        """The older ``!= acl.Allow { return acl.ErrPermissionDenied }`` form: a bare denial."""
        if self.authorizer.decide(permission, name) is not Decision.ALLOW:
            raise PermissionDenied()

    def __repr__(self) -> str:  # never the secret
        return f"Enforcer(accessor={self.accessor!r}, authorizer={self.authorizer!r})"
