"""go-bexpr ``field_config.go``: the field configurations generated from a Go type.

:class:`FieldSchema` takes a description of the Go type an endpoint filters (see the package
docstring for the notation) and derives what ``generateFieldConfigurations`` derives by
reflection: for every selectable field, the match operators it supports, the coercion of a
literal to its kind, and its sub-fields. :mod:`.validate` checks an expression against them
and :mod:`.evaluate` walks the data with the Go type.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias

from .ast import EQUAL, IN, IS_EMPTY, IS_NOT_EMPTY, MATCHES, NOT_EQUAL, NOT_IN, NOT_MATCHES
from .coerce import PRIMITIVE_ALIASES, PRIMITIVES, coercer

__all__ = ["FieldConfig", "FieldSchema", "FieldSpec", "GoType"]

FieldSpec: TypeAlias = "str | Mapping[str, FieldSpec] | list[FieldSpec] | tuple[FieldSpec, ...]"
"""One field of a :class:`FieldSchema`: a Go type name, a one-element list, ``{"*": T}`` or a
struct mapping."""


@dataclass(frozen=True)
class GoType:
    kind: str  # "prim" | "struct" | "slice" | "map" | "any"
    prim: str = ""
    elem: GoType | None = None
    fields: Mapping[str, GoType] | None = None


@dataclass(frozen=True)
class FieldConfig:
    """go-bexpr ``FieldConfiguration``: supported operators, coercion, sub-fields ("" = any)."""

    ops: frozenset[str]
    coerce: Callable[[str], Any] | None
    sub: Mapping[str, FieldConfig] | None


_EQ_OPS = frozenset({EQUAL, NOT_EQUAL})
_STRING_OPS = frozenset({EQUAL, NOT_EQUAL, IN, NOT_IN, MATCHES, NOT_MATCHES})
_MAP_OPS = frozenset({IS_EMPTY, IS_NOT_EMPTY, IN, NOT_IN})
_PRIM_SLICE_OPS = frozenset({IN, NOT_IN, IS_EMPTY, IS_NOT_EMPTY})
_SLICE_OPS = frozenset({IS_EMPTY, IS_NOT_EMPTY})


def _go_type(spec: Any, where: str) -> GoType:
    if isinstance(spec, str):
        name = PRIMITIVE_ALIASES.get(spec, spec).removeprefix("*")
        if name in PRIMITIVES:
            return GoType("prim", prim=name)
        if name in ("any", "interface{}"):
            return GoType("any")
        if name.startswith("[]"):
            return GoType("slice", elem=_go_type(name[2:], where + "[]"))
        if name.startswith("map[string]"):
            return GoType("map", elem=_go_type(name[len("map[string]") :], where + "[*]"))
        raise ValueError(f"unknown Go type {spec!r} for field {where or '<root>'}")
    if isinstance(spec, (list, tuple)):
        if len(spec) != 1:
            raise ValueError(f"a slice is written as a one-element list, at {where or '<root>'}")
        return GoType("slice", elem=_go_type(spec[0], where + "[]"))
    if isinstance(spec, Mapping):
        if set(spec) == {"*"}:
            return GoType("map", elem=_go_type(spec["*"], where + "[*]"))
        fields = {}
        for name, sub in spec.items():
            path = f"{where}.{name}" if where else str(name)
            ftype = _go_type(sub, path)
            if ftype.kind == "any":
                raise ValueError(
                    f"struct field {path} cannot be interface{{}}: go-bexpr panics on it "
                    '(Consul tags such fields bexpr:"-"; leave it out)'
                )
            fields[str(name)] = ftype
        return GoType("struct", fields=fields)
    raise TypeError(f"not a field spec at {where or '<root>'}: {spec!r}")


def _field_config(t: GoType) -> FieldConfig | None:
    """go-bexpr ``generateFieldConfigurationInternal`` (v0.1.2 field_config.go)."""
    if t.kind == "prim":
        ops = _STRING_OPS if t.prim == "string" else _EQ_OPS
        return FieldConfig(ops, coercer(t.prim), None)
    if t.kind == "map":
        assert t.elem is not None
        sub = _field_config(t.elem)
        return FieldConfig(_MAP_OPS, str, {"": sub} if sub is not None else None)
    if t.kind == "slice":
        assert t.elem is not None
        if t.elem.kind == "prim":
            return FieldConfig(_PRIM_SLICE_OPS, coercer(t.elem.prim), None)
        elem = _field_config(t.elem)
        return FieldConfig(_SLICE_OPS, None, elem.sub if elem is not None and elem.sub else None)
    if t.kind == "struct":
        assert t.fields is not None
        subs = {name: _field_config(ft) for name, ft in t.fields.items()}
        return FieldConfig(frozenset(), None, {k: v for k, v in subs.items() if v is not None})
    return None


class FieldSchema:
    """The filterable fields of one Go type, built once and shared by many :func:`compile_filter`.

    ``spec`` maps each field name to a :data:`FieldSpec` (see the package docstring), for
    example ``FieldSchema({"ID": "string", "Port": "int", "Tags": ["string"]})``.
    """

    __slots__ = ("_config", "_type")

    def __init__(self, spec: Mapping[str, FieldSpec]) -> None:
        if not isinstance(spec, Mapping) or set(spec) == {"*"}:
            raise TypeError("a field schema describes a struct: a mapping of field names")
        if not spec:
            # go-bexpr: "Data type %s has no evaluatable fields"
            raise ValueError("a field schema needs at least one field")
        self._type = _go_type(spec, "")
        config = _field_config(self._type)
        assert config is not None and config.sub is not None
        self._config: Mapping[str, FieldConfig] = config.sub
