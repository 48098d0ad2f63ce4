"""The dev agent's one route table (Consul's ``agent/http_register.go``), from its groups.

Each module here is one Consul group (``agent/<group>_endpoint.go``) and exports its
``ROUTES``; this package joins them. Endpoint modules never import each other or this table:
what two of them share lives below, in :mod:`aioconsul.testing.http` or
:mod:`aioconsul.testing.structs`.
"""

from __future__ import annotations

from typing import Final

from ..http.reply import Route
from . import (
    acl,
    agent,
    catalog,
    config,
    coordinate,
    event,
    health,
    kv,
    operator,
    query,
    session,
    status,
    txn,
)

__all__ = ["ROUTES"]

#: Every route, group by group; the patterns of different groups never overlap, so the order
#: only matters inside a group (a subtree pattern after the exact ones it contains).
ROUTES: Final[tuple[Route, ...]] = (
    *acl.ROUTES,
    *agent.ROUTES,
    *catalog.ROUTES,
    *config.ROUTES,
    *coordinate.ROUTES,
    *event.ROUTES,
    *health.ROUTES,
    *kv.ROUTES,
    *operator.ROUTES,
    *query.ROUTES,
    *session.ROUTES,
    *status.ROUTES,
    *txn.ROUTES,
)
