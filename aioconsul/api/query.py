"""Prepared queries: ``/v1/query`` — create, list, read, update, delete, execute and explain.

A prepared query stores a service lookup (service, tags, only-passing, ``Near``, failover, DNS
TTL) under an ID and an optional name; executing it, by ID or by name, answers the healthy
instances as ``/v1/health/service`` would. Templates (``Template.Type = "name_prefix_match"``)
answer every name starting with theirs, interpolated. Follows the Go client's
``api/prepared_query.go``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._core.core import Endpoint
from .._core.request import id_path
from ..typing import Collection, Consistency, Duration, Meta, Object, ObjectID

__all__ = ["Query"]


def _definition(definition: Any) -> dict[str, Any]:
    if not isinstance(definition, Mapping):
        raise TypeError(f"definition: expected a mapping, got {type(definition).__name__}")
    service = definition.get("Service")
    if not isinstance(service, Mapping) or not service.get("Service"):
        raise ValueError("definition: Service.Service (the service to query) is required")
    return dict(definition)


def _path(query: Any, suffix: str = "") -> str:
    return id_path("/v1/query/", query, "query") + suffix


class Query(Endpoint):
    """``client.query``: prepared queries. Every method takes ``token``: the ACL token of that
    call, instead of the client's."""

    __slots__ = ()

    async def create(
        self, definition: Mapping[str, Any], *, dc: str | None = None, token: str | None = None
    ) -> tuple[str, Meta]:
        """Create a prepared query (``POST /v1/query``); ``(its ID, meta)``."""
        body = _definition(definition)
        if body.get("ID"):
            raise ValueError("definition: ID must be empty when creating a prepared query")
        data, meta = await self._core.request("POST", "/v1/query", json=body, dc=dc, token=token)
        return str(data["ID"]), meta

    async def items(
        self, *, dc: str | None = None, consistency: Consistency | str | None = None,
        token: str | None = None,
    ) -> tuple[Collection, Meta]:
        """Every prepared query the token may read (``GET /v1/query``)."""
        data, meta = await self._core.request(
            "GET", "/v1/query", dc=dc, consistency=consistency, token=token)
        return (data or []), meta

    async def get(
        self, query: ObjectID, *, dc: str | None = None,
        consistency: Consistency | str | None = None, token: str | None = None,
    ) -> tuple[Object | None, Meta]:
        """One prepared query by ID (``GET /v1/query/<id>``); ``(None, meta)`` if unknown."""
        data, meta = await self._core.request(
            "GET", _path(query), dc=dc, consistency=consistency, missing_ok=True, token=token)
        return (data[0] if data else None), meta

    async def update(
        self, query: ObjectID, definition: Mapping[str, Any], *, dc: str | None = None,
        token: str | None = None,
    ) -> tuple[None, Meta]:
        """Replace a prepared query's definition (``PUT /v1/query/<id>``)."""
        body = _definition(definition)
        _, meta = await self._core.request(
            "PUT", _path(query), json=body, dc=dc, idempotent=True, token=token)
        return None, meta

    async def delete(
        self, query: ObjectID, *, dc: str | None = None, token: str | None = None
    ) -> tuple[None, Meta]:
        """Delete a prepared query (``DELETE /v1/query/<id>``); an unknown one is an error."""
        _, meta = await self._core.request("DELETE", _path(query), dc=dc, token=token)
        return None, meta

    async def execute(
        self, query: str, *, near: str | None = None, limit: int | None = None,
        connect: bool = False, dc: str | None = None,
        consistency: Consistency | str | None = None, token: str | None = None,
        cached: bool = False, max_age: Duration | None = None,
        stale_if_error: Duration | None = None,
    ) -> tuple[Object, Meta]:
        """Run a prepared query by ID or name (``GET /v1/query/<id-or-name>/execute``).

        Returns ``{"Service", "Nodes", "DNS", "Datacenter", "Failovers", ...}``; ``near``
        (a node name or ``"_agent"``) sorts by round-trip time, ``limit`` keeps the first N,
        ``connect`` asks for Connect-capable instances. An unknown query raises NotFound.

        ``cached=True`` reads through the agent cache, where a prepared query is a *simple*
        type (no background refresh): the first read fetches, later ones answer the stored
        result (Meta's ``CacheHit``, ``CacheAge`` in seconds) until it is older than
        ``max_age`` (``max_age=0`` fetches again); ``stale_if_error`` lets a stored result
        answer when a fetch fails. Consul's cache key is the query, ``limit`` and ``connect``
        (``PreparedQueryExecuteRequest.CacheInfo``): ``near`` does not change it, so a cached
        result keeps the order of the read that fetched it.
        """
        if not isinstance(query, str) or not query:
            raise TypeError("query: expected a query ID or name")
        params: list[tuple[str, str]] = []
        if near is not None:
            if not isinstance(near, str):
                raise TypeError(f"near: expected a str, got {type(near).__name__}")
            params.append(("near", near))
        if limit is not None:
            if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
                raise ValueError(f"limit: expected an int >= 0, got {limit!r}")
            params.append(("limit", str(limit)))
        if connect:
            params.append(("connect", ""))
        data, meta = await self._core.request(
            "GET", _path(query, "/execute"), params=params, dc=dc, consistency=consistency,
            token=token, cached=cached, max_age=max_age, stale_if_error=stale_if_error)
        result: Object = data
        return result, meta

    async def explain(
        self, query: str, *, dc: str | None = None,
        consistency: Consistency | str | None = None, token: str | None = None,
    ) -> tuple[Object, Meta]:
        """The query a name resolves to, templates rendered (``GET .../explain``)."""
        if not isinstance(query, str) or not query:
            raise TypeError("query: expected a query ID or name")
        data, meta = await self._core.request(
            "GET", _path(query, "/explain"), dc=dc, consistency=consistency, token=token)
        result: Object = data["Query"]
        return result, meta



