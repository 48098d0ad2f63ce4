"""Peer streams between dev agents: Consul's peering gRPC services, in one process.

Real Consul peers over gRPC: the dialing cluster exchanges the token's establishment secret
for a stream secret (``PeerStreamService.ExchangeSecret``), opens ``StreamResources`` to a
server address from the token, and both ends replicate what they export to the other over
that stream (``agent/grpc-external/services/peerstream``); a stream tracker tells the peering
endpoints whether the stream is connected (``reconcilePeering``: ACTIVE, FAILING).

The dev agent has no gRPC listener, so this module stands in for the network: every agent
that generated a peering token is reachable in :data:`_REGISTRY` under the address its token
names (the ``host:port`` of its HTTP listener, not Consul's gRPC port), and a dialing agent
calls the accepting agent's :class:`Peerings` directly. Everything above the transport is
Consul's: the secrets and their one-time use, the stream's checks and texts, the exported
services of ``exportedServicesForPeerTxn`` sent with their checks flattened into one
``<id>:overall-check`` and connect fields scrubbed (``subscription_manager.go``), imported with
the local peer name (``health_snapshot.go``), termination when either side deletes, the
tracker's imported/exported lists and times. Two agents in different processes cannot peer
(the dial fails as a refused connection does).

Each :class:`_Stream` is one asyncio task owned by the dialing agent; it re-sends whenever a
write on either agent touches the catalog, the config entries or the peerings, and records a
heartbeat every 15 s. :meth:`Peerings.close` ends the agent's streams (the peer sees them
fail) and leaves the registry.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from ..state.catalog import CHECKS, NODES, SERVICES
from ..state.config_entry import CONFIG_ENTRIES
from ..state.memdb import RPCError
from ..state.peering import (
    ACTIVE,
    DELETING,
    FAILING,
    PEERING_TABLE,
    PeeringTable,
    exported_services_for_peer,
    is_active,
)

if TYPE_CHECKING:
    from ..state.catalog import Catalog
    from ..state.store import Store
    from ..state.watch import Watch

__all__ = ["GRPCError", "Peerings"]

Record = dict[str, Any]

#: The agents reachable by peering, by the address their tokens carry (the in-process network).
_REGISTRY: dict[str, Peerings] = {}

HEARTBEAT_INTERVAL: Final = 15.0  # peerstream's outgoingHeartbeatInterval default
ESTABLISHMENT_TIMEOUT: Final = 3.0  # rpc/peering establishmentTimeout
_RETRY_WAIT: Final = 0.15  # retryExchange's 150 ms between addresses (jittered)
_WATCHED: Final = (SERVICES, NODES, CHECKS, CONFIG_ENTRIES, PEERING_TABLE)
_SYNTHETIC_PROXY_SUFFIX: Final = "-sidecar-proxy"
_STATUS_SCORES: Final = {"maintenance": 1, "critical": 2, "warning": 3, "passing": 4}


class GRPCError(RPCError):
    """A gRPC status error as a Go client prints it: ``rpc error: code = C desc = M``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"rpc error: code = {code} desc = {message}")
        self.code = code
        self.message = message


def _multierror(errors: list[str]) -> str:
    """go-multierror's text."""
    points = "\n\t".join(f"* {e}" for e in errors)
    noun = "error" if len(errors) == 1 else "errors"
    return f"{len(errors)} {noun} occurred:\n\t{points}\n\n"


def _flatten_checks(node: str, service_id: str, service: str, checks: list[Record]) -> list[Record]:
    """flattenChecks: an instance's checks become one ``overall-check`` (none without checks).

    Maintenance always wins; otherwise the worst of critical, warning, passing.
    """
    if not checks:
        return []
    status = "passing"
    for check in checks:
        if check["CheckID"] == "_node_maintenance" or check["CheckID"].startswith(
            "_service_maintenance:"
        ):
            status = "maintenance"
            break
        if _STATUS_SCORES.get(check["Status"], 0) < _STATUS_SCORES[status]:
            status = check["Status"]
    service_id = service_id or service
    return [{
        "Node": node, "CheckID": f"{service_id}:overall-check", "Name": "overall-check",
        "Status": status, "Notes": "", "Output": "", "ServiceID": service_id,
        "ServiceName": service, "ServiceTags": None, "Type": "", "Interval": "", "Timeout": "",
        "ExposedPort": 0, "Definition": {}, "CreateIndex": 0, "ModifyIndex": 0,
    }]


class Peerings:
    """One agent's peerings: the state table, the stream tracker and the streams."""

    def __init__(
        self,
        store: Store,
        catalog: Catalog,
        watch: Watch,
        *,
        datacenter: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.table = PeeringTable(store)
        self.store = store
        self.catalog = catalog
        self.watch = watch
        self.datacenter = datacenter
        self.clock = clock
        #: The CA's cluster ID; the built-in CA, when the agent has one, should set it (and
        #: :attr:`ca_pems`) so tokens carry its trust domain and roots as Consul's do.
        self.cluster_id = str(uuid.uuid4())
        self.ca_pems: list[str] | None = None
        #: The address this agent's tokens carry (set when the first token is generated).
        self.address: str | None = None
        self._tracker: dict[str, Record] = {}  # peering ID -> stream status
        self._streams: dict[str, _Stream] = {}  # our peering ID -> stream (either end)
        self._reaps: set[asyncio.Handle] = set()
        self.closed = False

    # -- what the endpoints ask ---------------------------------------------------------------

    @property
    def server_name(self) -> str:
        """connect.PeeringServerSAN: ``server.<dc>.peering.<trust domain>``."""
        return f"server.{self.datacenter}.peering.{self.cluster_id}.consul"

    def serve(self, address: str) -> None:
        """Become reachable at ``address`` (the first agent to claim it keeps it)."""
        if self.closed:
            return
        owner = _REGISTRY.get(address)
        if owner is None or owner.closed:
            _REGISTRY[address] = self
        if self.address is None:
            self.address = address

    def reconcile(self, peering: Record) -> tuple[str, Record | None]:
        """reconcilePeering: the state to report and the tracker's status (None if unknown)."""
        status = self._tracker.get(peering["ID"].lower())
        if status is None:
            return peering["State"], None
        if status["Connected"]:
            return ACTIVE, status
        if status["DisconnectErrorMessage"]:
            return FAILING, status
        return peering["State"], status

    def _track(self, peering_id: str) -> Record:
        """Tracker.Connected: a new or reconnected stream."""
        status = self._tracker.setdefault(peering_id.lower(), {
            "Connected": False, "DisconnectErrorMessage": "", "ImportedServices": None,
            "ExportedServices": None, "LastHeartbeat": None, "LastReceive": 0.0,
            "LastSend": 0.0,
        })
        status["Connected"] = True
        status["DisconnectErrorMessage"] = ""
        return status

    def _disconnect(self, peering_id: str, error: str = "") -> None:
        status = self._tracker.get(peering_id.lower())
        if status is not None:
            status["Connected"] = False
            status["DisconnectErrorMessage"] = error

    # -- the accepting side (PeerStreamService) ------------------------------------------------

    def exchange_secret(self, peer_id: str, establishment: str) -> str:
        """ExchangeSecret: the token's one-time secret for a pending stream secret."""
        secrets = self.table.secrets(peer_id)
        if secrets is None or not establishment or secrets["Establishment"] != establishment:
            raise GRPCError("PermissionDenied", "invalid peering establishment secret")
        pending = str(uuid.uuid4())
        try:
            self.table.write_secrets(peer_id, ("exchange", establishment, pending))
        except RPCError as exc:
            raise GRPCError("Internal", f"failed to persist peering secret: {exc}") from None
        return pending

    def _open(self, peer_id: str, stream_secret: str, remote: Record) -> Record:
        """StreamResources' checks of the Open message; promotes a pending secret."""
        if not peer_id:
            raise GRPCError(
                "InvalidArgument", "initial subscription request must specify a PeerID"
            )
        _, peering = self.table.read_by_id(peer_id)
        if peering is None:
            raise GRPCError(
                "InvalidArgument", "initial subscription for unknown PeerID: " + peer_id
            )
        if not is_active(peering):
            raise GRPCError("Aborted", "peering is marked as deleted: " + peer_id)
        secrets = self.table.secrets(peer_id)
        if secrets is None:
            raise GRPCError(
                "Internal", "unable to authorize connection, peering must be re-established"
            )
        authorized = bool(secrets["Active"]) and secrets["Active"] == stream_secret
        if secrets["Pending"] and not authorized:
            if secrets["Pending"] != stream_secret:
                raise GRPCError("PermissionDenied", "invalid peering stream secret")
            authorized = True
            try:
                self.table.write(dict(peering, Remote=dict(remote)),
                                 ("promote", secrets["Pending"]))
            except RPCError as exc:
                raise GRPCError("Internal", f"failed to persist peering: {exc}") from None
        if not authorized:
            raise GRPCError("PermissionDenied", "invalid peering stream secret")
        if peering["PeerID"]:
            raise GRPCError(
                "InvalidArgument",
                "expected PeerID to be empty; the wrong end of peering is being dialed",
            )
        return self.table.read_by_id(peer_id)[1] or peering

    # -- the dialing side -----------------------------------------------------------------------

    async def exchange(self, addresses: list[str], peer_id: str, secret: str) -> str:
        """exchangeSecret / retryExchange: each address in turn for up to 3 s.

        A refused secret fails at once ("a new peering token must be generated"); otherwise
        every failed attempt is collected into the go-multierror Consul returns.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + ESTABLISHMENT_TIMEOUT
        errors: list[str] = []
        attempt = 0
        while True:
            addr = addresses[attempt % len(addresses)]
            attempt += 1
            acceptor = _REGISTRY.get(addr)
            if acceptor is None or acceptor.closed:
                errors.append(
                    f'failed to exchange peering secret through address "{addr}": rpc error: '
                    'code = Unavailable desc = connection error: desc = "transport: Error while '
                    f'dialing: dial tcp {addr}: connect: connection refused"'
                )
            else:
                try:
                    return acceptor.exchange_secret(peer_id, secret)
                except GRPCError as exc:
                    if exc.code == "PermissionDenied":
                        raise GRPCError(
                            "PermissionDenied", f"a new peering token must be generated: "
                            f"{exc.message}"
                        ) from None
                    errors.append(
                        f'failed to exchange peering secret through address "{addr}": {exc}'
                    )
            wait = _RETRY_WAIT * (1 + random.random() * 0.25)
            if loop.time() + wait >= deadline:
                raise RPCError(_multierror(errors))
            await asyncio.sleep(wait)

    def connect(self, peering: Record, stream_secret: str) -> None:
        """establishStream: open the stream to the peer's server and replicate once.

        A failure leaves the peering FAILING, as a stream that cannot be opened does.
        """
        old = self._streams.pop(peering["ID"].lower(), None)
        if old is not None:
            old.end("dialer", terminate=False)
        addresses = peering.get("ManualServerAddresses") or peering.get("PeerServerAddresses")
        acceptor = None
        for addr in addresses or ():
            candidate = _REGISTRY.get(addr)
            if candidate is not None and not candidate.closed:
                acceptor = candidate
                break
        self._track(peering["ID"])
        if acceptor is None:
            self._disconnect(peering["ID"], "connection refused")
            return
        remote = {"Partition": "default", "Datacenter": self.datacenter}
        try:
            accepted = acceptor._open(peering["PeerID"], stream_secret, remote)
        except GRPCError as exc:
            self._disconnect(peering["ID"], str(exc))
            return
        stream = _Stream(self, peering["ID"], acceptor, accepted["ID"])
        self._streams[peering["ID"].lower()] = stream
        acceptor._streams[accepted["ID"].lower()] = stream
        acceptor._track(accepted["ID"])
        stream.start()

    # -- deletion (leader_peering.go) ----------------------------------------------------------

    def marked_for_deletion(self, peering: Record) -> None:
        """A peering was marked DELETING: its stream ends (the peer is told), then the leader
        removes its imported data and the peering itself."""
        stream = self._streams.pop(peering["ID"].lower(), None)
        if stream is not None:
            stream.end("dialer" if stream.dialer is self else "acceptor")
        self._schedule_reap(peering["Name"], peering["ID"])

    def _schedule_reap(self, name: str, peering_id: str) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # outside the agent's loop (a backend built by hand)
            return
        handle: asyncio.Handle

        def reap() -> None:
            self._reaps.discard(handle)
            if self.closed:
                return
            self.table.drop_imported(name)
            try:
                self.table.delete(name)
            except RPCError:
                return
            self._tracker.pop(peering_id.lower(), None)

        handle = loop.call_soon(reap)
        self._reaps.add(handle)

    # -- lifecycle and snapshots ---------------------------------------------------------------

    def close(self) -> None:
        """The agent stops: its streams fail for the peer, it leaves the registry."""
        self.closed = True
        for address, owner in list(_REGISTRY.items()):
            if owner is self:
                del _REGISTRY[address]
        for stream in list(self._streams.values()):
            stream.end("failure")
        self._streams.clear()
        for handle in self._reaps:
            handle.cancel()
        self._reaps.clear()

    def dump(self) -> dict[str, Any]:
        """The peering tables (the tracker is not replicated state)."""
        return self.table.dump()

    def load(self, data: dict[str, Any]) -> None:
        """Replace the peering tables; streams end and the tracker starts empty, as after a
        restore; peerings marked for deletion are then removed by the leader."""
        for stream in list(self._streams.values()):
            stream.end("failure")
        self._streams.clear()
        self._tracker.clear()
        self.table.load(data)
        for peering in self.table.list_deleted():
            self._schedule_reap(peering["Name"], peering["ID"])


class _Stream:
    """One peering stream between a dialing and an accepting agent (the dialer's task)."""

    def __init__(self, dialer: Peerings, dialer_id: str, acceptor: Peerings, acceptor_id: str):
        self.dialer, self.dialer_id = dialer, dialer_id
        self.acceptor, self.acceptor_id = acceptor, acceptor_id
        self.task: asyncio.Task[None] | None = None
        self.ended = False

    def start(self) -> None:
        self.sync()
        if not self.ended:
            self.task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while not self.ended:
            woke = await self._wait()
            if self.ended:
                return
            if self.dialer.watch.closed or self.acceptor.watch.closed:
                self.end("failure")
                return
            if not woke:
                self._heartbeat()
            self.sync()

    async def _wait(self) -> bool:
        """Until a write on either agent touches what the stream sends, or a heartbeat."""
        waits = [
            asyncio.ensure_future(side.watch.wait(_WATCHED, HEARTBEAT_INTERVAL))
            for side in (self.dialer, self.acceptor)
        ]
        try:
            done, _ = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()
        return any(not w.cancelled() and w.result() for w in done)

    def _heartbeat(self) -> None:
        now = self.dialer.clock()
        for side, peering_id in ((self.dialer, self.dialer_id),
                                 (self.acceptor, self.acceptor_id)):
            status = side._tracker.get(peering_id.lower())
            if status is not None:
                status["LastHeartbeat"] = now
                status["LastReceive"] = now

    def sync(self) -> None:
        """One round of replication both ways, or the end of the stream."""
        _, accepted = self.acceptor.table.read_by_id(self.acceptor_id)
        _, dialed = self.dialer.table.read_by_id(self.dialer_id)
        if not is_active(accepted):
            self.end("acceptor")
            return
        if not is_active(dialed):
            self.end("dialer")
            return
        assert accepted is not None and dialed is not None
        self._replicate(self.acceptor, accepted, self.dialer, dialed)
        self._replicate(self.dialer, dialed, self.acceptor, accepted)

    @staticmethod
    def _replicate(src: Peerings, src_peering: Record, dst: Peerings, dst_peering: Record) -> None:
        _, names = exported_services_for_peer(src.store, src.catalog, src_peering)
        changed = False
        for name in names:
            changed |= dst.table.import_service(dst_peering["Name"], name, _export(src, name))
        for name in list(dst.table.imported_services(dst_peering["Name"])):
            if name not in names:
                changed |= dst.table.import_service(dst_peering["Name"], name, [])
        sent = src._tracker.get(src_peering["ID"].lower())
        received = dst._tracker.get(dst_peering["ID"].lower())
        now = src.clock()
        if sent is not None:
            if changed or sent["ExportedServices"] is None:
                sent["LastSend"] = now
            sent["ExportedServices"] = list(names)
        if received is not None:
            if changed or received["ImportedServices"] is None:
                received["LastReceive"] = now
            received["ImportedServices"] = list(names)

    def end(self, by: str, *, terminate: bool = True) -> None:
        """The stream ends: ``by`` the dialer or the acceptor deleting (the other side is
        terminated), or by a ``failure`` (both sides see it fail)."""
        if self.ended:
            return
        self.ended = True
        error = "stream ended unexpectedly" if by == "failure" else ""
        self.dialer._disconnect(self.dialer_id, error)
        self.acceptor._disconnect(self.acceptor_id, error)
        if terminate and by in ("dialer", "acceptor"):
            other, other_id = ((self.acceptor, self.acceptor_id) if by == "dialer"
                               else (self.dialer, self.dialer_id))
            _, peering = other.table.read_by_id(other_id)
            if peering is not None and is_active(peering) and peering["State"] != DELETING:
                other.table.terminate_by_id(other_id)
        for side, peering_id in ((self.dialer, self.dialer_id),
                                 (self.acceptor, self.acceptor_id)):
            if side._streams.get(peering_id.lower()) is self:
                del side._streams[peering_id.lower()]
        task = self.task
        if task is not None and task is not asyncio.current_task():
            task.cancel()


def _export(src: Peerings, service: str) -> list[Record]:
    """The instances the exporting agent sends for one service (subscription_manager.go):
    typical services only, connect fields and virtual IPs scrubbed, checks flattened."""
    _, rows = src.catalog.check_service_nodes(service)
    out: list[Record] = []
    for node, svc, checks in rows:
        if svc["Kind"] or svc["Service"].endswith(_SYNTHETIC_PROXY_SUFFIX):
            continue
        scrubbed = dict(svc, Connect={}, Proxy={})
        tagged = dict(svc["TaggedAddresses"] or {})
        tagged.pop("consul-virtual", None)
        scrubbed["TaggedAddresses"] = tagged or None
        out.append({
            "Node": dict(node),
            "Service": scrubbed,
            "Checks": _flatten_checks(node["Node"], svc["ID"], svc["Service"], checks),
        })
    return out
