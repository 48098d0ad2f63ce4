"""Session, event, coordinate and status permissions, driven through the ``grants`` fixture.

Sources: ``agent/consul/session_endpoint.go`` (Session.Apply, Get, List, NodeSessions, Renew),
``agent/event_endpoint.go`` + ``agent/user_event.go`` + ``agent/consul/internal_endpoint.go``
(EventFire, EventList, Internal.EventFire), ``agent/consul/coordinate_endpoint.go``
(Coordinate.Update, ListNodes, Node, ListDatacenters), ``agent/consul/status_endpoint.go``.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aioconsul.testing.acl.authorizer import Permission

from .acl_texts import ADMIN, anonymous, denied
from .conftest import Api, GrantResolver

NODE = "aioconsul-dev"
FILTERED = "X-Consul-Results-Filtered-By-ACLs"


async def create_session(api: Api, headers: dict[str, str], **body: Any) -> str:
    reply = await api.put("/v1/session/create", json.dumps(body) if body else None,
                          headers=headers)
    assert reply.status == 200, reply.text
    session_id: str = reply.json()["ID"]
    return session_id


async def register_node(api: Api, headers: dict[str, str], name: str) -> None:
    body = json.dumps({"Node": name, "Address": "10.0.0.9"})
    assert (await api.put("/v1/catalog/register", body, headers=headers)).status == 200


# -- Session.Apply (create, destroy) ---------------------------------------------------------


async def test_create_needs_session_write_on_the_node(api: Api, grants: GrantResolver) -> None:
    """Session.Apply, SessionCreate: SessionWriteAllowed on the session's node."""
    reply = await api.put("/v1/session/create")
    assert (reply.status, reply.text) == (403, anonymous("session:write", NODE))


async def test_create_with_session_write_succeeds(api: Api, grants: GrantResolver) -> None:
    headers = grants.grant("t", {Permission.SESSION_WRITE: (NODE,)})
    assert await create_session(api, headers, Name="mine")


async def test_a_missing_node_is_refused_before_the_token(api: Api, grants: GrantResolver) -> None:
    """Session.Apply verifies its arguments ("Must provide Node") before resolving."""
    reply = await api.put("/v1/session/create", json.dumps({"Node": ""}),
                          headers={"X-Consul-Token": "nope"})
    assert (reply.status, reply.text) == (500, "Must provide Node")


async def test_the_permission_comes_before_the_behavior_check(
    api: Api, grants: GrantResolver
) -> None:
    """The ACL switch precedes the Behavior and TTL validation."""
    body = json.dumps({"Behavior": "bogus"})
    reply = await api.put("/v1/session/create", body)
    assert (reply.status, reply.text) == (403, anonymous("session:write", NODE))
    headers = grants.grant("t", {Permission.SESSION_WRITE: ("",)})
    reply = await api.put("/v1/session/create", body, headers=headers)
    assert (reply.status, reply.text) == (500, "Invalid Behavior setting 'bogus'")


async def test_destroy_needs_session_write_on_the_stored_node(
    api: Api, grants: GrantResolver
) -> None:
    """SessionDestroy: SessionWriteAllowed on the existing session's node."""
    session_id = await create_session(api, grants.grant("admin", ADMIN))
    headers = grants.grant("t", {Permission.SESSION_WRITE: ("other",)})
    reply = await api.put(f"/v1/session/destroy/{session_id}", headers=headers)
    assert (reply.status, reply.text) == (403, denied("t", "session:write", NODE))
    owner = grants.grant("o", {Permission.SESSION_WRITE: (NODE,)})
    reply = await api.put(f"/v1/session/destroy/{session_id}", headers=owner)
    assert (reply.status, reply.json()) == (200, True)


async def test_destroying_a_missing_session_checks_nothing(
    api: Api, grants: GrantResolver
) -> None:
    """SessionDestroy: no existing session, no check: the anonymous token gets true."""
    reply = await api.put("/v1/session/destroy/5c1f9d1e-6a0e-4d5b-8f1e-000000000001")
    assert (reply.status, reply.json()) == (200, True)


async def test_destroy_with_an_unknown_token_is_acl_not_found(
    api: Api, grants: GrantResolver
) -> None:
    reply = await api.put("/v1/session/destroy/x", headers={"X-Consul-Token": "nope"})
    assert (reply.status, reply.text) == (403, "ACL not found")


# -- Session.Renew ---------------------------------------------------------------------------


async def test_renew_needs_session_write(api: Api, grants: GrantResolver) -> None:
    session_id = await create_session(api, grants.grant("admin", ADMIN))
    reply = await api.put(f"/v1/session/renew/{session_id}")
    assert (reply.status, reply.text) == (403, anonymous("session:write", NODE))
    headers = grants.grant("t", {Permission.SESSION_WRITE: (NODE,)})
    reply = await api.put(f"/v1/session/renew/{session_id}", headers=headers)
    assert reply.status == 200
    assert [s["ID"] for s in reply.json()] == [session_id]


async def test_renew_of_a_missing_session_is_404_before_any_check(
    api: Api, grants: GrantResolver
) -> None:
    """Session.Renew looks the session up first; a nil one answers no Sessions -> 404."""
    missing = "5c1f9d1e-6a0e-4d5b-8f1e-000000000001"
    reply = await api.put(f"/v1/session/renew/{missing}")
    assert (reply.status, reply.text) == (404, f"Session id '{missing}' not found")


# -- Session reads (filterSessions) ----------------------------------------------------------


async def test_info_hides_a_session_on_an_unreadable_node(
    api: Api, grants: GrantResolver
) -> None:
    """Session.Get: filterACLWithAuthorizer -> an empty list and the header."""
    session_id = await create_session(api, grants.grant("admin", ADMIN))
    headers = grants.grant("t", {Permission.SESSION_READ: ("other",)})
    reply = await api.get(f"/v1/session/info/{session_id}", headers=headers)
    assert (reply.status, reply.json()) == (200, [])
    assert reply.headers[FILTERED] == "true"
    reader = grants.grant("r", {Permission.SESSION_READ: (NODE,)})
    reply = await api.get(f"/v1/session/info/{session_id}", headers=reader)
    assert [s["ID"] for s in reply.json()] == [session_id]
    assert FILTERED not in reply.headers


async def test_list_keeps_the_sessions_of_readable_nodes(
    api: Api, grants: GrantResolver
) -> None:
    admin = grants.grant("admin", ADMIN)
    await register_node(api, admin, "other")
    mine = await create_session(api, admin)
    await create_session(api, admin, Node="other", Checks=[])
    headers = grants.grant("t", {Permission.SESSION_READ: (NODE,)})
    reply = await api.get("/v1/session/list", headers=headers)
    assert [s["ID"] for s in reply.json()] == [mine]
    assert reply.headers[FILTERED] == "true"


async def test_node_sessions_are_filtered(api: Api, grants: GrantResolver) -> None:
    await create_session(api, grants.grant("admin", ADMIN))
    reply = await api.get(f"/v1/session/node/{NODE}", headers=grants.grant("t", {}))
    assert (reply.status, reply.json()) == (200, [])
    assert reply.headers[FILTERED] == "true"


async def test_anonymous_session_reads_are_masked(api: Api, grants: GrantResolver) -> None:
    """maskResultsFilteredByACLs: filtered, but no header without a token."""
    await create_session(api, grants.grant("admin", ADMIN))
    reply = await api.get("/v1/session/list")
    assert (reply.status, reply.json()) == (200, [])
    assert FILTERED not in reply.headers


async def test_a_read_with_an_unknown_token_keeps_its_deferred_meta(
    api: Api, grants: GrantResolver
) -> None:
    """SessionList's deferred setMeta runs on the error too: index 1, no known leader."""
    reply = await api.get("/v1/session/list", headers={"X-Consul-Token": "nope"})
    assert (reply.status, reply.text) == (403, "ACL not found")
    assert (reply.index, reply.headers["X-Consul-KnownLeader"]) == (1, "false")


# -- events ---------------------------------------------------------------------------------


async def test_fire_is_refused_with_the_bare_denial(api: Api, grants: GrantResolver) -> None:
    """Internal.EventFire returns EventWriteAllowed's detailed error, but EventFire answers
    any permission denial with acl.ErrPermissionDenied's text."""
    headers = grants.grant("t", {Permission.EVENT_WRITE: ("deploy",)})
    reply = await api.put("/v1/event/fire/restart", headers=headers)
    assert (reply.status, reply.text) == (403, "Permission denied")
    reply = await api.put("/v1/event/fire/deploy", headers=headers)
    assert (reply.status, reply.json()["Name"]) == (200, "deploy")


async def test_fire_with_an_unknown_token_is_a_500(api: Api, grants: GrantResolver) -> None:
    """EventFire: an error that is no permission denial gets WriteHeader(500) first, so the
    later 403 of wrap is superfluous: 500 with "ACL not found"."""
    reply = await api.put("/v1/event/fire/deploy", headers={"X-Consul-Token": "nope"})
    assert (reply.status, reply.text) == (500, "ACL not found")


async def test_fire_validates_before_the_token(api: Api, grants: GrantResolver) -> None:
    """agent.UserEvent: validateUserEventParams runs before the RPC that authorizes."""
    reply = await api.put("/v1/event/fire/deploy?tag=v1")
    assert (reply.status, reply.text) == (500, "Cannot provide tag filter without service filter")


async def test_list_drops_unreadable_events(api: Api, grants: GrantResolver) -> None:
    """EventList: EventRead on each name, after the ?name= filter; the index is the newest
    event left's."""
    admin = grants.grant("admin", ADMIN)
    deploy = (await api.put("/v1/event/fire/deploy", headers=admin)).json()
    await api.put("/v1/event/fire/restart", headers=admin)
    headers = grants.grant("t", {Permission.EVENT_READ: ("deploy",)})
    reply = await api.get("/v1/event/list", headers=headers)
    assert [e["Name"] for e in reply.json()] == ["deploy"]
    assert reply.headers[FILTERED] == "true"
    everything = await api.get("/v1/event/list", headers=admin)
    assert reply.index != everything.index
    assert reply.index == (await api.get("/v1/event/list?name=deploy", headers=admin)).index
    assert deploy["ID"] in {e["ID"] for e in reply.json()}


async def test_list_with_no_readable_event_has_index_1(api: Api, grants: GrantResolver) -> None:
    await api.put("/v1/event/fire/deploy", headers=grants.grant("admin", ADMIN))
    reply = await api.get("/v1/event/list")
    assert (reply.status, reply.json(), reply.index) == (200, [], 1)
    assert FILTERED not in reply.headers  # "only if the user is authenticated"


async def test_the_name_filter_is_no_acl_filtering(api: Api, grants: GrantResolver) -> None:
    """The header counts only what the token hid, not what ?name= dropped."""
    admin = grants.grant("admin", ADMIN)
    await api.put("/v1/event/fire/deploy", headers=admin)
    await api.put("/v1/event/fire/restart", headers=admin)
    headers = grants.grant("t", {Permission.EVENT_READ: ("deploy",)})
    reply = await api.get("/v1/event/list?name=deploy", headers=headers)
    assert [e["Name"] for e in reply.json()] == ["deploy"]
    assert FILTERED not in reply.headers


async def test_list_with_an_unknown_token_is_acl_not_found(
    api: Api, grants: GrantResolver
) -> None:
    reply = await api.get("/v1/event/list", headers={"X-Consul-Token": "nope"})
    assert (reply.status, reply.text) == (403, "ACL not found")


# -- coordinates ----------------------------------------------------------------------------

COORD = {"Vec": [0.001] + [0.0] * 7, "Error": 0.2, "Adjustment": 0.0, "Height": 1e-05}


async def coordinates_of(api: Api, headers: dict[str, str], count: int) -> list[Any]:
    for _ in range(100):
        nodes: list[Any] = (await api.get("/v1/coordinate/nodes", headers=headers)).json()
        if len(nodes) == count:
            return nodes
        await asyncio.sleep(0.02)
    raise AssertionError("coordinates never appeared")


async def test_update_needs_node_write(api: Api, grants: GrantResolver) -> None:
    """Coordinate.Update: NodeWriteAllowed after the coordinate checks."""
    body = json.dumps({"Node": NODE, "Coord": COORD})
    reply = await api.put("/v1/coordinate/update", body)
    assert (reply.status, reply.text) == (403, anonymous("node:write", NODE))
    headers = grants.grant("t", {Permission.NODE_WRITE: (NODE,)})
    assert (await api.put("/v1/coordinate/update", body, headers=headers)).status == 200


async def test_an_incompatible_coordinate_is_refused_before_the_token(
    api: Api, grants: GrantResolver
) -> None:
    body = json.dumps({"Node": NODE, "Coord": dict(COORD, Vec=[0.0])})
    reply = await api.put("/v1/coordinate/update", body, headers={"X-Consul-Token": "nope"})
    assert (reply.status, reply.text) == (500, "incompatible coordinate")


async def test_nodes_drops_unreadable_nodes(api: Api, grants: GrantResolver) -> None:
    """Coordinate.ListNodes: filterACL -> filterCoordinates (node:read)."""
    admin = grants.grant("admin", ADMIN)
    await register_node(api, admin, "other")
    for name in (NODE, "other"):
        body = json.dumps({"Node": name, "Coord": COORD})
        assert (await api.put("/v1/coordinate/update", body, headers=admin)).status == 200
    await coordinates_of(api, admin, 2)
    headers = grants.grant("t", {Permission.NODE_READ: ("other",)})
    reply = await api.get("/v1/coordinate/nodes", headers=headers)
    assert [c["Node"] for c in reply.json()] == ["other"]
    assert reply.headers[FILTERED] == "true"
    anonymous_reply = await api.get("/v1/coordinate/nodes")
    assert (anonymous_reply.json(), FILTERED in anonymous_reply.headers) == ([], False)


async def test_node_needs_node_read_before_its_query(api: Api, grants: GrantResolver) -> None:
    """Coordinate.Node: NodeReadAllowed before the blocking query (a node without coordinates
    is a 403, not a 404); the deferred setMeta still runs."""
    reply = await api.get(f"/v1/coordinate/node/{NODE}")
    assert (reply.status, reply.text) == (403, anonymous("node:read", NODE))
    assert reply.index == 1
    headers = grants.grant("t", {Permission.NODE_READ: (NODE,)})
    reply = await api.get(f"/v1/coordinate/node/{NODE}", headers=headers)
    assert (reply.status, reply.body) == (404, b"")


async def test_datacenters_need_no_token(api: Api, grants: GrantResolver) -> None:
    """Coordinate.ListDatacenters resolves no token: even an unknown one is served."""
    reply = await api.get("/v1/coordinate/datacenters", headers={"X-Consul-Token": "nope"})
    assert reply.status == 200
    assert [dc["Datacenter"] for dc in reply.json()] == ["dc1"]


# -- status ---------------------------------------------------------------------------------


async def test_status_needs_no_token(api: Api, grants: GrantResolver) -> None:
    """Status.Leader and Status.Peers check no ACL."""
    for path in ("/v1/status/leader", "/v1/status/peers"):
        reply = await api.get(path, headers={"X-Consul-Token": "nope"})
        assert reply.status == 200, path
