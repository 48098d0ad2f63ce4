"""``client.txn`` and the transaction builder (``client.kv.txn()``).

Expected behaviour is Consul's, from website/content/api-docs/txn.mdx, agent/txn_endpoint.go
and agent/consul/state/txn.go (see ../shared/consul-api/semantics.md §10). The builder is pure:
its unit tests send nothing; the others run against the ``consul`` fixture.
"""

from __future__ import annotations

from typing import Any

import pytest

import aioconsul
from aioconsul import Consul, Meta, TxnFailed
from aioconsul.api.kv import MAX_VALUE_SIZE
from aioconsul.api.txn import (
    MAX_OPS,
    Transaction,
    Txn,
    decode_results,
    encode_ops,
    is_read_only,
)
from aioconsul.errors import Conflict, TxnOpError, error_for_status

# -- the builder: pure, validated when each operation is added ----------------------------------


def test_set_adds_consul_s_operation_with_bytes() -> None:
    txn = Transaction().set("a", b"1", flags=7)
    assert txn.ops == [{"KV": {"Verb": "set", "Key": "a", "Value": b"1", "Flags": 7}}]


@pytest.mark.parametrize(
    ("build", "op"),
    [
        (lambda t: t.cas("a", b"1", index=0), {"Verb": "cas", "Key": "a", "Value": b"1",
                                                "Index": 0}),
        (lambda t: t.cas("a", b"", index={"ModifyIndex": 9}),
         {"Verb": "cas", "Key": "a", "Value": b"", "Index": 9}),
        (lambda t: t.lock("a", session="s1"), {"Verb": "lock", "Key": "a", "Value": b"",
                                               "Session": "s1"}),
        (lambda t: t.unlock("a", b"v", session={"ID": "s1"}, flags=2),
         {"Verb": "unlock", "Key": "a", "Value": b"v", "Flags": 2, "Session": "s1"}),
        (lambda t: t.get("a"), {"Verb": "get", "Key": "a"}),
        (lambda t: t.get_or_empty("a"), {"Verb": "get-or-empty", "Key": "a"}),
        (lambda t: t.get_tree("p/"), {"Verb": "get-tree", "Key": "p/"}),
        (lambda t: t.check_index({"Key": "a", "ModifyIndex": 5}, index=5),
         {"Verb": "check-index", "Key": "a", "Index": 5}),
        (lambda t: t.check_session("a", session="s1"),
         {"Verb": "check-session", "Key": "a", "Session": "s1"}),
        (lambda t: t.check_not_exists("a"), {"Verb": "check-not-exists", "Key": "a"}),
        (lambda t: t.delete("a"), {"Verb": "delete", "Key": "a"}),
        (lambda t: t.delete_tree(""), {"Verb": "delete-tree", "Key": ""}),
        (lambda t: t.delete_cas("a", index="12"), {"Verb": "delete-cas", "Key": "a",
                                                   "Index": 12}),
    ],
)
def test_each_kv_verb_builds_consul_s_operation(build: Any, op: dict[str, Any]) -> None:
    assert build(Transaction()).ops == [{"KV": op}]


def test_verbs_chain() -> None:
    txn = Transaction().set("a", b"1").get("a").delete("a")
    assert [op["KV"]["Verb"] for op in txn] == ["set", "get", "delete"]
    assert len(txn) == 3


@pytest.mark.parametrize(
    ("build", "error", "match"),
    [
        (lambda t: t.set("", b"1"), ValueError, "^key: must not be empty"),
        (lambda t: t.set("/a", b"1"), ValueError, "^key: must not begin with '/'"),
        (lambda t: t.get("a\nb"), ValueError, "^key: contains the non-printable"),
        (lambda t: t.set("a", "text"), TypeError, r"^value: expected bytes .*encode text"),
        (lambda t: t.set("a", b"x" * (MAX_VALUE_SIZE + 1)), ValueError, "^value: .* over"),
        (lambda t: t.set("a", b"1", flags=-1), ValueError, "^flags: "),
        (lambda t: t.set("a", b"1", flags=True), TypeError, "^flags: "),
        (lambda t: t.cas("a", b"1", index=1.5), TypeError, "^index: "),
        (lambda t: t.check_index("a", index={"CreateIndex": 1}), ValueError, "^index: "),
        (lambda t: t.lock("a", session=""), ValueError, "^session: must not be empty"),
        (lambda t: t.check_session("a", session=7), TypeError, "^session: "),
        (lambda t: t.get_tree(""), ValueError, "^prefix: must not be empty"),
        (lambda t: t.delete_cas("a", index=0), ValueError, "^index: .*above 0"),
    ],
)
def test_bad_input_is_refused_when_added(build: Any, error: type[Exception], match: str) -> None:
    txn = Transaction()
    with pytest.raises(error, match=match):
        build(txn)
    assert len(txn) == 0


def test_the_129th_operation_is_refused() -> None:
    txn = Transaction()
    for i in range(MAX_OPS):
        txn.get(f"k/{i}")
    with pytest.raises(ValueError, match="at most 128 operations"):
        txn.get("one-too-many")
    assert len(txn) == MAX_OPS == 128


def test_ops_is_a_copy() -> None:
    txn = Transaction().get("a")
    txn.ops[0]["KV"]["Key"] = "changed"
    assert txn.ops[0]["KV"]["Key"] == "a"


def test_node_verbs_build_consul_s_operations() -> None:
    node = {"Node": "n1", "Address": "10.0.0.1", "ModifyIndex": 4}
    txn = (Transaction().node_set(node).node_cas(node).node_get("n1")
           .node_get({"ID": "5c1f9d1e-0000-4000-8000-000000000001"}).node_delete("n1")
           .node_delete_cas("n1", index=4))
    assert [op["Node"] for op in txn] == [
        {"Verb": "set", "Node": node},
        {"Verb": "cas", "Node": node},
        {"Verb": "get", "Node": {"Node": "n1"}},
        {"Verb": "get", "Node": {"ID": "5c1f9d1e-0000-4000-8000-000000000001"}},
        {"Verb": "delete", "Node": {"Node": "n1"}},
        {"Verb": "delete-cas", "Node": {"Node": "n1", "ModifyIndex": 4}},
    ]


def test_service_verbs_build_consul_s_operations() -> None:
    web = {"ID": "web1", "Service": "web", "Port": 80, "ModifyIndex": 6}
    txn = (Transaction().service_set("n1", web).service_cas({"Node": "n1"}, web, index=7)
           .service_get("n1", "web1").service_delete("n1", web).service_delete_cas(
               "n1", "web1", index=6))
    assert [op["Service"] for op in txn] == [
        {"Verb": "set", "Node": "n1", "Service": web},
        {"Verb": "cas", "Node": "n1", "Service": {**web, "ModifyIndex": 7}},
        {"Verb": "get", "Node": "n1", "Service": {"ID": "web1"}},
        {"Verb": "delete", "Node": "n1", "Service": web},
        {"Verb": "delete-cas", "Node": "n1", "Service": {"ID": "web1", "ModifyIndex": 6}},
    ]


def test_check_verbs_build_consul_s_operations() -> None:
    check = {"Node": "n1", "CheckID": "c1", "Name": "disk", "Status": "passing",
             "ModifyIndex": 3}
    txn = (Transaction().check_set(check).check_cas(check).check_get("n1", "c1")
           .check_delete("n1", check).check_delete_cas("n1", "c1", index=3))
    assert [op["Check"] for op in txn] == [
        {"Verb": "set", "Check": check},
        {"Verb": "cas", "Check": check},
        {"Verb": "get", "Check": {"Node": "n1", "CheckID": "c1"}},
        {"Verb": "delete", "Check": check},
        {"Verb": "delete-cas", "Check": {"Node": "n1", "CheckID": "c1", "ModifyIndex": 3}},
    ]


@pytest.mark.parametrize(
    ("build", "error", "match"),
    [
        (lambda t: t.node_set({"Address": "10.0.0.1"}), ValueError, "^node: .*'Node'"),
        (lambda t: t.node_set("n1"), TypeError, "^node: expected a mapping"),
        (lambda t: t.node_cas({"Node": "n1"}), ValueError, "^index: give index="),
        (lambda t: t.node_delete_cas("n1"), ValueError, "^index: give index="),
        (lambda t: t.service_set("n1", {"Service": "web"}), ValueError, "^service: .*'ID'"),
        (lambda t: t.service_get("", "web1"), ValueError, "^node: must not be empty"),
        (lambda t: t.check_set({"Node": "n1"}), ValueError, "^check: .*'CheckID'"),
        (lambda t: t.check_get("n1", 5), TypeError, "^check: "),
    ],
)
def test_bad_catalog_input_is_refused_when_added(
        build: Any, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        build(Transaction())


async def test_a_standalone_transaction_cannot_apply_itself() -> None:
    with pytest.raises(RuntimeError, match="client.txn.apply"):
        await Transaction().get("a").apply()


# -- encoding and decoding ------------------------------------------------------------------------


def test_encode_ops_base64_encodes_kv_values() -> None:
    ops = [{"KV": {"Verb": "set", "Key": "a", "Value": b"\x00\xff"}},
           {"KV": {"Verb": "get", "Key": "a", "Value": None}}]
    assert encode_ops(ops) == [{"KV": {"Verb": "set", "Key": "a", "Value": "AP8="}},
                               {"KV": {"Verb": "get", "Key": "a", "Value": None}}]
    assert ops[0]["KV"]["Value"] == b"\x00\xff"  # the caller's operations are not changed


@pytest.mark.parametrize(
    ("ops", "error", "match"),
    [
        ({"KV": {}}, TypeError, "^ops: expected a list"),
        (["get a"], TypeError, r"^ops\[0\]: expected an operation mapping"),
        ([{}], ValueError, r"^ops\[0\]: an operation has exactly one"),
        ([{"KV": {}, "Node": {}}], ValueError, r"^ops\[0\]: an operation has exactly one"),
        ([{"Session": {"Verb": "delete"}}], ValueError, "refuses session operations"),
        ([{"KV": "set"}], TypeError, r"^ops\[0\]\.KV: expected a mapping"),
        ([{"KV": {"Verb": "set", "Key": "a", "Value": "text"}}], TypeError,
         r"^ops\[0\]\.KV\.Value: expected bytes"),
        ([{"KV": {"Verb": "get", "Key": "a"}}] * 129, ValueError, "129 operations"),
    ],
)
def test_encode_ops_refuses_what_consul_would(ops: Any, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        encode_ops(ops)


def test_read_only_is_consul_s_is_write_negated() -> None:
    assert is_read_only([{"KV": {"Verb": "get"}}, {"KV": {"Verb": "check-index"}},
                         {"Node": {"Verb": "get"}}])
    assert not is_read_only([{"KV": {"Verb": "get"}}, {"KV": {"Verb": "delete-tree"}}])
    assert not is_read_only([{"Check": {"Verb": "bogus"}}])


def test_decode_results_turns_values_into_bytes() -> None:
    data = {"Results": [{"KV": {"Key": "a", "Value": "aGk="}}, {"KV": {"Key": "b", "Value": None}},
                        {"Node": {"Node": "n1"}}], "Errors": None}
    assert decode_results(data) == [{"KV": {"Key": "a", "Value": b"hi"}},
                                    {"KV": {"Key": "b", "Value": b""}}, {"Node": {"Node": "n1"}}]


def test_a_409_from_txn_is_a_txn_failed_that_names_each_failed_op() -> None:
    body = ('{"Results":null,"Errors":[{"OpIndex":1,"What":"key \\"a\\" doesn\'t exist"},'
            '{"OpIndex":3,"What":"Must provide key"}]}')
    meta = Meta(Index=0)
    error = error_for_status(409, body, meta=meta, operation="PUT /v1/txn", address="h:1")
    assert isinstance(error, TxnFailed) and isinstance(error, Conflict)
    assert error.errors == [TxnOpError(1, 'key "a" doesn\'t exist'), (3, "Must provide key")]
    assert error.errors[0].OpIndex == 1 and error.errors[0].What == 'key "a" doesn\'t exist'
    assert error.meta is meta and error.status == 409
    assert str(error) == ('PUT /v1/txn at h:1: 409 transaction rolled back: '
                          'op 1: key "a" doesn\'t exist; op 3: Must provide key')


def test_another_409_stays_a_conflict() -> None:
    error = error_for_status(409, "conflict", meta=Meta())
    assert type(error) is Conflict


def test_txn_failed_is_exported() -> None:
    assert aioconsul.TxnFailed is TxnFailed
    assert "TxnFailed" in aioconsul.__all__


def test_the_client_has_a_txn_group() -> None:
    client = Consul("127.0.0.1:1")
    assert isinstance(client.txn, Txn)
    assert isinstance(client.kv.txn(), Transaction)


# -- nothing is sent when the input is refused ---------------------------------------------------


async def test_128_operations_are_sent_and_129_refused_before_sending(
        consul: Consul, unreachable: str) -> None:
    ops = [{"KV": {"Verb": "set", "Key": f"k/{i}", "Value": b"v"}} for i in range(129)]
    results, _ = await consul.txn.apply(ops[:128])
    assert len(results) == 128
    async with Consul(unreachable) as client:
        with pytest.raises(ValueError, match="129 operations"):
            await client.txn.apply(ops)


async def test_a_bad_operation_is_refused_before_sending(unreachable: str) -> None:
    async with Consul(unreachable) as client:
        with pytest.raises(ValueError, match="refuses session operations"):
            await client.txn.apply([{"Session": {"Verb": "delete", "Session": {"ID": "x"}}}])


# -- against the agent ----------------------------------------------------------------------------


async def test_apply_returns_results_with_bytes_values(consul: Consul) -> None:
    results, meta = await consul.txn.apply([
        {"KV": {"Verb": "set", "Key": "a", "Value": b"\x00bytes"}},
        {"KV": {"Verb": "get", "Key": "a"}},
    ])
    assert [r["KV"]["Value"] for r in results] == [b"", b"\x00bytes"]
    assert isinstance(meta, Meta)
    entry, _ = await consul.kv.get("a")
    assert entry is not None and entry["ModifyIndex"] == results[0]["KV"]["ModifyIndex"]


async def test_a_rolled_back_transaction_raises_txn_failed_and_applies_nothing(
        consul: Consul) -> None:
    """txn.mdx: 409 when rolled back, Errors naming each failed operation by OpIndex."""
    await consul.kv.set("guard", b"g")
    guard, _ = await consul.kv.get("guard")
    assert guard is not None
    stale = guard["ModifyIndex"] + 1
    txn = consul.kv.txn().set("a", b"1").set("b", b"2").check_index("guard", index=stale)
    with pytest.raises(TxnFailed) as exc:
        await txn.apply()
    assert exc.value.errors == [(2, f'failed index check for key "guard", current modify index '
                                    f'{guard["ModifyIndex"]} != {stale}')]
    assert "op 2: failed index check" in str(exc.value)
    assert (await consul.kv.get("a"))[0] is None
    assert (await consul.kv.get("b"))[0] is None


async def test_every_failed_operation_is_in_the_error(consul: Consul) -> None:
    with pytest.raises(TxnFailed) as exc:
        await consul.txn.apply([{"KV": {"Verb": "get", "Key": "x"}},
                                {"KV": {"Verb": "check-not-exists", "Key": "y"}},
                                {"KV": {"Verb": "get", "Key": "z"}}])
    assert [index for index, _ in exc.value.errors] == [0, 2]


async def test_async_with_applies_when_the_block_ends(consul: Consul) -> None:
    async with consul.kv.txn() as txn:
        txn.set("w/1", b"one").set("w/2", b"two")
        assert txn.results is None
    assert txn.results is not None and len(txn.results) == 2
    assert isinstance(txn.meta, Meta)
    keys, _ = await consul.kv.keys("w/")
    assert keys == ["w/1", "w/2"]


async def test_async_with_applies_nothing_when_the_block_raises(consul: Consul) -> None:
    with pytest.raises(RuntimeError, match="changed my mind"):
        async with consul.kv.txn() as txn:
            txn.set("never", b"1")
            raise RuntimeError("changed my mind")
    assert txn.results is None
    assert (await consul.kv.get("never"))[0] is None


async def test_async_with_raises_txn_failed_on_rollback(consul: Consul) -> None:
    with pytest.raises(TxnFailed):
        async with consul.kv.txn() as txn:
            txn.set("x", b"1").get("missing")
    assert (await consul.kv.get("x"))[0] is None


async def test_a_standalone_transaction_is_applied_by_the_client(consul: Consul) -> None:
    txn = Transaction().set("s", b"v").get("s")
    results, _ = await consul.txn.apply(txn)
    assert results[1]["KV"]["Value"] == b"v"


async def test_a_read_only_transaction_is_a_read_with_leader_meta(consul: Consul) -> None:
    await consul.kv.set("r", b"v")
    results, meta = await consul.kv.txn(consistency="stale").get("r").apply()
    assert results[0]["KV"]["Value"] == b"v"
    assert meta["KnownLeader"] is True
    assert meta["Index"] == 0  # no X-Consul-Index: a transaction cannot be blocked on


async def test_set_and_flags(consul: Consul) -> None:
    (result,), _ = await consul.kv.txn().set("f", b"v", flags=42).apply()
    assert result["KV"]["Flags"] == 42 and result["KV"]["Value"] == b""
    entry, _ = await consul.kv.get("f")
    assert entry is not None and (entry["Value"], entry["Flags"]) == (b"v", 42)


async def test_cas_with_the_entry_read(consul: Consul) -> None:
    await consul.kv.set("c", b"1")
    entry, _ = await consul.kv.get("c")
    await consul.kv.txn().cas("c", b"2", index=entry).apply()
    with pytest.raises(TxnFailed, match='failed to set key "c", index is stale'):
        await consul.kv.txn().cas("c", b"3", index=entry).apply()


async def test_lock_and_unlock(consul: Consul, session: str) -> None:
    (locked,), _ = await consul.kv.txn().lock("l", b"me", session=session).apply()
    assert (locked["KV"]["LockIndex"], locked["KV"]["Session"]) == (1, session)
    (unlocked,), _ = await consul.kv.txn().unlock("l", b"me", session=session).apply()
    assert "Session" not in unlocked["KV"]


async def test_check_session(consul: Consul, session: str) -> None:
    await consul.kv.lock("held", session=session)
    results, _ = await consul.kv.txn().check_session("held", session=session).apply()
    assert results[0]["KV"]["Session"] == session
    with pytest.raises(TxnFailed, match="failed session check"):
        await consul.kv.txn().check_session("held", session="other").apply()


async def test_get_or_empty_of_a_missing_key(consul: Consul) -> None:
    (result,), _ = await consul.kv.txn().get_or_empty("none").apply()
    assert (result["KV"]["Key"], result["KV"]["Value"], result["KV"]["CreateIndex"]) == (
        "none", b"", 0)


async def test_get_tree(consul: Consul) -> None:
    await consul.kv.set("t/a", b"1")
    await consul.kv.set("t/b", b"2")
    results, _ = await consul.kv.txn().get_tree("t/").apply()
    assert [(r["KV"]["Key"], r["KV"]["Value"]) for r in results] == [("t/a", b"1"), ("t/b", b"2")]


async def test_check_index_and_check_not_exists(consul: Consul) -> None:
    await consul.kv.set("i", b"1")
    entry, _ = await consul.kv.get("i")
    results, _ = await consul.kv.txn().check_index("i", index=entry).check_not_exists(
        "nope").apply()
    assert [r["KV"]["Key"] for r in results] == ["i"]
    with pytest.raises(TxnFailed, match='op 0: key "i" exists'):
        await consul.kv.txn().check_not_exists("i").apply()


async def test_delete_delete_tree_and_delete_cas(consul: Consul) -> None:
    for key in ("d/1", "d/2", "single", "cas"):
        await consul.kv.set(key, b"")
    entry, _ = await consul.kv.get("cas")
    results, _ = await (consul.kv.txn().delete("single").delete_tree("d/")
                        .delete_cas("cas", index=entry).apply())
    assert results == []
    assert (await consul.kv.keys("d/"))[0] == []
    assert (await consul.kv.get("single"))[0] is None
    assert (await consul.kv.get("cas"))[0] is None


async def test_get_of_a_missing_key_fails_the_transaction(consul: Consul) -> None:
    with pytest.raises(TxnFailed) as exc:
        await consul.kv.txn().get("missing").apply()
    assert exc.value.errors == [TxnOpError(0, 'key "missing" doesn\'t exist')]
    assert exc.value.status == 409


async def test_values_survive_the_round_trip(consul: Consul) -> None:
    value = bytes(range(256))
    results, _ = await consul.kv.txn().set("bin", value).get("bin").apply()
    assert results[1]["KV"]["Value"] == value
    raw, _ = await consul.kv.raw("bin")
    assert raw == value


# -- catalog verbs against the agent ---------------------------------------------------------------


async def test_catalog_objects_are_registered_in_one_transaction(consul: Consul) -> None:
    node = {"Node": "txn-n1", "Address": "10.0.0.1"}
    web = {"ID": "web1", "Service": "web", "Port": 80}
    results, _ = await (consul.txn.transaction()
                        .node_set(node).service_set(node, web)
                        .check_set({"Node": "txn-n1", "CheckID": "web-up", "ServiceID": "web1",
                                    "Status": "passing"})
                        .apply())
    assert [next(iter(r)) for r in results] == ["Node", "Service", "Check"]
    assert results[2]["Check"]["ServiceName"] == "web"
    (got_node, got_service, got_check), _ = await (
        consul.txn.transaction().node_get("txn-n1").service_get(node, "web1")
        .check_get(node, "web-up").apply())
    assert got_node["Node"]["Address"] == "10.0.0.1"
    assert got_service["Service"]["Port"] == 80
    assert got_check["Check"]["Status"] == "passing"
    await consul.txn.transaction().node_delete(node).apply()


async def test_catalog_cas_uses_the_object_s_modify_index(consul: Consul) -> None:
    (created,), _ = await consul.txn.transaction().node_set(
        {"Node": "txn-n2", "Address": "10.0.0.2"}).apply()
    current = created["Node"]
    (updated,), _ = await consul.txn.transaction().node_cas(
        {**current, "Address": "10.0.0.3"}).apply()
    assert updated["Node"]["Address"] == "10.0.0.3"
    with pytest.raises(TxnFailed, match='failed to set node "txn-n2", index is stale'):
        await consul.txn.transaction().node_cas({**current, "Address": "10.0.0.4"}).apply()
    await consul.txn.transaction().node_delete_cas(updated["Node"]).apply()
    with pytest.raises(TxnFailed, match="doesn't exist"):
        await consul.txn.transaction().node_get("txn-n2").apply()
