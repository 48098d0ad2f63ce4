"""The built-in CA's pure pieces: configuration checks, certificates, the state table's
dump/load (agent/connect/ca/provider_consul*.go, structs/connect_ca.go)."""

from __future__ import annotations

import json
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from aioconsul.testing.connect import ca
from aioconsul.testing.connect.uri import SpiffeIDService
from aioconsul.testing.state.connect_ca import ConnectCATable
from aioconsul.testing.state.memdb import RPCError
from aioconsul.testing.state.store import Store

CLUSTER = "11111111-2222-3333-4444-555555555555"


def table() -> ConnectCATable:
    store = Store(node_name="n1", session_ttl_min=10, on_change=None)
    return ConnectCATable(store, datacenter="dc1", cluster_id=CLUSTER)


@pytest.mark.parametrize(("raw", "message"), [
    ({"LeafCertTTL": "30m"}, "leaf cert TTL must be greater or equal than 1h0m0s"),
    ({"LeafCertTTL": "9000h"}, "leaf cert TTL must be less than 8760h0m0s"),
    ({"PrivateKeyType": "dsa"}, "private key type must be either 'ec' or 'rsa'"),
    ({"PrivateKeyBits": 300}, "EC key length must be one of (224, 256, 384, 521) bits"),
    ({"PrivateKeyType": "rsa", "PrivateKeyBits": 1024}, "RSA key length must be 2048 or 4096 bits"),
    ({"RootCert": "x"}, "must provide a private key when providing a root cert"),
    ({"LeafCertTTL": "72h", "IntermediateCertTTL": "100h"},
     "Intermediate Cert TTL must be greater or equal than 3 * LeafCertTTL (>=216h0m0s)."),
])
def test_a_bad_provider_config_is_refused_in_consuls_words(raw: dict[str, object],
                                                            message: str) -> None:
    with pytest.raises(ca.CAConfigError) as info:
        ca.parse_consul_ca_config(raw)
    assert str(info.value) == message


def test_the_defaults_are_consuls() -> None:
    config = ca.parse_consul_ca_config(ca.DEFAULT_CA_CONFIG)
    assert (config.private_key_type, config.private_key_bits) == ("ec", 256)
    assert config.leaf_cert_ttl == 72 * 3600 * 10**9
    assert config.root_cert_ttl == 87600 * 3600 * 10**9


def test_the_root_is_a_ca_of_the_trust_domain() -> None:
    key = ca.generate_private_key()
    now = time.time()
    pem = ca.generate_root(key, 7, CLUSTER, 87600 * 3600 * 10**9, now)
    cert = x509.load_pem_x509_certificate(pem.encode())
    cn = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert str(cn).startswith("pri-") and str(cn).endswith(".consul.ca.11111111.consul")
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.UniformResourceIdentifier) == [f"spiffe://{CLUSTER}.consul"]
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    assert aki.key_identifier == ski
    assert cert.serial_number == 7
    days = (cert.not_valid_after_utc - cert.not_valid_before_utc).days
    assert days == 3650
    record = ca.root_record(pem, "consul", CLUSTER)
    assert record["Name"] == "Consul CA Primary Cert"
    assert (record["PrivateKeyType"], record["PrivateKeyBits"]) == ("ec", 256)
    assert record["SigningKeyID"] == ca.hex_string(ski)


def test_a_leaf_carries_the_service_uri_and_consuls_key_usages() -> None:
    t = table()
    key = ca.generate_private_key()
    csr = ca.create_csr(SpiffeIDService(t.trust_domain, "default", "dc1", "web"), key)
    _, spiffe_id = t.parse_csr(csr)
    issued = t.sign(csr, spiffe_id)
    leaf = x509.load_pem_x509_certificate(issued["CertPEM"].encode())
    root = x509.load_pem_x509_certificate(t.active_root()["RootCert"].encode())
    leaf.verify_directly_issued_by(root)
    assert issued["ServiceURI"] == f"spiffe://{CLUSTER}.consul/ns/default/dc/dc1/svc/web"
    usage = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.key_encipherment and usage.key_agreement
    assert usage.data_encipherment and not usage.key_cert_sign
    eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.SERVER_AUTH]
    assert issued["SerialNumber"] == ca.hex_string(
        leaf.serial_number.to_bytes((leaf.serial_number.bit_length() + 7) // 8, "big"))
    assert isinstance(leaf.public_key(), ec.EllipticCurvePublicKey)


def test_a_csr_from_another_datacenter_is_refused() -> None:
    t = table()
    key = ca.generate_private_key()
    csr = ca.create_csr(SpiffeIDService(t.trust_domain, "default", "dc9", "web"), key)
    _, spiffe_id = t.parse_csr(csr)
    with pytest.raises(RPCError, match="SPIFFE ID in CSR from a different datacenter: dc9, "
                                       "we are dc1"):
        t.sign(csr, spiffe_id)


def test_a_ttl_change_keeps_the_root_and_a_key_change_rotates_it() -> None:
    t = table()
    first = t.active_root()
    t.set_config({"Provider": "consul", "Config": {"LeafCertTTL": "24h"}})
    assert t.active_root()["ID"] == first["ID"]
    t.set_config({"Provider": "consul", "Config": {"PrivateKeyBits": 384}})
    _, roots, _ = t.roots()
    assert [r["Active"] for r in roots] == [False, True]
    new = roots[1]
    assert new["PrivateKeyBits"] == 384
    (cross,) = new["IntermediateCerts"]
    cross_cert = x509.load_pem_x509_certificate(cross.encode())
    cross_cert.verify_directly_issued_by(
        x509.load_pem_x509_certificate(first["RootCert"].encode()))
    assert cross_cert.public_key() == x509.load_pem_x509_certificate(
        new["RootCert"].encode()).public_key()


def test_an_unknown_provider_is_refused() -> None:
    with pytest.raises(RPCError, match='could not initialize provider: unknown CA provider "x"'):
        table().set_config({"Provider": "x", "Config": {}})


def test_dump_then_load_round_trips() -> None:
    t = table()
    t.set_config({"Provider": "consul", "Config": {"PrivateKeyBits": 384}})
    data = t.dump()
    json.dumps(data)
    other = table()
    other.load(data)
    assert other.dump() == data
    assert other.active_root() == t.active_root()
