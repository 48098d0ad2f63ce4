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
from ..typing import Blocking, Collection, Consistency, Meta, Object

__all__ = ["Intentions"]

_ACTIONS = ("allow", "deny")


def _name(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name}: expected a str, got {type(value).__name__}")
    if not value:
        raise ValueError(f"{name}: must not be empty")
    return value


def _pair(source: Any, destination: Any) -> list[tuple[str, str]]:
    return [("source", _name(source, "source")), ("destination", _name(destination, "destination"))]


def _action(action: Any) -> str:
    if not isinstance(action, str):
        raise TypeError(f"action: expected 'allow' or 'deny', got {type(action).__name__}")
    if action not in _ACTIONS:
        raise ValueError(f"action: expected 'allow' or 'deny', got {action!r}")
    return action


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name}: expected a str, got {type(value).__name__}")
    return value


def _meta(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise TypeError("meta: expected a mapping of str to str")
    return dict(value)


def _legacy_body(
    source: Any, destination: Any, action: Any, description: str | None,
    meta: Mapping[str, str] | None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "SourceName": _name(source, "source"),
        "DestinationName": _name(destination, "destination"),
        "SourceType": "consul",
        "Action": _action(action),
    }
    if description is not None:
        body["Description"] = _text(description, "description")
    if meta is not None:
        body["Meta"] = _meta(meta)
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
            body["Action"] = _action(action)
        if permissions is not None:
            if isinstance(permissions, (str, bytes, Mapping)) or not isinstance(
                permissions, Iterable
            ):
                raise TypeError("permissions: expected a list of mappings")
            items = list(permissions)
            if not all(isinstance(p, Mapping) for p in items):
                raise TypeError("permissions: expected a list of mappings")
            body["Permissions"] = [dict(p) for p in items]
        if description is not None:
            body["Description"] = _text(description, "description")
        data, _ = await self._core.request(
            "PUT", "/v1/connect/intentions/exact", params=params, json=body, dc=dc,
            namespace=namespace, partition=partition, idempotent=True, token=token,
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
    ) -> tuple[dict[str, list[Object]], Meta]:
        """The intentions that apply to each name, by ``source`` or ``destination``
        (``GET /v1/connect/intentions/match``): ``{name: [intention, ...]}``, each list in
        evaluation order (the first one that covers a connection decides it), ``*``
        intentions included. A blocking read; the token needs ``intention:read`` on every
        name."""
        if not isinstance(by, str):
            raise TypeError(f"by: expected 'source' or 'destination', got {type(by).__name__}")
        if by not in ("source", "destination"):
            raise ValueError(f"by: expected 'source' or 'destination', got {by!r}")
        wanted = [names] if isinstance(names, str) else names
        if not isinstance(wanted, Iterable):
            raise TypeError(f"names: expected a str or an iterable of str, got "
                            f"{type(names).__name__}")
        listed = [_name(name, "names") for name in wanted]
        if not listed:
            raise ValueError("names: give at least one name")
        params = [("by", by)] + [("name", name) for name in listed]
        data, meta = await self._core.request(
            "GET", "/v1/connect/intentions/match", params=params, dc=dc, namespace=namespace,
            partition=partition, consistency=consistency, watch=watch, token=token,
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
            namespace=namespace, partition=partition, token=token,
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
            "POST", "/v1/connect/intentions", json=body, dc=dc, token=token,
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
