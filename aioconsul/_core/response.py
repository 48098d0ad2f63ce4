"""Reading an answer: its Meta, its status mapped to an error, its body decoded.

Pure functions over what the transport received (status, headers, body bytes). Every answer's Meta
is parsed once, here. Never raises a bare ``JSONDecodeError``: a body that is not what Consul sends
becomes a :class:`~aioconsul.errors.ProtocolError` naming the request. No message built from
an answer shows a secret of the request (its token, the client's, a SecretID it sent): each is
replaced by ``<hidden>``.
"""

from __future__ import annotations

import binascii
import html
import re
import sys
from base64 import b64decode
from collections.abc import Collection, Mapping
from typing import Any

from ..errors import NotConsul, ProtocolError, error_for_status
from ..typing import Meta
from .jsoncodec import loads
from .request import Request, hide

__all__ = ["parse", "permanent_error"]

_EXCERPT = 200
#: The Meta of an answer whose caller does not read it (``with_meta=False``).
_NO_META = Meta()


def parse(
    request: Request,
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    address: str,
    missing_ok: bool = False,
    indexed: bool = False,
    ok_statuses: Collection[int] = (),
    raw: bool = False,
    b64: str | None = None,
    first: bool = False,
    with_meta: bool = True,
) -> tuple[Any, Meta]:
    """Return ``(data, meta)`` for a 2xx answer, or raise the error its status maps to.

    ``data`` is the decoded JSON (``None`` for an empty body), or the body bytes with ``raw``.
    With ``missing_ok`` a 404 is not an error but ``(None, meta)``: Consul's KV reads answer a
    missing key with 404 and an index that can be blocked on. ``indexed`` says the endpoint
    sends ``X-Consul-Index`` with every answer, its 404 included (the KV reads: kvs_endpoint.go
    calls ``setMeta`` before it writes the 404): such a 404 without the header is not Consul's
    "missing" but a server that is not Consul, and raises :class:`~aioconsul.errors.NotConsul`.
    Other 404s (``/v1/agent/service/<id>``, ``/v1/coordinate/node/<node>``, whose ``setMeta``
    is deferred past the 404) carry no index, so they must not pass ``indexed``.
    An error page in HTML becomes its text, whitespace collapsed and cut to 200 characters.
    ``b64`` names a field of the object (or of each object of the list) decoded from base64 to
    bytes; ``first`` takes the first object of the list (None for an empty list): a KV read of
    one key, whose answer is a list of that one entry.
    A status in ``ok_statuses`` whose body is a JSON object or array is data too, returned like
    a 2xx answer: ``/v1/agent/health/service/*`` reports warning as 429 and critical as 503. The
    same status with any other body (a rate limit's text or empty body) is still an error.
    ``with_meta=False``: the caller does not read a 2xx answer's Meta (a write answering true or
    false), and gets an empty one in its place, its headers left unread (for speed: a Meta costs
    a tenth of reading a small answer). An error always carries the answer's Meta.
    """
    if 200 <= status < 300:
        meta = Meta.from_headers(headers) if with_meta else _NO_META
        if raw:
            return body, meta
        if not body:
            return None, meta
        try:
            data = loads(body)
        except ValueError:
            excerpt = hide(body[:_EXCERPT].decode("utf-8", "replace"), request.secrets)
            more = "..." if len(body) > _EXCERPT else ""
            raise ProtocolError(
                f"the answer is not valid JSON ({len(body)} bytes): {excerpt!r}{more}",
                operation=request.operation, address=address, status=status,
                meta=meta if with_meta else Meta.from_headers(headers),
            ) from None
        if b64 is not None:
            try:
                _decode_field(data, b64)
            except (TypeError, ValueError, binascii.Error) as exc:
                raise ProtocolError(
                    f"the answer's {b64!r} field is not base64 data: {exc}",
                    operation=request.operation, address=address, status=status,
                    meta=meta if with_meta else Meta.from_headers(headers),
                ) from None
        if first:
            data = data[0] if data else None
        return data, meta
    meta = Meta.from_headers(headers)
    if status == 404 and missing_ok:
        if indexed and headers.get("X-Consul-Index") is None:
            text = hide(_readable(body, headers), request.secrets)
            raise NotConsul(
                "the answer has no X-Consul-Index, which Consul always sends with this 404 "
                "(a missing key): the address does not look like a Consul agent"
                + (f" (it answered {text!r})" if text else ""),
                operation=request.operation, address=address, status=status, meta=meta,
            )
        return None, meta
    if status in ok_statuses:
        report = _json_document(body)
        if report is not None:
            return report, meta
        # Not the endpoint's report: an error of the same status, mapped below.
    message = _readable(body, headers)
    if status in (301, 302, 303, 307, 308):
        location = headers.get("Location")
        if location:
            message = f"{message} (redirect to {location!r} not followed)".lstrip()
    # An agent that echoes a token back (a SecretID in an error) never gets it into a message.
    message = hide(message, request.secrets)
    raise error_for_status(status, message, meta=meta, operation=request.operation,
                           address=address)


# Consul answers 500 for any error an RPC returns, transient or not (agent/http.go maps only a
# few errors to other statuses). These beginnings of a 500 body are answers that repeating the
# request cannot change: go-bexpr's filter errors (filter.go CreateFilter wraps every parse and
# validation error in "Failed to create boolean expression evaluator: "), the RPCs' validation
# errors (catalog_endpoint.go "Must provide node", session_endpoint.go "Invalid Session TTL
# ...", "Invalid Behavior setting ..."), and Go's strconv errors for a malformed number.
_PERMANENT = (
    "Failed to create boolean expression evaluator",
    "Must provide",
    "Invalid ",
    "strconv.",
    "Bad request",
    "Failed to parse ACL rules",  # ACL.PolicySet: acl.NewPolicyFromSource
    "No such ACL ",  # ACL.TokenSet/RoleSet: a link to a policy or role name that does not exist
)
# Never permanent, whatever else the text says: what a cluster without a leader, a
# partitioned or rate-limited one answers (structs.ErrNoLeader "No cluster leader",
# structs.ErrNoDCPath "No path to datacenter", structs.ErrNoServers "No known Consul servers",
# "Remote DC has no server currently reachable", "Not ready to serve consistent reads", rate
# limits, raft's "leadership lost while committing log", timeouts and broken RPC streams).
_TRANSIENT = (
    "No cluster leader",
    "No path to datacenter",
    "No known Consul servers",
    "no server currently reachable",
    "Not ready to serve consistent reads",
    "rate limit",
    "leadership lost",
    "timed out",
    "EOF",
)
# How a client agent wraps the error a server's RPC returned (agent/pool/pool.go).
_RPC_PREFIXES = ("rpc error making call: ", "rpc error: ")


def permanent_error(status: int, body: bytes) -> bool:
    """Whether an error answer cannot change when the request is repeated.

    The one place that classifies error answers for retrying: the request core repeats a
    failed request on its policy's statuses (429, 500, 503) unless this says the answer is
    permanent. Only a 500 can be: Consul's filter and validation errors. Anything else, and any
    500 this does not recognise, stays retryable, as in the Go client (``IsRetryableError``).
    """
    if status != 500 or not body:
        return False
    text = body[:512].decode("utf-8", "replace").strip()
    if any(marker in text for marker in _TRANSIENT):
        return False
    stripped = True
    while stripped:
        stripped = False
        for prefix in _RPC_PREFIXES:
            if text.startswith(prefix):
                text = text[len(prefix):]
                stripped = True
    return text.startswith(_PERMANENT)


_HIDDEN = re.compile(r"<(script|style|head)\b.*?</\1\s*>|<!--.*?-->", re.I | re.S)
_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")


def _readable(body: bytes, headers: Mapping[str, str]) -> str:
    """An error body as a message: Consul's text as it is; an HTML error page (a web server
    that is not Consul, a proxy in front of it) as its visible text, whitespace collapsed and
    cut to ``_EXCERPT`` characters."""
    text = body.decode("utf-8", "replace").strip()
    start = text[:256].lstrip().lower()
    if not ((headers.get("Content-Type") or "").lower().startswith("text/html")
            or start.startswith(("<!doctype html", "<html", "<head", "<body", "<?xml"))):
        return text
    title = re.search(r"<title[^>]*>(.*?)</title\s*>", text, re.I | re.S)
    visible = _SPACE.sub(" ", html.unescape(_TAG.sub(" ", _HIDDEN.sub(" ", text)))).strip()
    if not visible and title:
        visible = _SPACE.sub(" ", html.unescape(title.group(1))).strip()
    if len(visible) > _EXCERPT:
        visible = visible[:_EXCERPT].rstrip() + "..."
    return f"HTML page: {visible}" if visible else "an empty HTML page"


def _json_document(body: bytes) -> dict[str, Any] | list[Any] | None:
    """The JSON object or array ``body`` holds, or None (empty, text, a bare JSON scalar)."""
    if body.lstrip()[:1] not in (b"{", b"["):
        return None
    try:
        data = loads(body)
    except ValueError:
        return None
    return data if isinstance(data, (dict, list)) else None


if sys.version_info >= (3, 11):
    #: Strict standard base64 (what Go's encoding/json writes for []byte), in C.
    _a2b_base64 = binascii.a2b_base64
else:  # pragma: no cover - Python 3.10
    def _a2b_base64(value: str, strict_mode: bool) -> bytes:
        return b64decode(value, validate=strict_mode)


def _decode_field(data: Any, field: str) -> None:
    """Decode ``field`` of an object or of each object of a list, in place."""
    # The decoder called here, not through a function of ours: every KV read comes by.
    for item in data if type(data) is list else (data,):
        if type(item) is not dict:
            raise TypeError(f"expected objects, got {type(item).__name__}")
        value = item.get(field)
        item[field] = b"" if value is None else _a2b_base64(value, strict_mode=True)
