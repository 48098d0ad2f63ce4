"""The Connect CA: ``/v1/connect/ca/roots`` and ``/v1/connect/ca/configuration``.

Follows the Go client's ``api/connect_ca.go`` (``CARoots``, ``CAGetConfig``, ``CASetConfig``).
Every method returns ``(data, Meta)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._core.core import Endpoint
from ..typing import Blocking, Consistency, Meta, Object

__all__ = ["ConnectCA"]


class ConnectCA(Endpoint):
    """``client.connect.ca``: the mesh's certificate authority. Every method takes ``token``:
    the ACL token of that call, instead of the client's."""

    __slots__ = ()

    async def roots(
        self,
        *,
        dc: str | None = None,
        consistency: Consistency | str | None = None,
        watch: Blocking | None = None,
        token: str | None = None,
    ) -> tuple[Object, Meta]:
        """The trusted CA roots (``GET /v1/connect/ca/roots``), a blocking read:
        ``{"ActiveRootID", "TrustDomain", "Roots": [{ID, Name, SerialNumber, SigningKeyID,
        NotBefore, NotAfter, RootCert, IntermediateCerts, Active, ...}]}``. No ACL needed.
        After a rotation the old root stays listed (``Active`` false) beside the new one,
        whose ``IntermediateCerts`` hold it cross-signed by the old key."""
        data, meta = await self._core.request(
            "GET", "/v1/connect/ca/roots", dc=dc, consistency=consistency, watch=watch,
            token=token)
        return dict(data or {}), meta

    async def roots_pem(
        self,
        *,
        dc: str | None = None,
        consistency: Consistency | str | None = None,
        watch: Blocking | None = None,
        token: str | None = None,
    ) -> tuple[str, Meta]:
        """The roots as one PEM bundle (``GET /v1/connect/ca/roots?pem=true``): every root
        then its intermediates, ready to be a TLS trust store; a blocking read."""
        data, meta = await self._core.request(
            "GET", "/v1/connect/ca/roots", params=(("pem", "true"),), dc=dc,
            consistency=consistency, watch=watch, raw=True, token=token)
        return bytes(data or b"").decode(), meta

    async def get_config(
        self, *, dc: str | None = None, token: str | None = None
    ) -> tuple[Object, Meta]:
        """The CA configuration (``GET /v1/connect/ca/configuration``, ``operator:write``):
        ``{"Provider", "Config", "State", "ForceWithoutCrossSigning", "CreateIndex",
        "ModifyIndex"}``."""
        data, meta = await self._core.request(
            "GET", "/v1/connect/ca/configuration", dc=dc, token=token)
        return dict(data or {}), meta

    async def set_config(
        self,
        provider: str,
        config: Mapping[str, Any],
        *,
        force_without_cross_signing: bool = False,
        dc: str | None = None,
        token: str | None = None,
    ) -> tuple[None, Meta]:
        """Replace the CA configuration (``PUT /v1/connect/ca/configuration``,
        ``operator:write``). A new key type or size, or another ``PrivateKey``/``RootCert``,
        rotates the root: the new root is cross-signed by the old one and every agent's
        leaf certificates are re-issued. Consul 1.21 has no check-and-set here."""
        if not isinstance(provider, str) or not provider:
            raise ValueError("provider: expected a non-empty string")
        if not isinstance(config, Mapping):
            raise TypeError(f"config: expected a mapping, got {type(config).__name__}")
        body = {"Provider": provider, "Config": dict(config),
                "ForceWithoutCrossSigning": bool(force_without_cross_signing)}
        _, meta = await self._core.request(
            "PUT", "/v1/connect/ca/configuration", json=body, dc=dc, token=token,
            secrets=tuple(str(v) for k, v in config.items() if k.lower() == "privatekey"))
        return None, meta
