"""The KV store: ``/v1/kv/<key>`` read, written, locked and deleted.

Values are bytes in and bytes out; base64 never reaches the caller. Keys are validated by
:func:`~aioconsul._core.normalize.kv_key` and percent-encoded, so no key can address anything
outside ``/v1/kv/``.
"""

from __future__ import annotations

import base64
import binascii
import inspect
import json
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal, overload

from .._core import normalize
from .._core.core import Endpoint
from .._core.request import quote_key
from ..errors import CASConflict, ConsulError, TxnFailed
from ..typing import (
    Blocking,
    Collection,
    Consistency,
    Duration,
    Meta,
    Object,
    ObjectID,
    ObjectIndex,
    Payload,
)
from ..watch import Backoff, ErrorMode, QuietErrors, Watch
from . import _limits
from ._tree import _codec, _folder, nest
from .txn import MAX_OPS, Transaction, Txn

if TYPE_CHECKING:
    from ..toolkit.config import LiveConfig

__all__ = ["DEFAULT_UPDATE_RETRIES", "IMPORT_BATCH", "KV", "MAX_VALUE_SIZE", "Codec", "nest"]

#: Consul's default ``kv_max_value_size``: 512 KiB.
MAX_VALUE_SIZE = _limits.MAX_VALUE_SIZE
#: How many times :meth:`KV.update` reads again after a refused check-and-set, by default.
DEFAULT_UPDATE_RETRIES = 16
#: How many entries :meth:`KV.import_` writes in one transaction, by default: 64, the limit of
#: Consul before 1.13 (``maxTxnOps``, 128 since), so an import works against any agent.
IMPORT_BATCH = 64
#: Consul's transaction body limit by default: ``max(txn_max_req_len, kv_max_value_size)``.
TXN_MAX_REQ_LEN = 512 * 1024
#: What :meth:`KV.import_` puts in one transaction's body at most, leaving room for the JSON.
_TXN_BODY_BUDGET = TXN_MAX_REQ_LEN - 4096
_OCTETS = "application/octet-stream"

#: How :meth:`KV.tree` decodes each value: ``"bytes"`` (as stored), ``"text"`` (UTF-8),
#: ``"json"`` (an empty value is None), or a callable taking the bytes.
Codec = Literal["bytes", "text", "json"] | Callable[[bytes], Any]
#: What ``fn`` of :meth:`KV.update` is: the current value (None if missing) to the new one.
Updater = Callable[[bytes | None], Payload | Awaitable[Payload]]


def _path(key: str) -> str:
    return "/v1/kv/" + quote_key(key)


#: The paths of the keys used most (a bounded cache, emptied when full, like the transport's
#: URLs), for speed: checking and quoting a key again costs more than a small read's header.
_KEY_PATHS: dict[str, str] = {}
_KEY_PATHS_SIZE = 1024


def _key_path(key: str | Object) -> str:
    """``/v1/kv/<key>`` of one key, checked by :func:`~aioconsul._core.normalize.kv_key`."""
    if type(key) is not str:  # an entry (its Key), or a str subclass: not kept
        return _path(normalize.kv_key(key))
    path = _KEY_PATHS.get(key)
    if path is None:
        path = _path(normalize.kv_key(key))  # raises before anything is kept
        if len(_KEY_PATHS) >= _KEY_PATHS_SIZE:
            _KEY_PATHS.clear()
        _KEY_PATHS[key] = path
    return path


async def _raising(exc: Exception) -> Any:
    """Raise ``exc`` when awaited: what :meth:`KV.get` returns for arguments it refuses, so
    that they raise where the call is awaited, as from any other method."""
    raise exc


def _value(value: Any, name: str = "value") -> bytes:
    data = normalize.payload(value, name)
    if len(data) > MAX_VALUE_SIZE:
        raise ValueError(f"{name}: {len(data)} bytes is over Consul's limit of {MAX_VALUE_SIZE} "
                         f"bytes (kv_max_value_size)")
    return data


def _import_ops(entries: Any) -> list[dict[str, Any]]:
    """The ``set`` operations of :meth:`KV.import_`'s entries, each checked (pure)."""
    if isinstance(entries, (str, bytes, bytearray, Mapping)) or not isinstance(entries, Iterable):
        raise TypeError(f"entries: expected a list of entries such as consul kv export writes, "
                        f"got {type(entries).__name__}")
    ops: list[dict[str, Any]] = []
    for i, entry in enumerate(entries):
        where = f"entries[{i}]"
        if not isinstance(entry, Mapping):
            raise TypeError(f"{where}: expected a mapping with key, flags and value, "
                            f"got {type(entry).__name__}")
        if "key" not in entry:
            raise ValueError(f"{where}.key: missing (an entry has key, flags and value)")
        key = entry["key"]
        if not isinstance(key, str):
            raise TypeError(f"{where}.key: expected a str, got {type(key).__name__}")
        normalize.kv_key(key, f"{where}.key")
        flags = entry.get("flags")
        if isinstance(flags, str):  # a JSON number in consul kv export's format
            raise TypeError(f"{where}.flags: expected an int, got str")
        flags = 0 if flags is None else normalize.uint64(flags, f"{where}.flags")
        if "value" not in entry:
            raise ValueError(f"{where}.value: missing (base64 text of the value's bytes)")
        text = entry["value"]
        if text is None:
            text = ""
        if not isinstance(text, str):
            raise TypeError(f"{where}.value: expected base64 text (a str), "
                            f"got {type(text).__name__}")
        try:
            data = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError(f"{where}.value: not base64 text ({exc})") from None
        body: dict[str, Any] = {"Verb": "set", "Key": key,
                                "Value": _value(data, f"{where}.value"), "Flags": flags}
        for field in ("namespace", "partition"):
            given = entry.get(field)
            if given is None or given == "":
                continue
            if not isinstance(given, str):
                raise TypeError(f"{where}.{field}: expected a str, got {type(given).__name__}")
            body[field.capitalize()] = given
        ops.append({"KV": body})
    return ops


def _op_size(body: Mapping[str, Any]) -> int:
    """About how many bytes one ``set`` operation takes in a transaction's JSON body."""
    return (len(json.dumps(body["Key"])) + 4 * ((len(body["Value"]) + 2) // 3)
            + len(body.get("Namespace", "")) + len(body.get("Partition", "")) + 128)


class KV(Endpoint):
    """``client.kv``: Consul's key/value store.

    Every read returns ``(data, meta)`` and takes ``dc``, ``namespace``, ``partition``,
    ``consistency`` and ``watch`` (a :data:`~aioconsul.typing.Blocking`: the index to wait past,
    optionally with a wait). Every write returns the agent's bool. Every method takes
    ``token``: the ACL token of that call, sent instead of the client's.
    """

    __slots__ = ()

    def get(
        self,
        key: str | Object,
        *,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        consistency: Consistency | str | None = None,
        watch: Blocking | None = None,
        token: str | None = None,
    ) -> Coroutine[Any, Any, tuple[Object | None, Meta]]:
        """Read one entry (``GET /v1/kv/<key>``): ``entry, meta = await client.kv.get(key)``.

        Returns ``(entry, meta)`` with ``entry["Value"]`` as bytes, or ``(None, meta)`` when the key
        does not exist: Consul answers 404 with an index, so ``watch=meta`` waits for its creation.
        A 404 without that index is not Consul's: it raises :class:`~aioconsul.NotConsul` (the
        address does not look like a Consul agent), as every KV read does.
        """
        # Not a coroutine of its own but the request core's, for speed and memory: this is the
        # read of every watch of a key, and a coroutine here would wait beside each parked
        # watch (350 bytes) and be made and resumed at every wake-up, only to take the list's
        # one entry, which the core does (first=True).
        try:
            return self._core.request(
                "GET", _key_path(key), dc=dc, namespace=namespace,
                partition=partition, consistency=consistency, watch=watch, missing_ok=True,
                indexed=True, b64="Value", first=True, token=token,
            )
        except Exception as exc:  # refused arguments: raised when awaited, as by an async def
            return _raising(exc)

    @overload
    def watch(
        self,
        key: str | Object,
        *,
        wait: Duration | None = "5m",
        errors: QuietErrors = "log",
        backoff: Backoff | None = None,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        consistency: Consistency | str | None = None,
        token: str | None = None,
        shared: bool = True,
    ) -> Watch[tuple[Object | None, Meta]]: ...

    @overload
    def watch(
        self,
        key: str | Object,
        *,
        wait: Duration | None = "5m",
        errors: ErrorMode,
        backoff: Backoff | None = None,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        consistency: Consistency | str | None = None,
        token: str | None = None,
        shared: bool = True,
    ) -> Watch[tuple[Object | None, Meta] | ConsulError]: ...

    def watch(
        self,
        key: str | Object,
        *,
        wait: Duration | None = "5m",
        errors: ErrorMode = "log",
        backoff: Backoff | None = None,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        consistency: Consistency | str | None = None,
        token: str | None = None,
        shared: bool = True,
    ) -> Watch[tuple[Object | None, Meta] | ConsulError]:
        """Watch one key: ``async for entry, meta in client.kv.watch("config/app"):``.

        Yields the current entry at once (``None`` while the key does not exist), then each
        new value as it changes. See :class:`~aioconsul.watch.Watch` for the loop's rules.
        Watches of one key by one client share a read unless ``shared=False`` (see
        :ref:`shared-watches`).
        """
        normalize.kv_key(key)
        # Only the options given: the read's defaults are None, and each wake-up passes them.
        options: dict[str, Any] = {name: value for name, value in (
            ("dc", dc), ("namespace", namespace), ("partition", partition),
            ("consistency", consistency), ("token", token)) if value is not None}
        return Watch(self.get, key, wait=wait, errors=errors, backoff=backoff, shared=shared,
                     **options)

    async def raw(
        self,
        key: str | Object,
        *,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        consistency: Consistency | str | None = None,
        watch: Blocking | None = None,
        token: str | None = None,
    ) -> tuple[bytes | None, Meta]:
        """Read only the value's bytes (``GET /v1/kv/<key>?raw``); ``(None, meta)`` if missing."""
        data, meta = await self._core.request(
            "GET", _key_path(key), params=(("raw", ""),), dc=dc,
            namespace=namespace, partition=partition, consistency=consistency, watch=watch,
            missing_ok=True, indexed=True, raw=True, token=token,
        )
        return (bytes(data) if data is not None else None), meta

    async def keys(
        self,
        prefix: str = "",
        *,
        separator: str | None = None,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        consistency: Consistency | str | None = None,
        watch: Blocking | None = None,
        token: str | None = None,
    ) -> tuple[list[str], Meta]:
        """List the keys under ``prefix`` (``GET /v1/kv/<prefix>?keys``).

        With ``separator`` (often ``"/"``), keys are cut after the first separator past the prefix
        and de-duplicated, like a directory listing. No key under the prefix gives ``([], meta)``.
        """
        params: list[tuple[str, str]] = [("keys", "")]
        if separator is not None:
            if not isinstance(separator, str):
                raise TypeError(f"separator: expected a str, got {type(separator).__name__}")
            params.append(("separator", separator))
        data, meta = await self._core.request(
            "GET", _path(normalize.kv_key(prefix, "prefix", prefix=True)), params=params, dc=dc,
            namespace=namespace, partition=partition, consistency=consistency, watch=watch,
            missing_ok=True, indexed=True, token=token,
        )
        return (data or []), meta

    async def items(
        self,
        prefix: str = "",
        *,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        consistency: Consistency | str | None = None,
        watch: Blocking | None = None,
        token: str | None = None,
    ) -> tuple[Collection, Meta]:
        """Read every entry under ``prefix`` (``GET /v1/kv/<prefix>?recurse``); ``[]`` if none.

        The index is the highest ModifyIndex under the prefix, so it can go backwards when the
        newest key is deleted and later reaped: watch loops must reset it then.
        """
        data, meta = await self._core.request(
            "GET", _path(normalize.kv_key(prefix, "prefix", prefix=True)),
            params=(("recurse", ""),), dc=dc, namespace=namespace, partition=partition,
            consistency=consistency, watch=watch, missing_ok=True, indexed=True,
            b64="Value", token=token,
        )
        return (data or []), meta

    async def tree(
        self,
        prefix: str = "",
        *,
        codec: Codec = "bytes",
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        consistency: Consistency | str | None = None,
        token: str | None = None,
    ) -> dict[str, Any]:
        """Read the folder ``prefix`` into a nested dict, the prefix stripped (one
        ``GET /v1/kv/<prefix>/?recurse``): ``a/b/c`` under ``"a/"`` gives ``{"b": {"c": value}}``.

        ``prefix`` is a folder: ``"config/web"`` reads ``config/web/``, not ``config/webby``;
        ``""`` reads the whole store. Values are the stored bytes, or decoded by ``codec``:
        ``"text"`` (UTF-8), ``"json"`` (an empty value reads as None), or a callable taking the
        bytes; a value it cannot decode is a ``ValueError`` naming the key. A folder key (ending
        in ``/``: ``consul kv put a/`` and the UI make them) gives an empty dict and its value is
        ignored, as consul-template's ``tree`` and Spring Cloud Consul skip them. A key that is
        both a value and a folder (``a/b`` beside ``a/b/c``; Consul allows it) cannot be nested
        and raises ``ValueError`` naming both keys rather than drop either. An empty folder is
        ``{}``. See :func:`nest` for the same on entries already read.
        """
        _codec(codec)
        folder = _folder(normalize.kv_key(prefix, "prefix", prefix=True))
        entries, _ = await self.items(folder, dc=dc, namespace=namespace, partition=partition,
                                      consistency=consistency, token=token)
        return nest(entries, folder, codec=codec)

    def config(
        self,
        prefix: str,
        *,
        codec: Codec = "bytes",
        wait: float | Duration | tuple[float | Duration, float | Duration] | None = None,
        validate: Callable[[dict[str, Any]], Any] | None = None,
        on_change: Callable[[Any], Any] | None = None,
        on_reject: Callable[[Any], Any] | None = None,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        consistency: str | None = None,
        token: str | None = None,
    ) -> LiveConfig:
        """The folder ``prefix`` as a live nested dict while ``async with`` runs:
        ``async with client.kv.config("config/web/") as cfg:``; one recursive watch keeps it
        current, with quiescence (``wait``) and a validator. See
        :class:`~aioconsul.toolkit.config.LiveConfig`; :meth:`tree` is the one-shot read."""
        from ..toolkit.config import LiveConfig  # loaded with the toolkit, on first use

        return LiveConfig(self, prefix, codec=codec, wait=wait, validate=validate,
                          on_change=on_change, on_reject=on_reject, dc=dc, namespace=namespace,
                          partition=partition, consistency=consistency, token=token)

    async def set(
        self,
        key: str | Object,
        value: Payload,
        *,
        flags: int | None = None,
        cas: ObjectIndex | None = None,
        acquire: ObjectID | None = None,
        release: ObjectID | None = None,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        token: str | None = None,
    ) -> bool:
        """Write ``value`` to ``key`` (``PUT /v1/kv/<key>``); returns whether it was written.

        ``flags`` is an opaque uint64 stored with the entry (a write without it stores 0).
        At most one of: ``cas`` (an index or an entry, whose ModifyIndex is used; 0 writes only if
        the key does not exist), ``acquire`` or ``release`` (a session id or session object).
        Consul stores the body as the value on acquire and release too. Repeated only when the
        connection could not be made: an error after sending leaves the outcome unknown (the CAS
        retry rule, see :meth:`cas`).
        """
        path = _key_path(key)
        data = _value(value)
        params: list[tuple[str, str]] = []
        if flags is not None:
            params.append(("flags", str(normalize.uint64(flags, "flags"))))
        if (cas is not None) + (acquire is not None) + (release is not None) > 1:
            chosen = [name for name, given in (("cas", cas), ("acquire", acquire),
                                               ("release", release)) if given is not None]
            raise ValueError(f"{', '.join(chosen)}: give at most one of cas, acquire and release")
        if cas is not None:
            params.append(("cas", str(normalize.index(cas, "cas", ("ModifyIndex", "Index")))))
        elif acquire is not None:
            params.append(("acquire", normalize.object_id(acquire, "acquire")))
        elif release is not None:
            params.append(("release", normalize.object_id(release, "release")))
        # Never repeated once sent, CAS or not: a write that was applied but answered 500 would
        # meet its own ModifyIndex (or session) the second time and report False. Only a
        # request that could not connect is tried again (the CAS retry rule, see cas()).
        result, _ = await self._core.request(
            "PUT", path, params=params, body=data, content_type=_OCTETS, dc=dc,
            namespace=namespace, partition=partition, token=token, with_meta=False,
        )
        return result is True

    async def cas(
        self,
        key: str | Object,
        value: Payload,
        *,
        index: ObjectIndex,
        flags: int | None = None,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        token: str | None = None,
    ) -> bool:
        """Write only if the key's ModifyIndex is ``index`` (an index, or the entry last read).

        ``index=0`` writes only if the key does not exist yet. Returns whether it was written.

        The CAS retry rule: ``True`` and ``False`` are always Consul's own answer to this one
        write. A CAS is repeated only when the connection could not be made (the request was
        never sent); once sent it is never repeated, since an attempt that was applied but
        answered 500 (a lost leader, a broken RPC) would meet its own new ModifyIndex and
        answer ``False`` although it won. Any error raised after sending (a 429/5xx status, a
        :class:`~aioconsul.RequestTimeout`, a broken connection) means the outcome is unknown:
        read the key back (``ModifyIndex``, ``Value``, ``Flags``, ``Session``) to learn it. The
        same holds for :meth:`set` with ``cas``, ``acquire`` or ``release``
        (:meth:`lock`, :meth:`unlock`) and :meth:`delete_cas`.
        """
        return await self.set(key, value, flags=flags, cas=index, dc=dc, namespace=namespace,
                              partition=partition, token=token)

    async def lock(
        self,
        key: str | Object,
        value: Payload = b"",
        *,
        session: ObjectID,
        flags: int | None = None,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        token: str | None = None,
    ) -> bool:
        """Acquire ``key`` for ``session`` and write ``value`` (``?acquire=``).

        Returns False when another session holds the key or its lock-delay is running.
        """
        return await self.set(key, value, flags=flags, acquire=session, dc=dc,
                              namespace=namespace, partition=partition, token=token)

    async def unlock(
        self,
        key: str | Object,
        value: Payload = b"",
        *,
        session: ObjectID,
        flags: int | None = None,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        token: str | None = None,
    ) -> bool:
        """Release ``key`` held by ``session`` (``?release=``); Consul stores ``value`` too.

        Pass the value (and flags) the key should keep: Consul replaces them with the request's.
        Returns False when ``session`` does not hold the key.
        """
        return await self.set(key, value, flags=flags, release=session, dc=dc,
                              namespace=namespace, partition=partition, token=token)

    async def delete(
        self,
        key: str | Object,
        *,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        token: str | None = None,
    ) -> bool:
        """Delete one key (``DELETE /v1/kv/<key>``); deleting a missing key is also True."""
        result, _ = await self._core.request(
            "DELETE", _key_path(key), dc=dc, namespace=namespace,
            partition=partition, token=token, with_meta=False,
        )
        return result is True

    async def delete_tree(
        self,
        prefix: str | Object,
        *,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        token: str | None = None,
    ) -> bool:
        """Delete every key under ``prefix`` (``?recurse``); ``""`` empties the whole store."""
        result, _ = await self._core.request(
            "DELETE", _path(normalize.kv_key(prefix, "prefix", prefix=True)),
            params=(("recurse", ""),), dc=dc, namespace=namespace, partition=partition,
            token=token, with_meta=False,
        )
        return result is True

    async def delete_cas(
        self,
        key: str | Object,
        *,
        index: ObjectIndex,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        token: str | None = None,
    ) -> bool:
        """Delete ``key`` only if its ModifyIndex is ``index`` (an index or the entry last read).

        Consul never deletes with index 0, so 0 is refused with ``ValueError``. Never repeated
        once sent: an error then leaves the outcome unknown (the CAS retry rule, see
        :meth:`cas`).
        """
        cas = normalize.index(index, "index", ("ModifyIndex", "Index"))
        if cas == 0:
            raise ValueError("index: Consul's delete-cas needs an index above 0")
        result, _ = await self._core.request(
            "DELETE", _key_path(key), params=(("cas", str(cas)),), dc=dc,
            namespace=namespace, partition=partition, token=token,  # never repeated: see cas()
            with_meta=False,
        )
        return result is True

    async def update(
        self,
        key: str | Object,
        fn: Updater,
        *,
        retries: int = DEFAULT_UPDATE_RETRIES,
        flags: int | None = None,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        consistency: Consistency | str | None = None,
        token: str | None = None,
    ) -> Object:
        """Read-modify-write ``key`` with check-and-set: ``fn(current)`` gives the new value.

        ``fn`` takes the current value (bytes, or None while the key does not exist) and returns
        the new one (bytes or bytearray); it may be a coroutine function. The new value is
        written with a check-and-set on the ModifyIndex read (0 for a missing key: created only
        if still missing), in one transaction (``PUT /v1/txn``, ``cas`` then ``get``) whose
        ``get`` returns the new entry as written, so there is no race with a later writer.
        Returns that entry (``Value`` as bytes, its ``ModifyIndex``). ``flags`` sets the entry's
        Flags; without it the current Flags are kept.

        When another writer changed the key in between (the check-and-set is refused), the key
        is read again and ``fn`` called again with the fresh value, up to ``retries`` times;
        then :class:`~aioconsul.errors.CASConflict`. So ``fn`` may run several times and should
        only compute. An exception from ``fn`` propagates and nothing is written. Any other error
        propagates at once and the write is never repeated once sent (the CAS retry rule, see
        :meth:`cas`): after a 5xx or a timeout the update may have been applied; read the key.
        A transaction refused although the key did not change (a permission, say) raises its
        :class:`~aioconsul.TxnFailed`.
        """
        key = normalize.kv_key(key)
        if not callable(fn):
            raise TypeError(f"fn: expected a callable taking the current value, "
                            f"got {type(fn).__name__}")
        if isinstance(retries, bool) or not isinstance(retries, int):
            raise TypeError(f"retries: expected an int, got {type(retries).__name__}")
        if retries < 0:
            raise ValueError(f"retries: must not be negative, got {retries}")
        if flags is not None:
            flags = normalize.uint64(flags, "flags")
        where: dict[str, Any] = {"dc": dc, "namespace": namespace, "partition": partition,
                                 "token": token}
        if consistency is not None:
            normalize.consistency(consistency)

        txn = Txn(self._core)
        refused: TxnFailed | None = None
        stale_index: int | None = None
        attempts = 0
        while True:
            entry, _ = await self.get(key, consistency=consistency, **where)
            index = int(entry["ModifyIndex"]) if entry is not None else 0
            if refused is not None and index == stale_index:
                raise refused  # refused although nobody changed the key: not a conflict
            if attempts > retries:
                assert refused is not None
                raise CASConflict(key=key, attempts=attempts, meta=refused.meta,
                                  operation=refused.operation,
                                  address=refused.address) from refused
            current = bytes(entry["Value"] or b"") if entry is not None else None
            new = fn(current)
            if inspect.isawaitable(new):
                new = await new
            value = _value(new, "fn's result")
            keep = flags if flags is not None else int(entry.get("Flags") or 0) if entry else 0
            ops = Transaction().cas(key, value, index=index, flags=keep).get(key)
            attempts += 1
            try:
                results, _ = await txn.apply(ops, **where)
            except TxnFailed as exc:
                # Refused: most likely another writer won. The next read tells: a key whose
                # index did not move was refused for another reason, raised then.
                refused, stale_index = exc, index
                continue
            written: Object = results[-1]["KV"]
            return written

    def txn(
        self,
        *,
        dc: str | None = None,
        consistency: Consistency | str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        token: str | None = None,
    ) -> Transaction:
        """A new KV transaction (``PUT /v1/txn``), built one validated verb at a time.

        ``async with client.kv.txn() as txn: txn.set(...); txn.check_index(...)`` applies it
        when the block ends; or ``results, meta = await txn.apply()``. See
        :class:`~aioconsul.api.txn.Transaction`.
        """

        return Transaction(Txn(self._core), dc=dc, consistency=consistency,
                           namespace=namespace, partition=partition, token=token)

    async def export(
        self,
        prefix: str = "",
        *,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        consistency: Consistency | str | None = None,
        token: str | None = None,
    ) -> list[dict[str, Any]]:
        """Every entry under ``prefix`` in ``consul kv export``'s JSON shape (one recurse read).

        Each entry is ``{"key": ..., "flags": ..., "value": <base64 of the bytes>}`` in that
        order, with ``namespace`` and ``partition`` after them only when set, as Consul's
        ``command/kv/impexp`` ``Entry`` marshals them (``omitempty``). ``prefix`` is a plain
        prefix, as in ``consul kv export``: ``"a"`` also takes ``"ab"``. ``json.dumps(entries,
        indent="\\t")`` gives what ``consul kv export`` prints, bar Go's escaping of ``<>&``
        (``python -m aioconsul kv export`` prints it exactly).
        """
        entries, _ = await self.items(prefix, dc=dc, namespace=namespace, partition=partition,
                                      consistency=consistency, token=token)
        exported: list[dict[str, Any]] = []
        for entry in entries:
            item: dict[str, Any] = {
                "key": entry["Key"], "flags": int(entry.get("Flags") or 0),
                "value": base64.b64encode(bytes(entry.get("Value") or b"")).decode("ascii")}
            for field in ("Namespace", "Partition"):
                if entry.get(field):
                    item[field.lower()] = entry[field]
            exported.append(item)
        return exported

    async def import_(
        self,
        entries: Iterable[Mapping[str, Any]],
        *,
        batch: int = IMPORT_BATCH,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        token: str | None = None,
    ) -> int:
        """Write entries in ``consul kv export``'s shape (as :meth:`export` returns them).

        Each entry is a mapping with ``key`` (a str), ``value`` (base64 text of the bytes;
        None or ``""`` is empty) and optionally ``flags`` (a uint64, 0 when missing),
        ``namespace`` and ``partition``; other fields are ignored, as ``consul kv import``
        ignores them. Every entry is checked before anything is sent: a bad one is a
        ``TypeError``/``ValueError`` naming it (``entries[3].value: ...``) and nothing is
        written.

        The entries are written in order by ``set`` operations in transactions of at most
        ``batch`` operations (64 by default: the limit of Consul before 1.13, which later
        agents also take; at most :data:`~aioconsul.api.txn.MAX_OPS`) and within Consul's
        transaction body limit (``txn_max_req_len``, 512 KiB); an entry too large to fit a
        transaction alone is written by a plain ``PUT``. Each transaction is atomic, the import
        as a whole is not: after an error, the entries of the transactions before it are
        written. Returns the number of entries written. ``namespace``/``partition`` apply to
        entries that name none.
        """

        if isinstance(batch, bool) or not isinstance(batch, int):
            raise TypeError(f"batch: expected an int, got {type(batch).__name__}")
        if not 1 <= batch <= MAX_OPS:
            raise ValueError(f"batch: expected 1 to {MAX_OPS} operations, got {batch}")
        ops = _import_ops(entries)
        where: dict[str, Any] = {"dc": dc, "namespace": namespace, "partition": partition,
                                 "token": token}
        txn = Txn(self._core)
        pending: list[dict[str, Any]] = []
        size = 0

        async def flush() -> None:
            nonlocal pending, size
            if pending:
                await txn.apply(pending, **where)
            pending, size = [], 0

        for op in ops:
            body = op["KV"]
            cost = _op_size(body)
            if cost > _TXN_BODY_BUDGET:  # alone over the body limit: a plain PUT takes it
                await flush()
                await self.set(body["Key"], body["Value"], flags=body["Flags"], dc=dc,
                               namespace=body.get("Namespace", namespace),
                               partition=body.get("Partition", partition), token=token)
                continue
            if len(pending) >= batch or size + cost > _TXN_BODY_BUDGET:
                await flush()
            pending.append(op)
            size += cost
        await flush()
        return len(ops)
