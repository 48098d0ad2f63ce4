"""The autopilot configuration (``agent/consul/state/autopilot.go``): one record, CAS writes.

The leader writes the configured defaults through Raft when it establishes leadership
(``getOrCreateAutopilotConfig``); a fresh dev agent therefore already has one, at a bootstrap
index. ``AutopilotSetConfig`` replaces it (keeping ``CreateIndex``); ``AutopilotCASConfig``
only when the given index is the stored ``ModifyIndex``. Either spends a Raft index.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from .memdb import Restore

if TYPE_CHECKING:
    from .store import Store

__all__ = ["AUTOPILOT_TABLE", "DEFAULT_AUTOPILOT", "AutopilotTable"]

AUTOPILOT_TABLE: Final = "autopilot-config"
#: The index the leader's getOrCreateAutopilotConfig wrote the defaults at (a bootstrap entry).
_BOOTSTRAP_AUTOPILOT_INDEX: Final = 5
_MS: Final = 1_000_000
#: The agent's autopilot defaults (agent/config/default.go), durations in nanoseconds.
DEFAULT_AUTOPILOT: Final[dict[str, Any]] = {
    "CleanupDeadServers": True,
    "LastContactThreshold": 200 * _MS,
    "MaxTrailingLogs": 250,
    "MinQuorum": 0,
    "ServerStabilizationTime": 10_000 * _MS,
    "RedundancyZoneTag": "",
    "DisableUpgradeMigration": False,
    "UpgradeVersionTag": "",
}


class AutopilotTable:
    """The one autopilot configuration record."""

    def __init__(self, store: Store) -> None:
        self.store: Final = store
        index = _BOOTSTRAP_AUTOPILOT_INDEX
        self._config: dict[str, Any] = {
            **DEFAULT_AUTOPILOT, "CreateIndex": index, "ModifyIndex": index,
        }
        store._register_table(self._snapshot)

    def _snapshot(self) -> Restore:
        saved = dict(self._config)

        def restore() -> None:
            self._config = saved

        return restore

    def dump(self) -> dict[str, Any]:
        """The record (with its RaftIndex, which is also the table index)."""
        return {"Config": dict(self._config)}

    def load(self, data: dict[str, Any]) -> None:
        """Replace the record with a :meth:`dump`'s."""
        self._config = dict(data["Config"])

    def get(self) -> tuple[int, dict[str, Any]]:
        """AutopilotConfig: (the table index, the record)."""
        return self._config["ModifyIndex"], dict(self._config)

    def set(self, config: dict[str, Any], *, cas: int | None = None) -> bool:
        """AutopilotSetConfig, or AutopilotCASConfig with ``cas``; False when the CAS fails."""
        index = self.store.next_index()
        if cas is not None and self._config["ModifyIndex"] != cas:
            self.store.commit()
            return False
        self._config = {
            **{name: config[name] for name in DEFAULT_AUTOPILOT},
            "CreateIndex": self._config["CreateIndex"],
            "ModifyIndex": index,
        }
        self.store.touch(AUTOPILOT_TABLE)
        self.store.commit()
        return True
