"""Admin partitions (Consul Enterprise): ``/v1/partition/...`` and ``/v1/partitions``."""

from __future__ import annotations

from .._core.core import Endpoint

__all__ = ["Partitions"]


class Partitions(Endpoint):
    """``client.partitions``. Every method takes ``token``:
    the ACL token of that call, instead of the client's."""

    __slots__ = ()
