"""PUT /v1/txn, as website/content/api-docs/txn.mdx documents it and Consul runs it.

Sources: agent/txn_endpoint.go (body limits, decoding with lib.DecodeJSON, maxTxnOps = 128, the
read-only fast path and the 409 answer), agent/consul/txn_endpoint.go (preCheck), and
agent/consul/state/txn.go + state/kvs.go (each verb and its error text).
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from aioconsul.testing.endpoints.txn import convert_ops
from aioconsul.testing.http.reply import HTTPError
from aioconsul.testing.state.store import Store
from aioconsul.testing.state.txn import pre_check, write
from aioconsul.testing.structs.txn import TxnError

from .conftest import Api, Reply

LIMIT_DOCS = "https://www.consul.io/docs/agent/config/config-files#txn_max_req_len"
QUERY_META = {
    "Index": 0,
    "LastContact": 0,
    "ConsistencyLevel": "",
    "NotModified": False,
    "Backend": 0,
    "ResultsFilteredByACLs": False,
}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def kv(verb: str, key: str, **fields: Any) -> dict[str, Any]:
    if isinstance(fields.get("Value"), bytes):
        fields["Value"] = b64(fields["Value"])
    return {"KV": {"Verb": verb, "Key": key, **fields}}


async def txn(api: Api, *ops: Any, query: str = "") -> Reply:
    return await api.put("/v1/txn" + query, json.dumps(list(ops)))


def whats(reply: Reply) -> list[tuple[int, str]]:
    assert reply.status == 409, reply.text
    assert reply.json()["Results"] is None
    return [(e["OpIndex"], e["What"]) for e in reply.json()["Errors"]]


def entries(reply: Reply) -> list[dict[str, Any]]:
    assert reply.status == 200, reply.text
    assert reply.json()["Errors"] is None
    return [result["KV"] for result in reply.json()["Results"]]


async def index_of(api: Api, key: str) -> int:
    (entry,) = (await api.get(f"/v1/kv/{key}")).json()
    modify_index: int = entry["ModifyIndex"]
    return modify_index


# -- the request ---------------------------------------------------------------------------------


async def test_only_put_is_routed(api: Api) -> None:
    """registerEndpoint("/v1/txn", []string{"PUT"}, ...): other methods are 405."""
    reply = await api.get("/v1/txn")
    assert (reply.status, reply.text) == (405, "method GET not allowed")
    assert reply.headers["Allow"] == "OPTIONS,PUT"


async def test_empty_body_is_400_eof(api: Api) -> None:
    """convertOps: a body decodeBody cannot read is 400 "Failed to parse body: <err>"."""
    reply = await api.put("/v1/txn")
    assert (reply.status, reply.text) == (400, "Failed to parse body: EOF")


async def test_malformed_json_is_400_with_go_syntax_error(api: Api) -> None:
    reply = await api.put("/v1/txn", "[x]")
    assert (reply.status, reply.text) == (
        400,
        "Failed to parse body: invalid character 'x' looking for beginning of value",
    )


async def test_body_must_be_a_list_of_operations(api: Api) -> None:
    reply = await api.put("/v1/txn", '{"KV": {}}')
    assert (reply.status, reply.text) == (
        400,
        "Failed to parse body: json: cannot unmarshal object into Go value of type api.TxnOps",
    )


async def test_unknown_fields_are_400(api: Api) -> None:
    """lib.DecodeJSON calls DisallowUnknownFields()."""
    reply = await txn(api, kv("get", "a", Bogus=1))
    assert (reply.status, reply.text) == (400, 'Failed to parse body: json: unknown field "Bogus"')


async def test_session_operations_are_refused_over_http(api: Api) -> None:
    """api.TxnOp has only KV, Node, Service and Check: {"Session": ...} is an unknown field, so
    the whole request is refused before anything is applied (agent/txn_endpoint.go)."""
    session_id = await api.create_session()
    reply = await txn(
        api,
        kv("set", "before", Value=b"x"),
        {"Session": {"Verb": "delete", "Session": {"ID": session_id}}},
    )
    assert (reply.status, reply.text) == (
        400,
        'Failed to parse body: json: unknown field "Session"',
    )
    assert (await api.get("/v1/kv/before")).status == 404
    assert (await api.get(f"/v1/session/info/{session_id}")).json() != []


async def test_a_field_of_the_wrong_type_names_its_go_field(api: Api) -> None:
    reply = await txn(api, kv("set", "a", Flags="1"))
    assert (reply.status, reply.text) == (
        400,
        (
            "Failed to parse body: json: cannot unmarshal string into Go struct field "
            "KVTxnOp.KV.Flags of type uint64"
        ),
    )


async def test_a_number_out_of_range_is_quoted_as_written(api: Api) -> None:
    reply = await txn(api, kv("check-index", "a", Index=-1))
    assert reply.text == (
        "Failed to parse body: json: cannot unmarshal number -1 into Go struct field "
        "KVTxnOp.KV.Index of type uint64"
    )


async def test_a_value_that_is_not_base64_is_400(api: Api) -> None:
    """api.KVTxnOp.Value is a []byte: encoding/json decodes it with base64.StdEncoding."""
    reply = await txn(api, {"KV": {"Verb": "set", "Key": "a", "Value": "aGk"}})
    assert (reply.status, reply.text) == (
        400,
        "Failed to parse body: illegal base64 data at input byte 0",
    )


async def test_field_names_match_case_insensitively(api: Api) -> None:
    """encoding/json matches object keys to struct fields ignoring case."""
    reply = await txn(api, {"kv": {"verb": "set", "KEY": "a", "value": b64(b"v")}})
    assert reply.status == 200
    (entry,) = (await api.get("/v1/kv/a")).json()
    assert base64.b64decode(entry["Value"]) == b"v"


async def test_128_operations_are_accepted(api: Api) -> None:
    """maxTxnOps = 128 in current Consul (txn.mdx: "Up to 128 operations")."""
    reply = await txn(api, *(kv("set", f"k/{i}", Value=b"v") for i in range(128)))
    assert reply.status == 200
    assert len(reply.json()["Results"]) == 128


async def test_129_operations_are_413(api: Api) -> None:
    reply = await txn(api, *(kv("set", f"k/{i}", Value=b"v") for i in range(129)))
    assert (reply.status, reply.text) == (
        413,
        "Transaction contains too many operations (129 > 128)",
    )
    assert (await api.get("/v1/kv/k/0")).status == 404


async def test_a_body_over_512_kib_is_413_from_its_content_length(api: Api) -> None:
    """max(txn_max_req_len, kv_max_value_size), both 512 KiB by default, checked first."""
    body = json.dumps([kv("set", "big", Value=b"x")]).encode()
    body += b" " * (512 * 1024 + 1 - len(body))
    reply = await api.put("/v1/txn", body)
    assert (reply.status, reply.text) == (
        413,
        (f"Request body(524289 bytes) too large, max size: 524288 bytes. See {LIMIT_DOCS}."),
    )


async def test_a_body_at_512_kib_is_read(api: Api) -> None:
    body = json.dumps([kv("set", "big", Value=b"x")]).encode()
    body += b" " * (512 * 1024 - len(body))
    assert (await api.put("/v1/txn", body)).status == 200


async def test_a_chunked_body_over_512_kib_is_413_while_read(api: Api) -> None:
    """Without Content-Length, http.MaxBytesReader stops the decoder: "Request body too large"."""

    async def chunks() -> AsyncIterator[bytes]:
        yield b'[{"KV": {"Verb": "set", "Key": "big", "Value": "'
        for _ in range(9):
            yield b"A" * 64 * 1024
        yield b'"}}]'

    async with api.http.put(api.url("/v1/txn"), data=chunks()) as resp:
        assert resp.status == 413
        assert await resp.text() == (
            f"Request body too large, max size: 524288 bytes. See {LIMIT_DOCS}."
        )


def test_a_kv_value_over_kv_max_value_size_is_413() -> None:
    """convertOps checks each value against kv_max_value_size. Over HTTP the body limit (the
    same 512 KiB, and base64 is longer than the value) always answers first, so this is shown
    on the conversion itself."""
    body = json.dumps([kv("set", "big", Value=b"x" * (512 * 1024 + 1))]).encode()
    with pytest.raises(HTTPError) as exc:
        convert_ops(body, datacenter="dc1")
    assert (exc.value.status, exc.value.reason) == (
        413,
        'Value for key "big" is too large (524289 > 524288 bytes)',
    )


async def test_a_null_operation_makes_consul_hang_up(api: Api) -> None:
    """convertOps dereferences each *api.TxnOp: a null element panics the handler, and Go's
    net/http recovers by closing the connection without an answer."""
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await txn(api, None)


async def test_an_empty_list_is_an_empty_read(api: Api) -> None:
    reply = await txn(api)
    assert reply.status == 200
    assert reply.json() == {"Results": [], "Errors": None, "KnownLeader": True, **QUERY_META}


async def test_an_operation_without_a_kind_is_dropped(api: Api) -> None:
    """convertOps skips an element with none of KV/Node/Service/Check, so OpIndex counts only
    the operations that remain."""
    reply = await txn(api, {}, kv("get", "missing"))
    assert whats(reply) == [(0, 'key "missing" doesn\'t exist')]


async def test_pretty_prints_the_answer(api: Api) -> None:
    reply = await txn(api, kv("set", "a", Value=b"v"), query="?pretty")
    assert reply.body.startswith(b'{\n    "Results": [\n')


# -- write transactions --------------------------------------------------------------------------


async def test_a_write_answers_results_and_null_errors_without_read_headers(api: Api) -> None:
    """Txn.Apply through Raft: 200 {"Results": [...], "Errors": null}; no X-Consul-Index, and
    none of the read-only headers."""
    reply = await txn(api, kv("set", "a", Value=b"v"))
    assert reply.status == 200
    assert reply.headers["Content-Type"] == "application/json"
    assert set(reply.json()) == {"Results", "Errors"}
    for header in ("X-Consul-Index", "X-Consul-KnownLeader", "X-Consul-LastContact"):
        assert header not in reply.headers


async def test_set_writes_and_returns_the_entry_without_its_value(api: Api) -> None:
    (entry,) = entries(await txn(api, kv("set", "a", Value=b"hello", Flags=7)))
    assert entry["Value"] is None  # "To save space" (txn.mdx)
    assert (entry["Key"], entry["Flags"], entry["LockIndex"]) == ("a", 7, 0)
    assert entry["CreateIndex"] == entry["ModifyIndex"]
    (stored,) = (await api.get("/v1/kv/a")).json()
    assert base64.b64decode(stored["Value"]) == b"hello"
    assert stored["ModifyIndex"] == entry["ModifyIndex"]


async def test_one_raft_index_for_the_whole_transaction(api: Api) -> None:
    results = entries(await txn(api, kv("set", "a", Value=b"1"), kv("set", "b", Value=b"2")))
    assert results[0]["ModifyIndex"] == results[1]["ModifyIndex"]
    (after,) = entries(await txn(api, kv("set", "c", Value=b"3")))
    assert after["ModifyIndex"] == results[0]["ModifyIndex"] + 1


async def test_operations_see_the_effects_of_earlier_ones(api: Api) -> None:
    results = entries(
        await txn(
            api,
            kv("set", "a", Value=b"new"),
            kv("get", "a"),
            kv("delete", "a"),
            kv("check-not-exists", "a"),
        )
    )
    assert [r["Value"] for r in results] == [None, b64(b"new")]
    assert (await api.get("/v1/kv/a")).status == 404


async def test_cas_with_index_zero_creates_only(api: Api) -> None:
    entries(await txn(api, kv("cas", "once", Value=b"1", Index=0)))
    reply = await txn(api, kv("cas", "once", Value=b"2", Index=0))
    assert whats(reply) == [(0, 'failed to set key "once", index is stale')]


async def test_cas_needs_the_current_modify_index(api: Api) -> None:
    await api.put("/v1/kv/c", b"1")
    index = await index_of(api, "c")
    assert whats(await txn(api, kv("cas", "c", Value=b"2", Index=index + 1))) == [
        (0, 'failed to set key "c", index is stale')
    ]
    (entry,) = entries(await txn(api, kv("cas", "c", Value=b"2", Index=index)))
    assert entry["ModifyIndex"] > index
    assert whats(await txn(api, kv("cas", "missing", Value=b"x", Index=5))) == [
        (0, 'failed to set key "missing", index is stale')
    ]


async def test_lock_acquires_for_a_session(api: Api) -> None:
    session_id = await api.create_session(LockDelay="0s")
    (entry,) = entries(await txn(api, kv("lock", "l", Value=b"me", Session=session_id)))
    assert (entry["LockIndex"], entry["Session"]) == (1, session_id)
    (stored,) = (await api.get("/v1/kv/l")).json()
    assert stored["Session"] == session_id


async def test_lock_held_by_another_session_fails(api: Api) -> None:
    holder, other = await api.create_session(), await api.create_session()
    await api.put(f"/v1/kv/l?acquire={holder}", b"")
    reply = await txn(api, kv("lock", "l", Session=other))
    assert whats(reply) == [(0, 'failed to lock key "l", lock is already held')]


async def test_lock_needs_a_session(api: Api) -> None:
    assert whats(await txn(api, kv("lock", "l"))) == [(0, "missing session")]


async def test_lock_needs_an_existing_session(api: Api) -> None:
    reply = await txn(api, kv("lock", "l", Session="not-a-session"))
    assert whats(reply) == [(0, 'invalid session "not-a-session"')]


async def test_lock_during_lock_delay_fails_before_raft(api: Api) -> None:
    """kvsPreApply enforces lock-delay on the leader before Raft: preCheck's text."""
    session_id = await api.create_session(LockDelay="5s")
    await api.put(f"/v1/kv/l?acquire={session_id}", b"")
    await api.put(f"/v1/session/destroy/{session_id}")
    fresh = await api.create_session()
    reply = await txn(api, kv("lock", "l", Session=fresh))
    assert whats(reply) == [(0, 'failed to lock key "l" due to lock delay')]


async def test_unlock_releases_and_keeps_the_lock_index(api: Api) -> None:
    session_id = await api.create_session()
    await api.put(f"/v1/kv/l?acquire={session_id}", b"")
    (entry,) = entries(await txn(api, kv("unlock", "l", Value=b"done", Session=session_id)))
    assert (entry["LockIndex"], "Session" in entry) == (1, False)


async def test_unlock_by_a_non_holder_fails(api: Api) -> None:
    session_id = await api.create_session()
    await api.put("/v1/kv/l", b"")
    reply = await txn(api, kv("unlock", "l", Session=session_id))
    assert whats(reply) == [
        (0, 'failed to unlock key "l", lock isn\'t held, or is held by another session')
    ]
    assert whats(await txn(api, kv("unlock", "l"))) == [(0, "missing session")]


async def test_delete_removes_the_key_and_returns_nothing(api: Api) -> None:
    await api.put("/v1/kv/d", b"")
    assert entries(await txn(api, kv("delete", "d"), kv("delete", "never-was"))) == []
    assert (await api.get("/v1/kv/d")).status == 404


async def test_delete_tree_removes_the_prefix(api: Api) -> None:
    for key in ("t/a", "t/b", "tx"):
        await api.put(f"/v1/kv/{key}", b"")
    assert entries(await txn(api, kv("delete-tree", "t/"))) == []
    assert (await api.get("/v1/kv/?keys")).json() == ["tx"]


async def test_delete_tree_of_the_empty_prefix_empties_the_store(api: Api) -> None:
    """kvsPreApply exempts delete-tree from "Must provide key"."""
    await api.put("/v1/kv/x", b"")
    assert entries(await txn(api, kv("delete-tree", ""))) == []
    assert (await api.get("/v1/kv/?keys")).json() == []


async def test_delete_cas_deletes_at_the_current_index(api: Api) -> None:
    await api.put("/v1/kv/d", b"")
    index = await index_of(api, "d")
    assert whats(await txn(api, kv("delete-cas", "d", Index=index - 1))) == [
        (0, 'failed to delete key "d", index is stale')
    ]
    assert entries(await txn(api, kv("delete-cas", "d", Index=index))) == []
    assert (await api.get("/v1/kv/d")).status == 404


async def test_delete_cas_of_a_missing_key_succeeds(api: Api) -> None:
    """kvsDeleteCASTxn returns ``entry == nil``: nothing to delete is no failure."""
    assert entries(await txn(api, kv("delete-cas", "missing", Index=42))) == []


# -- reads ---------------------------------------------------------------------------------------


async def test_get_returns_the_value(api: Api) -> None:
    await api.put("/v1/kv/g?flags=3", b"value")
    (entry,) = entries(await txn(api, kv("get", "g")))
    assert (entry["Key"], base64.b64decode(entry["Value"]), entry["Flags"]) == ("g", b"value", 3)


async def test_get_of_a_missing_key_fails(api: Api) -> None:
    assert whats(await txn(api, kv("get", "g"))) == [(0, 'key "g" doesn\'t exist')]


async def test_get_or_empty_returns_the_entry_when_present(api: Api) -> None:
    await api.put("/v1/kv/g", b"here")
    (entry,) = entries(await txn(api, kv("get-or-empty", "g")))
    assert base64.b64decode(entry["Value"]) == b"here"


async def test_get_or_empty_of_a_missing_key_echoes_the_operation(api: Api) -> None:
    """state/txn.go KVGetOrEmpty: the op's own DirEnt comes back, Value cleared."""
    (entry,) = entries(await txn(api, kv("get-or-empty", "none", Flags=9, Index=4)))
    assert entry == {
        "LockIndex": 0,
        "Key": "none",
        "Flags": 9,
        "Value": None,
        "CreateIndex": 0,
        "ModifyIndex": 4,
    }


async def test_get_tree_returns_every_entry_under_the_prefix(api: Api) -> None:
    for key in ("p/b", "p/a", "px"):
        await api.put(f"/v1/kv/{key}", key.encode())
    results = entries(await txn(api, kv("get-tree", "p/")))
    assert [(e["Key"], base64.b64decode(e["Value"])) for e in results] == [
        ("p/a", b"p/a"),
        ("p/b", b"p/b"),
    ]


async def test_get_tree_of_an_empty_prefix_is_refused(api: Api) -> None:
    assert whats(await txn(api, kv("get-tree", ""))) == [(0, "Must provide key")]


async def test_check_index_passes_at_the_current_index(api: Api) -> None:
    await api.put("/v1/kv/c", b"v")
    index = await index_of(api, "c")
    (entry,) = entries(await txn(api, kv("check-index", "c", Index=index)))
    assert (entry["ModifyIndex"], entry["Value"]) == (index, None)


async def test_check_index_fails_on_another_index(api: Api) -> None:
    await api.put("/v1/kv/c", b"v")
    index = await index_of(api, "c")
    assert whats(await txn(api, kv("check-index", "c", Index=index + 7))) == [
        (0, f'failed index check for key "c", current modify index {index} != {index + 7}')
    ]
    assert whats(await txn(api, kv("check-index", "gone", Index=1))) == [
        (0, 'failed to check index, key "gone" doesn\'t exist')
    ]


async def test_check_session_passes_for_the_holder(api: Api) -> None:
    session_id = await api.create_session()
    await api.put(f"/v1/kv/l?acquire={session_id}", b"")
    (entry,) = entries(await txn(api, kv("check-session", "l", Session=session_id)))
    assert entry["Session"] == session_id


async def test_check_session_fails_for_anyone_else(api: Api) -> None:
    await api.put("/v1/kv/l", b"")
    assert whats(await txn(api, kv("check-session", "l", Session="s1"))) == [
        (0, 'failed session check for key "l", current session "" != "s1"')
    ]
    assert whats(await txn(api, kv("check-session", "gone", Session="s1"))) == [
        (0, 'failed to check session, key "gone" doesn\'t exist')
    ]


async def test_check_not_exists(api: Api) -> None:
    assert entries(await txn(api, kv("check-not-exists", "n"))) == []
    await api.put("/v1/kv/n", b"")
    assert whats(await txn(api, kv("check-not-exists", "n"))) == [(0, 'key "n" exists')]


async def test_an_unknown_verb_fails_in_the_state_store(api: Api) -> None:
    assert whats(await txn(api, kv("bogus", "k"))) == [(0, 'unknown KV verb "bogus"')]


# -- atomicity -----------------------------------------------------------------------------------


async def test_a_failing_check_leaves_earlier_sets_unapplied(api: Api) -> None:
    """txn.mdx: "If any operation fails, the transaction is rolled back and none of the
    changes are applied"."""
    await api.put("/v1/kv/guard", b"v")
    guard = await index_of(api, "guard")
    before = (await api.get("/v1/kv/?recurse")).index
    reply = await txn(
        api, kv("set", "a", Value=b"1"), kv("delete", "guard"), kv("check-index", "x", Index=guard)
    )
    assert whats(reply) == [(2, 'failed to check index, key "x" doesn\'t exist')]
    assert (await api.get("/v1/kv/a")).status == 404
    assert await index_of(api, "guard") == guard
    assert (await api.get("/v1/kv/?recurse")).index == before


async def test_every_failed_operation_is_reported(api: Api) -> None:
    """txnDispatch runs every operation and collects every error before rolling back."""
    reply = await txn(api, kv("get", "x"), kv("set", "ok", Value=b""), kv("get", "y"))
    assert whats(reply) == [(0, 'key "x" doesn\'t exist'), (2, 'key "y" doesn\'t exist')]


async def test_pre_check_reports_every_bad_operation_before_raft(api: Api) -> None:
    reply = await txn(api, kv("set", ""), kv("get", "fine"), kv("delete", ""))
    assert whats(reply) == [(0, "Must provide key"), (2, "Must provide key")]


async def test_a_rolled_back_transaction_wakes_no_blocked_reader(api: Api) -> None:
    await api.put("/v1/kv/w", b"1")
    index = await index_of(api, "w")
    reader = asyncio.create_task(api.get(f"/v1/kv/w?index={index}&wait=300ms"))
    await asyncio.sleep(0.05)
    whats(await txn(api, kv("set", "w", Value=b"2"), kv("get", "missing")))
    reply = await reader
    assert reply.index == index
    assert base64.b64decode(reply.json()[0]["Value"]) == b"1"


async def test_a_blocked_reader_wakes_once_with_the_whole_transaction(api: Api) -> None:
    await api.put("/v1/kv/r/0", b"")
    start = (await api.get("/v1/kv/r/?recurse")).index
    reader = asyncio.create_task(api.get(f"/v1/kv/r/?recurse&index={start}&wait=5s"))
    await asyncio.sleep(0.05)
    (a, _b) = entries(await txn(api, kv("set", "r/a", Value=b""), kv("set", "r/b", Value=b"")))
    reply = await reader
    assert reply.index == a["ModifyIndex"]
    assert [e["Key"] for e in reply.json()] == ["r/0", "r/a", "r/b"]


def test_the_store_reports_a_transaction_s_changes_once() -> None:
    """memdb fires the watch channels of one write transaction at commit, together."""
    notified: list[frozenset[Any]] = []
    store = Store(node_name="n", on_change=notified.append)
    body = json.dumps([kv("set", "a", Value=b"1"), kv("set", "b", Value=b"2")]).encode()
    results, errors = write(store, convert_ops(body, datacenter="dc1"))
    assert errors == [] and results is not None and len(results) == 2
    assert len(notified) == 1
    assert {("kv-key", "a"), ("kv-key", "b"), "kv"} <= notified[0]


# -- read-only transactions ----------------------------------------------------------------------


async def test_a_read_only_transaction_is_served_as_a_read(api: Api) -> None:
    """No writes: Txn.Read, with X-Consul-LastContact and X-Consul-KnownLeader but no
    X-Consul-Index; TxnReadResponse embeds QueryMeta, so its fields are in the body."""
    await api.put("/v1/kv/r", b"v")
    reply = await txn(api, kv("get", "r"))
    assert reply.status == 200
    assert reply.headers["X-Consul-KnownLeader"] == "true"
    assert reply.headers["X-Consul-LastContact"] == "0"
    assert "X-Consul-Index" not in reply.headers
    body = reply.json()
    assert {k: v for k, v in body.items() if k not in ("Results", "Errors")} == {
        "KnownLeader": True,
        **QUERY_META,
    }


async def test_a_read_only_transaction_honours_stale(api: Api) -> None:
    await api.put("/v1/kv/r", b"v")
    assert (await txn(api, kv("get", "r"), query="?stale")).status == 200
    assert (await txn(api, kv("get", "r"), query="?consistent")).status == 200


async def test_stale_with_consistent_is_400_for_a_read(api: Api) -> None:
    reply = await txn(api, kv("get", "r"), query="?stale&consistent")
    assert (reply.status, reply.text) == (
        400,
        "Cannot specify ?stale with ?consistent, conflicting semantics.",
    )


async def test_a_write_ignores_consistency_parameters(api: Api) -> None:
    """With writes only the datacenter and token are parsed."""
    reply = await txn(api, kv("set", "w", Value=b""), query="?stale&consistent&wait=bogus")
    assert reply.status == 200


async def test_a_read_only_transaction_has_no_blocking(api: Api) -> None:
    """parseWait still validates ?wait, but nothing blocks."""
    reply = await txn(api, kv("check-not-exists", "r"), query="?index=1000&wait=10s")
    assert reply.status == 200
    reply = await txn(api, kv("check-not-exists", "r"), query="?wait=soon")
    assert (reply.status, reply.text) == (400, "Invalid wait time")


async def test_a_read_rolled_back_in_pre_check_knows_no_leader(api: Api) -> None:
    """Txn.Read returns after preCheck errors before SetQueryMeta: KnownLeader stays false."""
    reply = await txn(api, kv("get", ""))
    assert reply.status == 409
    assert reply.headers["X-Consul-KnownLeader"] == "false"
    assert reply.json()["KnownLeader"] is False


async def test_a_failed_read_is_409_with_the_query_meta(api: Api) -> None:
    reply = await txn(api, kv("get", "missing"))
    assert whats(reply) == [(0, 'key "missing" doesn\'t exist')]
    assert reply.headers["X-Consul-KnownLeader"] == "true"
    assert reply.json()["KnownLeader"] is True


@pytest.mark.parametrize("op", [kv("get", "a"), kv("set", "a", Value=b"")])
async def test_an_unknown_datacenter_is_500(api: Api, op: dict[str, Any]) -> None:
    reply = await txn(api, op, query="?dc=elsewhere")
    assert (reply.status, reply.text) == (500, "No path to datacenter")


# -- catalog operations (state/txn.go txnNode, txnService, txnCheck) ------------------------------


def node(verb: str, **fields: Any) -> dict[str, Any]:
    return {"Node": {"Verb": verb, "Node": fields}}


def service(verb: str, node_name: str, **fields: Any) -> dict[str, Any]:
    return {"Service": {"Verb": verb, "Node": node_name, "Service": fields}}


def check(verb: str, **fields: Any) -> dict[str, Any]:
    return {"Check": {"Verb": verb, "Check": fields}}


def results(reply: Reply) -> list[dict[str, Any]]:
    assert reply.status == 200, reply.text
    assert reply.json()["Errors"] is None
    found: list[dict[str, Any]] = reply.json()["Results"]
    return found


N1 = {"Node": "n1", "Address": "10.0.0.1"}
WEB = {"ID": "web1", "Service": "web", "Port": 80, "Tags": ["v1"]}


async def test_node_set_registers_the_node_in_the_catalog(api: Api) -> None:
    (result,) = results(await txn(api, node("set", **N1, Meta={"rack": "a"})))
    assert result["Node"]["Node"] == "n1"
    assert result["Node"]["Datacenter"] == "dc1"  # convertOps: the agent's by default
    assert result["Node"]["CreateIndex"] == result["Node"]["ModifyIndex"]
    stored = (await api.get("/v1/catalog/node/n1")).json()["Node"]
    assert stored == result["Node"]


async def test_node_get_by_name_and_by_id(api: Api) -> None:
    node_id = "5c1f9d1e-6a0e-4d5b-8f1e-000000000001"
    await txn(api, node("set", **N1, ID=node_id))
    by_name, by_id = results(await txn(api, node("get", Node="n1"), node("get", ID=node_id)))
    assert by_name == by_id
    assert by_id["Node"]["ID"] == node_id


async def test_node_get_of_a_missing_node_fails(api: Api) -> None:
    assert whats(await txn(api, node("get", Node="ghost"))) == [(0, 'node "ghost" doesn\'t exist')]


async def test_node_cas_with_index_zero_creates_only(api: Api) -> None:
    results(await txn(api, node("cas", **N1, ModifyIndex=0)))
    reply = await txn(api, node("cas", **N1, ModifyIndex=0))
    assert whats(reply) == [(0, 'failed to set node "n1", index is stale')]


async def test_node_cas_at_the_current_index_updates(api: Api) -> None:
    (created,) = results(await txn(api, node("set", **N1)))
    index = created["Node"]["ModifyIndex"]
    (updated,) = results(await txn(api, node("cas", Node="n1", Address="10.0.0.2",
                                              ModifyIndex=index)))
    assert updated["Node"]["Address"] == "10.0.0.2"
    assert updated["Node"]["ModifyIndex"] > index


async def test_node_delete_removes_its_services_and_checks(api: Api) -> None:
    await txn(api, node("set", **N1), service("set", "n1", **WEB))
    assert results(await txn(api, node("delete", Node="n1"))) == []
    assert (await api.get("/v1/catalog/node/n1")).json() is None
    assert (await api.get("/v1/catalog/service/web")).json() == []


async def test_node_delete_cas_of_a_missing_node_fails(api: Api) -> None:
    """deleteNodeCASTxn returns false for a missing node (KV's delete-cas does not)."""
    reply = await txn(api, node("delete-cas", Node="ghost", ModifyIndex=1))
    assert whats(reply) == [(0, 'failed to delete node "ghost", index is stale')]


@pytest.mark.parametrize(
    ("op", "what"),
    [
        (node("set", Address="10.0.0.1"), "Must provide node"),
        (node("set", **N1, ID="not-a-uuid"), "Bad node ID: uuid string is wrong length"),
        (node("bogus", **N1), "unknown node operation: bogus"),
        (service("bogus", "n1", **WEB), "unknown service operation: bogus"),
        (check("bogus", Node="n1", CheckID="c"), "unknown check operation: bogus"),
        (service("set", "n1", ID="web1"),
         "Must provide service name (Service.Service) when service ID is provided"),
        (service("set", "n1", Service="web", Address="0.0.0.0"), "Invalid service address"),
    ],
)
async def test_catalog_pre_checks_refuse_before_raft(
        api: Api, op: dict[str, Any], what: str) -> None:
    """Txn.preCheck: nodeVerbValidate/nodePreApply, serviceVerbValidate/servicePreApply..."""
    assert whats(await txn(api, op)) == [(0, what)]


async def test_service_set_needs_a_registered_node(api: Api) -> None:
    reply = await txn(api, service("set", "ghost", **WEB))
    assert whats(reply) == [(0, "Missing node registration")]


async def test_service_set_registers_the_instance(api: Api) -> None:
    _, result = results(await txn(api, node("set", **N1), service("set", "n1", **WEB)))
    assert {k: result["Service"][k] for k in ("ID", "Service", "Port", "Tags", "Weights")} == {
        "ID": "web1", "Service": "web", "Port": 80, "Tags": ["v1"],
        "Weights": {"Passing": 1, "Warning": 1}}
    (instance,) = (await api.get("/v1/catalog/service/web")).json()
    assert (instance["Node"], instance["ServiceID"]) == ("n1", "web1")


async def test_service_id_defaults_to_its_name(api: Api) -> None:
    _, result = results(await txn(api, node("set", **N1), service("set", "n1", Service="db")))
    assert result["Service"]["ID"] == "db"


async def test_service_meta_is_validated(api: Api) -> None:
    reply = await txn(api, node("set", **N1), service("set", "n1", **WEB, Meta={"consul-x": "1"}))
    assert whats(reply) == [(1, (
        "Invalid Service Meta for node n1 and serviceID web1: Couldn't load metadata pair "
        "('consul-x', '1'): Key prefix 'consul-' is reserved for internal use"))]


async def test_service_get_of_a_missing_instance_fails(api: Api) -> None:
    reply = await txn(api, service("get", "n1", ID="web1"))
    assert whats(reply) == [(0, 'service "web1" on node "n1" doesn\'t exist')]


async def test_service_cas_and_delete_cas_compare_the_modify_index(api: Api) -> None:
    _, created = results(await txn(api, node("set", **N1), service("set", "n1", **WEB)))
    stale = created["Service"]["ModifyIndex"] + 1
    assert whats(await txn(api, service("cas", "n1", **WEB, ModifyIndex=stale))) == [
        (0, 'failed to set service "web1" on node "n1", index is stale')]
    assert whats(await txn(api, service("delete-cas", "n1", **WEB, ModifyIndex=stale))) == [
        (0, 'failed to delete service "web1" on node "n1", index is stale')]
    current = created["Service"]["ModifyIndex"]
    assert results(await txn(api, service("delete-cas", "n1", **WEB, ModifyIndex=current))) == []
    assert (await api.get("/v1/catalog/service/web")).json() == []


async def test_check_set_on_a_service_takes_its_name_and_tags(api: Api) -> None:
    ops = [node("set", **N1), service("set", "n1", **WEB),
           check("set", Node="n1", Name="http", ServiceID="web1", Status="passing",
                 Definition={"HTTP": "http://10.0.0.1/health", "Interval": "10s"})]
    *_, result = results(await txn(api, *ops))
    found = result["Check"]
    assert (found["CheckID"], found["ServiceName"], found["ServiceTags"]) == ("http", "web", ["v1"])
    assert found["Definition"] == {"Interval": "10s", "HTTP": "http://10.0.0.1/health"}


async def test_check_status_defaults_to_critical(api: Api) -> None:
    _, result = results(await txn(api, node("set", **N1), check("set", Node="n1", CheckID="c")))
    assert result["Check"]["Status"] == "critical"


@pytest.mark.parametrize(
    ("op", "what"),
    [
        (check("set", Node="ghost", CheckID="c"), "Missing node registration"),
        (check("set", Node="n1", CheckID="c", ServiceID="nope"), "Missing service registration"),
    ],
)
async def test_check_set_needs_its_node_and_service(
        api: Api, op: dict[str, Any], what: str) -> None:
    await txn(api, node("set", **N1))
    assert whats(await txn(api, op)) == [(0, what)]


async def test_check_get_cas_and_delete(api: Api) -> None:
    _, created = results(await txn(api, node("set", **N1), check("set", Node="n1", CheckID="c")))
    (got,) = results(await txn(api, check("get", Node="n1", CheckID="c")))
    assert got == created
    index = created["Check"]["ModifyIndex"]
    assert whats(await txn(api, check("cas", Node="n1", CheckID="c", ModifyIndex=index + 1))) == [
        (0, 'failed to set check "c" on node "n1", index is stale')]
    assert results(await txn(api, check("delete", Node="n1", CheckID="c"))) == []
    assert whats(await txn(api, check("get", Node="n1", CheckID="c"))) == [
        (0, 'check "c" on node "n1" doesn\'t exist')]
    assert whats(await txn(api, check("delete-cas", Node="n1", CheckID="c", ModifyIndex=1))) == [
        (0, 'failed to delete check "c" on node "n1", index is stale')]


async def test_a_catalog_get_counts_as_a_read(api: Api) -> None:
    await txn(api, node("set", **N1))
    reply = await txn(api, node("get", Node="n1"))
    assert reply.status == 200
    assert reply.headers["X-Consul-KnownLeader"] == "true"
    assert "Index" in reply.json()


async def test_catalog_and_kv_operations_roll_back_together(api: Api) -> None:
    reply = await txn(api, node("set", **N1), service("set", "n1", **WEB),
                      kv("set", "a", Value=b""), kv("get", "missing"))
    assert whats(reply) == [(3, 'key "missing" doesn\'t exist')]
    assert (await api.get("/v1/catalog/node/n1")).json() is None
    assert (await api.get("/v1/kv/a")).status == 404


async def test_a_rolled_back_node_delete_keeps_the_node_s_sessions(api: Api) -> None:
    """deleteNodeTxn invalidates the node's sessions; a rollback brings them back."""
    await txn(api, node("set", **N1))
    session_id = await api.create_session(Node="n1", NodeChecks=[])
    whats(await txn(api, node("delete", Node="n1"), kv("get", "missing")))
    assert (await api.get(f"/v1/session/info/{session_id}")).json() != []
    results(await txn(api, node("delete", Node="n1")))
    assert (await api.get(f"/v1/session/info/{session_id}")).json() == []


async def test_catalog_objects_are_decoded_as_consul_s_api_types(api: Api) -> None:
    reply = await txn(api, {"Node": {"Verb": "set", "Node": {"Node": "n1", "Port": 1}}})
    assert (reply.status, reply.text) == (400, 'Failed to parse body: json: unknown field "Port"')
    reply = await txn(api, {"Service": {"Verb": "set", "Node": "n", "Service": {"Port": "80"}}})
    assert reply.text == ("Failed to parse body: json: cannot unmarshal string into Go struct "
                          "field AgentService.Service.Service.Port of type int")


def test_a_bare_store_refuses_catalog_operations() -> None:
    """Without catalog tables the operation is one the server does not handle."""
    body = json.dumps([node("get", Node="n1")]).encode()
    assert pre_check(Store(node_name="n"), convert_ops(body, datacenter="dc1")) == [
        TxnError(0, "unknown operation type")]
