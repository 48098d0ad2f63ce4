"""Watches: async iterators over any blocking read, keyed on the response's ``Index``.

The loop follows Consul's blocking-query rules (features/blocking.mdx) and the Go watch package:
the first result comes at once; afterwards a result is yielded only when the index moved and the
data changed; an index that goes backwards resets to 0; an index below 1 is used as 1, so a zero
or missing index never makes the loop spin; a token bucket (burst 2) caps how fast the loop may
query when the agent answers at once; errors back off exponentially with jitter and the loop
resumes by itself. It never runs a background task: each step runs in the consumer's task, and
only the one request in flight (or the back-off sleep) is a cancellable child that
:meth:`Watch.aclose` can interrupt from anywhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, Generic, Literal, TypeVar, cast

from ._core import normalize
from ._core.retry import WATCHING, Backoff
from .errors import ConsulError
from .typing import Duration, Meta

__all__ = ["Backoff", "ErrorMode", "EventWatch", "Watch"]

log = logging.getLogger("aioconsul.watch")

T = TypeVar("T")
Item = TypeVar("Item")
#: What a watch does with a failed read: log it and retry, raise it, or yield it and retry.
ErrorMode = Literal["log", "raise", "yield"]
_ERROR_MODES = ("log", "raise", "yield")


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
    ``client.catalog.nodes``...), called with ``args`` and ``kwargs``. Each item is the read's
    ``(data, meta)``; with ``errors="yield"`` a failed read is yielded as its
    :class:`~aioconsul.ConsulError` instead (and the watch goes on after the back-off).

    Use ``async with`` (or call :meth:`aclose`) so that leaving the loop early cancels the
    request in flight at once.
    """

    __slots__ = ("_args", "_backoff", "_bucket", "_closed", "_errors", "_failed", "_failures",
                 "_inflight", "_kwargs", "_last", "_meta", "_pause", "_read", "_started",
                 "_wait")

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
        if "watch" in kwargs:
            raise TypeError("watch: the watch sets the blocking index itself")
        if errors not in _ERROR_MODES:
            raise ValueError(f"errors: expected one of {', '.join(_ERROR_MODES)}, got {errors!r}")
        if isinstance(min_interval, bool) or not isinstance(min_interval, (int, float)) \
                or min_interval < 0:
            raise ValueError(f"min_interval: expected seconds >= 0, got {min_interval!r}")
        # Parsed once; a timedelta is cheap to read again at every request (a string is not).
        self._wait = None if wait is None else datetime.timedelta(
            microseconds=normalize.duration(wait, "wait") // 1_000)
        self._read = read
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
        self._inflight: asyncio.Future[Any] | None = None

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
            try:
                data, meta = await self._child(self._read_once(watch))
            except ConsulError as exc:
                self._failures += 1
                self._failed = True
                if self._errors == "raise":
                    raise
                self._pause = self._backoff.delay(self._failures)
                log.warning("watch of %s failed (%s); retrying in %.1fs",
                            getattr(self._read, "__qualname__", self._read), exc, self._pause)
                if self._errors == "yield":
                    return cast(Item, exc)
                continue
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
        previous, previous_hash = self.index, self._meta and self._meta.get("ContentHash")
        index = int(meta.get("Index", 0) or 0)
        if 0 < index < previous:
            # The index went backwards (a snapshot restore, the newest key of a prefix
            # reaped...): reset to 0 and read afresh (features/blocking.mdx, "Reset the index").
            self._meta = None
            return True
        # A zero or missing index would not block: 1 is always safe to wait on (blocking.mdx).
        self._meta = meta if index >= 1 else Meta(meta, Index=1)
        return self.index != previous or meta.get("ContentHash") != previous_hash

    async def _read_once(self, watch: Any) -> tuple[Any, Meta]:
        WATCHING.set(True)  # this runs in its own task, with its own copy of the context
        return await self._read(*self._args, watch=watch, **self._kwargs)

    async def _child(self, awaitable: Awaitable[T]) -> T:
        """Await ``awaitable`` as a child task that :meth:`aclose` can cancel."""
        task = asyncio.ensure_future(awaitable)
        self._inflight = task
        try:
            return await task
        except asyncio.CancelledError:
            if self._closed and task.cancelled():
                raise StopAsyncIteration from None
            raise
        finally:
            self._inflight = None

    async def aclose(self) -> None:
        """End the watch at once, cancelling the request in flight. Idempotent."""
        self._closed = True
        task, self._inflight = self._inflight, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

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


class EventWatch:
    """Each new user event, exactly once, as ``(event, meta)``.

    Events are not indexed like the rest: ``/v1/event/list`` returns the agent's last 256 events
    and an index folded from the newest one's ID, only ever compared for equality. Like the Go
    client's event watch, this one remembers the ID of the last event it delivered and yields only
    the events listed after it (all of them when that ID has left the agent's buffer). With
    ``since_now`` the events already listed when the watch starts are skipped.

    The watch starts — takes its baseline, the agent's listing at that moment — on entering
    ``async with`` or on :meth:`ready`; every event fired after that is delivered. Without
    either, it starts at the first iteration, and an event fired between creating the watch and
    iterating it is then part of the baseline (skipped with ``since_now``).
    """

    __slots__ = ("_last_id", "_pending", "_skip", "_started", "_watch")

    def __init__(self, watch: Watch[Any], *, since_now: bool = False) -> None:
        self._watch = watch
        self._skip = since_now
        self._started = False
        self._last_id: str | None = None
        self._pending: deque[Any] = deque()

    def __aiter__(self) -> EventWatch:
        return self

    async def ready(self) -> None:
        """Take the baseline now (one read of the agent's event list), so that every event
        fired from here on is delivered. Idempotent; ``async with`` calls it on entering.
        With ``errors="yield"`` it returns at the first failed read (the error is the next
        item) rather than queueing errors while the agent is down."""
        while not self._started and not self._pending:
            await self._step()

    async def _step(self) -> None:
        item = await self._watch.__anext__()
        if isinstance(item, ConsulError):  # errors="yield": handed to the consumer in order
            self._pending.append(item)
            return
        events, meta = item
        new = self._new(events)
        self._started = True
        if self._skip:
            self._skip = False
            return
        self._pending.extend((event, meta) for event in new)

    async def __anext__(self) -> Any:
        while not self._pending:
            await self._step()
        return self._pending.popleft()

    def _new(self, events: list[Any]) -> list[Any]:
        start = 0
        if self._last_id is not None:
            for position, event in enumerate(events):
                if event.get("ID") == self._last_id:
                    start = position + 1
                    break
        if events:
            self._last_id = events[-1].get("ID")
        return events[start:]

    async def aclose(self) -> None:
        """End the watch at once. Idempotent."""
        self._pending.clear()
        await self._watch.aclose()

    async def __aenter__(self) -> EventWatch:
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
