"""Reading answers: Meta from headers, status to error, body decoding."""

from __future__ import annotations

import pickle

import pytest

from aioconsul import errors
from aioconsul._core.request import Request
from aioconsul._core.response import parse
from aioconsul.typing import Meta

REQUEST = Request("GET", "/v1/kv/foo", "/v1/kv/foo")


def _parse(status: int, body: bytes = b"", headers: dict[str, str] | None = None,
           **kwargs: bool) -> tuple[object, Meta]:
    return parse(REQUEST, status, headers or {}, body, address="http://h:1", **kwargs)  # type: ignore[arg-type]


def test_meta_always_has_index_known_leader_and_last_contact() -> None:
    _, meta = _parse(200, b"[]")
    assert dict(meta) == {"Index": 0, "KnownLeader": False, "LastContact": 0}


def test_meta_reads_every_metadata_header() -> None:
    headers = {
        "X-Consul-Index": "1234", "X-Consul-KnownLeader": "true", "X-Consul-LastContact": "15",
        "X-Consul-Effective-Consistency": "stale", "X-Consul-Default-ACL-Policy": "deny",
        "X-Consul-Query-Backend": "streaming", "X-Cache": "HIT", "Age": "7",
        "X-Consul-Results-Filtered-By-ACLs": "true", "X-Consul-ContentHash": "abc123",
        "X-Consul-Translate-Addresses": "true",
    }
    _, meta = _parse(200, b"{}", headers)
    assert dict(meta) == {
        "Index": 1234, "KnownLeader": True, "LastContact": 15,
        "EffectiveConsistency": "stale", "DefaultACLPolicy": "deny", "QueryBackend": "streaming",
        "CacheHit": True, "CacheAge": 7, "ResultsFilteredByACLs": True, "ContentHash": "abc123",
        "AddressTranslationEnabled": True,
    }


def test_meta_ignores_malformed_numbers() -> None:
    _, meta = _parse(200, b"{}", {"X-Consul-Index": "abc", "Age": "x"})
    assert meta["Index"] == 0 and "CacheAge" not in meta


def test_meta_is_read_only_and_survives_pickling() -> None:
    meta = Meta(Index=5)
    with pytest.raises(TypeError):
        meta["Index"] = 6  # type: ignore[index]
    with pytest.raises(AttributeError):
        meta.foo = 1  # type: ignore[attr-defined]
    assert pickle.loads(pickle.dumps(meta)) == meta


def test_json_body_is_decoded() -> None:
    assert _parse(200, b'{"a": [1]}')[0] == {"a": [1]}


def test_empty_body_is_none() -> None:
    assert _parse(200, b"")[0] is None


def test_invalid_json_is_a_protocol_error_with_context() -> None:
    with pytest.raises(errors.ProtocolError) as info:
        _parse(200, b'[{"Key": "fo')
    text = str(info.value)
    assert "GET /v1/kv/foo" in text and "http://h:1" in text and "not valid JSON" in text
    assert isinstance(info.value, errors.ConsulError)


def test_base64_field_is_decoded_and_null_becomes_empty_bytes() -> None:
    data, _ = _parse(200, b'[{"Value": "YmFy"}, {"Value": null}]', b64="Value")  # type: ignore[arg-type]
    assert data == [{"Value": b"bar"}, {"Value": b""}]


def test_bad_base64_is_a_protocol_error() -> None:
    with pytest.raises(errors.ProtocolError, match="'Value' field is not base64"):
        _parse(200, b'[{"Value": "!!"}]', b64="Value")  # type: ignore[arg-type]


def test_missing_ok_turns_404_into_none_with_meta() -> None:
    data, meta = _parse(404, b"", {"X-Consul-Index": "9"}, missing_ok=True)
    assert data is None and meta["Index"] == 9


@pytest.mark.parametrize("status, body, cls", [
    (400, b"Missing key name", errors.BadRequest),
    (401, b"ACL support disabled", errors.PermissionDenied),
    (403, b"Permission denied: token lacks permission 'key:write'", errors.PermissionDenied),
    (403, b"ACL not found", errors.ACLNotFound),
    (404, b"Invalid URL path", errors.NotFound),
    (405, b"method GET not allowed", errors.MethodNotAllowed),
    (409, b"{}", errors.Conflict),
    (413, b"Request body(600000 bytes) too large", errors.RequestTooLarge),
    (429, b"", errors.RateLimited),
    (500, b"No cluster leader", errors.NoLeader),
    (500, b"rpc error making call", errors.ServerError),
    (503, b"rate limit exceeded", errors.ServerError),
    (301, b"", errors.UnexpectedRedirect),
    (418, b"teapot", errors.ResponseError),
])
def test_status_maps_to_one_error_class(status: int, body: bytes, cls: type[Exception]) -> None:
    with pytest.raises(cls) as info:
        _parse(status, body, {"X-Consul-Index": "3"})
    error = info.value
    assert type(error) is cls
    assert isinstance(error, errors.ResponseError)
    assert error.status == status
    assert error.message == body.decode()
    assert error.meta["Index"] == 3
    assert "GET /v1/kv/foo" in str(error)


def test_acl_not_found_is_a_permission_denied() -> None:
    assert issubclass(errors.ACLNotFound, errors.PermissionDenied)
    assert issubclass(errors.NoLeader, errors.ServerError)
    assert issubclass(errors.RequestTimeout, TimeoutError)
    assert issubclass(errors.RequestTimeout, errors.TransportError)


def test_redirect_names_its_location() -> None:
    with pytest.raises(errors.UnexpectedRedirect, match="redirect to '/v1/kv/a' not followed"):
        _parse(301, b"", {"Location": "/v1/kv/a"})


# -- Statuses that carry data (/v1/agent/health/service/*) ---------------------------------------

REPORTS = (429, 503)


@pytest.mark.parametrize("status, body, expected", [
    (429, b'{"AggregatedStatus": "warning"}', {"AggregatedStatus": "warning"}),
    (503, b'{"AggregatedStatus": "critical"}', {"AggregatedStatus": "critical"}),
    (503, b'[{"AggregatedStatus": "critical"}]', [{"AggregatedStatus": "critical"}]),
    (200, b'[]', []),
])
def test_ok_statuses_return_their_json_report_as_data(
        status: int, body: bytes, expected: object) -> None:
    data, _ = parse(REQUEST, status, {}, body, address="h:1", ok_statuses=REPORTS)
    assert data == expected


@pytest.mark.parametrize("status, body, cls", [
    (429, b"", errors.RateLimited),  # the RPC rate limit answers 429 with an empty body
    (429, b"rate limit exceeded, try again later", errors.RateLimited),
    (503, b"rate limit exceeded for operation that can only be performed by the leader",
     errors.ServerError),
    (503, b'"critical"', errors.ServerError),  # a bare JSON scalar is no report either
    (500, b'{"AggregatedStatus": "critical"}', errors.ServerError),  # not an ok status
])
def test_ok_statuses_without_a_json_report_are_still_errors(
        status: int, body: bytes, cls: type[Exception]) -> None:
    with pytest.raises(cls):
        parse(REQUEST, status, {}, body, address="h:1", ok_statuses=REPORTS)


def test_without_ok_statuses_429_and_503_are_errors() -> None:
    with pytest.raises(errors.RateLimited):
        _parse(429, b'{"AggregatedStatus": "warning"}')
    with pytest.raises(errors.ServerError):
        _parse(503, b'{"AggregatedStatus": "critical"}')


def test_ok_status_report_keeps_its_meta() -> None:
    _, meta = parse(REQUEST, 429, {"X-Consul-Index": "4"}, b"{}", address="h:1",
                    ok_statuses=REPORTS)
    assert meta["Index"] == 4


def test_an_indexed_404_without_x_consul_index_is_not_consul() -> None:
    """KV reads: Consul sends X-Consul-Index with the 404 of a missing key (kvs_endpoint.go)."""
    with pytest.raises(errors.NotConsul, match="does not look like a Consul agent"):
        _parse(404, b"404 page not found", missing_ok=True, indexed=True)
    assert _parse(404, b"", {"X-Consul-Index": "7"}, missing_ok=True, indexed=True)[0] is None


def test_a_404_of_an_endpoint_that_sends_no_index_stays_missing() -> None:
    """/v1/agent/service/<id> and /v1/coordinate/node/<node> answer 404 without an index
    (coordinate_endpoint.go defers setMeta past WriteHeader): not a sign of another server."""
    assert _parse(404, b"unknown service ID", missing_ok=True)[0] is None


def test_an_html_error_page_becomes_its_visible_text() -> None:
    page = (b"<!DOCTYPE html><html><head><title>Oops</title><style>p {color: red}</style>"
            b"</head><body><script>alert(1)</script><h1>502   Bad\n\tGateway</h1>"
            b"<p>caf&eacute; " + b"x" * 400 + b"</p></body></html>")
    with pytest.raises(errors.ServerError) as info:
        _parse(502, page)
    message = info.value.message
    assert message.startswith("HTML page: 502 Bad Gateway café xxx")
    assert message.endswith("...") and len(message) <= len("HTML page: ") + 203
    assert "<" not in message and "alert" not in message and "color" not in message


def test_an_html_page_with_only_a_title_keeps_the_title() -> None:
    with pytest.raises(errors.NotFound, match="HTML page: Not Found$"):
        _parse(404, b"<html><head><title>Not Found</title></head><body></body></html>")


def test_consul_error_text_is_kept_as_it_is() -> None:
    text = b"Request decode failed: json: cannot unmarshal <nil> into " + b"y" * 300
    with pytest.raises(errors.BadRequest) as info:
        _parse(400, text)
    assert info.value.message == text.decode()


def test_without_meta_a_success_has_an_empty_meta_and_an_error_the_answers() -> None:
    """``with_meta=False`` (a write whose caller throws the Meta away) leaves a 2xx answer's
    headers unread; an error, and a 2xx answer that is not what Consul sends, still carry it."""
    headers = {"X-Consul-Index": "77", "X-Consul-KnownLeader": "true",
               "X-Consul-Default-ACL-Policy": "deny"}
    data, meta = _parse(200, b"true", headers, with_meta=False)
    assert data is True and dict(meta) == {"Index": 0, "KnownLeader": False, "LastContact": 0}
    assert dict(_parse(200, b"true", headers)[1])["Index"] == 77
    with pytest.raises(errors.ConsulError) as info:
        _parse(500, b"rpc error: leadership lost", headers, with_meta=False)
    assert info.value.meta["Index"] == 77 and info.value.meta["DefaultACLPolicy"] == "deny"
    with pytest.raises(errors.ProtocolError) as bad:
        _parse(200, b"tru", headers, with_meta=False)
    assert bad.value.meta["Index"] == 77
