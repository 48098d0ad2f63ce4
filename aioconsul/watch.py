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
result once it exists. It never runs a background task: each step runs in the consumer's task, and
only the one request in flight (or the back-off sleep) is a cancellable child that
:meth:`Watch.aclose` can interrupt from anywhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import inspect
import logging
import sys
import time
import weakref
from collections import deque
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, Generic, Literal, TypeVar, cast, overload

from ._core import normalize
from ._core.retry import WATCHING, Backoff
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


class _Bucket:
    """A token bucket: ``burst`` requests at once, then one per ``interval`` seconds."""

    __slots__ = ("_burst", "_interval", "_stamp", "_tokens")

    def __init__(self, burst: int, interval: float) -> None:
        self._burst = float(burst)
        self._interval = interval
        self._tokens = float(burst)
        self._stamp = time.monotonic()

    def take(self) -> float:
        """Take a token; return how long to wait first (0 when one was available)."""
        if self._interval <= 0:
            return 0.0
        now = time.monotonic()
        self._tokens = min(self._burst, self._tokens + (now - self._stamp) / self._interval)
        self._stamp = now
        self._tokens -= 1
        return 0.0 if self._tokens >= 0 else -self._tokens * self._interval


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

    Use ``async with`` (or call :meth:`aclose`) so that leaving the loop early cancels the
    request in flight at once.
    """

    __slots__ = (
        "_args",
        "_backoff",
        "_bucket",
        "_closed",
        "_consumer",
        "_errors",
        "_failed",
        "_failures",
        "_hash",
        "_inflight",
        "_kwargs",
        "_last",
        "_meta",
        "_pause",
        "_read",
        "_started",
        "_unwound",
        "_wait",
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
        **kwargs: Any,
    ) -> None:
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
        # Parsed once; a timedelta is cheap to read again at every request (a string is not).
        self._wait = None if wait is None else datetime.timedelta(
            microseconds=normalize.duration(wait, "wait") // 1_000)
        self._read = read
        self._hash = bool(getattr(read, _HASH_MARK, False))
        self._args = args
        self._kwargs = kwargs
        self._errors = errors
        self._backoff = backoff if backoff is not None else Backoff()
        self._bucket = _Bucket(2, float(min_interval))
        self._meta: Meta | None = None  # the Meta to block on next; None: read at once
        self._last: Any = None
        self._started = False
        self._failures = 0
        self._pause = 0.0  # back-off still owed after a yielded error
        self._failed = False  # the last read failed: re-read at once before blocking again
        self._closed = False
        self._inflight: asyncio.Future[Any] | None = None  # the child task (Python 3.10)
        self._consumer: asyncio.Task[Any] | None = None  # the consumer, while in _child
        self._unwound: asyncio.Future[None] | None = None  # set once aclose's cancel unwound

    @property
    def index(self) -> int:
        """The index the next read waits past (0: it reads at once)."""
        return 0 if self._meta is None else int(self._meta["Index"])

    @property
    def failures(self) -> int:
        """How many reads in a row have failed (0 once one succeeds)."""
        return self._failures

    @property
    def closed(self) -> bool:
        return self._closed

    def __aiter__(self) -> Watch[Item]:
        return self

    async def __anext__(self) -> Item:
        while True:
            if self._closed:
                raise StopAsyncIteration
            pause, self._pause = self._pause, 0.0
            delay = max(pause, self._bucket.take())
            if delay:
                await self._child(asyncio.sleep(delay))
            # After a failure the next read does not block: the agent may have restarted with
            # other data at the same index. The index itself is kept (see _advance).
            watch = None if self._meta is None or self._failed else (self._meta, self._wait)
            # The read runs here, in the consumer's task, not in a task of its own (a task per
            # wake-up would cost more than the rest of the watch's own work): see _child.
            consumer = self._enter()
            try:
                if consumer is None:
                    data, meta = await self._child_task(
                        self._read(*self._args, watch=watch, **self._kwargs))
                else:
                    WATCHING.add(consumer)  # the core: a watch's read (the watch backs off)
                    data, meta = await self._read(*self._args, watch=watch, **self._kwargs)
                if self._hash and data is None and "ContentHash" not in meta:
                    # Nothing to block on: Go's agentServiceWatch takes the 404 as an error.
                    raise NotFound(f"{self._name()}: not found (no content hash to block on)",
                                   status=404, meta=meta)
            except asyncio.CancelledError:
                if self._closed_here(consumer):
                    raise StopAsyncIteration from None
                raise
            except ConsulError as exc:
                self._failures += 1
                self._failed = True
                # The pause is owed before the next read, whatever happens to this error.
                self._pause = self._backoff.delay(self._failures)
                if self._errors == "raise":
                    raise
                log.warning("watch of %s failed (%s); retrying in %.1fs",
                            self._name(), exc, self._pause)
                if self._errors == "yield":
                    return cast(Item, exc)
                continue
            finally:
                if consumer is not None:
                    WATCHING.discard(consumer)
                self._leave()
            self._failures = 0
            recheck, self._failed = self._failed, False
            moved = self._advance(meta) or recheck
            if self._started and (not moved or data == self._last):
                continue
            self._started = True
            self._last = data
            return cast(Item, (data, meta))

    def _advance(self, meta: Meta) -> bool:
        """Move the blocking position on; True when it moved (index or content hash changed,
        or the index went backwards and was reset)."""
        last = self._meta
        previous = 0 if last is None else last["Index"]
        index = int(meta.get("Index", 0) or 0)
        if 0 < index < previous:
            # The index went backwards (a snapshot restore, the newest key of a prefix
            # reaped...): reset to 0 and read afresh (features/blocking.mdx, "Reset the index").
            self._meta = None
            return True
        # A zero or missing index would not block: 1 is always safe to wait on (blocking.mdx).
        self._meta = meta if index >= 1 else Meta(meta, Index=1)
        if max(index, 1) != previous:
            return True
        # Only a hash-blocking read's answer carries a ContentHash: an index read's Meta is
        # not made to parse its other headers here (the watch loop reads only the index).
        return self._hash and meta.get("ContentHash") != (last and last.get("ContentHash"))

    def _name(self) -> str:
        return str(getattr(self._read, "__qualname__", self._read))

    def _enter(self) -> asyncio.Task[Any] | None:
        """Note that the consumer now waits in the watch (for :meth:`aclose` to interrupt);
        None where the wait must run as a child task instead (Python 3.10 has no
        ``Task.uncancel``, and a coroutine may run outside any task)."""
        if sys.version_info < (3, 11):
            return None
        self._consumer = consumer = asyncio.current_task()
        return consumer

    def _closed_here(self, consumer: asyncio.Task[Any] | None) -> bool:
        """On a CancelledError while waiting: True when it is :meth:`aclose`'s cancellation
        alone (then taken back with ``Task.uncancel``, and the iteration ends); a cancellation
        of the consumer by anyone else stays a cancellation."""
        if consumer is None:  # the child task's way: aclose cancelled the child
            return self._closed
        if sys.version_info >= (3, 11) and self._unwound is not None:
            return consumer.uncancel() == 0
        return False

    def _leave(self) -> None:
        self._consumer = None
        unwound, self._unwound = self._unwound, None
        if unwound is not None and not unwound.done():
            unwound.set_result(None)

    async def _child(self, awaitable: Awaitable[T]) -> T:
        """Await ``awaitable`` (a pause) so that :meth:`aclose` can interrupt it, as the read
        in :meth:`__anext__` is: in the consumer's own task, which :meth:`aclose` (from another
        task) cancels, the cancellation turned into the end of the iteration."""
        consumer = self._enter()
        try:
            if consumer is None:
                return await self._child_task(awaitable)
            return await awaitable
        except asyncio.CancelledError:
            if self._closed_here(consumer):
                raise StopAsyncIteration from None
            raise
        finally:
            self._leave()

    async def _child_task(self, awaitable: Awaitable[T]) -> T:
        """Python 3.10's way: ``awaitable`` as a child task, which :meth:`aclose` cancels."""
        child = asyncio.ensure_future(awaitable)
        self._inflight = child
        WATCHING.add(child)
        try:
            return await child
        finally:
            WATCHING.discard(child)
            self._inflight = None

    async def aclose(self) -> None:
        """End the watch at once, cancelling the request in flight (and waiting until it has
        let go of its connection). Idempotent."""
        self._closed = True
        consumer = self._consumer
        if consumer is not None and self._unwound is None \
                and consumer is not asyncio.current_task():
            # The consumer waits in _child: cancel it there, then wait until it has unwound.
            self._unwound = unwound = asyncio.get_running_loop().create_future()
            consumer.cancel()
            await unwound
            return
        child, self._inflight = self._inflight, None
        if child is not None and not child.done():
            child.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await child

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
        name = getattr(self._read, "__qualname__", repr(self._read))
        state = "closed" if self._closed else f"index={self.index}"
        return f"<Watch {name} {state}>"


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
