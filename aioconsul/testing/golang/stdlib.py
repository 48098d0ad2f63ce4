"""Go standard-library behaviour the dev agent has to reproduce byte for byte.

Consul is a Go program: what its HTTP API accepts and answers is decided as much by Go's
``net/url``, ``net/http``, ``time``, ``strconv`` and ``encoding/json`` as by Consul itself. This
module re-implements just the parts that reach the wire:

* ``time.ParseDuration`` and ``time.Duration.String`` (``?wait=``, session TTLs and lock delays,
  error texts such as ``must be between [10s=24h0m0s]``);
* ``strconv.ParseUint`` with its error texts (``?flags=``, ``?cas=``, ``?index=``);
* ``url.ParseQuery``, ``url.Values.Encode`` and path escaping/unescaping (``Conflicting flags``
  messages, redirect ``Location`` headers);
* ``net/http.ServeMux``'s path cleaning (Go 1.22+ cleans the *escaped* path);
* ``unicode.IsPrint`` (go-cleanhttp's non-printable path check);
* ``encoding/json`` output quirks (``<``, ``>``, ``&`` escaped; invalid UTF-8 as ``\\ufffd``).

Strings that came from raw bytes (request paths, query values) are ``str`` decoded with
``surrogateescape`` so that arbitrary bytes survive a round trip, as they do in a Go ``string``.

This module is pure: no I/O, no asyncio, no aiohttp. It must never grow Consul semantics; those
belong in ``state/`` and ``server.py``.
"""

from __future__ import annotations

import decimal
import json
import math
import posixpath
import re
import secrets
from typing import Any

__all__ = [
    "GoSyntaxError",
    "clean_path",
    "decode_json_value",
    "escape_path",
    "format_duration",
    "go_float",
    "go_json",
    "go_json_floats",
    "go_type_name",
    "is_printable_path",
    "json_kind",
    "parse_duration",
    "parse_query",
    "parse_uint",
    "quote_time",
    "strconv_quote",
    "unescape_path",
    "utf8",
    "valid_encoded_path",
    "values_encode",
]

NANOSECOND = 1
MICROSECOND = 1000 * NANOSECOND
MILLISECOND = 1000 * MICROSECOND
SECOND = 1000 * MILLISECOND
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE

_UNITS = {
    "ns": NANOSECOND,
    "us": MICROSECOND,
    "\u00b5s": MICROSECOND,  # U+00B5 micro sign
    "\u03bcs": MICROSECOND,  # U+03BC Greek small letter mu
    "ms": MILLISECOND,
    "s": SECOND,
    "m": MINUTE,
    "h": HOUR,
}

_MAX_UINT64 = (1 << 64) - 1
_C_ESCAPES = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
}


class GoSyntaxError(ValueError):
    """A value Go's parser rejects; ``str(exc)`` is Go's error text."""


def utf8(s: str) -> bytes:
    """The bytes of a Go string held as a surrogate-escaped ``str``."""
    return s.encode("utf-8", "surrogateescape")


def quote_time(s: str) -> str:
    """The private ``quote`` of Go's ``time`` package (used in ParseDuration errors)."""
    out = ['"']
    for ch in s:
        if ch >= "\x80" or ch < " ":
            out.extend(f"\\x{b:02x}" for b in utf8(ch))
        else:
            if ch in '"\\':
                out.append("\\")
            out.append(ch)
    out.append('"')
    return "".join(out)


def strconv_quote(s: str) -> str:
    """``strconv.Quote``: a double-quoted Go string literal."""
    out = ['"']
    for ch in s:
        if "\udc80" <= ch <= "\udcff":  # an invalid UTF-8 byte kept by surrogateescape
            out.append(f"\\x{ord(ch) - 0xDC00:02x}")
        elif ch in '"\\':
            out.append("\\" + ch)
        elif ch.isprintable():
            out.append(ch)
        elif ch in _C_ESCAPES:
            out.append(_C_ESCAPES[ch])
        elif ord(ch) < 0x80:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) < 0x10000:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    out.append('"')
    return "".join(out)


def parse_duration(s: str) -> int:
    """Go's ``time.ParseDuration``; returns nanoseconds or raises :class:`GoSyntaxError`."""
    orig = s
    invalid = GoSyntaxError("time: invalid duration " + quote_time(orig))
    neg = False
    if s and s[0] in "+-":
        neg = s[0] == "-"
        s = s[1:]
    if s == "0":
        return 0
    if not s:
        raise invalid
    total = 0
    while s:
        if not (s[0] == "." or "0" <= s[0] <= "9"):
            raise invalid
        # leadingInt
        i = 0
        v = 0
        while i < len(s) and "0" <= s[i] <= "9":
            if v > (1 << 63) // 10:
                raise invalid
            v = v * 10 + ord(s[i]) - 48
            if v > 1 << 63:
                raise invalid
            i += 1
        pre = i > 0
        s = s[i:]
        # leadingFraction
        f = 0
        scale = 1.0
        post = False
        if s and s[0] == ".":
            s = s[1:]
            i = 0
            overflow = False
            while i < len(s) and "0" <= s[i] <= "9":
                if not overflow:
                    if f > ((1 << 63) - 1) // 10:
                        overflow = True
                    else:
                        y = f * 10 + ord(s[i]) - 48
                        if y > 1 << 63:
                            overflow = True
                        else:
                            f = y
                            scale *= 10
                i += 1
            post = i > 0
            s = s[i:]
        if not pre and not post:
            raise invalid
        i = 0
        while i < len(s) and not (s[i] == "." or "0" <= s[i] <= "9"):
            i += 1
        if i == 0:
            raise GoSyntaxError("time: missing unit in duration " + quote_time(orig))
        unit_name, s = s[:i], s[i:]
        unit = _UNITS.get(unit_name)
        if unit is None:
            raise GoSyntaxError(
                "time: unknown unit " + quote_time(unit_name) + " in duration " + quote_time(orig)
            )
        if v > (1 << 63) // unit:
            raise invalid
        v *= unit
        if f > 0:
            v += int(float(f) * (float(unit) / scale))
            if v > 1 << 63:
                raise invalid
        total += v
        if total > 1 << 63:
            raise invalid
    if neg:
        return -total
    if total > (1 << 63) - 1:
        raise invalid
    return total


def _frac(v: int, prec: int) -> str:
    whole, frac = divmod(v, 10**prec)
    digits = str(frac).rjust(prec, "0").rstrip("0") if prec else ""
    return f"{whole}.{digits}" if digits else str(whole)


def format_duration(ns: int) -> str:
    """Go's ``time.Duration.String`` (``10s``, ``24h0m0s``, ``1.5ms``, ``0s``)."""
    sign = "-" if ns < 0 else ""
    u = abs(ns)
    if u < SECOND:
        if u == 0:
            return "0s"
        if u < MICROSECOND:
            return f"{sign}{u}ns"
        if u < MILLISECOND:
            return f"{sign}{_frac(u, 3)}\u00b5s"
        return f"{sign}{_frac(u, 6)}ms"
    total_seconds, frac = divmod(u, SECOND)
    seconds = _frac((total_seconds % 60) * SECOND + frac, 9)
    minutes_total = total_seconds // 60
    if not minutes_total:
        return f"{sign}{seconds}s"
    hours, minutes = divmod(minutes_total, 60)
    hours_part = f"{hours}h" if hours else ""
    return f"{sign}{hours_part}{minutes}m{seconds}s"


def parse_uint(s: str) -> int:
    """``strconv.ParseUint(s, 10, 64)`` with Go's error texts."""
    if not s or not s.isascii() or not s.isdigit():
        raise GoSyntaxError(f"strconv.ParseUint: parsing {strconv_quote(s)}: invalid syntax")
    value = int(s)
    if value > _MAX_UINT64:
        raise GoSyntaxError(f"strconv.ParseUint: parsing {strconv_quote(s)}: value out of range")
    return value


_PCT = re.compile(rb"%([0-9A-Fa-f]{2})")


def _unescape(s: str, *, plus_is_space: bool) -> str:
    raw = utf8(s)
    i = raw.find(b"%")
    while i != -1:
        if not _PCT.match(raw, i):
            bad = raw[i : i + 3].decode("utf-8", "surrogateescape")
            raise GoSyntaxError(f"invalid URL escape {strconv_quote(bad)}")
        i = raw.find(b"%", i + 3)
    if plus_is_space:
        raw = raw.replace(b"+", b" ")  # only a literal '+': "%2B" stays a plus sign
    decoded = _PCT.sub(lambda m: bytes([int(m.group(1), 16)]), raw)
    return decoded.decode("utf-8", "surrogateescape")


def unescape_path(s: str) -> str:
    """``url.PathUnescape``: decode ``%XX``; ``+`` stays ``+``."""
    return _unescape(s, plus_is_space=False)


def _query_unescape(s: str) -> str:
    return _unescape(s, plus_is_space=True)


def parse_query(raw: str) -> list[tuple[str, str]]:
    """``url.ParseQuery`` as ordered pairs; raises on the first error as Go reports it."""
    pairs: list[tuple[str, str]] = []
    error: GoSyntaxError | None = None
    for part in raw.split("&"):
        if ";" in part:
            error = error or GoSyntaxError("invalid semicolon separator in query")
            continue
        if not part:
            continue
        key, _, value = part.partition("=")
        try:
            pairs.append((_query_unescape(key), _query_unescape(value)))
        except GoSyntaxError as exc:
            error = error or exc
    if error is not None:
        raise error
    return pairs


def _should_escape(c: int, *, query: bool) -> bool:
    if 0x61 <= c <= 0x7A or 0x41 <= c <= 0x5A or 0x30 <= c <= 0x39:
        return False
    if c in b"-_.~":
        return False
    if c in b"$&+,/:;=?@":
        # encodePath: only '?' must be escaped; encodeQueryComponent: all of them.
        return True if query else c == ord("?")
    return True


def _escape(s: str, *, query: bool) -> str:
    out: list[str] = []
    for c in utf8(s):
        if query and c == 0x20:
            out.append("+")
        elif _should_escape(c, query=query):
            out.append(f"%{c:02X}")
        else:
            out.append(chr(c))
    return "".join(out)


def escape_path(s: str) -> str:
    """``url.URL{Path: s}.EscapedPath()`` for a path without a ``RawPath``."""
    return _escape(s, query=False)


def values_encode(pairs: list[tuple[str, str]]) -> str:
    """``url.Values.Encode``: keys sorted, values in their original order."""
    grouped: dict[str, list[str]] = {}
    for key, value in pairs:
        grouped.setdefault(key, []).append(value)
    return "&".join(
        f"{_escape(key, query=True)}={_escape(value, query=True)}"
        for key in sorted(grouped, key=utf8)
        for value in grouped[key]
    )


def valid_encoded_path(raw: str) -> bool:
    """``url.validEncoded(raw, encodePath)``: may the raw path be used as escaped form?"""
    for c in utf8(raw):
        if c in b"!$&'()*+,;=:@[]%":
            continue
        if _should_escape(c, query=False):
            return False
    return True


def clean_path(p: str) -> str:
    """``net/http.cleanPath``: path.Clean that keeps a trailing slash."""
    if not p:
        return "/"
    if p[0] != "/":
        p = "/" + p
    np = posixpath.normpath(p)
    # posixpath keeps a leading "//" (POSIX allows it to be special); Go's path.Clean does not.
    np = "/" + np.lstrip("/")
    if p[-1] == "/" and np != "/":
        np += "/"
    return np


def is_printable_path(path: str) -> bool:
    """go-cleanhttp's check: every rune passes ``unicode.IsPrint``.

    Bytes that are not valid UTF-8 decode to ``utf8.RuneError`` (U+FFFD) in Go, which is
    printable; here they are surrogate-escaped, so they are accepted explicitly.
    """
    return all(ch.isprintable() or "\udc80" <= ch <= "\udcff" for ch in path)


_GO_JSON_ESCAPES = str.maketrans(
    {
        "<": "\\u003c",
        ">": "\\u003e",
        "&": "\\u0026",
        "\u2028": "\\u2028",
        "\u2029": "\\u2029",
    }
)
_SURROGATE = re.compile("[\ud800-\udfff]")


def go_json(obj: Any, *, pretty: bool = False) -> bytes:
    """Encode like Go's ``json.Marshal`` (or ``MarshalIndent(obj, "", "    ")`` plus newline).

    The characters Go escapes can only occur inside JSON strings, so translating the
    serialised text is exact. Invalid UTF-8 (surrogate-escaped bytes) becomes ``\\ufffd``.
    """
    if pretty:
        text = json.dumps(obj, ensure_ascii=False, indent=4) + "\n"
    else:
        text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    text = text.translate(_GO_JSON_ESCAPES)
    if _SURROGATE.search(text):
        text = _SURROGATE.sub(lambda _: "\\ufffd", text)
    return text.encode("utf-8")


def go_float(value: float) -> str:
    """encoding/json's text for a float64: ``strconv.FormatFloat(f, 'f', -1, 64)``, or the
    ``'e'`` format (with ``e-07`` cleaned to ``e-7``) below 1e-6 and from 1e21 on.

    Python's ``repr`` has the same shortest digits but switches to an exponent at other
    magnitudes (``1e-05`` where Go writes ``0.00001``, ``2.0`` where Go writes ``2``).
    """
    if math.isnan(value) or math.isinf(value):
        raise ValueError(f"json: unsupported value: {value!r}")
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    if abs(value) < 1e-6 or abs(value) >= 1e21:
        mantissa, _, exponent = repr(value).partition("e")
        sign, digits = exponent[0], exponent[1:]
        if sign == "-" and len(digits) == 2 and digits[0] == "0":
            digits = digits[1:]
        return f"{mantissa}e{sign}{digits}"
    text = format(decimal.Decimal(repr(value)), "f")
    return text[:-2] if text.endswith(".0") else text


def go_json_floats(obj: Any, *, pretty: bool = False) -> bytes:
    """:func:`go_json` for documents holding floats, written as :func:`go_float` does."""
    texts: list[str] = []
    nonce = secrets.token_hex(8)

    def swap(value: Any) -> Any:
        if isinstance(value, float):
            texts.append(go_float(value))
            return f"\x00{nonce}:{len(texts) - 1}\x00"
        if isinstance(value, dict):
            return {k: swap(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [swap(v) for v in value]
        return value

    encoded = go_json(swap(obj), pretty=pretty)
    if not texts:
        return encoded
    token = re.compile(rb'"\\u0000' + nonce.encode() + rb':([0-9]+)\\u0000"')
    return token.sub(lambda m: texts[int(m.group(1))].encode(), encoded)


def _quote_char(ch: str) -> str:
    """encoding/json's quoteChar, used in syntax error messages."""
    if ch == "'":
        return "'\\''"
    if ch == '"':
        return "'\"'"
    return "'" + strconv_quote(ch)[1:-1] + "'"


def _reject_constant(name: str) -> Any:
    raise ValueError(name)


def _container_at(text: str, pos: int) -> str:
    """Whether ``pos`` lies inside an object or an array (for Go's error wording)."""
    stack: list[str] = []
    in_string = escaped = False
    for ch in text[:pos]:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            stack.append(ch)
        elif ch in "]}" and stack:
            stack.pop()
    return "object" if stack and stack[-1] == "{" else "array"


def decode_json_value(data: bytes) -> Any:
    """Read the first JSON value like ``json.NewDecoder(body).Decode``; trailing data is ignored.

    Raises :class:`GoSyntaxError` with the texts Go's decoder uses for the common cases
    (``EOF``, ``unexpected EOF``, ``invalid character 'x' looking for beginning of value``...).
    """
    text = data.decode("utf-8", "replace").lstrip(" \t\r\n")
    if not text:
        raise GoSyntaxError("EOF")
    decoder = json.JSONDecoder(parse_constant=_reject_constant)
    try:
        value, _ = decoder.raw_decode(text)
    except ValueError as exc:
        pos = getattr(exc, "pos", 0)
        msg = getattr(exc, "msg", str(exc))
        if pos >= len(text) or msg.startswith("Unterminated string"):
            raise GoSyntaxError("unexpected EOF") from None
        ch = text[pos]
        if msg.startswith("Invalid control character"):
            where = "in string literal"
        elif msg.startswith("Invalid \\escape") or msg.startswith("Invalid \\uXXXX"):
            where = "in string escape code"
        elif msg.startswith("Expecting property name"):
            where = "looking for beginning of object key string"
        elif msg.startswith("Expecting ':'"):
            where = "after object key"
        elif msg.startswith("Expecting ','"):
            where = (
                "after object key:value pair"
                if _container_at(text, pos) == "object"
                else "after array element"
            )
        else:
            where = "looking for beginning of value"
        raise GoSyntaxError(f"invalid character {_quote_char(ch)} {where}") from None
    return value


def go_type_name(value: Any) -> str:
    """Go's ``%T`` of a value encoding/json decoded into an ``interface{}`` (what mapstructure
    names in its "got unconvertible type" errors): every JSON number is a float64."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, dict):
        return "map[string]interface {}"
    if isinstance(value, list):
        return "[]interface {}"
    if isinstance(value, str):
        return "string"
    return "float64"


def json_kind(value: Any) -> str:
    """The JSON kind Go names in ``UnmarshalTypeError`` messages."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"
