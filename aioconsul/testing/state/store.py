"""The dev agent's in-memory state: what Consul keeps in its Raft-replicated state store.

One Raft-like index advances on every write that would go through Raft in Consul, and the
tables keep their own "table index" exactly as ``agent/consul/state`` maintains them:

* **KV** (``state/kvs.go``): entries, a graveyard of tombstones for deleted keys (so that a list
  index never slides backwards while the tombstone lives, ``tombstone_ttl`` = 15 minutes), lock
  delays set when a session holding a key is invalidated (``state/session.go``).
* **Sessions** (``state/session.go`` plus the validation done by ``consul/session_endpoint.go``).
* **User events** (``agent/user_event.go``): the agent-local ring of the 256 most recent events,
  with serf's Lamport clock.

Every read returns the index Consul's RPC endpoint would put in ``X-Consul-Index`` together with
the result; every change is reported to an ``on_change`` callback as a set of *channels* (a whole
table, or one KV key) so that blocking queries can be woken cheaply.

This module never does I/O, never imports asyncio or aiohttp and never reads the wall clock
directly: time comes from the injected ``clock`` (monotonic seconds).
"""

from __future__ import annotations

import os
import re
import time
from bisect import bisect_left, insort
from collections import deque
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Final, Protocol

from ..golang.stdlib import (
    HOUR,
    SECOND,
    GoSyntaxError,
    format_duration,
    parse_duration,
    strconv_quote,
    utf8,
)

__all__ = [
    "EVENTS",
    "KV_TABLE",
    "SESSIONS_TABLE",
    "Channel",
    "DirEntry",
    "RPCError",
    "Session",
    "Store",
    "UserEvent",
    "kv_key_channel",
    "uuid_to_uint64",
]

Channel = Hashable

KV_TABLE: Final = "kv"
SESSIONS_TABLE: Final = "sessions"
EVENTS: Final = "events"


def kv_key_channel(key: str) -> Channel:
    """The channel fired when one KV key changes (memdb's per-key watch)."""
    return ("kv-key", key)


# Raft entries a fresh `consul agent -dev` writes before any user request (raft configuration,
# leader barrier, autopilot and CA configuration, registering its own node...): user data never
# gets index 1, which Consul relies on (agent/http.go setIndex).
BOOTSTRAP_INDEX: Final = 12

MAX_LOCK_DELAY: Final = 60 * SECOND  # structs.MaxLockDelay
SESSION_TTL_MAX: Final = 24 * HOUR  # structs.SessionTTLMax
TOMBSTONE_TTL: Final = 15 * 60.0  # seconds; agent config tombstone_ttl default
EVENT_BUFFER: Final = 256  # agent.eventBuf
SERF_CHECK_ID: Final = "serfHealth"
USER_EVENT_SIZE_LIMIT: Final = 512  # serf's default Config.UserEventSizeLimit
_USER_EVENT_PREFIX: Final = "consul:event:"
_REMOTE_EXEC_NAME: Final = "_rexec"


class RPCError(Exception):
    """An error a Consul server RPC returns; the HTTP layer answers 500 with ``str(exc)``."""


class NodeCatalog(Protocol):
    """What session validation reads from the catalog tables (``catalog.Catalog``)."""

    def has_node(self, node: str) -> bool:
        """Whether ``node`` is registered (names compare case-insensitively)."""
        ...

    def check_status(self, node: str, check_id: str) -> str | None:
        """The status of ``node``'s check ``check_id``, or None when it is not registered."""
        ...


def _generate_uuid() -> str:
    """hashicorp/go-uuid GenerateUUID: 16 random bytes formatted 8-4-4-4-12."""
    h = os.urandom(16).hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _session_check_ids(session: Session) -> set[str]:
    """Session.CheckIDs(), lower-cased as the session-checks index stores them."""
    ids = [*(session.checks or ()), *(session.node_checks or ())]
    ids += [c["ID"] for c in session.service_checks or ()]
    return {check.lower() for check in ids}


def uuid_to_uint64(uuid: str) -> int:
    """agent/event_endpoint.go uuidToUint64: XOR of the two 64-bit halves of a UUID."""
    lower = uuid[0:8] + uuid[9:13] + uuid[14:18]
    upper = uuid[19:23] + uuid[24:36]
    return int(lower, 16) ^ int(upper, 16)


@dataclass(frozen=True, slots=True)
class DirEntry:
    """A KV entry (structs.DirEntry). Immutable: every write stores a new object."""

    key: str
    value: bytes | None
    flags: int
    lock_index: int = 0
    session: str = ""
    create_index: int = 0
    modify_index: int = 0

    def same_content(self, other: DirEntry) -> bool:
        """structs.DirEntry.Equal: a write that changes none of these is not stored."""
        return (
            self.lock_index == other.lock_index
            and self.key == other.key
            and self.flags == other.flags
            and (self.value or b"") == (other.value or b"")
            and self.session == other.session
        )


@dataclass(frozen=True, slots=True)
class Session:
    """A session (structs.Session, CE fields only)."""

    id: str
    name: str
    node: str
    lock_delay: int  # nanoseconds
    behavior: str
    ttl: str
    node_checks: list[str] | None
    service_checks: list[dict[str, str]] | None
    checks: list[str] | None
    create_index: int
    modify_index: int

    def ttl_ns(self) -> int:
        """The TTL timer's base duration (server.resetSessionTimer); 0 means no timer."""
        if self.ttl in ("", "0", "0s", "0m", "0h"):
            return 0
        return parse_duration(self.ttl)  # validated on create, cannot fail here


@dataclass(frozen=True, slots=True)
class UserEvent:
    """A user event (agent.UserEvent)."""

    id: str
    name: str
    payload: bytes | None
    node_filter: str = ""
    service_filter: str = ""
    tag_filter: str = ""
    version: int = 1
    ltime: int = 0


# RE2 rejects these Perl constructs that Python's `re` accepts.
_NOT_RE2 = re.compile(r"\(\?(?:[=!]|<[=!]|>|\()|\\[1-9]")


def _check_regexp(pattern: str) -> re.Pattern[str]:
    """Compile a filter the way agent.validateUserEventParams does with Go's regexp."""
    bad = _NOT_RE2.search(pattern)
    if bad:
        raise GoSyntaxError(
            f"error parsing regexp: invalid or unsupported Perl syntax: `{bad.group(0)}`"
        )
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise GoSyntaxError(f"error parsing regexp: {exc.msg}: `{pattern}`") from None


def _msgpack_str_size(n: int) -> int:
    """Encoded size of a string/[]byte with go-msgpack's old-spec raw types."""
    if n < 32:
        return 1 + n
    if n < 1 << 16:
        return 3 + n
    return 5 + n


def _msgpack_uint_size(v: int) -> int:
    if v <= 0x7F:
        return 1
    if v <= 0xFF:
        return 2
    if v <= 0xFFFF:
        return 3
    if v <= 0xFFFFFFFF:
        return 5
    return 9


def _encoded_user_event_size(event: UserEvent) -> int:
    """len(encodeMsgPack(UserEvent)) as agent.UserEvent hands it to Internal.EventFire."""
    fields: list[tuple[str, bytes]] = [("ID", event.id.encode()), ("n", utf8(event.name))]
    if event.payload:
        fields.append(("p", event.payload))
    for tag, text in (
        ("nf", event.node_filter),
        ("sf", event.service_filter),
        ("tf", event.tag_filter),
    ):
        if text:  # `codec:",omitempty"`
            fields.append((tag, utf8(text)))
    size = 1 if len(fields) + 1 < 16 else 3  # fixmap / map16 header, "v" included
    size += sum(_msgpack_str_size(len(tag)) + _msgpack_str_size(len(data)) for tag, data in fields)
    return size + _msgpack_str_size(1) + _msgpack_uint_size(event.version)


def _serf_message_size(name: bytes, payload_size: int, ltime: int) -> int:
    """len(encodeMessage(messageUserEventType, messageUserEvent{LTime, Name, Payload, CC}))."""
    return (
        1  # message type byte
        + 1  # fixmap header, 4 fields
        + _msgpack_str_size(len("LTime"))
        + _msgpack_uint_size(ltime)
        + _msgpack_str_size(len("Name"))
        + _msgpack_str_size(len(name))
        + _msgpack_str_size(len("Payload"))
        + _msgpack_str_size(payload_size)
        + _msgpack_str_size(len("CC"))
        + 1  # bool
    )


class Store:
    """The whole replicated state of the single-server dev cluster."""

    def __init__(
        self,
        *,
        node_name: str,
        session_ttl_min: int = 10 * SECOND,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[frozenset[Channel]], None] | None = None,
    ) -> None:
        self.node_name = node_name
        self.session_ttl_min = session_ttl_min
        self._clock = clock
        self._on_change = on_change
        self._raft_index = BOOTSTRAP_INDEX
        self._changed: set[Channel] = set()

        self._kv: dict[str, DirEntry] = {}
        self._kv_keys: list[str] = []  # sorted: the radix tree's iteration order
        self._kv_index = 0  # max of the "kvs" and "tombstones" table indexes
        self._tombstones: dict[str, int] = {}
        self._tombstone_keys: list[str] = []
        self._tombstone_queue: deque[tuple[float, str, int]] = deque()
        self._lock_delay: dict[str, float] = {}
        self._held: dict[str, set[str]] = {}  # lower-case session ID -> locked keys

        self._sessions: dict[str, Session] = {}  # keyed by lower-case ID (indexFromQuery)
        self._sessions_index = 0

        self._events: deque[UserEvent] = deque(maxlen=EVENT_BUFFER)
        # serf starts its event clock at 1 and the new leader fires "consul:new-leader" once.
        self._event_clock = 2

        #: The catalog tables (``catalog.Catalog``) sessions are checked against; without
        #: one, the store knows only the dev node and its passing ``serfHealth`` check.
        self.catalog: NodeCatalog | None = None

    # -- bookkeeping ---------------------------------------------------------------------

    @property
    def raft_index(self) -> int:
        """The index of the last entry "applied through Raft"."""
        return self._raft_index

    def _apply(self) -> int:
        self._raft_index += 1
        return self._raft_index

    def _flush(self) -> None:
        if self._changed:
            changed = frozenset(self._changed)
            self._changed.clear()
            if self._on_change is not None:
                self._on_change(changed)

    # -- shared with the catalog tables (catalog.py), which live beside this store -------

    def next_index(self) -> int:
        """Start a write that goes through Raft; returns the index it is applied at."""
        return self._apply()

    def touch(self, *channels: Channel) -> None:
        """Record channels changed by the write in progress (reported on :meth:`commit`)."""
        self._changed.update(channels)

    def commit(self) -> None:
        """End a write: wake the blocking queries parked on the channels it touched."""
        self._flush()

    def invalidate_check_sessions(self, index: int, node: str, check_id: str) -> None:
        """checkSessionsTxn + deleteSessionTxn: drop every session bound to (node, check)."""
        node, check_id = node.lower(), check_id.lower()
        for session in list(self._sessions.values()):
            if session.node.lower() == node and check_id in _session_check_ids(session):
                self._invalidate(index, session)

    def invalidate_node_sessions(self, index: int, node: str) -> None:
        """allNodeSessionsTxn + deleteSessionTxn, as deleting a node does."""
        for session in list(self._sessions.values()):
            if session.node.lower() == node.lower():
                self._invalidate(index, session)

    # -- KV reads --------------------------------------------------------------------------

    def _prefixed(self, keys: list[str], prefix: str) -> Iterator[str]:
        i = bisect_left(keys, prefix)
        while i < len(keys) and keys[i].startswith(prefix):
            yield keys[i]
            i += 1

    def _reap_tombstones(self) -> None:
        """The leader's tombstone GC, applied lazily: stones older than tombstone_ttl go."""
        deadline = self._clock() - TOMBSTONE_TTL
        queue = self._tombstone_queue
        while queue and queue[0][0] <= deadline:
            _, key, index = queue.popleft()
            if self._tombstones.get(key) == index:
                del self._tombstones[key]
                self._tombstone_keys.pop(bisect_left(self._tombstone_keys, key))

    def kv_get(self, key: str) -> tuple[int, DirEntry | None]:
        """KVS.Get: the entry's ModifyIndex, or the KV table index (at least 1) if missing."""
        entry = self._kv.get(key)
        if entry is None:
            return self._kv_index or 1, None
        return entry.modify_index, entry

    def kv_list(self, prefix: str) -> tuple[int, list[DirEntry]]:
        """KVS.List (state.kvsListTxn): highest ModifyIndex in the prefix, tombstones included.

        With an empty prefix, or when nothing in the prefix (not even a tombstone) is left, the
        KV table index is used instead; 0 becomes 1.
        """
        self._reap_tombstones()
        entries = [self._kv[key] for key in self._prefixed(self._kv_keys, prefix)]
        if prefix:
            index = max((e.modify_index for e in entries), default=0)
            for key in self._prefixed(self._tombstone_keys, prefix):
                index = max(index, self._tombstones[key])
        else:
            index = self._kv_index
        return (index or self._kv_index) or 1, entries

    def kv_keys(self, prefix: str, separator: str) -> tuple[int, list[str]]:
        """KVS.ListKeys: the List index; keys cut after the first separator past the prefix."""
        index, entries = self.kv_list(prefix)
        keys: list[str] = []
        seen: set[str] = set()
        for entry in entries:
            if not separator:
                keys.append(entry.key)
                continue
            cut = entry.key.find(separator, len(prefix))
            if cut == -1:
                keys.append(entry.key)
                continue
            key = entry.key[: cut + len(separator)]
            if key not in seen:
                seen.add(key)
                keys.append(key)
        return index, keys

    def kv_lock_delay_active(self, key: str) -> bool:
        """Whether an acquire of ``key`` is refused by lock-delay right now."""
        expires = self._lock_delay.get(key)
        if expires is None:
            return False
        if expires > self._clock():
            return True
        del self._lock_delay[key]
        return False

    # -- KV writes -------------------------------------------------------------------------

    def _store_entry(self, entry: DirEntry, index: int) -> None:
        old = self._kv.get(entry.key)
        if old is None:
            insort(self._kv_keys, entry.key)
        elif old.session:
            self._held.get(old.session.lower(), set()).discard(entry.key)
        self._kv[entry.key] = entry
        if entry.session:
            self._held.setdefault(entry.session.lower(), set()).add(entry.key)
        self._kv_index = index
        self._changed.update((KV_TABLE, kv_key_channel(entry.key)))

    def _set_txn(self, index: int, entry: DirEntry, *, update_session: bool) -> None:
        """state.kvsSetTxn: keep CreateIndex (and the lock holder unless told otherwise)."""
        existing = self._kv.get(entry.key)
        entry = replace(
            entry,
            value=entry.value or None,
            create_index=existing.create_index if existing else index,
            session=entry.session if update_session else (existing.session if existing else ""),
        )
        if existing is not None and existing.same_content(entry):
            return  # nothing stored, ModifyIndex and table index unchanged
        self._store_entry(replace(entry, modify_index=index), index)

    def _tombstone(self, key: str, index: int) -> None:
        if key not in self._tombstones:
            insort(self._tombstone_keys, key)
        self._tombstones[key] = index
        self._tombstone_queue.append((self._clock(), key, index))
        self._kv_index = index

    def _remove_entry(self, entry: DirEntry, index: int) -> None:
        del self._kv[entry.key]
        self._kv_keys.pop(bisect_left(self._kv_keys, entry.key))
        if entry.session:
            self._held.get(entry.session.lower(), set()).discard(entry.key)
        self._kv_index = index
        self._changed.update((KV_TABLE, kv_key_channel(entry.key)))

    def _delete_txn(self, index: int, key: str) -> None:
        """state.kvsDeleteTxn: delete one key, leaving a tombstone."""
        entry = self._kv.get(key)
        if entry is not None:
            self._tombstone(key, index)
            self._remove_entry(entry, index)

    def kv_set(self, key: str, value: bytes | None, flags: int) -> bool:
        """KVSet. The request carries LockIndex 0, so a plain set resets it (kvsSetTxn)."""
        index = self._apply()
        self._set_txn(index, DirEntry(key, value, flags), update_session=False)
        self._flush()
        return True

    def kv_cas(self, key: str, value: bytes | None, flags: int, cas: int) -> bool:
        """KVCAS (state.kvsSetCASTxn): 0 means create-only, N means ModifyIndex must be N."""
        index = self._apply()
        existing = self._kv.get(key)
        if (cas == 0 and existing is not None) or (cas != 0 and existing is None):
            return False
        if existing is not None and cas != existing.modify_index:
            return False
        self._set_txn(index, DirEntry(key, value, flags), update_session=False)
        self._flush()
        return True

    def kv_lock(self, key: str, value: bytes | None, flags: int, session: str) -> bool:
        """KVLock: lock-delay is checked before Raft (kvsPreApply), the rest in kvsLockTxn."""
        if self.kv_lock_delay_active(key):
            return False
        index = self._apply()
        if not session:
            raise RPCError("missing session")
        if session.lower() not in self._sessions:
            raise RPCError(f"invalid session {strconv_quote(session)}")
        existing = self._kv.get(key)
        if existing is None:
            lock_index = 1
        elif existing.session == session:
            lock_index = existing.lock_index  # already held: value may change, LockIndex not
        elif existing.session:
            return False
        else:
            lock_index = existing.lock_index + 1
        entry = DirEntry(key, value, flags, lock_index=lock_index, session=session)
        self._set_txn(index, entry, update_session=True)
        self._flush()
        return True

    def kv_unlock(self, key: str, value: bytes | None, flags: int, session: str) -> bool:
        """KVUnlock (kvsUnlockTxn): only the holder may release; LockIndex is kept."""
        index = self._apply()
        if not session:
            raise RPCError("missing session")
        existing = self._kv.get(key)
        if existing is None or existing.session != session:
            return False
        entry = DirEntry(key, value, flags, lock_index=existing.lock_index)
        self._set_txn(index, entry, update_session=True)
        self._flush()
        return True

    def kv_delete(self, key: str) -> bool:
        """KVDelete: deleting a missing key is a successful no-op."""
        index = self._apply()
        self._delete_txn(index, key)
        self._flush()
        return True

    def kv_delete_cas(self, key: str, cas: int) -> bool:
        """KVDeleteCAS (kvsDeleteCASTxn): true when deleted *or when the key is missing*."""
        index = self._apply()
        existing = self._kv.get(key)
        if existing is None or existing.modify_index != cas:
            return existing is None
        self._delete_txn(index, key)
        self._flush()
        return True

    def _delete_tree_txn(self, index: int, prefix: str) -> None:
        """state.kvsDeleteTreeTxn: one tombstone for the prefix, none for the root."""
        doomed = [self._kv[key] for key in self._prefixed(self._kv_keys, prefix)]
        for entry in doomed:
            self._remove_entry(entry, index)
        if doomed and prefix:
            self._tombstone(prefix, index)

    def kv_delete_tree(self, prefix: str) -> bool:
        """KVDeleteTree (kvsDeleteTreeTxn)."""
        index = self._apply()
        self._delete_tree_txn(index, prefix)
        self._flush()
        return True

    # -- transactions (state/txn.go TxnRW; the verbs themselves live in txn.py) -------------

    @contextmanager
    def write_txn(self, *tables: Callable[[], Callable[[], None]]) -> Iterator[int]:
        """One memdb write transaction at one new Raft index: all of it, or none of it.

        Yields the index every write inside uses. If the block raises, each change it made to
        the KV store (entries, tombstones, lock holders, the table index) and to the sessions
        (those a catalog write invalidated, their lock-delays) is undone and no watcher is
        woken; otherwise the channels it touched are reported once, when it ends. ``tables``
        are the other tables the block may write (the catalog's): each is called first and
        returns the function that puts it back. The Raft index is spent either way: in Consul a
        rolled-back transaction is still a committed log entry whose FSM apply failed, and no
        table index moves.
        """
        saved = (
            dict(self._kv),
            list(self._kv_keys),
            self._kv_index,
            dict(self._tombstones),
            list(self._tombstone_keys),
            deque(self._tombstone_queue),
            {session: set(keys) for session, keys in self._held.items()},
            dict(self._sessions),
            self._sessions_index,
            dict(self._lock_delay),
        )
        restores = [save() for save in tables]
        index = self._apply()
        try:
            yield index
        except BaseException:
            (
                self._kv,
                self._kv_keys,
                self._kv_index,
                self._tombstones,
                self._tombstone_keys,
                self._tombstone_queue,
                self._held,
                self._sessions,
                self._sessions_index,
                self._lock_delay,
            ) = saved
            for restore in restores:
                restore()
            self._changed.clear()
            raise
        self._flush()

    def kvs_set_txn(self, index: int, entry: DirEntry, *, update_session: bool) -> DirEntry:
        """state.kvsSetTxn inside :meth:`write_txn`; returns the entry as now stored."""
        self._set_txn(index, entry, update_session=update_session)
        return self._kv[entry.key]

    def kvs_delete_txn(self, index: int, key: str) -> None:
        """state.kvsDeleteTxn inside :meth:`write_txn` (a missing key is a no-op)."""
        self._delete_txn(index, key)

    def kvs_delete_tree_txn(self, index: int, prefix: str) -> None:
        """state.kvsDeleteTreeTxn inside :meth:`write_txn`."""
        self._delete_tree_txn(index, prefix)

    # -- sessions --------------------------------------------------------------------------

    def session_create(
        self,
        *,
        name: str,
        node: str,
        lock_delay: int,
        behavior: str,
        ttl: str,
        node_checks: list[str] | None,
        service_checks: list[dict[str, str]] | None,
        checks: list[str] | None,
    ) -> Session:
        """Session.Apply (create) and state.sessionCreateTxn, with their error texts."""
        if not node:
            raise RPCError("Must provide Node")
        if behavior == "":
            behavior = "release"
        elif behavior not in ("release", "delete"):
            raise RPCError(f"Invalid Behavior setting '{behavior}'")
        if ttl:
            try:
                ttl_ns = parse_duration(ttl)
            except GoSyntaxError as exc:
                raise RPCError(f"Session TTL '{ttl}' invalid: {exc}") from None
            if ttl_ns != 0 and not self.session_ttl_min <= ttl_ns <= SESSION_TTL_MAX:
                raise RPCError(
                    f"Invalid Session TTL '{ttl_ns}', must be between "
                    f"[{format_duration(self.session_ttl_min)}={format_duration(SESSION_TTL_MAX)}]"
                )
        session_id = _generate_uuid()
        while session_id in self._sessions:  # pragma: no cover - 128 random bits
            session_id = _generate_uuid()
        index = self._apply()
        # What follows runs in the FSM: its errors come back as "apply failed: ...".
        catalog = self.catalog
        known = catalog.has_node(node) if catalog else node.lower() == self.node_name.lower()
        if not known:
            raise RPCError("apply failed: Missing node registration")
        # validateSessionChecksTxn: Session.CheckIDs(), each looked up as (node, check ID) in
        # the checks table; a missing or critical check refuses the session.
        wanted = [*(checks or ()), *(node_checks or ()), *(c["ID"] for c in service_checks or ())]
        for check in wanted:
            if catalog is not None:
                status = catalog.check_status(node, check)
            else:
                status = "passing" if check.lower() == SERF_CHECK_ID.lower() else None
            if status is None:
                raise RPCError(f"apply failed: Missing check '{check}' registration")
            if status == "critical":
                raise RPCError(f"apply failed: Check '{check}' is in critical state")
        session = Session(
            id=session_id,
            name=name,
            node=node,
            lock_delay=lock_delay,
            behavior=behavior,
            ttl=ttl,
            node_checks=node_checks,
            service_checks=service_checks,
            checks=checks,
            create_index=index,
            modify_index=index,
        )
        self._sessions[session_id] = session
        self._sessions_index = index
        self._changed.add(SESSIONS_TABLE)
        self._flush()
        return session

    def session_get(self, session_id: str) -> tuple[int, Session | None]:
        """state.SessionGet: the sessions table index and the session, if it exists."""
        return self._sessions_index, self._sessions.get(session_id.lower())

    def session_list(self) -> tuple[int, list[Session]]:
        """state.SessionList, in ID order."""
        return self._sessions_index, [self._sessions[k] for k in sorted(self._sessions)]

    def node_sessions(self, node: str) -> tuple[int, list[Session]]:
        """state.NodeSessions (node names compare case-insensitively)."""
        index, sessions = self.session_list()
        return index, [s for s in sessions if s.node.lower() == node.lower()]

    def session_destroy(self, session_id: str) -> None:
        """Session.Apply (destroy): a missing session is a no-op that never reaches Raft."""
        session = self._sessions.get(session_id.lower())
        if session is None:
            return
        index = self._apply()
        self._invalidate(index, session)
        self._flush()

    def _invalidate(self, index: int, session: Session) -> None:
        """state.deleteSessionTxn: release or delete held keys and start their lock-delay."""
        del self._sessions[session.id.lower()]
        self._sessions_index = index
        self._changed.add(SESSIONS_TABLE)
        delay = min(session.lock_delay, MAX_LOCK_DELAY)
        now = self._clock()
        for key in sorted(self._held.pop(session.id.lower(), set())):
            entry = self._kv[key]
            if session.behavior == "delete":
                self._delete_txn(index, key)
            else:
                self._set_txn(index, replace(entry, session=""), update_session=True)
            if delay > 0:
                self._lock_delay[key] = now + delay / SECOND

    # -- user events -----------------------------------------------------------------------

    def validate_event(self, event: UserEvent) -> None:
        """agent.validateUserEventParams."""
        if not event.name:
            raise RPCError("User event missing name")
        if event.tag_filter and not event.service_filter:
            raise RPCError("Cannot provide tag filter without service filter")
        for label, pattern in (
            ("node", event.node_filter),
            ("service", event.service_filter),
            ("tag", event.tag_filter),
        ):
            if pattern:
                try:
                    _check_regexp(pattern)
                except GoSyntaxError as exc:
                    raise RPCError(f"Invalid {label} filter: {exc}") from None

    def fire_event(
        self,
        name: str,
        payload: bytes | None,
        *,
        node_filter: str = "",
        service_filter: str = "",
        tag_filter: str = "",
    ) -> UserEvent:
        """agent.UserEvent + Internal.EventFire + serf.UserEvent + agent.handleEvents.

        Returns the event as the fire endpoint echoes it (LTime 0). The copy the agent keeps
        carries serf's Lamport time and is kept only if it passes this agent's filters.
        """
        event = UserEvent(
            id=_generate_uuid(),
            name=name,
            payload=payload or None,
            node_filter=node_filter,
            service_filter=service_filter,
            tag_filter=tag_filter,
        )
        self.validate_event(event)
        # serf.UserEvent size checks; the serf event is "consul:event:<name>" and its payload
        # is the msgpack-encoded UserEvent.
        serf_name = utf8(_USER_EVENT_PREFIX + name)
        encoded = _encoded_user_event_size(event)
        if len(serf_name) + encoded > USER_EVENT_SIZE_LIMIT:
            raise RPCError(
                f"user event exceeds configured limit of {USER_EVENT_SIZE_LIMIT} bytes "
                "before encoding"
            )
        if _serf_message_size(serf_name, encoded, self._event_clock) > USER_EVENT_SIZE_LIMIT:
            raise RPCError(
                f"encoded user event exceeds configured limit of {USER_EVENT_SIZE_LIMIT} bytes "
                "after encoding"
            )
        received = replace(event, ltime=self._event_clock)
        self._event_clock += 1
        if self._should_process(received) and name != _REMOTE_EXEC_NAME:
            self._events.append(received)
            self._changed.add(EVENTS)
            self._flush()
        return event

    def _should_process(self, event: UserEvent) -> bool:
        """agent.shouldProcessUserEvent: the dev agent has no local services."""
        if event.node_filter and not re.search(event.node_filter, self.node_name):
            return False
        return not event.service_filter

    def events_list(self, name: str) -> tuple[int, list[UserEvent]]:
        """EventList: oldest first; the index folds the newest matching event's UUID."""
        events = [e for e in self._events if not name or e.name == name]
        return (uuid_to_uint64(events[-1].id) if events else 1), events
