"""The nesting of KV entries into a dict, as :meth:`.kv.KV.tree` and the toolkit's live config
read a folder (pure, and importing nothing of the package at run time, so :mod:`.kv` and
:mod:`aioconsul.toolkit.config` can both build on it without importing each other)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .kv import Codec

__all__ = ["nest"]

_CODECS = ("bytes", "text", "json")


def _codec(codec: Any) -> Callable[[bytes], Any]:
    """The decoding function of a :data:`Codec` (checked before any request)."""
    if isinstance(codec, str):
        if codec == "bytes":
            return bytes
        if codec == "text":
            return lambda data: data.decode("utf-8")
        if codec == "json":
            return lambda data: json.loads(data) if data else None
        raise ValueError(f"codec: expected one of {', '.join(map(repr, _CODECS))} or a "
                         f"callable, got {codec!r}")
    if callable(codec):
        return codec  # type: ignore[no-any-return]
    raise TypeError(f"codec: expected one of {', '.join(map(repr, _CODECS))} or a callable, "
                    f"got {type(codec).__name__}")


def _folder(prefix: str) -> str:
    return prefix if prefix == "" or prefix.endswith("/") else prefix + "/"


def nest(entries: Iterable[Mapping[str, Any]], prefix: str = "", *,
         codec: Codec = "bytes") -> dict[str, Any]:
    """The nested dict of KV ``entries`` (as :meth:`KV.items` returns them) under ``prefix``.

    Pure; the rules of :meth:`KV.tree`: the prefix (taken as a folder, ``"a"`` as ``"a/"``) is
    stripped and each ``/`` opens a dict; a folder key (ending in ``/``, as ``consul kv put a/``
    or the UI make) gives an empty dict, its value ignored; a key that is both a value and a
    folder (``a/b`` and ``a/b/c``) is a ``ValueError`` naming both. Entries outside the folder
    are skipped. A value the codec cannot decode is a ``ValueError`` naming its key.
    """
    decode = _codec(codec)
    folder = _folder(prefix)
    tree: dict[str, Any] = {}
    leaves: dict[tuple[str, ...], str] = {}  # the path of each value -> its key

    def clash(leaf: str, other: str) -> ValueError:
        return ValueError(f"{leaf!r} and {other!r}: a key cannot be both a value and a folder "
                          "in a tree (read this prefix with items())")

    # Sorted, a value ("a/b") comes before anything in the folder of the same name ("a/b/c").
    for entry in sorted(entries, key=lambda e: str(e.get("Key", ""))):
        key = str(entry.get("Key", ""))
        if not key.startswith(folder):
            continue
        *dirs, name = key[len(folder):].split("/")
        node = tree
        path: tuple[str, ...] = ()
        for part in dirs:
            path += (part,)
            if path in leaves:
                raise clash(leaves[path], key)
            node = node.setdefault(part, {})
        if name == "":
            continue  # a folder key: its dict is made above, its value ignored
        path += (name,)
        if name in node:
            raise clash(key, leaves.get(path, folder + "/".join(path) + "/"))
        value = entry.get("Value")
        try:
            node[name] = decode(b"" if value is None else bytes(value))
        except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
            raise ValueError(f"{key!r}: the value cannot be decoded ({exc})") from exc
        leaves[path] = key
    return tree
