"""The client's token when it can change: from a provider callable, or from a watched file.

A client made with ``Consul(token=callable)`` or with a token file (``token_file=`` or
``CONSUL_HTTP_TOKEN_FILE``) gets a :class:`TokenSource`; a client with a fixed token (or none)
gets none, and its requests take the fixed path, untouched. The request core asks the source
for the token of each request that has no token of its own (:func:`attach`), and asks it once
more (:meth:`TokenSource.refresh`) when the agent answers 403 "ACL not found".

* :class:`ProviderTokens` calls the provider (sync or async) for the first request, keeps its
  answer, and calls it again only for a refresh; concurrent requests share one call.
* :class:`FileTokens` looks at the file's mtime, size and inode at most once every
  :data:`FILE_CHECK_INTERVAL` seconds, when a request is sent (no background task, no syscall
  per request: between checks only the monotonic clock is read), and re-reads it when they
  changed; a refresh re-reads it at once, whatever they say. An empty, unreadable or malformed
  file keeps the token read last (a writer may be replacing it), with a warning.

A source never lets a token into ``repr()``, a log record or a message; :func:`attach` adds
the token it sends to the request's secrets, which every error text has hidden.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import sys
import time
from typing import TYPE_CHECKING, Any, Final

from .config import TokenProvider

if TYPE_CHECKING:
    from .config import Config
    from .request import Request

__all__ = ["FILE_CHECK_INTERVAL", "FileTokens", "ProviderTokens", "TokenProvider",
           "TokenSource", "attach", "source_for"]

log = logging.getLogger("aioconsul")

#: How often, at most, a token file is looked at (its mtime, size and inode), in seconds.
FILE_CHECK_INTERVAL: Final = 1.0

_PROVIDER_NOTE = "raised by the client's token provider (Consul(token=...))"


def _header_safe(text: str) -> bool:
    return not any(ord(char) < 0x20 or ord(char) == 0x7F for char in text)


class TokenSource:
    """The token of a client whose token may change. ``generation`` counts the changes of
    the token; ``fetches`` the times it was fetched (provider called, file read)."""

    def __init__(self) -> None:
        self._token: str | None = None
        self.known = False
        self.generation = 0
        self.fetches = 0
        self._waiters: set[asyncio.Future[None]] = set()

    def current(self) -> str | None:
        """The token to send now (only once :attr:`known`)."""
        return self._token

    async def get(self) -> str | None:
        """The token to send now, fetched first if it never was."""
        return self.current()

    async def refresh(self, fetches: int) -> str | None:
        """The token, fetched again unless it was fetched since ``fetches`` (the value of
        :attr:`fetches` when the token that failed was obtained): concurrent refreshes after
        one failure fetch once."""
        raise NotImplementedError

    def _set(self, token: str | None) -> None:
        if not self.known or token != self._token:
            self._token = token
            self.known = True
            self.generation += 1
            for waiter in self._waiters:
                if not waiter.done():
                    waiter.set_result(None)

    async def wait_changed(self, generation: int) -> None:
        """Return once :attr:`generation` is no longer ``generation`` (the token changed)."""
        while self.generation == generation:
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.add(waiter)
            try:
                await waiter
            finally:
                self._waiters.discard(waiter)


class ProviderTokens(TokenSource):
    """The token a callable returns: asked for the first request, then again only on
    :meth:`refresh`. A provider that raises has its error raised by the request that asked
    (nothing is sent), and is asked again by the next one."""

    def __init__(self, provider: TokenProvider) -> None:
        super().__init__()
        self._provider = provider
        self._lock: asyncio.Lock | None = None
        #: What the provider raised when it was last asked, None once it answers.
        self.error: Exception | None = None

    def __repr__(self) -> str:
        return f"<ProviderTokens {'known' if self.known else 'not fetched yet'}>"

    async def _fetch(self) -> None:
        try:
            result: Any = self._provider()
            if inspect.isawaitable(result):
                result = await result
        except Exception as exc:
            if sys.version_info >= (3, 11) and _PROVIDER_NOTE not in getattr(
                    exc, "__notes__", ()):
                exc.add_note(_PROVIDER_NOTE)
            self.error = exc
            raise
        if result is not None and not isinstance(result, str):
            self.error = TypeError(f"token: the token provider returned "
                                   f"{type(result).__name__}, expected a str (or None for none)")
            raise self.error
        if result and not _header_safe(result):
            self.error = ValueError("token: the token provider returned a token with a control "
                                    "character (CR, LF...), refused")
            raise self.error
        self.error = None
        self.fetches += 1
        self._set(result or None)

    async def get(self) -> str | None:
        if not self.known:
            if self._lock is None:
                self._lock = asyncio.Lock()
            async with self._lock:
                if not self.known:  # another request may have fetched it meanwhile
                    await self._fetch()
        return self._token

    async def refresh(self, fetches: int) -> str | None:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self.fetches == fetches:
                await self._fetch()
        return self._token


class FileTokens(TokenSource):
    """The token a file holds, whitespace stripped: looked at (mtime, size, inode) at most
    every :data:`FILE_CHECK_INTERVAL` seconds, re-read when they change, and re-read at once
    on :meth:`refresh`. ``token`` is what the client read when it was made."""

    def __init__(self, path: str, token: str | None) -> None:
        super().__init__()
        self.path = path
        self.interval = FILE_CHECK_INTERVAL
        self._token = token
        self.known = True
        self._signature: tuple[int, int, int, int] | None = None
        self._next_check = 0.0  # the first request looks at the file
        self._warned = ""

    def __repr__(self) -> str:
        return f"<FileTokens {self.path!r}>"

    def current(self) -> str | None:
        now = time.monotonic()
        if now >= self._next_check:
            self._next_check = now + self.interval
            self._check(force=False)
        return self._token

    async def refresh(self, fetches: int) -> str | None:
        if self.fetches == fetches:
            self._next_check = time.monotonic() + self.interval
            self._check(force=True)
        return self._token

    def _warn(self, message: str) -> None:
        if message != self._warned:  # once, until something else happens
            self._warned = message
            log.warning("%s", message)

    def _check(self, *, force: bool) -> None:
        try:
            stat = os.stat(self.path)
        except OSError as exc:
            self._warn(f"token file {self.path!r}: {exc.strerror}; keeping the token read last")
            return
        signature = (stat.st_mtime_ns, stat.st_size, stat.st_ino, stat.st_dev)
        if signature == self._signature and not force:
            return
        self._signature = signature
        try:
            with open(self.path, encoding="utf-8") as handle:
                token = handle.read().strip()
        except (OSError, UnicodeDecodeError) as exc:
            self._signature = None  # read it again at the next check
            reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            self._warn(f"token file {self.path!r}: cannot read it ({reason}); keeping the "
                       f"token read last")
            return
        self.fetches += 1
        if not token:
            if self._token is not None:
                self._warn(f"token file {self.path!r} is empty; keeping the token read last")
            return
        if not _header_safe(token):
            self._warn(f"token file {self.path!r}: the token has a control character (CR, "
                       f"LF...); keeping the token read last")
            return
        self._warned = ""
        if token != self._token:
            log.info("token file %r changed: using its new token", self.path)
        self._set(token)


def source_for(config: Config) -> TokenSource | None:
    """The token source of a client configuration; None for a fixed token (or none)."""
    if config.token_provider is not None:
        return ProviderTokens(config.token_provider)
    if config.token_file is not None:
        return FileTokens(config.token_file, config.token)
    return None


async def attach(source: TokenSource, request: Request) -> tuple[str | None, int]:
    """Give ``request`` (which has no token of its own) the source's current token, and add
    it to the texts no message may show; return that token and the fetch count it came
    with (for :meth:`TokenSource.refresh`)."""
    token = source.current() if source.known else await source.get()
    fetches = source.fetches
    request.token = token
    if token is not None and token not in request.secrets:
        request.secrets = (*request.secrets, token)
    return token, fetches
