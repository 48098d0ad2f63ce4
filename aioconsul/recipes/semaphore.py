"""Semaphore: up to ``limit`` holders under one KV prefix, compatible with ``api/semaphore.go``.

The same keys (a contender key ``<prefix>/<session>`` per contender, the coordination key
``<prefix>/.lock``), the same flag (:data:`SEMAPHORE_FLAG_VALUE`), the same JSON
(``{"Limit": N, "Holders": {"<session>": true}}``) and the same session settings (name
``"Consul API Semaphore"``, TTL 15s, behavior delete), so a :class:`Semaphore` and a Go
``api.Semaphore`` (or ``consul lock -n``) on one prefix share its slots. The recipe talks to
Consul only through ``client.kv`` and ``client.session``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .._core import normalize
from ..errors import LockConflict, LockError, LockHeld, LockInUse
from ..typing import Collection, Duration, Object, ObjectID, Payload
from ._base import DEFAULT_MONITOR_RETRY_TIME, _flags, _Recipe

if TYPE_CHECKING:
    from ..client import Consul

__all__ = [
    "DEFAULT_SEMAPHORE_KEY",
    "DEFAULT_SEMAPHORE_SESSION_NAME",
    "DEFAULT_SEMAPHORE_SESSION_TTL",
    "DEFAULT_SEMAPHORE_WAIT_TIME",
    "SEMAPHORE_FLAG_VALUE",
    "Semaphore",
]

#: Go's DefaultSemaphoreSessionName.
DEFAULT_SEMAPHORE_SESSION_NAME = "Consul API Semaphore"
#: Go's DefaultSemaphoreSessionTTL.
DEFAULT_SEMAPHORE_SESSION_TTL = "15s"
#: Go's DefaultSemaphoreWaitTime: how long one blocking read of the prefix waits.
DEFAULT_SEMAPHORE_WAIT_TIME = "15s"
#: Go's DefaultSemaphoreKey: the coordination key under the prefix.
DEFAULT_SEMAPHORE_KEY = ".lock"
#: Go's SemaphoreFlagValue, in the Flags of the contender and coordination keys.
SEMAPHORE_FLAG_VALUE = 0xE0F69A2BAA414DE0


class _State:
    """The decoded coordination key: ``Limit`` and the set of ``Holders`` (session ids)."""

    __slots__ = ("holders", "limit")

    def __init__(self, limit: int, holders: dict[str, Any]) -> None:
        self.limit = limit
        self.holders = holders

    def encode(self) -> bytes:
        # Go's json.Marshal of semaphoreLock: fields in order, map keys sorted, no spaces.
        holders = {session: True for session in sorted(self.holders)}
        return json.dumps({"Limit": self.limit, "Holders": holders},
                          separators=(",", ":")).encode()


def _field(document: Mapping[str, Any], name: str) -> Any:
    # encoding/json matches field names case-insensitively.
    if name in document:
        return document[name]
    for key, value in document.items():
        if key.lower() == name.lower():
            return value
    return None


class Semaphore(_Recipe):
    """Up to ``limit`` holders under ``prefix``: ``async with client.semaphore("jobs", 3):``.

    Made by :meth:`Consul.semaphore <aioconsul.Consul.semaphore>`. Acquiring follows
    ``Semaphore.Acquire`` of semaphore.go: unless ``session`` is given, create a session
    (``session_name``, ``session_ttl``, behavior **delete**, so the contender key disappears with
    the session) renewed in the background; write the contender key ``<prefix>/<session>``
    (acquired by the session, ``value`` as its value, flag :data:`SEMAPHORE_FLAG_VALUE`); then
    read the prefix, blocking up to ``semaphore_wait`` between changes: refuse a ``.lock`` whose
    flags are not the semaphore's, whose JSON does not decode, or whose ``Limit`` is not
    ``limit`` (:class:`~aioconsul.LockConflict`); prune the holders whose contender key is no
    longer held by a live session; when fewer than ``limit`` remain, add our session and write
    ``.lock`` with a check-and-set on its ModifyIndex (create-only when missing), starting over
    when another contender was quicker. ``semaphore_try_once`` bounds the attempt by
    ``semaphore_wait``, as ``lock_try_once`` does for :class:`~aioconsul.recipes.lock.Lock`.

    While held, a monitor task reads the prefix with consistent blocking queries and sets
    :attr:`lost` once our session is no longer among the (pruned) holders, or a read fails
    (``monitor_retries``, ``monitor_retry_time`` as for a Lock), or the session this object
    keeps alive could not be renewed; ``cancel_on_loss`` works as for a Lock.

    Leaving the block (or :meth:`release`) removes our session from ``.lock`` (check-and-set,
    retried until it holds), deletes the contender key and destroys the session this object
    created. Three differences from Go, none of which admits more holders: the prefix is listed
    with a trailing ``/`` (Go lists the bare prefix, which also matches sibling prefixes); a
    session already among the holders counts as holding a slot (Go would wait for another one);
    and an acquisition that fails or is cancelled once it has written undoes it as a release
    does — our session leaves ``.lock``'s holders (its check-and-set may have been applied
    although the request failed) and the contender key is deleted — before the session it made
    is destroyed; a lent session is never destroyed. That cleanup is shielded from cancellation
    and bounded by :data:`~aioconsul.recipes.keepalive.CLEANUP_TIMEOUT`. ``token`` is the ACL
    token of every request the semaphore sends (its session's too), instead of the client's.
    """

    _KIND = "semaphore"
    _MSG_HELD = "Semaphore already held"
    _MSG_NOT_HELD = "Semaphore not held"
    _BEHAVIOR = "delete"

    def __init__(
        self,
        client: Consul,
        prefix: str,
        limit: int,
        *,
        value: Payload = b"",
        session: ObjectID | None = None,
        session_name: str = DEFAULT_SEMAPHORE_SESSION_NAME,
        session_ttl: Duration = DEFAULT_SEMAPHORE_SESSION_TTL,
        semaphore_wait: Duration = DEFAULT_SEMAPHORE_WAIT_TIME,
        semaphore_try_once: bool = False,
        monitor_retries: int = 0,
        monitor_retry_time: Duration = DEFAULT_MONITOR_RETRY_TIME,
        cancel_on_loss: bool = False,
        namespace: str | None = None,
        partition: str | None = None,
        token: str | None = None,
    ) -> None:
        # path.Join(prefix, ...) in Go: a trailing "/" is dropped.
        prefix = normalize.kv_key(prefix, "prefix").rstrip("/")
        if not prefix:
            raise ValueError("prefix: must not be empty")
        if isinstance(limit, bool) or not isinstance(limit, int):
            raise TypeError(f"limit: expected an int, got {type(limit).__name__}")
        if limit <= 0:
            raise ValueError(f"limit: a semaphore's limit must be positive, got {limit}")
        super().__init__(
            client, prefix, value=value, session=session, session_name=session_name,
            session_ttl=session_ttl, lock_delay=None, wait=semaphore_wait,
            wait_name="semaphore_wait", try_once=semaphore_try_once,
            monitor_retries=monitor_retries, monitor_retry_time=monitor_retry_time,
            cancel_on_loss=cancel_on_loss, namespace=namespace, partition=partition,
            token=token,
        )
        self._limit = limit
        self._lock_key = f"{prefix}/{DEFAULT_SEMAPHORE_KEY}"

    @property
    def prefix(self) -> str:
        """The KV prefix of the semaphore (without a trailing ``/``)."""
        return self._key

    @property
    def limit(self) -> int:
        """The number of holders the semaphore admits."""
        return self._limit

    async def __aenter__(self) -> Semaphore:
        await super().__aenter__()
        return self

    # -- the coordination key -----------------------------------------------------------------

    def _contender(self, session_id: str) -> str:
        return f"{self._key}/{session_id}"

    def _find_lock(self, pairs: Collection) -> Object | None:
        for pair in pairs:
            if pair.get("Key") == self._lock_key:
                return pair
        return None

    def _decode(self, pair: Object | None) -> _State:
        value = pair.get("Value") if pair is not None else None
        if not value:
            return _State(self._limit, {})
        try:
            document = json.loads(value)
            if not isinstance(document, Mapping):
                raise ValueError("not a JSON object")
            limit = _field(document, "Limit") or 0
            holders = _field(document, "Holders") or {}
            if isinstance(limit, bool) or not isinstance(limit, int) or not isinstance(
                    holders, Mapping):
                raise ValueError("unexpected field types")
        except ValueError as exc:
            raise self._error(LockConflict, f"lock decoding failed: {exc}") from None
        return _State(limit, dict(holders))

    @staticmethod
    def _prune(state: _State, pairs: Collection) -> None:
        """Drop the holders whose session holds no key under the prefix any more."""
        alive = {pair["Session"] for pair in pairs if pair.get("Session")}
        for holder in [holder for holder in state.holders if holder not in alive]:
            del state.holders[holder]

    # -- the steps ------------------------------------------------------------------------------

    async def _before_campaign(self, session_id: str) -> None:
        made = await self._write(self._client.kv.lock(
            self._contender(session_id), self._value, session=session_id,
            flags=SEMAPHORE_FLAG_VALUE, **self._where))
        if not made:
            raise self._error(LockError, "failed to make contender entry")

    async def _campaign(self, session_id: str) -> bool:
        kv = self._client.kv
        start = asyncio.get_running_loop().time()
        attempts = 0
        index = 0
        while True:
            wait = self._deadline_wait(start, attempts)
            if wait is None:
                return False
            attempts += 1
            pairs, meta = await kv.items(f"{self._key}/", watch=self._watch(index, wait),
                                         **self._where)
            lock_pair = self._find_lock(pairs)
            if lock_pair is not None and _flags(lock_pair) != SEMAPHORE_FLAG_VALUE:
                raise self._error(LockConflict, "Existing key does not match semaphore use")
            state = self._decode(lock_pair)
            if state.limit != self._limit:
                raise self._error(LockConflict, f"semaphore limit conflict (lock: {state.limit}, "
                                                f"local: {self._limit})")
            self._prune(state, pairs)
            if session_id in state.holders:
                # Already a holder: a retried write that had been applied, or a restart with the
                # same session. Go would wait for a slot of its own, possibly forever.
                return True
            if len(state.holders) >= state.limit:
                index = max(1, meta["Index"])
                continue
            state.holders[session_id] = True
            modify_index = lock_pair.get("ModifyIndex", 0) if lock_pair is not None else 0
            if await self._write(kv.cas(self._lock_key, state.encode(), index=modify_index,
                                        flags=SEMAPHORE_FLAG_VALUE, **self._where)):
                return True
            # Another contender updated .lock first: read again (the index moved past ours).

    async def _check(self, session_id: str, index: int) -> tuple[bool, int]:
        pairs, meta = await self._client.kv.items(
            f"{self._key}/", consistency="consistent", watch=index or None, **self._where)
        state = self._decode(self._find_lock(pairs))
        self._prune(state, pairs)
        return session_id in state.holders, max(1, meta["Index"])

    async def _let_go(self, session_id: str) -> None:
        """Leave ``.lock``'s holders (check-and-set, retried until it holds), then delete the
        contender key; also after a failed or cancelled acquisition, whose write to ``.lock`` may
        have been applied. A ``.lock`` that is missing, not a semaphore's or undecodable cannot
        list us: it is left alone."""
        kv = self._client.kv
        try:
            await self._leave_holders(session_id)
        except Exception:
            await kv.delete(self._contender(session_id), **self._where)
            raise
        await kv.delete(self._contender(session_id), **self._where)

    async def _leave_holders(self, session_id: str) -> None:
        kv = self._client.kv
        while True:
            pair, _ = await kv.get(self._lock_key, **self._where)
            if pair is None or _flags(pair) != SEMAPHORE_FLAG_VALUE:
                return
            try:
                state = self._decode(pair)
            except LockConflict:
                return
            if session_id not in state.holders:
                return
            del state.holders[session_id]
            if await kv.cas(self._lock_key, state.encode(), index=pair["ModifyIndex"],
                            flags=SEMAPHORE_FLAG_VALUE, **self._where):
                return

    async def destroy(self) -> None:
        """Delete the ``.lock`` key if the semaphore has no live holder (semaphore.go ``Destroy``).

        Raises :class:`~aioconsul.LockHeld` while this object holds a slot,
        :class:`~aioconsul.LockConflict` if ``.lock`` is not a semaphore's and
        :class:`~aioconsul.LockInUse` if a live session still holds a slot or ``.lock`` changed
        meanwhile. A missing ``.lock`` is fine.
        """
        async with self._mutex:
            if self._acquired:
                raise self._error(LockHeld, self._MSG_HELD)
            kv = self._client.kv
            pairs, _ = await kv.items(f"{self._key}/", **self._where)
            lock_pair = self._find_lock(pairs)
            if lock_pair is None or not lock_pair.get("ModifyIndex"):
                return
            if _flags(lock_pair) != SEMAPHORE_FLAG_VALUE:
                raise self._error(LockConflict, "Existing key does not match semaphore use")
            state = self._decode(lock_pair)
            self._prune(state, pairs)
            if state.holders:
                raise self._error(LockInUse, "Semaphore in use")
            if not await kv.delete_cas(self._lock_key, index=lock_pair, **self._where):
                raise self._error(LockInUse, "Semaphore in use")
