"""When an agent renews a leaf certificate (Consul's ``agent/leafcert/util.go``).

:func:`soft_expiry` is ``calculateSoftExpiry``: a leaf is renewed at a random moment of its
soft renewal window, between 60 % and 90 % of its lifetime (at once past 90 %), and
:func:`renewal_point` picks that moment as ``lib.RandomStagger`` does, from a random number
the caller supplies. The manager that waits for it is the agent's (``endpoints/connect_ca.py``,
with an injectable clock); this module only computes instants. Pure: no clock, no I/O.
"""

from __future__ import annotations

import datetime
from typing import Final

__all__ = ["HARD_RENEW", "SOFT_RENEW", "parse_cert_time", "renewal_point", "soft_expiry"]

#: The start of the soft renewal window, as a fraction of the leaf's lifetime.
SOFT_RENEW: Final = 0.6
#: The end of it: past this point the leaf is renewed at once.
HARD_RENEW: Final = 0.9
#: calculateSoftExpiry renews at once a leaf that lives less than 10 minutes.
_MIN_LIFETIME: Final = 600.0


def parse_cert_time(text: str) -> float:
    """An IssuedCert's ``ValidAfter``/``ValidBefore`` (RFC 3339, UTC) as Unix seconds."""
    moment = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")
    return moment.replace(tzinfo=datetime.timezone.utc).timestamp()


def soft_expiry(now: float, valid_after: float, valid_before: float) -> tuple[float, float]:
    """calculateSoftExpiry: the window ``(min, max)`` to renew in, in Unix seconds.

    It runs from 60 % of the lifetime (or ``now``, when already inside) to 90 %; past 90 %,
    or for a lifetime under 10 minutes, both ends are ``now``.
    """
    lifetime = valid_before - valid_after
    if lifetime < _MIN_LIFETIME:
        return now, now
    soft = valid_after + lifetime * SOFT_RENEW
    hard = valid_after + lifetime * HARD_RENEW
    if now > hard:
        return now, now
    return max(soft, now), hard


def renewal_point(now: float, valid_after: float, valid_before: float, stagger: float) -> float:
    """attemptLeafRefresh's ``expiresAt``: ``min + RandomStagger(max - min)``, where
    ``stagger`` is the random number in [0, 1) RandomStagger draws."""
    low, high = soft_expiry(now, valid_after, valid_before)
    return low + stagger * (high - low)
