"""Security: the token never leaks (URL, repr, exceptions, logs), and TLS and unix sockets work
for real against the dev agent serving HTTPS with a certificate the test generates."""

from __future__ import annotations

import logging
import shutil
import ssl
import subprocess
from pathlib import Path

import pytest

import aioconsul
from aioconsul import Consul
from aioconsul.testing import DevAgent

TOKEN = "5ecr3t-70k3n-do-not-log"


async def test_token_never_reaches_a_log_record(consul_agent: DevAgent,
                                                caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with Consul(consul_agent.address, token=TOKEN) as client:
        await client.kv.set("k", b"v")
        await client.kv.get("k", watch=(1, "10ms"))
        with pytest.raises(aioconsul.BadRequest) as info:
            await client.kv.get("k", namespace="x")
        for text in (repr(client), str(info.value), repr(info.value), repr(client.config)):
            assert TOKEN not in text
    assert caplog.records, "the client logs its requests at DEBUG"
    for record in caplog.records:
        assert TOKEN not in record.getMessage()
        assert TOKEN not in str(record.args)


async def test_token_never_reaches_a_transport_error_or_its_cause(unreachable: str) -> None:
    async with Consul(unreachable, token=TOKEN, retry=False) as client:
        with pytest.raises(aioconsul.ConnectError) as info:
            await client.kv.get("k")
    chain = [info.value, info.value.__cause__]
    assert all(TOKEN not in str(error) and TOKEN not in repr(error) for error in chain)


@pytest.fixture(scope="module")
def ca() -> object:
    trustme = pytest.importorskip("trustme")
    return trustme.CA()


def _server_context(ca: object, *names: str) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*names).configure_cert(context)  # type: ignore[attr-defined]
    return context


@pytest.mark.devagent
async def test_https_agent_with_a_ca_file(ca: object, tmp_path: Path) -> None:
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))  # type: ignore[attr-defined]
    async with DevAgent(ssl_context=_server_context(ca, "127.0.0.1")) as agent:
        assert agent.address.startswith("https://")
        async with Consul(agent.address, ca_file=str(ca_file)) as client:
            assert await client.kv.set("k", b"tls") is True
            entry, _ = await client.kv.get("k")
    assert entry is not None and entry["Value"] == b"tls"


@pytest.mark.devagent
async def test_https_agent_with_a_ca_path_and_server_name(ca: object, tmp_path: Path) -> None:
    """CONSUL_CAPATH is a directory of CA certificates under OpenSSL's hashed names (what
    c_rehash makes); CONSUL_TLS_SERVER_NAME verifies a name other than the one dialled."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("needs the openssl command to name the CA file by its subject hash")
    pem = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(pem))  # type: ignore[attr-defined]
    subject_hash = subprocess.run([openssl, "x509", "-subject_hash", "-noout", "-in", str(pem)],
                                  check=True, capture_output=True, text=True).stdout.strip()
    directory = tmp_path / "cas"
    directory.mkdir()
    (directory / f"{subject_hash}.0").write_bytes(pem.read_bytes())
    async with DevAgent(ssl_context=_server_context(ca, "consul.internal")) as agent:
        async with Consul(agent.address, ca_path=str(directory),
                          tls_server_name="consul.internal") as client:
            assert await client.kv.set("k", b"named") is True
        async with Consul(agent.address, ca_path=str(directory), retry=False) as client:
            with pytest.raises(aioconsul.ConnectError):  # 127.0.0.1 is not in the certificate
                await client.kv.get("k")


@pytest.mark.devagent
async def test_https_is_verified_by_default_and_ssl_verify_false_skips_it(
        ca: object, monkeypatch: pytest.MonkeyPatch) -> None:
    async with DevAgent(ssl_context=_server_context(ca, "127.0.0.1")) as agent:
        async with Consul(agent.address, retry=False) as client:
            with pytest.raises(aioconsul.ConnectError, match="certificate"):
                await client.kv.get("k")
        monkeypatch.setenv("CONSUL_HTTP_SSL_VERIFY", "false")
        async with Consul(agent.address) as client:
            assert await client.kv.set("k", b"unverified") is True


@pytest.mark.devagent
async def test_https_from_the_environment_with_a_client_certificate(
        ca: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    context = _server_context(ca, "127.0.0.1")
    ca.configure_trust(context)  # type: ignore[attr-defined]
    context.verify_mode = ssl.CERT_REQUIRED  # the agent demands a client certificate
    client_cert = ca.issue_cert("aioconsul-client")  # type: ignore[attr-defined]
    files = {name: tmp_path / f"{name}.pem" for name in ("ca", "cert", "key")}
    ca.cert_pem.write_to_path(str(files["ca"]))  # type: ignore[attr-defined]
    client_cert.cert_chain_pems[0].write_to_path(str(files["cert"]))
    client_cert.private_key_pem.write_to_path(str(files["key"]))
    async with DevAgent(ssl_context=context) as agent:
        monkeypatch.setenv("CONSUL_HTTP_ADDR", f"127.0.0.1:{agent.port}")
        monkeypatch.setenv("CONSUL_HTTP_SSL", "true")
        monkeypatch.setenv("CONSUL_CACERT", str(files["ca"]))
        async with Consul(retry=False) as client:  # no client certificate: refused
            with pytest.raises(aioconsul.TransportError):
                await client.kv.get("k")
        monkeypatch.setenv("CONSUL_CLIENT_CERT", str(files["cert"]))
        monkeypatch.setenv("CONSUL_CLIENT_KEY", str(files["key"]))
        async with Consul() as client:
            assert await client.kv.set("k", b"mtls") is True


@pytest.mark.devagent
async def test_unix_socket_agent(tmp_path: Path) -> None:
    path = tmp_path / "consul.sock"
    async with DevAgent(unix_path=str(path)) as agent:
        assert agent.address == f"unix://{path}"
        async with Consul(agent.address) as client:
            assert await client.kv.set("k", b"unix") is True
            entry, meta = await client.kv.get("k")
            assert entry is not None and entry["Value"] == b"unix" and meta["Index"] > 0
