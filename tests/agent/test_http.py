"""The HTTP layer shared by every endpoint: agent/http.go (wrap, Index, parse*), Go's
net/http ServeMux (path cleaning, redirects) and go-cleanhttp (printable paths)."""

from __future__ import annotations

import json

import pytest

from .conftest import Api


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/kv/missing"),
        ("PUT", "/v1/kv/k"),
        ("GET", "/v1/status/leader"),
        ("GET", "/v1/nope"),
        ("POST", "/v1/kv/k"),
        ("GET", "/v1/kv//k"),
    ],
)
async def test_every_response_carries_the_default_acl_policy(
    api: Api, method: str, path: str
) -> None:
    reply = await api.request(method, path)
    assert reply.headers["X-Consul-Default-ACL-Policy"] == "allow"
    assert "Server" not in reply.headers  # Go's net/http sends none


async def test_unknown_v1_path_is_404_with_consul_text(api: Api) -> None:
    reply = await api.get("/v1/catalog/nothing-here")
    assert reply.status == 404
    assert reply.text == "Invalid URL path: not a recognized HTTP API endpoint\n"


async def test_path_outside_v1_is_404_with_a_hint(api: Api) -> None:
    reply = await api.get("/kv/foo")
    assert reply.status == 404
    assert reply.text == (
        "Invalid URL path: if attempting to use the HTTP API, ensure the path starts with '/v1/'\n"
    )


async def test_exact_route_with_trailing_slash_is_unknown(api: Api) -> None:
    assert (await api.get("/v1/status/leader/")).status == 404


async def test_wrong_method_is_405_with_allow_header(api: Api) -> None:
    reply = await api.request("POST", "/v1/kv/k")
    assert reply.status == 405
    assert reply.text == "method POST not allowed"
    assert reply.headers["Allow"] == "OPTIONS,GET,PUT,DELETE"
    reply = await api.request("HEAD", "/v1/session/list")
    assert reply.status == 405
    assert reply.headers["Allow"] == "OPTIONS,GET"


async def test_options_answers_the_allowed_methods(api: Api) -> None:
    reply = await api.request("OPTIONS", "/v1/session/create")
    assert (reply.status, reply.body) == (200, b"")
    assert reply.headers["Allow"] == "OPTIONS,PUT"


@pytest.mark.parametrize(
    ("path", "location"),
    [
        ("/v1/kv//foo", "/v1/kv/foo"),
        ("//v1/kv/foo", "/v1/kv/foo"),
        ("/v1/kv/a/./b", "/v1/kv/a/b"),
        ("/v1/kv/a/../b?recurse", "/v1/kv/b?recurse"),
        ("/v1/kv/a/.", "/v1/kv/a"),
        ("/v1/kv/dir//", "/v1/kv/dir/"),
        ("/v1/kv/x%20y//z", "/v1/kv/x%2520y/z"),  # Go re-escapes the escaped clean path
    ],
)
async def test_unclean_paths_redirect_301_to_the_clean_path(
    api: Api, path: str, location: str
) -> None:
    reply = await api.get(path)
    assert reply.status == 301
    assert reply.headers["Location"] == location
    assert reply.headers["Content-Type"] == "text/html; charset=utf-8"
    assert reply.text == f'<a href="{location}">Moved Permanently</a>.\n\n'


async def test_redirects_answer_every_method_without_a_body(api: Api) -> None:
    reply = await api.put("/v1/kv//foo", b"value")
    assert (reply.status, reply.body) == (301, b"")
    assert reply.headers["Location"] == "/v1/kv/foo"
    assert (await api.get("/v1/kv/?keys")).json() == []  # nothing was written


async def test_subtree_root_without_slash_redirects(api: Api) -> None:
    """ServeMux: "/v1/kv" is not registered but "/v1/kv/" is, so it redirects."""
    reply = await api.get("/v1/kv?recurse")
    assert (reply.status, reply.headers["Location"]) == (301, "/v1/kv/?recurse")
    reply = await api.get("/v1/session/info")
    assert (reply.status, reply.headers["Location"]) == (301, "/v1/session/info/")


async def test_a_subtree_root_inside_another_subtree_redirects(api: Api) -> None:
    """ServeMux.matchOrRedirect (Go 1.22): "/v1/acl/policy/name" falls inside the subtree
    "/v1/acl/policy/" but matches no pattern exactly, and "/v1/acl/policy/name/" is exactly a
    registered subtree's root, so it redirects instead of reaching the by-ID handler; a deeper
    path inside a subtree ("/v1/kv/a/b") is served as it is."""
    reply = await api.get("/v1/acl/policy/name?x=1")
    assert (reply.status, reply.headers["Location"]) == (301, "/v1/acl/policy/name/?x=1")
    assert (await api.get("/v1/kv/a/b")).status == 404


@pytest.mark.parametrize(
    "path", ["/v1/kv/a%0Ab", "/v1/kv/tab%09", "/v1/kv/%7F", "/v1/kv/nbsp%C2%A0"]
)
async def test_non_printable_characters_in_the_path_are_400(api: Api, path: str) -> None:
    """go-cleanhttp PrintablePathCheckHandler: unicode.IsPrint on the decoded path."""
    reply = await api.get(path)
    assert (reply.status, reply.body) == (400, b"")


async def test_invalid_utf8_in_the_path_is_accepted(api: Api) -> None:
    """Go decodes invalid UTF-8 as U+FFFD, which is printable; JSON shows it escaped."""
    assert (await api.put("/v1/kv/bad%FFbyte", b"v")).json() is True
    reply = await api.get("/v1/kv/bad%FFbyte")
    assert reply.status == 200
    assert b'"Key":"bad\\ufffdbyte"' in reply.body


async def test_malformed_escape_is_rejected_before_routing(api: Api) -> None:
    reply = await api.get("/v1/kv/%zz")
    assert (reply.status, reply.text) == (400, "400 Bad Request")


async def test_semicolon_in_the_query_is_500(api: Api) -> None:
    """wrap: url.ParseQuery fails on ';' and the wrapper answers 500 with no body."""
    reply = await api.get("/v1/kv/k?a=1;b=2")
    assert (reply.status, reply.body) == (500, b"")


async def test_pretty_indents_with_four_spaces_and_a_newline(api: Api) -> None:
    reply = await api.get("/v1/status/peers?pretty")
    assert reply.text == '[\n    "127.0.0.1:8300"\n]\n'
    assert (await api.get("/v1/status/peers")).text == '["127.0.0.1:8300"]'


async def test_json_escapes_html_characters_like_go(api: Api) -> None:
    await api.put("/v1/kv/%3Ctag%3E%26", b"v")
    reply = await api.get("/v1/kv/?keys")
    assert reply.text == '["\\u003ctag\\u003e\\u0026"]'
    assert reply.json() == ["<tag>&"]


@pytest.mark.parametrize(
    ("query", "headers", "text"),
    [
        (
            "ns=default",
            {},
            'Invalid query parameter: "ns" - Namespaces are a Consul Enterprise feature',
        ),
        (
            "partition=default",
            {},
            'Invalid query parameter: "partition" - Partitions are a Consul Enterprise feature',
        ),
        (
            "",
            {"X-Consul-Namespace": "team"},
            'Invalid header: "X-Consul-Namespace" - Namespaces are a Consul Enterprise feature',
        ),
        (
            "",
            {"X-Consul-Partition": "p"},
            'Invalid header: "X-Consul-Partition" - Partitions are a Consul Enterprise feature',
        ),
    ],
)
async def test_enterprise_parameters_are_400_on_ce(
    api: Api, query: str, headers: dict[str, str], text: str
) -> None:
    """agent/http_ce.go parseEntMeta: even the default namespace is refused."""
    reply = await api.get(f"/v1/kv/k?{query}", headers=headers)
    assert (reply.status, reply.text) == (400, text)
    reply = await api.get(f"/v1/session/list?{query}", headers=headers)
    assert (reply.status, reply.text) == (400, text)


async def test_another_datacenter_is_500_no_path(api: Api) -> None:
    reply = await api.get("/v1/kv/k?dc=dc2")
    assert (reply.status, reply.text) == (500, "No path to datacenter")
    assert (await api.get("/v1/kv/k?dc=dc1")).status == 404


async def test_large_responses_are_gzipped_when_accepted(api: Api) -> None:
    """gziphandler (min size 1400 bytes) wraps every API endpoint."""
    for i in range(40):
        await api.put(f"/v1/kv/many/{i:03}", b"v")
    reply = await api.get("/v1/kv/many/?recurse", headers={"Accept-Encoding": "gzip"})
    assert reply.headers["Content-Encoding"] == "gzip"
    assert len(json.loads(reply.body)) == 40  # aiohttp decompressed it
    assert reply.headers["Vary"] == "Accept-Encoding"
    small = await api.get("/v1/status/leader", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in small.headers


async def test_root_answers_that_the_ui_is_disabled(api: Api) -> None:
    reply = await api.get("/")
    assert reply.status == 200
    assert reply.text.startswith("Consul Agent: UI disabled.")
