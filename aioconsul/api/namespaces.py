"""Namespaces (Consul Enterprise): ``/v1/namespace/...`` and ``/v1/namespaces``."""

from __future__ import annotations

from .._core.core import Endpoint

__all__ = ["Namespaces"]


class Namespaces(Endpoint):
    """``client.namespaces``. Every method takes ``token``:
    the ACL token of that call, instead of the client's."""

    __slots__ = ()
