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
    connect_ca,
    coordinate,
    discovery_chain,
    event,
    health,
    intentions,
    kv,
    operator,
    peering,
    query,
    session,
    snapshot,
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
    *connect_ca.ROUTES,
    *coordinate.ROUTES,
    *discovery_chain.ROUTES,
    *event.ROUTES,
    *health.ROUTES,
    *intentions.ROUTES,
    *kv.ROUTES,
    *operator.ROUTES,
    *peering.ROUTES,
    *query.ROUTES,
    *session.ROUTES,
    *snapshot.ROUTES,
    *status.ROUTES,
    *txn.ROUTES,
)
