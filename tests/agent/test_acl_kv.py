"""KV permissions, as ``agent/consul/kvs_endpoint.go`` has them (KVS.Get, KVS.List,
KVS.ListKeys, KVS.Apply with kvsPreApply), driven through the ``grants`` fixture.

The HTTP layer's 400s come first (``agent/kvs_endpoint.go``), then the forwarding, then the
token; every denial here is the detailed ``*Allowed`` error.
"""

from __future__ import annotations

from aioconsul.testing.acl.authorizer import Permission

from .acl_texts import ADMIN, anonymous, denied
from .conftest import Api, GrantResolver

FILTERED = "X-Consul-Results-Filtered-By-ACLs"


async def seed(api: Api, grants: GrantResolver, *keys: str) -> dict[str, str]:
    admin = grants.grant("admin", ADMIN)
    for key in keys:
        assert (await api.put(f"/v1/kv/{key}", b"v", headers=admin)).status == 200
    return admin


# -- KVS.Get ----------------------------------------------------------------------------------


async def test_get_without_key_read_is_the_detailed_denial(
    api: Api, grants: GrantResolver
) -> None:
    """KVS.Get: KeyReadAllowed inside the blocking query; no setMeta on an RPC error."""
    await seed(api, grants, "secret/db")
    reply = await api.get("/v1/kv/secret/db")
    assert (reply.status, reply.text) == (403, anonymous("key:read", "secret/db"))
    assert "X-Consul-Index" not in reply.headers


async def test_get_of_a_missing_key_is_denied_not_404(api: Api, grants: GrantResolver) -> None:
    """KVS.Get checks after the state read, whether or not the key exists: no 404 leaks."""
    headers = grants.grant("t", {Permission.KEY_READ: ("app/",)})
    reply = await api.get("/v1/kv/other/missing", headers=headers)
    assert (reply.status, reply.text) == (403, denied("t", "key:read", "other/missing"))
    missing = await api.get("/v1/kv/app/missing", headers=headers)
    assert (missing.status, missing.body) == (404, b"")


async def test_get_with_key_read_answers_the_entry(api: Api, grants: GrantResolver) -> None:
    await seed(api, grants, "app/config")
    headers = grants.grant("t", {Permission.KEY_READ: ("app/",)})
    reply = await api.get("/v1/kv/app/config", headers=headers)
    assert reply.status == 200
    assert [e["Key"] for e in reply.json()] == ["app/config"]
    assert FILTERED not in reply.headers


async def test_a_blocking_get_is_denied_at_once(api: Api, grants: GrantResolver) -> None:
    """The query function's error ends blockingquery.Query on its first run."""
    await seed(api, grants, "secret/db")
    reply = await api.get("/v1/kv/secret/db?index=1000&wait=10m")
    assert (reply.status, reply.text) == (403, anonymous("key:read", "secret/db"))


async def test_an_unknown_token_fails_the_read(api: Api, grants: GrantResolver) -> None:
    """ResolveTokenAndDefaultMeta after the forwarding: acl.ErrNotFound, answered 403."""
    reply = await api.get("/v1/kv/app/config", headers={"X-Consul-Token": "nope"})
    assert (reply.status, reply.text) == (403, "ACL not found")


async def test_a_missing_key_name_is_a_400_before_the_token(
    api: Api, grants: GrantResolver
) -> None:
    """KVSGet's "Missing key name" comes before the RPC resolves anything."""
    reply = await api.get("/v1/kv/", headers={"X-Consul-Token": "nope"})
    assert (reply.status, reply.text) == (400, "Missing key name")


# -- KVS.List ---------------------------------------------------------------------------------


async def test_recurse_drops_unreadable_entries_and_says_so(
    api: Api, grants: GrantResolver
) -> None:
    """KVS.List: FilterDirEnt, then QueryMeta.ResultsFilteredByACLs -> the header."""
    await seed(api, grants, "app/a", "app/b", "app/secret/c")
    headers = grants.grant("t", {Permission.KEY_READ: ("app/a", "app/b")})
    reply = await api.get("/v1/kv/app/?recurse", headers=headers)
    assert reply.status == 200
    assert [e["Key"] for e in reply.json()] == ["app/a", "app/b"]
    assert reply.headers[FILTERED] == "true"


async def test_recurse_with_everything_readable_sets_no_header(
    api: Api, grants: GrantResolver
) -> None:
    await seed(api, grants, "app/a", "app/b")
    headers = grants.grant("t", {Permission.KEY_READ: ("app/",)})
    reply = await api.get("/v1/kv/app/?recurse", headers=headers)
    assert [e["Key"] for e in reply.json()] == ["app/a", "app/b"]
    assert FILTERED not in reply.headers


async def test_recurse_with_nothing_readable_is_a_filtered_404(
    api: Api, grants: GrantResolver
) -> None:
    """No entries left: Entries nil, so KVSGet answers 404, still with the header."""
    await seed(api, grants, "app/a")
    headers = grants.grant("t", {})
    reply = await api.get("/v1/kv/app/?recurse", headers=headers)
    assert (reply.status, reply.body) == (404, b"")
    assert reply.headers[FILTERED] == "true"


async def test_an_anonymous_request_never_sees_the_filtered_header(
    api: Api, grants: GrantResolver
) -> None:
    """maskResultsFilteredByACLs (agent/consul/rpc.go): no token, no header."""
    await seed(api, grants, "app/a")
    reply = await api.get("/v1/kv/app/?recurse")
    assert (reply.status, reply.body) == (404, b"")
    assert FILTERED not in reply.headers


# -- KVS.ListKeys -----------------------------------------------------------------------------


async def test_keys_are_filtered_before_the_separator_cuts_them(
    api: Api, grants: GrantResolver
) -> None:
    """KVS.ListKeys filters the entries (FilterDirEnt), then collects the keys: a folder whose
    keys are all unreadable disappears."""
    await seed(api, grants, "app/a/x", "app/b/y", "app/top")
    headers = grants.grant("t", {Permission.KEY_READ: ("app/a/", "app/top")})
    reply = await api.get("/v1/kv/app/?keys&separator=/", headers=headers)
    assert reply.status == 200
    assert reply.json() == ["app/a/", "app/top"]
    assert reply.headers[FILTERED] == "true"


async def test_keys_of_the_root_with_nothing_readable_are_an_empty_list(
    api: Api, grants: GrantResolver
) -> None:
    """KVSGetKeys: no 404 for the root prefix, an empty list instead."""
    await seed(api, grants, "app/a")
    reply = await api.get("/v1/kv/?keys", headers=grants.grant("t", {}))
    assert (reply.status, reply.json()) == (200, [])
    assert reply.headers[FILTERED] == "true"


# -- KVS.Apply --------------------------------------------------------------------------------


async def test_put_needs_key_write(api: Api, grants: GrantResolver) -> None:
    """kvsPreApply's default branch: KeyWriteAllowed."""
    reply = await api.put("/v1/kv/app/x", b"1")
    assert (reply.status, reply.text) == (403, anonymous("key:write", "app/x"))


async def test_cas_needs_key_write_and_nothing_else(api: Api, grants: GrantResolver) -> None:
    headers = grants.grant("t", {Permission.KEY_WRITE: ("app/",)})
    assert (await api.put("/v1/kv/app/x?cas=0", b"1", headers=headers)).json() is True
    reply = await api.put("/v1/kv/other?cas=0", b"1", headers=headers)
    assert (reply.status, reply.text) == (403, denied("t", "key:write", "other"))


async def test_acquire_and_release_need_key_write_only(api: Api, grants: GrantResolver) -> None:
    """Lock and unlock go through the same default branch: no session permission is asked."""
    admin = await seed(api, grants)
    session = (await api.put("/v1/session/create", headers=admin)).json()["ID"]
    headers = grants.grant("t", {Permission.KEY_WRITE: ("lock",)})
    acquired = await api.put(f"/v1/kv/lock?acquire={session}", b"me", headers=headers)
    assert (acquired.status, acquired.json()) == (200, True)
    released = await api.put(f"/v1/kv/lock?release={session}", b"", headers=headers)
    assert (released.status, released.json()) == (200, True)
    denied_lock = await api.put(f"/v1/kv/other?acquire={session}", b"me", headers=headers)
    assert (denied_lock.status, denied_lock.text) == (403, denied("t", "key:write", "other"))


async def test_conflicting_flags_are_a_400_before_the_token(
    api: Api, grants: GrantResolver
) -> None:
    reply = await api.put("/v1/kv/app/x?cas=1&acquire=s", b"1")
    assert reply.status == 400
    assert reply.text.startswith("Conflicting flags: ")


async def test_delete_needs_key_write(api: Api, grants: GrantResolver) -> None:
    await seed(api, grants, "app/x")
    reply = await api.delete("/v1/kv/app/x")
    assert (reply.status, reply.text) == (403, anonymous("key:write", "app/x"))
    headers = grants.grant("t", {Permission.KEY_WRITE: ("app/",)})
    assert (await api.delete("/v1/kv/app/x", headers=headers)).json() is True


async def test_delete_cas_needs_key_write(api: Api, grants: GrantResolver) -> None:
    await seed(api, grants, "app/x")
    reply = await api.delete("/v1/kv/app/x?cas=1", headers=grants.grant("t", {}))
    assert (reply.status, reply.text) == (403, denied("t", "key:write", "app/x"))


async def test_recursive_delete_needs_write_on_the_whole_prefix(
    api: Api, grants: GrantResolver
) -> None:
    """kvsPreApply, KVDeleteTree: KeyWritePrefixAllowed, denied as 'key:write' on the prefix
    (write on the prefix's keys is not enough)."""
    await seed(api, grants, "app/a", "app/b")
    writer = grants.grant("w", {Permission.KEY_WRITE: ("app/",)})
    reply = await api.delete("/v1/kv/app/?recurse", headers=writer)
    assert (reply.status, reply.text) == (403, denied("w", "key:write", "app/"))
    owner = grants.grant("o", {Permission.KEY_WRITE_PREFIX: ("app/",)})
    assert (await api.delete("/v1/kv/app/?recurse", headers=owner)).json() is True
    admin = grants.grant("admin", ADMIN)
    assert (await api.get("/v1/kv/app/?recurse", headers=admin)).status == 404


async def test_recursive_delete_of_everything_names_no_key(
    api: Api, grants: GrantResolver
) -> None:
    """An empty resource name leaves the " on ..." part out of the denial."""
    reply = await api.delete("/v1/kv/?recurse", headers=grants.grant("t", {}))
    assert (reply.status, reply.text) == (
        403,
        "Permission denied: token with AccessorID 'accessor-t' lacks permission 'key:write'",
    )
