"""``client.acl`` refuses bad input before any I/O, with a TypeError or ValueError naming the
argument; and what it sends is Consul's JSON (``api/acl.go``'s field names).

As in ``test_bad_input.py``, the refusals are made against an address where nothing listens,
without retries: a request that went out would raise ConnectError instead. The shapes sent are
read by a recording server (``serve``), since what matters there is the wire.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from fakeserver import FakeServer

from aioconsul import Consul

Call = Callable[[Consul], Awaitable[Any] | Any]
ID = "6d7c0ad1-0000-4000-8000-000000000000"

ROWS: list[tuple[str, Call, type[Exception], str]] = [
    ("policy link of the wrong type", lambda c: c.acl.tokens.create(policies=[3]), TypeError,
     "policies[0]"),
    ("policies as one str", lambda c: c.acl.tokens.create(policies="readonly"), TypeError,
     "policies"),
    ("policy link without ID or Name", lambda c: c.acl.tokens.create(policies=[{"X": 1}]),
     ValueError, "policies[0]"),
    ("empty role name", lambda c: c.acl.tokens.create(roles=[""]), ValueError, "roles[0]"),
    ("service identity without a name",
     lambda c: c.acl.tokens.create(service_identities=[{"Datacenters": ["dc1"]}]), ValueError,
     "service_identities[0]"),
    ("service identity datacenters as str",
     lambda c: c.acl.tokens.create(service_identities=[{"ServiceName": "web",
                                                        "Datacenters": "dc1"}]),
     TypeError, "service_identities[0].Datacenters"),
    ("node identity without a datacenter",
     lambda c: c.acl.tokens.create(node_identities=[{"NodeName": "n1"}]), ValueError,
     "node_identities[0]"),
    ("node identity as a str", lambda c: c.acl.tokens.create(node_identities=["n1"]),
     TypeError, "node_identities[0]"),
    ("templated policy without a name",
     lambda c: c.acl.tokens.create(templated_policies=[{"TemplateVariables": {}}]),
     ValueError, "templated_policies[0]"),
    ("non-bool local", lambda c: c.acl.tokens.create(local="yes"), TypeError, "local"),
    ("bad expiration TTL", lambda c: c.acl.tokens.create(expiration_ttl="10"), ValueError,
     "expiration_ttl"),
    ("naive expiration time",
     lambda c: c.acl.tokens.create(expiration_time=datetime.datetime(2030, 1, 1)), ValueError,
     "expiration_time"),
    ("both expirations",
     lambda c: c.acl.tokens.create(expiration_ttl="1h", expiration_time="2030-01-01T00:00:00Z"),
     ValueError, "expiration_ttl, expiration_time"),
    ("secret ID with a newline", lambda c: c.acl.tokens.create(secret_id="a\nb"), ValueError,
     "secret_id"),
    ("empty accessor", lambda c: c.acl.tokens.get(""), ValueError, "token_id"),
    ("non-bool expanded", lambda c: c.acl.tokens.get(ID, expanded=1), TypeError, "expanded"),
    ("token object without AccessorID", lambda c: c.acl.tokens.delete({"ID": ID}), ValueError,
     "token_id"),
    ("bad token filter", lambda c: c.acl.tokens.items(policy=3), TypeError, "policy"),
    ("empty service name filter", lambda c: c.acl.tokens.items(service_name=""), ValueError,
     "service_name"),
    ("policy without a name", lambda c: c.acl.policies.create(""), ValueError, "name"),
    ("rules of the wrong type", lambda c: c.acl.policies.create("p", ["key"]), TypeError,
     "rules"),
    ("rules that are not JSON", lambda c: c.acl.policies.create("p", {"key": {1, 2}}),
     TypeError, "rules"),
    ("datacenters as one str", lambda c: c.acl.policies.create("p", "", datacenters="dc1"),
     TypeError, "datacenters"),
    ("policy update by ID without a name", lambda c: c.acl.policies.update(ID), ValueError,
     "name"),
    ("role update by ID without a name", lambda c: c.acl.roles.update(ID), ValueError, "name"),
    ("auth method update by name without a type", lambda c: c.acl.auth_methods.update("m"),
     ValueError, "type"),
    ("unknown token locality",
     lambda c: c.acl.auth_methods.create("m", "jwt", token_locality="remote"), ValueError,
     "token_locality"),
    ("bad max token TTL", lambda c: c.acl.auth_methods.create("m", "jwt", max_token_ttl="1"),
     ValueError, "max_token_ttl"),
    ("config of the wrong type", lambda c: c.acl.auth_methods.create("m", "jwt", config="x"),
     TypeError, "config"),
    ("unknown bind type", lambda c: c.acl.binding_rules.create("m", "user", "x"), ValueError,
     "bind_type"),
    ("binding rule update by ID without its fields",
     lambda c: c.acl.binding_rules.update(ID, bind_type="service"), ValueError, "auth_method"),
    ("template name climbing the path",
     lambda c: c.acl.templated_policies.get("builtin/../../agent/self"), ValueError, "name"),
    ("template variables of the wrong type",
     lambda c: c.acl.templated_policies.preview("builtin/service", ["web"]), TypeError,
     "variables"),
    ("empty bearer token", lambda c: c.acl.login("jwt", ""), ValueError, "bearer_token"),
    ("login meta of the wrong type", lambda c: c.acl.login("jwt", "b", meta={"a": 1}),
     TypeError, "meta"),
    ("logout without any token", lambda c: c.acl.logout(), ValueError, "token"),
    ("bootstrap secret with a newline", lambda c: c.acl.bootstrap("a\r\nb"), ValueError,
     "secret"),
    ("unknown agent token kind", lambda c: c.agent.update_token("master", "s"), ValueError,
     "kind"),
    ("agent token that is not a str", lambda c: c.agent.update_token("dns", 3), TypeError,
     "secret"),
    ("call token that is not a str", lambda c: c.acl.tokens.items(token=3), TypeError,
     "token"),
]


@pytest.mark.parametrize("call, error, name", [row[1:] for row in ROWS],
                         ids=[row[0] for row in ROWS])
async def test_bad_acl_input_is_refused_before_any_request(
        unreachable: str, call: Call, error: type[Exception], name: str) -> None:
    async with Consul(unreachable, retry=False) as client:
        with pytest.raises(error) as info:
            result = call(client)
            if isinstance(result, Awaitable):
                await result
    assert str(info.value).startswith(f"{name}: "), str(info.value)
    assert client._core.transport._session is None


Recorded = list[tuple[str, str, Any]]


@pytest.fixture
async def wire(serve: Callable[..., Awaitable[FakeServer]]
               ) -> AsyncIterator[Callable[..., Awaitable[tuple[Consul, Recorded]]]]:
    """``client, calls = await wire(answer)``: a client of a server that records each request
    as ``(method, path and query, JSON body)`` and answers ``answer`` (a JSON document)."""
    opened: list[Consul] = []

    async def start(answer: Any = None, **options: Any) -> tuple[Consul, Recorded]:
        calls: Recorded = []

        async def handler(request: web.Request) -> web.Response:
            raw = await request.read()
            calls.append((request.method, request.path_qs, json.loads(raw) if raw else None))
            return web.json_response({"ID": ID} if answer is None else answer)

        server = await serve(handler)
        opened.append(Consul(server.address, retry=False, **options))
        return opened[-1], calls

    yield start
    for client in opened:
        await client.close()


async def test_a_token_is_created_with_consuls_field_names(wire: Any) -> None:
    client, calls = await wire()
    await client.acl.tokens.create(
        description="web", policies=["readonly", {"ID": ID}], roles=[{"Name": "ops"}],
        service_identities=["web", {"ServiceName": "db", "Datacenters": ["dc1"]}],
        node_identities=[("n1", "dc1")], templated_policies=[
            "builtin/dns", {"TemplateName": "builtin/service",
                            "TemplateVariables": {"Name": "api"}}],
        local=True, expiration_ttl=datetime.timedelta(hours=1), accessor_id=ID,
        secret_id="7e1c0ad1-0000-4000-8000-000000000000")
    assert calls == [("PUT", "/v1/acl/token", {
        "Description": "web",
        "Policies": [{"Name": "readonly"}, {"ID": ID}],
        "Roles": [{"Name": "ops"}],
        "ServiceIdentities": [{"ServiceName": "web"},
                              {"ServiceName": "db", "Datacenters": ["dc1"]}],
        "NodeIdentities": [{"NodeName": "n1", "Datacenter": "dc1"}],
        "TemplatedPolicies": [{"TemplateName": "builtin/dns"},
                              {"TemplateName": "builtin/service",
                               "TemplateVariables": {"Name": "api"}}],
        "Local": True, "ExpirationTTL": "1h", "AccessorID": ID,
        "SecretID": "7e1c0ad1-0000-4000-8000-000000000000"})]


async def test_an_expiration_time_is_sent_in_rfc_3339_utc(wire: Any) -> None:
    client, calls = await wire()
    when = datetime.datetime(2030, 1, 2, 4, 5, 6, tzinfo=datetime.timezone(
        datetime.timedelta(hours=1)))
    await client.acl.tokens.create(expiration_time=when)
    assert calls[0][2] == {"ExpirationTime": "2030-01-02T03:05:06Z"}


async def test_a_token_update_from_its_object_keeps_what_is_not_given(wire: Any) -> None:
    client, calls = await wire()
    token = {"AccessorID": ID, "SecretID": "<hidden>", "Description": "old",
             "Policies": [{"ID": "p1", "Name": "readonly"}], "Local": True,
             "ServiceIdentities": [{"ServiceName": "web"}], "CreateIndex": 5, "Hash": "x"}
    await client.acl.tokens.update(token, description="new")
    assert calls == [("PUT", f"/v1/acl/token/{ID}", {
        "Description": "new", "Policies": [{"ID": "p1", "Name": "readonly"}], "Local": True,
        "ServiceIdentities": [{"ServiceName": "web"}], "AccessorID": ID})]


async def test_a_token_update_by_accessor_sends_only_what_is_given(wire: Any) -> None:
    client, calls = await wire()
    await client.acl.tokens.update(ID, policies=["readonly"])
    assert calls == [("PUT", f"/v1/acl/token/{ID}", {
        "Policies": [{"Name": "readonly"}], "AccessorID": ID})]


@pytest.mark.parametrize("rules, sent", [
    ('key_prefix "" { policy = "read" }', 'key_prefix "" { policy = "read" }'),
    ('{"key_prefix": {"": {"policy": "read"}}}', '{"key_prefix": {"": {"policy": "read"}}}'),
    ({"key_prefix": {"": {"policy": "read"}}}, '{"key_prefix": {"": {"policy": "read"}}}'),
])
async def test_policy_rules_go_as_text_and_a_dict_as_json(wire: Any, rules: Any,
                                                          sent: str) -> None:
    client, calls = await wire()
    await client.acl.policies.create("kv-read", rules, description="d", datacenters=["dc1"])
    assert calls == [("PUT", "/v1/acl/policy", {
        "Name": "kv-read", "Rules": sent, "Description": "d", "Datacenters": ["dc1"]})]


async def test_the_list_filters_are_consuls_query_parameters(wire: Any) -> None:
    client, calls = await wire([])
    await client.acl.tokens.items(policy={"ID": "p1"}, role="r1",
                                  auth_method={"Name": "jwt"}, service_name="web")
    await client.acl.roles.items(policy="p1")
    await client.acl.binding_rules.items(auth_method="jwt")
    assert [path for _, path, _ in calls] == [
        "/v1/acl/tokens?policy=p1&role=r1&authmethod=jwt&servicename=web",
        "/v1/acl/roles?policy=p1", "/v1/acl/binding-rules?authmethod=jwt"]


async def test_names_and_templates_are_quoted_in_the_path(wire: Any) -> None:
    client, calls = await wire()
    await client.acl.policies.get_by_name("a b")
    await client.acl.templated_policies.get("builtin/service")
    await client.acl.templated_policies.preview("builtin/service", {"Name": "web"})
    await client.acl.tokens.get(ID, expanded=True)
    assert [(method, path, body) for method, path, body in calls] == [
        ("GET", "/v1/acl/policy/name/a%20b", None),
        ("GET", "/v1/acl/templated-policy/name/builtin/service", None),
        ("POST", "/v1/acl/templated-policy/preview/builtin/service", {"Name": "web"}),
        ("GET", f"/v1/acl/token/{ID}?expanded=true", None)]


async def test_login_bootstrap_and_oidc_bodies(wire: Any) -> None:
    client, calls = await wire({"AuthURL": "https://idp/authorize"})
    await client.acl.bootstrap("7e1c0ad1-0000-4000-8000-000000000000")
    await client.acl.bootstrap()
    await client.acl.login({"Name": "jwt"}, "b3ar3r", meta={"pod": "web-1"})
    url, _ = await client.acl.oidc_auth_url("oidc", "http://localhost/cb", client_nonce="n")
    await client.acl.oidc_callback("oidc", "st", "c0de", client_nonce="n")
    assert url == "https://idp/authorize"
    assert calls == [
        ("PUT", "/v1/acl/bootstrap", {"BootstrapSecret": "7e1c0ad1-0000-4000-8000-000000000000"}),
        ("PUT", "/v1/acl/bootstrap", None),
        ("POST", "/v1/acl/login", {"AuthMethod": "jwt", "BearerToken": "b3ar3r",
                                   "Meta": {"pod": "web-1"}}),
        ("POST", "/v1/acl/oidc/auth-url", {"AuthMethod": "oidc",
                                           "RedirectURI": "http://localhost/cb",
                                           "ClientNonce": "n"}),
        ("POST", "/v1/acl/oidc/callback", {"AuthMethod": "oidc", "State": "st", "Code": "c0de",
                                           "ClientNonce": "n"})]


@pytest.mark.parametrize("kind", ["default", "agent", "agent_recovery", "replication",
                                  "config_file_service_registration", "dns", "acl_token",
                                  "agent_master"])
async def test_every_agent_token_kind_is_set_by_a_put(wire: Any, kind: str) -> None:
    client, calls = await wire()
    await client.agent.update_token(kind, "s3cr3t")
    assert calls == [("PUT", f"/v1/agent/token/{kind}", {"Token": "s3cr3t"})]


async def test_secrets_a_body_carries_never_reach_an_error(
        serve: Callable[..., Awaitable[FakeServer]]) -> None:
    """An agent (or a proxy) that echoes the request back in its error text."""
    async def echo(request: web.Request) -> web.Response:
        text = (await request.read()).decode() + " " + request.headers.get("X-Consul-Token", "")
        return web.Response(status=400, text=f"Bad request: {text}")

    server = await serve(echo)
    secrets = ["7e1c0ad1-0000-4000-8000-00000000000a", "b3ar3r-s3cr3t", "n3w-s3cr3t",
               "c4ll-s3cr3t", "cl13nt-s3cr3t"]
    async with Consul(server.address, retry=False, token="cl13nt-s3cr3t") as client:
        calls = [
            client.acl.tokens.create(secret_id=secrets[0]),
            client.acl.bootstrap(secrets[0]),
            client.acl.login("jwt", secrets[1]),
            client.agent.update_token("agent", secrets[2], token=secrets[3]),
            client.kv.get("k", token=secrets[3]),
        ]
        for call in calls:
            with pytest.raises(Exception) as info:
                await call
            shown = f"{info.value} {info.value!r} {info.value.args}"
            assert not [secret for secret in secrets if secret in shown], shown
            assert "<hidden>" in shown
