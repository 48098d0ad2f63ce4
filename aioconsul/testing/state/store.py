"""The dev agent's in-memory state: what Consul keeps in its Raft-replicated state store.

:class:`Store` is Consul's ``state.Store`` (``agent/consul/state/state_store.go``) for the
single server of a dev cluster: one object, joined from one mixin per table, each in its own
module as Consul keeps one file per table:

* :mod:`.memdb`: what the tables share: the Raft-like index that advances on every write that
  would go through Raft in Consul, the channels a write touched (reported to ``on_change`` so
  that blocking queries can be woken cheaply), write transactions and their rollback, and
  :class:`~aioconsul.testing.state.memdb.RPCError`;
* :mod:`.kvs` (``state/kvs.go``): entries, tombstones, lock holders and lock-delays;
* :mod:`.session` (``state/session.go``): sessions and their checks;
* :mod:`.event` (``agent/user_event.go``): the agent-local ring of the most recent user events.

Every table keeps its own "table index" exactly as ``agent/consul/state`` maintains it, and
every read returns the index Consul's RPC endpoint would put in ``X-Consul-Index`` together
with the result. The catalog tables (:mod:`.catalog`) are an object over the store that shares
its index and invalidates its sessions; :mod:`.txn` runs transactions over both.

This module never does I/O, never imports asyncio or aiohttp and never reads the wall clock
directly: time comes from the injected ``clock`` (monotonic seconds).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ..golang.stdlib import SECOND
from .event import EventTable
from .memdb import Channel
from .session import SessionTable

__all__ = ["Store"]


class Store(SessionTable, EventTable):
    """The whole replicated state of the single-server dev cluster.

    The KV table (:class:`~aioconsul.testing.state.kvs.KVTable`), the sessions
    (:class:`~aioconsul.testing.state.session.SessionTable`, over the KV table whose keys they
    lock) and the user events (:class:`~aioconsul.testing.state.event.EventTable`), sharing
    one index (:class:`~aioconsul.testing.state.memdb.MemDB`).
    """

    def __init__(
        self,
        *,
        node_name: str,
        session_ttl_min: int = 10 * SECOND,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[frozenset[Channel]], None] | None = None,
    ) -> None:
        super().__init__(clock=clock, on_change=on_change)
        self.node_name = node_name
        self.session_ttl_min = session_ttl_min
        self._init_kvs()
        self._init_sessions()
        self._init_events()

    def dump(self) -> dict[str, Any]:
        """The store's part of a snapshot: the Raft index, the KV table and the sessions.

        The user events are not in it: they are gossip (``agent/user_event.go``), never in
        Raft, and Consul's FSM snapshot (``fsm/snapshot_ce.go``) has no such table.
        """
        return {"Index": self.index_dump(), "KV": self.kvs_dump(), "Sessions": self.sessions_dump()}

    def load(self, data: dict[str, Any]) -> None:
        """Replace the KV table, the sessions and the Raft index with a :meth:`dump`."""
        self.sessions_load(data["Sessions"])
        self.kvs_load(data["KV"])
        self.index_load(int(data["Index"]))
