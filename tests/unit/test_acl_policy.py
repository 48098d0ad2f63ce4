"""The ACL policy language: parsing, validation, merging, and the rules Consul writes itself.

Cases transcribed from Consul's ``acl/policy_test.go`` (TestPolicySourceParse, TestMergePolicies,
TestPrecedence) and ``agent/structs/acl_templated_policy*_test.go``; the decoder cases follow
``hashicorp/hcl``'s ``decoder.go`` and the duplicate-argument check of Consul PR 21908.
"""

from __future__ import annotations

import sys

import pytest

from aioconsul.testing.acl import identities
from aioconsul.testing.acl.policy import (
    AgentRule,
    EventRule,
    KeyRule,
    NodeRule,
    Policy,
    PolicyError,
    PreparedQueryRule,
    ServiceRule,
    SessionRule,
    merge_policies,
    parse_policy,
    takes_precedence_over,
)

# -- TestPolicySourceParse ------------------------------------------------------------------

BASIC_HCL = """
agent_prefix "bar" {
    policy = "write"
}
agent "foo" {
    policy = "read"
}
event_prefix "" {
    policy = "read"
}
event "foo" {
    policy = "write"
}
event "bar" {
    policy = "deny"
}
key_prefix "" {
    policy = "read"
}
key_prefix "foo/" {
    policy = "write"
}
key_prefix "foo/bar/" {
    policy = "read"
}
key "foo/bar/baz" {
    policy = "deny"
}
keyring = "deny"
node_prefix "" {
    policy = "read"
}
node "foo" {
    policy = "write"
}
node "bar" {
    policy = "deny"
}
operator = "deny"
mesh = "deny"
peering = "deny"
service_prefix "" {
    policy = "write"
}
service "foo" {
    policy = "read"
}
session "foo" {
    policy = "write"
}
session "bar" {
    policy = "deny"
}
session_prefix "baz" {
    policy = "deny"
}
query_prefix "" {
    policy = "read"
}
query "foo" {
    policy = "write"
}
query "bar" {
    policy = "deny"
}
"""

BASIC_JSON = """
{
  "agent_prefix": {"bar": {"policy": "write"}},
  "agent": {"foo": {"policy": "read"}},
  "event_prefix": {"": {"policy": "read"}},
  "event": {"foo": {"policy": "write"}, "bar": {"policy": "deny"}},
  "key_prefix": {
    "": {"policy": "read"}, "foo/": {"policy": "write"}, "foo/bar/": {"policy": "read"}
  },
  "key": {"foo/bar/baz": {"policy": "deny"}},
  "keyring": "deny",
  "node_prefix": {"": {"policy": "read"}},
  "node": {"foo": {"policy": "write"}, "bar": {"policy": "deny"}},
  "operator": "deny",
  "mesh": "deny",
  "peering": "deny",
  "service_prefix": {"": {"policy": "write"}},
  "service": {"foo": {"policy": "read"}},
  "session_prefix": {"baz": {"policy": "deny"}},
  "session": {"foo": {"policy": "write"}, "bar": {"policy": "deny"}},
  "query_prefix": {"": {"policy": "read"}},
  "query": {"foo": {"policy": "write"}, "bar": {"policy": "deny"}}
}
"""

BASIC = Policy(
    agent_prefixes=[AgentRule("bar", "write")],
    agents=[AgentRule("foo", "read")],
    event_prefixes=[EventRule("", "read")],
    events=[EventRule("foo", "write"), EventRule("bar", "deny")],
    keyring="deny",
    key_prefixes=[KeyRule("", "read"), KeyRule("foo/", "write"), KeyRule("foo/bar/", "read")],
    keys=[KeyRule("foo/bar/baz", "deny")],
    node_prefixes=[NodeRule("", "read")],
    nodes=[NodeRule("foo", "write"), NodeRule("bar", "deny")],
    operator="deny",
    mesh="deny",
    peering="deny",
    prepared_query_prefixes=[PreparedQueryRule("", "read")],
    prepared_queries=[PreparedQueryRule("foo", "write"), PreparedQueryRule("bar", "deny")],
    service_prefixes=[ServiceRule("", "write")],
    services=[ServiceRule("foo", "read")],
    session_prefixes=[SessionRule("baz", "deny")],
    sessions=[SessionRule("foo", "write"), SessionRule("bar", "deny")],
)


@pytest.mark.parametrize("rules", [BASIC_HCL, BASIC_JSON], ids=["hcl", "json"])
def test_every_rule_kind_parses_from_hcl_and_json(rules: str) -> None:
    """TestPolicySourceParse "Basic"."""
    assert parse_policy(rules) == BASIC


@pytest.mark.parametrize("rules, expected", [
    ('service "foo" { policy = "write" }', ServiceRule("foo", "write")),
    ('{ "service": { "foo": { "policy": "write" }}}', ServiceRule("foo", "write")),
    ('service "foo" { policy = "write" intentions = "read" }',
     ServiceRule("foo", "write", "read")),
    ('{ "service": { "foo": { "policy": "write", "intentions": "read" }}}',
     ServiceRule("foo", "write", "read")),
])
def test_service_rules_carry_their_intentions(rules: str, expected: ServiceRule) -> None:
    """TestPolicySourceParse "Service No Intentions" and "Service Intentions"."""
    assert parse_policy(rules) == Policy(services=[expected])


BAD_POLICIES = [
    ('service "foo" { policy = "write" intentions = "foo" }',
     '{ "service": { "foo": { "policy": "write", "intentions": "foo" }}}',
     "Invalid service intentions policy"),
    ('acl = "list"', '{ "acl": "list" }', "Invalid acl policy"),
    ('agent "foo" { policy = "nope" }', '{ "agent": { "foo": { "policy": "nope" }}}',
     "Invalid agent policy"),
    ('agent_prefix "foo" { policy = "nope" }', '{ "agent_prefix": { "foo": { "policy": "nope" }}}',
     "Invalid agent_prefix policy"),
    ('key "foo" { policy = "nope" }', '{ "key": { "foo": { "policy": "nope" }}}',
     "Invalid key policy"),
    ('key_prefix "foo" { policy = "nope" }', '{ "key_prefix": { "foo": { "policy": "nope" }}}',
     "Invalid key_prefix policy"),
    ('node "foo" { policy = "nope" }', '{ "node": { "foo": { "policy": "nope" }}}',
     "Invalid node policy"),
    ('node_prefix "foo" { policy = "nope" }', '{ "node_prefix": { "foo": { "policy": "nope" }}}',
     "Invalid node_prefix policy"),
    ('service "foo" { policy = "nope" }', '{ "service": { "foo": { "policy": "nope" }}}',
     "Invalid service policy"),
    ('service_prefix "foo" { policy = "nope" }',
     '{ "service_prefix": { "foo": { "policy": "nope" }}}', "Invalid service_prefix policy"),
    ('session "foo" { policy = "nope" }', '{ "session": { "foo": { "policy": "nope" }}}',
     "Invalid session policy"),
    ('session_prefix "foo" { policy = "nope" }',
     '{ "session_prefix": { "foo": { "policy": "nope" }}}', "Invalid session_prefix policy"),
    ('event "foo" { policy = "nope" }', '{ "event": { "foo": { "policy": "nope" }}}',
     "Invalid event policy"),
    ('event_prefix "foo" { policy = "nope" }', '{ "event_prefix": { "foo": { "policy": "nope" }}}',
     "Invalid event_prefix policy"),
    ('query "foo" { policy = "nope" }', '{ "query": { "foo": { "policy": "nope" }}}',
     "Invalid query policy"),
    ('query_prefix "foo" { policy = "nope" }', '{ "query_prefix": { "foo": { "policy": "nope" }}}',
     "Invalid query_prefix policy"),
    ('keyring = "nope"', '{ "keyring": "nope" }', "Invalid keyring policy"),
    ('operator = "nope"', '{ "operator": "nope" }', "Invalid operator policy"),
    ('mesh = "nope"', '{ "mesh": "nope" }', "Invalid mesh policy"),
    ('peering = "nope"', '{ "peering": "nope" }', "Invalid peering policy"),
]


@pytest.mark.parametrize("hcl_rules, json_rules, prefix", BAD_POLICIES,
                         ids=[case[2] for case in BAD_POLICIES])
def test_invalid_access_levels_are_refused_in_hcl_and_json(
    hcl_rules: str, json_rules: str, prefix: str
) -> None:
    """TestPolicySourceParse "Bad Policy - *" (errStartsWith)."""
    for rules in (hcl_rules, json_rules):
        with pytest.raises(PolicyError) as caught:
            parse_policy(rules)
        assert str(caught.value).startswith(prefix)


@pytest.mark.parametrize("rules, text", [
    ('key "foo" { policy = "nope" }',
     'Invalid key policy: &acl.KeyRule{Prefix:"foo", Policy:"nope", '
     'EnterpriseRule:acl.EnterpriseRule{}}'),
    ('agent_prefix "a\\"b" { policy = "all" }',
     'Invalid agent_prefix policy: &acl.AgentRule{Node:"a\\"b", Policy:"all"}'),
    ('service "web" { policy = "write" intentions = "list" }',
     'Invalid service intentions policy: &acl.ServiceRule{Name:"web", Policy:"write", '
     'Intentions:"list", EnterpriseRule:acl.EnterpriseRule{}}'),
    ('node "n1" { policy = "list" }',
     'Invalid node policy: &acl.NodeRule{Name:"n1", Policy:"list", '
     'EnterpriseRule:acl.EnterpriseRule{}}'),
    ('session "s" {}', 'Invalid session policy: &acl.SessionRule{Node:"s", Policy:""}'),
    ('event "e" { policy = "x" }', 'Invalid event policy: &acl.EventRule{Event:"e", Policy:"x"}'),
    ('query_prefix "" { policy = "x" }',
     'Invalid query_prefix policy: &acl.PreparedQueryRule{Prefix:"", Policy:"x"}'),
    ('acl = "list"', 'Invalid acl policy: "list"'),
    ('peering = 1.50', 'Invalid peering policy: "1.50"'),
    ('mesh = true', 'Invalid mesh policy: "true"'),
])
def test_validation_errors_print_the_rule_as_go_does(rules: str, text: str) -> None:
    """PolicyRules.Validate: ``fmt.Errorf("Invalid key policy: %#v", kp)`` and friends."""
    with pytest.raises(PolicyError) as caught:
        parse_policy(rules)
    assert str(caught.value) == text


@pytest.mark.parametrize("rules", ['keyring = ""', '{ "keyring": "" }', 'operator = ""',
                                   '{ "operator": "" }', 'mesh = ""', '{ "mesh": "" }',
                                   'peering = ""', '{ "peering": "" }'])
def test_empty_single_rules_are_allowed(rules: str) -> None:
    """TestPolicySourceParse "Keyring Empty", "Operator Empty", "Mesh Empty", "Peering Empty"."""
    assert parse_policy(rules) == Policy()


@pytest.mark.parametrize("rules", ["", "  \n\t ", "# nothing\n// at all\n", "{}"])
def test_empty_rules_are_an_empty_policy(rules: str) -> None:
    """NewPolicyFromSource's hot path for "", and an HCL or JSON document without rules."""
    assert parse_policy(rules) == Policy()


def test_access_levels_are_case_insensitive_and_kept_as_written() -> None:
    """isPolicyValid goes through AccessLevelFromString, which lowercases."""
    policy = parse_policy('key "k" { policy = "WRITE" }\nkey_prefix "" { policy = "List" }\n'
                          'acl = "Read"')
    assert policy == Policy(acl="Read", keys=[KeyRule("k", "WRITE")],
                            key_prefixes=[KeyRule("", "List")])


def test_rule_and_field_names_match_case_insensitively() -> None:
    """decoder.go's ObjectList.Filter compares keys with strings.EqualFold."""
    policy = parse_policy('KEY "k" { POLICY = "read" }\nService "s" { Intentions = "deny" '
                          'policy = "write" }\nAcl = "write"')
    assert policy == Policy(acl="write", keys=[KeyRule("k", "read")],
                            services=[ServiceRule("s", "write", "deny")])


def test_unknown_rules_and_fields_are_ignored() -> None:
    """The decoder drops keys no field asks for (Consul CE ignores ``namespace`` blocks...)."""
    policy = parse_policy('identity "x" { policy = "write" }\nkey "k" { policy = "read" '
                          'sentinel = "x" }\nfoo = "bar"')
    assert policy == Policy(keys=[KeyRule("k", "read")])


def test_block_rules_come_before_assigned_ones() -> None:
    """decodeStruct decodes a field's block matches first, then each ``key = {...}``."""
    policy = parse_policy('key "a" { policy = "read" }\nkey = { b = { policy = "write" } }\n'
                          'key "c" { policy = "deny" }')
    assert policy.keys == [KeyRule("a", "read"), KeyRule("c", "deny"), KeyRule("b", "write")]


def test_repeated_blocks_are_kept_in_order() -> None:
    """A rule block may repeat (only arguments may not); merging decides between them."""
    policy = parse_policy('key "k" { policy = "read" }\nkey "k" { policy = "write" }')
    assert policy.keys == [KeyRule("k", "read"), KeyRule("k", "write")]


def test_string_escapes_are_go_escapes() -> None:
    """hcl/strconv.Unquote: ``\\t``, ``\\u00e9``, ``\\"``; ``\\x`` escapes are bytes;
    ``${...}`` is kept as written."""
    policy = parse_policy('key "a\\tb\\u00e9\\"c" { policy = "read" }\n'
                          'key "${x}" { policy = "read" }\n'
                          'key "\\xc3\\xa9\\101" { policy = "read" }')
    assert [rule.prefix for rule in policy.keys] == ['a\tbé"c', "${x}", "éA"]
    with pytest.raises(PolicyError, match=r"^Failed to parse ACL rules: At 1:5: illegal char"):
        parse_policy('key "\\q" { policy = "read" }')


def test_a_heredoc_is_a_string_value() -> None:
    assert parse_policy('acl = <<EOF\nwrite\nEOF\n').acl == "write"


# -- duplicate arguments (Consul PR 21908, hashicorp/hcl PR 704) -----------------------------


@pytest.mark.parametrize("rules, text", [
    ('acl = "read"\nacl = "write"',
     'The argument "acl" at 2:1 was already set. Each argument can only be defined once'),
    ('key "foo" {\n  policy = "read"\n  policy = "write"\n}',
     'The argument "policy" at 3:3 was already set. Each argument can only be defined once'),
    ('service "s" { policy = "read", "policy" = "write" }',
     'The argument "policy" at 1:32 was already set. Each argument can only be defined once'),
    # Go checks an item after parsing it, so the nested duplicate is found first.
    ('acl = "read"\nkey "k" {\n policy = "a"\n policy = "b"\n}\nacl = "write"',
     'The argument "policy" at 4:2 was already set. Each argument can only be defined once'),
])
def test_an_argument_set_twice_is_refused(rules: str, text: str) -> None:
    """decodeRules: hcl.DecodeErrorOnDuplicates, wrapped as every parse error is."""
    with pytest.raises(PolicyError) as caught:
        parse_policy(rules)
    assert str(caught.value) == f"Failed to parse ACL rules: {text}"


def test_the_lenient_mode_keeps_the_last_value() -> None:
    """acl.Config.WarnOnDuplicateKey: hcl.Decode, where the last assignment wins."""
    policy = parse_policy('acl = "read"\nacl = "write"\nkey "k" { policy = "deny" '
                          'policy = "read" }', warn_on_duplicate_key=True)
    assert policy == Policy(acl="write", keys=[KeyRule("k", "read")])


def test_json_keys_set_twice_keep_the_last_value() -> None:
    """The duplicate check lives in the HCL parser; hcl's JSON parser keeps both items."""
    assert parse_policy('{"acl": "read", "acl": "write"}').acl == "write"


# -- the decoder's type errors and the parser's syntax errors --------------------------------


@pytest.mark.parametrize("rules, text", [
    ('acl = ["write"]', "At 1:7: root.acl: unknown type for string *ast.ListType"),
    ('acl "x" {}', "At 1:5: root.acl: unknown type for string *ast.ObjectList"),
    ('{"acl": null}', "At 1:9: root.acl: unknown type for string *ast.LiteralType"),
    ('key = "read"', "At 1:7: unknown slice type: *ast.LiteralType"),
    ('key = ["a"]', "At 1:8: root.key[0]: not an object type for struct (*ast.LiteralType)"),
    ('key = [{ foo = { policy = "read" } }]',
     "At 1:10: root.key[0]: Prefix asked for 'key', impossible"),
    ('key "k" { policy = ["read"] }',
     "At 1:20: root.key[0].Policy: unknown type for string *ast.ListType"),
    ('service "s" { policy = "read" intentions { x = 1 } }',
     "At 1:44: root.service[0].Intentions: unknown type for string *ast.ObjectList"),
])
def test_values_of_the_wrong_shape_are_decoder_errors(rules: str, text: str) -> None:
    """decoder.go's PosErrors (``At line:col: ...``), wrapped in "Failed to parse ACL rules"."""
    with pytest.raises(PolicyError) as caught:
        parse_policy(rules)
    assert str(caught.value) == f"Failed to parse ACL rules: {text}"


@pytest.mark.parametrize("rules, expected", [
    # expandObject: a two-label block is label + block, so "b" names a field, not a policy.
    ('key "a" "b" { policy = "read" }', None),
    ('key "a" "b" "c" { policy = "read" }', [KeyRule("a", "read")]),
    ('key = { foo = { policy = "read" } }', [KeyRule("foo", "read")]),
    # A literal item decodes as its own one-item list: its key is both label and field.
    ('key = { policy = "read" }', [KeyRule("policy", "read")]),
])
def test_the_decoder_reads_odd_shapes_as_go_does(rules: str,
                                                 expected: list[KeyRule] | None) -> None:
    """decodeSlice / expandObject / decodeStruct on shapes Consul accepts (or refuses)."""
    if expected is None:
        with pytest.raises(PolicyError, match=r"^Invalid key policy: &acl.KeyRule\{Prefix:\"a\""):
            parse_policy(rules)
    else:
        assert parse_policy(rules).keys == expected


@pytest.mark.parametrize("rules", ['key "foo" {', 'acl = "write', "acl == 'x'", "{"])
def test_syntax_errors_are_failed_to_parse(rules: str) -> None:
    """parseCurrent: ``fmt.Errorf("Failed to parse ACL rules: %v", err)``."""
    with pytest.raises(PolicyError, match=r"^Failed to parse ACL rules: "):
        parse_policy(rules)


@pytest.mark.parametrize("rules, text", [
    ('key "foo" { policy = read }', "At 1:22: Unknown token: 1:22 IDENT read"),
    ("a = - 1", "At 1:5: Unknown token: 1:5 SUB -"),
])
def test_a_bare_identifier_is_not_a_value(rules: str, text: str) -> None:
    """HCL 1's parser (object()): ``Unknown token: <pos> IDENT read``; pyhcl would accept it."""
    with pytest.raises(PolicyError) as caught:
        parse_policy(rules)
    assert str(caught.value) == f"Failed to parse ACL rules: {text}"


@pytest.mark.parametrize("rules", ['acl = lower("WRITE")', 'a : "b"', "a = 1 + 2",
                                   'a = x ? "y" : "z"'])
def test_pyhcl_extensions_are_refused(rules: str) -> None:
    """Functions, ``:`` and expressions are pyhcl's, not HCL 1's."""
    with pytest.raises(PolicyError, match=r"^Failed to parse ACL rules: At 1:\d+: "):
        parse_policy(rules)


def test_json_objects_in_lists_flatten_like_blocks() -> None:
    """hcl/json/parser's flattenObjects: a list of objects is a list of blocks."""
    rules = '{"key": [{"a": {"policy": "read"}}, {"b": {"policy": "write"}}], "acl": "read"}'
    assert parse_policy(rules) == Policy(acl="read",
                                         keys=[KeyRule("a", "read"), KeyRule("b", "write")])


def test_hcl_without_pyhcl_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "hcl", None)
    with pytest.raises(ImportError, match=r"pip install 'aioconsul\[devagent\]'"):
        parse_policy('acl = "read"')
    assert parse_policy('{"acl": "read"}').acl == "read"  # JSON rules need no pyhcl


# -- TestMergePolicies ----------------------------------------------------------------------


def _same(a: list[object], b: list[object]) -> bool:
    """require.ElementsMatch: Consul's merged lists come out of Go maps, in no order."""
    return sorted(map(repr, a)) == sorted(map(repr, b))


@pytest.mark.parametrize("field, rule", [
    ("agents", AgentRule), ("agent_prefixes", AgentRule), ("events", EventRule),
    ("event_prefixes", EventRule), ("nodes", NodeRule), ("node_prefixes", NodeRule),
    ("sessions", SessionRule), ("session_prefixes", SessionRule),
    ("prepared_queries", PreparedQueryRule), ("prepared_query_prefixes", PreparedQueryRule),
])
def test_merging_keeps_the_strongest_rule_per_name(field: str, rule: type) -> None:
    """TestMergePolicies "Agents", "Events", "Node", "Sessions", "Prepared Queries"."""
    first = Policy(**{field: [rule("foo", "write"), rule("bar", "read"), rule("baz", "write")]})
    second = Policy(**{field: [rule("foo", "read"), rule("baz", "deny")]})
    merged = merge_policies([first, second])
    assert _same(getattr(merged, field),
                 [rule("foo", "write"), rule("bar", "read"), rule("baz", "deny")])


def test_merging_keys_ranks_list_between_write_and_read() -> None:
    """TestMergePolicies "Keys"."""
    first = Policy(
        keys=[KeyRule("foo", "write"), KeyRule("bar", "read"), KeyRule("baz", "write"),
              KeyRule("zoo", "list")],
        key_prefixes=[KeyRule("000", "write"), KeyRule("111", "read"), KeyRule("222", "write"),
                      KeyRule("333", "list")])
    second = Policy(
        keys=[KeyRule("foo", "read"), KeyRule("baz", "deny"), KeyRule("zoo", "read")],
        key_prefixes=[KeyRule("000", "read"), KeyRule("222", "deny"), KeyRule("333", "read")])
    merged = merge_policies([first, second])
    assert _same(merged.keys, [KeyRule("foo", "write"), KeyRule("bar", "read"),
                               KeyRule("baz", "deny"), KeyRule("zoo", "list")])
    assert _same(merged.key_prefixes, [KeyRule("000", "write"), KeyRule("111", "read"),
                                       KeyRule("222", "deny"), KeyRule("333", "list")])


def test_merging_services_merges_policy_and_intentions() -> None:
    """TestMergePolicies "Services"; the two fields are merged separately."""
    first = Policy(
        services=[ServiceRule("foo", "write", "write"), ServiceRule("bar", "read", "read"),
                  ServiceRule("baz", "write", "write"), ServiceRule("mix", "write")],
        service_prefixes=[ServiceRule("000", "write", "write"), ServiceRule("111", "read", "read"),
                          ServiceRule("222", "write", "write")])
    second = Policy(
        services=[ServiceRule("foo", "read", "read"), ServiceRule("baz", "deny", "deny"),
                  ServiceRule("mix", "read", "deny")],
        service_prefixes=[ServiceRule("000", "read", "read"), ServiceRule("222", "deny", "deny")])
    merged = merge_policies([first, second])
    assert _same(merged.services, [
        ServiceRule("foo", "write", "write"), ServiceRule("bar", "read", "read"),
        ServiceRule("baz", "deny", "deny"), ServiceRule("mix", "write", "deny")])
    assert _same(merged.service_prefixes, [
        ServiceRule("000", "write", "write"), ServiceRule("111", "read", "read"),
        ServiceRule("222", "deny", "deny")])
    assert first.services[3] == ServiceRule("mix", "write")  # inputs are left alone


@pytest.mark.parametrize("levels, expected", [
    (["read", "write"], "write"),  # "Write Precedence"
    (["write", "deny"], "deny"),  # "Deny Precedence"
    (["read", ""], "read"),  # "Read Precedence" (the second policy is empty)
])
def test_merging_single_rules(levels: list[str], expected: str) -> None:
    """TestMergePolicies "Write Precedence", "Deny Precedence", "Read Precedence"."""
    policies = [Policy(acl=level, keyring=level, operator=level, mesh=level, peering=level)
                for level in levels]
    merged = merge_policies(policies)
    assert (merged.acl, merged.keyring, merged.operator, merged.mesh, merged.peering) == \
        (expected,) * 5


def test_exact_and_prefix_rules_merge_apart() -> None:
    merged = merge_policies([Policy(keys=[KeyRule("k", "deny")]),
                             Policy(key_prefixes=[KeyRule("k", "write")])])
    assert merged.keys == [KeyRule("k", "deny")]
    assert merged.key_prefixes == [KeyRule("k", "write")]


def test_merging_compares_levels_exactly() -> None:
    """takesPrecedenceOver is case-sensitive: "WRITE" loses to "read" (and to anything)."""
    merged = merge_policies([Policy(keys=[KeyRule("k", "WRITE")]),
                             Policy(keys=[KeyRule("k", "read")])])
    assert merged.keys == [KeyRule("k", "read")]


PRECEDENCE = [
    ("deny", "write", True), ("deny", "list", True), ("deny", "read", True),
    ("deny", "not a policy", True), ("write", "list", True), ("write", "read", True),
    ("write", "not a policy", True), ("list", "read", True), ("list", "not a policy", True),
    ("read", "not a policy", True), ("write", "deny", False), ("list", "deny", False),
    ("read", "deny", False), ("list", "write", False), ("read", "write", False),
    ("not a policy", "write", False), ("read", "list", False), ("not a policy", "list", False),
    ("not a policy", "read", False),
]


@pytest.mark.parametrize("a, b, expected", PRECEDENCE)
def test_precedence(a: str, b: str, expected: bool) -> None:
    """TestPrecedence."""
    assert takes_precedence_over(a, b) is expected


# -- identities and templated policies --------------------------------------------------------

SERVICE_RULES = ('\nservice "web" {\n\tpolicy = "write"\n}\nservice "web-sidecar-proxy" {\n'
                 '\tpolicy = "write"\n}\nservice_prefix "" {\n\tpolicy = "read"\n}\n'
                 'node_prefix "" {\n\tpolicy = "read"\n}')


def test_service_identity_rules_are_consuls_template() -> None:
    """aclPolicyTemplateServiceIdentity (agent/structs/acl_ce.go)."""
    assert identities.service_identity_rules("web") == SERVICE_RULES
    assert parse_policy(SERVICE_RULES) == Policy(
        services=[ServiceRule("web", "write"), ServiceRule("web-sidecar-proxy", "write")],
        service_prefixes=[ServiceRule("", "read")], node_prefixes=[NodeRule("", "read")])


def test_node_identity_rules_are_consuls_template() -> None:
    """aclPolicyTemplateNodeIdentity: the datacenter only scopes the synthetic policy."""
    rules = identities.node_identity_rules("node-1", "dc2")
    assert rules == '\nnode "node-1" {\n\tpolicy = "write"\n}\nservice_prefix "" {\n' \
        '\tpolicy = "read"\n}'
    assert parse_policy(rules) == Policy(nodes=[NodeRule("node-1", "write")],
                                         service_prefixes=[ServiceRule("", "read")])


def test_builtin_templated_policies() -> None:
    """acl_templated_policy.go's aclTemplatedPoliciesList (the IDs skip ...0007)."""
    ids = {name: base.template_id for name, base in identities.TEMPLATED_POLICIES.items()}
    assert ids == {
        "builtin/service": "00000000-0000-0000-0000-000000000003",
        "builtin/node": "00000000-0000-0000-0000-000000000004",
        "builtin/dns": "00000000-0000-0000-0000-000000000005",
        "builtin/nomad-server": "00000000-0000-0000-0000-000000000006",
        "builtin/api-gateway": "00000000-0000-0000-0000-000000000008",
        "builtin/nomad-client": "00000000-0000-0000-0000-000000000009",
    }
    assert identities.templated_policy_base("builtin/workload-identity") is None
    assert identities.templated_policy_base("builtin/Service") is None


def test_a_templated_policy_reads_as_the_api_returns_it() -> None:
    """The sample of /v1/acl/templated-policy/name/builtin/service (website api-docs)."""
    base = identities.templated_policy_base("builtin/service")
    assert base is not None
    response = base.response()
    assert response["Schema"] == (
        '{\n\t"type": "object",\n\t"properties": {\n\t\t"name": { "type": "string", "$ref": '
        '"#/definitions/min-length-one" }\n\t},\n\t"required": ["name"],\n\t"definitions": {\n'
        '\t\t"min-length-one": {\n\t\t\t\t"type": "string",\n\t\t\t\t"minLength": 1\n\t\t}\n\t}\n}'
    )
    assert response["Template"] == SERVICE_RULES.replace("web", "{{.Name}}")
    assert response["Description"].startswith("Gives the token or role permissions to register")
    assert identities.TEMPLATED_POLICIES["builtin/dns"].response()["Schema"] == ""


@pytest.mark.parametrize("name, variables, rules", [
    ("builtin/service", {"name": "web"}, SERVICE_RULES),
    ("builtin/node", {"name": "web"},
     '\nnode "web" {\n\tpolicy = "write"\n}\nservice_prefix "" {\n\tpolicy = "read"\n}'),
    ("builtin/dns", None, '\nnode_prefix "" {\n\tpolicy = "read"\n}\nservice_prefix "" {\n'
     '\tpolicy = "read"\n}\nquery_prefix "" {\n\tpolicy = "read"\n}'),
    ("builtin/api-gateway", {"name": "api-gateway"},
     'mesh = "read"\nnode_prefix "" {\n\tpolicy = "read"\n}\nservice_prefix "" {\n'
     '\tpolicy = "read"\n}\nservice "api-gateway" {\n\tpolicy = "write"\n}'),
])
def test_templated_policies_render_with_their_variables(
    name: str, variables: dict[str, str] | None, rules: str
) -> None:
    """TestStructs_ACLTemplatedPolicy_SyntheticPolicy."""
    assert identities.render_templated_policy(name, variables) == rules


def test_every_builtin_template_renders_to_valid_rules() -> None:
    for name in identities.TEMPLATED_POLICIES:
        parse_policy(identities.render_templated_policy(name, {"name": "x"}))
    nomad = parse_policy(identities.render_templated_policy("builtin/nomad-server", None))
    assert nomad.acl == "write"


@pytest.mark.parametrize("name, variables, text", [
    ("builtin/service", {"name": "Web"},
     'service identity "Web" has an invalid name. Only lowercase alphanumeric characters, '
     "'-' and '_' are allowed"),
    ("builtin/service", {}, 'service identity "" has an invalid name. Only lowercase '
     "alphanumeric characters, '-' and '_' are allowed"),
    ("builtin/node", {"name": "-n"}, 'node identity "-n"  has an invalid name. Only lowercase '
     "alphanumeric characters, '-' and '_' are allowed"),
    ("builtin/service", None, "1 error occurred:\n\t* Invalid type. Expected: object, "
     "given: null\n\n"),
    ("builtin/api-gateway", {}, "1 error occurred:\n\t* name is required\n\n"),
    ("builtin/api-gateway", {"name": ""}, "1 error occurred:\n\t* name is required\n\n"),
])
def test_templated_policy_variables_are_validated(
    name: str, variables: dict[str, str] | None, text: str
) -> None:
    """ValidateTemplatedPolicy: the identity-name check first, then gojsonschema's errors as
    go-multierror lists them."""
    with pytest.raises(identities.TemplatedPolicyError) as caught:
        identities.validate_templated_policy(name, variables)
    assert str(caught.value) == text


@pytest.mark.parametrize("name, variables", [
    ("builtin/dns", None), ("builtin/nomad-client", {"name": "Anything Goes"}),
    ("builtin/api-gateway", {"name": "Any.Name"}), ("builtin/service", {"name": "web_1-a"}),
])
def test_valid_templated_policy_variables(name: str, variables: dict[str, str] | None) -> None:
    identities.validate_templated_policy(name, variables)


def test_rendering_errors() -> None:
    """aclTemplatedPolicyRules: an unknown template; text/template's nil-pointer error."""
    with pytest.raises(identities.TemplatedPolicyError) as caught:
        identities.render_templated_policy("builtin/nope", None)
    assert str(caught.value) == "acl templated policy does not exist: builtin/nope"
    with pytest.raises(identities.TemplatedPolicyError) as caught:
        identities.render_templated_policy("builtin/service", None)
    assert str(caught.value) == (
        "an error occured when executing on templated policy variables: template: "
        'builtin/service:2:11: executing "builtin/service" at <.Name>: nil pointer evaluating '
        "*structs.ACLTemplatedPolicyVariables.Name")


@pytest.mark.parametrize("name, valid", [
    ("web", True), ("a", True), ("web-1_b", True), ("a" * 256, True), ("", False),
    ("a" * 257, False), ("Web", False), ("-web", False), ("web_", False), ("we.b", False),
    ("web\n", False),
])
def test_identity_names(name: str, valid: bool) -> None:
    """acl.IsValidServiceIdentityName / IsValidNodeIdentityName (acl/validation.go)."""
    assert identities.is_valid_service_identity_name(name) is valid
    assert identities.is_valid_node_identity_name(name) is valid
