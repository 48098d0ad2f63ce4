"""The local agent's Connect endpoints: ``/v1/agent/connect/...``.

CA roots, leaf certificates, authorize.
"""

from __future__ import annotations

from .._core import normalize
from .._core.core import Endpoint
from .._core.request import id_path
from ..typing import Blocking, Meta, Object, ObjectID

__all__ = ["AgentConnect"]


class AgentConnect(Endpoint):
    """``client.agent.connect``. Every method takes ``token``:
    the ACL token of that call, instead of the client's."""

    __slots__ = ()

    # -- CA roots and leaf certificates (agent/agent_endpoint.go) -----------------------------

    async def roots(
        self, *, watch: Blocking | None = None, token: str | None = None
    ) -> tuple[Object, Meta]:
        """The CA roots through the agent's cache (``GET /v1/agent/connect/ca/roots``), as
        :meth:`ConnectCA.roots <aioconsul.api.connect_ca.ConnectCA.roots>` answers them; a
        blocking read. ``meta`` tells whether the cache answered (``X-Cache``)."""
        data, meta = await self._core.request(
            "GET", "/v1/agent/connect/ca/roots", watch=watch, token=token)
        return dict(data or {}), meta

    async def leaf(
        self, service: ObjectID, *, watch: Blocking | None = None, token: str | None = None
    ) -> tuple[Object, Meta]:
        """A leaf certificate for ``service`` (its name, not an instance ID:
        ``GET /v1/agent/connect/ca/leaf/<service>``): ``{"SerialNumber", "CertPEM",
        "PrivateKeyPEM", "Service", "ServiceURI", "ValidAfter", "ValidBefore", ...}``, the
        chain (leaf, then any cross-signed root) in ``CertPEM``. The agent caches it and
        signs a new one before it expires (between 60 % and 90 % of its lifetime) and after
        a root rotation: a blocking read (``watch``) returns then. The token needs
        ``service:write`` on the service when a new certificate is signed."""
        data, meta = await self._core.request(
            "GET", id_path("/v1/agent/connect/ca/leaf/", service, "service", "Service"),
            watch=watch, token=token)
        return dict(data or {}), meta

    # -- authorize (connect.intentions' helper; see docs/intentions.rst) --------------------

    async def authorize(
        self,
        target: str,
        client_cert_uri: str,
        client_cert_serial: str,
        *,
        token: str | None = None,
    ) -> tuple[bool, str]:
        """Whether the service named in a client certificate may connect to ``target``
        (``POST /v1/agent/connect/authorize``): ``(authorized, reason)``, the reason in
        Consul's words (``Matched L4 intention: ...``, ``Default behavior configured by
        ACLs``). ``client_cert_uri`` is the certificate's SPIFFE URI SAN
        (``spiffe://<trust-domain>/ns/default/dc/dc1/svc/web``). An L7 intention counts as a
        denial. The token needs ``service:write`` on ``target``."""
        body = {"Target": normalize.text(target, "target"),
                "ClientCertURI": normalize.text(client_cert_uri, "client_cert_uri"),
                "ClientCertSerial": normalize.text(client_cert_serial, "client_cert_serial",
                                                   empty=True)}
        data, _ = await self._core.request(
            "POST", "/v1/agent/connect/authorize", json=body, idempotent=True, token=token,
            with_meta=False,
        )
        answer = data if isinstance(data, dict) else {}
        return bool(answer.get("Authorized")), str(answer.get("Reason") or "")
