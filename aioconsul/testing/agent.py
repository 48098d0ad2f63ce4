"""DevAgent: start and stop an embedded Consul-compatible agent, like ``consul agent -dev``.

This module owns the listening socket and the aiohttp runner, nothing else: every request is
handed to :class:`~aioconsul.testing.server.ConsulAPI`. It must never implement Consul
behaviour itself, and stopping must never leave a task, a timer, a socket or a parked request
behind.
"""

from __future__ import annotations

import asyncio
import os
import ssl
import uuid
from types import TracebackType

from aiohttp import web

from .backend import ACLConfig
from .golang.stdlib import SECOND
from .local.keyring import Keyring, KeyringError
from .server import CheckKnobs, ConsulAPI

__all__ = ["DevAgent"]

# How long stop() lets in-flight requests finish after every blocking query has been released.
_SHUTDOWN_TIMEOUT = 2.0
# Listen backlog: thousands of clients may connect at once to park blocking queries.
_BACKLOG = 4096


async def _strip_server_header(_: web.Request, response: web.StreamResponse) -> None:
    # Consul (Go net/http) sends no Server header.
    response.headers.pop("Server", None)


class DevAgent:
    """An in-process, single-node Consul agent serving the HTTP API on a local socket.

    It behaves like ``consul agent -dev`` (server, leader, datacenter ``dc1``, ACLs disabled,
    Consul CE 1.21) for the endpoints it implements: KV, transactions, sessions, user events,
    status, the catalog, health, network coordinates and the ``/v1/agent`` endpoints (services,
    checks, members, maintenance...). Every agent starts like a fresh dev agent: its own node in
    the catalog with the passing ``serfHealth`` check and the ``consul`` service, nothing else;
    it keeps its data in memory only.

    ``host``/``port`` choose a TCP listener (port 0 picks a free port); ``unix_path`` serves on a
    unix socket instead and ``ssl_context`` turns on TLS. ``node_name`` and ``datacenter`` are
    what ``/v1/agent/self`` reports and what sessions must name; ``node_id`` (a random UUID) is
    the node's ID there.

    Session TTLs: Consul accepts TTLs from ``session_ttl_min`` (10 s by default) up to 24 h, and
    invalidates a session that is not renewed ``TTL * session_ttl_multiplier`` after its last
    renewal (Consul's ``SessionTTLMultiplier`` is 2: "a session may live up to twice its TTL").
    The dev agent runs exactly that timer; tests that need quick expiry can lower both knobs,
    e.g. ``DevAgent(session_ttl_min=0.05, session_ttl_multiplier=1)`` expires a ``"100ms"``
    session 100 ms after its last renewal. Invalidation then releases or deletes the held keys
    and starts their lock-delay, exactly like ``PUT /v1/session/destroy``.

    Checks registered through ``/v1/agent`` run as in Consul: TTL checks turn critical ("TTL
    expired") when not updated in time, HTTP and TCP checks probe their target every
    ``Interval`` (never more often than ``check_interval_min``, Consul's 1 s), and gRPC, H2PING,
    UDP, OS-service, Docker and alias checks keep their initial status and are not run (their
    output says so).

    Script checks (``Args``) are refused as ``enable_script_checks`` is off in ``-dev``, with
    Consul's error. ``enable_script_checks=True`` runs them as Consul's ``CheckMonitor`` does:
    the command (no shell) every ``Interval``, exit 0 passing, 1 warning, anything else
    critical, stdout and stderr as the output (its last ``OutputMaxSize`` bytes, 4 KiB by
    default, after ``Captured N of M bytes``), killed with its process group after ``Timeout``
    (30 s by default) and when the check is removed or the agent stops.
    ``enable_local_script_checks`` allows only checks from the agent's own configuration, as in
    Consul; every check the dev agent receives comes through its HTTP API, which Consul treats
    as remote, so that option alone still refuses them.
    A check whose status stays the same but whose output changes reaches the catalog only after
    about ``check_update_interval`` (5 min). ``DeregisterCriticalServiceAfter`` is enforced by a
    reaper that runs every ``check_reap_interval`` (30 s) and never reaps before
    ``check_deregister_interval_min`` (1 min). The agent sends its own network coordinate
    ``coordinate_sync_interval`` (15 s) plus a random stagger after it starts. Tests can shrink
    all of these, e.g. ``DevAgent(check_reap_interval=0.01, check_deregister_interval_min=0)``.

    ACLs are off, as in ``-dev``. ``acl_enabled=True`` turns on Consul's ACL system (one
    datacenter): ``acl_default_policy`` ("allow" or "deny") decides what no rule grants and is
    sent as ``X-Consul-Default-ACL-Policy``; ``acl_initial_management`` is the SecretID of the
    initial management token the agent bootstraps with (Consul's
    ``acl.tokens.initial_management``; ``PUT /v1/acl/bootstrap`` is then refused), otherwise
    bootstrap over HTTP. Requests without a token are served with the anonymous token.
    ``acl_down_policy`` and ``acl_enable_token_persistence`` are reported as configured; a
    single in-memory server is never "down" and keeps the agent's tokens in memory only.
    ``acl_enable_key_list_policy`` makes recursive KV reads and key listings need ``list``
    on the prefix, as ``acl.enable_key_list_policy`` does. ``acl_token_min_expiration_ttl``
    and ``acl_token_max_expiration_ttl`` (seconds; Consul's 1 minute and 24 hours) bound a
    token's ``ExpirationTTL``: lower the first to watch tokens expire in a test.
    ``encrypt`` is the gossip key (base64 of 16, 24 or 32 bytes, ``consul agent -encrypt``):
    ``/v1/operator/keyring`` then lists, installs, uses and removes keys; without it the agent
    answers as one without encryption does. A malformed key is a ValueError here.
    ``connect_enabled`` is ``connect.enabled`` (on, as with ``-dev``): off, the Connect CA
    endpoints answer 500 "Connect must be enabled in order to use this endpoint".

    Use it as ``async with DevAgent() as agent:`` or call :meth:`start` and :meth:`stop`
    (both idempotent). A stopped agent can be started again; it then starts empty.
    ``PUT /v1/agent/leave`` makes it leave and shut down, as Consul's agent does: it answers
    200, then stops itself (:meth:`wait_stopped` returns; a later :meth:`stop` waits for that
    shutdown to finish and does nothing more).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        node_name: str = "aioconsul-dev",
        datacenter: str = "dc1",
        unix_path: str | os.PathLike[str] | None = None,
        ssl_context: ssl.SSLContext | None = None,
        session_ttl_min: float = 10.0,
        session_ttl_multiplier: float = 2.0,
        check_reap_interval: float = 30.0,
        check_deregister_interval_min: float = 60.0,
        check_interval_min: float = 1.0,
        check_update_interval: float = 300.0,
        coordinate_sync_interval: float = 15.0,
        enable_script_checks: bool = False,
        enable_local_script_checks: bool | None = None,
        acl_enabled: bool = False,
        acl_default_policy: str = "allow",
        acl_down_policy: str = "extend-cache",
        acl_initial_management: str | None = None,
        acl_enable_token_persistence: bool = False,
        acl_enable_key_list_policy: bool = False,
        acl_token_min_expiration_ttl: float = 60.0,
        acl_token_max_expiration_ttl: float = 24 * 3600.0,
        encrypt: str | None = None,
        connect_enabled: bool = True,
    ) -> None:
        self._host = host
        self._port = port
        self._unix_path = os.path.abspath(unix_path) if unix_path is not None else None
        self._ssl_context = ssl_context
        self.node_name = node_name
        self.datacenter = datacenter
        self.node_id = str(uuid.uuid4())
        self._session_ttl_min = session_ttl_min
        self._session_ttl_multiplier = session_ttl_multiplier
        self._check_knobs = CheckKnobs(
            reap_interval=check_reap_interval,
            deregister_interval_min=check_deregister_interval_min,
            interval_min=check_interval_min,
            update_interval=check_update_interval,
            coordinate_sync_interval=coordinate_sync_interval,
            enable_script_checks=enable_script_checks,
            enable_local_script_checks=enable_local_script_checks,
        )
        if acl_default_policy not in ("allow", "deny"):
            raise ValueError(
                f"acl_default_policy must be 'allow' or 'deny', not {acl_default_policy!r}"
            )
        if not 0 < acl_token_min_expiration_ttl <= acl_token_max_expiration_ttl:
            raise ValueError(
                "acl_token_min_expiration_ttl must be above 0 and at most "
                "acl_token_max_expiration_ttl"
            )
        if acl_down_policy not in ("allow", "deny", "extend-cache", "async-cache"):
            raise ValueError(  # NewACLResolver: invalid ACL down policy
                "acl_down_policy must be 'allow', 'deny', 'extend-cache' or 'async-cache', "
                f"not {acl_down_policy!r}"
            )
        self._acl = ACLConfig(
            enabled=acl_enabled,
            default_policy=acl_default_policy,
            down_policy=acl_down_policy,
            initial_management=acl_initial_management,
            enable_token_persistence=acl_enable_token_persistence,
            enable_key_list_policy=acl_enable_key_list_policy,
            token_min_expiration_ttl=round(acl_token_min_expiration_ttl * SECOND),
            token_max_expiration_ttl=round(acl_token_max_expiration_ttl * SECOND),
        )
        if encrypt:
            try:  # the agent's config check: "encrypt has invalid key: ..."
                Keyring(encrypt)
            except KeyringError as exc:
                raise ValueError(f"encrypt has invalid key: {exc}") from None
        self._encrypt = encrypt or None
        self._connect_enabled = connect_enabled
        self._runner: web.AppRunner | None = None
        self._api: ConsulAPI | None = None
        self._started = False
        self._leave_task: asyncio.Task[None] | None = None  # the shutdown agent/leave began
        self._stopped: asyncio.Event | None = None  # set once the current run has stopped

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """Whether the agent is currently serving."""
        return self._runner is not None

    async def start(self) -> DevAgent:
        """Bind the socket and start serving; returns the agent. No-op when already running."""
        if self._runner is not None:
            return self
        api = ConsulAPI(
            node_name=self.node_name,
            datacenter=self.datacenter,
            node_id=self.node_id,
            session_ttl_min=self._session_ttl_min,
            session_ttl_multiplier=self._session_ttl_multiplier,
            checks=self._check_knobs,
            acl=self._acl,
            encrypt=self._encrypt,
            connect_enabled=self._connect_enabled,
        )
        app = web.Application()
        app.on_response_prepare.append(_strip_server_header)
        app.router.add_route("*", r"/{tail:[\s\S]*}", api.handle)
        runner = web.AppRunner(
            app,
            access_log=None,
            handler_cancellation=True,  # a client that hangs up releases its long poll
            shutdown_timeout=_SHUTDOWN_TIMEOUT,
        )
        await runner.setup()
        site: web.BaseSite
        if self._unix_path is not None:
            site = web.UnixSite(
                runner, self._unix_path, ssl_context=self._ssl_context, backlog=_BACKLOG
            )
        else:
            site = web.TCPSite(
                runner,
                self._host,
                self._port,
                ssl_context=self._ssl_context,
                backlog=_BACKLOG,
                reuse_address=True,
            )
        try:
            await site.start()
        except BaseException:
            await api.shutdown()
            await runner.cleanup()
            raise
        if self._unix_path is None:
            self._port = runner.addresses[0][1]
        self._api = api
        self._runner = runner
        self._started = True
        self._leave_task = None
        self._stopped = asyncio.Event()
        api.on_leave = self._on_leave
        return self

    def _on_leave(self) -> None:
        """PUT /v1/agent/leave was answered: stop in a task the next stop() will await."""
        if self._leave_task is None:
            self._leave_task = asyncio.get_running_loop().create_task(self._shutdown())

    async def stop(self) -> None:
        """Release every blocking query, close the listener and all connections. Idempotent."""
        task, self._leave_task = self._leave_task, None
        if task is not None:
            # agent/leave already began the shutdown: finish it (a cancelled stop() must not
            # cut the cleanup short) and surface its error, if any.
            await asyncio.shield(task)
        await self._shutdown()

    async def _shutdown(self) -> None:
        runner, api = self._runner, self._api
        if runner is None or api is None:
            return
        self._runner = self._api = None
        try:
            # Parked blocking queries answer now with their current result; check runners,
            # TTL timers, the reaper and the checks' HTTP client stop.
            await api.shutdown()
            await runner.cleanup()
            if self._unix_path is not None and os.path.exists(self._unix_path):
                os.unlink(self._unix_path)
        finally:
            if self._stopped is not None:
                self._stopped.set()

    async def wait_stopped(self) -> None:
        """Wait until the agent has stopped: :meth:`stop`, or ``PUT /v1/agent/leave``.

        Returns at once when the agent is not running.
        """
        if self._runner is None or self._stopped is None:
            if self._leave_task is not None:
                await asyncio.shield(self._leave_task)
            return
        await self._stopped.wait()

    @property
    def acl_initial_management(self) -> str | None:
        """The SecretID of the initial management token (``acl.tokens.initial_management``)."""
        return self._acl.initial_management

    @property
    def backend(self) -> ConsulAPI:
        """The running agent's state and request handler (for tests that reach past HTTP)."""
        if self._api is None:
            raise RuntimeError("the dev agent is not running")
        return self._api

    @property
    def blocking_queries(self) -> int:
        """How many blocking queries are parked right now (a diagnostic for tests)."""
        return self._api.watch.parked if self._api is not None else 0

    async def __aenter__(self) -> DevAgent:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # -- where to reach it ---------------------------------------------------------------------

    @property
    def host(self) -> str:
        """The TCP host the agent listens on (as configured)."""
        return self._host

    @property
    def port(self) -> int:
        """The TCP port (the bound one once started with port 0); 0 for a unix socket."""
        return 0 if self._unix_path is not None else self._port

    @property
    def unix_path(self) -> str | None:
        """The unix socket path, if the agent serves on one."""
        return self._unix_path

    @property
    def address(self) -> str:
        """``http://host:port``, ``https://host:port`` with TLS, or ``unix:///path``."""
        if self._unix_path is not None:
            return "unix://" + self._unix_path
        if not self._started and self._port == 0:
            raise RuntimeError("DevAgent has no address before start() picked a port")
        host = f"[{self._host}]" if ":" in self._host else self._host
        scheme = "https" if self._ssl_context is not None else "http"
        return f"{scheme}://{host}:{self._port}"

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        where = self.address if self._started or self._unix_path else f"{self._host}:?"
        return f"<DevAgent {where} {state}>"
