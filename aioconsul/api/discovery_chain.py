"""The compiled discovery chain of a service: ``/v1/discovery-chain/:service``.

Consul compiles a service's service-router, service-splitter and service-resolver entries
(with service-defaults and proxy-defaults for the protocol) into one graph: a start node,
router/splitter/resolver nodes and the targets they lead to. Like the Go client
(``api/discovery_chain.go``), :meth:`DiscoveryChain.get` sends a GET, or a POST carrying the
overrides when one is given (both are reads).
"""

from __future__ import annotations

from typing import Any

from .._core import normalize
from .._core.core import Endpoint
from .._core.request import id_path
from ..typing import Blocking, Consistency, Duration, Meta, Object, ObjectID
from ._discovery import SERVICE_NAME_KEYS

__all__ = ["DiscoveryChain"]

_MESH_GATEWAY_MODES = ("none", "local", "remote")


class DiscoveryChain(Endpoint):
    """``client.discovery_chain``. Every method takes ``token``:
    the ACL token of that call, instead of the client's."""

    __slots__ = ()

    async def get(
        self,
        service: ObjectID,
        *,
        compile_dc: str | None = None,
        override_mesh_gateway: str | None = None,
        override_protocol: str | None = None,
        override_connect_timeout: Duration | None = None,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        consistency: Consistency | str | None = None,
        watch: Blocking | None = None,
        token: str | None = None,
        cached: bool = False,
        max_age: Duration | None = None,
        stale_if_error: Duration | None = None,
    ) -> tuple[Object, Meta]:
        """The compiled chain of ``service`` (``GET /v1/discovery-chain/<service>``): the
        ``Chain`` object of Consul's answer (``ServiceName``, ``Protocol``, ``StartNode``,
        ``Nodes``, ``Targets`` ...), and the meta; a blocking read (``watch=meta``) that wakes
        when a config entry changes the chain.

        ``compile_dc`` compiles as seen from another datacenter (``?compile-dc=``). The
        overrides change the result as an upstream's configuration would:
        ``override_mesh_gateway`` (``"none"``, ``"local"`` or ``"remote"``) for every target,
        ``override_protocol`` for the chain (a non-HTTP one drops routers and splitters),
        ``override_connect_timeout`` for every resolver; with any of them the request is a
        POST carrying them, and the chain has a ``CustomizationHash``. ``cached=True`` reads
        through the agent cache (a background-refresh type: always fresh, ``max_age`` and
        ``stale_if_error`` ignored by the agent).
        """
        path = id_path("/v1/discovery-chain/", service, "service", SERVICE_NAME_KEYS)
        params: list[tuple[str, str]] = []
        if compile_dc is not None:
            if not isinstance(compile_dc, str):
                raise TypeError(
                    f"compile_dc: expected a str, got {type(compile_dc).__name__}")
            if compile_dc:
                params.append(("compile-dc", compile_dc))
        body = _overrides(override_mesh_gateway, override_protocol, override_connect_timeout)
        data, meta = await self._core.request(
            "POST" if body is not None else "GET", path, params=params, json=body, dc=dc,
            namespace=namespace, partition=partition, consistency=consistency, watch=watch,
            idempotent=True, token=token, cached=cached, max_age=max_age,
            stale_if_error=stale_if_error,
        )
        chain = data.get("Chain") if isinstance(data, dict) else None
        return (chain if isinstance(chain, dict) else {}), meta


def _overrides(mesh_gateway: Any, protocol: Any, connect_timeout: Any) -> dict[str, Any] | None:
    """DiscoveryChainOptions as the Go client encodes them, or None when none is set
    (``requiresPOST``): ``OverrideMeshGateway`` is a struct (always written), the timeout a
    ``time.Duration`` (nanoseconds)."""
    mode = ""
    if mesh_gateway is not None:
        if not isinstance(mesh_gateway, str):
            raise TypeError(
                f"override_mesh_gateway: expected a str, got {type(mesh_gateway).__name__}")
        if mesh_gateway and mesh_gateway not in _MESH_GATEWAY_MODES:
            raise ValueError(
                "override_mesh_gateway: expected 'none', 'local' or 'remote', "
                f"got {mesh_gateway!r}")
        mode = mesh_gateway
    if protocol is not None and not isinstance(protocol, str):
        raise TypeError(f"override_protocol: expected a str, got {type(protocol).__name__}")
    timeout = 0
    if connect_timeout is not None:
        timeout = normalize.duration(connect_timeout, "override_connect_timeout")
    if not (mode or protocol or timeout):
        return None
    body: dict[str, Any] = {"OverrideMeshGateway": {"Mode": mode} if mode else {}}
    if protocol:
        body["OverrideProtocol"] = protocol
    if timeout:
        body["OverrideConnectTimeout"] = timeout
    return body
