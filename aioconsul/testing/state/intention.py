"""Intentions over the config entries table (``agent/consul/state/intention.go``,
``config_entry_intention.go``).

Current Consul keeps no intentions table: every intention is a source of the
``service-intentions`` config entry of its destination, so this module reads and writes that
entry through :mod:`.config_entry` (the same rows, indexes and watch channel the config-entry
endpoints use, which therefore always agree with the intention endpoints):

* reads: :meth:`Intentions.all` (``configIntentionsListTxn``, precedence order),
  :meth:`~Intentions.get_exact`, :meth:`~Intentions.get_by_id` (the legacy ID index),
  :meth:`~Intentions.match` / :meth:`~Intentions.match_one` (``configIntentionMatchOneTxn``:
  the name and ``*``, by source or by destination) and :func:`decide`
  (``IntentionDecision``: the first matching intention decides, L7 ones as
  ``allow_permissions`` says, else the default);
* writes, the FSM half of ``IntentionMutation``: :meth:`~Intentions.upsert` and
  :meth:`~Intentions.delete` (by name: the entry is created on the first source and deleted
  with the last), and the deprecated ID-addressed ``legacy_create`` / ``legacy_update`` /
  ``legacy_delete``, which only work on entries whose every source is a legacy one. A write
  normalizes and validates the new entry as Consul's FSM does; a refusal is an
  :class:`~.memdb.RPCError` with Consul's text, after the Raft index is spent (the log entry
  was committed, its apply failed).

The table hangs off the store like the config entries table itself. Pure: no I/O.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final

from ..structs.intention import (
    KIND,
    WILDCARD,
    IntentionError,
    check_uuid,
    normalize_intentions,
    precedence_order,
    render_intention,
    validate_intentions,
)
from .config_entry import CONFIG_ENTRIES, StoredEntry, config_entries
from .memdb import MemDB, RPCError

__all__ = ["CONFIG_ENTRIES", "DESTINATION", "SOURCE", "IntentionDecision", "Intentions", "decide",
           "digest", "intentions", "matching"]

Record = dict[str, Any]

SOURCE: Final = "source"
DESTINATION: Final = "destination"


@dataclass(frozen=True, slots=True)
class IntentionDecision:
    """structs.IntentionDecisionSummary."""

    allowed: bool
    default_allow: bool
    has_permissions: bool = False
    has_exact: bool = False
    matched: Record | None = None


def _covers(ixn: Record, target: str, match_type: str, peer: str = "") -> bool:
    """connect.IntentionMatch (CE: partitions are the default, namespaces ``default``)."""
    if match_type == DESTINATION:
        return ixn["DestinationName"] in (WILDCARD, target)
    if match_type == SOURCE:
        if ixn.get("SourcePeer", "") != peer:
            return False
        return ixn["SourceName"] in (WILDCARD, target)
    return False


def matching(ixns: list[Record], target: str, match_type: str, peer: str = "") -> Record | None:
    """The first (highest precedence) of ``ixns`` that covers ``target``."""
    return next((ixn for ixn in ixns if _covers(ixn, target, match_type, peer)), None)


def decide(
    ixns: list[Record], target: str, match_type: str, *, default_allow: bool,
    allow_permissions: bool,
) -> IntentionDecision:
    """Store.IntentionDecision: the first intention covering ``target`` decides; one with L7
    permissions answers ``allow_permissions`` (a connection check cannot know the requests);
    none: the default."""
    match = matching(ixns, target, match_type)
    if match is None:
        return IntentionDecision(default_allow, default_allow)
    allowed = match.get("Action") == "allow"
    has_permissions = bool(match.get("Permissions"))
    if has_permissions:
        allowed = allow_permissions
    exact = WILDCARD not in (match["SourceName"], match["DestinationName"])
    return IntentionDecision(allowed, default_allow, has_permissions, exact, match)


def digest(value: Any) -> str:
    """A stable digest of a match answer (the RPC's hashstructure spurious-wakeup check)."""
    return json.dumps(value, sort_keys=True, default=str)


class Intentions:
    """The intentions kept in a store's service-intentions config entries."""

    def __init__(self, db: MemDB) -> None:
        self._db = db
        self._table = config_entries(db)

    # -- reads -----------------------------------------------------------------------------

    def _entries(self) -> tuple[int, list[StoredEntry]]:
        return self._table.by_kind(KIND)

    @staticmethod
    def _render(stored: StoredEntry, src: Record) -> Record:
        return render_intention(stored.entry, src, stored.create_index, stored.modify_index)

    def all(self) -> tuple[int, list[Record]]:
        """configIntentionsListTxn: every intention, in precedence order."""
        index, entries = self._entries()
        out = [self._render(e, src) for e in entries for src in e.entry.get("Sources") or []]
        out.sort(key=precedence_order)
        return index, out

    def get_exact(
        self, source: str, destination: str, source_peer: str = ""
    ) -> tuple[int, StoredEntry | None, Record | None]:
        """configIntentionGetExactTxn: the entry and the intention of one source."""
        index, stored = self._table.get(KIND, destination)
        if stored is None:
            return index, None, None
        for src in stored.entry.get("Sources") or []:
            if src.get("Name") == source and src.get("Peer", "") == source_peer:
                return index, stored, self._render(stored, src)
        return index, None, None

    def get_by_id(self, legacy_id: str) -> tuple[int, StoredEntry | None, Record | None]:
        """configIntentionGetTxn: the intention whose LegacyID is ``legacy_id`` (memdb's UUID
        index: the argument must look like a UUID, compared by its bytes)."""
        try:
            check_uuid(legacy_id)
        except IntentionError as exc:
            raise RPCError(f"failed config entry lookup: {exc}") from None
        index, entries = self._entries()
        wanted = legacy_id.replace("-", "").lower()
        for stored in entries:
            for src in stored.entry.get("Sources") or []:
                if str(src.get("LegacyID") or "").replace("-", "").lower() == wanted:
                    return max(index, 1), stored, self._render(stored, src)
        return max(index, 1), None, None

    def match_one(self, name: str, match_type: str) -> list[Record]:
        """configIntentionMatchOneTxn for the service name (CE: default namespace)."""
        names = [WILDCARD] if name == WILDCARD else [name, WILDCARD]
        _, entries = self._entries()
        out: list[Record] = []
        if match_type == DESTINATION:
            by_name = {e.name: e for e in entries}
            for candidate in names:
                stored = by_name.get(candidate)
                if stored is not None:
                    out += [self._render(stored, s) for s in stored.entry.get("Sources") or []]
        else:
            for candidate in names:
                for stored in entries:
                    sources = stored.entry.get("Sources") or []
                    # the source index holds local (unpeered) sources only
                    if not any(s.get("Name") == candidate and not s.get("Peer")
                               and not s.get("SamenessGroup") for s in sources):
                        continue
                    out += [self._render(stored, s) for s in sources
                            if s.get("Name") == candidate]
        out.sort(key=precedence_order)
        return out

    def match(self, match_type: str, names: list[str]) -> tuple[int, list[list[Record]]]:
        """configIntentionMatchTxn: one precedence-ordered list per name, in their order."""
        index, _ = self._entries()
        return max(index, 1), [self.match_one(name, match_type) for name in names]

    # -- writes (the FSM's IntentionMutation) -----------------------------------------------

    def _apply(self, entry: Record, *, legacy: bool) -> None:
        try:
            entry = normalize_intentions(entry, legacy=legacy)
            validate_intentions(entry, legacy=legacy)
        except IntentionError as exc:
            self._db.next_index()  # committed to the log; the FSM's apply fails
            raise RPCError(str(exc)) from None
        self._table.upsert(entry)

    def _entry(self, destination: str) -> Record | None:
        _, stored = self._table.get(KIND, destination)
        if stored is None:
            return None
        entry = dict(stored.entry)
        entry["Sources"] = [dict(s) for s in entry.get("Sources") or []]
        return entry

    def upsert(self, destination: str, source: Record) -> None:
        """intentionMutationUpsert: replace the source of that name, or add it."""
        entry = self._entry(destination)
        if entry is None:
            entry = {"Kind": KIND, "Name": destination, "Sources": [source]}
        else:
            sources = entry["Sources"]
            for i, src in enumerate(sources):
                if src.get("Name") == source["Name"]:
                    sources[i] = source
                    break
            else:
                sources.append(source)
        self._apply(entry, legacy=False)

    def delete(self, destination: str, source: str) -> None:
        """intentionMutationDelete: drop the source; the entry goes with its last source."""
        entry = self._entry(destination)
        if entry is None:
            return
        sources = entry["Sources"]
        for i, src in enumerate(sources):
            if src.get("Name") == source:
                del sources[i]
                break
        else:
            return
        if not sources:
            self._table.delete(KIND, destination)
            return
        self._apply(entry, legacy=False)

    def _legacy_allowed(self, entry: Record) -> None:
        """checkLegacyIntentionApplyAllowed: only entries made of legacy sources."""
        if all(src.get("LegacyID") for src in entry["Sources"]):
            return
        self._db.next_index()
        raise RPCError(
            "cannot use legacy intention API to edit intentions with a destination of "
            f'"{entry.get("Name", "")}" after editing them via a service-intentions config entry'
        )

    def legacy_create(self, destination: str, source: Record) -> None:
        """intentionMutationLegacyCreate: append a legacy source."""
        entry = self._entry(destination)
        if entry is None:
            entry = {"Kind": KIND, "Name": destination, "Sources": [source]}
        else:
            self._legacy_allowed(entry)
            entry["Sources"].append(source)
        self._apply(entry, legacy=True)

    def _by_legacy_id(self, legacy_id: str, verb: str) -> tuple[Record, str]:
        """The entry holding the legacy intention, and the ID as stored."""
        _, stored, ixn = self.get_by_id(legacy_id)
        if stored is None or ixn is None:
            self._db.next_index()
            raise RPCError(f"Cannot {verb} non-existent intention: '{legacy_id}'")
        entry = self._entry(stored.name)
        assert entry is not None
        self._legacy_allowed(entry)
        return entry, str(ixn["ID"])

    def legacy_update(self, legacy_id: str, source: Record) -> None:
        """intentionMutationLegacyUpdate (with UpdateOver keeping the creation time)."""
        entry, legacy_id = self._by_legacy_id(legacy_id, "modify")
        source = {**source, "LegacyID": legacy_id}
        sources = entry["Sources"]
        for i, src in enumerate(sources):
            if src.get("LegacyID") == legacy_id:
                if src.get("LegacyCreateTime"):
                    source = {**source, "LegacyCreateTime": src["LegacyCreateTime"]}
                sources[i] = source
                break
        self._apply(entry, legacy=True)

    def legacy_delete(self, legacy_id: str) -> None:
        """intentionMutationLegacyDelete: the entry goes with its last source."""
        entry, legacy_id = self._by_legacy_id(legacy_id, "delete")
        entry["Sources"] = [s for s in entry["Sources"] if s.get("LegacyID") != legacy_id]
        if not entry["Sources"]:
            self._table.delete(KIND, str(entry["Name"]))
            return
        self._apply(entry, legacy=True)


def intentions(db: MemDB) -> Intentions:
    """The intentions of a store (a view over its config entries table)."""
    return Intentions(db)
