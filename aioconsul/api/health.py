"""Health: ``/v1/health/*`` — service instances with their checks, and checks by node or state.

A check's status is ``passing``, ``warning`` or ``critical`` (maintenance mode shows as a critical
check). ``passing=True`` keeps the instances whose every check, node checks included, passes.
Every read takes ``dc``, ``consistency`` and ``watch`` and returns its Meta.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._core import normalize
from .._core.core import Endpoint
from .._core.request import id_path
from ..typing import Blocking, Collection, Consistency, Duration, Meta, ObjectID
from ._discovery import SERVICE_NAME_KEYS, query_params, read_list

__all__ = ["Health", "STATES"]

#: The states ``/v1/health/state/<state>`` takes.
STATES = ("any", "passing", "warning", "critical")


class Health(Endpoint):
    """``client.health``: instances with their health, and checks by node, service or state.
    Every method takes ``token``: the ACL token of that call, instead of the client's."""

    __slots__ = ()

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
    ) -> tuple[Collection, Meta]:
        """The checks of one node, node and service checks alike
        (``GET /v1/health/node/<node>``)."""
        return await self._read(id_path("/v1/health/node/", node, "node", "Node"),
                                query_params(filter=filter, peer=peer), dc, namespace, partition,
                                consistency, watch, token)

    async def checks(
        self,
        service: ObjectID,
        *,
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
    ) -> tuple[Collection, Meta]:
        """The checks of every instance of a service (``GET /v1/health/checks/<service>``)."""
        return await self._read(
            id_path("/v1/health/checks/", service, "service", SERVICE_NAME_KEYS),
            query_params(near=near, node_meta=node_meta, filter=filter, peer=peer), dc,
            namespace, partition, consistency, watch, token)

    async def service(
        self,
        service: ObjectID,
        *,
        tag: str | list[str] | None = None,
        passing: bool = False,
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
        """Instances of a service, each ``{"Node", "Service", "Checks"}``
        (``GET /v1/health/service/<service>``).

        ``passing=True`` keeps only instances whose checks all pass; ``tag`` those having every
        given tag; ``near`` sorts by round-trip time from a node (or ``"_agent"``).
        ``cached=True`` reads through the agent cache (a background-refresh type: always fresh,
        ``max_age``/``stale_if_error`` ignored by the agent); Meta's ``CacheHit`` tells.
        """
        return await self._instances("/v1/health/service/", service, tag, passing, near,
                                     node_meta, filter, peer, dc, namespace, partition,
                                     consistency, watch, token, cached, max_age,
                                     stale_if_error)

    async def connect(
        self,
        service: ObjectID,
        *,
        tag: str | list[str] | None = None,
        passing: bool = False,
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
        """Connect-capable instances of a service with their health
        (``GET /v1/health/connect/<service>``)."""
        return await self._instances("/v1/health/connect/", service, tag, passing, near,
                                     node_meta, filter, peer, dc, namespace, partition,
                                     consistency, watch, token, cached, max_age,
                                     stale_if_error)

    async def ingress(
        self,
        service: ObjectID,
        *,
        tag: str | list[str] | None = None,
        passing: bool = False,
        near: ObjectID | None = None,
        node_meta: Mapping[str, str] | None = None,
        filter: str | None = None,
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
        """The ingress gateways serving a service, with their health
        (``GET /v1/health/ingress/<service>``)."""
        return await self._instances("/v1/health/ingress/", service, tag, passing, near,
                                     node_meta, filter, None, dc, namespace, partition,
                                     consistency, watch, token, cached, max_age,
                                     stale_if_error)

    async def state(
        self,
        state: str = "any",
        *,
        near: ObjectID | None = None,
        node_meta: Mapping[str, str] | None = None,
        filter: str | None = None,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        consistency: Consistency | str | None = None,
        watch: Blocking | None = None,
        token: str | None = None,
    ) -> tuple[Collection, Meta]:
        """Every check in ``state``: ``any``, ``passing``, ``warning`` or ``critical``
        (``GET /v1/health/state/<state>``)."""
        if state not in STATES:
            raise ValueError(f"state: expected one of {', '.join(STATES)}, got {state!r}")
        return await self._read(f"/v1/health/state/{state}",
                                query_params(near=near, node_meta=node_meta, filter=filter),
                                dc, namespace, partition, consistency, watch, token)

    async def _instances(
        self, base: str, service: Any, tag: Any, passing: bool, near: Any, node_meta: Any,
        filter: Any, peer: Any, dc: Any, namespace: Any, partition: Any, consistency: Any,
        watch: Any, token: str | None, cached: bool = False, max_age: Any = None,
        stale_if_error: Any = None,
    ) -> tuple[Collection, Meta]:
        normalize.flag(passing, "passing")
        return await read_list(
            self._core, id_path(base, service, "service", SERVICE_NAME_KEYS),
            query_params(tag=tag, passing=passing, near=near, node_meta=node_meta,
                         filter=filter, peer=peer),
            dc=dc, namespace=namespace, partition=partition, consistency=consistency,
            watch=watch, token=token, cached=cached, max_age=max_age,
            stale_if_error=stale_if_error)

    async def _read(
        self, path: str, params: list[tuple[str, str]], dc: Any, namespace: Any, partition: Any,
        consistency: Any, watch: Any, token: str | None,
    ) -> tuple[Collection, Meta]:
        return await read_list(self._core, path, params, dc=dc, namespace=namespace,
                               partition=partition, consistency=consistency, watch=watch,
                               token=token)
