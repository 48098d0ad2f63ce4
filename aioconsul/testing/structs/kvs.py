"""The KV entry as Consul writes it (``structs.DirEntry``), shared by ``/v1/kv`` and ``/v1/txn``."""

from __future__ import annotations

import base64
from typing import Any

from ..state.kvs import DirEntry

__all__ = ["b64", "entry_json"]


def b64(data: bytes | None) -> str | None:
    return base64.b64encode(data).decode("ascii") if data else None


def entry_json(entry: DirEntry) -> dict[str, Any]:
    out: dict[str, Any] = {
        "LockIndex": entry.lock_index,
        "Key": entry.key,
        "Flags": entry.flags,
        "Value": b64(entry.value),
    }
    if entry.session:  # `json:",omitempty"`
        out["Session"] = entry.session
    out["CreateIndex"] = entry.create_index
    out["ModifyIndex"] = entry.modify_index
    return out
