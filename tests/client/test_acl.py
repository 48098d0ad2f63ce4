"""``client.acl`` and the per-call token against an ACL-enabled dev agent, over HTTP.

The agent runs with ``acl_default_policy="deny"`` and an initial management token ``root``
(Consul's ``acl.tokens.initial_management``), except for the bootstrap tests, which start
without one. Behaviours are Consul's: ``agent/acl_endpoint.go`` (the HTTP handlers, their 404s
and 401), ``agent/consul/acl_endpoint.go`` (the RPCs: bootstrap once, token and policy
validation, login), ``acl/errors.go`` (the denial texts).
"""

from __future__ import annotations

import asyncio
import datetime
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from aioconsul import (
    ACLNotFound,
    BadRequest,
    Consul,
    ConsulError,
    NotFound,
    PermissionDenied,
    ServerError,
)
from aioconsul.errors import ANONYMOUS_ACCESSOR_ID
from aioconsul.testing import DevAgent

ROOT = "root"
GLOBAL_MANAGEMENT = "00000000-0000-0000-0000-000000000001"
KV_READ = 'key_prefix "" { policy = "read" }'


@pytest.fixture
async def agent() -> AsyncIterator[DevAgent]:
    async with DevAgent(acl_enabled=True, acl_default_policy="deny",
                        acl_initial_management=ROOT) as running:
        yield running


@pytest.fixture
async def fresh() -> AsyncIterator[DevAgent]:
    """An ACL-enabled agent without an initial management token: bootstrap is open."""
    async with DevAgent(acl_enabled=True, acl_default_policy="deny") as running:
        yield running


@pytest.fixture
async def clients(agent: DevAgent) -> AsyncIterator[Callable[..., Consul]]:
    """``client(token=...)``: a client of the ACL agent, closed after the test."""
    opened: list[Consul] = []

    def make(**options: Any) -> Consul:
        opened.append(Consul(agent.address, retry=False, **options))
        return opened[-1]

    yield make
    for client in opened:
        await client.close()


@pytest.fixture
def root(clients: Callable[..., Consul]) -> Consul:
    return clients(token=ROOT)


async def _reader(root: Consul, **options: Any) -> dict[str, Any]:
    """A token with read access to every key, and nothing else."""
    policy, _ = await root.acl.policies.create(f"kv-read-{uuid.uuid4().hex[:8]}", KV_READ)
    token, _ = await root.acl.tokens.create(description="reader", policies=[policy["Name"]],
                                            **options)
    return token


# -- bootstrap ---------------------------------------------------------------------------------


async def test_bootstrap_makes_a_management_token_then_is_refused(fresh: DevAgent) -> None:
    """ACL.BootstrapTokens: the first call makes a global-management token; later ones are
    refused with ``PermissionDeniedError{Cause: "ACL bootstrap no longer allowed (reset
    index: N)"}``, answered 403 by ``ACLBootstrap``."""
    async with Consul(fresh.address, retry=False) as anonymous:
        token, _ = await anonymous.acl.bootstrap()
        assert [policy["ID"] for policy in token["Policies"]] == [GLOBAL_MANAGEMENT]
        assert token["Description"] == "Bootstrap Token (Global Management)"
        me, _ = await anonymous.acl.tokens.self(token=token["SecretID"])
        assert me["AccessorID"] == token["AccessorID"]
        with pytest.raises(PermissionDenied) as info:
            await anonymous.acl.bootstrap()
    assert info.value.status == 403
    assert info.value.cause is not None
    assert info.value.cause.startswith("ACL bootstrap no longer allowed (reset index: ")
    assert info.value.permission is None


async def test_bootstrap_takes_a_chosen_secret_and_never_shows_it(fresh: DevAgent) -> None:
    secret = str(uuid.uuid4())
    async with Consul(fresh.address, retry=False) as anonymous:
        token, _ = await anonymous.acl.bootstrap(secret)
        assert token["SecretID"] == secret
        with pytest.raises(PermissionDenied) as info:
            await anonymous.acl.bootstrap(secret)
    assert secret not in f"{info.value} {info.value!r}"


async def test_an_initial_management_token_closes_bootstrap(clients: Callable[..., Consul],
                                                           ) -> None:
    with pytest.raises(PermissionDenied) as info:
        await clients().acl.bootstrap()
    assert info.value.cause is not None and "no longer allowed" in info.value.cause


# -- tokens ----------------------------------------------------------------------------------


async def test_token_create_read_update_clone_delete(root: Consul) -> None:
    policy, _ = await root.acl.policies.create("kv-read", KV_READ)
    token, _ = await root.acl.tokens.create(description="app", policies=["kv-read"])
    assert token["Policies"] == [{"ID": policy["ID"], "Name": "kv-read"}]
    assert uuid.UUID(token["AccessorID"]) and uuid.UUID(token["SecretID"])

    read, meta = await root.acl.tokens.get(token["AccessorID"])
    assert read is not None and read["Description"] == "app"
    assert meta["Index"] >= token["CreateIndex"]

    updated, _ = await root.acl.tokens.update(read, description="app v2")
    assert updated["Description"] == "app v2"
    assert updated["Policies"] == token["Policies"]  # kept: the update started from the object
    assert updated["SecretID"] == token["SecretID"]

    clone, _ = await root.acl.tokens.clone(token, description="app clone")
    assert clone["AccessorID"] != token["AccessorID"]
    assert clone["SecretID"] != token["SecretID"]
    assert clone["Policies"] == token["Policies"] and clone["Description"] == "app clone"

    assert await root.acl.tokens.delete(clone) is True
    assert (await root.acl.tokens.get(clone))[0] is None
    # ACL.TokenDelete: in the primary datacenter a missing token is "nothing to do".
    assert await root.acl.tokens.delete(clone) is True


async def test_a_token_cannot_delete_itself(root: Consul) -> None:
    """ACL.TokenDelete: "Deletion of the request's authorization token is not permitted"."""
    token, _ = await root.acl.tokens.create(policies=[{"ID": GLOBAL_MANAGEMENT}])
    with pytest.raises(ServerError, match="authorization token is not permitted"):
        await root.acl.tokens.delete(token, token=token["SecretID"])


async def test_an_update_by_accessor_replaces_the_links(root: Consul) -> None:
    """ACL.TokenSet on update takes the links of the request, not the stored ones."""
    await root.acl.policies.create("kv-read", KV_READ)
    token, _ = await root.acl.tokens.create(description="app", policies=["kv-read"])
    updated, _ = await root.acl.tokens.update(token["AccessorID"], description="bare")
    assert updated["Description"] == "bare"
    assert not updated.get("Policies")


async def test_a_token_with_a_chosen_accessor_and_secret(root: Consul) -> None:
    accessor, secret = str(uuid.uuid4()), str(uuid.uuid4())
    token, _ = await root.acl.tokens.create(accessor_id=accessor, secret_id=secret,
                                            description="chosen")
    assert (token["AccessorID"], token["SecretID"]) == (accessor, secret)
    me, _ = await root.acl.tokens.self(token=secret)
    assert me["AccessorID"] == accessor


async def test_self_reads_the_calls_token_then_the_clients(root: Consul,
                                                           clients: Callable[..., Consul]
                                                           ) -> None:
    reader = await _reader(root)
    me, _ = await root.acl.tokens.self(token=reader["SecretID"])
    assert me["AccessorID"] == reader["AccessorID"]
    mine, _ = await root.acl.tokens.self()
    assert [policy["ID"] for policy in mine["Policies"]] == [GLOBAL_MANAGEMENT]
    as_reader, _ = await clients(token=reader["SecretID"]).acl.tokens.self()
    assert as_reader["AccessorID"] == reader["AccessorID"]


async def test_an_expanded_read_shows_the_policies_it_grants(root: Consul) -> None:
    policy, _ = await root.acl.policies.create("kv-read", KV_READ)
    role, _ = await root.acl.roles.create("ops", policies=[policy])
    token, _ = await root.acl.tokens.create(roles=["ops"])
    expanded, _ = await root.acl.tokens.get(token, expanded=True)
    assert expanded is not None
    assert [p["Rules"] for p in expanded["ExpandedPolicies"]] == [KV_READ]
    assert [r["ID"] for r in expanded["ExpandedRoles"]] == [role["ID"]]
    assert expanded["AgentACLDefaultPolicy"] == "deny"
    plain, _ = await root.acl.tokens.get(token)
    assert plain is not None and "ExpandedPolicies" not in plain


async def test_a_token_read_with_acl_read_only_hides_the_secret(
        root: Consul, clients: Callable[..., Consul]) -> None:
    """``acl:read`` without ``acl:write`` reads SecretIDs as ``<hidden>``
    (aclfilter redactTokenSecret)."""
    await root.acl.policies.create("acl-read", 'acl = "read"')
    auditor, _ = await root.acl.tokens.create(policies=["acl-read"])
    target = await _reader(root)
    read, _ = await root.acl.tokens.get(target, token=auditor["SecretID"])
    assert read is not None and read["SecretID"] == "<hidden>"
    listed, _ = await clients(token=auditor["SecretID"]).acl.tokens.items()
    assert {entry["SecretID"] for entry in listed} == {"<hidden>"}


async def test_a_token_can_expire(root: Consul) -> None:
    token, _ = await root.acl.tokens.create(description="short", expiration_ttl="10m")
    expires = datetime.datetime.fromisoformat(token["ExpirationTime"].replace("Z", "+00:00")[:26]
                                              + "+00:00")
    created = datetime.datetime.fromisoformat(token["CreateTime"].replace("Z", "+00:00")[:26]
                                              + "+00:00")
    assert datetime.timedelta(minutes=9) < expires - created <= datetime.timedelta(minutes=10)
    when = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
    at, _ = await root.acl.tokens.create(expiration_time=when, local=True)
    assert at["Local"] is True and at["ExpirationTime"]


async def test_token_list_filters(root: Consul) -> None:
    """ACLTokenList: ``policy``, ``role``, ``authmethod`` and ``servicename`` filters."""
    policy, _ = await root.acl.policies.create("kv-read", KV_READ)
    role, _ = await root.acl.roles.create("ops", policies=[policy])
    by_policy, _ = await root.acl.tokens.create(description="by-policy", policies=[policy])
    by_role, _ = await root.acl.tokens.create(description="by-role", roles=[role])
    by_service, _ = await root.acl.tokens.create(description="by-service",
                                                 service_identities=["web"])

    async def described(**filters: Any) -> set[str]:
        tokens, _ = await root.acl.tokens.items(**filters)
        return {token["Description"] for token in tokens}

    assert {"by-policy", "by-role", "by-service"} <= await described()
    assert await described(policy=policy) == {"by-policy"}
    assert await described(role=role["ID"]) == {"by-role"}
    assert await described(service_name="web") == {"by-service"}
    assert by_policy and by_role and by_service


async def test_a_token_list_blocks_until_a_token_is_made(root: Consul) -> None:
    _, meta = await root.acl.tokens.items()
    waiting = asyncio.ensure_future(root.acl.tokens.items(watch=(meta, "30s")))
    await asyncio.sleep(0)  # the blocking read is under way
    await root.acl.tokens.create(description="new")
    tokens, later = await waiting
    assert later["Index"] > meta["Index"]
    assert "new" in {token["Description"] for token in tokens}


# -- policies and roles ----------------------------------------------------------------------


@pytest.mark.parametrize("rules", [
    'key_prefix "app/" { policy = "write" }',
    '{"key_prefix": {"app/": {"policy": "write"}}}',
    {"key_prefix": {"app/": {"policy": "write"}}},
], ids=["hcl", "json", "dict"])
async def test_policy_rules_as_hcl_json_or_dict_grant_the_same(
        root: Consul, clients: Callable[..., Consul], rules: Any) -> None:
    policy, _ = await root.acl.policies.create("app-write", rules)
    token, _ = await root.acl.tokens.create(policies=[policy])
    client = clients(token=token["SecretID"])
    assert await client.kv.set("app/config", b"v") is True
    with pytest.raises(PermissionDenied) as info:
        await client.kv.set("other", b"v")
    assert (info.value.permission, info.value.resource) == ("key:write", "other")


async def test_policy_read_by_id_and_name_update_list_delete(root: Consul) -> None:
    policy, _ = await root.acl.policies.create("kv-read", KV_READ, description="reads")
    by_id, _ = await root.acl.policies.get(policy["ID"])
    by_name, _ = await root.acl.policies.get_by_name("kv-read")
    assert by_id == by_name and by_id is not None and by_id["Rules"] == KV_READ
    renamed, _ = await root.acl.policies.update(policy, name="kv-reader")
    assert (renamed["Name"], renamed["Rules"], renamed["Description"]) == (
        "kv-reader", KV_READ, "reads")
    listed, _ = await root.acl.policies.items()
    assert {"global-management", "kv-reader"} <= {entry["Name"] for entry in listed}
    assert await root.acl.policies.delete(policy) is True
    assert (await root.acl.policies.get(policy))[0] is None
    assert (await root.acl.policies.get_by_name("kv-reader"))[0] is None


async def test_bad_rules_are_refused_by_the_agent(root: Consul) -> None:
    """ACL.PolicySet's ``acl.NewPolicyFromSource`` error is an RPC error: HTTP 500, which the
    client does not repeat (a create is not idempotent, and the text is a permanent one)."""
    with pytest.raises(ServerError, match="Failed to parse ACL rules"):
        await root.acl.policies.create("broken", 'key_prefix "" { policy = ')


async def test_a_role_links_policies_and_identities(root: Consul,
                                                   clients: Callable[..., Consul]) -> None:
    policy, _ = await root.acl.policies.create("kv-read", KV_READ)
    role, _ = await root.acl.roles.create("web-role", policies=["kv-read"],
                                          service_identities=["web"], description="web")
    assert role["Policies"] == [{"ID": policy["ID"], "Name": "kv-read"}]
    assert role["ServiceIdentities"] == [{"ServiceName": "web"}]
    by_name, _ = await root.acl.roles.get_by_name("web-role")
    assert by_name is not None and by_name["ID"] == role["ID"]
    listed, _ = await root.acl.roles.items(policy=policy)
    assert [entry["ID"] for entry in listed] == [role["ID"]]

    token, _ = await root.acl.tokens.create(roles=[{"ID": role["ID"]}])
    client = clients(token=token["SecretID"])
    await client.agent.services.register("web")  # service:write on web, by the identity
    assert (await client.kv.get("anything"))[0] is None  # key:read, by the policy

    updated, _ = await root.acl.roles.update(role, description="web v2")
    assert updated["Policies"] == role["Policies"] and updated["Description"] == "web v2"
    assert await root.acl.roles.delete(role) is True
    assert (await root.acl.roles.get(role))[0] is None


async def test_a_service_identity_grants_its_service_only(root: Consul,
                                                         clients: Callable[..., Consul]) -> None:
    token, _ = await root.acl.tokens.create(service_identities=[
        {"ServiceName": "web", "Datacenters": ["dc1"]}])
    client = clients(token=token["SecretID"])
    await client.agent.services.register("web", port=80)
    with pytest.raises(PermissionDenied) as info:
        await client.agent.services.register("db", port=5432)
    assert (info.value.permission, info.value.resource) == ("service:write", "db")
    assert info.value.accessor_id == token["AccessorID"]


async def test_a_node_identity_grants_its_node(root: Consul,
                                              clients: Callable[..., Consul]) -> None:
    token, _ = await root.acl.tokens.create(node_identities=[("edge-1", "dc1")])
    assert token["NodeIdentities"] == [{"NodeName": "edge-1", "Datacenter": "dc1"}]
    client = clients(token=token["SecretID"])
    assert await client.catalog.register("edge-1", address="10.0.0.9") is True
    with pytest.raises(PermissionDenied) as info:
        await client.catalog.register("edge-2", address="10.0.0.10")
    assert (info.value.permission, info.value.resource) == ("node:write", "edge-2")


# -- denials ---------------------------------------------------------------------------------


async def test_a_denied_read_and_write_name_the_permission(root: Consul,
                                                          clients: Callable[..., Consul]
                                                          ) -> None:
    """KVS.Get / KVS.Apply: ``PermissionDeniedByACL(authz, ctx, ResourceKey, Read|Write, key)``."""
    await root.acl.policies.create("app-read", 'key_prefix "app/" { policy = "read" }')
    token, _ = await root.acl.tokens.create(policies=["app-read"])
    client = clients(token=token["SecretID"])
    with pytest.raises(PermissionDenied) as read:
        await client.kv.get("secret/db")
    assert (read.value.permission, read.value.resource) == ("key:read", "secret/db")
    with pytest.raises(PermissionDenied) as write:
        await client.kv.set("app/x", b"1")
    assert (write.value.permission, write.value.resource) == ("key:write", "app/x")
    for denial in (read.value, write.value):
        assert denial.accessor_id == token["AccessorID"] and not denial.anonymous
        assert token["SecretID"] not in f"{denial} {denial!r}"


async def test_a_request_without_a_token_is_denied_as_the_anonymous_token(
        clients: Callable[..., Consul]) -> None:
    with pytest.raises(PermissionDenied) as info:
        await clients().kv.set("k", b"v")
    assert info.value.anonymous and info.value.accessor_id == ANONYMOUS_ACCESSOR_ID
    assert (info.value.permission, info.value.resource) == ("key:write", "k")
    assert "anonymous token is used implicitly" in info.value.message


async def test_an_unknown_token_is_acl_not_found(clients: Callable[..., Consul]) -> None:
    unknown = str(uuid.uuid4())
    with pytest.raises(ACLNotFound) as info:
        await clients().kv.get("k", token=unknown)
    assert info.value.status == 403
    assert unknown not in f"{info.value} {info.value!r}"
    with pytest.raises(ACLNotFound):
        await clients(token=unknown).acl.tokens.items()


async def test_self_with_an_unknown_secret_is_not_found(clients: Callable[..., Consul]) -> None:
    """ACL.TokenRead by SecretID does not resolve the token: ACLTokenSelf answers 404
    "Supplied token does not exist"."""
    with pytest.raises(NotFound, match="Supplied token does not exist"):
        await clients(token=str(uuid.uuid4())).acl.tokens.self()


async def test_the_calls_token_beats_the_clients(root: Consul,
                                                clients: Callable[..., Consul]) -> None:
    reader = await _reader(root)
    client = clients(token=reader["SecretID"])
    with pytest.raises(PermissionDenied):
        await client.kv.set("k", b"v")
    assert await client.kv.set("k", b"v", token=ROOT) is True  # this call only
    with pytest.raises(PermissionDenied):
        await client.kv.set("k", b"w")
    entry, _ = await client.kv.get("k")
    assert entry is not None and entry["Value"] == b"v"


async def test_a_watch_reads_with_its_token(root: Consul, clients: Callable[..., Consul]
                                           ) -> None:
    await root.kv.set("app/k", b"1")
    anonymous = clients()
    async with anonymous.kv.watch("app/k", token=ROOT) as watch:
        async for entry, _ in watch:
            assert entry is not None and entry["Value"] == b"1"
            break
    async with anonymous.kv.watch("app/k", errors="yield") as denied:
        async for item in denied:
            assert isinstance(item, PermissionDenied) and item.permission == "key:read"
            break


async def test_a_lock_and_a_session_work_with_the_calls_token(
        clients: Callable[..., Consul]) -> None:
    anonymous = clients()
    async with anonymous.lock("locks/job", token=ROOT) as lock:
        assert lock.held
        entry, _ = await anonymous.kv.get("locks/job", token=ROOT)
        assert entry is not None and entry["Session"] == lock.session
    with pytest.raises(PermissionDenied) as info:
        async with anonymous.lock("locks/job"):
            pass
    assert info.value.permission == "session:write"


# -- agent tokens ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["default", "agent", "agent_recovery", "replication",
                                  "config_file_service_registration", "dns"])
async def test_the_agent_takes_each_of_its_token_kinds(root: Consul, kind: str) -> None:
    """AgentToken needs ``agent:write`` on the node and takes the six kinds
    (agent/agent_endpoint.go)."""
    assert await root.agent.update_token(kind, str(uuid.uuid4())) is None


async def test_setting_an_agent_token_needs_agent_write(root: Consul,
                                                     clients: Callable[..., Consul]) -> None:
    reader = await _reader(root)
    with pytest.raises(PermissionDenied) as info:
        await clients().agent.update_token("default", "n3w-s3cr3t", token=reader["SecretID"])
    assert "n3w-s3cr3t" not in f"{info.value} {info.value!r}"


# -- templated policies ----------------------------------------------------------------------


async def test_templated_policies_list_read_and_preview(root: Consul) -> None:
    listed, _ = await root.acl.templated_policies.items()
    assert {"builtin/service", "builtin/node", "builtin/dns"} <= set(listed)
    service, _ = await root.acl.templated_policies.get("builtin/service")
    assert service is not None and "{{.Name}}" in service["Template"]
    assert (await root.acl.templated_policies.get("builtin/nothing"))[0] is None
    preview, _ = await root.acl.templated_policies.preview("builtin/service", {"Name": "api"})
    assert 'service "api"' in preview["Rules"]
    assert preview["Name"].startswith("synthetic-policy-")


async def test_a_templated_policy_without_its_variable_is_refused(root: Consul) -> None:
    with pytest.raises(BadRequest, match="builtin/service"):
        await root.acl.templated_policies.preview("builtin/service")


async def test_a_token_with_a_templated_policy(root: Consul,
                                              clients: Callable[..., Consul]) -> None:
    token, _ = await root.acl.tokens.create(templated_policies=[
        {"TemplateName": "builtin/service", "TemplateVariables": {"Name": "api"}}])
    client = clients(token=token["SecretID"])
    await client.agent.services.register("api")
    with pytest.raises(PermissionDenied):
        await client.agent.services.register("web")


async def test_replication_is_off_in_one_datacenter(root: Consul) -> None:
    status, _ = await root.acl.replication()
    assert status["Enabled"] is False and status["Running"] is False


# -- auth methods, binding rules, login ------------------------------------------------------


@pytest.fixture(scope="module")
def signing() -> tuple[Any, str]:
    """An RSA key pair for JWTs: the private key and the public key's PEM."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)
    return key, pem.decode()


def _jwt(key: Any, **claims: Any) -> str:
    import jwt

    now = int(time.time())
    payload = {"iss": "https://issuer.test", "aud": "consul", "iat": now, "nbf": now,
               "exp": now + 300, **claims}
    return str(jwt.encode(payload, key, algorithm="RS256"))


async def _jwt_method(root: Consul, pem: str, name: str = "jwt") -> dict[str, Any]:
    method, _ = await root.acl.auth_methods.create(
        name, "jwt", display_name="Test JWT", max_token_ttl="10m",
        config={"JWTValidationPubKeys": [pem], "BoundIssuer": "https://issuer.test",
                "BoundAudiences": ["consul"], "ClaimMappings": {"service": "service"}})
    return method


async def test_auth_method_and_binding_rule_crud(root: Consul, signing: tuple[Any, str]
                                                ) -> None:
    method = await _jwt_method(root, signing[1])
    assert (method["Name"], method["Type"], method["DisplayName"]) == ("jwt", "jwt", "Test JWT")
    read, _ = await root.acl.auth_methods.get("jwt")
    assert read is not None and read["Config"]["BoundIssuer"] == "https://issuer.test"
    updated, _ = await root.acl.auth_methods.update(read, description="for tests")
    assert updated["Description"] == "for tests" and updated["Type"] == "jwt"
    listed, _ = await root.acl.auth_methods.items()
    assert [entry["Name"] for entry in listed] == ["jwt"]

    rule, _ = await root.acl.binding_rules.create(method, "service", "${value.service}",
                                                  selector='value.service == "web"')
    assert (rule["AuthMethod"], rule["BindType"]) == ("jwt", "service")
    got, _ = await root.acl.binding_rules.get(rule)
    assert got is not None and got["BindName"] == "${value.service}"
    changed, _ = await root.acl.binding_rules.update(got, description="web only")
    assert changed["Description"] == "web only" and changed["Selector"] == rule["Selector"]
    rules, _ = await root.acl.binding_rules.items(auth_method="jwt")
    assert [entry["ID"] for entry in rules] == [rule["ID"]]
    assert (await root.acl.binding_rules.items(auth_method="other"))[0] == []

    assert await root.acl.binding_rules.delete(rule) is True
    assert (await root.acl.binding_rules.get(rule))[0] is None
    assert await root.acl.auth_methods.delete(method) is True
    assert (await root.acl.auth_methods.get("jwt"))[0] is None


async def test_login_with_a_jwt_then_logout(root: Consul, clients: Callable[..., Consul],
                                           signing: tuple[Any, str]) -> None:
    """ACL.Login binds the identity the JWT gives (ClaimMappings -> ``value.service``) through
    the binding rules; ACL.Logout deletes the token of the request, if login made it."""
    key, pem = signing
    await _jwt_method(root, pem)
    await root.acl.binding_rules.create("jwt", "service", "${value.service}")
    anonymous = clients()
    bearer = _jwt(key, service="web")
    token, _ = await anonymous.acl.login("jwt", bearer, meta={"pod": "web-1"})
    assert token["AuthMethod"] == "jwt"
    assert token["ServiceIdentities"] == [{"ServiceName": "web"}]
    assert token["Description"].startswith("token created via login")

    listed, _ = await root.acl.tokens.items(auth_method="jwt")
    assert [entry["AccessorID"] for entry in listed] == [token["AccessorID"]]
    await anonymous.agent.services.register("web", token=token["SecretID"])

    await anonymous.acl.logout(token=token["SecretID"])
    with pytest.raises(NotFound, match="Supplied token does not exist"):
        await anonymous.acl.tokens.self(token=token["SecretID"])
    with pytest.raises(ACLNotFound):
        await anonymous.kv.get("k", token=token["SecretID"])


async def test_a_bad_bearer_token_is_refused_and_never_shown(root: Consul,
                                                            clients: Callable[..., Consul],
                                                            signing: tuple[Any, str]) -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    await _jwt_method(root, signing[1])
    await root.acl.binding_rules.create("jwt", "service", "${value.service}")
    forged = _jwt(rsa.generate_private_key(public_exponent=65537, key_size=2048),
                  service="web")
    with pytest.raises(ConsulError) as info:
        await clients().acl.login("jwt", forged)
    assert forged not in f"{info.value} {info.value!r}"


async def test_only_a_token_made_by_login_can_log_out(root: Consul) -> None:
    reader = await _reader(root)
    with pytest.raises(PermissionDenied) as info:
        await root.acl.logout(token=reader["SecretID"])
    assert info.value.cause == "token wasn't created via login"


async def test_acl_endpoints_of_an_agent_without_acls_are_401(consul: Consul) -> None:
    """checkACLDisabled: 401 "ACL support disabled"."""
    with pytest.raises(PermissionDenied) as info:
        await consul.acl.tokens.items()
    assert info.value.status == 401 and info.value.message == "ACL support disabled"
