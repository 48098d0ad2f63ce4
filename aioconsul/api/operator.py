"""The operator group: ``/v1/operator/*`` — Raft, autopilot, the gossip keyring, usage.

Follows the Go client's ``api/operator_raft.go``, ``operator_autopilot.go``,
``operator_keyring.go`` and ``operator_usage.go``. The Enterprise-only endpoints
(``operator_area.go``, ``operator_segment.go``, ``operator_license.go``, utilization, the
audit hash) and the feature gates (newer than Consul 1.21) have methods too; Consul CE 1.21
answers them 404. Every method returns ``(data, Meta)`` and checks its
inputs before anything is sent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .._core import normalize
from .._core.core import Endpoint
from .._core.request import id_path
from ..typing import Collection, Consistency, Meta, Object

__all__ = ["Operator"]

_AUTOPILOT_FIELDS = frozenset({
    "CleanupDeadServers", "LastContactThreshold", "MaxTrailingLogs", "MinQuorum",
    "ServerStabilizationTime", "RedundancyZoneTag", "DisableUpgradeMigration",
    "UpgradeVersionTag", "CreateIndex", "ModifyIndex",
})


def _relay(relay_factor: int | None) -> list[tuple[str, str]]:
    """``?relay-factor=``: Consul accepts 0 to 5 (ParseRelayFactor)."""
    if relay_factor is None:
        return []
    if isinstance(relay_factor, bool) or not isinstance(relay_factor, int):
        raise TypeError(f"relay_factor: expected an int, got {type(relay_factor).__name__}")
    if not 0 <= relay_factor <= 5:
        raise ValueError("relay_factor: must be in range [0, 5]")
    return [("relay-factor", str(relay_factor))]


def _cas(cas: int | None, what: str) -> list[tuple[str, str]]:
    """``?cas=``: the index read (``what``), an int >= 0."""
    if cas is None:
        return []
    if isinstance(cas, bool) or not isinstance(cas, int) or cas < 0:
        raise ValueError(f"cas: expected {what} (an int >= 0)")
    return [("cas", str(cas))]


class Operator(Endpoint):
    """``client.operator``: cluster operations. Every method takes ``token``: the ACL token of
    that call, instead of the client's (``operator:read``/``operator:write``, or
    ``keyring:read``/``keyring:write`` for the keyring)."""

    __slots__ = ()

    # -- Raft ---------------------------------------------------------------------------

    async def raft_configuration(
        self, *, dc: str | None = None, consistency: Consistency | str | None = None,
        token: str | None = None,
    ) -> tuple[Object, Meta]:
        """The Raft configuration (``GET /v1/operator/raft/configuration``):
        ``{"Servers": [{ID, Node, Address, Leader, ProtocolVersion, Voter, LastIndex}],
        "Index"}``. ``consistency="stale"`` reads it from any server."""
        data, meta = await self._core.request(
            "GET", "/v1/operator/raft/configuration", dc=dc, consistency=consistency,
            token=token)
        return dict(data or {}), meta

    async def transfer_leader(
        self, id: str | None = None, *, token: str | None = None
    ) -> tuple[Object, Meta]:
        """Transfer Raft leadership (``POST /v1/operator/raft/transfer-leader``) to the server
        with ``id``, or to any other voter; ``({"Success": True}, meta)``."""
        params = [("id", normalize.text(id, "id"))] if id is not None else []
        data, meta = await self._core.request(
            "POST", "/v1/operator/raft/transfer-leader", params=params, token=token)
        return dict(data or {}), meta

    async def remove_peer(
        self, *, address: str | None = None, id: str | None = None, dc: str | None = None,
        token: str | None = None,
    ) -> tuple[None, Meta]:
        """Remove a Raft peer by ``address`` (``"ip:port"``) or by ``id``, exactly one of them
        (``DELETE /v1/operator/raft/peer``)."""
        if (address is None) == (id is None):
            raise ValueError("address, id: give exactly one of them")
        params = ([("address", normalize.text(address, "address"))] if address is not None
                  else [("id", normalize.text(id, "id"))])
        _, meta = await self._core.request(
            "DELETE", "/v1/operator/raft/peer", params=params, dc=dc, token=token)
        return None, meta

    # -- autopilot ----------------------------------------------------------------------

    async def autopilot_configuration(
        self, *, dc: str | None = None, consistency: Consistency | str | None = None,
        token: str | None = None,
    ) -> tuple[Object, Meta]:
        """The autopilot configuration (``GET /v1/operator/autopilot/configuration``),
        durations as Go strings (``"200ms"``), with ``CreateIndex``/``ModifyIndex``."""
        data, meta = await self._core.request(
            "GET", "/v1/operator/autopilot/configuration", dc=dc, consistency=consistency,
            token=token)
        return dict(data or {}), meta

    async def set_autopilot_configuration(
        self, config: Mapping[str, Any], *, cas: int | None = None, dc: str | None = None,
        token: str | None = None,
    ) -> tuple[bool, Meta]:
        """Replace the autopilot configuration (``PUT /v1/operator/autopilot/configuration``).

        Fields left out take the Go client's defaults (``api.NewAutopilotConfiguration``), not
        the stored values. With ``cas`` (the ``ModifyIndex`` read), the write only happens if
        nobody changed it since: ``(False, meta)`` otherwise."""
        if not isinstance(config, Mapping):
            raise TypeError(f"config: expected a mapping, got {type(config).__name__}")
        unknown = sorted(set(config) - _AUTOPILOT_FIELDS)
        if unknown:
            raise ValueError(f"config: unknown autopilot fields {unknown}")
        params = _cas(cas, "a ModifyIndex")
        data, meta = await self._core.request(
            "PUT", "/v1/operator/autopilot/configuration", params=params, json=dict(config),
            dc=dc, token=token)
        return bool(data), meta

    async def autopilot_health(
        self, *, dc: str | None = None, token: str | None = None
    ) -> tuple[Object, Meta]:
        """The servers' health (``GET /v1/operator/autopilot/health``): ``Healthy``,
        ``FailureTolerance``, ``Servers``. Consul answers 429 when unhealthy: that answer is
        returned too, with ``Healthy`` false."""
        data, meta = await self._core.request(
            "GET", "/v1/operator/autopilot/health", dc=dc, ok_statuses=(429,), token=token)
        return dict(data or {}), meta

    async def autopilot_state(
        self, *, dc: str | None = None, token: str | None = None
    ) -> tuple[Object, Meta]:
        """Autopilot's full state (``GET /v1/operator/autopilot/state``): ``Leader``,
        ``Voters``, ``Servers`` by ID, ``FailureTolerance``..."""
        data, meta = await self._core.request(
            "GET", "/v1/operator/autopilot/state", dc=dc, token=token)
        return dict(data or {}), meta

    # -- keyring ------------------------------------------------------------------------

    async def keyring_list(
        self, *, relay_factor: int | None = None, local_only: bool = False,
        token: str | None = None,
    ) -> tuple[Collection, Meta]:
        """The gossip keys of every pool (``GET /v1/operator/keyring``): one entry per pool
        (``WAN``, ``Datacenter``, ``Keys`` and ``PrimaryKeys`` by key with their node
        counts, ``NumNodes``). ``local_only`` asks only the agent answering."""
        params = _relay(relay_factor)
        if local_only:
            params.append(("local-only", "true"))
        data, meta = await self._core.request(
            "GET", "/v1/operator/keyring", params=params, token=token)
        return list(data or []), meta

    async def _keyring(
        self, method: str, key: str, relay_factor: int | None, token: str | None
    ) -> tuple[None, Meta]:
        _, meta = await self._core.request(
            method, "/v1/operator/keyring", params=_relay(relay_factor),
            json={"Key": normalize.text(key, "key")}, token=token)
        return None, meta

    async def keyring_install(
        self, key: str, *, relay_factor: int | None = None, token: str | None = None
    ) -> tuple[None, Meta]:
        """Install a gossip key (base64 of 16, 24 or 32 bytes) on every member
        (``POST /v1/operator/keyring``)."""
        return await self._keyring("POST", key, relay_factor, token)

    async def keyring_use(
        self, key: str, *, relay_factor: int | None = None, token: str | None = None
    ) -> tuple[None, Meta]:
        """Make an installed key the primary one (``PUT /v1/operator/keyring``)."""
        return await self._keyring("PUT", key, relay_factor, token)

    async def keyring_remove(
        self, key: str, *, relay_factor: int | None = None, token: str | None = None
    ) -> tuple[None, Meta]:
        """Remove a key that is not the primary one (``DELETE /v1/operator/keyring``)."""
        return await self._keyring("DELETE", key, relay_factor, token)

    # -- usage --------------------------------------------------------------------------

    async def usage(
        self, *, global_: bool = False, dc: str | None = None,
        consistency: Consistency | str | None = None, token: str | None = None,
    ) -> tuple[Object, Meta]:
        """Service and node counts (``GET /v1/operator/usage``): ``{"Usage": {dc: {Services,
        ServiceInstances, ConnectServiceInstances, BillableServiceInstances, Nodes}}}``;
        ``global_`` asks every datacenter."""
        params = [("global", "")] if global_ else []
        data, meta = await self._core.request(
            "GET", "/v1/operator/usage", params=params, dc=dc, consistency=consistency,
            token=token)
        return dict(data or {}), meta

    # -- Enterprise only ------------------------------------------------------------------

    async def areas(
        self, *, dc: str | None = None, token: str | None = None
    ) -> tuple[Collection, Meta]:
        """**Enterprise**: the network areas (``GET /v1/operator/area``). CE answers 404."""
        data, meta = await self._core.request("GET", "/v1/operator/area", dc=dc, token=token)
        return list(data or []), meta

    async def area_create(
        self, area: Mapping[str, Any], *, dc: str | None = None, token: str | None = None
    ) -> tuple[str, Meta]:
        """**Enterprise**: create a network area (``POST /v1/operator/area``) from
        ``{"PeerDatacenter", "RetryJoin", "UseTLS"}``; ``(its ID, meta)``."""
        if not isinstance(area, Mapping) or not area.get("PeerDatacenter"):
            raise ValueError("area: a mapping with PeerDatacenter is required")
        data, meta = await self._core.request(
            "POST", "/v1/operator/area", json=dict(area), dc=dc, token=token)
        return str((data or {}).get("ID", "")), meta

    async def area_get(
        self, area_id: str, *, dc: str | None = None, token: str | None = None
    ) -> tuple[Collection, Meta]:
        """**Enterprise**: one network area (``GET /v1/operator/area/<id>``)."""
        path = id_path("/v1/operator/area/", area_id, "area_id")
        data, meta = await self._core.request("GET", path, dc=dc, token=token)
        return list(data or []), meta

    async def area_update(
        self, area_id: str, area: Mapping[str, Any], *, dc: str | None = None,
        token: str | None = None,
    ) -> tuple[str, Meta]:
        """**Enterprise**: update a network area (``PUT /v1/operator/area/<id>``)."""
        if not isinstance(area, Mapping):
            raise TypeError(f"area: expected a mapping, got {type(area).__name__}")
        path = id_path("/v1/operator/area/", area_id, "area_id")
        data, meta = await self._core.request("PUT", path, json=dict(area), dc=dc, token=token)
        return str((data or {}).get("ID", "")), meta

    async def area_delete(
        self, area_id: str, *, dc: str | None = None, token: str | None = None
    ) -> tuple[None, Meta]:
        """**Enterprise**: delete a network area (``DELETE /v1/operator/area/<id>``)."""
        path = id_path("/v1/operator/area/", area_id, "area_id")
        _, meta = await self._core.request("DELETE", path, dc=dc, token=token)
        return None, meta

    async def area_join(
        self, area_id: str, addresses: Sequence[str], *, dc: str | None = None,
        token: str | None = None,
    ) -> tuple[Collection, Meta]:
        """**Enterprise**: join servers into a network area
        (``PUT /v1/operator/area/<id>/join``)."""
        if isinstance(addresses, str) or not all(isinstance(a, str) for a in addresses):
            raise TypeError("addresses: expected a sequence of strings")
        path = id_path("/v1/operator/area/", area_id, "area_id") + "/join"
        data, meta = await self._core.request(
            "PUT", path, json=list(addresses), dc=dc, token=token)
        return list(data or []), meta

    async def area_members(
        self, area_id: str, *, dc: str | None = None, token: str | None = None
    ) -> tuple[Collection, Meta]:
        """**Enterprise**: a network area's members (``GET /v1/operator/area/<id>/members``)."""
        path = id_path("/v1/operator/area/", area_id, "area_id") + "/members"
        data, meta = await self._core.request("GET", path, dc=dc, token=token)
        return list(data or []), meta

    async def segments(
        self, *, dc: str | None = None, token: str | None = None
    ) -> tuple[list[str], Meta]:
        """**Enterprise**: the network segments (``GET /v1/operator/segment``)."""
        data, meta = await self._core.request("GET", "/v1/operator/segment", dc=dc, token=token)
        return list(data or []), meta

    async def license(
        self, *, signed: bool = False, dc: str | None = None, token: str | None = None
    ) -> tuple[Any, Meta]:
        """**Enterprise**: the license (``GET /v1/operator/license``); with ``signed`` the
        signed blob, as text."""
        params = [("signed", "1")] if signed else []
        data, meta = await self._core.request(
            "GET", "/v1/operator/license", params=params, dc=dc, raw=signed, token=token)
        if signed:
            return (data or b"").decode() if isinstance(data, bytes) else data, meta
        return dict(data or {}), meta

    async def utilization(
        self, *, message: str | None = None, today_only: bool = False,
        send_report: bool = False, token: str | None = None,
    ) -> tuple[Object, Meta]:
        """**Enterprise**: the license utilization bundle (``GET /v1/operator/utilization``).
        CE answers 404 "operator utilization requires Consul Enterprise"."""
        params: list[tuple[str, str]] = []
        if message is not None:
            params.append(("message", message))
        if today_only:
            params.append(("today_only", "true"))
        if send_report:
            params.append(("send_report", "true"))
        data, meta = await self._core.request(
            "GET", "/v1/operator/utilization", params=params, token=token)
        return dict(data or {}), meta

    async def audit_hash(self, input: str, *, token: str | None = None) -> tuple[str, Meta]:
        """**Enterprise**: the audit log's hash of ``input`` (``POST /v1/operator/audit-hash``);
        ``("hmac_sha256:...", meta)``."""
        normalize.text(input, "input", empty=True)
        data, meta = await self._core.request(
            "POST", "/v1/operator/audit-hash", json={"Input": input}, token=token)
        return str((data or {}).get("Hash", "")), meta

    async def features(
        self, *, dc: str | None = None, token: str | None = None
    ) -> tuple[Collection, Meta]:
        """The feature gates (``GET /v1/operator/features``): newer than Consul 1.21, whose
        agents answer 404."""
        data, meta = await self._core.request(
            "GET", "/v1/operator/features", dc=dc, token=token)
        return list(data or []), meta

    async def feature(
        self, name: str, *, dc: str | None = None, token: str | None = None
    ) -> tuple[Object, Meta]:
        """One feature gate (``GET /v1/operator/feature/<name>``); newer than Consul 1.21."""
        path = id_path("/v1/operator/feature/", name, "name", "Name")
        data, meta = await self._core.request("GET", path, dc=dc, token=token)
        return dict(data or {}), meta

    async def set_feature(
        self, name: str, enabled: bool, *, cas: int | None = None, token: str | None = None
    ) -> tuple[Object, Meta]:
        """Turn a feature gate on or off (``PUT /v1/operator/feature/<name>``), with ``cas``
        the ``PolicyIndex`` read; ``({"Applied", "Feature"}, meta)``. Newer than Consul 1.21."""
        normalize.flag(enabled, "enabled")
        params = _cas(cas, "a PolicyIndex")
        path = id_path("/v1/operator/feature/", name, "name", "Name")
        data, meta = await self._core.request(
            "PUT", path, params=params, json={"Enabled": enabled}, token=token)
        return dict(data or {}), meta
