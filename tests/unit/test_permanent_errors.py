"""Which error answers are permanent, never retried (``response.permanent_error``).

Consul answers 500 for any error an RPC returns (agent/http.go), and a client agent prefixes an
error from a server with "rpc error making call: " (agent/pool/pool.go), so the body decides.
"""

from __future__ import annotations

import pytest

from aioconsul._core.response import permanent_error


@pytest.mark.parametrize("body", [
    # go-bexpr filter.go CreateFilter wraps every parse and validation error of ?filter=.
    'Failed to create boolean expression evaluator: 1:4 (3): no match found, expected: "!="',
    'Failed to create boolean expression evaluator: Selector "Foo" is not valid',
    "rpc error making call: Failed to create boolean expression evaluator: 1:1 (0): ...",
    "Must provide node",                                   # catalog_endpoint.go
    "rpc error making call: Invalid Session TTL '1s', must be between [10s=24h0m0s]",
    "Invalid Behavior setting 'x'",                         # session_endpoint.go
    'strconv.ParseUint: parsing "x": invalid syntax',       # a malformed number parameter
])
def test_filter_and_validation_errors_are_permanent(body: str) -> None:
    assert permanent_error(500, body.encode())


@pytest.mark.parametrize("body", [
    "No cluster leader",                                    # structs.ErrNoLeader
    "rpc error making call: No cluster leader",
    "No path to datacenter",                                # structs.ErrNoDCPath
    "No known Consul servers",                              # structs.ErrNoServers
    "Remote DC has no server currently reachable",
    "Not ready to serve consistent reads",
    "rpc error making call: EOF",
    "rpc error making call: stream closed",
    "leadership lost while committing log",
    "rpc error making call: Invalid ... after: rpc: timed out",  # a timeout wins
    "",                                                     # a proxy's bare 500
    "<html><body>500 Internal Server Error</body></html>",
    "something no one has seen before",
])
def test_leader_elections_outages_and_unknown_errors_stay_retryable(body: str) -> None:
    assert not permanent_error(500, body.encode())


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_only_a_500_can_be_permanent(status: int) -> None:
    """429 and 503 are rate limits that ask to be retried (semantics.md §14.1), whatever the
    text; other statuses a policy lists are the policy's business."""
    assert not permanent_error(status, b"Invalid request: rate limit exceeded")
    assert not permanent_error(status, b"Failed to create boolean expression evaluator: x")
