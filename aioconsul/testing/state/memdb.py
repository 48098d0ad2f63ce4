"""What every table of the dev agent's state store builds on (Consul's ``memdb.go`` and the
shared half of ``state_store.go``).

:class:`MemDB` keeps the one Raft-like index that advances on every write that would go
through Raft in Consul, collects the *channels* a write touches (a whole table, or one KV key)
and reports them to an ``on_change`` callback when the write ends, so that blocking queries
can be woken cheaply. It also keeps the registry of tables a write transaction saves and, if
the transaction fails, puts back (:meth:`MemDB.write_txn`). The tables themselves are mixins
over it, one module each (:mod:`.kvs`, :mod:`.session`, :mod:`.event`), joined into one
:class:`~aioconsul.testing.state.store.Store`.

This module never does I/O, never imports asyncio or aiohttp and never reads the wall clock
directly: time comes from the injected ``clock`` (monotonic seconds). :class:`RPCError` is
the error every table raises with Consul's text.
"""

from __future__ import annotations

import base64
import dataclasses
import os
import types
import typing
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import Any, Final

__all__ = [
    "BOOTSTRAP_INDEX",
    "Channel",
    "MemDB",
    "RPCError",
    "Restore",
    "Snapshot",
    "dump_value",
    "generate_uuid",
    "load_value",
]

Channel = Hashable

#: Puts a table back as a :data:`Snapshot` found it.
Restore = Callable[[], None]
#: Saves a table (copies its containers; records are replaced, never mutated) and returns
#: the :data:`Restore` that puts it back.
Snapshot = Callable[[], Restore]

# Raft entries a fresh `consul agent -dev` writes before any user request (raft configuration,
# leader barrier, autopilot and CA configuration, registering its own node...): user data never
# gets index 1, which Consul relies on (agent/http.go setIndex).
BOOTSTRAP_INDEX: Final = 12


class RPCError(Exception):
    """An error a Consul server RPC returns; the HTTP layer answers 500 with ``str(exc)``."""


def generate_uuid() -> str:
    """hashicorp/go-uuid GenerateUUID: 16 random bytes formatted 8-4-4-4-12."""
    h = os.urandom(16).hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


# -- snapshot encoding (the tables' dump()/load(), see state/snapshot.py) -------------------


def dump_value(value: Any) -> Any:
    """``value`` as JSON-ready data: a dataclass becomes a dict of its fields, bytes base64 text,
    a tuple a list; dicts and lists are copied, deeply. :func:`load_value` reverses it."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: dump_value(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, (list, tuple)):
        return [dump_value(item) for item in value]
    if isinstance(value, dict):
        return {key: dump_value(item) for key, item in value.items()}
    return value


_HINTS: dict[type, dict[str, Any]] = {}


def load_value(kind: Any, data: Any) -> Any:
    """The value of type ``kind`` (a dataclass, or a type hint over them: ``tuple[Link, ...]``,
    ``bytes | None``, ``dict[str, str]``...) that :func:`dump_value` turned into ``data``."""
    if data is None:
        return None
    origin = typing.get_origin(kind)
    if origin is typing.Union or origin is types.UnionType:
        arms = [arm for arm in typing.get_args(kind) if arm is not type(None)]
        return load_value(arms[0], data)  # the tables only use "X | None"
    if origin is tuple:
        return tuple(load_value(typing.get_args(kind)[0], item) for item in data)
    if origin is list:
        return [load_value(typing.get_args(kind)[0], item) for item in data]
    if origin is dict:
        arm = typing.get_args(kind)[1]
        return {key: load_value(arm, item) for key, item in data.items()}
    if kind is bytes:
        return base64.b64decode(data)
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        hints = _HINTS.get(kind)
        if hints is None:
            hints = _HINTS[kind] = typing.get_type_hints(kind)
        return kind(**{name: load_value(hints[name], item) for name, item in data.items()})
    return data


class MemDB:
    """The index, the change channels and the table registry the store's tables share."""

    def __init__(
        self,
        *,
        clock: Callable[[], float],
        on_change: Callable[[frozenset[Channel]], None] | None,
    ) -> None:
        self._clock = clock
        self._on_change = on_change
        self._raft_index = BOOTSTRAP_INDEX
        self._changed: set[Channel] = set()
        self._tables: list[Snapshot] = []

    def index_dump(self) -> int:
        """The Raft index, for a snapshot (``raft.SnapshotMeta.Index``)."""
        return self._raft_index

    def index_load(self, index: int) -> None:
        """Restore the Raft index of a snapshot (the restore then moves it past, as Raft does)."""
        self._raft_index = index

    def _register_table(self, snapshot: Snapshot) -> None:
        """Add a table to what :meth:`write_txn` saves and, on a rollback, puts back."""
        self._tables.append(snapshot)

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

    # -- transactions (state/txn.go TxnRW; the verbs themselves live in txn.py) -------------

    @contextmanager
    def write_txn(self, *tables: Snapshot) -> Iterator[int]:
        """One memdb write transaction at one new Raft index: all of it, or none of it.

        Yields the index every write inside uses. If the block raises, each change it made to
        the registered tables (the KV store's entries, tombstones, lock holders, lock-delays
        and table index; the sessions a catalog write invalidated) is undone and no watcher is
        woken; otherwise the channels it touched are reported once, when it ends. ``tables``
        are the other tables the block may write (the catalog's): each is called first and
        returns the function that puts it back. The Raft index is spent either way: in Consul a
        rolled-back transaction is still a committed log entry whose FSM apply failed, and no
        table index moves.
        """
        restores = [save() for save in (*self._tables, *tables)]
        index = self._apply()
        try:
            yield index
        except BaseException:
            for restore in restores:
                restore()
            self._changed.clear()
            raise
        self._flush()
