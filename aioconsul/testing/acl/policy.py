"""The ACL policy language: rules text to a :class:`Policy`, and several policies merged into one.

Consul's ``acl/policy.go``, ``acl/policy_ce.go`` and ``acl/policy_merger.go``. A policy's rules
are HCL 1 or JSON; Consul decodes them with ``hashicorp/hcl`` v1 into ``acl.PolicyRules`` and
then validates every rule, and the ACL policy endpoint answers with the error texts of both
steps, so both are reproduced here:

* **Parsing.** HCL goes through pyhcl's parser (``pip install 'aioconsul[devagent]'``), with
  hooks that keep an ordered syntax tree (duplicates, positions, identifiers versus strings)
  instead of pyhcl's merged dictionaries; constructs pyhcl accepts but HCL 1 does not
  (bare identifiers as values, function calls, expressions, ``:``) are refused. JSON is read
  by a small position-keeping reader and flattened as ``hcl/json/parser`` flattens it. A
  syntax error's text after ``Failed to parse ACL rules:`` is pyhcl's (or ours), not Go's.
* **Duplicate arguments.** Since Consul's security fix of November 2024 (PR 21908, on top of
  hashicorp/hcl PR 704) an argument set twice in one block (``acl = "read"`` twice,
  ``policy`` twice in a rule) is ``The argument "acl" at 2:1 was already set. Each argument
  can only be defined once``; ``warn_on_duplicate_key=True`` is ``acl.Config``'s lenient mode
  for rules stored before that (the last value wins). Repeated blocks are not duplicates, and
  JSON documents are not checked (the check lives in HCL's parser).
* **Decoding.** ``hcl.DecodeObject`` into the rule structs is emulated step by step
  (``decoder.go``): keys match field names case-insensitively, unknown keys are ignored, block
  rules come before ``key = {...}`` ones, and a value of the wrong shape is Consul's
  ``At 1:7: root.acl: unknown type for string *ast.ListType``.
* **Validation.** ``PolicyRules.Validate``: ``Invalid key policy: &acl.KeyRule{...}`` (the
  rule printed as Go's ``%#v``), ``Invalid acl policy: "list"``...; ``list`` is valid for keys
  only; access levels compare case-insensitively.

All errors are :class:`PolicyError` carrying Consul's text. The module is pure: no I/O.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final

from ..golang.stdlib import strconv_quote

__all__ = [
    "POLICY_DENY",
    "POLICY_LIST",
    "POLICY_READ",
    "POLICY_WRITE",
    "AgentRule",
    "EventRule",
    "KeyRule",
    "NodeRule",
    "Policy",
    "PolicyError",
    "PreparedQueryRule",
    "ServiceRule",
    "SessionRule",
    "is_policy_valid",
    "merge_policies",
    "parse_policy",
    "takes_precedence_over",
]

#: acl.PolicyDeny, PolicyRead, PolicyList, PolicyWrite
POLICY_DENY: Final = "deny"
POLICY_READ: Final = "read"
POLICY_LIST: Final = "list"
POLICY_WRITE: Final = "write"

_PYHCL_MISSING: Final = "parsing ACL rules needs pyhcl: pip install 'aioconsul[devagent]'"


class PolicyError(ValueError):
    """Rules Consul refuses; ``str()`` is Consul's error text."""


# -- rules ------------------------------------------------------------------------------------
#
# Field values are kept exactly as written (``"READ"`` stays ``"READ"``): Consul validates and
# enforces them case-insensitively but merges them by exact comparison.


@dataclass(frozen=True, slots=True)
class AgentRule:
    """``agent`` / ``agent_prefix``: agent endpoints of nodes by name."""

    node: str
    policy: str

    def go_string(self) -> str:
        return f"&acl.AgentRule{{Node:{_q(self.node)}, Policy:{_q(self.policy)}}}"


@dataclass(frozen=True, slots=True)
class KeyRule:
    """``key`` / ``key_prefix``: KV entries; the only rule that takes ``list``."""

    prefix: str
    policy: str

    def go_string(self) -> str:
        return (f"&acl.KeyRule{{Prefix:{_q(self.prefix)}, Policy:{_q(self.policy)}, "
                "EnterpriseRule:acl.EnterpriseRule{}}")


@dataclass(frozen=True, slots=True)
class NodeRule:
    """``node`` / ``node_prefix``: catalog nodes."""

    name: str
    policy: str

    def go_string(self) -> str:
        return (f"&acl.NodeRule{{Name:{_q(self.name)}, Policy:{_q(self.policy)}, "
                "EnterpriseRule:acl.EnterpriseRule{}}")


@dataclass(frozen=True, slots=True)
class ServiceRule:
    """``service`` / ``service_prefix``; ``intentions`` (may be empty) governs the intentions
    whose destination is the service."""

    name: str
    policy: str
    intentions: str = ""

    def go_string(self) -> str:
        return (f"&acl.ServiceRule{{Name:{_q(self.name)}, Policy:{_q(self.policy)}, "
                f"Intentions:{_q(self.intentions)}, EnterpriseRule:acl.EnterpriseRule{{}}}}")


@dataclass(frozen=True, slots=True)
class SessionRule:
    """``session`` / ``session_prefix``: sessions tied to nodes by name."""

    node: str
    policy: str

    def go_string(self) -> str:
        return f"&acl.SessionRule{{Node:{_q(self.node)}, Policy:{_q(self.policy)}}}"


@dataclass(frozen=True, slots=True)
class EventRule:
    """``event`` / ``event_prefix``: user events by name."""

    event: str
    policy: str

    def go_string(self) -> str:
        return f"&acl.EventRule{{Event:{_q(self.event)}, Policy:{_q(self.policy)}}}"


@dataclass(frozen=True, slots=True)
class PreparedQueryRule:
    """``query`` / ``query_prefix``: prepared queries by name."""

    prefix: str
    policy: str

    def go_string(self) -> str:
        return (f"&acl.PreparedQueryRule{{Prefix:{_q(self.prefix)}, "
                f"Policy:{_q(self.policy)}}}")


@dataclass(slots=True)
class Policy:
    """acl.PolicyRules (CE): the single-valued rules and the lists of exact / prefix rules."""

    acl: str = ""
    agents: list[AgentRule] = field(default_factory=list)
    agent_prefixes: list[AgentRule] = field(default_factory=list)
    keys: list[KeyRule] = field(default_factory=list)
    key_prefixes: list[KeyRule] = field(default_factory=list)
    nodes: list[NodeRule] = field(default_factory=list)
    node_prefixes: list[NodeRule] = field(default_factory=list)
    services: list[ServiceRule] = field(default_factory=list)
    service_prefixes: list[ServiceRule] = field(default_factory=list)
    sessions: list[SessionRule] = field(default_factory=list)
    session_prefixes: list[SessionRule] = field(default_factory=list)
    events: list[EventRule] = field(default_factory=list)
    event_prefixes: list[EventRule] = field(default_factory=list)
    prepared_queries: list[PreparedQueryRule] = field(default_factory=list)
    prepared_query_prefixes: list[PreparedQueryRule] = field(default_factory=list)
    keyring: str = ""
    operator: str = ""
    mesh: str = ""
    peering: str = ""


def _q(s: str) -> str:
    return strconv_quote(s)


# -- access levels ----------------------------------------------------------------------------


def is_policy_valid(policy: str, allow_list: bool = False) -> bool:
    """isPolicyValid: deny/read/write (any case), and ``list`` where ``allow_list``."""
    level = policy.lower()
    if level == POLICY_LIST:
        return allow_list
    return level in (POLICY_DENY, POLICY_READ, POLICY_WRITE)


def takes_precedence_over(a: str, b: str) -> bool:
    """takesPrecedenceOver: deny, then write, then list, then read; exact (case-sensitive)."""
    for level in (POLICY_DENY, POLICY_WRITE, POLICY_LIST, POLICY_READ):
        if a == level:
            return True
        if b == level:
            return False
    return False


# -- the syntax tree (hcl/hcl/ast) ------------------------------------------------------------


class _Pos:
    """token.Pos: 1-based line and column (characters); ``-`` when unknown."""

    __slots__ = ("column", "line")

    def __init__(self, line: int = 0, column: int = 0) -> None:
        self.line, self.column = line, column

    def __str__(self) -> str:
        return f"{self.line}:{self.column}" if self.line > 0 else "-"


def _position(source: str, index: int) -> _Pos:
    line_start = source.rfind("\n", 0, index) + 1
    return _Pos(source.count("\n", 0, index) + 1, index - line_start + 1)


class _Key:
    """ast.ObjectKey: a label's value, where it starts, and whether it was an identifier."""

    __slots__ = ("ident", "pos", "value")

    def __init__(self, value: str, pos: _Pos, ident: bool = False) -> None:
        self.value, self.pos, self.ident = value, pos, ident


class _Literal:
    """ast.LiteralType: ``value`` is Token.Value() for strings, Token.Text otherwise."""

    go_type: ClassVar[str] = "*ast.LiteralType"
    __slots__ = ("kind", "pos", "value")

    def __init__(self, kind: str, value: str, pos: _Pos) -> None:
        self.kind, self.value, self.pos = kind, value, pos


class _List:
    go_type: ClassVar[str] = "*ast.ListType"
    __slots__ = ("items", "pos")

    def __init__(self, items: list[_Node], pos: _Pos) -> None:
        self.items, self.pos = items, pos


class _Object:
    """ast.ObjectType: ``{ ... }``."""

    go_type: ClassVar[str] = "*ast.ObjectType"
    __slots__ = ("items", "pos")

    def __init__(self, items: list[_Item], pos: _Pos) -> None:
        self.items, self.pos = items, pos


class _Item:
    """ast.ObjectItem: labels, ``=`` (or JSON's ``:``) or not, and the value."""

    go_type: ClassVar[str] = "*ast.ObjectItem"
    __slots__ = ("assign", "keys", "value")

    def __init__(self, keys: list[_Key], value: _Node, assign: bool) -> None:
        self.keys, self.value, self.assign = keys, value, assign

    @property
    def pos(self) -> _Pos:
        return self.keys[0].pos if self.keys else _Pos()


class _ItemList:
    """ast.ObjectList; its position is its first item's (``-`` when empty)."""

    go_type: ClassVar[str] = "*ast.ObjectList"
    __slots__ = ("items",)

    def __init__(self, items: list[_Item]) -> None:
        self.items = items

    @property
    def pos(self) -> _Pos:
        return self.items[0].pos if self.items else _Pos()


_Node = _Literal | _List | _Object | _Item | _ItemList


class _SyntaxError(Exception):
    """A parse error; ``str()`` is what follows "Failed to parse ACL rules: "."""


def _unknown_token(pos: _Pos, kind: str, text: str) -> _SyntaxError:
    """The parser's PosError for a value token HCL 1 does not know (token.String())."""
    return _SyntaxError(f"At {pos}: Unknown token: {pos} {kind} {text}")


# -- HCL: pyhcl's grammar, building the tree ----------------------------------------------------

_NUMBER_TEXT = re.compile(r"-?(?:0[xX][0-9a-fA-F]+|[0-9]*\.?[0-9]*(?:[eE][+-]?[0-9]+)?)")
_GO_ESCAPES: Final = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t",
                      "v": "\v", "\\": "\\", "'": "'", '"': '"'}


def _go_unquote(raw: str, pos: _Pos) -> str:
    """hcl/strconv.Unquote of a string's body: Go escapes; ``${...}`` kept verbatim.

    ``\\x`` and octal escapes are bytes, as in Go; bytes that are not UTF-8 come back
    surrogate-escaped, the dev agent's way of keeping a Go string's raw bytes.
    """
    out = bytearray()
    i, n = 0, len(raw)
    while i < n:
        ch = raw[i]
        if ch == "$" and raw.startswith("${", i):
            depth, j = 0, i
            while j < n:
                if raw[j] == "{":
                    depth += 1
                elif raw[j] == "}":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            out += raw[i:j + 1].encode("utf-8", "surrogateescape")
            i = j + 1
            continue
        if ch == "\n":
            raise _SyntaxError(f"At {pos}: literal not terminated")
        if ch != "\\":
            out += ch.encode("utf-8", "surrogateescape")
            i += 1
            continue
        esc = raw[i + 1:i + 2]
        if esc in _GO_ESCAPES:
            out += _GO_ESCAPES[esc].encode()
            i += 2
            continue
        if esc in ("x", "u", "U"):
            width = {"x": 2, "u": 4, "U": 8}[esc]
            digits = raw[i + 2:i + 2 + width]
            i += 2 + width
        elif esc and esc in "01234567":
            digits = raw[i + 1:i + 4]
            i += 4
        else:
            raise _SyntaxError(f"At {pos}: illegal char escape")
        base = 8 if esc in "01234567" else 16
        valid = "01234567" if base == 8 else "0123456789abcdefABCDEF"
        if len(digits) != (3 if base == 8 else width) or not all(c in valid for c in digits):
            raise _SyntaxError(f"At {pos}: illegal char escape")
        code = int(digits, base)
        if esc in ("u", "U"):
            if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                raise _SyntaxError(f"At {pos}: illegal char escape")
            out += chr(code).encode()
        elif code > 0xFF:
            raise _SyntaxError(f"At {pos}: illegal char escape")
        else:
            out.append(code)
    return out.decode("utf-8", "surrogateescape")


@functools.cache
def _hcl_parser_class(hcl_parser: Any) -> Any:
    """A subclass of pyhcl's parser whose actions build ``_Item`` trees.

    Only semantic actions are replaced, never a grammar rule: each replacement keeps the
    original's docstring and, through ``co_firstlineno``, its place in ply's rule order (which
    decides ply's reduce/reduce resolutions), so the grammar pyhcl ships is the grammar used.
    """
    base = hcl_parser.HclParser

    def action(func: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
        original = getattr(base, func.__name__)
        func.__doc__ = original.__doc__
        func.co_firstlineno = original.__code__.co_firstlineno  # type: ignore[attr-defined]
        return func

    class Parser(base):  # type: ignore[misc,valid-type]
        start = "top"

        def __init__(self) -> None:
            super().__init__()
            self.source = ""
            self.strings: dict[int, int] = {}

        def pos(self, index: int) -> _Pos:
            return _position(self.source, index)

        def refuse(self, p: Any, n: int = 1) -> _SyntaxError:
            """A construct pyhcl's grammar has and HCL 1's does not (no Go text to copy)."""
            index = p.lexpos(n)
            text = (self.source[index:index + 20].splitlines() or [""])[0]
            return _SyntaxError(f"At {self.pos(index)}: HCL 1 has no such syntax: {text!r}")

        def string_value(self, p: Any, n: int) -> _Key:
            """A STRING token: Go's value from the raw text; heredocs keep pyhcl's value."""
            index = p.lexpos(n)
            end = self.strings.get(index)
            if end is None:  # a heredoc
                return _Heredoc(p[n], self.pos(index))
            pos = self.pos(index)
            return _Key(_go_unquote(self.source[index + 1:end], pos), pos)

        @action
        def p_top(self, p: Any) -> None:
            p[0] = p[1]

        @action
        def p_object_0(self, p: Any) -> None:
            p[0] = _Object(p[2], self.pos(p.lexpos(1)))

        @action
        def p_object_1(self, p: Any) -> None:
            p[0] = _Object(p[2], self.pos(p.lexpos(1)))

        @action
        def p_object_2(self, p: Any) -> None:
            p[0] = _Object([], self.pos(p.lexpos(1)))

        @action
        def p_objectkey_0(self, p: Any) -> None:
            if p.slice[1].type == "IDENTIFIER":
                p[0] = _Key(p[1], self.pos(p.lexpos(1)), ident=True)
            else:
                p[0] = self.string_value(p, 1)

        @action
        def p_objectkey_1(self, p: Any) -> None:
            raise self.refuse(p)

        @action
        def p_objectbrackets_0(self, p: Any) -> None:
            raise self.refuse(p)

        @action
        def p_objectbrackets_1(self, p: Any) -> None:
            raise self.refuse(p)

        @action
        def p_objectitem_0(self, p: Any) -> None:
            key = p[1]
            if isinstance(key, _Heredoc):
                raise _SyntaxError(f"At {key.pos}: expected: IDENT | STRING | ASSIGN | "
                                   "LBRACE got: HEREDOC")
            if p.slice[2].type != "EQUAL":
                raise self.refuse(p, 2)
            p[0] = _Item([key], self.value(p, 3), assign=True)

        @action
        def p_objectitem_1(self, p: Any) -> None:
            p[0] = p[1]

        @action
        def p_objectitem_2(self, p: Any) -> None:
            raise self.refuse(p, 3)

        @action
        def p_block_0(self, p: Any) -> None:
            key = p[1]
            if isinstance(key, _Heredoc):
                raise _SyntaxError(f"At {key.pos}: expected: IDENT | STRING | ASSIGN | "
                                   "LBRACE got: HEREDOC")
            p[0] = _Item([key], p[2], assign=False)

        @action
        def p_block_1(self, p: Any) -> None:
            key, inner = p[1], p[2]
            if isinstance(key, _Heredoc):
                raise _SyntaxError(f"At {key.pos}: expected: IDENT | STRING | ASSIGN | "
                                   "LBRACE got: HEREDOC")
            p[0] = _Item([key, *inner.keys], inner.value, assign=False)

        @action
        def p_booleanexp_0(self, p: Any) -> None:
            raise self.refuse(p)

        @action
        def p_list_0(self, p: Any) -> None:
            p[0] = _List(p[2], self.pos(p.lexpos(1)))

        @action
        def p_list_1(self, p: Any) -> None:
            if p.slice[1].type != "LEFTBRACKET":
                raise self.refuse(p)
            p[0] = _List([], self.pos(p.lexpos(1)))

        @action
        def p_list_2(self, p: Any) -> None:
            raise self.refuse(p)

        @action
        def p_function_0(self, p: Any) -> None:
            raise self.refuse(p)

        @action
        def p_function_1(self, p: Any) -> None:
            raise self.refuse(p)

        @action
        def p_function_2(self, p: Any) -> None:
            raise self.refuse(p)

        @action
        def p_function_3(self, p: Any) -> None:
            raise self.refuse(p)

        @action
        def p_listitems_0(self, p: Any) -> None:
            p[0] = [self.element(p, 1)]

        @action
        def p_listitems_1(self, p: Any) -> None:
            p[0] = [*p[1], self.element(p, 3)]

        @action
        def p_listitems_2(self, p: Any) -> None:
            p[0] = [self.element(p, 1), self.element(p, 3)]

        @action
        def p_listitems_3(self, p: Any) -> None:
            raise self.refuse(p)

        @action
        def p_listitems_4(self, p: Any) -> None:
            raise self.refuse(p)

        @action
        def p_listitem_0(self, p: Any) -> None:
            p[0] = self.value(p, 1)

        @action
        def p_listitem_1(self, p: Any) -> None:
            raise self.refuse(p)

        @action
        def p_number_4(self, p: Any) -> None:
            raise self.refuse(p, 2)

        @action
        def p_number_5(self, p: Any) -> None:
            raise self.refuse(p, 2)

        @action
        def p_number_6(self, p: Any) -> None:
            raise self.refuse(p, 2)

        @action
        def p_number_7(self, p: Any) -> None:
            raise self.refuse(p, 2)

        @action
        def p_int_0(self, p: Any) -> None:
            raise _unknown_token(self.pos(p.lexpos(1)), "SUB", "-")

        @action
        def p_float_0(self, p: Any) -> None:
            raise _unknown_token(self.pos(p.lexpos(1)), "SUB", "-")

        def element(self, p: Any, n: int) -> _Node:
            if p.slice[n].type == "listitem":
                node: _Node = p[n]
                return node
            return self.value(p, n)

        def value(self, p: Any, n: int) -> _Node:
            """An item's (or list element's) value as an AST node."""
            kind, value = p.slice[n].type, p[n]
            index = p.lexpos(n)
            if kind == "number":
                match = _NUMBER_TEXT.match(self.source, index)
                text = match.group(0) if match and match.group(0) else str(value)
                number = "FLOAT" if isinstance(value, float) else "NUMBER"
                return _Literal(number, text, self.pos(index))
            if kind == "BOOL":
                return _Literal("BOOL", "true" if value else "false", self.pos(index))
            if kind == "STRING":
                string = self.string_value(p, n)
                if isinstance(string, _Heredoc):
                    return _Literal("HEREDOC", string.value, string.pos)
                return _Literal("STRING", string.value, string.pos)
            if kind == "objectkey":
                if isinstance(value, _Heredoc):
                    return _Literal("HEREDOC", value.value, value.pos)
                if value.ident:
                    raise _unknown_token(value.pos, "IDENT", value.value)
                return _Literal("STRING", value.value, value.pos)
            if kind == "IDENTIFIER":
                raise _unknown_token(self.pos(index), "IDENT", value)
            if kind in ("object", "list"):
                node: _Node = value
                return node
            raise self.refuse(p, n)

        def parse_rules(self, source: str, lexer: Any) -> list[_Item]:
            self.source, self.strings = source, {}
            tracker = _TrackingLexer(lexer, self.strings)
            items: list[_Item] = self.yacc.parse(source, lexer=tracker, tracking=True)
            return items

    return Parser


class _Heredoc(_Key):
    """A heredoc where pyhcl's grammar allows an object key (HCL 1 does not)."""

    __slots__ = ()


class _TrackingLexer:
    """pyhcl's lexer, recording where each quoted string starts.

    pyhcl's STRING token carries the position of the closing quote; the token is moved to the
    opening quote (where Go's token.Pos is) and the closing quote is remembered so the raw
    text can be unquoted the Go way.
    """

    def __init__(self, lexer: Any, strings: dict[int, int]) -> None:
        self.lexer, self.strings = lexer, strings

    def input(self, source: str) -> None:
        self.lexer.input(source)

    def __getattr__(self, name: str) -> Any:  # lineno, lexpos: what ply's parser reads
        return getattr(self.lexer.lex, name)

    def token(self) -> Any:
        tok = self.lexer.token()
        if tok is not None and tok.type == "STRING":
            lex = self.lexer.lex
            data: str = lex.lexdata
            start = getattr(lex, "abs_start", 0) - 1
            if 0 <= start < tok.lexpos and data[start] == '"' and data[tok.lexpos] == '"':
                self.strings[start] = tok.lexpos
                tok.lexpos = start
        return tok


def _pyhcl() -> tuple[Any, Any]:
    try:
        import hcl.lexer
        import hcl.parser
    except ImportError as exc:
        raise ImportError(_PYHCL_MISSING) from exc
    return hcl.parser, hcl.lexer


@functools.cache
def _hcl_parser(parser_module: Any) -> Any:
    return _hcl_parser_class(parser_module)()


def _parse_hcl(source: str) -> list[_Item]:
    parser_module, lexer_module = _pyhcl()
    parser = _hcl_parser(parser_module)
    try:
        return parser.parse_rules(source, lexer_module.Lexer())  # type: ignore[no-any-return]
    except _SyntaxError:
        raise
    except ValueError as exc:  # pyhcl's lexer and parser errors
        raise _SyntaxError(str(exc)) from None


def _check_duplicates(items: list[_Item]) -> None:
    """The strict decoder's check: an argument (``key = value``) set twice in one block.

    Go's parser checks each item after parsing it, nested blocks included, in source order.
    """
    seen: set[str] = set()
    for item in items:
        _check_nested(item.value)
        if item.assign and item.keys:
            key = item.keys[0]
            if key.value in seen:
                raise _SyntaxError(
                    f"The argument {strconv_quote(key.value)} at {key.pos} was already set. "
                    "Each argument can only be defined once")
            seen.add(key.value)


def _check_nested(node: _Node) -> None:
    if isinstance(node, _Object):
        _check_duplicates(node.items)
    elif isinstance(node, _List):
        for element in node.items:
            _check_nested(element)


# -- JSON: hcl/json/parser and its flattening ------------------------------------------------

_JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_JSON_SPACE = " \t\n\r"
_JSON_DECODER: Final = json.JSONDecoder()


class _JSONReader:
    """One JSON object (what follows it is ignored, as Go's parser ignores it), as a tree."""

    def __init__(self, source: str) -> None:
        self.source, self.i = source, 0

    def pos(self, index: int | None = None) -> _Pos:
        return _position(self.source, self.i if index is None else index)

    def skip(self) -> None:
        while self.i < len(self.source) and self.source[self.i] in _JSON_SPACE:
            self.i += 1

    def fail(self, expected: str) -> _SyntaxError:
        got = self.source[self.i:self.i + 1] or "EOF"
        return _SyntaxError(f"At {self.pos()}: expected {expected}, got {got!r}")

    def object(self) -> _Object:
        self.skip()
        start = self.i
        if self.source[self.i:self.i + 1] != "{":
            raise self.fail("'{'")
        self.i += 1
        items: list[_Item] = []
        self.skip()
        if self.source[self.i:self.i + 1] == "}":
            self.i += 1
            return _Object(items, self.pos(start))
        while True:
            self.skip()
            if self.source[self.i:self.i + 1] != '"':
                raise self.fail("a string key")
            key_pos = self.pos()
            key = self.string()
            self.skip()
            if self.source[self.i:self.i + 1] != ":":
                raise self.fail("':'")
            self.i += 1
            items.append(_Item([_Key(key, key_pos)], self.value(), assign=True))
            self.skip()
            ch = self.source[self.i:self.i + 1]
            self.i += 1
            if ch == "}":
                return _Object(items, self.pos(start))
            if ch != ",":
                self.i -= 1
                raise self.fail("',' or '}'")

    def string(self) -> str:
        try:
            value, self.i = _JSON_DECODER.raw_decode(self.source, self.i)
        except json.JSONDecodeError as exc:
            raise _SyntaxError(f"At {self.pos(exc.pos)}: {exc.msg}") from None
        return str(value)

    def value(self) -> _Node:
        self.skip()
        start = self.i
        ch = self.source[self.i:self.i + 1]
        if ch == "{":
            return self.object()
        if ch == "[":
            self.i += 1
            elements: list[_Node] = []
            self.skip()
            if self.source[self.i:self.i + 1] == "]":
                self.i += 1
                return _List(elements, self.pos(start))
            while True:
                elements.append(self.value())
                self.skip()
                ch = self.source[self.i:self.i + 1]
                self.i += 1
                if ch == "]":
                    return _List(elements, self.pos(start))
                if ch != ",":
                    self.i -= 1
                    raise self.fail("',' or ']'")
        if ch == '"':
            return _Literal("STRING", self.string(), self.pos(start))
        for word, kind in (("true", "BOOL"), ("false", "BOOL"), ("null", "NULL")):
            if self.source.startswith(word, self.i):
                self.i += len(word)
                return _Literal(kind, word, self.pos(start))
        match = _JSON_NUMBER.match(self.source, self.i)
        if match:
            self.i = match.end()
            kind = "FLOAT" if match.group(1) or match.group(2) else "NUMBER"
            return _Literal(kind, match.group(0), self.pos(start))
        raise self.fail("a value")


def _flatten(items: list[_Item]) -> list[_Item]:
    """flattenObjects: ``{"key": {"foo": {...}}}`` becomes the block ``key "foo" {...}``."""
    out: list[_Item] = []
    frontier = list(items)
    while frontier:
        item = frontier.pop()
        value = item.value
        if isinstance(value, _Object) and value.items and all(
                isinstance(sub.value, _Object) for sub in value.items):
            for sub in value.items:
                frontier.append(_Item([*item.keys, *sub.keys], sub.value, item.assign))
        elif isinstance(value, _List) and value.items and all(
                isinstance(element, _Object) for element in value.items):
            for element in value.items:
                frontier.append(_Item(item.keys, element, item.assign))
        else:
            out.append(item)
    out.reverse()
    for item in out:  # ast.Walk goes on into the rewritten list's children
        _flatten_nested(item.value)
    return out


def _flatten_nested(node: _Node) -> None:
    if isinstance(node, _Object):
        node.items = _flatten(node.items)
    elif isinstance(node, _List):
        for element in node.items:
            _flatten_nested(element)


def _parse_json(source: str) -> list[_Item]:
    return _flatten(_JSONReader(source).object().items)


def _is_go_space(ch: str) -> bool:
    return ch in "\t\n\v\f\r \x85\xa0" or (ord(ch) > 0xFF and ch.isspace())


# -- decoding (hashicorp/hcl decoder.go, for acl.PolicyRules) ----------------------------------


class _DecodeError(Exception):
    def __init__(self, pos: _Pos, text: str) -> None:
        super().__init__(f"At {pos}: {text}")


def _equal_fold(a: str, b: str) -> bool:
    return a == b or a.casefold() == b.casefold()


def _filter(items: list[_Item], key: str) -> tuple[list[_Item], list[_Item]]:
    """ObjectList.Filter(key), split into Children() (labels left) and Elem() (none left)."""
    children: list[_Item] = []
    elems: list[_Item] = []
    for item in items:
        if item.keys and _equal_fold(item.keys[0].value, key):
            stripped = _Item(item.keys[1:], item.value, item.assign)
            (children if stripped.keys else elems).append(stripped)
    return children, elems


def _field_nodes(items: list[_Item], key: str) -> list[_Node]:
    """What decodeStruct hands a field: the block matches as one list, then each ``=``."""
    children, elems = _filter(items, key)
    nodes: list[_Node] = [_ItemList(children)] if children else []
    for match in elems:
        value = match.value
        nodes.append(_ItemList(value.items) if isinstance(value, _Object) else value)
    return nodes


def _decode_string(name: str, node: _Node) -> str:
    if isinstance(node, _Literal) and node.kind in ("NUMBER", "FLOAT", "BOOL", "STRING",
                                                    "HEREDOC"):
        return node.value
    raise _DecodeError(node.pos, f"{name}: unknown type for string {node.go_type}")


def _string_field(items: list[_Item], name: str, key: str) -> str:
    value = ""
    for node in _field_nodes(items, key):
        value = _decode_string(f"{name}.{key}", node)
    return value


def _expand(node: _Node) -> _Node:
    """expandObject: a two-label item from flattened JSON decodes as label + block."""
    if isinstance(node, _Item) and len(node.keys) == 2:
        inner = _Item(node.keys[1:], node.value, node.assign)
        return _Item(node.keys[:1], _Object([inner], _Pos()), node.assign)
    return node


_RuleFactory = Callable[[str, Callable[[str], str]], Any]


def _decode_rule(name: str, node: _Node, key_field: str, make: _RuleFactory) -> Any:
    """decodeStruct for one rule struct: its label, then its named fields."""
    item = None
    if isinstance(node, _Item):
        item, node = node, node.value
    if isinstance(node, _Object):
        node = _ItemList(node.items)
    if isinstance(node, _Literal) and item is not None:
        node = _ItemList([item])
    if not isinstance(node, _ItemList):
        raise _DecodeError(node.pos, f"{name}: not an object type for struct ({node.go_type})")
    if item is None:
        raise _DecodeError(node.pos, f"{name}: {key_field} asked for 'key', impossible")
    label = item.keys[0].value if item.keys else ""
    items = node.items
    return make(label, lambda field_name: _string_field(items, name, field_name))


def _decode_rules(name: str, node: _Node, key_field: str, make: _RuleFactory,
                  out: list[Any]) -> None:
    """decodeSlice of rule pointers, appending to what the field already holds."""
    if isinstance(node, _ItemList):
        elements: list[_Node] = list(node.items)
    elif isinstance(node, _Object):
        elements = [node]
    elif isinstance(node, _List):
        elements = node.items
    else:
        raise _DecodeError(node.pos, f"unknown slice type: {node.go_type}")
    for i, element in enumerate(elements):
        out.append(_decode_rule(f"{name}[{i}]", _expand(element), key_field, make))


def _rule_list(items: list[_Item], key: str, key_field: str, make: _RuleFactory) -> list[Any]:
    out: list[Any] = []
    for node in _field_nodes(items, key):
        _decode_rules(f"root.{key}", node, key_field, make, out)
    return out


def _decode_policy(items: list[_Item]) -> Policy:
    def agent(label: str, get: Callable[[str], str]) -> AgentRule:
        return AgentRule(label, get("Policy"))

    def key(label: str, get: Callable[[str], str]) -> KeyRule:
        return KeyRule(label, get("Policy"))

    def node(label: str, get: Callable[[str], str]) -> NodeRule:
        return NodeRule(label, get("Policy"))

    def service(label: str, get: Callable[[str], str]) -> ServiceRule:
        return ServiceRule(label, get("Policy"), get("Intentions"))

    def session(label: str, get: Callable[[str], str]) -> SessionRule:
        return SessionRule(label, get("Policy"))

    def event(label: str, get: Callable[[str], str]) -> EventRule:
        return EventRule(label, get("Policy"))

    def query(label: str, get: Callable[[str], str]) -> PreparedQueryRule:
        return PreparedQueryRule(label, get("Policy"))

    def scalar(tag: str) -> str:
        value = ""
        for n in _field_nodes(items, tag):
            value = _decode_string(f"root.{tag}", n)
        return value

    # acl.PolicyRules' fields in declaration order: the first decode error wins.
    return Policy(
        acl=scalar("acl"),
        agents=_rule_list(items, "agent", "Node", agent),
        agent_prefixes=_rule_list(items, "agent_prefix", "Node", agent),
        keys=_rule_list(items, "key", "Prefix", key),
        key_prefixes=_rule_list(items, "key_prefix", "Prefix", key),
        nodes=_rule_list(items, "node", "Name", node),
        node_prefixes=_rule_list(items, "node_prefix", "Name", node),
        services=_rule_list(items, "service", "Name", service),
        service_prefixes=_rule_list(items, "service_prefix", "Name", service),
        sessions=_rule_list(items, "session", "Node", session),
        session_prefixes=_rule_list(items, "session_prefix", "Node", session),
        events=_rule_list(items, "event", "Event", event),
        event_prefixes=_rule_list(items, "event_prefix", "Event", event),
        prepared_queries=_rule_list(items, "query", "Prefix", query),
        prepared_query_prefixes=_rule_list(items, "query_prefix", "Prefix", query),
        keyring=scalar("keyring"),
        operator=scalar("operator"),
        mesh=scalar("mesh"),
        peering=scalar("peering"),
    )


# -- validation (PolicyRules.Validate) ---------------------------------------------------------


def _validate(policy: Policy) -> None:
    if policy.acl and not is_policy_valid(policy.acl):
        raise PolicyError(f"Invalid acl policy: {_q(policy.acl)}")
    rules: list[tuple[str, Iterable[Any], bool]] = [
        ("agent", policy.agents, False), ("agent_prefix", policy.agent_prefixes, False),
        ("key", policy.keys, True), ("key_prefix", policy.key_prefixes, True),
        ("node", policy.nodes, False), ("node_prefix", policy.node_prefixes, False),
    ]
    for kind, group, allow_list in rules:
        for rule in group:
            if not is_policy_valid(rule.policy, allow_list):
                raise PolicyError(f"Invalid {kind} policy: {rule.go_string()}")
    for kind, services in (("service", policy.services),
                           ("service_prefix", policy.service_prefixes)):
        for service in services:
            if not is_policy_valid(service.policy):
                raise PolicyError(f"Invalid {kind} policy: {service.go_string()}")
            if service.intentions and not is_policy_valid(service.intentions):
                raise PolicyError(f"Invalid {kind} intentions policy: {service.go_string()}")
    rules = [
        ("session", policy.sessions, False), ("session_prefix", policy.session_prefixes, False),
        ("event", policy.events, False), ("event_prefix", policy.event_prefixes, False),
        ("query", policy.prepared_queries, False),
        ("query_prefix", policy.prepared_query_prefixes, False),
    ]
    for kind, group, allow_list in rules:
        for rule in group:
            if not is_policy_valid(rule.policy, allow_list):
                raise PolicyError(f"Invalid {kind} policy: {rule.go_string()}")
    for kind, value in (("keyring", policy.keyring), ("operator", policy.operator),
                        ("mesh", policy.mesh), ("peering", policy.peering)):
        if value and not is_policy_valid(value):
            raise PolicyError(f"Invalid {kind} policy: {_q(value)}")


def parse_policy(rules: str, *, warn_on_duplicate_key: bool = False) -> Policy:
    """acl.NewPolicyFromSource: HCL 1 or JSON rules, decoded and validated.

    ``warn_on_duplicate_key`` is ``acl.Config.WarnOnDuplicateKey``: Consul's lenient mode for
    rules it stored before duplicates were refused (later values win). Raises
    :class:`PolicyError` with Consul's text; an HCL source needs pyhcl (ImportError naming
    ``pip install 'aioconsul[devagent]'`` otherwise).
    """
    if rules == "":
        return Policy()  # the hot path: no parse at all
    first = next((ch for ch in rules if not _is_go_space(ch)), "")
    try:
        if first == "{":
            items = _parse_json(rules)
        else:
            items = _parse_hcl(rules)
            if not warn_on_duplicate_key:
                _check_duplicates(items)
        policy = _decode_policy(items)
    except (_SyntaxError, _DecodeError) as exc:
        raise PolicyError(f"Failed to parse ACL rules: {exc}") from None
    _validate(policy)
    return policy


# -- merging (acl/policy_merger.go) ------------------------------------------------------------


def _merge_rules(merged: dict[str, Any], rules: Iterable[Any], label: str) -> None:
    for rule in rules:
        name = getattr(rule, label)
        existing = merged.get(name)
        if existing is None or takes_precedence_over(rule.policy, existing.policy):
            merged[name] = rule


def _merge_services(merged: dict[str, ServiceRule], rules: Iterable[ServiceRule]) -> None:
    for rule in rules:
        existing = merged.get(rule.name)
        if existing is None:
            merged[rule.name] = rule
            continue
        if takes_precedence_over(rule.policy, existing.policy):
            existing = dataclasses.replace(existing, policy=rule.policy)
        if takes_precedence_over(rule.intentions, existing.intentions):
            existing = dataclasses.replace(existing, intentions=rule.intentions)
        merged[rule.name] = existing


def merge_policies(policies: Sequence[Policy]) -> Policy:
    """acl.MergePolicies: one rule per name and kind, exact and prefix rules kept apart.

    For a name both policies rule on, deny beats write beats list beats read (exact string
    comparison, as Consul's takesPrecedenceOver); a service rule merges its ``policy`` and its
    ``intentions`` separately. Unlike Go (which updates the first policy's rule in place, and
    so the parsed policy it caches) the inputs are never modified. Rules keep the order in
    which their names first appear; Consul's order is a Go map's.
    """
    single = {"acl": "", "keyring": "", "operator": "", "mesh": "", "peering": ""}
    lists: dict[str, dict[str, Any]] = {name: {} for name in _RULE_LISTS}
    for policy in policies:
        for name in single:
            value = getattr(policy, name)
            if takes_precedence_over(value, single[name]):
                single[name] = value
        for name, label in _RULE_LISTS.items():
            if label == "service":
                _merge_services(lists[name], getattr(policy, name))
            else:
                _merge_rules(lists[name], getattr(policy, name), label)
    merged = Policy(acl=single["acl"], keyring=single["keyring"], operator=single["operator"],
                    mesh=single["mesh"], peering=single["peering"])
    for name, rules in lists.items():
        setattr(merged, name, list(rules.values()))
    return merged


#: Policy's rule lists and the field naming each rule.
_RULE_LISTS: Final = {
    "agents": "node", "agent_prefixes": "node",
    "keys": "prefix", "key_prefixes": "prefix",
    "nodes": "name", "node_prefixes": "name",
    "services": "service", "service_prefixes": "service",
    "sessions": "node", "session_prefixes": "node",
    "events": "event", "event_prefixes": "event",
    "prepared_queries": "prefix", "prepared_query_prefixes": "prefix",
}
