"""The session table of the dev agent's state store (Consul's ``agent/consul/state/session.go``,
with the validation ``agent/consul/session_endpoint.go`` does before Raft).

A session is bound to a node and to health checks (``Checks``, ``NodeChecks``,
``ServiceChecks``): creating one checks them against the catalog tables (or, without a
catalog, against the dev node and its passing ``serfHealth`` check), and a critical or deleted
check, or a deleted node, invalidates it (``checkSessionsTxn``, ``deleteSessionTxn``).
Invalidating a session releases or deletes the KV keys it holds (its ``Behavior``) and starts
their lock-delay in the KV table (:mod:`.kvs`). The TTL timers that invalidate an unrenewed
session are agent-side (:mod:`aioconsul.testing.local.session_timers`).

Writes touch the channel :data:`SESSIONS_TABLE`. :class:`SessionTable` is a mixin of
:class:`~aioconsul.testing.state.store.Store` over the KV table; errors are Consul's texts
(:class:`~aioconsul.testing.state.memdb.RPCError`).

This module never does I/O, never imports asyncio or aiohttp and never reads the wall clock
directly: time comes from the injected ``clock`` (monotonic seconds).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Final, Protocol

from ..golang.stdlib import HOUR, SECOND, GoSyntaxError, format_duration, parse_duration
from .kvs import KVTable
from .memdb import Restore, RPCError, dump_value, generate_uuid, load_value

__all__ = [
    "MAX_LOCK_DELAY",
    "SESSIONS_TABLE",
    "SESSION_TTL_MAX",
    "NodeCatalog",
    "Session",
    "SessionTable",
]

SESSIONS_TABLE: Final = "sessions"
MAX_LOCK_DELAY: Final = 60 * SECOND  # structs.MaxLockDelay
SESSION_TTL_MAX: Final = 24 * HOUR  # structs.SessionTTLMax
SERF_CHECK_ID: Final = "serfHealth"


class NodeCatalog(Protocol):
    """What session validation reads from the catalog tables (``catalog.Catalog``)."""

    def has_node(self, node: str) -> bool:
        """Whether ``node`` is registered (names compare case-insensitively)."""
        ...

    def check_status(self, node: str, check_id: str) -> str | None:
        """The status of ``node``'s check ``check_id``, or None when it is not registered."""
        ...


def _session_check_ids(session: Session) -> set[str]:
    """Session.CheckIDs(), lower-cased as the session-checks index stores them."""
    ids = [*(session.checks or ()), *(session.node_checks or ())]
    ids += [c["ID"] for c in session.service_checks or ()]
    return {check.lower() for check in ids}


@dataclass(frozen=True, slots=True)
class Session:
    """A session (structs.Session, CE fields only)."""

    id: str
    name: str
    node: str
    lock_delay: int  # nanoseconds
    behavior: str
    ttl: str
    node_checks: list[str] | None
    service_checks: list[dict[str, str]] | None
    checks: list[str] | None
    create_index: int
    modify_index: int

    def ttl_ns(self) -> int:
        """The TTL timer's base duration (server.resetSessionTimer); 0 means no timer."""
        if self.ttl in ("", "0", "0s", "0m", "0h"):
            return 0
        return parse_duration(self.ttl)  # validated on create, cannot fail here


class SessionTable(KVTable):
    """The sessions, checked against the catalog and bound to the keys they lock (a mixin)."""

    node_name: str
    session_ttl_min: int  # nanoseconds

    def _init_sessions(self) -> None:
        self._sessions: dict[str, Session] = {}  # keyed by lower-case ID (indexFromQuery)
        self._sessions_index = 0
        #: The catalog tables (``catalog.Catalog``) sessions are checked against; without
        #: one, the store knows only the dev node and its passing ``serfHealth`` check.
        self.catalog: NodeCatalog | None = None
        #: Called with ``(index, session ID)`` inside the write that deletes a session: the
        #: tables bound to sessions (the prepared queries) drop their part in that write.
        self.on_session_deleted: list[Callable[[int, str], None]] = []
        self._register_table(self._snapshot_sessions)

    def _snapshot_sessions(self) -> Restore:
        saved = dict(self._sessions), self._sessions_index

        def restore() -> None:
            self._sessions, self._sessions_index = saved

        return restore

    def _session_exists(self, session_id: str) -> bool:
        return session_id.lower() in self._sessions

    # -- snapshots (fsm persistSessions / restoreSession) -----------------------------------

    def sessions_dump(self) -> dict[str, Any]:
        """The sessions (their checks are part of each) and the table index."""
        sessions = [dump_value(self._sessions[key]) for key in sorted(self._sessions)]
        return {"Sessions": sessions, "Index": self._sessions_index}

    def sessions_load(self, data: dict[str, Any]) -> None:
        """Replace every session with a :meth:`sessions_dump` (no TTL timer is armed here: the
        leader re-arms them after a restore, :meth:`Backend.restore_snapshot`)."""
        sessions = [load_value(Session, item) for item in data["Sessions"]]
        self._sessions = {session.id.lower(): session for session in sessions}
        self._sessions_index = int(data["Index"])

    # -- sessions --------------------------------------------------------------------------

    def session_create(
        self,
        *,
        name: str,
        node: str,
        lock_delay: int,
        behavior: str,
        ttl: str,
        node_checks: list[str] | None,
        service_checks: list[dict[str, str]] | None,
        checks: list[str] | None,
    ) -> Session:
        """Session.Apply (create) and state.sessionCreateTxn, with their error texts."""
        if not node:
            raise RPCError("Must provide Node")
        if behavior == "":
            behavior = "release"
        elif behavior not in ("release", "delete"):
            raise RPCError(f"Invalid Behavior setting '{behavior}'")
        if ttl:
            try:
                ttl_ns = parse_duration(ttl)
            except GoSyntaxError as exc:
                raise RPCError(f"Session TTL '{ttl}' invalid: {exc}") from None
            if ttl_ns != 0 and not self.session_ttl_min <= ttl_ns <= SESSION_TTL_MAX:
                raise RPCError(
                    f"Invalid Session TTL '{ttl_ns}', must be between "
                    f"[{format_duration(self.session_ttl_min)}={format_duration(SESSION_TTL_MAX)}]"
                )
        session_id = generate_uuid()
        while session_id in self._sessions:  # pragma: no cover - 128 random bits
            session_id = generate_uuid()
        index = self._apply()
        # What follows runs in the FSM: its errors come back as "apply failed: ...".
        catalog = self.catalog
        known = catalog.has_node(node) if catalog else node.lower() == self.node_name.lower()
        if not known:
            raise RPCError("apply failed: Missing node registration")
        # validateSessionChecksTxn: Session.CheckIDs(), each looked up as (node, check ID) in
        # the checks table; a missing or critical check refuses the session.
        wanted = [*(checks or ()), *(node_checks or ()), *(c["ID"] for c in service_checks or ())]
        for check in wanted:
            if catalog is not None:
                status = catalog.check_status(node, check)
            else:
                status = "passing" if check.lower() == SERF_CHECK_ID.lower() else None
            if status is None:
                raise RPCError(f"apply failed: Missing check '{check}' registration")
            if status == "critical":
                raise RPCError(f"apply failed: Check '{check}' is in critical state")
        session = Session(
            id=session_id,
            name=name,
            node=node,
            lock_delay=lock_delay,
            behavior=behavior,
            ttl=ttl,
            node_checks=node_checks,
            service_checks=service_checks,
            checks=checks,
            create_index=index,
            modify_index=index,
        )
        self._sessions[session_id] = session
        self._sessions_index = index
        self._changed.add(SESSIONS_TABLE)
        self._flush()
        return session

    def session_get(self, session_id: str) -> tuple[int, Session | None]:
        """state.SessionGet: the sessions table index and the session, if it exists."""
        return self._sessions_index, self._sessions.get(session_id.lower())

    def session_list(self) -> tuple[int, list[Session]]:
        """state.SessionList, in ID order."""
        return self._sessions_index, [self._sessions[k] for k in sorted(self._sessions)]

    def node_sessions(self, node: str) -> tuple[int, list[Session]]:
        """state.NodeSessions (node names compare case-insensitively)."""
        index, sessions = self.session_list()
        return index, [s for s in sessions if s.node.lower() == node.lower()]

    def session_destroy(self, session_id: str) -> None:
        """Session.Apply (destroy): a missing session is a no-op that never reaches Raft."""
        session = self._sessions.get(session_id.lower())
        if session is None:
            return
        index = self._apply()
        self._invalidate(index, session)
        self._flush()

    def _invalidate(self, index: int, session: Session) -> None:
        """state.deleteSessionTxn: release or delete held keys and start their lock-delay,
        and delete the prepared queries bound to the session (:attr:`on_session_deleted`)."""
        del self._sessions[session.id.lower()]
        self._sessions_index = index
        self._changed.add(SESSIONS_TABLE)
        for deleted in self.on_session_deleted:
            deleted(index, session.id)
        delay = min(session.lock_delay, MAX_LOCK_DELAY)
        now = self._clock()
        for key in sorted(self._held.pop(session.id.lower(), set())):
            entry = self._kv[key]
            if session.behavior == "delete":
                self._delete_txn(index, key)
            else:
                self._set_txn(index, replace(entry, session=""), update_session=True)
            if delay > 0:
                self._lock_delay[key] = now + delay / SECOND

    # -- called by the catalog tables (catalog.py) when a check or a node goes -----------

    def invalidate_check_sessions(self, index: int, node: str, check_id: str) -> None:
        """checkSessionsTxn + deleteSessionTxn: drop every session bound to (node, check)."""
        node, check_id = node.lower(), check_id.lower()
        for session in list(self._sessions.values()):
            if session.node.lower() == node and check_id in _session_check_ids(session):
                self._invalidate(index, session)

    def invalidate_node_sessions(self, index: int, node: str) -> None:
        """allNodeSessionsTxn + deleteSessionTxn, as deleting a node does."""
        for session in list(self._sessions.values()):
            if session.node.lower() == node.lower():
                self._invalidate(index, session)
