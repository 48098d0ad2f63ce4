"""go-bexpr ``filter.go``: ``CreateFilter``, the entry point Consul calls for ``?filter=``.

:func:`compile_filter` parses (:mod:`.grammar`), validates against the field schema when there
is one (:mod:`.validate`) and compiles the tree (:mod:`.evaluate`) into a :class:`Filter`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .evaluate import Predicate, compile_node, dynamic_leaf, typed_leaf_factory
from .field_config import FieldSchema, FieldSpec
from .grammar import parse
from .validate import validate

__all__ = ["Filter", "compile_filter"]


class Filter:
    """A compiled ``?filter=`` expression; :meth:`matches` decides one element of a result."""

    __slots__ = ("_predicate", "expression")

    def __init__(self, expression: str, predicate: Predicate) -> None:
        self.expression = expression
        self._predicate = predicate

    def matches(self, obj: Any) -> bool:
        """Whether ``obj`` (one JSON-shaped result element) passes the filter."""
        return self._predicate(obj)

    def __repr__(self) -> str:
        return f"<Filter {self.expression!r}>"


def compile_filter(
    expression: str, *, fields: FieldSchema | Mapping[str, FieldSpec] | None = None
) -> Filter:
    """Compile ``expression`` as Consul does (``bexpr.CreateFilter``), or raise FilterError.

    An empty expression is Consul's nil filter and matches everything. ``fields`` describes the
    Go type of the filtered elements; when given, the expression is validated against it exactly
    as Consul validates it (see the package docstring). Build a :class:`FieldSchema` once and
    pass it, rather than a plain mapping, to avoid rebuilding the field configuration per call.
    """
    if not isinstance(expression, str):
        raise TypeError(f"filter expression must be str, not {type(expression).__name__}")
    if expression == "":
        return Filter(expression, lambda obj: True)
    ast = parse(expression)
    schema = fields if isinstance(fields, FieldSchema) or fields is None else FieldSchema(fields)
    if schema is not None:
        validate(ast, schema._config)
        leaf = typed_leaf_factory(schema._type)
    else:
        leaf = dynamic_leaf
    return Filter(expression, compile_node(ast, leaf))
