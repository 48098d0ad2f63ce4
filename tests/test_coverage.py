"""The API coverage page (``docs/coverage.rst``): every row of Consul's endpoint table has a
client method that calls it, or a documented reason why not.

What each method calls is recorded, not declared: ``aioconsul._coverage.record`` runs every
call of ``CALLS`` (the table ``tests/client/test_token.py`` holds to exactly the client's public
methods) against a fresh dev agent and notes the requests that went over the wire.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from aioconsul import _coverage
from aioconsul._coverage import ApiEndpoint, Coverage, Reason, match, served

DATA = Path(__file__).parent.parent / "docs" / "_data" / "endpoints.tsv"
#: Where the committed copy comes from (outside the checkout: absent on a clean CI machine).
REFERENCE = Path(__file__).parent.parent.parent / "shared" / "consul-api" / "endpoints.tsv"

TABLE = _coverage.load_endpoints(DATA)


@pytest.fixture(scope="module")
def result() -> Coverage:
    return _coverage.coverage(TABLE, asyncio.run(_coverage.record()))


def _missing(result: Coverage) -> list[str]:
    """Rows no method calls and no reason explains."""
    return [f"{row.endpoint.method} {row.endpoint.path}" for row in result.rows
            if not row.covered and row.reason is None]


def _stale(result: Coverage) -> list[str]:
    """Rows a method calls whose reason still says "not implemented yet"."""
    return [f"{row.endpoint.method} {row.endpoint.path}" for row in result.rows
            if row.covered and row.reason is not None and row.reason.issue is not None]


def test_every_endpoint_has_a_method_or_a_reason(
        result: Coverage, capsys: pytest.CaptureFixture[str]) -> None:
    with capsys.disabled():
        planned = sum(1 for row in result.rows if not row.covered)
        print(f"\nAPI coverage: {result.ratio()} endpoints have a client method, "
              f"{planned} documented as not (yet)")
    assert _missing(result) == [], "add a method, or a Reason to aioconsul._coverage.REASONS"


def test_no_reason_says_not_implemented_for_an_endpoint_a_method_calls(
        result: Coverage) -> None:
    assert _stale(result) == [], "drop (or change) these REASONS: a method calls them now"


def test_the_rules_catch_a_missing_and_a_stale_reason() -> None:
    table = [ApiEndpoint("kv", "GET", "/v1/kv/:key"), ApiEndpoint("kv", "PUT", "/v1/kv/:key"),
             ApiEndpoint("snapshot", "GET", "/v1/snapshot")]
    recorded = {"kv.get": [("GET", "/v1/kv/k")]}
    reasons = {("GET", "/v1/kv/:key"): Reason(issue=13)}
    result = _coverage.coverage(table, recorded, reasons)
    assert _missing(result) == ["PUT /v1/kv/:key", "GET /v1/snapshot"]
    assert _stale(result) == ["GET /v1/kv/:key"]
    assert result.ratio() == "1/3 (33.3%)"


def test_every_reason_names_a_row_of_the_table() -> None:
    keys = {row.key for row in TABLE}
    assert [key for key in _coverage.REASONS if key not in keys] == []


def test_every_call_sends_a_request(result: Coverage) -> None:
    assert result.silent == ()


def test_the_page_has_one_row_per_endpoint_spelled_as_in_the_table(result: Coverage) -> None:
    page = _coverage.render(result)
    assert len(result.rows) == len(TABLE) == page.count("\n   * - ") - 1  # the header row
    for row in TABLE:
        assert f"     - ``{row.method} {row.path}``\n" in page


def test_the_page_shows_the_recorded_method_and_the_reason(result: Coverage) -> None:
    page = _coverage.render(result)
    assert ("     - ``GET /v1/acl/token/self``\n"
            "     - :meth:`client.acl.tokens.self <aioconsul.api.acl.ACLTokens.self>`\n"
            "     - yes\n") in page
    assert ("     - ``GET /v1/namespaces``\n"
            "     - :meth:`client.namespaces.items <aioconsul.api.namespaces.Namespaces.items>`\n"
            "     - no\n"
            "     - Consul Enterprise only; a CE agent answers 404.\n") in page


def test_a_method_with_an_option_calling_another_endpoint_is_listed_with_it(
        result: Coverage) -> None:
    rows = {row.endpoint.key: row for row in result.rows}
    assert rows["GET", "/v1/agent/health/service/id/:service_id"].calls == (
        "agent.services.health(id=)",)
    assert rows["GET", "/v1/agent/health/service/name/:service_name"].calls == (
        "agent.services.health",)


def test_a_method_sending_several_endpoints_is_listed_as_also(result: Coverage) -> None:
    rows = {row.endpoint.key: row for row in result.rows}
    assert "kv.update" in rows["GET", "/v1/kv/:key"].also
    assert "kv.update" not in rows["GET", "/v1/kv/:key"].calls
    assert "kv.get" in rows["GET", "/v1/kv/:key"].calls


@pytest.mark.skipif(not REFERENCE.exists(), reason="the shared reference table is not here")
def test_the_committed_table_is_a_copy_of_the_reference() -> None:
    assert DATA.read_bytes() == REFERENCE.read_bytes()


# -- matching a request to a row (pure) -------------------------------------------------------


@pytest.mark.parametrize(("method", "path", "row"), [
    ("GET", "/v1/acl/token/self", "/v1/acl/token/self"),
    ("GET", "/v1/acl/token/6d7c0ad1", "/v1/acl/token/:AccessorID"),
    ("PUT", "/v1/acl/token/6d7c0ad1/clone", "/v1/acl/token/:AccessorID/clone"),
    ("GET", "/v1/acl/policy/name/p", "/v1/acl/policy/name/:name"),
    ("GET", "/v1/kv/a/b/c", "/v1/kv/:key"),
    ("GET", "/v1/kv/", "/v1/kv/:key"),
    ("DELETE", "/v1/kv/dir/", "/v1/kv/:key"),
    ("GET", "/v1/config/service-defaults", "/v1/config/:kind"),
    ("GET", "/v1/config/service-defaults/web", "/v1/config/:kind/:name"),
    ("GET", "/v1/query/q/execute", "/v1/query/:uuid/execute"),
    ("PUT", "/v1/connect/intentions/exact", "/v1/connect/intentions/exact"),
    ("GET", "/v1/agent/metrics/stream", "/v1/agent/metrics/stream"),
])
def test_a_request_matches_the_closest_row(method: str, path: str, row: str) -> None:
    found = match(method, path, TABLE)
    assert found is not None and found.path == row and found.method == method


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/v1/internal/ui/services"), ("POST", "/v1/kv/k"), ("GET", "/v1/status/leader/x"),
])
def test_a_request_outside_the_table_matches_no_row(method: str, path: str) -> None:
    assert match(method, path, TABLE) is None


def test_served_reads_the_dev_agents_route_table() -> None:
    assert served(ApiEndpoint("kv", "GET", "/v1/kv/:key"))
    assert served(ApiEndpoint("query", "GET", "/v1/query/:uuid/execute"))
    assert not served(ApiEndpoint("namespaces", "GET", "/v1/namespaces"))  # CE has no route
    assert not served(ApiEndpoint("status", "PUT", "/v1/status/leader"))  # a 405 there


def test_a_reason_reads_as_a_sentence() -> None:
    assert str(Reason(issue=13)) == "Not implemented yet (issue 13)."
    assert str(Reason("CE has none", enterprise=True)) == "Consul Enterprise only; CE has none."
