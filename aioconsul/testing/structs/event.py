"""The user event as Consul writes it (``/v1/event/fire``, ``/v1/event/list``)."""

from __future__ import annotations

from typing import Any

from ..state.event import UserEvent
from .kvs import b64

__all__ = ["event_json"]


def event_json(event: UserEvent) -> dict[str, Any]:
    return {
        "ID": event.id,
        "Name": event.name,
        "Payload": b64(event.payload),
        "NodeFilter": event.node_filter,
        "ServiceFilter": event.service_filter,
        "TagFilter": event.tag_filter,
        "Version": event.version,
        "LTime": event.ltime,
    }
