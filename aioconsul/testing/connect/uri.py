"""SPIFFE IDs as Consul writes them into certificate URI SANs (``agent/connect/uri*.go``).

Pure, standard library only. The shapes (CE, so partitions appear only in the ``/ap/`` prefix a
peered Enterprise cluster may send):

=================  ===========================================================
service            ``spiffe://<td>[/ap/<partition>]/ns/<ns>/dc/<dc>/svc/<service>``
agent              ``spiffe://<td>[/ap/<partition>]/agent/client/dc/<dc>/id/<node>``
mesh gateway       ``spiffe://<td>[/ap/<partition>]/gateway/mesh/dc/<dc>``
server             ``spiffe://<td>/agent/server/dc/<dc>``
signing (a CA)     ``spiffe://<cluster-id>.<domain>`` (no path)
=================  ===========================================================

:func:`parse_cert_uri` is Consul's ``ParseCertURIFromString``: it returns one of the frozen
dataclasses below or raises :class:`CertURIError` with Consul's text. Each class has
:meth:`uri` (Consul's ``URI().String()``). The trust domain ``<td>`` is the signing ID's host,
``<cluster-id>.consul`` (:func:`spiffe_id_signing_for_cluster`).

Usage::

    from aioconsul.testing.connect.uri import SpiffeIDService, parse_cert_uri

    ident = parse_cert_uri("spiffe://1234.consul/ns/default/dc/dc1/svc/web")
    if isinstance(ident, SpiffeIDService):
        ident.service, ident.namespace, ident.datacenter   # "web", "default", "dc1"
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from typing import Final
from urllib.parse import quote, urlsplit

__all__ = [
    "CertURI",
    "CertURIError",
    "SpiffeIDAgent",
    "SpiffeIDMeshGateway",
    "SpiffeIDServer",
    "SpiffeIDService",
    "SpiffeIDSigning",
    "parse_cert_uri",
    "spiffe_id_signing_for_cluster",
]

DEFAULT_PARTITION: Final = "default"
DEFAULT_NAMESPACE: Final = "default"

# agent/connect/uri.go: the regexps run on the raw (still escaped) path.
_SERVICE: Final = re.compile(r"^(?:/ap/([^/]+))?/ns/([^/]+)/dc/([^/]+)/svc/([^/]+)$")
_AGENT: Final = re.compile(r"^(?:/ap/([^/]+))?/agent/client/dc/([^/]+)/id/([^/]+)$")
_SERVER: Final = re.compile(r"^/agent/server/dc/([^/]+)$")
_MESH_GATEWAY: Final = re.compile(r"^(?:/ap/([^/]+))?/gateway/mesh/dc/([^/]+)$")

# Go's url.URL.String() escapes a path segment except for unreserved characters and these.
_PATH_SAFE: Final = "$&+,/:;=@"
_HEX: Final = frozenset(string.hexdigits)


class CertURIError(ValueError):
    """A URI that is no Connect SPIFFE ID; ``str()`` is Consul's error text."""


def _escape(value: str) -> str:
    return quote(value, safe=_PATH_SAFE)


def _unescape(raw: str, what: str) -> str:
    """Go's ``url.PathUnescape``: strict ``%XX`` decoding (UTF-8), errors in Consul's words."""
    out = bytearray()
    i = 0
    while i < len(raw):
        c = raw[i]
        if c == "%":
            hexpart = raw[i + 1 : i + 3]
            if len(hexpart) != 2 or not set(hexpart) <= _HEX:
                # net/url: EscapeError.Error() is `invalid URL escape "%zz"`
                raise CertURIError(f'Invalid {what}: invalid URL escape "{raw[i : i + 3]}"')
            out.append(int(hexpart, 16))
            i += 3
        else:
            out.extend(c.encode())
            i += 1
    return out.decode("utf-8", errors="surrogateescape")


def _partition_or_default(partition: str) -> str:
    return partition.lower() if partition else DEFAULT_PARTITION


def _ap_prefix(partition: str) -> str:
    ap = _partition_or_default(partition)
    return "" if ap == DEFAULT_PARTITION else "/ap/" + _escape(ap)


@dataclass(frozen=True, slots=True)
class SpiffeIDService:
    """A service's identity (``SpiffeIDService``): what a leaf certificate names."""

    host: str
    """The trust domain, ``<cluster-id>.consul``."""
    namespace: str
    datacenter: str
    service: str
    partition: str = DEFAULT_PARTITION

    def namespace_or_default(self) -> str:
        return self.namespace or DEFAULT_NAMESPACE

    def partition_or_default(self) -> str:
        """Lower-cased, ``default`` when empty (Consul CE keeps peers' partitions)."""
        return _partition_or_default(self.partition)

    def uri(self) -> str:
        path = (
            f"/ns/{_escape(self.namespace_or_default())}/dc/{_escape(self.datacenter)}"
            f"/svc/{_escape(self.service)}"
        )
        return f"spiffe://{self.host}{_ap_prefix(self.partition)}{path}"


@dataclass(frozen=True, slots=True)
class SpiffeIDAgent:
    """A client agent's identity (``SpiffeIDAgent``), in the agent's own TLS certificate."""

    host: str
    datacenter: str
    agent: str
    """The node name."""
    partition: str = DEFAULT_PARTITION

    def partition_or_default(self) -> str:
        return _partition_or_default(self.partition)

    def uri(self) -> str:
        # uri_agent_ce.go: CE writes no /ap/ prefix for agents.
        return (
            f"spiffe://{self.host}/agent/client/dc/{_escape(self.datacenter)}"
            f"/id/{_escape(self.agent)}"
        )


@dataclass(frozen=True, slots=True)
class SpiffeIDMeshGateway:
    """A mesh gateway's identity (``SpiffeIDMeshGateway``)."""

    host: str
    datacenter: str
    partition: str = DEFAULT_PARTITION

    def partition_or_default(self) -> str:
        return _partition_or_default(self.partition)

    def uri(self) -> str:
        # uri_mesh_gateway_ce.go: CE writes no /ap/ prefix.
        return f"spiffe://{self.host}/gateway/mesh/dc/{_escape(self.datacenter)}"


@dataclass(frozen=True, slots=True)
class SpiffeIDServer:
    """A server's identity (``SpiffeIDServer``), for peering's control-plane TLS."""

    host: str
    datacenter: str

    def uri(self) -> str:
        return f"spiffe://{self.host}/agent/server/dc/{_escape(self.datacenter)}"


@dataclass(frozen=True, slots=True)
class SpiffeIDSigning:
    """A CA's identity, the trust domain (``SpiffeIDSigning``)."""

    cluster_id: str
    domain: str
    """Always ``consul`` for Consul's own CA (the DNS domain is deliberately not used)."""

    def host(self) -> str:
        """The trust domain: ``<cluster-id>.<domain>``, lower-cased."""
        return f"{self.cluster_id}.{self.domain}".lower()

    def uri(self) -> str:
        return f"spiffe://{self.host()}"

    def can_sign(self, other: CertURI) -> bool:
        """``CanSign``: the same trust domain (case-folded host); agents never qualify."""
        if isinstance(other, SpiffeIDSigning):
            return self.uri() == other.uri()
        if isinstance(other, SpiffeIDService | SpiffeIDMeshGateway | SpiffeIDServer):
            return other.host.lower() == self.host()
        return False


CertURI = SpiffeIDService | SpiffeIDAgent | SpiffeIDMeshGateway | SpiffeIDServer | SpiffeIDSigning
"""Any identity :func:`parse_cert_uri` returns."""


def spiffe_id_signing_for_cluster(cluster_id: str) -> SpiffeIDSigning:
    """The trust domain of a cluster (``SpiffeIDSigningForCluster``): ``<cluster-id>.consul``."""
    return SpiffeIDSigning(cluster_id=cluster_id, domain="consul")


def parse_cert_uri(uri: str) -> CertURI:
    """Parse a certificate URI SAN (Consul's ``ParseCertURIFromString``).

    Raises :class:`CertURIError` with Consul's text: ``parse "<uri>": invalid URL escape
    "%zz"`` for a bad ``%`` escape (Go's ``url.Parse``), ``SPIFFE ID must have 'spiffe'
    scheme``, ``SPIFFE ID is not in the expected format: <uri>`` otherwise. An absent
    ``/ap/`` partition reads as ``default``.
    """
    try:
        parts = urlsplit(uri)
    except ValueError as exc:
        raise CertURIError(str(exc)) from exc
    # Go's url.Parse rejects a bad escape anywhere in the path before Consul looks at it.
    if bad := re.search(r"%(?![0-9A-Fa-f]{2})", parts.path):
        escape = parts.path[bad.start() : bad.start() + 3]
        raise CertURIError(f'parse "{uri}": invalid URL escape "{escape}"')
    if parts.scheme.lower() != "spiffe":
        raise CertURIError("SPIFFE ID must have 'spiffe' scheme")
    host = parts.netloc.rpartition("@")[2]
    path = parts.path
    if m := _SERVICE.match(path):
        ap, ns, dc, svc = m.groups()
        return SpiffeIDService(
            host=host,
            partition=_unescape(ap, "admin partition") if ap else DEFAULT_PARTITION,
            namespace=_unescape(ns, "namespace"),
            datacenter=_unescape(dc, "datacenter"),
            service=_unescape(svc, "service"),
        )
    if m := _AGENT.match(path):
        ap, dc, node = m.groups()
        return SpiffeIDAgent(
            host=host,
            partition=_unescape(ap, "admin partition") if ap else DEFAULT_PARTITION,
            datacenter=_unescape(dc, "datacenter"),
            agent=_unescape(node, "node"),
        )
    if m := _MESH_GATEWAY.match(path):
        ap, dc = m.groups()
        return SpiffeIDMeshGateway(
            host=host,
            partition=_unescape(ap, "admin partition") if ap else DEFAULT_PARTITION,
            datacenter=_unescape(dc, "datacenter"),
        )
    if m := _SERVER.match(path):
        return SpiffeIDServer(host=host, datacenter=_unescape(m.group(1), "datacenter"))
    if path == "":
        cluster_id, dot, domain = host.partition(".")
        if dot and cluster_id:
            return SpiffeIDSigning(cluster_id=cluster_id, domain=domain)
    raise CertURIError(f"SPIFFE ID is not in the expected format: {uri}")
