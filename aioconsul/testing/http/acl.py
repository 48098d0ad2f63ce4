"""The token a request carries and the enforcer it resolves to (``agent/http.go``).

A handler calls :func:`authorize` where Consul's RPC endpoint resolves the token (after the
HTTP layer's 400s and the forwarding), then states its permission in one line::

    authz = authorize(api, ctx)
    authz.require(Permission.KEY_WRITE, key)

Listings go through a filter of :mod:`aioconsul.testing.acl.filter` and hand its "hidden"
flag to :func:`~aioconsul.testing.http.query.set_meta`.
"""

from __future__ import annotations

from ..acl.authorizer import Enforcer
from ..backend import Backend
from .reply import Context

__all__ = ["authorize", "request_token"]


def request_token(api: Backend, ctx: Context) -> str:
    """parseTokenWithDefault: ``?token=``, then X-Consul-Token, then ``Authorization: Bearer``;
    without one, the agent's default (user) token."""
    token = ctx.query.get("token")
    if not token:
        token = ctx.request.headers.get("X-Consul-Token", "")
    if not token:
        parts = ctx.request.headers.get("Authorization", "").split(" ")
        # "<Scheme> <Value>": only a Bearer scheme counts, and only the value's first word.
        if len(parts) > 1 and parts[0].lower() == "bearer":
            token = " ".join(parts[1:]).strip().split(" ")[0].strip()
    return token or api.tokens.user()


def authorize(api: Backend, ctx: Context) -> Enforcer:
    """ResolveTokenAndDefaultMeta for the request's token (ACLNotFound when it is unknown)."""
    return api.acl.resolve(request_token(api, ctx))
