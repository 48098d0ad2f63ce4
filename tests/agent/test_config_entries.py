"""Config entries over HTTP (``agent/config_endpoint.go``, ``agent/consul/config_endpoint.go``,
``agent/consul/state/config_entry.go``, ``agent/structs/config_entry*.go``)."""

from __future__ import annotations

import asyncio
import json

from ._acl import ACLApi, acl, acl_agent  # noqa: F401
from .conftest import Api


async def _put(api: Api, body: object, query: str = "") -> tuple[int, str]:
    reply = await api.put("/v1/config" + query, json.dumps(body))
    return reply.status, reply.text


async def test_apply_get_list_delete_with_indexes(api: Api) -> None:
    assert await _put(api, {"kind": "service-defaults", "name": "web",
                            "protocol": "HTTP", "external_sni": "x"}) == (200, "true")
    reply = await api.get("/v1/config/service-defaults/web")
    entry = reply.json()
    assert entry["Kind"] == "service-defaults" and entry["Name"] == "web"
    assert entry["Protocol"] == "http" and entry["ExternalSNI"] == "x"  # normalised keys
    assert entry["CreateIndex"] == entry["ModifyIndex"] == reply.index
    listed = (await api.get("/v1/config/service-defaults")).json()
    assert [e["Name"] for e in listed] == ["web"]
    assert (await api.delete("/v1/config/service-defaults/web")).json() == {}
    missing = await api.get("/v1/config/service-defaults/web")
    assert (missing.status, missing.text) == (
        404, 'Config entry not found for "service-defaults" / "web"')


async def test_cas_write_refused_on_a_stale_index(api: Api) -> None:
    """EnsureConfigEntryCAS: cas=0 creates only; cas=N writes only over ModifyIndex N."""
    body = {"Kind": "service-defaults", "Name": "db"}
    assert await _put(api, body, "?cas=0") == (200, "true")
    assert await _put(api, body, "?cas=0") == (200, "false")
    index = (await api.get("/v1/config/service-defaults/db")).json()["ModifyIndex"]
    assert await _put(api, body, f"?cas={index}") == (200, "true")
    assert await _put(api, body, f"?cas={index}") == (200, "false")  # stale now
    stale = await api.delete(f"/v1/config/service-defaults/db?cas={index}")
    assert stale.json() is False
    current = (await api.get("/v1/config/service-defaults/db")).json()["ModifyIndex"]
    assert (await api.delete(f"/v1/config/service-defaults/db?cas={current}")).json() is True


async def test_every_ce_kind_is_accepted(api: Api) -> None:
    for kind in ("ingress-gateway", "terminating-gateway", "api-gateway", "http-route",
                 "tcp-route", "inline-certificate", "file-system-certificate",
                 "service-intentions", "exported-services", "jwt-provider",
                 "service-resolver", "control-plane-request-limit"):
        # service-intentions: Validate needs a source (config_entry_intentions.go)
        extra = ({"Sources": [{"Name": "web", "Action": "allow"}]}
                 if kind == "service-intentions" else {})
        assert await _put(api, {"Kind": kind, "Name": "n1", **extra}) == (200, "true"), kind
        assert (await api.get(f"/v1/config/{kind}/n1")).json()["Kind"] == kind
    assert await _put(api, {"Kind": "mesh"}) == (200, "true")
    mesh = (await api.get("/v1/config/mesh/mesh")).json()
    assert mesh["Kind"] == "mesh" and "Name" not in mesh


async def test_validation_texts(api: Api) -> None:
    assert await _put(api, {"Name": "x"}) == (
        400, "Request decoding failed: Payload does not contain a kind/Kind key at the top level")
    assert await _put(api, {"Kind": "nope", "Name": "x"}) == (
        400, "Request decoding failed: invalid config entry kind: nope")
    status, text = await _put(api, {"Kind": "service-defaults", "Name": "x", "Bogus": 1})
    assert (status, 'invalid config key "Bogus"' in text) == (400, True)
    assert await _put(api, {"Kind": "proxy-defaults", "Name": "other"}) == (
        500, 'invalid name ("other"), only "global" is supported')
    assert await _put(api, {"Kind": "sameness-group", "Name": "g"}) == (
        500, "sameness-groups are an enterprise-only feature")
    listed = await api.get("/v1/config/nope")
    assert (listed.status, listed.text) == (500, "invalid config entry kind: nope")
    bad = await api.delete("/v1/config/nope/x")
    assert (bad.status, bad.text) == (400, "invalid config entry kind: nope")


async def test_splitter_weights_and_protocol(api: Api) -> None:
    """ServiceSplitterConfigEntry.Validate, then the discovery chain's protocol check."""
    splits = {"Kind": "service-splitter", "Name": "web",
              "Splits": [{"Weight": 90}, {"Weight": 5, "Service": "v2"}]}
    assert await _put(api, splits) == (
        500, "the sum of all split weights must be 100, not 95.000000")
    splits["Splits"][1]["Weight"] = 10  # type: ignore[index]
    assert await _put(api, splits) == (
        500, 'discovery chain "web" uses a protocol "tcp" that does not permit advanced '
             "routing or splitting behavior")
    assert await _put(api, {"Kind": "proxy-defaults", "Name": "global",
                            "Config": {"protocol": "http"}}) == (200, "true")
    assert await _put(api, splits) == (200, "true")
    # Taking the protocol away again would break the chain.
    reply = await api.delete("/v1/config/proxy-defaults/global")
    assert reply.status == 500 and "does not permit advanced routing" in reply.text


async def test_blocking_list_by_kind_wakes_on_a_write(api: Api) -> None:
    first = await api.get("/v1/config/service-defaults")
    waiter = asyncio.ensure_future(
        api.get(f"/v1/config/service-defaults?index={first.index}&wait=30s"))
    await asyncio.sleep(0)
    assert await _put(api, {"Kind": "service-defaults", "Name": "late"}) == (200, "true")
    woke = await waiter
    assert woke.index > first.index and [e["Name"] for e in woke.json()] == ["late"]


async def test_acl_per_kind(acl: ACLApi) -> None:  # noqa: F811
    """CanRead/CanWrite: service kinds want service:read/write, proxy-defaults mesh:write."""
    policy = await acl.policy("web", 'service "web" { policy = "write" }')
    secret = (await acl.token(Policies=[{"ID": policy["ID"]}]))["SecretID"]
    body = {"Kind": "service-defaults", "Name": "web"}
    assert (await acl.call("PUT", "/v1/config", body, token=secret)).status == 200
    denied = await acl.call("PUT", "/v1/config", {"Kind": "service-defaults", "Name": "db"},
                            token=secret)
    assert denied.status == 403
    proxy = await acl.call("PUT", "/v1/config", {"Kind": "proxy-defaults", "Name": "global"},
                           token=secret)
    assert proxy.status == 403
    await acl.ok("PUT", "/v1/config", {"Kind": "service-defaults", "Name": "db"})
    await acl.ok("PUT", "/v1/config", {"Kind": "proxy-defaults", "Name": "global"})
    listed = await acl.call("GET", "/v1/config/service-defaults", token=secret)
    assert [e["Name"] for e in listed.json()] == ["web"]
    assert listed.headers.get("X-Consul-Results-Filtered-By-ACLs") == "true"
    assert (await acl.call("GET", "/v1/config/service-defaults/db", token=secret)).status == 403
    # proxy-defaults CanRead is nil: anyone reads it.
    assert (await acl.call("GET", "/v1/config/proxy-defaults/global", token=secret)).status == 200
