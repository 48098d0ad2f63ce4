"""The client's configuration: explicit arguments first, then the environment (as Go reads it).

:func:`resolve` turns the arguments of :class:`aioconsul.Consul` and an environment mapping into one
frozen :class:`Config`. It reads nothing but that mapping and, when one is named, the token file.
It must never let the token or the basic-auth password into ``repr()`` or any message.

A token that can change (a provider callable, a token file) is described here, never fetched
or watched here: :mod:`aioconsul._core.tokens` does that for the client's requests.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..typing import Consistency
from . import normalize
from .retry import DEFAULT_RETRY, NO_RETRY, Retry

__all__ = ["Address", "Config", "DEFAULT_TIMEOUT", "Target", "TokenProvider", "resolve"]

log = logging.getLogger("aioconsul")

#: An agent address: ``"host:port"``, ``"http(s)://host:port[/prefix]"``, ``"unix:///path"`` or
#: ``("host", port)``; or a list of them to fail over between.
Address = str | tuple[str, int] | list[str | tuple[str, int]]

#: What ``Consul(token=...)`` takes besides a str: a callable (sync or async) returning the
#: token, or None (or "") for none; it is asked for the first request and again on a 403 "ACL
#: not found".
TokenProvider = Callable[[], "str | Awaitable[str | None] | None"]

DEFAULT_ADDRESS = "127.0.0.1:8500"
#: Total timeout of a request that does not block, in seconds.
DEFAULT_TIMEOUT = 60.0

_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_FALSE = {"0", "f", "F", "FALSE", "false", "False"}


def _parse_bool(text: str, name: str) -> bool | None:
    """Go's strconv.ParseBool; an unparsable value is logged and ignored, as the Go client does."""
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    log.warning("%s: could not parse %r as a boolean, ignoring it", name, text)
    return None


@dataclass(frozen=True)
class Target:
    """One agent address: scheme, host and port (or a unix socket), and a path prefix."""

    scheme: str = "http"
    host: str = "127.0.0.1"
    port: int | None = 8500
    unix_path: str | None = None
    path_prefix: str = ""

    @property
    def base_url(self) -> str:
        """The URL every request path is appended to (``http://localhost`` for a unix socket)."""
        if self.unix_path is not None:
            return f"{self.scheme}://localhost{self.path_prefix}"
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = f":{self.port}" if self.port is not None else ""
        return f"{self.scheme}://{host}{port}{self.path_prefix}"

    @property
    def address(self) -> str:
        """The agent's address as shown in messages."""
        if self.unix_path is not None:
            return f"unix://{self.unix_path}"
        return self.base_url


@dataclass(frozen=True)
class Config:
    """Where the agents are and how to talk to them. The token and password never appear in
    repr. ``targets`` holds one address, or several to fail over between, in order.

    ``token`` is the fixed token, or the token file's content when the client was made;
    ``token_provider`` the callable that gives the token instead (then ``token`` is None);
    ``token_file`` the token file that is watched for a new token (explicit or from
    ``CONSUL_HTTP_TOKEN_FILE``)."""

    targets: tuple[Target, ...] = (Target(),)
    token: str | None = field(default=None, repr=False)
    token_provider: TokenProvider | None = field(default=None, repr=False, compare=False)
    token_file: str | None = None
    auth: tuple[str, str] | None = field(default=None, repr=False)
    dc: str | None = None
    namespace: str | None = None
    partition: str | None = None
    consistency: Consistency = Consistency.DEFAULT
    verify: bool = True
    ca_file: str | None = None
    ca_path: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    tls_server_name: str | None = None
    timeout: float | None = DEFAULT_TIMEOUT
    retry: Retry = DEFAULT_RETRY
    #: The wait, in nanoseconds, of blocking reads that give none (Go's ``Config.WaitTime``);
    #: None leaves it to the agent (its ``default_query_time``, 5 minutes unless configured).
    wait: int | None = None
    #: aiohttp ``TraceConfig`` objects for the ClientSession the client creates.
    trace_configs: tuple[Any, ...] = field(default=(), repr=False, compare=False)

    @property
    def scheme(self) -> str:
        return self.targets[0].scheme

    @property
    def unix_path(self) -> str | None:
        return self.targets[0].unix_path

    @property
    def base_url(self) -> str:
        """The first agent's base URL."""
        return self.targets[0].base_url

    @property
    def address(self) -> str:
        """The first agent's address as shown in messages."""
        return self.targets[0].address


# A host name (RFC 1123 labels; "_" allowed, as Docker and DNS SRV names use it) or an IPv4
# address; an IPv6 address is checked by the ipaddress module instead.
_HOST_NAME = re.compile(r"(?!-)[A-Za-z0-9_-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9_-]{1,63}(?<!-))*\.?")
# What a path prefix may hold: RFC 3986 path characters (percent escapes included).
_PATH = re.compile(r"(/[A-Za-z0-9._~!$&'()*+,;=:@%-]+)*/?")
_SCHEMES = ("http", "https")


def _check_host(host: str, address: Any, name: str) -> str:
    """``host`` if it is a host name or an IP address (brackets of IPv6 removed)."""
    bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not bare:
        raise ValueError(f"{name}: no host in {address!r}")
    if ":" in bare:
        try:
            ipaddress.IPv6Address(bare)
        except ValueError:
            raise ValueError(f"{name}: invalid IPv6 address {bare!r} in {address!r}") from None
        return bare
    if host != bare or not _HOST_NAME.fullmatch(bare):
        raise ValueError(f"{name}: invalid host {host!r} in {address!r}")
    return bare.lower()


def _check_port(text: str, address: Any, name: str) -> int:
    if not text.isascii() or not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError(f"{name}: invalid port {text!r} in {address!r} (expected 1 to 65535)")
    return int(text)


def _typo_hint(text: str) -> str:
    """A hint for the usual slips of a scheme: ``http//h``, ``http:/h``, ``https:h``."""
    match = re.match(r"(https?|unix)(:/?|//)(?!/)", text, re.IGNORECASE)
    return f" (did you mean {match.group(1).lower()}://...?)" if match else ""


def parse_address(address: Any, name: str = "address") -> dict[str, Any]:
    """Split an address into scheme (``None`` when it gives none), host, port, path, socket.

    Refuses, with a ValueError naming ``name``, anything that is not one of the documented
    forms: an unknown scheme, a missing or malformed host, a port that is not 1 to 65535, a
    query, fragment or user, a path with empty segments (``http//h:1`` reads as host ``http``
    and path ``//h:1``) or characters a URL path cannot hold.
    """
    if isinstance(address, tuple):
        if len(address) != 2 or not isinstance(address[0], str) or isinstance(address[1], bool) \
                or not isinstance(address[1], int):
            raise TypeError(f"{name}: expected (host: str, port: int), got {address!r}")
        host, number = address
        if not 0 < number < 65536:
            raise ValueError(f"{name}: invalid port {number!r} in {address!r} (expected 1 to "
                             f"65535)")
        return {"scheme": None, "host": _check_host(host, address, name), "port": number,
                "path_prefix": "", "unix_path": None}
    if not isinstance(address, str):
        raise TypeError(f"{name}: expected a str or (host, port), got {type(address).__name__}")
    text = address.strip()
    if not text:
        raise ValueError(f"{name}: must not be empty")
    if any(char.isspace() or ord(char) < 0x20 or ord(char) == 0x7F for char in text):
        raise ValueError(f"{name}: contains a space or control character: {address!r}")
    if text.lower().startswith("unix://"):
        path = text[len("unix://"):]
        if not path:
            raise ValueError(f"{name}: a unix address needs a socket path: {address!r}")
        return {"scheme": None, "host": "localhost", "port": None, "path_prefix": "",
                "unix_path": path}
    scheme: str | None = None
    if "://" in text:
        scheme, _, rest = text.partition("://")
        scheme = scheme.lower()
        if scheme not in _SCHEMES:
            raise ValueError(f"{name}: unknown protocol scheme {scheme!r} in {address!r} "
                             f"(expected http, https or unix)")
    else:
        rest = text
    if "?" in rest or "#" in rest or "@" in rest:
        raise ValueError(f"{name}: an address takes no query, fragment or user: {address!r}")
    netloc, slash, path = rest.partition("/")
    hint = "" if scheme else _typo_hint(text)
    port: int | None = None
    if netloc.startswith("["):
        end = netloc.find("]")
        if end < 0:
            raise ValueError(f"{name}: unclosed '[' in {address!r}")
        host, after = netloc[:end + 1], netloc[end + 1:]
        if after:
            if not after.startswith(":"):
                raise ValueError(f"{name}: invalid host {netloc!r} in {address!r}")
            port = _check_port(after[1:], address, name)
    elif netloc.count(":") > 1:
        raise ValueError(f"{name}: an IPv6 address goes in brackets, as in [::1]:8500: "
                         f"{address!r}")
    else:
        host, colon, port_text = netloc.partition(":")
        if colon:
            try:
                port = _check_port(port_text, address, name)
            except ValueError as exc:
                raise ValueError(f"{exc}{hint}") from None
    host = _check_host(host, address, name)
    prefix = "/" + path if slash else ""
    if not _PATH.fullmatch(prefix) or "//" in prefix:
        raise ValueError(f"{name}: invalid path {prefix!r} in {address!r}{hint}")
    return {"scheme": scheme, "host": host, "port": port, "path_prefix": prefix.rstrip("/"),
            "unix_path": None}


def _header_safe(text: str) -> bool:
    """No control character that could end or split an HTTP header (CR, LF, NUL, ...)."""
    return not any(ord(char) < 0x20 or ord(char) == 0x7F for char in text)


def _read_token_file(path: str, name: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as handle:
            token = handle.read().strip()
    except OSError as exc:
        raise ValueError(f"{name}: cannot read the token file {path!r}: {exc.strerror}") from None
    return token or None


def _optional_str(value: Any, name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"{name}: expected a str, got {type(value).__name__}")
    return value or None


def resolve(
    address: Address | None = None,
    *,
    token: str | TokenProvider | None = None,
    token_file: str | None = None,
    consistency: Any = None,
    dc: str | None = None,
    namespace: str | None = None,
    partition: str | None = None,
    auth: str | Sequence[str] | None = None,
    verify: bool | None = None,
    ca_file: str | None = None,
    ca_path: str | None = None,
    cert_file: str | None = None,
    key_file: str | None = None,
    tls_server_name: str | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
    retry: Retry | bool | None = None,
    wait: Any = None,
    trace_configs: Any = None,
    env: Mapping[str, str] | None = None,
) -> Config:
    """Build a :class:`Config`: every explicit argument beats its environment variable."""
    env = os.environ if env is None else env

    def pick(value: Any, var: str) -> Any:
        # An explicit "" switches a setting off even when its variable is set.
        return (value or None) if value is not None else (env.get(var) or None)

    given = address if address is not None else env.get("CONSUL_HTTP_ADDR") or DEFAULT_ADDRESS
    if isinstance(given, list):
        if not given:
            raise ValueError("address: the list of addresses is empty")
        addresses = [parse_address(item) for item in given]
        if len(addresses) > 1 and any(item["unix_path"] for item in addresses):
            raise ValueError("address: a unix socket cannot be one of several addresses")
    else:
        addresses = [parse_address(given)]
    ssl_env = env.get("CONSUL_HTTP_SSL")
    use_ssl = _parse_bool(ssl_env, "CONSUL_HTTP_SSL") if ssl_env else None
    targets = []
    for parsed in addresses:
        scheme = parsed.pop("scheme") or ("https" if use_ssl else "http")
        if parsed["port"] is None and parsed["unix_path"] is None:
            parsed["port"] = 443 if scheme == "https" else 80
        targets.append(Target(scheme=scheme, **parsed))

    # Go's precedence: explicit token file > explicit token > CONSUL_HTTP_TOKEN_FILE > env token.
    # A token file, either one, is watched for a new token; a callable token is a provider.
    resolved_token: str | None = None
    provider: TokenProvider | None = None
    watched: str | None = None
    if token_file is not None:
        if callable(token):
            raise ValueError("token, token_file: give a token provider or a token file, not "
                             "both")
        if not isinstance(token_file, str):
            raise TypeError(f"token_file: expected a str, got {type(token_file).__name__}")
        resolved_token = _read_token_file(token_file, "token_file")
        watched = token_file
    elif callable(token):
        provider = token
    elif token is not None:
        if not isinstance(token, str):
            raise TypeError(f"token: expected a str or a callable returning one, got "
                            f"{type(token).__name__}")
        resolved_token = token or None
    elif env.get("CONSUL_HTTP_TOKEN_FILE"):
        watched = env["CONSUL_HTTP_TOKEN_FILE"]
        resolved_token = _read_token_file(watched, "CONSUL_HTTP_TOKEN_FILE")
    else:
        resolved_token = env.get("CONSUL_HTTP_TOKEN") or None

    if resolved_token is not None and not _header_safe(resolved_token):
        raise ValueError("token: contains a control character (CR, LF...), refused")

    auth_value = pick(auth, "CONSUL_HTTP_AUTH")
    resolved_auth: tuple[str, str] | None = None
    if isinstance(auth_value, str):
        if auth_value:
            user, _, password = auth_value.partition(":")
            resolved_auth = (user, password)
    elif auth_value is not None:
        pair = tuple(auth_value)
        if len(pair) != 2 or not all(isinstance(part, str) for part in pair):
            raise TypeError("auth: expected 'user:password' or (user, password)")
        resolved_auth = (pair[0], pair[1])
    if resolved_auth is not None and not all(_header_safe(part) for part in resolved_auth):
        raise ValueError("auth: contains a control character (CR, LF...), refused")

    if verify is None:
        verify_env = env.get("CONSUL_HTTP_SSL_VERIFY")
        verify = _parse_bool(verify_env, "CONSUL_HTTP_SSL_VERIFY") if verify_env else None
    elif not isinstance(verify, bool):
        raise TypeError(f"verify: expected a bool, got {type(verify).__name__}")

    cert = pick(cert_file, "CONSUL_CLIENT_CERT")
    key = pick(key_file, "CONSUL_CLIENT_KEY")
    if bool(cert) != bool(key):
        raise ValueError("cert_file, key_file: both client cert and client key must be provided")
    server_name = pick(tls_server_name, "CONSUL_TLS_SERVER_NAME")
    if server_name:
        server_name = parse_address(server_name, "tls_server_name")["host"]

    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float))
                                or timeout <= 0):
        raise ValueError(f"timeout: expected a positive number of seconds or None, got {timeout!r}")

    wait_ns: int | None = None
    if wait is not None:
        wait_ns = normalize.duration(wait, "wait")
        if wait_ns <= 0:
            raise ValueError(f"wait: a default wait must be above 0, got {wait!r} (None leaves "
                             f"it to the agent)")

    if retry is None or retry is True:
        resolved_retry = DEFAULT_RETRY
    elif retry is False:
        resolved_retry = NO_RETRY
    elif isinstance(retry, Retry):
        resolved_retry = retry
    else:
        raise TypeError(f"retry: expected an aioconsul Retry, True or False, got "
                        f"{type(retry).__name__}")

    traces: tuple[Any, ...] = ()
    if trace_configs is not None:
        if isinstance(trace_configs, (str, bytes, Mapping)) or not isinstance(
                trace_configs, Sequence):
            raise TypeError(f"trace_configs: expected a list of aiohttp.TraceConfig, got "
                            f"{type(trace_configs).__name__}")
        for item in trace_configs:
            # Duck-typed (this module never imports aiohttp): what ClientSession calls on each.
            if not (callable(getattr(item, "freeze", None))
                    and callable(getattr(item, "trace_config_ctx", None))):
                raise TypeError(f"trace_configs: expected aiohttp.TraceConfig objects, got "
                                f"{type(item).__name__}")
        traces = tuple(trace_configs)

    return Config(
        targets=tuple(targets),
        token=resolved_token,
        token_provider=provider,
        token_file=watched,
        auth=resolved_auth,
        dc=_optional_str(dc, "dc"),
        namespace=_optional_str(pick(namespace, "CONSUL_NAMESPACE"), "namespace"),
        partition=_optional_str(pick(partition, "CONSUL_PARTITION"), "partition"),
        consistency=(Consistency.DEFAULT if consistency is None
                     else normalize.consistency(consistency)),
        verify=True if verify is None else verify,
        ca_file=pick(ca_file, "CONSUL_CACERT"),
        ca_path=pick(ca_path, "CONSUL_CAPATH"),
        cert_file=cert,
        key_file=key,
        tls_server_name=server_name,
        timeout=None if timeout is None else float(timeout),
        retry=resolved_retry,
        wait=wait_ns,
        trace_configs=traces,
    )
