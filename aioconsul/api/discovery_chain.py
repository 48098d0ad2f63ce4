"""The compiled discovery chain of a service: ``/v1/discovery-chain/:service``."""

from __future__ import annotations

from .._core.core import Endpoint

__all__ = ["DiscoveryChain"]


class DiscoveryChain(Endpoint):
    """``client.discovery_chain``. Every method takes ``token``:
    the ACL token of that call, instead of the client's."""

    __slots__ = ()
