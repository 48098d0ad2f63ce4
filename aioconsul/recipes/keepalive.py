"""Session keep-alive: a TTL session renewed by a background task, Go's ``RenewPeriodic``.

:class:`SessionKeepAlive` creates a session, renews it every TTL/2, follows the TTL the agent
returns, retries failed renewals every second until the TTL since the last successful renewal has
passed, treats a 404 as a lost session at once, and destroys the session when it stops. It talks to
Consul only through the :class:`~aioconsul.api.session.Session` endpoint it was given, and it must
never leave its renewal task running after :meth:`SessionKeepAlive.stop`.

Its destroy is a cleanup step (``aioconsul._cleanup.shielded``): it runs to its end although its
caller is cancelled, for at most :data:`CLEANUP_TIMEOUT` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import inspect
import logging
from collections.abc import Callable, Iterator, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

from .._cleanup import CLEANUP_TIMEOUT, shielded
from .._core import normalize
from ..errors import ConsulError, NotFound

if TYPE_CHECKING:
    from ..api.session import Session

__all__ = ["CLEANUP_TIMEOUT", "RENEW_RETRY_TIME", "SessionKeepAlive"]

log = logging.getLogger("aioconsul.recipes")

#: How long to wait before retrying a failed renewal (Go's RenewPeriodic: ``time.Second``).
RENEW_RETRY_TIME = 1.0

_NS = 1e-9


class SessionKeepAlive(Mapping[str, Any]):
    """A session kept alive by a background task: ``async with client.session.keepalive("15s")``.

    Made by :meth:`Session.keepalive <aioconsul.api.session.Session.keepalive>`. Entering the
    context (or :meth:`start`) creates the session and starts renewing it; leaving it (or
    :meth:`stop`) stops renewing and destroys the session, also on an exception or a
    cancellation. The object is an :data:`~aioconsul.typing.ObjectID` (a mapping with ``"ID"``),
    so it can be passed wherever a session is expected::

        async with client.session.keepalive(ttl="15s") as session:
            await client.kv.lock("service/leader", b"me", session=session)
            await session.lost.wait()  # the session is gone: stop acting as its holder

    Renewal follows the Go client's ``Session.RenewPeriodic``: renew every TTL/2; adopt the
    ``TTL`` the agent returns (a loaded cluster may ask for a longer one); after a failed renewal
    retry every second; declare the session lost when no renewal succeeded for a whole TTL since
    the last successful one (measured from when that renewal was sent), or at once when the agent
    answers 404 (the session expired or was destroyed). Consul itself may keep the session up to
    twice its TTL, so this errs on the side of declaring loss early.

    On loss :attr:`lost` is set, :attr:`error` holds the cause and ``on_lost(keepalive)`` is
    called (awaited when it returns an awaitable; its exceptions are logged). Renewal stops then;
    leaving the context still tries to destroy the session.
    """

    def __init__(
        self,
        endpoint: Session,
        ttl_ns: int,
        create_options: dict[str, Any],
        on_lost: Callable[[SessionKeepAlive], Any] | None = None,
    ) -> None:
        self._endpoint = endpoint
        self._ttl_ns = ttl_ns
        self._options = create_options
        self._where = {key: create_options[key] for key in ("namespace", "partition", "token")
                       if create_options.get(key) is not None}
        self._on_lost = on_lost
        self._id: str | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopped = False
        self._listeners: list[Callable[[], None]] = []
        self._last_renewal = 0.0
        #: Set once the session is lost (see the class description); never cleared.
        self.lost = asyncio.Event()
        #: Why the session was lost: the last renewal error, :class:`~aioconsul.NotFound` for a
        #: 404, or None while it is not lost.
        self.error: BaseException | None = None
        #: How many renewals succeeded.
        self.renewals = 0

    # -- the ObjectID face -------------------------------------------------------------------

    @property
    def id(self) -> str:
        """The session's id; ``RuntimeError`` before the session was created."""
        if self._id is None:
            raise RuntimeError("the keep-alive session is not created yet: use 'async with' "
                               "or await start() first")
        return self._id

    @property
    def ttl(self) -> datetime.timedelta:
        """The session's current TTL: the one asked for, or the last one the agent returned."""
        return datetime.timedelta(microseconds=self._ttl_ns // 1000)

    @property
    def running(self) -> bool:
        """True while the session exists and is being renewed (started, not lost, not stopped)."""
        return self._task is not None and not self._task.done()

    def __getitem__(self, key: str) -> Any:
        if key == "ID" and self._id is not None:
            return self._id
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(("ID",) if self._id is not None else ())

    def __len__(self) -> int:
        return 0 if self._id is None else 1

    def __repr__(self) -> str:
        state = ("lost" if self.lost.is_set() else "stopped" if self._stopped
                 else "running" if self._id is not None else "new")
        return f"<SessionKeepAlive {self._id or '-'} ttl={self._ttl_ns / 1e9:g}s {state}>"

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> SessionKeepAlive:
        """Create the session (``PUT /v1/session/create``) and start renewing it.

        When the create fails after it was sent (a 500 after the agent applied it, a timeout, a
        reset) or the caller is cancelled meanwhile, the agent may have made a session whose id
        never reached us: nothing can destroy it, but it holds nothing and its TTL ends it.
        """
        if self._id is not None or self._stopped:
            raise RuntimeError("a SessionKeepAlive can be started only once")
        loop = asyncio.get_running_loop()
        sent = loop.time()
        created = await self._endpoint.create(
            ttl=normalize.format_duration(self._ttl_ns), **self._options)
        self._id = normalize.object_id(created, "session")
        self._last_renewal = sent
        self._task = loop.create_task(self._run(), name=f"aioconsul session keep-alive {self._id}")
        return self

    async def stop(self) -> None:
        """Stop renewing and destroy the session (``PUT /v1/session/destroy``). Idempotent.

        The renewal task is cancelled and awaited first, so no renewal follows the destroy. The
        destroy is shielded from a cancellation of the caller (raised once it is done) and
        bounded by :data:`CLEANUP_TIMEOUT`. A failed destroy raises its
        :class:`~aioconsul.ConsulError` (:class:`~aioconsul.RequestTimeout` past the bound): the
        session, no longer renewed, then lives on until its TTL lapses.
        """
        if self._stopped:
            return
        self._stopped = True
        renewal = self._task
        if renewal is None and self._id is None:
            return  # never started
        if renewal is asyncio.current_task():
            renewal = None  # stopped from within the task itself (on_lost): it ends by itself
        await shielded(self._destroy(renewal), f"destroying session {self._id}")

    async def _halt(self) -> None:
        """Stop renewing without destroying the session (no request): its TTL will end it."""
        self._stopped = True
        task = self._task
        await _finish(task if task is not asyncio.current_task() else None)

    async def _destroy(self, renewal: asyncio.Task[None] | None) -> None:
        await _finish(renewal)
        if self._id is not None:
            await self._endpoint.destroy(self._id, **self._where)

    async def __aenter__(self) -> SessionKeepAlive:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Like the Go client, a failed destroy on the way out is not an error of the block.
        try:
            await self.stop()
        except ConsulError as error:
            log.warning("could not destroy session %s: %s", self._id, error)

    # -- internals shared with the Lock and Semaphore recipes -------------------------------

    def _add_listener(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` (synchronously, in the renewal task) when the session is lost."""
        self._listeners.append(callback)

    def _remove_listener(self, callback: Callable[[], None]) -> None:
        with contextlib.suppress(ValueError):
            self._listeners.remove(callback)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        wait = self._ttl_ns * _NS / 2
        while True:
            remaining = self._last_renewal + self._ttl_ns * _NS - loop.time()
            if remaining <= 0:
                break
            if self.error is not None and remaining < wait:
                # After a failure the next retry would come after the TTL ran out (Go's
                # RenewPeriodic waits its full retry time, then finds the session expired): it
                # cannot save the session, so none is sent, and a renewal answered at once can
                # never turn the last moments of the TTL into a busy loop.
                await asyncio.sleep(remaining)
                break
            await asyncio.sleep(min(wait, remaining))
            remaining = self._last_renewal + self._ttl_ns * _NS - loop.time()
            if remaining <= 0:
                break
            sent = loop.time()
            try:
                # A renewal that cannot finish before the TTL runs out cannot save the session.
                entry = await asyncio.wait_for(
                    self._endpoint.renew(self.id, **self._where), remaining)
            except NotFound as exc:
                self.error = exc  # 404: the session expired or was destroyed (ErrSessionExpired)
                break
            except (ConsulError, asyncio.TimeoutError) as exc:
                log.debug("renewing session %s failed: %s", self._id, exc)
                self.error = exc
                wait = RENEW_RETRY_TIME
                continue
            except Exception as exc:  # a bug, not Consul: do not retry it
                log.exception("renewing session %s failed", self._id)
                self.error = exc
                break
            self.renewals += 1
            self._last_renewal = sent
            self._ttl_ns = _returned_ttl(entry, self._ttl_ns)
            wait = self._ttl_ns * _NS / 2
            self.error = None
        if self.error is None:
            self.error = asyncio.TimeoutError(
                f"session {self._id} was not renewed within its TTL")
        await self._lose()

    async def _lose(self) -> None:
        self.lost.set()
        for callback in list(self._listeners):
            try:
                callback()
            except Exception:
                log.exception("a session-loss listener failed")
        if self._on_lost is not None:
            try:
                result = self._on_lost(self)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                log.exception("on_lost callback of session %s failed", self._id)


def _returned_ttl(entry: Any, current_ns: int) -> int:
    """The TTL the agent returned with a renewal, or ``current_ns`` when it gave none usable."""
    ttl = entry.get("TTL") if isinstance(entry, Mapping) else None
    if isinstance(ttl, str) and ttl:
        try:
            ns = normalize.duration(ttl, "TTL")
        except ValueError:
            return current_ns
        if ns > 0:
            return ns
    return current_ns


async def _finish(task: asyncio.Task[Any] | None) -> None:
    """Cancel ``task`` and wait until it has ended, without swallowing our own cancellation."""
    if task is None or task is asyncio.current_task():
        return  # stopped from within the task itself (an on_lost callback): it ends by itself
    if not task.done():
        task.cancel()
        await asyncio.wait((task,))
    if not task.cancelled() and task.exception() is not None:  # retrieved, so never "unhandled"
        log.debug("background task %s ended with %r", task.get_name(), task.exception())
