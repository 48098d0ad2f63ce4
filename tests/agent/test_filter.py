"""The ``?filter=`` language as Consul 1.21 speaks it (hashicorp/go-bexpr v0.1.2), no server.

Sources the expectations come from:

* go-bexpr v0.1.2 ``grammar.peg`` and the pigeon-generated ``grammar.go`` (error bookkeeping),
  ``evaluate.go``, ``validate.go``, ``field_config.go``, ``coerce.go``, ``filter.go``;
* Consul's ``website/content/api-docs/features/filtering.mdx`` and the parse errors quoted
  verbatim in hashicorp/consul issues 7338 and 6467;
* Go's ``strconv`` and ``regexp/syntax`` for coercion and regular-expression errors.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from aioconsul.testing.golang.bexpr import FieldSchema, Filter, FilterError, compile_filter

PREFIX = "Failed to create boolean expression evaluator: "

SERVICE: dict[str, Any] = {
    "ID": "redis1",
    "Service": "redis",
    "Tags": ["primary", "production"],
    "Meta": {"env": "production", "foo": "bar", "dashed-key": "yes"},
    "Port": 1234,
    "Address": "",
    "Weights": {"Passing": 1, "Warning": 1},
    "EnableTagOverride": False,
    "Ratio": 0.5,
    "Checks": [{"CheckID": "a", "Status": "passing"}, {"CheckID": "b", "Status": "critical"}],
    "Empty": [],
    "Nothing": None,
}

# The Go type behind SERVICE, as an endpoint would describe it.
SCHEMA = FieldSchema(
    {
        "ID": "string",
        "Service": "string",
        "Tags": ["string"],
        "Meta": {"*": "string"},
        "Port": "int",
        "Address": "string",
        "Weights": {"Passing": "int", "Warning": "int"},
        "EnableTagOverride": "bool",
        "Ratio": "float64",
        "Checks": [{"CheckID": "string", "Status": "string"}],
        "TaggedAddresses": {"*": {"Address": "string", "Port": "int"}},
        "ModifyIndex": "uint64",
        "Ports": "[]int",
        "Config": "map[string]any",
    }
)


def matches(expression: str, obj: Any = SERVICE, **kwargs: Any) -> bool:
    return compile_filter(expression, **kwargs).matches(obj)


def error(expression: str, **kwargs: Any) -> str:
    with pytest.raises(FilterError) as info:
        compile_filter(expression, **kwargs)
    return str(info.value)


# ---------------------------------------------------------------------------------------------
# Parse errors: position, "expected" set and rule names exactly as pigeon reports them
# ---------------------------------------------------------------------------------------------


def test_error_for_a_bare_word_is_the_one_quoted_in_consul_issue_7338() -> None:
    """``ServicesWithFilter("foo")`` answered this, verbatim (hashicorp/consul#7338)."""
    assert error("foo") == (
        PREFIX + '1:4 (3): no match found, expected: "!=", ".", "==", "[", [ \\t\\r\\n] or '
        "[a-zA-Z0-9_]"
    )


def test_error_for_an_unquoted_dashed_value_lists_eof_last() -> None:
    """Same shape as hashicorp/consul#6467 (``Node==host-name``): EOF comes after the sorted set.

    pigeon records ``!.`` (the EOF rule's inverted any-char) and prints it as a trailing "EOF".
    """
    assert error("Node == host-name") == (
        PREFIX + '1:13 (12): no match found, expected: ".", "[", [ \\t\\r\\n], [a-zA-Z0-9_] or EOF'
    )


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        # ``&{ return false, errors.New(...) }`` blocks report "rule <display name>: <msg>" at
        # the position the parser had reached.
        ('Service == "redis', '1:18 (17): rule "string": Unterminated string literal'),
        ("(Service == redis", '1:18 (17): rule "grouping": Unmatched parentheses'),
        ("Port == 80x", '1:11 (10): rule "number": Invalid number literal'),
        ("Port == 01", '1:10 (9): rule "number": Invalid number literal'),
        ('"primary" in 1', '1:14 (13): rule "match": Invalid selector'),
        ("Meta[1] == x", '1:6 (5): rule "index": Invalid index'),
        ('Meta["env" == x', '1:12 (11): rule "index": Unclosed index expression'),
        # strconv.Unquote failing inside the StringLiteral action: reported at the opening quote.
        ('Service == "\\q"', '1:12 (11): rule "string": invalid syntax'),
        ('Service == "a\nb"', '1:12 (11): rule "string": invalid syntax'),
        ('Service == "\\"', '1:12 (11): rule "string": invalid syntax'),
        # Farthest-failure messages.
        (" ", '1:2 (1): no match found, expected: "(", "-", "0", "\\"", "`", "not", [ \\t\\r\\n], '
              "[1-9] or [a-zA-Z]"),
        ("Port == 1 and", "1:14 (13): no match found, expected: [ \\t\\r\\n]"),
        ("Port == 1)", '1:10 (9): no match found, expected: ".", [ \\t\\r\\n], [0-9] or EOF'),
        ("Port . x == 1", '1:6 (5): no match found, expected: "!=", "==", "contains", "in", '
                          '"is", "matches", "not" or [ \\t\\r\\n]'),
        ("Meta.0 == 1", "1:6 (5): no match found, expected: [a-zA-Z]"),
        ("Port == -", '1:10 (9): no match found, expected: "0" or [1-9]'),
        ("Tags contains a b", '1:17 (16): no match found, expected: "and", "or", [ \\t\\r\\n] '
                              "or EOF"),
        # Lines count newlines, columns count runes (0 on the newline itself), offsets bytes.
        ("Port ==\n\u00e9", '2:1 (8): no match found, expected: "-", "0", "\\"", "`", '
                            "[ \\t\\r\\n], [1-9] or [a-zA-Z]"),
        # Bytes that are not UTF-8 (surrogate-escaped in the query string) stop the parser.
        ("\udcff", "1:1 (0): invalid encoding"),
        ("Port == \udcff", '1:9 (8): rule "whitespace": invalid encoding'),
    ],
)  # fmt: skip
def test_parse_error_text(expression: str, message: str) -> None:
    assert error(expression) == PREFIX + message


def test_every_recorded_error_is_reported_one_per_line() -> None:
    """pigeon keeps parsing after an action error; its errList joins distinct messages by \\n."""
    assert error('Service == "\\q" or (Port == 1') == PREFIX + (
        '1:12 (11): rule "string": invalid syntax\n'
        '1:30 (29): rule "grouping": Unmatched parentheses'
    )


def test_empty_expression_is_the_nil_filter_and_matches_everything() -> None:
    """go-bexpr filter.go: ``if expression == "" { return nil, nil }``; Execute(nil) is a no-op."""
    assert compile_filter("").matches({"anything": 1})
    assert error("  ").startswith(PREFIX + "1:3 (2): no match found")


def test_non_string_expression_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        compile_filter(b"Port == 1")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# Operators
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("Service == redis", True),
        ('Service == "redis"', True),
        ("Service == `redis`", True),
        ("Service != redis", False),
        ("Service != web", True),
        ("Tags is empty", False),
        ("Tags is not empty", True),
        ("Empty is empty", True),
        ("Address is empty", True),
        ("primary in Tags", True),
        ("staging in Tags", False),
        ("primary not in Tags", False),
        ("Tags contains production", True),
        ("Tags not contains production", False),
        ("env in Meta", True),
        ("bar in Meta", False),
        ('"edi" in Service', True),
        ("Service contains dis", True),
        ("Service not contains x", True),
        ('Service matches "^re.is$"', True),
        ('Service matches "^R"', False),
        ('Service not matches "^R"', True),
    ],
)
def test_operator(expression: str, expected: bool) -> None:
    assert matches(expression) is expected


def test_in_is_membership_on_lists_keys_on_maps_and_substring_on_strings() -> None:
    """evaluate.go ``doMatchIn``: Map -> MapIndex, Slice -> element equality, String -> Contains."""
    assert matches("foo in Meta") and not matches("bar in Meta")
    assert matches("primary in Tags") and not matches("prim in Tags")
    assert matches("dis in ID") and matches("redis1 in ID") and not matches("prim in ID")


# ---------------------------------------------------------------------------------------------
# Boolean composition
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("Port == 1234 and Service == redis", True),
        ("Port == 1 and Service == redis", False),
        ("Port == 1 or Service == redis", True),
        ("not Port == 1", True),
        ("not not Port == 1234", True),
        ("not (Port == 1234)", False),
        # not > and > or: "<E1> and not <E2> or <E3>" == "(<E1> and (not <E2>)) or <E3>"
        ("Port == 1234 and not Service == redis or ID == redis1", True),
        ("Port == 1234 and not (Service == redis or ID == redis1)", False),
        ("Port == 1 and Service == redis or ID == redis1", True),
        ("Port == 1 and (Service == redis or ID == redis1)", False),
        ("(Port == 1 or Port == 1234) and (Service == x or Service == redis)", True),
        ("((((Port == 1234))))", True),
        ("( Port == 1234 )", True),
    ],
)
def test_precedence_and_parentheses(expression: str, expected: bool) -> None:
    assert matches(expression) is expected


def test_whitespace_is_any_run_of_space_tab_cr_lf() -> None:
    assert matches("Port==1234") and matches("Port ==1234") and matches("Port== 1234")
    assert matches("Port\n==\t1234\r\nand\tService == redis")


def test_keywords_need_whitespace_around_them() -> None:
    assert error("Tags isempty") == PREFIX + "1:8 (7): no match found, expected: [ \\t\\r\\n]"
    assert matches("not == 1", {"not": 1}), "a selector may be named like a keyword"
    assert matches("nota == 1", {"nota": 1})


def test_long_or_chains_compile_and_evaluate_without_deep_recursion() -> None:
    """OrExpression/AndExpression are right-recursive in grammar.peg; the agent loops instead."""
    names = " or ".join(f"Service == s{i}" for i in range(1000))
    assert matches(names + " or Service == redis")
    assert not matches(names)


# ---------------------------------------------------------------------------------------------
# Selectors
# ---------------------------------------------------------------------------------------------


def test_map_values_are_selected_with_dots_or_brackets() -> None:
    assert matches("Meta.env == production")
    assert matches('Meta["env"] == production')
    assert matches("Meta[`env`] == production")
    assert matches('Meta[ "dashed-key" ] == yes'), "bracket keys need not be identifiers"


def test_nested_maps_and_index_chains() -> None:
    obj = {"A": {"b c": {"D": {"e": 5}}}}
    assert matches('A["b c"].D["e"] == 5', obj)
    assert matches('A["b c"]["D"].e == 5', obj)


def test_selecting_through_a_list_matches_when_any_element_does() -> None:
    """v0.1.2 evaluate.go: "operations on slices are implicitly ANY operations"."""
    assert matches("Checks.Status == critical")
    assert matches("Checks.Status == passing")
    assert not matches("Checks.Status == warning")
    # ANY, not ALL: some check is not passing.
    assert matches("Checks.Status != passing")
    assert not matches("not Checks.Status != passing")


def test_selecting_through_an_empty_list_is_false_for_every_operator() -> None:
    """No element, no match: even != and "not in" are false (v0.1.2 evaluate.go slice loop)."""
    for op in ("== x", "!= x", "is empty", "is not empty", 'matches "x"', 'not matches "x"'):
        assert not matches(f"Empty.Status {op}"), op
    assert not matches("x in Empty.Status") and not matches("x not in Empty.Status")


def test_lists_of_lists_are_walked_through() -> None:
    obj = {"Groups": [[{"Name": "a"}], [{"Name": "b"}]]}
    assert matches("Groups.Name == b", obj)
    assert not matches("Groups.Name == c", obj)


# ---------------------------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        ('"a\\tb"', "a\tb"),
        ('"\\x41\\u00e9\\U0001F600\\101"', "A\u00e9\U0001f600A"),
        ('"say \\"hi\\""', None),  # DoubleStringChar is !'"' . : \" ends the literal
        ("`a\\tb`", "a\\tb"),  # raw: no escape expansion
        ("`a\r\nb`", "a\nb"),  # strconv.Unquote drops \r from raw strings
        ("`multi\nline`", "multi\nline"),
        ("bare", "bare"),  # a selector used as a value is its dotted text
        ("dotted.bare.word", "dotted.bare.word"),
        ('bracket["key"]', "bracket.key"),
        ("-12.50", "-12.50"),
        ('"\\xff"', "\udcff"),  # \x escapes are single bytes, not necessarily UTF-8
    ],
)
def test_value_forms(literal: str, value: str | None) -> None:
    if value is None:
        assert error(f"Name == {literal}").startswith(PREFIX)
        return
    assert matches(f"Name == {literal}", {"Name": value})
    assert not matches(f"Name == {literal}", {"Name": value + "x"})


def test_numbers_have_no_exponent_and_no_leading_zero() -> None:
    """grammar.peg: ``IntegerOrFloat <- ("0" / [1-9][0-9]*) ("." [0-9]+)?``."""
    assert error("Port == 1e3") == PREFIX + '1:10 (9): rule "number": Invalid number literal'
    assert error("Port == 1.") == PREFIX + '1:10 (9): rule "number": Invalid number literal'
    assert error("Port == .5").startswith(PREFIX + "1:9 (8): no match found")


# ---------------------------------------------------------------------------------------------
# Coercion of the literal to the value's type
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "obj", "expected"),
    [
        # strconv.ParseBool spellings
        ("Flag == true", {"Flag": True}, True),
        ("Flag == T", {"Flag": True}, True),
        ("Flag == 1", {"Flag": True}, True),
        ('Flag == "FALSE"', {"Flag": False}, True),
        ("Flag == yes", {"Flag": True}, False),
        ("Flag != yes", {"Flag": True}, True),
        # strconv.ParseInt(s, 0, 64): base prefixes and underscores, only reachable via strings
        ('Port == "0x4d2"', {"Port": 1234}, True),
        ('Port == "02322"', {"Port": 1234}, True),
        ('Port == "1_234"', {"Port": 1234}, True),
        ("Port == -5", {"Port": -5}, True),
        ("Port == abc", {"Port": 1234}, False),
        # a JSON integer may be a Go float64 that happened to be whole
        ("Port == 1234.0", {"Port": 1234}, True),
        ("Ratio == 0.5", {"Ratio": 0.5}, True),
        ('Ratio == "5e-1"', {"Ratio": 0.5}, True),
        # strings compare as written; numbers are not strings
        ("Name == 1234", {"Name": "1234"}, True),
        ('Name == "1234.0"', {"Name": "1234"}, False),
        ("Name == true", {"Name": True}, True),
        ("Name == true", {"Name": "true"}, True),
        ("Name == 1", {"Name": True}, True),
        ("Name == 1", {"Name": [1]}, False),
        ("1 in Ports", {"Ports": [1, 2]}, True),
        ("true in Flags", {"Flags": [False, True]}, True),
        ("x in Mixed", {"Mixed": [1, None, "x"]}, True),
    ],
)
def test_literal_is_coerced_to_the_json_value_type(
    expression: str, obj: dict[str, Any], expected: bool
) -> None:
    assert matches(expression, obj) is expected


# ---------------------------------------------------------------------------------------------
# Missing keys and nulls
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operator", "expected"),
    [
        ("== x", False),
        ("!= x", True),
        ("is empty", True),
        ("is not empty", False),
        ('matches "x"', True),  # v0.1.2 quirk: default branch of the not-found switch
        ('not matches "x"', True),
    ],
)
def test_missing_map_key(operator: str, expected: bool) -> None:
    """v0.1.2 evaluate.go: "MatchEqual, MatchIsNotEmpty, MatchIn" are false, the rest true.

    ``matches`` was added in v0.1.1 without touching that switch, so on a missing key both
    ``matches`` and ``not matches`` are true until go-bexpr v0.1.5 (NotPresentDisposition).
    """
    assert matches(f"Meta.missing {operator}") is expected
    assert matches(f"NoSuchField {operator}") is expected
    assert matches(f"Nothing {operator}") is expected, "null behaves like a missing key"


def test_missing_key_with_in() -> None:
    assert not matches("x in Meta.missing")
    assert matches("x not in Meta.missing")
    assert not matches("x in Nothing")


def test_selecting_into_a_scalar_or_null_behaves_like_a_missing_key() -> None:
    assert not matches("Port.x == 1") and matches("Port.x != 1")
    assert not matches("Nothing.x == 1") and matches("Nothing.x is empty")


# ---------------------------------------------------------------------------------------------
# Field schemas: Consul's validation against the Go type (validate.go, field_config.go)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("Foo == 1", 'Selector "Foo" is not valid'),
        ("Weights.Foo == 1", 'Selector "Weights.Foo" is not valid'),
        ("Port.x == 1", 'Selector "Port.x" is not valid'),
        ("Config.x == 1", 'Selector "Config.x" is not valid'),
        ('"x" in Port', 'Invalid match operator "In" for selector "Port"'),
        ("Weights == 1", 'Invalid match operator "Equal" for selector "Weights"'),
        ("Address is empty", 'Invalid match operator "Is Empty" for selector "Address"'),
        ("Meta.env is empty", 'Invalid match operator "Is Empty" for selector "Meta.env"'),
        ("Checks == x", 'Invalid match operator "Equal" for selector "Checks"'),
        ('Port matches "1"', 'Invalid match operator "Matches" for selector "Port"'),
        ("Port == abc", 'Failed to coerce value "abc" for selector "Port": '
                        'strconv.ParseInt: parsing "abc": invalid syntax'),
        ("Port == 1.5", 'Failed to coerce value "1.5" for selector "Port": '
                        'strconv.ParseInt: parsing "1.5": invalid syntax'),
        ('Port == "99999999999999999999"',
         'Failed to coerce value "99999999999999999999" for selector "Port": '
         'strconv.ParseInt: parsing "99999999999999999999": value out of range'),
        ("ModifyIndex == -1", 'Failed to coerce value "-1" for selector "ModifyIndex": '
                              'strconv.ParseUint: parsing "-1": invalid syntax'),
        ("EnableTagOverride == yes", 'Failed to coerce value "yes" for selector '
                                     '"EnableTagOverride": strconv.ParseBool: parsing "yes": '
                                     "invalid syntax"),
        ("x in Ports", 'Failed to coerce value "x" for selector "Ports": '
                       'strconv.ParseInt: parsing "x": invalid syntax'),
        ('Service matches "("', 'Failed to compile regular expression "(": '
                                "error parsing regexp: missing closing ): `(`"),
        # validateRecurse walks left to right and stops at the first error
        ('Service matches "(" and Foo == 1', 'Failed to compile regular expression "(": '
                                             "error parsing regexp: missing closing ): `(`"),
        ('Foo == 1 and Service matches "("', 'Selector "Foo" is not valid'),
    ],
)  # fmt: skip
def test_schema_validation_error(expression: str, message: str) -> None:
    assert error(expression, fields=SCHEMA) == PREFIX + message


@pytest.mark.parametrize(
    "expression",
    [
        "Port in Tags",  # the value is a bare word: "Port"
        "Tags is empty",
        "x in Config",
        "env in Meta",
        "Checks.Status == passing",
        "Checks is not empty",
        "TaggedAddresses.lan.Port == 80",
        'TaggedAddresses["lan"].Address matches "^10\\\\."',
        "80 in Ports",
        'ModifyIndex == "0x10"',
        "EnableTagOverride == T",
    ],
)
def test_schema_accepts(expression: str) -> None:
    assert isinstance(compile_filter(expression, fields=SCHEMA), Filter)


def test_schema_gives_absent_struct_fields_their_go_zero_value() -> None:
    """A Go struct always has every field; omitempty JSON does not. Missing == zero value."""
    sparse = {"Service": "web"}
    for expression in (
        "Port == 0",
        'ID == ""',
        "EnableTagOverride == false",
        "Ratio == 0",
        "ModifyIndex == 0",
        "Weights.Passing == 0",
        "Tags is empty",
        "Meta is empty",
        "Checks is empty",
        "x not in Tags",
        'ID matches "^$"',
    ):
        assert matches(expression, sparse, fields=SCHEMA), expression
    # Without a schema the same fields are simply missing map keys.
    assert not matches("Port == 0", sparse)


def test_schema_map_keys_keep_missing_key_semantics() -> None:
    assert matches("Meta.missing != x", fields=SCHEMA)
    assert not matches("Meta.missing == x", fields=SCHEMA)
    assert matches("TaggedAddresses.wan.Port != 80", {"TaggedAddresses": {}}, fields=SCHEMA)


def test_schema_evaluation_of_lists() -> None:
    obj = {"Checks": [{"Status": "passing"}, {}], "Ports": [80, 443]}
    assert matches("Checks.Status == passing", obj, fields=SCHEMA)
    assert matches('Checks.Status == ""', obj, fields=SCHEMA), "the second check's zero value"
    assert matches("443 in Ports", obj, fields=SCHEMA)
    assert not matches("444 in Ports", obj, fields=SCHEMA)


def test_schema_may_be_given_as_a_plain_mapping() -> None:
    assert matches("Port == 1234", fields={"Port": "int"})
    assert error("Foo == 1", fields={"Port": "int"}) == PREFIX + 'Selector "Foo" is not valid'


def test_schema_float32_compares_at_float32_precision() -> None:
    schema = {"Ratio": "float32", "Small": "int8"}
    assert matches("Ratio == 0.1", {"Ratio": 0.1}, fields=schema)
    assert error('Ratio == "1e40"', fields=schema) == PREFIX + (
        'Failed to coerce value "1e40" for selector "Ratio": '
        'strconv.ParseFloat: parsing "1e40": value out of range'
    )
    assert error("Small == 200", fields=schema).endswith(
        'strconv.ParseInt: parsing "200": value out of range'
    )


@pytest.mark.parametrize(
    ("spec", "exception"),
    [
        ({}, ValueError),
        ({"X": "any"}, ValueError),  # go-bexpr panics on an interface{} struct field
        ({"X": "complex128"}, ValueError),
        ({"X": ["string", "int"]}, ValueError),
        ({"X": 3}, TypeError),
        ({"*": "string"}, TypeError),  # the root is a struct, not a map
    ],
)
def test_invalid_field_schema(spec: Any, exception: type[Exception]) -> None:
    with pytest.raises(exception):
        FieldSchema(spec)


# ---------------------------------------------------------------------------------------------
# Regular expressions: Go's RE2 syntax and semantics
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        ("abc$", "abc\n", False),  # $ is end of text, not before a final newline
        ("^b", "a\nb", False),
        ("(?m)^b", "a\nb", True),
        ("^a.c", "a\nc", False),
        ("(?s)^a.c", "a\nc", True),
        ("\\d", "\u0663", False),  # ASCII digits only
        ("\\s", "\v", False),  # \s is [\t\n\f\r ]
        ("[[:space:]]", "\v", True),
        ("\\bfoo\\b", "a foo b", True),
        ("\\bfoo\\b", "afoo", False),
        ("a(?i)b", "aB", True),  # flags may change mid-pattern
        ("a(?i)b", "AB", False),
        ("(?i:a)b", "AB", False),
        ("(?i)[^a]", "A", False),
        ("a{,3}", "a{,3}", True),  # not a repeat in Go: a literal
        ("[[:alpha:]]+$", "abc", True),
        ("[[:^digit:]]", "1", False),
        ("\\Qa.b\\E", "axb", False),
        ("\\x{1F600}|\\101", "A", True),
        ("\\pL", "\u00e9", True),
        ("\\PL", "\u00e9", False),
        ("[\\p{Lu}\\d]", "a", False),
        ("(?P<x>a)|(?<y>b)", "b", True),
        ("(?U)a+$", "aaa", True),
        ("^*", "", True),  # repeating an empty-width assertion is allowed
        ("[]a]", "]", True),
        ("\\_", "_", True),
    ],
)
def test_regexp_semantics_follow_go(pattern: str, text: str, expected: bool) -> None:
    quoted = "`" + pattern + "`"
    assert matches(f"Name matches {quoted}", {"Name": text}) is expected


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("(", "missing closing ): `(`"),
        ("a)", "unexpected ): `a)`"),
        ("[a", "missing closing ]: `[a`"),
        ("[z-a]", "invalid character class range: `z-a`"),
        ("[[:foo:]]", "invalid character class range: `[:foo:]`"),
        ("\\p{Foo}", "invalid character class range: `\\p{Foo}`"),
        ("*", "missing argument to repetition operator: `*`"),
        ("a|*", "missing argument to repetition operator: `*`"),
        ("a**", "invalid nested repetition operator: `**`"),
        ("a*+", "invalid nested repetition operator: `*+`"),
        ("x{1001}", "invalid repeat count: `{1001}`"),
        ("x{2,1}", "invalid repeat count: `{2,1}`"),
        ("(x{2}){501}", "invalid repeat count: `{501}`"),
        ("\\1", "invalid escape sequence: `\\1`"),
        ("\\Z", "invalid escape sequence: `\\Z`"),
        ("\\x{110000}", "invalid escape sequence: `\\x{110000`"),
        ("\\", "trailing backslash at end of expression: ``"),
        ("(?=x)", "invalid or unsupported Perl syntax: `(?=`"),
        ("(?i", "invalid or unsupported Perl syntax: `(?i`"),
        ("(?P<a-b>x)", "invalid named capture: `(?P<a-b>`"),
        ("(?<=a)b", "invalid named capture: `(?<=a)b`"),
    ],
)
def test_regexp_error_text_is_gos(pattern: str, message: str) -> None:
    """go-bexpr: ``Failed to compile regular expression %q: %v`` around regexp/syntax.Error."""
    quoted = "`" + pattern + "`"
    go_quoted = '"' + pattern.replace("\\", "\\\\") + '"'
    assert error(f"Name matches {quoted}") == (
        f"{PREFIX}Failed to compile regular expression {go_quoted}: error parsing regexp: {message}"
    )


def test_unicode_script_classes_are_refused_with_an_explanation() -> None:
    assert "cannot be evaluated by the aioconsul dev agent" in error("Name matches `\\p{Greek}`")


def test_regular_expressions_are_compiled_once_not_per_object(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    flt = compile_filter('Service matches "^re" and Meta.env not matches "dev"')

    def forbidden(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("re.compile called while evaluating")

    monkeypatch.setattr(re, "compile", forbidden)
    assert all(flt.matches(SERVICE) for _ in range(100))


def test_filter_keeps_its_expression() -> None:
    flt = compile_filter("Port == 1")
    assert flt.expression == "Port == 1"
    assert "Port == 1" in repr(flt)
