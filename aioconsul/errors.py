"""The whole error tree of aioconsul, in one module.

::

    ConsulError                         everything aioconsul raises about a request
    ├── TransportError                  the agent could not be reached or the exchange broke off
    │   ├── ConnectError                no connection could be made: the request was not sent
    │   └── RequestTimeout              no complete answer in time (also a TimeoutError)
    ├── ProtocolError                   an answer that is not what Consul sends (bad JSON, ...)
    │   └── NotConsul                   the address answers, but not as a Consul agent does
    └── ResponseError                   the agent answered with an error status
        ├── UnexpectedRedirect          3xx: aioconsul never follows redirects
        ├── BadRequest                  400
        ├── PermissionDenied            401 / 403; .permission, .resource, .accessor_id, .cause
        │   └── ACLNotFound             403 "ACL not found": the token is unknown or expired
        ├── NotFound                    404
        ├── MethodNotAllowed            405
        ├── Conflict                    409
        │   ├── TxnFailed               409 from /v1/txn: rolled back; .errors says which ops, why
        │   └── CASConflict             kv.update gave up: the key changed under every attempt
        ├── RequestTooLarge             413
        ├── RateLimited                 429
        └── ServerError                 5xx
            └── NoLeader                500 "No cluster leader"

    LockError                           a Lock or Semaphore recipe could not do what was asked
    ├── LockHeld                        acquire() on a lock this object already holds
    ├── LockNotHeld                     release() of a lock this object does not hold
    ├── LockInUse                       destroy() of a lock or semaphore someone holds
    ├── LockConflict                    the key is not a lock of this kind (flags, limit, JSON)
    ├── LockLost                        the lock was lost while its cancel_on_loss block ran
    └── LockTimeout                     try-once: not acquired within the wait (a TimeoutError)

The recipe errors (:mod:`aioconsul.recipes`) are a second tree: they are about the state of a lock,
not about a request, so a failed request inside a recipe still raises its ``ConsulError``.
Semaphores raise the same classes, with the Go client's semaphore messages.

Bad arguments are refused with ``TypeError``/``ValueError`` before any request is sent; they are
not part of this tree. The status is mapped to a class in one function, :func:`error_for_status`.
No error text ever contains an ACL token: messages name the method, the path and the address, and
quote the agent's answer with any token of the request (the call's, the client's, a SecretID it
sent) replaced by ``<hidden>``.
"""

from __future__ import annotations

import json
import re
from typing import Any, NamedTuple

from .typing import Meta

__all__ = [
    "ANONYMOUS_ACCESSOR_ID",
    "ACLNotFound",
    "BadRequest",
    "CASConflict",
    "Conflict",
    "ConnectError",
    "ConsulError",
    "LockConflict",
    "LockError",
    "LockHeld",
    "LockInUse",
    "LockLost",
    "LockNotHeld",
    "LockTimeout",
    "MethodNotAllowed",
    "NoLeader",
    "NotConsul",
    "NotFound",
    "PermissionDenied",
    "ProtocolError",
    "RateLimited",
    "RequestTimeout",
    "RequestTooLarge",
    "ResponseError",
    "ServerError",
    "TransportError",
    "TxnFailed",
    "TxnOpError",
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


class ConnectError(TransportError):
    """No connection to the agent could be made (refused, unreachable, TLS handshake failed):
    the request was never sent, so it cannot have been applied."""


class RequestTimeout(TransportError, TimeoutError):
    """No complete answer within the request's timeout."""


class ProtocolError(ConsulError):
    """The agent's answer could not be read: truncated, not JSON, or not the expected shape."""


class NotConsul(ProtocolError):
    """The address answers HTTP, but not as a Consul agent: for example a 404 without the
    ``X-Consul-Index`` that Consul sends with every KV read, so a wrong port never reads as an
    empty KV store. ``status`` is the answer's status; the message quotes its text."""


class ResponseError(ConsulError):
    """The agent answered with an error status; ``message`` is its body, ``meta`` its headers."""


class UnexpectedRedirect(ResponseError):
    """A 3xx answer: Consul redirects unclean paths; aioconsul refuses to follow."""


class BadRequest(ResponseError):
    """400: the agent refused the request's parameters or body."""


#: Consul's ``acl.AnonymousTokenID``: the accessor of the token a request without one is served
#: with ("anonymous token" in a denial).
ANONYMOUS_ACCESSOR_ID = "00000000-0000-0000-0000-000000000002"

# Consul's acl.PermissionDeniedError.Error(): "Permission denied" then ": <cause>", or
# ": token with AccessorID '<id>'" / ": anonymous token", " lacks permission '<resource>:<level>'"
# and, for a named resource, " on <Go %q of the name>" (ResourceDescriptor.ToString in CE).
_DENIED = "Permission denied"
_DETAILED = re.compile(
    r"(?:anonymous token|token with AccessorID '(?P<accessor>[^']*)') "
    r"lacks permission '(?P<permission>[^']*)'"
    r'(?: on "(?P<resource>(?:[^"\\]|\\.)*)")?')
_GO_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t",
               "v": "\v", "\\": "\\", '"': '"', "'": "'"}


def _go_unquote(text: str) -> str:
    """The string a Go ``%q`` (``strconv.Quote``) body stands for, without its quotes."""
    out = bytearray()
    i = 0
    while i < len(text):
        char = text[i]
        if char != "\\" or i + 1 == len(text):
            out += char.encode("utf-8")
            i += 1
            continue
        code = text[i + 1]
        width = {"x": 2, "u": 4, "U": 8}.get(code)
        if code in _GO_ESCAPES:
            out += _GO_ESCAPES[code].encode()
            i += 2
        elif width is not None and len(text) >= i + 2 + width:
            value = int(text[i + 2:i + 2 + width], 16)
            out += bytes([value]) if code == "x" else chr(value).encode("utf-8", "replace")
            i += 2 + width
        elif code in "01234567" and len(text) >= i + 4:
            out.append(int(text[i + 1:i + 4], 8) & 0xFF)
            i += 4
        else:
            out += char.encode()
            i += 1
    return out.decode("utf-8", "replace")


class PermissionDenied(ResponseError):
    """401/403: the token lacks a permission (or ACLs are disabled for a token endpoint).

    What Consul names in the denial is parsed from its text (``acl/errors.go``): for
    ``Permission denied: token with AccessorID '<id>' lacks permission 'key:write' on "foo"``,
    :attr:`permission` is ``"key:write"``, :attr:`resource` ``"foo"`` and :attr:`accessor_id`
    the token's AccessorID (not a secret; the anonymous token's,
    :data:`ANONYMOUS_ACCESSOR_ID`, for "anonymous token"). A denial with a reason instead
    (``Permission denied: ACL bootstrap no longer allowed (reset index: 7)``) sets
    :attr:`cause`. Each is None when Consul did not say (a bare ``Permission denied``, a
    permission on no named resource such as ``operator:read``, ``ACL support disabled``).
    """

    #: The permission that was missing, ``"<resource type>:<access level>"`` (``"key:write"``).
    permission: str | None
    #: The name of the resource it was missing on (the key, the service...), unquoted.
    resource: str | None
    #: The AccessorID of the token that was denied.
    accessor_id: str | None
    #: The reason of a denial that names no permission.
    cause: str | None

    def __init__(
        self,
        message: str,
        *,
        operation: str = "",
        address: str = "",
        status: int | None = None,
        meta: Meta | None = None,
    ) -> None:
        super().__init__(message, operation=operation, address=address, status=status,
                         meta=meta)
        self.permission = self.resource = self.accessor_id = self.cause = None
        start = message.find(_DENIED)
        if start < 0:
            return
        rest = message[start + len(_DENIED):]
        if not rest.startswith(": "):
            return
        rest = rest[2:]
        found = _DETAILED.match(rest)
        if found is None:
            self.cause = rest.strip() or None
            return
        self.permission = found["permission"]
        accessor = found["accessor"]
        self.accessor_id = ANONYMOUS_ACCESSOR_ID if accessor is None else accessor
        if found["resource"] is not None:
            self.resource = _go_unquote(found["resource"])

    @property
    def anonymous(self) -> bool:
        """True when the denied token is the anonymous one (the request carried no token)."""
        return self.accessor_id == ANONYMOUS_ACCESSOR_ID


class ACLNotFound(PermissionDenied):
    """403 "ACL not found": the token itself is unknown or expired."""


class NotFound(ResponseError):
    """404: no such object or endpoint."""


class MethodNotAllowed(ResponseError):
    """405: the path exists but not with this HTTP method."""


class Conflict(ResponseError):
    """409: for example a rolled-back transaction."""


class TxnOpError(NamedTuple):
    """One failed operation of a rolled-back transaction, as Consul reports it: ``OpIndex`` is
    its position among the operations sent, ``What`` Consul's reason."""

    OpIndex: int
    What: str


class TxnFailed(Conflict):
    """409 from ``PUT /v1/txn``: the transaction was rolled back and none of it was applied.

    ``errors`` lists every failed operation as a :class:`TxnOpError` ``(OpIndex, What)``;
    ``meta`` is the answer's. The message names each one: ``op 1: key "a" doesn't exist``.
    """

    def __init__(
        self,
        message: str = "",
        *,
        errors: list[TxnOpError] | tuple[TxnOpError, ...] = (),
        operation: str = "",
        address: str = "",
        status: int | None = 409,
        meta: Meta | None = None,
    ) -> None:
        self.errors = list(errors)
        if not message:
            failed = "; ".join(f"op {e.OpIndex}: {e.What}" for e in self.errors)
            message = f"transaction rolled back: {failed}" if failed else "transaction rolled back"
        super().__init__(message, operation=operation, address=address, status=status, meta=meta)


class CASConflict(Conflict):
    """:meth:`~aioconsul.api.kv.KV.update` gave up: every attempt's check-and-set met a key that
    another writer had changed since it was read. ``key`` is the key, ``attempts`` how many
    check-and-sets were refused; ``meta`` is the last refusal's (a 409 from ``/v1/txn``), which
    is also the ``__cause__``. Nothing of the update was written."""

    def __init__(
        self,
        message: str = "",
        *,
        key: str = "",
        attempts: int = 0,
        operation: str = "",
        address: str = "",
        status: int | None = 409,
        meta: Meta | None = None,
    ) -> None:
        self.key = key
        self.attempts = attempts
        if not message:
            message = (f"key {key!r} changed under each of {attempts} check-and-set attempts "
                       "(raise retries= or lower the contention)")
        super().__init__(message, operation=operation, address=address, status=status, meta=meta)


class RequestTooLarge(ResponseError):
    """413: the body (a KV value, a transaction) exceeds the agent's limits."""


class RateLimited(ResponseError):
    """429: a rate limit or the per-client connection limit was hit."""


class ServerError(ResponseError):
    """5xx: the agent or the servers failed to handle the request."""


class NoLeader(ServerError):
    """500 "No cluster leader": the cluster is electing a leader; reads may retry."""


class LockError(Exception):
    """Base of the errors of the Lock and Semaphore recipes; ``key`` is the lock's key (the
    semaphore's prefix). The messages are the Go client's (``"Lock already held"``, ...)."""

    def __init__(self, message: str, *, key: str = "") -> None:
        self.message = message
        self.key = key
        super().__init__(message)

    def __str__(self) -> str:
        return f"{self.key}: {self.message}" if self.key else self.message


class LockHeld(LockError):
    """``acquire()`` on a Lock or Semaphore object that already holds it (Go's ErrLockHeld)."""


class LockNotHeld(LockError):
    """``release()`` on a Lock or Semaphore object that does not hold it (ErrLockNotHeld)."""


class LockInUse(LockError):
    """``destroy()`` while a session holds the lock or a semaphore slot (ErrLockInUse)."""


class LockConflict(LockError):
    """The key is not a lock of this kind: its flags are not the recipe's (a Lock on a
    semaphore's key, or the reverse), or a semaphore's limit or JSON does not match (Go's
    ErrLockConflict, ErrSemaphoreConflict, "semaphore limit conflict")."""


class LockLost(LockError):
    """The lock (or slot) was lost while an ``async with`` block with ``cancel_on_loss=True``
    ran: the block was cancelled, and leaving it raises this instead."""


class LockTimeout(LockError, TimeoutError):
    """With try-once, the lock or slot was not acquired within its wait (Go returns no lock)."""


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
    if status == 409:
        errors = _txn_errors(message)
        if errors is not None:  # /v1/txn answers a rollback with {"Results": null, "Errors": []}
            return TxnFailed(errors=errors, meta=meta, operation=operation, address=address)
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


def _txn_errors(body: str) -> list[TxnOpError] | None:
    """The ``Errors`` of a rolled-back transaction's JSON answer, or None for any other body."""
    if not body.startswith("{"):
        return None
    try:
        data: Any = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("Errors"), list):
        return None
    errors: list[TxnOpError] = []
    for item in data["Errors"]:
        if not isinstance(item, dict):
            return None
        index, what = item.get("OpIndex"), item.get("What")
        if not isinstance(index, int) or isinstance(index, bool) or not isinstance(what, str):
            return None
        errors.append(TxnOpError(index, what))
    return errors
