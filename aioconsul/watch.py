"""Watches: async iterators over any blocking read, keyed on the response's ``Index``.

The loop follows Consul's blocking-query rules (features/blocking.mdx) and the Go watch package:
the first result comes at once; afterwards a result is yielded only when the index moved and the
data changed; an index that goes backwards resets to 0; an index below 1 is used as 1, so a zero
or missing index never makes the loop spin; a token bucket (burst 2) caps how fast the loop may
query when the agent answers at once; errors back off exponentially with jitter and the loop
resumes by itself (whatever ``errors`` says: with ``"raise"`` the pause is owed before the next
read, so a consumer that catches the error and iterates again does not hammer a failing agent).
A read that blocks on a content hash (``agent.services.get``) and finds nothing (a 404, whose
answer has no ``ContentHash`` to block on) counts as a failed read, as in Go's
``agentServiceWatch`` (api/watch/funcs.go): the watch backs off and retries, and yields the
result once it exists.

Watches of one client that would send the same requests share one read (``_Read``; which
ones: ``aioconsul._share``): the read keeps the index, the rate limit and the back-off, and
publishes each outcome; each :class:`Watch` is a subscriber that takes the latest outcome from
its own position, with its own dedupe and error mode. A read is made only when a subscriber
waits for news. A lone watch's read runs in the consumer's own task (no task of its own: a task
per wake-up would cost more than the rest of the watch's work), which :meth:`Watch.aclose`
interrupts from anywhere; a shared read runs as a task that only the last subscriber leaving
(or ``Consul.close()``) cancels, so that no subscriber's cancellation cuts the others' read.
No task of a watch outlives its read's last subscriber, or the client.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import datetime
import functools
import inspect
import logging
import sys
import time
import weakref
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from types import MappingProxyType, TracebackType
from typing import Any, Generic, Literal, TypeVar, cast, overload

from ._core import normalize
from ._core.retry import WATCHING, Backoff
from ._share import Key, Shares, close_table, key_of, shares_of
from .errors import ConsulError, NotFound
from .typing import Duration, Meta, Object

__all__ = ["Backoff", "ErrorMode", "EventWatch", "QuietErrors", "Watch", "blocks_on_hash"]

log = logging.getLogger("aioconsul.watch")

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])
Item = TypeVar("Item", covariant=True)
#: What a watch does with a failed read: log it and retry, raise it, or yield it and retry.
ErrorMode = Literal["log", "raise", "yield"]
_ERROR_MODES = ("log", "raise", "yield")
#: The error modes whose watches never yield an error (every item is ``(data, meta)``).
QuietErrors = Literal["log", "raise"]

#: Whether a lone watch can read in its consumer's task: aclose() cancels the consumer there and
#: takes the cancellation back with Task.uncancel (Python 3.11+); without it, reads are tasks.
_UNCANCEL = sys.version_info >= (3, 11)
#: The back-off of a watch that names none.
_BACKOFF = Backoff()
#: The keyword arguments of the reads that have none.
_NO_KWARGS: Mapping[str, Any] = MappingProxyType({})

#: The attribute :func:`blocks_on_hash` sets on a read.
_HASH_MARK = "__aioconsul_blocks_on_hash__"


def blocks_on_hash(read: F) -> F:
    """Mark ``read`` as a read whose ``watch=`` is a content hash, not an index (the agent-local
    ``/v1/agent/service/:id``). A watch of it treats an answer without ``ContentHash`` (a 404)
    as a failed read."""
    setattr(read, _HASH_MARK, True)
    return read


# Whether a read's function takes ``watch=``, by function: inspect.signature is slow.
_TAKES_WATCH: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()


def _takes_watch(read: Callable[..., Any]) -> bool:
    function = getattr(read, "__func__", read)
    try:
        return _TAKES_WATCH[function]
    except (KeyError, TypeError):
        pass
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):  # no signature to read (a builtin): let the call decide
        return True
    takes = any((p.name == "watch" and p.kind is not p.POSITIONAL_ONLY)
                or p.kind is p.VAR_KEYWORD for p in parameters)
    with contextlib.suppress(TypeError):  # not weak-referenceable: not cached
        _TAKES_WATCH[function] = takes
    return takes


#: The rate limit of a watch's reads, a token bucket: this many at once, then one per
#: ``min_interval``.
_BURST = 2


@functools.lru_cache(maxsize=64)
def _wait_of(wait: Duration) -> datetime.timedelta:
    """A watch's ``wait``, parsed once (a timedelta is cheap to read again at every request, a
    string is not). Kept for the few waits in use: the watches of one wait share one object
    (a timedelta of their own was 40 bytes each)."""
    return datetime.timedelta(microseconds=normalize.duration(wait, "wait") // 1_000)


def _clone(exc: BaseException) -> BaseException:
    """A twin of ``exc`` for one more subscriber: raising one exception object in many tasks
    would grow one traceback and one ``__context__`` for all of them. Same class, message,
    attributes and traceback; ``exc`` itself when it cannot be copied."""
    try:
        twin = copy.copy(exc)
    except Exception:
        return exc
    twin.__cause__, twin.__context__ = exc.__cause__, exc.__context__
    twin.__suppress_context__ = exc.__suppress_context__
    return twin.with_traceback(exc.__traceback__)


class _Read:
    """One blocking read followed for its watches: the loop's rules (index, dedupe by index,
    rate limit, back-off) and the latest outcome, which each watch takes from here.

    A read is made only when a watch waits for news. It runs in that watch's own task when the
    watch is the read's only subscriber (and Python has ``Task.uncancel``), so that a lone watch
    costs no task; otherwise it runs as a task of the read, which no subscriber's cancellation
    touches: only the last subscriber leaving, or the client closing, cancels it.
    """

    __slots__ = (
        "args", "backoff", "busy", "closed", "count", "error", "failed", "failures", "fatal",
        "given", "hash", "index", "interval", "key", "kwargs", "leader", "meta", "moved", "pause",
        "raisers", "read", "result", "shares", "stamp", "task", "tokens", "version", "wait",
        "waiters",
    )

    def __init__(self, read: Callable[..., Awaitable[tuple[Any, Meta]]], args: tuple[Any, ...],
                 kwargs: Mapping[str, Any], wait: datetime.timedelta | None, backoff: Backoff,
                 min_interval: float) -> None:
        self.read = read
        self.args = args
        self.kwargs = kwargs or _NO_KWARGS  # one empty mapping for all (64 bytes a watch)
        self.wait = wait
        self.hash = bool(getattr(read, _HASH_MARK, False))
        self.backoff = backoff
        # The rate limit's bucket (in the read itself, not an object of its own: for memory).
        self.interval = min_interval
        self.tokens: float = _BURST
        self.stamp = time.monotonic()
        # Where the read stands.
        self.meta: Meta | None = None  # the Meta to block on next; None: read at once
        self.index = 0  # its index (0 with no Meta)
        self.failures = 0
        self.pause = 0.0  # back-off owed before the next read
        self.failed = False  # the last read failed: re-read at once before blocking again
        # The latest outcome: version counts them; result is the last success (data, meta),
        # error the failure when the latest outcome is one (fatal: not a ConsulError).
        self.version = 0
        self.result: tuple[Any, Meta] | None = None
        self.error: BaseException | None = None
        self.fatal = False
        self.given = False  # the error object itself went to a subscriber: the others, twins
        self.moved = 0  # the version of the latest result whose index moved
        # Who: subscribers (how many, how many raise), who waits, what reads.
        self.count = 0
        self.raisers = 0
        self.waiters: list[asyncio.Future[None]] | None = None  # made when one waits
        self.busy = False  # a read is under way (in the leader's task, or in task)
        self.leader: Watch[Any] | None = None  # the lone watch reading in its own task
        self.task: asyncio.Task[None] | None = None
        self.closed = False
        self.shares: Shares[_Read] | None = None
        self.key: Key | None = None

    @property
    def name(self) -> str:
        return str(getattr(self.read, "__qualname__", self.read))

    # -- one read: begin(), then the request awaited by whoever runs it (the lone watch's task,
    # -- or the read's own: _run), then done() or fail(). All the loop's rules are in these.

    def begin(self) -> float:
        """Start a read: how long to wait first (the back-off owed, the rate limit)."""
        pause, self.pause = self.pause, 0.0
        interval = self.interval
        if interval <= 0:
            return pause
        # The token bucket: refilled at one token per interval, up to _BURST; a read takes one,
        # and waits for it when there is none.
        now = time.monotonic()
        tokens = min(_BURST, self.tokens + (now - self.stamp) / interval) - 1
        self.tokens, self.stamp = tokens, now
        return pause if tokens >= 0 else max(pause, -tokens * interval)

    def request(self) -> Awaitable[tuple[Any, Meta]]:
        """The read to await now: the read called with ``watch=None`` (read at once) or
        ``(meta, wait)``. Made as the read is called, so that nothing but the request keeps the
        position while the read blocks (a tuple per parked watch, where it was kept in the
        reading frame)."""
        # After a failure the next read does not block: the agent may have restarted with
        # other data at the same index. The index itself is kept (see done).
        meta = self.meta
        return self.read(*self.args, watch=None if meta is None or self.failed
                         else (meta, self.wait), **self.kwargs)

    def done(self, result: tuple[Any, Meta]) -> None:
        """Publish a read's result, ``(data, meta)``."""
        data, meta = result
        if self.hash and data is None and "ContentHash" not in meta:
            # Nothing to block on: Go's agentServiceWatch takes the 404 as an error.
            self.fail(NotFound(f"{self.name}: not found (no content hash to block on)",
                               status=404, meta=meta))
            return
        self.failures = 0
        recheck, self.failed = self.failed, False
        # Move the blocking position on; moved: the index or content hash changed, or the index
        # went backwards and was reset (here, not in a method of its own: every wake-up).
        previous, last_meta = self.index, self.meta
        index = int(meta.get("Index", 0) or 0)
        if 0 < index < previous:
            # The index went backwards (a snapshot restore, the newest key of a prefix
            # reaped...): reset to 0 and read afresh (features/blocking.mdx, "Reset the index").
            self.meta, self.index = None, 0
            moved = True
        else:
            # A zero or missing index would not block: 1 is always safe to wait on
            # (blocking.mdx).
            if index >= 1:
                self.meta, self.index = meta, index
            else:
                self.meta, self.index = Meta(meta, Index=1), 1
            # Only a hash-blocking read's answer carries a ContentHash: an index read's Meta is
            # not asked for it.
            moved = recheck or self.index != previous or (
                self.hash and meta.get("ContentHash")
                != (last_meta and last_meta.get("ContentHash")))
        last = self.result
        if moved and self.count > 1 and last is not None and (data is last[0]
                                                              or data == last[0]):
            # Compared once here: the subscribers that hold the last data tell it by identity
            # (a lone watch compares for itself: one comparison, as before sharing).
            result = (last[0], meta)
        elif type(result) is not tuple:  # a read of the application's own
            result = (data, meta)
        self.version += 1
        self.result = result
        self.error = None
        if moved:
            self.moved = self.version
        if self.waiters:
            self.wake()

    def fail(self, exc: Exception) -> None:
        """Publish a read's failure: a ConsulError backs off (and is logged once, unless every
        subscriber raises it); anything else (a closed client...) is raised by every one."""
        if isinstance(exc, ConsulError):
            self.failures += 1
            self.failed = True
            # The pause is owed before the next read, whatever happens to this error.
            self.pause = self.backoff.delay(self.failures)
            if self.raisers < self.count:
                log.warning("watch of %s failed (%s); retrying in %.1fs",
                            self.name, exc, self.pause)
        self.version += 1
        self.error, self.fatal, self.given = exc, not isinstance(exc, ConsulError), False
        if self.waiters:
            self.wake()

    def give(self, exc: BaseException) -> BaseException:
        """The error to raise or yield to one subscriber: the first gets it, others a twin."""
        if not self.given:
            self.given = True
            return exc
        return _clone(exc)

    def wake(self) -> None:
        """Wake every subscriber waiting for news (they look at the version again)."""
        waiters, self.waiters = self.waiters, None
        for waiter in waiters or ():
            if not waiter.done():
                waiter.set_result(None)

    def start(self) -> None:
        """Make the next read in a task of the read's own."""
        self.busy = True
        self.task = asyncio.get_running_loop().create_task(
            self._run(), name=f"aioconsul-watch-read: {self.name}")

    async def _run(self) -> None:
        try:
            delay = self.begin()
            if delay:
                await asyncio.sleep(delay)
            task = asyncio.current_task()
            assert task is not None
            WATCHING.add(task)  # the core: a watch's read (the watch backs off by itself)
            try:
                result = await self.request()
            except Exception as exc:
                self.fail(exc)
            else:
                self.done(result)
            finally:
                WATCHING.discard(task)
        finally:
            self.busy = False
            self.task = None
            self.wake()

    # -- subscribers ----------------------------------------------------------------------------

    def join(self, raises: bool) -> int:
        """Count one more subscriber; return the version it starts from: it takes the latest
        outcome at once (a result, or the failure the read is in), unless that is an error
        that is not about the request, or there is none yet."""
        self.count += 1
        self.raisers += raises
        return self.version if self.fatal or not self.version else self.version - 1

    def drop(self, raises: bool) -> asyncio.Task[None] | None:
        """Count one subscriber less; when none is left, forget the read and cancel its task,
        returned for the caller to wait for."""
        self.count -= 1
        self.raisers -= raises
        if self.count > 0:
            return None
        if self.shares is not None:
            self.shares.discard(self.key, self)
            self.shares = None
        task = self.task
        if task is not None and not task.done():
            task.cancel()
            return task
        return None

    def close(self) -> list[asyncio.Future[Any]]:
        """The client is closing: end every subscriber's iteration and stop the read in
        flight; return what to wait for until it has let go of its connection."""
        self.closed = True
        self.shares = None
        self.wake()
        pending: list[asyncio.Future[Any]] = []
        leader = self.leader
        if leader is not None:
            unwound = leader._interrupt()
            if unwound is not None:
                pending.append(unwound)
        task = self.task
        if task is not None and not task.done():
            task.cancel()
            pending.append(task)
        return pending


async def close_watches(transport: Any) -> None:
    """End every watch of the client whose transport is ``transport`` (``Consul.close()``):
    their iterations end, their reads in flight are cancelled and waited for. Later watches of
    the client are not shared (and fail as the closed client's requests do)."""
    pending = [future for read in close_table(transport) for future in read.close()]
    if pending:
        await asyncio.wait(pending)


class Watch(Generic[Item]):
    """An async iterator over the changing result of one blocking read.

    ``read`` is any method that takes ``watch=`` (``client.kv.get``, ``client.health.service``,
    ``client.catalog.nodes``...), called with ``args`` and ``kwargs``; a callable without a
    ``watch`` parameter (``client.kv.set``) is refused here with a TypeError naming ``read``.
    Each item is the read's ``(data, meta)``; with ``errors="yield"`` a failed read is yielded as
    its :class:`~aioconsul.ConsulError` instead (and the watch goes on after the back-off), and
    the watch is typed ``Watch[tuple[T, Meta] | ConsulError]``; otherwise
    ``Watch[tuple[T, Meta]]``, ``T`` being what the read returns beside its Meta.
    With ``errors="log"`` a failed read is logged and retried after the back-off; with
    ``"raise"`` it is raised, and iterating again retries after the same back-off.

    ``token=`` among ``kwargs`` is the ACL token every read of the watch is made with (checked
    here), instead of the client's; like every token, it is never shown by ``repr()``.

    Watches of one client that would send the same requests (same read, arguments, token,
    consistency, ``wait``, ``backoff`` and ``min_interval``) share one: each is a subscriber of
    the shared read, with its own ``errors=`` and its own position (see :ref:`shared-watches`).
    ``shared=False`` gives the watch a read of its own.

    Use ``async with`` (or call :meth:`aclose`) so that leaving the loop early cancels the
    request in flight at once (when no other watch shares it).
    """

    __slots__ = (
        "_closed",
        "_consumer",
        "_errors",
        "_last",
        "_left",
        "_read",
        "_seen",
        "_started",
        "_unwound",
        "_waiter",
    )

    @overload
    def __init__(
        self: Watch[tuple[T, Meta]],
        read: Callable[..., Awaitable[tuple[T, Meta]]],
        *args: Any,
        wait: Duration | None = "5m",
        errors: QuietErrors = "log",
        backoff: Backoff | None = None,
        min_interval: float = 0.05,
        shared: bool = True,
        **kwargs: Any,
    ) -> None: ...

    @overload
    def __init__(
        self: Watch[tuple[T, Meta] | ConsulError],
        read: Callable[..., Awaitable[tuple[T, Meta]]],
        *args: Any,
        wait: Duration | None = "5m",
        errors: ErrorMode,
        backoff: Backoff | None = None,
        min_interval: float = 0.05,
        shared: bool = True,
        **kwargs: Any,
    ) -> None: ...

    def __init__(
        self,
        read: Callable[..., Awaitable[tuple[Any, Meta]]],
        *args: Any,
        wait: Duration | None = "5m",
        errors: ErrorMode = "log",
        backoff: Backoff | None = None,
        min_interval: float = 0.05,
        shared: bool = True,
        **kwargs: Any,
    ) -> None:
        self._left = True  # not a subscriber yet (__del__ of a watch refused below)
        if not callable(read):
            raise TypeError(f"read: expected a blocking read method, got {type(read).__name__}")
        if not _takes_watch(read):
            name = getattr(read, "__qualname__", repr(read))
            raise TypeError(f"read: {name} takes no watch= argument, it is not a blocking read")
        if "watch" in kwargs:
            raise TypeError("watch: the watch sets the blocking index itself")
        if kwargs.get("token") is not None:  # the ACL token of every read: refused now, not later
            normalize.token(kwargs["token"])
        if errors not in _ERROR_MODES:
            raise ValueError(f"errors: expected one of {', '.join(_ERROR_MODES)}, got {errors!r}")
        if isinstance(min_interval, bool) or not isinstance(min_interval, (int, float)) \
                or min_interval < 0:
            raise ValueError(f"min_interval: expected seconds >= 0, got {min_interval!r}")
        if wait is not None and not isinstance(wait, (str, datetime.timedelta)):
            normalize.duration(wait, "wait")  # not a Duration (nor a key of the cache): refused
        timedelta = None if wait is None else _wait_of(wait)
        backoff = backoff if backoff is not None else _BACKOFF
        shares = shares_of(read)
        key = None
        if shared and shares is not None:
            key = key_of(read, args, kwargs, (timedelta, backoff, float(min_interval)))
        found = shares.get(key) if shares is not None and key is not None else None
        if found is None:
            found = _Read(read, args, kwargs, timedelta, backoff, float(min_interval))
            if shares is not None:
                found.shares, found.key = shares, key
                shares.add(key, found)
        self._read = found
        self._errors = errors
        self._seen = found.join(errors == "raise")
        self._left = False
        self._last: Any = None
        self._started = False
        self._closed = False
        self._consumer: asyncio.Task[Any] | None = None  # the consumer, while it reads
        self._unwound: asyncio.Future[None] | None = None  # set once aclose's cancel unwound
        self._waiter: asyncio.Future[None] | None = None  # the consumer's, while it waits

    @property
    def index(self) -> int:
        """The index the next read waits past (0: it reads at once)."""
        return self._read.index

    @property
    def failures(self) -> int:
        """How many reads in a row have failed (0 once one succeeds)."""
        return self._read.failures

    @property
    def closed(self) -> bool:
        return self._closed or self._read.closed

    @property
    def subscribers(self) -> int:
        """How many watches share this watch's read (1 when it has it alone)."""
        return self._read.count

    def __aiter__(self) -> Watch[Item]:
        return self

    async def __anext__(self) -> Item:
        read = self._read
        while True:
            if self._closed or read.closed:
                raise StopAsyncIteration
            version = read.version
            if version == self._seen:  # nothing new: read, or wait for the read under way
                consumer = None if read.busy or read.count > 1 or not _UNCANCEL \
                    else asyncio.current_task()
                if consumer is None:
                    await self._wait(read)
                    continue
                # Alone: the read runs here, in the consumer's own task (a task per wake-up
                # would cost more than the rest of the watch's work), the steps of _Read._run
                # inline (a coroutine of their own would stay suspended beside each parked
                # watch, some 300 bytes); aclose() interrupts it by cancelling the consumer.
                self._consumer = consumer
                read.busy, read.leader = True, self
                try:
                    delay = read.begin()
                    if delay:
                        await asyncio.sleep(delay)
                    WATCHING.add(consumer)  # the core: a watch's read (the watch backs off)
                    try:
                        result = await read.request()
                    except Exception as exc:
                        read.fail(exc)
                    else:
                        read.done(result)
                    finally:
                        WATCHING.discard(consumer)
                except asyncio.CancelledError:
                    if self._closed_here(consumer):
                        raise StopAsyncIteration from None
                    raise
                finally:
                    read.busy, read.leader = False, None
                    self._consumer = None
                    unwound, self._unwound = self._unwound, None
                    if unwound is not None and not unwound.done():
                        unwound.set_result(None)
                    if read.waiters:  # who joined meanwhile takes over a read cut short
                        read.wake()
                version = read.version  # the outcome just published
            seen, self._seen = self._seen, version
            error = read.error
            if error is not None:
                if read.fatal or self._errors == "raise":
                    raise read.give(error)
                if self._errors == "yield":
                    return cast(Item, read.give(error))
                continue  # logged by the read
            result = read.result
            assert result is not None
            data = result[0]
            # Yielded only when the index moved since this watch's last look and the data
            # changed (the read hands equal data on as the same object: identity first).
            if self._started and (read.moved <= seen or data is self._last
                                  or data == self._last):
                continue
            self._started = True
            self._last = data
            return result  # type: ignore[return-value]  # (no cast(): a call per item)

    def _closed_here(self, consumer: asyncio.Task[Any]) -> bool:
        """On a CancelledError while reading: True when it is :meth:`aclose`'s cancellation
        alone (then taken back with ``Task.uncancel``, and the iteration ends); a cancellation
        of the consumer by anyone else stays a cancellation."""
        if sys.version_info >= (3, 11) and self._unwound is not None:
            return consumer.uncancel() == 0
        return False

    async def _wait(self, read: _Read) -> None:
        """Wait for the next outcome of the read, starting it as a task when none is under way
        (the read is shared, or Python 3.10 has no ``Task.uncancel``)."""
        if not read.busy:
            read.start()
        self._waiter = waiter = asyncio.get_running_loop().create_future()
        if read.waiters is None:
            read.waiters = [waiter]
        else:
            read.waiters.append(waiter)
        try:
            await waiter
        finally:
            self._waiter = None

    def _interrupt(self) -> asyncio.Future[None] | None:
        """Stop this watch's wait now: wake it if it waits for a shared read; cancel its own
        task if it reads there, returning a future set once the read has unwound."""
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        consumer = self._consumer
        if consumer is None or consumer is asyncio.current_task():
            return None
        if self._unwound is None:
            self._unwound = asyncio.get_running_loop().create_future()
            consumer.cancel()
        return self._unwound

    async def aclose(self) -> None:
        """End the watch at once: its iteration ends, and its read in flight is cancelled (when
        no other watch shares it; waiting until it has let go of its connection). Idempotent."""
        self._closed = True
        unwound = self._interrupt()
        if unwound is not None:
            await unwound
        if not self._left:
            self._left = True
            task = self._read.drop(self._errors == "raise")
            if task is not None:
                await asyncio.wait([task])

    def __del__(self) -> None:
        # A watch dropped without aclose() (a break out of async for) leaves its read too.
        if not getattr(self, "_left", True):
            self._left = True
            with contextlib.suppress(Exception):  # at shutdown, a loop already closed
                self._read.drop(self._errors == "raise")

    async def __aenter__(self) -> Watch[Item]:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"index={self.index}"
        count = self._read.count
        shared = f" shared by {count}" if count > 1 else ""
        return f"<Watch {self._read.name} {state}{shared}>"


#: How many event IDs an :class:`EventWatch` remembers: the agent's buffer (256) plus margin.
EVENT_MEMORY = 512


class EventWatch(Generic[Item]):
    """Each new user event, once, as ``(event, meta)``.

    Events are not indexed like the rest: ``/v1/event/list`` returns the agent's last 256 events
    and an index folded from the newest one's ID, only ever compared for equality. The watch
    remembers the IDs of the last 512 events it listed (the agent's buffer of 256, plus margin)
    and yields only the events whose ID it has not seen, oldest first. What holds:

    * On one agent, each event it lists is yielded exactly once (unless more than 256 events
      arrive between two reads: the agent has dropped the oldest, and so does the watch).
    * Across a fail-over (``Consul([a, b])``, ``a`` down), each event at most once: the new
      agent's buffer is its own (``/v1/event/list`` is agent-local), filled by gossip with
      mostly the same events, and the ones already yielded are not yielded again. The events
      only the new agent lists are yielded, even if they were fired before the switch or before
      the watch started; events only the old agent received are lost with it.

    The *baseline* is the first listing: with ``since_now`` the events it holds are skipped,
    otherwise they come first. Entering ``async with`` takes the baseline (does the first read),
    and so does :meth:`ready` for a watch used without ``async with``: an event fired after
    either returns is seen. Iterating without either takes the baseline at the first iteration,
    so with ``since_now`` an event fired before that first iteration is skipped.
    """

    __slots__ = ("_order", "_pending", "_ready", "_seen", "_skip", "_watch")

    @overload
    def __init__(self: EventWatch[tuple[Object, Meta]],
                 watch: Watch[tuple[list[Object], Meta]], *, since_now: bool = False) -> None: ...

    @overload
    def __init__(self: EventWatch[tuple[Object, Meta] | ConsulError],
                 watch: Watch[tuple[list[Object], Meta] | ConsulError], *,
                 since_now: bool = False) -> None: ...

    def __init__(self, watch: Watch[Any], *, since_now: bool = False) -> None:
        self._watch = watch
        self._skip = since_now
        self._ready = False
        self._seen: set[str] = set()
        self._order: deque[str] = deque()
        self._pending: deque[tuple[Any, Meta]] = deque()

    @property
    def closed(self) -> bool:
        return self._watch.closed

    def __aiter__(self) -> EventWatch[Item]:
        return self

    async def ready(self) -> None:
        """Take the baseline now (the first listing), if not yet taken; idempotent.

        After it returns, every event fired is seen by the watch. Failed reads on the way are
        logged and retried (raised with ``errors="raise"``). Entering ``async with`` calls it.
        """
        while not self._ready:
            try:
                item = await self._watch.__anext__()
            except StopAsyncIteration:  # closed meanwhile
                return
            if not isinstance(item, ConsulError):  # a yielded error was logged by the watch
                self._take(item)

    async def __anext__(self) -> Item:
        while not self._pending:
            item = await self._watch.__anext__()
            if isinstance(item, ConsulError):
                return cast(Item, item)
            self._take(item)
        return cast(Item, self._pending.popleft())

    def _take(self, item: tuple[list[Any], Meta]) -> None:
        events, meta = item
        new = self._new(events)
        baseline, self._ready = not self._ready, True
        if baseline and self._skip:
            return
        self._pending.extend((event, meta) for event in new)

    def _new(self, events: list[Any]) -> list[Any]:
        """The events not seen before, oldest first; all of them are remembered as seen."""
        new = []
        seen, order = self._seen, self._order
        for event in events:
            event_id = event.get("ID")
            if not isinstance(event_id, str):
                new.append(event)
                continue
            if event_id in seen:
                continue
            new.append(event)
            seen.add(event_id)
            order.append(event_id)
            if len(order) > EVENT_MEMORY:
                seen.discard(order.popleft())
        return new

    async def aclose(self) -> None:
        """End the watch at once. Idempotent."""
        self._pending.clear()
        await self._watch.aclose()

    async def __aenter__(self) -> EventWatch[Item]:
        try:
            await self.ready()
        except BaseException:
            await self.aclose()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
