"""The KV table of the dev agent's state store (Consul's ``agent/consul/state/kvs.go``).

Entries live in key order (the radix tree's iteration order). Deleting a key leaves a
tombstone in a graveyard (``state/graveyard.go``), so that a list index never slides backwards
while the tombstone lives (``tombstone_ttl`` = 15 minutes, reaped lazily as the leader's
tombstone GC would). The table index is the larger of the ``kvs`` and ``tombstones`` table
indexes. Each locked key is indexed by the session holding it, and a key whose lock was lost
to an invalidated session carries a lock-delay (``state/delay.go``) that refuses a new acquire
until it runs out; the session table (:mod:`.session`) releases the keys and sets the delays.

Writes touch the channels :data:`KV_TABLE` and :func:`kv_key_channel` of each key they change.
:class:`KVTable` is a mixin of :class:`~aioconsul.testing.state.store.Store`: its writes use the
store's one Raft-like index (:mod:`.memdb`).

This module never does I/O, never imports asyncio or aiohttp and never reads the wall clock
directly: time comes from the injected ``clock`` (monotonic seconds).
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any, Final

from ..golang.stdlib import strconv_quote
from .memdb import Channel, MemDB, Restore, RPCError, dump_value, load_value

__all__ = ["KV_TABLE", "TOMBSTONE_TTL", "DirEntry", "KVTable", "collect_keys", "kv_key_channel"]

KV_TABLE: Final = "kv"
TOMBSTONE_TTL: Final = 15 * 60.0  # seconds; agent config tombstone_ttl default


def kv_key_channel(key: str) -> Channel:
    """The channel fired when one KV key changes (memdb's per-key watch)."""
    return ("kv-key", key)


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


def collect_keys(prefix: str, separator: str, entries: list[DirEntry]) -> list[str]:
    """KVS.ListKeys: each entry's key, or cut after the first ``separator`` past ``prefix``
    (deduplicated). Run on the entries the token may read (FilterDirEnt comes first)."""
    keys: list[str] = []
    seen: set[str] = set()
    for entry in entries:
        cut = entry.key.find(separator, len(prefix)) if separator else -1
        if cut == -1:
            keys.append(entry.key)
            continue
        key = entry.key[: cut + len(separator)]
        if key not in seen:
            seen.add(key)
            keys.append(key)
    return keys


class KVTable(MemDB):
    """The KV entries, their tombstones, lock holders and lock-delays (a Store mixin)."""

    def _init_kvs(self) -> None:
        self._kv: dict[str, DirEntry] = {}
        self._kv_keys: list[str] = []  # sorted: the radix tree's iteration order
        self._kv_index = 0  # max of the "kvs" and "tombstones" table indexes
        self._tombstones: dict[str, int] = {}
        self._tombstone_keys: list[str] = []
        self._tombstone_queue: deque[tuple[float, str, int]] = deque()
        self._lock_delay: dict[str, float] = {}
        self._held: dict[str, set[str]] = {}  # lower-case session ID -> locked keys
        self._register_table(self._snapshot_kvs)

    def _snapshot_kvs(self) -> Restore:
        saved = (
            dict(self._kv),
            list(self._kv_keys),
            self._kv_index,
            dict(self._tombstones),
            list(self._tombstone_keys),
            deque(self._tombstone_queue),
            {session: set(keys) for session, keys in self._held.items()},
            dict(self._lock_delay),
        )

        def restore() -> None:
            (
                self._kv,
                self._kv_keys,
                self._kv_index,
                self._tombstones,
                self._tombstone_keys,
                self._tombstone_queue,
                self._held,
                self._lock_delay,
            ) = saved

        return restore

    # -- snapshots (fsm persistKVs / persistTombstones, restoreKV / restoreTombstone) ------

    def kvs_dump(self) -> dict[str, Any]:
        """The entries (their lock holders included) and tombstones, and the table index.

        Lock-delays are not in it: Consul keeps them beside the state store, and a restored
        store starts without any (``state.NewStateStore`` makes a new delay table).
        """
        self._reap_tombstones()
        return {
            "Entries": [dump_value(self._kv[key]) for key in self._kv_keys],
            "Tombstones": [[key, self._tombstones[key]] for key in self._tombstone_keys],
            "Index": self._kv_index,
        }

    def kvs_load(self, data: dict[str, Any]) -> None:
        """Replace the whole table with a :meth:`kvs_dump`; restored tombstones are reaped a
        ``tombstone_ttl`` from now, and no key has a lock-delay."""
        entries = [load_value(DirEntry, item) for item in data["Entries"]]
        self._kv = {entry.key: entry for entry in entries}
        self._kv_keys = sorted(self._kv)
        self._held = {}
        for entry in entries:
            if entry.session:
                self._held.setdefault(entry.session.lower(), set()).add(entry.key)
        stones = {str(key): int(index) for key, index in data["Tombstones"]}
        self._tombstones = stones
        self._tombstone_keys = sorted(stones)
        now = self._clock()
        self._tombstone_queue = deque(
            (now, key, index) for key, index in sorted(stones.items(), key=lambda kv: kv[1])
        )
        self._lock_delay = {}
        self._kv_index = int(data["Index"])

    def _session_exists(self, session_id: str) -> bool:
        """Whether ``session_id`` names a live session; the session table answers."""
        raise NotImplementedError  # pragma: no cover - SessionTable overrides it

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
        if not self._session_exists(session):
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

    # -- inside a write transaction (state/txn.go; the verbs themselves live in txn.py) ----

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
