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

from .._core import normalize
from .._core.core import Endpoint
from .._core.request import quote_key
from ..typing import Blocking, Collection, Consistency, Meta, Object

__all__ = ["Peering"]

#: validatePeerName (agent/rpc/peering/validate.go): a lower-case DNS label.
_PEER_NAME: Final = re.compile(r"[a-z0-9]([a-z0-9\-]{0,61}[a-z0-9])?")


def _valid_peer_name(value: Any, name: str = "peer_name") -> str:
    """What Consul accepts as a new peer's name (checked before the request)."""
    text = normalize.text(value, name)
    if _PEER_NAME.fullmatch(text) is None:
        raise ValueError(
            f"{name}: a peer name is lower-case letters, digits and '-', starting and ending "
            f"with a letter or digit (at most 63), got {text!r}"
        )
    return text


def _path(name: Any) -> str:
    """``/v1/peering/<name>`` of a peering read or deleted."""
    return f"/v1/peering/{quote_key(normalize.text(name, 'name'))}"


def _body(peer_name: Any, meta: Any) -> dict[str, Any]:
    """The fields a token request and an establish request share."""
    body: dict[str, Any] = {"PeerName": _valid_peer_name(peer_name)}
    if meta is not None:
        body["Meta"] = normalize.str_map(meta, "meta")
    return body


def _addresses(value: Any) -> list[str]:
    name = "server_external_addresses"
    out = []
    for i, item in enumerate(normalize.list_of(value, name, "'host:port' str")):
        host, sep, port = normalize.text(item, f"{name}[{i}]").rpartition(":")
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
        body = _body(peer_name, meta)
        if server_external_addresses is not None:
            body["ServerExternalAddresses"] = _addresses(server_external_addresses)
        data, _ = await self._core.request(
            "POST", "/v1/peering/token", json=body, partition=partition, token=token,
            with_meta=False,
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
        body = _body(peer_name, meta)
        body["PeeringToken"] = normalize.text(peering_token, "peering_token")
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
        data, meta = await self._core.request(
            "GET", _path(name), partition=partition, consistency=consistency, watch=watch,
            missing_ok=True, token=token,
        )
        return data, meta

    async def delete(
        self, name: str, *, partition: str | None = None, token: str | None = None
    ) -> None:
        """Delete a peering (``DELETE /v1/peering/<name>``): it is ``DELETING`` until the
        servers removed what it imported, then gone; the peer's side becomes ``TERMINATED``.
        Deleting a missing peering is not an error."""
        await self._core.request(
            "DELETE", _path(name), partition=partition, idempotent=True, token=token,
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
        return await self._list("/v1/peerings", partition, consistency, watch, token)

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
        return await self._list("/v1/exported-services", partition, consistency, watch, token)

    async def _list(
        self, path: str, partition: str | None, consistency: Consistency | str | None,
        watch: Blocking | None, token: str | None,
    ) -> tuple[Collection, Meta]:
        """A blocking list read; Consul's ``null`` for none is ``[]``."""
        data, meta = await self._core.request(
            "GET", path, partition=partition, consistency=consistency, watch=watch,
            token=token,
        )
        return (data or []), meta
