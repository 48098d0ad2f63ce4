"""The typing contract: every accepted and every rejected form of each polymorphic input."""

from __future__ import annotations

import datetime
import re

import pytest

from aioconsul._core import normalize
from aioconsul.typing import Consistency, Meta

# -- ObjectIndex -------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [1234, "1234", {"Index": 1234}, {"Index": "1234"},
                                   Meta(Index=1234)])
def test_object_index_forms_are_equivalent(value: object) -> None:
    assert normalize.index(value) == 1234


def test_object_index_mapping_and_text_extract_the_same_value() -> None:
    assert normalize.extract({"Index": "1234-43-6789"}, ("Index",), "index") == \
        normalize.extract("1234-43-6789", ("Index",), "index") == "1234-43-6789"


@pytest.mark.parametrize("value", ["1234-43-6789", {"Index": "1234-43-6789"}])
def test_object_index_that_is_not_a_number_is_refused_alike(value: object) -> None:
    with pytest.raises(ValueError, match=r"^index: expected a decimal unsigned integer"):
        normalize.index(value)


@pytest.mark.parametrize("value, error", [
    (-1, ValueError), (2**64, ValueError), ("", ValueError), (" ", ValueError),
    ("١٢", ValueError), (1.5, TypeError), (True, TypeError), (None, TypeError),
    ({"ID": 3}, ValueError), ([1], TypeError),
])
def test_object_index_rejects(value: object, error: type[Exception]) -> None:
    with pytest.raises(error, match="^cas: "):
        normalize.index(value, "cas")


def test_cas_index_prefers_modify_index_of_an_entry() -> None:
    entry = {"Key": "k", "CreateIndex": 3, "ModifyIndex": 7, "LockIndex": 0}
    assert normalize.index(entry, "cas", ("ModifyIndex", "Index")) == 7
    assert normalize.index(Meta(Index=9), "cas", ("ModifyIndex", "Index")) == 9


def test_uint64_accepts_its_whole_range() -> None:
    assert normalize.uint64(0, "flags") == 0
    assert normalize.uint64(2**64 - 1, "flags") == 2**64 - 1
    assert normalize.uint64("18446744073709551615", "flags") == 2**64 - 1


# -- ObjectID ------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["adf4238a", {"ID": "adf4238a"}, {"ID": "adf4238a", "Name": "x"}])
def test_object_id_forms_are_equivalent(value: object) -> None:
    assert normalize.object_id(value, "session") == "adf4238a"


def test_object_id_other_keys() -> None:
    assert normalize.object_id({"Node": "n1", "ID": "uuid"}, "node", "Node") == "n1"
    assert normalize.object_id({"ServiceID": "web1"}, "service", "ServiceID") == "web1"
    assert normalize.object_id({"CheckID": "c"}, "check", "CheckID") == "c"


@pytest.mark.parametrize("value, error", [
    ("", ValueError), ({"ID": ""}, ValueError), ({"Name": "x"}, ValueError),
    (3, TypeError), ({"ID": 3}, TypeError), (None, TypeError),
])
def test_object_id_rejects(value: object, error: type[Exception]) -> None:
    with pytest.raises(error, match="^session: "):
        normalize.object_id(value, "session")


# -- Duration ------------------------------------------------------------------------------------

SECOND = 1_000_000_000


@pytest.mark.parametrize("text, ns", [
    ("10s", 10 * SECOND), ("5m", 300 * SECOND), ("1h30m", 5400 * SECOND),
    ("250ms", SECOND // 4), ("1.5s", 3 * SECOND // 2), (".5s", SECOND // 2), ("1.s", SECOND),
    ("300us", 300_000), ("300\u00b5s", 300_000), ("300\u03bcs", 300_000), ("42ns", 42),
    ("1h2m3s4ms5us6ns", 3723 * SECOND + 4_005_006), ("0", 0), ("0s", 0), ("+3s", 3 * SECOND),
    ("2562047h47m16.854775807s", 2**63 - 1),
])
def test_duration_accepts_every_go_unit(text: str, ns: int) -> None:
    assert normalize.duration(text, "wait") == ns


@pytest.mark.parametrize("value, ns", [
    (datetime.timedelta(seconds=10), 10 * SECOND),
    (datetime.timedelta(minutes=5), 300 * SECOND),
    (datetime.timedelta(milliseconds=250), SECOND // 4),
    (datetime.timedelta(microseconds=7), 7_000),
    (datetime.timedelta(days=1), 86_400 * SECOND),
])
def test_duration_accepts_timedelta(value: datetime.timedelta, ns: int) -> None:
    assert normalize.duration(value, "wait") == ns


def test_duration_string_and_timedelta_are_equivalent() -> None:
    assert normalize.duration("1h30m", "ttl") == \
        normalize.duration(datetime.timedelta(hours=1, minutes=30), "ttl")


@pytest.mark.parametrize("value", [
    "10", "", "s", "10 s", "10S", "1d", "ten seconds", "1h 30m", "-1s", "--1s", "1.2.3s", ".s",
    "2562047h47m16.854775808s", 10, 1.5, None, True, b"10s", datetime.timedelta(seconds=-1),
])
def test_duration_rejects_anything_else_with_value_error(value: object) -> None:
    with pytest.raises(ValueError, match="^wait: "):
        normalize.duration(value, "wait")


@pytest.mark.parametrize("ns, text", [
    (15 * SECOND, "15s"), (90 * SECOND, "1m30s"), (3600 * SECOND, "1h"), (0, "0s"),
    (SECOND // 4, "250ms"), (1500, "1500ns"), (2000, "2us"), (3661 * SECOND, "1h1m1s"),
])
def test_format_duration_round_trips(ns: int, text: str) -> None:
    assert normalize.format_duration(ns) == text
    assert normalize.duration(text, "ttl") == ns


@pytest.mark.parametrize("ns, text", [
    (10 * SECOND, "10000ms"), (1, "1ms"), (999_999, "1ms"), (1_500_000, "1ms"), (0, "0ms"),
])
def test_wait_is_sent_in_whole_milliseconds_with_a_floor_of_one(ns: int, text: str) -> None:
    """api/api.go durToMsec: a positive wait that rounds to 0 ms is sent as 1ms."""
    assert normalize.format_wait(ns) == text


# -- Blocking ------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [1, "1", {"Index": 1}, ({"Index": 1}, None), (1, None),
                                   Meta(Index=1), (Meta(Index=1), None)])
def test_blocking_forms_are_equivalent(value: object) -> None:
    assert normalize.blocking(value) == (1, None)


def test_blocking_with_a_wait() -> None:
    meta = Meta(Index=42)
    assert normalize.blocking((meta, "30s")) == (42, 30 * SECOND)
    assert normalize.blocking((42, datetime.timedelta(seconds=30))) == (42, 30 * SECOND)


@pytest.mark.parametrize("value, error", [
    ((1, "30s", 3), ValueError), ((1,), ValueError), ((1, "30"), ValueError),
    ([1, "30s"], TypeError),
    ((None, "30s"), TypeError), (1.5, TypeError), ("abc", ValueError), ({1}, TypeError),
])
def test_blocking_rejects(value: object, error: type[Exception]) -> None:
    with pytest.raises(error, match="^watch"):
        normalize.blocking(value)


# -- Hash-based Blocking ------------------------------------------------------------------------


HASH = "4ecd29c7bc647ca8"


@pytest.mark.parametrize("value", [
    HASH, {"ContentHash": HASH}, Meta(Index=0, ContentHash=HASH),
    {"ID": "web", "Service": "web", "ContentHash": HASH}, (HASH, None),
    (Meta(ContentHash=HASH), None),
])
def test_hash_blocking_forms_are_equivalent(value: object) -> None:
    """The hash of a previous read: the hash itself, its Meta, or the service it returned."""
    assert normalize.hash_blocking(value) == (HASH, None)


def test_hash_blocking_with_a_wait() -> None:
    meta = Meta(ContentHash=HASH)
    assert normalize.hash_blocking((meta, "30s")) == (HASH, 30 * SECOND)
    assert normalize.hash_blocking((HASH, datetime.timedelta(minutes=1))) == (HASH, 60 * SECOND)


def test_empty_hash_means_no_blocking() -> None:
    assert normalize.hash_blocking("") == ("", None)


def test_a_meta_without_hash_or_index_means_no_blocking() -> None:
    """The Meta of a 404 from /v1/agent/service/:id has neither (issue 9, item 2)."""
    assert normalize.hash_blocking(Meta()) == ("", None)
    assert normalize.hash_blocking((Meta(), "30s")) == ("", 30 * SECOND)


@pytest.mark.parametrize("value, error, match", [
    (Meta(Index=42), ValueError, "no 'ContentHash' key"),
    (42, TypeError, "an index cannot wait on a hash-based endpoint"),
    ((42, "30s"), TypeError, "ContentHash"),
    ((HASH, "30"), ValueError, "^watch wait: "),
    ((HASH, "30s", 1), ValueError, "tuple of 3"),
    ([HASH, "30s"], TypeError, "list"),
    ("has space", ValueError, "not a content hash"),
    ("line\nbreak", ValueError, "not a content hash"),
    (None, TypeError, "NoneType"),
])
def test_hash_blocking_rejects(value: object, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match) as info:
        normalize.hash_blocking(value)
    assert str(info.value).startswith("watch")


# -- Durations in JSON bodies --------------------------------------------------------------------


@pytest.mark.parametrize("value, text", [
    ("10s", "10s"), ("1m30s", "1m30s"), ("90s", "1m30s"), ("1.5s", "1500ms"),
    (datetime.timedelta(minutes=1), "1m"), (datetime.timedelta(milliseconds=250), "250ms"),
    ("0", "0s"),
])
def test_go_duration_sends_what_consul_parses(value: object, text: str) -> None:
    assert normalize.go_duration(value, "Interval") == text


@pytest.mark.parametrize("value", [10, 1.5, "10", "ten seconds", "-1s", None])
def test_go_duration_rejects_like_duration(value: object) -> None:
    with pytest.raises(ValueError, match="^check.TTL: "):
        normalize.go_duration(value, "check.TTL")


# -- Consistency ---------------------------------------------------------------------------------


@pytest.mark.parametrize("text, member", [
    ("default", Consistency.DEFAULT), ("consistent", Consistency.CONSISTENT),
    ("stale", Consistency.STALE), ("STALE", Consistency.STALE),
    (Consistency.STALE, Consistency.STALE),
])
def test_consistency_accepts_strings_and_members(text: object, member: Consistency) -> None:
    assert normalize.consistency(text) is member


def test_consistency_members_compare_equal_to_their_strings() -> None:
    assert Consistency.STALE == "stale"
    assert Consistency.CONSISTENT == "consistent"
    assert Consistency.DEFAULT == "default"
    assert str(Consistency.STALE) == "stale"


@pytest.mark.parametrize("value, error", [("leader", ValueError), ("", ValueError),
                                          (1, TypeError), (None, TypeError)])
def test_consistency_rejects(value: object, error: type[Exception]) -> None:
    with pytest.raises(error, match="^consistency: "):
        normalize.consistency(value)


# -- Filter --------------------------------------------------------------------------------------


def test_filter_pattern_and_text_are_equivalent() -> None:
    assert normalize.regex(re.compile("^web-[0-9]+$"), "node") == \
        normalize.regex("^web-[0-9]+$", "node") == "^web-[0-9]+$"


def test_filter_pattern_flags_become_go_inline_flags() -> None:
    assert normalize.regex(re.compile("web", re.IGNORECASE), "service") == "(?i)web"
    assert normalize.regex(re.compile("a.b", re.S | re.M), "tag") == "(?ms)a.b"


@pytest.mark.parametrize("value", [re.compile(b"web"), b"web", 3, None])
def test_filter_rejects(value: object) -> None:
    with pytest.raises(TypeError, match="^node: "):
        normalize.regex(value, "node")


# -- Payload -------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [b"qux", bytearray(b"qux")])
def test_payload_accepts_bytes_and_bytearray(value: object) -> None:
    result = normalize.payload(value, "value")
    assert result == b"qux"
    assert type(result) is bytes


@pytest.mark.parametrize("value", ["qux", memoryview(b"qux"), 3, None, [113]])
def test_payload_rejects_everything_else_with_type_error(value: object) -> None:
    with pytest.raises(TypeError, match="^value: expected bytes or bytearray"):
        normalize.payload(value, "value")


def test_payload_hint_for_text() -> None:
    with pytest.raises(TypeError, match=r"encode text first"):
        normalize.payload("qux", "value")


# -- KV keys -------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["foo", "a/b/c", "dir/", "with space", "q?x", "h#sh", "100%",
                                 "ünï/códe", "emoji/\U0001f600", "a.b/c..d", ".hidden", "a/..b"])
def test_kv_key_accepts_what_consul_can_store(key: str) -> None:
    assert normalize.kv_key(key) == key


def test_kv_key_accepts_an_entry() -> None:
    assert normalize.kv_key({"Key": "foo", "Value": b""}) == "foo"


@pytest.mark.parametrize("key", ["", "/foo", "a//b", "a/./b", "a/../b", ".", "..", "a/.",
                                 "a/..", "line\nfeed", "tab\t", "nul\x00", "del\x7f",
                                 "nbsp\u00a0", "zwsp\u200b"])
def test_kv_key_rejects_what_consul_cannot_address(key: str) -> None:
    with pytest.raises(ValueError, match="^key: "):
        normalize.kv_key(key)


def test_kv_prefix_may_be_empty() -> None:
    assert normalize.kv_key("", "prefix", prefix=True) == ""


@pytest.mark.parametrize("key", [None, 3, b"foo"])
def test_kv_key_rejects_non_strings(key: object) -> None:
    with pytest.raises(TypeError, match="^key: "):
        normalize.kv_key(key)
