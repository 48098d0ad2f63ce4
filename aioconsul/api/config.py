"""Config entries: ``/v1/config`` — apply, read, list and delete centralized configuration.

An entry is a mapping with ``Kind`` and (except for ``mesh``) ``Name``; Consul keeps one entry
per kind and name, with ``CreateIndex``/``ModifyIndex``. Writes take ``cas=``: 0 creates only,
N writes only over ModifyIndex N (the Go client's ``ConfigEntries.CAS``/``DeleteCAS``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._core import normalize
from .._core.core import Endpoint
from .._core.request import quote_key
from ..typing import Blocking, Collection, Consistency, Meta, Object

__all__ = ["ConfigEntries"]


def _segment(value: Any, name: str) -> str:
    value = normalize.text(value, name)
    if "/" in value and name == "kind":
        raise ValueError(f"{name}: must not contain '/', got {value!r}")
    return quote_key(value)


def _cas(cas: Any) -> list[tuple[str, str]]:
    if cas is None:
        return []
    return [("cas", str(normalize.uint64(cas, "cas")))]


class ConfigEntries(Endpoint):
    """``client.config_entries`` (the Go client's ``ConfigEntries()``; ``client.config`` is
    the client's configuration): Consul's config entries. Reads return ``(data, meta)`` and take
    ``dc``, ``namespace``, ``partition``, ``consistency`` and ``watch``; every method takes
    ``token``: the ACL token of that call, sent instead of the client's."""

    __slots__ = ()

    async def apply(
        self,
        entry: Mapping[str, Any],
        *,
        cas: int | None = None,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        token: str | None = None,
    ) -> bool:
        """Create or replace an entry (``PUT /v1/config``); returns Consul's bool.

        With ``cas`` the write happens only if the entry's ModifyIndex is ``cas`` (0: only if
        there is none), and False says it did not. Consul validates the entry (its kind, name,
        and for routers and splitters an L7 protocol); a refusal raises the agent's error.
        """
        if not isinstance(entry, Mapping):
            raise TypeError(f"entry: expected a mapping, got {type(entry).__name__}")
        kind = entry.get("Kind", entry.get("kind"))
        if not isinstance(kind, str) or not kind:
            raise ValueError("entry: needs a Kind (such as 'service-defaults')")
        params = _cas(cas)
        data, _ = await self._core.request(
            "PUT", "/v1/config", params=params, json=dict(entry), dc=dc, namespace=namespace,
            partition=partition, idempotent=cas is None, token=token, with_meta=False,
        )
        return data is True

    async def get(
        self,
        kind: str,
        name: str,
        *,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        consistency: Consistency | str | None = None,
        watch: Blocking | None = None,
        token: str | None = None,
    ) -> tuple[Object | None, Meta]:
        """Read one entry (``GET /v1/config/<kind>/<name>``); ``(None, meta)`` if there is
        none."""
        path = f"/v1/config/{_segment(kind, 'kind')}/{_segment(name, 'name')}"
        data, meta = await self._core.request(
            "GET", path, dc=dc, namespace=namespace, partition=partition,
            consistency=consistency, watch=watch, missing_ok=True, token=token,
        )
        return data, meta

    async def items(
        self,
        kind: str,
        *,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        consistency: Consistency | str | None = None,
        watch: Blocking | None = None,
        token: str | None = None,
    ) -> tuple[Collection, Meta]:
        """Every entry of a kind (``GET /v1/config/<kind>``), by name; a blocking read."""
        data, meta = await self._core.request(
            "GET", f"/v1/config/{_segment(kind, 'kind')}", dc=dc, namespace=namespace,
            partition=partition, consistency=consistency, watch=watch, token=token,
        )
        return (data or []), meta

    async def delete(
        self,
        kind: str,
        name: str,
        *,
        cas: int | None = None,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        token: str | None = None,
    ) -> bool:
        """Delete an entry (``DELETE /v1/config/<kind>/<name>``).

        Without ``cas`` returns True (a missing entry too); with ``cas``, Consul's bool: False
        unless the entry's ModifyIndex is ``cas``.
        """
        path = f"/v1/config/{_segment(kind, 'kind')}/{_segment(name, 'name')}"
        data, _ = await self._core.request(
            "DELETE", path, params=_cas(cas), dc=dc, namespace=namespace,
            partition=partition, idempotent=cas is None, token=token, with_meta=False,
        )
        return data is True if cas is not None else True
