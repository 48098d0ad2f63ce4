"""The authorization seam with ACLs on, driven by the ``grants`` fixture (no ACL system).

``agent/http.go`` (wrap) answers an ACL error with 403 and its text; ``acl/errors.go`` gives
the texts; X-Consul-Default-ACL-Policy carries ``acl.default_policy`` on every answer.
"""

from __future__ import annotations

from aioconsul.testing.acl.authorizer import Permission

from .conftest import Api, GrantResolver


async def test_acls_off_sends_the_allow_default_policy(api: Api) -> None:
    reply = await api.get("/v1/status/leader")
    assert reply.headers["X-Consul-Default-ACL-Policy"] == "allow"


async def test_the_default_policy_header_follows_the_resolver(
    api: Api, grants: GrantResolver
) -> None:
    reply = await api.get("/v1/status/leader")
    assert reply.headers["X-Consul-Default-ACL-Policy"] == "deny"


async def test_an_unknown_token_is_acl_not_found(api: Api, grants: GrantResolver) -> None:
    """acl.ErrNotFound ("ACL not found") for a SecretID no token has: 403 (isForbidden)."""
    reply = await api.put("/v1/kv/foo", b"x", headers={"X-Consul-Token": "nope"})
    assert (reply.status, reply.text) == (403, "ACL not found")


async def test_a_denied_write_names_accessor_permission_and_key(
    api: Api, grants: GrantResolver
) -> None:
    """PermissionDeniedByACL: "token with AccessorID '<id>' lacks permission 'key:write' on
    "<key>"" (acl/errors.go, PermissionDeniedError.Error; the name quoted with %q)."""
    headers = grants.grant("t1", {Permission.KEY_WRITE: ("app/",)})
    ok = await api.put("/v1/kv/app/x", b"1", headers=headers)
    assert (ok.status, ok.text) == (200, "true")
    denied = await api.put("/v1/kv/other", b"1", headers=headers)
    assert denied.status == 403
    assert denied.text == (
        "Permission denied: token with AccessorID 'accessor-t1' lacks permission "
        "'key:write' on \"other\""
    )
