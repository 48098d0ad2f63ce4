"""Go's ``regexp`` (RE2 syntax) translated to an equivalent Python pattern, for ``matches``.

go-bexpr compiles a ``matches`` value with Go's ``regexp.Compile``; :func:`compile_regexp`
translates it once per pattern: ASCII ``\\d \\w \\s \\b``, ``$`` only at the end of the text,
flags that may change mid-pattern, ``{,n}`` as a literal, POSIX classes, ``\\Q...\\E``, and
Go's error texts (``error parsing regexp: missing closing ): `(```), wrapped as go-bexpr words
them (``Failed to compile regular expression ...``). What cannot be reproduced is listed in
the package docstring.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

from ..stdlib import strconv_quote as _go_quote
from .errors import PREFIX, FilterError
from .strconv import is_raw_byte

__all__ = ["compile_regexp"]


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
    if is_raw_byte(pat[i]):
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
def compile_regexp(raw: str) -> re.Pattern[str]:
    """Go's ``regexp.Compile(raw)`` as go-bexpr reports it, or FilterError."""
    try:
        return re.compile(_translate_regexp(raw))
    except _RegexpError as exc:
        raise FilterError(
            f"{PREFIX}Failed to compile regular expression {_go_quote(raw)}: {exc}"
        ) from None
    except (_UnsupportedRegexp, re.error, RecursionError) as exc:
        raise FilterError(
            f"{PREFIX}Failed to compile regular expression {_go_quote(raw)}: {exc}"
        ) from None
