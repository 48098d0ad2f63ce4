"""The catalog: ``/v1/catalog/*`` — nodes, services and checks as the servers know them.

Registrations here bypass the agents (use ``client.agent.services`` to register with a local agent,
which keeps the catalog in sync). Every read takes ``dc``, ``consistency`` and ``watch`` and
returns its Meta; listing reads take Consul's filter expressions (``filter=``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._core import normalize
from .._core.core import Endpoint
from .._core.request import id_path
from ..typing import Blocking, Collection, Consistency, Duration, Meta, Object, ObjectID
from ._discovery import SERVICE_NAME_KEYS, query_params, read_list

__all__ = ["Catalog"]

_SERVICE_KEYS = ("ServiceID", "ID")


def _object(value: Any, name: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise TypeError(f"{name}: expected a mapping (a Consul {name} object), got "
                        f"{type(value).__name__}")
    return dict(value)


class Catalog(Endpoint):
    """``client.catalog``: register and read nodes, services and checks of a datacenter. Every
    method takes ``token``: the ACL token of that call, instead of the client's."""

    __slots__ = ()

    async def register(
        self,
        node: ObjectID,
        *,
        address: str | None = None,
        id: str | None = None,
        service: Mapping[str, Any] | None = None,
        check: Mapping[str, Any] | None = None,
        checks: list[Mapping[str, Any]] | None = None,
        tagged_addresses: Mapping[str, str] | None = None,
        node_meta: Mapping[str, str] | None = None,
        skip_node_update: bool | None = None,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        token: str | None = None,
    ) -> bool:
        """Register a node, and optionally a service and checks on it (``PUT
        /v1/catalog/register``).

        ``node`` is the node's name, or a registration object in Consul's shape (``Node``,
        ``Address``, ``Service``, ``Check``...) that the keyword arguments complete or override.
        Returns the agent's bool.
        """
        body = dict(node) if isinstance(node, Mapping) else {}
        body["Node"] = normalize.object_id(node, "node", "Node")
        fields = {"Address": address, "ID": id, "TaggedAddresses": tagged_addresses,
                  "NodeMeta": node_meta, "SkipNodeUpdate": skip_node_update}
        body.update({key: value for key, value in fields.items() if value is not None})
        if service is not None:
            body["Service"] = _object(service, "service")
        if check is not None:
            body["Check"] = _object(check, "check")
        if checks is not None:
            body["Checks"] = [_object(item, "check") for item in checks]
        if not isinstance(body.get("Address"), str) or not body["Address"]:
            raise ValueError("address: a catalog registration needs the node's address")
        data, _ = await self._core.request(
            "PUT", "/v1/catalog/register", json=body, dc=dc, namespace=namespace,
            partition=partition, idempotent=True, token=token, with_meta=False,
        )
        return data is True

    async def deregister(
        self,
        node: ObjectID,
        *,
        service: ObjectID | None = None,
        check: ObjectID | None = None,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        token: str | None = None,
    ) -> bool:
        """Remove a node, or only one of its services or checks (``PUT /v1/catalog/deregister``).

        ``service`` is a service id or a service object (its ``ServiceID`` or ``ID``); ``check`` a
        check id or a check object (its ``CheckID``).
        """
        if service is not None and check is not None:
            raise ValueError("service, check: give at most one of service and check")
        body: dict[str, Any] = {"Node": normalize.object_id(node, "node", "Node")}
        if service is not None:
            body["ServiceID"] = normalize.object_id(service, "service", _SERVICE_KEYS)
        if check is not None:
            body["CheckID"] = normalize.object_id(check, "check", "CheckID")
        data, _ = await self._core.request(
            "PUT", "/v1/catalog/deregister", json=body, dc=dc, namespace=namespace,
            partition=partition, idempotent=True, token=token, with_meta=False,
        )
        return data is True

    async def datacenters(
        self,
        *,
        token: str | None = None,
        cached: bool = False,
        max_age: Duration | None = None,
        stale_if_error: Duration | None = None,
    ) -> list[str]:
        """Every known datacenter, nearest first (``GET /v1/catalog/datacenters``).

        ``cached=True`` reads it from the agent cache (a *simple* cache type: ``max_age`` asks
        for a value no older than that, ``stale_if_error`` accepts an older one when the
        servers cannot be reached). Use :meth:`datacenters_meta` to see ``CacheHit``.
        """
        data, _ = await self.datacenters_meta(token=token, cached=cached, max_age=max_age,
                                              stale_if_error=stale_if_error)
        return data

    async def datacenters_meta(
        self,
        *,
        token: str | None = None,
        cached: bool = False,
        max_age: Duration | None = None,
        stale_if_error: Duration | None = None,
    ) -> tuple[list[str], Meta]:
        """:meth:`datacenters` with the answer's Meta (``CacheHit``, ``CacheAge`` of a cached
        read)."""
        data, meta = await self._core.request(
            "GET", "/v1/catalog/datacenters", token=token, cached=cached, max_age=max_age,
            stale_if_error=stale_if_error)
        return list(data or []), meta

    async def nodes(
        self,
        *,
        near: ObjectID | None = None,
        node_meta: Mapping[str, str] | None = None,
        filter: str | None = None,
        peer: str | None = None,
        dc: str | None = None,
        partition: str | None = None,
        consistency: Consistency | str | None = None,
        watch: Blocking | None = None,
        token: str | None = None,
    ) -> tuple[Collection, Meta]:
        """The nodes of a datacenter (``GET /v1/catalog/nodes``).

        ``near`` (a node name or ``"_agent"``) sorts them by round-trip time from that node.
        """
        return await read_list(
            self._core, "/v1/catalog/nodes",
            query_params(near=near, node_meta=node_meta, filter=filter, peer=peer),
            dc=dc, namespace=None, partition=partition, consistency=consistency, watch=watch,
            token=token,
        )

    async def services(
        self,
        *,
        node_meta: Mapping[str, str] | None = None,
        filter: str | None = None,
        peer: str | None = None,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        consistency: Consistency | str | None = None,
        watch: Blocking | None = None,
        token: str | None = None,
        cached: bool = False,
        max_age: Duration | None = None,
        stale_if_error: Duration | None = None,
    ) -> tuple[dict[str, list[str]], Meta]:
        """Every service name with its tags (``GET /v1/catalog/services``).

        ``cached=True`` reads it from the agent cache (a background-refresh type: always
        fresh, ``max_age``/``stale_if_error`` are ignored by the agent); Meta's ``CacheHit``
        says whether it came from the cache."""
        data, meta = await self._core.request(
            "GET", "/v1/catalog/services",
            params=query_params(node_meta=node_meta, filter=filter, peer=peer), dc=dc,
            namespace=namespace, partition=partition, consistency=consistency, watch=watch,
            token=token, cached=cached, max_age=max_age, stale_if_error=stale_if_error,
        )
        return (data or {}), meta

    async def service(
        self,
        service: ObjectID,
        *,
        tag: str | list[str] | None = None,
        near: ObjectID | None = None,
        node_meta: Mapping[str, str] | None = None,
        filter: str | None = None,
        peer: str | None = None,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        consistency: Consistency | str | None = None,
        watch: Blocking | None = None,
        token: str | None = None,
        cached: bool = False,
        max_age: Duration | None = None,
        stale_if_error: Duration | None = None,
    ) -> tuple[Collection, Meta]:
        """The instances of one service (``GET /v1/catalog/service/<name>``).

        ``service`` is a name or a service object (its ``ServiceName``, ``Service`` or
        ``Name``). ``tag`` keeps instances having every given tag. ``cached=True`` reads
        through the agent cache (background refresh; see :meth:`services`).
        """
        return await self._instances("/v1/catalog/service/", service, tag, near, node_meta,
                                     filter, peer, dc, namespace, partition, consistency, watch,
                                     token, cached, max_age, stale_if_error)

    async def connect(
        self,
        service: ObjectID,
        *,
        tag: str | list[str] | None = None,
        near: ObjectID | None = None,
        node_meta: Mapping[str, str] | None = None,
        filter: str | None = None,
        peer: str | None = None,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        consistency: Consistency | str | None = None,
        watch: Blocking | None = None,
        token: str | None = None,
        cached: bool = False,
        max_age: Duration | None = None,
        stale_if_error: Duration | None = None,
    ) -> tuple[Collection, Meta]:
        """The Connect-capable instances of a service: its proxies and native services
        (``GET /v1/catalog/connect/<name>``); ``cached=True`` as in :meth:`service`."""
        return await self._instances("/v1/catalog/connect/", service, tag, near, node_meta,
                                     filter, peer, dc, namespace, partition, consistency, watch,
                                     token, cached, max_age, stale_if_error)

    async def _instances(
        self, base: str, service: Any, tag: Any, near: Any, node_meta: Any, filter: Any,
        peer: Any, dc: Any, namespace: Any, partition: Any, consistency: Any, watch: Any,
        token: str | None, cached: bool = False, max_age: Any = None,
        stale_if_error: Any = None,
    ) -> tuple[Collection, Meta]:
        return await read_list(
            self._core, id_path(base, service, "service", SERVICE_NAME_KEYS),
            query_params(tag=tag, near=near, node_meta=node_meta, filter=filter, peer=peer),
            dc=dc, namespace=namespace, partition=partition, consistency=consistency, watch=watch,
            token=token, cached=cached, max_age=max_age, stale_if_error=stale_if_error,
        )

    async def node(
        self,
        node: ObjectID,
        *,
        filter: str | None = None,
        peer: str | None = None,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        consistency: Consistency | str | None = None,
        watch: Blocking | None = None,
        token: str | None = None,
    ) -> tuple[Object | None, Meta]:
        """One node and its services map (``GET /v1/catalog/node/<node>``); ``(None, meta)``
        for an unknown node. ``filter`` applies to the services."""
        data, meta = await self._core.request(
            "GET", id_path("/v1/catalog/node/", node, "node", "Node"),
            params=query_params(filter=filter, peer=peer), dc=dc, namespace=namespace,
            partition=partition, consistency=consistency, watch=watch, token=token,
        )
        return data, meta

    async def node_services(
        self,
        node: ObjectID,
        *,
        filter: str | None = None,
        peer: str | None = None,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        consistency: Consistency | str | None = None,
        watch: Blocking | None = None,
        token: str | None = None,
    ) -> tuple[Object | None, Meta]:
        """One node with its services as a list (``GET /v1/catalog/node-services/<node>``);
        ``(None, meta)`` for an unknown node."""
        data, meta = await self._core.request(
            "GET", id_path("/v1/catalog/node-services/", node, "node", "Node"),
            params=query_params(filter=filter, peer=peer), dc=dc, namespace=namespace,
            partition=partition, consistency=consistency, watch=watch, token=token,
        )
        # Consul answers an unknown node with {"Node": null, "Services": null}
        # (CatalogNodeServiceList returns the empty struct), unlike /catalog/node's null.
        if isinstance(data, dict) and data.get("Node") is None:
            data = None
        return data, meta

    async def gateway_services(
        self,
        gateway: ObjectID,
        *,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        consistency: Consistency | str | None = None,
        watch: Blocking | None = None,
        token: str | None = None,
    ) -> tuple[Collection, Meta]:
        """The services a terminating or ingress gateway routes to
        (``GET /v1/catalog/gateway-services/<gateway>``)."""
        return await read_list(
            self._core, id_path("/v1/catalog/gateway-services/", gateway, "gateway",
                                  SERVICE_NAME_KEYS),
            [], dc=dc, namespace=namespace, partition=partition, consistency=consistency,
            watch=watch, token=token,
        )
