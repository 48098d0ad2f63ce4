"""Transactions: ``PUT /v1/txn`` applies up to 128 KV and catalog operations atomically.

Two ways in. :meth:`Txn.apply` sends a list of operations in Consul's JSON shape, KV values as
bytes; a :class:`Transaction` builds that list one validated call at a time (``client.kv.txn()``
or ``client.txn.transaction()``), refusing a bad key, value, index, session or a 129th operation
with ``TypeError``/``ValueError`` the moment it is added. Building is pure; only
:meth:`Transaction.apply` (or leaving ``async with``) sends anything.

Either all operations apply, or none does: a rolled-back transaction raises
:class:`~aioconsul.errors.TxnFailed`, whose ``errors`` name each failed operation's index and
Consul's reason. This module never touches aiohttp or status codes.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Iterator, Mapping
from types import TracebackType
from typing import Any

from .._core import normalize
from .._core.core import Endpoint
from ..errors import ProtocolError
from ..typing import Collection, Consistency, Meta, Object, ObjectID, ObjectIndex, Payload
from ._limits import MAX_VALUE_SIZE

__all__ = ["MAX_OPS", "Transaction", "Txn", "decode_results", "encode_ops", "is_read_only"]

#: Consul's limit on the operations of one transaction (``maxTxnOps``; 64 before Consul 1.13).
MAX_OPS = 128
_KINDS = ("KV", "Node", "Service", "Check")
_INDEX_KEYS = ("ModifyIndex", "Index")
_KV_WRITES = frozenset(("set", "delete", "delete-cas", "delete-tree", "cas", "lock", "unlock"))


def _value(value: Any, name: str = "value") -> bytes:
    data = normalize.payload(value, name)
    if len(data) > MAX_VALUE_SIZE:
        raise ValueError(f"{name}: {len(data)} bytes is over Consul's limit of {MAX_VALUE_SIZE} "
                         f"bytes (kv_max_value_size)")
    return data


def _encode_op(op: Any, position: int) -> dict[str, Any]:
    """One operation as JSON: checked for its shape, its KV value base64-encoded."""
    where = f"ops[{position}]"
    if not isinstance(op, Mapping):
        raise TypeError(f"{where}: expected an operation mapping such as "
                        f"{{'KV': {{'Verb': 'get', 'Key': 'k'}}}}, got {normalize.describe(op)}")
    unknown = [kind for kind in op if kind not in _KINDS]
    if unknown:
        hint = (" (Consul's HTTP API refuses session operations: destroy the session with "
                "client.session.destroy)") if "Session" in unknown else ""
        raise ValueError(f"{where}: unknown operation {unknown[0]!r}; Consul's /v1/txn takes "
                         f"KV, Node, Service and Check operations{hint}")
    if len(op) != 1:
        raise ValueError(f"{where}: an operation has exactly one of KV, Node, Service and Check, "
                         f"got {sorted(op) or 'none'}")
    ((kind, body),) = op.items()
    if not isinstance(body, Mapping):
        raise TypeError(f"{where}.{kind}: expected a mapping, got {normalize.describe(body)}")
    encoded = dict(body)
    if kind == "KV" and encoded.get("Value") is not None:
        data = _value(encoded["Value"], f"{where}.KV.Value")
        encoded["Value"] = base64.b64encode(data).decode("ascii")
    return {kind: encoded}


def encode_ops(ops: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The JSON body of ``PUT /v1/txn`` for ``ops`` (pure; nothing is sent).

    Each operation is a mapping with exactly one of ``KV``, ``Node``, ``Service``, ``Check`` in
    Consul's shape; a KV ``Value`` is bytes (or None) and is base64-encoded here. More than
    :data:`MAX_OPS` operations, or a malformed one, is a ``ValueError``/``TypeError``.
    """
    body = [_encode_op(op, i) for i, op in enumerate(normalize.list_of(ops, "ops", "operations"))]
    if len(body) > MAX_OPS:
        raise ValueError(f"ops: {len(body)} operations, Consul takes at most {MAX_OPS} in one "
                         "transaction (split it)")
    return body


def is_read_only(ops: Iterable[Mapping[str, Any]]) -> bool:
    """Whether Consul serves ``ops`` as a read (``Txn.Read``, safe to repeat): no KV write verb
    and no catalog verb but ``get`` (agent/txn_endpoint.go ``isWrite``)."""
    for op in ops:
        for kind, body in op.items():
            verb = body.get("Verb") if isinstance(body, Mapping) else None
            if verb in _KV_WRITES if kind == "KV" else verb != "get":
                return False
    return True


def decode_results(data: Any) -> Collection:
    """The ``Results`` of a transaction's answer, each KV ``Value`` decoded to bytes.

    Consul sends ``null`` for the value of every verb but the gets (and for an empty value);
    that reads as ``b""``, as in :meth:`~aioconsul.api.kv.KV.get`. Raises ``ValueError`` on a
    value that is not base64.
    """
    results = (data or {}).get("Results") if isinstance(data, dict) else None
    if not isinstance(results, list):
        return []
    for result in results:
        entry = result.get("KV") if isinstance(result, dict) else None
        if isinstance(entry, dict):
            value = entry.get("Value")
            entry["Value"] = b"" if value is None else base64.b64decode(value, validate=True)
    return results


def _index(value: Any, name: str = "index") -> int:
    return normalize.index(value, name, _INDEX_KEYS)


def _copy(value: Any, name: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise TypeError(f"{name}: expected a mapping in Consul's shape, got "
                        f"{normalize.describe(value)}")
    return dict(value)


def _cas_object(obj: Any, index: Any, name: str) -> dict[str, Any]:
    """The object a catalog ``cas``/``delete-cas`` sends: its ModifyIndex is the index compared."""
    if index is None:
        if not isinstance(obj, Mapping) or "ModifyIndex" not in obj:
            raise ValueError(f"index: give index=, or a {name} with its 'ModifyIndex'")
        index = obj["ModifyIndex"]
    out = dict(obj) if isinstance(obj, Mapping) else {}
    out["ModifyIndex"] = _index(index)
    return out


class Transaction:
    """A list of operations for one atomic transaction, each validated when added.

    Get one from ``client.kv.txn()`` or ``client.txn.transaction()`` (or build one standalone
    with ``Transaction()`` and pass it to :meth:`Txn.apply`). Add operations with the verb
    methods, then ``results, meta = await txn.apply()``; or use ``async with`` and the
    transaction is applied when the block ends without an exception, its outcome left in
    :attr:`results` and :attr:`meta`. Every verb method returns the transaction, so calls chain.

    KV verbs are named after Consul's (``check-index`` is :meth:`check_index`); catalog verbs
    carry their object's name (:meth:`node_set`, :meth:`service_get`, :meth:`check_delete`).
    ``token`` is the ACL token it is applied with (None: the client's).
    """

    __slots__ = ("_consistency", "_dc", "_namespace", "_ops", "_partition", "_token", "_txn",
                 "meta", "results")

    def __init__(
        self,
        txn: Txn | None = None,
        *,
        dc: str | None = None,
        consistency: Consistency | str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        token: str | None = None,
    ) -> None:
        self._txn = txn
        self._dc = dc
        self._consistency = consistency
        self._namespace = namespace
        self._partition = partition
        self._token = None if token is None else normalize.token(token)
        self._ops: list[dict[str, Any]] = []
        #: The results of the last :meth:`apply` (None until then).
        self.results: Collection | None = None
        #: The Meta of the last :meth:`apply` (None until then).
        self.meta: Meta | None = None

    # -- the list ------------------------------------------------------------------------------

    @property
    def ops(self) -> list[dict[str, Any]]:
        """A copy of the operations so far, in Consul's shape (KV values as bytes)."""
        return [{kind: dict(body) for kind, body in op.items()} for op in self._ops]

    def __len__(self) -> int:
        return len(self._ops)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.ops)

    def __repr__(self) -> str:
        return f"<Transaction of {len(self._ops)} operation(s)>"

    def _add(self, kind: str, body: dict[str, Any]) -> Transaction:
        if len(self._ops) >= MAX_OPS:
            raise ValueError(f"a transaction takes at most {MAX_OPS} operations (Consul's "
                             "maxTxnOps); apply this one and start another")
        self._ops.append({kind: body})
        return self

    def _kv(self, verb: str, key: Any, *, prefix: bool = False, **fields: Any) -> Transaction:
        name = "prefix" if prefix else "key"
        body: dict[str, Any] = {"Verb": verb,
                                "Key": normalize.kv_key(key, name, prefix=verb == "delete-tree")}
        body.update((k, v) for k, v in fields.items() if v is not None)
        return self._add("KV", body)

    @staticmethod
    def _flags(flags: Any) -> int | None:
        return None if flags is None else normalize.uint64(flags, "flags")

    # -- KV verbs ------------------------------------------------------------------------------

    def set(self, key: str | Object, value: Payload, *, flags: int | None = None) -> Transaction:
        """``set``: write ``value`` (and ``flags``) to ``key``."""
        key = normalize.kv_key(key)
        return self._kv("set", key, Value=_value(value), Flags=self._flags(flags))

    def cas(
        self, key: str | Object, value: Payload, *, index: ObjectIndex, flags: int | None = None
    ) -> Transaction:
        """``cas``: write only if the key's ModifyIndex is ``index`` (0: only if it is new).

        ``index`` is an int or an entry you read (its ``ModifyIndex``).
        """
        key = normalize.kv_key(key)
        return self._kv("cas", key, Value=_value(value), Flags=self._flags(flags),
                        Index=_index(index))

    def lock(
        self,
        key: str | Object,
        value: Payload = b"",
        *,
        session: ObjectID,
        flags: int | None = None,
    ) -> Transaction:
        """``lock``: acquire ``key`` for ``session`` and write ``value``.

        Fails the transaction if another session holds the key or its lock-delay runs.
        """
        key = normalize.kv_key(key)
        return self._kv("lock", key, Value=_value(value), Flags=self._flags(flags),
                        Session=normalize.object_id(session, "session"))

    def unlock(
        self,
        key: str | Object,
        value: Payload = b"",
        *,
        session: ObjectID,
        flags: int | None = None,
    ) -> Transaction:
        """``unlock``: release ``key`` held by ``session``; Consul stores ``value`` too."""
        key = normalize.kv_key(key)
        return self._kv("unlock", key, Value=_value(value), Flags=self._flags(flags),
                        Session=normalize.object_id(session, "session"))

    def get(self, key: str | Object) -> Transaction:
        """``get``: read the entry into the results; fails the transaction if it is missing."""
        return self._kv("get", key)

    def get_or_empty(self, key: str | Object) -> Transaction:
        """``get-or-empty``: read the entry, or an entry with no value if it is missing."""
        return self._kv("get-or-empty", key)

    def get_tree(self, prefix: str | Object) -> Transaction:
        """``get-tree``: read every entry under ``prefix`` (Consul refuses the empty prefix)."""
        return self._kv("get-tree", prefix, prefix=True)

    def check_index(self, key: str | Object, *, index: ObjectIndex) -> Transaction:
        """``check-index``: fail the transaction unless the key's ModifyIndex is ``index``."""
        key = normalize.kv_key(key)
        return self._kv("check-index", key, Index=_index(index))

    def check_session(self, key: str | Object, *, session: ObjectID) -> Transaction:
        """``check-session``: fail the transaction unless ``session`` holds the key."""
        key = normalize.kv_key(key)
        return self._kv("check-session", key, Session=normalize.object_id(session, "session"))

    def check_not_exists(self, key: str | Object) -> Transaction:
        """``check-not-exists``: fail the transaction if the key exists."""
        return self._kv("check-not-exists", key)

    def delete(self, key: str | Object) -> Transaction:
        """``delete``: delete one key (a missing key is no failure)."""
        return self._kv("delete", key)

    def delete_tree(self, prefix: str | Object) -> Transaction:
        """``delete-tree``: delete every key under ``prefix`` (``""``: the whole store)."""
        return self._kv("delete-tree", prefix, prefix=True)

    def delete_cas(self, key: str | Object, *, index: ObjectIndex) -> Transaction:
        """``delete-cas``: delete ``key`` only if its ModifyIndex is ``index``.

        Consul never deletes with index 0, so 0 is refused with ``ValueError``.
        """
        key = normalize.kv_key(key)
        cas = _index(index)
        if cas == 0:
            raise ValueError("index: Consul's delete-cas needs an index above 0")
        return self._kv("delete-cas", key, Index=cas)

    # -- catalog verbs -------------------------------------------------------------------------

    @staticmethod
    def _node(node: Any) -> dict[str, Any]:
        """A node by name (a str) or as an object with ``Node`` (sent as given)."""
        name = normalize.object_id(node, "node", "Node")
        return dict(node) if isinstance(node, Mapping) else {"Node": name}

    def node_set(self, node: Object) -> Transaction:
        """Node ``set``: register or update ``node`` (an ``api.Node`` object with ``Node``)."""
        normalize.object_id(node, "node", "Node")
        return self._add("Node", {"Verb": "set", "Node": _copy(node, "node")})

    def node_cas(self, node: Object, *, index: ObjectIndex | None = None) -> Transaction:
        """Node ``cas``: ``set`` only if the node's ModifyIndex is ``index`` (default: the
        object's own ``ModifyIndex``)."""
        normalize.object_id(node, "node", "Node")
        return self._add("Node", {"Verb": "cas",
                                  "Node": _cas_object(_copy(node, "node"), index, "node")})

    def node_get(self, node: str | Object) -> Transaction:
        """Node ``get``: read the node (by name, or by ``ID`` if the object has one)."""
        if isinstance(node, Mapping) and node.get("ID") and not node.get("Node"):
            normalize.object_id(node, "node", "ID")
            return self._add("Node", {"Verb": "get", "Node": dict(node)})
        return self._add("Node", {"Verb": "get", "Node": self._node(node)})

    def node_delete(self, node: str | Object) -> Transaction:
        """Node ``delete``: deregister the node, its services and checks."""
        return self._add("Node", {"Verb": "delete", "Node": self._node(node)})

    def node_delete_cas(
        self, node: str | Object, *, index: ObjectIndex | None = None
    ) -> Transaction:
        """Node ``delete-cas``: delete only if its ModifyIndex is ``index`` (default: the
        object's ``ModifyIndex``)."""
        return self._add("Node", {"Verb": "delete-cas",
                                  "Node": _cas_object(self._node(node), index, "node")})

    @staticmethod
    def _service(service: Any) -> dict[str, Any]:
        """A service instance by ID (a str) or as an ``api.AgentService`` object with ``ID``."""
        service_id = normalize.object_id(service, "service", "ID")
        return dict(service) if isinstance(service, Mapping) else {"ID": service_id}

    def _service_op(self, verb: str, node: Any, service: dict[str, Any]) -> Transaction:
        node_name = normalize.object_id(node, "node", "Node")
        return self._add("Service", {"Verb": verb, "Node": node_name, "Service": service})

    def service_set(self, node: ObjectID, service: Object) -> Transaction:
        """Service ``set``: register or update ``service`` (with ``ID`` and ``Service``) on
        ``node`` (a name, or an object with ``Node``)."""
        normalize.object_id(service, "service", "ID")
        return self._service_op("set", node, _copy(service, "service"))

    def service_cas(
        self, node: ObjectID, service: Object, *, index: ObjectIndex | None = None
    ) -> Transaction:
        """Service ``cas``: ``set`` only if its ModifyIndex is ``index`` (default: the
        object's ``ModifyIndex``)."""
        normalize.object_id(service, "service", "ID")
        return self._service_op("cas", node, _cas_object(_copy(service, "service"), index,
                                                         "service"))

    def service_get(self, node: ObjectID, service: str | Object) -> Transaction:
        """Service ``get``: read the service instance ``service`` (an ID) of ``node``."""
        return self._service_op("get", node, self._service(service))

    def service_delete(self, node: ObjectID, service: str | Object) -> Transaction:
        """Service ``delete``: deregister the instance and its checks."""
        return self._service_op("delete", node, self._service(service))

    def service_delete_cas(
        self, node: ObjectID, service: str | Object, *, index: ObjectIndex | None = None
    ) -> Transaction:
        """Service ``delete-cas``: delete only if its ModifyIndex is ``index``."""
        return self._service_op("delete-cas", node,
                                _cas_object(self._service(service), index, "service"))

    @staticmethod
    def _check(node: Any, check: Any) -> dict[str, Any]:
        """A check of ``node`` by ID (a str) or as an ``api.HealthCheck`` object."""
        node_name = normalize.object_id(node, "node", "Node")
        check_id = normalize.object_id(check, "check", "CheckID")
        body = dict(check) if isinstance(check, Mapping) else {}
        body.update(Node=node_name, CheckID=check_id)
        return body

    def check_set(self, check: Object) -> Transaction:
        """Check ``set``: register or update ``check`` (an object with ``Node`` and
        ``CheckID``)."""
        return self._add("Check", {"Verb": "set", "Check": self._check(check, check)})

    def check_cas(self, check: Object, *, index: ObjectIndex | None = None) -> Transaction:
        """Check ``cas``: ``set`` only if its ModifyIndex is ``index`` (default: the object's
        ``ModifyIndex``)."""
        return self._add("Check", {"Verb": "cas", "Check": _cas_object(
            self._check(check, check), index, "check")})

    def check_get(self, node: ObjectID, check: str | Object) -> Transaction:
        """Check ``get``: read the check ``check`` (a CheckID) of ``node``."""
        return self._add("Check", {"Verb": "get", "Check": self._check(node, check)})

    def check_delete(self, node: ObjectID, check: str | Object) -> Transaction:
        """Check ``delete``: deregister the check."""
        return self._add("Check", {"Verb": "delete", "Check": self._check(node, check)})

    def check_delete_cas(
        self, node: ObjectID, check: str | Object, *, index: ObjectIndex | None = None
    ) -> Transaction:
        """Check ``delete-cas``: delete only if its ModifyIndex is ``index``."""
        return self._add("Check", {"Verb": "delete-cas", "Check": _cas_object(
            self._check(node, check), index, "check")})

    # -- applying ------------------------------------------------------------------------------

    async def apply(self) -> tuple[Collection, Meta]:
        """Send the transaction (``PUT /v1/txn``); see :meth:`Txn.apply`.

        The outcome is also kept in :attr:`results` and :attr:`meta`.
        """
        if self._txn is None:
            raise RuntimeError("this Transaction has no client: pass it to client.txn.apply()")
        self.results, self.meta = await self._txn.apply(
            self._ops, dc=self._dc, consistency=self._consistency, namespace=self._namespace,
            partition=self._partition, token=self._token,
        )
        return self.results, self.meta

    async def __aenter__(self) -> Transaction:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            await self.apply()


class Txn(Endpoint):
    """``client.txn``: Consul's transactions."""

    __slots__ = ()

    async def apply(
        self,
        ops: Iterable[Mapping[str, Any]],
        *,
        dc: str | None = None,
        consistency: Consistency | str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        token: str | None = None,
    ) -> tuple[Collection, Meta]:
        """Apply ``ops`` atomically (``PUT /v1/txn``) and return ``(results, meta)``.

        ``ops`` is a list (or a :class:`Transaction`) of operations in Consul's shape, e.g.
        ``{"KV": {"Verb": "set", "Key": "a", "Value": b"1"}}``, KV values as bytes; at most
        :data:`MAX_OPS`, or ``ValueError`` before anything is sent. ``results`` has an entry
        (``{"KV": entry}``, ``{"Node": ...}``...) per operation that returns one, in order; KV
        values come back as bytes. A rolled-back transaction raises
        :class:`~aioconsul.errors.TxnFailed` with each failed operation's index and reason.

        A transaction with no writes is served as a read: ``consistency`` applies to it and
        ``meta`` carries ``KnownLeader``/``LastContact``; one with writes goes through Raft and
        Consul ignores ``consistency``. No transaction has an index to block on. ``token`` is
        the ACL token of this call (None: the client's).
        """
        body = encode_ops(ops)
        data, meta = await self._core.request(
            "PUT", "/v1/txn", json=body, dc=dc, namespace=namespace, partition=partition,
            consistency=consistency, idempotent=is_read_only(body), token=token,
        )
        try:
            return decode_results(data), meta
        except (binascii.Error, ValueError) as exc:
            raise ProtocolError(f"a result's 'Value' is not base64 data: {exc}",
                                operation="PUT /v1/txn", address=self._core.config.address,
                                status=200, meta=meta) from None

    def transaction(
        self,
        *,
        dc: str | None = None,
        consistency: Consistency | str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        token: str | None = None,
    ) -> Transaction:
        """A new, empty :class:`Transaction` that :meth:`Transaction.apply` sends here."""
        return Transaction(self, dc=dc, consistency=consistency, namespace=namespace,
                           partition=partition, token=token)
