"""The config entries table of the dev agent's store (``agent/consul/state/config_entry.go``).

One table keyed by (kind, name), sharing the store's Raft-like index; its table index is
the ``X-Consul-Index`` of every read, and every write touches :data:`CONFIG_ENTRIES` (one
channel, like memdb's table watch). Upserts and deletes take Consul's check-and-set:
``cas=0`` creates only, ``cas=N`` writes only over ModifyIndex N. Before a write the proposed
graph is checked as ``validateProposedConfigEntryInGraph`` does for routing: a service with a
service-router or service-splitter needs an L7 protocol (from its service-defaults, else the
proxy-defaults ``Config["protocol"]``, else tcp).

The table hangs off the store (:func:`config_entries`), created on first use. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final
from weakref import WeakKeyDictionary

from ..structs.config_entry import L7_PROTOCOLS, entry_name
from .memdb import MemDB, RPCError

__all__ = ["CONFIG_ENTRIES", "ConfigEntries", "StoredEntry", "config_entries"]

CONFIG_ENTRIES: Final = "config-entries"
_ROUTING: Final = ("service-router", "service-splitter")


@dataclass(frozen=True, slots=True)
class StoredEntry:
    """A config entry as stored: its decoded fields and its RaftIndex."""

    kind: str
    name: str
    entry: dict[str, Any]
    create_index: int
    modify_index: int


class ConfigEntries:
    """The config entries table over a store's index."""

    def __init__(self, db: MemDB) -> None:
        self._db = db
        self._entries: dict[tuple[str, str], StoredEntry] = {}
        self._index = 0

    # -- reads -----------------------------------------------------------------------------

    def get(self, kind: str, name: str) -> tuple[int, StoredEntry | None]:
        """ConfigEntry: the table index and the entry, if any."""
        return self._index, self._entries.get((kind, name))

    def by_kind(self, kind: str) -> tuple[int, list[StoredEntry]]:
        """ConfigEntriesByKind: every entry of ``kind`` ("" for all), by kind then name."""
        items = [e for key, e in sorted(self._entries.items()) if not kind or key[0] == kind]
        return self._index, items

    # -- graph validation ------------------------------------------------------------------

    def _protocol(self, entries: dict[tuple[str, str], StoredEntry], service: str) -> str:
        defaults = entries.get(("service-defaults", service))
        if defaults is not None and defaults.entry.get("Protocol"):
            return str(defaults.entry["Protocol"])
        proxy = entries.get(("proxy-defaults", "global"))
        if proxy is not None:
            config = proxy.entry.get("Config")
            if isinstance(config, dict) and isinstance(config.get("protocol"), str):
                return str(config["protocol"]).lower()
        return "tcp"

    def _check_graph(self, entries: dict[tuple[str, str], StoredEntry]) -> None:
        """validateProposedConfigEntryInServiceGraph, for the protocol of routed services."""
        routed = sorted({name for kind, name in entries if kind in _ROUTING})
        for service in routed:
            protocol = self._protocol(entries, service)
            if protocol not in L7_PROTOCOLS:
                raise RPCError(
                    f'discovery chain "{service}" uses a protocol "{protocol}" that does not '
                    "permit advanced routing or splitting behavior"
                )

    # -- writes ----------------------------------------------------------------------------

    def upsert(self, entry: dict[str, Any], cas: int | None = None) -> bool:
        """EnsureConfigEntry / EnsureConfigEntryCAS: False when the check-and-set fails."""
        kind, name = entry["Kind"], entry_name(entry)
        key = (kind, name)
        existing = self._entries.get(key)
        if cas is not None and (
            (cas == 0 and existing is not None)
            or (cas != 0 and (existing is None or existing.modify_index != cas))
        ):
            self._db.next_index()  # the Raft entry is applied; the FSM answers false
            return False
        index = self._db.next_index()  # the graph is checked by the FSM, after Raft
        proposed = dict(self._entries)
        proposed[key] = StoredEntry(kind, name, entry, 0, 0)
        self._check_graph(proposed)
        create = existing.create_index if existing is not None else index
        self._entries[key] = StoredEntry(kind, name, entry, create, index)
        self._index = index
        self._db.touch(CONFIG_ENTRIES)
        self._db.commit()
        return True

    def delete(self, kind: str, name: str, cas: int | None = None) -> bool:
        """DeleteConfigEntry / DeleteConfigEntryCAS: False when the check-and-set fails."""
        key = (kind, name)
        existing = self._entries.get(key)
        if cas is not None and (existing is None or existing.modify_index != cas):
            self._db.next_index()
            return False
        if existing is None:
            self._db.next_index()
            return True
        index = self._db.next_index()
        proposed = dict(self._entries)
        del proposed[key]
        self._check_graph(proposed)
        del self._entries[key]
        self._index = index
        self._db.touch(CONFIG_ENTRIES)
        self._db.commit()
        return True


_TABLES: WeakKeyDictionary[MemDB, ConfigEntries] = WeakKeyDictionary()


def config_entries(db: MemDB) -> ConfigEntries:
    """The config entries table of a store, created empty on first use."""
    table = _TABLES.get(db)
    if table is None:
        table = _TABLES[db] = ConfigEntries(db)
    return table
