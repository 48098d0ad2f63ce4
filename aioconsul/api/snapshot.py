"""Snapshots of the servers' state: ``GET`` and ``PUT /v1/snapshot``, streamed."""

from __future__ import annotations

from .._core.core import Endpoint

__all__ = ["Snapshot"]


class Snapshot(Endpoint):
    """``client.snapshot``. Every method takes ``token``:
    the ACL token of that call, instead of the client's."""

    __slots__ = ()
