"""The JSON decoder gives the stdlib's results whichever decoder runs (orjson is a fast path)."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aioconsul._core import jsoncodec

# What Consul sends and then some: nested objects and arrays of every JSON scalar, with keys and
# strings drawn from all of Unicode (surrogates excluded: they cannot be UTF-8 encoded).
_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
_scalars = (st.none() | st.booleans() | st.integers(-(2**70), 2**70)
            | st.floats(allow_nan=False, allow_infinity=False) | _text)
_documents = st.recursive(
    _scalars, lambda inner: st.lists(inner, max_size=5) | st.dictionaries(_text, inner, max_size=5),
    max_leaves=30)


def _same(a: Any, b: Any) -> bool:
    """Equal, and of the same types all the way down (1 and 1.0 and True are told apart)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


@settings(max_examples=300, deadline=None)
@given(_documents, st.booleans())
def test_loads_builds_what_the_stdlib_builds(document: Any, ascii_only: bool) -> None:
    body = json.dumps(document, ensure_ascii=ascii_only).encode()
    assert _same(jsoncodec.loads(body), json.loads(body))


@pytest.mark.parametrize("body", [
    b"NaN", b"[Infinity, -Infinity]", b"-9223372036854775809", b"18446744073709551616",
    b'{"big": 123456789012345678901234567890}',
    b'"\\ud800"', b'{"a": 1, "a": 2}', b"1e400", b"-0", b"-0.0", b"  [1, 2]  ",
    "[\"\u00e9\"]".encode("utf-16"), b'{"Value": null}',
])
def test_documents_orjson_refuses_still_decode_as_the_stdlib_does(body: bytes) -> None:
    assert _same(jsoncodec.loads(body), json.loads(body))


@pytest.mark.parametrize("body", [b"", b"{", b"<html>", b"[1,]", b"tru"])
def test_invalid_json_raises_value_error(body: bytes) -> None:
    with pytest.raises(ValueError):
        jsoncodec.loads(body)


def test_orjson_is_used_when_installed() -> None:
    """With the speedups extra installed (and AIOCONSUL_JSON not "stdlib") orjson decodes."""
    pytest.importorskip("orjson")
    import os
    if os.environ.get("AIOCONSUL_JSON", "").lower() == "stdlib":
        assert jsoncodec.DECODER == "json"
    else:
        assert jsoncodec.DECODER == "orjson"
