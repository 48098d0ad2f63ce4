"""Coercers for every polymorphic input of the typing contract.

Each function takes what a caller handed in and the argument's name, and returns the one form the
request builder uses, or raises ``TypeError``/``ValueError`` naming the argument. Pure: no I/O, no
global state, so every accepted and every rejected form has a unit test.
"""

from __future__ import annotations

import datetime
import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from ..typing import Consistency, Meta

__all__ = [
    "blocking",
    "cache_seconds",
    "choice",
    "consistency",
    "definition",
    "describe",
    "duration",
    "expression",
    "extract",
    "flag",
    "format_duration",
    "format_wait",
    "go_duration",
    "hash_blocking",
    "index",
    "kv_key",
    "list_of",
    "mapping",
    "node_meta",
    "object_id",
    "payload",
    "regex",
    "str_map",
    "strings",
    "tags",
    "text",
    "token",
    "uint64",
]

MAX_UINT64 = 2**64 - 1
MAX_DURATION_NS = 2**63 - 1  # Go's time.Duration is an int64 of nanoseconds

_UNITS_NS = {
    "ns": 1,
    "us": 1_000,
    "\u00b5s": 1_000,  # micro sign
    "\u03bcs": 1_000,  # greek small letter mu
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
_MISSING: Any = object()
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)")


def describe(value: object) -> str:
    """A value as the messages name it: its type and its repr (``int 3``)."""
    return f"{type(value).__name__} {value!r}"


# -- the plain inputs every group shares ----------------------------------------------------


def text(value: Any, name: str, *, empty: bool = False) -> str:
    """A str argument (a name, an ID, a description...): not empty unless ``empty``."""
    if not isinstance(value, str):
        raise TypeError(f"{name}: expected a str, got {type(value).__name__}")
    if not value and not empty:
        raise ValueError(f"{name}: must not be empty")
    return value


def flag(value: Any, name: str) -> bool:
    """A bool argument: True or False, not a truthy value (``"false"`` is not False)."""
    if not isinstance(value, bool):
        raise TypeError(f"{name}: expected a bool, got {type(value).__name__}")
    return value


def _either(choices: tuple[str, ...]) -> str:
    quoted = [repr(choice) for choice in choices]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"


def choice(value: Any, name: str, choices: tuple[str, ...]) -> str:
    """One of ``choices`` (an intention's ``action``, a match's ``by``...), as given."""
    if not isinstance(value, str):
        raise TypeError(f"{name}: expected {_either(choices)}, got {type(value).__name__}")
    if value not in choices:
        raise ValueError(f"{name}: expected {_either(choices)}, got {value!r}")
    return value


def list_of(value: Any, name: str, what: str) -> list[Any]:
    """A list argument, given as any iterable but a str, bytes or mapping (iterating those
    gives characters, ints or keys: never what was meant). ``what`` names the items."""
    if isinstance(value, (str, bytes, bytearray, Mapping)) or not isinstance(value, Iterable):
        raise TypeError(f"{name}: expected a list of {what}, got {type(value).__name__}")
    return list(value)


def strings(value: Any, name: str) -> list[str]:
    """A list of non-empty str (datacenters, names); an item's error names it (``name[2]``)."""
    return [text(item, f"{name}[{i}]") for i, item in enumerate(list_of(value, name, "str"))]


def str_map(value: Any, name: str = "meta") -> dict[str, str]:
    """A mapping of str to str (``Meta``), copied. The message names a bad key, never a
    value (a meta value may be anything the caller holds)."""
    if not isinstance(value, Mapping):
        raise TypeError(f"{name}: expected a mapping of str to str, got {type(value).__name__}")
    for key, item in value.items():
        if not isinstance(key, str) or not isinstance(item, str):
            raise TypeError(f"{name}: keys and values must be str, got {key!r}: "
                            f"{type(item).__name__}")
    return dict(value)


def mapping(value: Any, name: str, what: str = "a mapping") -> dict[str, Any]:
    """A JSON object given as a mapping with str keys, copied; ``what`` says what was
    expected (``"a service identity"``)."""
    if not isinstance(value, Mapping):
        raise TypeError(f"{name}: expected {what}, got {type(value).__name__}")
    for key in value:
        if not isinstance(key, str):
            raise TypeError(f"{name}: field names must be str, got {key!r}")
    return dict(value)


def extract(value: Any, keys: tuple[str, ...], name: str) -> Any:
    """Return ``value`` itself, or the first of ``keys`` found when ``value`` is a mapping."""
    if isinstance(value, (str, int)):  # for speed: no mapping check (an ABC's) for these
        return value
    if type(value) is Meta or isinstance(value, Mapping):  # a watch's every read: a Meta
        for key in keys:
            found = value.get(key, _MISSING)
            if found is not _MISSING:
                return found
        wanted = " or ".join(repr(k) for k in keys)
        raise ValueError(f"{name}: the mapping has no {wanted} key")
    return value


def uint64(value: Any, name: str) -> int:
    """An unsigned 64-bit integer, as an int or its decimal text."""
    if type(value) is int and 0 <= value <= MAX_UINT64:  # the common case first, for speed
        return value
    if isinstance(value, bool):
        raise TypeError(f"{name}: expected an int, got {describe(value)}")
    if isinstance(value, str):
        text = value.strip()
        if not text.isdecimal() or not text.isascii():
            raise ValueError(f"{name}: expected a decimal unsigned integer, got {value!r}")
        value = int(text)
    if not isinstance(value, int):
        raise TypeError(f"{name}: expected an int, got {describe(value)}")
    if not 0 <= value <= MAX_UINT64:
        raise ValueError(f"{name}: {value} is outside the unsigned 64-bit range")
    return value


def index(value: Any, name: str = "index", keys: tuple[str, ...] = ("Index",)) -> int:
    """An ObjectIndex: an int or str index, or a mapping (a Meta, an entry) with one of ``keys``."""
    return uint64(extract(value, keys, name), name)


def object_id(value: Any, name: str, key: str | tuple[str, ...] = "ID") -> str:
    """An ObjectID: a non-empty str, or a mapping with ``key`` (``ID``, ``Node``, ...).

    ``key`` may be several keys, tried in order (a catalog entry's ``ServiceID`` before ``ID``).
    """
    keys = (key,) if isinstance(key, str) else key
    found = extract(value, keys, name)
    if not isinstance(found, str):
        wanted = " or ".join(repr(k) for k in keys)
        raise TypeError(f"{name}: expected a str or a mapping with a {wanted} key, got "
                        f"{describe(found)}")
    if not found:
        raise ValueError(f"{name}: must not be empty")
    return found


def duration(value: Any, name: str) -> int:
    """A Duration in nanoseconds: a Go duration string or a :class:`datetime.timedelta`.

    Every unit Go's ``time.ParseDuration`` knows is accepted (``ns``, ``us``, ``µs``, ``ms``, ``s``,
    ``m``, ``h``), with fractions and several parts (``"1h30m"``, ``"1.5s"``). Negative durations
    have no meaning for Consul and are refused. Anything else is a ``ValueError`` naming ``name``.
    """
    if isinstance(value, datetime.timedelta):
        ns = (value.days * 86_400 + value.seconds) * 1_000_000_000 + value.microseconds * 1_000
    elif isinstance(value, str):
        ns = _parse_go_duration(value, name)
    else:
        raise ValueError(f"{name}: expected a duration such as '10s' or a datetime.timedelta, "
                         f"got {describe(value)}")
    if ns < 0:
        raise ValueError(f"{name}: a duration must not be negative, got {value!r}")
    if ns > MAX_DURATION_NS:
        raise ValueError(f"{name}: {value!r} is longer than Go's longest duration")
    return ns


@functools.lru_cache(maxsize=256)
def _parse_go_duration(text: str, name: str) -> int:
    # Cached: the same few strings ("5m", "10s") come back with every watch and session.
    body = text[1:] if text[:1] in "+-" else text
    if body == "0":
        return 0
    if not body:
        raise ValueError(f"{name}: {text!r} is not a duration (expected e.g. '10s', '1h30m')")
    total = Decimal(0)
    pos = 0
    while pos < len(body):
        match = _DURATION_PART.match(body, pos)
        if match is None:
            raise ValueError(f"{name}: {text!r} is not a duration (expected e.g. '10s', '1h30m', "
                             f"'250ms'; units ns, us, ms, s, m, h)")
        total += Decimal(match.group(1)) * _UNITS_NS[match.group(2)]
        pos = match.end()
    ns = int(total)
    return -ns if text.startswith("-") else ns


def format_duration(ns: int) -> str:
    """Nanoseconds as a Go duration string Consul parses (``15s``, ``1m30s``, ``250ms``)."""
    if ns % 1_000_000_000 == 0:
        seconds = ns // 1_000_000_000
        hours, rest = divmod(seconds, 3600)
        minutes, seconds = divmod(rest, 60)
        parts = [f"{hours}h" if hours else "", f"{minutes}m" if minutes else "",
                 f"{seconds}s" if seconds or not (hours or minutes) else ""]
        return "".join(parts)
    if ns % 1_000_000 == 0:
        return f"{ns // 1_000_000}ms"
    if ns % 1_000 == 0:
        return f"{ns // 1_000}us"
    return f"{ns}ns"


def format_wait(ns: int) -> str:
    """The ``wait`` parameter as the Go client sends it: whole ms, a positive wait at least 1ms."""
    ms = ns // 1_000_000
    if ns > 0 and ms == 0:
        ms = 1
    return f"{ms}ms"


#: The nanoseconds of the few waits in use, as timedeltas (a watch's): the arithmetic costs
#: more than the look-up.
_WAIT_NS: dict[datetime.timedelta, int] = {}


def blocking(value: Any, name: str = "watch") -> tuple[int, int | None]:
    """A Blocking: an ObjectIndex, or ``(ObjectIndex, Duration | None)``.

    Returns ``(index, wait_ns)``; ``wait_ns`` is None when no wait was given (the agent's default).
    """
    if isinstance(value, tuple):
        if len(value) != 2:
            raise ValueError(f"{name}: expected (index, wait), got a tuple of {len(value)}")
        idx, wait = value
        if type(idx) is Meta and type(wait) is datetime.timedelta:
            # A watch's every read (its last Meta, its wait), for speed: what index() and
            # duration() would do, without their calls, the wait's nanoseconds kept.
            found = idx.get("Index")
            ns = _WAIT_NS.get(wait)
            if ns is None:
                ns = duration(wait, f"{name} wait")
                if len(_WAIT_NS) >= 64:
                    _WAIT_NS.clear()
                _WAIT_NS[wait] = ns
            if type(found) is int and 0 <= found <= MAX_UINT64:
                return found, ns
        return index(idx, name), None if wait is None else duration(wait, f"{name} wait")
    if isinstance(value, (list, set)):
        raise TypeError(f"{name}: expected an index, a mapping with 'Index' or (index, wait), "
                        f"got {describe(value)}")
    return index(value, name), None


def cache_seconds(value: Any, name: str) -> str:
    """A ``Cache-Control`` delta-seconds value from a Duration (``max_age``, ``stale_if_error``):
    whole seconds, rounded as the Go client's ``%.0f`` does (``api/api.go``). A value that is
    not a Duration is a ``TypeError``; a negative or malformed one a ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, (str, datetime.timedelta)):
        raise TypeError(f"{name}: expected a duration such as '30s' or a datetime.timedelta, "
                        f"got {describe(value)}")
    return f"{duration(value, name) / 1_000_000_000:.0f}"


def go_duration(value: Any, name: str) -> str:
    """A Duration as the Go duration string Consul parses: ``timedelta(minutes=1)`` -> ``"1m"``.

    For the duration fields of JSON bodies (a check's ``Interval``, ``TTL``, ``Timeout``,
    ``DeregisterCriticalServiceAfter``); refused like :func:`duration`.
    """
    return format_duration(duration(value, name))


def hash_blocking(value: Any, name: str = "watch") -> tuple[str, int | None]:
    """A hash-based Blocking: a ContentHash, or ``(ContentHash, Duration | None)``.

    Agent-local state such as ``/v1/agent/service/:id`` has no Raft index; the agent sends an
    opaque ``X-Consul-ContentHash`` instead and blocks while a ``?hash=`` still matches. The hash
    is a str, or a mapping with a ``"ContentHash"`` key: the :class:`~aioconsul.typing.Meta` of
    the previous read, or the object it returned (Consul puts the hash in both). Returns
    ``(hash, wait_ns)``; an empty hash means "do not block", like index 0. So does a
    :class:`~aioconsul.typing.Meta` with neither ``ContentHash`` nor an index: the Meta of an
    answer that had no hash (a 404 for a service not registered yet), so there is nothing to
    wait past and the next read answers at once, as Go's ``agentServiceWatch`` does after an
    error (it drops the hash). Any other mapping must carry the key (a Meta with an index is
    an index-based read's).
    """
    wait: Any = None
    if isinstance(value, tuple):
        if len(value) != 2:
            raise ValueError(f"{name}: expected (hash, wait), got a tuple of {len(value)}")
        value, wait = value
    if isinstance(value, Meta) and "ContentHash" not in value and not value["Index"]:
        return "", None if wait is None else duration(wait, f"{name} wait")
    found = extract(value, ("ContentHash",), name)
    if not isinstance(found, str):
        hint = " (an index cannot wait on a hash-based endpoint)" if isinstance(
            found, int) and not isinstance(found, bool) else ""
        raise TypeError(f"{name}: expected a ContentHash str, a mapping with 'ContentHash' or "
                        f"(hash, wait), got {describe(found)}{hint}")
    if any(not char.isprintable() or char.isspace() for char in found):
        raise ValueError(f"{name}: {found!r} is not a content hash")
    return found, None if wait is None else duration(wait, f"{name} wait")


def consistency(value: Any, name: str = "consistency") -> Consistency:
    """A Consistency: one of ``default``, ``consistent``, ``stale``, as text or enum member."""
    if isinstance(value, Consistency):
        return value
    if isinstance(value, str):
        try:
            return Consistency(value.lower())
        except ValueError:
            pass
        raise ValueError(f"{name}: expected 'default', 'consistent' or 'stale', got {value!r}")
    raise TypeError(f"{name}: expected a str or aioconsul.typing.Consistency, got "
                    f"{describe(value)}")


# Inline flags Go's RE2 understands, for a compiled pattern's flags.
_RE_FLAGS = ((re.IGNORECASE, "i"), (re.MULTILINE, "m"), (re.DOTALL, "s"))


def regex(value: Any, name: str) -> str:
    """A Filter: a regular expression as ``str`` or ``re.Pattern``, as the text Consul evaluates.

    A compiled pattern's IGNORECASE, MULTILINE and DOTALL flags become Go's inline flags.
    """
    if isinstance(value, re.Pattern):
        pattern = value.pattern
        if not isinstance(pattern, str):
            raise TypeError(f"{name}: a bytes pattern cannot be sent, use a str pattern")
        inline = "".join(flag for bit, flag in _RE_FLAGS if value.flags & bit)
        return f"(?{inline}){pattern}" if inline else pattern
    if isinstance(value, str):
        return value
    raise TypeError(f"{name}: expected a str or re.Pattern, got {describe(value)}")


def payload(value: Any, name: str) -> bytes:
    """A Payload: bytes or bytearray, nothing else (text must be encoded by the caller)."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, bytearray):
        return bytes(value)
    hint = " (encode text first, e.g. value.encode())" if isinstance(value, str) else ""
    raise TypeError(f"{name}: expected bytes or bytearray, got {type(value).__name__}{hint}")


def _printable(char: str) -> bool:
    # Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space.
    return char == " " or unicodedata.category(char)[0] not in "CZ"


def kv_key(value: Any, name: str = "key", *, prefix: bool = False) -> str:
    """A KV key Consul can store and address: a str, or a KV entry (its ``Key``).

    Refused with ``ValueError``: an empty key (unless ``prefix``: listing and tree deletes take
    the empty prefix), a leading ``/``, ``//``, ``.`` or ``..`` segments (Go's ServeMux would
    redirect them to another path), and characters Consul's printable-path check rejects.
    """
    if type(value) is not str:  # the common case skips the mapping check
        value = extract(value, ("Key",), name)
    if not isinstance(value, str):
        raise TypeError(f"{name}: expected a str or a KV entry, got {describe(value)}")
    if not value:
        if prefix:
            return value
        raise ValueError(f"{name}: must not be empty")
    if value.startswith("/"):
        raise ValueError(f"{name}: must not begin with '/': {value!r}")
    if "//" in value:
        raise ValueError(f"{name}: must not contain '//': {value!r}")
    if "." in value and any(segment in (".", "..") for segment in value.split("/")):
        raise ValueError(f"{name}: must not contain '.' or '..' segments: {value!r}")
    if value.isascii() and value.isprintable():
        return value  # printable ASCII: Go's unicode.IsPrint agrees, no need to look closer
    for char in value:
        if not _printable(char):
            raise ValueError(f"{name}: contains the non-printable character {char!r}, "
                             f"which Consul refuses: {value!r}")
    return value


def definition(value: Any, name: str, what: str) -> dict[str, Any]:
    """A service or check definition: :func:`mapping`, its message saying "(a mapping)"."""
    return mapping(value, name, f"{what} (a mapping)")


def expression(value: Any, name: str = "filter") -> str:
    """A filter expression (Consul's ``?filter=`` language), as text; evaluated by the agent."""
    if not isinstance(value, str):
        raise TypeError(f"{name}: expected a filter expression as str, got {describe(value)}")
    if not value.strip():
        raise ValueError(f"{name}: must not be empty")
    return value


def node_meta(value: Any, name: str = "node_meta") -> list[tuple[str, str]]:
    """``node-meta`` pairs from a mapping of str to str (every pair must match)."""
    pairs = []
    for key, item in str_map(value, name).items():
        if not key or ":" in key:
            raise ValueError(f"{name}: a key must be non-empty and without ':', got {key!r}")
        pairs.append(("node-meta", f"{key}:{item}"))
    return pairs


def tags(value: Any, name: str = "tag") -> list[str]:
    """One tag (str) or several (an iterable of str)."""
    if isinstance(value, str):
        value = [value]
    elif isinstance(value, Mapping) or not isinstance(value, (list, tuple, set, frozenset)):
        raise TypeError(f"{name}: expected a str or a list of str, got {describe(value)}")
    result = []
    for item in value:
        if not isinstance(item, str):
            raise TypeError(f"{name}: expected str tags, got {describe(item)}")
        if not item:
            raise ValueError(f"{name}: a tag must not be empty")
        result.append(item)
    return sorted(result) if isinstance(value, (set, frozenset)) else result


def token(value: Any, name: str = "token") -> str:
    """An ACL token (a SecretID) for the ``X-Consul-Token`` header: a non-empty str without a
    control character (CR, LF, NUL...) that could end or split the header. The value itself
    never appears in the message."""
    if not isinstance(value, str):
        raise TypeError(f"{name}: expected a str, got {type(value).__name__}")
    if not value:
        raise ValueError(f"{name}: must not be empty (None uses the client's token)")
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in value):
        raise ValueError(f"{name}: contains a control character (CR, LF...), refused")
    return value
