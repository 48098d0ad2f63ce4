"""The request core: every endpoint method goes through :meth:`Core.request`.

Endpoint method -> :func:`~aioconsul._core.request.build` -> :class:`Transport` ->
:func:`~aioconsul._core.response.parse` -> ``(data, Meta)``. Endpoint classes never import
aiohttp, parse headers or look at status codes; this module never knows any endpoint.
"""

from __future__ import annotations

import json as _json
import logging
from typing import TYPE_CHECKING, Any

from ..typing import Meta
from .config import Config
from .request import UNSUPPORTED, Params, build
from .response import parse
from .transport import Transport

if TYPE_CHECKING:
    import aiohttp

__all__ = ["Core", "Endpoint"]

log = logging.getLogger("aioconsul")


class Core:
    """Builds, sends and reads requests for one client configuration."""

    __slots__ = ("config", "transport")

    def __init__(self, config: Config, session: aiohttp.ClientSession | None = None) -> None:
        self.config = config
        self.transport = Transport(config, session)

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Params = (),
        body: bytes | None = None,
        content_type: str | None = None,
        json: Any = None,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        consistency: Any = UNSUPPORTED,
        watch: Any = None,
        missing_ok: bool = False,
        raw: bool = False,
        b64: str | None = None,
    ) -> tuple[Any, Meta]:
        """Send one request and return ``(data, meta)``; see :func:`response.parse`.

        ``json`` is encoded as the body with ``Content-Type: application/json``.
        """
        if json is not None:
            body, content_type = _json.dumps(json).encode(), "application/json"
        request = build(
            method, path, self.config, params=params, body=body, content_type=content_type,
            dc=dc, namespace=namespace, partition=partition, consistency=consistency, watch=watch,
        )
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s %s", method, request.target)
        status, headers, data = await self.transport.send(request)
        return parse(request, status, headers, data, address=self.config.address,
                     missing_ok=missing_ok, raw=raw, b64=b64)


class Endpoint:
    """Base of the endpoint groups: a thin class over the core."""

    __slots__ = ("_core",)

    def __init__(self, core: Core) -> None:
        self._core = core

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self._core.config.address}>"
