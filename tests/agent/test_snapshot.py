"""``/v1/snapshot`` of the dev agent (agent/snapshot_endpoint.go, agent/consul/snapshot_endpoint.go,
snapshot/archive.go), and the dump/load pair of every replicated table."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import io
import json
import tarfile
from typing import Any

import pytest

from aioconsul.testing import DevAgent

from ._acl import ROOT, ACLApi, acl, acl_agent  # noqa: F401
from .conftest import Api

pytestmark = pytest.mark.asyncio


async def populate(api: Api) -> dict[str, str]:
    """Something in every replicated table; returns the IDs made."""
    assert (await api.put("/v1/kv/app/config", b"v1")).status == 200
    assert (await api.put("/v1/kv/app/gone", b"x")).status == 200
    assert (await api.delete("/v1/kv/app/gone")).status == 200  # a tombstone
    session = (await api.put("/v1/session/create", json.dumps({"TTL": "30s"}))).json()["ID"]
    assert (await api.put(f"/v1/kv/app/lock?acquire={session}", b"me")).json() is True
    register = {"Node": "n2", "Address": "10.0.0.2", "Service": {"Service": "web", "Port": 80},
                "Check": {"CheckID": "web-alive", "Name": "web", "Status": "passing",
                          "ServiceID": "web"}}
    assert (await api.put("/v1/catalog/register", json.dumps(register))).status == 200
    coord = {"Node": "n2", "Coord": {"Vec": [0.1] + [0.0] * 7, "Error": 0.2,
                                     "Adjustment": 0.0, "Height": 1e-05}}
    assert (await api.put("/v1/coordinate/update", json.dumps(coord))).status == 200
    query = await api.request("POST", "/v1/query",
                              json.dumps({"Name": "web", "Service": {"Service": "web"}}))
    assert query.status == 200
    template = {"Name": "tpl-", "Template": {"Type": "name_prefix_match"},
                "Service": {"Service": "${name.suffix}"}}
    assert (await api.request("POST", "/v1/query", json.dumps(template))).status == 200
    entry = {"Kind": "service-defaults", "Name": "web", "Protocol": "http"}
    assert (await api.put("/v1/config", json.dumps(entry))).status == 200
    autopilot = {"CleanupDeadServers": False, "LastContactThreshold": "300ms",
                 "MaxTrailingLogs": 300, "ServerStabilizationTime": "10s"}
    assert (await api.put("/v1/operator/autopilot/configuration",
                          json.dumps(autopilot))).status == 200
    return {"session": session, "query": query.json()["ID"]}


def roundtrip(data: dict[str, Any]) -> dict[str, Any]:
    """What the archive carries: the dump through JSON."""
    result: dict[str, Any] = json.loads(json.dumps(data))
    return result


async def test_every_table_dump_load_round_trips(api: Api) -> None:
    """dump -> JSON -> load -> dump gives the same data, for each table of the snapshot."""
    await populate(api)
    for name, part in api.agent.backend.snapshot_parts.items():
        dumped = roundtrip(part.dump())
        part.load(dumped)
        assert roundtrip(part.dump()) == dumped, name


async def test_acl_tables_round_trip(acl: ACLApi) -> None:  # noqa: F811
    """Tokens (with expiry), policies, roles, auth methods, binding rules, bootstrap state."""
    policy = await acl.policy("p", 'key_prefix "" { policy = "read" }', Datacenters=["dc1"])
    role = await acl.ok("PUT", "/v1/acl/role", {"Name": "r", "Policies": [{"ID": policy["ID"]}],
                                                "ServiceIdentities": [{"ServiceName": "web"}]})
    await acl.token(Description="t", Roles=[{"ID": role["ID"]}], ExpirationTTL="1h",
                    NodeIdentities=[{"NodeName": "n", "Datacenter": "dc1"}])
    method = {"Name": "m", "Type": "jwt", "Config": {"JWTValidationPubKeys": [], "BoundIssuer": "i",
                                                     "JWKSURL": "https://example.com/jwks"}}
    await acl.ok("PUT", "/v1/acl/auth-method", method)
    await acl.ok("PUT", "/v1/acl/binding-rule",
                 {"AuthMethod": "m", "BindType": "service", "BindName": "web"})
    store = acl.agent.backend.acl_store
    dumped = roundtrip(store.dump())
    assert dumped["BootstrapIndex"] > 0
    assert {len(dumped[k]) for k in ("Roles", "AuthMethods", "BindingRules")} == {1}
    store.load(dumped)
    assert roundtrip(store.dump()) == dumped


async def test_save_streams_a_consul_archive(api: Api) -> None:
    """A gzip tar of meta.json, state.bin and SHA256SUMS (snapshot/archive.go); X-Consul-Index
    is the snapshot's Raft index (reply.Index = snap.Index()), the type what Go sniffs."""
    await populate(api)
    raft_index = api.agent.backend.store.raft_index
    reply = await api.get("/v1/snapshot")
    assert reply.status == 200
    assert reply.headers["Content-Type"] == "application/x-gzip"
    assert reply.index == raft_index
    assert reply.headers["X-Consul-KnownLeader"] == "true"
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(reply.body))) as archive:
        assert archive.getnames() == ["meta.json", "state.bin", "SHA256SUMS"]
        meta = json.loads(archive.extractfile("meta.json").read())  # type: ignore[union-attr]
        state = archive.extractfile("state.bin").read()  # type: ignore[union-attr]
        sums = archive.extractfile("SHA256SUMS").read().decode()  # type: ignore[union-attr]
    assert list(meta) == ["Version", "ID", "Index", "Term", "Peers", "Configuration",
                          "ConfigurationIndex", "Size"]
    assert meta["Index"] == raft_index and meta["Size"] == len(state)
    assert meta["ID"].startswith(f"2-{raft_index}-")
    assert "  state.bin\n" in sums and "  meta.json\n" in sums


async def test_restore_gives_back_a_deleted_key_with_its_indexes(api: Api) -> None:
    await populate(api)
    before = await api.get("/v1/kv/app/config")
    listing = await api.get("/v1/kv/?recurse")
    snapshot = (await api.get("/v1/snapshot")).body
    assert (await api.delete("/v1/kv/app/config")).status == 200
    assert (await api.get("/v1/kv/app/config")).status == 404
    reply = await api.put("/v1/snapshot", snapshot)
    assert (reply.status, reply.body) == (200, b"")
    after = await api.get("/v1/kv/app/config")
    assert after.status == 200
    assert after.json() == before.json() and after.index == before.index
    assert (await api.get("/v1/kv/?recurse")).index == listing.index


async def test_a_fresh_agent_restores_the_exact_state(api: Api) -> None:
    """Every table, with its rows' and table indexes, as it was saved; the next write gets an
    index past the snapshot's (raft's restoreUserSnapshot leaves a hole, then a barrier)."""
    await populate(api)
    saved = api.agent.backend.snapshot_state()
    snapshot = (await api.get("/v1/snapshot")).body
    async with DevAgent() as fresh:
        other = Api(api.http, fresh)
        assert (await other.put("/v1/snapshot", snapshot)).status == 200
        restored = fresh.backend.snapshot_state()
        for name in ("catalog", "acl", "prepared_queries", "autopilot", "config_entries",
                     "connect_ca", "peerings"):
            assert roundtrip(restored["Tables"][name]) == roundtrip(saved["Tables"][name]), name
        for name in ("KV", "Sessions"):
            assert roundtrip(restored["Tables"]["store"][name]) == \
                roundtrip(saved["Tables"]["store"][name]), name
        for path in ("/v1/catalog/service/web", "/v1/session/list", "/v1/query",
                     "/v1/health/service/web", "/v1/coordinate/nodes",
                     "/v1/config/service-defaults", "/v1/kv/app/gone"):
            mine, theirs = await api.get(path), await other.get(path)
            assert (theirs.status, theirs.index) == (mine.status, mine.index), path
            assert theirs.body == mine.body, path
        assert (await other.put("/v1/kv/new", b"1")).status == 200
        assert (await other.get("/v1/kv/new")).index == saved["Tables"]["store"]["Index"] + 3


async def test_restore_wakes_blocking_queries_on_the_old_state(api: Api) -> None:
    """blockingquery.Query: the state store was abandoned, so a parked query returns."""
    await populate(api)
    snapshot = (await api.get("/v1/snapshot")).body
    first = await api.get("/v1/kv/app/config")
    parked = asyncio.ensure_future(api.get(f"/v1/kv/app/config?index={first.index}&wait=5m"))
    while api.agent.backend.watch.parked == 0:
        await asyncio.sleep(0.01)
    assert (await api.put("/v1/snapshot", snapshot)).status == 200
    reply = await parked
    assert reply.status == 200 and reply.index == first.index


async def test_restore_rearms_session_ttl_timers(api: Api) -> None:
    """establishLeadership -> initializeSessionTimers: every TTL session has a timer again."""
    ids = await populate(api)
    snapshot = (await api.get("/v1/snapshot")).body
    async with DevAgent() as fresh:
        assert (await Api(api.http, fresh).put("/v1/snapshot", snapshot)).status == 200
        assert set(fresh.backend.session_timers._timers) == {ids["session"]}


@pytest.mark.parametrize(("body", "error"), [
    (b"", "failed to decompress snapshot: EOF"),
    (b"not a snapshot, not even gzip", "failed to decompress snapshot: gzip: invalid header"),
])
async def test_restore_refuses_what_is_not_gzip(api: Api, body: bytes, error: str) -> None:
    """snapshot.Read: gzip.NewReader's error, 500 (the RPC's error text)."""
    reply = await api.put("/v1/snapshot", body)
    assert (reply.status, reply.text) == (500, error)


def _rebuild(archive: bytes, change: Any, *, padded: bool = False) -> bytes:
    """The archive's tar with ``change(name, data) -> data`` applied, compressed again.

    Python pads a tar to a 10 KiB record; Go's writer (and so Consul's archive) stops after
    the two zero blocks, and Consul refuses anything after them: the padding goes unless
    ``padded``."""
    out = io.BytesIO()
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(archive))) as src, \
            tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as dst:
        for member in src:
            data = change(member.name, src.extractfile(member).read())  # type: ignore[union-attr]
            if data is None:
                continue
            member.size = len(data)
            dst.addfile(member, io.BytesIO(data))
        end = dst.offset + 2 * tarfile.BLOCKSIZE
    return gzip.compress(out.getvalue() if padded else out.getvalue()[:end])


async def test_restore_refuses_data_after_the_archive(api: Api) -> None:
    """concludeGzipRead: what the tar reader left unread is an error of its own."""
    snapshot = (await api.get("/v1/snapshot")).body
    reply = await api.put("/v1/snapshot", _rebuild(snapshot, lambda _, data: data, padded=True))
    assert reply.status == 500
    assert reply.text.endswith(" unread uncompressed bytes remain")
    assert reply.text.split()[0].isdigit()


async def test_restore_refuses_a_corrupt_archive_and_keeps_the_state(api: Api) -> None:
    """archive.go read + hashList.DecodeAndVerify: a changed state.bin fails its SHA-256."""
    await populate(api)
    snapshot = (await api.get("/v1/snapshot")).body
    corrupt = _rebuild(snapshot, lambda name, data: data.replace(b"app/config", b"app/cOnfig")
                       if name == "state.bin" else data)
    assert (await api.delete("/v1/kv/app/config")).status == 200
    reply = await api.put("/v1/snapshot", corrupt)
    assert reply.status == 500
    assert reply.text == ('failed to read snapshot file: failed checking integrity of snapshot: '
                          'hash check failed for "state.bin"')
    assert (await api.get("/v1/kv/app/config")).status == 404  # nothing was restored


@pytest.mark.parametrize(("change", "error"), [
    (lambda name, data: None if name == "SHA256SUMS" else data,
     'failed checking integrity of snapshot: file missing for "meta.json"'),
    (lambda name, data: data + b"x" if name == "meta.json" else data,
     "failed to decode snapshot metadata: invalid character 'x' after top-level value"),
])
async def test_restore_texts_of_a_damaged_archive(api: Api, change: Any, error: str) -> None:
    snapshot = (await api.get("/v1/snapshot")).body
    reply = await api.put("/v1/snapshot", _rebuild(snapshot, change))
    assert (reply.status, reply.text) == (500, "failed to read snapshot file: " + error)


async def test_restore_refuses_a_file_it_does_not_know(api: Api) -> None:
    tar = io.BytesIO()
    with tarfile.open(fileobj=tar, mode="w", format=tarfile.USTAR_FORMAT) as dst:
        info = tarfile.TarInfo("extra.txt")
        info.size = 2
        dst.addfile(info, io.BytesIO(b"hi"))
    reply = await api.put("/v1/snapshot", gzip.compress(tar.getvalue()))
    assert (reply.status, reply.text) == (
        500, 'failed to read snapshot file: unexpected file "extra.txt" in snapshot')


async def test_restore_refuses_a_real_consul_state(api: Api) -> None:
    """A verified archive whose state.bin is not the dev agent's JSON (Raft's msgpack)."""
    snapshot = (await api.get("/v1/snapshot")).body
    msgpack = b"\x00\x85\xa4Node\xa2n1"
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(snapshot))) as archive:
        meta = json.loads(archive.extractfile("meta.json").read())  # type: ignore[union-attr]
    meta_json = json.dumps({**meta, "Size": len(msgpack)}).encode() + b"\n"
    sums = "".join(f"{hashlib.sha256(data).hexdigest()}  {name}\n"
                   for name, data in (("meta.json", meta_json), ("state.bin", msgpack)))
    files = {"meta.json": meta_json, "state.bin": msgpack, "SHA256SUMS": sums.encode()}
    reply = await api.put("/v1/snapshot", _rebuild(snapshot, lambda name, _: files[name]))
    assert reply.status == 500
    assert reply.text.startswith("Raft error when restoring snapshot: failed to restore "
                                 "snapshot: state.bin is not a dev agent's state")


async def test_stale_restore_is_refused(api: Api) -> None:
    """dispatchSnapshotRequest: "stale not allowed for restore", after the ACL check."""
    reply = await api.put("/v1/snapshot?stale", b"")
    assert (reply.status, reply.text) == (500, "stale not allowed for restore")


async def test_stale_save_is_served(api: Api) -> None:
    reply = await api.get("/v1/snapshot?stale")
    assert reply.status == 200 and reply.body[:2] == b"\x1f\x8b"


async def test_another_datacenter_has_no_path(api: Api) -> None:
    reply = await api.get("/v1/snapshot?dc=dc2")
    assert (reply.status, reply.text) == (500, "No path to datacenter")


async def test_snapshot_needs_acl_write(acl: ACLApi) -> None:  # noqa: F811
    """SnapshotAllowed: the one ACL sense is acl:write (PermissionDeniedByACLUnnamed)."""
    policy = await acl.policy("ops", 'operator = "write"\nacl = "read"')
    token = await acl.token(Policies=[{"ID": policy["ID"]}])
    for method in ("GET", "PUT"):
        reply = await acl.call(method, "/v1/snapshot", token=token["SecretID"], raw=b"")
        assert reply.status == 403
        assert reply.text == (f"Permission denied: token with AccessorID "
                              f"'{token['AccessorID']}' lacks permission 'acl:write'")


async def test_a_restored_acl_token_works(acl: ACLApi) -> None:  # noqa: F811
    """Tokens and policies come back with the state; the ACL caches were dropped."""
    policy = await acl.policy("kv", 'key_prefix "app/" { policy = "write" }')
    token = await acl.token(Policies=[{"ID": policy["ID"]}])
    snapshot = (await acl.call("GET", "/v1/snapshot")).body
    await acl.ok("DELETE", f"/v1/acl/token/{token['AccessorID']}")
    denied = await acl.call("PUT", "/v1/kv/app/x", raw=b"1", token=token["SecretID"])
    assert denied.status == 403
    assert (await acl.call("PUT", "/v1/snapshot", raw=snapshot)).status == 200
    allowed = await acl.call("PUT", "/v1/kv/app/x", raw=b"1", token=token["SecretID"])
    assert (allowed.status, allowed.json()) == (200, True)
    outside = await acl.call("PUT", "/v1/kv/other", raw=b"1", token=token["SecretID"])
    assert outside.status == 403
