"""The config entries table of the dev agent's store (``agent/consul/state/config_entry.go``).

One table keyed by (kind, name), sharing the store's Raft-like index; its table index is
the ``X-Consul-Index`` of every read, and every write touches :data:`CONFIG_ENTRIES` (one
channel, like memdb's table watch). Upserts and deletes take Consul's check-and-set:
``cas=0`` creates only, ``cas=N`` writes only over ModifyIndex N. Before a write the proposed
graph is checked as ``validateProposedConfigEntryInServiceGraph`` does: every discovery chain
the write can change is compiled (:mod:`aioconsul.testing.discoverychain`) and Consul's graph
errors refuse it (a router or splitter needs an L7 protocol, one protocol per chain, a subset
must exist, no redirect loops), and L7 intentions need an HTTP-like protocol.
:meth:`ConfigEntries.service_discovery_chain` is the compiled chain the discovery-chain
endpoint serves.

The table hangs off the store (:func:`config_entries`), created on first use. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Protocol
from weakref import WeakKeyDictionary

from ..discoverychain import (
    ChainEntries,
    ChainError,
    CompileRequest,
    compile_chain,
    is_protocol_http_like,
)
from ..structs.config_entry import entry_name
from .memdb import MemDB, RPCError, dump_value, load_value

__all__ = ["CONFIG_ENTRIES", "ConfigEntries", "StoredEntry", "config_entries"]

CONFIG_ENTRIES: Final = "config-entries"
_CHAIN_KINDS: Final = ("service-router", "service-splitter", "service-resolver")
#: testCompileDiscoveryChain's throwaway trust domain (it may show in an error's SNI).
_VALIDATION_TRUST_DOMAIN: Final = "b6fc9da3-03d4-4b5a-9134-c045e9b20152.consul"


def _related_services(entry: dict[str, Any]) -> set[str]:
    """ListRelatedServices of a router, splitter or resolver (CE: names only)."""
    name = str(entry.get("Name") or "")
    found: set[str] = set()

    def add(service: Any) -> None:
        found.add(service if isinstance(service, str) and service else name)

    kind = entry.get("Kind")
    if kind == "service-router":
        for route in entry.get("Routes") or []:
            if isinstance(route, dict) and isinstance(route.get("Destination"), dict):
                add(route["Destination"].get("Service"))
    elif kind == "service-splitter":
        for split in entry.get("Splits") or []:
            if isinstance(split, dict):
                add(split.get("Service"))
    elif kind == "service-resolver":
        redirect = entry.get("Redirect")
        if isinstance(redirect, dict):
            add(redirect.get("Service"))
        failovers = entry.get("Failover")
        for failover in (failovers.values() if isinstance(failovers, dict) else []):
            if not isinstance(failover, dict):
                continue
            targets = failover.get("Targets") or []
            if not targets:
                add(failover.get("Service"))
            for target in targets:
                if isinstance(target, dict) and not target.get("Peer"):
                    add(target.get("Service"))
    found.discard(name)
    return found


def _has_permissions(intention: dict[str, Any]) -> bool:
    """ServiceIntentionsConfigEntry.HasAnyPermissions."""
    return any(
        isinstance(source, dict) and bool(source.get("Permissions"))
        for source in intention.get("Sources") or []
    )


class VirtualIPs(Protocol):
    """The catalog's virtual-IP table as config-entry writes use it (``state/catalog.py``)."""

    def assign_virtual_ip(self, index: int, service: str) -> str: ...

    def free_virtual_ip(self, index: int, service: str) -> None: ...


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
        #: The catalog's virtual IPs: a resolver, router or splitter write assigns one to the
        #: service it names, its delete frees it (insertConfigEntryWithTxn,
        #: deleteConfigEntryTxn). Set by the catalog of the same store.
        self.virtual_ips: VirtualIPs | None = None

    # -- snapshots (fsm persistConfigEntries) --------------------------------------------

    def dump(self) -> dict[str, Any]:
        """Every entry with its RaftIndex, and the table index."""
        entries = [dump_value(self._entries[key]) for key in sorted(self._entries)]
        return {"Entries": entries, "Index": self._index}

    def load(self, data: dict[str, Any]) -> None:
        """Replace the whole table with a :meth:`dump`."""
        entries = [load_value(StoredEntry, item) for item in data["Entries"]]
        self._entries = {(e.kind, e.name): e for e in entries}
        self._index = int(data["Index"])

    # -- reads -----------------------------------------------------------------------------

    def get(self, kind: str, name: str) -> tuple[int, StoredEntry | None]:
        """ConfigEntry: the table index and the entry, if any."""
        return self._index, self._entries.get((kind, name))

    def by_kind(self, kind: str) -> tuple[int, list[StoredEntry]]:
        """ConfigEntriesByKind: every entry of ``kind`` ("" for all), by kind then name."""
        items = [e for key, e in sorted(self._entries.items()) if not kind or key[0] == kind]
        return self._index, items

    def service_discovery_chain(
        self, req: CompileRequest
    ) -> tuple[int, dict[str, Any], bool]:
        """ServiceDiscoveryChain: the table index, the compiled chain, and whether no config
        entry at all shapes it (``DiscoveryChainSet.IsEmpty``: the RPC's errNotFound)."""
        entries = ChainEntries.of({k: e.entry for k, e in self._entries.items()})
        try:
            chain = compile_chain(req, entries)
        except ChainError as exc:
            raise RPCError(f"failed to compile discovery chain: {exc}") from None
        return self._index, chain, entries.is_empty_for(req.service_name)

    # -- graph validation ------------------------------------------------------------------

    def _check_graph(
        self,
        proposed: dict[tuple[str, str], StoredEntry],
        key: tuple[str, str],
        new_entry: dict[str, Any] | None,
    ) -> None:
        """validateProposedConfigEntryInServiceGraph: every discovery chain the write can
        change must still compile (``testCompileDiscoveryChain``, with Consul's throwaway
        datacenter and trust domain), and L7 intentions need an HTTP-like protocol.

        The chains to check are read from the table before the write, as Consul reads them
        from the transaction before it mutates the table; they compile over ``proposed``.
        """
        kind, name = key
        chains: set[str] = set()
        intentions: list[dict[str, Any]] = []
        current = self._entries
        if kind in ("mesh", "exported-services", "sameness-group"):
            return
        if kind == "proxy-defaults":
            chains.update(n for k, n in current if k in _CHAIN_KINDS)
            intentions.extend(
                e.entry for (k, _), e in sorted(current.items()) if k == "service-intentions")
        elif kind in ("service-intentions", "ingress-gateway"):
            if new_entry is None:
                return
            if kind == "service-intentions":
                intentions.append(new_entry)
        else:
            own = current.get(("service-intentions", name))
            if own is not None:
                intentions.append(own.entry)
            intentions.extend(
                e.entry for (k, _), e in sorted(current.items()) if k == "service-intentions")
            chains.add(name)
            for (k, n), stored in current.items():
                if k in _CHAIN_KINDS and name in _related_services(stored.entry):
                    chains.add(n)
        for intention in intentions:
            chains.add(str(intention.get("Name") or ""))
        entries = ChainEntries.of({k: e.entry for k, e in proposed.items()})
        protocols: dict[str, str] = {}
        for service in sorted(chains):
            if not service:
                continue
            req = CompileRequest(service, "dc1", _VALIDATION_TRUST_DOMAIN)
            try:
                protocols[service] = compile_chain(req, entries).get("Protocol", "")
            except ChainError as exc:
                raise RPCError(str(exc)) from None
        for intention in intentions:
            destination = str(intention.get("Name") or "")
            if destination == "*" or not _has_permissions(intention):
                continue
            protocol = protocols.get(destination, "")
            if not is_protocol_http_like(protocol):
                raise RPCError(
                    f'service "{destination}" has protocol "{protocol}", which is '
                    "incompatible with L7 intentions permissions"
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
        self._check_graph(proposed, key, entry)
        if kind in _CHAIN_KINDS and self.virtual_ips is not None:
            self.virtual_ips.assign_virtual_ip(index, name)
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
        self._check_graph(proposed, key, None)
        del self._entries[key]
        self._index = index
        if kind in _CHAIN_KINDS and self.virtual_ips is not None:
            self.virtual_ips.free_virtual_ip(index, name)
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
