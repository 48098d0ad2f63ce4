"""The one I/O seam of the client: sending a :class:`Request` with aiohttp.

The only client-side module that imports aiohttp. It owns the ClientSession it creates (lazily,
inside the running loop) and closes only that one; a session handed in by the caller is used and
never closed. It adds the token as the ``X-Consul-Token`` header, never to the URL, and never logs
headers; a call's own token (``token=``) replaces the client's for that request only. A client
token that can change (a provider, a token file) is never one of the session's headers: each
request carries the token the request core gave it (a stream asks the token source itself). It never
follows redirects, and never lets aiohttp re-send a request on its own: what is repeated is
decided by the request core's retry policy. (A lent session keeps aiohttp's habit of
re-sending a PUT or DELETE once when a reused connection breaks; the client does not change a
session it does not own.)

Connection pool: the connector is unlimited (``limit=0``). A blocking read holds its connection for
up to its wait (as long as the servers allow), so any cap on the pool would let enough concurrent
watches starve ordinary calls queued behind them; unlimited, every call gets a connection at once
and idle ones are reused. The agent's own limit (``limits.http_max_conns_per_client``, 200 by
default) is the one to raise when one process runs more concurrent blocking reads than that.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import ssl
import sys
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, cast

import aiohttp
from multidict import istr
from yarl import URL

from .._version import __version__
from ..errors import ConnectError, RequestTimeout, TransportError
from .config import Config, Target
from .request import Request, hide
from .tokens import TokenSource, attach

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


def _request_class(headers: Mapping[str, str]) -> type[aiohttp.ClientRequest]:
    """aiohttp's ClientRequest with ``headers`` among the defaults it adds to every request.

    For speed and memory: a session's own headers are copied into a new multidict for every
    request, which then lives as long as the request (some 300 bytes per parked watch, and
    3k instructions per call), where the defaults of the request class are added with
    aiohttp's own. Like a session's headers, they never replace a request's own header of the
    same name (a call's token, a Content-Type).
    """
    defaults: dict[str, str] = {**cast(Mapping[str, str], aiohttp.ClientRequest.DEFAULT_HEADERS)}
    for name, value in headers.items():
        defaults[istr(name)] = value  # aiohttp looks each one up in the request's headers
    return type("ConsulRequest", (aiohttp.ClientRequest,), {"DEFAULT_HEADERS": defaults})


_NO_TIMEOUT = aiohttp.ClientTimeout(total=None)
#: How many parsed URLs a transport keeps per agent (a small, bounded cache of the targets seen
#: most).
_URL_CACHE_SIZE = 512
_OCTETS = "application/octet-stream"
#: How many ClientTimeouts a transport keeps, keyed by their seconds. Most requests share a few
#: (the client's timeout, the blocking timeout of each wait in use); a lock's remaining wait makes
#: a new one per attempt, so the cache is emptied when it fills, like the URL cache.
_TIMEOUT_CACHE_SIZE = 64
#: How many request timeouts get a deadline queue of their own (see _Deadlines).
_DEADLINE_QUEUES = 16

_OTHER_LOOP = (
    "this Consul client is bound to the event loop it was first used in, and this is another "
    "one (a second asyncio.run()?): create one client per event loop, inside the coroutine "
    "that uses it"
)


class _Deadlines:
    """Timeouts of the requests that share one duration, without a timer per request.

    Requests with the same timeout expire in the order they started, so a FIFO of deadlines and
    one timer armed at the oldest live one do the work of a timer per request (aiohttp's
    per-request ``ClientTimeout`` costs several percent of a short call). An expired request's
    task is cancelled, and :meth:`Transport.send` turns that cancellation into RequestTimeout.
    """

    __slots__ = ("_live", "_loop", "_queue", "_seconds", "_timer")

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._queue: deque[list[Any]] = deque()  # [deadline, task or None once done, expired]
        self._live = 0  # entries of the queue whose request is still running
        self._timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self, task: asyncio.Task[Any]) -> list[Any]:
        loop = self._loop
        if loop is None:
            loop = self._loop = asyncio.get_running_loop()
        deadline = loop.time() + self._seconds
        entry: list[Any] = [deadline, task, False]
        queue = self._queue
        if len(queue) > 64 and len(queue) > 2 * self._live:
            # Done entries pile up behind a long request (a watch whose key never changes
            # blocks for its whole wait): drop them, at a cost shared by the starts since.
            self._queue = queue = deque(each for each in queue if each[1] is not None)
        queue.append(entry)
        self._live += 1
        if self._timer is None:
            self._timer = loop.call_at(deadline, self._expire)
        return entry

    def done(self, entry: list[Any]) -> None:
        """The request of ``entry`` is over: the timer passes it by, and the entries at the head
        of the queue that are over leave it now (not at the next start, which may be minutes
        away: a watch's first reads take the client's timeout, its blocking reads another)."""
        if entry[1] is not None:
            entry[1] = None
            self._live -= 1
            queue = self._queue
            while queue and queue[0][1] is None:
                queue.popleft()

    def _expire(self) -> None:
        self._timer = None
        assert self._loop is not None
        now = self._loop.time()
        queue = self._queue
        while queue:
            entry = queue[0]
            deadline: float = entry[0]
            task: asyncio.Task[Any] | None = entry[1]
            if task is not None:
                if deadline > now:
                    self._timer = self._loop.call_at(deadline, self._expire)
                    return
                entry[2] = True
                task.cancel()
                entry[1] = None
                self._live -= 1
            queue.popleft()

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._queue.clear()
        self._live = 0


class Transport:
    """Sends requests to the client's agents over one aiohttp ClientSession.

    Agents are numbered as the configuration lists them; agent 0 is the *home* agent. The
    transport keeps the shared fail-over pointer (:attr:`current`), but the request core chooses
    the agent of each request and passes its number to :meth:`send`.
    """

    def __init__(self, config: Config, session: aiohttp.ClientSession | None = None, *,
                 tokens: TokenSource | None = None) -> None:
        self.config = config
        self._tokens = tokens
        self._session = session
        self._owned = session is None
        self._closed = False
        self._targets: tuple[Target, ...] = config.targets
        self._bases = tuple(target.base_url for target in self._targets)
        self._addresses = tuple(target.address for target in self._targets)
        #: The agent cluster-wide requests go to now (round robin over the targets).
        self.current = 0
        self._loop: asyncio.AbstractEventLoop | None = None  # the loop of the first request
        self._guard: AsyncGenerator[None, None] | None = None
        headers = {"User-Agent": f"aioconsul/{__version__}"}
        if config.token and tokens is None:  # a token that can change rides on each request
            headers["X-Consul-Token"] = config.token
        if config.auth is not None:
            pair = f"{config.auth[0]}:{config.auth[1]}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
        self._headers = headers
        # What each request passes as headers=: all of them for a lent session, none for ours.
        self._call_headers: dict[str, str] | None = headers
        self._typed: dict[str, dict[str, str]] = {}  # the call headers with a Content-Type
        self._ssl: ssl.SSLContext | None = None
        # What every request passes besides (keywords, not a dict merged per request: for
        # speed): aiohttp's default TLS settings until an https agent needs our context.
        self._ssl_arg: ssl.SSLContext | bool = True
        self._server_hostname: str | None = None
        self._timeouts: dict[float | None, aiohttp.ClientTimeout] = {}
        # One deadline queue per request timeout in use (the client's, and each blocking
        # timeout its watches use), a few at most; past that, aiohttp's per-request timeout.
        self._deadlines: dict[float, _Deadlines] = {}
        if config.timeout:
            self._deadlines[config.timeout] = _Deadlines(config.timeout)
        self._ready = False
        self._urls: tuple[dict[str, URL], ...] = tuple({} for _ in self._targets)

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def targets(self) -> int:
        """How many agent addresses there are to fail over between."""
        return len(self._targets)

    @property
    def address(self) -> str:
        """The address of the agent cluster-wide requests go to now, as shown in messages."""
        return self._addresses[self.current]

    def address_of(self, agent: int) -> str:
        """The address of agent number ``agent``, as shown in messages."""
        return self._addresses[agent]

    @property
    def addresses(self) -> tuple[str, ...]:
        """The address of each agent, by number, as shown in messages."""
        return self._addresses

    def fail_over(self, failed: int) -> None:
        """Agent number ``failed`` failed a request: move the shared pointer to the next agent
        (sticky, round robin), but only if it still points at ``failed``.

        Compare-and-advance: when several concurrent requests fail at the same agent, the first
        failure moves the pointer on and the others find it moved already; advancing once per
        failure would, with two agents, bring an even number of failures back onto the dead one.
        """
        if self.current == failed and len(self._targets) > 1:
            self.current = (failed + 1) % len(self._targets)
            log.info("failing over from %s to %s", self._addresses[failed], self.address)

    def _open(self) -> aiohttp.ClientSession:
        if self._closed:
            raise RuntimeError("this Consul client is closed")
        loop = asyncio.get_running_loop()
        if self._loop is None:
            self._loop = loop
        elif loop is not self._loop:
            raise RuntimeError(_OTHER_LOOP)
        config = self.config
        if self._ssl is None and any(t.scheme == "https" for t in self._targets):
            self._ssl = self._ssl_arg = make_ssl_context(config)
            self._server_hostname = config.tls_server_name or None
        if self._session is None:
            connector: aiohttp.BaseConnector
            if config.unix_path is not None:
                connector = aiohttp.UnixConnector(path=config.unix_path, limit=0)
            else:
                connector = aiohttp.TCPConnector(limit=0, limit_per_host=0)
            # The session's requests carry the headers of every request (set once, not merged
            # per call).
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=aiohttp.ClientTimeout(total=None),
                request_class=_request_class(self._headers),
                trace_configs=list(config.trace_configs) or None,
            )
            self._call_headers = None
            self._typed = {}
            # aiohttp silently re-sends a PUT or DELETE once when a reused connection breaks,
            # even after the agent received it: an event would fire twice, a KV write could
            # overwrite a newer one. The request core decides what is safe to repeat instead.
            # (No public switch exists; aiohttp's own test client flips the same attribute.)
            if hasattr(self._session, "_retry_connection"):
                self._session._retry_connection = False
            guard = self._guard = self._loop_guard()
            with contextlib.suppress(StopIteration):
                guard.asend(None).send(None)  # run it to its yield: the loop now knows of it
        self._ready = True
        return self._session

    async def _loop_guard(self) -> AsyncGenerator[None, None]:
        """Closes the session when its event loop shuts down.

        Started once the session exists, this async generator is one the loop knows of: when
        ``asyncio.run()`` ends, the loop's ``shutdown_asyncgens()`` closes it while the loop
        still runs, and the session and its pooled connections are closed with it, so a client
        left open leaks nothing and warns of nothing. Used again in another loop, the client
        then raises a clear RuntimeError (see :meth:`_open`) instead of aiohttp's "Event loop
        is closed".
        """
        try:
            yield
        finally:
            session = self._session
            if session is not None and self._owned and not self._closed:
                self._session = None
                self._ready = False
                await session.close()

    def current_task(self) -> asyncio.Task[Any] | None:
        """The task running in the client's event loop: None before the first request, or
        when no task of that loop runs. Looked up in that loop, for speed: with no loop,
        ``asyncio.current_task()`` asks for the running one, which on Python 3.11 costs a
        ``getpid()`` system call."""
        loop = self._loop
        return None if loop is None else asyncio.current_task(loop)

    def _url(self, target: str, agent: int) -> URL:
        """The URL of ``target`` on agent ``agent``; the ones used most are kept parsed."""
        urls = self._urls[agent]
        url = urls.get(target)
        if url is None:
            url = URL(self._bases[agent] + target, encoded=True)
            if len(urls) >= _URL_CACHE_SIZE:
                urls.clear()
            urls[target] = url
        return url

    def _timeout(self, seconds: float | None) -> aiohttp.ClientTimeout:
        timeouts = self._timeouts
        timeout = timeouts.get(seconds)
        if timeout is None:
            if len(timeouts) >= _TIMEOUT_CACHE_SIZE:
                timeouts.clear()
            timeout = timeouts[seconds] = aiohttp.ClientTimeout(total=seconds)
        return timeout

    async def send(self, request: Request, agent: int = 0,
                   task: asyncio.Task[Any] | None = None) -> tuple[int, Mapping[str, str], bytes]:
        """Send ``request`` to agent number ``agent``; return status, headers and the whole
        body. Errors name that agent's address. ``task`` is the task sending it, when the
        caller has looked it up already (else it is looked up here, for the deadline)."""
        session = self._session
        loop = self._loop
        if task is None and loop is not None:
            task = asyncio.current_task(loop)  # see current_task()
        if not self._ready or session is None or task is None:
            # The first request, a session closed with its loop, or no task of the client's
            # loop running (another loop, or no task at all): _open() checks and opens.
            session = self._open()
            task = asyncio.current_task(self._loop)
        headers = self._call_headers
        content_type = request.content_type
        # aiohttp labels a bytes body application/octet-stream by itself; other types are sent
        # as a header, the merged headers made once per type.
        if content_type is not None and content_type != _OCTETS:
            typed = self._typed.get(content_type)
            if typed is None:
                typed = self._typed[content_type] = {**(headers or {}),
                                                     "Content-Type": content_type}
            headers = typed
        if request.token is not None:
            # The call's own token replaces the client's, for this request only (aiohttp lets
            # a request's header win over the session's of the same name).
            headers = {**(headers or {}), "X-Consul-Token": request.token}
        if request.headers:  # this request's own headers (Cache-Control of a cached read)
            headers = {**(headers or {}), **request.headers}
        url = self._urls[agent].get(request.target)  # the cache's hit without a call, for speed
        if url is None:
            url = self._url(request.target, agent)
        entry = deadlines = None
        timeout = _NO_TIMEOUT
        seconds = request.timeout
        if seconds:
            deadlines = self._deadlines.get(seconds)
            if deadlines is None and len(self._deadlines) < _DEADLINE_QUEUES:
                deadlines = self._deadlines[seconds] = _Deadlines(seconds)
            if deadlines is not None and task is not None:
                entry = deadlines.start(task)
            if entry is None:
                timeout = self._timeout(seconds)
        try:
            # Awaited directly rather than through "async with": read() releases the
            # connection once the body is in, and one coroutine layer less is measurable here.
            response = await session.request(
                request.method, url, data=request.body, headers=headers, timeout=timeout,
                allow_redirects=False, ssl=self._ssl_arg, server_hostname=self._server_hostname,
            )
            try:
                body = await response.read()  # releases the connection once the body is in
            except BaseException:
                response.release()  # a body cut short: free (or drop) the connection
                raise
            return response.status, response.headers, body
        except asyncio.CancelledError:
            if entry is None or not entry[2]:
                raise
            if sys.version_info >= (3, 11) and task is not None:
                task.uncancel()
            raise self._timed_out(request, agent) from None
        except asyncio.TimeoutError:
            raise self._timed_out(request, agent) from None
        except aiohttp.ClientError as exc:
            error = ConnectError if isinstance(exc, aiohttp.ClientConnectorError) \
                else TransportError
            raise error(
                hide(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__,
                     request.secrets),
                operation=request.operation, address=self._addresses[agent],
            ) from exc
        finally:
            if entry is not None and deadlines is not None:
                deadlines.done(entry)  # the timer passes it by

    @contextlib.asynccontextmanager
    async def stream(
        self, request: Request, agent: int = 0, *, chunk_size: int = 0
    ) -> AsyncIterator[tuple[int, Mapping[str, str], Callable[[], Awaitable[bytes]]]]:
        """Send ``request`` for a body read as it comes (``/v1/agent/monitor``): yield status,
        headers and ``readline`` (the body's next line, ``b""`` at its end); with
        ``chunk_size``, a read of the body's next chunk of at most that many bytes instead
        (``/v1/snapshot``). The request's body may be an async iterable of bytes, sent as it
        comes (chunked), never held whole.

        The request's timeout bounds only getting a connection; the answer may take as long as
        it needs. Leaving the block releases the connection: back to the pool if the body was
        read to its end, closed if not (a half-read body never goes back to the pool).
        """
        session = self._session
        if not self._ready or session is None or asyncio.get_running_loop() is not self._loop:
            session = self._open()

        def failed(exc: aiohttp.ClientError) -> TransportError:
            error = ConnectError if isinstance(exc, aiohttp.ClientConnectorError) \
                else TransportError
            return error(hide(f"{type(exc).__name__}: {exc}" if str(exc)
                              else type(exc).__name__, request.secrets),
                         operation=request.operation, address=self._addresses[agent])

        headers = self._call_headers
        if request.token is None and self._tokens is not None:
            await attach(self._tokens, request)
        if request.token is not None:
            headers = {**(headers or {}), "X-Consul-Token": request.token}
        if request.content_type is not None:
            headers = {**(headers or {}), "Content-Type": request.content_type}
        try:
            response = await session.request(
                request.method, self._url(request.target, agent), data=request.body,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=None, connect=request.timeout or None),
                allow_redirects=False, ssl=self._ssl_arg, server_hostname=self._server_hostname,
            )
        except asyncio.TimeoutError:
            raise self._timed_out(request, agent) from None
        except aiohttp.ClientError as exc:
            raise failed(exc) from exc

        async def readline() -> bytes:
            try:
                if chunk_size:
                    return await response.content.read(chunk_size)
                return await response.content.readline()
            except aiohttp.ClientError as exc:
                raise failed(exc) from exc

        try:
            yield response.status, response.headers, readline
        finally:
            if response.content.at_eof():
                response.release()
            else:
                response.close()

    def _timed_out(self, request: Request, agent: int) -> RequestTimeout:
        return RequestTimeout(
            f"no complete answer within {request.timeout:g}s" if request.timeout
            else "the request timed out",
            operation=request.operation, address=self._addresses[agent],
        )

    async def close(self) -> None:
        """Close the session if this transport created it. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._ready = False
        for deadlines in self._deadlines.values():
            deadlines.close()
        session, self._session = self._session, None
        guard, self._guard = self._guard, None
        if guard is not None:
            await guard.aclose()
        if session is not None and self._owned:
            await session.close()
