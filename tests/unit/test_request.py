"""Building requests: quoting, parameters, consistency, blocking parameters and timeouts."""

from __future__ import annotations

import pytest

from aioconsul._core.config import resolve
from aioconsul._core.request import blocking_timeout, build, quote_key
from aioconsul.typing import Consistency, Meta

CONFIG = resolve("127.0.0.1:8500", env={})


@pytest.mark.parametrize("key, quoted", [
    ("foo", "foo"), ("a/b", "a/b"), ("with space", "with%20space"), ("q?x", "q%3Fx"),
    ("h#sh", "h%23sh"), ("100%", "100%25"), ("ü", "%C3%BC"), ("a+b=c&d", "a%2Bb%3Dc%26d"),
])
def test_keys_are_percent_encoded_keeping_slashes(key: str, quoted: str) -> None:
    assert quote_key(key) == quoted


def test_watch_adds_index_and_wait_in_milliseconds() -> None:
    request = build("GET", "/v1/kv/foo", CONFIG, watch=(Meta(Index=42), "30s"))
    assert request.target == "/v1/kv/foo?index=42&wait=30000ms"


def test_watch_without_wait_sends_only_the_index() -> None:
    assert build("GET", "/v1/kv/foo", CONFIG, watch=42).target == "/v1/kv/foo?index=42"


def test_watch_at_index_zero_does_not_block() -> None:
    request = build("GET", "/v1/kv/foo", CONFIG, watch=(0, "30s"))
    assert request.target == "/v1/kv/foo"
    assert request.timeout == CONFIG.timeout


def test_blocking_timeout_covers_wait_and_jitter() -> None:
    """Consul adds up to wait/16 to a blocking wait (features/blocking.mdx)."""
    request = build("GET", "/v1/kv/foo", CONFIG, watch=(1, "160s"))
    assert request.timeout is not None and request.timeout >= 160 + 10


def test_blocking_timeout_never_below_the_longest_wait_when_wait_is_unset() -> None:
    assert blocking_timeout(None) >= 600 + 600 / 16


def test_blocking_timeout_follows_a_wait_longer_than_ten_minutes() -> None:
    """Consul's max_query_time is configurable (agent/config: max_query_time): a server that
    allows a 1h wait answers after up to 1h + 1h/16, which the timeout must outlast."""
    request = build("GET", "/v1/kv/foo", CONFIG, watch=(1, "1h"))
    assert request.target == "/v1/kv/foo?index=1&wait=3600000ms"
    assert request.timeout is not None and request.timeout > 3600 + 3600 / 16
    assert blocking_timeout(3600 * 10**9) > blocking_timeout(600 * 10**9)


def test_client_wait_is_sent_by_blocking_reads_that_give_none() -> None:
    """Go's Config.WaitTime: the client's wait, unless the query sets its own (api/api.go)."""
    config = resolve("h:1", wait="20m", env={})
    by_index = build("GET", "/v1/kv/foo", config, watch=5)
    by_hash = build("GET", "/v1/agent/service/web", config, hash_watch="abc")
    assert by_index.target == "/v1/kv/foo?index=5&wait=1200000ms"
    assert by_hash.target == "/v1/agent/service/web?hash=abc&wait=1200000ms"
    assert by_index.timeout == by_hash.timeout == blocking_timeout(1200 * 10**9)
    own = build("GET", "/v1/kv/foo", config, watch=(5, "30s"))
    assert own.target == "/v1/kv/foo?index=5&wait=30000ms"
    assert own.timeout == blocking_timeout(30 * 10**9)


def test_client_wait_leaves_reads_that_do_not_block_alone() -> None:
    config = resolve("h:1", wait="20m", env={})
    assert build("GET", "/v1/kv/foo", config).target == "/v1/kv/foo"
    assert build("GET", "/v1/kv/foo", config, watch=0).timeout == config.timeout


@pytest.mark.parametrize("wait", ["0s", "-1s", "10", 5, True])
def test_bad_client_wait_is_refused(wait: object) -> None:
    with pytest.raises(ValueError, match="^wait: "):
        resolve("h:1", wait=wait, env={})


def test_blocking_timeout_is_not_the_default_total_timeout() -> None:
    config = resolve("h:1", timeout=5, env={})
    assert build("GET", "/v1/kv/x", config, watch=(7, "5m")).timeout > 300  # type: ignore[operator]


@pytest.mark.parametrize("mode, param", [("stale", "stale"), ("consistent", "consistent"),
                                         (Consistency.STALE, "stale")])
def test_consistency_per_call(mode: object, param: str) -> None:
    assert build("GET", "/v1/kv/x", CONFIG, consistency=mode).target == f"/v1/kv/x?{param}"


def test_default_consistency_sends_nothing() -> None:
    assert build("GET", "/v1/kv/x", CONFIG, consistency="default").target == "/v1/kv/x"


def test_client_consistency_applies_where_the_endpoint_takes_one() -> None:
    config = resolve("h:1", consistency="stale", env={})
    assert build("GET", "/v1/kv/x", config, consistency=None).target == "/v1/kv/x?stale"
    assert build("GET", "/v1/kv/x", config, consistency="default").target == "/v1/kv/x"
    assert build("GET", "/v1/event/list", config).target == "/v1/event/list"
    assert build("PUT", "/v1/kv/x", config).target == "/v1/kv/x"


def test_dc_namespace_partition_default_to_the_clients_and_calls_override() -> None:
    config = resolve("h:1", dc="dc1", namespace="ns1", partition="p1", env={})
    assert build("GET", "/v1/kv/x", config).target == "/v1/kv/x?dc=dc1&ns=ns1&partition=p1"
    request = build("GET", "/v1/kv/x", config, dc="dc2", namespace="ns2", partition="p2")
    assert request.target == "/v1/kv/x?dc=dc2&ns=ns2&partition=p2"


def test_parameter_values_are_quoted_and_flags_have_no_value() -> None:
    request = build("GET", "/v1/event/list", CONFIG, params=[("name", "a b&c"), ("recurse", "")])
    assert request.target == "/v1/event/list?name=a%20b%26c&recurse"


def test_token_never_reaches_the_url() -> None:
    config = resolve("h:1", token="s3cr3t", env={})
    request = build("GET", "/v1/kv/x", config, params=[("recurse", "")], watch=(3, "1s"))
    assert "s3cr3t" not in request.target
    assert "token" not in request.target


def test_bad_watch_is_refused_before_sending() -> None:
    with pytest.raises(ValueError, match="^watch wait: "):
        build("GET", "/v1/kv/x", CONFIG, watch=(1, "forever"))


# -- Hash-based blocking (agent-local endpoints) -------------------------------------------------


def test_hash_watch_adds_hash_and_wait_in_milliseconds() -> None:
    meta = Meta(Index=0, ContentHash="4ecd29c7bc647ca8")
    request = build("GET", "/v1/agent/service/web", CONFIG, hash_watch=(meta, "30s"))
    assert request.target == "/v1/agent/service/web?hash=4ecd29c7bc647ca8&wait=30000ms"


def test_hash_watch_without_wait_sends_only_the_hash() -> None:
    request = build("GET", "/v1/agent/service/web", CONFIG, hash_watch={"ContentHash": "ab12"})
    assert request.target == "/v1/agent/service/web?hash=ab12"


def test_hash_watch_timeout_follows_the_wait_like_index_blocking() -> None:
    by_hash = build("GET", "/v1/agent/service/web", CONFIG, hash_watch=("ab12", "160s"))
    by_index = build("GET", "/v1/kv/x", CONFIG, watch=(1, "160s"))
    assert by_hash.timeout == by_index.timeout == blocking_timeout(160 * 10**9)
    unset = build("GET", "/v1/agent/service/web", CONFIG, hash_watch="ab12")
    assert unset.timeout == blocking_timeout(None)


def test_empty_hash_does_not_block() -> None:
    request = build("GET", "/v1/agent/service/web", CONFIG, hash_watch=("", "30s"))
    assert request.target == "/v1/agent/service/web"
    assert request.timeout == CONFIG.timeout


def test_hash_is_quoted() -> None:
    request = build("GET", "/v1/agent/service/web", CONFIG, hash_watch="a&b=c")
    assert request.target == "/v1/agent/service/web?hash=a%26b%3Dc"


def test_a_meta_without_content_hash_is_refused_for_hash_blocking() -> None:
    with pytest.raises(ValueError, match="^watch: the mapping has no 'ContentHash' key"):
        build("GET", "/v1/agent/service/web", CONFIG, hash_watch=Meta(Index=5))


def test_index_and_hash_blocking_together_are_refused() -> None:
    with pytest.raises(ValueError, match="^watch: "):
        build("GET", "/v1/agent/service/web", CONFIG, watch=1, hash_watch="ab12")
