"""``?peer=`` reads of the catalog and health endpoints: the data imported from a peer.

Consul keeps what a peer exports in its own catalog, every row with ``PeerName`` set, and the
catalog and health queries read the peer's rows when ``?peer=`` names it. The dev agent keeps
those rows in the peering table (:meth:`~aioconsul.testing.state.peering.PeeringTable.
imported_services`); these functions are the three reads the endpoints serve from it, each
returning what the endpoint's query function returns, so a handler only branches once.

ACLs: reading imported data is allowed to a token that may write some service, or read every
service and every node (``policyAuthorizer.ServiceRead``/``NodeRead`` with a peer in the
authorizer context), so an instance is either all shown or hidden.
"""

from __future__ import annotations

from ..acl.authorizer import Enforcer, Permission
from ..backend import Backend
from ..golang.bexpr import Filter
from ..state.catalog import CHECKS, NODES, SERVICES
from ..structs.peering import (
    imported_check_json,
    imported_node_json,
    imported_node_service_json,
    imported_service_node_json,
)
from .query import Record, Result

__all__ = ["imported_readable", "peer_check_service_nodes", "peer_service_nodes",
           "peer_services"]


def imported_readable(authz: Enforcer) -> bool:
    """ServiceRead and NodeRead of an imported row: service:write on any service, or read on
    all services and all nodes."""
    if authz.allows(Permission.SERVICE_WRITE_ANY):
        return True
    return authz.allows(Permission.SERVICE_READ_ALL) and authz.allows(Permission.NODE_READ_ALL)


def _tagged(svc: Record, tags: list[str] | None) -> bool:
    if not tags:
        return True
    have = {t.lower() for t in svc["Tags"] or ()}
    return all(t.lower() in have for t in tags)


def peer_check_service_nodes(
    api: Backend, authz: Enforcer, peer: str, name: str, tags: list[str] | None,
    meta: dict[str, str] | None, bexpr: Filter, passing: bool,
) -> Result[list[Record]]:
    """Health.ServiceNodes with a PeerName: the peer's instances of ``name``."""
    table = api.peerings.table
    rows = [i for i in table.imported_instances(peer, name) if _tagged(i["Service"], tags)]
    shown = imported_readable(authz)
    out = []
    for row in rows if shown else ():
        node = imported_node_json(row["Node"], peer)
        if meta and not all((node["Meta"] or {}).get(k) == v for k, v in meta.items()):
            continue
        item: Record = {
            "Node": node,
            "Service": imported_node_service_json(row["Service"], peer),
            "Checks": [imported_check_json(c, peer) for c in row["Checks"]],
        }
        if not bexpr.matches(item):
            continue
        if passing and any(c["Status"] != "passing" for c in item["Checks"]):
            continue
        out.append(item)
    index = table.imported_index(peer) or table.index
    return Result(index, out, (SERVICES, NODES, CHECKS), filtered=bool(rows) and not shown)


def peer_service_nodes(
    api: Backend, authz: Enforcer, peer: str, name: str, tags: list[str] | None,
    meta: dict[str, str] | None, bexpr: Filter,
) -> Result[list[Record]]:
    """Catalog.ServiceNodes with a PeerName: the peer's instances as ServiceNodes."""
    table = api.peerings.table
    rows = [i for i in table.imported_instances(peer, name) if _tagged(i["Service"], tags)]
    shown = imported_readable(authz)
    out = []
    for row in rows if shown else ():
        item = imported_service_node_json(row["Service"], row["Node"], peer)
        if meta and not all((item["NodeMeta"] or {}).get(k) == v for k, v in meta.items()):
            continue
        if bexpr.matches(item):
            out.append(item)
    index = table.imported_index(peer) or table.index
    return Result(index, out, (SERVICES, NODES), filtered=bool(rows) and not shown)


def peer_services(
    api: Backend, authz: Enforcer, peer: str, meta: dict[str, str] | None, bexpr: Filter,
) -> Result[dict[str, list[str]]]:
    """Catalog.ListServices with a PeerName: each imported service name and its tags."""
    table = api.peerings.table
    imported = table.imported_services(peer)
    shown = imported_readable(authz)
    services: dict[str, list[str]] = {}
    for name in sorted(imported, key=str.lower) if shown else ():
        for row in imported[name]:
            item = imported_service_node_json(row["Service"], row["Node"], peer)
            if meta and not all((item["NodeMeta"] or {}).get(k) == v for k, v in meta.items()):
                continue
            if not bexpr.matches(item):
                continue
            tags = services.setdefault(item["ServiceName"], [])
            tags.extend(t for t in item["ServiceTags"] or () if t not in tags)
    index = table.imported_index(peer) or table.index
    return Result(index, services, (SERVICES,), filtered=bool(imported) and not shown)
