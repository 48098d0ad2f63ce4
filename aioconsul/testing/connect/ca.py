"""The certificates of Consul's built-in ("consul") CA provider, with ``cryptography``.

Consul's ``agent/connect/ca/provider_consul.go`` (``generateCA``, ``Sign``, ``CrossSignCA``),
``provider_consul_config.go`` and ``structs.CommonCAProviderConfig.Validate`` (the provider
configuration and its error texts), ``agent/connect/generate.go`` (keys), ``csr.go``
(``CreateCSR``), ``common_names.go`` (``CACN``) and ``parsing.go``/``ca.go`` (key IDs,
fingerprints, ``HexString``). Pure: no state, no I/O; the time of an issue is passed in
(Unix seconds), serial numbers too (the state store counts them, as Consul's FSM does).

``cryptography`` comes with ``pip install 'aioconsul[devagent]'``; without it every function
that makes or reads a certificate raises ImportError naming that extra. Parsing the provider
configuration (:func:`parse_consul_ca_config`) needs nothing.
"""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from ..golang.stdlib import GoSyntaxError, format_duration, go_type_name, parse_duration
from .uri import CertURI, spiffe_id_signing_for_cluster

if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric.types import (
        CertificateIssuerPrivateKeyTypes,
        CertificatePublicKeyTypes,
    )

__all__ = [
    "CRYPTOGRAPHY_MISSING",
    "DEFAULT_CA_CONFIG",
    "CAConfigError",
    "ConsulCAConfig",
    "ca_cn",
    "create_csr",
    "cross_sign",
    "csr_info",
    "cert_info",
    "fingerprint",
    "go_time",
    "go_time_now",
    "generate_private_key",
    "generate_root",
    "hex_string",
    "parse_consul_ca_config",
    "provider_id",
    "root_record",
    "sign_leaf",
]

CRYPTOGRAPHY_MISSING: Final = (
    "the dev agent's Connect CA needs cryptography: pip install 'aioconsul[devagent]'"
)

_HOUR: Final = 3600 * 1_000_000_000
#: RuntimeConfig.ConnectCAConfiguration: what a fresh agent stores (durations as Go text).
DEFAULT_CA_CONFIG: Final[dict[str, Any]] = {
    "LeafCertTTL": "72h",  # structs.DefaultLeafCertTTL
    "IntermediateCertTTL": "8760h",  # structs.DefaultIntermediateCertTTL
    "RootCertTTL": "87600h",  # structs.DefaultRootCertTTL
}
_MIN_LEAF_TTL: Final = _HOUR  # structs.MinLeafCertTTL
_MAX_LEAF_TTL: Final = 365 * 24 * _HOUR  # structs.MaxLeafCertTTL
_INTERMEDIATE_RENEW_INTERVAL: Final = _HOUR  # structs.IntermediateCertRenewInterval
#: ca.CertificateTimeDriftBuffer: leaves and cross-signed roots are valid from a minute ago.
_DRIFT: Final = datetime.timedelta(minutes=1)


class CAConfigError(ValueError):
    """A provider configuration Consul refuses; ``str()`` is Consul's text."""


def _crypto() -> Any:
    try:
        import cryptography  # noqa: F401
    except ImportError as exc:
        raise ImportError(CRYPTOGRAPHY_MISSING) from exc
    from cryptography import x509 as x509_module

    return x509_module


# -- configuration ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConsulCAConfig:
    """``structs.ConsulCAProviderConfig`` (durations in nanoseconds)."""

    leaf_cert_ttl: int = 72 * _HOUR
    intermediate_cert_ttl: int = 24 * 365 * _HOUR
    root_cert_ttl: int = 10 * 24 * 365 * _HOUR
    private_key_type: str = "ec"
    private_key_bits: int = 256
    private_key: str = ""
    root_cert: str = ""
    disable_cross_signing: bool = False
    skip_validate: bool = False


_DURATIONS: Final = {
    "leafcertttl": "leaf_cert_ttl",
    "intermediatecertttl": "intermediate_cert_ttl",
    "rootcertttl": "root_cert_ttl",
}
_STRINGS: Final = {"privatekeytype": "private_key_type", "privatekey": "private_key",
                   "rootcert": "root_cert"}
_BOOLS: Final = {"disablecrosssigning": "disable_cross_signing", "skipvalidate": "skip_validate"}


def _weak_int(key: str, value: Any) -> int:
    """mapstructure with WeaklyTypedInput into an int field."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text, 0) if text else 0
        except ValueError:
            pass
        raise CAConfigError(
            f"error decoding config: 1 error(s) decoding:\n\n* cannot parse '{key}' as int: "
            f'strconv.ParseInt: parsing "{value}": invalid syntax'
        )
    raise CAConfigError(
        f"error decoding config: 1 error(s) decoding:\n\n* '{key}' expected type 'int', "
        f"got unconvertible type '{go_type_name(value)}'"
    )


def _duration(key: str, value: Any) -> int:
    """structs.ParseDurationFunc: a string is a Go duration; a number is nanoseconds."""
    if isinstance(value, str):
        try:
            return parse_duration(value)
        except GoSyntaxError as exc:
            raise CAConfigError(
                f"error decoding config: 1 error(s) decoding:\n\n* error decoding '{key}': {exc}"
            ) from None
    return _weak_int(key, value)


def parse_consul_ca_config(raw: Mapping[str, Any] | None) -> ConsulCAConfig:
    """ParseConsulCAConfig: Consul's defaults, the raw map over them (keys matched case
    insensitively, as mapstructure does), then the checks, in Consul's order and words."""
    values: dict[str, Any] = {}
    for key, value in (raw or {}).items():
        folded = key.lower()
        if folded in _DURATIONS:
            values[_DURATIONS[folded]] = _duration(key, value)
        elif folded in _STRINGS:
            if value is None:
                continue
            values[_STRINGS[folded]] = value if isinstance(value, str) else str(value)
        elif folded == "privatekeybits":
            values["private_key_bits"] = _weak_int(key, value)
        elif folded in _BOOLS:
            values[_BOOLS[folded]] = bool(value) if not isinstance(value, str) else (
                value.lower() in ("1", "t", "true"))
    config = ConsulCAConfig(**values)
    if not config.private_key and config.root_cert:
        raise CAConfigError("must provide a private key when providing a root cert")
    _validate(config)
    return config


def _validate(c: ConsulCAConfig) -> None:
    """CommonCAProviderConfig.Validate."""
    if c.skip_validate:
        return
    if c.root_cert_ttl < c.intermediate_cert_ttl:
        raise CAConfigError(
            "root cert TTL is set and is not greater than intermediate cert ttl. root cert ttl: "
            f"{format_duration(c.root_cert_ttl)}, intermediate cert ttl: "
            f"{format_duration(c.intermediate_cert_ttl)}"
        )
    if c.leaf_cert_ttl < _MIN_LEAF_TTL:
        raise CAConfigError(
            f"leaf cert TTL must be greater or equal than {format_duration(_MIN_LEAF_TTL)}")
    if c.leaf_cert_ttl > _MAX_LEAF_TTL:
        raise CAConfigError(f"leaf cert TTL must be less than {format_duration(_MAX_LEAF_TTL)}")
    if c.intermediate_cert_ttl < 3 * _INTERMEDIATE_RENEW_INTERVAL:
        raise CAConfigError("Intermediate Cert TTL must be greater or equal than 3h")
    if c.intermediate_cert_ttl < 3 * c.leaf_cert_ttl:
        raise CAConfigError(
            "Intermediate Cert TTL must be greater or equal than 3 * LeafCertTTL "
            f"(>={format_duration(3 * c.leaf_cert_ttl)})."
        )
    if c.private_key_type == "ec":
        if c.private_key_bits not in (224, 256, 384, 521):
            raise CAConfigError("EC key length must be one of (224, 256, 384, 521) bits")
    elif c.private_key_type == "rsa":
        if c.private_key_bits not in (2048, 4096):
            raise CAConfigError("RSA key length must be 2048 or 4096 bits")
    else:
        raise CAConfigError("private key type must be either 'ec' or 'rsa'")


def hex_string(data: bytes) -> str:
    """connect.HexString: lower-case hex bytes joined by ``:``."""
    return ":".join(f"{b:02x}" for b in data)


def provider_id(config: ConsulCAConfig, is_primary: bool = True) -> str:
    """ConsulProvider.Configure's ID: which provider state (key and root) a config selects.

    The hash of the private key, root cert, key type and bits: a change of any of them is a new
    root (a rotation); a change of the TTLs is not."""
    text = (f"{config.private_key},{config.root_cert},{config.private_key_type},"
            f"{config.private_key_bits},{'true' if is_primary else 'false'}")
    return hex_string(hashlib.sha256(text.encode()).digest())


# -- keys and certificates ------------------------------------------------------------------


def generate_private_key(key_type: str = "ec", bits: int = 256) -> str:
    """GeneratePrivateKeyWithConfig: an ``EC PRIVATE KEY`` (SEC 1) or ``RSA PRIVATE KEY``
    (PKCS #1) PEM."""
    _crypto()
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    key: CertificateIssuerPrivateKeyTypes
    if key_type.lower() == "rsa":
        key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
        fmt = serialization.PrivateFormat.TraditionalOpenSSL
    elif key_type.lower() == "ec":
        curves: dict[int, ec.EllipticCurve] = {
            224: ec.SECP224R1(), 256: ec.SECP256R1(), 384: ec.SECP384R1(), 521: ec.SECP521R1()}
        if bits not in curves:
            raise CAConfigError(
                f"error generating ECDSA private key: unknown curve length {bits}")
        key = ec.generate_private_key(curves[bits])
        fmt = serialization.PrivateFormat.TraditionalOpenSSL
    else:
        raise CAConfigError(f"unknown private key type requested: {key_type}")
    return key.private_bytes(serialization.Encoding.PEM, fmt,
                             serialization.NoEncryption()).decode()


def _load_key(pem: str) -> CertificateIssuerPrivateKeyTypes:
    """ParseSigner: EC, RSA (PKCS #1) or PKCS #8 keys."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except ValueError as exc:
        raise CAConfigError(f"error parsing private key: {exc}") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise CAConfigError("private key is not a valid format")
    return key


def _load_cert(pem: str) -> x509.Certificate:
    x509_module = _crypto()
    try:
        cert: x509.Certificate = x509_module.load_pem_x509_certificate(pem.encode())
    except ValueError as exc:
        raise CAConfigError(f"error parsing root cert: {exc}") from None
    return cert


def _key_id(public_key: CertificatePublicKeyTypes) -> bytes:
    """connect.KeyId: SHA-256 of the DER SubjectPublicKeyInfo."""
    from cryptography.hazmat.primitives import serialization

    der = public_key.public_bytes(serialization.Encoding.DER,
                                  serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).digest()


def _sig_hash(key: CertificateIssuerPrivateKeyTypes, *, default: bool) -> Any:
    """SigAlgoForKey (SHA-256 always) or, with ``default``, what Go's x509 picks when the
    template names none (SHA-384 for P-384, SHA-512 for P-521)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    if default and isinstance(key, ec.EllipticCurvePrivateKey):
        if key.curve.key_size == 384:
            return hashes.SHA384()
        if key.curve.key_size == 521:
            return hashes.SHA512()
    return hashes.SHA256()


def _pem(cert: x509.Certificate) -> str:
    from cryptography.hazmat.primitives import serialization

    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _utc(seconds: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(int(seconds), datetime.timezone.utc)


def compact_uid() -> str:
    """connect.CompactUID: 8 base-36 characters of a random 64-bit value."""
    value = int.from_bytes(os.urandom(8), "little")
    # strconv.FormatInt(int64(i), 36): a negative value keeps its sign
    negative = value >= 1 << 63
    digits = "-" + _base36((1 << 64) - value) if negative else _base36(value)
    return digits[:8]


def _base36(value: int) -> str:
    alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        value, rem = divmod(value, 36)
        out = alphabet[rem] + out
        if not value:
            return out


def ca_cn(provider: str, unique_id: str, trust_domain: str, primary: bool = True) -> str:
    """connect.CACN: ``pri-<uid8>.<provider>.ca.<trust domain's first 8>.consul``."""

    def sanitize(text: str) -> str:
        return "".join(ch for ch in text.lower() if ch.isascii() and ch.isalnum())

    typ = "pri" if primary else "sec"
    return (f"{typ}-{sanitize(unique_id)[:8]}.{sanitize(provider)[:32]}.ca."
            f"{trust_domain[:8]}.consul")


def generate_root(private_key_pem: str, serial: int, cluster_id: str, ttl: int,
                  now: float) -> str:
    """ConsulProvider.generateCA: the self-signed root of the trust domain ``<cluster>.consul``.

    Subject CN from :func:`ca_cn`, URI SAN ``spiffe://<cluster-id>.consul``, a CA with key
    usage cert sign / CRL sign / digital signature, SubjectKeyId = AuthorityKeyId = the key's
    ID, valid from ``now`` for ``ttl`` nanoseconds (RootCertTTL)."""
    x509_module = _crypto()
    from cryptography.x509.oid import NameOID

    key = _load_key(private_key_pem)
    key_id = _key_id(key.public_key())
    from cryptography.x509.name import _ASN1Type

    # Go's pkix writes a CN that fits PrintableString as one.
    name = x509_module.Name([x509_module.NameAttribute(
        NameOID.COMMON_NAME, ca_cn("consul", compact_uid(), cluster_id, True),
        _type=_ASN1Type.PrintableString)])
    signing = spiffe_id_signing_for_cluster(cluster_id)
    start = _utc(now)
    builder = (
        x509_module.CertificateBuilder()
        .serial_number(serial)
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(microseconds=ttl // 1000))
        .add_extension(_ca_key_usage(x509_module), critical=True)
        .add_extension(x509_module.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509_module.SubjectKeyIdentifier(key_id), critical=False)
        .add_extension(_aki(x509_module, key_id), critical=False)
        .add_extension(x509_module.SubjectAlternativeName(
            [x509_module.UniformResourceIdentifier(signing.uri())]), critical=False)
    )
    return _pem(builder.sign(key, _sig_hash(key, default=True)))


def _ca_key_usage(x509_module: Any) -> Any:
    return x509_module.KeyUsage(
        digital_signature=True, content_commitment=False, key_encipherment=False,
        data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
        encipher_only=False, decipher_only=False)


def _aki(x509_module: Any, key_id: bytes) -> Any:
    return x509_module.AuthorityKeyIdentifier(key_id, None, None)


def cross_sign(signing_key_pem: str, signing_root_pem: str, new_root_pem: str, serial: int,
               now: float) -> str:
    """ConsulProvider.CrossSignCA: the new root re-issued by the old key.

    The new root's subject, key and extensions, issued by the old root, AuthorityKeyId the old
    key's ID, the old root's signature algorithm, valid from a minute ago for 7 days."""
    x509_module = _crypto()
    key = _load_key(signing_key_pem)
    old_root = _load_cert(signing_root_pem)
    new_root = _load_cert(new_root_pem)
    start = _utc(now) - _DRIFT
    builder = (
        x509_module.CertificateBuilder()
        .serial_number(serial)
        .subject_name(new_root.subject)
        .issuer_name(old_root.subject)
        .public_key(new_root.public_key())
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=7))
    )
    for ext in new_root.extensions:
        if isinstance(ext.value, x509_module.AuthorityKeyIdentifier):
            continue
        builder = builder.add_extension(ext.value, critical=ext.critical)
    builder = builder.add_extension(_aki(x509_module, _key_id(key.public_key())), critical=False)
    return _pem(builder.sign(key, old_root.signature_hash_algorithm))


def create_csr(uri: CertURI, private_key_pem: str, dns_names: Iterable[str] = (),
               ip_addresses: Iterable[str] = ()) -> str:
    """connect.CreateCSR: a CSR with the SPIFFE URI SAN; DNS names lose any ``:port`` and
    repeats; no subject."""
    x509_module = _crypto()
    key = _load_key(private_key_pem)
    names: list[str] = []
    for host in dns_names:
        head = host.split(":")[0]
        if head and head not in names:
            names.append(head)
    sans: list[Any] = [x509_module.UniformResourceIdentifier(uri.uri())]
    sans += [x509_module.DNSName(name) for name in names]
    sans += [x509_module.IPAddress(ipaddress.ip_address(ip)) for ip in ip_addresses]
    builder = (
        x509_module.CertificateSigningRequestBuilder()
        .subject_name(x509_module.Name([]))
        .add_extension(x509_module.SubjectAlternativeName(sans), critical=True)
    )
    csr = builder.sign(key, _sig_hash(key, default=False))
    from cryptography.hazmat.primitives import serialization

    text: str = csr.public_bytes(serialization.Encoding.PEM).decode()
    return text


@dataclass(frozen=True, slots=True)
class CSRInfo:
    """What Sign reads from a CSR: its URI SANs, DNS names and IP addresses."""

    uris: tuple[str, ...]
    dns_names: tuple[str, ...]
    ip_addresses: tuple[str, ...]


def csr_info(csr_pem: str) -> CSRInfo:
    """connect.ParseCSR (the first PEM block must be a ``CERTIFICATE REQUEST``)."""
    x509_module = _crypto()
    if "-----BEGIN CERTIFICATE REQUEST-----" not in csr_pem:
        raise CAConfigError("first PEM-block should be CERTIFICATE REQUEST type")
    try:
        csr = x509_module.load_pem_x509_csr(csr_pem.encode())
    except ValueError as exc:
        raise CAConfigError(str(exc)) from None
    if not csr.is_signature_valid:
        raise CAConfigError("x509: ECDSA verification failure")
    try:
        san = csr.extensions.get_extension_for_class(x509_module.SubjectAlternativeName).value
    except x509_module.ExtensionNotFound:
        return CSRInfo((), (), ())
    return CSRInfo(
        tuple(san.get_values_for_type(x509_module.UniformResourceIdentifier)),
        tuple(san.get_values_for_type(x509_module.DNSName)),
        tuple(str(ip) for ip in san.get_values_for_type(x509_module.IPAddress)),
    )


def sign_leaf(csr_pem: str, signing_key_pem: str, ca_cert_pem: str, serial: int, ttl: int,
              now: float) -> str:
    """ConsulProvider.Sign: a leaf for the CSR's key, URIs, DNS names and IPs.

    No subject (so the SAN extension is critical, as Go writes it), key usage digital
    signature / key encipherment / data encipherment / key agreement, extended key usage
    client and server auth, not a CA, SubjectKeyId the CSR key's ID, AuthorityKeyId the
    signing key's, SHA-256 signature, valid from a minute ago for ``ttl`` (LeafCertTTL)."""
    x509_module = _crypto()
    from cryptography.x509.oid import ExtendedKeyUsageOID

    key = _load_key(signing_key_pem)
    ca_cert = _load_cert(ca_cert_pem)
    csr = x509_module.load_pem_x509_csr(csr_pem.encode())
    info = csr_info(csr_pem)
    start = _utc(now) - _DRIFT
    sans: list[Any] = [x509_module.UniformResourceIdentifier(u) for u in info.uris]
    sans += [x509_module.DNSName(d) for d in info.dns_names]
    sans += [x509_module.IPAddress(ipaddress.ip_address(ip)) for ip in info.ip_addresses]
    builder = (
        x509_module.CertificateBuilder()
        .serial_number(serial)
        .subject_name(x509_module.Name([]))
        .issuer_name(ca_cert.subject)
        .public_key(csr.public_key())
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(microseconds=ttl // 1000))
        .add_extension(x509_module.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=True,
            data_encipherment=True, key_agreement=True, key_cert_sign=False, crl_sign=False,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509_module.ExtendedKeyUsage(
            [ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509_module.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509_module.SubjectKeyIdentifier(_key_id(csr.public_key())),
                       critical=False)
        .add_extension(_aki(x509_module, _key_id(key.public_key())), critical=False)
    )
    if sans:
        builder = builder.add_extension(x509_module.SubjectAlternativeName(sans), critical=True)
    return _pem(builder.sign(key, _sig_hash(key, default=False)))


def fingerprint(cert_pem: str) -> str:
    """connect.CalculateCertFingerprint: SHA-1 of the DER certificate, colon hex (a root's ID)."""
    from cryptography.hazmat.primitives import serialization

    der = _load_cert(cert_pem).public_bytes(serialization.Encoding.DER)
    return hex_string(hashlib.sha1(der).digest())


def go_time(moment: datetime.datetime) -> str:
    """A certificate time as Go's time.Time marshals it (RFC 3339, UTC, whole seconds)."""
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def go_time_now(seconds: float) -> str:
    """A wall-clock instant as Go's time.Time marshals it (RFC 3339 with nanoseconds, UTC)."""
    moment = datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S.%f").rstrip("0").rstrip(".")
    return text + "Z"


@dataclass(frozen=True, slots=True)
class CertInfo:
    """What the CA reads back from a certificate it issued."""

    serial: int
    not_before: str
    not_after: str
    uris: tuple[str, ...]
    authority_key_id: str


def cert_info(cert_pem: str) -> CertInfo:
    x509_module = _crypto()
    cert = _load_cert(cert_pem)
    uris: tuple[str, ...] = ()
    try:
        san = cert.extensions.get_extension_for_class(x509_module.SubjectAlternativeName).value
        uris = tuple(san.get_values_for_type(x509_module.UniformResourceIdentifier))
    except x509_module.ExtensionNotFound:
        pass
    try:
        aki = cert.extensions.get_extension_for_class(x509_module.AuthorityKeyIdentifier).value
        authority = hex_string(aki.key_identifier or b"")
    except x509_module.ExtensionNotFound:
        authority = ""
    return CertInfo(cert.serial_number, go_time(cert.not_valid_before_utc),
                    go_time(cert.not_valid_after_utc), uris, authority)


def root_record(cert_pem: str, provider: str, cluster_id: str) -> dict[str, Any]:
    """parseCARoot: a ``structs.CARoot`` for a root PEM (Active, no indexes yet)."""
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    cert = _load_cert(cert_pem)
    public = cert.public_key()
    if isinstance(public, ec.EllipticCurvePublicKey):
        key_type, key_bits = "ec", public.curve.key_size
    elif isinstance(public, rsa.RSAPublicKey):
        key_type, key_bits = "rsa", public.key_size
    else:
        raise CAConfigError("error extracting root key info: unsupported key type")
    x509_module = _crypto()
    try:
        ski = cert.extensions.get_extension_for_class(x509_module.SubjectKeyIdentifier).value
        signing_key_id = hex_string(ski.digest)
    except x509_module.ExtensionNotFound:
        signing_key_id = ""
    return {
        "ID": fingerprint(cert_pem),
        "Name": f"{provider[:1].upper()}{provider[1:]} CA Primary Cert",
        "SerialNumber": cert.serial_number & ((1 << 64) - 1),
        "SigningKeyID": signing_key_id,
        "ExternalTrustDomain": cluster_id,
        "NotBefore": go_time(cert.not_valid_before_utc),
        "NotAfter": go_time(cert.not_valid_after_utc),
        "RootCert": cert_pem,
        "IntermediateCerts": None,
        "Active": True,
        "PrivateKeyType": key_type,
        "PrivateKeyBits": key_bits,
    }
