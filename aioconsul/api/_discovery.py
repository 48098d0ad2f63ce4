"""Query parameters shared by the discovery reads (catalog, health): ``near``, ``node-meta``,
``tag``, ``passing``, ``filter`` and ``peer``. Pure: builds parameter pairs through the core's
normalizers, never sends anything."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._core import normalize
from .._core.core import Core
from ..typing import Collection, Meta

__all__ = ["SERVICE_NAME_KEYS", "query_params", "read_list"]

#: Where a service object keeps the service's name: a catalog entry, an agent service, a
#: registration.
SERVICE_NAME_KEYS = ("ServiceName", "Service", "Name")


def query_params(
    *,
    near: Any = None,
    node_meta: Mapping[str, str] | None = None,
    filter: str | None = None,
    tag: Any = None,
    passing: bool = False,
    peer: str | None = None,
) -> list[tuple[str, str]]:
    """The parameter pairs of the discovery options that were given."""
    params: list[tuple[str, str]] = []
    if near is not None:
        params.append(("near", normalize.object_id(near, "near", "Node")))
    if node_meta is not None:
        params += normalize.node_meta(node_meta)
    if tag is not None:
        params += [("tag", item) for item in normalize.tags(tag)]
    if passing:
        params.append(("passing", ""))
    if filter is not None:
        params.append(("filter", normalize.expression(filter)))
    if peer is not None:
        params.append(("peer", normalize.object_id(peer, "peer", "Name")))
    return params


async def read_list(
    core: Core, path: str, params: list[tuple[str, str]], *, dc: Any, namespace: Any,
    partition: Any, consistency: Any, watch: Any,
    token: str | None = None, cached: bool = False, max_age: Any = None,
    stale_if_error: Any = None,
) -> tuple[Collection, Meta]:
    """A blocking, consistency-aware read of a list; Consul's ``null`` for none becomes ``[]``.
    ``cached``, ``max_age`` and ``stale_if_error`` read it through the agent cache."""
    data, meta = await core.request(
        "GET", path, params=params, dc=dc, namespace=namespace, partition=partition,
        consistency=consistency, watch=watch, token=token, cached=cached, max_age=max_age,
        stale_if_error=stale_if_error,
    )
    return (data or []), meta
