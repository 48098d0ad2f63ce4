"""Connect intentions: ``/v1/connect/intentions/...``, kept in service-intentions config entries."""

from __future__ import annotations

from .._core.core import Endpoint

__all__ = ["Intentions"]


class Intentions(Endpoint):
    """``client.connect.intentions``. Every method takes ``token``:
    the ACL token of that call, instead of the client's."""

    __slots__ = ()
