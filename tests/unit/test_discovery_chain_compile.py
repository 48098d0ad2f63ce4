"""The discovery chain compiler, pure (``agent/consul/discoverychain/compile.go``,
``compile_test.go``'s cases)."""

from __future__ import annotations

from typing import Any

import pytest

from aioconsul.testing.discoverychain import (
    ChainEntries,
    ChainError,
    CompileRequest,
    compile_chain,
)
from aioconsul.testing.discoverychain.hashing import customization_hash, fnv1_64

TD = "9b8a7c6d-1111-2222-3333-444455556666.consul"


def compile_(entries: dict[tuple[str, str], dict[str, Any]], service: str = "web",
             **overrides: Any) -> dict[str, Any]:
    req = CompileRequest(service, "dc1", TD, **overrides)
    return compile_chain(req, ChainEntries.of(entries))


def http(name: str) -> dict[tuple[str, str], dict[str, Any]]:
    return {("service-defaults", name): {"Kind": "service-defaults", "Name": name,
                                         "Protocol": "http"}}


def test_fnv1_is_fnv1_not_fnv1a() -> None:
    assert fnv1_64(b"") == 0xCBF29CE484222325
    assert fnv1_64(b"a") == 0xAF63BD4C8601B7BE  # FNV-1a would be 0xAF63DC4C8601EC8C


def test_the_customization_hash_of_consuls_docs_sample() -> None:
    """website/content/api-docs/discovery-chain.mdx: 7s, grpc, remote -> b94f529a."""
    assert customization_hash("remote", "grpc", 7 * 10**9) == "b94f529a"


def test_required_request_fields() -> None:
    with pytest.raises(ValueError, match="evaluateInTrustDomain is required"):
        compile_chain(CompileRequest("web", "dc1", ""), ChainEntries())


def test_nested_splitters_are_flattened_with_multiplied_weights() -> None:
    """flattenAdjacentSplitterNodes: web 50/50 to web-a and web-b, web-b 50/50 to its
    subsets: three legs of 50, 25 and 25, and the inner splitter node is removed."""
    entries = {**http("web"), **http("web-a"), **http("web-b")}
    entries[("service-splitter", "web")] = {"Kind": "service-splitter", "Name": "web",
                                            "Splits": [{"Weight": 50, "Service": "web-a"},
                                                       {"Weight": 50, "Service": "web-b"}]}
    entries[("service-splitter", "web-b")] = {
        "Kind": "service-splitter", "Name": "web-b",
        "Splits": [{"Weight": 50, "ServiceSubset": "x"}, {"Weight": 50, "ServiceSubset": "y"}]}
    entries[("service-resolver", "web-b")] = {"Kind": "service-resolver", "Name": "web-b",
                                              "Subsets": {"x": {}, "y": {}}}
    chain = compile_(entries)
    assert "splitter:web-b.default.default" not in chain["Nodes"]
    splits = chain["Nodes"]["splitter:web.default.default"]["Splits"]
    assert [(s["Weight"], s["NextNode"]) for s in splits] == [
        (50, "resolver:web-a.default.default.dc1"),
        (25, "resolver:x.web-b.default.default.dc1"),
        (25, "resolver:y.web-b.default.default.dc1"),
    ]
    assert splits[1]["Definition"] == {"Weight": 50, "ServiceSubset": "x"}


def test_request_headers_of_a_flattened_parent_split_are_merged_into_the_child() -> None:
    entries = {**http("web"), **http("web-b")}
    entries[("service-splitter", "web")] = {"Kind": "service-splitter", "Name": "web", "Splits": [
        {"Weight": 100, "Service": "web-b", "RequestHeaders": {"Set": {"x-from": "web"}}}]}
    entries[("service-splitter", "web-b")] = {"Kind": "service-splitter", "Name": "web-b",
                                              "Splits": [{"Weight": 100}]}
    chain = compile_(entries)
    (split,) = chain["Nodes"]["splitter:web.default.default"]["Splits"]
    assert split["Definition"] == {"Weight": 100, "RequestHeaders": {"Set": {"x-from": "web"}}}


def test_failover_targets_with_service_and_datacenters() -> None:
    entries = {("service-resolver", "web"): {
        "Kind": "service-resolver", "Name": "web",
        "Failover": {"*": {"Service": "backup", "Datacenters": ["dc1", "dc2"]}}}}
    chain = compile_(entries)
    resolver = chain["Nodes"]["resolver:web.default.default.dc1"]["Resolver"]
    # dc1 is a different target here (another service), so it is kept
    assert resolver["Failover"] == {
        "Targets": ["backup.default.default.dc1", "backup.default.default.dc2"]}


def test_failover_to_yourself_is_dropped() -> None:
    entries = {("service-resolver", "web"): {
        "Kind": "service-resolver", "Name": "web", "Failover": {"*": {"Datacenters": ["dc1"]}}}}
    chain = compile_(entries)
    assert "Failover" not in chain["Nodes"]["resolver:web.default.default.dc1"]["Resolver"]


def test_an_external_sni_marks_the_target_external() -> None:
    entries = {("service-defaults", "web"): {"Kind": "service-defaults", "Name": "web",
                                             "ExternalSNI": "web.example.com"}}
    target = compile_(entries)["Targets"]["web.default.default.dc1"]
    assert target["External"] is True
    assert target["SNI"] == "web.example.com"
    assert target["Name"] == f"web.default.dc1.internal.{TD}"


def test_an_external_service_cannot_redirect() -> None:
    entries = {("service-defaults", "web"): {"Kind": "service-defaults", "Name": "web",
                                             "ExternalSNI": "web.example.com"},
               ("service-resolver", "web"): {"Kind": "service-resolver", "Name": "web",
                                             "Subsets": {"v1": {}}}}
    with pytest.raises(ChainError, match='service "web" has an external SNI set; cannot '
                                         "define subsets for external services"):
        compile_(entries)


def test_mesh_gateway_mode_from_proxy_defaults_and_its_override() -> None:
    entries = {("proxy-defaults", "global"): {"Kind": "proxy-defaults", "Name": "global",
                                              "MeshGateway": {"Mode": "local"}}}
    chain = compile_(entries)
    assert chain["Targets"]["web.default.default.dc1"]["MeshGateway"] == {"Mode": "local"}
    assert "CustomizationHash" not in chain
    same = compile_(entries, override_mesh_gateway="local")
    assert "CustomizationHash" not in same  # the override changed nothing
    other = compile_(entries, override_mesh_gateway="none")
    assert other["Targets"]["web.default.default.dc1"]["MeshGateway"] == {"Mode": "none"}
    assert other["CustomizationHash"] == customization_hash("none", "", 0)


def test_service_meta_comes_from_the_services_defaults() -> None:
    entries = {("service-defaults", "web"): {"Kind": "service-defaults", "Name": "web",
                                             "Meta": {"team": "a"}}}
    assert compile_(entries)["ServiceMeta"] == {"team": "a"}


def test_a_router_on_tcp_is_refused() -> None:
    entries = {("service-router", "web"): {"Kind": "service-router", "Name": "web",
                                           "Routes": []}}
    with pytest.raises(ChainError, match='uses a protocol "tcp" that does not permit'):
        compile_(entries)


def test_a_router_is_dropped_by_a_tcp_protocol_override() -> None:
    entries = {**http("web"), ("service-router", "web"): {"Kind": "service-router",
                                                          "Name": "web", "Routes": []}}
    chain = compile_(entries, override_protocol="tcp")
    assert chain["StartNode"] == "resolver:web.default.default.dc1"
    assert chain["CustomizationHash"] == customization_hash("", "tcp", 0)


def test_a_default_subset_redirects_an_unnamed_subset() -> None:
    entries = {("service-resolver", "web"): {"Kind": "service-resolver", "Name": "web",
                                             "DefaultSubset": "v2", "Subsets": {"v2": {
                                                 "OnlyPassing": True}}}}
    chain = compile_(entries)
    assert chain["StartNode"] == "resolver:v2.web.default.default.dc1"
    assert chain["Targets"]["v2.web.default.default.dc1"]["Subset"] == {"OnlyPassing": True}


def test_a_request_timeout_is_written_in_nanoseconds_on_the_resolver() -> None:
    """DiscoveryResolver.RequestTimeout has no string form: a time.Duration number."""
    entries = {("service-resolver", "web"): {"Kind": "service-resolver", "Name": "web",
                                             "RequestTimeout": "2s"}}
    resolver = compile_(entries)["Nodes"]["resolver:web.default.default.dc1"]["Resolver"]
    assert resolver == {"ConnectTimeout": "5s", "RequestTimeout": 2_000_000_000,
                        "Target": "web.default.default.dc1"}
