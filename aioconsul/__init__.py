"""aioconsul: an asyncio client for HashiCorp Consul's HTTP API.

The public surface only: :class:`Consul`, :class:`~aioconsul.typing.Meta`,
:class:`~aioconsul.typing.Consistency` and the error tree of :mod:`aioconsul.errors`.
"""

from ._core.retry import Backoff, Retry
from ._version import __version__
from .client import Consul
from .errors import (
    ACLNotFound,
    BadRequest,
    CASConflict,
    Conflict,
    ConnectError,
    ConsulError,
    LockConflict,
    LockError,
    LockHeld,
    LockInUse,
    LockLost,
    LockNotHeld,
    LockTimeout,
    MethodNotAllowed,
    NoLeader,
    NotConsul,
    NotFound,
    PermissionDenied,
    ProtocolError,
    RateLimited,
    RequestTimeout,
    RequestTooLarge,
    ResponseError,
    ServerError,
    TransportError,
    TxnFailed,
    UnexpectedRedirect,
)
from .toolkit import Registration
from .typing import Consistency, Meta

__all__ = [
    "ACLNotFound",
    "Backoff",
    "BadRequest",
    "CASConflict",
    "Conflict",
    "ConnectError",
    "Consistency",
    "Consul",
    "ConsulError",
    "LockConflict",
    "LockError",
    "LockHeld",
    "LockInUse",
    "LockLost",
    "LockNotHeld",
    "LockTimeout",
    "Meta",
    "MethodNotAllowed",
    "NoLeader",
    "NotConsul",
    "NotFound",
    "PermissionDenied",
    "ProtocolError",
    "RateLimited",
    "Registration",
    "RequestTimeout",
    "RequestTooLarge",
    "ResponseError",
    "Retry",
    "ServerError",
    "TransportError",
    "TxnFailed",
    "UnexpectedRedirect",
    "__version__",
]
