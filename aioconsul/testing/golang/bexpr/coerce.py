"""go-bexpr ``coerce.go``: how a literal becomes a value of a field's Go kind.

One coercion function per primitive kind (``CoerceString``, ``CoerceBool``, ``CoerceInt64``...),
over Go's ``strconv`` parsers (:mod:`.strconv`); a failed coercion is a ValueError with Go's text.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .strconv import go_parse_bool, go_parse_float, go_parse_int, go_parse_uint

__all__ = ["PRIMITIVES", "PRIMITIVE_ALIASES", "coercer"]

_INT_BITS = {"int": 64, "int8": 8, "int16": 16, "int32": 32, "int64": 64}
_UINT_BITS = {"uint": 64, "uint8": 8, "uint16": 16, "uint32": 32, "uint64": 64}


def coercer(kind: str) -> Callable[[str], Any]:
    """The coercion function of a primitive Go kind (a name in :data:`PRIMITIVES`)."""
    if kind == "string":
        return str
    if kind == "bool":
        return go_parse_bool
    if kind in _INT_BITS:
        bits = _INT_BITS[kind]
        return lambda raw: go_parse_int(raw, bits)
    if kind in _UINT_BITS:
        bits = _UINT_BITS[kind]
        return lambda raw: go_parse_uint(raw, bits)
    bits = 32 if kind == "float32" else 64
    return lambda raw: go_parse_float(raw, bits)


PRIMITIVES = frozenset({"string", "bool", "float32", "float64", *_INT_BITS, *_UINT_BITS})
PRIMITIVE_ALIASES = {"byte": "uint8", "rune": "int32"}
