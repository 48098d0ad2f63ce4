"""go-bexpr v0.1.2's ``grammar.peg``, run by an interpreter of the pigeon-generated parser.

The interpreter keeps the generated parser's bookkeeping (``grammar.go``): the farthest-failure
position, the sorted "expected" set, rule display names, errors recorded by ``&{...}`` code
blocks and by actions, "invalid encoding". Parse errors therefore read exactly like Consul's.
Rule references are linked once, results are memoised per (rule, position), and the
right-recursive ``or``/``and`` chains run as loops. :func:`parse` builds the tree of
:mod:`.ast` or raises :class:`~.errors.FilterError`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..stdlib import strconv_quote as _go_quote
from . import ast
from .errors import PREFIX, FilterError
from .strconv import go_unquote, is_raw_byte

__all__ = ["parse"]


class _ParseError(Exception):
    pass


class _Parser:
    """The state of pigeon's generated ``parser`` for one input."""

    def __init__(self, text: str) -> None:
        self.chars = text
        self.n = n = len(text)
        self.runes = ["\ufffd" if is_raw_byte(c) or "\ud800" <= c <= "\udfff" else c for c in text]
        self.invalid = [is_raw_byte(c) or "\ud800" <= c <= "\udfff" for c in text]
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

    def parse(self) -> ast.Node:
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
        assert isinstance(value, (ast.MatchExpr, ast.BinaryExpr, ast.NotExpr))
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
            tree = ast.BinaryExpr(self.operator, operands.pop(), tree)
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
    return (expr.operand if isinstance(expr, ast.NotExpr) else ast.NotExpr(expr)), None


def _match(text: str, env: _Env) -> tuple[Any, str | None]:
    return ast.MatchExpr(env["selector"], env["operator"], env.get("value")), None


def _selector(text: str, env: _Env) -> tuple[Any, str | None]:
    return (env["first"], *(env["rest"] or ())), None


def _unquote(text: str, env: _Env) -> tuple[Any, str | None]:
    try:
        return go_unquote(text), None
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
        ("MatchEqual", None, act(seq(ows, lit("=="), ows), _const(ast.EQUAL))),
        ("MatchNotEqual", None, act(seq(ows, lit("!="), ows), _const(ast.NOT_EQUAL))),
        ("MatchIsEmpty", None, act(seq(ws, lit("is"), ws, lit("empty")), _const(ast.IS_EMPTY))),
        ("MatchIsNotEmpty", None, act(
            seq(ws, lit("is"), ws, lit("not"), ws, lit("empty")), _const(ast.IS_NOT_EMPTY))),
        ("MatchIn", None, op(ast.IN, "in")),
        ("MatchNotIn", None, op(ast.NOT_IN, "not", "in")),
        ("MatchContains", None, op(ast.IN, "contains")),
        ("MatchNotContains", None, op(ast.NOT_IN, "not", "contains")),
        ("MatchMatches", None, op(ast.MATCHES, "matches")),
        ("MatchNotMatches", None, op(ast.NOT_MATCHES, "not", "matches")),
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


def parse(expression: str) -> ast.Node:
    """``expression`` parsed by grammar.peg, or FilterError with the parser's errors."""
    try:
        return _Parser(expression).parse()
    except _ParseError as exc:
        raise FilterError(PREFIX + str(exc)) from None
    except RecursionError:
        raise FilterError(
            PREFIX + "expression is nested too deeply for the aioconsul dev agent"
        ) from None
