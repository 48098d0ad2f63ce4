"""go-bexpr ``ast.go``: the tree a ``?filter=`` expression parses into.

A match (selector, operator, raw value), ``and``/``or`` and ``not``. Operators are named by
their ``MatchOperator.String()``; ``contains`` parses as :data:`IN` written the other way round.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

__all__ = [
    "EQUAL",
    "IN",
    "IS_EMPTY",
    "IS_NOT_EMPTY",
    "MATCHES",
    "NOT_EQUAL",
    "NOT_IN",
    "NOT_MATCHES",
    "BinaryExpr",
    "MatchExpr",
    "Node",
    "NotExpr",
]

EQUAL, NOT_EQUAL, IN, NOT_IN = "Equal", "Not Equal", "In", "Not In"
IS_EMPTY, IS_NOT_EMPTY, MATCHES, NOT_MATCHES = "Is Empty", "Is Not Empty", "Matches", "Not Matches"


@dataclass(frozen=True)
class MatchExpr:
    selector: tuple[str, ...]
    operator: str
    value: str | None  # MatchValue.Raw


@dataclass(frozen=True)
class BinaryExpr:
    operator: str  # "and" | "or"
    left: Node
    right: Node


@dataclass(frozen=True)
class NotExpr:
    operand: Node


Node: TypeAlias = "MatchExpr | BinaryExpr | NotExpr"
