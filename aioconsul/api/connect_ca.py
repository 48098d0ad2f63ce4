"""The Connect CA: ``/v1/connect/ca/roots`` and ``/v1/connect/ca/configuration``."""

from __future__ import annotations

from .._core.core import Endpoint

__all__ = ["ConnectCA"]


class ConnectCA(Endpoint):
    """``client.connect.ca``. Every method takes ``token``:
    the ACL token of that call, instead of the client's."""

    __slots__ = ()
