"""Go's ``encoding/json`` decoding into typed structs, as Consul's ``lib.DecodeJSON`` runs it.

Consul decodes most request bodies with ``json.NewDecoder(body)``, ``DisallowUnknownFields()``
and ``Decode(&out)`` into a Go struct. What such a body may contain, and the exact error text
when it may not, is decided by ``encoding/json`` and by the Go types: this module describes
those types with a few schema classes (:class:`Str`, :class:`Uint`, :class:`Struct`...) and
decodes a body against them the way Go would:

* object keys match struct fields case-insensitively; an unknown key is
  ``json: unknown field "K"``;
* a value of the wrong JSON kind is ``json: cannot unmarshal <kind> into Go struct field
  <Struct>.<Path> of type <type>`` (``Go value of type`` at the top level); a number that does
  not fit is ``number <literal>``;
* ``null`` leaves a string, number, bool or struct untouched and clears a slice, map or pointer;
* ``[]byte`` is standard base64 (``illegal base64 data at input byte N``) or an array of bytes;
* the first such error is reported after the whole value was read; syntax errors come first.

Pure: no I/O, no asyncio, no aiohttp. It knows Go, never Consul's semantics.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from .stdlib import GoSyntaxError, decode_json_value, json_kind

__all__ = [
    "Bool",
    "Bytes",
    "Custom",
    "DecodeState",
    "GoType",
    "GoTypeError",
    "Int",
    "List",
    "Map",
    "Opaque",
    "Ptr",
    "Str",
    "Struct",
    "Uint",
    "b64_std_decode",
    "unmarshal",
]

_B64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_B64_DECODE = {ord(c): i for i, c in enumerate(_B64_ALPHABET)}


class _Number(str):
    """A JSON number kept as its literal text (Go reports ``number 1e3``, not ``1000.0``)."""

    __slots__ = ()


class _Object(list[tuple[str, Any]]):
    """A JSON object as its key/value pairs in document order, duplicates kept (as Go sees it)."""

    __slots__ = ()


def _kind(value: Any) -> str:
    """The JSON kind Go names in an ``UnmarshalTypeError``, for a value as ``_DECODER`` reads it.

    Numbers arrive as :class:`_Number` (a ``str``) and objects as :class:`_Object` (a ``list``);
    everything else is what :func:`~.stdlib.json_kind` names.
    """
    if isinstance(value, _Object):
        return "object"
    return "number" if isinstance(value, _Number) else json_kind(value)


@dataclass
class DecodeState:
    """``encoding/json``'s decodeState: the first saved error and the error context."""

    struct: str = ""  # the innermost Go struct type being decoded (errorContext.Struct)
    fields: list[str] = field(default_factory=list)  # errorContext.FieldStack
    saved: GoSyntaxError | None = None

    def type_error(self, value: Any, go_type: str, *, literal: bool = False) -> GoTypeError:
        """An UnmarshalTypeError with the current context (``addErrorContext``)."""
        what = f"number {value}" if literal else _kind(value)
        return GoTypeError(what, go_type).in_context(self)

    def save(self, error: GoSyntaxError) -> None:
        """``saveError``: keep the first error, go on decoding."""
        if self.saved is None:
            self.saved = error


class GoTypeError(GoSyntaxError):
    """``json.UnmarshalTypeError``: JSON ``what`` (``string``, ``number 1.5``) into ``go_type``."""

    def __init__(self, what: str, go_type: str, struct: str = "", path: str = "") -> None:
        where = f"Go struct field {struct}.{path}" if struct or path else "Go value"
        super().__init__(f"json: cannot unmarshal {what} into {where} of type {go_type}")
        self.what = what
        self.go_type = go_type

    def in_context(self, state: DecodeState) -> GoTypeError:
        """The same error located at ``state``'s field (Go's ``addErrorContext``)."""
        if not (state.struct or state.fields):
            return self
        return GoTypeError(self.what, self.go_type, state.struct, ".".join(state.fields))


class _Fatal(Exception):
    """An error that stops decoding at once (one returned by a type's own UnmarshalJSON)."""

    def __init__(self, error: GoSyntaxError) -> None:
        super().__init__(str(error))
        self.error = error


class GoType:
    """A Go type a JSON value can be decoded into."""

    #: The type as Go's ``reflect.Type.String()`` prints it in error messages.
    name: str = ""
    #: Whether ``null`` clears it (slices, maps, pointers, interfaces) or leaves it alone.
    nullable: bool = False

    def zero(self) -> Any:
        """The Go zero value."""
        return None

    def decode(self, value: Any, state: DecodeState) -> Any:
        """The decoded value; errors are saved in ``state`` (the zero value is kept)."""
        raise NotImplementedError


@dataclass(frozen=True)
class Str(GoType):
    """A Go string type (``string``, ``api.KVOp``, ``types.CheckID``...)."""

    name: str = "string"

    def zero(self) -> str:
        return ""

    def decode(self, value: Any, state: DecodeState) -> Any:
        if isinstance(value, str) and not isinstance(value, _Number):
            return value
        state.save(state.type_error(value, self.name))
        return ""


@dataclass(frozen=True)
class Bool(GoType):
    """Go's ``bool``."""

    name: str = "bool"

    def zero(self) -> bool:
        return False

    def decode(self, value: Any, state: DecodeState) -> Any:
        if isinstance(value, bool):
            return value
        state.save(state.type_error(value, self.name))
        return False


def _integer(text: str) -> int | None:
    """``strconv.ParseInt``'s syntax: an optional sign and decimal digits only."""
    body = text[1:] if text[:1] in "+-" else text
    if not body.isascii() or not body.isdigit():
        return None
    return int(text)


@dataclass(frozen=True)
class _Integer(GoType):
    """A Go integer: ``strconv.ParseInt``/``ParseUint``'s syntax plus the overflow check."""

    name: str = ""
    bits: int = 64
    #: The leading signs the parser refuses, and whether the type holds negative numbers.
    _refused_signs: ClassVar[tuple[str, ...]]
    _signed: ClassVar[bool]

    def zero(self) -> int:
        return 0

    def decode(self, value: Any, state: DecodeState) -> Any:
        if not isinstance(value, _Number):
            state.save(state.type_error(value, self.name))
            return 0
        number = _integer(value) if not value.startswith(self._refused_signs) else None
        bits = self.bits - 1 if self._signed else self.bits
        low = -(1 << bits) if self._signed else 0
        if number is None or not low <= number < 1 << bits:
            state.save(state.type_error(value, self.name, literal=True))
            return 0
        return number


@dataclass(frozen=True)
class Uint(_Integer):
    """An unsigned Go integer (``uint64``, ``uint8``...): ``strconv.ParseUint`` plus overflow."""

    name: str = "uint64"
    _refused_signs = ("-", "+")
    _signed = False


@dataclass(frozen=True)
class Int(_Integer):
    """A signed Go integer (``int``, ``int64``...): ``strconv.ParseInt`` plus overflow."""

    name: str = "int"
    _refused_signs = ("+",)
    _signed = True


_UINT8 = Uint("uint8", 8)


@dataclass(frozen=True)
class Bytes(GoType):
    """Go's ``[]byte``: a base64 string (standard alphabet, padded) or an array of bytes."""

    name: str = "[]uint8"
    nullable: bool = True

    def decode(self, value: Any, state: DecodeState) -> Any:
        if isinstance(value, str) and not isinstance(value, _Number):
            try:
                return b64_std_decode(value)
            except GoSyntaxError as exc:
                state.save(exc)
                return None
        if isinstance(value, list) and not isinstance(value, _Object):
            return bytes(_UINT8.decode(item, state) if item is not None else 0 for item in value)
        state.save(state.type_error(value, self.name))
        return None


@dataclass(frozen=True)
class _Collection(GoType):
    """What a slice and a map share: the element type, a JSON null element as its zero value."""

    item: GoType
    name: str = ""
    nullable: bool = True

    def decode(self, value: Any, state: DecodeState) -> Any:
        elements = self._elements(value)
        if elements is None:
            state.save(state.type_error(value, self.name or self._go_name()))
            return None
        item = self.item
        return self._build(
            [(k, item.decode(v, state) if v is not None else item.zero()) for k, v in elements]
        )

    def _elements(self, value: Any) -> list[tuple[Any, Any]] | None:
        raise NotImplementedError

    def _go_name(self) -> str:
        raise NotImplementedError

    def _build(self, decoded: list[tuple[Any, Any]]) -> Any:
        raise NotImplementedError


@dataclass(frozen=True)
class List(_Collection):
    """A Go slice ``[]T``."""

    def _elements(self, value: Any) -> list[tuple[Any, Any]] | None:
        if isinstance(value, list) and not isinstance(value, _Object):
            return list(enumerate(value))
        return None

    def _go_name(self) -> str:
        return f"[]{self.item.name}"

    def _build(self, decoded: list[tuple[Any, Any]]) -> Any:
        return [v for _, v in decoded]


@dataclass(frozen=True)
class Map(_Collection):
    """A Go ``map[string]T``; keys are not part of the error context."""

    def _elements(self, value: Any) -> list[tuple[Any, Any]] | None:
        return list(value) if isinstance(value, _Object) else None

    def _go_name(self) -> str:
        return f"map[string]{self.item.name}"

    def _build(self, decoded: list[tuple[Any, Any]]) -> Any:
        return dict(decoded)


@dataclass(frozen=True)
class Ptr(GoType):
    """A Go pointer ``*T``: ``null`` is nil, anything else decodes into a new T."""

    elem: GoType
    nullable: bool = True

    @property
    def name(self) -> str:  # type: ignore[override]
        return self.elem.name

    def decode(self, value: Any, state: DecodeState) -> Any:
        return self.elem.decode(value, state)


@dataclass(frozen=True)
class Opaque(GoType):
    """A value decoded without a schema (``interface{}``, or a type this module leaves opaque)."""

    name: str = "interface {}"
    nullable: bool = True

    def decode(self, value: Any, state: DecodeState) -> Any:
        return _plain(value)


@dataclass(frozen=True)
class Custom(GoType):
    """A type with its own ``UnmarshalJSON``: ``func(value, state) -> decoded``.

    The function may raise :class:`GoSyntaxError`; that error ends the decoding at once and,
    if it is a type error, takes the outer field's context (Go's ``addErrorContext``).
    """

    function: Callable[[Any, DecodeState], Any] = field(default=lambda value, state: value)
    name: str = ""

    def decode(self, value: Any, state: DecodeState) -> Any:
        try:
            return self.function(_plain(value), state)
        except GoSyntaxError as exc:
            raise _Fatal(exc) from None


@dataclass(frozen=True)
class Struct(GoType):
    """A Go struct: ``fields`` maps each JSON field name to its type, in declaration order.

    ``name`` is the qualified type (``api.KVTxnOp``) used for "of type"; ``short`` the bare
    name (``KVTxnOp``) used as the error context's struct.
    """

    name: str = ""
    short: str = ""
    fields: dict[str, GoType] = field(default_factory=dict)
    strict: bool = True  # DisallowUnknownFields

    def zero(self) -> dict[str, Any]:
        return {}

    def decode(self, value: Any, state: DecodeState) -> Any:
        if not isinstance(value, _Object):
            state.save(state.type_error(value, self.name))
            return {}
        by_name = {name.lower(): name for name in self.fields}
        out: dict[str, Any] = {}
        for key, item in value:
            name = key if key in self.fields else by_name.get(key.lower())
            if name is None:
                if self.strict:
                    state.save(GoSyntaxError(f"json: unknown field {json.dumps(key)}"))
                continue
            go_type = self.fields[name]
            if item is None and not go_type.nullable:
                continue  # null is a no-op for strings, numbers, bools and structs
            saved_struct, depth = state.struct, len(state.fields)
            state.struct = self.short
            state.fields.append(name)
            out[name] = None if item is None else go_type.decode(item, state)
            state.struct = saved_struct
            del state.fields[depth:]
        return out


def _plain(value: Any) -> Any:
    """A hooked JSON value back as plain Python (numbers as int or float, objects as dicts)."""
    if isinstance(value, _Number):
        try:
            return int(value)
        except ValueError:
            return float(value)
    if isinstance(value, _Object):
        return {k: _plain(v) for k, v in value}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


_DECODER = json.JSONDecoder(
    object_pairs_hook=_Object,
    parse_int=_Number,
    parse_float=_Number,
)


def unmarshal(data: bytes, schema: GoType) -> Any:
    """``json.NewDecoder(data)`` + ``DisallowUnknownFields()`` + ``Decode(&out)`` into ``schema``.

    Returns the decoded value: structs as dicts of the fields present in the body (absent
    fields are left to the caller's defaults), strings, ints, bools, bytes, lists and dicts.
    Raises :class:`GoSyntaxError` with the text Go's decoder would return.
    """
    decode_json_value(data)  # syntax errors, with Go's texts, before any type error
    text = data.decode("utf-8", "replace").lstrip(" \t\r\n")
    value, _ = _DECODER.raw_decode(text)
    state = DecodeState()
    if value is None:
        return None if schema.nullable else schema.zero()
    try:
        result = schema.decode(value, state)
    except _Fatal as fatal:
        error = fatal.error
        if isinstance(error, GoTypeError):
            # addErrorContext relabels the inner type error with the outer field's context.
            error = error.in_context(state)
        raise error from None
    if state.saved is not None:
        raise state.saved
    return result


def b64_std_decode(text: str) -> bytes:
    """``base64.StdEncoding.DecodeString``: padded standard alphabet, ``\\r``/``\\n`` skipped.

    Raises :class:`GoSyntaxError` ``illegal base64 data at input byte N`` (N counts bytes of
    the UTF-8 input, newlines included) exactly where Go's decoder gives up.
    """
    src = text.encode("utf-8", "surrogateescape")
    out = bytearray()
    si = 0
    n = len(src)

    def corrupt(at: int) -> GoSyntaxError:
        return GoSyntaxError(f"illegal base64 data at input byte {at}")

    while si < n:
        quantum: list[int] = []
        dlen = 4
        j = 0
        while j < 4:
            if si == n:
                if j == 0:
                    return bytes(out)
                raise corrupt(si - j)  # StdEncoding pads: a short quantum is corrupt
            char = src[si]
            si += 1
            decoded = _B64_DECODE.get(char)
            if decoded is not None:
                quantum.append(decoded)
                j += 1
                continue
            if char in (0x0A, 0x0D):
                continue
            if char != 0x3D:  # '='
                raise corrupt(si - 1)
            if j in (0, 1):
                raise corrupt(si - 1)
            if j == 2:  # "==" expected: the second '=' may follow newlines
                while si < n and src[si] in (0x0A, 0x0D):
                    si += 1
                if si == n:
                    raise corrupt(n)
                if src[si] != 0x3D:
                    raise corrupt(si - 1)
                si += 1
            while si < n and src[si] in (0x0A, 0x0D):
                si += 1
            if si < n:
                raise corrupt(si)  # trailing garbage after the padding
            dlen = j
            break
        quantum.extend([0] * (4 - len(quantum)))
        val = quantum[0] << 18 | quantum[1] << 12 | quantum[2] << 6 | quantum[3]
        chunk = bytes(((val >> 16) & 0xFF, (val >> 8) & 0xFF, val & 0xFF))
        out += chunk[: dlen - 1]
        if dlen < 4:
            break
    return bytes(out)
