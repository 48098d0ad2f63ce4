"""The prepared-query table of the dev agent's state store (``state/prepared_query.go``).

Queries are kept by ID (``prepared-queries`` with its ``id``, ``name`` and ``template``
indexes): names are unique case-insensitively, a name may not alias another query's ID, only
one template may have an empty name, and a template is compiled when it is stored
(:func:`~aioconsul.testing.structs.prepared_query.compile_template`). Resolving a name looks
for an ID, then an exact name, then the template with the longest (case-insensitive) name
prefix, rendering a template for the name asked.

:class:`PreparedQueryTable` is an object over the :class:`~.store.Store`, as the catalog is:
its writes spend the store's one Raft index, touch :data:`QUERIES_TABLE`, and are saved and put
back by the store's write transactions. A query bound to a session goes with it, in the write
that deletes the session (destroyed, invalidated by a check or a node, in a transaction, or at
the end of its TTL), at that write's index, as Consul's ``deleteSessionTxn`` deletes them
(``deletePreparedQueryTxn``). Pure: no I/O, no clock.
"""

from __future__ import annotations

import copy
import re
from typing import TYPE_CHECKING, Any, Final

from ..structs.prepared_query import (
    CompiledTemplate,
    TemplateError,
    compile_template,
    render_template,
)
from .memdb import Restore, RPCError

if TYPE_CHECKING:
    from .store import Store

__all__ = ["QUERIES_TABLE", "PreparedQueryTable", "is_uuid"]

Record = dict[str, Any]

QUERIES_TABLE: Final = "prepared-queries"
ERR_MISSING_QUERY_ID: Final = "Missing Query ID"  # state.ErrMissingQueryID
_UUID: Final = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)


def is_uuid(text: str) -> bool:
    """state.isUUID."""
    return len(text) == 36 and _UUID.fullmatch(text) is not None


class PreparedQueryTable:
    """The stored prepared queries and their compiled templates."""

    def __init__(self, store: Store) -> None:
        self.store: Final = store
        self._queries: dict[str, Record] = {}  # lower-case ID -> query
        self._compiled: dict[str, CompiledTemplate] = {}  # lower-case ID -> template
        self._index = 0
        store._register_table(self._snapshot)
        store.on_session_deleted.append(self._session_deleted)

    def _snapshot(self) -> Restore:
        saved = (dict(self._queries), dict(self._compiled), self._index)

        def restore() -> None:
            self._queries, self._compiled, self._index = saved

        return restore

    # -- snapshots (fsm persistPreparedQueries) -------------------------------------------

    def dump(self) -> dict[str, Any]:
        """Every query and the table index."""
        queries = [copy.deepcopy(self._queries[key]) for key in sorted(self._queries)]
        return {"Queries": queries, "Index": self._index}

    def load(self, data: dict[str, Any]) -> None:
        """Replace every query with a :meth:`dump`, compiling the templates again."""
        queries: dict[str, Record] = {}
        compiled: dict[str, CompiledTemplate] = {}
        for query in data["Queries"]:
            key = str(query["ID"]).lower()
            queries[key] = copy.deepcopy(query)
            if query["Template"]["Type"]:
                try:
                    compiled[key] = compile_template(query)
                except TemplateError as exc:
                    raise RPCError(f"failed compiling template: {exc}") from None
        self._queries, self._compiled = queries, compiled
        self._index = int(data["Index"])

    def _session_deleted(self, index: int, session_id: str) -> None:
        """deleteSessionTxn's prepared-query half: every query bound to the session is
        deleted at the session delete's index (``deletePreparedQueryTxn``)."""
        session_id = session_id.lower()
        gone = [key for key, q in self._queries.items()
                if q["Session"] and q["Session"].lower() == session_id]
        for key in gone:
            del self._queries[key]
            self._compiled.pop(key, None)
        if gone:
            self._index = index
            self.store.touch(QUERIES_TABLE)

    # -- writes ------------------------------------------------------------------------------

    def set(self, query: Record) -> int:
        """PreparedQuerySet (create or update, by ``query["ID"]``); the index it applied at."""
        if not query["ID"]:
            raise RPCError(ERR_MISSING_QUERY_ID)
        key = query["ID"].lower()
        existing = self._queries.get(key)
        name = query["Name"]
        is_template = bool(query["Template"]["Type"])
        if name:
            other = self._by_name(name)
            if other is not None and (existing is None or existing["ID"] != other["ID"]):
                raise RPCError(f"name '{name}' aliases an existing query name")
        elif is_template:
            other = self._empty_template()
            if other is not None and (existing is None or existing["ID"] != other["ID"]):
                raise RPCError("a query template with an empty name already exists")
        if is_uuid(name) and name.lower() in self._queries:
            raise RPCError(f"name '{name}' aliases an existing query ID")
        if query["Session"] and not self.store._session_exists(query["Session"]):
            raise RPCError(f'invalid session "{query["Session"]}"')
        compiled = None
        if is_template:
            try:
                compiled = compile_template(query)
            except TemplateError as exc:
                raise RPCError(f"failed compiling template: {exc}") from None
        index = self.store.next_index()
        stored = dict(query)
        stored["CreateIndex"] = existing["CreateIndex"] if existing else index
        stored["ModifyIndex"] = index
        self._queries[key] = stored
        if compiled is not None:
            self._compiled[key] = compiled
        else:
            self._compiled.pop(key, None)
        self._index = index
        self.store.touch(QUERIES_TABLE)
        self.store.commit()
        return index

    def delete(self, query_id: str) -> None:
        """PreparedQueryDelete: a missing ID changes nothing (the Raft index is still spent)."""
        index = self.store.next_index()
        if self._queries.pop(query_id.lower(), None) is not None:
            self._compiled.pop(query_id.lower(), None)
            self._index = index
            self.store.touch(QUERIES_TABLE)
        self.store.commit()

    # -- reads -------------------------------------------------------------------------------

    def _by_name(self, name: str) -> Record | None:
        lowered = name.lower()
        for query in self._queries.values():
            if query["Name"] and query["Name"].lower() == lowered:
                return query
        return None

    def _empty_template(self) -> Record | None:
        for query in self._queries.values():
            if query["Template"]["Type"] and not query["Name"]:
                return query
        return None

    def get(self, query_id: str) -> tuple[int, Record | None]:
        """PreparedQueryGet by ID: (table index, query or None)."""
        return self._index, self._queries.get(query_id.lower())

    def exists(self, query_id: str) -> bool:
        return query_id.lower() in self._queries

    def list(self) -> tuple[int, list[Record]]:
        """PreparedQueryList, in ID order."""
        return self._index, [self._queries[k] for k in sorted(self._queries)]

    def resolve(self, id_or_name: str, segment: str = "") -> tuple[int, Record | None]:
        """PreparedQueryResolve: by ID, then exact name, then longest template prefix."""
        index = self._index
        if not id_or_name:
            raise RPCError(ERR_MISSING_QUERY_ID)
        if is_uuid(id_or_name):
            query = self._queries.get(id_or_name.lower())
            if query is not None:
                if query["Template"]["Type"]:
                    raise RPCError(
                        "prepared query templates can only be resolved up by name, not by ID"
                    )
                return index, query
        found = self._by_name(id_or_name)
        if found is None:
            lowered = id_or_name.lower()
            best = -1
            for query in self._queries.values():
                prefix = query["Name"].lower()
                if query["Template"]["Type"] and lowered.startswith(prefix) and len(prefix) > best:
                    found, best = query, len(prefix)
        if found is None:
            return index, None
        compiled = self._compiled.get(found["ID"].lower())
        if found["Template"]["Type"] and compiled is not None:
            try:
                return index, render_template(compiled, id_or_name, segment)
            except TemplateError as exc:
                raise RPCError(str(exc)) from None
        return index, found
