"""Leader election on a :class:`~aioconsul.recipes.lock.Lock`: campaign, lead, step down, repeat.

An :class:`Election` campaigns for one key until elected, runs the leader's work while it holds
the key, cancels that work as soon as the lock is lost, and campaigns again. Every term has its
own session (the Lock's), destroyed when the term ends, so a leader that stops — by returning,
raising, being cancelled or losing the key — never leaves a session or a task behind. The key,
flags and sessions are the Lock's, so Go programs using ``api.Lock`` on the same key take part in
the same election.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import TYPE_CHECKING, TypeVar

from .._aclose import AsyncClosing
from .._core import normalize
from ..errors import RateLimited, ServerError, TransportError
from ..typing import Duration, Payload
from ._base import DEFAULT_MONITOR_RETRY_TIME
from .lock import (
    DEFAULT_LOCK_RETRY_TIME,
    DEFAULT_LOCK_SESSION_NAME,
    DEFAULT_LOCK_SESSION_TTL,
    DEFAULT_LOCK_WAIT_TIME,
    Lock,
)

if TYPE_CHECKING:
    from ..client import Consul

__all__ = ["DEFAULT_CAMPAIGN_RETRY_TIME", "Election", "Term", "Terms"]

log = logging.getLogger("aioconsul.recipes")

T = TypeVar("T")

#: How long a campaign waits before trying again after a transient error (network, 5xx, 429).
DEFAULT_CAMPAIGN_RETRY_TIME = "5s"
_TRANSIENT = (TransportError, ServerError, RateLimited)


class Term:
    """One term of leadership: yielded by :meth:`Election.terms` once elected.

    ``async with term:`` runs its body as the leader: the body is cancelled when leadership is
    lost, and the block then ends quietly (the loop goes on to campaign again); when the body ends
    on its own, the leader steps down (the key is released, the session destroyed). ``lost`` is
    set when the term is over, however it ended.
    """

    def __init__(self, lock: Lock, number: int) -> None:
        self._lock = lock
        #: 1 for the first term won by this election object, then 2, 3...
        self.number = number
        #: The session that holds the key during this term.
        self.session: str | None = lock.session
        #: Set when the term is over: leadership lost, or stepped down.
        self.lost: asyncio.Event = lock.lost
        #: True when the term ended because leadership was lost (not by stepping down).
        self.lost_leadership = False
        self._ended = False

    @property
    def active(self) -> bool:
        """True while this term holds the key."""
        return not self._ended and not self.lost.is_set()

    def __repr__(self) -> str:
        state = "active" if self.active else "over"
        return f"<Term {self.number} of {self._lock.key!r} {state}>"

    async def step_down(self) -> None:
        """End the term: release the key and destroy the session. Idempotent."""
        if self._ended:
            return
        self._ended = True
        self.lost_leadership = self._lock._involuntary
        if self._lock._acquired:
            await self._lock.release()

    async def __aenter__(self) -> Term:
        if self._ended:
            raise RuntimeError("this term is over")
        self._lock._guard(asyncio.current_task())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        self._ended = True
        self.lost_leadership = self._lock._involuntary
        # True when our cancellation ended the body: swallow it, the term is just over.
        return await self._lock._exit(exc)


class Terms(AsyncClosing):
    """The terms of an :class:`Election`, one after another: ``async for term in terms``.

    Each step campaigns until elected and yields a :class:`Term`; asking for the next one ends
    the current term first (stepping down if it still holds the key). Use it as
    ``async with election.terms() as terms:`` so that leaving the loop early (``break``, an
    exception, a cancellation) also ends the current term; :meth:`aclose` does the same by hand.
    """

    def __init__(self, election: Election) -> None:
        self._election = election
        self._term: Term | None = None
        self._count = 0
        self._closed = False

    def __aiter__(self) -> Terms:
        return self

    async def __anext__(self) -> Term:
        if self._closed:
            raise StopAsyncIteration
        await self._end_term()
        lock = await self._election._campaign()
        self._count += 1
        self._term = Term(lock, self._count)
        return self._term

    async def _end_term(self) -> None:
        term, self._term = self._term, None
        if term is not None:
            await term.step_down()

    async def aclose(self) -> None:
        """Step down from the current term, if any, and end the iteration. Idempotent."""
        self._closed = True
        await self._end_term()


class Election:
    """Leader election on ``key``: ``await client.election("service/leader").run(lead)``.

    Made by :meth:`Consul.election <aioconsul.Consul.election>`. Campaigning is
    :meth:`Lock.acquire <aioconsul.recipes.lock.Lock.acquire>` on a
    :class:`~aioconsul.recipes.lock.Lock` made with these options (``value`` is what the leader
    writes to the key, typically its address; the rest are the Lock's), retried
    ``retry_time`` apart after a transient error (network, 5xx, 429); other errors, such as
    :class:`~aioconsul.LockConflict`, end the election.

    Two ways to use it:

    * :meth:`run` — ``result = await election.run(lead)``: campaign, run ``await lead()`` while
      leader, cancel it when leadership is lost and campaign again; when ``lead()`` returns (or
      raises), step down and return its result (or raise). Cancelling ``run`` steps down too.
    * :meth:`terms` — ``async with election.terms() as terms: async for term in terms:`` for a
      loop of your own, with ``async with term:`` around the leader's work.

    ``token`` is the ACL token of every request of the campaign (the Lock's), instead of the
    client's.
    """

    def __init__(
        self,
        client: Consul,
        key: str,
        *,
        value: Payload = b"",
        session_name: str = DEFAULT_LOCK_SESSION_NAME,
        session_ttl: Duration = DEFAULT_LOCK_SESSION_TTL,
        lock_wait: Duration = DEFAULT_LOCK_WAIT_TIME,
        lock_delay: Duration | None = None,
        lock_retry_time: Duration = DEFAULT_LOCK_RETRY_TIME,
        monitor_retries: int = 0,
        monitor_retry_time: Duration = DEFAULT_MONITOR_RETRY_TIME,
        retry_time: Duration = DEFAULT_CAMPAIGN_RETRY_TIME,
        namespace: str | None = None,
        partition: str | None = None,
        token: str | None = None,
    ) -> None:
        self._lock = Lock(
            client, key, value=value, session_name=session_name, session_ttl=session_ttl,
            lock_wait=lock_wait, lock_delay=lock_delay, lock_retry_time=lock_retry_time,
            monitor_retries=monitor_retries, monitor_retry_time=monitor_retry_time,
            cancel_on_loss=True, namespace=namespace, partition=partition, token=token,
        )
        self._retry_time = normalize.duration(retry_time, "retry_time") * 1e-9

    @property
    def key(self) -> str:
        """The key the candidates compete for."""
        return self._lock.key

    @property
    def lock(self) -> Lock:
        """The :class:`~aioconsul.recipes.lock.Lock` behind the election."""
        return self._lock

    @property
    def leader(self) -> bool:
        """True while this election object holds the key."""
        return self._lock.held

    def __repr__(self) -> str:
        return f"<Election {self.key!r}{' leader' if self.leader else ''}>"

    async def _campaign(self) -> Lock:
        while True:
            try:
                await self._lock.acquire()
                return self._lock
            except _TRANSIENT as error:
                log.warning("election %r: campaign failed, retrying in %gs: %s",
                            self.key, self._retry_time, error)
            await asyncio.sleep(self._retry_time)

    def terms(self) -> Terms:
        """The terms this candidate wins, one after another (see :class:`Terms`)."""
        return Terms(self)

    async def run(self, lead: Callable[[], Awaitable[T]]) -> T:
        """Campaign, then ``await lead()`` while leader; start over when leadership is lost.

        Returns what ``lead()`` returns, after stepping down; an exception from ``lead()``
        propagates, after stepping down. Leadership lost while ``lead()`` runs cancels it
        (it sees :class:`asyncio.CancelledError`), and a new campaign follows; the next term calls
        ``lead()`` again. Cancelling ``run`` steps down and re-raises.
        """
        if not callable(lead):
            raise TypeError(f"lead: expected an async callable, got {type(lead).__name__}")
        async with self.terms() as terms:
            async for term in terms:
                async with term:
                    return await lead()
                log.info("election %r: leadership lost in term %d", self.key, term.number)
        raise AssertionError("unreachable: the terms never end")  # pragma: no cover
