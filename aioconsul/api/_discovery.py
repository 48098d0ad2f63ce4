"""Query parameters shared by the discovery reads (catalog, health): ``near``, ``node-meta``,
``tag``, ``passing``, ``filter`` and ``peer``. Pure: builds parameter pairs through the core's
normalizers, never sends anything."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._core import normalize
from .._core.request import quote_segment

__all__ = ["name_path", "query_params"]


def name_path(base: str, value: Any, name: str, key: str | tuple[str, ...] = "ID") -> str:
    """``base`` followed by one quoted name or id taken from ``value`` (an ObjectID)."""
    return base + quote_segment(normalize.object_id(value, name, key))


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
