"""Admin partitions (Consul Enterprise): ``/v1/partition/...`` and ``/v1/partitions``.

Follows the Go client's ``api/partition.go``. A partition is a mapping ``{"Name",
"Description", "DeletedAt", "CreateIndex", "ModifyIndex"}`` with Consul's field names; the
``default`` partition always exists on Enterprise. Consul CE registers none of these paths
(``agent/http_register.go`` has no partition route): a CE agent answers every one of them with
its mux's 404 ``Invalid URL path: not a recognized HTTP API endpoint``, which every method
raises as :class:`~aioconsul.errors.NotFound`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._core.core import Endpoint
from ..typing import Blocking, Collection, Consistency, Meta, Object, ObjectID
from .namespaces import definition, named

__all__ = ["Partitions"]


class Partitions(Endpoint):
    """``client.partitions`` (the Go client's ``Partitions()``), **Consul Enterprise only**.

    Reads return ``(data, meta)`` and take ``consistency`` and ``watch`` (a blocking read).
    Every method takes ``token``: the ACL token of that call, instead of the client's. A CE
    agent answers 404 to every one of them.
    """

    __slots__ = ()

    async def create(
        self, partition: Mapping[str, Any], *, token: str | None = None,
    ) -> tuple[Object, Meta]:
        """Create an admin partition (``PUT /v1/partition``) from ``{"Name",
        "Description"}``; ``(the partition as stored, meta)``. ``operator:write``."""
        body = definition(partition, "Partition")
        data, meta = await self._core.request("PUT", "/v1/partition", json=body, token=token)
        return dict(data or {}), meta

    async def get(
        self, name: ObjectID, *, consistency: Consistency | str | None = None,
        watch: Blocking | None = None, token: str | None = None,
    ) -> tuple[Object, Meta]:
        """One admin partition (``GET /v1/partition/<name>``).

        An unknown partition is a 404, raised as :class:`~aioconsul.errors.NotFound`, like
        the 404 of a CE agent (the Go client's ``Partitions().Read`` returns nil for any 404,
        so on CE it reads "no such partition"; here the agent's answer is raised).
        """
        _, path = named("/v1/partition/", name)
        data, meta = await self._core.request(
            "GET", path, consistency=consistency, watch=watch, token=token)
        return dict(data or {}), meta

    async def update(
        self, name: ObjectID, partition: Mapping[str, Any], *, token: str | None = None,
    ) -> tuple[Object, Meta]:
        """Replace an admin partition's description (``PUT /v1/partition/<name>``);
        ``(the partition as stored, meta)``."""
        key, path = named("/v1/partition/", name)
        body = definition(partition, "Partition", name=key)
        data, meta = await self._core.request(
            "PUT", path, json=body, idempotent=True, token=token)
        return dict(data or {}), meta

    async def delete(self, name: ObjectID, *, token: str | None = None) -> tuple[None, Meta]:
        """Mark an admin partition for deletion (``DELETE /v1/partition/<name>``): Consul
        removes what it holds, then the partition (its ``DeletedAt`` is set meanwhile)."""
        _, path = named("/v1/partition/", name)
        _, meta = await self._core.request("DELETE", path, token=token)
        return None, meta

    async def items(
        self, *, consistency: Consistency | str | None = None, watch: Blocking | None = None,
        token: str | None = None,
    ) -> tuple[Collection, Meta]:
        """The admin partitions (``GET /v1/partitions``), a blocking read."""
        data, meta = await self._core.request(
            "GET", "/v1/partitions", consistency=consistency, watch=watch, token=token)
        return list(data or []), meta
