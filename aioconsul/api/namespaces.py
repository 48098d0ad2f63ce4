"""Namespaces (Consul Enterprise): ``/v1/namespace/...`` and ``/v1/namespaces``.

Follows the Go client's ``api/namespace.go``. A namespace is a mapping ``{"Name",
"Description", "ACLs": {"PolicyDefaults", "RoleDefaults"}, "Meta", "Partition", "DeletedAt",
"CreateIndex", "ModifyIndex"}`` with Consul's field names. Consul CE registers none of these
paths (``agent/http_register.go`` has no namespace route): a CE agent answers every one of
them with its mux's 404 ``Invalid URL path: not a recognized HTTP API endpoint``, which every
method raises as :class:`~aioconsul.errors.NotFound`. The inputs are checked before anything
is sent, on CE as on Enterprise.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._core import normalize
from .._core.core import Endpoint
from .._core.request import quote_segment
from ..typing import Blocking, Collection, Consistency, Meta, Object, ObjectID

__all__ = ["Namespaces"]


def named(base: str, value: Any) -> tuple[str, str]:
    """``(name, path)``: the name of ``value`` (a str, or an object Consul returned, read at
    ``Name``) and ``base`` followed by it, quoted."""
    name = normalize.object_id(value, "name", "Name")
    return name, base + quote_segment(name)


def definition(value: Any, kind: str, *, name: str | None = None) -> dict[str, Any]:
    """The body of a namespace or partition write: a mapping with a ``Name`` (Go's "Must
    specify a Name for <kind> creation"); with ``name`` (an update, addressed by it), a
    ``Name`` in the body must be the same one."""
    if not isinstance(value, Mapping):
        raise TypeError(f"{kind.lower()}: expected a mapping, got {type(value).__name__}")
    body = dict(value)
    given = body.get("Name")
    if given is not None and not isinstance(given, str):
        raise TypeError(f"{kind.lower()}: Name must be a str, got {type(given).__name__}")
    if name is not None:
        if given and given != name:
            raise ValueError(f"{kind.lower()}: Name {given!r} is not the {kind.lower()} "
                             f"updated ({name!r})")
        body["Name"] = name
    elif not given:
        raise ValueError(f"{kind.lower()}: Must specify a Name for {kind} creation")
    return body


class Namespaces(Endpoint):
    """``client.namespaces`` (the Go client's ``Namespaces()``), **Consul Enterprise only**.

    Reads return ``(data, meta)`` and take ``partition``, ``consistency`` and ``watch`` (a
    blocking read); writes take ``partition``. Every method takes ``token``: the ACL token of
    that call, instead of the client's. A CE agent answers 404 to every one of them.
    """

    __slots__ = ()

    async def create(
        self, namespace: Mapping[str, Any], *, partition: str | None = None,
        token: str | None = None,
    ) -> tuple[Object, Meta]:
        """Create a namespace (``PUT /v1/namespace``) from ``{"Name", "Description", "ACLs",
        "Meta"}``; ``(the namespace as stored, meta)``. ``operator:write``."""
        body = definition(namespace, "Namespace")
        data, meta = await self._core.request(
            "PUT", "/v1/namespace", json=body, partition=partition, token=token)
        return dict(data or {}), meta

    async def get(
        self, name: ObjectID, *, partition: str | None = None,
        consistency: Consistency | str | None = None, watch: Blocking | None = None,
        token: str | None = None,
    ) -> tuple[Object, Meta]:
        """One namespace (``GET /v1/namespace/<name>``).

        An unknown namespace is a 404, raised as :class:`~aioconsul.errors.NotFound`, like
        the 404 of a CE agent, which has no such endpoint. (The Go client's
        ``Namespaces().Read`` returns nil for any 404, so on CE it reads "no such namespace";
        here the agent's answer is raised, its text telling the two apart.)
        """
        _, path = named("/v1/namespace/", name)
        data, meta = await self._core.request(
            "GET", path, partition=partition, consistency=consistency, watch=watch,
            token=token)
        return dict(data or {}), meta

    async def update(
        self, name: ObjectID, namespace: Mapping[str, Any], *, partition: str | None = None,
        token: str | None = None,
    ) -> tuple[Object, Meta]:
        """Replace a namespace's description, ACL defaults and meta
        (``PUT /v1/namespace/<name>``); ``(the namespace as stored, meta)``."""
        key, path = named("/v1/namespace/", name)
        body = definition(namespace, "Namespace", name=key)
        data, meta = await self._core.request(
            "PUT", path, json=body, partition=partition, idempotent=True, token=token)
        return dict(data or {}), meta

    async def delete(
        self, name: ObjectID, *, partition: str | None = None, token: str | None = None,
    ) -> tuple[None, Meta]:
        """Mark a namespace for deletion (``DELETE /v1/namespace/<name>``): Consul removes
        what it holds, then the namespace (its ``DeletedAt`` is set meanwhile)."""
        _, path = named("/v1/namespace/", name)
        _, meta = await self._core.request("DELETE", path, partition=partition, token=token)
        return None, meta

    async def items(
        self, *, partition: str | None = None, consistency: Consistency | str | None = None,
        watch: Blocking | None = None, token: str | None = None,
    ) -> tuple[Collection, Meta]:
        """The namespaces the token may see (``GET /v1/namespaces``), a blocking read."""
        data, meta = await self._core.request(
            "GET", "/v1/namespaces", partition=partition, consistency=consistency,
            watch=watch, token=token)
        return list(data or []), meta
