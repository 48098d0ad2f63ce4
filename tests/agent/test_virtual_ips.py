"""Service virtual IPs (Consul >= 1.11): agent/consul/state/catalog.go assignServiceVirtualIP and
freeServiceVirtualIP, config_entry.go (a resolver, router or splitter write assigns one), the
compiled chain's AutoVirtualIPs (state.ServiceDiscoveryChain), and agent/local/state.go merging
the server's "consul-" tagged addresses back into the local service."""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from aioconsul.testing import DevAgent

from .conftest import Api


def proxy(name: str, destination: str, port: int = 21000) -> dict[str, Any]:
    return {"Kind": "connect-proxy", "ID": name, "Service": name, "Port": port,
            "Proxy": {"DestinationServiceName": destination}}


async def register(api: Api, service: dict[str, Any], node: str = "n1") -> None:
    body = {"Node": node, "Address": "10.0.0.1", "Service": service}
    reply = await api.put("/v1/catalog/register", json.dumps(body))
    assert reply.status == 200, reply.text


async def deregister(api: Api, service_id: str, node: str = "n1") -> None:
    body = {"Node": node, "ServiceID": service_id}
    assert (await api.put("/v1/catalog/deregister", json.dumps(body))).status == 200


async def tagged(api: Api, name: str) -> Any:
    (row,) = (await api.get(f"/v1/catalog/service/{name}")).json()
    return row.get("ServiceTaggedAddresses")


async def chain_vips(api: Api, name: str) -> tuple[Any, Any]:
    chain = (await api.get(f"/v1/discovery-chain/{name}")).json()["Chain"]
    return chain["AutoVirtualIPs"], chain["ManualVirtualIPs"]


async def put_entry(api: Api, entry: dict[str, Any]) -> None:
    reply = await api.put("/v1/config", json.dumps(entry))
    assert reply.status == 200, reply.text


async def test_a_proxy_carries_the_vip_of_its_destination_from_240_0_0_1(api: Api) -> None:
    """ensureServiceTxn: TaggedAddresses["consul-virtual"] = {VIP of the destination, the
    proxy's own port}; a second proxy of the same service shares it; the counter starts at
    startingVirtualIP + 1."""
    await register(api, proxy("web-sidecar-proxy", "web", 21000))
    await register(api, proxy("web-sidecar-proxy", "web", 21001), node="n2")
    rows = (await api.get("/v1/catalog/service/web-sidecar-proxy")).json()
    assert [r["ServiceTaggedAddresses"] for r in rows] == [
        {"consul-virtual": {"Address": "240.0.0.1", "Port": 21000}},
        {"consul-virtual": {"Address": "240.0.0.1", "Port": 21001}},
    ]


async def test_connect_native_services_get_one_and_typical_services_none(api: Api) -> None:
    await register(api, {"Service": "plain", "Port": 80})
    await register(api, {"Service": "native", "Port": 8443, "Connect": {"Native": True}})
    assert await tagged(api, "plain") is None
    assert await tagged(api, "native") == {
        "consul-virtual": {"Address": "240.0.0.1", "Port": 8443}}


async def test_the_compiled_chain_shows_the_vip(api: Api) -> None:
    """ServiceDiscoveryChain: AutoVirtualIPs is the assigned VIP and ManualVirtualIPs a copy
    of the manual ones ([] when none); a service without a VIP has null for both."""
    assert await chain_vips(api, "web") == (None, None)
    await register(api, proxy("web-sidecar-proxy", "web"))
    assert await chain_vips(api, "web") == (["240.0.0.1"], [])


async def test_a_resolver_router_or_splitter_write_assigns_a_vip(api: Api) -> None:
    """insertConfigEntryWithTxn: resolver, router and splitter entries assign one to the
    service they name; service-defaults does not."""
    await put_entry(api, {"Kind": "service-defaults", "Name": "db", "Protocol": "http"})
    assert await chain_vips(api, "db") == (None, None)
    await put_entry(api, {"Kind": "service-resolver", "Name": "api"})
    await put_entry(api, {"Kind": "service-router", "Name": "db"})
    assert await chain_vips(api, "api") == (["240.0.0.1"], [])
    assert await chain_vips(api, "db") == (["240.0.0.2"], [])
    await register(api, proxy("api-sidecar-proxy", "api"))
    assert await tagged(api, "api-sidecar-proxy") == {
        "consul-virtual": {"Address": "240.0.0.1", "Port": 21000}}


async def test_the_vip_is_freed_with_the_last_instance_and_reused(api: Api) -> None:
    """freeServiceVirtualIP runs for the deregistered service's own name; once no instance of
    it is left the VIP goes to the free table, and assignServiceVirtualIP draws from it before
    the counter (TestStateStore_EnsureService_ReassignFreedVIPs)."""
    await register(api, {"Service": "a", "Port": 1, "Connect": {"Native": True}})
    await register(api, {"Service": "b", "Port": 1, "Connect": {"Native": True}})
    await deregister(api, "b")
    await register(api, {"Service": "c", "Port": 1, "Connect": {"Native": True}})
    await register(api, {"Service": "d", "Port": 1, "Connect": {"Native": True}})
    addresses = [(await tagged(api, n))["consul-virtual"]["Address"] for n in "acd"]
    assert addresses == ["240.0.0.1", "240.0.0.2", "240.0.0.3"]


async def test_only_the_last_freed_vip_is_remembered(api: Api) -> None:
    """The free table's ID index is a StringFieldIndex over a net.IP field, so every freed IP
    has the same key ("<net.IP Value>"): a second free replaces the first, whose VIP is not
    handed out again."""
    for name in "abc":
        await register(api, {"Service": name, "Port": 1, "Connect": {"Native": True}})
    await deregister(api, "a")
    await deregister(api, "b")
    await register(api, {"Service": "d", "Port": 1, "Connect": {"Native": True}})
    await register(api, {"Service": "e", "Port": 1, "Connect": {"Native": True}})
    addresses = [(await tagged(api, n))["consul-virtual"]["Address"] for n in "de"]
    assert addresses == ["240.0.0.2", "240.0.0.4"]


async def test_a_config_entry_naming_the_service_keeps_its_vip(api: Api) -> None:
    """freeServiceVirtualIP keeps the VIP while a resolver, router, splitter, service-defaults
    or service-intentions entry names the service; deleting the resolver then frees it."""
    await register(api, {"Service": "db", "Port": 1, "Connect": {"Native": True}})
    await put_entry(api, {"Kind": "service-resolver", "Name": "db"})
    await deregister(api, "db")
    assert await chain_vips(api, "db") == (["240.0.0.1"], [])
    assert (await api.delete("/v1/config/service-resolver/db")).status == 200
    assert await chain_vips(api, "db") == (None, None)


async def test_deleting_the_destination_frees_the_vip_its_proxy_still_shows(api: Api) -> None:
    """deleteServiceTxn frees the VIP of the deleted service's own name: a proxy's VIP belongs
    to its destination, so the last instance of the destination going frees it even while
    the proxy is registered (which keeps the address it was given)."""
    await register(api, {"Service": "web", "Port": 80})
    await register(api, proxy("web-sidecar-proxy", "web"))
    await deregister(api, "web-sidecar-proxy")
    assert await chain_vips(api, "web") == (["240.0.0.1"], [])  # its own name: nothing freed
    await register(api, proxy("web-sidecar-proxy", "web"))
    await deregister(api, "web")
    assert await chain_vips(api, "web") == (None, None)
    assert await tagged(api, "web-sidecar-proxy") == {
        "consul-virtual": {"Address": "240.0.0.1", "Port": 21000}}


async def test_anti_entropy_keeps_the_servers_vip_in_the_local_service(
    api: Api, consul_agent: DevAgent
) -> None:
    """updateSyncState merges the catalog's "consul-" tagged addresses into the local service,
    so a sidecar stays in sync (no re-registration) and the agent shows its VIP too."""
    body = {"Name": "web", "Port": 8080, "Connect": {"SidecarService": {}}}
    assert (await api.put("/v1/agent/service/register", json.dumps(body))).status == 200
    backend = consul_agent.backend
    before = backend.store.raft_index
    backend.local.sync_full()
    backend.local.sync_full()
    assert backend.store.raft_index == before
    service = (await api.get("/v1/agent/service/web-sidecar-proxy")).json()
    assert service["TaggedAddresses"]["consul-virtual"] == {"Address": "240.0.0.1",
                                                           "Port": service["Port"]}


async def test_without_connect_services_get_no_vip_but_chain_entries_do() -> None:
    """The virtual-ips flag is set by the Connect leader routine only (startConnectLeader);
    insertConfigEntryWithTxn assigns without looking at it, and freeServiceVirtualIP then
    frees nothing."""
    async with DevAgent(connect_enabled=False) as agent, aiohttp.ClientSession() as http:
        api = Api(http, agent)
        await register(api, proxy("web-sidecar-proxy", "web"))
        assert await tagged(api, "web-sidecar-proxy") is None
        await put_entry(api, {"Kind": "service-resolver", "Name": "api"})
        assert agent.backend.catalog.virtual_ip("api") == "240.0.0.1"
        assert (await api.delete("/v1/config/service-resolver/api")).status == 200
        assert agent.backend.catalog.virtual_ip("api") == "240.0.0.1"
