"""What the toolkit's live views share: their change streams and the stopping of their tasks.

A :class:`Feed` hands every item it is given to each of its open :class:`Changes` iterators; an
iterator sees what was given after it was made, in order, and ends when the feed closes. It
never starts a task and never blocks the giver: each iterator buffers what its consumer has not
read yet. Iterators are held weakly, so one dropped without :meth:`Changes.aclose` (a ``break``
out of ``async for``) stops receiving once it is collected. :func:`stop` ends a view's
background task: cancelled, and waited for although the caller is cancelled meanwhile, for a
bounded time.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections import deque
from typing import Generic, TypeVar

from .._aclose import AsyncClosing
from .._cleanup import STOP_TIMEOUT, stop

__all__ = ["STOP_TIMEOUT", "Changes", "Feed", "stop"]

log = logging.getLogger("aioconsul.toolkit")

T = TypeVar("T")

class Changes(AsyncClosing, Generic[T]):
    """An async iterator over the changes of a live view, from the moment it was made until
    the view is closed (or :meth:`aclose`). Use it as ``async for change in view.changes():``;
    ``async with view.changes() as changes:`` closes it when the block ends."""

    __slots__ = ("__weakref__", "_closed", "_feed", "_pending", "_wakeup")

    def __init__(self, feed: Feed[T]) -> None:
        self._feed = feed
        self._pending: deque[T] = deque()
        self._wakeup: asyncio.Event | None = None
        self._closed = feed.closed

    @property
    def pending(self) -> int:
        """How many changes wait to be read."""
        return len(self._pending)

    def _put(self, item: T) -> None:
        self._pending.append(item)
        if self._wakeup is not None:
            self._wakeup.set()

    def _close(self) -> None:
        self._closed = True
        if self._wakeup is not None:
            self._wakeup.set()

    def __aiter__(self) -> Changes[T]:
        return self

    async def __anext__(self) -> T:
        while not self._pending:
            if self._closed:
                raise StopAsyncIteration
            if self._wakeup is None:
                self._wakeup = asyncio.Event()
            self._wakeup.clear()
            await self._wakeup.wait()
        return self._pending.popleft()

    async def aclose(self) -> None:
        """Stop receiving changes; the changes not read yet are dropped. Idempotent."""
        self._feed.discard(self)
        self._pending.clear()
        self._close()


class Feed(Generic[T]):
    """The subscribers of one live view."""

    __slots__ = ("_closed", "_subscribers")

    def __init__(self) -> None:
        self._subscribers: weakref.WeakSet[Changes[T]] = weakref.WeakSet()
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    def subscribe(self) -> Changes[T]:
        """A new iterator over what is given from now on (one that ends at once when closed)."""
        changes = Changes(self)
        if not self._closed:
            self._subscribers.add(changes)
        return changes

    def discard(self, changes: Changes[T]) -> None:
        self._subscribers.discard(changes)

    def put(self, item: T) -> None:
        for changes in list(self._subscribers):
            changes._put(item)

    def close(self) -> None:
        """End every iterator (after the changes it has not read yet). Idempotent."""
        self._closed = True
        subscribers = list(self._subscribers)
        self._subscribers.clear()
        for changes in subscribers:
            changes._close()
