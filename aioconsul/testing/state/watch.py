"""Wake-ups for blocking queries: the dev agent's stand-in for memdb watch channels.

A blocking request parks on one or more *channels* (a table such as ``"kv"``, or a single KV
key); the state store reports which channels a write touched and :meth:`Watch.notify` wakes
exactly the requests parked on them. Each parked request costs one future and one timer handle
(what ``asyncio.wait_for`` would cost), and leaving a channel is O(1), so ten thousand parked
clients are cheap to wake, to time out and to cancel.

This module never touches the state store or HTTP; it only knows channels and futures.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Hashable, Iterable

__all__ = ["Watch"]


def _expire(fut: asyncio.Future[bool]) -> None:
    if not fut.done():
        fut.set_result(False)


class Watch:
    """Parks coroutines on channels until a write touches one of them, or a timeout."""

    def __init__(self) -> None:
        self._waiters: dict[Hashable, set[asyncio.Future[bool]]] = {}
        self._closed = False

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called; waits then return at once."""
        return self._closed

    @property
    def parked(self) -> int:
        """How many distinct waits are parked (for diagnostics and tests)."""
        return len({fut for waiters in self._waiters.values() for fut in waiters})

    def notify(self, channels: Iterable[Hashable]) -> None:
        """Wake every wait parked on any of ``channels``."""
        for channel in channels:
            waiters = self._waiters.pop(channel, None)
            if waiters:
                for fut in waiters:
                    if not fut.done():
                        fut.set_result(True)

    async def wait(self, channels: Collection[Hashable], timeout: float | None) -> bool:
        """Wait until a channel is notified (True) or ``timeout`` seconds pass (False).

        ``timeout=None`` waits without a deadline. After :meth:`close`, returns False at once.
        """
        if self._closed:
            return False
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[bool] = loop.create_future()
        for channel in channels:
            self._waiters.setdefault(channel, set()).add(fut)
        timer = loop.call_later(timeout, _expire, fut) if timeout is not None else None
        try:
            return await fut
        finally:
            if timer is not None:
                timer.cancel()
            for channel in channels:
                waiters = self._waiters.get(channel)
                if waiters is not None:
                    waiters.discard(fut)
                    if not waiters:
                        del self._waiters[channel]

    def close(self) -> None:
        """Wake every parked wait and make later waits return immediately."""
        self._closed = True
        self.notify(list(self._waiters))
