"""Cluster peering: ``/v1/peering/...`` and ``/v1/peerings``."""

from __future__ import annotations

from .._core.core import Endpoint

__all__ = ["Peering"]


class Peering(Endpoint):
    """``client.peering``. Every method takes ``token``:
    the ACL token of that call, instead of the client's."""

    __slots__ = ()
