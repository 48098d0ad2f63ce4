"""The local agent's Connect endpoints: ``/v1/agent/connect/...``.

CA roots, leaf certificates, authorize.
"""

from __future__ import annotations

from .._core.core import Endpoint

__all__ = ["AgentConnect"]


class AgentConnect(Endpoint):
    """``client.agent.connect``. Every method takes ``token``:
    the ACL token of that call, instead of the client's."""

    __slots__ = ()
