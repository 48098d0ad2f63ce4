"""Connect intentions: ``/v1/connect/intentions/...``, kept in service-intentions config entries.

An intention allows or denies connections from a source service to a destination service (L4,
``action=``), or carries L7 ``permissions`` (HTTP paths, methods, headers) checked per request.
Since Consul 1.9 they live in the destination's ``service-intentions`` config entry: an upsert
here adds or replaces one source of that entry, so :attr:`client.config_entries` sees the same
data. Names are ``service``, ``namespace/service`` (Enterprise) or ``*``; more specific
intentions win (``Precedence``: exact => exact 9, * => exact 8, exact => * 6, * => * 5).

The ID-addressed methods (:meth:`Intentions.create`, :meth:`~Intentions.get_by_id`,
:meth:`~Intentions.update`, :meth:`~Intentions.delete_by_id`) call Consul's deprecated legacy
API: it still works, but only on intentions made through it, and refuses a destination whose
intentions were written any other way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from .._core import normalize
from .._core.core import Endpoint
from .._core.request import quote_key
from ..typing import Blocking, Collection, Consistency, Duration, Meta, Object

__all__ = ["Intentions"]

_ACTIONS = ("allow", "deny")
_MATCH_BY = ("source", "destination")


def _pair(source: Any, destination: Any) -> list[tuple[str, str]]:
    return [("source", normalize.text(source, "source")),
            ("destination", normalize.text(destination, "destination"))]


def _legacy_body(
    source: Any, destination: Any, action: Any, description: str | None,
    meta: Mapping[str, str] | None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "SourceName": normalize.text(source, "source"),
        "DestinationName": normalize.text(destination, "destination"),
        "SourceType": "consul",
        "Action": normalize.choice(action, "action", _ACTIONS),
    }
    if description is not None:
        body["Description"] = normalize.text(description, "description", empty=True)
    if meta is not None:
        body["Meta"] = normalize.str_map(meta, "meta")
    return body


def _legacy_id(value: Any) -> str:
    return quote_key(normalize.object_id(value, "id"))


class Intentions(Endpoint):
    """``client.connect.intentions`` (the Go client's ``Connect().Intention*``). Reads return
    ``(data, meta)`` and take ``dc``, ``consistency`` and ``watch``; every method takes
    ``token``: the ACL token of that call, instead of the client's."""

    __slots__ = ()

    async def upsert(
        self,
        source: str,
        destination: str,
        *,
        action: Literal["allow", "deny"] | None = None,
        permissions: Sequence[Mapping[str, Any]] | None = None,
        description: str | None = None,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        token: str | None = None,
    ) -> bool:
        """Create or replace the intention from ``source`` to ``destination``
        (``PUT /v1/connect/intentions/exact``); returns True.

        Give ``action`` (``"allow"`` or ``"deny"``: an L4 intention) or ``permissions`` (a
        list of Consul ``IntentionPermission`` mappings: an L7 intention), not both. Consul
        refuses what its config entry validation refuses (a partial wildcard such as ``"w*"``,
        L7 permissions on a ``*`` destination or a destination without an HTTP protocol).
        """
        params = _pair(source, destination)
        if (action is None) == (permissions is None):
            raise ValueError("give action ('allow' or 'deny') or permissions, not both")
        body: dict[str, Any] = {"SourceType": "consul"}
        if action is not None:
            body["Action"] = normalize.choice(action, "action", _ACTIONS)
        if permissions is not None:
            listed = normalize.list_of(permissions, "permissions", "mappings")
            body["Permissions"] = [
                normalize.mapping(p, f"permissions[{i}]", "an IntentionPermission mapping")
                for i, p in enumerate(listed)]
        if description is not None:
            body["Description"] = normalize.text(description, "description", empty=True)
        data, _ = await self._core.request(
            "PUT", "/v1/connect/intentions/exact", params=params, json=body, dc=dc,
            namespace=namespace, partition=partition, idempotent=True, token=token, with_meta=False,
        )
        return data is True

    async def get(
        self,
        source: str,
        destination: str,
        *,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        consistency: Consistency | str | None = None,
        watch: Blocking | None = None,
        token: str | None = None,
    ) -> tuple[Object | None, Meta]:
        """The intention from ``source`` to ``destination``
        (``GET /v1/connect/intentions/exact``); ``(None, meta)`` if there is none."""
        data, meta = await self._core.request(
            "GET", "/v1/connect/intentions/exact", params=_pair(source, destination), dc=dc,
            namespace=namespace, partition=partition, consistency=consistency, watch=watch,
            missing_ok=True, token=token,
        )
        return data, meta

    async def delete(
        self,
        source: str,
        destination: str,
        *,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        token: str | None = None,
    ) -> bool:
        """Delete the intention from ``source`` to ``destination`` (``DELETE
        /v1/connect/intentions/exact``); True, also when there was none. The destination's
        config entry goes with its last intention."""
        data, _ = await self._core.request(
            "DELETE", "/v1/connect/intentions/exact", params=_pair(source, destination),
            dc=dc, namespace=namespace, partition=partition, idempotent=True, token=token,
            with_meta=False,
        )
        return data is True

    async def items(
        self,
        *,
        filter: str | None = None,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        consistency: Consistency | str | None = None,
        watch: Blocking | None = None,
        token: str | None = None,
    ) -> tuple[Collection, Meta]:
        """Every intention the token may read, highest precedence first
        (``GET /v1/connect/intentions``); a blocking read. ``filter`` is a Consul filter
        expression over the intentions' fields (``SourceName == "web"``)."""
        params = [] if filter is None else [("filter", normalize.expression(filter))]
        data, meta = await self._core.request(
            "GET", "/v1/connect/intentions", params=params, dc=dc, namespace=namespace,
            partition=partition, consistency=consistency, watch=watch, token=token,
        )
        return (data or []), meta

    async def match(
        self,
        by: Literal["source", "destination"],
        names: str | Iterable[str],
        *,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        consistency: Consistency | str | None = None,
        watch: Blocking | None = None,
        token: str | None = None,
        cached: bool = False,
        max_age: Duration | None = None,
        stale_if_error: Duration | None = None,
    ) -> tuple[dict[str, list[Object]], Meta]:
        """The intentions that apply to each name, by ``source`` or ``destination``
        (``GET /v1/connect/intentions/match``): ``{name: [intention, ...]}``, each list in
        evaluation order (the first one that covers a connection decides it), ``*``
        intentions included. A blocking read; the token needs ``intention:read`` on every
        name.

        ``cached=True`` reads through the agent cache (Consul's ``intention-match`` type, the
        one its proxies watch: a background-refresh type, so always fresh, ``max_age`` and
        ``stale_if_error`` ignored by the agent); Meta's ``CacheHit`` tells. A cached entry
        keeps its index while its matches stay the same, so a blocking cached read returns
        only when they change.
        """
        params = [("by", normalize.choice(by, "by", _MATCH_BY))]
        listed = normalize.strings([names] if isinstance(names, str) else names, "names")
        if not listed:
            raise ValueError("names: give at least one name")
        params += [("name", name) for name in listed]
        data, meta = await self._core.request(
            "GET", "/v1/connect/intentions/match", params=params, dc=dc, namespace=namespace,
            partition=partition, consistency=consistency, watch=watch, token=token,
            cached=cached, max_age=max_age, stale_if_error=stale_if_error,
        )
        found = data if isinstance(data, dict) else {}
        return {name: list(found.get(name) or []) for name in listed}, meta

    async def check(
        self,
        source: str,
        destination: str,
        *,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        token: str | None = None,
    ) -> bool:
        """Whether a connection from ``source`` to ``destination`` is allowed
        (``GET /v1/connect/intentions/check``): the first intention covering it decides (an L7
        one counts as a denial here); with none, the default: allowed without ACLs, the ACL
        default policy with them. Needs ``service:read`` on the destination."""
        data, _ = await self._core.request(
            "GET", "/v1/connect/intentions/check", params=_pair(source, destination), dc=dc,
            namespace=namespace, partition=partition, token=token, with_meta=False,
        )
        return bool(isinstance(data, dict) and data.get("Allowed"))

    # -- the deprecated ID-addressed API ---------------------------------------------------

    async def create(
        self,
        source: str,
        destination: str,
        *,
        action: Literal["allow", "deny"],
        description: str | None = None,
        meta: Mapping[str, str] | None = None,
        dc: str | None = None,
        token: str | None = None,
    ) -> str:
        """Create a legacy intention with an ID (``POST /v1/connect/intentions``, deprecated
        since Consul 1.9); returns its ID. Consul refuses it when the destination already has
        an intention made any other way, or one from the same source."""
        body = _legacy_body(source, destination, action, description, meta)
        data, _ = await self._core.request(
            "POST", "/v1/connect/intentions", json=body, dc=dc, token=token, with_meta=False,
        )
        return str(data["ID"])

    async def get_by_id(
        self,
        id: str,
        *,
        dc: str | None = None,
        consistency: Consistency | str | None = None,
        watch: Blocking | None = None,
        token: str | None = None,
    ) -> tuple[Object | None, Meta]:
        """A legacy intention by its ID (``GET /v1/connect/intentions/:uuid``, deprecated);
        ``(None, meta)`` if there is none. ``id`` may be the intention itself."""
        data, meta = await self._core.request(
            "GET", f"/v1/connect/intentions/{_legacy_id(id)}", dc=dc, consistency=consistency,
            watch=watch, missing_ok=True, token=token,
        )
        return data, meta

    async def update(
        self,
        id: str,
        source: str,
        destination: str,
        *,
        action: Literal["allow", "deny"],
        description: str | None = None,
        meta: Mapping[str, str] | None = None,
        dc: str | None = None,
        token: str | None = None,
    ) -> None:
        """Replace a legacy intention (``PUT /v1/connect/intentions/:uuid``, deprecated); its
        destination cannot change."""
        body = _legacy_body(source, destination, action, description, meta)
        await self._core.request(
            "PUT", f"/v1/connect/intentions/{_legacy_id(id)}", json=body, dc=dc,
            idempotent=True, token=token,
        )

    async def delete_by_id(
        self, id: str, *, dc: str | None = None, token: str | None = None
    ) -> None:
        """Delete a legacy intention (``DELETE /v1/connect/intentions/:uuid``, deprecated); an
        unknown ID is an error."""
        await self._core.request(
            "DELETE", f"/v1/connect/intentions/{_legacy_id(id)}", dc=dc, token=token,
        )
