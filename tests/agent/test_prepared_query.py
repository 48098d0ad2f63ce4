"""Prepared queries over HTTP (``agent/prepared_query_endpoint.go``,
``agent/consul/prepared_query_endpoint.go``, ``agent/consul/state/prepared_query.go``)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp

from aioconsul.testing import DevAgent
from aioconsul.testing.http.cache import agent_cache

from ._acl import ROOT, ACLApi, acl, acl_agent
from .conftest import Api

__all__ = ["acl", "acl_agent"]

NODE = "aioconsul-dev"


async def create(api: Api, body: dict[str, Any]) -> str:
    reply = await api.request("POST", "/v1/query", json.dumps(body))
    assert reply.status == 200, reply.text
    query_id: str = reply.json()["ID"]
    return query_id


async def register(api: Api, node: str, service: str, *, tags: list[str] | None = None,
                   status: str = "passing", meta: dict[str, str] | None = None,
                   sid: str | None = None) -> None:
    body = {
        "Node": node, "Address": "10.0.0.1",
        "Service": {"Service": service, "ID": sid or f"{service}-{node}", "Tags": tags or [],
                    "Meta": meta or {}},
        "Check": {"CheckID": f"chk-{sid or service}", "Name": "c", "Status": status,
                  "ServiceID": sid or f"{service}-{node}"},
    }
    reply = await api.put("/v1/catalog/register", json.dumps(body))
    assert reply.status == 200, reply.text


async def test_create_get_list_round_trip(api: Api) -> None:
    query_id = await create(api, {"Name": "web-q", "Service": {"Service": "web"},
                                  "DNS": {"TTL": "10s"}})
    reply = await api.get(f"/v1/query/{query_id}")
    assert reply.status == 200
    [query] = reply.json()
    assert query["ID"] == query_id and query["Name"] == "web-q"
    assert query["DNS"] == {"TTL": "10s"}
    assert query["Service"]["Failover"] == {"NearestN": 0, "Datacenters": None, "Targets": None}
    assert query["CreateIndex"] == query["ModifyIndex"] == int(reply.headers["X-Consul-Index"])
    listed = (await api.get("/v1/query")).json()
    assert [q["ID"] for q in listed] == [query_id]


async def test_unknown_query_is_404_query_not_found(api: Api) -> None:
    """preparedQueryGet/Execute write 404 with structs.ErrQueryNotFound's text."""
    missing = "00000000-0000-0000-0000-000000000000"
    for path in (f"/v1/query/{missing}", f"/v1/query/{missing}/execute",
                 "/v1/query/nothing/explain"):
        reply = await api.get(path)
        assert (reply.status, reply.text) == (404, "Query not found"), path


async def test_validation_errors_are_consuls_texts(api: Api) -> None:
    """parseQuery: an anonymous query needs a session; Service is required."""
    cases = [
        ({"Service": {"Service": "web"}}, "Invalid prepared query: Must be bound to a session"),
        ({"Name": "x"}, "Invalid prepared query: Must provide a Service name to query"),
        ({"Name": "x", "Service": {"Service": "web"}, "DNS": {"TTL": "nope"}},
         "Invalid prepared query: Bad DNS TTL 'nope': time: invalid duration \"nope\""),
        ({"ID": "x", "Name": "x", "Service": {"Service": "web"}},
         "ID must be empty when creating a new prepared query"),
    ]
    for body, text in cases:
        reply = await api.request("POST", "/v1/query", json.dumps(body))
        assert (reply.status, reply.text) == (500, text)
    bad = await api.request("POST", "/v1/query", '{"Bogus": 1}')
    assert bad.status == 400 and bad.text.startswith("Request decode failed:")


async def test_names_are_unique_case_insensitively(api: Api) -> None:
    await create(api, {"Name": "Web", "Service": {"Service": "web"}})
    reply = await api.request("POST", "/v1/query",
                              json.dumps({"Name": "web", "Service": {"Service": "web"}}))
    assert (reply.status, reply.text) == (500, "name 'web' aliases an existing query name")


async def test_only_one_catch_all_template(api: Api) -> None:
    body = {"Template": {"Type": "name_prefix_match"}, "Service": {"Service": "${name.full}"}}
    await create(api, body)
    reply = await api.request("POST", "/v1/query", json.dumps(body))
    assert (reply.status, reply.text) == (
        500, "a query template with an empty name already exists")


async def test_update_and_delete(api: Api) -> None:
    query_id = await create(api, {"Name": "q", "Service": {"Service": "web"}})
    reply = await api.put(f"/v1/query/{query_id}",
                          json.dumps({"Name": "q2", "Service": {"Service": "db"}}))
    assert reply.status == 200 and reply.body == b""
    [query] = (await api.get(f"/v1/query/{query_id}")).json()
    assert (query["Name"], query["Service"]["Service"]) == ("q2", "db")
    assert query["ModifyIndex"] > query["CreateIndex"]
    assert (await api.delete(f"/v1/query/{query_id}")).status == 200
    assert (await api.get(f"/v1/query/{query_id}")).status == 404
    again = await api.delete(f"/v1/query/{query_id}")
    assert (again.status, again.text) == (
        500, f"Cannot modify non-existent prepared query: '{query_id}'")


async def test_execute_only_passing_sorted_near(api: Api) -> None:
    """Execute: OnlyPassing drops warning instances; ?near= sorts by coordinates."""
    await register(api, "n1", "web")
    await register(api, "n2", "web")
    await register(api, "n3", "web", status="warning")
    await register(api, "n4", "web", status="critical")
    await create(api, {"Name": "web", "Service": {"Service": "web", "OnlyPassing": True}})
    reply = await api.get("/v1/query/web/execute?near=n2")
    assert reply.status == 200, reply.text
    result = reply.json()
    assert result["Nodes"][0]["Node"]["Node"] == "n2"
    assert sorted(n["Node"]["Node"] for n in result["Nodes"]) == ["n1", "n2"]
    assert (result["Service"], result["Datacenter"], result["Failovers"]) == ("web", "dc1", 0)
    limited = (await api.get("/v1/query/web/execute?limit=1")).json()
    assert len(limited["Nodes"]) == 1
    bad = await api.get("/v1/query/web/execute?limit=x")
    assert (bad.status, bad.text) == (
        500, 'Bad limit: strconv.Atoi: parsing "x": invalid syntax')


async def test_execute_warning_kept_without_only_passing_and_ignore_check_ids(api: Api) -> None:
    await register(api, "n1", "db", status="warning")
    await register(api, "n2", "db", status="critical", sid="db-bad")
    await create(api, {"Name": "db", "Service": {"Service": "db"}})
    nodes = (await api.get("/v1/query/db/execute")).json()["Nodes"]
    assert [n["Node"]["Node"] for n in nodes] == ["n1"]
    await create(api, {"Name": "db-all", "Service": {"Service": "db",
                                                      "IgnoreCheckIDs": ["chk-db-bad"]}})
    nodes = (await api.get("/v1/query/db-all/execute")).json()["Nodes"]
    assert sorted(n["Node"]["Node"] for n in nodes) == ["n1", "n2"]


async def test_execute_tags_and_service_meta(api: Api) -> None:
    """tagFilter: all required tags, none of the ``!`` ones, case-insensitive."""
    await register(api, "n1", "api", tags=["Primary"], meta={"env": "prod"})
    await register(api, "n2", "api", tags=["primary", "experimental"], meta={"env": "prod"})
    await register(api, "n3", "api", tags=["primary"], meta={"env": "dev"})
    await create(api, {"Name": "api", "Service": {
        "Service": "api", "Tags": ["primary", "!experimental"],
        "ServiceMeta": {"env": "prod"}}})
    nodes = (await api.get("/v1/query/api/execute")).json()["Nodes"]
    assert [n["Node"]["Node"] for n in nodes] == ["n1"]


async def test_template_regexp_interpolation_and_explain(api: Api) -> None:
    """Template rendering: ${match(N)}, ${name.suffix}; the longest prefix wins."""
    await register(api, "n1", "customer", tags=["primary"])
    await create(api, {"Name": "geo-db-", "Template": {
        "Type": "name_prefix_match", "Regexp": "^geo-db-(.*?)-([^\\-]+?)$"},
        "Service": {"Service": "${match(1)}", "Tags": ["${match(2)}"],
                    "Near": "${name.suffix}"}})
    await create(api, {"Name": "geo-", "Template": {"Type": "name_prefix_match"},
                       "Service": {"Service": "other"}})
    explained = await api.get("/v1/query/geo-db-customer-primary/explain")
    assert explained.status == 200, explained.text
    service = explained.json()["Query"]["Service"]
    assert (service["Service"], service["Tags"], service["Near"]) == (
        "customer", ["primary"], "customer-primary")
    nodes = (await api.get("/v1/query/geo-db-customer-primary/execute")).json()["Nodes"]
    assert [n["Node"]["Node"] for n in nodes] == ["n1"]


async def test_template_cannot_be_executed_by_id(api: Api) -> None:
    query_id = await create(api, {"Name": "t", "Template": {"Type": "name_prefix_match"},
                                  "Service": {"Service": "${name.full}"}})
    reply = await api.get(f"/v1/query/{query_id}/execute")
    assert (reply.status, reply.text) == (
        500, "prepared query templates can only be resolved up by name, not by ID")


async def test_bad_template_type_is_refused(api: Api) -> None:
    reply = await api.request("POST", "/v1/query", json.dumps(
        {"Name": "t", "Template": {"Type": "nope"}, "Service": {"Service": "x"}}))
    assert (reply.status, reply.text) == (
        500, "failed compiling template: Bad Template.Type 'nope'")


async def test_session_bound_query_goes_with_its_session(api: Api) -> None:
    """state/session.go deleteSessionTxn deletes the session's prepared queries
    (deletePreparedQueryTxn) in the same write, at its index: the table's index moves."""
    session = await api.create_session()
    query_id = await create(api, {"Session": session, "Service": {"Service": "web"}})
    kept = await create(api, {"Name": "kept", "Service": {"Service": "web"}})
    assert (await api.get(f"/v1/query/{query_id}")).status == 200
    assert (await api.put(f"/v1/session/destroy/{session}")).status == 200
    assert (await api.get(f"/v1/query/{query_id}")).status == 404
    listed = await api.get("/v1/query")
    assert [q["ID"] for q in listed.json()] == [kept]
    assert listed.index == (await api.get("/v1/session/list")).index  # the destroy's index


async def _blocked_list(api: Api, index: int) -> Any:
    # A bound, not a timing: a regression fails here instead of hanging the suite.
    return await asyncio.wait_for(api.get(f"/v1/query?index={index}&wait=30s"), 30)


async def test_a_session_destroy_wakes_a_blocking_query_list(api: Api) -> None:
    session = await api.create_session()
    await create(api, {"Session": session, "Service": {"Service": "web"}})
    before = await api.get("/v1/query")
    blocked = asyncio.ensure_future(_blocked_list(api, before.index))
    await asyncio.sleep(0)
    assert not blocked.done()
    assert (await api.put(f"/v1/session/destroy/{session}")).status == 200
    reply = await blocked
    assert reply.json() == [] and reply.index > before.index


async def test_a_session_ttl_lapse_deletes_its_queries(http: aiohttp.ClientSession) -> None:
    """Server.invalidateSession (the TTL timer) destroys the session as the HTTP API does."""
    async with DevAgent(session_ttl_min=0.05, session_ttl_multiplier=1) as agent:
        api = Api(http, agent)
        session = await api.create_session(TTL="100ms")
        await create(api, {"Session": session, "Service": {"Service": "web"}})
        before = await api.get("/v1/query")
        assert len(before.json()) == 1
        reply = await _blocked_list(api, before.index)
        assert reply.json() == []
        assert (await api.get(f"/v1/session/info/{session}")).json() == []


def _delete_serf_check() -> dict[str, Any]:
    return {"Check": {"Verb": "delete", "Check": {"Node": NODE, "CheckID": "serfHealth"}}}


async def test_a_session_invalidated_in_a_transaction_takes_its_queries(api: Api) -> None:
    """A Check delete in /v1/txn invalidates the sessions bound to it (checkSessionsTxn ->
    deleteSessionTxn), and their queries go in the same transaction; a rollback keeps both."""
    session = await api.create_session()
    query_id = await create(api, {"Session": session, "Service": {"Service": "web"}})
    failed = await api.put("/v1/txn", json.dumps(
        [_delete_serf_check(), {"KV": {"Verb": "get", "Key": "missing"}}]))
    assert failed.status == 409
    assert (await api.get(f"/v1/query/{query_id}")).status == 200
    assert (await api.get(f"/v1/session/info/{session}")).json() != []
    applied = await api.put("/v1/txn", json.dumps([_delete_serf_check()]))
    assert applied.status == 200, applied.text
    assert (await api.get(f"/v1/session/info/{session}")).json() == []
    assert (await api.get(f"/v1/query/{query_id}")).status == 404


# -- ACLs ------------------------------------------------------------------------------------


async def test_acl_write_needs_query_write_on_the_name(acl: ACLApi) -> None:
    """Apply: PreparedQueryWrite(prefix) or the bare acl.ErrPermissionDenied."""
    policy = await acl.policy("q", 'query_prefix "mine-" { policy = "write" }')
    token = (await acl.token(Policies=[{"ID": policy["ID"]}]))["SecretID"]
    denied = await acl.call("POST", "/v1/query",
                            {"Name": "other", "Service": {"Service": "web"}}, token=token)
    assert (denied.status, denied.text) == (403, "Permission denied")
    ok = await acl.call("POST", "/v1/query",
                        {"Name": "mine-1", "Service": {"Service": "web"}}, token=token)
    assert ok.status == 200, ok.text


async def test_acl_token_is_hidden_unless_management(acl: ACLApi) -> None:
    """redactPreparedQueryTokens: ``<hidden>`` for a token without acl:write."""
    policy = await acl.policy("r", 'query_prefix "" { policy = "read" }')
    token = (await acl.token(Policies=[{"ID": policy["ID"]}]))["SecretID"]
    created = await acl.ok("POST", "/v1/query",
                           {"Name": "q", "Token": ROOT, "Service": {"Service": "web"}})
    [seen] = await acl.ok("GET", f"/v1/query/{created['ID']}", token=token)
    assert seen["Token"] == "<hidden>"
    [full] = await acl.ok("GET", f"/v1/query/{created['ID']}")
    assert full["Token"] == ROOT


async def test_acl_list_hides_unnamed_and_unreadable(acl: ACLApi) -> None:
    """filterPreparedQueries: unnamed queries only for management; named need query:read."""
    policy = await acl.policy("r", 'query "a" { policy = "read" }')
    token = (await acl.token(Policies=[{"ID": policy["ID"]}]))["SecretID"]
    session = (await acl.ok("PUT", "/v1/session/create"))["ID"]
    await acl.ok("POST", "/v1/query", {"Session": session, "Service": {"Service": "web"}})
    await acl.ok("POST", "/v1/query", {"Name": "a", "Service": {"Service": "web"}})
    await acl.ok("POST", "/v1/query", {"Name": "b", "Service": {"Service": "web"}})
    reply = await acl.call("GET", "/v1/query", token=token)
    assert [q["Name"] for q in reply.json()] == ["a"]
    assert reply.headers["X-Consul-Results-Filtered-By-ACLs"] == "true"
    assert len(await acl.ok("GET", "/v1/query")) == 3
    denied = await acl.call("GET", "/v1/query/b/explain", token=token)
    assert (denied.status, denied.text) == (403, "Permission denied")


async def test_acl_execute_filters_with_the_stored_token(acl: ACLApi) -> None:
    """Execute filters the nodes with the query's token, else the caller's."""
    await acl.ok("PUT", "/v1/catalog/register", {
        "Node": "n1", "Address": "10.0.0.1", "Service": {"Service": "web"}})
    policy = await acl.policy("r", 'query_prefix "" { policy = "read" }')
    token = (await acl.token(Policies=[{"ID": policy["ID"]}]))["SecretID"]
    await acl.ok("POST", "/v1/query", {"Name": "plain", "Service": {"Service": "web"}})
    await acl.ok("POST", "/v1/query",
                 {"Name": "bound", "Token": ROOT, "Service": {"Service": "web"}})
    plain = await acl.call("GET", "/v1/query/plain/execute", token=token)
    assert plain.status == 200 and plain.json()["Nodes"] == []
    assert plain.json()["ResultsFilteredByACLs"] is True
    bound = await acl.call("GET", "/v1/query/bound/execute", token=token)
    assert [n["Node"]["Node"] for n in bound.json()["Nodes"]] == ["n1"]


# -- the agent cache (?cached) ---------------------------------------------------------------


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_cached_execute_is_a_simple_cache_type(api: Api) -> None:
    """cachetype.PreparedQuery has no background refresh: a HIT answers what the first read
    fetched (Age: seconds since then), max-age older than that fetches again (setCacheMeta's
    X-Cache/Age)."""
    clock = _Clock()
    agent_cache(api.agent.backend).clock = clock
    await register(api, "n1", "web")
    await create(api, {"Name": "web", "Service": {"Service": "web"}})
    plain = await api.get("/v1/query/web/execute")
    assert "X-Cache" not in plain.headers and "Age" not in plain.headers
    first = await api.get("/v1/query/web/execute?cached")
    assert first.headers["X-Cache"] == "MISS" and "Age" not in first.headers
    assert [n["Node"]["Node"] for n in first.json()["Nodes"]] == ["n1"]
    await register(api, "n2", "web")
    clock.now += 3.2
    hit = await api.get("/v1/query/web/execute?cached")
    assert (hit.headers["X-Cache"], hit.headers["Age"]) == ("HIT", "3")
    assert [n["Node"]["Node"] for n in hit.json()["Nodes"]] == ["n1"]  # not refreshed
    stale = await api.get("/v1/query/web/execute?cached",
                          headers={"Cache-Control": "max-age=2"})
    assert stale.headers["X-Cache"] == "MISS"
    assert sorted(n["Node"]["Node"] for n in stale.json()["Nodes"]) == ["n1", "n2"]
    again = await api.get("/v1/query/web/execute?cached", headers={"Cache-Control": "max-age=0"})
    assert again.headers["X-Cache"] == "MISS"


async def test_cached_execute_key_is_the_query_limit_and_connect_not_near(api: Api) -> None:
    """PreparedQueryExecuteRequest.CacheInfo hashes QueryIDOrName, Limit and Connect."""
    await register(api, "n1", "web")
    await create(api, {"Name": "web", "Service": {"Service": "web"}})
    assert (await api.get("/v1/query/web/execute?cached")).headers["X-Cache"] == "MISS"
    near = await api.get("/v1/query/web/execute?cached&near=_agent")
    assert near.headers["X-Cache"] == "HIT"
    for other in ("limit=1", "connect"):
        reply = await api.get(f"/v1/query/web/execute?cached&{other}")
        assert reply.headers["X-Cache"] == "MISS", other


async def test_cached_execute_of_an_unknown_query_is_404_and_not_stored(api: Api) -> None:
    for _ in range(2):
        reply = await api.get("/v1/query/nothing/execute?cached")
        assert (reply.status, reply.text) == (404, "Query not found")
    await create(api, {"Name": "nothing", "Service": {"Service": "web"}})
    reply = await api.get("/v1/query/nothing/execute?cached")
    assert (reply.status, reply.headers["X-Cache"]) == (200, "MISS")
