"""encoding/json decoding into typed Go structs, as lib.DecodeJSON runs it (pure, no server)."""

from __future__ import annotations

from typing import Any

import pytest

from aioconsul.testing.golang.jsondecode import (
    Bool,
    Bytes,
    Custom,
    Int,
    List,
    Map,
    Ptr,
    Str,
    Struct,
    Uint,
    b64_std_decode,
    unmarshal,
)
from aioconsul.testing.golang.stdlib import GoSyntaxError

INNER = Struct("pkg.Inner", "Inner", {"Name": Str(), "Count": Uint(), "Tags": List(Str())})
OUTER = Struct(
    "pkg.Outer",
    "Outer",
    {
        "Inner": Ptr(INNER),
        "Data": Bytes(),
        "Meta": Map(Str()),
        "On": Bool(),
        "Port": Int(),
    },
)


@pytest.mark.parametrize(
    ("text", "data"),
    [
        ("", b""),
        ("aGk=", b"hi"),
        ("YQ==", b"a"),
        ("aGVsbG8=", b"hello"),
        ("aG\nVs\r\nbG8=", b"hello"),  # Go skips \r and \n anywhere
        ("YQ=\n=", b"a"),
    ],
)
def test_base64_decodes_like_go(text: str, data: bytes) -> None:
    assert b64_std_decode(text) == data


@pytest.mark.parametrize(
    ("text", "at"),
    [
        ("aGk", 0),  # unpadded: the short quantum is corrupt from its start
        ("aGVsbG8", 4),
        ("!!!!", 0),
        ("YQ=", 3),  # "==" expected, the input ends
        ("aGk=x", 4),  # garbage after the padding
        ("====", 0),
        ("aGk=\u00e9", 4),
    ],
)
def test_base64_reports_the_byte_go_gives_up_at(text: str, at: int) -> None:
    with pytest.raises(GoSyntaxError) as exc:
        b64_std_decode(text)
    assert str(exc.value) == f"illegal base64 data at input byte {at}"


def test_fields_match_case_insensitively_and_absent_ones_are_left_out() -> None:
    assert unmarshal(b'{"inner": {"NAME": "x"}, "on": true}', OUTER) == {
        "Inner": {"Name": "x"},
        "On": True,
    }


def test_null_clears_pointers_and_leaves_scalars_alone() -> None:
    body = b'{"Inner": null, "Port": 3, "Port": null, "Meta": null}'
    assert unmarshal(body, OUTER) == {"Inner": None, "Port": 3, "Meta": None}


def test_a_duplicate_key_takes_the_last_value() -> None:
    assert unmarshal(b'{"Port": 1, "Port": 2}', OUTER) == {"Port": 2}


def test_bytes_accept_base64_or_an_array_of_bytes() -> None:
    assert unmarshal(b'{"Data": "aGk="}', OUTER) == {"Data": b"hi"}
    assert unmarshal(b'{"Data": [104, 105]}', OUTER) == {"Data": b"hi"}


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"", "EOF"),
        (b"[", "unexpected EOF"),
        (b"[]", "json: cannot unmarshal array into Go value of type pkg.Outer"),
        (b'{"Nope": 1}', 'json: unknown field "Nope"'),
        (
            b'{"Port": "80"}',
            "json: cannot unmarshal string into Go struct field Outer.Port of type int",
        ),
        (
            b'{"Inner": {"Count": 1.5}}',
            "json: cannot unmarshal number 1.5 into Go struct field Inner.Inner.Count "
            "of type uint64",
        ),
        (
            b'{"Inner": {"Count": 18446744073709551616}}',
            "json: cannot unmarshal number 18446744073709551616 into Go struct field "
            "Inner.Inner.Count of type uint64",
        ),
        (
            b'{"Inner": {"Tags": ["a", 1]}}',
            "json: cannot unmarshal number into Go struct field Inner.Inner.Tags of type string",
        ),
        (
            b'{"Meta": {"k": true}}',
            "json: cannot unmarshal bool into Go struct field Outer.Meta of type string",
        ),
        (
            b'{"Data": [256]}',
            "json: cannot unmarshal number 256 into Go struct field Outer.Data of type uint8",
        ),
        (
            b'{"Data": {}}',
            "json: cannot unmarshal object into Go struct field Outer.Data of type []uint8",
        ),
        (
            b'{"Inner": "x"}',
            "json: cannot unmarshal string into Go struct field Outer.Inner of type pkg.Inner",
        ),
    ],
)
def test_errors_are_go_s(body: bytes, error: str) -> None:
    with pytest.raises(GoSyntaxError) as exc:
        unmarshal(body, OUTER)
    assert str(exc.value) == error


def test_the_first_error_in_the_document_wins() -> None:
    with pytest.raises(GoSyntaxError) as exc:
        unmarshal(b'{"Port": "x", "Nope": 1, "On": 1}', OUTER)
    assert str(exc.value) == (
        "json: cannot unmarshal string into Go struct field Outer.Port of type int"
    )


def test_a_custom_unmarshaler_error_stops_decoding_in_the_outer_field_s_context() -> None:
    """An UnmarshalJSON error is returned at once; addErrorContext relabels a type error."""

    def strict_string(value: Any, state: Any) -> Any:
        return unmarshal(b"1", Str())

    schema = Struct("pkg.S", "S", {"Port": Int(), "Custom": Custom(strict_string, "pkg.C")})
    with pytest.raises(GoSyntaxError) as exc:
        unmarshal(b'{"Port": "x", "Custom": {}}', schema)
    assert str(exc.value) == (
        "json: cannot unmarshal number into Go struct field S.Custom of type string"
    )
