"""Consul's ``?filter=`` expression language, as the dev agent evaluates it.

Consul evaluates ``?filter=`` with hashicorp/go-bexpr, pinned at **v0.1.2**: Consul's ``go.mod``
lists ``github.com/hashicorp/go-bexpr v0.1.2`` (checked up to the 1.16 line) and the
BUSL-licensed sources of later releases still call ``bexpr.CreateFilter(expr, nil, dataType)``,
a signature that later go-bexpr releases reduced to ``CreateFilter(expr)`` (``matches`` arrived
with the v0.1.1 update, hashicorp/consul#6190). This module re-implements v0.1.2 in pure Python,
so that the dev agent accepts, rejects and evaluates filters the way a real agent does:

* the grammar is go-bexpr's ``grammar.peg``, run by an interpreter that keeps the bookkeeping of
  the pigeon-generated parser (farthest-failure position, the sorted "expected" set, rule display
  names, errors recorded by ``&{...}`` code blocks and by actions, "invalid encoding"). Parse
  errors therefore read exactly like Consul's, for example
  ``Failed to create boolean expression evaluator: 1:4 (3): no match found, expected: "!=", ".",
  "==", "[", [ \\t\\r\\n] or [a-zA-Z0-9_]`` for ``foo`` (hashicorp/consul issue 7338).
* ``fields=`` takes the field schema of the Go type an endpoint filters (the element type of the
  slice or map it returns). With it, compilation validates the expression the way
  ``Evaluator.validate`` does in v0.1.2, against the field configurations that
  ``generateFieldConfigurations`` derives from the Go type: ``Selector "Foo" is not valid``,
  ``Invalid match operator "In" for selector "Port"``, ``Failed to coerce value ...`` and
  ``Failed to compile regular expression ...`` all come out as Consul words them, and evaluation
  gives absent struct fields their Go zero value. A schema is written with Go type names::

      {"Node": "string", "Port": "int", "Tags": ["string"], "Meta": {"*": "string"},
       "Weights": {"Passing": "int", "Warning": "int"}, "Checks": [{"Status": "string"}]}

  A ``str`` names a Go kind (``string``, ``bool``, ``int``, ``int8`` ... ``int64``, ``uint`` ...
  ``uint64``, ``float32``, ``float64``, ``any``; also ``[]T`` and ``map[string]T`` for those);
  a one-element list is a slice; ``{"*": T}`` is ``map[string]T``; any other mapping is a struct.
  ``any`` (``interface{}``) may only be a map or slice element: as a struct field go-bexpr panics,
  which is why Consul hides such fields with ``bexpr:"-"``.
* without ``fields=`` the expression is evaluated against whatever JSON it is given: a JSON
  object behaves like a ``map[string]...`` and a value's JSON type decides how the literal is
  coerced. That is the agent's fallback for data whose Go type it does not describe.

Evaluation follows v0.1.2's ``evaluateMatchExpressionRecurse``: a selector that passes through a
list matches when *any* element matches (so on an empty list every operator is false, ``!=`` and
``not in`` included); a missing map key makes ``==``, ``in`` and ``is not empty`` false and every
other operator true, ``matches`` included (fixed in go-bexpr v0.1.5, still there in v0.1.2);
``contains`` is ``in`` written the other way round; ``in`` is key membership on maps, element
equality on lists and substring search on strings. ``matches`` uses Go's RE2 syntax, translated
here to an equivalent Python pattern at compile time: ASCII ``\\d \\w \\s \\b``, ``$`` only at the
end of the text, flags that may change mid-pattern, ``{,n}`` as a literal, POSIX classes,
``\\Q...\\E``, and Go's error texts (``error parsing regexp: missing closing ): `(```).

Where the texts are approximations (everything else is byte-for-byte what v0.1.2 produces):

* regular-expression errors cover Go's syntax checks except the size limits (``expression too
  large``, ``expression nests too deeply``); Unicode *script* classes such as ``\\p{Greek}`` are
  valid in Go but cannot be evaluated here and raise an error that says so; ``(?i)`` case folding
  follows Python's rules, which differ from Go's for a handful of special characters (long s,
  Kelvin sign) inside negated classes.
* parentheses nested some 60 deep exhaust Python's recursion and are rejected with a message
  of our own; Consul accepts them (and, with no memoisation in its parser, may take exponential
  time). Chains of ``and``/``or`` have no such limit: they are parsed in a loop.
* without ``fields=``, Consul's own validation errors cannot occur: a literal that cannot be
  coerced to the JSON value's type simply does not compare equal (a JSON integer also compares
  with a float literal, since it may be a whole Go float64); a missing or ``null`` value is
  treated like a missing map key; ``is empty`` also applies to strings.
* with ``fields=``, a struct field is looked up under its own name in the JSON; go-bexpr's
  ``bexpr:"name"`` tags, which can expose a field under another name, are not modelled.

This module is pure: no I/O, no asyncio, no aiohttp; stdlib and the (equally pure) Go helpers
of ``golang.stdlib`` only. It must never know which
endpoint it is filtering for, never mutate the data it evaluates, and never do per-object work
that can be done once per expression (coercions and regular expressions are prepared in
:func:`compile_filter`).
"""

from __future__ import annotations

import re
import struct
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeAlias

from .stdlib import strconv_quote as _go_quote

__all__ = ["FieldSchema", "FieldSpec", "Filter", "FilterError", "compile_filter"]

_PREFIX = "Failed to create boolean expression evaluator: "

FieldSpec: TypeAlias = "str | Mapping[str, FieldSpec] | list[FieldSpec] | tuple[FieldSpec, ...]"
"""One field of a :class:`FieldSchema`: a Go type name, a one-element list, ``{"*": T}`` or a
struct mapping."""

Predicate = Callable[[Any], bool]


class FilterError(ValueError):
    """A ``?filter=`` expression Consul would refuse; ``str(exc)`` is Consul's message."""


# --------------------------------------------------------------------------------------------
# Go helpers: strconv.Quote, strconv.Unquote, strconv.Parse{Bool,Int,Uint,Float}
# --------------------------------------------------------------------------------------------

def _is_raw_byte(ch: str) -> bool:
    """A byte that was not valid UTF-8, carried through ``str`` by ``surrogateescape``."""
    return "\udc80" <= ch <= "\udcff"


def _utf8_rune(b: bytes, i: int) -> tuple[int | None, int]:
    """``utf8.DecodeRune``: (code point, width), or (None, 1) for an invalid byte."""
    lead = b[i]
    if lead < 0x80:
        return lead, 1
    width = 2 if 0xC2 <= lead <= 0xDF else 3 if 0xE0 <= lead <= 0xEF else 4 if lead <= 0xF4 else 0
    if width and lead >= 0xC2:
        try:
            return ord(b[i : i + width].decode("utf-8")), width
        except UnicodeDecodeError:
            pass
    return None, 1


_UNESCAPES = {ord("a"): 7, ord("b"): 8, ord("f"): 12, ord("n"): 10, ord("r"): 13, ord("t"): 9}
_UNESCAPES[ord("v")] = 11


def _go_unquote(text: str) -> str:
    """Go's ``strconv.Unquote`` for a double-quoted or backquoted literal; ValueError if invalid."""
    b = text.encode("utf-8", "surrogateescape")
    if len(b) < 2 or b[0] != b[-1]:
        raise ValueError("invalid syntax")
    quote = b[0]
    if quote == 0x60:
        body = b[1:-1]
        if b"`" in body:
            raise ValueError("invalid syntax")
        return body.replace(b"\r", b"").decode("utf-8", "surrogateescape")
    if quote != 0x22:
        raise ValueError("invalid syntax")
    out = bytearray()
    s = b[1:]
    i = 0
    while i < len(s) and s[i] != quote:
        c = s[i]
        if c == 0x0A:
            raise ValueError("invalid syntax")
        if c >= 0x80:
            rune, width = _utf8_rune(s, i)
            out += chr(0xFFFD if rune is None else rune).encode()
            i += width
            continue
        if c != 0x5C:
            out.append(c)
            i += 1
            continue
        if i + 1 >= len(s):
            raise ValueError("invalid syntax")
        e = s[i + 1]
        i += 2
        if e in _UNESCAPES:
            out.append(_UNESCAPES[e])
        elif e in b"xuU":
            digits = {0x78: 2, 0x75: 4, 0x55: 8}[e]
            hexpart = s[i : i + digits]
            if len(hexpart) < digits or any(
                chr(h) not in "0123456789abcdefABCDEF" for h in hexpart
            ):
                raise ValueError("invalid syntax")
            v = int(hexpart, 16)
            i += digits
            if e == 0x78:
                out.append(v)
            elif v > 0x10FFFF or 0xD800 <= v <= 0xDFFF:
                raise ValueError("invalid syntax")
            else:
                out += chr(v).encode()
        elif 0x30 <= e <= 0x37:
            octal = s[i : i + 2]
            if len(octal) < 2 or any(not 0x30 <= o <= 0x37 for o in octal):
                raise ValueError("invalid syntax")
            v = int(bytes([e]) + octal, 8)
            i += 2
            if v > 255:
                raise ValueError("invalid syntax")
            out.append(v)
        elif e in (0x5C, quote):
            out.append(e)
        else:
            raise ValueError("invalid syntax")
    if i >= len(s) or i != len(s) - 1:
        raise ValueError("invalid syntax")
    return bytes(out).decode("utf-8", "surrogateescape")


def _num_error(func: str, s: str, reason: str) -> ValueError:
    return ValueError(f"strconv.{func}: parsing {_go_quote(s)}: {reason}")


def _underscore_ok(s: str) -> bool:
    """``strconv.underscoreOK``: underscores only between digits (or after a base prefix)."""
    saw = "^"
    i = 0
    if s[:1] in ("+", "-"):
        s = s[1:]
    hexa = False
    if len(s) >= 2 and s[0] == "0" and s[1].lower() in "box":
        i = 2
        saw = "0"
        hexa = s[1].lower() == "x"
    while i < len(s):
        c = s[i]
        if "0" <= c <= "9" or (hexa and "a" <= c.lower() <= "f"):
            saw = "0"
        elif c == "_":
            if saw != "0":
                return False
            saw = "_"
        elif saw == "_":
            return False
        else:
            saw = "!"
        i += 1
    return saw != "_"


def _parse_uint(s: str, bits: int, func: str = "ParseUint", s0: str | None = None) -> int:
    """``strconv.ParseUint(s, 0, bits)``; errors name ``func``/``s0`` as ``ParseInt`` does."""
    orig = s if s0 is None else s0
    if s == "":
        raise _num_error(func, orig, "invalid syntax")
    base = 10
    digits = s
    if s[0] == "0":
        if len(s) >= 3 and s[1].lower() == "b":
            base, digits = 2, s[2:]
        elif len(s) >= 3 and s[1].lower() == "o":
            base, digits = 8, s[2:]
        elif len(s) >= 3 and s[1].lower() == "x":
            base, digits = 16, s[2:]
        else:
            base, digits = 8, s[1:]
    max_val = (1 << bits) - 1
    n = 0
    underscores = False
    for c in digits:
        if c == "_":
            underscores = True
            continue
        if "0" <= c <= "9":
            d = ord(c) - 48
        elif "a" <= c.lower() <= "z" and c.isascii():
            d = ord(c.lower()) - 87
        else:
            raise _num_error(func, orig, "invalid syntax")
        if d >= base:
            raise _num_error(func, orig, "invalid syntax")
        n = n * base + d
        if n > max_val:
            raise _RangeError(max_val)
    if underscores and not _underscore_ok(s):
        raise _num_error(func, orig, "invalid syntax")
    return n


class _RangeError(Exception):
    def __init__(self, value: int) -> None:
        super().__init__(value)
        self.value = value


def _go_parse_uint(s: str, bits: int) -> int:
    try:
        return _parse_uint(s, bits)
    except _RangeError:
        raise _num_error("ParseUint", s, "value out of range") from None


def _go_parse_int(s: str, bits: int) -> int:
    """``strconv.ParseInt(s, 0, bits)``."""
    if s == "":
        raise _num_error("ParseInt", s, "invalid syntax")
    neg = s[0] == "-"
    body = s[1:] if s[0] in "+-" else s
    try:
        un = _parse_uint(body, bits, "ParseInt", s)
    except _RangeError as exc:
        un = exc.value
    cutoff = 1 << (bits - 1)
    if (not neg and un >= cutoff) or (neg and un > cutoff):
        raise _num_error("ParseInt", s, "value out of range")
    return -un if neg else un


_DEC_FLOAT = re.compile(r"[+-]?(?:[0-9_]+\.?[0-9_]*|\.[0-9_]+)(?:[eE][+-]?[0-9_]+)?", re.ASCII)
_HEX_FLOAT = re.compile(
    r"[+-]?0[xX](?:[0-9a-fA-F_]+\.?[0-9a-fA-F_]*|\.[0-9a-fA-F_]+)[pP][+-]?[0-9_]+"
)


def _f32(x: float) -> float:
    """Round a float to float32 precision (infinite when it is out of float32's range)."""
    return float(struct.unpack("f", struct.pack("f", x))[0])


def _go_parse_float(s: str, bits: int) -> float:
    """``strconv.ParseFloat(s, bits)``: decimal and hex forms, inf/infinity/nan, underscores."""
    low = s.lower()
    sign = -1.0 if low.startswith("-") else 1.0
    unsigned = low[1:] if low[:1] in ("+", "-") else low
    if unsigned in ("inf", "infinity"):
        return sign * float("inf")
    if low == "nan":
        return float("nan")
    if _HEX_FLOAT.fullmatch(s):
        if "_" in s and not _underscore_ok(s):
            raise _num_error("ParseFloat", s, "invalid syntax")
        value = float.fromhex(s.replace("_", ""))
    elif _DEC_FLOAT.fullmatch(s) and any(c.isdigit() for c in s.split("e")[0].split("E")[0]):
        if "_" in s and not _underscore_ok(s):
            raise _num_error("ParseFloat", s, "invalid syntax")
        value = float(s.replace("_", ""))
    else:
        raise _num_error("ParseFloat", s, "invalid syntax")
    if value in (float("inf"), float("-inf")):
        raise _num_error("ParseFloat", s, "value out of range")
    if bits == 32:
        value = _f32(value)
        if value in (float("inf"), float("-inf")):
            raise _num_error("ParseFloat", s, "value out of range")
    return value


_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})


def _go_parse_bool(s: str) -> bool:
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    raise _num_error("ParseBool", s, "invalid syntax")


# go-bexpr coerce.go: one coercion function per primitive kind.
_INT_BITS = {"int": 64, "int8": 8, "int16": 16, "int32": 32, "int64": 64}
_UINT_BITS = {"uint": 64, "uint8": 8, "uint16": 16, "uint32": 32, "uint64": 64}


def _coercer(kind: str) -> Callable[[str], Any]:
    if kind == "string":
        return str
    if kind == "bool":
        return _go_parse_bool
    if kind in _INT_BITS:
        bits = _INT_BITS[kind]
        return lambda raw: _go_parse_int(raw, bits)
    if kind in _UINT_BITS:
        bits = _UINT_BITS[kind]
        return lambda raw: _go_parse_uint(raw, bits)
    bits = 32 if kind == "float32" else 64
    return lambda raw: _go_parse_float(raw, bits)


_PRIMITIVES = frozenset({"string", "bool", "float32", "float64", *_INT_BITS, *_UINT_BITS})
_PRIMITIVE_ALIASES = {"byte": "uint8", "rune": "int32"}

# --------------------------------------------------------------------------------------------
# The AST (go-bexpr ast.go); operators are named by their MatchOperator.String()
# --------------------------------------------------------------------------------------------

EQUAL, NOT_EQUAL, IN, NOT_IN = "Equal", "Not Equal", "In", "Not In"
IS_EMPTY, IS_NOT_EMPTY, MATCHES, NOT_MATCHES = "Is Empty", "Is Not Empty", "Matches", "Not Matches"
# v0.1.2 evaluate.go, map key not found: "MatchEqual, MatchIsNotEmpty, MatchIn" are false and the
# ``default`` branch (which v0.1.1 never taught about the new Matches operators) is true.
_MISSING_IS_TRUE = frozenset({NOT_EQUAL, IS_EMPTY, NOT_IN, MATCHES, NOT_MATCHES})
_NEGATED = {NOT_EQUAL: EQUAL, NOT_IN: IN, IS_NOT_EMPTY: IS_EMPTY, NOT_MATCHES: MATCHES}


@dataclass(frozen=True)
class _MatchExpr:
    selector: tuple[str, ...]
    operator: str
    value: str | None  # MatchValue.Raw


@dataclass(frozen=True)
class _BinaryExpr:
    operator: str  # "and" | "or"
    left: _Node
    right: _Node


@dataclass(frozen=True)
class _NotExpr:
    operand: _Node


_Node: TypeAlias = "_MatchExpr | _BinaryExpr | _NotExpr"

# --------------------------------------------------------------------------------------------
# A pigeon-compatible PEG interpreter and go-bexpr v0.1.2's grammar.peg
# --------------------------------------------------------------------------------------------


class _ParseError(Exception):
    pass


class _Parser:
    """The state of pigeon's generated ``parser`` for one input."""

    def __init__(self, text: str) -> None:
        self.chars = text
        self.n = n = len(text)
        self.runes = ["\ufffd" if _is_raw_byte(c) or "\ud800" <= c <= "\udfff" else c for c in text]
        self.invalid = [_is_raw_byte(c) or "\ud800" <= c <= "\udfff" for c in text]
        # Position of every rune as pigeon's read() computes it: col counts runes and is reset to
        # 0 *on* a newline, offset counts bytes.
        self.line = [0] * (n + 1)
        self.col = [0] * (n + 1)
        self.off = [0] * (n + 1)
        line, col, off, width = 1, 0, 0, 0
        for i in range(n + 1):
            off += width
            col += 1
            ch = text[i] if i < n else ""
            if ch == "\n":
                line += 1
                col = 0
            self.line[i], self.col[i], self.off[i] = line, col, off
            if i < n:
                o = ord(ch)
                width = (
                    1
                    if o < 0x80 or self.invalid[i]
                    else 2
                    if o < 0x800
                    else 3
                    if o < 0x10000
                    else 4
                )
        self.pos = 0
        self.errs: list[str] = []
        self.rstack: list[_Rule] = []
        self.invert = False
        self.fail_off = 0
        self.fail_pos = (1, 1, 0)
        self.fail_want: list[str] = []
        self.memo: dict[tuple[int, int, bool], tuple[bool, Any, int]] = {}

    def position(self, i: int) -> tuple[int, int, int]:
        return self.line[i], self.col[i], self.off[i]

    def read(self) -> None:
        self.pos += 1
        if self.pos < self.n and self.invalid[self.pos]:
            self.add_err("invalid encoding")

    def fail_at(self, matched: bool, at: int, want: str) -> None:
        if matched != self.invert:
            return
        off = self.off[at]
        if off < self.fail_off:
            return
        if off > self.fail_off:
            self.fail_off = off
            self.fail_pos = self.position(at)
            self.fail_want = []
        self.fail_want.append("!" + want if self.invert else want)

    def add_err(self, msg: str) -> None:
        self.add_err_at(msg, self.position(self.pos))

    def add_err_at(self, msg: str, pos: tuple[int, int, int]) -> None:
        prefix = f"{pos[0]}:{pos[1]} ({pos[2]})"
        if self.rstack:
            rule = self.rstack[-1]
            prefix += ": rule " + (rule.display or rule.name)
        self.errs.append(f"{prefix}: {msg}")

    def parse(self) -> _Node:
        if self.n and self.invalid[0]:
            self.add_err("invalid encoding")
        ok, value = _RULES["Input"].run(self, {})
        if not ok and not self.errs:
            wants = set(self.fail_want)
            eof = "!." in wants
            wants.discard("!.")
            expected = sorted(wants) + (["EOF"] if eof else [])
            self.add_err_at("no match found, expected: " + _list_join(expected), self.fail_pos)
        if self.errs:
            unique = list(dict.fromkeys(self.errs))
            raise _ParseError("\n".join(unique))
        assert isinstance(value, (_MatchExpr, _BinaryExpr, _NotExpr))
        return value


def _list_join(items: list[str]) -> str:
    if len(items) < 2:
        return "".join(items)
    return ", ".join(items[:-1]) + " or " + items[-1]


_Env = dict[str, Any]
_Result = tuple[bool, Any]


class _Expr:
    def run(self, p: _Parser, env: _Env) -> _Result:
        raise NotImplementedError


class _Rule(_Expr):
    def __init__(self, index: int, name: str, display: str | None, expr: _Expr) -> None:
        self.index, self.name, self.display, self.expr = index, name, display, expr

    def run(self, p: _Parser, env: _Env) -> _Result:
        # Packrat memoisation: a rule re-run at the same position (and under the same ``!``
        # inversion) records the same failures and errors again, which pigeon de-duplicates,
        # so remembering its result changes nothing but the run time.
        key = (self.index, p.pos, p.invert)
        hit = p.memo.get(key)
        if hit is not None:
            p.pos = hit[2]
            return hit[0], hit[1]
        p.rstack.append(self)
        ok, value = self.expr.run(p, {})
        p.rstack.pop()
        p.memo[key] = (ok, value, p.pos)
        return ok, value


class _Ref(_Expr):
    """A rule reference; :func:`_link` replaces every one by the rule itself."""

    def __init__(self, name: str) -> None:
        self.name = name


class _Lit(_Expr):
    def __init__(self, val: str) -> None:
        self.val = val
        self.want = _go_quote(val)

    def run(self, p: _Parser, env: _Env) -> _Result:
        start = p.pos
        for ch in self.val:
            if p.pos >= p.n or p.runes[p.pos] != ch:
                p.fail_at(False, start, self.want)
                p.pos = start
                return False, None
            p.read()
        p.fail_at(True, start, self.want)
        return True, self.val


class _Class(_Expr):
    def __init__(self, val: str, accept: Callable[[str], bool]) -> None:
        self.val, self.accept = val, accept

    def run(self, p: _Parser, env: _Env) -> _Result:
        start = p.pos
        if start < p.n and self.accept(p.runes[start]):
            p.read()
            p.fail_at(True, start, self.val)
            return True, p.chars[start]
        p.fail_at(False, start, self.val)
        return False, None


class _AnyChar(_Expr):
    def run(self, p: _Parser, env: _Env) -> _Result:
        start = p.pos
        if start >= p.n:
            p.fail_at(False, start, ".")
            return False, None
        p.read()
        p.fail_at(True, start, ".")
        return True, p.chars[start]


class _Seq(_Expr):
    def __init__(self, *exprs: _Expr) -> None:
        self.exprs = exprs

    def run(self, p: _Parser, env: _Env) -> _Result:
        start = p.pos
        values = []
        for expr in self.exprs:
            ok, value = expr.run(p, env)
            if not ok:
                p.pos = start
                return False, None
            values.append(value)
        return True, values


class _Choice(_Expr):
    def __init__(self, *alternatives: _Expr) -> None:
        self.alternatives = alternatives

    def run(self, p: _Parser, env: _Env) -> _Result:
        for alt in self.alternatives:
            ok, value = alt.run(p, {})
            if ok:
                return True, value
        return False, None


class _Label(_Expr):
    def __init__(self, label: str, expr: _Expr) -> None:
        self.label, self.expr = label, expr

    def run(self, p: _Parser, env: _Env) -> _Result:
        ok, value = self.expr.run(p, {})
        if ok:
            env[self.label] = value
        return ok, value


class _Optional(_Expr):
    def __init__(self, expr: _Expr) -> None:
        self.expr = expr

    def run(self, p: _Parser, env: _Env) -> _Result:
        return True, self.expr.run(p, {})[1]


class _Repeat(_Expr):
    def __init__(self, expr: _Expr, minimum: int) -> None:
        self.expr, self.minimum = expr, minimum

    def run(self, p: _Parser, env: _Env) -> _Result:
        values: list[Any] | None = None
        while True:
            ok, value = self.expr.run(p, {})
            if not ok:
                if self.minimum and values is None:
                    return False, None
                return True, values
            if values is None:
                values = []
            values.append(value)


class _Lookahead(_Expr):
    def __init__(self, expr: _Expr, negate: bool) -> None:
        self.expr, self.negate = expr, negate

    def run(self, p: _Parser, env: _Env) -> _Result:
        start = p.pos
        if self.negate:
            p.invert = not p.invert
        ok, _ = self.expr.run(p, {})
        if self.negate:
            p.invert = not p.invert
        p.pos = start
        return ok != self.negate, None


_ActionFn = Callable[[str, _Env], tuple[Any, "str | None"]]


class _Action(_Expr):
    def __init__(self, expr: _Expr, fn: _ActionFn) -> None:
        self.expr, self.fn = expr, fn

    def run(self, p: _Parser, env: _Env) -> _Result:
        start = p.pos
        ok, _ = self.expr.run(p, env)
        if not ok:
            return False, None
        value, err = self.fn(p.chars[start : p.pos], env)
        if err is not None:
            p.add_err_at(err, p.position(start))
        return True, value


class _Chain(_Expr):
    """``X <- left:Y _ "kw" _ right:X {...} / expr:Y {...}``, run as a loop.

    grammar.peg's OrExpression and AndExpression are right-recursive; this loop tries the same
    matchers in the same order at the same positions (so it records the same failures and
    errors), builds the same right-nested tree, and needs no Python stack per operand.
    """

    def __init__(self, operand: _Expr, separator: _Expr, operator: str) -> None:
        self.operand, self.separator, self.operator = operand, separator, operator

    def run(self, p: _Parser, env: _Env) -> _Result:
        ok, first = self.operand.run(p, {})
        if not ok:
            return False, None
        operands = [first]
        while True:
            end = p.pos
            if not self.separator.run(p, {})[0]:
                break
            ok, value = self.operand.run(p, {})
            if not ok:
                p.pos = end
                break
            operands.append(value)
        tree = operands.pop()
        while operands:
            tree = _BinaryExpr(self.operator, operands.pop(), tree)
        return True, tree


class _Fail(_Expr):
    """A ``&{ return false, errors.New(msg) }`` code block."""

    def __init__(self, msg: str) -> None:
        self.msg = msg

    def run(self, p: _Parser, env: _Env) -> _Result:
        p.add_err(self.msg)
        return False, None


def _get(label: str) -> _ActionFn:
    return lambda text, env: (env[label], None)


def _const(value: str) -> _ActionFn:
    return lambda text, env: (value, None)


def _text(text: str, env: _Env) -> tuple[Any, str | None]:
    return text, None


def _not(text: str, env: _Env) -> tuple[Any, str | None]:
    expr = env["expr"]
    # grammar.peg: "small optimization ... not not foo == 3 which is equivalent to foo == 3"
    return (expr.operand if isinstance(expr, _NotExpr) else _NotExpr(expr)), None


def _match(text: str, env: _Env) -> tuple[Any, str | None]:
    return _MatchExpr(env["selector"], env["operator"], env.get("value")), None


def _selector(text: str, env: _Env) -> tuple[Any, str | None]:
    return (env["first"], *(env["rest"] or ())), None


def _unquote(text: str, env: _Env) -> tuple[Any, str | None]:
    try:
        return _go_unquote(text), None
    except ValueError as exc:
        return "", str(exc)


def _build_grammar() -> dict[str, _Rule]:
    lit, ref, seq, choice, label = _Lit, _Ref, _Seq, _Choice, _Label

    def opt(e: _Expr) -> _Expr:
        return _Optional(e)

    def star(e: _Expr) -> _Expr:
        return _Repeat(e, 0)

    def plus(e: _Expr) -> _Expr:
        return _Repeat(e, 1)

    def amp(e: _Expr) -> _Expr:
        return _Lookahead(e, negate=False)

    def bang(e: _Expr) -> _Expr:
        return _Lookahead(e, negate=True)

    def act(e: _Expr, fn: _ActionFn) -> _Expr:
        return _Action(e, fn)

    ws, ows = ref("_"), opt(ref("_"))
    alpha = _Class("[a-zA-Z]", lambda c: c.isascii() and c.isalpha())
    word = _Class("[a-zA-Z0-9_]", lambda c: c.isascii() and (c.isalnum() or c == "_"))

    def op(keyword: str, *words: str) -> _Expr:
        parts: list[_Expr] = []
        for w in words:
            parts += [ws, lit(w)]
        return act(seq(*parts, ws), _const(keyword))

    def ops(*names: str) -> _Expr:
        return label("operator", choice(*(ref(n) for n in names)))

    rules: list[tuple[str, str | None, _Expr]] = [
        ("Input", None, choice(
            act(seq(ows, lit("("), ows, label("expr", ref("OrExpression")), ows, lit(")"), ows,
                    ref("EOF")), _get("expr")),
            act(seq(ows, label("expr", ref("OrExpression")), ows, ref("EOF")), _get("expr")),
        )),
        ("OrExpression", None, _Chain(ref("AndExpression"), seq(ws, lit("or"), ws), "or")),
        ("AndExpression", None, _Chain(ref("NotExpression"), seq(ws, lit("and"), ws), "and")),
        ("NotExpression", None, choice(
            act(seq(lit("not"), ws, label("expr", ref("NotExpression"))), _not),
            act(label("expr", ref("ParenthesizedExpression")), _get("expr")),
        )),
        ("ParenthesizedExpression", '"grouping"', choice(
            act(seq(lit("("), ows, label("expr", ref("OrExpression")), ows, lit(")")),
                _get("expr")),
            act(label("expr", ref("MatchExpression")), _get("expr")),
            seq(lit("("), ows, ref("OrExpression"), ows, bang(lit(")")),
                _Fail("Unmatched parentheses")),
        )),
        ("MatchExpression", '"match"', choice(
            ref("MatchSelectorOpValue"), ref("MatchSelectorOp"), ref("MatchValueOpSelector"))),
        ("MatchSelectorOpValue", '"match"', act(seq(
            label("selector", ref("Selector")),
            ops("MatchEqual", "MatchNotEqual", "MatchContains", "MatchNotContains",
                "MatchMatches", "MatchNotMatches"),
            label("value", ref("Value"))), _match)),
        ("MatchSelectorOp", '"match"', act(seq(
            label("selector", ref("Selector")), ops("MatchIsEmpty", "MatchIsNotEmpty")), _match)),
        ("MatchValueOpSelector", '"match"', choice(
            act(seq(label("value", ref("Value")), ops("MatchIn", "MatchNotIn"),
                    label("selector", ref("Selector"))), _match),
            seq(ref("Value"), ops("MatchIn", "MatchNotIn"), bang(ref("Selector")),
                _Fail("Invalid selector")),
        )),
        ("MatchEqual", None, act(seq(ows, lit("=="), ows), _const(EQUAL))),
        ("MatchNotEqual", None, act(seq(ows, lit("!="), ows), _const(NOT_EQUAL))),
        ("MatchIsEmpty", None, act(seq(ws, lit("is"), ws, lit("empty")), _const(IS_EMPTY))),
        ("MatchIsNotEmpty", None, act(
            seq(ws, lit("is"), ws, lit("not"), ws, lit("empty")), _const(IS_NOT_EMPTY))),
        ("MatchIn", None, op(IN, "in")),
        ("MatchNotIn", None, op(NOT_IN, "not", "in")),
        ("MatchContains", None, op(IN, "contains")),
        ("MatchNotContains", None, op(NOT_IN, "not", "contains")),
        ("MatchMatches", None, op(MATCHES, "matches")),
        ("MatchNotMatches", None, op(NOT_MATCHES, "not", "matches")),
        ("Selector", '"selector"', act(seq(
            label("first", ref("Identifier")), label("rest", star(ref("SelectorOrIndex")))),
            _selector)),
        ("Identifier", None, act(seq(alpha, star(word)), _text)),
        ("SelectorOrIndex", None, choice(
            act(seq(lit("."), label("ident", ref("Identifier"))), _get("ident")),
            act(label("expr", ref("IndexExpression")), _get("expr")),
        )),
        ("IndexExpression", '"index"', choice(
            act(seq(lit("["), ows, label("lit", ref("StringLiteral")), ows, lit("]")),
                _get("lit")),
            seq(lit("["), ows, bang(ref("StringLiteral")), _Fail("Invalid index")),
            seq(lit("["), ows, ref("StringLiteral"), ows, bang(lit("]")),
                _Fail("Unclosed index expression")),
        )),
        ("Value", '"value"', choice(
            act(label("selector", ref("Selector")),
                lambda text, env: (".".join(env["selector"]), None)),
            act(label("n", ref("NumberLiteral")), _get("n")),
            act(label("s", ref("StringLiteral")), _get("s")),
        )),
        ("NumberLiteral", '"number"', choice(
            act(seq(opt(lit("-")), ref("IntegerOrFloat"), amp(ref("AfterNumbers"))), _text),
            seq(opt(lit("-")), ref("IntegerOrFloat"), bang(ref("AfterNumbers")),
                _Fail("Invalid number literal")),
        )),
        ("AfterNumbers", None, amp(choice(ref("_"), ref("EOF"), lit(")")))),
        ("IntegerOrFloat", None, seq(
            choice(lit("0"), seq(_Class("[1-9]", lambda c: "1" <= c <= "9"),
                                 star(_Class("[0-9]", lambda c: "0" <= c <= "9")))),
            opt(seq(lit("."), plus(_Class("[0-9]", lambda c: "0" <= c <= "9")))),
        )),
        ("StringLiteral", '"string"', choice(
            act(choice(seq(lit("`"), star(ref("RawStringChar")), lit("`")),
                       seq(lit('"'), star(ref("DoubleStringChar")), lit('"'))), _unquote),
            seq(choice(seq(lit("`"), star(ref("RawStringChar"))),
                       seq(lit('"'), star(ref("DoubleStringChar")))),
                ref("EOF"), _Fail("Unterminated string literal")),
        )),
        ("RawStringChar", None, seq(bang(lit("`")), _AnyChar())),
        ("DoubleStringChar", None, seq(bang(lit('"')), _AnyChar())),
        ("_", '"whitespace"', plus(_Class("[ \\t\\r\\n]", lambda c: c in " \t\r\n"))),
        ("EOF", None, bang(_AnyChar())),
    ]  # fmt: skip
    table = {name: _Rule(i, name, display, expr) for i, (name, display, expr) in enumerate(rules)}
    for rule in table.values():
        _link(rule, table)
    return table


def _link(node: _Expr, rules: dict[str, _Rule]) -> None:
    """Replace every :class:`_Ref` below ``node`` by its rule (one Python frame less per call)."""
    stack = [node]
    while stack:
        current = stack.pop()
        for attr, child in vars(current).items():
            children = child if isinstance(child, tuple) else (child,)
            linked = tuple(rules[c.name] if isinstance(c, _Ref) else c for c in children)
            setattr(current, attr, linked if isinstance(child, tuple) else linked[0])
            stack += [c for c in children if isinstance(c, _Expr) and not isinstance(c, _Rule)]


_RULES = _build_grammar()


def _parse(expression: str) -> _Node:
    try:
        return _Parser(expression).parse()
    except _ParseError as exc:
        raise FilterError(_PREFIX + str(exc)) from None
    except RecursionError:
        raise FilterError(
            _PREFIX + "expression is nested too deeply for the aioconsul dev agent"
        ) from None


# --------------------------------------------------------------------------------------------
# Go's regexp (RE2 syntax) translated to an equivalent Python pattern
# --------------------------------------------------------------------------------------------


class _RegexpError(Exception):
    """``regexp/syntax.Error``; ``str()`` is Go's ``Error()``."""

    def __init__(self, code: str, expr: str) -> None:
        super().__init__(f"error parsing regexp: {code}: `{expr}`")


class _UnsupportedRegexp(Exception):
    pass


_E_MISSING_PAREN = "missing closing )"
_E_UNEXPECTED_PAREN = "unexpected )"
_E_MISSING_BRACKET = "missing closing ]"
_E_ESCAPE = "invalid escape sequence"
_E_CHAR_RANGE = "invalid character class range"
_E_NAMED_CAPTURE = "invalid named capture"
_E_PERL_OP = "invalid or unsupported Perl syntax"
_E_REPEAT_OP = "invalid nested repetition operator"
_E_REPEAT_SIZE = "invalid repeat count"
_E_REPEAT_ARG = "missing argument to repetition operator"
_E_TRAILING_BACKSLASH = "trailing backslash at end of expression"
_E_UTF8 = "invalid UTF-8"

_Ranges = list[tuple[int, int]]
_MAX_RUNE = 0x10FFFF
_WORD_RANGES: _Ranges = [(0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)]
_PERL_CLASSES: dict[str, _Ranges] = {
    "d": [(0x30, 0x39)],
    "s": [(0x09, 0x0A), (0x0C, 0x0D), (0x20, 0x20)],
    "w": _WORD_RANGES,
}
_POSIX_CLASSES: dict[str, _Ranges] = {
    "alnum": [(0x30, 0x39), (0x41, 0x5A), (0x61, 0x7A)],
    "alpha": [(0x41, 0x5A), (0x61, 0x7A)],
    "ascii": [(0x00, 0x7F)],
    "blank": [(0x09, 0x09), (0x20, 0x20)],
    "cntrl": [(0x00, 0x1F), (0x7F, 0x7F)],
    "digit": [(0x30, 0x39)],
    "graph": [(0x21, 0x7E)],
    "lower": [(0x61, 0x7A)],
    "print": [(0x20, 0x7E)],
    "punct": [(0x21, 0x2F), (0x3A, 0x40), (0x5B, 0x60), (0x7B, 0x7E)],
    "space": [(0x09, 0x0D), (0x20, 0x20)],
    "upper": [(0x41, 0x5A)],
    "word": _WORD_RANGES,
    "xdigit": [(0x30, 0x39), (0x41, 0x46), (0x61, 0x66)],
}
# Go's unicode.Categories; "C" is Cc|Cf|Co|Cs (no Cn).
_CATEGORY_NAMES = """C Cc Cf Co Cs L Ll Lm Lo Lt Lu M Mc Me Mn N Nd Nl No
    P Pc Pd Pe Pf Pi Po Ps S Sc Sk Sm So Z Zl Zp Zs"""
_GO_CATEGORIES = frozenset(_CATEGORY_NAMES.split())
# Go's unicode.Scripts: valid in Go, but Python's unicodedata has no script property.
_SCRIPT_NAMES = """Adlam Ahom Anatolian_Hieroglyphs Arabic Armenian Avestan Balinese Bamum
    Bassa_Vah Batak Bengali Bhaiksuki Bopomofo Brahmi Braille Buginese Buhid Canadian_Aboriginal
    Carian
    Caucasian_Albanian Chakma Cham Cherokee Chorasmian Common Coptic Cuneiform Cypriot
    Cypro_Minoan Cyrillic Deseret Devanagari Dives_Akuru Dogra Duployan Egyptian_Hieroglyphs
    Elbasan Elymaic Ethiopic Georgian Glagolitic Gothic Grantha Greek Gujarati Gunjala_Gondi
    Gurmukhi Han Hangul Hanifi_Rohingya Hanunoo Hatran Hebrew Hiragana Imperial_Aramaic Inherited
    Inscriptional_Pahlavi Inscriptional_Parthian Javanese Kaithi Kannada Katakana Kawi Kayah_Li
    Kharoshthi Khitan_Small_Script Khmer Khojki Khudawadi Lao Latin Lepcha Limbu Linear_A
    Linear_B Lisu Lycian Lydian Mahajani Makasar Malayalam Mandaic Manichaean Marchen
    Masaram_Gondi Medefaidrin Meetei_Mayek Mende_Kikakui Meroitic_Cursive Meroitic_Hieroglyphs
    Miao Modi Mongolian Mro Multani Myanmar Nabataean Nag_Mundari Nandinagari New_Tai_Lue Newa Nko
    Nushu Nyiakeng_Puachue_Hmong Ogham Ol_Chiki Old_Hungarian Old_Italic Old_North_Arabian
    Old_Permic Old_Persian Old_Sogdian Old_South_Arabian Old_Turkic Old_Uyghur Oriya Osage
    Osmanya Pahawh_Hmong Palmyrene Pau_Cin_Hau Phags_Pa Phoenician Psalter_Pahlavi Rejang Runic
    Samaritan Saurashtra Sharada Shavian Siddham SignWriting Sinhala Sogdian Sora_Sompeng Soyombo
    Sundanese Syloti_Nagri Syriac Tagalog Tagbanwa Tai_Le Tai_Tham Tai_Viet Takri Tamil Tangsa
    Tangut Telugu Thaana Thai Tibetan Tifinagh Tirhuta Toto Ugaritic Vai Vithkuqi Wancho
    Warang_Citi Yezidi Yi Zanabazar_Square"""
_GO_SCRIPTS = frozenset(_SCRIPT_NAMES.split())
_WORD_CLASS = "[0-9A-Za-z_]"
_WORD_BOUNDARY = f"(?:(?<={_WORD_CLASS})(?!{_WORD_CLASS})|(?<!{_WORD_CLASS})(?={_WORD_CLASS}))"
_NOT_WORD_BOUNDARY = f"(?:(?<={_WORD_CLASS})(?={_WORD_CLASS})|(?<!{_WORD_CLASS})(?!{_WORD_CLASS}))"

_FOLD, _DOTNL, _MULTILINE, _UNGREEDY = 1, 2, 4, 8
_FLAG_BITS = {"i": _FOLD, "s": _DOTNL, "m": _MULTILINE, "U": _UNGREEDY}


@lru_cache(maxsize=1)
def _category_ranges() -> dict[str, _Ranges]:
    """Code point ranges of every Unicode general category (one pass, computed on first use)."""
    table: dict[str, _Ranges] = {}
    for cp in range(_MAX_RUNE + 1):
        cat = unicodedata.category(chr(cp))
        ranges = table.setdefault(cat, [])
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1] = (ranges[-1][0], cp)
        else:
            ranges.append((cp, cp))
    return table


def _unicode_class(name: str) -> _Ranges | None:
    if name == "Any":
        return [(0, _MAX_RUNE)]
    if name not in _GO_CATEGORIES:
        return None
    table = _category_ranges()
    if len(name) == 2:
        return list(table.get(name, []))
    members = [c for c in table if c[0] == name and (name != "C" or c != "Cn")]
    return _merge([r for c in members for r in table[c]])


def _merge(ranges: Iterable[tuple[int, int]]) -> _Ranges:
    out: _Ranges = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + 1:
            if hi > out[-1][1]:
                out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return out


def _negate(ranges: _Ranges) -> _Ranges:
    out: _Ranges = []
    nxt = 0
    for lo, hi in _merge(ranges):
        if lo > nxt:
            out.append((nxt, lo - 1))
        nxt = hi + 1
    if nxt <= _MAX_RUNE:
        out.append((nxt, _MAX_RUNE))
    return out


def _esc(cp: int) -> str:
    """A code point as a Python pattern atom that is never special, in or out of a class."""
    if 0x30 <= cp <= 0x39 or 0x41 <= cp <= 0x5A or 0x61 <= cp <= 0x7A:
        return chr(cp)
    if cp < 0x100:
        return f"\\x{cp:02x}"
    if cp < 0x10000:
        return f"\\u{cp:04x}"
    return f"\\U{cp:08x}"


def _class_text(ranges: _Ranges, negated: bool, flags: int) -> str:
    merged = _merge(ranges)
    if not merged:
        body = "(?s:.)" if negated else "(?!)"
    else:
        parts = [_esc(lo) if lo == hi else f"{_esc(lo)}-{_esc(hi)}" for lo, hi in merged]
        body = "[" + ("^" if negated else "") + "".join(parts) + "]"
    return f"(?i:{body})" if flags & _FOLD else body


def _literal_text(cp: int, flags: int) -> str:
    ch = chr(cp)
    if flags & _FOLD and (ch.lower() != ch.upper() or not ch.isascii()):
        return f"(?i:{_esc(cp)})"
    return _esc(cp)


def _unhex(c: str) -> int:
    return int(c, 16) if c and c in "0123456789abcdefABCDEF" else -1


def _check_utf8(pat: str, i: int) -> None:
    if _is_raw_byte(pat[i]):
        raise _RegexpError(_E_UTF8, pat[i:])


def _parse_escape(pat: str, i: int) -> tuple[int, int]:
    """regexp/syntax ``parseEscape``: the escape at ``pat[i] == '\\'`` -> (code point, next)."""
    n = len(pat)
    t = i + 1
    if t >= n:
        raise _RegexpError(_E_TRAILING_BACKSLASH, "")
    _check_utf8(pat, t)
    c = pat[t]
    t += 1
    if c.isascii() and not c.isalnum():
        return ord(c), t
    if c in "01234567" and (c == "0" or (t < n and "0" <= pat[t] <= "7")):
        r = ord(c) - 0x30
        for _ in range(2):
            if t < n and "0" <= pat[t] <= "7":
                r = r * 8 + ord(pat[t]) - 0x30
                t += 1
        return r, t
    if c == "x" and t < n:
        c2 = pat[t]
        t += 1
        if c2 == "{":
            r, digits = 0, 0
            while t < n:
                ch = pat[t]
                t += 1
                if ch == "}":
                    if digits:
                        return r, t
                    break
                v = _unhex(ch)
                if v < 0:
                    break
                r = r * 16 + v
                digits += 1
                if r > _MAX_RUNE:
                    break
        else:
            x = _unhex(c2)
            y = -1
            if t < n:
                y = _unhex(pat[t])
                t += 1
            if x >= 0 and y >= 0:
                return x * 16 + y, t
    elif c in "afnrtv":
        return {"a": 7, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11}[c], t
    raise _RegexpError(_E_ESCAPE, pat[i:t])


def _parse_unicode_class(pat: str, i: int) -> tuple[_Ranges, int]:
    """``\\pL``, ``\\p{Greek}``, ``\\PL``, ``\\p{^L}`` at ``pat[i]``."""
    n = len(pat)
    sign = -1 if pat[i + 1] == "P" else 1
    t = i + 2
    if t < n and pat[t] == "{":
        end = pat.find("}", i)
        if end < 0:
            raise _RegexpError(_E_CHAR_RANGE, pat[i:])
        seq, name, t = pat[i : end + 1], pat[i + 3 : end], end + 1
    else:
        if t < n:
            t += 1
        seq, name = pat[i:t], pat[i + 2 : t]
    if name.startswith("^"):
        sign, name = -sign, name[1:]
    ranges = _unicode_class(name)
    if ranges is None:
        if name in _GO_SCRIPTS:
            raise _UnsupportedRegexp(
                f"Unicode script class `{seq}` is valid in Consul but cannot be evaluated by "
                "the aioconsul dev agent"
            )
        raise _RegexpError(_E_CHAR_RANGE, seq)
    return (_negate(ranges) if sign < 0 else ranges), t


def _parse_class(pat: str, i: int, flags: int) -> tuple[str, int]:
    """regexp/syntax ``parseClass`` at ``pat[i] == '['`` -> (Python text, next index)."""
    n = len(pat)
    whole = pat[i:]
    t = i + 1
    negated = t < n and pat[t] == "^"
    if negated:
        t += 1
    ranges: _Ranges = []
    first = True
    while t >= n or pat[t] != "]" or first:
        first = False
        if t + 2 < n and pat[t] == "[" and pat[t + 1] == ":":
            end = pat.find(":]", t + 2)
            if end >= 0:
                name = pat[t + 2 : end]
                group = _POSIX_CLASSES.get(name.removeprefix("^"))
                if group is None:
                    raise _RegexpError(_E_CHAR_RANGE, pat[t : end + 2])
                ranges += _negate(group) if name.startswith("^") else group
                t = end + 2
                continue
        if t + 1 < n and pat[t] == "\\" and pat[t + 1] in "pP":
            more, t = _parse_unicode_class(pat, t)
            ranges += more
            continue
        if t + 1 < n and pat[t] == "\\" and pat[t + 1] in "dDsSwW":
            perl = _PERL_CLASSES[pat[t + 1].lower()]
            ranges += _negate(perl) if pat[t + 1].isupper() else perl
            t += 2
            continue
        start = t
        lo, t = _parse_class_char(pat, t, whole)
        hi = lo
        if t + 1 < n and pat[t] == "-" and pat[t + 1] != "]":
            hi, t = _parse_class_char(pat, t + 1, whole)
            if hi < lo:
                raise _RegexpError(_E_CHAR_RANGE, pat[start:t])
        ranges.append((lo, hi))
    return _class_text(ranges, negated, flags), t + 1


def _parse_class_char(pat: str, t: int, whole: str) -> tuple[int, int]:
    if t >= len(pat):
        raise _RegexpError(_E_MISSING_BRACKET, whole)
    if pat[t] == "\\":
        return _parse_escape(pat, t)
    _check_utf8(pat, t)
    return ord(pat[t]), t + 1


def _parse_repeat(pat: str, i: int) -> tuple[int, int, int] | None:
    """regexp/syntax ``parseRepeat``: ``{n}``, ``{n,}``, ``{n,m}`` -> (min, max, next)."""

    def number(t: int) -> tuple[int, int] | None:
        end = t
        while end < len(pat) and "0" <= pat[end] <= "9":
            end += 1
        if end == t or (end - t >= 2 and pat[t] == "0"):
            return None
        return (int(pat[t:end]) if end - t <= 8 else -1), end

    got = number(i + 1)
    if got is None:
        return None
    lo, t = got
    if t >= len(pat):
        return None
    hi = lo
    if pat[t] == ",":
        t += 1
        if t >= len(pat):
            return None
        if pat[t] == "}":
            hi = -1
        else:
            got = number(t)
            if got is None:
                return None
            hi, t = got
            if hi < 0:
                lo = -1
    if t >= len(pat) or pat[t] != "}":
        return None
    return lo, hi, t + 1


class _Group:
    __slots__ = ("alts", "flags", "items")

    def __init__(self, flags: int, alts: list[list[tuple[str, int]]], items: list[tuple[str, int]]):
        self.flags, self.alts, self.items = flags, alts, items


def _join_alts(alts: list[list[tuple[str, int]]]) -> tuple[str, int]:
    text = "|".join("".join(tok for tok, _ in alt) for alt in alts)
    weight = max((w for alt in alts for _, w in alt), default=1)
    return text, weight


def _translate_regexp(pat: str) -> str:
    """Go ``regexp.Compile`` syntax (syntax.Perl) -> an equivalent Python ``re`` pattern.

    Each item carries its "repeat weight", the largest product of nested counted repetitions,
    for Go's ``repeatIsValid(re, 1000)`` check.
    """
    n = len(pat)
    flags = 0
    stack: list[_Group] = []
    alts: list[list[tuple[str, int]]] = []
    items: list[tuple[str, int]] = []
    last_repeat = -1  # start index of the previous repetition operator, or -1
    i = 0
    while i < n:
        c = pat[i]
        repeat_at = -1
        _check_utf8(pat, i)
        if c == "(":
            if pat.startswith("(?", i):
                rest = pat[i:]
                if (len(rest) > 4 and rest[2] == "P" and rest[3] == "<") or (
                    len(rest) > 3 and rest[2] == "<"
                ):
                    begin = 4 if rest[2] == "P" else 3
                    end = rest.find(">")
                    if end < 0:
                        raise _RegexpError(_E_NAMED_CAPTURE, rest)
                    name = rest[begin:end]
                    if not name or not all(
                        ch == "_" or (ch.isascii() and ch.isalnum()) for ch in name
                    ):
                        raise _RegexpError(_E_NAMED_CAPTURE, rest[: end + 1])
                    stack.append(_Group(flags, alts, items))
                    alts, items = [], []
                    i += end + 1
                else:
                    i, new_flags, opens_group = _perl_flags(pat, i, flags)
                    if opens_group:
                        stack.append(_Group(flags, alts, items))
                        alts, items = [], []
                    flags = new_flags
            else:
                stack.append(_Group(flags, alts, items))
                alts, items = [], []
                i += 1
        elif c == "|":
            alts.append(items)
            items = []
            i += 1
        elif c == ")":
            if not stack:
                raise _RegexpError(_E_UNEXPECTED_PAREN, pat)
            alts.append(items)
            text, weight = _join_alts(alts)
            group = stack.pop()
            flags, alts, items = group.flags, group.alts, group.items
            items.append((f"(?:{text})", weight))
            i += 1
        elif c == "^":
            items.append(("(?m:^)" if flags & _MULTILINE else "\\A", 1))
            i += 1
        elif c == "$":
            items.append(("(?m:$)" if flags & _MULTILINE else "\\Z", 1))
            i += 1
        elif c == ".":
            items.append(("(?s:.)" if flags & _DOTNL else "[^\\n]", 1))
            i += 1
        elif c == "[":
            text, i = _parse_class(pat, i, flags)
            items.append((text, 1))
        elif c in "*+?" or (c == "{" and _parse_repeat(pat, i) is not None):
            if c == "{":
                lo, hi, after = _parse_repeat(pat, i) or (0, 0, 0)
                if lo < 0 or lo > 1000 or hi > 1000 or (hi >= 0 and lo > hi):
                    raise _RegexpError(_E_REPEAT_SIZE, pat[i:after])
                quant = f"{{{lo}}}" if lo == hi else f"{{{lo},}}" if hi < 0 else f"{{{lo},{hi}}}"
            else:
                lo, hi, after, quant = 0, 0, i + 1, c
            lazy = bool(flags & _UNGREEDY)
            if after < n and pat[after] == "?":
                after += 1
                lazy = not lazy
            if last_repeat >= 0:
                raise _RegexpError(_E_REPEAT_OP, pat[last_repeat:after])
            if not items:
                raise _RegexpError(_E_REPEAT_ARG, pat[i:after])
            sub, weight = items[-1]
            if c == "{" and hi != 0:
                m = hi if hi >= 0 else lo
                weight = m * weight if m > 0 else weight
                if (lo >= 2 or hi >= 2) and weight > 1000:
                    raise _RegexpError(_E_REPEAT_SIZE, pat[i:after])
            elif c == "{":
                weight = 1
            items[-1] = (f"(?:{sub}){quant}{'?' if lazy else ''}", weight)
            repeat_at = i
            i = after
        elif c == "\\":
            i = _escape_item(pat, i, flags, items)
        else:
            items.append((_literal_text(ord(c), flags), 1))
            i += 1
        last_repeat = repeat_at
    if stack:
        raise _RegexpError(_E_MISSING_PAREN, pat)
    alts.append(items)
    return _join_alts(alts)[0]


def _perl_flags(pat: str, i: int, flags: int) -> tuple[int, int, bool]:
    """regexp/syntax ``parsePerlFlags``: ``(?flags)`` or ``(?flags:`` -> (next, flags, opens)."""
    t = i + 2
    new = flags
    sign = 1
    saw_flag = False
    while t < len(pat):
        c = pat[t]
        t += 1
        if c in _FLAG_BITS:
            new = new | _FLAG_BITS[c] if sign > 0 else new & ~_FLAG_BITS[c]
            saw_flag = True
        elif c == "-":
            if sign < 0:
                break
            sign, saw_flag = -1, False
        elif c in ":)":
            if sign < 0 and not saw_flag:
                break
            return t, new, c == ":"
        else:
            break
    raise _RegexpError(_E_PERL_OP, pat[i:t])


def _escape_item(pat: str, i: int, flags: int, items: list[tuple[str, int]]) -> int:
    n = len(pat)
    nxt = pat[i + 1] if i + 1 < n else ""
    simple = {"A": "\\A", "z": "\\Z", "b": _WORD_BOUNDARY, "B": _NOT_WORD_BOUNDARY}
    if nxt in simple:
        items.append((simple[nxt], 1))
        return i + 2
    if nxt == "C":
        raise _RegexpError(_E_ESCAPE, pat[i : i + 2])
    if nxt == "Q":
        end = pat.find("\\E", i + 2)
        stop = n if end < 0 else end
        for j in range(i + 2, stop):
            _check_utf8(pat, j)
            items.append((_literal_text(ord(pat[j]), flags), 1))
        return n if end < 0 else end + 2
    if nxt and nxt in "pP":
        ranges, t = _parse_unicode_class(pat, i)
        items.append((_class_text(ranges, False, flags), 1))
        return t
    if nxt and nxt in "dDsSwW":
        perl = _PERL_CLASSES[nxt.lower()]
        items.append((_class_text(perl, nxt.isupper(), flags), 1))
        return i + 2
    cp, t = _parse_escape(pat, i)
    items.append((_literal_text(cp, flags), 1))
    return t


@lru_cache(maxsize=256)
def _compile_regexp(raw: str) -> re.Pattern[str]:
    """Go's ``regexp.Compile(raw)`` as go-bexpr reports it, or FilterError."""
    try:
        return re.compile(_translate_regexp(raw))
    except _RegexpError as exc:
        raise FilterError(
            f"{_PREFIX}Failed to compile regular expression {_go_quote(raw)}: {exc}"
        ) from None
    except (_UnsupportedRegexp, re.error, RecursionError) as exc:
        raise FilterError(
            f"{_PREFIX}Failed to compile regular expression {_go_quote(raw)}: {exc}"
        ) from None


# --------------------------------------------------------------------------------------------
# Field schemas: go-bexpr's FieldConfigurations, generated from a description of the Go type
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _GoType:
    kind: str  # "prim" | "struct" | "slice" | "map" | "any"
    prim: str = ""
    elem: _GoType | None = None
    fields: Mapping[str, _GoType] | None = None


@dataclass(frozen=True)
class _FieldConfig:
    """go-bexpr ``FieldConfiguration``: supported operators, coercion, sub-fields ("" = any)."""

    ops: frozenset[str]
    coerce: Callable[[str], Any] | None
    sub: Mapping[str, _FieldConfig] | None


_EQ_OPS = frozenset({EQUAL, NOT_EQUAL})
_STRING_OPS = frozenset({EQUAL, NOT_EQUAL, IN, NOT_IN, MATCHES, NOT_MATCHES})
_MAP_OPS = frozenset({IS_EMPTY, IS_NOT_EMPTY, IN, NOT_IN})
_PRIM_SLICE_OPS = frozenset({IN, NOT_IN, IS_EMPTY, IS_NOT_EMPTY})
_SLICE_OPS = frozenset({IS_EMPTY, IS_NOT_EMPTY})


def _go_type(spec: Any, where: str) -> _GoType:
    if isinstance(spec, str):
        name = _PRIMITIVE_ALIASES.get(spec, spec).removeprefix("*")
        if name in _PRIMITIVES:
            return _GoType("prim", prim=name)
        if name in ("any", "interface{}"):
            return _GoType("any")
        if name.startswith("[]"):
            return _GoType("slice", elem=_go_type(name[2:], where + "[]"))
        if name.startswith("map[string]"):
            return _GoType("map", elem=_go_type(name[len("map[string]") :], where + "[*]"))
        raise ValueError(f"unknown Go type {spec!r} for field {where or '<root>'}")
    if isinstance(spec, (list, tuple)):
        if len(spec) != 1:
            raise ValueError(f"a slice is written as a one-element list, at {where or '<root>'}")
        return _GoType("slice", elem=_go_type(spec[0], where + "[]"))
    if isinstance(spec, Mapping):
        if set(spec) == {"*"}:
            return _GoType("map", elem=_go_type(spec["*"], where + "[*]"))
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
        return _GoType("struct", fields=fields)
    raise TypeError(f"not a field spec at {where or '<root>'}: {spec!r}")


def _field_config(t: _GoType) -> _FieldConfig | None:
    """go-bexpr ``generateFieldConfigurationInternal`` (v0.1.2 field_config.go)."""
    if t.kind == "prim":
        ops = _STRING_OPS if t.prim == "string" else _EQ_OPS
        return _FieldConfig(ops, _coercer(t.prim), None)
    if t.kind == "map":
        assert t.elem is not None
        sub = _field_config(t.elem)
        return _FieldConfig(_MAP_OPS, str, {"": sub} if sub is not None else None)
    if t.kind == "slice":
        assert t.elem is not None
        if t.elem.kind == "prim":
            return _FieldConfig(_PRIM_SLICE_OPS, _coercer(t.elem.prim), None)
        elem = _field_config(t.elem)
        return _FieldConfig(_SLICE_OPS, None, elem.sub if elem is not None and elem.sub else None)
    if t.kind == "struct":
        assert t.fields is not None
        subs = {name: _field_config(ft) for name, ft in t.fields.items()}
        return _FieldConfig(frozenset(), None, {k: v for k, v in subs.items() if v is not None})
    return None


class FieldSchema:
    """The filterable fields of one Go type, built once and shared by many :func:`compile_filter`.

    ``spec`` maps each field name to a :data:`FieldSpec` (see the module docstring), for
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
        self._config: Mapping[str, _FieldConfig] = config.sub


# --------------------------------------------------------------------------------------------
# Compiling the AST into predicates
# --------------------------------------------------------------------------------------------


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
    as Consul validates it (see the module docstring). Build a :class:`FieldSchema` once and
    pass it, rather than a plain mapping, to avoid rebuilding the field configuration per call.
    """
    if not isinstance(expression, str):
        raise TypeError(f"filter expression must be str, not {type(expression).__name__}")
    if expression == "":
        return Filter(expression, lambda obj: True)
    ast = _parse(expression)
    schema = fields if isinstance(fields, FieldSchema) or fields is None else FieldSchema(fields)
    if schema is not None:
        _validate(ast, schema._config)
        leaf = _typed_leaf_factory(schema._type)
    else:
        leaf = _dynamic_leaf
    return Filter(expression, _compile_node(ast, leaf))


def _validate(ast: _Node, config: Mapping[str, _FieldConfig]) -> None:
    """v0.1.2 ``validateRecurse``: left to right, the first error wins."""
    stack: list[_Node] = [ast]
    while stack:
        node = stack.pop()
        if isinstance(node, _NotExpr):
            stack.append(node.operand)
        elif isinstance(node, _BinaryExpr):
            stack += [node.right, node.left]
        else:
            _validate_match(node, config)


def _validate_match(node: _MatchExpr, config: Mapping[str, _FieldConfig]) -> None:
    configs: Mapping[str, _FieldConfig] | None = config
    last: _FieldConfig | None = None
    for idx, name in enumerate(node.selector):
        found = None if configs is None else configs.get(name, configs.get(""))
        if found is None:
            sel = ".".join(node.selector[: idx + 1])
            raise FilterError(f"{_PREFIX}Selector {_go_quote(sel)} is not valid")
        last, configs = found, found.sub
    assert last is not None
    sel = _go_quote(".".join(node.selector))
    if node.operator not in last.ops:
        raise FilterError(
            f"{_PREFIX}Invalid match operator {_go_quote(node.operator)} for selector {sel}"
        )
    if node.value is not None and last.coerce is not None:
        try:
            last.coerce(node.value)
        except ValueError as exc:
            raise FilterError(
                f"{_PREFIX}Failed to coerce value {_go_quote(node.value)} for selector {sel}: {exc}"
            ) from None
    if node.value is not None and node.operator in (MATCHES, NOT_MATCHES):
        _compile_regexp(node.value)


_Leaf = Callable[[_MatchExpr], Predicate]


def _compile_node(ast: _Node, leaf: _Leaf) -> Predicate:
    if isinstance(ast, _MatchExpr):
        return leaf(ast)
    if isinstance(ast, _NotExpr):
        inner = _compile_node(ast.operand, leaf)
        return lambda obj: not inner(obj)
    # "a or b or c" parses right-nested; flatten the chain so evaluation does not recurse on it.
    parts: list[_Node] = []
    stack: list[_Node] = [ast]
    while stack:
        node = stack.pop()
        if isinstance(node, _BinaryExpr) and node.operator == ast.operator:
            stack += [node.right, node.left]
        else:
            parts.append(node)
    preds = tuple(_compile_node(part, leaf) for part in parts)
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
    as_bool = _parsed(lambda: _go_parse_bool(raw))
    as_int = _parsed(lambda: _go_parse_int(raw, 64))
    as_float = _parsed(lambda: _go_parse_float(raw, 64))

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


def _dynamic_final(node: _MatchExpr) -> Predicate:
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
        rx = _compile_regexp(raw)
        pred = lambda v: isinstance(v, str) and rx.search(v) is not None  # noqa: E731
    return _invert(pred) if op != node.operator else pred


def _dynamic_leaf(node: _MatchExpr) -> Predicate:
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
            return bool(_f32(float(v)) == want)
        return bool(v == want)

    return number_equal


def _typed_final(node: _MatchExpr, t: _GoType) -> Predicate:
    op = _NEGATED.get(node.operator, node.operator)
    raw = node.value if node.value is not None else ""
    pred: Predicate
    if op == EQUAL:
        pred = _typed_equal(t.prim, _coercer(t.prim)(raw))
    elif op == IN and t.kind == "map":
        pred = lambda v: isinstance(v, dict) and raw in v  # noqa: E731
    elif op == IN and t.kind == "slice":
        assert t.elem is not None
        equal = _typed_equal(t.elem.prim, _coercer(t.elem.prim)(raw))
        pred = lambda v: isinstance(v, list) and any(equal(item) for item in v)  # noqa: E731
    elif op == IN:
        pred = lambda v: raw in (v if isinstance(v, str) else "")  # noqa: E731
    elif op == IS_EMPTY:
        pred = lambda v: not v  # noqa: E731
    else:
        rx = _compile_regexp(raw)
        pred = lambda v: rx.search(v if isinstance(v, str) else "") is not None  # noqa: E731
    return _invert(pred) if op != node.operator else pred


def _typed_leaf_factory(root: _GoType) -> _Leaf:
    def leaf(node: _MatchExpr) -> Predicate:
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

        def walk(v: Any, t: _GoType, d: int) -> bool:
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
