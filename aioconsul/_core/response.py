"""Reading an answer: its Meta, its status mapped to an error, its body decoded.

Pure functions over what the transport received (status, headers, body bytes). Every answer's Meta
is parsed once, here. Never raises a bare ``JSONDecodeError``: a body that is not what Consul sends
becomes a :class:`~aioconsul.errors.ProtocolError` naming the request.
"""

from __future__ import annotations

import binascii
import json
import sys
from base64 import b64decode
from collections.abc import Collection, Mapping
from typing import Any

from ..errors import ProtocolError, error_for_status
from ..typing import Meta
from .request import Request

__all__ = ["parse"]

_EXCERPT = 200


def parse(
    request: Request,
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    address: str,
    missing_ok: bool = False,
    ok_statuses: Collection[int] = (),
    raw: bool = False,
    b64: str | None = None,
) -> tuple[Any, Meta]:
    """Return ``(data, meta)`` for a 2xx answer, or raise the error its status maps to.

    ``data`` is the decoded JSON (``None`` for an empty body), or the body bytes with ``raw``.
    With ``missing_ok`` a 404 is not an error but ``(None, meta)``: Consul's KV reads answer a
    missing key with 404 and an index that can be blocked on.
    A status in ``ok_statuses`` whose body is a JSON object or array is data too, returned like
    a 2xx answer: ``/v1/agent/health/service/*`` reports warning as 429 and critical as 503. The
    same status with any other body (a rate limit's text or empty body) is still an error.
    """
    meta = Meta.from_headers(headers)
    if 200 <= status < 300:
        if raw:
            return body, meta
        if not body:
            return None, meta
        try:
            data = json.loads(body)
        except ValueError:
            excerpt = body[:_EXCERPT].decode("utf-8", "replace")
            more = "..." if len(body) > _EXCERPT else ""
            raise ProtocolError(
                f"the answer is not valid JSON ({len(body)} bytes): {excerpt!r}{more}",
                operation=request.operation, address=address, status=status, meta=meta,
            ) from None
        if b64 is not None:
            try:
                _decode_field(data, b64)
            except (TypeError, ValueError, binascii.Error) as exc:
                raise ProtocolError(
                    f"the answer's {b64!r} field is not base64 data: {exc}",
                    operation=request.operation, address=address, status=status, meta=meta,
                ) from None
        return data, meta
    if status == 404 and missing_ok:
        return None, meta
    if status in ok_statuses:
        report = _json_document(body)
        if report is not None:
            return report, meta
        # Not the endpoint's report: an error of the same status, mapped below.
    message = body.decode("utf-8", "replace").strip()
    if status in (301, 302, 303, 307, 308):
        location = headers.get("Location")
        if location:
            message = f"{message} (redirect to {location!r} not followed)".lstrip()
    raise error_for_status(status, message, meta=meta, operation=request.operation,
                           address=address)


def _json_document(body: bytes) -> dict[str, Any] | list[Any] | None:
    """The JSON object or array ``body`` holds, or None (empty, text, a bare JSON scalar)."""
    if body.lstrip()[:1] not in (b"{", b"["):
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return None
    return data if isinstance(data, (dict, list)) else None


if sys.version_info >= (3, 11):
    def _b64decode(value: str) -> bytes:
        """Strict standard base64 (what Go's encoding/json writes for []byte), in C."""
        return binascii.a2b_base64(value, strict_mode=True)
else:  # pragma: no cover - Python 3.10
    def _b64decode(value: str) -> bytes:
        return b64decode(value, validate=True)


def _decode_field(data: Any, field: str) -> None:
    """Decode ``field`` of an object or of each object of a list, in place."""
    for item in data if isinstance(data, list) else (data,):
        if not isinstance(item, dict):
            raise TypeError(f"expected objects, got {type(item).__name__}")
        value = item.get(field)
        item[field] = b"" if value is None else _b64decode(value)
