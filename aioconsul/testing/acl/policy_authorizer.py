"""The authorizer a token's policies compile to (Consul's ``acl/policy_authorizer.go``, CE).

Every named resource keeps its rules in a tree keyed by name, one leaf per name holding the
exact rule and the prefix rule for it (Consul uses ``armon/go-radix``). A question about a
name walks the names that are prefixes of it, shortest first: an exact rule for the name
itself wins, otherwise the longest prefix rule decides; no rule is :attr:`Decision.DEFAULT`,
which the chain hands to the next authorizer (the default policy). Then the special cases:

* ``list`` grants list and read, ``write`` everything, ``deny`` nothing;
* KeyWritePrefix needs write on the longest prefix rule *and* no rule under the prefix that
  does not grant write (exact or prefix);
* intention rules are derived from service rules: ``intentions`` when given, else ``read``
  for a service rule of ``read``/``write`` and ``deny`` otherwise; IntentionRead of ``*`` is
  "any rule allows", IntentionWrite of ``*`` "no rule denies";
* NodeReadAll / ServiceReadAll: no node / service rule denies read (a ``""`` prefix rule
  decides first); ServiceWriteAny: some service rule grants write;
* Mesh and Peering fall back to the operator rule; Snapshot is ``acl = "write"``;
  IntentionDefaultAllow is never decided by a policy.

Peer-imported names (``AuthorizerContext.Peer``) are not modelled: the dev agent has no peers.
Pure code, no I/O.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator, Sequence
from typing import Final

from ..golang.stdlib import strconv_quote
from .authorizer import Authorizer, Decision, Permission
from .policy import Policy, PolicyError, merge_policies

__all__ = [
    "AccessLevel",
    "PolicyAuthorizer",
    "access_level",
    "authorizer_for",
]


class AccessLevel(enum.IntEnum):
    """acl.AccessLevel."""

    UNKNOWN = 0
    DENY = 1
    READ = 2
    LIST = 3
    WRITE = 4


_LEVELS: Final = {"deny": AccessLevel.DENY, "read": AccessLevel.READ,
                  "list": AccessLevel.LIST, "write": AccessLevel.WRITE}


def access_level(level: str) -> AccessLevel:
    """acl.AccessLevelFromString (case-insensitive); PolicyError with Consul's text."""
    try:
        return _LEVELS[level.lower()]
    except KeyError:
        raise PolicyError(f"{strconv_quote(level)} is not a valid access level") from None


def _enforce(rule: AccessLevel, required: AccessLevel) -> Decision:
    """enforce: what a rule's access level answers to a required one."""
    if rule is AccessLevel.WRITE:
        return Decision.ALLOW
    if rule is AccessLevel.LIST:
        return Decision.ALLOW if required in (AccessLevel.LIST, AccessLevel.READ) else Decision.DENY
    if rule is AccessLevel.READ:
        return Decision.ALLOW if required is AccessLevel.READ else Decision.DENY
    if rule is AccessLevel.DENY:
        return Decision.DENY
    return Decision.DEFAULT


class _Leaf:
    """policyAuthorizerRadixLeaf: the exact and the prefix rule for one name."""

    __slots__ = ("exact", "prefix")

    def __init__(self) -> None:
        self.exact: AccessLevel | None = None
        self.prefix: AccessLevel | None = None


class _Tree:
    """The radix tree's observable behaviour: Get, WalkPath, WalkPrefix, Walk."""

    __slots__ = ("_leaves", "_lengths")

    def __init__(self) -> None:
        self._leaves: dict[str, _Leaf] = {}
        self._lengths: list[int] = []

    def insert(self, segment: str, access: AccessLevel, *, prefix: bool) -> None:
        """insertPolicyIntoRadix: set one half of the name's leaf (a later rule replaces)."""
        leaf = self._leaves.get(segment)
        if leaf is None:
            leaf = self._leaves[segment] = _Leaf()
            if len(segment) not in self._lengths:
                self._lengths.append(len(segment))
                self._lengths.sort()
        if prefix:
            leaf.prefix = access
        else:
            leaf.exact = access

    def get(self, segment: str) -> _Leaf | None:
        return self._leaves.get(segment)

    def walk_path(self, segment: str) -> Iterator[tuple[str, _Leaf]]:
        """The stored names that are prefixes of ``segment``, shortest first."""
        for length in self._lengths:
            if length > len(segment):
                break
            path = segment[:length]
            leaf = self._leaves.get(path)
            if leaf is not None:
                yield path, leaf

    def walk_prefix(self, prefix: str) -> Iterator[_Leaf]:
        """The leaves of every stored name starting with ``prefix`` (itself included)."""
        for name in sorted(self._leaves):
            if name.startswith(prefix):
                yield self._leaves[name]

    def walk(self) -> Iterator[_Leaf]:
        for name in sorted(self._leaves):
            yield self._leaves[name]


def _get_policy(segment: str, tree: _Tree) -> AccessLevel | None:
    """getPolicy: the exact rule for ``segment``, else the longest prefix rule."""
    found = None
    for path, leaf in tree.walk_path(segment):
        if leaf.exact is not None and path == segment:
            return leaf.exact
        if leaf.prefix is not None:
            found = leaf.prefix
    return found


def _any_allowed(tree: _Tree, required: AccessLevel) -> Decision:
    """anyAllowed: ALLOW if some rule grants ``required``; a ``""`` prefix rule sets the
    fallback (DENY or DEFAULT)."""

    def leaf_decision(leaf: _Leaf, prefix_only: bool) -> Decision:
        decision = Decision.DEFAULT
        if leaf.prefix is not None:
            decision = _enforce(leaf.prefix, required)
        if prefix_only or decision is Decision.ALLOW or leaf.exact is None:
            return decision
        return _enforce(leaf.exact, required)

    return _scan(tree, leaf_decision, Decision.ALLOW)


def _all_allowed(tree: _Tree, required: AccessLevel) -> Decision:
    """allAllowed: DENY if some rule refuses ``required``; else what a ``""`` prefix rule
    says (ALLOW), DEFAULT without one."""

    def leaf_decision(leaf: _Leaf, prefix_only: bool) -> Decision:
        prefix_decision = Decision.DEFAULT
        if leaf.prefix is not None:
            prefix_decision = _enforce(leaf.prefix, required)
        if prefix_only or prefix_decision is Decision.DENY or leaf.exact is None:
            return prefix_decision
        decision = _enforce(leaf.exact, required)
        return prefix_decision if decision is Decision.DEFAULT else decision

    return _scan(tree, leaf_decision, Decision.DENY)


def _scan(
    tree: _Tree, leaf_decision: Callable[[_Leaf, bool], Decision], stop: Decision
) -> Decision:
    """The walk anyAllowed and allAllowed share: the ``""`` rule (prefix only) first, then
    every rule; the first leaf that answers ``stop`` decides, else the ``""`` rule's answer."""
    decision = Decision.DEFAULT
    root = tree.get("")
    if root is not None:
        decision = leaf_decision(root, True)
        if decision is stop:
            return stop
    for leaf in tree.walk():
        if leaf_decision(leaf, False) is stop:
            return stop
    return decision


def _derived_intention(policy: str, intentions: str) -> str:
    """A service rule's intention rule when it names none (exact comparison, as Consul)."""
    if intentions:
        return intentions
    return "read" if policy in ("read", "write") else "deny"


class PolicyAuthorizer(Authorizer):
    """acl.policyAuthorizer for one (already merged) :class:`~.policy.Policy`.

    Built like ``newPolicyAuthorizerFromRules``: rules are loaded in Consul's order and a later
    rule for the same name and kind replaces an earlier one (merging first, as
    :func:`authorizer_for` does, leaves one per name). An access level Consul cannot read is
    :class:`~.policy.PolicyError` (``"x" is not a valid access level``).
    """

    __slots__ = ("_acl", "_agents", "_events", "_intentions", "_keyring", "_keys", "_mesh",
                 "_nodes", "_operator", "_peering", "_queries", "_services", "_sessions")

    def __init__(self, policy: Policy) -> None:
        self._agents, self._intentions, self._keys = _Tree(), _Tree(), _Tree()
        self._nodes, self._services, self._sessions = _Tree(), _Tree(), _Tree()
        self._events, self._queries = _Tree(), _Tree()
        for tree, exact, prefixes in (
            (self._agents, [(r.node, r.policy) for r in policy.agents],
             [(r.node, r.policy) for r in policy.agent_prefixes]),
            (self._keys, [(r.prefix, r.policy) for r in policy.keys],
             [(r.prefix, r.policy) for r in policy.key_prefixes]),
            (self._nodes, [(r.name, r.policy) for r in policy.nodes],
             [(r.name, r.policy) for r in policy.node_prefixes]),
        ):
            _load(tree, exact, prefixes)
        for services, is_prefix in ((policy.services, False), (policy.service_prefixes, True)):
            for service in services:
                self._services.insert(service.name, access_level(service.policy),
                                      prefix=is_prefix)
                intention = _derived_intention(service.policy, service.intentions)
                self._intentions.insert(service.name, access_level(intention), prefix=is_prefix)
        for tree, exact, prefixes in (
            (self._sessions, [(r.node, r.policy) for r in policy.sessions],
             [(r.node, r.policy) for r in policy.session_prefixes]),
            (self._events, [(r.event, r.policy) for r in policy.events],
             [(r.event, r.policy) for r in policy.event_prefixes]),
            (self._queries, [(r.prefix, r.policy) for r in policy.prepared_queries],
             [(r.prefix, r.policy) for r in policy.prepared_query_prefixes]),
        ):
            _load(tree, exact, prefixes)
        self._acl = _single(policy.acl)
        self._keyring = _single(policy.keyring)
        self._operator = _single(policy.operator)
        self._mesh = _single(policy.mesh)
        self._peering = _single(policy.peering)

    def decide(self, permission: Permission, name: str = "") -> Decision:
        return _DECIDERS[permission](self, name)

    # -- the questions, as policy_authorizer.go answers them ------------------------------

    def _named(self, tree: _Tree, name: str, required: AccessLevel) -> Decision:
        rule = _get_policy(name, tree)
        return Decision.DEFAULT if rule is None else _enforce(rule, required)

    @staticmethod
    def _global(rule: AccessLevel | None, required: AccessLevel) -> Decision:
        return Decision.DEFAULT if rule is None else _enforce(rule, required)

    def _mesh_or_operator(self, rule: AccessLevel | None, required: AccessLevel) -> Decision:
        return self._global(self._operator if rule is None else rule, required)

    def _intention(self, name: str, required: AccessLevel) -> Decision:
        if name == "*":
            if required is AccessLevel.READ:
                return _any_allowed(self._intentions, AccessLevel.READ)
            return _all_allowed(self._intentions, AccessLevel.WRITE)
        return self._named(self._intentions, name, required)

    def _key_write_prefix(self, prefix: str) -> Decision:
        base = Decision.DEFAULT
        for _path, leaf in self._keys.walk_path(prefix):
            if leaf.prefix is not None:
                base = Decision.ALLOW if leaf.prefix is AccessLevel.WRITE else Decision.DENY
        if base is Decision.DENY:
            return Decision.DENY
        for leaf in self._keys.walk_prefix(prefix):
            if leaf.prefix is not None and leaf.prefix is not AccessLevel.WRITE:
                return Decision.DENY
            if leaf.exact is not None and leaf.exact is not AccessLevel.WRITE:
                return Decision.DENY
        return base

    def __repr__(self) -> str:
        return "PolicyAuthorizer()"


def _load(tree: _Tree, exact: list[tuple[str, str]], prefixes: list[tuple[str, str]]) -> None:
    for name, policy in exact:
        tree.insert(name, access_level(policy), prefix=False)
    for name, policy in prefixes:
        tree.insert(name, access_level(policy), prefix=True)


def _single(policy: str) -> AccessLevel | None:
    return access_level(policy) if policy else None


_R, _L, _W = AccessLevel.READ, AccessLevel.LIST, AccessLevel.WRITE
_P = PolicyAuthorizer

_DECIDERS: Final[dict[Permission, Callable[[PolicyAuthorizer, str], Decision]]] = {
    Permission.ACL_READ: lambda a, _: _P._global(a._acl, _R),
    Permission.ACL_WRITE: lambda a, _: _P._global(a._acl, _W),
    Permission.SNAPSHOT: lambda a, _: _P._global(a._acl, _W),
    Permission.AGENT_READ: lambda a, n: a._named(a._agents, n, _R),
    Permission.AGENT_WRITE: lambda a, n: a._named(a._agents, n, _W),
    Permission.EVENT_READ: lambda a, n: a._named(a._events, n, _R),
    Permission.EVENT_WRITE: lambda a, n: a._named(a._events, n, _W),
    Permission.INTENTION_DEFAULT_ALLOW: lambda a, _: Decision.DEFAULT,
    Permission.INTENTION_READ: lambda a, n: a._intention(n, _R),
    Permission.INTENTION_WRITE: lambda a, n: a._intention(n, _W),
    Permission.KEY_LIST: lambda a, n: a._named(a._keys, n, _L),
    Permission.KEY_READ: lambda a, n: a._named(a._keys, n, _R),
    # CE's enterprise check answers DEFAULT, which defaultIsAllow turns into ALLOW.
    Permission.KEY_WRITE: lambda a, n: a._named(a._keys, n, _W),
    Permission.KEY_WRITE_PREFIX: lambda a, n: a._key_write_prefix(n),
    Permission.KEYRING_READ: lambda a, _: _P._global(a._keyring, _R),
    Permission.KEYRING_WRITE: lambda a, _: _P._global(a._keyring, _W),
    Permission.MESH_READ: lambda a, _: a._mesh_or_operator(a._mesh, _R),
    Permission.MESH_WRITE: lambda a, _: a._mesh_or_operator(a._mesh, _W),
    Permission.PEERING_READ: lambda a, _: a._mesh_or_operator(a._peering, _R),
    Permission.PEERING_WRITE: lambda a, _: a._mesh_or_operator(a._peering, _W),
    Permission.NODE_READ: lambda a, n: a._named(a._nodes, n, _R),
    Permission.NODE_READ_ALL: lambda a, _: _all_allowed(a._nodes, _R),
    Permission.NODE_WRITE: lambda a, n: a._named(a._nodes, n, _W),
    Permission.OPERATOR_READ: lambda a, _: _P._global(a._operator, _R),
    Permission.OPERATOR_WRITE: lambda a, _: _P._global(a._operator, _W),
    Permission.QUERY_READ: lambda a, n: a._named(a._queries, n, _R),
    Permission.QUERY_WRITE: lambda a, n: a._named(a._queries, n, _W),
    Permission.SERVICE_READ: lambda a, n: a._named(a._services, n, _R),
    Permission.SERVICE_READ_ALL: lambda a, _: _all_allowed(a._services, _R),
    Permission.SERVICE_WRITE: lambda a, n: a._named(a._services, n, _W),
    Permission.SERVICE_WRITE_ANY: lambda a, _: _any_allowed(a._services, _W),
    Permission.SESSION_READ: lambda a, n: a._named(a._sessions, n, _R),
    Permission.SESSION_WRITE: lambda a, n: a._named(a._sessions, n, _W),
}


def authorizer_for(policies: Sequence[Policy]) -> Authorizer:
    """acl.NewPolicyAuthorizer: the policies merged (:func:`~.policy.merge_policies`), then
    compiled. Chain it before the default policy's authorizer, as
    ``NewPolicyAuthorizerWithDefaults`` does."""
    return PolicyAuthorizer(merge_policies(policies))
