"""Raft status: ``/v1/status/leader`` and ``/v1/status/peers``."""

from __future__ import annotations

from .._core.core import Endpoint

__all__ = ["Status"]


class Status(Endpoint):
    """``client.status``: the Raft leader and peers of a datacenter. Every method takes
    ``token``: the ACL token of that call, instead of the client's."""

    __slots__ = ()

    async def leader(self, *, dc: str | None = None, token: str | None = None) -> str:
        """The Raft leader's ``"ip:port"`` (``GET /v1/status/leader``); ``""`` when none."""
        data, _ = await self._core.request("GET", "/v1/status/leader", dc=dc, token=token,
                                           with_meta=False)
        return str(data or "")

    async def peers(self, *, dc: str | None = None, token: str | None = None) -> list[str]:
        """The Raft peers' ``"ip:port"`` addresses (``GET /v1/status/peers``)."""
        data, _ = await self._core.request("GET", "/v1/status/peers", dc=dc, token=token,
                                           with_meta=False)
        return list(data or [])
