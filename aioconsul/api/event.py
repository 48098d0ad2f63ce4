"""User events: ``/v1/event/fire/<name>`` and ``/v1/event/list``.

Events travel by gossip: no ordering, no delivery guarantee, and the list is the last 256 events
this agent saw. The list's index is not a Raft index but a fold of the newest event's ID, only
meaningful against the same agent. Payloads are bytes in and bytes out.
"""

from __future__ import annotations

from typing import Any, overload

from .._core import normalize
from .._core.core import Endpoint
from .._core.request import quote_segment
from ..errors import ConsulError
from ..typing import Blocking, Collection, Duration, Filter, Meta, Object, Payload
from ..watch import Backoff, ErrorMode, EventWatch, QuietErrors, Watch

__all__ = ["Event", "id_to_index"]


def id_to_index(event_id: str) -> int:
    """The blocking index of an event ID, as Consul computes it (``api.Event.IDToIndex``).

    The UUID's first 16 and last 16 hex digits are read as two uint64s and XORed.
    """
    if not isinstance(event_id, str) or len(event_id) != 36:
        raise ValueError(f"event_id: expected a UUID string, got {event_id!r}")
    try:
        lower = int(event_id[0:8] + event_id[9:13] + event_id[14:18], 16)
        upper = int(event_id[19:23] + event_id[24:36], 16)
    except ValueError:
        raise ValueError(f"event_id: expected a UUID string, got {event_id!r}") from None
    return lower ^ upper


def _filters(node: Any, service: Any, tag: Any) -> list[tuple[str, str]]:
    if tag is not None and service is None:
        raise ValueError("tag: a tag filter needs a service filter too")
    return [(name, normalize.regex(value, name))
            for name, value in (("node", node), ("service", service), ("tag", tag))
            if value is not None]


def _name(value: Any, *, firing: bool = True) -> str:
    name = normalize.text(value, "name")
    if firing and name.startswith("_"):
        raise ValueError(f"name: names starting with '_' are reserved for Consul: {name!r}")
    return name


class Event(Endpoint):
    """``client.event``: fire user events and list the ones this agent has seen. Every method
    takes ``token``: the ACL token of that call (of each read of a watch), instead of the
    client's."""

    __slots__ = ()

    async def fire(
        self,
        name: str,
        payload: Payload | None = None,
        *,
        node: Filter | None = None,
        service: Filter | None = None,
        tag: Filter | None = None,
        dc: str | None = None,
        token: str | None = None,
    ) -> Object:
        """Fire event ``name`` (``PUT /v1/event/fire/<name>``) and return it as created.

        ``node``, ``service`` and ``tag`` are regular expressions restricting which agents act
        on it (``tag`` needs ``service``). The returned event's ``Payload`` is bytes.
        """
        params = _filters(node, service, tag)
        body = None if payload is None else normalize.payload(payload, "payload")
        data, _ = await self._core.request(
            "PUT", "/v1/event/fire/" + quote_segment(_name(name)), params=params, body=body,
            content_type="application/octet-stream" if body else None, dc=dc, b64="Payload",
            token=token, with_meta=False,
        )
        result: Object = data
        return result

    async def items(
        self,
        name: str | None = None,
        *,
        node: Filter | None = None,
        service: Filter | None = None,
        tag: Filter | None = None,
        watch: Blocking | None = None,
        token: str | None = None,
    ) -> tuple[Collection, Meta]:
        """List recent events, oldest first (``GET /v1/event/list``), payloads as bytes.

        ``name`` keeps only events of that name. ``watch=meta`` blocks until an event newer than
        the one ``meta`` saw arrives (the agent compares the index for inequality).
        """
        params = [("name", _name(name, firing=False))] if name is not None else []
        params += _filters(node, service, tag)
        data, meta = await self._core.request(
            "GET", "/v1/event/list", params=params, watch=watch, b64="Payload", token=token,
        )
        return (data or []), meta

    @overload
    def watch(
        self,
        name: str | None = None,
        *,
        since_now: bool = False,
        node: Filter | None = None,
        service: Filter | None = None,
        tag: Filter | None = None,
        wait: Duration | None = "5m",
        errors: QuietErrors = "log",
        backoff: Backoff | None = None,
        token: str | None = None,
        shared: bool = True,
    ) -> EventWatch[tuple[Object, Meta]]: ...

    @overload
    def watch(
        self,
        name: str | None = None,
        *,
        since_now: bool = False,
        node: Filter | None = None,
        service: Filter | None = None,
        tag: Filter | None = None,
        wait: Duration | None = "5m",
        errors: ErrorMode,
        backoff: Backoff | None = None,
        token: str | None = None,
        shared: bool = True,
    ) -> EventWatch[tuple[Object, Meta] | ConsulError]: ...

    def watch(
        self,
        name: str | None = None,
        *,
        since_now: bool = False,
        node: Filter | None = None,
        service: Filter | None = None,
        tag: Filter | None = None,
        wait: Duration | None = "5m",
        errors: ErrorMode = "log",
        backoff: Backoff | None = None,
        token: str | None = None,
        shared: bool = True,
    ) -> EventWatch[tuple[Object, Meta]] | EventWatch[tuple[Object, Meta] | ConsulError]:
        """Each new event, once: ``async for event, meta in client.event.watch("deploy"):``.

        The events the agent lists when the watch starts (its baseline) come first, unless
        ``since_now``. Entering ``async with`` (or ``await watch.ready()``) takes the baseline,
        so an event fired after that is seen; iterating without either takes it at the first
        iteration. Each event is yielded at most once, across a fail-over too. See
        :class:`~aioconsul.watch.EventWatch`. Event watches of one client with the same
        filters share one read of the list unless ``shared=False``; each keeps its own
        baseline and memory of the events it yielded.
        """
        if name is not None:
            _name(name, firing=False)
        _filters(node, service, tag)
        options: dict[str, Any] = {} if token is None else {"token": normalize.token(token)}
        return EventWatch(Watch(self.items, name, node=node, service=service, tag=tag,
                                wait=wait, errors=errors, backoff=backoff, shared=shared,
                                **options),
                          since_now=since_now)
