"""The discovery chain over HTTP (``agent/discovery_chain_endpoint.go``,
``agent/consul/discovery_chain_endpoint.go``, ``agent/consul/discoverychain/compile.go``) and
the validation of the router/splitter/resolver entries it compiles
(``agent/structs/config_entry_discoverychain.go``, ``agent/consul/state/config_entry.go``)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from ._acl import ROOT, ACLApi, acl, acl_agent
from .conftest import Api

__all__ = ["acl", "acl_agent"]


async def put_entry(api: Api, entry: dict[str, Any]) -> None:
    reply = await api.put("/v1/config", json.dumps(entry))
    assert reply.status == 200 and reply.json() is True, reply.text


async def refused(api: Api, entry: dict[str, Any]) -> tuple[int, str]:
    reply = await api.put("/v1/config", json.dumps(entry))
    return reply.status, reply.text


async def chain(api: Api, service: str = "web", query: str = "") -> dict[str, Any]:
    reply = await api.get(f"/v1/discovery-chain/{service}{query}")
    assert reply.status == 200, reply.text
    value: dict[str, Any] = reply.json()["Chain"]
    return value


def trust_domain(compiled: dict[str, Any]) -> str:
    sni: str = next(iter(compiled["Targets"].values()))["SNI"]
    return sni.split(".internal.", 1)[1]


async def test_the_default_chain_of_a_plain_service_is_one_default_resolver(api: Api) -> None:
    """No config entry: one resolver node with Consul's 5s connect timeout, ``Default`` on
    the chain and the resolver, protocol tcp, SNI ``<svc>.<ns>.<dc>.internal.<domain>``."""
    compiled = await chain(api)
    domain = trust_domain(compiled)
    assert domain.endswith(".consul")
    assert compiled == {
        "ServiceName": "web",
        "Namespace": "default",
        "Partition": "default",
        "Datacenter": "dc1",
        "Default": True,
        "Protocol": "tcp",
        "StartNode": "resolver:web.default.default.dc1",
        "Nodes": {
            "resolver:web.default.default.dc1": {
                "Type": "resolver",
                "Name": "web.default.default.dc1",
                "Resolver": {"ConnectTimeout": "5s", "Default": True,
                             "Target": "web.default.default.dc1"},
            },
        },
        "Targets": {
            "web.default.default.dc1": {
                "ConnectTimeout": "5s",
                "ID": "web.default.default.dc1",
                "Service": "web",
                "Namespace": "default",
                "Partition": "default",
                "Datacenter": "dc1",
                "MeshGateway": {},
                "Subset": {},
                "TransparentProxy": {},
                "SNI": f"web.default.dc1.internal.{domain}",
                "Name": f"web.default.dc1.internal.{domain}",
            },
        },
        "AutoVirtualIPs": None,
        "ManualVirtualIPs": None,
    }


async def test_the_chain_answer_keeps_go_field_order(api: Api) -> None:
    """encoding/json writes the struct fields in order, ConnectTimeout first on a target and
    a resolver (their MarshalJSON puts the string form in front)."""
    reply = await api.get("/v1/discovery-chain/web")
    text = reply.text
    assert text.startswith('{"Chain":{"ServiceName":"web","Namespace":"default",'
                           '"Partition":"default","Datacenter":"dc1","Default":true,')
    assert '"Resolver":{"ConnectTimeout":"5s","Default":true,"Target"' in text
    assert '{"ConnectTimeout":"5s","ID":"web.default.default.dc1","Service":"web"' in text


async def test_compile_dc_compiles_as_seen_from_another_datacenter(api: Api) -> None:
    compiled = await chain(api, query="?compile-dc=dc2")
    assert compiled["Datacenter"] == "dc2"
    assert compiled["StartNode"] == "resolver:web.default.default.dc2"
    target = compiled["Targets"]["web.default.default.dc2"]
    assert target["SNI"].startswith("web.default.dc2.internal.")


async def test_a_splitter_changes_the_chain(api: Api) -> None:
    """The API docs' "Version Split" compilation: a splitter node over two subset resolvers."""
    await put_entry(api, {"Kind": "service-defaults", "Name": "web", "Protocol": "http"})
    await put_entry(api, {
        "Kind": "service-resolver", "Name": "web", "DefaultSubset": "v1",
        "Subsets": {"v1": {"Filter": "Service.Meta.version == v1"},
                    "v2": {"Filter": "Service.Meta.version == v2"}},
    })
    await put_entry(api, {"Kind": "service-splitter", "Name": "web", "Splits": [
        {"Weight": 90, "ServiceSubset": "v1"}, {"Weight": 10, "ServiceSubset": "v2"}]})
    compiled = await chain(api)
    assert "Default" not in compiled
    assert compiled["Protocol"] == "http"
    assert compiled["StartNode"] == "splitter:web.default.default"
    assert sorted(compiled["Nodes"]) == [
        "resolver:v1.web.default.default.dc1",
        "resolver:v2.web.default.default.dc1",
        "splitter:web.default.default",
    ]
    assert compiled["Nodes"]["splitter:web.default.default"]["Splits"] == [
        {"Definition": {"Weight": 90, "ServiceSubset": "v1"}, "Weight": 90,
         "NextNode": "resolver:v1.web.default.default.dc1"},
        {"Definition": {"Weight": 10, "ServiceSubset": "v2"}, "Weight": 10,
         "NextNode": "resolver:v2.web.default.default.dc1"},
    ]
    v1 = compiled["Targets"]["v1.web.default.default.dc1"]
    assert v1["ServiceSubset"] == "v1"
    assert v1["Subset"] == {"Filter": "Service.Meta.version == v1"}
    assert v1["SNI"].startswith("v1.web.default.dc1.internal.")


async def test_a_router_routes_to_subsets_and_services_with_a_catch_all(api: Api) -> None:
    """The API docs' "HTTP Path Routing": routes in order, then the injected catch-all
    ``PathPrefix: /`` to the service itself."""
    await put_entry(api, {"Kind": "proxy-defaults", "Name": "global",
                          "Config": {"protocol": "http"}})
    await put_entry(api, {"Kind": "service-resolver", "Name": "web",
                          "Subsets": {"canary": {"Filter": "Service.Meta.flavor == canary"}}})
    await put_entry(api, {"Kind": "service-router", "Name": "web", "Routes": [
        {"Match": {"HTTP": {"PathPrefix": "/admin"}},
         "Destination": {"Service": "admin", "PrefixRewrite": "/", "RequestTimeout": "15s"}},
        {"Match": {"HTTP": {"Header": [{"Name": "x-debug", "Exact": "1"}]}},
         "Destination": {"ServiceSubset": "canary", "NumRetries": 5,
                         "RetryOnConnectFailure": True, "RetryOnStatusCodes": [401, 409]}},
    ]})
    compiled = await chain(api)
    assert compiled["StartNode"] == "router:web.default.default"
    routes = compiled["Nodes"]["router:web.default.default"]["Routes"]
    assert routes == [
        {"Definition": {"Match": {"HTTP": {"PathPrefix": "/admin"}},
                        "Destination": {"RequestTimeout": "15s", "Service": "admin",
                                        "PrefixRewrite": "/"}},
         "NextNode": "resolver:admin.default.default.dc1"},
        {"Definition": {"Match": {"HTTP": {"Header": [{"Name": "x-debug", "Exact": "1"}]}},
                        "Destination": {"ServiceSubset": "canary", "NumRetries": 5,
                                        "RetryOnConnectFailure": True,
                                        "RetryOnStatusCodes": [401, 409]}},
         "NextNode": "resolver:canary.web.default.default.dc1"},
        {"Definition": {"Match": {"HTTP": {"PathPrefix": "/"}},
                        "Destination": {"Service": "web", "Namespace": "default",
                                        "Partition": "default"}},
         "NextNode": "resolver:web.default.default.dc1"},
    ]
    admin = compiled["Nodes"]["resolver:admin.default.default.dc1"]["Resolver"]
    assert admin == {"ConnectTimeout": "5s", "Default": True,
                     "Target": "admin.default.default.dc1"}
    assert "Default" not in compiled["Nodes"]["resolver:web.default.default.dc1"]["Resolver"]


async def test_a_resolver_redirect_starts_the_chain_at_the_other_service(api: Api) -> None:
    """A redirect resolves the other service; the chain is no longer a default one even though
    the resolver it lands on is (determineIfDefaultChain checks the target's service)."""
    await put_entry(api, {"Kind": "service-resolver", "Name": "web",
                          "Redirect": {"Service": "api"}, "ConnectTimeout": "15s"})
    compiled = await chain(api)
    assert compiled["StartNode"] == "resolver:api.default.default.dc1"
    assert "Default" not in compiled
    assert list(compiled["Targets"]) == ["api.default.default.dc1"]
    resolver = compiled["Nodes"]["resolver:api.default.default.dc1"]["Resolver"]
    assert resolver == {"ConnectTimeout": "5s", "Default": True,
                        "Target": "api.default.default.dc1"}


async def test_a_failover_lists_its_targets(api: Api) -> None:
    """The API docs' "Multi-Datacenter Failover"."""
    await put_entry(api, {"Kind": "service-resolver", "Name": "web", "ConnectTimeout": "15s",
                          "Failover": {"*": {"Datacenters": ["dc3", "dc4"]}}})
    compiled = await chain(api)
    resolver = compiled["Nodes"]["resolver:web.default.default.dc1"]["Resolver"]
    assert resolver == {
        "ConnectTimeout": "15s", "Target": "web.default.default.dc1",
        "Failover": {"Targets": ["web.default.default.dc3", "web.default.default.dc4"]},
    }
    assert sorted(compiled["Targets"]) == [
        "web.default.default.dc1", "web.default.default.dc3", "web.default.default.dc4"]
    assert compiled["Targets"]["web.default.default.dc3"]["ConnectTimeout"] == "15s"


async def test_post_overrides_customize_the_chain(api: Api) -> None:
    """The API docs' "Datacenter Redirect with Overrides", down to its CustomizationHash
    (hashstructure of the overrides that changed the compilation)."""
    await put_entry(api, {"Kind": "service-resolver", "Name": "web",
                          "Redirect": {"Datacenter": "dc2"}})
    body = {"OverrideConnectTimeout": "7s", "OverrideProtocol": "grpc",
            "OverrideMeshGateway": {"Mode": "remote"}}
    reply = await api.request("POST", "/v1/discovery-chain/web", json.dumps(body))
    assert reply.status == 200, reply.text
    compiled = reply.json()["Chain"]
    assert compiled["CustomizationHash"] == "b94f529a"
    assert compiled["Protocol"] == "grpc"
    assert compiled["StartNode"] == "resolver:web.default.default.dc2"
    node = compiled["Nodes"]["resolver:web.default.default.dc2"]
    assert node["Resolver"] == {"ConnectTimeout": "7s", "Target": "web.default.default.dc2"}
    assert compiled["Targets"]["web.default.default.dc2"]["MeshGateway"] == {"Mode": "remote"}


async def test_snake_case_overrides_and_an_override_that_changes_nothing(api: Api) -> None:
    """``override_protocol`` is translated; an override equal to what the chain has already
    customizes nothing, so there is no CustomizationHash."""
    reply = await api.request("POST", "/v1/discovery-chain/web",
                              json.dumps({"override_protocol": "tcp"}))
    assert reply.status == 200, reply.text
    assert "CustomizationHash" not in reply.json()["Chain"]


async def test_a_tcp_override_drops_the_splitter(api: Api) -> None:
    await put_entry(api, {"Kind": "service-defaults", "Name": "web", "Protocol": "http"})
    await put_entry(api, {"Kind": "service-splitter", "Name": "web",
                          "Splits": [{"Weight": 100}]})
    reply = await api.request("POST", "/v1/discovery-chain/web",
                              json.dumps({"OverrideProtocol": "tcp"}))
    compiled = reply.json()["Chain"]
    assert compiled["StartNode"] == "resolver:web.default.default.dc1"
    assert compiled["Protocol"] == "tcp"
    assert "CustomizationHash" in compiled


async def test_the_http_layer_refusals(api: Api) -> None:
    """DiscoveryChainRead's 400s: the name, the body, the mesh gateway mode (written by the
    handler itself, without a newline)."""
    missing = await api.get("/v1/discovery-chain/")
    assert (missing.status, missing.text) == (400, "Missing chain name")
    empty = await api.request("POST", "/v1/discovery-chain/web", b"")
    assert (empty.status, empty.text) == (400, "Request decoding failed: EOF")
    mode = await api.request("POST", "/v1/discovery-chain/web",
                             json.dumps({"OverrideMeshGateway": {"Mode": "sideways"}}))
    assert (mode.status, mode.text) == (400, "Invalid OverrideMeshGateway.Mode parameter")
    timeout = await api.request("POST", "/v1/discovery-chain/web",
                                json.dumps({"OverrideConnectTimeout": "soon"}))
    assert timeout.status == 400
    assert timeout.text == (
        "Request decoding failed: 1 error(s) decoding:\n\n* error decoding "
        "'OverrideConnectTimeout': time: invalid duration \"soon\"")


async def test_a_blocking_read_wakes_when_a_config_entry_changes_the_chain(api: Api) -> None:
    first = await api.get("/v1/discovery-chain/web")
    index = first.index

    async def blocked() -> Any:
        return await api.get(f"/v1/discovery-chain/web?index={index}&wait=30s")

    task = asyncio.ensure_future(blocked())
    await put_entry(api, {"Kind": "service-resolver", "Name": "web",
                          "Redirect": {"Service": "api"}})
    woken = await task
    assert woken.index > index
    assert woken.json()["Chain"]["StartNode"] == "resolver:api.default.default.dc1"


async def test_a_splitter_without_an_l7_protocol_is_refused(api: Api) -> None:
    status, text = await refused(api, {"Kind": "service-splitter", "Name": "web",
                                       "Splits": [{"Weight": 100}]})
    assert (status, text) == (500, 'discovery chain "web" uses a protocol "tcp" that does not '
                                   "permit advanced routing or splitting behavior")


async def test_split_weights_must_sum_to_100(api: Api) -> None:
    status, text = await refused(api, {"Kind": "service-splitter", "Name": "web", "Splits": [
        {"Weight": 90, "ServiceSubset": "v1"}, {"Weight": 5, "ServiceSubset": "v2"}]})
    assert (status, text) == (500, "the sum of all split weights must be 100, not 95.000000")


async def test_a_split_to_the_service_itself_twice_is_refused(api: Api) -> None:
    """The empty Service of a split counts as the splitter's own name in the duplicate check."""
    status, text = await refused(api, {"Kind": "service-splitter", "Name": "web", "Splits": [
        {"Weight": 50}, {"Weight": 50, "Service": "web"}]})
    assert (status, text) == (500, 'split destination occurs more than once: service="web", '
                                   'subset="", namespace="", partition=""')


async def test_one_protocol_per_chain(api: Api) -> None:
    await put_entry(api, {"Kind": "service-defaults", "Name": "web", "Protocol": "http"})
    status, text = await refused(api, {"Kind": "service-splitter", "Name": "web", "Splits": [
        {"Weight": 50}, {"Weight": 50, "Service": "db"}]})
    assert (status, text) == (500, 'discovery chain "web" uses inconsistent protocols; service '
                                   '"db" has "tcp" which is not "http"')


async def test_a_split_to_a_missing_subset_is_refused(api: Api) -> None:
    await put_entry(api, {"Kind": "service-defaults", "Name": "web", "Protocol": "http"})
    status, text = await refused(api, {"Kind": "service-splitter", "Name": "web", "Splits": [
        {"Weight": 100, "ServiceSubset": "v3"}]})
    assert (status, text) == (500, 'service "web" does not have a subset named "v3"')


async def test_a_circular_redirect_is_refused(api: Api) -> None:
    await put_entry(api, {"Kind": "service-resolver", "Name": "web",
                          "Redirect": {"Service": "api"}})
    status, text = await refused(api, {"Kind": "service-resolver", "Name": "api",
                                       "Redirect": {"Service": "web"}})
    assert (status, text) == (500, "detected circular resolver redirect: [api.default.default.dc1"
                                   " -> web.default.default.dc1 -> api.default.default.dc1]")


async def test_deleting_the_protocol_under_a_splitter_is_refused(api: Api) -> None:
    """A delete is checked too: the splitter would be left on a tcp service."""
    await put_entry(api, {"Kind": "service-defaults", "Name": "web", "Protocol": "http"})
    await put_entry(api, {"Kind": "service-splitter", "Name": "web",
                          "Splits": [{"Weight": 100}]})
    reply = await api.delete("/v1/config/service-defaults/web")
    assert reply.status == 500
    assert reply.text.startswith('discovery chain "web" uses a protocol "tcp"')


async def test_resolver_validation_texts(api: Api) -> None:
    cases = [
        ({"DefaultSubset": "v9"}, 'DefaultSubset "v9" is not a valid subset'),
        ({"Subsets": {"V1": {}}}, 'Subset "V1" is invalid: must be 63 characters or fewer, '
         "begin or end with lower case alphanumeric characters, and contain lower case "
         "alphanumeric characters or '-' in between"),
        ({"Redirect": {}}, "Redirect is empty"),
        ({"Redirect": {"ServiceSubset": "v1"}},
         "Redirect.ServiceSubset defined without Redirect.Service"),
        ({"Redirect": {"Service": "api"}, "Failover": {"*": {"Service": "db"}}},
         "Redirect and Failover cannot both be set"),
        ({"Failover": {"v1": {"Service": "db"}}}, 'Bad Failover["v1"]: not a valid subset subset'),
        ({"Failover": {"*": {}}}, 'Bad Failover["*"]: one of Service, ServiceSubset, Namespace, '
         "Targets, SamenessGroup, or Datacenters is required"),
        ({"Failover": {"*": {"Service": "db", "Targets": [{"Service": "x"}]}}},
         'Bad Failover["*"]: Targets cannot be set with Service'),
        ({"ConnectTimeout": "-1s"}, "Bad ConnectTimeout '-1s', must be >= 0"),
        ({"LoadBalancer": {"Policy": "fastest"}},
         'Bad LoadBalancer policy: "fastest" is not supported'),
        ({"Redirect": {"Service": "api", "Namespace": "ns1"}},
         "Redirect: Setting Namespace requires Consul Enterprise"),
    ]
    for fields, text in cases:
        status, body = await refused(api, {"Kind": "service-resolver", "Name": "web", **fields})
        assert (status, body) == (500, text), fields


async def test_router_validation_texts(api: Api) -> None:
    await put_entry(api, {"Kind": "service-defaults", "Name": "web", "Protocol": "http"})
    cases = [
        ({"Match": {"HTTP": {"PathPrefix": "admin"}}},
         "Route[0] PathPrefix doesn't start with '/': \"admin\""),
        ({"Match": {"HTTP": {"PathExact": "/a", "PathPrefix": "/b"}}},
         "Route[0] should only contain at most one of PathExact, PathPrefix, or PathRegex"),
        ({"Match": {"HTTP": {"Header": [{"Name": "x"}]}}},
         "Route[0] Header[0] should only contain one of Present, Exact, Prefix, Suffix, or "
         "Regex"),
        ({"Match": {"HTTP": {"Methods": ["get", "GET"]}}},
         'Route[0] Methods contains "GET" more than once'),
        ({"Destination": {"PrefixRewrite": "/"}},
         "Route[0] cannot make use of PrefixRewrite without configuring either PathExact or "
         "PathPrefix"),
        ({"Destination": {"RetryOn": ["sometimes"]}},
         'Route[0] contains an invalid retry condition: "sometimes"'),
    ]
    for route, text in cases:
        status, body = await refused(api, {"Kind": "service-router", "Name": "web",
                                           "Routes": [route]})
        assert (status, body) == (500, text), route


async def test_a_read_needs_service_read_on_the_service(acl: ACLApi) -> None:
    """DiscoveryChain.Get: ServiceReadAllowed on the name, Consul's detailed denial."""
    denied = await acl.call("GET", "/v1/discovery-chain/web", token=None)
    assert denied.status == 403
    assert denied.text.startswith("Permission denied")
    assert "service:read" in denied.text
    policy = await acl.call("PUT", "/v1/acl/policy", {
        "Name": "web-read", "Rules": 'service "web" { policy = "read" }'})
    token = await acl.call("PUT", "/v1/acl/token", {"Policies": [{"ID": policy.json()["ID"]}]})
    secret = token.json()["SecretID"]
    allowed = await acl.call("GET", "/v1/discovery-chain/web", token=secret)
    assert allowed.status == 200, allowed.text
    other = await acl.call("GET", "/v1/discovery-chain/db", token=secret)
    assert other.status == 403
    root = await acl.call("GET", "/v1/discovery-chain/db", token=ROOT)
    assert root.status == 200


async def test_the_sni_carries_the_trust_domain_of_the_ca(api: Api) -> None:
    """serviceDiscoveryChainTxn: the trust domain is the CA configuration's cluster ID."""
    roots = await api.get("/v1/connect/ca/roots")
    assert roots.status == 200, roots.text
    assert trust_domain(await chain(api)) == roots.json()["TrustDomain"]
