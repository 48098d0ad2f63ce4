"""Consul's ACL errors with their exact texts (``acl/errors.go``); HTTP answers both with 403.

Consul's HTTP layer (``agent/http.go``, ``wrap``) answers 403 with the error's text for any
error whose text contains "Permission denied" or "ACL not found".
"""

from __future__ import annotations

from typing import Final

from ..golang.stdlib import strconv_quote

__all__ = ["ANONYMOUS_TOKEN_ID", "ACLError", "ACLNotFound", "PermissionDenied"]

#: acl.AnonymousTokenID: the accessor of the token a request without one is served with.
ANONYMOUS_TOKEN_ID: Final = "00000000-0000-0000-0000-000000000002"


class ACLError(Exception):
    """An error Consul's HTTP layer answers 403 with its text."""


class ACLNotFound(ACLError):
    """acl.ErrNotFound: an unknown (or expired) token, or a missing ACL object."""

    def __init__(self, text: str = "ACL not found") -> None:
        super().__init__(text)


class PermissionDenied(ACLError):
    """acl.PermissionDeniedError: a cause, or the accessor, resource, access level and name.

    ``PermissionDenied()`` is Consul's bare ``acl.ErrPermissionDenied`` ("Permission denied"),
    which many RPC endpoints return instead of the detailed error.
    """

    def __init__(
        self,
        resource: str = "",
        access: str = "",
        name: str = "",
        *,
        accessor: str = "",
        cause: str = "",
    ) -> None:
        self.resource, self.access, self.name = resource, access, name
        self.accessor, self.cause = accessor, cause
        super().__init__(self._text())

    def _text(self) -> str:
        text = "Permission denied"
        if self.cause:
            return f"{text}: {self.cause}"
        if not self.resource:
            return text
        anonymous = self.accessor == ANONYMOUS_TOKEN_ID
        text += ": anonymous token" if anonymous else f": token with AccessorID '{self.accessor}'"
        text += f" lacks permission '{self.resource}:{self.access}'"
        if self.name:
            text += f" on {strconv_quote(self.name)}"  # ResourceDescriptor.ToString (CE): %q
        if anonymous:
            text += (
                ". The anonymous token is used implicitly when a request does not specify a token."
            )
        return text
