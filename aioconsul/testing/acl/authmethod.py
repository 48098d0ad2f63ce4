"""Auth methods and binding rules: login's half of the ACL system.

``agent/consul/authmethod`` (the validators: a method's ``Config``, its blank identity, and
``ValidateLogin``), ``internal/go-sso/oidcauth`` (the ``jwt`` type: static
``JWTValidationPubKeys``, ``BoundIssuer``, ``BoundAudiences``, the leeways, ``ClaimMappings``
and ``ListClaimMappings``) and ``agent/consul/auth/binder.go`` (which binding rules match an
identity, and what their ``BindName`` interpolates to, HIL ``${...}`` style).

Only ``jwt`` methods with static public keys verify bearer tokens here, with PyJWT (imported
only when needed: ``pip install 'aioconsul[devagent]'``). ``kubernetes`` and ``aws-iam``
methods are stored, listed, and their binding rules validated against their identities; their
login asks a remote API (TokenReview, STS) no embedded agent can reach, and is refused with a
message that says so; so is a ``jwt`` method that fetches its keys (``JWKSURL``,
``OIDCDiscoveryURL``).

This module never does I/O and never touches HTTP; the state is passed in.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from ..golang.bexpr import FieldSchema, FilterError, compile_filter
from ..golang.stdlib import (
    SECOND,
    GoSyntaxError,
    go_float,
    go_type_name,
    parse_duration,
    strconv_quote,
)
from ..state.acl import AuthMethod, Link, NodeIdentity, ServiceIdentity, TemplatedPolicy
from .identities import is_valid_node_identity_name, is_valid_service_identity_name

__all__ = [
    "AWSValidator",
    "AuthMethodError",
    "Bindings",
    "Identity",
    "JWTValidator",
    "KubernetesValidator",
    "Validator",
    "bind",
    "interpolate_hil",
    "is_valid_binding_rule",
    "new_validator",
]

_EXTRA: Final = "pip install 'aioconsul[devagent]'"
_POLICY_NAME: Final = re.compile(r"[A-Za-z0-9\-_]{1,128}")
_ROLE_NAME: Final = re.compile(r"[A-Za-z0-9\-_]{1,256}")
# go-sso oidcauth: claimDefaultLeeway (exp/nbf inferred from iat) and jwt.DefaultLeeway.
_CLAIM_DEFAULT_LEEWAY: Final = 150
_DEFAULT_CLOCK_SKEW: Final = 60
_JOSE: Final = "go-jose/go-jose/jwt: validation failed, "
_SUPPORTED_ALGS: Final = (
    "RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512", "EdDSA",
)


class AuthMethodError(Exception):
    """An auth method or binding rule error; ``str(exc)`` is Consul's text."""


# -- identities ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Identity:
    """authmethod.Identity: what selectors see, and the variables a BindName may use."""

    schema: FieldSchema
    fields: dict[str, Any]
    projected_vars: dict[str, str]


class Validator:
    """authmethod.Validator for one stored auth method."""

    def __init__(self, method: AuthMethod) -> None:
        self.method = method

    def new_identity(self) -> Identity:
        """NewIdentity: every field empty, for validating selectors and bind names."""
        raise NotImplementedError

    def validate_login(self, bearer_token: str) -> Identity:
        """ValidateLogin: the verified identity behind ``bearer_token``."""
        raise NotImplementedError


# -- mapstructure-like config decoding -------------------------------------------------------


def _decode_config(raw: Mapping[str, Any], fields: Mapping[str, str]) -> dict[str, Any]:
    """authmethod.ParseConfig: mapstructure, weakly typed, unknown keys an error.

    ``fields`` maps each field name to a kind: ``str``, ``bool``, ``[str]``, ``{str}`` or
    ``duration``. Keys match field names case-insensitively, as mapstructure's do.
    """
    by_lower = {name.lower(): name for name in fields}
    out: dict[str, Any] = {}
    errors: list[str] = []
    unused: list[str] = []
    for key, value in raw.items():
        name = by_lower.get(key.lower())
        if name is None:
            unused.append(key)
            continue
        try:
            out[name] = _weak(value, fields[name], name)
        except AuthMethodError as exc:
            errors.append(str(exc))
    if unused:
        errors.append(f"'' has invalid keys: {', '.join(sorted(unused))}")
    if errors:
        details = "\n".join(f"* {e}" for e in errors)
        raise AuthMethodError(
            f"error decoding config: {len(errors)} error(s) decoding:\n\n{details}"
        )
    return out


def _weak_str(value: Any, where: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return go_float(value)
    raise AuthMethodError(
        f"'{where}' expected type 'string', got unconvertible type '{go_type_name(value)}'"
    )


def _weak(value: Any, kind: str, name: str) -> Any:
    if kind == "str":
        return _weak_str(value, name)
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str):
            if value in ("1", "t", "T", "TRUE", "true", "True", ""):
                return value != ""
            if value in ("0", "f", "F", "FALSE", "false", "False"):
                return False
        raise AuthMethodError(f"cannot parse '{name}' as bool")
    if kind == "duration":
        if isinstance(value, str):
            try:
                return parse_duration(value)
            except GoSyntaxError as exc:
                raise AuthMethodError(f"error decoding '{name}': {exc}") from None
        if isinstance(value, int | float) and not isinstance(value, bool):
            return int(value)
        raise AuthMethodError(
            f"'{name}' expected type 'time.Duration', got unconvertible type "
            f"'{go_type_name(value)}'"
        )
    if kind == "[str]":
        items = value if isinstance(value, list) else [value]  # a single value: a slice of one
        return [_weak_str(v, f"{name}[{i}]") for i, v in enumerate(items)]
    if kind == "{str}":
        if not isinstance(value, dict):
            raise AuthMethodError(
                f"'{name}' expected a map, got '{go_type_name(value).split('[')[0] or 'slice'}'"
            )
        return {k: _weak_str(v, f"{name}[{k}]") for k, v in value.items()}
    raise AssertionError(kind)  # pragma: no cover


# -- jwt -------------------------------------------------------------------------------------

_JWT_FIELDS: Final = {
    "JWTValidationPubKeys": "[str]",
    "JWKSURL": "str",
    "JWKSCACert": "str",
    "JWTSupportedAlgs": "[str]",
    "BoundAudiences": "[str]",
    "BoundIssuer": "str",
    "ClaimMappings": "{str}",
    "ListClaimMappings": "{str}",
    "OIDCDiscoveryURL": "str",
    "OIDCDiscoveryCACert": "str",
    "OIDCClientID": "str",
    "OIDCClientSecret": "str",
    "OIDCScopes": "[str]",
    "OIDCACRValues": "[str]",
    "AllowedRedirectURIs": "[str]",
    "VerboseOIDCLogging": "bool",
    "ExpirationLeeway": "duration",
    "NotBeforeLeeway": "duration",
    "ClockSkewLeeway": "duration",
}
_OIDC_ONLY: Final = (
    "OIDCClientID", "OIDCClientSecret", "OIDCScopes", "OIDCACRValues", "AllowedRedirectURIs",
)

_JWT_SCHEMA: Final = FieldSchema({"value": {"*": "string"}, "list": {"*": ["string"]}})


def _jwt_module() -> Any:
    try:
        import jwt
    except ImportError:  # pragma: no cover - the extra is installed in the test environment
        raise AuthMethodError(
            f"jwt auth methods need PyJWT and cryptography: {_EXTRA}"
        ) from None
    return jwt


def _parse_public_key(pem: str) -> Any:
    """go-sso parsePublicKeyPEM: a PKIX public key, or a certificate's; RSA, ECDSA, Ed25519."""
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
        from cryptography.hazmat.primitives.serialization import load_pem_public_key
    except ImportError:  # pragma: no cover
        raise AuthMethodError(f"jwt auth methods need cryptography: {_EXTRA}") from None
    data = pem.encode()
    key: Any = None
    try:
        key = load_pem_public_key(data)
    except ValueError:
        try:
            key = x509.load_pem_x509_certificate(data).public_key()
        except ValueError:
            key = None
    if isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey):
        return key
    raise AuthMethodError("data does not contain any valid RSA, ECDSA, or ED25519 public keys")


def _algorithms_for(key: Any) -> list[str]:
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    if isinstance(key, rsa.RSAPublicKey):
        return ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"]
    if isinstance(key, ec.EllipticCurvePublicKey):
        return ["ES256", "ES384", "ES512"]
    return ["EdDSA"]


def _stringify(value: Any) -> str | None:
    """stringifyMetadataValue: strings, booleans and numbers; anything else is refused."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return go_float(value)
    return None


def _claim(claims: Mapping[str, Any], path: str) -> Any:
    """getClaim: a top-level claim, or a JSON pointer (``/a/b``) into the claims."""
    if not path.startswith("/"):
        return claims.get(path)
    value: Any = claims
    for part in path[1:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


class JWTValidator(Validator):
    """ssoauth.Validator for ``Type: "jwt"``."""

    def __init__(self, method: AuthMethod) -> None:
        super().__init__(method)
        config = _decode_config(method.config or {}, _JWT_FIELDS)
        self.config = config
        pub_keys = config.get("JWTValidationPubKeys") or []
        sources = sum(
            1 for present in (config.get("OIDCDiscoveryURL"), pub_keys, config.get("JWKSURL"))
            if present
        )
        if sources != 1:
            raise AuthMethodError(
                "exactly one of 'JWTValidationPubKeys', 'JWKSURL', or 'OIDCDiscoveryURL' must "
                'be set for type "jwt"'
            )
        for name in _OIDC_ONLY:
            if config.get(name):
                raise AuthMethodError(f"'{name}' must not be set for type \"jwt\"")
        if config.get("VerboseOIDCLogging"):
            raise AuthMethodError("'VerboseOIDCLogging' must not be set for type \"jwt\"")
        if config.get("JWKSCACert") and not config.get("JWKSURL"):
            raise AuthMethodError("'JWKSCACert' should not be set unless 'JWKSURL' is set")
        if config.get("OIDCDiscoveryCACert") and not config.get("OIDCDiscoveryURL"):
            raise AuthMethodError(
                "'OIDCDiscoveryCACert' should not be set unless 'OIDCDiscoveryURL' is set"
            )
        for alg in config.get("JWTSupportedAlgs") or ():
            if alg not in _SUPPORTED_ALGS:
                raise AuthMethodError(f"Invalid supported algorithm: {alg}")
        for key in ("ClaimMappings", "ListClaimMappings"):
            seen: set[str] = set()
            for target in (config.get(key) or {}).values():
                if target in seen:
                    raise AuthMethodError(
                        f"{key} contains multiple mappings for key {strconv_quote(target)}"
                    )
                seen.add(target)
        self.keys = []
        for i, pem in enumerate(pub_keys):
            try:
                self.keys.append(_parse_public_key(pem))
            except AuthMethodError as exc:
                raise AuthMethodError(
                    f"error parsing public key JWTValidationPubKeys[{i}]: {exc}"
                ) from None

    def new_identity(self) -> Identity:
        values = {k: "" for k in (self.config.get("ClaimMappings") or {}).values()}
        lists: dict[str, list[str]] = {
            k: [] for k in (self.config.get("ListClaimMappings") or {}).values()
        }
        projected = {f"value.{k}": "" for k in values}
        return Identity(_JWT_SCHEMA, {"value": values, "list": lists}, projected)

    def validate_login(self, bearer_token: str) -> Identity:
        if not self.keys:
            raise AuthMethodError(
                "the dev agent verifies jwt logins with JWTValidationPubKeys only: fetching "
                "keys from JWKSURL or OIDCDiscoveryURL is not supported"
            )
        claims = self._verify(bearer_token)
        self._check_claims(claims)
        identity = self.new_identity()
        values = identity.fields["value"]
        for source, target in (self.config.get("ClaimMappings") or {}).items():
            raw = _claim(claims, source)
            if raw is None:
                continue
            text = _stringify(raw)
            if text is None:
                raise AuthMethodError(
                    f"error converting claim '{source}' to string from unknown type "
                    f"{go_type_name(raw)}"
                )
            values[target] = text
            identity.projected_vars[f"value.{target}"] = text
        lists = identity.fields["list"]
        for source, target in (self.config.get("ListClaimMappings") or {}).items():
            raw = _claim(claims, source)
            if raw is None:
                continue
            if not isinstance(raw, list):
                raise AuthMethodError(f"claim {strconv_quote(source)} is not a list")
            items = []
            for item in raw:
                text = _stringify(item)
                if text is None:
                    raise AuthMethodError(
                        f"error converting claim '{source}' to string from unknown type "
                        f"{go_type_name(item)}"
                    )
                items.append(text)
            lists[target] = items
        return identity

    def _verify(self, bearer_token: str) -> dict[str, Any]:
        """The signature, by any of the configured keys (verifyVanillaJWT, static keys)."""
        jwt = _jwt_module()
        if bearer_token.count(".") != 2:
            raise AuthMethodError(
                "error parsing token: go-jose/go-jose: compact JWS format must have three parts"
            )
        allowed = self.config.get("JWTSupportedAlgs") or None
        options = {
            "verify_signature": True, "verify_exp": False, "verify_nbf": False,
            "verify_iat": False, "verify_aud": False, "verify_iss": False,
        }
        for key in self.keys:
            algorithms = [a for a in _algorithms_for(key) if allowed is None or a in allowed]
            if not algorithms:
                continue
            try:
                claims = jwt.decode(bearer_token, key, algorithms=algorithms, options=options)
            except jwt.exceptions.DecodeError as exc:
                if isinstance(exc, jwt.exceptions.InvalidSignatureError):
                    continue
                raise AuthMethodError(f"error parsing token: {exc}") from None
            except jwt.exceptions.InvalidTokenError:
                continue
            if isinstance(claims, dict):
                return claims
        raise AuthMethodError("no known key successfully validated the token signature")

    def _check_claims(self, claims: dict[str, Any]) -> None:
        """The exp/nbf defaults, jwt.Claims.ValidateWithLeeway and validateAudience."""
        def numeric(name: str) -> int:
            value = claims.get(name)
            return int(value) if isinstance(value, int | float) and not isinstance(
                value, bool) else 0

        iat, exp, nbf = numeric("iat"), numeric("exp"), numeric("nbf")
        if iat == 0 and exp == 0 and nbf == 0:
            raise AuthMethodError("no issue time, notbefore, or expiration time encoded in token")
        config = self.config
        if exp == 0:
            latest = max(iat, nbf)
            leeway = _leeway(config.get("ExpirationLeeway", 0), _CLAIM_DEFAULT_LEEWAY)
            exp = latest + leeway
        if nbf == 0:
            nbf = iat or exp - _leeway(config.get("NotBeforeLeeway", 0), _CLAIM_DEFAULT_LEEWAY)
        skew = _leeway(config.get("ClockSkewLeeway", 0), _DEFAULT_CLOCK_SKEW)
        now = time.time()
        issuer = config.get("BoundIssuer", "")
        if issuer and claims.get("iss") != issuer:
            raise AuthMethodError(f"error validating claims: {_JOSE}invalid issuer claim (iss)")
        if now + skew < nbf:
            raise AuthMethodError(f"error validating claims: {_JOSE}token not valid yet (nbf)")
        if now - skew > exp:
            raise AuthMethodError(f"error validating claims: {_JOSE}token is expired (exp)")
        if iat and now + skew < iat:
            raise AuthMethodError(
                f"error validating claims: {_JOSE}token issued in the future (iat)"
            )
        aud = claims.get("aud")
        audiences = [aud] if isinstance(aud, str) else list(aud or ())
        bound = config.get("BoundAudiences") or []
        if not bound and audiences:
            raise AuthMethodError(
                "error validating claims: audience claim found in JWT but no audiences bound "
                "to the role"
            )
        if bound and not any(b in audiences for b in bound):
            raise AuthMethodError(
                "error validating claims: aud claim does not match any bound audience"
            )


def _leeway(configured: int, default: int) -> int:
    """A leeway in whole seconds: negative means none, zero the default."""
    if configured < 0:
        return 0
    if configured == 0:
        return default
    return configured // SECOND


# -- kubernetes and aws-iam ------------------------------------------------------------------

_K8S_FIELDS: Final = {
    "Host": "str",
    "CACert": "str",
    "ServiceAccountJWT": "str",
    "MapNamespaces": "bool",
    "ConsulNamespacePrefix": "str",
    "ConsulNamespaceOverrides": "{str}",
}
_K8S_SCHEMA: Final = FieldSchema(
    {"serviceaccount": {"namespace": "string", "name": "string", "uid": "string"}}
)


class KubernetesValidator(Validator):
    """kubeauth.Validator: the config is checked; login would ask the TokenReview API."""

    def __init__(self, method: AuthMethod) -> None:
        super().__init__(method)
        config = _decode_config(method.config or {}, _K8S_FIELDS)
        for name in ("Host", "CACert", "ServiceAccountJWT"):
            if not config.get(name):
                raise AuthMethodError(f"Config.{name} is required")
        for name in ("MapNamespaces", "ConsulNamespacePrefix", "ConsulNamespaceOverrides"):
            if config.get(name):
                raise AuthMethodError(f"Config.{name} is a Consul Enterprise feature")

    def new_identity(self) -> Identity:
        fields = {"serviceaccount": {"namespace": "", "name": "", "uid": ""}}
        projected = {f"serviceaccount.{k}": "" for k in ("namespace", "name", "uid")}
        return Identity(_K8S_SCHEMA, fields, projected)

    def validate_login(self, bearer_token: str) -> Identity:
        raise AuthMethodError(
            f"the dev agent cannot log in with a kubernetes auth method ({self.method.name!r}): "
            "it would ask the Kubernetes TokenReview API; use a jwt auth method with "
            "JWTValidationPubKeys"
        )


_AWS_FIELDS: Final = {
    "BoundIAMPrincipalARNs": "[str]",
    "EnableIAMEntityDetails": "bool",
    "IAMEntityTags": "[str]",
    "ServerIDHeaderValue": "str",
    "MaxRetries": "str",
    "IAMEndpoint": "str",
    "STSEndpoint": "str",
    "STSRegion": "str",
    "AllowedSTSHeaderValues": "[str]",
}


class AWSValidator(Validator):
    """awsauth.Validator: the config is checked; login would ask AWS STS."""

    def __init__(self, method: AuthMethod) -> None:
        super().__init__(method)
        config = _decode_config(method.config or {}, _AWS_FIELDS)
        if not config.get("BoundIAMPrincipalARNs"):
            raise AuthMethodError("BoundIAMPrincipalARNs is required")
        self.tags = list(config.get("IAMEntityTags") or ())

    def new_identity(self) -> Identity:
        names = ("entity_name", "entity_id", "account_id")
        fields: dict[str, Any] = dict.fromkeys(names, "")
        spec: dict[str, Any] = dict.fromkeys(names, "string")
        fields["entity_path"] = ""
        spec["entity_path"] = "string"
        fields["entity_tags"] = dict.fromkeys(self.tags, "")
        spec["entity_tags"] = {"*": "string"}
        projected = {name: "" for name in (*names, "entity_path")}
        projected.update({f"entity_tags.{tag}": "" for tag in self.tags})
        return Identity(FieldSchema(spec), fields, projected)

    def validate_login(self, bearer_token: str) -> Identity:
        raise AuthMethodError(
            f"the dev agent cannot log in with an aws-iam auth method ({self.method.name!r}): "
            "it would ask AWS STS; use a jwt auth method with JWTValidationPubKeys"
        )


def new_validator(method: AuthMethod) -> Validator:
    """authmethod.NewValidator: the method's Config decoded and checked."""
    if method.type == "jwt":
        return JWTValidator(method)
    if method.type == "kubernetes":
        return KubernetesValidator(method)
    if method.type == "aws-iam":
        return AWSValidator(method)
    raise AuthMethodError(f"no auth method registered with type: {method.type}")


# -- binding rules ---------------------------------------------------------------------------

_HIL_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_\-.]*")


def interpolate_hil(text: str, variables: Mapping[str, str], *, lowercase: bool = True) -> str:
    """lib/template.InterpolateHIL for the ``${name}`` references a BindName may hold.

    Literal text stays; ``$${`` is a literal ``${``; a reference to an unknown variable is
    HIL's ``At column N, line 1: unknown variable accessed: name``. Other HIL expressions
    (functions, arithmetic) are refused.
    """
    if "${" not in text:
        return text
    out: list[str] = []
    i = 0
    while i < len(text):
        if text.startswith("$${", i):
            out.append("${")
            i += 3
            continue
        if text.startswith("${", i):
            end = text.find("}", i + 2)
            if end == -1:
                raise AuthMethodError("parse error at 1:1: expected expression end")
            inner = text[i + 2 : end]
            name = inner.strip()
            if not _HIL_NAME.fullmatch(name):
                raise AuthMethodError(
                    f"the dev agent interpolates only ${{name}} references, not ${{{inner}}}"
                )
            if name not in variables:
                column = i + 3 + (len(inner) - len(inner.lstrip()))
                raise AuthMethodError(
                    f"At column {column}, line 1: unknown variable accessed: {name}"
                )
            value = variables[name]
            out.append(value.lower() if lowercase else value)
            i = end + 1
            continue
        out.append(text[i])
        i += 1
    return "".join(out)


def _bind_name(template: str, variables: Mapping[str, str], valid: Any) -> str:
    """computeBindName."""
    name = interpolate_hil(template, variables)
    if not valid(name):
        raise AuthMethodError(f"invalid bind name: {strconv_quote(name)}")
    return name


def _templated(
    bind_name: str, bind_vars: Mapping[str, str] | None, variables: Mapping[str, str]
) -> TemplatedPolicy:
    """generateTemplatedPolicies: the template named by BindName, BindVars interpolated."""
    from . import identities

    base = identities.templated_policy_base(bind_name)
    if base is None:
        raise AuthMethodError(
            "Bind name for templated-policy bind type does not match existing template name: "
            f"{bind_name}"
        )
    computed: dict[str, str] | None = None
    if bind_vars is not None:
        computed = {}
        if bind_vars.get("name"):
            try:
                computed["name"] = interpolate_hil(bind_vars["name"], variables)
            except AuthMethodError as exc:
                raise AuthMethodError(f"failed to interpolate BindVars: {exc}") from None
    try:
        identities.validate_templated_policy(bind_name, computed)
    except ValueError as exc:
        raise AuthMethodError(f"templated policy failed validation: {exc}") from None
    return TemplatedPolicy(bind_name, base.template_id, computed)


def _validator_for(bind_type: str) -> Any:
    return {
        "service": is_valid_service_identity_name,
        "node": is_valid_node_identity_name,
        "role": lambda n: bool(_ROLE_NAME.fullmatch(n)),
        "policy": lambda n: bool(_POLICY_NAME.fullmatch(n)),
    }.get(bind_type)


def is_valid_binding_rule(
    bind_type: str,
    bind_name: str,
    bind_vars: Mapping[str, str] | None,
    available: Mapping[str, str],
) -> None:
    """auth.IsValidBindingRule: the BindName (and BindVars) against the method's variables."""
    fake = dict.fromkeys(available, "fake")
    try:
        if bind_type == "templated-policy":
            _templated(bind_name, bind_vars, fake)
        else:
            _bind_name(bind_name, fake, _validator_for(bind_type))
    except AuthMethodError as exc:
        raise AuthMethodError(f"failed to validate bindType {strconv_quote(bind_type)}: {exc}") \
            from None


@dataclass
class Bindings:
    """auth.Bindings: what the matching binding rules give a login token."""

    service_identities: tuple[ServiceIdentity, ...] = ()
    node_identities: tuple[NodeIdentity, ...] = ()
    templated_policies: tuple[TemplatedPolicy, ...] = ()
    roles: tuple[Link, ...] = ()
    policies: tuple[Link, ...] = ()

    def none(self) -> bool:
        return not (self.service_identities or self.node_identities or self.templated_policies
                    or self.roles or self.policies)


def _matches(selector: str, identity: Identity) -> bool:
    """doesSelectorMatch: an empty selector matches; an invalid one never does."""
    if not selector:
        return True
    try:
        return compile_filter(selector, fields=identity.schema).matches(identity.fields)
    except FilterError:
        return False


def bind(acls: Any, method: AuthMethod, identity: Identity, datacenter: str) -> Bindings:
    """Binder.Bind: the method's binding rules whose selector matches, in ID order."""
    _, rules = acls.rule_list(method.name)
    found = Bindings()
    services: list[ServiceIdentity] = []
    nodes: list[NodeIdentity] = []
    templated: list[TemplatedPolicy] = []
    roles: list[Link] = []
    policies: list[Link] = []
    variables = identity.projected_vars
    for rule in rules:
        if not _matches(rule.selector, identity):
            continue
        try:
            if rule.bind_type == "service":
                services.append(ServiceIdentity(
                    _bind_name(rule.bind_name, variables, is_valid_service_identity_name)))
            elif rule.bind_type == "node":
                nodes.append(NodeIdentity(
                    _bind_name(rule.bind_name, variables, is_valid_node_identity_name), datacenter))
            elif rule.bind_type == "templated-policy":
                templated.append(_templated(rule.bind_name, rule.bind_vars, variables))
            elif rule.bind_type == "policy":
                name = _bind_name(rule.bind_name, variables, _validator_for("policy"))
                policy = acls.policy_by_name(name)
                if policy is not None:
                    policies.append(Link(policy.id, policy.name))
            elif rule.bind_type == "role":
                name = _bind_name(rule.bind_name, variables, _validator_for("role"))
                role = acls.role_by_name(name)
                if role is not None:
                    roles.append(Link(role.id))
        except AuthMethodError as exc:
            raise AuthMethodError(
                f"cannot compute {strconv_quote(rule.bind_type)} bind name for bind target: "
                f"{exc}"
            ) from None
    found.service_identities = tuple(services)
    found.node_identities = tuple(nodes)
    found.templated_policies = tuple(templated)
    found.roles = tuple(roles)
    found.policies = tuple(policies)
    return found

