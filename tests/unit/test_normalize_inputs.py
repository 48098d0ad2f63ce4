"""The plain inputs every endpoint group shares (``_core/normalize.py``): a str, a bool, one of
a few words, a list, a list of str, a str-to-str map, a JSON object. Every accepted form and
every refusal, with the message naming the argument."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from types import MappingProxyType
from typing import Any

import pytest

from aioconsul._core import normalize

# -- text ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["web", " ", "a/b", "ünï"])
def test_text_returns_a_str_as_given(value: str) -> None:
    assert normalize.text(value, "name") is value


def test_text_empty_only_when_allowed() -> None:
    assert normalize.text("", "description", empty=True) == ""
    with pytest.raises(ValueError, match=r"^name: must not be empty$"):
        normalize.text("", "name")


@pytest.mark.parametrize("value, kind", [
    (None, "NoneType"), (3, "int"), (b"web", "bytes"), (["web"], "list"), (True, "bool"),
])
def test_text_refuses_what_is_not_a_str(value: object, kind: str) -> None:
    with pytest.raises(TypeError, match=rf"^source: expected a str, got {kind}$"):
        normalize.text(value, "source")
    with pytest.raises(TypeError, match="^source: "):
        normalize.text(value, "source", empty=True)


# -- flag ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [True, False])
def test_flag_returns_a_bool(value: bool) -> None:
    assert normalize.flag(value, "stale") is value


@pytest.mark.parametrize("value, kind", [
    (1, "int"), (0, "int"), ("true", "str"), ("false", "str"), (None, "NoneType"),
])
def test_flag_refuses_truthy_values(value: object, kind: str) -> None:
    with pytest.raises(TypeError, match=rf"^expanded: expected a bool, got {kind}$"):
        normalize.flag(value, "expanded")


# -- choice -------------------------------------------------------------------------------------


def test_choice_returns_one_of_the_words() -> None:
    assert normalize.choice("deny", "action", ("allow", "deny")) == "deny"


@pytest.mark.parametrize("choices, wanted", [
    (("allow", "deny"), "'allow' or 'deny'"),
    (("none", "local", "remote"), "'none', 'local' or 'remote'"),
    (("only",), "'only'"),
])
def test_choice_names_every_word_it_takes(choices: tuple[str, ...], wanted: str) -> None:
    with pytest.raises(ValueError, match=rf"^mode: expected {wanted}, got 'other'$"):
        normalize.choice("other", "mode", choices)


@pytest.mark.parametrize("value", ["Allow", "", " allow"])
def test_choice_is_exact(value: str) -> None:
    with pytest.raises(ValueError, match="^action: expected 'allow' or 'deny', got "):
        normalize.choice(value, "action", ("allow", "deny"))


def test_choice_refuses_a_non_str_with_a_type_error() -> None:
    with pytest.raises(TypeError, match=r"^by: expected 'source' or 'destination', got int$"):
        normalize.choice(1, "by", ("source", "destination"))


# -- list_of, strings ---------------------------------------------------------------------------


def _gen() -> Iterator[str]:
    yield from ("a", "b")


@pytest.mark.parametrize("value", [["a", "b"], ("a", "b"), _gen(), iter(["a", "b"]),
                                   dict.fromkeys(["a", "b"]).keys()])
def test_list_of_takes_any_iterable(value: Any) -> None:
    assert normalize.list_of(value, "names", "str") == ["a", "b"]


def test_list_of_copies() -> None:
    given = ["a"]
    listed = normalize.list_of(given, "names", "str")
    assert listed == given and listed is not given


@pytest.mark.parametrize("value, kind", [
    ("ab", "str"), (b"ab", "bytes"), (bytearray(b"ab"), "bytearray"), ({"a": 1}, "dict"),
    (MappingProxyType({"a": 1}), "mappingproxy"), (3, "int"), (None, "NoneType"),
])
def test_list_of_refuses_what_would_iterate_into_something_else(value: object,
                                                                 kind: str) -> None:
    with pytest.raises(TypeError, match=rf"^checks: expected a list of check ids, got {kind}$"):
        normalize.list_of(value, "checks", "check ids")


def test_strings_checks_every_item_by_position() -> None:
    assert normalize.strings(("dc1", "dc2"), "datacenters") == ["dc1", "dc2"]
    assert normalize.strings([], "datacenters") == []
    with pytest.raises(ValueError, match=r"^datacenters\[1\]: must not be empty$"):
        normalize.strings(["dc1", ""], "datacenters")
    with pytest.raises(TypeError, match=r"^datacenters\[0\]: expected a str, got int$"):
        normalize.strings([1], "datacenters")
    with pytest.raises(TypeError, match=r"^datacenters: expected a list of str, got str$"):
        normalize.strings("dc1", "datacenters")


# -- str_map ------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [{"a": "1", "b": ""}, OrderedDict(a="1", b=""),
                                   MappingProxyType({"a": "1", "b": ""}), {}])
def test_str_map_copies_a_mapping_of_str_to_str(value: Any) -> None:
    copied = normalize.str_map(value)
    assert copied == dict(value) and type(copied) is dict and copied is not value


@pytest.mark.parametrize("value, kind", [
    ([("a", "1")], "list"), ("a=1", "str"), (None, "NoneType"),
])
def test_str_map_refuses_what_is_not_a_mapping(value: object, kind: str) -> None:
    with pytest.raises(TypeError, match=rf"^meta: expected a mapping of str to str, got {kind}$"):
        normalize.str_map(value)


@pytest.mark.parametrize("value, shown", [
    ({"a": 1}, "'a': int"), ({1: "a"}, "1: str"), ({"a": None}, "'a': NoneType"),
])
def test_str_map_names_the_bad_pair_by_its_key_never_its_value(value: object,
                                                               shown: str) -> None:
    with pytest.raises(TypeError) as info:
        normalize.str_map(value, "node_meta")
    assert str(info.value) == f"node_meta: keys and values must be str, got {shown}"


def test_str_map_does_not_show_a_value() -> None:
    with pytest.raises(TypeError) as info:
        normalize.str_map({"password": b"s3cr3t"})
    assert "s3cr3t" not in str(info.value)


# -- mapping, definition ------------------------------------------------------------------------


def test_mapping_copies_a_json_object() -> None:
    given = {"Name": "web", "Port": 80}
    copied = normalize.mapping(given, "config")
    assert copied == given and copied is not given


def test_mapping_says_what_was_expected() -> None:
    with pytest.raises(TypeError, match=r"^config: expected a mapping, got list$"):
        normalize.mapping(["a"], "config")
    with pytest.raises(TypeError, match=r"^ids\[0\]: expected a service identity, got str$"):
        normalize.mapping("web", "ids[0]", "a service identity")


def test_mapping_refuses_field_names_that_are_not_str() -> None:
    with pytest.raises(TypeError, match=r"^config: field names must be str, got 1$"):
        normalize.mapping({1: "a"}, "config")


def test_definition_is_a_mapping_named_as_a_definition() -> None:
    assert normalize.definition({"Name": "web"}, "service", "a service definition") == {
        "Name": "web"}
    with pytest.raises(TypeError,
                       match=r"^check: expected a check definition \(a mapping\), got str$"):
        normalize.definition("web", "check", "a check definition")


# -- describe, node_meta over str_map -----------------------------------------------------------


def test_describe_names_type_and_value() -> None:
    assert normalize.describe(3) == "int 3"
    assert normalize.describe("a") == "str 'a'"


def test_node_meta_refuses_like_str_map_then_checks_its_keys() -> None:
    assert normalize.node_meta({"rack": "r1"}) == [("node-meta", "rack:r1")]
    with pytest.raises(TypeError, match=r"^node_meta: keys and values must be str, got 'a': int$"):
        normalize.node_meta({"a": 1})
    with pytest.raises(ValueError, match="^node_meta: a key must be non-empty and without ':'"):
        normalize.node_meta({"a:b": "c"})
