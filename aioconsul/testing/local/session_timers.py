"""The session TTL timers (Consul's ``agent/consul/session_ttl.go`` and ``session_timers.go``).

A session with a TTL is invalidated when it is not renewed within TTL x multiplier (the
multiplier gives a client a grace period: Consul's contract is only that a session does not
expire *before* its TTL). Creating or renewing a session resets its timer, destroying it clears
the timer, and a timer that fires destroys the session exactly as ``PUT
/v1/session/destroy`` does. In Consul the leader keeps these timers; the dev agent is its own
leader, so they live with the agent beside its other timers, one ``asyncio`` timer handle per
session, owned by the :class:`~aioconsul.testing.backend.Backend`.

This module never touches HTTP: it is told which session to time and whom to call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from ..golang.stdlib import SECOND
from ..state.session import Session

__all__ = ["SessionTimers"]


class SessionTimers:
    """One timer per session with a TTL; a timer that fires invalidates its session."""

    def __init__(self, invalidate: Callable[[str], None], *, multiplier: float) -> None:
        self._invalidate = invalidate
        self._multiplier = multiplier
        self._timers: dict[str, asyncio.TimerHandle] = {}

    def reset(self, session: Session) -> None:
        """Server.resetSessionTimer: expire after TTL x multiplier without a renewal."""
        ttl = session.ttl_ns()
        if ttl == 0:
            return
        self.clear(session.id)
        loop = asyncio.get_running_loop()
        delay = ttl * self._multiplier / SECOND
        self._timers[session.id] = loop.call_later(delay, self._expire, session.id)

    def clear(self, session_id: str) -> None:
        """Server.clearSessionTimer: the session was destroyed, its timer goes."""
        timer = self._timers.pop(session_id.lower(), None)
        if timer is not None:
            timer.cancel()

    def clear_all(self) -> None:
        """Server.clearAllSessionTimers: the agent shuts down, no timer fires any more."""
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()

    def _expire(self, session_id: str) -> None:
        """Server.invalidateSession: a TTL lapse destroys the session like the HTTP API."""
        self._timers.pop(session_id, None)
        self._invalidate(session_id)
