"""HTTP endpoints of the Connect CA: ``/v1/connect/ca/*`` and the agent's roots and leaves.

The HTTP half follows ``agent/connect_ca_endpoint.go`` (``ConnectCARoots`` with ``?pem``,
``ConnectCAConfiguration`` GET/PUT) and ``agent/agent_endpoint.go`` (``AgentConnectCARoots``,
``AgentConnectCALeafCert``); the RPC half ``agent/consul/connect_ca_endpoint.go``: ``Roots``
(a blocking query, no ACL), ``ConfigurationGet`` and ``ConfigurationSet`` (both
``operator:write``: the configuration may hold the root's private key), ``Sign`` (through
``AuthorizeAndSignCertificate``: ``service:write`` on the service the CSR names).

The agent's roots come from its cache (``cachetype.ConnectCARoot``, a background-refresh type:
``X-Cache`` on every answer). Its leaf certificates are ``agent/leafcert``'s manager, one
entry per service name: a non-blocking read always revalidates (a new leaf when the active
root no longer has the key that signed the cached one), a blocking read waits for the soft
expiry (a random moment between 60 % and 90 % of the leaf's lifetime) or, after a root
rotation, for a random delay within the CA-change jitter window
(:attr:`~aioconsul.testing.state.connect_ca.ConnectCATable.ca_change_jitter`, 30 s), then
signs a new EC P-256 key. As in Consul, the ACL check is the signing's: a leaf already cached
is answered without one. The manager (:func:`leaf_manager`) takes its clock, its sleep and its
random stagger as replaceable attributes, so a test can move a leaf through its renewal window
(:mod:`aioconsul.testing.connect.leafcert` computes the window). This module never imports
another endpoint module.
"""

from __future__ import annotations

import asyncio
import functools
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final
from weakref import WeakKeyDictionary

from ..acl.authorizer import Permission
from ..backend import Backend
from ..connect import ca, leafcert
from ..connect.uri import SpiffeIDService
from ..golang.jsondecode import Bool, Map, Opaque, Str, Struct, Uint, unmarshal
from ..golang.stdlib import SECOND
from ..http.acl import authorize, request_token
from ..http.cache import CacheOptions, agent_cache, set_cache_meta
from ..http.query import (
    QueryOptions,
    Record,
    Result,
    decode_body,
    ent_meta,
    forward,
    parse,
    parse_bool,
    rpc,
    set_meta,
    tail,
)
from ..http.reply import Context, HTTPError, Reply, Route
from ..state.connect_ca import (
    CA_CONFIG_TABLE,
    CA_ROOTS_TABLE,
    ERR_CONNECT_NOT_ENABLED,
    ERR_STATE_READ_ONLY,
    roots_json,
)
from ..state.memdb import RPCError

__all__ = ["ROUTES", "LeafManager", "leaf_manager"]

_CHANNELS: Final = (CA_ROOTS_TABLE, CA_CONFIG_TABLE)
_LEAF_PREFIX: Final = "/v1/agent/connect/ca/leaf/"
#: leafcert.DefaultQueryTimeout: a leaf read without ``wait`` blocks up to 10 minutes.
_LEAF_QUERY_TIMEOUT: Final = 600.0
_STATE_READ_ONLY_REASON: Final = (
    "Provider State is read-only. It must be omitted or identical to the current value"
)

_CA_CONFIGURATION: Final = Struct(
    "structs.CAConfiguration", "CAConfiguration",
    {
        "Provider": Str(),
        "Config": Map(Opaque()),
        "State": Map(Str()),
        "ForceWithoutCrossSigning": Bool(),
        "force_without_cross_signing": Bool(),
        "CreateIndex": Uint(),
        "ModifyIndex": Uint(),
    },
    strict=False,
)


# -- /v1/connect/ca/roots --------------------------------------------------------------------


def _roots_result(api: Backend) -> Result[Record]:
    """getCARoots over CARootsAndConfig (the larger index, both tables watched)."""
    index, roots, config = api.connect_ca.roots()
    if not config.get("ClusterID"):
        raise RPCError("CA has not finished initializing")
    return Result(index, roots_json(index, roots, api.connect_ca.trust_domain), _CHANNELS)


async def connect_ca_roots(api: Backend, ctx: Context) -> Reply:
    """GET /v1/connect/ca/roots: ConnectCA.Roots; ``?pem=true`` answers the PEM bundle
    (every root, then its intermediates) as ``application/pem-certificate-chain``."""
    opts = parse(api, ctx)
    pem = False
    raw = ctx.query.get("pem")
    if raw:
        value = parse_bool(raw)
        if value is None:
            raise HTTPError(400, "The 'pem' query parameter must be a boolean value")
        pem = value
    result = await rpc(api, ctx, opts, lambda: lambda: _roots_result(api))
    if not pem:
        return ctx.json(result.value)
    chain = "".join(
        root["RootCert"] + "".join(root["IntermediateCerts"] or ())
        for root in result.value["Roots"]
    )
    return Reply(200, chain.encode(), "application/pem-certificate-chain")


# -- /v1/connect/ca/configuration ------------------------------------------------------------


def _config_json(config: Record) -> Record:
    """structs.CAConfiguration (ClusterID is ``json:"-"``)."""
    return {
        "Provider": config["Provider"],
        "Config": config["Config"],
        "State": config["State"],
        "ForceWithoutCrossSigning": config["ForceWithoutCrossSigning"],
        "CreateIndex": config["CreateIndex"],
        "ModifyIndex": config["ModifyIndex"],
    }


def _decode_config(body: bytes) -> Record:
    """decodeBody into structs.CAConfiguration (its UnmarshalJSON takes the snake-case
    ``force_without_cross_signing`` too)."""
    decoded = unmarshal(body, _CA_CONFIGURATION) or {}
    if decoded.pop("force_without_cross_signing", False):
        decoded["ForceWithoutCrossSigning"] = True
    return dict(decoded)


async def connect_ca_configuration(api: Backend, ctx: Context) -> Reply:
    """GET/PUT /v1/connect/ca/configuration: ConfigurationGet and ConfigurationSet."""
    if ctx.request.method == "GET":
        opts = parse(api, ctx)
        if not api.connect_ca.enabled:
            raise RPCError(ERR_CONNECT_NOT_ENABLED)
        forward(api, opts.datacenter)
        authorize(api, ctx).require(Permission.OPERATOR_WRITE)
        _, config = api.connect_ca.config()
        return ctx.json(_config_json(config))
    datacenter = ctx.query.get("dc") or api.datacenter  # parseDC, parseToken
    request = await decode_body(ctx, _decode_config)
    if not api.connect_ca.enabled:
        raise RPCError(ERR_CONNECT_NOT_ENABLED)
    forward(api, datacenter)
    authorize(api, ctx).require(Permission.OPERATOR_WRITE)
    try:
        api.connect_ca.set_config(request)
    except RPCError as exc:
        if str(exc) == ERR_STATE_READ_ONLY:
            raise HTTPError(400, _STATE_READ_ONLY_REASON) from None
        raise
    return Reply()


# -- /v1/agent/connect/ca/roots --------------------------------------------------------------


async def agent_connect_ca_roots(api: Backend, ctx: Context) -> Reply:
    """GET /v1/agent/connect/ca/roots: ConnectCA.Roots through the agent cache (a
    background-refresh type, so ``Cache-Control`` is ignored and a later read is a HIT)."""
    opts = parse(api, ctx)
    token = request_token(api, ctx)
    forward(api, opts.datacenter)
    cache = agent_cache(api)
    key = cache.key("connect-ca-root", opts.datacenter, token, ctx)
    result, hit, age = await cache.get(
        api, key, CacheOptions(use_cache=True), opts, lambda: _roots_result(api), refresh=True)
    set_cache_meta(ctx, hit, age)
    set_meta(ctx, result.index)
    return ctx.json(result.value)


# -- /v1/agent/connect/ca/leaf/<service> -----------------------------------------------------

#: How the leaf manager sleeps: ``await sleep(seconds)`` on the manager's clock.
Sleep = Callable[[float], Awaitable[None]]


@dataclass(slots=True)
class _Leaf:
    """leafcert's certData and fetchState for one service."""

    cert: Record | None = None
    index: int = 0
    fetched_at: float = 0.0  # monotonic
    authority_key_id: str = ""  # the SigningKeyID of the root that signed ``cert``
    force_expire_after: float | None = None  # on the manager's clock, after a root rotation
    refreshing: asyncio.Task[None] | None = None
    last_error: BaseException | None = None


class LeafManager:
    """The agent's leaf certificates (``agent/leafcert``'s Manager): one entry per service.

    Its time is injectable, as the agent cache's ``clock`` and the state store's are:
    ``clock`` gives the wall clock in Unix seconds (by default the CA table's
    :attr:`~aioconsul.testing.state.connect_ca.ConnectCATable.wall_clock`, the clock leaves
    are signed with, so that replacing that one moves both), ``sleep`` waits a number of
    seconds on that clock (:func:`asyncio.sleep` by default) and ``stagger`` is
    ``lib.RandomStagger``'s random number in [0, 1). A test replaces them to move a leaf
    through its renewal window without waiting for it. The timeout of a blocking read stays on
    the event loop's clock, like every other blocking query's.
    """

    def __init__(self, api: Backend) -> None:
        self._api = api
        table = api.connect_ca
        self.clock: Callable[[], float] = lambda: table.wall_clock()
        self.sleep: Sleep = asyncio.sleep
        self.stagger: Callable[[], float] = random.random
        self._leaves: dict[str, _Leaf] = {}

    def _expires_at(self, leaf: _Leaf) -> float:
        """attemptLeafRefresh's ``expiresAt``: a random moment of the soft renewal window,
        or the forced expiry a root rotation set, if sooner."""
        assert leaf.cert is not None
        expires_at = leafcert.renewal_point(
            self.clock(), leafcert.parse_cert_time(leaf.cert["ValidAfter"]),
            leafcert.parse_cert_time(leaf.cert["ValidBefore"]), self.stagger())
        if leaf.force_expire_after is not None and leaf.force_expire_after < expires_at:
            expires_at = leaf.force_expire_after
        return expires_at

    def _active_root_has_key(self, leaf: _Leaf) -> bool:
        """activeRootHasKey: the active root's SigningKeyID is the one that signed the leaf."""
        _, roots, _ = self._api.connect_ca.roots()
        return any(r["Active"] and r["SigningKeyID"] == leaf.authority_key_id for r in roots)

    def _generate(self, leaf: _Leaf, service: str, datacenter: str, token: str) -> None:
        """generateNewLeaf: a new EC P-256 key, a CSR for the service's SPIFFE ID,
        ConnectCA.Sign."""
        api = self._api
        result = _roots_result(api)
        trust_domain = result.value["TrustDomain"]
        if not trust_domain:
            raise RPCError("cluster has no CA bootstrapped yet")
        if not service:
            raise RPCError("URI must be either service, agent, server, or kind")
        spiffe_id = SpiffeIDService(host=trust_domain, namespace="default",
                                    datacenter=datacenter, service=service)
        key_pem = ca.generate_private_key()
        csr = ca.create_csr(spiffe_id, key_pem)
        # ConnectCA.Sign, forwarded to the request's datacenter.
        forward(api, datacenter)
        _, parsed = api.connect_ca.parse_csr(csr)
        authz = api.acl.resolve(token)
        if isinstance(parsed, SpiffeIDService):
            authz.require(Permission.SERVICE_WRITE, parsed.service)
        issued = api.connect_ca.sign(csr, parsed)
        cert: Record = {"SerialNumber": issued["SerialNumber"], "CertPEM": issued["CertPEM"],
                        "PrivateKeyPEM": key_pem}
        cert.update((k, v) for k, v in issued.items() if k not in cert)
        leaf.cert = cert
        leaf.index = issued["ModifyIndex"]
        leaf.fetched_at = time.monotonic()
        leaf.authority_key_id = ca.cert_info(issued["CertPEM"]).authority_key_id
        leaf.force_expire_after = None

    async def _wait(self, seconds: float, timeout: float) -> bool:
        """Until ``seconds`` pass on :attr:`clock` (False), a CA roots or configuration write
        (True) or the query's ``timeout`` on the loop (False)."""
        sleeper = asyncio.ensure_future(self.sleep(seconds))
        watcher = asyncio.ensure_future(self._api.watch.wait(_CHANNELS, timeout))
        try:
            await asyncio.wait({sleeper, watcher}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleeper, watcher):
                task.cancel()
            await asyncio.gather(sleeper, watcher, return_exceptions=True)
        return watcher.done() and not watcher.cancelled() and watcher.result()

    async def _refresh(self, leaf: _Leaf, service: str, datacenter: str, token: str,
                       must_revalidate: bool, timeout: float) -> None:
        """attemptLeafRefresh: sign at once, or wait for the soft expiry, a rotation's jittered
        delay or the query's timeout (then nothing changes)."""
        if leaf.cert is None:
            self._generate(leaf, service, datacenter, token)
            return
        expires_at = self._expires_at(leaf)
        if expires_at <= self.clock():
            self._generate(leaf, service, datacenter, token)
            return
        if must_revalidate:
            if not self._active_root_has_key(leaf):
                self._generate(leaf, service, datacenter, token)
            return
        api = self._api
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        check_roots = True  # rootUpdateCh starts with one event: compare with the current roots
        while True:
            if check_roots:
                check_roots = False
                if not self._active_root_has_key(leaf):
                    delay = self.stagger() * api.connect_ca.ca_change_jitter
                    leaf.force_expire_after = self.clock() + delay
                    expires_at = min(expires_at, leaf.force_expire_after)
            until_expiry = expires_at - self.clock()
            if until_expiry <= 0:
                self._generate(leaf, service, datacenter, token)
                return
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            check_roots = await self._wait(until_expiry, remaining)
            if api.watch.closed:
                return

    async def get(self, service: str, opts: QueryOptions, token: str) -> tuple[Record, bool, float]:
        """Manager.Get: ``(cert, hit, age)``; a blocking read returns on timeout what it has."""
        leaf = self._leaves.setdefault(service, _Leaf())
        must_revalidate = opts.min_index == 0
        timeout = (opts.max_query_time / SECOND if opts.max_query_time > 0
                   else _LEAF_QUERY_TIMEOUT)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        first = True
        while True:
            needs_update = (
                leaf.cert is None
                or (opts.min_index > 0 and opts.min_index >= leaf.index)
                or (must_revalidate and leaf.refreshing is None)
            )
            if not needs_update and leaf.cert is not None:
                return leaf.cert, first, time.monotonic() - leaf.fetched_at
            if not first and leaf.last_error is not None:
                raise leaf.last_error
            if leaf.refreshing is None:
                leaf.last_error = None
                task = asyncio.ensure_future(self._refresh(
                    leaf, service, opts.datacenter, token, must_revalidate,
                    max(0.0, deadline - loop.time())))
                leaf.refreshing = task
                task.add_done_callback(functools.partial(_refreshed, leaf))
            refreshing = leaf.refreshing
            first = False
            must_revalidate = False
            # Without any leaf yet there is nothing to answer on timeout: wait for the signing.
            remaining = max(0.0, deadline - loop.time()) if leaf.cert is not None else None
            done, _ = await asyncio.wait({refreshing}, timeout=remaining)
            if not done and leaf.cert is not None:
                return leaf.cert, False, 0.0


def _refreshed(leaf: _Leaf, task: asyncio.Task[None]) -> None:
    leaf.refreshing = None
    if task.cancelled():
        return
    leaf.last_error = task.exception()


_MANAGERS: WeakKeyDictionary[Backend, LeafManager] = WeakKeyDictionary()


def leaf_manager(api: Backend) -> LeafManager:
    """The agent's leaf-certificate manager, created on first use."""
    manager = _MANAGERS.get(api)
    if manager is None:
        manager = _MANAGERS[api] = LeafManager(api)
    return manager


async def agent_connect_ca_leaf(api: Backend, ctx: Context) -> Reply:
    """GET /v1/agent/connect/ca/leaf/<service>: AgentConnectCALeafCert (the service's name,
    not an instance ID); ``X-Consul-Index`` is the leaf's ModifyIndex, ``X-Cache`` as the
    manager answered (a non-blocking read always revalidates, so it is a MISS)."""
    service = tail(ctx, _LEAF_PREFIX)
    ent_meta(ctx)
    opts = parse(api, ctx)
    token = request_token(api, ctx)
    cert, hit, age = await leaf_manager(api).get(service, opts, token)
    set_cache_meta(ctx, hit, age)
    ctx.headers["X-Consul-Index"] = str(cert["ModifyIndex"] or 1)  # setIndex
    return ctx.json(cert)


ROUTES: Final[tuple[Route, ...]] = (
    Route.of("/v1/connect/ca/roots", ("GET",), connect_ca_roots,
             no_acl="ConnectCA.Roots resolves no token (agent/consul/connect_ca_endpoint.go)"),
    Route.of("/v1/connect/ca/configuration", ("GET", "PUT"), connect_ca_configuration),
    Route.of("/v1/agent/connect/ca/roots", ("GET",), agent_connect_ca_roots,
             no_acl="AgentConnectCARoots: ConnectCA.Roots resolves no token"),
    Route.of(_LEAF_PREFIX, ("GET",), agent_connect_ca_leaf),
)
