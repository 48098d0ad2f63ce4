"""Transaction permissions, as ``agent/consul/txn_endpoint.go`` has them: Txn.Read and
Txn.Apply resolve the token, preCheck vets every operation (kvsPreApply, vetNodeTxnOp,
servicePreApply, vetCheckTxnOp) and reports each denial in that operation's TxnError (409, never
a 403), and FilterTxnResults drops what the token may not read from the results.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from aioconsul.testing.acl.authorizer import Permission

from .acl_texts import ADMIN, anonymous, denied
from .conftest import Api, GrantResolver, Reply


def kv(verb: str, key: str, **fields: Any) -> dict[str, Any]:
    if isinstance(fields.get("Value"), bytes):
        fields["Value"] = base64.b64encode(fields["Value"]).decode()
    return {"KV": {"Verb": verb, "Key": key, **fields}}


def node(verb: str, **fields: Any) -> dict[str, Any]:
    return {"Node": {"Verb": verb, "Node": fields}}


def service(verb: str, node_name: str, **fields: Any) -> dict[str, Any]:
    return {"Service": {"Verb": verb, "Node": node_name, "Service": fields}}


def check(verb: str, **fields: Any) -> dict[str, Any]:
    return {"Check": {"Verb": verb, "Check": fields}}


async def txn(api: Api, *ops: Any, headers: dict[str, str] | None = None) -> Reply:
    return await api.put("/v1/txn", json.dumps(list(ops)), headers=headers)


def whats(reply: Reply) -> list[tuple[int, str]]:
    assert reply.status == 409, reply.text
    assert reply.json()["Results"] is None
    return [(e["OpIndex"], e["What"]) for e in reply.json()["Errors"]]


async def seed(api: Api, grants: GrantResolver, *ops: Any) -> dict[str, str]:
    admin = grants.grant("admin", ADMIN)
    if ops:
        reply = await txn(api, *ops, headers=admin)
        assert reply.status == 200, reply.text
    return admin


# -- KV operations (kvsPreApply) -----------------------------------------------------------


async def test_a_denied_set_is_its_operations_error(api: Api, grants: GrantResolver) -> None:
    """preCheck appends err.Error() as the op's What: the detailed denial, answered 409."""
    reply = await txn(api, kv("set", "app/x", Value=b"1"))
    assert whats(reply) == [(0, anonymous("key:write", "app/x"))]


async def test_every_denied_operation_is_reported(api: Api, grants: GrantResolver) -> None:
    headers = grants.grant("t", {Permission.KEY_WRITE: ("app/",)})
    ops = [kv("set", "app/ok", Value=b"1"), kv("set", "other", Value=b"1"),
           kv("delete", "else")]
    assert whats(await txn(api, *ops, headers=headers)) == [
        (1, denied("t", "key:write", "other")),
        (2, denied("t", "key:write", "else")),
    ]
    admin = grants.grant("admin", ADMIN)
    assert (await api.get("/v1/kv/app/ok", headers=admin)).status == 404  # nothing applied


async def test_an_allowed_set_is_applied(api: Api, grants: GrantResolver) -> None:
    headers = grants.grant("t", {Permission.KEY_WRITE: ("app/",), Permission.KEY_READ: ("app/",)})
    reply = await txn(api, kv("set", "app/x", Value=b"1"), headers=headers)
    assert reply.status == 200, reply.text
    assert [r["KV"]["Key"] for r in reply.json()["Results"]] == ["app/x"]


async def test_results_of_writes_are_filtered_by_key_read(
    api: Api, grants: GrantResolver
) -> None:
    """Txn.Apply: FilterTxnResults on the applied transaction's results; TxnResponse has no
    flag to say so."""
    headers = grants.grant("t", {Permission.KEY_WRITE: ("app/",)})
    reply = await txn(api, kv("set", "app/x", Value=b"1"), headers=headers)
    assert (reply.status, reply.json()) == (200, {"Results": [], "Errors": None})


async def test_missing_key_comes_before_the_permission(api: Api, grants: GrantResolver) -> None:
    """kvsPreApply: "Must provide key" first, so the op is not also denied."""
    assert whats(await txn(api, kv("set", "", Value=b"1"))) == [(0, "Must provide key")]


async def test_check_index_needs_key_read(api: Api, grants: GrantResolver) -> None:
    """KVCheckSession and KVCheckIndex "could reveal information": KeyReadAllowed."""
    await seed(api, grants, kv("set", "app/x", Value=b"1"))
    headers = grants.grant("t", {Permission.KEY_WRITE: ("app/",)})
    ops = [kv("check-index", "app/x", Index=1), kv("check-session", "app/x", Session="s")]
    assert whats(await txn(api, *ops, headers=headers)) == [
        (0, denied("t", "key:read", "app/x")),
        (1, denied("t", "key:read", "app/x")),
    ]


async def test_check_not_exists_needs_key_write(api: Api, grants: GrantResolver) -> None:
    """check-not-exists is none of the read verbs: kvsPreApply's default, KeyWriteAllowed,
    even in a read-only transaction."""
    headers = grants.grant("t", {Permission.KEY_READ: ("app/",)})
    reply = await txn(api, kv("check-not-exists", "app/x"), headers=headers)
    assert whats(reply) == [(0, denied("t", "key:write", "app/x"))]
    assert reply.headers["X-Consul-KnownLeader"] == "false"  # before SetQueryMeta


async def test_delete_tree_needs_write_on_the_prefix(api: Api, grants: GrantResolver) -> None:
    headers = grants.grant("t", {Permission.KEY_WRITE: ("app/",)})
    assert whats(await txn(api, kv("delete-tree", "app/"), headers=headers)) == [
        (0, denied("t", "key:write", "app/"))]
    owner = grants.grant("o", {Permission.KEY_WRITE_PREFIX: ("app/",)})
    assert (await txn(api, kv("delete-tree", "app/"), headers=owner)).status == 200


async def test_gets_are_not_vetted_but_filtered(api: Api, grants: GrantResolver) -> None:
    """Txn.Read: reads pass preCheck; FilterTxnResults drops the unreadable ones and the body's
    ResultsFilteredByACLs says so."""
    await seed(api, grants, kv("set", "app/a", Value=b"1"), kv("set", "secret/b", Value=b"2"))
    headers = grants.grant("t", {Permission.KEY_READ: ("app/",)})
    reply = await txn(api, kv("get", "app/a"), kv("get", "secret/b"), kv("get-tree", "secret/"),
                      headers=headers)
    assert reply.status == 200, reply.text
    body = reply.json()
    assert [r["KV"]["Key"] for r in body["Results"]] == ["app/a"]
    assert body["ResultsFilteredByACLs"] is True
    assert "X-Consul-Results-Filtered-By-ACLs" not in reply.headers  # only the body says it


async def test_an_anonymous_read_is_filtered_without_saying_so(
    api: Api, grants: GrantResolver
) -> None:
    """SetQueryMeta masks ResultsFilteredByACLs for a request without a token."""
    await seed(api, grants, kv("set", "app/a", Value=b"1"))
    reply = await txn(api, kv("get", "app/a"))
    assert reply.status == 200, reply.text
    assert (reply.json()["Results"], reply.json()["ResultsFilteredByACLs"]) == ([], False)


async def test_an_unknown_token_fails_the_transaction(api: Api, grants: GrantResolver) -> None:
    """ResolveToken's error is the RPC's: 403 "ACL not found", no TxnErrors."""
    reply = await txn(api, kv("get", "app/a"), headers={"X-Consul-Token": "nope"})
    assert (reply.status, reply.text) == (403, "ACL not found")
    reply = await txn(api, kv("set", "app/a"), headers={"X-Consul-Token": "nope"})
    assert (reply.status, reply.text) == (403, "ACL not found")


# -- catalog operations --------------------------------------------------------------------

N1 = {"Node": "n1", "Address": "10.0.0.1"}
WEB = {"ID": "web1", "Service": "web", "Port": 80}


async def test_node_writes_need_node_write(api: Api, grants: GrantResolver) -> None:
    """vetNodeTxnOp: NodeWriteAllowed on the op's node, for every verb but get."""
    headers = grants.grant("t", {Permission.NODE_WRITE: ("web-",)})
    ops = [node("set", **N1), node("delete", Node="n1"), node("set", Node="web-1")]
    assert whats(await txn(api, *ops, headers=headers)) == [
        (0, denied("t", "node:write", "n1")),
        (1, denied("t", "node:write", "n1")),
    ]


async def test_node_pre_apply_comes_before_the_permission(
    api: Api, grants: GrantResolver
) -> None:
    assert whats(await txn(api, node("set", Address="10.0.0.1"))) == [(0, "Must provide node")]
    assert whats(await txn(api, node("bogus", **N1))) == [(0, "unknown node operation: bogus")]


async def test_node_get_is_filtered_by_node_read(api: Api, grants: GrantResolver) -> None:
    await seed(api, grants, node("set", **N1), node("set", Node="n2", Address="10.0.0.2"))
    headers = grants.grant("t", {Permission.NODE_READ: ("n2",)})
    reply = await txn(api, node("get", Node="n1"), node("get", Node="n2"), headers=headers)
    assert [r["Node"]["Node"] for r in reply.json()["Results"]] == ["n2"]
    assert reply.json()["ResultsFilteredByACLs"] is True


async def test_service_writes_need_service_write_on_the_name(
    api: Api, grants: GrantResolver
) -> None:
    """servicePreApply: ServiceWriteAllowed on Service.Service, after its validation."""
    headers = grants.grant("t", {})
    ops = [service("set", "n1", **WEB), service("set", "n1", ID="x", Address="0.0.0.0")]
    assert whats(await txn(api, *ops, headers=headers)) == [
        (0, denied("t", "service:write", "web")),
        (1, "Must provide service name (Service.Service) when service ID is provided"),
    ]


async def test_the_consul_service_is_exempt(api: Api, grants: GrantResolver) -> None:
    """structs.ConsulServiceName is skipped by servicePreApply's check."""
    admin = await seed(api, grants, node("set", **N1))
    headers = grants.grant("t", {Permission.SERVICE_READ: ("",), Permission.NODE_READ: ("",)})
    reply = await txn(api, service("set", "n1", Service="consul"), headers=headers)
    assert reply.status == 200, reply.text
    assert (await api.get("/v1/catalog/service/consul", headers=admin)).json() != []


async def test_a_proxy_needs_write_on_its_destination(api: Api, grants: GrantResolver) -> None:
    headers = grants.grant("t", {Permission.SERVICE_WRITE: ("web-proxy",)})
    proxy = {"Service": "web-proxy", "Kind": "connect-proxy", "Port": 21000,
             "Proxy": {"DestinationServiceName": "web"}}
    assert whats(await txn(api, service("set", "n1", **proxy), headers=headers)) == [
        (0, denied("t", "service:write", "web"))]


async def test_service_get_is_filtered_by_service_read(api: Api, grants: GrantResolver) -> None:
    await seed(api, grants, node("set", **N1), service("set", "n1", **WEB))
    headers = grants.grant("t", {Permission.NODE_READ: ("",)})
    reply = await txn(api, service("get", "n1", ID="web1"), headers=headers)
    assert (reply.status, reply.json()["Results"]) == (200, [])
    assert reply.json()["ResultsFilteredByACLs"] is True


async def test_checks_need_node_or_service_write(api: Api, grants: GrantResolver) -> None:
    """vetCheckTxnOp: a node check needs node:write on its node, a service check service:write
    on its ServiceName."""
    headers = grants.grant("t", {})
    ops = [check("set", Node="n1", CheckID="mem"),
           check("set", Node="n1", CheckID="http", ServiceID="web1", ServiceName="web")]
    assert whats(await txn(api, *ops, headers=headers)) == [
        (0, denied("t", "node:write", "n1")),
        (1, denied("t", "service:write", "web")),
    ]


async def test_an_allowed_catalog_transaction_is_applied(
    api: Api, grants: GrantResolver
) -> None:
    grant = {Permission.NODE_WRITE: ("n1",), Permission.SERVICE_WRITE: ("web",),
             Permission.NODE_READ: ("n1",), Permission.SERVICE_READ: ("web",)}
    headers = grants.grant("t", grant)
    ops = [node("set", **N1), service("set", "n1", **WEB),
           check("set", Node="n1", CheckID="http", ServiceID="web1", ServiceName="web")]
    reply = await txn(api, *ops, headers=headers)
    assert reply.status == 200, reply.text
    assert [next(iter(r)) for r in reply.json()["Results"]] == ["Node", "Service", "Check"]
