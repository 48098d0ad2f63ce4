"""The request core: every endpoint method goes through :meth:`Core.request`.

Endpoint method -> :func:`~aioconsul._core.request.build` -> :class:`Transport` ->
:func:`~aioconsul._core.response.parse` -> ``(data, Meta)``. Endpoint classes never import
aiohttp, parse headers or look at status codes; this module never knows any endpoint.
"""

from __future__ import annotations

import asyncio
import json as _json
import logging
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from ..errors import ConnectError, TransportError
from ..typing import Meta
from .config import Config
from .request import UNSUPPORTED, Params, build
from .response import parse
from .retry import WATCHING, Retry
from .transport import Transport

if TYPE_CHECKING:
    import aiohttp

__all__ = ["Core", "Endpoint"]

log = logging.getLogger("aioconsul")


def _stay() -> None:
    """Fail-over for agent-local endpoints: stay with the agent that was asked."""


class Core:
    """Builds, sends and reads requests for one client configuration."""

    __slots__ = ("_watch_policy", "config", "transport")

    def __init__(self, config: Config, session: aiohttp.ClientSession | None = None) -> None:
        self.config = config
        self.transport = Transport(config, session)
        # A watch handles failures itself (back-off, then a read that does not block, since a
        # restarted agent may hold other data at the same index); its reads only move on to
        # the other agents of the cluster, where the index keeps its meaning.
        self._watch_policy = Retry(attempts=len(config.targets) - 1, backoff=config.retry.backoff,
                                   statuses=frozenset())

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
        hash_watch: Any = None,
        missing_ok: bool = False,
        ok_statuses: Collection[int] = (),
        raw: bool = False,
        b64: str | None = None,
        idempotent: bool = False,
    ) -> tuple[Any, Meta]:
        """Send one request and return ``(data, meta)``; see :func:`response.parse`.

        Reads, and writes marked ``idempotent`` (safe to apply twice: a CAS with an index, a PUT
        that sets a state), are repeated on failure as the client's :class:`Retry` says; other
        writes only when the connection could not be made, so a retried write never applies
        twice.

        ``json`` is encoded as the body with ``Content-Type: application/json``. ``watch`` is an
        index Blocking, ``hash_watch`` a hash-based one (see :func:`request.build`).
        ``ok_statuses`` are non-2xx statuses whose JSON body is the endpoint's answer, not an
        error (``/v1/agent/health/service/*`` answers 429 for warning, 503 for critical).
        """
        if json is not None:
            body, content_type = _json.dumps(json).encode(), "application/json"
        request = build(
            method, path, self.config, params=params, body=body, content_type=content_type,
            dc=dc, namespace=namespace, partition=partition, consistency=consistency, watch=watch,
            hash_watch=hash_watch,
        )
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s %s", method, request.target)
        transport = self.transport
        policy = self.config.retry if not WATCHING.get() else self._watch_policy
        safe = method == "GET" or idempotent
        # /v1/agent/* speaks of the agent itself: another agent would answer another question.
        fail_over = transport.fail_over if not path.startswith("/v1/agent/") else _stay
        failures = 0
        while True:
            try:
                status, headers, data = await transport.send(request)
            except TransportError as exc:
                fail_over()  # the next request goes to the next agent, if any
                # Never sent (ConnectError) or safe to repeat: try again.
                if failures >= policy.attempts or not (safe or isinstance(exc, ConnectError)):
                    raise
            else:
                if not (safe and status in policy.statuses and failures < policy.attempts
                        and status not in ok_statuses):
                    return parse(request, status, headers, data,
                                 address=transport.address, missing_ok=missing_ok,
                                 ok_statuses=ok_statuses, raw=raw, b64=b64)
                # 429/5xx: Consul recommends retrying against another server.
                fail_over()
            failures += 1
            # Back off only once every agent address has been tried in this round.
            if failures % transport.targets == 0:
                await asyncio.sleep(policy.backoff.delay(failures // transport.targets))
            log.debug("retrying %s (failure %d)", request.operation, failures)


class Endpoint:
    """Base of the endpoint groups: a thin class over the core."""

    __slots__ = ("_core",)

    def __init__(self, core: Core) -> None:
        self._core = core

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self._core.config.address}>"
