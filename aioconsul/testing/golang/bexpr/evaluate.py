"""go-bexpr ``evaluate.go``: an expression compiled into a predicate over JSON-shaped data.

v0.1.2's ``evaluateMatchExpressionRecurse``: a selector that passes through a list matches
when *any* element matches; a missing map key makes ``==``, ``in`` and ``is not empty`` false
and every other operator true. With a field schema (:func:`typed_leaf_factory`) values compare
as their Go kind and absent struct fields hold their zero value; without one
(:func:`dynamic_leaf`) the JSON value's own type decides. Coercions and regular expressions are
prepared here, once per expression, never per object.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .ast import (
    EQUAL,
    IN,
    IS_EMPTY,
    IS_NOT_EMPTY,
    MATCHES,
    NOT_EQUAL,
    NOT_IN,
    NOT_MATCHES,
    BinaryExpr,
    MatchExpr,
    Node,
    NotExpr,
)
from .coerce import coercer
from .field_config import GoType
from .regexp import compile_regexp
from .strconv import f32, go_parse_bool, go_parse_float, go_parse_int

__all__ = ["Predicate", "compile_node", "dynamic_leaf", "typed_leaf_factory"]

Predicate = Callable[[Any], bool]


# v0.1.2 evaluate.go, map key not found: "MatchEqual, MatchIsNotEmpty, MatchIn" are false and the
# ``default`` branch (which v0.1.1 never taught about the new Matches operators) is true.
_MISSING_IS_TRUE = frozenset({NOT_EQUAL, IS_EMPTY, NOT_IN, MATCHES, NOT_MATCHES})
_NEGATED = {NOT_EQUAL: EQUAL, NOT_IN: IN, IS_NOT_EMPTY: IS_EMPTY, NOT_MATCHES: MATCHES}


_Leaf = Callable[[MatchExpr], Predicate]


def compile_node(ast: Node, leaf: _Leaf) -> Predicate:
    """The predicate of ``ast``: ``and``/``or`` chains flattened, matches compiled by ``leaf``."""
    if isinstance(ast, MatchExpr):
        return leaf(ast)
    if isinstance(ast, NotExpr):
        inner = compile_node(ast.operand, leaf)
        return lambda obj: not inner(obj)
    # "a or b or c" parses right-nested; flatten the chain so evaluation does not recurse on it.
    parts: list[Node] = []
    stack: list[Node] = [ast]
    while stack:
        node = stack.pop()
        if isinstance(node, BinaryExpr) and node.operator == ast.operator:
            stack += [node.right, node.left]
        else:
            parts.append(node)
    preds = tuple(compile_node(part, leaf) for part in parts)
    if ast.operator == "and":

        def all_of(obj: Any) -> bool:
            return all(pred(obj) for pred in preds)

        return all_of

    def any_of(obj: Any) -> bool:
        return any(pred(obj) for pred in preds)

    return any_of


def _invert(pred: Predicate) -> Predicate:
    return lambda v: not pred(v)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


# ---- schema-less evaluation: the JSON value's own type decides --------------------------------


def _parsed(parse: Callable[[], Any]) -> Any:
    try:
        return parse()
    except ValueError:
        return None


def _dynamic_equal(raw: str) -> Predicate:
    as_bool = _parsed(lambda: go_parse_bool(raw))
    as_int = _parsed(lambda: go_parse_int(raw, 64))
    as_float = _parsed(lambda: go_parse_float(raw, 64))

    def equal(v: Any) -> bool:
        if isinstance(v, str):
            return v == raw
        if isinstance(v, bool):
            return as_bool is not None and v == as_bool
        if isinstance(v, int):
            if as_int is not None:
                return bool(v == as_int)
            return as_float is not None and v == as_float
        if isinstance(v, float):
            return as_float is not None and v == as_float
        return False

    return equal


def _dynamic_final(node: MatchExpr) -> Predicate:
    op = _NEGATED.get(node.operator, node.operator)
    raw = node.value if node.value is not None else ""
    pred: Predicate
    if op == EQUAL:
        pred = _dynamic_equal(raw)
    elif op == IN:
        equal = _dynamic_equal(raw)

        def contains(v: Any) -> bool:
            if isinstance(v, dict):
                return raw in v
            if isinstance(v, list):
                return any(equal(item) for item in v)
            return isinstance(v, str) and raw in v

        pred = contains
    elif op == IS_EMPTY:
        pred = lambda v: isinstance(v, (dict, list, str)) and not v  # noqa: E731
    else:
        rx = compile_regexp(raw)
        pred = lambda v: isinstance(v, str) and rx.search(v) is not None  # noqa: E731
    return _invert(pred) if op != node.operator else pred


def dynamic_leaf(node: MatchExpr) -> Predicate:
    """A match without a field schema: the JSON value's own type decides (see the package)."""
    final = _dynamic_final(node)
    missing = node.operator in _MISSING_IS_TRUE
    selector = node.selector
    depth = len(selector)

    def walk(v: Any, d: int) -> bool:
        while d < depth:
            if isinstance(v, dict):
                if selector[d] not in v:
                    return missing
                v = v[selector[d]]
                d += 1
            elif isinstance(v, list):
                # v0.1.2 evaluate.go: "operations on slices are implicitly ANY operations"
                return any(walk(item, d) for item in v)
            else:
                return missing
        return missing if v is None else final(v)

    return lambda obj: walk(obj, 0)


# ---- evaluation against a field schema: Go types, zero values -----------------------------------


def _typed_equal(kind: str, want: Any) -> Predicate:
    """go-bexpr ``primitiveEqualityFns``; a null or absent value is the Go zero value."""
    if kind == "string":
        return lambda v: (v if v is not None else "") == want
    if kind == "bool":
        return lambda v: (v if v is not None else False) is want

    def number_equal(v: Any) -> bool:
        if v is None:
            v = 0
        if not _is_number(v):
            return False
        if kind == "float32":
            return bool(f32(float(v)) == want)
        return bool(v == want)

    return number_equal


def _typed_final(node: MatchExpr, t: GoType) -> Predicate:
    op = _NEGATED.get(node.operator, node.operator)
    raw = node.value if node.value is not None else ""
    pred: Predicate
    if op == EQUAL:
        pred = _typed_equal(t.prim, coercer(t.prim)(raw))
    elif op == IN and t.kind == "map":
        pred = lambda v: isinstance(v, dict) and raw in v  # noqa: E731
    elif op == IN and t.kind == "slice":
        assert t.elem is not None
        equal = _typed_equal(t.elem.prim, coercer(t.elem.prim)(raw))
        pred = lambda v: isinstance(v, list) and any(equal(item) for item in v)  # noqa: E731
    elif op == IN:
        pred = lambda v: raw in (v if isinstance(v, str) else "")  # noqa: E731
    elif op == IS_EMPTY:
        pred = lambda v: not v  # noqa: E731
    else:
        rx = compile_regexp(raw)
        pred = lambda v: rx.search(v if isinstance(v, str) else "") is not None  # noqa: E731
    return _invert(pred) if op != node.operator else pred


def typed_leaf_factory(root: GoType) -> _Leaf:
    """The compiler of matches over data of the Go type ``root`` (a field schema's type)."""

    def leaf(node: MatchExpr) -> Predicate:
        selector = node.selector
        depth = len(selector)
        # The type at the end of the selector is static: lists are walked through in place.
        t = root
        for name in selector:
            while t.kind == "slice":
                assert t.elem is not None
                t = t.elem
            if t.kind == "struct":
                assert t.fields is not None
                t = t.fields[name]
            else:
                assert t.elem is not None
                t = t.elem
        final = _typed_final(node, t)
        missing = node.operator in _MISSING_IS_TRUE

        def walk(v: Any, t: GoType, d: int) -> bool:
            while d < depth:
                if t.kind == "struct":
                    assert t.fields is not None
                    # an absent or null struct field holds its Go zero value
                    v = v.get(selector[d]) if isinstance(v, dict) else None
                    t = t.fields[selector[d]]
                    d += 1
                elif t.kind == "slice":
                    assert t.elem is not None
                    elem = t.elem
                    return any(walk(item, elem, d) for item in (v if isinstance(v, list) else ()))
                else:
                    assert t.elem is not None
                    if not isinstance(v, dict) or selector[d] not in v:
                        return missing
                    v = v[selector[d]]
                    t = t.elem
                    d += 1
            return final(v)

        return lambda obj: walk(obj, root, 0)

    return leaf
