"""``client.kv`` against an agent over HTTP.

Expected behaviour is Consul's, from website/content/api-docs/kv.mdx and agent/kvs_endpoint.go
(see ../shared/consul-api/semantics.md §9), not from what the dev agent happens to do.
"""

from __future__ import annotations

import asyncio
import base64
import re
from typing import Any

import pytest
from aiohttp import web
from fakeserver import FakeServer

import aioconsul
from aioconsul import Consul
from aioconsul.api.kv import MAX_VALUE_SIZE
from aioconsul.errors import CASConflict, TxnOpError


async def test_seed_example(consul: Consul) -> None:
    client = consul
    PAYLOAD = b"bar"
    await client.kv.set("foo", PAYLOAD)
    response, _ = await client.kv.get("foo")
    assert response["Value"] == PAYLOAD


async def test_entry_has_consul_fields(consul: Consul) -> None:
    await consul.kv.set("fields", b"x", flags=42)
    entry, meta = await consul.kv.get("fields")
    assert entry is not None
    assert entry["Key"] == "fields" and entry["Flags"] == 42 and entry["LockIndex"] == 0
    assert entry["CreateIndex"] == entry["ModifyIndex"] == meta["Index"] > 0
    assert meta["KnownLeader"] is True and meta["LastContact"] == 0


async def test_missing_key_is_none_with_a_usable_index(consul: Consul) -> None:
    """A KV read of a missing key is a 404 with X-Consul-Index (kv.mdx), not an error."""
    entry, meta = await consul.kv.get("missing")
    assert entry is None
    assert meta["Index"] >= 1


async def test_blocking_get_on_a_missing_key_wakes_on_creation(consul: Consul) -> None:
    """A 404's index can be blocked on to wait for the key to appear (blockingquery loop)."""
    _, meta = await consul.kv.get("later")
    waiter = asyncio.create_task(consul.kv.get("later", watch=(meta, "10s")))
    await asyncio.sleep(0.05)
    assert not waiter.done()
    await consul.kv.set("later", b"here")
    entry, new_meta = await asyncio.wait_for(waiter, 5)
    assert entry is not None and entry["Value"] == b"here"
    assert new_meta["Index"] > meta["Index"]


async def test_blocking_get_wakes_on_a_write_to_the_key(consul: Consul) -> None:
    await consul.kv.set("watched", b"1")
    _, meta = await consul.kv.get("watched")
    waiter = asyncio.create_task(consul.kv.get("watched", watch=(meta, "10s")))
    await asyncio.sleep(0.05)
    await consul.kv.set("watched", b"2")
    entry, _ = await asyncio.wait_for(waiter, 5)
    assert entry is not None and entry["Value"] == b"2"


async def test_blocking_get_returns_unchanged_after_its_wait(consul: Consul) -> None:
    """On timeout Consul answers 200 with the unchanged result and index (features/blocking)."""
    await consul.kv.set("quiet", b"1")
    entry, meta = await consul.kv.get("quiet")
    again, same = await consul.kv.get("quiet", watch=(meta, "100ms"))
    assert again == entry and same["Index"] == meta["Index"]


async def test_values_are_bytes_in_and_bytes_out(consul: Consul) -> None:
    binary = bytes(range(256)) * 4
    await consul.kv.set("bin", binary)
    await consul.kv.set("ba", bytearray(b"array"))
    await consul.kv.set("empty", b"")
    assert (await consul.kv.get("bin"))[0]["Value"] == binary  # type: ignore[index]
    assert (await consul.kv.get("ba"))[0]["Value"] == b"array"  # type: ignore[index]
    assert (await consul.kv.get("empty"))[0]["Value"] == b""  # type: ignore[index]


@pytest.mark.parametrize("value", ["text", 3, None, memoryview(b"x")])
async def test_non_bytes_value_is_refused_before_sending(unreachable: str, value: object) -> None:
    async with Consul(unreachable) as client:
        with pytest.raises(TypeError, match="^value: expected bytes or bytearray"):
            await client.kv.set("k", value)  # type: ignore[arg-type]


async def test_value_over_512_kib_is_refused_before_sending(unreachable: str) -> None:
    async with Consul(unreachable) as client:
        with pytest.raises(ValueError, match="^value: 524289 bytes is over Consul's limit"):
            await client.kv.set("big", b"x" * (MAX_VALUE_SIZE + 1))


async def test_value_of_exactly_512_kib_is_stored(consul: Consul) -> None:
    value = b"y" * MAX_VALUE_SIZE
    assert await consul.kv.set("big", value) is True
    assert (await consul.kv.raw("big"))[0] == value


async def test_flags_are_preserved_over_the_whole_uint64_range(consul: Consul) -> None:
    await consul.kv.set("flags", b"", flags=2**64 - 1)
    assert (await consul.kv.get("flags"))[0]["Flags"] == 2**64 - 1  # type: ignore[index]


@pytest.mark.parametrize("flags, error", [(-1, ValueError), (2**64, ValueError),
                                          ("7", None), (1.0, TypeError)])
async def test_flags_are_checked(unreachable: str, flags: object,
                                 error: type[Exception] | None) -> None:
    async with Consul(unreachable) as client:
        # "7" is a valid uint64: the call gets as far as the (unreachable) network.
        with pytest.raises(error or aioconsul.TransportError,
                           match="^flags: " if error else "Cannot connect"):
            await client.kv.set("k", b"", flags=flags)  # type: ignore[arg-type]


AWKWARD = ["with space", "question?mark", "hash#tag", "per%cent", "plus+and&amp=eq",
           "ünïcödé/ключ/键", "emoji/\U0001f600", "dir/", "semi;colon", "tilde~quote'\"",
           "a.b/c..d/...", "back\\slash", "%2e%2e", "%2F"]


@pytest.mark.parametrize("key", AWKWARD)
async def test_every_storable_key_round_trips(consul: Consul, key: str) -> None:
    assert await consul.kv.set(key, key.encode()) is True
    entry, _ = await consul.kv.get(key)
    assert entry is not None and entry["Key"] == key and entry["Value"] == key.encode()
    keys, _ = await consul.kv.keys()
    assert keys == [key]
    assert await consul.kv.delete(key) is True
    assert (await consul.kv.get(key))[0] is None


@pytest.mark.parametrize("key", ["", "/leading", "double//slash", "a/./b", "a/../b", "..",
                                 "new\nline", "nul\x00", "tab\t"])
async def test_unaddressable_keys_are_refused_before_sending(unreachable: str, key: str) -> None:
    async with Consul(unreachable) as client:
        for call in (client.kv.get(key), client.kv.set(key, b"v"), client.kv.delete(key)):
            with pytest.raises(ValueError, match="^key: "):
                await call


async def test_raw_returns_the_value_bytes(consul: Consul) -> None:
    await consul.kv.set("raw", b"\x00raw\xff")
    value, meta = await consul.kv.raw("raw")
    assert value == b"\x00raw\xff" and meta["Index"] > 0
    assert (await consul.kv.raw("no-such"))[0] is None


async def test_keys_lists_under_a_prefix(consul: Consul) -> None:
    for key in ("web/bar", "web/foo", "web/subdir/x", "web/subdir/y", "other"):
        await consul.kv.set(key, b"")
    assert (await consul.kv.keys("web/"))[0] == ["web/bar", "web/foo", "web/subdir/x",
                                                 "web/subdir/y"]
    assert (await consul.kv.keys("web/", separator="/"))[0] == ["web/bar", "web/foo",
                                                                "web/subdir/"]
    assert (await consul.kv.keys())[0][-1] == "web/subdir/y"


async def test_keys_of_an_empty_prefix_is_an_empty_list(consul: Consul) -> None:
    keys, meta = await consul.kv.keys("nothing/")
    assert keys == [] and meta["Index"] >= 1
    assert (await consul.kv.keys())[0] == []


async def test_items_reads_the_tree(consul: Consul) -> None:
    await consul.kv.set("app/a", b"1", flags=1)
    await consul.kv.set("app/b/c", b"2")
    await consul.kv.set("apple", b"3")
    items, meta = await consul.kv.items("app/")
    assert [(e["Key"], e["Value"], e["Flags"]) for e in items] == [("app/a", b"1", 1),
                                                                   ("app/b/c", b"2", 0)]
    assert meta["Index"] == max(e["ModifyIndex"] for e in items)
    assert [e["Key"] for e in (await consul.kv.items())[0]] == ["app/a", "app/b/c", "apple"]
    assert (await consul.kv.items("none/"))[0] == []


async def test_blocking_items_wakes_on_a_write_under_the_prefix(consul: Consul) -> None:
    await consul.kv.set("cfg/a", b"1")
    _, meta = await consul.kv.items("cfg/")
    waiter = asyncio.create_task(consul.kv.items("cfg/", watch=(meta, "10s")))
    await asyncio.sleep(0.05)
    await consul.kv.set("cfg/b", b"2")
    items, new_meta = await asyncio.wait_for(waiter, 5)
    assert [e["Key"] for e in items] == ["cfg/a", "cfg/b"]
    assert new_meta["Index"] > meta["Index"]


async def test_cas_zero_creates_only(consul: Consul) -> None:
    assert await consul.kv.cas("once", b"1", index=0) is True
    assert await consul.kv.cas("once", b"2", index=0) is False
    assert (await consul.kv.get("once"))[0]["Value"] == b"1"  # type: ignore[index]


async def test_cas_with_the_entry_last_read(consul: Consul) -> None:
    await consul.kv.set("counter", b"1")
    entry, meta = await consul.kv.get("counter")
    assert entry is not None
    assert await consul.kv.cas("counter", b"2", index=entry) is True
    assert await consul.kv.cas("counter", b"3", index=entry) is False  # stale now
    _, fresh_meta = await consul.kv.get("counter")
    assert await consul.kv.cas("counter", b"3", index=fresh_meta) is True
    assert await consul.kv.cas("counter", b"4", index={"Index": str(meta["Index"])}) is False
    assert (await consul.kv.get("counter"))[0]["Value"] == b"3"  # type: ignore[index]


async def test_cas_acquire_release_are_exclusive(unreachable: str) -> None:
    async with Consul(unreachable) as client:
        with pytest.raises(ValueError, match="^cas, acquire: give at most one"):
            await client.kv.set("k", b"", cas=1, acquire="s")


async def test_lock_and_unlock_with_a_session(consul: Consul, session: str) -> None:
    """acquire bumps LockIndex and sets Session; release clears Session (kv.mdx)."""
    assert await consul.kv.lock("leader", b"me", session=session) is True
    entry, _ = await consul.kv.get("leader")
    assert entry is not None
    assert entry["Session"] == session and entry["LockIndex"] == 1 and entry["Value"] == b"me"
    assert await consul.kv.unlock("leader", b"me", session={"ID": session}) is True
    entry, _ = await consul.kv.get("leader")
    assert entry is not None
    assert not entry.get("Session") and entry["LockIndex"] == 1 and entry["Value"] == b"me"


async def test_lock_held_by_another_session_is_refused(consul: Consul, session: str) -> None:
    other = await consul.session.create("other", lock_delay="0s")
    try:
        assert await consul.kv.lock("mutex", session=session) is True
        assert await consul.kv.lock("mutex", session=other) is False
        assert await consul.kv.unlock("mutex", session=other) is False
        entry, _ = await consul.kv.get("mutex")
        assert entry is not None and entry["Session"] == session
    finally:
        await consul.session.destroy(other)


async def test_destroying_the_session_releases_its_lock(consul: Consul) -> None:
    """Behavior "release" (the default): invalidation clears Session on held keys (session.mdx)."""
    created = await consul.session.create(lock_delay="0s")
    assert await consul.kv.lock("held", b"v", session=created) is True
    assert await consul.session.destroy(created) is True
    entry, _ = await consul.kv.get("held")
    assert entry is not None and not entry.get("Session") and entry["Value"] == b"v"


async def test_lock_with_an_unknown_session_fails(consul: Consul) -> None:
    with pytest.raises(aioconsul.ServerError, match="invalid session"):
        await consul.kv.lock("k", session="8d5d4f3e-0000-0000-0000-000000000000")


async def test_delete_and_delete_tree(consul: Consul) -> None:
    for key in ("t/a", "t/b/c", "tx"):
        await consul.kv.set(key, b"")
    assert await consul.kv.delete("missing") is True
    assert await consul.kv.delete("tx") is True
    assert await consul.kv.delete_tree("t/") is True
    assert (await consul.kv.keys())[0] == []


async def test_delete_cas(consul: Consul) -> None:
    await consul.kv.set("dc", b"1")
    entry, _ = await consul.kv.get("dc")
    assert entry is not None
    assert await consul.kv.delete_cas("dc", index=entry["ModifyIndex"] + 100) is False
    assert await consul.kv.delete_cas("dc", index=entry) is True
    assert (await consul.kv.get("dc"))[0] is None


async def test_delete_cas_refuses_index_zero(unreachable: str) -> None:
    async with Consul(unreachable) as client:
        with pytest.raises(ValueError, match="^index: "):
            await client.kv.delete_cas("k", index=0)


@pytest.mark.parametrize("mode", ["stale", "consistent", aioconsul.Consistency.DEFAULT])
async def test_reads_take_every_consistency_mode(consul: Consul, mode: object) -> None:
    await consul.kv.set("c", b"1")
    entry, _ = await consul.kv.get("c", consistency=mode)  # type: ignore[arg-type]
    assert entry is not None and entry["Value"] == b"1"
    assert (await consul.kv.items("c", consistency=mode))[0][0]["Key"] == "c"  # type: ignore[arg-type]


async def test_dc_of_the_agent_is_accepted(consul: Consul) -> None:
    await consul.kv.set("d", b"1", dc="dc1")
    assert (await consul.kv.get("d", dc="dc1"))[0] is not None


async def test_namespace_on_community_edition_is_a_bad_request(consul: Consul) -> None:
    """CE refuses any ns parameter with 400 (agent/http_ce.go parseEntMeta)."""
    with pytest.raises(aioconsul.BadRequest, match="Namespaces are a Consul Enterprise feature"):
        await consul.kv.get("x", namespace="team-a")


# -- an address that is not a Consul agent -------------------------------------------------------

@pytest.mark.parametrize("read", ["get", "raw", "keys", "items"])
async def test_a_server_that_is_not_consul_never_reads_as_an_empty_store(
        web_server: str, read: str) -> None:
    """Consul's KV reads send X-Consul-Index with their 404 (agent/kvs_endpoint.go KVSGet and
    KVSGetKeys call setMeta before WriteHeader(404)): a 404 without it is another server, and a
    wrong port must not read as "no config"."""
    async with Consul(web_server) as client:
        with pytest.raises(aioconsul.NotConsul, match="does not look like a Consul agent") as info:
            await getattr(client.kv, read)("config/app")
    assert isinstance(info.value, aioconsul.ProtocolError) and info.value.status == 404
    assert "404 Not Found nginx/1.25.3" in str(info.value)  # the page's text, not its markup
    assert "<" not in str(info.value)


async def test_an_html_error_page_is_cut_to_its_text(web_server: str) -> None:
    async with Consul(web_server) as client:
        with pytest.raises(aioconsul.NotFound) as info:
            await client.kv.set("config/app", b"x")
    assert info.value.message == "HTML page: 404 Not Found nginx/1.25.3"


async def test_a_missing_key_on_consul_is_still_none(consul: Consul) -> None:
    """The rule only refuses a 404 without X-Consul-Index; Consul's own 404 is "no value"."""
    assert (await consul.kv.get("config/missing"))[0] is None
    assert (await consul.kv.raw("config/missing"))[0] is None
    assert (await consul.kv.keys("config/missing/"))[0] == []
    assert (await consul.kv.items("config/missing/"))[0] == []


# -- update: read-modify-write with check-and-set -------------------------------------------------


def _increment(value: bytes | None) -> bytes:
    return b"1" if value is None else str(int(value) + 1).encode()


async def test_update_creates_a_missing_key_with_cas_zero(consul: Consul) -> None:
    seen: list[bytes | None] = []

    def fn(value: bytes | None) -> bytes:
        seen.append(value)
        return b"first"

    entry = await consul.kv.update("counter", fn)
    assert seen == [None]
    assert entry["Key"] == "counter" and entry["Value"] == b"first"
    assert entry["CreateIndex"] == entry["ModifyIndex"]


async def test_update_returns_the_entry_it_wrote(consul: Consul) -> None:
    """Consul's PUT answers only true; the cas and a get in one transaction give the new entry
    as written (agent/txn_endpoint.go), so its ModifyIndex is the write's own."""
    await consul.kv.set("counter", b"41", flags=7)
    entry = await consul.kv.update("counter", _increment)
    stored, _ = await consul.kv.get("counter")
    assert stored is not None
    assert entry["Value"] == stored["Value"] == b"42"
    assert entry["ModifyIndex"] == stored["ModifyIndex"]
    assert entry["Flags"] == stored["Flags"] == 7  # kept without flags=


async def test_update_sets_flags_when_given(consul: Consul) -> None:
    await consul.kv.set("counter", b"1", flags=7)
    entry = await consul.kv.update("counter", _increment, flags=9)
    assert (entry["Value"], entry["Flags"]) == (b"2", 9)


async def test_update_takes_a_coroutine_function(consul: Consul) -> None:
    async def fn(value: bytes | None) -> bytes:
        await asyncio.sleep(0)
        return (value or b"") + b"!"

    await consul.kv.set("greeting", b"hi")
    assert (await consul.kv.update("greeting", fn))["Value"] == b"hi!"


async def test_update_under_ten_concurrent_writers_loses_no_increment(consul: Consul) -> None:
    calls = 0

    async def fn(value: bytes | None) -> bytes:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0)  # let the other writers read the same value
        return _increment(value)

    async def writer() -> None:
        for _ in range(10):
            await consul.kv.update("counter", fn, retries=1000)

    await asyncio.gather(*(writer() for _ in range(10)))
    assert (await consul.kv.raw("counter"))[0] == b"100"
    assert calls > 100  # there were conflicts, and each was retried with a fresh read


async def test_update_gives_up_after_its_retries(consul: Consul) -> None:
    calls = 0

    async def meddle(value: bytes | None) -> bytes:
        nonlocal calls
        calls += 1
        await consul.kv.set("counter", str(calls).encode())  # another writer, every time
        return b"never"

    await consul.kv.set("counter", b"0")
    with pytest.raises(CASConflict) as info:
        await consul.kv.update("counter", meddle, retries=2)
    assert calls == 3 and info.value.attempts == 3 and info.value.key == "counter"
    assert isinstance(info.value, aioconsul.Conflict) and info.value.status == 409
    assert isinstance(info.value.__cause__, aioconsul.TxnFailed)
    assert (await consul.kv.raw("counter"))[0] == b"3"


async def test_update_with_fn_raising_propagates_and_writes_nothing(consul: Consul) -> None:
    def fn(value: bytes | None) -> bytes:
        raise RuntimeError("no")

    await consul.kv.set("counter", b"1")
    before, _ = await consul.kv.get("counter")
    with pytest.raises(RuntimeError, match="no"):
        await consul.kv.update("counter", fn)
    with pytest.raises(RuntimeError, match="no"):
        await consul.kv.update("missing", fn)
    after, _ = await consul.kv.get("counter")
    assert before is not None and after is not None
    assert after["ModifyIndex"] == before["ModifyIndex"]
    assert (await consul.kv.get("missing"))[0] is None


async def test_update_refuses_a_result_that_is_not_bytes(consul: Consul) -> None:
    with pytest.raises(TypeError, match="^fn's result: expected bytes"):
        await consul.kv.update("counter", lambda value: "text")  # type: ignore[arg-type,return-value]
    assert (await consul.kv.get("counter"))[0] is None


async def test_update_never_repeats_a_write_answered_500(consul: Consul, agents: Any) -> None:
    """The CAS retry rule: the transaction was applied but answered 500; sending it again would
    meet its own ModifyIndex and count as a conflict. It raises, and the key was written once."""
    await consul.kv.set("counter", b"1")
    proxy = await agents("forward", "applied-then-500")  # the read, then the transaction
    calls = 0

    def fn(value: bytes | None) -> bytes:
        nonlocal calls
        calls += 1
        return _increment(value)

    async with Consul(proxy.address) as client:
        with pytest.raises(aioconsul.ServerError):
            await client.kv.update("counter", fn)
    assert calls == 1 and proxy.paths("PUT") == ["/v1/txn"]
    assert (await consul.kv.raw("counter"))[0] == b"2"


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"key": ""}, ValueError, "^key: "),
    ({"fn": b"not callable"}, TypeError, "^fn: "),
    ({"retries": -1}, ValueError, "^retries: "),
    ({"retries": "3"}, TypeError, "^retries: "),
    ({"retries": True}, TypeError, "^retries: "),
    ({"flags": -1}, ValueError, "^flags: "),
    ({"consistency": "eventual"}, ValueError, "^consistency: "),
])
async def test_update_refuses_bad_arguments_before_any_request(
        unreachable: str, kwargs: dict[str, Any], error: type[Exception], match: str) -> None:
    arguments: dict[str, Any] = {"key": "counter", "fn": _increment, **kwargs}
    async with Consul(unreachable) as client:
        with pytest.raises(error, match=match):
            await client.kv.update(**arguments)


# -- tree: a prefix as a nested dict -------------------------------------------------------------


async def test_tree_nests_the_folder_with_the_prefix_stripped(consul: Consul) -> None:
    for key, value in (("a/b/c", b"1"), ("a/b/d", b"2"), ("a/e", b"3"), ("ab", b"x")):
        await consul.kv.set(key, value)
    expected = {"b": {"c": b"1", "d": b"2"}, "e": b"3"}
    assert await consul.kv.tree("a/") == expected
    assert await consul.kv.tree("a") == expected  # a folder: "ab" is not in it
    assert await consul.kv.tree("") == {"a": expected, "ab": b"x"}
    assert await consul.kv.tree("nothing/") == {}


@pytest.mark.parametrize(("codec", "expected"), [
    ("bytes", {"port": b"8080", "opts": b'{"debug": true}', "empty": b""}),
    ("text", {"port": "8080", "opts": '{"debug": true}', "empty": ""}),
    ("json", {"port": 8080, "opts": {"debug": True}, "empty": None}),
    (len, {"port": 4, "opts": 15, "empty": 0}),
])
async def test_tree_decodes_values_with_its_codec(
        consul: Consul, codec: Any, expected: dict[str, Any]) -> None:
    await consul.kv.set("cfg/port", b"8080")
    await consul.kv.set("cfg/opts", b'{"debug": true}')
    await consul.kv.set("cfg/empty", b"")
    assert await consul.kv.tree("cfg/", codec=codec) == expected


async def test_tree_makes_folder_keys_empty_dicts(consul: Consul) -> None:
    """``consul kv put cfg/`` and the UI store folder keys ending in "/": like consul-template's
    tree and Spring Cloud Consul, their value is ignored; they give a (possibly empty) dict."""
    await consul.kv.set("cfg/", b"ignored")
    await consul.kv.set("cfg/db/", b"ignored too")
    await consul.kv.set("cfg/web/", b"")
    await consul.kv.set("cfg/web/port", b"80")
    assert await consul.kv.tree("cfg/") == {"db": {}, "web": {"port": b"80"}}


async def test_tree_refuses_a_key_that_is_both_a_value_and_a_folder(consul: Consul) -> None:
    """Consul stores "a/b" beside "a/b/c"; a nested dict cannot hold both, and dropping one
    would hide a value, so the read raises naming both keys."""
    await consul.kv.set("cfg/db", b"a value")
    await consul.kv.set("cfg/db/host", b"h")
    with pytest.raises(ValueError, match="'cfg/db' and 'cfg/db/host': a key cannot be both"):
        await consul.kv.tree("cfg/")
    await consul.kv.delete("cfg/db/host")
    await consul.kv.set("cfg/db/", b"")
    with pytest.raises(ValueError, match="'cfg/db' and 'cfg/db/'"):
        await consul.kv.tree("cfg/")


async def test_tree_names_the_key_whose_value_cannot_be_decoded(consul: Consul) -> None:
    await consul.kv.set("cfg/bad", b"\xff{")
    with pytest.raises(ValueError, match="^'cfg/bad': the value cannot be decoded"):
        await consul.kv.tree("cfg/", codec="json")
    with pytest.raises(ValueError, match="^'cfg/bad': the value cannot be decoded"):
        await consul.kv.tree("cfg/", codec="text")


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"codec": "yaml"}, ValueError, "^codec: "),
    ({"codec": 3}, TypeError, "^codec: "),
    ({"prefix": "/abs"}, ValueError, "^prefix: "),
])
async def test_tree_refuses_bad_arguments_before_any_request(
        unreachable: str, kwargs: dict[str, Any], error: type[Exception], match: str) -> None:
    async with Consul(unreachable) as client:
        with pytest.raises(error, match=match):
            await client.kv.tree(**kwargs)


async def test_update_raises_a_refusal_that_is_not_a_conflict() -> None:
    """A transaction refused while the key kept its index (here an ACL denial, which
    agent/consul/txn_endpoint.go reports as an operation's error) is no conflict: its TxnFailed
    is raised after one fresh read, and fn is not called again."""
    entry = {"Key": "counter", "Value": "MQ==", "Flags": 0, "LockIndex": 0, "CreateIndex": 5,
             "ModifyIndex": 5}
    denied = {"Results": None, "Errors": [{"OpIndex": 0, "What": "Permission denied"}]}

    async def agent(request: web.Request) -> web.Response:
        headers = {"X-Consul-Index": "5", "X-Consul-Knownleader": "true"}
        if request.method == "GET":
            return web.json_response([entry], headers=headers)
        return web.json_response(denied, status=409, headers=headers)

    calls = 0

    def fn(value: bytes | None) -> bytes:
        nonlocal calls
        calls += 1
        return _increment(value)

    async with FakeServer(agent) as server, Consul(server.address) as client:
        with pytest.raises(aioconsul.TxnFailed) as info:
            await client.kv.update("counter", fn)
        assert not isinstance(info.value, CASConflict)
        assert info.value.errors == [TxnOpError(0, "Permission denied")]
        assert calls == 1
        assert [(method, path.split("?")[0]) for method, path, _ in server.calls] == [
            ("GET", "/v1/kv/counter"), ("PUT", "/v1/txn"), ("GET", "/v1/kv/counter")]


# -- export / import in consul kv export's format ------------------------------------------------

async def test_export_is_consul_kv_exports_format(consul: Consul) -> None:
    """command/kv/impexp: ``Entry{key, flags, value}``, value base64 of the bytes, in key order;
    a plain prefix (``app`` also takes ``apple``), as ``consul kv export``."""
    await consul.kv.set("app/b", b"\x00\xff binary", flags=7)
    await consul.kv.set("app/a", b"")
    await consul.kv.set("apple", b"x")
    await consul.kv.set("other", b"y")
    exported = await consul.kv.export("app")
    assert exported == [
        {"key": "app/a", "flags": 0, "value": ""},
        {"key": "app/b", "flags": 7, "value": "AP8gYmluYXJ5"},
        {"key": "apple", "flags": 0, "value": "eA=="},
    ]
    assert [list(entry) for entry in exported] == [["key", "flags", "value"]] * 3
    assert await consul.kv.export("nothing/") == []


async def test_export_then_import_round_trips_values_and_flags(consul: Consul) -> None:
    values = {"cfg/bin": (b"\x00\x01\xfe\xff", 2**64 - 1), "cfg/empty": (b"", 0),
              "cfg/text": ("héllo".encode(), 42), "cfg/dir/": (b"", 0)}
    for key, (value, flags) in values.items():
        await consul.kv.set(key, value, flags=flags)
    exported = await consul.kv.export("cfg/")
    await consul.kv.delete_tree("cfg/")
    assert await consul.kv.import_(exported) == 4
    entries, _ = await consul.kv.items("cfg/")
    assert {e["Key"]: (e["Value"] or b"", e["Flags"]) for e in entries} == values
    assert await consul.kv.export("cfg/") == exported


async def test_import_splits_into_transactions_of_at_most_64(
        consul: Consul, agents: Any) -> None:
    """One ``PUT /v1/txn`` per 64 entries (Consul before 1.13 refuses more: ``maxTxnOps``);
    the entries of one transaction share its Raft index."""
    proxy = await agents()
    entries = [{"key": f"many/{i:03}", "flags": i, "value": "dg=="} for i in range(130)]
    async with Consul(proxy.address) as client:
        assert await client.kv.import_(entries) == 130
        assert proxy.paths("PUT") == ["/v1/txn"] * 3
        proxy.seen.clear()
        again = [dict(entry, value="dw==") for entry in entries[:10]]
        assert await client.kv.import_(again, batch=4) == 10
        assert proxy.paths("PUT") == ["/v1/txn"] * 3
    items, _ = await consul.kv.items("many/")
    assert [(e["Key"], e["Flags"], e["Value"]) for e in items] == [
        (f"many/{i:03}", i, b"w" if i < 10 else b"v") for i in range(130)]
    index = [e["ModifyIndex"] for e in items]
    assert len(set(index[10:64])) == len(set(index[64:128])) == len(set(index[128:])) == 1
    assert len(set(index[10:])) == 3 and len(set(index[:10])) == 3  # 4 + 4 + 2


async def test_import_keeps_large_values_under_the_txn_body_limit(
        consul: Consul, agents: Any) -> None:
    """txn_endpoint.go refuses a body over max(txn_max_req_len, kv_max_value_size), 512 KiB:
    large values go in several transactions, one too large for any alone by a plain PUT."""
    proxy = await agents()
    big = base64.b64encode(b"a" * (150 * 1024)).decode()  # 200 KiB in base64
    largest = base64.b64encode(b"b" * MAX_VALUE_SIZE).decode()
    entries = [{"key": f"big/{i}", "value": big} for i in range(3)]
    entries.append({"key": "big/max", "value": largest, "flags": 1})
    async with Consul(proxy.address) as client:
        assert await client.kv.import_(entries) == 4
    assert proxy.paths("PUT") == ["/v1/txn", "/v1/txn", "/v1/kv/big/max?flags=1"]
    entry, _ = await consul.kv.get("big/max")
    assert entry is not None and entry["Value"] == b"b" * MAX_VALUE_SIZE


@pytest.mark.parametrize(("bad", "error", "message"), [
    ("not a mapping", TypeError, "entries[70]: expected a mapping"),
    ({"value": ""}, ValueError, "entries[70].key: missing"),
    ({"key": 5, "value": ""}, TypeError, "entries[70].key: expected a str"),
    ({"key": "/abs", "value": ""}, ValueError, "entries[70].key"),
    ({"key": "k"}, ValueError, "entries[70].value: missing"),
    ({"key": "k", "value": "not base64!"}, ValueError, "entries[70].value: not base64"),
    ({"key": "k", "value": b"AA=="}, TypeError, "entries[70].value: expected base64 text"),
    ({"key": "k", "value": "", "flags": -1}, ValueError, "entries[70].flags"),
    ({"key": "k", "value": "", "flags": "3"}, TypeError, "entries[70].flags"),
    ({"key": "k", "value": "", "flags": True}, TypeError, "entries[70].flags"),
    ({"key": "k", "value": base64.b64encode(b"x" * (MAX_VALUE_SIZE + 1)).decode()},
     ValueError, "entries[70].value: 524289 bytes"),
    ({"key": "k", "value": "", "namespace": 3}, TypeError, "entries[70].namespace"),
])
async def test_import_refuses_a_bad_entry_before_any_request(
        consul: Consul, agents: Any, bad: Any, error: type[Exception], message: str) -> None:
    proxy = await agents()
    entries: list[Any] = [{"key": f"ok/{i}", "value": ""} for i in range(70)] + [bad]
    async with Consul(proxy.address) as client:
        with pytest.raises(error, match=re.escape(message)):
            await client.kv.import_(entries)
    assert proxy.seen == []
    assert (await consul.kv.keys("ok/"))[0] == []


@pytest.mark.parametrize(("entries", "batch", "error", "message"), [
    ({"key": "k", "value": ""}, 64, TypeError, "entries: expected a list"),
    ("[]", 64, TypeError, "entries: expected a list"),
    ([], 0, ValueError, "batch: expected 1 to 128"),
    ([], 129, ValueError, "batch: expected 1 to 128"),
    ([], "8", TypeError, "batch: expected an int"),
])
async def test_import_refuses_bad_arguments(
        consul: Consul, entries: Any, batch: Any, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=re.escape(message)):
        await consul.kv.import_(entries, batch=batch)
