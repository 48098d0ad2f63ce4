"""The session as Consul writes it and the ``/v1/session/create`` body as Consul decodes it."""

from __future__ import annotations

from typing import Any, Final

from ..golang.stdlib import SECOND, GoSyntaxError, decode_json_value, json_kind, parse_duration
from ..state.session import Session

__all__ = ["decode_session_body", "session_json"]

_LOCK_DELAY_MIN_THRESHOLD: Final = 1000  # structs.lockDelayMinThreshold (nanoseconds)


def session_json(session: Session) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ID": session.id,
        "Name": session.name,
        "Node": session.node,
        "LockDelay": session.lock_delay,
        "Behavior": session.behavior,
        "TTL": session.ttl,
        "NodeChecks": session.node_checks,
        "ServiceChecks": session.service_checks,
    }
    if session.checks:  # `json:",omitempty"`
        out["Checks"] = session.checks
    out["CreateIndex"] = session.create_index
    out["ModifyIndex"] = session.modify_index
    return out


# -- session/create body ---------------------------------------------------------------------

_SESSION_STRINGS: Final = {
    "id": ("ID", "string"),
    "name": ("Name", "string"),
    "node": ("Node", "string"),
    "behavior": ("Behavior", "structs.SessionBehavior"),
    "ttl": ("TTL", "string"),
}
_SESSION_LISTS: Final = {
    "nodechecks": ("NodeChecks", "string"),
    "checks": ("Checks", "types.CheckID"),
}
_SESSION_UINTS: Final = {"createindex": "CreateIndex", "modifyindex": "ModifyIndex"}
_SESSION_AUX: Final = "struct { LockDelay interface {}; *structs.Alias }"


def _type_error(kind: str, path: str, go_type: str) -> GoSyntaxError:
    return GoSyntaxError(
        f"json: cannot unmarshal {kind} into Go struct field .{path} of type {go_type}"
    )


def _decode_service_check(value: Any) -> dict[str, str]:
    check = {"ID": "", "Namespace": ""}
    if value is None:
        return check
    if not isinstance(value, dict):
        raise _type_error(json_kind(value), "ServiceChecks", "structs.ServiceCheck")
    for key, item in value.items():
        name = {"id": "ID", "namespace": "Namespace"}.get(key.lower())
        if name is None or item is None:
            continue
        if not isinstance(item, str):
            raise _type_error(json_kind(item), f"ServiceChecks.{name}", "string")
        check[name] = item
    return check


def decode_session_body(data: bytes) -> dict[str, Any]:
    """structs.Session.UnmarshalJSON as SessionCreate runs it (unknown fields are ignored).

    Returns the fields the body set; ``None`` for list fields explicitly set to ``null``.
    """
    value = decode_json_value(data)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise GoSyntaxError(
            f"json: cannot unmarshal {json_kind(value)} into Go value of type {_SESSION_AUX}"
        )
    out: dict[str, Any] = {}
    lock_delay: Any = None
    has_lock_delay = False
    error: GoSyntaxError | None = None
    for key, item in value.items():
        lowered = key.lower()
        try:
            if lowered == "lockdelay":
                lock_delay, has_lock_delay = item, item is not None
            elif lowered in _SESSION_STRINGS:
                name, go_type = _SESSION_STRINGS[lowered]
                if item is not None and not isinstance(item, str):
                    raise _type_error(json_kind(item), name, go_type)
                if item is not None:
                    out[name] = item
            elif lowered in _SESSION_LISTS:
                name, go_type = _SESSION_LISTS[lowered]
                if item is not None and not isinstance(item, list):
                    raise _type_error(json_kind(item), name, f"[]{go_type}")
                for element in item or ():
                    if element is not None and not isinstance(element, str):
                        raise _type_error(json_kind(element), name, go_type)
                out[name] = None if item is None else [e or "" for e in item]
            elif lowered == "servicechecks":
                if item is not None and not isinstance(item, list):
                    raise _type_error(json_kind(item), "ServiceChecks", "[]structs.ServiceCheck")
                out["ServiceChecks"] = (
                    None if item is None else [_decode_service_check(e) for e in item]
                )
            elif lowered in _SESSION_UINTS and item is not None:
                name = _SESSION_UINTS[lowered]
                if not isinstance(item, int | float) or isinstance(item, bool):
                    raise _type_error(json_kind(item), name, "uint64")
                if not (isinstance(item, int) and 0 <= item < 1 << 64):
                    raise _type_error(f"number {item}", name, "uint64")
        except GoSyntaxError as exc:
            error = error or exc  # Go reports the first type error after decoding everything
    if error is not None:
        raise error
    if has_lock_delay:
        # Strings are Go durations, numbers are nanoseconds; anything below 1000 means seconds.
        if isinstance(lock_delay, str):
            delay = parse_duration(lock_delay)
        elif isinstance(lock_delay, int | float) and not isinstance(lock_delay, bool):
            delay = int(float(lock_delay))
        else:
            delay = 0
        if delay < _LOCK_DELAY_MIN_THRESHOLD:
            delay *= SECOND
        out["LockDelay"] = delay
    return out
