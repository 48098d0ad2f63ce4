"""A request's token to the :class:`~.authorizer.Enforcer` its handler checks with.

Consul's ``ACLResolver.ResolveToken`` (``agent/consul/acl.go``): with ACLs disabled every token
(and none) resolves to ``acl.ManageAll()``, so the permission lines in the handlers are always
run and never refuse. With ACLs enabled (:class:`ACLResolver`) a SecretID resolves to its
token; the token to its policies, roles, service and node identities and templated policies;
those to one compiled authorizer, chained with the default policy's authorizer. An unknown or
expired token is :class:`~.errors.ACLNotFound`.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING, Any, Final

from ..golang.stdlib import strconv_quote
from ..state.acl import (
    ANONYMOUS_SECRET,
    GLOBAL_MANAGEMENT_ID,
    ACLStore,
    NodeIdentity,
    Policy,
    ServiceIdentity,
    TemplatedPolicy,
    Token,
    synthetic_policy,
)
from ..state.memdb import RPCError
from .authorizer import ALLOW_ALL, DENY_ALL, MANAGE_ALL, Authorizer, ChainedAuthorizer, Enforcer
from .errors import ACLNotFound

if TYPE_CHECKING:
    from ..local.tokens import AgentTokens

__all__ = [
    "ACLResolver",
    "Resolver",
    "identity_policies",
    "node_identity_policy",
    "service_identity_policy",
    "templated_policy_policy",
]

#: acl.RootAuthorizer's names: a token may not be one of them (acl.ErrRootDenied).
_ROOT_NAMES: Final = frozenset({"allow", "deny", "manage"})


class Resolver:
    """Resolves SecretIDs; this base is Consul with ``acl.enabled = false``."""

    #: acl.enabled
    enabled: bool = False
    #: acl.default_policy, also sent as X-Consul-Default-ACL-Policy on every answer
    default_policy: str = "allow"
    #: acl.down_policy
    down_policy: str = "extend-cache"

    def resolve(self, secret: str) -> Enforcer:
        """ACLResolver.ResolveToken: ACLs disabled resolve everything to ManageAll."""
        return Enforcer(MANAGE_ALL, "", secret)

    def purge(self) -> None:
        """Drop every cached authorizer (the state was replaced by a snapshot restore)."""


# -- synthetic policies ----------------------------------------------------------------------


def service_identity_policy(identity: ServiceIdentity) -> Policy:
    """ACLServiceIdentity.SyntheticPolicy."""
    from .identities import service_identity_rules

    rules = service_identity_rules(identity.service_name)
    description = f"synthetic policy for service identity {strconv_quote(identity.service_name)}"
    return synthetic_policy(rules, description, identity.datacenters)


def node_identity_policy(identity: NodeIdentity) -> Policy:
    """ACLNodeIdentity.SyntheticPolicy: valid in the node's datacenter only."""
    from .identities import node_identity_rules

    rules = node_identity_rules(identity.node_name, identity.datacenter)
    description = f"synthetic policy for node identity {strconv_quote(identity.node_name)}"
    return synthetic_policy(rules, description, (identity.datacenter,))


def templated_policy_policy(templated: TemplatedPolicy) -> Policy:
    """ACLTemplatedPolicy.SyntheticPolicy."""
    from .identities import render_templated_policy

    rules = render_templated_policy(templated.template_name, templated.variables)
    description = f"synthetic policy generated from templated policy: {templated.template_name}"
    return synthetic_policy(rules, description, templated.datacenters)


def _dedupe_services(items: Sequence[ServiceIdentity]) -> list[ServiceIdentity]:
    """ACLServiceIdentities.Deduplicate: one per name, datacenters merged and sorted."""
    merged: dict[str, set[str]] = {}
    for item in items:
        merged.setdefault(item.service_name, set()).update(item.datacenters)
    return [ServiceIdentity(name, tuple(sorted(dcs))) for name, dcs in merged.items()]


def identity_policies(acls: ACLStore, token: Token) -> tuple[list[Policy], list[Policy]]:
    """resolvePoliciesForIdentity's inputs: the token's (and its roles') stored policies and
    the synthetic policies of their identities, before the datacenter scope filter."""
    policy_ids = [link.id for link in token.policies]
    services = list(token.service_identities)
    nodes = list(token.node_identities)
    templated = list(token.templated_policies)
    for link in token.roles:
        role = acls.role_by_id(link.id)
        if role is None:
            continue
        policy_ids += [p.id for p in role.policies]
        services += role.service_identities
        nodes += role.node_identities
        templated += role.templated_policies
    stored: list[Policy] = []
    seen: set[str] = set()
    for policy_id in policy_ids:
        policy = acls.policy_by_id(policy_id)
        if policy is not None and policy.id not in seen:
            seen.add(policy.id)
            stored.append(policy)
    synthetic = [service_identity_policy(s) for s in _dedupe_services(services)]
    synthetic += [node_identity_policy(n) for n in dict.fromkeys(nodes)]
    synthetic += [templated_policy_policy(t) for t in templated]
    return stored, synthetic


# -- the enabled resolver --------------------------------------------------------------------


class ACLResolver(Resolver):
    """Consul's server-side ACLResolver over the state's ACL tables (``acl.enabled = true``).

    Compiled authorizers are cached by what decides them: each policy's ID and content hash
    (a policy edit changes its hash); parsed policies by their hash. Token, role and policy
    lookups are not cached: they are dictionary reads, and a revoked token must stop
    resolving at once.
    """

    enabled = True

    def __init__(
        self,
        acls: ACLStore,
        tokens: AgentTokens,
        *,
        datacenter: str,
        node_name: str,
        default_policy: str = "allow",
        down_policy: str = "extend-cache",
    ) -> None:
        if default_policy not in ("allow", "deny"):
            raise ValueError(f"invalid ACL default policy {default_policy!r}: allow or deny")
        if down_policy not in ("allow", "deny", "extend-cache", "async-cache"):
            raise ValueError(f"invalid ACL down policy {down_policy!r}")  # NewACLResolver
        self.acls = acls
        self.tokens = tokens
        self.datacenter = datacenter
        self.node_name = node_name
        self.default_policy = default_policy
        self.down_policy = down_policy
        self._parsed: dict[bytes, Any] = {}
        self._compiled: dict[Hashable, Authorizer] = {}
        self._recovery: Authorizer | None = None

    def purge(self) -> None:
        """Drop the parsed policies and compiled authorizers (a snapshot was restored)."""
        self._parsed.clear()
        self._compiled.clear()

    @property
    def default_authorizer(self) -> Authorizer:
        """acl.RootAuthorizer(default_policy)."""
        return ALLOW_ALL if self.default_policy == "allow" else DENY_ALL

    def resolve(self, secret: str) -> Enforcer:
        """ResolveToken: root names refused, "" is the anonymous token, then the agent's
        recovery token, then the state's tokens (unknown or expired: ACL not found)."""
        if secret in _ROOT_NAMES:
            raise RPCError("Cannot resolve root ACL")  # acl.ErrRootDenied
        if not secret:
            secret = ANONYMOUS_SECRET
        recovery = self.tokens.agent_recovery
        if recovery and secret == recovery:
            # resolveLocallyManagedToken: AgentRecoveryTokenIdentity, agentRecoveryAuthorizer
            return Enforcer(self._recovery_authorizer(), f"agent-recovery:{self.node_name}", secret)
        token = self.acls.token_by_secret(secret)
        if token is None or token.expired(self.acls.now()):
            raise ACLNotFound()
        return Enforcer(self.authorizer_for_token(token), token.accessor_id, secret)

    def authorizer_for_token(self, token: Token) -> Authorizer:
        """resolvePoliciesForIdentity + Compile + the default policy at the end of the chain."""
        stored, synthetic = identity_policies(self.acls, token)
        policies = self._in_scope([*stored, *synthetic])
        if any(p.id == GLOBAL_MANAGEMENT_ID for p in policies):
            return MANAGE_ALL  # its rules grant every permission, and may not be changed
        return ChainedAuthorizer([self._compile(policies), self.default_authorizer])

    def _in_scope(self, policies: Sequence[Policy]) -> list[Policy]:
        """filterPoliciesByScope: a policy with Datacenters applies only in those."""
        return [
            p for p in policies if not p.datacenters or self.datacenter in p.datacenters
        ]

    def _compile(self, policies: Sequence[Policy]) -> Authorizer:
        """ACLPolicies.Compile, cached by the policies' IDs and hashes."""
        key = tuple((p.id, p.hash) for p in policies)
        cached = self._compiled.get(key)
        if cached is not None:
            return cached
        from .policy_authorizer import authorizer_for

        compiled = authorizer_for([self._parse(p) for p in policies])
        if len(self._compiled) > 1024:
            self._compiled.clear()
        self._compiled[key] = compiled
        return compiled

    def _parse(self, policy: Policy) -> Any:
        parsed = self._parsed.get(policy.hash)
        if parsed is None:
            from .policy import parse_policy

            try:
                # stored rules parse leniently (acl.Config.WarnOnDuplicateKey)
                parsed = parse_policy(policy.rules, warn_on_duplicate_key=True)
            except ValueError as exc:  # a stored policy always parsed once
                raise RPCError(
                    f'failed to parse the ACL policies: failed to parse "{policy.name}": {exc}'
                ) from None
            if len(self._parsed) > 4096:
                self._parsed.clear()
            self._parsed[policy.hash] = parsed
        return parsed

    def _recovery_authorizer(self) -> Authorizer:
        """agentRecoveryAuthorizer: write on this agent, read on every node, deny the rest."""
        if self._recovery is None:
            from .policy import parse_policy
            from .policy_authorizer import authorizer_for

            rules = (
                f'agent "{self.node_name}" {{\n  policy = "write"\n}}\n'
                'node_prefix "" {\n  policy = "read"\n}\n'
            )
            self._recovery = ChainedAuthorizer([authorizer_for([parse_policy(rules)]), DENY_ALL])
        return self._recovery
