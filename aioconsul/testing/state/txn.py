"""The dev agent's transaction engine: what Consul's servers do with a ``PUT /v1/txn``.

The HTTP half (body limits, decoding, ``convertOps``) is :mod:`aioconsul.testing.endpoints.txn`
with the body's Go types in :mod:`aioconsul.testing.structs.txn`; from there, followed from
``hashicorp/consul``:

1. ``agent/consul/txn_endpoint.go`` (``preCheck``): every operation is checked before Raft
   (``Must provide key``, the token's permission through the endpoint's ``vet``, lock-delay);
   all failures are reported, nothing is applied.
2. ``agent/consul/state/txn.go`` (``txnDispatch``, ``TxnRW``/``TxnRO``) and ``state/kvs.go``:
   the operations run in order inside one write transaction at one Raft index, each seeing the
   effects of the ones before; every failure is collected and, if there is any, the whole
   transaction is rolled back (``Store.write_txn``) and answered 409.

Node, Service and Check operations run against the catalog tables (``catalog.py``) in the same
write transaction (:class:`CatalogTxn`): ``txnNode``, ``txnService`` and ``txnCheck`` with their
pre-checks (``nodePreApply``, ``servicePreApply``, ``checkPreApply``), CAS rules and texts.
Deleting a node or a check, or a critical check, invalidates sessions as in Consul, and a
rollback restores them too. Without a catalog (a bare :class:`Store`), they are refused with
Consul's wording for an operation a server does not handle, ``unknown operation type``.

This module never binds sockets and keeps no state: the tables live in ``kvs.py`` and
``session.py`` (joined in the :class:`Store` of ``store.py``) and in ``catalog.py``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from ..golang.stdlib import parse_duration, strconv_quote
from ..structs.kvs import entry_json
from ..structs.txn import Op, TxnError
from . import catalog as _catalog
from .kvs import DirEntry
from .memdb import RPCError
from .store import Store

if TYPE_CHECKING:
    from .catalog import Catalog

__all__ = ["CatalogTxn", "Result", "Vet", "pre_check", "read", "write"]

# -- the server side: preCheck, then the state store -------------------------------------------

Result = dict[str, Any]  # one structs.TxnResult as JSON: {"KV": ...}, {"Node": ...}...

_CATALOG_VERBS: Final = ("get", "set", "cas", "delete", "delete-cas")


def _node_record(op: Op) -> dict[str, Any]:
    """The structs.Node convertOps builds from the op's api.Node (no Locality)."""
    node = op.body["Node"]
    return {
        "ID": node.get("ID", ""),
        "Node": node.get("Node", ""),
        "Address": node.get("Address", ""),
        "Datacenter": node.get("Datacenter", ""),
        "TaggedAddresses": node.get("TaggedAddresses"),
        "Meta": node.get("Meta"),
        "Locality": None,
    }


def _service_fields(op: Op) -> dict[str, Any]:
    """The structs.NodeService convertOps builds from the op's api.AgentService: the fields it
    copies (not TaggedAddresses, SocketPath, Connect or Locality), Weights always set."""
    svc = op.body["Service"]
    weights = svc.get("Weights") or {}
    out: dict[str, Any] = {
        "ID": svc.get("ID", ""),
        "Service": svc.get("Service", ""),
        "Kind": svc.get("Kind", ""),
        "Tags": svc.get("Tags"),
        "Address": svc.get("Address", ""),
        "Meta": svc.get("Meta"),
        "Port": svc.get("Port", 0),
        "Weights": {"Passing": weights.get("Passing", 0), "Warning": weights.get("Warning", 0)},
        "EnableTagOverride": svc.get("EnableTagOverride", False),
    }
    proxy = svc.get("Proxy")
    if isinstance(proxy, dict):
        copied = {k: proxy[k] for k in ("DestinationServiceName", "DestinationServiceID",
                                        "LocalServiceAddress", "LocalServicePort",
                                        "LocalServiceSocketPath") if proxy.get(k)}
        mode = (proxy.get("MeshGateway") or {}).get("Mode")
        if mode:
            copied["MeshGateway"] = {"Mode": mode}
        transparent = {k: v for k, v in (proxy.get("TransparentProxy") or {}).items()
                       if k in ("DialedDirectly", "OutboundListenerPort") and v}
        if transparent:
            copied["TransparentProxy"] = transparent
        out["Proxy"] = copied
    return out


def _check_fields(op: Op) -> dict[str, Any]:
    """The structs.HealthCheck convertOps builds from the op's api.HealthCheck, with
    checkPreApply's default for the verbs it runs for (the CheckID is the Name when missing)."""
    check = op.body["Check"]
    definition = check.get("Definition") or {}
    copied: dict[str, Any] = {
        k: definition[k]
        for k in ("HTTP", "TLSServerName", "TLSSkipVerify", "Header", "Method", "Body", "TCP",
                  "GRPC", "GRPCUseTLS", "OSService")
        if definition.get(k)
    }
    for name in ("Interval", "Timeout", "DeregisterCriticalServiceAfter"):
        if definition.get(name):
            copied[name] = parse_duration(definition[name])  # checked when decoded
    out = {k: check.get(k) for k in ("Node", "CheckID", "Name", "Status", "Notes", "Output",
                                      "ServiceID", "ServiceName", "ServiceTags", "ExposedPort")
           if check.get(k) is not None}
    if op.verb != "get" and not out.get("CheckID") and out.get("Name"):
        out["CheckID"] = out["Name"]
    out["Definition"] = copied
    return out


def _index_of(op: Op) -> int:
    """The ModifyIndex the op's object carries (what the CAS verbs compare)."""
    obj = op.body.get(op.kind, {})
    index: int = obj.get("ModifyIndex", 0)
    return index


def _cas_stale(existing: dict[str, Any] | None, op: Op) -> bool:
    """Whether a ``cas`` fails: index 0 wants no entry yet, any other that entry's ModifyIndex."""
    wanted = _index_of(op)
    if wanted == 0:
        return existing is not None
    return existing is None or existing["ModifyIndex"] != wanted


def _get_or_cas(
    op: Op,
    kind: str,
    ident: str,
    node: str,
    existing: dict[str, Any] | None,
    render: Callable[[dict[str, Any]], dict[str, Any]],
) -> list[Result] | None:
    """What txnService and txnCheck share: ``get``'s answer, the CAS verbs' stale-index failures.

    ``kind`` is ``Service`` or ``Check``, ``ident`` its ID on ``node``. None when the verb goes on
    (a set, a cas or a delete whose index is current).
    """
    what = f"{kind.lower()} {strconv_quote(ident)} on node {strconv_quote(node)}"
    verb = op.verb
    if verb == "get":
        if existing is None:
            raise _OpFailed(f"{what} doesn't exist")
        return [{kind: render(existing)}]
    if verb == "cas" and _cas_stale(existing, op):
        raise _OpFailed(f"failed to set {what}, index is stale")
    if verb == "delete-cas" and (existing is None or existing["ModifyIndex"] != _index_of(op)):
        raise _OpFailed(f"failed to delete {what}, index is stale")
    return None


class CatalogTxn:
    """The catalog tables (:class:`~aioconsul.testing.state.catalog.Catalog`) driven the way
    state/txn.go's ``txnNode``, ``txnService`` and ``txnCheck`` drive Consul's.

    It reaches into the catalog's inner functions (``ensureNodeTxn`` and friends, private to
    ``catalog.py``): a transaction applies them at its own index, inside
    :meth:`Store.write_txn`, and rolls them back with :meth:`snapshot`.
    """

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    def snapshot(self) -> Callable[[], None]:
        """Save the tables; returns what puts them back (records are replaced, not mutated)."""
        c = self.catalog
        saved = (dict(c._nodes), dict(c._services), dict(c._checks), dict(c._coords),
                 dict(c._index))

        def restore() -> None:
            c._nodes, c._services, c._checks, c._coords, c._index = saved

        return restore

    # -- preCheck -------------------------------------------------------------------------------

    def pre_check(self, op: Op) -> str | None:
        """nodeVerbValidate/nodePreApply, serviceVerbValidate/servicePreApply,
        checkVerbValidate: the reason the op is refused before Raft, or None."""
        if op.verb not in _CATALOG_VERBS:
            return f"unknown {op.kind.lower()} operation: {op.verb}"
        if op.verb == "get":
            return None
        try:
            if op.kind == "Node":
                node = _node_record(op)
                if not node["Node"]:
                    return "Must provide node"
                if node["ID"]:
                    problem = _catalog._parse_uuid(node["ID"])
                    if problem:
                        return f"Bad node ID: {problem}"
            elif op.kind == "Service":
                _catalog._service_pre_apply(_service_fields(op))
        except RPCError as exc:
            return str(exc)
        return None

    # -- the verbs ------------------------------------------------------------------------------

    def apply(self, index: int, op: Op) -> list[Result]:
        """One catalog verb; raises :class:`_OpFailed` with Consul's text."""
        if op.kind == "Node":
            return self._node(index, op)
        if op.kind == "Service":
            return self._service(index, op)
        return self._check(index, op)

    def _find_node(self, node: dict[str, Any]) -> dict[str, Any] | None:
        """getNodeIDTxn (by ID prefix) when the op has an ID, else getNodeTxn (by name)."""
        if node["ID"]:
            wanted = node["ID"].lower()
            matches = sorted((n for n in self.catalog._nodes.values()
                              if n["ID"] and n["ID"].lower().startswith(wanted)),
                             key=lambda n: n["ID"].lower())
            return matches[0] if matches else None
        return self.catalog.node(node["Node"])

    def _node(self, index: int, op: Op) -> list[Result]:
        """state.txnNode."""
        node = _node_record(op)
        name = strconv_quote(node["Node"])
        verb = op.verb
        if verb == "get":
            entry = self._find_node(node)
            if entry is None:
                raise _OpFailed(f"node {name} doesn't exist")
            return [{"Node": _catalog.node_json(entry)}]
        if verb in ("set", "cas"):
            if verb == "cas" and _cas_stale(self.catalog.node(node["Node"]), op):
                raise _OpFailed(f"failed to set node {name}, index is stale")
            self._call(self.catalog._ensure_node, index, node)
            entry = self._find_node(node)
            return [] if entry is None else [{"Node": _catalog.node_json(entry)}]
        if verb == "delete-cas":
            existing = self.catalog.node(node["Node"])
            if existing is None or existing["ModifyIndex"] != _index_of(op):
                raise _OpFailed(f"failed to delete node {name}, index is stale")
        self.catalog._delete_node(index, node["Node"])
        return []

    def _service(self, index: int, op: Op) -> list[Result]:
        """state.txnService."""
        node_name = op.body["Node"]
        svc = _service_fields(op)
        if op.verb != "get":
            svc = _catalog._service_pre_apply(svc)  # preCheck's defaults (ID from the name)
        key = _catalog._svc_key(node_name, svc["ID"])
        existing = self.catalog._services.get(key)
        render = _catalog.node_service_json
        if (read := _get_or_cas(op, "Service", svc["ID"], node_name, existing, render)) is not None:
            return read
        if op.verb in ("set", "cas"):
            # ensureServiceTxn: the meta first, then the node must exist.
            problem = _catalog.validate_meta(svc["Meta"], svc["Kind"])
            if problem:
                raise _OpFailed(f"Invalid Service Meta for node {node_name} and serviceID "
                                f"{svc['ID']}: {problem}")
            if not self.catalog.has_node(node_name):
                raise _OpFailed("Missing node registration")
            self._call(self.catalog._ensure_service, index, node_name, svc)
            stored = self.catalog._services[key]
            return [{"Service": _catalog.node_service_json(stored)}]
        self.catalog._delete_service(index, node_name, svc["ID"])
        return []

    def _check(self, index: int, op: Op) -> list[Result]:
        """state.txnCheck."""
        check = _check_fields(op)
        node_name, check_id = check.get("Node", ""), check.get("CheckID", "")
        key = (node_name.lower(), check_id.lower())
        existing = self.catalog._checks.get(key)
        render = _catalog.check_json
        if (read := _get_or_cas(op, "Check", check_id, node_name, existing, render)) is not None:
            return read
        if op.verb in ("set", "cas"):
            self._call(self.catalog._ensure_check, index, _catalog._check_record(check))
            return [{"Check": _catalog.check_json(self.catalog._checks[key])}]
        self.catalog._delete_check(index, node_name, check_id)
        return []

    @staticmethod
    def _call(function: Callable[..., None], *args: Any) -> None:
        """An ensure*Txn of the catalog; its error as the transaction reports it.

        The catalog words them as Catalog.Register does (``failed inserting node: ...``); the
        state store functions a transaction calls return the inner error alone.
        """
        try:
            function(*args)
        except RPCError as exc:
            raise _OpFailed(_REGISTER_PREFIX.sub("", str(exc), count=1)) from None


_REGISTER_PREFIX: Final = re.compile(
    r'^failed inserting (?:node|service|check on node "(?:[^"\\]|\\.)*"): '
)


#: The permission check of one operation (the endpoint's vetNodeTxnOp and friends): the text
#: of its denial, or None. The store knows no ACLs; the endpoint hands this in.
Vet = Callable[[Op], str | None]


def pre_check(
    store: Store, ops: list[Op], catalog: CatalogTxn | None = None, vet: Vet | None = None
) -> list[TxnError]:
    """Txn.preCheck: every operation checked before Raft, every failure reported.

    ``vet`` runs where Consul checks the token: for a KV operation after "Must provide key" and
    before the lock-delay (kvsPreApply); for a catalog one after its verb and pre-apply checks,
    never for a ``get`` (the results are filtered instead)."""
    errors: list[TxnError] = []
    for i, op in enumerate(ops):
        if op.kind != "KV":
            problem = catalog.pre_check(op) if catalog is not None else "unknown operation type"
            if not problem and vet is not None and op.verb != "get":
                problem = vet(op)
            if problem:
                errors.append(TxnError(i, problem))
            continue
        # kvsPreApply: the key, the token's permission, then the lock-delay of a lock.
        if not op.key and op.verb != "delete-tree":
            errors.append(TxnError(i, "Must provide key"))
        elif vet is not None and (denied := vet(op)):
            errors.append(TxnError(i, denied))
        elif op.verb == "lock" and store.kv_lock_delay_active(op.key):
            errors.append(
                TxnError(i, f"failed to lock key {strconv_quote(op.key)} due to lock delay")
            )
    return errors


def _blank(entry: DirEntry) -> DirEntry:
    """Results of verbs other than the gets carry no value ("to save space")."""
    return DirEntry(
        entry.key,
        None,
        entry.flags,
        lock_index=entry.lock_index,
        session=entry.session,
        create_index=entry.create_index,
        modify_index=entry.modify_index,
    )


def _kv(store: Store, index: int, op: Op) -> list[DirEntry]:

    """state.txnKVS: one KV verb; raises :class:`_OpFailed` with Consul's text."""
    key, quoted = op.key, strconv_quote(op.key)
    verb = op.verb
    _, existing = store.kv_get(key)
    if verb == "set":
        entry = DirEntry(key, op.value, op.flags)
        return [_blank(store.kvs_set_txn(index, entry, update_session=False))]
    if verb == "delete":
        store.kvs_delete_txn(index, key)
        return []
    if verb == "delete-cas":
        if existing is not None:
            if existing.modify_index != op.index:
                raise _OpFailed(f"failed to delete key {quoted}, index is stale")
            store.kvs_delete_txn(index, key)
        return []  # a missing key is no failure (kvsDeleteCASTxn returns entry == nil)
    if verb == "delete-tree":
        store.kvs_delete_tree_txn(index, key)
        return []
    if verb == "cas":
        if (op.index == 0 and existing is not None) or (
            op.index != 0 and (existing is None or existing.modify_index != op.index)
        ):
            raise _OpFailed(f"failed to set key {quoted}, index is stale")
        entry = DirEntry(key, op.value, op.flags)
        return [_blank(store.kvs_set_txn(index, entry, update_session=False))]
    if verb == "lock":
        if not op.session:
            raise _OpFailed("missing session")
        if store.session_get(op.session)[1] is None:
            raise _OpFailed(f"invalid session {strconv_quote(op.session)}")
        if existing is None:
            lock_index = 1
        elif existing.session == op.session:
            lock_index = existing.lock_index  # already held: the value may change
        elif existing.session:
            raise _OpFailed(f"failed to lock key {quoted}, lock is already held")
        else:
            lock_index = existing.lock_index + 1
        entry = DirEntry(key, op.value, op.flags, lock_index=lock_index, session=op.session)
        return [_blank(store.kvs_set_txn(index, entry, update_session=True))]
    if verb == "unlock":
        if not op.session:
            raise _OpFailed("missing session")
        if existing is None or existing.session != op.session:
            raise _OpFailed(
                f"failed to unlock key {quoted}, lock isn't held, or is held by another session"
            )
        entry = DirEntry(key, op.value, op.flags, lock_index=existing.lock_index)
        return [_blank(store.kvs_set_txn(index, entry, update_session=True))]
    if verb == "get":
        if existing is None:
            raise _OpFailed(f"key {quoted} doesn't exist")
        return [existing]
    if verb == "get-or-empty":
        if existing is None:
            # The operation's own entry comes back, value cleared (state/txn.go).
            return [DirEntry(key, None, op.flags, session=op.session, modify_index=op.index)]
        return [existing]
    if verb == "get-tree":
        return store.kv_list(key)[1]
    if verb in ("check-session", "check-index"):
        what = verb.removeprefix("check-")
        if existing is None:
            raise _OpFailed(f"failed to check {what}, key {quoted} doesn't exist")
        label = "session" if what == "session" else "modify index"
        if what == "session":
            current, wanted = strconv_quote(existing.session), strconv_quote(op.session)
        else:
            current, wanted = str(existing.modify_index), str(op.index)
        if current != wanted:
            raise _OpFailed(
                f"failed {what} check for key {quoted}, current {label} {current} != {wanted}"
            )
        return [_blank(existing)]
    if verb == "check-not-exists":
        if existing is not None:
            raise _OpFailed(f"key {quoted} exists")
        return []
    raise _OpFailed(f"unknown KV verb {strconv_quote(verb)}")


class _OpFailed(Exception):
    """One operation failed inside the state store transaction."""


class _RolledBack(Exception):
    """Raised inside :meth:`Store.write_txn` to undo a transaction with failed operations."""


def _dispatch(
    store: Store, index: int, ops: list[Op], catalog: CatalogTxn | None
) -> tuple[list[Result], list[TxnError]]:
    """state.txnDispatch: run every operation in order, collecting results and failures."""
    results: list[Result] = []
    errors: list[TxnError] = []
    for i, op in enumerate(ops):
        try:
            if op.kind == "KV":
                results.extend({"KV": entry_json(e)} for e in _kv(store, index, op))
            elif catalog is not None:  # pre_check refused catalog ops without a catalog
                results.extend(catalog.apply(index, op))
        except _OpFailed as exc:
            errors.append(TxnError(i, str(exc)))
    return results, errors


def read(
    store: Store, ops: list[Op], catalog: CatalogTxn | None = None
) -> tuple[list[Result] | None, list[TxnError]]:
    """state.TxnRO: the operations of a transaction without writes, at no index."""
    results, errors = _dispatch(store, 0, ops, catalog)
    return (None, errors) if errors else (results, [])


def write(
    store: Store, ops: list[Op], catalog: CatalogTxn | None = None
) -> tuple[list[Result] | None, list[TxnError]]:
    """state.TxnRW: one write transaction at one Raft index, committed only if all succeed."""
    outcome: tuple[list[Result], list[TxnError]] = ([], [])
    tables = () if catalog is None else (catalog.snapshot,)
    try:
        with store.write_txn(*tables) as index:
            outcome = _dispatch(store, index, ops, catalog)
            if outcome[1]:
                raise _RolledBack
    except _RolledBack:
        return None, outcome[1]
    return outcome[0], []



