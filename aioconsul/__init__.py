"""aioconsul: an asyncio client for HashiCorp Consul's HTTP API.

The public surface only: :class:`Consul`, :class:`~aioconsul.typing.Meta`,
:class:`~aioconsul.typing.Consistency` and the error tree of :mod:`aioconsul.errors`.
"""

__version__ = "0.1.0.dev0"

from .client import Consul
from .errors import (
    ACLNotFound,
    BadRequest,
    Conflict,
    ConsulError,
    MethodNotAllowed,
    NoLeader,
    NotFound,
    PermissionDenied,
    ProtocolError,
    RateLimited,
    RequestTimeout,
    RequestTooLarge,
    ResponseError,
    ServerError,
    TransportError,
    UnexpectedRedirect,
)
from .typing import Consistency, Meta

__all__ = [
    "ACLNotFound",
    "BadRequest",
    "Conflict",
    "Consistency",
    "Consul",
    "ConsulError",
    "Meta",
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
    "__version__",
]
