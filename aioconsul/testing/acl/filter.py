"""Listing filters: what a token may not read is dropped from an answer, not refused.

Consul's ``agent/consul/aclfilter`` (server-side results) and ``agent/acl.go`` (agent-local
listings): one function per result kind, each returning the kept items and whether anything
was hidden; the handler passes the flag on to ``setMeta``, which sets
``X-Consul-Results-Filtered-By-ACLs: true`` (see :func:`aioconsul.testing.http.query.set_meta`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from .authorizer import Enforcer

__all__ = ["keep"]

T = TypeVar("T")


def keep(
    authz: Enforcer, items: Sequence[T], allowed: Callable[[Enforcer, T], bool]
) -> tuple[list[T], bool]:
    """The items ``allowed`` lets ``authz`` see, and whether any was dropped."""
    kept = [item for item in items if allowed(authz, item)]
    return kept, len(kept) != len(items)
