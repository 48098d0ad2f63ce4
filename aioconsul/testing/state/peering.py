"""The peering tables of the dev agent's state store (``agent/consul/state/peering.go``).

:class:`PeeringTable` keeps, over the store's one Raft-like index:

* the peerings (``peering``, by ID, with the ``name`` index Consul keys by partition and
  lower-case name), written through :meth:`PeeringTable.write` with ``PeeringWrite``'s checks
  and texts: a new peering starts ``PENDING``, an existing one keeps its state, create index
  and remote info unless told otherwise, a peering marked for deletion (``DELETING``, with
  ``DeletedAt``) refuses every write but the no-ops, and :meth:`PeeringTable.delete` (the
  leader's last step) removes only a peering so marked;
* the peering secrets (``peering-secrets``): the establishment secret a token carries, the
  pending stream secret it is exchanged for and the active one the stream opens with,
  following ``peeringSecretsWriteTxn``'s four requests;
* the data imported from each peer (what Consul writes into its catalog with ``PeerName``
  set): per local peer name, per service, the instances (node, service, checks) as the peer
  exported them. ``?peer=`` reads of the catalog and health endpoints read it here; writes
  touch the catalog's channels, so those reads block as Consul's do.

:func:`exported_services_for_peer` is ``exportedServicesForPeerTxn`` (the names one peer is
sent) and :func:`resolved_exported_services` ``ResolvedExportedServices`` (the listing of
``/v1/exported-services``), both from the ``exported-services`` config entry and the catalog.
Every table has :meth:`~PeeringTable.dump` and :meth:`~PeeringTable.load` for snapshots.
Pure: no I/O, no clock (the deletion time comes from the caller).
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any, Final

from .catalog import CHECKS, NODES, SERVICES
from .config_entry import config_entries
from .memdb import Restore, RPCError

if TYPE_CHECKING:
    from .catalog import Catalog
    from .store import Store

__all__ = [
    "ACTIVE",
    "DELETING",
    "ESTABLISHING",
    "FAILING",
    "PEERING_TABLE",
    "PENDING",
    "TERMINATED",
    "UNDEFINED",
    "PeeringTable",
    "exported_services_for_peer",
    "is_active",
    "resolved_exported_services",
    "should_dial",
]

Record = dict[str, Any]

PEERING_TABLE: Final = "peering"
UNDEFINED: Final = "UNDEFINED"
PENDING: Final = "PENDING"
ESTABLISHING: Final = "ESTABLISHING"
ACTIVE: Final = "ACTIVE"
FAILING: Final = "FAILING"
DELETING: Final = "DELETING"
TERMINATED: Final = "TERMINATED"

CONSUL_SERVICE: Final = "consul"  # structs.ConsulServiceName: never exported
_WILDCARD: Final = "*"


def should_dial(peering: Record) -> bool:
    """Peering.ShouldDial: the peering was established from a token (it has addresses)."""
    return bool(peering.get("PeerServerAddresses") or peering.get("ManualServerAddresses"))


def is_active(peering: Record | None) -> bool:
    """Peering.IsActive: neither terminated nor marked for deletion."""
    if peering is None or peering["State"] == TERMINATED:
        return False
    return not peering.get("DeletedAt")


def new_peering(**fields: Any) -> Record:
    """A pbpeering.Peering with every field at its zero value, then ``fields``."""
    peering: Record = {
        "ID": "",
        "Name": "",
        "Partition": "",
        "DeletedAt": None,
        "Meta": None,
        "State": UNDEFINED,
        "PeerID": "",
        "PeerCAPems": None,
        "PeerServerName": "",
        "PeerServerAddresses": None,
        "ManualServerAddresses": None,
        "Remote": None,
        "CreateIndex": 0,
        "ModifyIndex": 0,
    }
    peering.update(fields)
    return peering


def _remote_empty(remote: Record | None) -> bool:
    """RemoteInfo.IsEmpty."""
    return remote is None or (not remote.get("Partition") and not remote.get("Datacenter"))


def _go_bool(value: bool) -> str:
    return "true" if value else "false"


class PeeringTable:
    """Peerings, their secrets and the data imported from each peer."""

    def __init__(self, store: Store) -> None:
        self.store: Final = store
        self._peerings: dict[str, Record] = {}  # ID -> peering
        self._secrets: dict[str, Record] = {}  # peering ID -> secrets
        # local peer name -> service name -> [(node, service, checks)]
        self._imported: dict[str, dict[str, list[Record]]] = {}
        self._imported_index: dict[str, int] = {}
        self._index = 0
        store._register_table(self._snapshot)

    def _snapshot(self) -> Restore:
        saved = (dict(self._peerings), dict(self._secrets), dict(self._imported),
                 dict(self._imported_index), self._index)

        def restore() -> None:
            (self._peerings, self._secrets, self._imported, self._imported_index,
             self._index) = saved

        return restore

    # -- reads -------------------------------------------------------------------------------

    @property
    def index(self) -> int:
        """The peering table's index (``maxIndexWatchTxn(tablePeering)``)."""
        return self._index

    def read(self, name: str) -> tuple[int, Record | None]:
        """PeeringRead by name: the peering's ModifyIndex, or the table index when missing."""
        found = self._by_name(name)
        if found is None:
            return self._index, None
        return found["ModifyIndex"], found

    def read_by_id(self, peering_id: str) -> tuple[int, Record | None]:
        """PeeringReadByID."""
        found = self._peerings.get(peering_id.lower())
        if found is None:
            return self._index, None
        return found["ModifyIndex"], found

    def list_peerings(self) -> tuple[int, list[Record]]:
        """PeeringList: every peering, in the ``name`` index's order."""
        return self._index, sorted(self._peerings.values(), key=lambda p: p["Name"].lower())

    def list_deleted(self) -> list[Record]:
        """PeeringListDeleted: the peerings marked for deletion."""
        return [p for p in self._peerings.values() if p.get("DeletedAt")]

    def secrets(self, peering_id: str) -> Record | None:
        """PeeringSecretsRead."""
        return self._secrets.get(peering_id.lower())

    def _by_name(self, name: str) -> Record | None:
        lowered = name.lower()
        for peering in self._peerings.values():
            if peering["Name"].lower() == lowered:
                return peering
        return None

    # -- writes ------------------------------------------------------------------------------

    def write(self, peering: Record, secrets: tuple[str, ...] | None = None) -> int:
        """PeeringWrite (one Raft entry): the peering, then the secrets request, if any.

        ``secrets`` is a SecretsWriteRequest: ``("generate", establishment)``,
        ``("exchange", establishment, pending)``, ``("promote", active)`` or
        ``("establish", active)``. Returns the index the write applied at.
        """
        index = self.store.next_index()
        saved = self._snapshot()
        try:
            self._write(index, dict(peering), secrets)
        except RPCError:
            saved()
            raise
        self._index = index
        self.store.touch(PEERING_TABLE)
        self.store.commit()
        return index

    def _write(self, index: int, peering: Record, secrets: tuple[str, ...] | None) -> None:
        if not peering["ID"]:
            raise RPCError("Missing Peering ID")
        if not peering["Name"]:
            raise RPCError("Missing Peering Name")
        if peering["State"] == DELETING and not peering.get("DeletedAt"):
            raise RPCError("Missing deletion time for peering in deleting state")
        if peering.get("DeletedAt") and peering["State"] != DELETING:
            raise RPCError(
                f"Unexpected state for peering with deletion time: {peering['State']}"
            )
        existing = self._by_name(peering["Name"])
        if existing is not None:
            if should_dial(peering) != should_dial(existing):
                raise RPCError(
                    f"Cannot switch peering dialing mode from {_go_bool(should_dial(existing))}"
                    f" to {_go_bool(should_dial(peering))}"
                )
            if peering["ID"] != existing["ID"]:
                raise RPCError(
                    f'A peering already exists with the name "{peering["Name"]}" and a '
                    f'different ID "{existing["ID"]}"'
                )
            noop = {(DELETING, TERMINATED), (DELETING, DELETING), (TERMINATED, TERMINATED)}
            if (existing["State"], peering["State"]) in noop:
                return
            if existing["State"] == DELETING:
                raise RPCError("cannot write to peering that is marked for deletion")
            if peering["State"] == UNDEFINED:
                peering["State"] = existing["State"]
            if not _remote_empty(existing.get("Remote")) and _remote_empty(peering.get("Remote")):
                peering["Remote"] = dict(existing["Remote"])
            peering["CreateIndex"] = existing["CreateIndex"]
            peering["ModifyIndex"] = index
        else:
            if peering["ID"].lower() in self._peerings:
                # Consul's text names the request's name and the (missing) existing ID.
                raise RPCError(
                    f'A peering already exists with the ID "{peering["Name"]}" and a '
                    'different name ""'
                )
            if not is_active(peering):
                raise RPCError("cannot create a new peering marked for deletion")
            if peering["State"] == UNDEFINED:
                peering["State"] = PENDING
            peering["CreateIndex"] = index
            peering["ModifyIndex"] = index
        key = peering["ID"].lower()
        if not is_active(peering):
            self._secrets.pop(key, None)  # peeringSecretsDeleteTxn
        self._peerings[key] = peering
        if secrets is not None:
            try:
                self._write_secrets(peering["ID"], secrets)
            except RPCError as exc:
                raise RPCError(f"failed to write peering establishment secret: {exc}") from None

    def write_secrets(self, peering_id: str, request: tuple[str, ...]) -> None:
        """PeeringSecretsWrite (one Raft entry): "failed to write peering secret: ..."."""
        self.store.next_index()
        try:
            self._write_secrets(peering_id, request)
        except RPCError as exc:
            raise RPCError(f"failed to write peering secret: {exc}") from None

    def _write_secrets(self, peering_id: str, request: tuple[str, ...]) -> None:
        """peeringSecretsWriteTxn."""
        kind, secret = request[0], request[-1]
        if not peering_id:
            raise RPCError("invalid secret write request: missing peer ID")
        if not secret:
            raise RPCError("invalid secret write request: missing secret ID")
        key = peering_id.lower()
        peering = self._peerings.get(key)
        if peering is None:
            raise RPCError(f'unknown peering "{peering_id}" for secret')
        if should_dial(peering):
            if kind != "establish":
                raise RPCError(
                    f"invalid request type {_REQUEST_TYPES[kind]} when persisting stream "
                    "secret for dialing peer"
                )
            self._secrets[key] = {"Establishment": "", "Pending": "", "Active": secret}
            return
        existing = self._secrets.get(key)
        current = dict(existing) if existing else {"Establishment": "", "Pending": "",
                                                    "Active": ""}
        if kind == "generate":
            current["Establishment"] = secret
        elif kind == "exchange":
            if existing is None:
                raise RPCError("cannot exchange peering secret: no known secrets for peering")
            if not existing["Establishment"]:
                raise RPCError("invalid establishment secret: peering was already established")
            if existing["Establishment"] != request[1]:
                raise RPCError("invalid establishment secret")
            current["Establishment"] = ""
            current["Pending"] = secret
        elif kind == "promote":
            if existing is None:
                raise RPCError("cannot promote pending secret: no known secrets for peering")
            if existing["Pending"] != secret:
                raise RPCError("invalid pending stream secret")
            current["Pending"] = ""
            current["Active"] = secret
        else:
            raise RPCError("an accepting peer should not have called Establish RPC")
        self._secrets[key] = current

    def delete(self, name: str) -> None:
        """PeeringDelete (the leader's last step): only a peering marked for deletion goes."""
        index = self.store.next_index()
        existing = self._by_name(name)
        if existing is None:
            return
        if is_active(existing):
            raise RPCError("cannot delete a peering without first marking for deletion")
        del self._peerings[existing["ID"].lower()]
        self._secrets.pop(existing["ID"].lower(), None)
        self._index = index
        self.store.touch(PEERING_TABLE)
        self.store.commit()

    def terminate_by_id(self, peering_id: str) -> None:
        """PeeringTerminateByID: our peer ended the peering; it stays, TERMINATED."""
        index = self.store.next_index()
        existing = self._peerings.get(peering_id.lower())
        if existing is None:
            return
        clone = dict(existing, State=TERMINATED, ModifyIndex=index)
        self._peerings[peering_id.lower()] = clone
        self._secrets.pop(peering_id.lower(), None)
        self._index = index
        self.store.touch(PEERING_TABLE)
        self.store.commit()

    # -- imported data (the catalog rows with PeerName set) ----------------------------------

    def import_service(self, peer: str, service: str, instances: list[Record]) -> bool:
        """handleUpdateService: the peer's instances of ``service`` replace the stored ones.

        ``instances`` are ``{"Node", "Service", "Checks"}`` records as the peer exported them;
        an empty list deletes the service. Raft indexes are this cluster's: an unchanged row
        keeps its indexes, a new or changed one is stamped with the write's index. Returns
        whether anything changed (nothing is written otherwise).
        """
        key = peer.lower()
        stored = self._imported.get(key, {}).get(service, [])
        if _strip(stored) == _strip(instances):
            return False
        index = self.store.next_index()
        before = {(i["Node"]["Node"].lower(), i["Service"]["ID"]): i for i in stored}
        rows: list[Record] = []
        for instance in instances:
            row = copy.deepcopy(instance)
            old = before.get((row["Node"]["Node"].lower(), row["Service"]["ID"]))
            for part in ("Node", "Service"):
                _restamp(row[part], old[part] if old else None, index)
            old_checks = {c["CheckID"]: c for c in (old["Checks"] if old else [])}
            for check in row["Checks"]:
                _restamp(check, old_checks.get(check["CheckID"]), index)
            rows.append(row)
        services = dict(self._imported.get(key, {}))
        if rows:
            services[service] = rows
        else:
            services.pop(service, None)
        self._imported = {**self._imported, key: services}
        self._imported_index[key] = index
        self.store.touch(SERVICES, NODES, CHECKS)
        self.store.commit()
        return True

    def drop_imported(self, peer: str) -> None:
        """The leader's deletion of a peer's imported nodes, services and checks."""
        key = peer.lower()
        if not self._imported.get(key):
            self._imported.pop(key, None)
            return
        index = self.store.next_index()
        self._imported = {k: v for k, v in self._imported.items() if k != key}
        self._imported_index[key] = index
        self.store.touch(SERVICES, NODES, CHECKS)
        self.store.commit()

    def imported_index(self, peer: str) -> int:
        """The index of the last write to a peer's imported data."""
        return self._imported_index.get(peer.lower(), 0)

    def imported_services(self, peer: str) -> dict[str, list[Record]]:
        """Service name -> instances imported from ``peer`` (the local peering name)."""
        return self._imported.get(peer.lower(), {})

    def imported_instances(self, peer: str, service: str) -> list[Record]:
        """The instances of one imported service (names compared case-blind, by node)."""
        lowered = service.lower()
        out = [
            i
            for name, rows in self.imported_services(peer).items()
            if name.lower() == lowered
            for i in rows
        ]
        return sorted(out, key=lambda i: (i["Node"]["Node"].lower(), i["Service"]["ID"].lower()))

    # -- snapshots ---------------------------------------------------------------------------

    def dump(self) -> dict[str, Any]:
        """The tables as JSON-serializable data (for ``/v1/snapshot``)."""
        return {
            "Index": self._index,
            "Peerings": [copy.deepcopy(p) for _, p in sorted(self._peerings.items())],
            "Secrets": {k: dict(v) for k, v in sorted(self._secrets.items())},
            "Imported": copy.deepcopy(self._imported),
            "ImportedIndex": dict(self._imported_index),
        }

    def load(self, data: dict[str, Any]) -> None:
        """Replace the tables' whole content with a :meth:`dump`."""
        self._index = int(data.get("Index", 0))
        self._peerings = {p["ID"].lower(): copy.deepcopy(p) for p in data.get("Peerings", [])}
        self._secrets = {k: dict(v) for k, v in data.get("Secrets", {}).items()}
        self._imported = copy.deepcopy(data.get("Imported", {}))
        self._imported_index = {k: int(v) for k, v in data.get("ImportedIndex", {}).items()}


_REQUEST_TYPES: Final = {
    "generate": "*pbpeering.SecretsWriteRequest_GenerateToken",
    "exchange": "*pbpeering.SecretsWriteRequest_ExchangeSecret",
    "promote": "*pbpeering.SecretsWriteRequest_PromotePending",
    "establish": "*pbpeering.SecretsWriteRequest_Establish",
}


def _strip(instances: list[Record]) -> list[Any]:
    """Instances without their Raft indexes, to tell a real change from a resend."""

    def bare(record: Record) -> Record:
        return {k: v for k, v in record.items() if k not in ("CreateIndex", "ModifyIndex")}

    return [
        (bare(i["Node"]), bare(i["Service"]), [bare(c) for c in i["Checks"]])
        for i in instances
    ]


def _restamp(record: Record, old: Record | None, index: int) -> None:
    same = old is not None and all(
        old.get(k) == v for k, v in record.items() if k not in ("CreateIndex", "ModifyIndex")
    )
    if same and old is not None:
        record["CreateIndex"], record["ModifyIndex"] = old["CreateIndex"], old["ModifyIndex"]
    else:
        record["CreateIndex"] = old["CreateIndex"] if old is not None else index
        record["ModifyIndex"] = index


# -- exported services ----------------------------------------------------------------------------


def _exported_entry(store: Store) -> tuple[int, Record | None]:
    """The (CE: only) ``exported-services`` config entry, named ``default``."""
    index, stored = config_entries(store).get("exported-services", "default")
    return index, (stored.entry if stored is not None else None)


def _typical_service_names(catalog: Catalog) -> tuple[int, list[str]]:
    """serviceNamesOfKindTxn(typical): every name with a typical instance, but ``consul``."""
    index, rows = catalog.services()
    names = sorted({r["Service"] for r in rows if not r["Kind"]} - {CONSUL_SERVICE})
    return index, names


def exported_services_for_peer(
    store: Store, catalog: Catalog, peering: Record
) -> tuple[int, list[str]]:
    """exportedServicesForPeerTxn's service list: the names exported to ``peering``.

    A service is exported when a consumer names the peering (its local name); ``*`` exports
    every typical service; ``consul`` never is. Sorted, as ServiceList.Sort does.
    """
    index, entry = _exported_entry(store)
    index = max(index, peering["ModifyIndex"])
    if entry is None:
        return index, []
    names: set[str] = set()
    for svc in entry.get("Services") or ():
        name = svc.get("Name", "")
        if name == CONSUL_SERVICE:
            continue
        if not any(c.get("Peer") == peering["Name"] for c in svc.get("Consumers") or ()):
            continue
        if name != _WILDCARD:
            names.add(name)
            continue
        catalog_index, typical = _typical_service_names(catalog)
        index = max(index, catalog_index)
        names.update(typical)
    return index, sorted(names)


def resolved_exported_services(store: Store, catalog: Catalog) -> tuple[int, list[Record]]:
    """ResolvedExportedServices (CE): each exported service and its consumers' peer names.

    Wildcards expand to the typical services; a service is listed once, its consumers
    deduplicated; services are sorted by name and the peers of each too.
    """
    index, entry = _exported_entry(store)
    if entry is None:
        return index, []
    consumers: dict[str, set[str]] = {}
    for svc in entry.get("Services") or ():
        name = svc.get("Name", "")
        if name == CONSUL_SERVICE:
            continue
        if name == _WILDCARD:
            catalog_index, names = _typical_service_names(catalog)
            index = max(index, catalog_index)
        else:
            names = [name]
        for one in names:
            for consumer in svc.get("Consumers") or ():
                consumers.setdefault(one, set()).add(consumer.get("Peer", ""))
    out = []
    for name in sorted(consumers):
        peers = sorted(p for p in consumers[name] if p)
        out.append({"Service": name, "Consumers": {"Peers": peers} if peers else {}})
    return index, out
