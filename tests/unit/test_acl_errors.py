"""ACL denials as Consul words them, and secrets kept out of every message (pure).

The denial texts are ``acl.PermissionDeniedError.Error()`` of Consul's ``acl/errors.go``:
``Permission denied`` then either ``: <cause>`` or ``: token with AccessorID '<id>'`` /
``: anonymous token``, `` lacks permission '<resource>:<level>'`` and, for a named resource,
`` on <Go %q of the name>`` (``ResourceDescriptor.ToString`` in CE); the anonymous form ends
with a sentence about the implicit anonymous token. ``agent/http.go`` answers any error whose text
contains "Permission denied" or "ACL not found" with 403 and that text, RPC prefixes included.
"""

from __future__ import annotations

import pytest

from aioconsul import ACLNotFound, PermissionDenied
from aioconsul._core import normalize
from aioconsul._core.config import resolve
from aioconsul._core.request import HIDDEN, Request, build, hide
from aioconsul._core.response import parse
from aioconsul.errors import ANONYMOUS_ACCESSOR_ID, error_for_status
from aioconsul.typing import Meta

ACCESSOR = "b0e1e2d1-6f6e-4f4b-9a3c-2f2d7c1e9a10"
ANONYMOUS_SENTENCE = (". The anonymous token is used implicitly when a request does not specify "
                      "a token.")


def _denied(text: str, status: int = 403) -> PermissionDenied:
    error = error_for_status(status, text, meta=Meta(), operation="PUT /v1/kv/foo")
    assert isinstance(error, PermissionDenied)
    return error


def test_a_denial_on_a_named_resource_names_permission_resource_and_accessor() -> None:
    error = _denied(f"Permission denied: token with AccessorID '{ACCESSOR}' lacks permission "
                    "'key:write' on \"foo\"")
    assert (error.permission, error.resource, error.accessor_id, error.cause) == (
        "key:write", "foo", ACCESSOR, None)
    assert not error.anonymous
    assert type(error) is PermissionDenied


def test_the_anonymous_token_is_the_anonymous_accessor() -> None:
    error = _denied("Permission denied: anonymous token lacks permission 'service:read' on "
                    f"\"web\"{ANONYMOUS_SENTENCE}")
    assert (error.permission, error.resource) == ("service:read", "web")
    assert error.accessor_id == ANONYMOUS_ACCESSOR_ID == "00000000-0000-0000-0000-000000000002"
    assert error.anonymous


def test_a_permission_on_no_named_resource_has_no_resource() -> None:
    """``PermissionDeniedByACLUnnamed`` (``operator:read``, ``acl:write``): no ``on ...``."""
    error = _denied(f"Permission denied: token with AccessorID '{ACCESSOR}' lacks permission "
                    "'operator:read'")
    assert (error.permission, error.resource, error.accessor_id) == (
        "operator:read", None, ACCESSOR)


def test_the_resource_name_is_unquoted_as_go_quoted_it() -> None:
    """``%q`` escapes quotes, backslashes and non-printable characters Go's way."""
    error = _denied(f"Permission denied: token with AccessorID '{ACCESSOR}' lacks permission "
                    r"""'key:read' on "a \"b\"\\c\td\x7f\u00e9 😀" """.rstrip())
    assert error.resource == 'a "b"\\c\td\x7fé 😀'


def test_a_forwarded_denial_is_parsed_past_the_rpc_prefix() -> None:
    error = _denied("rpc error making call: Permission denied: token with AccessorID "
                    f"'{ACCESSOR}' lacks permission 'key:write' on \"app/config\"")
    assert (error.permission, error.resource) == ("key:write", "app/config")


def test_a_denial_with_a_cause_has_the_cause_and_no_permission() -> None:
    """``ACLBootstrap`` answers ``PermissionDeniedError{Cause: err.Error()}``."""
    error = _denied("Permission denied: ACL bootstrap no longer allowed (reset index: 13)")
    assert error.cause == "ACL bootstrap no longer allowed (reset index: 13)"
    assert error.permission is error.resource is error.accessor_id is None


@pytest.mark.parametrize("text,status", [
    ("Permission denied", 403),  # acl.ErrPermissionDenied, as many RPC endpoints return it
    ("ACL support disabled", 401),  # agent/acl_endpoint.go aclDisabled
    ("", 403),
])
def test_a_denial_without_details_has_none(text: str, status: int) -> None:
    error = _denied(text, status)
    assert error.permission is error.resource is error.accessor_id is error.cause is None
    assert error.status == status


def test_acl_not_found_is_its_own_class() -> None:
    error = error_for_status(403, "ACL not found", meta=Meta())
    assert isinstance(error, ACLNotFound) and isinstance(error, PermissionDenied)
    assert error.permission is None and error.cause is None


def test_a_missing_acl_object_is_a_404_not_an_unknown_token() -> None:
    """Consul 1.16+ answers a read of a missing object with 404 and
    ``acl.ACLResourceNotExistError``'s text, which contains "ACL not found" too."""
    error = error_for_status(404, "Requested token does not exist: ACL not found", meta=Meta())
    assert not isinstance(error, PermissionDenied)
    assert error.status == 404


def test_the_parsed_fields_survive_str_and_repr() -> None:
    error = _denied(f"Permission denied: token with AccessorID '{ACCESSOR}' lacks permission "
                    "'key:write' on \"foo\"")
    assert "key:write" in str(error) and ACCESSOR in str(error)
    assert str(error).startswith("PUT /v1/kv/foo: 403 Permission denied")


# -- secrets are hidden ----------------------------------------------------------------------


def test_hide_replaces_every_secret_longest_first() -> None:
    assert hide("a s3cr3t and s3cr3t-2", ["s3cr3t", "s3cr3t-2"]) == (
        f"a {HIDDEN} and {HIDDEN}")
    assert hide("nothing here", ["s3cr3t", ""]) == "nothing here"


def _request(token: str | None = None, client: str | None = None,
             secrets: tuple[str, ...] = ()) -> Request:
    config = resolve("127.0.0.1:8500", token=client, env={})
    return build("PUT", "/v1/acl/token", config, token=token, secrets=secrets)


def test_a_calls_token_rides_on_the_request_but_not_in_its_target_or_repr() -> None:
    request = _request(token="c4ll-s3cr3t")
    assert request.token == "c4ll-s3cr3t"
    assert "c4ll-s3cr3t" not in request.target and "c4ll-s3cr3t" not in repr(request)


def test_the_request_knows_every_secret_it_must_not_show() -> None:
    request = _request(token="c4ll", client="cl13nt", secrets=("b0dy",))
    assert set(request.secrets) == {"c4ll", "cl13nt", "b0dy"}
    assert _request().secrets == ()


@pytest.mark.parametrize("status", [400, 403, 404, 409, 500])
def test_an_echoed_secret_never_reaches_an_error_message(status: int) -> None:
    request = _request(token="c4ll-s3cr3t", client="cl13nt-s3cr3t", secrets=("b0dy-s3cr3t",))
    body = b"Invalid token c4ll-s3cr3t (client cl13nt-s3cr3t, SecretID b0dy-s3cr3t)"
    with pytest.raises(Exception) as info:
        parse(request, status, {}, body, address="127.0.0.1:8500")
    shown = f"{info.value} {info.value!r} {info.value.args}"
    for secret in ("c4ll-s3cr3t", "cl13nt-s3cr3t", "b0dy-s3cr3t"):
        assert secret not in shown
    assert shown.count(HIDDEN) >= 3


def test_an_echoed_secret_never_reaches_a_bad_json_excerpt() -> None:
    request = _request(secrets=("b0dy-s3cr3t",))
    with pytest.raises(Exception) as info:
        parse(request, 200, {}, b'{"SecretID": "b0dy-s3cr3t", ', address="127.0.0.1:8500")
    assert "b0dy-s3cr3t" not in str(info.value)


@pytest.mark.parametrize("value,error,message", [
    ("", ValueError, "^token: must not be empty"),
    ("a\r\nb", ValueError, "^token: contains a control character"),
    ("a\x7fb", ValueError, "^token: contains a control character"),
    (None, TypeError, "^token: expected a str, got NoneType"),
    (b"s3cr3t", TypeError, "^token: expected a str, got bytes"),
])
def test_a_bad_token_is_refused_without_showing_it(value: object, error: type[Exception],
                                                   message: str) -> None:
    with pytest.raises(error, match=message) as info:
        normalize.token(value)
    assert "s3cr3t" not in str(info.value)


def test_a_token_is_taken_as_it_is() -> None:
    assert normalize.token("6d7c0ad1-0000-4000-8000-000000000000") == (
        "6d7c0ad1-0000-4000-8000-000000000000")
    assert normalize.token("root") == "root"
