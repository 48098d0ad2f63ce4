"""The KV store: ``/v1/kv/<key>`` read, written, locked and deleted.

Values are bytes in and bytes out; base64 never reaches the caller. Keys are validated by
:func:`~aioconsul._core.normalize.kv_key` and percent-encoded, so no key can address anything
outside ``/v1/kv/``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, overload

from .._core import normalize
from .._core.core import Endpoint
from .._core.request import quote_key
from ..errors import ConsulError
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

if TYPE_CHECKING:
    from .txn import Transaction

__all__ = ["KV", "MAX_VALUE_SIZE"]

#: Consul's default ``kv_max_value_size``: 512 KiB.
MAX_VALUE_SIZE = _limits.MAX_VALUE_SIZE
_OCTETS = "application/octet-stream"


def _path(key: str) -> str:
    return "/v1/kv/" + quote_key(key)


def _value(value: Any, name: str = "value") -> bytes:
    data = normalize.payload(value, name)
    if len(data) > MAX_VALUE_SIZE:
        raise ValueError(f"{name}: {len(data)} bytes is over Consul's limit of {MAX_VALUE_SIZE} "
                         f"bytes (kv_max_value_size)")
    return data


class KV(Endpoint):
    """``client.kv``: Consul's key/value store.

    Every read returns ``(data, meta)`` and takes ``dc``, ``namespace``, ``partition``,
    ``consistency`` and ``watch`` (a :data:`~aioconsul.typing.Blocking`: the index to wait past,
    optionally with a wait). Every write returns the agent's bool.
    """

    __slots__ = ()

    async def get(
        self,
        key: str | Object,
        *,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        consistency: Consistency | str | None = None,
        watch: Blocking | None = None,
    ) -> tuple[Object | None, Meta]:
        """Read one entry (``GET /v1/kv/<key>``).

        Returns ``(entry, meta)`` with ``entry["Value"]`` as bytes, or ``(None, meta)`` when the key
        does not exist: Consul answers 404 with an index, so ``watch=meta`` waits for its creation.
        A 404 without that index is not Consul's: it raises :class:`~aioconsul.NotConsul` (the
        address does not look like a Consul agent), as every KV read does.
        """
        data, meta = await self._core.request(
            "GET", _path(normalize.kv_key(key)), dc=dc, namespace=namespace,
            partition=partition, consistency=consistency, watch=watch, missing_ok=True,
            indexed=True, b64="Value",
        )
        return (data[0] if data else None), meta

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
    ) -> Watch[tuple[Object | None, Meta] | ConsulError]:
        """Watch one key: ``async for entry, meta in client.kv.watch("config/app"):``.

        Yields the current entry at once (``None`` while the key does not exist), then each
        new value as it changes. See :class:`~aioconsul.watch.Watch` for the loop's rules.
        """
        normalize.kv_key(key)
        # Only the options given: the read's defaults are None, and each wake-up passes them.
        options: dict[str, Any] = {name: value for name, value in (
            ("dc", dc), ("namespace", namespace), ("partition", partition),
            ("consistency", consistency)) if value is not None}
        return Watch(self.get, key, wait=wait, errors=errors, backoff=backoff, **options)

    async def raw(
        self,
        key: str | Object,
        *,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        consistency: Consistency | str | None = None,
        watch: Blocking | None = None,
    ) -> tuple[bytes | None, Meta]:
        """Read only the value's bytes (``GET /v1/kv/<key>?raw``); ``(None, meta)`` if missing."""
        data, meta = await self._core.request(
            "GET", _path(normalize.kv_key(key)), params=(("raw", ""),), dc=dc,
            namespace=namespace, partition=partition, consistency=consistency, watch=watch,
            missing_ok=True, indexed=True, raw=True,
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
            missing_ok=True, indexed=True,
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
    ) -> tuple[Collection, Meta]:
        """Read every entry under ``prefix`` (``GET /v1/kv/<prefix>?recurse``); ``[]`` if none.

        The index is the highest ModifyIndex under the prefix, so it can go backwards when the
        newest key is deleted and later reaped: watch loops must reset it then.
        """
        data, meta = await self._core.request(
            "GET", _path(normalize.kv_key(prefix, "prefix", prefix=True)),
            params=(("recurse", ""),), dc=dc, namespace=namespace, partition=partition,
            consistency=consistency, watch=watch, missing_ok=True, indexed=True,
            b64="Value",
        )
        return (data or []), meta

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
    ) -> bool:
        """Write ``value`` to ``key`` (``PUT /v1/kv/<key>``); returns whether it was written.

        ``flags`` is an opaque uint64 stored with the entry (a write without it stores 0).
        At most one of: ``cas`` (an index or an entry, whose ModifyIndex is used; 0 writes only if
        the key does not exist), ``acquire`` or ``release`` (a session id or session object).
        Consul stores the body as the value on acquire and release too. Repeated only when the
        connection could not be made: an error after sending leaves the outcome unknown (the CAS
        retry rule, see :meth:`cas`).
        """
        key = normalize.kv_key(key)
        data = _value(value)
        params: list[tuple[str, str]] = []
        if flags is not None:
            params.append(("flags", str(normalize.uint64(flags, "flags"))))
        chosen = [name for name, given in (("cas", cas), ("acquire", acquire),
                                           ("release", release)) if given is not None]
        if len(chosen) > 1:
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
            "PUT", _path(key), params=params, body=data, content_type=_OCTETS, dc=dc,
            namespace=namespace, partition=partition,
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
                              partition=partition)

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
    ) -> bool:
        """Acquire ``key`` for ``session`` and write ``value`` (``?acquire=``).

        Returns False when another session holds the key or its lock-delay is running.
        """
        return await self.set(key, value, flags=flags, acquire=session, dc=dc,
                              namespace=namespace, partition=partition)

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
    ) -> bool:
        """Release ``key`` held by ``session`` (``?release=``); Consul stores ``value`` too.

        Pass the value (and flags) the key should keep: Consul replaces them with the request's.
        Returns False when ``session`` does not hold the key.
        """
        return await self.set(key, value, flags=flags, release=session, dc=dc,
                              namespace=namespace, partition=partition)

    async def delete(
        self,
        key: str | Object,
        *,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
    ) -> bool:
        """Delete one key (``DELETE /v1/kv/<key>``); deleting a missing key is also True."""
        result, _ = await self._core.request(
            "DELETE", _path(normalize.kv_key(key)), dc=dc, namespace=namespace,
            partition=partition,
        )
        return result is True

    async def delete_tree(
        self,
        prefix: str | Object,
        *,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
    ) -> bool:
        """Delete every key under ``prefix`` (``?recurse``); ``""`` empties the whole store."""
        result, _ = await self._core.request(
            "DELETE", _path(normalize.kv_key(prefix, "prefix", prefix=True)),
            params=(("recurse", ""),), dc=dc, namespace=namespace, partition=partition,
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
            "DELETE", _path(normalize.kv_key(key)), params=(("cas", str(cas)),), dc=dc,
            namespace=namespace, partition=partition,  # never repeated once sent: see cas()
        )
        return result is True

    def txn(
        self,
        *,
        dc: str | None = None,
        consistency: Consistency | str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
    ) -> Transaction:
        """A new KV transaction (``PUT /v1/txn``), built one validated verb at a time.

        ``async with client.kv.txn() as txn: txn.set(...); txn.check_index(...)`` applies it
        when the block ends; or ``results, meta = await txn.apply()``. See
        :class:`~aioconsul.api.txn.Transaction`.
        """
        from .txn import Transaction, Txn  # txn.py builds on this module

        return Transaction(Txn(self._core), dc=dc, consistency=consistency,
                           namespace=namespace, partition=partition)
