"""The whole error tree of aioconsul, in one module.

::

    ConsulError                         everything aioconsul raises about a request
    ├── TransportError                  the agent could not be reached or the exchange broke off
    │   └── RequestTimeout              no complete answer in time (also a TimeoutError)
    ├── ProtocolError                   an answer that is not what Consul sends (bad JSON, ...)
    └── ResponseError                   the agent answered with an error status
        ├── UnexpectedRedirect          3xx: aioconsul never follows redirects
        ├── BadRequest                  400
        ├── PermissionDenied            401 / 403
        │   └── ACLNotFound             403 "ACL not found": the token is unknown or expired
        ├── NotFound                    404
        ├── MethodNotAllowed            405
        ├── Conflict                    409
        ├── RequestTooLarge             413
        ├── RateLimited                 429
        └── ServerError                 5xx
            └── NoLeader                500 "No cluster leader"

Bad arguments are refused with ``TypeError``/``ValueError`` before any request is sent; they are
not part of this tree. The status is mapped to a class in one function, :func:`error_for_status`.
No error text ever contains the ACL token: messages name the method, the path and the address only.
"""

from __future__ import annotations

from .typing import Meta

__all__ = [
    "ACLNotFound",
    "BadRequest",
    "Conflict",
    "ConsulError",
    "MethodNotAllowed",
    "NoLeader",
    "NotFound",
    "PermissionDenied",
    "ProtocolError",
    "RateLimited",
    "RequestTimeout",
    "RequestTooLarge",
    "ResponseError",
    "ServerError",
    "TransportError",
    "UnexpectedRedirect",
    "error_for_status",
]


class ConsulError(Exception):
    """Base of every error aioconsul raises about a request.

    ``message`` says what went wrong (the agent's body when it answered), ``operation`` is
    ``"<METHOD> <path>"`` and ``address`` the agent's address; ``status`` and ``meta`` are set when
    the agent answered (``None`` and an empty :class:`~aioconsul.typing.Meta` otherwise).
    """

    status: int | None = None

    def __init__(
        self,
        message: str,
        *,
        operation: str = "",
        address: str = "",
        status: int | None = None,
        meta: Meta | None = None,
    ) -> None:
        self.message = message
        self.operation = operation
        self.address = address
        if status is not None:
            self.status = status
        self.meta = meta if meta is not None else Meta()
        super().__init__(message)

    def __str__(self) -> str:
        where = " ".join(part for part in (self.operation, self._at()) if part)
        head = f"{where}: " if where else ""
        code = f"{self.status} " if self.status is not None else ""
        return f"{head}{code}{self.message}".rstrip()

    def _at(self) -> str:
        return f"at {self.address}" if self.address else ""


class TransportError(ConsulError):
    """The agent could not be reached, or the connection failed before a full answer."""


class RequestTimeout(TransportError, TimeoutError):
    """No complete answer within the request's timeout."""


class ProtocolError(ConsulError):
    """The agent's answer could not be read: truncated, not JSON, or not the expected shape."""


class ResponseError(ConsulError):
    """The agent answered with an error status; ``message`` is its body, ``meta`` its headers."""


class UnexpectedRedirect(ResponseError):
    """A 3xx answer: Consul redirects unclean paths; aioconsul refuses to follow."""


class BadRequest(ResponseError):
    """400: the agent refused the request's parameters or body."""


class PermissionDenied(ResponseError):
    """401/403: the token lacks a permission (or ACLs are disabled for a token endpoint)."""


class ACLNotFound(PermissionDenied):
    """403 "ACL not found": the token itself is unknown or expired."""


class NotFound(ResponseError):
    """404: no such object or endpoint."""


class MethodNotAllowed(ResponseError):
    """405: the path exists but not with this HTTP method."""


class Conflict(ResponseError):
    """409: for example a rolled-back transaction."""


class RequestTooLarge(ResponseError):
    """413: the body (a KV value, a transaction) exceeds the agent's limits."""


class RateLimited(ResponseError):
    """429: a rate limit or the per-client connection limit was hit."""


class ServerError(ResponseError):
    """5xx: the agent or the servers failed to handle the request."""


class NoLeader(ServerError):
    """500 "No cluster leader": the cluster is electing a leader; reads may retry."""


_BY_STATUS: dict[int, type[ResponseError]] = {
    400: BadRequest,
    401: PermissionDenied,
    403: PermissionDenied,
    404: NotFound,
    405: MethodNotAllowed,
    409: Conflict,
    413: RequestTooLarge,
    429: RateLimited,
}


def error_for_status(
    status: int, message: str, *, meta: Meta, operation: str = "", address: str = ""
) -> ResponseError:
    """The error for an answer with a non-2xx ``status`` and body ``message``."""
    cls: type[ResponseError]
    if status in _BY_STATUS:
        cls = _BY_STATUS[status]
        if cls is PermissionDenied and "ACL not found" in message:
            cls = ACLNotFound
    elif 300 <= status < 400:
        cls = UnexpectedRedirect
    elif status >= 500:
        cls = NoLeader if "No cluster leader" in message else ServerError
    else:
        cls = ResponseError
    return cls(message, status=status, meta=meta, operation=operation, address=address)
