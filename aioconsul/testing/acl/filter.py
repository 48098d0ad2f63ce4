"""Listing filters: what a token may not read is dropped from an answer, not refused.

Consul's ``agent/consul/aclfilter`` (server-side results) and ``agent/acl.go`` (agent-local
listings): one function per result kind, each returning the kept items and whether anything
was hidden; the handler passes the flag on to ``setMeta``, which sets
``X-Consul-Results-Filtered-By-ACLs: true`` (see :func:`aioconsul.testing.http.query.set_meta`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from ..state.event import UserEvent
from ..state.kvs import DirEntry
from ..state.session import Session
from .authorizer import Enforcer, Permission

__all__ = ["keep"]

T = TypeVar("T")


def keep(
    authz: Enforcer, items: Sequence[T], allowed: Callable[[Enforcer, T], bool]
) -> tuple[list[T], bool]:
    """The items ``allowed`` lets ``authz`` see, and whether any was dropped."""
    kept = [item for item in items if allowed(authz, item)]
    return kept, len(kept) != len(items)


# -- KV, sessions, events, coordinates, txn --------------------------------------------------

__all__ += ["coordinates", "dir_entries", "events", "mask", "sessions", "txn_results"]


def mask(token: str, hidden: bool) -> bool:
    """maskResultsFilteredByACLs (``agent/consul/rpc.go``): the "filtered" flag is only reported
    to a request that carried a token (its own or the agent's default), never to an anonymous
    one; agent-local listings do the same (``if token != "" { setResultsFilteredByACLs }``)."""
    return hidden and bool(token)


def dir_entries(authz: Enforcer, entries: Sequence[DirEntry]) -> tuple[list[DirEntry], bool]:
    """FilterDirEnt (``agent/consul/filter.go``): the entries whose key the token may read."""
    return keep(authz, entries, lambda a, e: a.allows(Permission.KEY_READ, e.key))


def sessions(authz: Enforcer, items: Sequence[Session]) -> tuple[list[Session], bool]:
    """filterSessions: ``session:read`` on the node each session belongs to."""
    return keep(authz, items, lambda a, s: a.allows(Permission.SESSION_READ, s.node))


def events(authz: Enforcer, items: Sequence[UserEvent]) -> tuple[list[UserEvent], bool]:
    """EventList (``agent/event_endpoint.go``): ``event:read`` on each event's name."""
    return keep(authz, items, lambda a, e: a.allows(Permission.EVENT_READ, e.name))


def coordinates(
    authz: Enforcer, items: Sequence[dict[str, Any]]
) -> tuple[list[dict[str, Any]], bool]:
    """filterCoordinates: ``node:read`` on each coordinate's ``Node``."""
    return keep(authz, items, lambda a, c: a.allows(Permission.NODE_READ, c["Node"]))


def _txn_result_allowed(authz: Enforcer, result: dict[str, Any]) -> bool:
    """txnResultsFilter.Filter: by the kind of object the result carries."""
    if result.get("KV") is not None:
        return authz.allows(Permission.KEY_READ, result["KV"]["Key"])
    if result.get("Node") is not None:
        return authz.allows(Permission.NODE_READ, result["Node"]["Node"])
    if result.get("Service") is not None:
        return authz.allows(Permission.SERVICE_READ, result["Service"]["Service"])
    if result.get("Check") is not None:
        check = result["Check"]
        if check.get("ServiceName"):
            return authz.allows(Permission.SERVICE_READ, check["ServiceName"])
        return authz.allows(Permission.NODE_READ, check["Node"])
    return True


def txn_results(
    authz: Enforcer, results: Sequence[dict[str, Any]]
) -> tuple[list[dict[str, Any]], bool]:
    """FilterTxnResults (``agent/consul/filter.go``): KV results need ``key:read``, nodes
    ``node:read``, services ``service:read``, checks ``service:read`` on their service (or
    ``node:read`` on their node when they have none)."""
    return keep(authz, results, _txn_result_allowed)


# -- catalog, health, agent ------------------------------------------------------------------
# agent/structs/aclfilter/filter.go (catalog and health results) and agent/acl.go (the agent's
# local services, checks and members). Each takes records shaped as Consul's structs encode.

__all__ += [
    "agent_checks",
    "agent_services",
    "check_service_nodes",
    "gateway_services",
    "health_checks",
    "members",
    "node_service_list",
    "node_services",
    "nodes",
    "service_nodes",
]

_Record = dict[str, Any]


def _allow_node(authz: Enforcer, node: str) -> bool:
    """Filter.allowNode."""
    return authz.allows(Permission.NODE_READ, node)


def _allow_service(authz: Enforcer, service: str) -> bool:
    """Filter.allowService: a result that names no service is always allowed."""
    return not service or authz.allows(Permission.SERVICE_READ, service)


def nodes(authz: Enforcer, items: Sequence[_Record]) -> tuple[list[_Record], bool]:
    """filterNodes: ``node:read`` on each structs.Node's ``Node``."""
    return keep(authz, items, lambda a, n: _allow_node(a, n["Node"]))


def service_nodes(authz: Enforcer, items: Sequence[_Record]) -> tuple[list[_Record], bool]:
    """filterServiceNodes: ``node:read`` on ``Node`` and ``service:read`` on ``ServiceName``."""
    return keep(
        authz, items, lambda a, s: _allow_node(a, s["Node"]) and _allow_service(a, s["ServiceName"])
    )


def health_checks(authz: Enforcer, items: Sequence[_Record]) -> tuple[list[_Record], bool]:
    """filterHealthChecks: ``node:read`` on ``Node`` and ``service:read`` on ``ServiceName``
    (a node check names no service)."""
    return keep(
        authz, items, lambda a, c: _allow_node(a, c["Node"]) and _allow_service(a, c["ServiceName"])
    )


def _can_read_check_service_node(authz: Enforcer, item: _Record) -> bool:
    """CheckServiceNode.CanRead: node:read on the node, service:read on the service (no
    exemption for an empty name here)."""
    return authz.allows(Permission.NODE_READ, item["Node"]["Node"]) and authz.allows(
        Permission.SERVICE_READ, item["Service"]["Service"]
    )


def check_service_nodes(authz: Enforcer, items: Sequence[_Record]) -> tuple[list[_Record], bool]:
    """filterCheckServiceNodes: the ``{Node, Service, Checks}`` entries CanRead allows."""
    return keep(authz, items, _can_read_check_service_node)


def node_services(authz: Enforcer, value: _Record | None) -> tuple[_Record | None, bool]:
    """filterNodeServices on ``{Node, Services: {id: NodeService}}`` (nil stays nil).

    A node the token may not read makes the whole answer nil. Services are kept by
    ``service:read`` on their *map key*, which is the service ID, not its name: Consul
    ranges over the map as ``for svcName, svc := range Services`` and asks about the key.
    """
    if value is None:
        return None, False
    node = value["Node"]["Node"]
    if not _allow_node(authz, node):
        return None, True
    services = value["Services"]
    kept = {
        sid: svc
        for sid, svc in services.items()
        if _allow_node(authz, node) and _allow_service(authz, sid)
    }
    return {**value, "Services": kept}, len(kept) != len(services)


def node_service_list(authz: Enforcer, value: _Record) -> tuple[_Record, bool]:
    """filterNodeServiceList on ``{Node, Services: [NodeService]}``: a node the token may not
    read leaves a zero NodeServiceList (both fields nil); services by ``service:read``."""
    if value["Node"] is None:
        return value, False
    if not _allow_node(authz, value["Node"]["Node"]):
        return {"Node": None, "Services": None}, True
    services = value["Services"]
    if services is None:
        return value, False
    kept, hidden = keep(authz, services, lambda a, s: _allow_service(a, s["Service"]))
    return {**value, "Services": kept}, hidden


def gateway_services(
    authz: Enforcer, items: Sequence[_Record] | None
) -> tuple[list[_Record], bool]:
    """filterGatewayServices: ``service:read`` on each mapping's linked ``Service.Name``.

    The filter always rebuilds the slice with ``make``, so a nil list comes back empty (and
    the answer is ``[]``, never ``null``).
    """
    return keep(
        authz, items or (), lambda a, g: a.allows(Permission.SERVICE_READ, g["Service"]["Name"])
    )


def agent_services(
    authz: Enforcer, services: dict[str, _Record]
) -> tuple[dict[str, _Record], bool]:
    """Agent.filterServicesWithAuthorizer: ``service:read`` on each api.AgentService's
    ``Service`` (``agent/acl.go``)."""
    kept = {
        sid: svc
        for sid, svc in services.items()
        if authz.allows(Permission.SERVICE_READ, svc["Service"])
    }
    return kept, len(kept) != len(services)


def agent_checks(
    authz: Enforcer, checks: dict[str, _Record], node_name: str
) -> tuple[dict[str, _Record], bool]:
    """Agent.filterChecksWithAuthorizer: a service check needs ``service:read`` on its
    ``ServiceName``, a node check ``node:read`` on the agent's own node name."""

    def allowed(check: _Record) -> bool:
        if check["ServiceName"]:
            return authz.allows(Permission.SERVICE_READ, check["ServiceName"])
        return authz.allows(Permission.NODE_READ, node_name)

    kept = {cid: check for cid, check in checks.items() if allowed(check)}
    return kept, len(kept) != len(checks)


def members(authz: Enforcer, items: Sequence[_Record]) -> tuple[list[_Record], bool]:
    """Agent.filterMembers: ``node:read`` on each serf member's ``Name``."""
    return keep(authz, items, lambda a, m: _allow_node(a, m["Name"]))


# -- config entries --------------------------------------------------------------------------

__all__ += ["config_entries", "config_entry_read", "config_entry_write"]

# Each kind's CanRead / CanWrite (agent/structs/config_entry*.go): the permission and whether
# it names the entry (None: anyone may read, as proxy-defaults and mesh CanRead return nil).
_SERVICE_KINDS = frozenset({"service-defaults", "service-router", "service-splitter",
                            "service-resolver"})
_MESH_READ_KINDS = frozenset({"exported-services", "inline-certificate",
                              "file-system-certificate", "jwt-provider", "sameness-group",
                              "bound-api-gateway"})
_SERVICE_READ_MESH_WRITE = frozenset({"ingress-gateway", "terminating-gateway", "api-gateway",
                                      "http-route", "tcp-route"})


def config_entry_read(kind: str) -> Permission | None:
    """The permission CanRead asks for, on the entry's name when it is named."""
    if kind in _SERVICE_KINDS or kind in _SERVICE_READ_MESH_WRITE:
        return Permission.SERVICE_READ
    if kind == "service-intentions":
        return Permission.INTENTION_READ
    if kind in _MESH_READ_KINDS:
        return Permission.MESH_READ
    if kind == "control-plane-request-limit":
        return Permission.OPERATOR_READ
    return None  # proxy-defaults, mesh


def config_entry_write(kind: str) -> Permission:
    """The permission CanWrite asks for, on the entry's name when it is named."""
    if kind in _SERVICE_KINDS:
        return Permission.SERVICE_WRITE
    if kind == "service-intentions":
        return Permission.INTENTION_WRITE
    if kind == "control-plane-request-limit":
        return Permission.OPERATOR_WRITE
    return Permission.MESH_WRITE


def config_entries(authz: Enforcer, items: Sequence[T], kind_name: Callable[[T], tuple[str, str]]
                   ) -> tuple[list[T], bool]:
    """ConfigEntry.List: the entries whose CanRead the token passes."""

    def allowed(a: Enforcer, item: T) -> bool:
        kind, name = kind_name(item)
        permission = config_entry_read(kind)
        return permission is None or a.allows(permission, name)

    return keep(authz, items, allowed)


# -- prepared queries --------------------------------------------------------------------------
# agent/consul/aclfilter/filter.go (filterPreparedQueries, redactPreparedQueryTokens): records
# shaped as structs.PreparedQuery encodes.

__all__ += ["prepared_queries", "redact_query_token"]

_REDACTED_TOKEN = "<hidden>"  # aclfilter's redactedToken


def _is_management(authz: Enforcer) -> bool:
    """ACLWriteAllowed: the test Consul's prepared-query filters use for "management"."""
    return authz.allows(Permission.ACL_WRITE)


def redact_query_token(authz: Enforcer, query: _Record) -> _Record:
    """redactPreparedQueryTokens: a stored token reads ``<hidden>`` unless management (an
    empty one stays visible)."""
    if _is_management(authz) or not query["Token"]:
        return query
    return {**query, "Token": _REDACTED_TOKEN}


def prepared_queries(authz: Enforcer, queries: Sequence[_Record]) -> tuple[list[_Record], bool]:
    """filterPreparedQueries: management sees everything; otherwise a query without a name
    (and not a template) is dropped, a named one needs ``query:read`` on its name, and the
    kept ones have their token redacted."""
    if _is_management(authz):
        return list(queries), False
    kept = [
        redact_query_token(authz, q)
        for q in queries
        if (q["Name"] or q["Template"]["Type"]) and authz.allows(Permission.QUERY_READ, q["Name"])
    ]
    return kept, len(kept) != len(queries)


# -- intentions --------------------------------------------------------------------------------

__all__ += ["intention_readable", "intentions"]


def intention_readable(authz: Enforcer, ixn: dict[str, Any]) -> bool:
    """Intention.CanRead: ``intention:read`` on either end (its source or its destination)."""
    return any(
        bool(ixn.get(end)) and authz.allows(Permission.INTENTION_READ, ixn[end])
        for end in ("SourceName", "DestinationName")
    )


def intentions(
    authz: Enforcer, items: Sequence[dict[str, Any]]
) -> tuple[list[dict[str, Any]], bool]:
    """filterIntentions (``agent/consul/aclfilter/filter.go``): the intentions CanRead allows."""
    return keep(authz, items, intention_readable)
