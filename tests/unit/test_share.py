"""The share key of watches (aioconsul._share): which reads are the same, and that no key shows
a token. Pure: no client, no I/O."""

from __future__ import annotations

import datetime
from typing import Any

from aioconsul._share import Key, Secret, Shares, key_of
from aioconsul.watch import Backoff


class Group:
    """Stands for an endpoint group: reads are its bound methods."""

    async def get(self, key: Any, *, watch: Any = None, token: str | None = None,
                  tags: Any = None, flag: Any = None) -> None:
        return None

    async def other(self, key: Any, *, watch: Any = None) -> None:
        return None


OPTIONS = (datetime.timedelta(minutes=5), Backoff(), 0.05)


def key(read: Any, *args: Any, options: tuple[Any, ...] = OPTIONS, **kwargs: Any) -> Key | None:
    return key_of(read, args, kwargs, options)


def test_the_same_read_with_the_same_arguments_has_the_same_key() -> None:
    group = Group()
    one = key(group.get, "k", token="t", tags=["a", "b"])
    assert one is not None
    assert one == key(group.get, "k", tags=["a", "b"], token="t")
    assert hash(one) == hash(key(group.get, "k", tags=["a", "b"], token="t"))


def test_anything_that_changes_the_request_changes_the_key() -> None:
    group, another = Group(), Group()
    base = key(group.get, "k", token="t")
    assert base != key(group.other, "k", token="t")  # another method
    assert base != key(another.get, "k", token="t")  # another client's group
    assert base != key(group.get, "j", token="t")
    assert base != key(group.get, "k", token="u")
    assert base != key(group.get, "k")
    assert base != key(group.get, "k", token="t", options=(None, Backoff(), 0.05))
    assert base != key(group.get, "k", token="t",
                       options=(OPTIONS[0], Backoff(initial=1.0), 0.05))
    # A value's type is kept: True is not 1, a tuple of tags is not a list.
    assert key(group.get, "k", flag=True) != key(group.get, "k", flag=1)
    assert key(group.get, "k", tags=("a",)) != key(group.get, "k", tags=["a"])


def test_mappings_compare_by_content_whatever_their_order() -> None:
    group = Group()
    assert key(group.get, {"Key": "k", "Flags": 0}) == key(group.get, {"Flags": 0, "Key": "k"})


def test_what_cannot_be_compared_is_not_shared() -> None:
    group = Group()

    async def read(*, watch: Any = None) -> None:
        return None

    assert key(read) is None  # not an endpoint method: no client to share in
    assert key(group.get, object.__new__(type("Unhashable", (), {"__hash__": None}))) is None
    assert key(group.get, "k", options=(OPTIONS[0], [1], 0.05)) is None


def test_no_key_shows_its_token() -> None:
    group = Group()
    secret = "0f0e2f6c-the-secret"
    shared = key(group.get, "k", token=secret)
    assert shared is not None
    assert repr(shared) == "<share key>"
    assert secret not in repr(shared._parts) and "<token>" in repr(shared._parts)
    assert Secret(secret) == Secret("0f0e2f6c-the-" + "secret") and Secret(secret) != secret
    table: Shares[str] = Shares()
    table.add(shared, "read")
    assert secret not in repr(table) and table.get(shared) == "read" and len(table) == 1


def test_the_table_forgets_a_read_only_under_its_own_key() -> None:
    group = Group()
    table: Shares[str] = Shares()
    one = key(group.get, "k")
    assert one is not None
    table.add(one, "first")
    table.discard(one, "second")  # another read that once had the key: not this one
    assert table.get(one) == "first"
    table.add(None, "alone")
    assert sorted(table.take_all()) == ["alone", "first"] and table.closed and len(table) == 0
