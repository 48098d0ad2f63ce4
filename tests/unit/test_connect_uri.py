"""SPIFFE IDs as Consul parses and formats them (agent/connect/uri*.go, uri_*_test.go)."""

from __future__ import annotations

import pytest

from aioconsul.testing.connect.uri import (
    CertURIError,
    SpiffeIDAgent,
    SpiffeIDMeshGateway,
    SpiffeIDServer,
    SpiffeIDService,
    SpiffeIDSigning,
    parse_cert_uri,
    spiffe_id_signing_for_cluster,
)

TD = "11111111-2222-3333-4444-555555555555.consul"


@pytest.mark.parametrize(("uri", "expected"), [
    (f"spiffe://{TD}/ns/default/dc/dc1/svc/web",
     SpiffeIDService(TD, "default", "dc1", "web")),
    (f"spiffe://{TD}/ap/eng/ns/ops/dc/dc1/svc/db",
     SpiffeIDService(TD, "ops", "dc1", "db", partition="eng")),
    (f"spiffe://{TD}/ns/default/dc/dc1/svc/w%20b", SpiffeIDService(TD, "default", "dc1", "w b")),
    (f"spiffe://{TD}/agent/client/dc/dc1/id/node-1", SpiffeIDAgent(TD, "dc1", "node-1")),
    (f"spiffe://{TD}/gateway/mesh/dc/dc1", SpiffeIDMeshGateway(TD, "dc1")),
    (f"spiffe://{TD}/agent/server/dc/dc1", SpiffeIDServer(TD, "dc1")),
    (f"spiffe://{TD}", SpiffeIDSigning("11111111-2222-3333-4444-555555555555", "consul")),
])
def test_a_connect_uri_parses_to_its_kind_and_formats_back(uri: str, expected: object) -> None:
    parsed = parse_cert_uri(uri)
    assert parsed == expected
    assert parsed.uri() == uri


def test_a_default_partition_is_written_without_the_ap_prefix() -> None:
    """uri_service.go uriPath: /ap/<partition> only for a non-default (lower-cased) one."""
    assert SpiffeIDService(TD, "", "dc1", "web").uri() == f"spiffe://{TD}/ns/default/dc/dc1/svc/web"
    assert SpiffeIDService(TD, "default", "dc1", "web", partition="Eng").uri() == (
        f"spiffe://{TD}/ap/eng/ns/default/dc/dc1/svc/web")


@pytest.mark.parametrize(("uri", "message"), [
    ("https://x.consul/ns/default/dc/dc1/svc/web", "SPIFFE ID must have 'spiffe' scheme"),
    (f"spiffe://{TD}/ns/default/svc/web",
     f"SPIFFE ID is not in the expected format: spiffe://{TD}/ns/default/svc/web"),
    ("spiffe://nodot", "SPIFFE ID is not in the expected format: spiffe://nodot"),
    (f"spiffe://{TD}/ns/x%zz/dc/dc1/svc/web",
     f'parse "spiffe://{TD}/ns/x%zz/dc/dc1/svc/web": invalid URL escape "%zz"'),
])
def test_what_is_no_connect_uri_is_refused_in_consuls_words(uri: str, message: str) -> None:
    with pytest.raises(CertURIError) as info:
        parse_cert_uri(uri)
    assert str(info.value) == message


def test_the_signing_id_signs_its_own_trust_domain_only() -> None:
    """uri_signing.go CanSign: a case-folded host match; agents never."""
    signing = spiffe_id_signing_for_cluster("11111111-2222-3333-4444-555555555555")
    assert signing.host() == TD
    assert signing.can_sign(SpiffeIDService(TD.upper(), "default", "dc1", "web"))
    assert not signing.can_sign(SpiffeIDService("other.consul", "default", "dc1", "web"))
    assert not signing.can_sign(SpiffeIDAgent(TD, "dc1", "n1"))
    assert signing.can_sign(signing)
