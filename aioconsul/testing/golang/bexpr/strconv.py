"""The parts of Go's ``strconv`` go-bexpr calls: ``Unquote`` and ``Parse{Bool,Int,Uint,Float}``.

``Unquote`` reads the grammar's string literals (:mod:`.grammar`); the parsers coerce a
literal to a field's Go kind (:mod:`.coerce`) and, without a field schema, to a JSON value's
type (:mod:`.evaluate`). Their errors carry Go's texts (``strconv.ParseInt: parsing "x":
invalid syntax``). A ``str`` carries bytes that were not valid UTF-8 as ``surrogateescape``
code points (:func:`is_raw_byte`), as a Go ``string`` carries them.
"""

from __future__ import annotations

import re
import struct

from ..stdlib import strconv_quote as _go_quote

__all__ = [
    "f32",
    "go_parse_bool",
    "go_parse_float",
    "go_parse_int",
    "go_parse_uint",
    "go_unquote",
    "is_raw_byte",
]


def is_raw_byte(ch: str) -> bool:
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


def go_unquote(text: str) -> str:
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


def go_parse_uint(s: str, bits: int) -> int:
    try:
        return _parse_uint(s, bits)
    except _RangeError:
        raise _num_error("ParseUint", s, "value out of range") from None


def go_parse_int(s: str, bits: int) -> int:
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


def f32(x: float) -> float:
    """Round a float to float32 precision (infinite when it is out of float32's range)."""
    return float(struct.unpack("f", struct.pack("f", x))[0])


def go_parse_float(s: str, bits: int) -> float:
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
        value = f32(value)
        if value in (float("inf"), float("-inf")):
            raise _num_error("ParseFloat", s, "value out of range")
    return value


_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})


def go_parse_bool(s: str) -> bool:
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    raise _num_error("ParseBool", s, "invalid syntax")
