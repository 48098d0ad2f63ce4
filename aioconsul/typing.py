"""The names of aioconsul's typing contract.

Every endpoint takes and returns values of these shapes. The polymorphic inputs
(``ObjectID``, ``ObjectIndex``, ``Duration``, ``Blocking``, ``Filter``, ``Consistency``,
``Payload``) are read in one place, :mod:`aioconsul._core.normalize`; this module only names
them and holds :class:`Meta` and :class:`Consistency`. It must never perform I/O.
"""

from __future__ import annotations

import datetime
import enum
import re
from collections.abc import Iterator
from collections.abc import Mapping as _AbcMapping
from typing import Any

from multidict import CIMultiDictProxy, istr

__all__ = [
    "Blocking",
    "Collection",
    "CollectionMeta",
    "Consistency",
    "Duration",
    "Filter",
    "HashBlocking",
    "Mapping",
    "Meta",
    "Object",
    "ObjectID",
    "ObjectIndex",
    "ObjectMeta",
    "Payload",
]

#: A JSON object as Consul returns it, field names spelled as Consul spells them.
Object = dict[str, Any]
#: A list of objects.
Collection = list[Object]
#: Objects keyed by their id (``/v1/agent/services`` and friends).
Mapping = dict[str, Object]

#: An id: the string itself, or any mapping with an ``"ID"`` key (an object Consul returned).
ObjectID = str | _AbcMapping[str, Any]
#: An index: an int or str, or any mapping with an ``"Index"`` key (a :class:`Meta` included).
ObjectIndex = int | str | _AbcMapping[str, Any]
#: A Go duration string (``"10s"``, ``"1h30m"``, ``"250ms"``) or a :class:`datetime.timedelta`.
Duration = str | datetime.timedelta
#: The index to wait past, optionally with the longest wait: ``meta`` or ``(meta, "30s")``.
Blocking = ObjectIndex | tuple[ObjectIndex, Duration | None]
#: The content hash to wait past, for the agent-local reads that block on one
#: (``agent.services.get``): a ContentHash str, or the ``meta`` or object of the previous read,
#: optionally with the longest wait: ``meta`` or ``(meta, "30s")``. A Meta without
#: ``ContentHash`` (a 404's) reads at once.
HashBlocking = str | _AbcMapping[str, Any] | tuple[str | _AbcMapping[str, Any], Duration | None]
#: A regular expression, compiled or as text.
Filter = str | re.Pattern[str]
#: Raw bytes. Base64 is the library's business, never the caller's.
Payload = bytes | bytearray


class Consistency(str, enum.Enum):
    """Consul's read consistency modes; each member compares equal to its string."""

    DEFAULT = "default"
    CONSISTENT = "consistent"
    STALE = "stale"

    def __str__(self) -> str:
        return self.value


# Response headers kept in Meta: (header, key, parser). Index, KnownLeader and LastContact are
# always present; the others only when the agent sent them (see api/api.go parseQueryMeta).
def _int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


def _true(text: str) -> bool:
    return text.lower() == "true"


def _hit(text: str) -> bool:
    return text.upper() == "HIT"


# The names are multidict's istr, for speed: a case-insensitive lookup (aiohttp's response
# headers) of an istr uses the case-folded name the istr keeps, where a str is folded again at
# every lookup, which made these eleven lookups half of the cost of a Meta. (An istr is a str:
# a plain mapping of headers finds it as it would the str.)
_INDEX = istr("X-Consul-Index")
_KNOWN_LEADER = istr("X-Consul-KnownLeader")
_LAST_CONTACT = istr("X-Consul-LastContact")
#: The optional ones: (header, key, parser); a parser of None keeps the text as it is, and a
#: parser's None drops the field (an Age that is not a number).
_OPTIONAL_HEADERS: tuple[tuple[str, str, Any], ...] = (
    (istr("X-Consul-Effective-Consistency"), "EffectiveConsistency", None),
    (istr("X-Consul-Default-ACL-Policy"), "DefaultACLPolicy", None),
    (istr("X-Consul-Query-Backend"), "QueryBackend", None),
    (istr("X-Cache"), "CacheHit", _hit),
    (istr("Age"), "CacheAge", _int),
    (istr("X-Consul-Results-Filtered-By-ACLs"), "ResultsFilteredByACLs", _true),
    (istr("X-Consul-ContentHash"), "ContentHash", None),
    (istr("X-Consul-Translate-Addresses"), "AddressTranslationEnabled", _true),
)


class Meta(_AbcMapping[str, Any]):
    """Read-only metadata of a response.

    Always holds ``Index`` (int, 0 when the agent sent none), ``KnownLeader`` (bool) and
    ``LastContact`` (int, milliseconds); and, whenever the agent sends them,
    ``EffectiveConsistency``, ``DefaultACLPolicy``, ``QueryBackend``, ``CacheHit``, ``CacheAge``
    (seconds), ``ResultsFilteredByACLs``, ``ContentHash`` and ``AddressTranslationEnabled``.
    A Meta is accepted wherever an :data:`ObjectIndex` or a :data:`Blocking` is.
    """

    __slots__ = ("_data",)
    _data: dict[str, Any]

    def __init__(self, data: _AbcMapping[str, Any] | None = None, /, **fields: Any) -> None:
        merged: dict[str, Any] = {"Index": 0, "KnownLeader": False, "LastContact": 0}
        if data is not None:
            merged.update(data)
        merged.update(fields)
        object.__setattr__(self, "_data", merged)

    @classmethod
    def from_headers(cls, headers: CIMultiDictProxy[str] | _AbcMapping[str, str]) -> Meta:
        """The metadata of one response, read from its headers at once: a Meta keeps a few
        fields, never the response's headers (a watch holds its last Meta for as long as it
        blocks, and the headers are several times bigger)."""
        # Every answer goes through here (see api/api.go parseQueryMeta): one function, the
        # three fields every Meta has written out, no call for a text field.
        get = headers.get
        index_text = get(_INDEX)
        contact_text = get(_LAST_CONTACT)
        try:
            index = int(index_text) if index_text else 0
        except ValueError:
            index = 0
        try:
            contact = int(contact_text) if contact_text else 0
        except ValueError:
            contact = 0
        data: dict[str, Any] = {
            "Index": index,
            "KnownLeader": get(_KNOWN_LEADER) == "true",
            "LastContact": contact,
        }
        for header, key, parse in _OPTIONAL_HEADERS:
            value = get(header)
            if value is not None:
                if parse is None:
                    data[key] = value
                else:
                    parsed = parse(value)
                    if parsed is not None:
                        data[key] = parsed
        self = _new_object(cls)
        _set_data(self, data)  # the slot's own setter (Meta refuses assignment): for speed
        return self

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self._data.get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Meta is read-only")

    def __repr__(self) -> str:
        return f"Meta({self._data!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, _AbcMapping):
            return self._data == dict(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self) -> tuple[Any, ...]:
        return (Meta, (self._data,))


_new_object = object.__new__
_set_data: Any = Meta.__dict__["_data"].__set__


#: An object with the metadata of the response that carried it.
ObjectMeta = tuple[Object, Meta]
#: A list of objects with the metadata of the response that carried it.
CollectionMeta = tuple[Collection, Meta]
