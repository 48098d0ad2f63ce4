"""What Lock and Semaphore share: the session, the monitor task, loss, and ``cancel_on_loss``.

A recipe object acquires with a session (its own :class:`SessionKeepAlive`, created per
acquisition like the Go client does, or one the caller lends), runs one monitor task while it
holds, and signals loss through a fresh :class:`asyncio.Event` per acquisition. Subclasses supply
the Consul steps (campaign, monitor read, release) and the Go client's error messages. Nothing
here talks to Consul except through ``client.kv`` and ``client.session``, and nothing may outlive
:meth:`_Recipe.release`.

An acquisition that does not succeed must not leave anything held: a write it sent may have been
applied although the request failed or was cancelled (a CAS write is never repeated once sent), so
once it has sent one (:meth:`_Recipe._write`) the release steps follow, then the session the
recipe made is destroyed. That cleanup, like a release, is shielded from cancellation and bounded
in time (``aioconsul._cleanup.shielded``); cancelled at the bound, it sends nothing more.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Awaitable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar

from .._cleanup import shielded
from .._core import normalize
from ..api.kv import MAX_VALUE_SIZE
from ..errors import (
    ConsulError,
    LockError,
    LockHeld,
    LockLost,
    LockNotHeld,
    LockTimeout,
    ServerError,
    TransportError,
)
from ..typing import Duration, ObjectID, Payload
from .keepalive import SessionKeepAlive, _finish

if TYPE_CHECKING:
    from ..client import Consul

__all__ = ["DEFAULT_MONITOR_RETRY_TIME"]

log = logging.getLogger("aioconsul.recipes")

#: Go's DefaultMonitorRetryTime: the pause before a monitor read is retried (with retries > 0).
DEFAULT_MONITOR_RETRY_TIME = "2s"
_NS = 1e-9


def _seconds(value: Any, name: str) -> float:
    return normalize.duration(value, name) * _NS


def _retryable(error: BaseException) -> bool:
    """Go's IsRetryableError: a network error, or a 500 from the agent."""
    return isinstance(error, TransportError) or (
        isinstance(error, ServerError) and error.status == 500)


def _uncancel(task: asyncio.Task[Any], baseline: int) -> bool:
    """Withdraw one cancellation request of ``task``; True when no other one is pending.

    Before Python 3.11 tasks do not count cancellations: the one we made is taken to be the only
    one (like ``asyncio.wait_for`` there).
    """
    if sys.version_info >= (3, 11):
        return task.uncancel() <= baseline
    return True  # pragma: no cover - Python 3.10


def _cancelling(task: asyncio.Task[Any]) -> int:
    if sys.version_info >= (3, 11):
        return task.cancelling()
    return 0  # pragma: no cover - Python 3.10


class _Recipe:
    """The lifecycle shared by :class:`~aioconsul.recipes.lock.Lock` and
    :class:`~aioconsul.recipes.semaphore.Semaphore`."""

    _KIND: ClassVar[str]
    _MSG_HELD: ClassVar[str]
    _MSG_NOT_HELD: ClassVar[str]
    _BEHAVIOR: ClassVar[str | None]
    #: The index the next monitor starts blocking past: a campaign that read the key just now
    #: sets it (0: the monitor's first read does not block).
    _monitor_from: int = 0

    def __init__(
        self,
        client: Consul,
        key: str,
        *,
        value: Payload,
        session: ObjectID | None,
        session_name: str,
        session_ttl: Duration,
        lock_delay: Duration | None,
        wait: Duration,
        wait_name: str,
        try_once: bool,
        monitor_retries: int,
        monitor_retry_time: Duration,
        cancel_on_loss: bool,
        namespace: str | None,
        partition: str | None,
        token: str | None = None,
    ) -> None:
        self._client = client
        self._key = key
        value = normalize.payload(value, "value")
        if len(value) > MAX_VALUE_SIZE:
            raise ValueError(f"value: {len(value)} bytes is over Consul's limit of "
                             f"{MAX_VALUE_SIZE} bytes (kv_max_value_size)")
        self._value = value
        if session is not None and not isinstance(session, SessionKeepAlive):
            session = normalize.object_id(session, "session")
        self._lent: str | SessionKeepAlive | None = session
        if not isinstance(session_name, str):
            raise TypeError(f"session_name: expected a str, got {type(session_name).__name__}")
        self._session_name = session_name
        self._session_ttl = normalize.duration(session_ttl, "session_ttl")
        if self._session_ttl <= 0:
            raise ValueError("session_ttl: a lock's session needs a TTL above 0")
        self._lock_delay = lock_delay
        if lock_delay is not None:
            normalize.duration(lock_delay, "lock_delay")
        self._wait = normalize.duration(wait, wait_name)
        if not isinstance(try_once, bool):
            raise TypeError(f"{wait_name.split('_')[0]}_try_once: expected a bool, "
                            f"got {type(try_once).__name__}")
        self._try_once = try_once
        if isinstance(monitor_retries, bool) or not isinstance(monitor_retries, int):
            raise TypeError(f"monitor_retries: expected an int, got "
                            f"{type(monitor_retries).__name__}")
        if monitor_retries < 0:
            raise ValueError(f"monitor_retries: must not be negative, got {monitor_retries}")
        self._monitor_retries = monitor_retries
        self._monitor_retry_time = _seconds(monitor_retry_time, "monitor_retry_time")
        if not isinstance(cancel_on_loss, bool):
            raise TypeError(f"cancel_on_loss: expected a bool, got {type(cancel_on_loss).__name__}")
        self._cancel_on_loss = cancel_on_loss
        for name, given in (("namespace", namespace), ("partition", partition)):
            if given is not None and not isinstance(given, str):
                raise TypeError(f"{name}: expected a str, got {type(given).__name__}")
        self._where: dict[str, Any] = {}
        if namespace is not None:
            self._where["namespace"] = namespace
        if partition is not None:
            self._where["partition"] = partition
        if token is not None:  # every read, write and session call of the recipe uses it
            self._where["token"] = normalize.token(token)

        self._mutex = asyncio.Lock()
        self._acquired = False
        self._written = False
        self._session_id: str | None = None
        self._own: SessionKeepAlive | None = None
        self._watched: SessionKeepAlive | None = None
        self._monitor: asyncio.Task[None] | None = None
        self._lost = asyncio.Event()
        self._lost_cause: BaseException | None = None
        self._involuntary = False
        self._guarded: asyncio.Task[Any] | None = None
        self._guard_baseline = 0
        self._cancel_requested = False

    # -- state ---------------------------------------------------------------------------------

    @property
    def key(self) -> str:
        """The KV key this recipe coordinates on (a semaphore's prefix)."""
        return self._key

    @property
    def lost(self) -> asyncio.Event:
        """Set once the current acquisition is over: lost, or given up with :meth:`release`.

        A new event is made by each successful acquisition; it is never cleared. While it is
        not set, the monitor has seen nothing that ends the hold — which is not a guarantee:
        sessions favour liveness, a lock can be lost at any moment.
        """
        return self._lost

    @property
    def held(self) -> bool:
        """True from a successful acquisition until it is lost or released."""
        return self._acquired and not self._lost.is_set()

    @property
    def session(self) -> str | None:
        """The id of the session of the current acquisition, None when nothing is held."""
        return self._session_id if self._acquired else None

    @property
    def lost_cause(self) -> BaseException | None:
        """What ended the last hold involuntarily: the error of the monitor read or of the
        session renewal, or None (the key changed hands, or the hold was released)."""
        return self._lost_cause

    def __repr__(self) -> str:
        state = "held" if self.held else "lost" if self._acquired else "free"
        return f"<{type(self).__name__} {self._key!r} {state}>"

    # -- steps the subclasses supply ------------------------------------------------------------

    async def _before_campaign(self, session_id: str) -> None:
        """Anything to write before the campaign (a semaphore's contender key)."""

    async def _campaign(self, session_id: str) -> bool:
        raise NotImplementedError

    async def _check(self, session_id: str, index: int) -> tuple[bool, int]:
        """One monitor read blocking past ``index``: (still held, next index)."""
        raise NotImplementedError

    async def _let_go(self, session_id: str) -> None:
        """Give up what ``session_id`` holds here; harmless when it holds nothing. Also run
        after an acquisition that failed or was cancelled once it had sent a write."""
        raise NotImplementedError

    async def _write(self, request: Awaitable[bool]) -> bool:
        """Send a write of the acquisition (``kv.lock``, ``kv.cas``): from now on it may have been
        applied, so an acquisition that does not succeed ends with :meth:`_let_go`."""
        self._written = True
        return await request

    def _error(self, cls: type[LockError], message: str) -> LockError:
        return cls(message, key=self._key)

    # -- acquisition ------------------------------------------------------------------------

    def _deadline_wait(self, start: float, attempts: int) -> float | None:
        """The try-once bookkeeping of lock.go: the wait left in ns, or None when it ran out."""
        if not (self._try_once and attempts > 0):
            return float(self._wait)
        elapsed = (asyncio.get_running_loop().time() - start) / _NS
        if elapsed > self._wait:
            return None
        return self._wait - elapsed

    def _watch(self, index: int, wait_ns: float) -> tuple[int, str] | None:
        if not index:
            return None
        return index, normalize.format_duration(int(wait_ns))

    async def acquire(self) -> bool:
        """Acquire, waiting as long as it takes; True once held.

        Returns False only in try-once mode, when the wait ran out (Go returns no channel then).
        Raises :class:`~aioconsul.LockHeld` if this object already holds it,
        :class:`~aioconsul.LockConflict` if the key is not a lock of this kind, and the
        :class:`~aioconsul.ConsulError` of a failed request. Cancel the calling task (or wrap
        the call in ``asyncio.timeout``) to give up.

        An attempt that does not succeed — it failed, was cancelled or ran out of time — leaves
        nothing held by its session: once it sent a write (which the agent may have applied
        although the request failed or was cancelled), the release steps follow (for a Lock
        ``?release=<session>``, refused harmlessly when the key is not ours), then the session
        made for the attempt is destroyed; a lent session is never destroyed, only released
        from. This cleanup runs to its end even if the task is cancelled again meanwhile, but
        for at most :data:`~aioconsul.recipes.keepalive.CLEANUP_TIMEOUT` seconds; its errors
        are logged and the attempt's own outcome is raised or returned. When the agent cannot be
        reached the key may stay held until the session's TTL lapses (plus its lock-delay), or,
        for a lent session without a TTL, until its owner destroys it.
        """
        async with self._mutex:
            if self._acquired:
                raise self._error(LockHeld, self._MSG_HELD)
            own: SessionKeepAlive | None = None
            lent = self._lent
            if lent is None:
                own = self._client.session.keepalive(
                    normalize.format_duration(self._session_ttl), name=self._session_name,
                    lock_delay=self._lock_delay,
                    behavior=self._BEHAVIOR, **self._where)
                await own.start()
                session_id = own.id
            else:
                session_id = lent if isinstance(lent, str) else lent.id
            self._written = False
            done = False
            try:
                await self._before_campaign(session_id)
                done = await self._campaign(session_id)
            finally:
                if not done:
                    await self._clean_up(session_id, own)
            if done:
                self._hold(session_id, own)
            return done

    async def _clean_up(self, session_id: str, own: SessionKeepAlive | None) -> None:
        """After an acquisition that did not succeed: release what it may have taken, destroy
        the session made for it (the Go client closes the renew channel)."""
        if own is None and not self._written:
            return  # nothing sent, nothing made
        try:
            await shielded(self._give_up(session_id, own, let_go=self._written),
                            f"{self._KIND} {self._key!r}: cleaning up after a failed acquisition")
        except (ConsulError, LockError) as error:
            log.warning("%s %r: cleaning up after a failed acquisition: %s",
                        self._KIND, self._key, error)

    async def _give_up(self, session_id: str, own: SessionKeepAlive | None, *,
                       monitor: asyncio.Task[None] | None = None, let_go: bool = True) -> None:
        """The release steps, then the session made by this object is destroyed, also when the
        release failed (which frees the key, after a lock-delay). A failed destroy is only
        logged; a failed release is raised. A cancellation (the bound of the cleanup) sends
        nothing more: the session's renewal is stopped and the session left to its TTL."""
        failure: Exception | None = None
        try:
            await _finish(monitor)
            if let_go:
                await self._let_go(session_id)
        except Exception as error:
            failure = error
        except BaseException:
            if own is not None:
                await own._halt()
            raise
        if own is not None:
            try:
                await own.stop()
            except ConsulError as error:
                log.warning("%s %r: could not destroy session %s: %s", self._KIND,
                            self._key, session_id, error)
        if failure is not None:
            raise failure

    def _hold(self, session_id: str, own: SessionKeepAlive | None) -> None:
        self._acquired = True
        self._session_id = session_id
        self._own = own
        self._lost = asyncio.Event()
        self._lost_cause = None
        self._involuntary = False
        watched = own if own is not None else self._lent
        if isinstance(watched, SessionKeepAlive):
            self._watched = watched
            watched._add_listener(self._on_session_lost)
        self._monitor = asyncio.get_running_loop().create_task(
            self._run_monitor(session_id), name=f"aioconsul {self._KIND} monitor {self._key}")
        if self._watched is not None and self._watched.lost.is_set():
            self._on_session_lost()

    # -- monitoring and loss ------------------------------------------------------------------

    async def _run_monitor(self, session_id: str) -> None:
        """lock.go monitorLock: consistent blocking reads until the hold is gone."""
        index, self._monitor_from = self._monitor_from, 0
        while True:
            retries = self._monitor_retries
            while True:
                try:
                    held, index = await self._check(session_id, index)
                    break
                except ConsulError as error:
                    # Ride out a brief unavailability when asked to: a non-blocking retry, so
                    # the retry budget is reset as soon as a read succeeds.
                    if retries > 0 and _retryable(error):
                        await asyncio.sleep(self._monitor_retry_time)
                        retries -= 1
                        index = 0
                        continue
                    self._lose(error)
                    return
                except Exception as error:
                    log.exception("%s %r: monitor failed", self._KIND, self._key)
                    self._lose(error)
                    return
            if not held:
                self._lose(None)
                return

    def _on_session_lost(self) -> None:
        watched = self._watched
        self._lose(watched.error if watched is not None else None)

    def _lose(self, cause: BaseException | None) -> None:
        if not self._acquired or self._lost.is_set():
            return
        log.debug("%s %r lost (%r)", self._KIND, self._key, cause)
        self._lost_cause = cause
        self._involuntary = True
        self._lost.set()
        monitor = self._monitor
        if monitor is not None and monitor is not asyncio.current_task():
            monitor.cancel()  # awaited by release()
        if self._guarded is not None:
            self._cancel_guarded(self._guarded)

    def _cancel_guarded(self, task: asyncio.Task[Any]) -> None:
        """Cancel the ``async with`` body running in ``task``, if it still runs (once)."""
        if self._guarded is not task or self._cancel_requested or task.done():
            return
        if task is asyncio.current_task():
            # Lost before the body began: cancel it at its first await, not in our own frame
            # (a pending cancellation would otherwise hit the release on the way out).
            asyncio.get_running_loop().call_soon(self._cancel_guarded, task)
            return
        self._cancel_requested = True
        task.cancel(f"{self._KIND} {self._key!r} lost")

    # -- release ------------------------------------------------------------------------------

    async def release(self) -> None:
        """Give the hold up; :class:`~aioconsul.LockNotHeld` if nothing is held.

        Also after a loss: the monitor is stopped, the release is sent anyway (Consul refuses
        it, harmlessly, when another session holds the key) and the session this object created
        is destroyed. :attr:`lost` is set afterwards. A failed release request raises its
        :class:`~aioconsul.ConsulError`, but the object no longer holds anything then and its
        session is destroyed all the same (which releases the key, with a lock-delay). The
        release runs to its end although the task is cancelled meanwhile (the cancellation is
        raised afterwards), for at most :data:`~aioconsul.recipes.keepalive.CLEANUP_TIMEOUT`
        seconds (then :class:`~aioconsul.RequestTimeout`; the session's TTL is the backstop).
        """
        async with self._mutex:
            if not self._acquired:
                raise self._error(LockNotHeld, self._MSG_NOT_HELD)
            self._acquired = False
            session_id, own, watched = self._session_id, self._own, self._watched
            self._own = self._watched = None
            if watched is not None:
                watched._remove_listener(self._on_session_lost)
            monitor, self._monitor = self._monitor, None
            if monitor is asyncio.current_task():
                monitor = None
            assert session_id is not None
            try:
                await shielded(self._give_up(session_id, own, monitor=monitor),
                                f"{self._KIND} {self._key!r}: release")
            finally:
                self._lost.set()

    # -- async with -----------------------------------------------------------------------------

    def _guard(self, task: asyncio.Task[Any] | None) -> None:
        """Cancel ``task`` when the hold is lost (``cancel_on_loss``)."""
        if task is None:
            return
        self._guarded = task
        self._guard_baseline = _cancelling(task)
        self._cancel_requested = False
        if self._lost.is_set():
            self._cancel_guarded(task)

    async def _exit(self, exc: BaseException | None) -> bool:
        """Leave the block: release, and tell whether *our* cancellation ended the block."""
        task, requested = self._guarded, self._cancel_requested
        self._guarded, self._cancel_requested = None, False
        was_lost = self._lost.is_set()
        try:
            if self._acquired:
                await self.release()
        except ConsulError as error:
            # A failed release matters only when the block ended normally with the lock held.
            if exc is None and not was_lost:
                raise
            log.warning("%s %r: release failed: %s", self._KIND, self._key, error)
        if requested and task is not None:
            only_ours = _uncancel(task, self._guard_baseline)
            return only_ours and isinstance(exc, asyncio.CancelledError)
        return False

    async def __aenter__(self) -> Any:
        if not await self.acquire():
            raise self._error(LockTimeout, f"not acquired within {self._wait * _NS:g}s")
        if self._cancel_on_loss:
            self._guard(asyncio.current_task())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if await self._exit(exc):
            raise self._error(LockLost, f"{self._KIND} lost") from exc


def _flags(entry: Mapping[str, Any] | None) -> int:
    return int(entry.get("Flags") or 0) if entry is not None else 0
