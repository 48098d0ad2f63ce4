"""Lock: a distributed mutex on one KV key, compatible with the Go client's ``api/lock.go``.

The same key, the same flag (:data:`LOCK_FLAG_VALUE`), the same session settings (name
``"Consul API Lock"``, TTL 15s, renewed every TTL/2) and the same steps, so a :class:`Lock` and a
Go ``api.Lock`` (or ``consul lock``) on one key exclude each other. The recipe talks to Consul only
through ``client.kv`` and ``client.session``.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from .._core import normalize
from ..errors import LockConflict, LockHeld, LockInUse
from ..typing import Duration, Object, ObjectID, Payload
from ._base import DEFAULT_MONITOR_RETRY_TIME, _flags, _Recipe, _seconds

if TYPE_CHECKING:
    from ..client import Consul

__all__ = [
    "DEFAULT_LOCK_RETRY_TIME",
    "DEFAULT_LOCK_SESSION_NAME",
    "DEFAULT_LOCK_SESSION_TTL",
    "DEFAULT_LOCK_WAIT_TIME",
    "LOCK_FLAG_VALUE",
    "Lock",
]

#: Go's DefaultLockSessionName.
DEFAULT_LOCK_SESSION_NAME = "Consul API Lock"
#: Go's DefaultLockSessionTTL.
DEFAULT_LOCK_SESSION_TTL = "15s"
#: Go's DefaultLockWaitTime: how long one blocking read of the key waits.
DEFAULT_LOCK_WAIT_TIME = "15s"
#: Go's DefaultLockRetryTime: the pause after an acquisition refused by a lock-delay.
DEFAULT_LOCK_RETRY_TIME = "5s"
#: Go's LockFlagValue, stored in the key's Flags: marks the key as a Lock's, not a Semaphore's.
LOCK_FLAG_VALUE = 0x2DDCCBC058A50C18


class Lock(_Recipe):
    """A mutex on ``key``: ``async with client.lock("service/leader") as lock:``.

    Made by :meth:`Consul.lock <aioconsul.Consul.lock>`. Acquiring follows ``Lock.Lock`` of
    lock.go: unless ``session`` is given, create a session (``session_name``, ``session_ttl``,
    ``lock_delay``; behavior release) renewed in the background; read the key, blocking up to
    ``lock_wait`` while another session holds it; refuse a key whose ``Flags`` are not
    :data:`LOCK_FLAG_VALUE` (:class:`~aioconsul.LockConflict`); take it at once when our session
    already holds it (re-entry after a restart with the same session); otherwise acquire it with
    ``?acquire=<session>&flags=LOCK_FLAG_VALUE`` and ``value`` as its value. A refused acquisition
    while no session holds the key means a lock-delay is running: wait ``lock_retry_time`` (Go's
    5s) and try again. With ``lock_try_once`` the whole attempt is bounded by ``lock_wait``:
    :meth:`acquire` returns False and ``async with`` raises :class:`~aioconsul.LockTimeout`.

    While held, a monitor task reads the key with consistent blocking queries and sets
    :attr:`lost` as soon as the key is no longer held by our session (released, deleted, taken
    over, or its session invalidated), or a read fails (after ``monitor_retries`` retries of a
    network error or a 500, ``monitor_retry_time`` apart), or — an addition to Go — the session
    this object keeps alive could not be renewed. With ``cancel_on_loss=True`` the body of the
    ``async with`` is cancelled on loss and the block then raises :class:`~aioconsul.LockLost`
    (a cancellation from elsewhere still propagates as such). Without it, the body keeps
    running; check :attr:`lost`.

    Leaving the block (or :meth:`release`) releases the key with the flag and ``value`` and
    destroys the session this object created. A lent ``session`` (an id, a session object, or a
    :class:`~aioconsul.recipes.keepalive.SessionKeepAlive`, whose loss then also counts) is
    never destroyed. Sessions favour liveness over safety: a lock can be lost at any moment.
    ``token`` is the ACL token of every request the lock sends (its session's too), instead of
    the client's: it needs ``key:write`` on the key and ``session:write`` on the node.

    An acquisition that fails or is cancelled after its ``?acquire=`` was sent may have taken
    the key all the same (the agent can apply it and still answer 500, and a CAS write is never
    repeated), so it releases the key (``?release=<session>``, refused harmlessly when the key is
    not ours) before the error or cancellation propagates, then destroys the session it made; a
    lent session is only released from. This cleanup is shielded from cancellation and bounded by
    :data:`~aioconsul.recipes.keepalive.CLEANUP_TIMEOUT`; when the agent cannot be reached, the
    session's TTL and lock-delay are what free the key in the end.
    """

    _KIND = "lock"
    _MSG_HELD = "Lock already held"
    _MSG_NOT_HELD = "Lock not held"
    _BEHAVIOR = None

    def __init__(
        self,
        client: Consul,
        key: str,
        *,
        value: Payload = b"",
        session: ObjectID | None = None,
        session_name: str = DEFAULT_LOCK_SESSION_NAME,
        session_ttl: Duration = DEFAULT_LOCK_SESSION_TTL,
        lock_wait: Duration = DEFAULT_LOCK_WAIT_TIME,
        lock_try_once: bool = False,
        lock_delay: Duration | None = None,
        lock_retry_time: Duration = DEFAULT_LOCK_RETRY_TIME,
        monitor_retries: int = 0,
        monitor_retry_time: Duration = DEFAULT_MONITOR_RETRY_TIME,
        cancel_on_loss: bool = False,
        namespace: str | None = None,
        partition: str | None = None,
        token: str | None = None,
    ) -> None:
        super().__init__(
            client, normalize.kv_key(key, "key"), value=value, session=session,
            session_name=session_name, session_ttl=session_ttl, lock_delay=lock_delay,
            wait=lock_wait, wait_name="lock_wait", try_once=lock_try_once,
            monitor_retries=monitor_retries, monitor_retry_time=monitor_retry_time,
            cancel_on_loss=cancel_on_loss, namespace=namespace, partition=partition,
            token=token,
        )
        self._retry_time = _seconds(lock_retry_time, "lock_retry_time")
        self._token: int | None = None
        self._lock_index: int | None = None

    @property
    def fencing_token(self) -> int | None:
        """A fencing token for this hold: the key's ``ModifyIndex`` as read, with a consistent
        read, right after the acquisition, while our session held it; None while not
        :attr:`held` (before, once lost or released).

        Every acquisition is a Raft write, so a later holder's token is always higher, also
        after the key was deleted and made again (Consul's indexes only grow). Pass it with
        each write to the protected resource; the resource keeps the highest token it accepted
        and refuses a lower one, so a holder that lost the lock without knowing (a pause, a
        partition) cannot overwrite its successor's work.
        """
        return self._token if self.held else None

    @property
    def lock_index(self) -> int | None:
        """The key's ``LockIndex`` as read right after the acquisition (None while not
        :attr:`held`). It counts acquisitions, but restarts when the key is deleted and is
        reset to 0 by a plain write to the key (Consul's ``kvsSetTxn``), so
        :attr:`fencing_token` is the one to compare; with :attr:`key` and :attr:`session` it
        forms Consul's "sequencer" tuple."""
        return self._lock_index if self.held else None

    async def __aenter__(self) -> Lock:
        await super().__aenter__()
        return self

    async def _campaign(self, session_id: str) -> bool:
        kv = self._client.kv
        loop = asyncio.get_running_loop()
        start = loop.time()
        attempts = 0
        index = 0
        while True:
            wait = self._deadline_wait(start, attempts)
            if wait is None:
                return False
            attempts += 1
            # Look for an existing lock, blocking until it is not taken.
            pair, meta = await kv.get(self._key, watch=self._watch(index, wait), **self._where)
            if pair is not None and _flags(pair) != LOCK_FLAG_VALUE:
                raise self._error(LockConflict, "Existing key does not match lock use")
            holder = pair.get("Session") if pair is not None else None
            if pair is not None and holder == session_id:
                # Already ours (a restart that kept the session): this read gives the token.
                return self._took(pair, meta["Index"])
            if holder:
                index = max(1, meta["Index"])
                continue
            if await self._write(kv.lock(self._key, self._value, session=session_id,
                                         flags=LOCK_FLAG_VALUE, **self._where)):
                # The PUT answers only True: read the entry it made, for the fencing token.
                # Consistent, so a follower cannot show the key from before the write.
                pair, meta = await kv.get(self._key, consistency="consistent", **self._where)
                if pair is not None and pair.get("Session") == session_id:
                    return self._took(pair, meta["Index"])
                index = 0  # lost at once (its session ended, the key deleted): start over
                continue
            # Refused: either someone was quicker (wait on the key), or the key is free and a
            # lock-delay is running (a timed wait, not a blocking read).
            pair, meta = await kv.get(self._key, **self._where)
            if pair is not None and pair.get("Session"):
                index = max(1, meta["Index"])
                continue
            index = 0
            pause = self._retry_time
            if self._try_once:
                left = self._deadline_wait(start, attempts)
                if left is None:
                    return False
                pause = min(pause, left * 1e-9)
            await asyncio.sleep(pause)

    def _took(self, pair: Object, index: int) -> bool:
        """Acquired: keep the entry's indexes; the monitor blocks past this read's index."""
        self._token = int(pair["ModifyIndex"])
        self._lock_index = int(pair.get("LockIndex") or 0)
        self._monitor_from = max(1, index)
        return True

    async def _check(self, session_id: str, index: int) -> tuple[bool, int]:
        pair, meta = await self._client.kv.get(
            self._key, consistency="consistent", watch=index or None, **self._where)
        return (pair is not None and pair.get("Session") == session_id), max(1, meta["Index"])

    async def _let_go(self, session_id: str) -> None:
        await self._client.kv.unlock(self._key, self._value, session=session_id,
                                     flags=LOCK_FLAG_VALUE, **self._where)

    async def destroy(self) -> None:
        """Delete the lock's key if no session holds it (lock.go ``Destroy``).

        Raises :class:`~aioconsul.LockHeld` while this object holds it,
        :class:`~aioconsul.LockConflict` if the key is not a Lock's and
        :class:`~aioconsul.LockInUse` if a session holds it or it changed meanwhile (the delete is
        a check-and-set on the key's ModifyIndex). A missing key is fine.
        """
        async with self._mutex:
            if self._acquired:
                raise self._error(LockHeld, self._MSG_HELD)
            kv = self._client.kv
            pair, _ = await kv.get(self._key, **self._where)
            if pair is None:
                return
            if _flags(pair) != LOCK_FLAG_VALUE:
                raise self._error(LockConflict, "Existing key does not match lock use")
            if pair.get("Session"):
                raise self._error(LockInUse, "Lock in use")
            if not await kv.delete_cas(self._key, index=pair, **self._where):
                raise self._error(LockInUse, "Lock in use")
