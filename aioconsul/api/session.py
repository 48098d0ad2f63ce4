"""Sessions: ``/v1/session/*`` — create, destroy, renew and read the sessions that hold KV locks.

A session is invalidated when it is destroyed, when its TTL lapses without renewal (Consul may take
up to twice the TTL), or when one of its checks goes critical; its locks are then released or
deleted according to its Behavior, and the released keys cannot be re-acquired for LockDelay.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from .._core import normalize
from .._core.core import Endpoint
from .._core.request import id_path
from ..recipes.keepalive import SessionKeepAlive
from ..typing import Blocking, Collection, Consistency, Duration, Meta, Object, ObjectID

__all__ = ["Session"]

_BEHAVIORS = ("release", "delete")


def _names(value: Any, name: str) -> list[str]:
    return [normalize.object_id(item, name, "CheckID")
            for item in normalize.list_of(value, name, "check ids")]


def _path(verb: str, session: Any) -> str:
    return id_path(f"/v1/session/{verb}/", session, "session")


class Session(Endpoint):
    """``client.session``: the sessions behind KV locks. Every method takes ``token``: the ACL
    token of that call (a keep-alive renews and destroys with it too), instead of the
    client's."""

    __slots__ = ()

    async def create(
        self,
        name: str | None = None,
        *,
        node: ObjectID | None = None,
        lock_delay: Duration | None = None,
        behavior: str | None = None,
        ttl: Duration | None = None,
        checks: Iterable[Any] | None = None,
        node_checks: Iterable[Any] | None = None,
        service_checks: Iterable[Any] | None = None,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        token: str | None = None,
    ) -> Object:
        """Create a session (``PUT /v1/session/create``) and return ``{"ID": ...}``.

        ``node`` defaults to the agent's node; ``lock_delay`` to 15s on the agent (``"0s"``
        disables it); ``behavior`` is ``"release"`` (default) or ``"delete"``; ``ttl`` (10s to
        24h on a default agent) makes the session expire unless renewed. ``node_checks``
        defaults to ``["serfHealth"]`` on the agent; ``[]`` creates a session bound to no check.
        ``service_checks`` takes check ids or ``{"ID": ...}`` objects.
        """
        body: dict[str, Any] = {}
        if name is not None:
            body["Name"] = normalize.text(name, "name", empty=True)
        if node is not None:
            body["Node"] = normalize.object_id(node, "node", "Node")
        if lock_delay is not None:
            # Whole milliseconds, as the Go client's durToMsec (api/api.go) sends it: Consul reads
            # a LockDelay under 1000ns as seconds (session_endpoint.go fixupLockDelay), so
            # "500ns" would be 500s. A positive delay under 1ms rounds up to 1ms, not to 0ms
            # (which would turn the delay off); 0 stays 0, no delay.
            delay_ns = normalize.duration(lock_delay, "lock_delay")
            delay_ms = delay_ns // 1_000_000 or (1 if delay_ns > 0 else 0)
            body["LockDelay"] = f"{delay_ms}ms"
        if behavior is not None:
            if behavior not in _BEHAVIORS:
                raise ValueError(f"behavior: expected 'release' or 'delete', got {behavior!r}")
            body["Behavior"] = behavior
        if ttl is not None:
            body["TTL"] = normalize.format_duration(normalize.duration(ttl, "ttl"))
        if checks is not None:
            body["Checks"] = _names(checks, "checks")
        if node_checks is not None:
            body["NodeChecks"] = _names(node_checks, "node_checks")
        if service_checks is not None:
            body["ServiceChecks"] = [{"ID": check_id}
                                     for check_id in _names(service_checks, "service_checks")]
        # Without a node the session binds to the node of the agent that receives it: that is
        # the home agent's, never whichever agent a fail-over moved the client to.
        data, _ = await self._core.request(
            "PUT", "/v1/session/create", json=body, dc=dc, namespace=namespace,
            partition=partition, home=node is None, token=token, with_meta=False,
        )
        result: Object = data
        return result

    def keepalive(
        self,
        ttl: Duration = "15s",
        *,
        name: str | None = None,
        behavior: str | None = None,
        lock_delay: Duration | None = None,
        node: ObjectID | None = None,
        node_checks: Iterable[Any] | None = None,
        service_checks: Iterable[Any] | None = None,
        on_lost: Callable[[SessionKeepAlive], Any] | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        token: str | None = None,
    ) -> SessionKeepAlive:
        """A session with a ``ttl``, renewed in the background while it is in use.

        ``async with client.session.keepalive("15s") as session:`` creates the session (the
        other options are :meth:`create`'s), renews it every TTL/2 like the Go client's
        ``RenewPeriodic``, sets ``session.lost`` (and calls ``on_lost(session)``) if it cannot be
        kept, and destroys it on the way out. See
        :class:`~aioconsul.recipes.keepalive.SessionKeepAlive`. Nothing is sent before the
        context is entered; bad arguments are refused here.
        """
        ttl_ns = normalize.duration(ttl, "ttl")
        if ttl_ns <= 0:
            raise ValueError("ttl: a keep-alive session needs a TTL above 0")
        if name is not None:
            normalize.text(name, "name", empty=True)
        if behavior is not None and behavior not in _BEHAVIORS:
            raise ValueError(f"behavior: expected 'release' or 'delete', got {behavior!r}")
        if lock_delay is not None:
            normalize.duration(lock_delay, "lock_delay")
        if node is not None:
            normalize.object_id(node, "node", "Node")
        if node_checks is not None:
            node_checks = _names(node_checks, "node_checks")
        if service_checks is not None:
            service_checks = _names(service_checks, "service_checks")
        if on_lost is not None and not callable(on_lost):
            raise TypeError(f"on_lost: expected a callable, got {type(on_lost).__name__}")
        if token is not None:
            normalize.token(token)
        options: dict[str, Any] = {
            "name": name, "behavior": behavior, "lock_delay": lock_delay, "node": node,
            "node_checks": node_checks, "service_checks": service_checks,
            "namespace": namespace, "partition": partition, "token": token,
        }
        return SessionKeepAlive(self, ttl_ns, options, on_lost)

    async def destroy(
        self,
        session: ObjectID,
        *,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        token: str | None = None,
    ) -> bool:
        """Destroy a session (``PUT /v1/session/destroy/<id>``); unknown ids also give True."""
        data, _ = await self._core.request(
            "PUT", _path("destroy", session),
            dc=dc, namespace=namespace, partition=partition, idempotent=True, token=token,
            with_meta=False,
        )
        return data is True

    async def renew(
        self,
        session: ObjectID,
        *,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        token: str | None = None,
    ) -> Object:
        """Renew a session's TTL (``PUT /v1/session/renew/<id>``) and return the session.

        The returned ``TTL`` may be longer than asked: the servers ask clients to renew less
        often under load. An expired or unknown session raises :class:`~aioconsul.NotFound`.
        """
        data, _ = await self._core.request(
            "PUT", _path("renew", session),
            dc=dc, namespace=namespace, partition=partition, idempotent=True, token=token,
            with_meta=False,
        )
        result: Object = data[0]
        return result

    async def info(
        self,
        session: ObjectID,
        *,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        consistency: Consistency | str | None = None,
        watch: Blocking | None = None,
        token: str | None = None,
    ) -> tuple[Object | None, Meta]:
        """Read one session (``GET /v1/session/info/<id>``); ``(None, meta)`` if it is gone."""
        data, meta = await self._core.request(
            "GET", _path("info", session),
            dc=dc, namespace=namespace, partition=partition, consistency=consistency, watch=watch,
            token=token,
        )
        return (data[0] if data else None), meta

    async def node(
        self,
        node: ObjectID,
        *,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        consistency: Consistency | str | None = None,
        watch: Blocking | None = None,
        token: str | None = None,
    ) -> tuple[Collection, Meta]:
        """The sessions of one node (``GET /v1/session/node/<node>``)."""
        data, meta = await self._core.request(
            "GET", id_path("/v1/session/node/", node, "node", "Node"),
            dc=dc, namespace=namespace, partition=partition, consistency=consistency, watch=watch,
            token=token,
        )
        return (data or []), meta

    async def items(
        self,
        *,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        consistency: Consistency | str | None = None,
        watch: Blocking | None = None,
        token: str | None = None,
    ) -> tuple[Collection, Meta]:
        """Every session of the datacenter (``GET /v1/session/list``)."""
        data, meta = await self._core.request(
            "GET", "/v1/session/list", dc=dc, namespace=namespace, partition=partition,
            consistency=consistency, watch=watch, token=token,
        )
        return (data or []), meta
