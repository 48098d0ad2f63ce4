"""Property-based tests (hypothesis) of the normalizers and of path building: for any input, the
client either refuses it with a TypeError/ValueError naming the argument, or builds a request that
stays where it belongs."""

from __future__ import annotations

import datetime
import posixpath
from urllib.parse import unquote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aioconsul._core import normalize
from aioconsul._core.config import resolve
from aioconsul._core.request import build, quote_key, quote_segment

CONFIG = resolve("127.0.0.1:8500", env={})
settings.register_profile("aioconsul", max_examples=300, deadline=None)
settings.load_profile("aioconsul")


def _decode_path(target: str) -> str:
    """What the agent sees: the path before the query, percent-decoded once (as Go does)."""
    return unquote(target.partition("?")[0])


@given(st.text())
def test_any_key_is_refused_or_stays_under_v1_kv(key: str) -> None:
    try:
        checked = normalize.kv_key(key)
    except ValueError as exc:
        assert str(exc).startswith("key: ")
        return
    target = build("GET", "/v1/kv/" + quote_key(checked), CONFIG).target
    assert "?" not in target and "#" not in target
    decoded = _decode_path(target)
    assert decoded == "/v1/kv/" + key
    # Go's ServeMux would redirect a path that cleaning changes: never one we build.
    cleaned = posixpath.normpath(decoded) + ("/" if decoded.endswith("/") else "")
    assert cleaned == decoded
    assert cleaned.startswith("/v1/kv/")


@given(st.text(min_size=1))
def test_any_path_segment_stays_one_segment(segment: str) -> None:
    quoted = quote_segment(segment)
    assert "/" not in quoted and "?" not in quoted and "#" not in quoted
    assert unquote(quoted) == segment


@given(st.text(), st.text())
def test_any_parameter_value_stays_in_its_parameter(name: str, value: str) -> None:
    target = build("GET", "/v1/event/list", CONFIG, params=[("name", value)]).target
    path, _, query = target.partition("?")
    assert path == "/v1/event/list"
    assert "#" not in query
    pairs = [pair.split("=", 1) for pair in query.split("&")]
    assert len(pairs) == 1 and unquote(pairs[0][1] if len(pairs[0]) > 1 else "") == value


@given(st.timedeltas(min_value=datetime.timedelta(0),
                     max_value=datetime.timedelta(days=100_000)))
def test_timedelta_and_its_go_string_are_the_same_duration(value: datetime.timedelta) -> None:
    ns = normalize.duration(value, "wait")
    assert normalize.duration(normalize.format_duration(ns), "wait") == ns


@given(st.integers(min_value=0, max_value=2**63 - 1))
def test_every_duration_round_trips_through_its_go_string(ns: int) -> None:
    assert normalize.duration(normalize.format_duration(ns), "ttl") == ns


@given(st.one_of(st.text(), st.integers(), st.floats(), st.none(), st.binary(),
                 st.lists(st.integers())))
def test_any_duration_input_is_accepted_or_refused_with_value_error(value: object) -> None:
    try:
        ns = normalize.duration(value, "wait")
    except ValueError as exc:
        assert str(exc).startswith("wait: ")
    else:
        assert isinstance(ns, int) and ns >= 0


@given(st.one_of(st.integers(), st.text(), st.none(), st.floats(), st.booleans(),
                 st.dictionaries(st.sampled_from(["Index", "ID"]), st.integers())))
def test_any_index_input_is_an_uint64_or_refused(value: object) -> None:
    try:
        index = normalize.index(value)
    except (TypeError, ValueError) as exc:
        assert str(exc).startswith("index")
    else:
        assert 0 <= index < 2**64


@given(st.one_of(st.binary(), st.text(), st.integers(), st.none()))
def test_payload_is_bytes_or_a_type_error(value: object) -> None:
    try:
        data = normalize.payload(value, "value")
    except TypeError as exc:
        assert str(exc).startswith("value: ")
    else:
        assert data == value


@pytest.mark.parametrize("token", ["abc\r\nX-Evil: 1", "abc\n", "a\x00b", "tab\tbed"])
def test_tokens_with_control_characters_are_refused(token: str) -> None:
    with pytest.raises(ValueError, match="^token: contains a control character"):
        resolve(token=token, env={})
    with pytest.raises(ValueError, match="^token: contains a control character"):
        resolve(env={"CONSUL_HTTP_TOKEN": token})
    with pytest.raises(ValueError, match="^auth: contains a control character"):
        resolve(auth=("user", token), env={})
