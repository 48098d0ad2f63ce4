"""The one I/O seam of the client: sending a :class:`Request` with aiohttp.

The only client-side module that imports aiohttp. It owns the ClientSession it creates (lazily,
inside the running loop) and closes only that one; a session handed in by the caller is used and
never closed. It adds the token as the ``X-Consul-Token`` header, never to the URL, and never logs
headers. It never follows redirects, and never lets aiohttp re-send a request on its own: what is
repeated is decided by the request core's retry policy. (A lent session keeps aiohttp's habit of
re-sending a PUT or DELETE once when a reused connection breaks; the client does not change a
session it does not own.)

Connection pool: the connector is unlimited (``limit=0``). A blocking read holds its connection for
up to its wait (10 minutes at most), so any cap on the pool would let enough concurrent watches
starve ordinary calls queued behind them; unlimited, every call gets a connection at once and idle
ones are reused. The agent's own limit (``limits.http_max_conns_per_client``, 200 by default) is
the one to raise when one process runs more concurrent blocking reads than that.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import ssl
from collections.abc import Mapping
from typing import Any

import aiohttp
from yarl import URL

from .. import __version__
from ..errors import ConnectError, RequestTimeout, TransportError
from .config import Config, Target
from .request import Request

__all__ = ["Transport"]

log = logging.getLogger("aioconsul")


def make_ssl_context(config: Config) -> ssl.SSLContext:
    """The TLS settings of ``config`` as an SSLContext (reads the CA and client cert files)."""
    context = ssl.create_default_context(cafile=config.ca_file, capath=config.ca_path)
    if config.cert_file and config.key_file:
        context.load_cert_chain(config.cert_file, config.key_file)
    if not config.verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


class Transport:
    """Sends requests to one agent over one aiohttp ClientSession."""

    def __init__(self, config: Config, session: aiohttp.ClientSession | None = None) -> None:
        self.config = config
        self._session = session
        self._owned = session is None
        self._closed = False
        self._targets: tuple[Target, ...] = config.targets
        self._current = 0
        self._base = config.base_url
        headers = {"User-Agent": f"aioconsul/{__version__}"}
        if config.token:
            headers["X-Consul-Token"] = config.token
        if config.auth is not None:
            pair = f"{config.auth[0]}:{config.auth[1]}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
        self._headers = headers
        self._ssl: ssl.SSLContext | None = None
        self._extra: dict[str, Any] = {"allow_redirects": False}
        self._timeouts: dict[float | None, aiohttp.ClientTimeout] = {}
        self._ready = False

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def target(self) -> Target:
        """The agent requests go to now."""
        return self._targets[self._current]

    @property
    def targets(self) -> int:
        """How many agent addresses there are to fail over between."""
        return len(self._targets)

    def fail_over(self) -> None:
        """Send the next requests to the next agent address (sticky, round robin)."""
        if len(self._targets) > 1:
            self._current = (self._current + 1) % len(self._targets)
            self._base = self._targets[self._current].base_url
            log.info("failing over to %s", self._targets[self._current].address)

    def _open(self) -> aiohttp.ClientSession:
        if self._closed:
            raise RuntimeError("this Consul client is closed")
        config = self.config
        if self._ssl is None and any(t.scheme == "https" for t in self._targets):
            self._ssl = make_ssl_context(config)
            self._extra["ssl"] = self._ssl
            if config.tls_server_name:
                self._extra["server_hostname"] = config.tls_server_name
        if self._session is None:
            connector: aiohttp.BaseConnector
            if config.unix_path is not None:
                connector = aiohttp.UnixConnector(path=config.unix_path, limit=0)
            else:
                connector = aiohttp.TCPConnector(limit=0, limit_per_host=0)
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=aiohttp.ClientTimeout(total=None)
            )
            # aiohttp silently re-sends a PUT or DELETE once when a reused connection breaks,
            # even after the agent received it: an event would fire twice, a KV write could
            # overwrite a newer one. The request core decides what is safe to repeat instead.
            # (No public switch exists; aiohttp's own test client flips the same attribute.)
            if hasattr(self._session, "_retry_connection"):
                self._session._retry_connection = False
        self._ready = True
        return self._session

    def _timeout(self, seconds: float | None) -> aiohttp.ClientTimeout:
        timeout = self._timeouts.get(seconds)
        if timeout is None:
            timeout = self._timeouts[seconds] = aiohttp.ClientTimeout(total=seconds)
        return timeout

    async def send(self, request: Request) -> tuple[int, Mapping[str, str], bytes]:
        """Send ``request``; return status, headers and the whole body."""
        session = self._session if self._ready and self._session is not None else self._open()
        headers = self._headers
        if request.content_type is not None:
            headers = {**headers, "Content-Type": request.content_type}
        url = URL(self._base + request.target, encoded=True)
        try:
            async with session.request(
                request.method, url, data=request.body, headers=headers,
                timeout=self._timeout(request.timeout), **self._extra,
            ) as response:
                body = await response.read()
                return response.status, response.headers, body
        except asyncio.TimeoutError:
            raise RequestTimeout(
                f"no complete answer within {request.timeout:g}s" if request.timeout
                else "the request timed out",
                operation=request.operation, address=self.target.address,
            ) from None
        except aiohttp.ClientError as exc:
            error = ConnectError if isinstance(exc, aiohttp.ClientConnectorError) \
                else TransportError
            raise error(
                f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__,
                operation=request.operation, address=self.target.address,
            ) from exc

    async def close(self) -> None:
        """Close the session if this transport created it. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._ready = False
        session, self._session = self._session, None
        if session is not None and self._owned:
            await session.close()
