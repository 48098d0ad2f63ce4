"""The policy authorizer: what a token's compiled rules decide for every ACL question.

Cases transcribed from Consul's ``acl/policy_authorizer_test.go`` (TestPolicyAuthorizer,
TestAnyAllowed, TestAllAllowed) and ``acl/acl_test.go`` (TestACL, TestACLEnforce,
TestACL_ReadAll), where policies are layered as ``NewPolicyAuthorizerWithDefaults`` layers
them: each policy's authorizer chained before the one below it, the default policy last.
"""

from __future__ import annotations

import pytest

from aioconsul.testing.acl.authorizer import (
    ALLOW_ALL,
    DENY_ALL,
    MANAGE_ALL,
    Authorizer,
    ChainedAuthorizer,
    Decision,
    Permission,
)
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
    parse_policy,
)
from aioconsul.testing.acl.policy_authorizer import (
    AccessLevel,
    PolicyAuthorizer,
    _all_allowed,
    _any_allowed,
    _enforce,
    _Tree,
    authorizer_for,
)

ALLOW, DENY, DEFAULT = Decision.ALLOW, Decision.DENY, Decision.DEFAULT
P = Permission


def layered(default: Authorizer, *policies: Policy) -> Authorizer:
    """TestACL's run(): NewPolicyAuthorizerWithDefaults(previous, [policy]) per policy."""
    authz = default
    for policy in policies:
        authz = ChainedAuthorizer([authorizer_for([policy]), authz])
    return authz


def check(authz: Authorizer, checks: list[tuple[Permission, str, Decision]]) -> None:
    failures = [(p.name, name, authz.decide(p, name).name, want.name)
                for p, name, want in checks if authz.decide(p, name) is not want]
    assert failures == []


# -- TestPolicyAuthorizer ---------------------------------------------------------------------


@pytest.mark.parametrize("permission", list(Permission), ids=lambda p: p.name)
def test_a_policy_without_rules_decides_nothing(permission: Permission) -> None:
    """TestPolicyAuthorizer "Defaults": every question is DEFAULT (the chain decides)."""
    assert authorizer_for([Policy()]).decide(permission, "foo") is DEFAULT
    assert authorizer_for([]).decide(permission, "") is DEFAULT


PREFER_EXACT = Policy(
    agents=[AgentRule("foo", "write"), AgentRule("football", "deny")],
    agent_prefixes=[AgentRule("foot", "read"), AgentRule("fo", "read")],
    keys=[KeyRule("foo", "write"), KeyRule("football", "deny")],
    key_prefixes=[KeyRule("foot", "read"), KeyRule("fo", "read")],
    nodes=[NodeRule("foo", "write"), NodeRule("football", "deny")],
    node_prefixes=[NodeRule("foot", "read"), NodeRule("fo", "read")],
    services=[ServiceRule("foo", "write", "write"), ServiceRule("football", "deny")],
    service_prefixes=[ServiceRule("foot", "read", "read"), ServiceRule("fo", "read", "read")],
    sessions=[SessionRule("foo", "write"), SessionRule("football", "deny")],
    session_prefixes=[SessionRule("foot", "read"), SessionRule("fo", "read")],
    events=[EventRule("foo", "write"), EventRule("football", "deny")],
    event_prefixes=[EventRule("foot", "read"), EventRule("fo", "read")],
    prepared_queries=[PreparedQueryRule("foo", "write"), PreparedQueryRule("football", "deny")],
    prepared_query_prefixes=[PreparedQueryRule("foot", "read"), PreparedQueryRule("fo", "read")],
)

_NAMED = [(P.AGENT_READ, P.AGENT_WRITE), (P.KEY_READ, P.KEY_WRITE), (P.NODE_READ, P.NODE_WRITE),
          (P.SERVICE_READ, P.SERVICE_WRITE), (P.INTENTION_READ, P.INTENTION_WRITE),
          (P.SESSION_READ, P.SESSION_WRITE), (P.EVENT_READ, P.EVENT_WRITE),
          (P.QUERY_READ, P.QUERY_WRITE)]


@pytest.mark.parametrize("read, write", _NAMED, ids=[r.resource for r, _ in _NAMED])
def test_exact_rules_beat_prefix_rules_and_the_longest_prefix_wins(
    read: Permission, write: Permission
) -> None:
    """TestPolicyAuthorizer "Prefer Exact Matches" (and TestACL "ExactMatchPrecedence")."""
    authz = layered(DENY_ALL, PREFER_EXACT)
    check(authz, [
        (read, "fo", ALLOW), (write, "fo", DENY), (read, "for", ALLOW), (write, "for", DENY),
        (read, "foo", ALLOW), (write, "foo", ALLOW), (read, "foot", ALLOW),
        (write, "foot", DENY), (read, "foot2", ALLOW), (write, "foot2", DENY),
        (read, "food", ALLOW), (write, "food", DENY), (read, "football", DENY),
        (write, "football", DENY),
    ])
    check(authz, [(P.NODE_READ_ALL, "", DENY), (P.SERVICE_READ_ALL, "", DENY),
                  (P.SERVICE_WRITE_ANY, "", ALLOW)])


@pytest.mark.parametrize("services, prefixes, read_any, write_all", [
    # "Intention Wildcards - prefix denied"
    ([ServiceRule("foo", "write", "write")], [ServiceRule("", "deny", "deny")], ALLOW, DENY),
    # "Intention Wildcards - prefix allowed"
    ([ServiceRule("foo", "write", "deny")], [ServiceRule("", "write", "write")], ALLOW, DENY),
    # "Intention Wildcards - all allowed"
    ([ServiceRule("foo", "write", "write")], [ServiceRule("", "write", "write")], ALLOW, ALLOW),
    # "Intention Wildcards - all default"
    ([ServiceRule("foo", "write", "write")], [], ALLOW, DEFAULT),
    # "Intention Wildcards - any default"
    ([ServiceRule("foo", "write", "deny")], [], DEFAULT, DENY),
])
def test_intention_wildcards(services: list[ServiceRule], prefixes: list[ServiceRule],
                             read_any: Decision, write_all: Decision) -> None:
    """TestPolicyAuthorizer "Intention Wildcards": read of ``*`` is any-allowed, write all."""
    authz = authorizer_for([Policy(services=services, service_prefixes=prefixes)])
    assert authz.decide(P.INTENTION_READ, "*") is read_any
    assert authz.decide(P.INTENTION_WRITE, "*") is write_all


# -- TestAnyAllowed / TestAllAllowed ----------------------------------------------------------

_W, _L, _R, _D = AccessLevel.WRITE, AccessLevel.LIST, AccessLevel.READ, AccessLevel.DENY


def _tree(*insertions: tuple[str, AccessLevel, bool]) -> _Tree:
    tree = _Tree()
    for segment, access, prefix in insertions:
        tree.insert(segment, access, prefix=prefix)
    return tree


ANY_ALLOWED = {
    "no-rules-default": ((), (DEFAULT, DEFAULT, DEFAULT)),
    "prefix-write-allowed": ((("", _W, True), ("foo", _D, True)), (ALLOW, ALLOW, ALLOW)),
    "prefix-list-allowed": ((("", _L, True),), (ALLOW, ALLOW, DENY)),
    "prefix-read-allowed": ((("", _R, True),), (ALLOW, DENY, DENY)),
    "prefix-deny": ((("", _D, True),), (DENY, DENY, DENY)),
    "prefix-deny-other-write-prefix": ((("", _D, True), ("foo", _W, True)), (ALLOW, ALLOW, ALLOW)),
    "prefix-deny-other-write-exact": ((("", _D, True), ("foo", _W, False)), (ALLOW, ALLOW, ALLOW)),
    "prefix-deny-other-list-prefix": ((("", _D, True), ("foo", _L, True)), (ALLOW, ALLOW, DENY)),
    "prefix-deny-other-list-exact": ((("", _D, True), ("foo", _L, False)), (ALLOW, ALLOW, DENY)),
    "prefix-deny-other-read-prefix": ((("", _D, True), ("foo", _R, True)), (ALLOW, DENY, DENY)),
    "prefix-deny-other-read-exact": ((("", _D, True), ("foo", _R, False)), (ALLOW, DENY, DENY)),
    "prefix-deny-other-deny-prefix": ((("", _D, True), ("foo", _D, True)), (DENY, DENY, DENY)),
    "prefix-deny-other-deny-exact": ((("", _D, True), ("foo", _D, False)), (DENY, DENY, DENY)),
}


@pytest.mark.parametrize("insertions, expected", ANY_ALLOWED.values(), ids=ANY_ALLOWED)
def test_any_allowed(insertions: tuple[tuple[str, AccessLevel, bool], ...],
                     expected: tuple[Decision, Decision, Decision]) -> None:
    """TestAnyAllowed: read, list and write."""
    tree = _tree(*insertions)
    assert (_any_allowed(tree, _R), _any_allowed(tree, _L), _any_allowed(tree, _W)) == expected


ALL_ALLOWED = {
    "no-rules-default": ((), (DEFAULT, DEFAULT, DEFAULT)),
    "prefix-write-allowed": ((("", _W, True),), (ALLOW, ALLOW, ALLOW)),
    "prefix-list-allowed": ((("", _L, True),), (ALLOW, ALLOW, DENY)),
    "prefix-read-allowed": ((("", _R, True),), (ALLOW, DENY, DENY)),
    "prefix-deny": ((("", _D, True),), (DENY, DENY, DENY)),
    "prefix-allow-other-write-prefix": ((("", _W, True), ("foo", _W, True)), (ALLOW, ALLOW, ALLOW)),
    "prefix-allow-other-write-exact": ((("", _W, True), ("foo", _W, False)), (ALLOW, ALLOW, ALLOW)),
    "prefix-allow-other-list-prefix": ((("", _W, True), ("foo", _L, True)), (ALLOW, ALLOW, DENY)),
    "prefix-allow-other-list-exact": ((("", _W, True), ("foo", _L, False)), (ALLOW, ALLOW, DENY)),
    "prefix-allow-other-read-prefix": ((("", _W, True), ("foo", _R, True)), (ALLOW, DENY, DENY)),
    "prefix-allow-other-read-exact": ((("", _W, True), ("foo", _R, False)), (ALLOW, DENY, DENY)),
    "prefix-allow-other-deny-prefix": ((("", _W, True), ("foo", _D, True)), (DENY, DENY, DENY)),
    "prefix-allow-other-deny-exact": ((("", _W, True), ("foo", _D, False)), (DENY, DENY, DENY)),
}


@pytest.mark.parametrize("insertions, expected", ALL_ALLOWED.values(), ids=ALL_ALLOWED)
def test_all_allowed(insertions: tuple[tuple[str, AccessLevel, bool], ...],
                     expected: tuple[Decision, Decision, Decision]) -> None:
    """TestAllAllowed: read, list and write."""
    tree = _tree(*insertions)
    assert (_all_allowed(tree, _R), _all_allowed(tree, _L), _all_allowed(tree, _W)) == expected


ENFORCE = [
    (AccessLevel.UNKNOWN, _R, DEFAULT), (AccessLevel.UNKNOWN, _W, DEFAULT),
    (AccessLevel.UNKNOWN, _L, DEFAULT), (_R, _R, ALLOW), (_R, _W, DENY), (_R, _L, DENY),
    (_L, _R, ALLOW), (_L, _W, DENY), (_L, _L, ALLOW), (_W, _R, ALLOW), (_W, _W, ALLOW),
    (_W, _L, ALLOW), (_D, _R, DENY), (_D, _W, DENY), (_D, _L, DENY),
]


@pytest.mark.parametrize("rule, required, expected", ENFORCE)
def test_enforce(rule: AccessLevel, required: AccessLevel, expected: Decision) -> None:
    """TestACLEnforce."""
    assert _enforce(rule, required) is expected


# -- TestACL: the static authorizers and layered policies -------------------------------------

_UNNAMED = [P.ACL_READ, P.ACL_WRITE, P.SNAPSHOT]


@pytest.mark.parametrize("permission", list(Permission), ids=lambda p: p.name)
def test_static_authorizers(permission: Permission) -> None:
    """TestACL "DenyAll", "AllowAll", "ManageAll" (acl/static_authorizer.go): ACL and
    snapshot questions follow allowManage, everything else (mesh, peering, the read-alls,
    intention default) defaultAllow."""
    manage = permission in _UNNAMED
    assert DENY_ALL.decide(permission, "foo") is DENY
    assert ALLOW_ALL.decide(permission, "foo") is (DENY if manage else ALLOW)
    assert MANAGE_ALL.decide(permission, "foo") is ALLOW


def test_a_child_policy_overrides_its_parent() -> None:
    """TestACL "Parent"."""
    parent = Policy(
        keys=[KeyRule("foo/", "write"), KeyRule("bar/", "read")],
        key_prefixes=[KeyRule("foo/", "write"), KeyRule("bar/", "read")],
        prepared_queries=[PreparedQueryRule("other", "write"), PreparedQueryRule("foo", "read")],
        prepared_query_prefixes=[PreparedQueryRule("other", "write"),
                                 PreparedQueryRule("foo", "read")],
        services=[ServiceRule("other", "write"), ServiceRule("foo", "read")],
        service_prefixes=[ServiceRule("other", "write"), ServiceRule("foo", "read")],
    )
    child = Policy(
        keys=[KeyRule("foo/priv/", "read"), KeyRule("bar/", "deny"), KeyRule("zip/", "read")],
        key_prefixes=[KeyRule("foo/priv/", "read"), KeyRule("bar/", "deny"),
                      KeyRule("zip/", "read")],
        prepared_queries=[PreparedQueryRule("bar", "deny")],
        prepared_query_prefixes=[PreparedQueryRule("bar", "deny")],
        services=[ServiceRule("bar", "deny")],
        service_prefixes=[ServiceRule("bar", "deny")],
    )
    check(layered(DENY_ALL, parent, child), [
        (P.SERVICE_READ_ALL, "", DENY),
        (P.KEY_READ, "other", DENY), (P.KEY_WRITE, "other", DENY),
        (P.KEY_WRITE_PREFIX, "other", DENY),
        (P.KEY_READ, "foo/test", ALLOW), (P.KEY_WRITE, "foo/test", ALLOW),
        (P.KEY_WRITE_PREFIX, "foo/test", ALLOW),
        (P.KEY_READ, "foo/priv/test", ALLOW), (P.KEY_WRITE, "foo/priv/test", DENY),
        (P.KEY_WRITE_PREFIX, "foo/priv/test", DENY),
        (P.KEY_READ, "bar/any", DENY), (P.KEY_WRITE, "bar/any", DENY),
        (P.KEY_WRITE_PREFIX, "bar/any", DENY),
        (P.KEY_READ, "zip/test", ALLOW), (P.KEY_WRITE, "zip/test", DENY),
        (P.KEY_WRITE_PREFIX, "zip/test", DENY),
        (P.SERVICE_READ, "fail", DENY), (P.SERVICE_WRITE, "fail", DENY),
        (P.SERVICE_READ, "other", ALLOW), (P.SERVICE_WRITE, "other", ALLOW),
        (P.SERVICE_READ, "foo", ALLOW), (P.SERVICE_WRITE, "foo", DENY),
        (P.SERVICE_READ, "bar", DENY), (P.SERVICE_WRITE, "bar", DENY),
        (P.QUERY_READ, "foo", ALLOW), (P.QUERY_WRITE, "foo", DENY),
        (P.QUERY_READ, "foobar", ALLOW), (P.QUERY_WRITE, "foobar", DENY),
        (P.QUERY_READ, "bar", DENY), (P.QUERY_WRITE, "bar", DENY),
        (P.QUERY_READ, "barbaz", DENY), (P.QUERY_WRITE, "barbaz", DENY),
        (P.QUERY_READ, "baz", DENY), (P.QUERY_WRITE, "baz", DENY),
        (P.QUERY_READ, "nope", DENY), (P.QUERY_WRITE, "nope", DENY),
        (P.ACL_READ, "", DENY), (P.ACL_WRITE, "", DENY), (P.SNAPSHOT, "", DENY),
        (P.INTENTION_DEFAULT_ALLOW, "", DENY),
    ])


COMPLEX_HCL = """
event "" { policy = "read" }
event "foo" { policy = "write" }
event "bar" { policy = "deny" }
event_prefix "" { policy = "read" }
event_prefix "foo" { policy = "write" }
event_prefix "bar" { policy = "deny" }
key "foo/" { policy = "write" }
key "foo/priv/" { policy = "deny" }
key "bar/" { policy = "deny" }
key "zip/" { policy = "read" }
key "zap/" { policy = "list" }
key_prefix "foo/" { policy = "write" }
key_prefix "foo/priv/" { policy = "deny" }
key_prefix "bar/" { policy = "deny" }
key_prefix "zip/" { policy = "read" }
key_prefix "zap/" { policy = "list" }
query "" { policy = "read" }
query "foo" { policy = "write" }
query "bar" { policy = "deny" }
query "zoo" { policy = "write" }
query_prefix "" { policy = "read" }
query_prefix "foo" { policy = "write" }
query_prefix "bar" { policy = "deny" }
query_prefix "zoo" { policy = "write" }
service "" { policy = "write" }
service "foo" { policy = "read" }
service "bar" { policy = "deny" }
service "barfoo" { policy = "write" intentions = "write" }
service "intbaz" { policy = "write" intentions = "deny" }
service_prefix "" { policy = "write" }
service_prefix "foo" { policy = "read" }
service_prefix "bar" { policy = "deny" }
service_prefix "barfoo" { policy = "write" intentions = "write" }
service_prefix "intbaz" { policy = "write" intentions = "deny" }
"""


def test_a_complex_policy_over_default_allow() -> None:
    """TestACL "ComplexDefaultAllow", from rules text."""
    check(layered(ALLOW_ALL, parse_policy(COMPLEX_HCL)), [
        (P.SERVICE_READ_ALL, "", DENY),
        (P.KEY_READ, "other", ALLOW), (P.KEY_WRITE, "other", ALLOW),
        (P.KEY_WRITE_PREFIX, "other", ALLOW), (P.KEY_LIST, "other", ALLOW),
        (P.KEY_READ, "foo/test", ALLOW), (P.KEY_WRITE, "foo/test", ALLOW),
        (P.KEY_WRITE_PREFIX, "foo/test", ALLOW), (P.KEY_LIST, "foo/test", ALLOW),
        (P.KEY_READ, "foo/priv/test", DENY), (P.KEY_WRITE, "foo/priv/test", DENY),
        (P.KEY_WRITE_PREFIX, "foo/priv/test", DENY), (P.KEY_LIST, "foo/priv/test", DENY),
        (P.KEY_READ, "bar/any", DENY), (P.KEY_WRITE, "bar/any", DENY),
        (P.KEY_WRITE_PREFIX, "bar/any", DENY), (P.KEY_LIST, "bar/any", DENY),
        (P.KEY_READ, "zip/test", ALLOW), (P.KEY_WRITE, "zip/test", DENY),
        (P.KEY_WRITE_PREFIX, "zip/test", DENY), (P.KEY_LIST, "zip/test", DENY),
        (P.KEY_READ, "foo/", ALLOW), (P.KEY_WRITE, "foo/", ALLOW),
        (P.KEY_WRITE_PREFIX, "foo/", DENY), (P.KEY_LIST, "foo/", ALLOW),
        (P.KEY_READ, "", ALLOW), (P.KEY_WRITE, "", ALLOW), (P.KEY_WRITE_PREFIX, "", DENY),
        (P.KEY_LIST, "", ALLOW),
        (P.KEY_READ, "zap/test", ALLOW), (P.KEY_WRITE, "zap/test", DENY),
        (P.KEY_WRITE_PREFIX, "zap/test", DENY), (P.KEY_LIST, "zap/test", ALLOW),
        (P.INTENTION_READ, "other", ALLOW), (P.INTENTION_WRITE, "other", DENY),
        (P.INTENTION_READ, "foo", ALLOW), (P.INTENTION_WRITE, "foo", DENY),
        (P.INTENTION_READ, "bar", DENY), (P.INTENTION_WRITE, "bar", DENY),
        (P.INTENTION_READ, "foobar", ALLOW), (P.INTENTION_WRITE, "foobar", DENY),
        (P.INTENTION_READ, "barfo", DENY), (P.INTENTION_WRITE, "barfo", DENY),
        (P.INTENTION_READ, "barfoo", ALLOW), (P.INTENTION_WRITE, "barfoo", ALLOW),
        (P.INTENTION_READ, "barfoo2", ALLOW), (P.INTENTION_WRITE, "barfoo2", ALLOW),
        (P.INTENTION_READ, "intbaz", DENY), (P.INTENTION_WRITE, "intbaz", DENY),
        (P.INTENTION_DEFAULT_ALLOW, "", ALLOW),
        (P.SERVICE_READ, "other", ALLOW), (P.SERVICE_WRITE, "other", ALLOW),
        (P.SERVICE_READ, "foo", ALLOW), (P.SERVICE_WRITE, "foo", DENY),
        (P.SERVICE_READ, "bar", DENY), (P.SERVICE_WRITE, "bar", DENY),
        (P.SERVICE_READ, "foobar", ALLOW), (P.SERVICE_WRITE, "foobar", DENY),
        (P.SERVICE_READ, "barfo", DENY), (P.SERVICE_WRITE, "barfo", DENY),
        (P.SERVICE_READ, "barfoo", ALLOW), (P.SERVICE_WRITE, "barfoo", ALLOW),
        (P.SERVICE_READ, "barfoo2", ALLOW), (P.SERVICE_WRITE, "barfoo2", ALLOW),
        (P.EVENT_READ, "foo", ALLOW), (P.EVENT_WRITE, "foo", ALLOW),
        (P.EVENT_READ, "foobar", ALLOW), (P.EVENT_WRITE, "foobar", ALLOW),
        (P.EVENT_READ, "bar", DENY), (P.EVENT_WRITE, "bar", DENY),
        (P.EVENT_READ, "barbaz", DENY), (P.EVENT_WRITE, "barbaz", DENY),
        (P.EVENT_READ, "baz", ALLOW), (P.EVENT_WRITE, "baz", DENY),
        (P.QUERY_READ, "foo", ALLOW), (P.QUERY_WRITE, "foo", ALLOW),
        (P.QUERY_READ, "foobar", ALLOW), (P.QUERY_WRITE, "foobar", ALLOW),
        (P.QUERY_READ, "bar", DENY), (P.QUERY_WRITE, "bar", DENY),
        (P.QUERY_READ, "barbaz", DENY), (P.QUERY_WRITE, "barbaz", DENY),
        (P.QUERY_READ, "baz", ALLOW), (P.QUERY_WRITE, "baz", DENY),
        (P.QUERY_READ, "nope", ALLOW), (P.QUERY_WRITE, "nope", DENY),
        (P.QUERY_READ, "zoo", ALLOW), (P.QUERY_WRITE, "zoo", ALLOW),
        (P.QUERY_READ, "zookeeper", ALLOW), (P.QUERY_WRITE, "zookeeper", ALLOW),
    ])


def test_agent_rules_over_default_deny() -> None:
    """TestACL "AgentBasicDefaultDeny"."""
    rules = [AgentRule("root", "read"), AgentRule("root-nope", "deny"),
             AgentRule("root-rw", "write")]
    check(layered(DENY_ALL, Policy(agents=rules, agent_prefixes=rules)), [
        (P.AGENT_READ, "ro", DENY), (P.AGENT_WRITE, "ro", DENY),
        (P.AGENT_READ, "root", ALLOW), (P.AGENT_WRITE, "root", DENY),
        (P.AGENT_READ, "root-ro", ALLOW), (P.AGENT_WRITE, "root-ro", DENY),
        (P.AGENT_READ, "root-rw", ALLOW), (P.AGENT_WRITE, "root-rw", ALLOW),
        (P.AGENT_READ, "root-rw-sub", ALLOW), (P.AGENT_WRITE, "root-rw-sub", ALLOW),
        (P.AGENT_READ, "root-nope", DENY), (P.AGENT_WRITE, "root-nope", DENY),
        (P.AGENT_READ, "root-nope-sub", DENY), (P.AGENT_WRITE, "root-nope-sub", DENY),
    ])


def test_prepared_query_rules_over_default_allow() -> None:
    """TestACL "PreparedQueryDefaultAllow"."""
    rule = [PreparedQueryRule("other", "deny")]
    check(layered(ALLOW_ALL, Policy(prepared_queries=rule, prepared_query_prefixes=rule)), [
        (P.QUERY_READ, "foo", ALLOW), (P.QUERY_WRITE, "foo", ALLOW),
        (P.QUERY_READ, "other", DENY), (P.QUERY_WRITE, "other", DENY),
    ])


def test_key_write_prefix_over_default_deny() -> None:
    """TestACL "KeyWritePrefixDefaultDeny"."""
    policy = Policy(
        key_prefixes=[KeyRule("fo", "read"), KeyRule("foo/", "write"), KeyRule("bar/", "write"),
                      KeyRule("baz/", "write"), KeyRule("test/", "write")],
        keys=[KeyRule("foo/bar", "write"), KeyRule("bar/baz", "read")],
    )
    check(layered(DENY_ALL, policy), [
        (P.KEY_WRITE_PREFIX, "foo", DENY),  # the best prefix rule does not grant write
        (P.KEY_WRITE_PREFIX, "baz/", ALLOW),  # write, and nothing below says otherwise
        (P.KEY_WRITE_PREFIX, "foo/", ALLOW),  # every rule below grants write too
        (P.KEY_WRITE_PREFIX, "bar/", DENY),  # an exact rule below grants only read
        (P.KEY_WRITE_PREFIX, "te", DENY),  # no prefix rule: the default decides
    ])


def test_key_write_prefix_over_default_allow() -> None:
    """TestACL "KeyWritePrefixDefaultAllow"."""
    check(layered(ALLOW_ALL, Policy(keys=[KeyRule("foo/bar", "read")])), [
        (P.KEY_WRITE_PREFIX, "foo", DENY), (P.KEY_WRITE_PREFIX, "bar", ALLOW),
    ])


@pytest.mark.parametrize("acl, read, write", [("read", ALLOW, DENY), ("write", ALLOW, ALLOW)])
def test_acl_rules(acl: str, read: Decision, write: Decision) -> None:
    """TestACL "ACLRead" (both cases); Snapshot is acl write."""
    check(layered(DENY_ALL, Policy(acl=acl)),
          [(P.ACL_READ, "", read), (P.ACL_WRITE, "", write), (P.SNAPSHOT, "", write)])


@pytest.mark.parametrize("default", [ALLOW_ALL, DENY_ALL], ids=["allow", "deny"])
@pytest.mark.parametrize("rule", ["keyring", "operator", "mesh", "peering"])
@pytest.mark.parametrize("level, read, write", [
    ("deny", DENY, DENY), ("read", ALLOW, DENY), ("write", ALLOW, ALLOW), ("", None, None),
])
def test_single_rules_over_either_default(default: Authorizer, rule: str, level: str,
                                          read: Decision | None,
                                          write: Decision | None) -> None:
    """TestACL "<Keyring|Operator|Mesh|Peering>Default<Allow|Deny>Policy<Deny|Read|Write|None>"
    (Decision.DENY is 0: compared with ``is``, never by truth)."""
    permissions = {"keyring": (P.KEYRING_READ, P.KEYRING_WRITE),
                   "operator": (P.OPERATOR_READ, P.OPERATOR_WRITE),
                   "mesh": (P.MESH_READ, P.MESH_WRITE),
                   "peering": (P.PEERING_READ, P.PEERING_WRITE)}[rule]
    fallback = default.decide(permissions[0])
    authz = layered(default, Policy(**{rule: level}))
    assert authz.decide(permissions[0]) is (fallback if read is None else read)
    assert authz.decide(permissions[1]) is (fallback if write is None else write)


@pytest.mark.parametrize("default", [ALLOW_ALL, DENY_ALL], ids=["allow", "deny"])
@pytest.mark.parametrize("kind", ["mesh", "peering"])
@pytest.mark.parametrize("operator, own, read, write", [
    ("deny", "deny", DENY, DENY), ("read", "deny", DENY, DENY), ("write", "deny", DENY, DENY),
    ("deny", "read", ALLOW, DENY), ("read", "read", ALLOW, DENY), ("write", "read", ALLOW, DENY),
    ("deny", "write", ALLOW, ALLOW), ("read", "write", ALLOW, ALLOW),
    ("write", "write", ALLOW, ALLOW),
    ("deny", "", DENY, DENY), ("read", "", ALLOW, DENY), ("write", "", ALLOW, ALLOW),
])
def test_mesh_and_peering_fall_back_to_operator(default: Authorizer, kind: str, operator: str,
                                               own: str, read: Decision,
                                               write: Decision) -> None:
    """TestACL "MeshOperator*Policy*" and "PeeringOperator*Policy*" (both defaults)."""
    read_permission, write_permission = ((P.MESH_READ, P.MESH_WRITE) if kind == "mesh"
                                         else (P.PEERING_READ, P.PEERING_WRITE))
    authz = layered(default, Policy(operator=operator, **{kind: own}))
    assert (authz.decide(read_permission), authz.decide(write_permission)) == (read, write)


@pytest.mark.parametrize("rules, node_read_all, service_read_all", [
    ('node "bar" { policy = "read" }', DENY, None),
    ('node "bar" { policy = "write" }', DENY, None),
    ('node_prefix "" { policy = "read" }', ALLOW, None),
    ('node_prefix "" { policy = "write" }', ALLOW, None),
    ('service "bar" { policy = "read" }', None, DENY),
    ('service "bar" { policy = "write" }', None, DENY),
    ('service_prefix "" { policy = "read" }', None, ALLOW),
    ('service_prefix "" { policy = "write" }', None, ALLOW),
])
def test_read_all(rules: str, node_read_all: Decision | None,
                  service_read_all: Decision | None) -> None:
    """TestACL_ReadAll, default deny (no rule of the kind: the default decides)."""
    authz = layered(DENY_ALL, parse_policy(rules))
    assert authz.decide(P.NODE_READ_ALL) is (DENY if node_read_all is None else node_read_all)
    assert authz.decide(P.SERVICE_READ_ALL) is (
        DENY if service_read_all is None else service_read_all)
    assert layered(ALLOW_ALL, parse_policy(rules)).decide(P.NODE_READ_ALL) is ALLOW


# -- what the tests above do not pin down -----------------------------------------------------


def test_a_denied_sub_prefix_blocks_read_all() -> None:
    """allAllowed: a ``""`` prefix granting read is not enough when a name below denies."""
    authz = authorizer_for([parse_policy('node_prefix "" { policy = "read" }\n'
                                         'node "secret" { policy = "deny" }')])
    assert authz.decide(P.NODE_READ_ALL) is DENY
    assert authz.decide(P.NODE_READ, "other") is ALLOW


def test_key_list_needs_list_or_write() -> None:
    authz = authorizer_for([parse_policy('key_prefix "a/" { policy = "list" }\n'
                                         'key_prefix "b/" { policy = "read" }\n'
                                         'key_prefix "c/" { policy = "write" }')])
    check(authz, [(P.KEY_LIST, "a/x", ALLOW), (P.KEY_READ, "a/x", ALLOW),
                  (P.KEY_WRITE, "a/x", DENY), (P.KEY_LIST, "b/x", DENY),
                  (P.KEY_LIST, "c/x", ALLOW), (P.KEY_LIST, "d/x", DEFAULT)])


def test_policies_on_one_token_merge_before_compiling() -> None:
    """NewPolicyAuthorizer merges: deny wins over write for the same name and kind."""
    authz = authorizer_for([parse_policy('service "web" { policy = "write" }'),
                            parse_policy('service "web" { policy = "deny" }\n'
                                         'service_prefix "web" { policy = "write" }')])
    assert authz.decide(P.SERVICE_WRITE, "web") is DENY
    assert authz.decide(P.SERVICE_WRITE, "web-2") is ALLOW


def test_upper_case_levels_enforce_but_derive_no_intention_read() -> None:
    """Levels enforce case-insensitively; the derived intention rule compares exactly, so a
    ``"WRITE"`` service rule gives intentions ``deny`` (Consul's quirk, kept)."""
    authz = authorizer_for([parse_policy('service "web" { policy = "WRITE" }')])
    assert authz.decide(P.SERVICE_WRITE, "web") is ALLOW
    assert authz.decide(P.INTENTION_READ, "web") is DENY


def test_an_unreadable_access_level_is_refused_when_compiling() -> None:
    """loadRules: AccessLevelFromString's error (parse_policy validates before this)."""
    with pytest.raises(PolicyError) as caught:
        PolicyAuthorizer(Policy(keys=[KeyRule("k", "nope")]))
    assert str(caught.value) == '"nope" is not a valid access level'


TOKEN_HCL = """
agent_prefix "" { policy = "read" }
agent "node-1" { policy = "write" }
key_prefix "app/" { policy = "write" }
key "app/secret" { policy = "deny" }
key_prefix "" { policy = "list" }
node_prefix "" { policy = "read" }
service "web" { policy = "write" intentions = "write" }
service_prefix "" { policy = "read" }
session_prefix "node-" { policy = "write" }
event_prefix "deploy-" { policy = "write" }
query "" { policy = "read" }
keyring = "read"
operator = "write"
peering = "read"
"""

TOKEN_JSON = """
{
  "agent_prefix": {"": {"policy": "read"}},
  "agent": {"node-1": {"policy": "write"}},
  "key_prefix": [{"app/": {"policy": "write"}}, {"": {"policy": "list"}}],
  "key": {"app/secret": {"policy": "deny"}},
  "node_prefix": {"": {"policy": "read"}},
  "service": {"web": {"policy": "write", "intentions": "write"}},
  "service_prefix": {"": {"policy": "read"}},
  "session_prefix": {"node-": {"policy": "write"}},
  "event_prefix": {"deploy-": {"policy": "write"}},
  "query": {"": {"policy": "read"}},
  "keyring": "read",
  "operator": "write",
  "peering": "read"
}
"""

NAMES = ["", "*", "web", "web-sidecar-proxy", "node-1", "node-2", "app/", "app/x", "app/secret",
         "deploy-1", "other"]


def test_hcl_and_json_rules_authorize_alike() -> None:
    """The same token rules written in HCL and in JSON give the same decision everywhere."""
    from_hcl = layered(DENY_ALL, parse_policy(TOKEN_HCL))
    from_json = layered(DENY_ALL, parse_policy(TOKEN_JSON))
    decisions = {(p, n): from_hcl.decide(p, n) for p in Permission for n in NAMES}
    assert decisions == {(p, n): from_json.decide(p, n) for p in Permission for n in NAMES}
    assert decisions[(P.KEY_WRITE, "app/secret")] is DENY
    assert decisions[(P.KEY_WRITE, "app/x")] is ALLOW
    assert decisions[(P.KEY_WRITE_PREFIX, "app/")] is DENY
    assert decisions[(P.PEERING_WRITE, "")] is DENY
    assert decisions[(P.MESH_WRITE, "")] is ALLOW  # no mesh rule: the operator rule
