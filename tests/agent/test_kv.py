"""KV endpoint of the dev agent: GET/PUT/DELETE /v1/kv/<key>, as agent/kvs_endpoint.go."""

from __future__ import annotations

import base64
from urllib.parse import quote

import pytest

from .conftest import Api

MAX_UINT64 = 2**64 - 1


async def test_missing_key_is_404_with_empty_body_and_index(api: Api) -> None:
    """KVSGet writes 404 after setMeta; a fresh KV table reports index 1 (never 0)."""
    reply = await api.get("/v1/kv/missing")
    assert reply.status == 404
    assert reply.body == b""
    assert reply.index == 1
    assert reply.headers["X-Consul-KnownLeader"] == "true"
    assert reply.headers["X-Consul-LastContact"] == "0"


async def test_put_returns_true_and_get_returns_consul_fields(api: Api) -> None:
    put = await api.put("/v1/kv/app/config", b"hello")
    assert (put.status, put.json()) == (200, True)
    assert put.headers["Content-Type"] == "application/json"

    reply = await api.get("/v1/kv/app/config")
    assert reply.status == 200
    (entry,) = reply.json()
    # structs.DirEntry field order; Session is omitempty.
    assert list(entry) == ["LockIndex", "Key", "Flags", "Value", "CreateIndex", "ModifyIndex"]
    assert entry["Key"] == "app/config"
    assert base64.b64decode(entry["Value"]) == b"hello"
    assert entry["CreateIndex"] == entry["ModifyIndex"] == reply.index
    assert reply.index > 1


@pytest.mark.parametrize(
    "key",
    [
        "with space",
        "question?mark",
        "hash#tag",
        "per%cent",
        "plus+sign",
        "ünïcödé/日本語",
        "emoji/\U0001f600",
        "dir/",
        "a=b&c=d;e",
    ],
)
async def test_awkward_keys_round_trip(api: Api, key: str) -> None:
    path = "/v1/kv/" + quote(key, safe="/")
    assert (await api.put(path, b"v")).json() is True
    (entry,) = (await api.get(path)).json()
    assert entry["Key"] == key
    keys = (await api.get("/v1/kv/?keys")).json()
    assert keys == [key]


async def test_encoded_double_slash_is_part_of_the_key(api: Api) -> None:
    """Go >= 1.22 ServeMux cleans the escaped path, so %2F%2F is not collapsed."""
    assert (await api.put("/v1/kv/a%2F%2Fb", b"v")).json() is True
    assert (await api.get("/v1/kv/?keys")).json() == ["a//b"]


async def test_empty_value_is_null(api: Api) -> None:
    await api.put("/v1/kv/empty", b"")
    (entry,) = (await api.get("/v1/kv/empty")).json()
    assert entry["Value"] is None


async def test_raw_returns_the_bytes_with_security_headers(api: Api) -> None:
    """CVE-2020-25864 fix: raw values are text/plain with nosniff and a sandbox CSP."""
    value = bytes(range(256))
    await api.put("/v1/kv/blob", value)
    reply = await api.get("/v1/kv/blob?raw")
    assert reply.status == 200
    assert reply.body == value
    assert reply.headers["Content-Type"] == "text/plain"
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    assert reply.headers["Content-Security-Policy"] == "sandbox"


async def test_raw_is_ignored_with_recurse(api: Api) -> None:
    await api.put("/v1/kv/dir/a", b"1")
    reply = await api.get("/v1/kv/dir/?recurse&raw")
    assert [e["Key"] for e in reply.json()] == ["dir/a"]


async def test_flags_round_trip_the_full_uint64_range(api: Api) -> None:
    await api.put(f"/v1/kv/flagged?flags={MAX_UINT64}", b"x")
    (entry,) = (await api.get("/v1/kv/flagged")).json()
    assert entry["Flags"] == MAX_UINT64


@pytest.mark.parametrize(
    ("query", "text"),
    [
        ("flags=abc", 'strconv.ParseUint: parsing "abc": invalid syntax'),
        ("flags=-1", 'strconv.ParseUint: parsing "-1": invalid syntax'),
        (
            "flags=18446744073709551616",
            'strconv.ParseUint: parsing "18446744073709551616": value out of range',
        ),
        ("cas=", 'strconv.ParseUint: parsing "": invalid syntax'),
    ],
)
async def test_unparsable_numbers_are_500_with_strconv_text(
    api: Api, query: str, text: str
) -> None:
    """KVSPut returns the strconv error as is: the wrapper answers 500."""
    reply = await api.put(f"/v1/kv/k?{query}", b"x")
    assert (reply.status, reply.text) == (500, text)


async def test_put_without_key_is_400(api: Api) -> None:
    reply = await api.put("/v1/kv/", b"x")
    assert (reply.status, reply.text) == (400, "Missing key name")


async def test_get_without_key_is_400_unless_recursive(api: Api) -> None:
    reply = await api.get("/v1/kv/")
    assert (reply.status, reply.text) == (400, "Missing key name")
    assert (await api.get("/v1/kv/?recurse")).status == 404


async def test_conflicting_flags_are_400_with_the_encoded_query(api: Api) -> None:
    """conflictingFlags prints url.Values.Encode(): keys sorted, values query-escaped."""
    reply = await api.put("/v1/kv/k?release=x&cas=0&note=a%20b", b"x")
    assert reply.status == 400
    assert reply.text == "Conflicting flags: cas=0&note=a+b&release=x"
    reply = await api.delete("/v1/kv/k?recurse&cas=1")
    assert (reply.status, reply.text) == (400, "Conflicting flags: cas=1&recurse=")


async def test_value_over_512_kib_is_413(api: Api) -> None:
    reply = await api.put("/v1/kv/big", b"x" * (512 * 1024 + 1))
    assert reply.status == 413
    assert reply.text == (
        "Request body(524289 bytes) too large, max size: 524288 bytes. "
        "See https://www.consul.io/docs/agent/config/config-files#kv_max_value_size."
    )
    assert (await api.put("/v1/kv/big", b"x" * (512 * 1024))).json() is True


async def test_cas_zero_only_creates(api: Api) -> None:
    assert (await api.put("/v1/kv/once?cas=0", b"1")).json() is True
    assert (await api.put("/v1/kv/once?cas=0", b"2")).json() is False
    (entry,) = (await api.get("/v1/kv/once")).json()
    assert base64.b64decode(entry["Value"]) == b"1"


async def test_cas_needs_the_current_modify_index(api: Api) -> None:
    await api.put("/v1/kv/c", b"1")
    (entry,) = (await api.get("/v1/kv/c")).json()
    index = entry["ModifyIndex"]
    assert (await api.put(f"/v1/kv/c?cas={index + 1}", b"2")).json() is False
    assert (await api.put(f"/v1/kv/c?cas={index}", b"2")).json() is True
    assert (await api.put(f"/v1/kv/c?cas={index}", b"3")).json() is False
    assert (await api.put("/v1/kv/other?cas=5", b"x")).json() is False  # missing key


async def test_rewriting_the_same_value_keeps_the_modify_index(api: Api) -> None:
    """kvsSetTxn skips the write when DirEntry.Equal: no new ModifyIndex, no wake-up."""
    await api.put("/v1/kv/same", b"v")
    first = (await api.get("/v1/kv/same")).index
    await api.put("/v1/kv/unrelated", b"x")
    await api.put("/v1/kv/same", b"v")
    assert (await api.get("/v1/kv/same")).index == first


async def test_recurse_lists_the_prefix_in_key_order(api: Api) -> None:
    for key in ("web/b", "web/a", "web/sub/c", "webx", "other"):
        await api.put(f"/v1/kv/{key}", b"v")
    reply = await api.get("/v1/kv/web/?recurse")
    assert [e["Key"] for e in reply.json()] == ["web/a", "web/b", "web/sub/c"]
    assert reply.index == max(e["ModifyIndex"] for e in reply.json())


async def test_keys_with_separator_stop_after_the_next_separator(api: Api) -> None:
    for key in ("web/bar", "web/foo", "web/subdir/x", "web/subdir/y", "web/subdir"):
        await api.put(f"/v1/kv/{key}", b"v")
    reply = await api.get("/v1/kv/web/?keys&separator=/")
    assert reply.json() == ["web/bar", "web/foo", "web/subdir", "web/subdir/"]
    # The historic misspelling is honoured too.
    assert (await api.get("/v1/kv/web/?keys&seperator=/")).json() == reply.json()


async def test_keys_of_an_empty_root_is_200_empty_list(api: Api) -> None:
    reply = await api.get("/v1/kv/?keys")
    assert (reply.status, reply.json(), reply.index) == (200, [], 1)


async def test_keys_of_an_empty_prefix_is_404(api: Api) -> None:
    reply = await api.get("/v1/kv/nothing/?keys")
    assert (reply.status, reply.body) == (404, b"")


async def test_deleting_a_key_returns_true_even_when_missing(api: Api) -> None:
    assert (await api.delete("/v1/kv/never")).json() is True
    await api.put("/v1/kv/gone", b"v")
    assert (await api.delete("/v1/kv/gone")).json() is True
    assert (await api.get("/v1/kv/gone")).status == 404


async def test_delete_without_key_is_400_unless_recursive(api: Api) -> None:
    reply = await api.delete("/v1/kv/")
    assert (reply.status, reply.text) == (400, "Missing key name")
    await api.put("/v1/kv/a", b"1")
    assert (await api.delete("/v1/kv/?recurse")).json() is True
    assert (await api.get("/v1/kv/?keys")).json() == []


async def test_list_index_keeps_the_tombstone_of_the_newest_deleted_key(api: Api) -> None:
    """state.kvsListTxn: the graveyard's max index in the prefix stops the index going back."""
    await api.put("/v1/kv/p/a", b"1")
    await api.put("/v1/kv/p/b", b"2")
    await api.delete("/v1/kv/p/b")
    deleted_at = (await api.get("/v1/kv/p/?recurse")).index
    (survivor,) = (await api.get("/v1/kv/p/?recurse")).json()
    assert deleted_at > survivor["ModifyIndex"]
    # A write elsewhere moves the table index but not this prefix's index.
    await api.put("/v1/kv/elsewhere", b"x")
    assert (await api.get("/v1/kv/p/?recurse")).index == deleted_at
    assert (await api.get("/v1/kv/p/?keys")).index == deleted_at


async def test_missing_key_reports_the_table_index_after_deletes(api: Api) -> None:
    """KVS.Get for a missing key answers kvsMaxIndex (kvs and tombstones tables)."""
    await api.put("/v1/kv/x", b"1")
    await api.delete("/v1/kv/x")
    deleted_at = (await api.get("/v1/kv/?recurse")).index
    assert (await api.get("/v1/kv/never-existed")).index == deleted_at


async def test_recursive_delete_leaves_one_tombstone_for_the_prefix(api: Api) -> None:
    """kvsDeleteTreeTxn stores a tombstone keyed by the prefix itself, not one per key."""
    await api.put("/v1/kv/tree/a", b"1")
    await api.put("/v1/kv/tree/b", b"1")
    await api.delete("/v1/kv/tree/?recurse")
    empty = await api.get("/v1/kv/tree/?recurse")
    assert empty.status == 404
    # The tombstone "tree/" does not lie under the longer prefix "tree/a".
    await api.put("/v1/kv/unrelated", b"x")
    assert (await api.get("/v1/kv/tree/a?recurse")).index > empty.index
    assert (await api.get("/v1/kv/tree/?recurse")).index == empty.index


async def test_delete_cas_semantics(api: Api) -> None:
    """kvsDeleteCASTxn: false on a mismatch, true when deleted, and true for a missing key."""
    await api.put("/v1/kv/d", b"1")
    (entry,) = (await api.get("/v1/kv/d")).json()
    assert (await api.delete("/v1/kv/d?cas=0")).json() is False
    assert (await api.delete(f"/v1/kv/d?cas={entry['ModifyIndex'] + 1}")).json() is False
    assert (await api.delete(f"/v1/kv/d?cas={entry['ModifyIndex']}")).json() is True
    assert (await api.get("/v1/kv/d")).status == 404
    assert (await api.delete("/v1/kv/d?cas=123")).json() is True


@pytest.mark.parametrize(
    ("query", "text"),
    [
        ("index=abc", "Invalid index"),
        ("index=-1", "Invalid index"),
        ("wait=10", "Invalid wait time"),
        ("wait=5x", "Invalid wait time"),
        ("wait=soon", "Invalid wait time"),
        ("stale&consistent", "Cannot specify ?stale with ?consistent, conflicting semantics."),
        ("cached&consistent", "Cannot specify ?cached with ?consistent, conflicting semantics."),
        ("max_stale=x", 'Invalid max_stale value "x"'),
    ],
)
async def test_bad_query_options_are_400(api: Api, query: str, text: str) -> None:
    reply = await api.get(f"/v1/kv/k?{query}")
    assert (reply.status, reply.text) == (400, text)


async def test_bad_cache_control_is_400(api: Api) -> None:
    reply = await api.get("/v1/kv/k", headers={"Cache-Control": "max-age=soon"})
    assert (reply.status, reply.text) == (400, "Invalid Cache-Control header.")


@pytest.mark.parametrize("wait", ["250ms", "1h30m", "1.5s", "100us", "100\u00b5s", "0"])
async def test_go_durations_are_accepted_as_wait(api: Api, wait: str) -> None:
    reply = await api.get("/v1/kv/k?wait=" + quote(wait))
    assert reply.status == 404


async def test_consistency_modes_are_accepted(api: Api) -> None:
    for mode in ("stale", "consistent", "leader"):
        reply = await api.get(f"/v1/kv/k?{mode}")
        assert reply.status == 404
        # KV reads never set X-Consul-Effective-Consistency (only RETRY_ONCE endpoints do).
        assert "X-Consul-Effective-Consistency" not in reply.headers
