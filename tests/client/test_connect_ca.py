"""``client.connect.ca`` and ``client.agent.connect.roots``/``leaf`` against the dev agent
(``api/connect_ca.go``, ``api/agent.go`` ConnectCARoots/ConnectCALeaf semantics)."""

from __future__ import annotations

import asyncio

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from aioconsul import Consul
from aioconsul.testing import DevAgent


async def test_roots_and_the_pem_bundle(consul: Consul) -> None:
    roots, meta = await consul.connect.ca.roots()
    (root,) = roots["Roots"]
    assert root["Active"] and roots["ActiveRootID"] == root["ID"]
    assert meta["Index"] == root["ModifyIndex"]
    pem, _ = await consul.connect.ca.roots_pem()
    assert pem == root["RootCert"]


async def test_get_and_set_config(consul: Consul) -> None:
    config, _ = await consul.connect.ca.get_config()
    assert config["Provider"] == "consul"
    assert config["Config"]["LeafCertTTL"] == "72h"
    await consul.connect.ca.set_config("consul", {**config["Config"], "LeafCertTTL": "24h"})
    config, _ = await consul.connect.ca.get_config()
    assert config["Config"]["LeafCertTTL"] == "24h"


async def test_agent_roots_are_the_clusters(consul: Consul) -> None:
    agent_roots, meta = await consul.agent.connect.roots()
    roots, _ = await consul.connect.ca.roots()
    assert agent_roots == roots
    assert "CacheHit" in meta


async def test_a_leaf_verifies_against_the_root_and_carries_its_spiffe_id(
    consul: Consul,
) -> None:
    roots, _ = await consul.connect.ca.roots()
    leaf, meta = await consul.agent.connect.leaf("web")
    cert = x509.load_pem_x509_certificate(leaf["CertPEM"].encode())
    cert.verify_directly_issued_by(
        x509.load_pem_x509_certificate(roots["Roots"][0]["RootCert"].encode()))
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    uri = f"spiffe://{roots['TrustDomain']}/ns/default/dc/dc1/svc/web"
    assert san.get_values_for_type(x509.UniformResourceIdentifier) == [uri]
    key = serialization.load_pem_private_key(leaf["PrivateKeyPEM"].encode(), None)
    assert key.public_key() == cert.public_key()
    assert meta["Index"] == leaf["ModifyIndex"]


@pytest.mark.devagent
async def test_a_blocking_leaf_read_returns_the_reissued_leaf_after_a_rotation(
    consul: Consul, consul_agent: DevAgent
) -> None:
    consul_agent.backend.connect_ca.ca_change_jitter = 0.0  # leafcert's 30 s jitter window
    old, meta = await consul.agent.connect.leaf("web")
    waiting = asyncio.ensure_future(consul.agent.connect.leaf("web", watch=(meta, "30s")))
    await asyncio.sleep(0.05)
    await consul.connect.ca.set_config("consul", {"PrivateKeyType": "ec",
                                                  "PrivateKeyBits": 384})
    new, new_meta = await waiting
    assert new_meta["Index"] > meta["Index"]
    assert new["SerialNumber"] != old["SerialNumber"]
    roots, _ = await consul.connect.ca.roots()
    assert [r["Active"] for r in roots["Roots"]] == [False, True]
    leaf = x509.load_pem_x509_certificate(new["CertPEM"].encode())
    leaf.verify_directly_issued_by(
        x509.load_pem_x509_certificate(roots["Roots"][1]["RootCert"].encode()))


async def test_set_config_checks_its_inputs(consul: Consul) -> None:
    with pytest.raises(ValueError):
        await consul.connect.ca.set_config("", {})
    with pytest.raises(TypeError):
        await consul.connect.ca.set_config("consul", ["LeafCertTTL"])  # type: ignore[arg-type]
