"""The Go standard-library behaviour the agent reproduces (pure functions, no server)."""

from __future__ import annotations

import pytest

from aioconsul.testing.golang.stdlib import (
    GoSyntaxError,
    clean_path,
    decode_json_value,
    format_duration,
    go_json,
    parse_duration,
    parse_query,
    parse_uint,
    values_encode,
)

NS, US, MS, S = 1, 1_000, 1_000_000, 1_000_000_000


@pytest.mark.parametrize(
    ("text", "ns"),
    [
        ("0", 0),
        ("5s", 5 * S),
        ("-5s", -5 * S),
        ("+5s", 5 * S),
        ("1h30m", 90 * 60 * S),
        ("1.5h", 90 * 60 * S),
        ("250ms", 250 * MS),
        ("100us", 100 * US),
        ("100\u00b5s", 100 * US),
        ("100\u03bcs", 100 * US),
        ("3ns", 3 * NS),
        (".5s", S // 2),
        ("1.s", S),
        ("2h45m10.5s", (2 * 3600 + 45 * 60 + 10) * S + S // 2),
    ],
)
def test_parse_duration_accepts_go_syntax(text: str, ns: int) -> None:
    assert parse_duration(text) == ns


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", 'time: invalid duration ""'),
        ("10", 'time: missing unit in duration "10"'),
        ("5x", 'time: unknown unit "x" in duration "5x"'),
        (".s", 'time: invalid duration ".s"'),
        ("s", 'time: invalid duration "s"'),
        ("1s ", 'time: unknown unit "s " in duration "1s "'),
        ("9999999999h", 'time: invalid duration "9999999999h"'),
    ],
)
def test_parse_duration_rejects_like_go(text: str, error: str) -> None:
    with pytest.raises(GoSyntaxError) as exc:
        parse_duration(text)
    assert str(exc.value) == error


@pytest.mark.parametrize(
    ("ns", "text"),
    [
        (0, "0s"),
        (10 * S, "10s"),
        (24 * 3600 * S, "24h0m0s"),
        (90 * S, "1m30s"),
        (1500 * US, "1.5ms"),
        (500 * US, "500\u00b5s"),
        (50 * MS, "50ms"),
        (7, "7ns"),
        (-3 * S, "-3s"),
    ],
)
def test_format_duration_matches_go(ns: int, text: str) -> None:
    assert format_duration(ns) == text


def test_parse_uint_errors_quote_the_input() -> None:
    assert parse_uint("18446744073709551615") == 2**64 - 1
    for bad in ("", "+1", " 1", "1_0", "0x1"):
        with pytest.raises(GoSyntaxError, match="invalid syntax"):
            parse_uint(bad)


@pytest.mark.parametrize(
    ("path", "clean"),
    [
        ("/a//b", "/a/b"),
        ("//a", "/a"),
        ("/a/./b/", "/a/b/"),
        ("/a/../../b", "/b"),
        ("/a/b/..", "/a"),
        ("/a/b/.", "/a/b"),
        ("/", "/"),
        ("", "/"),
    ],
)
def test_clean_path_keeps_a_trailing_slash(path: str, clean: str) -> None:
    assert clean_path(path) == clean


def test_query_parsing_and_encoding() -> None:
    assert parse_query("a=1&b&c=x+y%21&a=2") == [("a", "1"), ("b", ""), ("c", "x y!"), ("a", "2")]
    assert parse_query("plus=%2B+x") == [("plus", "+ x")]
    assert values_encode([("z", "1"), ("a", "x y/é"), ("z", "0")]) == "a=x+y%2F%C3%A9&z=1&z=0"
    for bad in ("a=1;b=2", "a=%zz"):
        with pytest.raises(GoSyntaxError):
            parse_query(bad)


def test_go_json_escapes_like_encoding_json() -> None:
    assert go_json({"k": "<&>\u2028"}) == b'{"k":"\\u003c\\u0026\\u003e\\u2028"}'
    assert go_json(["a"], pretty=True) == b'[\n    "a"\n]\n'
    assert go_json("bad\udcffbyte") == b'"bad\\ufffdbyte"'


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"", "EOF"),
        (b"  \n", "EOF"),
        (b'{"a":', "unexpected EOF"),
        (b"x", "invalid character 'x' looking for beginning of value"),
        (b'{"a" 1}', "invalid character '1' after object key"),
        (b'{"a":1 "b":2}', "invalid character '\"' after object key:value pair"),
        (b"[1 2]", "invalid character '2' after array element"),
    ],
)
def test_json_decode_errors_read_like_go(body: bytes, error: str) -> None:
    with pytest.raises(GoSyntaxError) as exc:
        decode_json_value(body)
    assert str(exc.value) == error


def test_json_decoder_ignores_trailing_data() -> None:
    assert decode_json_value(b'{"a": 1} trailing garbage') == {"a": 1}
