"""A request's token to the :class:`~.authorizer.Enforcer` its handler checks with.

Consul's ``ACLResolver.ResolveToken`` (``agent/consul/acl.go``): with ACLs disabled every token
(and none) resolves to ``acl.ManageAll()``, so the permission lines in the handlers are always
run and never refuse. With ACLs enabled a token resolves to its policies, chained with the
default policy's authorizer; an unknown or expired one is :class:`~.errors.ACLNotFound`.
"""

from __future__ import annotations

from .authorizer import MANAGE_ALL, Enforcer

__all__ = ["Resolver"]


class Resolver:
    """Resolves SecretIDs; this base is Consul with ``acl.enabled = false``."""

    #: acl.enabled
    enabled: bool = False
    #: acl.default_policy, also sent as X-Consul-Default-ACL-Policy on every answer
    default_policy: str = "allow"

    def resolve(self, secret: str) -> Enforcer:
        """ACLResolver.ResolveToken: ACLs disabled resolve everything to ManageAll."""
        return Enforcer(MANAGE_ALL, "", secret)
