"""Retry policy: which failed requests are tried again, how often, and how long to wait.

Pure data and arithmetic; the request core applies it. The rule in brief:

* Reads, and writes the endpoint marks idempotent (a PUT that sets a state rather than adding to
  it: a registration, a check update, a session renewal), are repeated after a transport failure
  or a 429, 500 or 503 answer, except an answer that cannot change (a malformed ``filter=``, a
  validation error: ``response.permanent_error``).
* Every other write only when the connection could not be made (ConnectError): it never
  reached the agent, so it cannot have been applied.
* Never a CAS once sent (KV ``cas=``, ``acquire=``, ``release=``, delete-cas): Consul may have
  applied it before answering 500, and the repeat would answer ``False`` about its own write.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Backoff", "DEFAULT_RETRY", "NO_RETRY", "Retry", "WATCHING"]


@dataclass(frozen=True)
class Backoff:
    """Capped exponential back-off with jitter, in seconds: the n-th consecutive failure waits
    ``min(maximum, initial * multiplier**(n-1))``, scaled by a random factor in
    ``[1 - jitter, 1 + jitter]``."""

    initial: float = 0.5
    maximum: float = 30.0
    multiplier: float = 2.0
    jitter: float = 0.2

    def __post_init__(self) -> None:
        if not 0 < self.initial <= self.maximum:
            raise ValueError("backoff: expected 0 < initial <= maximum")
        if self.multiplier < 1 or not 0 <= self.jitter < 1:
            raise ValueError("backoff: expected multiplier >= 1 and 0 <= jitter < 1")

    def delay(self, failures: int) -> float:
        """How long to wait after ``failures`` consecutive failures (``failures >= 1``)."""
        base = min(self.maximum, self.initial * self.multiplier ** max(0, failures - 1))
        return base * random.uniform(1 - self.jitter, 1 + self.jitter)


@dataclass(frozen=True)
class Retry:
    """How the client repeats failed requests.

    ``attempts`` is how many times a request may be repeated after its first try (0: never).
    Safe requests are repeated after a transport failure (refused, reset, timed out) or an
    answer with one of ``statuses`` (429 rate limited, 500 — e.g. "No cluster leader" — and 503);
    any request is repeated when the connection could not be made; a CAS write, once sent, never
    is. With several agent addresses, a request that cannot reach one agent moves to the next at
    once, and the back-off applies only once every address has failed.
    """

    attempts: int = 3
    backoff: Backoff = field(default_factory=lambda: Backoff(initial=0.1, maximum=2.0))
    statuses: frozenset[int] = frozenset({429, 500, 503})

    def __post_init__(self) -> None:
        if isinstance(self.attempts, bool) or not isinstance(self.attempts, int) \
                or self.attempts < 0:
            raise ValueError(f"retry: attempts must be an int >= 0, got {self.attempts!r}")
        if not isinstance(self.backoff, Backoff):
            raise TypeError("retry: backoff must be an aioconsul Backoff")
        object.__setattr__(self, "statuses", frozenset(self.statuses))


#: The policy a client uses unless told otherwise.
DEFAULT_RETRY = Retry()
#: No retries at all.
NO_RETRY = Retry(attempts=0)

#: The tasks that are running a watch's read right now: the request core applies the watch's own
#: policy to their requests (fail over to the other agents only), leaving back-off and re-reading
#: to the watch. A set of tasks rather than a context variable: setting a context variable makes
#: a new context (seven objects), kept for as long as the read blocks, for every watch.
WATCHING: set[asyncio.Future[Any]] = set()
