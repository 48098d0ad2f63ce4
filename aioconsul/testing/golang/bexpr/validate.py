"""go-bexpr ``validate.go``: an expression checked against the field configurations.

``Selector "Foo" is not valid``, ``Invalid match operator "In" for selector "Port"``,
``Failed to coerce value ...`` and ``Failed to compile regular expression ...``, as Consul
words them; left to right, the first error wins.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..stdlib import strconv_quote as _go_quote
from .ast import MATCHES, NOT_MATCHES, BinaryExpr, MatchExpr, Node, NotExpr
from .errors import PREFIX, FilterError
from .field_config import FieldConfig
from .regexp import compile_regexp

__all__ = ["validate"]


def validate(ast: Node, config: Mapping[str, FieldConfig]) -> None:
    """v0.1.2 ``validateRecurse``: left to right, the first error wins."""
    stack: list[Node] = [ast]
    while stack:
        node = stack.pop()
        if isinstance(node, NotExpr):
            stack.append(node.operand)
        elif isinstance(node, BinaryExpr):
            stack += [node.right, node.left]
        else:
            _validate_match(node, config)


def _validate_match(node: MatchExpr, config: Mapping[str, FieldConfig]) -> None:
    configs: Mapping[str, FieldConfig] | None = config
    last: FieldConfig | None = None
    for idx, name in enumerate(node.selector):
        found = None if configs is None else configs.get(name, configs.get(""))
        if found is None:
            sel = ".".join(node.selector[: idx + 1])
            raise FilterError(f"{PREFIX}Selector {_go_quote(sel)} is not valid")
        last, configs = found, found.sub
    assert last is not None
    sel = _go_quote(".".join(node.selector))
    if node.operator not in last.ops:
        raise FilterError(
            f"{PREFIX}Invalid match operator {_go_quote(node.operator)} for selector {sel}"
        )
    if node.value is not None and last.coerce is not None:
        try:
            last.coerce(node.value)
        except ValueError as exc:
            raise FilterError(
                f"{PREFIX}Failed to coerce value {_go_quote(node.value)} for selector {sel}: {exc}"
            ) from None
    if node.value is not None and node.operator in (MATCHES, NOT_MATCHES):
        compile_regexp(node.value)
