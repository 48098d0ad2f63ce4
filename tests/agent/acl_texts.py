"""What the ACL tests share: an all-powerful grant and Consul's denial texts, spelled out.

The texts are written here by hand from ``acl/errors.go`` (PermissionDeniedError.Error), not
computed by the code under test, so a change of wording in the dev agent fails the tests.
"""

from __future__ import annotations

from aioconsul.testing.acl.authorizer import Permission

#: Every permission on every name: the token the tests set state up with.
ADMIN: dict[Permission, tuple[str, ...]] = {permission: ("",) for permission in Permission}

ANONYMOUS_HINT = ". The anonymous token is used implicitly when a request does not specify a token."


def denied(secret: str, permission: str, name: str) -> str:
    """The detailed denial for a ``grants`` token (AccessorID ``accessor-<secret>``)."""
    return (
        f"Permission denied: token with AccessorID 'accessor-{secret}' lacks permission "
        f"'{permission}' on \"{name}\""
    )


def anonymous(permission: str, name: str) -> str:
    """The detailed denial for a request without a token (the anonymous token)."""
    return (
        f"Permission denied: anonymous token lacks permission '{permission}' on \"{name}\""
        + ANONYMOUS_HINT
    )
