"""Client configuration: address forms, the Go client's environment variables, precedence."""

from __future__ import annotations

from pathlib import Path

import pytest

from aioconsul import Consul
from aioconsul._core.config import resolve
from aioconsul.typing import Consistency


@pytest.mark.parametrize("address, base", [
    ("127.0.0.1:8500", "http://127.0.0.1:8500"),
    ("http://10.0.0.5:8500", "http://10.0.0.5:8500"),
    ("https://consul.example:8501", "https://consul.example:8501"),
    ("https://consul.example:8501/proxy/consul/", "https://consul.example:8501/proxy/consul"),
    (("localhost", 8600), "http://localhost:8600"),
    ("[::1]:8500", "http://[::1]:8500"),
    (("::1", 8500), "http://[::1]:8500"),
    ("consul.service", "http://consul.service:80"),
    ("https://consul.service", "https://consul.service:443"),
])
def test_address_forms(address: object, base: str) -> None:
    assert resolve(address, env={}).base_url == base  # type: ignore[arg-type]


def test_unix_socket_address() -> None:
    config = resolve("unix:///var/run/consul.sock", env={})
    assert config.unix_path == "/var/run/consul.sock"
    assert config.base_url == "http://localhost"
    assert config.address == "unix:///var/run/consul.sock"


@pytest.mark.parametrize("address, error", [
    ("ftp://host:1", ValueError), ("", ValueError), ("unix://", ValueError),
    ("host:notaport", ValueError), ("http://host:1?x=1", ValueError), (("host",), TypeError),
    (("host", "8500"), TypeError), (("host", 0), ValueError), (8500, TypeError),
    ("http://user:pw@host:1", ValueError),
])
def test_bad_addresses_are_refused(address: object, error: type[Exception]) -> None:
    with pytest.raises(error, match="^address: "):
        resolve(address, env={})  # type: ignore[arg-type]


@pytest.mark.parametrize("address, hint", [
    ("http//127.0.0.1:8500", "did you mean http://"),    # a missing ":"
    ("https//consul.example:8501", "did you mean https://"),
    ("http:/127.0.0.1:8500", "did you mean http://"),    # a missing "/"
    ("https:consul.example", "did you mean https://"),
    ("http://h:1//x", "invalid path"),
    ("h:0", "invalid port"), ("h:65536", "invalid port"), ("h:", "invalid port"),
    ("h:+80", "invalid port"), ("h:\uff18\uff15\uff10\uff10", "invalid port"),
    ("http://:8500", "no host"), (":8500", "no host"), (("", 8500), "no host"),
    ("://h:1", "unknown protocol scheme"), ("tcp://h:1", "unknown protocol scheme"),
    ("consul:8500:1", "IPv6 address goes in brackets"), ("[::1", "unclosed"),
    ("[::zz]:1", "invalid IPv6"), ("[::1]x", "invalid host"),
    ("bad host:1", "space"), ("h:1/a b", "space"), ("-h:1", "invalid host"),
    (("bad host", 1), "invalid host"), ("h:1/a<b>", "invalid path"),
])
def test_malformed_addresses_are_refused_when_the_client_is_created(address: object,
                                                                   hint: str) -> None:
    """``Consul("http//127.0.0.1:8500")`` used to become ``http://http:80//127.0.0.1:8500`` and
    fail only at the first request."""
    with pytest.raises(ValueError, match="^address: ") as info:
        Consul(address)  # type: ignore[arg-type]
    assert hint in str(info.value)


@pytest.mark.parametrize("address, base", [
    ("consul-1.dc1.internal:8500", "http://consul-1.dc1.internal:8500"),
    ("agent_1:8500", "http://agent_1:8500"), ("HTTP://Consul:8500", "http://consul:8500"),
    ("https://h:8501/", "https://h:8501"),
    ("h:8500/proxy/%7Econsul", "http://h:8500/proxy/%7Econsul"),
    ("  10.0.0.1:8500\n", "http://10.0.0.1:8500"), ("[2001:DB8::1]", "http://[2001:DB8::1]:80"),
])
def test_more_valid_address_forms_are_kept(address: str, base: str) -> None:
    assert resolve(address, env={}).base_url == base


def test_a_malformed_address_in_a_list_is_refused() -> None:
    with pytest.raises(ValueError, match="^address: .*did you mean http://"):
        Consul(["127.0.0.1:8500", "http//127.0.0.2:8500"])


def test_default_address() -> None:
    assert resolve(env={}).base_url == "http://127.0.0.1:8500"


def test_consul_http_addr_is_the_default() -> None:
    assert resolve(env={"CONSUL_HTTP_ADDR": "10.1.1.1:9500"}).base_url == "http://10.1.1.1:9500"


def test_explicit_address_beats_the_environment() -> None:
    env = {"CONSUL_HTTP_ADDR": "10.1.1.1:9500"}
    assert resolve("127.0.0.2:8500", env=env).base_url == "http://127.0.0.2:8500"


def test_consul_http_ssl_switches_a_schemeless_address_to_https() -> None:
    assert resolve(env={"CONSUL_HTTP_ADDR": "h:8501", "CONSUL_HTTP_SSL": "true"}).scheme == "https"
    assert resolve("h:8501", env={"CONSUL_HTTP_SSL": "1"}).scheme == "https"
    assert resolve("h:8501", env={"CONSUL_HTTP_SSL": "false"}).scheme == "http"


def test_explicit_http_scheme_is_not_upgraded_by_the_environment() -> None:
    assert resolve("http://h:8500", env={"CONSUL_HTTP_SSL": "true"}).scheme == "http"


def test_unparsable_ssl_flag_is_ignored_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    assert resolve("h:1", env={"CONSUL_HTTP_SSL": "yes-please"}).scheme == "http"
    assert "CONSUL_HTTP_SSL" in caplog.text


def test_token_from_environment() -> None:
    assert resolve(env={"CONSUL_HTTP_TOKEN": "env-token"}).token == "env-token"


def test_token_file_from_environment_beats_token_from_environment(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("  file-token\n")
    env = {"CONSUL_HTTP_TOKEN": "env-token", "CONSUL_HTTP_TOKEN_FILE": str(path)}
    assert resolve(env=env).token == "file-token"


def test_explicit_token_beats_every_environment_token(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("file-token")
    env = {"CONSUL_HTTP_TOKEN": "env-token", "CONSUL_HTTP_TOKEN_FILE": str(path)}
    assert resolve(token="arg-token", env=env).token == "arg-token"


def test_explicit_token_file_beats_explicit_token(tmp_path: Path) -> None:
    """api/api.go: TokenFile takes precedence over Token."""
    path = tmp_path / "token"
    path.write_text("file-token")
    assert resolve(token="arg-token", token_file=str(path), env={}).token == "file-token"


def test_unreadable_token_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="^token_file: cannot read the token file"):
        resolve(token_file=str(tmp_path / "missing"), env={})


def test_empty_token_file_means_no_token(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("\n")
    assert resolve(token_file=str(path), env={"CONSUL_HTTP_TOKEN": "x"}).token is None


def test_basic_auth_from_environment_and_argument() -> None:
    assert resolve(env={"CONSUL_HTTP_AUTH": "user:p:w"}).auth == ("user", "p:w")
    assert resolve(env={"CONSUL_HTTP_AUTH": "user"}).auth == ("user", "")
    assert resolve(auth=("a", "b"), env={"CONSUL_HTTP_AUTH": "user:pw"}).auth == ("a", "b")


def test_tls_settings_from_environment() -> None:
    env = {
        "CONSUL_HTTP_SSL_VERIFY": "false", "CONSUL_CACERT": "/ca.pem", "CONSUL_CAPATH": "/cas",
        "CONSUL_CLIENT_CERT": "/c.pem", "CONSUL_CLIENT_KEY": "/k.pem",
        "CONSUL_TLS_SERVER_NAME": "consul.internal:8501",
    }
    config = resolve(env=env)
    assert (config.verify, config.ca_file, config.ca_path, config.cert_file, config.key_file,
            config.tls_server_name) == (False, "/ca.pem", "/cas", "/c.pem", "/k.pem",
                                        "consul.internal")


def test_explicit_tls_arguments_beat_the_environment() -> None:
    env = {"CONSUL_HTTP_SSL_VERIFY": "false", "CONSUL_CACERT": "/env.pem"}
    config = resolve(verify=True, ca_file="/arg.pem", env=env)
    assert (config.verify, config.ca_file) == (True, "/arg.pem")


def test_client_cert_needs_its_key() -> None:
    with pytest.raises(ValueError, match="both client cert and client key"):
        resolve(env={"CONSUL_CLIENT_CERT": "/c.pem"})


def test_namespace_and_partition_from_environment_and_arguments() -> None:
    env = {"CONSUL_NAMESPACE": "team-a", "CONSUL_PARTITION": "p1"}
    assert (resolve(env=env).namespace, resolve(env=env).partition) == ("team-a", "p1")
    assert resolve(namespace="team-b", env=env).namespace == "team-b"


def test_consistency_per_client() -> None:
    assert resolve(consistency="stale", env={}).consistency is Consistency.STALE
    with pytest.raises(ValueError, match="^consistency: "):
        resolve(consistency="eventual", env={})


@pytest.mark.parametrize("timeout", [0, -1, "10", True])
def test_bad_timeout_is_refused(timeout: object) -> None:
    with pytest.raises(ValueError, match="^timeout: "):
        resolve(timeout=timeout, env={})  # type: ignore[arg-type]


def test_repr_never_shows_the_token_or_password() -> None:
    config = resolve("h:1", token="s3cr3t-token", auth=("user", "pa55word"), env={})
    client = Consul("h:1", token="s3cr3t-token", auth="user:pa55word")
    for text in (repr(config), str(config), repr(client), repr(client.kv)):
        assert "s3cr3t-token" not in text
        assert "pa55word" not in text


def test_empty_explicit_settings_switch_the_environment_off() -> None:
    env = {"CONSUL_HTTP_AUTH": "u:p", "CONSUL_HTTP_TOKEN": "t", "CONSUL_NAMESPACE": "n",
           "CONSUL_CACERT": "/ca.pem"}
    config = resolve(auth="", token="", namespace="", ca_file="", env=env)
    assert (config.auth, config.token, config.namespace, config.ca_file) == (None,) * 4
