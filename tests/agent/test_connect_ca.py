"""The dev agent's Connect CA over HTTP (agent/connect_ca_endpoint.go,
agent/consul/connect_ca_endpoint.go, AgentConnectCALeafCert in agent/agent_endpoint.go)."""

from __future__ import annotations

import asyncio
import datetime
import json
import time
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from aioconsul.testing import DevAgent
from aioconsul.testing.acl.authorizer import Permission
from aioconsul.testing.connect.leafcert import parse_cert_time
from aioconsul.testing.endpoints.connect_ca import leaf_manager

from .conftest import Api, GrantResolver

ROTATE = json.dumps({"Provider": "consul",
                     "Config": {"PrivateKeyType": "rsa", "PrivateKeyBits": 2048}})


def cert_of(pem: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem.encode())


async def test_the_roots_list_the_one_active_root_of_the_trust_domain(api: Api) -> None:
    reply = await api.get("/v1/connect/ca/roots")
    assert reply.status == 200
    body = reply.json()
    (root,) = body["Roots"]
    assert root["Active"] and body["ActiveRootID"] == root["ID"]
    assert body["TrustDomain"] == root["ExternalTrustDomain"] + ".consul"
    assert root["Name"] == "Consul CA Primary Cert"
    assert (root["PrivateKeyType"], root["PrivateKeyBits"]) == ("ec", 256)
    assert reply.index == root["ModifyIndex"]
    assert "SigningKey" not in root and "RotatedOutAt" not in root


async def test_pem_true_answers_the_chain_and_a_bad_pem_is_400(api: Api) -> None:
    """ConnectCARoots: application/pem-certificate-chain; strconv.ParseBool or 400."""
    roots = (await api.get("/v1/connect/ca/roots")).json()
    reply = await api.get("/v1/connect/ca/roots?pem=true")
    assert reply.headers["Content-Type"] == "application/pem-certificate-chain"
    assert reply.text == roots["Roots"][0]["RootCert"]
    bad = await api.get("/v1/connect/ca/roots?pem=maybe")
    assert (bad.status, bad.text) == (400, "The 'pem' query parameter must be a boolean value")


async def test_the_default_configuration_is_the_dev_agents(api: Api) -> None:
    reply = await api.get("/v1/connect/ca/configuration")
    assert reply.json() == {
        "Provider": "consul",
        "Config": {"LeafCertTTL": "72h", "IntermediateCertTTL": "8760h",
                   "RootCertTTL": "87600h"},
        "State": None, "ForceWithoutCrossSigning": False,
        "CreateIndex": reply.json()["CreateIndex"], "ModifyIndex": reply.json()["CreateIndex"],
    }


async def test_a_leaf_verifies_against_the_root_and_its_key_matches(api: Api) -> None:
    roots = (await api.get("/v1/connect/ca/roots")).json()
    reply = await api.get("/v1/agent/connect/ca/leaf/web")
    assert reply.status == 200
    leaf = reply.json()
    cert = cert_of(leaf["CertPEM"])
    root = cert_of(roots["Roots"][0]["RootCert"])
    cert.verify_directly_issued_by(root)
    now = datetime.datetime.now(datetime.timezone.utc)
    assert cert.not_valid_before_utc <= now < cert.not_valid_after_utc
    assert root.not_valid_before_utc <= cert.not_valid_before_utc + datetime.timedelta(minutes=1)
    assert cert.not_valid_after_utc - cert.not_valid_before_utc == datetime.timedelta(hours=72)
    uri = f"spiffe://{roots['TrustDomain']}/ns/default/dc/dc1/svc/web"
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.UniformResourceIdentifier) == [uri]
    assert (leaf["Service"], leaf["ServiceURI"]) == ("web", uri)
    key = serialization.load_pem_private_key(leaf["PrivateKeyPEM"].encode(), None)
    assert key.public_key() == cert.public_key()
    assert reply.index == leaf["ModifyIndex"]
    assert reply.headers["X-Cache"] == "MISS"


async def test_a_cached_leaf_is_the_same_until_it_must_change(api: Api) -> None:
    first = await api.get("/v1/agent/connect/ca/leaf/web")
    again = await api.get("/v1/agent/connect/ca/leaf/web")
    assert again.json()["SerialNumber"] == first.json()["SerialNumber"]
    older = await api.get(f"/v1/agent/connect/ca/leaf/web?index={first.index - 1}")
    assert older.headers["X-Cache"] == "HIT" and "Age" in older.headers


async def test_a_blocked_leaf_read_returns_a_new_cert_after_a_rotation(
    api: Api, consul_agent: DevAgent
) -> None:
    """leafcert attemptLeafRefresh: a root change re-issues the leaf after a jittered delay
    (here 0, as Consul's TestOverrideCAChangeInitialDelay does)."""
    consul_agent.backend.connect_ca.ca_change_jitter = 0.0
    old = await api.get("/v1/agent/connect/ca/leaf/web")
    blocked = asyncio.ensure_future(
        api.get(f"/v1/agent/connect/ca/leaf/web?index={old.index}&wait=30s"))
    await asyncio.sleep(0.05)
    assert not blocked.done()
    assert (await api.put("/v1/connect/ca/configuration", ROTATE)).status == 200
    new = await blocked
    assert new.index > old.index
    assert new.json()["SerialNumber"] != old.json()["SerialNumber"]
    roots = (await api.get("/v1/connect/ca/roots")).json()
    old_root, new_root = roots["Roots"]
    assert (old_root["Active"], new_root["Active"]) == (False, True)
    assert roots["ActiveRootID"] == new_root["ID"]
    assert new_root["PrivateKeyType"] == "rsa"
    chain = new.json()["CertPEM"]
    leaf_pem, cross_pem = chain.split("-----END CERTIFICATE-----\n")[:2]
    leaf = cert_of(leaf_pem + "-----END CERTIFICATE-----\n")
    leaf.verify_directly_issued_by(cert_of(new_root["RootCert"]))
    cross = cert_of(cross_pem + "-----END CERTIFICATE-----\n")
    assert cross_pem.strip() + "\n-----END CERTIFICATE-----\n" == new_root["IntermediateCerts"][0]
    cross.verify_directly_issued_by(cert_of(old_root["RootCert"]))


async def test_a_ttl_change_keeps_the_root(api: Api) -> None:
    before = (await api.get("/v1/connect/ca/roots")).json()
    body = json.dumps({"Provider": "consul", "Config": {"LeafCertTTL": "24h"}})
    assert (await api.put("/v1/connect/ca/configuration", body)).status == 200
    after = (await api.get("/v1/connect/ca/roots")).json()
    assert after["ActiveRootID"] == before["ActiveRootID"] and len(after["Roots"]) == 1
    config = (await api.get("/v1/connect/ca/configuration")).json()
    assert config["Config"] == {"LeafCertTTL": "24h"}
    assert config["ModifyIndex"] > config["CreateIndex"]


async def test_the_roots_block_until_a_rotation(api: Api) -> None:
    first = await api.get("/v1/connect/ca/roots")
    blocked = asyncio.ensure_future(api.get(f"/v1/connect/ca/roots?index={first.index}"))
    await asyncio.sleep(0.05)
    assert not blocked.done()
    assert (await api.put("/v1/connect/ca/configuration", ROTATE)).status == 200
    reply = await blocked
    assert reply.index > first.index and len(reply.json()["Roots"]) == 2


async def test_bad_configurations_are_refused_in_consuls_words(api: Api) -> None:
    """UpdateConfiguration / ParseConsulCAConfig texts, as RPC errors (500)."""
    cases = [
        ({"Provider": "nope", "Config": {}},
         (500, 'could not initialize provider: unknown CA provider "nope"')),
        ({"Provider": "consul", "Config": {"LeafCertTTL": "10m"}},
         (500, "error configuring provider: leaf cert TTL must be greater or equal than 1h0m0s")),
        ({"Provider": "consul", "Config": {}, "State": {"x": "y"}},
         (400, "Provider State is read-only. It must be omitted or identical to the current "
               "value")),
    ]
    for body, expected in cases:
        reply = await api.put("/v1/connect/ca/configuration", json.dumps(body))
        assert (reply.status, reply.text) == expected
    bad = await api.put("/v1/connect/ca/configuration", "{")
    assert bad.status == 400 and bad.text.startswith("Request decode failed: ")


async def test_the_agent_roots_come_from_its_cache(api: Api) -> None:
    first = await api.get("/v1/agent/connect/ca/roots")
    second = await api.get("/v1/agent/connect/ca/roots")
    assert (first.headers["X-Cache"], second.headers["X-Cache"]) == ("MISS", "HIT")
    assert first.json() == (await api.get("/v1/connect/ca/roots")).json()


async def test_the_configuration_needs_operator_write(api: Api, grants: GrantResolver) -> None:
    """ConfigurationGet checks operator:write (not read), as since Consul 1.8.6."""
    reader = grants.grant("reader", {Permission.OPERATOR_READ: ("",)})
    writer = grants.grant("writer", {Permission.OPERATOR_WRITE: ("",)})
    denied = await api.get("/v1/connect/ca/configuration", headers=reader)
    assert denied.status == 403
    assert "lacks permission 'operator:write'" in denied.text
    assert (await api.get("/v1/connect/ca/configuration", headers=writer)).status == 200
    assert (await api.get("/v1/connect/ca/roots")).status == 200  # Roots checks no ACL


async def test_a_leaf_needs_service_write_on_the_service(api: Api,
                                                        grants: GrantResolver) -> None:
    """AuthorizeAndSignCertificate: ServiceWriteAllowed on the CSR's service."""
    other = grants.grant("other", {Permission.SERVICE_WRITE: ("db",)})
    denied = await api.get("/v1/agent/connect/ca/leaf/web", headers=other)
    assert denied.status == 403
    assert "lacks permission 'service:write' on \"web\"" in denied.text
    assert (await api.get("/v1/agent/connect/ca/leaf/db", headers=other)).status == 200


async def test_with_connect_disabled_the_ca_answers_500() -> None:
    async with DevAgent(connect_enabled=False) as agent, aiohttp.ClientSession() as http:
        for path in ("/v1/connect/ca/roots", "/v1/connect/ca/configuration",
                     "/v1/agent/connect/ca/roots"):
            async with http.get(agent.address + path) as resp:
                assert resp.status == 500
                assert await resp.text() == (
                    "Connect must be enabled in order to use this endpoint")


# -- leaf renewal on an injected clock (agent/leafcert) -------------------------------------


class ManualClock:
    """A wall clock that moves only when told; a sleeper wakes once the clock passes its time."""

    def __init__(self, now: float) -> None:
        self.now = now
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []

    def __call__(self) -> float:
        return self.now

    @property
    def sleeping(self) -> int:
        return len(self._sleepers)

    async def sleep(self, seconds: float) -> None:
        entry = (self.now + seconds, asyncio.get_running_loop().create_future())
        self._sleepers.append(entry)
        try:
            await entry[1]
        finally:
            self._sleepers.remove(entry)

    def advance_to(self, moment: float) -> None:
        self.now = moment
        for when, fut in list(self._sleepers):
            if when <= moment and not fut.done():
                fut.set_result(None)


@pytest.fixture
def leaf_clock(consul_agent: DevAgent) -> Iterator[ManualClock]:
    """The CA's wall clock (leaves are signed with it) and the leaf manager's sleep, both on
    one manual clock that starts at a whole second (certificates keep whole seconds)."""
    table = consul_agent.backend.connect_ca
    manager = leaf_manager(consul_agent.backend)
    saved = table.wall_clock, manager.sleep, manager.stagger
    clock = ManualClock(float(int(time.time())))
    table.wall_clock, manager.sleep = clock, clock.sleep
    yield clock
    table.wall_clock, manager.sleep, manager.stagger = saved


def lifetime_of(leaf: dict[str, Any]) -> tuple[float, float]:
    after = parse_cert_time(leaf["ValidAfter"])
    return after, parse_cert_time(leaf["ValidBefore"]) - after


async def until_sleeping(clock: ManualClock) -> None:
    while not clock.sleeping:
        await asyncio.sleep(0.005)


async def test_a_blocked_leaf_read_renews_when_the_clock_passes_the_renewal_point(
    api: Api, consul_agent: DevAgent, leaf_clock: ManualClock
) -> None:
    """attemptLeafRefresh: a blocking read on a valid leaf waits until expiresAt (here 75 % of
    the lifetime: RandomStagger drew 0.5 of the 60-90 % window), then generateNewLeaf signs a
    new certificate for a new private key (connect.GeneratePrivateKey on every renewal)."""
    leaf_manager(consul_agent.backend).stagger = lambda: 0.5
    old = await api.get("/v1/agent/connect/ca/leaf/web")
    valid_after, lifetime = lifetime_of(old.json())
    renewal = valid_after + 0.75 * lifetime
    blocked = asyncio.ensure_future(
        api.get(f"/v1/agent/connect/ca/leaf/web?index={old.index}&wait=60s"))
    await until_sleeping(leaf_clock)
    leaf_clock.advance_to(renewal - 1)
    assert leaf_clock.sleeping == 1 and not blocked.done()
    leaf_clock.advance_to(renewal)
    new = await blocked
    assert new.index > old.index
    fresh, stale = new.json(), old.json()
    assert fresh["SerialNumber"] != stale["SerialNumber"]
    assert fresh["PrivateKeyPEM"] != stale["PrivateKeyPEM"]
    key = serialization.load_pem_private_key(fresh["PrivateKeyPEM"].encode(), None)
    assert key.public_key() == cert_of(fresh["CertPEM"]).public_key()
    assert parse_cert_time(fresh["ValidAfter"]) == renewal - 60  # signed now, backdated 1 min


async def test_a_leaf_is_not_renewed_before_60_percent_of_its_lifetime(
    api: Api, consul_agent: DevAgent, leaf_clock: ManualClock
) -> None:
    """calculateSoftExpiry: the window opens at 60 %; even the earliest stagger (0) waits for it,
    so a blocking read that times out before then answers the same leaf."""
    leaf_manager(consul_agent.backend).stagger = lambda: 0.0
    old = await api.get("/v1/agent/connect/ca/leaf/web")
    valid_after, lifetime = lifetime_of(old.json())
    leaf_clock.advance_to(valid_after + 0.6 * lifetime - 1)
    same = await api.get(f"/v1/agent/connect/ca/leaf/web?index={old.index}&wait=100ms")
    assert same.json()["SerialNumber"] == old.json()["SerialNumber"]
    assert same.index == old.index
    leaf_clock.advance_to(valid_after + 0.6 * lifetime + 1)
    renewed = await api.get(f"/v1/agent/connect/ca/leaf/web?index={old.index}&wait=100ms")
    assert renewed.json()["SerialNumber"] != old.json()["SerialNumber"]


async def test_a_leaf_is_renewed_at_once_past_90_percent_of_its_lifetime(
    api: Api, consul_agent: DevAgent, leaf_clock: ManualClock
) -> None:
    """calculateSoftExpiry: up to 90 % even the latest stagger leaves a moment to wait; past it
    both ends of the window are now, so the next blocking read renews at once."""
    leaf_manager(consul_agent.backend).stagger = lambda: 0.999
    old = await api.get("/v1/agent/connect/ca/leaf/web")
    valid_after, lifetime = lifetime_of(old.json())
    leaf_clock.advance_to(valid_after + 0.9 * lifetime - 10)
    same = await api.get(f"/v1/agent/connect/ca/leaf/web?index={old.index}&wait=100ms")
    assert same.json()["SerialNumber"] == old.json()["SerialNumber"]
    leaf_clock.advance_to(valid_after + 0.9 * lifetime + 1)
    renewed = await api.get(f"/v1/agent/connect/ca/leaf/web?index={old.index}&wait=60s")
    assert renewed.json()["SerialNumber"] != old.json()["SerialNumber"]
    assert renewed.index > old.index
