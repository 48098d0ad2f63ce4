"""Which watches share one blocking read: the share key, and each client's table of shared reads.

Two watches of one client share their read when they would send the same requests: the same
endpoint method, with the same arguments (the ACL token, consistency, dc, namespace and
partition among them) and the same watch options that shape the requests (``wait``,
``backoff``, ``min_interval``). What only changes what a watch does with an outcome
(``errors=``) is each watch's own. A read that is not a method of a client's endpoint group
(a function of the application's own) is never shared: nothing says which client it uses.

A key compares tokens by value (``hmac.compare_digest``) and never shows them: its ``repr`` is
``<share key>``, a token inside it is ``<token>``. The table holds the reads, it never starts a
task and does no I/O; the watch module runs them (see :mod:`aioconsul.watch`).
"""

from __future__ import annotations

import contextlib
import hmac
import weakref
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

__all__ = ["Key", "Secret", "Shares", "close_table", "key_of", "shares_of"]

R = TypeVar("R")


class Secret:
    """A token inside a share key: equal to another by value, never shown."""

    __slots__ = ("_hash", "_value")

    def __init__(self, value: str) -> None:
        self._value = value.encode()
        self._hash = hash(("aioconsul.token", self._value))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and hmac.compare_digest(self._value, other._value)

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        return "<token>"


class Key:
    """What identifies a shared read: compared and hashed by its parts, shown as nothing."""

    __slots__ = ("_hash", "_parts")

    def __init__(self, parts: tuple[Any, ...]) -> None:
        self._parts = parts
        self._hash = hash(parts)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Key) and self._hash == other._hash \
            and self._parts == other._parts

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        return "<share key>"


def _freeze(value: Any) -> Any:
    """``value`` as a hashable part of a key, its type kept (``1`` is not ``True``, a list of
    tags is not a string); TypeError for what cannot be hashed."""
    if type(value) is str:  # the common case first: a key, a service name
        return value
    if isinstance(value, Mapping):
        items = [(_freeze(k), _freeze(v)) for k, v in value.items()]
        with contextlib.suppress(TypeError):  # keys of mixed types: their order, then
            items.sort()
        return (dict, tuple(items))
    if isinstance(value, (list, tuple)):
        return (type(value), tuple(_freeze(item) for item in value))
    if isinstance(value, (set, frozenset)):
        return (frozenset, frozenset(_freeze(item) for item in value))
    hash(value)  # TypeError when it cannot be a key
    return (type(value), value)


def key_of(read: Callable[..., Any], args: tuple[Any, ...], kwargs: Mapping[str, Any],
           options: tuple[Any, ...]) -> Key | None:
    """The share key of a watch of ``read(*args, **kwargs)`` with ``options`` (the watch's
    own, already hashable); None when the watch cannot be shared (``read`` is not an endpoint
    method, or an argument cannot be compared)."""
    function = getattr(read, "__func__", None)
    owner = getattr(read, "__self__", None)
    if function is None or owner is None:
        return None
    try:
        frozen = tuple((name, Secret(value) if name == "token" and isinstance(value, str)
                        else _freeze(value)) for name, value in sorted(kwargs.items()))
        return Key((function, owner, tuple(_freeze(arg) for arg in args), frozen, options))
    except TypeError:  # an argument (or option) that cannot be hashed: not shared
        return None


class Shares(Generic[R]):
    """The reads of one client's watches: the shared ones by key, the others (``shared=False``,
    or not shareable) too, so that closing the client ends every one of them."""

    __slots__ = ("__weakref__", "_by_key", "_others", "closed")

    def __init__(self) -> None:
        self._by_key: dict[Key, R] = {}
        self._others: set[R] = set()
        self.closed = False

    def get(self, key: Key) -> R | None:
        return self._by_key.get(key)

    def add(self, key: Key | None, read: R) -> None:
        if key is None:
            self._others.add(read)
        else:
            self._by_key[key] = read

    def discard(self, key: Key | None, read: R) -> None:
        if key is None:
            self._others.discard(read)
        elif self._by_key.get(key) is read:
            del self._by_key[key]

    def take_all(self) -> list[R]:
        """Every read, removed from the table, which is closed for good."""
        self.closed = True
        reads = [*self._by_key.values(), *self._others]
        self._by_key.clear()
        self._others.clear()
        return reads

    def __len__(self) -> int:
        return len(self._by_key) + len(self._others)

    def __repr__(self) -> str:
        return f"<Shares of {len(self._by_key)} shared and {len(self._others)} other reads>"


#: The table of each client, by its transport (one per client, and what ``close()`` closes).
_TABLES: weakref.WeakKeyDictionary[Any, Shares[Any]] = weakref.WeakKeyDictionary()


def shares_of(read: Callable[..., Any]) -> Shares[Any] | None:
    """The table of the client whose endpoint method ``read`` is (made on first use); None for
    a read of no client, or of a closed one."""
    transport = getattr(getattr(getattr(read, "__self__", None), "_core", None), "transport", None)
    if transport is None or getattr(transport, "closed", False):
        return None
    try:
        table = _TABLES.get(transport)
        if table is None:
            table = _TABLES[transport] = Shares()
    except TypeError:  # a transport that cannot be weakly referenced: no table
        return None
    return None if table.closed else table


def close_table(transport: Any) -> list[Any]:
    """Close the table of ``transport`` (its client is closing) for good; return its reads."""
    try:
        table = _TABLES.get(transport)
        if table is None:
            table = _TABLES[transport] = Shares()
    except TypeError:
        return []
    return table.take_all()
