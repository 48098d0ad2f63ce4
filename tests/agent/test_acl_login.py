"""Auth methods, binding rules, login and logout: ``agent/acl_endpoint.go`` (ACLAuthMethod*,
ACLBindingRule*, ACLLogin, ACLLogout), ``agent/consul/acl_endpoint.go`` (AuthMethodSet,
BindingRuleSet, Login, Logout), ``agent/consul/auth/binder.go`` and ``login.go``, and the ``jwt``
validator (``agent/consul/authmethod/ssoauth``, ``internal/go-sso/oidcauth/jwt.go``)."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ._acl import ACLApi, acl, acl_agent

__all__ = ["acl", "acl_agent"]

ISSUER = "https://issuer.example"


@pytest.fixture(scope="module")
def keys() -> tuple[Any, str]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    return private, public


def _jwt(private: Any, **claims: Any) -> str:
    now = int(time.time())
    body = {"iss": ISSUER, "aud": "consul", "iat": now, "exp": now + 60, **claims}
    return jwt.encode(body, private, algorithm="RS256")


async def _method(acl: ACLApi, public: str, **config: Any) -> dict[str, Any]:
    method: dict[str, Any] = await acl.ok("PUT", "/v1/acl/auth-method", {
        "Name": "jwt", "Type": "jwt", "MaxTokenTTL": "5m",
        "Config": {
            "JWTValidationPubKeys": [public], "BoundIssuer": ISSUER,
            "BoundAudiences": ["consul"], "ClaimMappings": {"name": "name"},
            "ListClaimMappings": {"groups": "groups"}, **config,
        },
    })
    return method


async def _rule(acl: ACLApi, **rule: Any) -> dict[str, Any]:
    result: dict[str, Any] = await acl.ok("PUT", "/v1/acl/binding-rule",
                                          {"AuthMethod": "jwt", **rule})
    return result


async def test_an_auth_method_renders_max_token_ttl_first(acl: ACLApi, keys: Any) -> None:
    """ACLAuthMethod.MarshalJSON: ``struct { MaxTokenTTL string; *Alias }`` puts the duration
    string before the embedded fields; the list stub has no Config."""
    method = await _method(acl, keys[1])
    assert list(method) == ["MaxTokenTTL", "Name", "Type", "Config", "CreateIndex",
                            "ModifyIndex"]
    assert method["MaxTokenTTL"] == "5m0s"
    assert await acl.ok("GET", "/v1/acl/auth-method/jwt") == method
    listed = await acl.ok("GET", "/v1/acl/auth-methods")
    assert listed == [{k: v for k, v in method.items() if k != "Config"}]


async def test_auth_method_validation(acl: ACLApi, keys: Any) -> None:
    cases = [
        ({"Name": "m", "Type": "oidc"},
         "Invalid Auth Method: Type should be one of: [aws-iam jwt kubernetes]"),
        ({"Name": "m", "Type": "jwt", "MaxTokenTTL": "10s", "Config": {}},
         "MaxTokenTTL 10s cannot be less than 1m0s"),
        ({"Name": "m", "Type": "jwt", "Config": {}},
         "Invalid Auth Method: exactly one of 'JWTValidationPubKeys', 'JWKSURL', or "
         "'OIDCDiscoveryURL' must be set for type \"jwt\""),
        ({"Name": "m", "Type": "jwt", "Config": {"JWTValidationPubKeys": ["nope"]}},
         "Invalid Auth Method: error parsing public key JWTValidationPubKeys[0]: data does not "
         "contain any valid RSA, ECDSA, or ED25519 public keys"),
        ({"Name": "m", "Type": "jwt", "Config": {"JWTValidationPubKeys": [keys[1]], "X": 1}},
         "Invalid Auth Method: error decoding config: 1 error(s) decoding:\n\n"
         "* '' has invalid keys: X"),
        ({"Name": "m", "Type": "kubernetes", "Config": {}},
         "Invalid Auth Method: Config.Host is required"),
        ({"Name": "m", "Type": "jwt", "TokenLocality": "site", "Config": {}},
         "Invalid Auth Method: TokenLocality should be one of 'local' or 'global'"),
    ]
    for body, text in cases:
        reply = await acl.call("PUT", "/v1/acl/auth-method", body)
        assert (reply.status, reply.text) == (500, text), body
    await _method(acl, keys[1])
    retype = await acl.call("PUT", "/v1/acl/auth-method/jwt", {"Type": "kubernetes"})
    assert retype.text == "the Type field of an Auth Method is immutable"
    missing = await acl.call("GET", "/v1/acl/auth-method/nope")
    assert (missing.status, missing.text) == (
        404, "Requested auth method does not exist: ACL not found")


async def test_binding_rule_validation(acl: ACLApi, keys: Any) -> None:
    await _method(acl, keys[1])
    cases = [
        ({"BindType": "service"}, "Invalid Binding Rule: no BindName is set"),
        ({"BindType": "token", "BindName": "x"},
         'Invalid Binding Rule: unknown BindType "token"'),
        ({"BindType": "service", "BindName": "${value.nope}"},
         'Invalid Binding Rule: invalid BindName: failed to validate bindType "service": '
         "At column 3, line 1: unknown variable accessed: value.nope"),
        ({"BindType": "service", "BindName": "Web"},
         'Invalid Binding Rule: invalid BindName: failed to validate bindType "service": '
         'invalid bind name: "Web"'),
        ({"BindType": "templated-policy", "BindName": "builtin/nope"},
         'Invalid Binding Rule: invalid BindName: failed to validate bindType '
         '"templated-policy": Bind name for templated-policy bind type does not match existing '
         "template name: builtin/nope"),
        ({"AuthMethod": "nope", "BindType": "service", "BindName": "x"},
         'cannot find auth method with name "nope"'),
    ]
    for body, text in cases:
        reply = await acl.call("PUT", "/v1/acl/binding-rule", {"AuthMethod": "jwt", **body})
        assert (reply.status, reply.text) == (500, text), body
    selector = await acl.call("PUT", "/v1/acl/binding-rule", {
        "AuthMethod": "jwt", "Selector": "value.name ==", "BindType": "service",
        "BindName": "x"})
    assert selector.text.startswith("invalid Binding Rule: Selector is invalid: ")
    rule = await _rule(acl, Selector='value.name == "web"', BindType="service",
                       BindName="${value.name}")
    assert list(rule) == ["ID", "Description", "AuthMethod", "Selector", "BindType",
                          "BindName", "CreateIndex", "ModifyIndex"]
    assert await acl.ok("GET", f"/v1/acl/binding-rule/{rule['ID']}") == rule
    assert await acl.ok("GET", "/v1/acl/binding-rules?authmethod=JWT") == [rule]


async def test_login_binds_what_the_matching_rules_say(acl: ACLApi, keys: Any) -> None:
    """Binder.Bind: a rule binds when its selector matches the verified identity; BindName
    interpolates the identity's variables, lower-cased. Login's token is local, names its
    auth method and expires after MaxTokenTTL."""
    private, public = keys
    await _method(acl, public)
    await acl.policy("kv", 'key_prefix "" { policy = "read" }')
    await acl.ok("PUT", "/v1/acl/role", {"Name": "ops"})
    await _rule(acl, Selector='"admins" in list.groups', BindType="service",
                BindName="${value.name}")
    await _rule(acl, BindType="role", BindName="ops")
    await _rule(acl, BindType="policy", BindName="kv")
    await _rule(acl, BindType="role", BindName="missing")  # no such role: ignored
    await _rule(acl, BindType="templated-policy", BindName="builtin/node",
                BindVars={"Name": "node-${value.name}"})
    bearer = _jwt(private, name="Web", groups=["admins", "dev"])
    token = await acl.ok("POST", "/v1/acl/login",
                         {"AuthMethod": "jwt", "BearerToken": bearer, "Meta": {"pod": "p1"}},
                         token=None)
    assert token["ServiceIdentities"] == [{"ServiceName": "web"}]
    assert [r["Name"] for r in token["Roles"]] == ["ops"]
    assert [p["Name"] for p in token["Policies"]] == ["kv"]
    assert token["TemplatedPolicies"][0]["TemplateVariables"] == {"name": "node-web"}
    assert (token["AuthMethod"], token["Local"]) == ("jwt", True)
    assert token["Description"] == 'token created via login: {"pod":"p1"}'
    assert "ExpirationTime" in token
    listed = await acl.ok("GET", "/v1/acl/tokens?authmethod=jwt")
    assert [t["AccessorID"] for t in listed] == [token["AccessorID"]]
    me = await acl.ok("GET", "/v1/acl/token/self", token=token["SecretID"])
    assert me["AccessorID"] == token["AccessorID"]
    assert await acl.ok("POST", "/v1/acl/logout", token=token["SecretID"]) is True
    gone = await acl.call("GET", "/v1/acl/token/self", token=token["SecretID"])
    assert gone.status == 404


async def test_no_matching_rule_is_permission_denied(acl: ACLApi, keys: Any) -> None:
    """TokenForVerifiedIdentity: no bindings, no token (acl.ErrPermissionDenied)."""
    private, public = keys
    await _method(acl, public)
    await _rule(acl, Selector='"admins" in list.groups', BindType="service", BindName="x")
    reply = await acl.call("POST", "/v1/acl/login", {
        "AuthMethod": "jwt", "BearerToken": _jwt(private, groups=["dev"])}, token=None)
    assert (reply.status, reply.text) == (403, "Permission denied")


@pytest.mark.parametrize(("claims", "text"), [
    ({"iss": "https://other"},
     "error validating claims: go-jose/go-jose/jwt: validation failed, invalid issuer claim "
     "(iss)"),
    ({"exp": int(time.time()) - 600, "iat": int(time.time()) - 900},
     "error validating claims: go-jose/go-jose/jwt: validation failed, token is expired (exp)"),
    ({"aud": "vault"}, "error validating claims: aud claim does not match any bound audience"),
])
async def test_the_bearer_token_is_verified(
    acl: ACLApi, keys: Any, claims: dict[str, Any], text: str
) -> None:
    private, public = keys
    await _method(acl, public)
    await _rule(acl, BindType="service", BindName="x")
    reply = await acl.call("POST", "/v1/acl/login", {
        "AuthMethod": "jwt", "BearerToken": _jwt(private, **claims)}, token=None)
    assert (reply.status, reply.text) == (500, text)


async def test_a_token_signed_by_another_key_is_refused(acl: ACLApi, keys: Any) -> None:
    await _method(acl, keys[1])
    await _rule(acl, BindType="service", BindName="x")
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    reply = await acl.call("POST", "/v1/acl/login", {
        "AuthMethod": "jwt", "BearerToken": _jwt(other)}, token=None)
    assert reply.text == "no known key successfully validated the token signature"
    malformed = await acl.call("POST", "/v1/acl/login",
                               {"AuthMethod": "jwt", "BearerToken": "x"}, token=None)
    assert malformed.text.startswith("error parsing token:")


async def test_login_to_an_unknown_method_is_acl_not_found(acl: ACLApi) -> None:
    reply = await acl.call("POST", "/v1/acl/login", {"AuthMethod": "nope", "BearerToken": "x"},
                           token=None)
    assert (reply.status, reply.text) == (403, 'ACL not found: auth method "nope" not found')


async def test_logout_destroys_only_login_tokens(acl: ACLApi) -> None:
    """TokenWriter.Delete(secret, fromLogout=true)."""
    root = await acl.call("POST", "/v1/acl/logout")
    assert (root.status, root.text) == (403, "Permission denied: token wasn't created via login")
    none = await acl.call("POST", "/v1/acl/logout", token=None)
    assert (none.status, none.text) == (401, "Supplied token does not exist")
    unknown = await acl.call("POST", "/v1/acl/logout", token="nope")
    assert (unknown.status, unknown.text) == (403, "ACL not found")


async def test_a_kubernetes_method_is_stored_but_cannot_log_in(acl: ACLApi) -> None:
    method = await acl.ok("PUT", "/v1/acl/auth-method", {
        "Name": "k8s", "Type": "kubernetes",
        "Config": {"Host": "https://k8s", "CACert": "pem", "ServiceAccountJWT": "jwt"}})
    assert method["Type"] == "kubernetes"
    rule = await acl.ok("PUT", "/v1/acl/binding-rule", {
        "AuthMethod": "k8s", "Selector": 'serviceaccount.namespace == "default"',
        "BindType": "service", "BindName": "${serviceaccount.name}"})
    assert rule["AuthMethod"] == "k8s"
    reply = await acl.call("POST", "/v1/acl/login", {"AuthMethod": "k8s", "BearerToken": "x"},
                           token=None)
    assert reply.status == 500
    assert "cannot log in with a kubernetes auth method" in reply.text


async def test_deleting_a_method_deletes_its_rules_and_tokens(acl: ACLApi, keys: Any) -> None:
    """aclAuthMethodDeleteTxn."""
    private, public = keys
    await _method(acl, public)
    rule = await _rule(acl, BindType="service", BindName="x")
    token = await acl.ok("POST", "/v1/acl/login",
                         {"AuthMethod": "jwt", "BearerToken": _jwt(private)}, token=None)
    assert await acl.ok("DELETE", "/v1/acl/auth-method/jwt") is True
    assert (await acl.call("GET", f"/v1/acl/binding-rule/{rule['ID']}")).status == 404
    assert (await acl.call("GET", f"/v1/acl/token/{token['AccessorID']}")).status == 404
    assert await acl.ok("GET", "/v1/acl/binding-rules") == []


async def test_a_login_token_cannot_be_cloned(acl: ACLApi, keys: Any) -> None:
    private, public = keys
    await _method(acl, public)
    await _rule(acl, BindType="service", BindName="x")
    token = await acl.ok("POST", "/v1/acl/login",
                         {"AuthMethod": "jwt", "BearerToken": _jwt(private)}, token=None)
    reply = await acl.call("PUT", f"/v1/acl/token/{token['AccessorID']}/clone", {})
    assert (reply.status, reply.text) == (500, "Cannot clone a token created from an auth method")
