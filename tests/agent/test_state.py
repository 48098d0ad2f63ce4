"""The state store alone, with a fake clock: tombstone reaping and lock-delay expiry."""

from __future__ import annotations

from aioconsul.testing.state.kvs import KV_TABLE, kv_key_channel
from aioconsul.testing.state.store import Store


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_tombstones_are_reaped_after_fifteen_minutes() -> None:
    """The leader reaps tombstones after tombstone_ttl; the list index then slides back."""
    clock = Clock()
    store = Store(node_name="n", clock=clock)
    store.kv_set("p/a", b"1", 0)
    kept_index = store.kv_get("p/a")[0]
    store.kv_set("p/b", b"2", 0)
    store.kv_delete("p/b")
    deleted_index = store.kv_list("p/")[0]
    assert deleted_index > kept_index
    clock.now += 14 * 60
    assert store.kv_list("p/")[0] == deleted_index
    clock.now += 2 * 60
    assert store.kv_list("p/")[0] == kept_index


def test_lock_delay_ends_on_the_clock() -> None:
    clock = Clock()
    store = Store(node_name="n", clock=clock)
    session = store.session_create(
        name="",
        node="n",
        lock_delay=2_000_000_000,
        behavior="release",
        ttl="",
        node_checks=["serfHealth"],
        service_checks=None,
        checks=None,
    )
    assert store.kv_lock("k", b"", 0, session.id)
    store.session_destroy(session.id)
    assert store.kv_lock_delay_active("k")
    clock.now += 2.5
    assert not store.kv_lock_delay_active("k")


def test_writes_report_the_table_and_key_channels() -> None:
    seen: list[frozenset[object]] = []
    store = Store(node_name="n", on_change=seen.append)
    store.kv_set("k", b"v", 0)
    store.kv_set("k", b"v", 0)  # unchanged: nothing to report
    store.kv_delete("missing")
    assert seen == [frozenset({KV_TABLE, kv_key_channel("k")})]
