"""The Connect CA tables of the dev agent's state store and the leader's CA manager.

Consul's ``agent/consul/state/connect_ca.go`` (the ``connect-ca-config`` record, the
``connect-ca-roots`` table with its CAS set, the built-in provider's states by ID, the
``connect-ca-builtin-serial`` counter and the ``connect-ca-leaf-certs`` index) and, over them,
the primary datacenter's half of ``agent/consul/leader_connect_ca.go`` (``CAManager``:
``InitializeCA``, ``UpdateConfiguration``/``primaryUpdateRootCA`` with cross-signing,
``AuthorizeAndSignCertificate``/``SignCertificate``) with the built-in ``consul`` provider of
``agent/connect/ca/provider_consul.go``. The certificates themselves are made by
:mod:`aioconsul.testing.connect.ca`.

Every Raft apply of Consul's (a provider state written or deleted, a serial number taken, the
roots and config set, a leaf's index) spends one index of the store, so the indexes move as
Consul's do. The CA is bootstrapped as ``consul agent -dev`` does when it becomes leader: the
configuration at index 6, the root (serial 7) at index 8, within the bootstrap entries; the
root's key and certificate are made the first time they are needed, so an agent that never
touches Connect never needs ``cryptography``. Errors are :class:`~.memdb.RPCError` with
Consul's texts. No I/O; certificate times come from ``wall_clock`` (Unix seconds).

:meth:`ConnectCATable.dump`/:meth:`~ConnectCATable.load` carry the whole table (snapshots).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from ..connect import ca
from ..connect.uri import (
    CertURI,
    CertURIError,
    SpiffeIDAgent,
    SpiffeIDService,
    parse_cert_uri,
    spiffe_id_signing_for_cluster,
)
from .memdb import Restore, RPCError, generate_uuid

if TYPE_CHECKING:
    from .store import Store

__all__ = [
    "CA_CONFIG_TABLE",
    "CA_ROOTS_TABLE",
    "ERR_CONNECT_NOT_ENABLED",
    "ERR_STATE_READ_ONLY",
    "ConnectCATable",
    "roots_json",
]

Record = dict[str, Any]

CA_CONFIG_TABLE: Final = "connect-ca-config"
CA_ROOTS_TABLE: Final = "connect-ca-roots"
ERR_CONNECT_NOT_ENABLED: Final = "Connect must be enabled in order to use this endpoint"
ERR_STATE_READ_ONLY: Final = "CA Provider State is read-only"
_CROSS_SIGNING_UNSUPPORTED: Final = (
    "The current CA Provider does not support cross-signing. You can try again with "
    "ForceWithoutCrossSigningSet but this may cause disruption - see documentation for more."
)
_BOOTSTRAP_CONFIG_INDEX: Final = 6
_BOOTSTRAP_ROOTS_INDEX: Final = 8
#: The providers Consul knows (newProvider); the dev agent runs only the built-in one.
_EXTERNAL_PROVIDERS: Final = ("vault", "aws-pca")


def roots_json(index: int, roots: list[Record], trust_domain: str) -> Record:
    """getCARoots: ``IndexedCARoots`` with each root's public fields only."""
    shown = []
    active = ""
    for r in roots:
        root_cert = r["RootCert"] if r["RootCert"].endswith("\n") else r["RootCert"] + "\n"
        shown.append({
            "ID": r["ID"],
            "Name": r["Name"],
            "SerialNumber": r["SerialNumber"],
            "SigningKeyID": r["SigningKeyID"],
            "ExternalTrustDomain": r["ExternalTrustDomain"],
            "NotBefore": r["NotBefore"],
            "NotAfter": r["NotAfter"],
            "RootCert": root_cert,
            "IntermediateCerts": list(r["IntermediateCerts"])
            if r["IntermediateCerts"] is not None else None,
            "Active": r["Active"],
            "PrivateKeyType": r["PrivateKeyType"],
            "PrivateKeyBits": r["PrivateKeyBits"],
            "CreateIndex": r["CreateIndex"],
            "ModifyIndex": r["ModifyIndex"],
        })
        if r["Active"]:
            active = r["ID"]
    return {"ActiveRootID": active, "TrustDomain": trust_domain, "Roots": shown}


class ConnectCATable:
    """The CA configuration, roots, provider states and counters, and the CA manager."""

    def __init__(
        self,
        store: Store,
        *,
        datacenter: str,
        enabled: bool = True,
        cluster_id: str | None = None,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.store: Final = store
        self.datacenter = datacenter
        #: ``connect.enabled``: with it off every CA RPC answers ErrConnectNotEnabled.
        self.enabled = enabled
        self.wall_clock = wall_clock
        #: The agents' leaf-certificate jitter after a root rotation, in seconds (leafcert's
        #: caChangeJitterWindow: a new leaf is fetched at a random moment within it). Consul's
        #: tests shorten it with TestOverrideCAChangeInitialDelay; a test here may set it to 0.
        self.ca_change_jitter = 30.0
        self._config: Record = {
            "ClusterID": cluster_id or generate_uuid(),
            "Provider": "consul",
            "Config": dict(ca.DEFAULT_CA_CONFIG),
            "State": None,
            "ForceWithoutCrossSigning": False,
            "CreateIndex": _BOOTSTRAP_CONFIG_INDEX,
            "ModifyIndex": _BOOTSTRAP_CONFIG_INDEX,
        }
        self._roots: list[Record] = []
        self._roots_index = 0
        self._providers: dict[str, Record] = {}  # ID -> CAConsulProviderState
        self._provider_index = 0
        self._serial: int | None = None  # connect-ca-builtin-serial
        self._leaf_index = 0  # connect-ca-leaf-certs
        self._active_provider = ""  # the ID of the provider the leader signs with
        self._bootstrapped = False
        store._register_table(self._snapshot)

    # -- snapshots -------------------------------------------------------------------------

    def _state(self) -> tuple[Any, ...]:
        return (self._config, self._roots, self._roots_index, self._providers,
                self._provider_index, self._serial, self._leaf_index, self._active_provider,
                self._bootstrapped)

    def _snapshot(self) -> Restore:
        saved = copy.deepcopy(self._state())

        def restore() -> None:
            (self._config, self._roots, self._roots_index, self._providers,
             self._provider_index, self._serial, self._leaf_index, self._active_provider,
             self._bootstrapped) = saved

        return restore

    def dump(self) -> dict[str, Any]:
        """The whole table, JSON-serializable (PEM texts as they are)."""
        self._ensure_root()
        return copy.deepcopy({
            "config": self._config,
            "roots": self._roots,
            "roots_index": self._roots_index,
            "providers": self._providers,
            "provider_index": self._provider_index,
            "serial": self._serial,
            "leaf_index": self._leaf_index,
            "active_provider": self._active_provider,
        })

    def load(self, data: dict[str, Any]) -> None:
        """Replace the whole table with what :meth:`dump` returned."""
        data = copy.deepcopy(data)
        self._config = data["config"]
        self._roots = data["roots"]
        self._roots_index = data["roots_index"]
        self._providers = data["providers"]
        self._provider_index = data["provider_index"]
        self._serial = data["serial"]
        self._leaf_index = data["leaf_index"]
        self._active_provider = data["active_provider"]
        self._bootstrapped = True
        self.store.touch(CA_CONFIG_TABLE, CA_ROOTS_TABLE)
        self.store.commit()

    # -- the Raft applies --------------------------------------------------------------------

    def _check_enabled(self) -> None:
        if not self.enabled:
            raise RPCError(ERR_CONNECT_NOT_ENABLED)

    def _apply(self) -> int:
        return self.store.next_index()

    def _next_serial(self, index: int | None = None) -> int:
        """CAIncrementProviderSerialNumber (bootstrapped from the provider table's index)."""
        if index is None:
            index = self._apply()
        last = self._serial if self._serial is not None else self._provider_index
        self._serial = last + 1
        return self._serial

    def _set_provider(self, state: Record, index: int | None = None) -> None:
        """CASetProviderState."""
        if index is None:
            index = self._apply()
        existing = self._providers.get(state["ID"])
        stored = dict(state)
        stored["CreateIndex"] = existing["CreateIndex"] if existing else index
        stored["ModifyIndex"] = index
        self._providers[state["ID"]] = stored
        self._provider_index = index

    def _delete_provider(self, provider_id: str) -> None:
        """CADeleteProviderState: the index moves only when there was one."""
        index = self._apply()
        if self._providers.pop(provider_id, None) is not None:
            self._provider_index = index

    def _set_roots(self, roots: list[Record], index: int) -> None:
        """CARootSetCAS (the caller read the index it checks): every root's ModifyIndex is
        the write's, CreateIndex is kept for a root already stored."""
        if sum(1 for r in roots if r["Active"]) != 1:
            raise RPCError("there must be exactly one active CA")
        existing = {r["ID"]: r for r in self._roots}
        for r in roots:
            old = existing.get(r["ID"])
            r["CreateIndex"] = old["CreateIndex"] if old else index
            r["ModifyIndex"] = index
        self._roots = roots
        self._roots_index = index
        self.store.touch(CA_ROOTS_TABLE)

    def _set_config(self, config: Record, index: int) -> None:
        """caSetConfigTxn: CreateIndex kept, the cluster ID kept unless the write names one."""
        stored = dict(config)
        stored["CreateIndex"] = self._config["CreateIndex"]
        stored["ModifyIndex"] = index
        if not stored.get("ClusterID"):
            stored["ClusterID"] = self._config["ClusterID"]
        self._config = stored
        self.store.touch(CA_CONFIG_TABLE)

    # -- the built-in provider ---------------------------------------------------------------

    def _configure(self, raw: Any, *, bootstrap_index: int | None = None) -> tuple[
            ca.ConsulCAConfig, str]:
        """ConsulProvider.Configure: parse, and make sure a provider state exists for its ID."""
        try:
            config = ca.parse_consul_ca_config(raw if isinstance(raw, dict) else {})
        except ca.CAConfigError as exc:
            raise RPCError(f"error configuring provider: {exc}") from None
        provider_id = ca.provider_id(config)
        if provider_id not in self._providers:
            self._set_provider({"ID": provider_id, "PrivateKey": "", "RootCert": "",
                                "IntermediateCert": ""}, bootstrap_index)
        return config, provider_id

    def _generate_root(self, config: ca.ConsulCAConfig, provider_id: str, *,
                       bootstrap: bool = False) -> str:
        """ConsulProvider.GenerateCAChain: the provider's root, made once per provider ID."""
        state = self._providers[provider_id]
        if state["RootCert"]:
            return str(state["RootCert"])
        new = dict(state)
        try:
            new["PrivateKey"] = config.private_key or ca.generate_private_key(
                config.private_key_type, config.private_key_bits)
            if config.root_cert:
                new["RootCert"] = config.root_cert
            else:
                serial = self._next_serial(0 if bootstrap else None)
                new["RootCert"] = ca.generate_root(
                    new["PrivateKey"], serial, self._config["ClusterID"], config.root_cert_ttl,
                    self.wall_clock())
        except ca.CAConfigError as exc:
            raise RPCError(f"error generating CA root certificate: {exc}") from None
        self._set_provider(new, _BOOTSTRAP_ROOTS_INDEX - 1 if bootstrap else None)
        return str(new["RootCert"])

    def _root_record(self, pem: str, provider: str) -> Record:
        try:
            return ca.root_record(pem, provider, self._config["ClusterID"])
        except ca.CAConfigError as exc:
            raise RPCError(str(exc)) from None

    def _ensure_root(self) -> None:
        """InitializeCA/primaryInitialize, done the first time the CA is needed, at the
        bootstrap indexes (provider state 6, serial 7, roots 8)."""
        if self._bootstrapped:
            return
        config, provider_id = self._configure(self._config["Config"],
                                              bootstrap_index=_BOOTSTRAP_CONFIG_INDEX)
        self._serial = _BOOTSTRAP_ROOTS_INDEX - 2
        pem = self._generate_root(config, provider_id, bootstrap=True)
        root = self._root_record(pem, self._config["Provider"])
        self._set_roots([root], _BOOTSTRAP_ROOTS_INDEX)
        self._active_provider = provider_id
        self._bootstrapped = True

    # -- reads -------------------------------------------------------------------------------

    def config(self) -> tuple[int, Record]:
        """CAConfig: (ModifyIndex, a copy of the record, ``ClusterID`` included)."""
        self._check_enabled()
        return self._config["ModifyIndex"], copy.deepcopy(self._config)

    @property
    def trust_domain(self) -> str:
        return spiffe_id_signing_for_cluster(self._config["ClusterID"]).host()

    def roots(self) -> tuple[int, list[Record], Record]:
        """CARootsAndConfig: the larger of the two indexes, the roots, the config."""
        self._check_enabled()
        self._ensure_root()
        index = max(self._roots_index, self._config["ModifyIndex"])
        return index, copy.deepcopy(self._roots), copy.deepcopy(self._config)

    def active_root(self) -> Record:
        self._ensure_root()
        return copy.deepcopy(next(r for r in self._roots if r["Active"]))

    # -- UpdateConfiguration -----------------------------------------------------------------

    def set_config(self, request: Record) -> None:
        """CAManager.UpdateConfiguration in the primary datacenter (``request`` is the decoded
        ``structs.CAConfiguration`` body)."""
        self._check_enabled()
        self._ensure_root()
        current = self._config
        state = request.get("State") or None
        if state and state != current["State"]:
            raise RPCError(ERR_STATE_READ_ONLY)
        provider = request.get("Provider", "")
        raw = request.get("Config")
        if provider == current["Provider"] and raw == current["Config"]:
            return
        new_config: Record = {
            "ClusterID": current["ClusterID"],
            "Provider": provider,
            "Config": raw,
            "State": current["State"] if provider == current["Provider"] else state,
            "ForceWithoutCrossSigning": bool(request.get("ForceWithoutCrossSigning")),
        }
        if provider != "consul":
            if provider in _EXTERNAL_PROVIDERS:
                raise RPCError(
                    f"error configuring provider: the dev agent has no {provider} CA provider")
            raise RPCError(f'could not initialize provider: unknown CA provider "{provider}"')
        old_id = self._active_provider
        config, provider_id = self._configure(raw)
        try:
            self._update_root(new_config, config, provider_id, old_id)
        except RPCError:
            if provider_id != old_id and provider_id in self._providers:
                self._delete_provider(provider_id)  # cleanupNewProvider
            self.store.commit()
            raise

    def _update_root(self, new_config: Record, config: ca.ConsulCAConfig, provider_id: str,
                     old_id: str) -> None:
        """primaryUpdateRootCA: the same root is a config change; another one a rotation,
        cross-signed by the old key unless the old provider cannot (DisableCrossSigning) and
        ForceWithoutCrossSigning says to go on without."""
        provider = new_config["Provider"]
        pem = self._generate_root(config, provider_id)
        new_root = self._root_record(pem, provider)
        active = next(r for r in self._roots if r["Active"])
        if active["ID"] == new_root["ID"]:
            self._set_config(new_config, self._apply())
            self._active_provider = provider_id
            self.store.commit()
            return
        current = self._config
        old_config = ca.parse_consul_ca_config(
            current["Config"] if isinstance(current["Config"], dict) else {})
        can_cross_sign = not old_config.disable_cross_signing
        force = new_config["ForceWithoutCrossSigning"]
        if not can_cross_sign and not force:
            raise RPCError(_CROSS_SIGNING_UNSUPPORTED)
        if can_cross_sign and not force:
            old = self._providers[old_id]
            serial = self._next_serial()
            new_root["IntermediateCerts"] = [ca.cross_sign(
                old["PrivateKey"], old["RootCert"], pem, serial, self.wall_clock())]
        roots = copy.deepcopy(self._roots)
        for r in roots:
            if r["Active"]:
                r["Active"] = False
                r["RotatedOutAt"] = ca.go_time_now(self.wall_clock())
        roots.append(new_root)
        index = self._apply()
        self._set_roots(roots, index)
        self._set_config(new_config, index)
        self._active_provider = provider_id
        self._delete_provider(old_id)  # oldProvider.Cleanup
        self.store.commit()

    # -- signing -----------------------------------------------------------------------------

    def parse_csr(self, csr_pem: str) -> tuple[ca.CSRInfo, CertURI]:
        """ConnectCA.Sign's first half: the CSR and its SPIFFE ID (``InvalidCSRError`` texts)."""
        self._check_enabled()
        try:
            info = ca.csr_info(csr_pem)
        except ca.CAConfigError as exc:
            raise RPCError(str(exc)) from None
        if not info.uris:
            raise RPCError("CSR SAN does not contain a SPIFFE ID")
        try:
            spiffe_id = parse_cert_uri(info.uris[0])
        except CertURIError as exc:
            raise RPCError(str(exc)) from None
        return info, spiffe_id

    def sign(self, csr_pem: str, spiffe_id: CertURI) -> Record:
        """CAManager.SignCertificate after the caller's ACL check: the ``IssuedCert``."""
        self._check_enabled()
        self._ensure_root()
        if isinstance(spiffe_id, SpiffeIDService):
            if spiffe_id.datacenter != self.datacenter:
                raise RPCError(
                    f"SPIFFE ID in CSR from a different datacenter: {spiffe_id.datacenter}, "
                    f"we are {self.datacenter}")
            signing = spiffe_id_signing_for_cluster(self._config["ClusterID"])
            if not signing.can_sign(spiffe_id):
                raise RPCError(
                    f"SPIFFE ID in CSR from a different trust domain: {spiffe_id.host}, "
                    f"we are {signing.host()}")
        elif not isinstance(spiffe_id, SpiffeIDAgent):
            raise RPCError("SPIFFE ID in CSR must be a service or agent ID")
        state = self._providers[self._active_provider]
        config = ca.parse_consul_ca_config(
            self._config["Config"] if isinstance(self._config["Config"], dict) else {})
        serial = self._next_serial()
        pem = ca.sign_leaf(csr_pem, state["PrivateKey"], state["RootCert"], serial,
                           config.leaf_cert_ttl, self.wall_clock())
        active = next(r for r in self._roots if r["Active"])
        for intermediate in active["IntermediateCerts"] or ():
            pem = pem.strip() + "\n" + intermediate
        index = self._apply()  # ApplyCALeafRequest: CALeafOpIncrementIndex
        self._leaf_index = index
        self.store.commit()
        info = ca.cert_info(pem)
        issued: Record = {
            "SerialNumber": ca.hex_string(_serial_bytes(info.serial)),
            "CertPEM": pem,
        }
        if isinstance(spiffe_id, SpiffeIDService):
            issued["Service"] = spiffe_id.service
            issued["ServiceURI"] = info.uris[0]
        else:
            issued["Agent"] = spiffe_id.agent
            issued["AgentURI"] = info.uris[0]
        issued.update({
            "ValidAfter": info.not_before,
            "ValidBefore": info.not_after,
            "CreateIndex": index,
            "ModifyIndex": index,
        })
        return issued


def _serial_bytes(serial: int) -> bytes:
    """big.Int.Bytes: big-endian, no leading zeros (empty for 0)."""
    return serial.to_bytes((serial.bit_length() + 7) // 8, "big")
