"""Cluster peering: ``/v1/peering/...``, ``/v1/peerings`` and ``/v1/exported-services``.

One cluster generates a token for a peer name (:meth:`Peering.generate_token`), the other
establishes a peering with it under its own name for the first (:meth:`Peering.establish`);
both then list the peering, ``ACTIVE`` while their stream is connected. Services reach a peer
through an ``exported-services`` config entry naming it as a consumer, and the peer reads them
with ``peer=`` on its catalog and health reads. Peerings are never forwarded to another
datacenter, so these methods take no ``dc``; CE has only the default partition.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

from .._core.core import Endpoint
from .._core.request import quote_key
from ..typing import Blocking, Collection, Consistency, Meta, Object

__all__ = ["Peering"]

#: validatePeerName (agent/rpc/peering/validate.go): a lower-case DNS label.
_PEER_NAME: Final = re.compile(r"[a-z0-9]([a-z0-9\-]{0,61}[a-z0-9])?")


def _peer_name(value: Any, name: str = "peer_name") -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name}: expected a str, got {type(value).__name__}")
    if not value:
        raise ValueError(f"{name}: must not be empty")
    return value


def _valid_peer_name(value: Any, name: str = "peer_name") -> str:
    """What Consul accepts as a new peer's name (checked before the request)."""
    text = _peer_name(value, name)
    if _PEER_NAME.fullmatch(text) is None:
        raise ValueError(
            f"{name}: a peer name is lower-case letters, digits and '-', starting and ending "
            f"with a letter or digit (at most 63), got {text!r}"
        )
    return text


def _meta(value: Any) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise TypeError(f"meta: expected a mapping of str to str, got {type(value).__name__}")
    out: dict[str, str] = {}
    for key, item in value.items():
        if not isinstance(key, str) or not isinstance(item, str):
            raise TypeError("meta: keys and values must be str")
        out[key] = item
    return out


def _addresses(value: Any) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise TypeError(
            "server_external_addresses: expected a list of 'host:port' str, got "
            f"{type(value).__name__}"
        )
    out = []
    for item in value:
        if not isinstance(item, str):
            raise TypeError("server_external_addresses: expected 'host:port' str items")
        host, sep, port = item.rpartition(":")
        if not sep or not host or not port.isdigit() or not 1 <= int(port) <= 65535:
            raise ValueError(
                f"server_external_addresses: {item!r} is not a 'host:port' address"
            )
        out.append(item)
    return out


class Peering(Endpoint):
    """``client.peering`` (the Go client's ``Peerings()`` and ``ExportedServices``). Reads
    return ``(data, meta)`` and take ``partition``, ``consistency`` and ``watch``; every method
    takes ``token``: the ACL token of that call, instead of the client's."""

    __slots__ = ()

    async def generate_token(
        self,
        peer_name: str,
        *,
        meta: Mapping[str, str] | None = None,
        server_external_addresses: Iterable[str] | None = None,
        partition: str | None = None,
        token: str | None = None,
    ) -> str:
        """A peering token for the peer called ``peer_name`` here (``POST /v1/peering/token``).

        The peering is created ``PENDING`` (or kept, with a fresh secret: each token can be
        used once). ``server_external_addresses`` are ``host:port`` addresses the peer should
        dial instead of this cluster's servers. Needs ``peering:write``.
        """
        body: dict[str, Any] = {"PeerName": _valid_peer_name(peer_name)}
        if (checked := _meta(meta)) is not None:
            body["Meta"] = checked
        if (addresses := _addresses(server_external_addresses)) is not None:
            body["ServerExternalAddresses"] = addresses
        data, _ = await self._core.request(
            "POST", "/v1/peering/token", json=body, partition=partition, token=token,
        )
        return str(data["PeeringToken"])

    async def establish(
        self,
        peer_name: str,
        peering_token: str,
        *,
        meta: Mapping[str, str] | None = None,
        partition: str | None = None,
        token: str | None = None,
    ) -> None:
        """Peer with the cluster that generated ``peering_token``, calling it ``peer_name``
        here (``POST /v1/peering/establish``). Needs ``peering:write``."""
        body: dict[str, Any] = {"PeerName": _valid_peer_name(peer_name)}
        if not isinstance(peering_token, str):
            raise TypeError(f"peering_token: expected a str, got {type(peering_token).__name__}")
        if not peering_token:
            raise ValueError("peering_token: must not be empty")
        body["PeeringToken"] = peering_token
        if (checked := _meta(meta)) is not None:
            body["Meta"] = checked
        await self._core.request(
            "POST", "/v1/peering/establish", json=body, partition=partition, token=token,
            secrets=(peering_token,),
        )

    async def get(
        self,
        name: str,
        *,
        partition: str | None = None,
        consistency: Consistency | str | None = None,
        watch: Blocking | None = None,
        token: str | None = None,
    ) -> tuple[Object | None, Meta]:
        """One peering (``GET /v1/peering/<name>``), ``(None, meta)`` if there is none.

        ``State`` is ``ACTIVE`` while the stream to the peer is connected, ``FAILING`` when it
        broke, else what is stored (``PENDING``, ``ESTABLISHING``, ``DELETING``,
        ``TERMINATED``); ``StreamStatus`` lists the imported and exported services.
        """
        path = f"/v1/peering/{quote_key(_peer_name(name, 'name'))}"
        data, meta = await self._core.request(
            "GET", path, partition=partition, consistency=consistency, watch=watch,
            missing_ok=True, token=token,
        )
        return data, meta

    async def delete(
        self, name: str, *, partition: str | None = None, token: str | None = None
    ) -> None:
        """Delete a peering (``DELETE /v1/peering/<name>``): it is ``DELETING`` until the
        servers removed what it imported, then gone; the peer's side becomes ``TERMINATED``.
        Deleting a missing peering is not an error."""
        path = f"/v1/peering/{quote_key(_peer_name(name, 'name'))}"
        await self._core.request(
            "DELETE", path, partition=partition, idempotent=True, token=token,
        )

    async def items(
        self,
        *,
        partition: str | None = None,
        consistency: Consistency | str | None = None,
        watch: Blocking | None = None,
        token: str | None = None,
    ) -> tuple[Collection, Meta]:
        """Every peering (``GET /v1/peerings``), by name; a blocking read."""
        data, meta = await self._core.request(
            "GET", "/v1/peerings", partition=partition, consistency=consistency, watch=watch,
            token=token,
        )
        return (data or []), meta

    async def exported_services(
        self,
        *,
        partition: str | None = None,
        consistency: Consistency | str | None = None,
        watch: Blocking | None = None,
        token: str | None = None,
    ) -> tuple[Collection, Meta]:
        """The services this cluster exports and to whom (``GET /v1/exported-services``):
        ``[{"Service": ..., "Consumers": {"Peers": [...]}}]``, wildcards resolved; a blocking
        read. Needs ``mesh:read`` (or ``operator:read``)."""
        data, meta = await self._core.request(
            "GET", "/v1/exported-services", partition=partition, consistency=consistency,
            watch=watch, token=token,
        )
        return (data or []), meta
