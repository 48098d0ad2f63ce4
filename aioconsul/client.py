"""The :class:`Consul` client: configuration, session ownership, lifecycle, endpoint groups.

A client resolves its configuration once (explicit arguments beat the environment), owns at most
one aiohttp ClientSession — created lazily inside the running loop, closed by :meth:`Consul.close`
— and exposes each endpoint group as an attribute. It never shows its token in ``repr()``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar, overload

from ._core.config import DEFAULT_TIMEOUT, Address, Config, TokenProvider, resolve
from ._core.core import Core
from ._core.retry import Retry
from .api.acl import ACL
from .api.agent import Agent
from .api.catalog import Catalog
from .api.config import ConfigEntries
from .api.connect import Connect
from .api.coordinate import Coordinate
from .api.discovery_chain import DiscoveryChain
from .api.event import Event
from .api.health import Health
from .api.kv import KV
from .api.namespaces import Namespaces
from .api.operator import Operator
from .api.partitions import Partitions
from .api.peering import Peering
from .api.query import Query
from .api.session import Session
from .api.snapshot import Snapshot
from .api.status import Status
from .api.txn import Txn
from .errors import ConsulError
from .recipes import recipe_method
from .recipes.election import Election
from .recipes.lock import Lock
from .recipes.semaphore import Semaphore
from .toolkit.discovery import Pool
from .toolkit.registration import Registration
from .typing import Consistency, Duration, Meta
from .watch import Backoff, ErrorMode, QuietErrors, Watch, close_watches

if TYPE_CHECKING:
    import aiohttp

__all__ = ["Consul"]

T = TypeVar("T")


class Consul:
    """An asyncio client for one Consul agent's HTTP API.

    ``address`` is ``"host:port"``, ``"http://host:port"``, ``"https://host:port[/prefix]"``,
    ``"unix:///path/consul.sock"`` or ``("host", port)``; by default ``CONSUL_HTTP_ADDR``, else
    ``127.0.0.1:8500``. Every argument left as None falls back to its environment variable the way
    the Go client reads it (``CONSUL_HTTP_TOKEN``, ``CONSUL_HTTP_TOKEN_FILE``, ``CONSUL_HTTP_SSL``,
    ``CONSUL_HTTP_SSL_VERIFY``, ``CONSUL_CACERT``, ``CONSUL_CAPATH``, ``CONSUL_CLIENT_CERT``,
    ``CONSUL_CLIENT_KEY``, ``CONSUL_TLS_SERVER_NAME``, ``CONSUL_HTTP_AUTH``, ``CONSUL_NAMESPACE``,
    ``CONSUL_PARTITION``); an explicit argument always wins.

    A malformed address (``"http//127.0.0.1:8500"``, a bad port, an unknown scheme) is refused
    here with a ValueError naming ``address``.

    ``token`` is the ACL token of every request; each endpoint method (and watch, recipe,
    registration) also takes ``token=``, sent instead of it for that call only, like Go's
    ``QueryOptions.Token``. Either travels in the ``X-Consul-Token`` header alone.
    ``token`` may also be a *token provider*: a callable, sync or async, returning the token
    (from Vault, say), asked for the first request and again when the agent answers 403 "ACL
    not found"; the request is then sent once more if the token is another one. A
    ``token_file`` (or ``CONSUL_HTTP_TOKEN_FILE``) is watched the same way: looked at, at most
    once a second, when a request is sent, re-read when it changed, and at once on "ACL not
    found". A call's own ``token=`` is never replaced. See :doc:`/client`.

    ``timeout`` (seconds, None for none) bounds calls that do not block; a blocking read's timeout
    is derived from its wait instead (the wait, plus Consul's jitter of wait/16, plus 15 s).
    ``wait`` (a duration such as ``"10m"``, like the Go client's ``Config.WaitTime``) is sent
    with blocking reads that give no wait of their own and sets their timeout; without it the
    agent's default applies and the timeout assumes Consul's longest default wait, 10 minutes.
    ``address`` may be a list of agents to fail over between; the first is the *home* agent,
    which agent-local calls (``client.agent.*``, sessions on the agent's own node) never leave
    (see :doc:`/guarantees`).
    ``retry`` (a :class:`~aioconsul.Retry`, or False for none) says how failed requests are
    repeated: reads and idempotent writes after transport failures, 429, 500 and 503 (but not an
    answer that cannot change, such as a malformed ``filter=``); any request that could not
    connect. A retried write never applies twice.

    ``session`` lends an aiohttp ClientSession that the client uses and never closes; otherwise
    the client creates its own on first use and closes it in :meth:`close` (or on leaving
    ``async with``).
    ``trace_configs`` (a list of ``aiohttp.TraceConfig``) are given to the session the client
    creates, so aiohttp's request tracing (OpenTelemetry's aiohttp instrumentation included)
    sees every request; with a lent session they are refused (ValueError): give them to that
    session instead.

    A client is bound to the event loop it is first used in: used from another loop (a second
    ``asyncio.run()``) it raises RuntimeError. Create one client per loop, inside the coroutine
    that uses it; a client left open when its ``asyncio.run()`` ends has its connections closed
    with the loop.
    """

    kv: KV
    operator: Operator
    agent: Agent
    acl: ACL
    event: Event
    catalog: Catalog
    config_entries: ConfigEntries
    health: Health
    coordinate: Coordinate
    query: Query
    session: Session
    status: Status
    txn: Txn

    # Coordination recipes (aioconsul.recipes): each call builds a new recipe object on this
    # client, taking the class's own arguments (after the client).
    lock = recipe_method(Lock, "lock")
    semaphore = recipe_method(Semaphore, "semaphore")
    election = recipe_method(Election, "election")
    # The service toolkit (aioconsul.toolkit): managed registration with the local agent.
    register = recipe_method(Registration, "register")
    # Healthy-instance pools: a live, balanced view of a service's healthy instances.
    discover = recipe_method(Pool, "discover")

    def __init__(
        self,
        address: Address | None = None,
        *,
        token: str | TokenProvider | None = None,
        token_file: str | None = None,
        consistency: Consistency | str | None = None,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        auth: str | Sequence[str] | None = None,
        verify: bool | None = None,
        ca_file: str | None = None,
        ca_path: str | None = None,
        cert_file: str | None = None,
        key_file: str | None = None,
        tls_server_name: str | None = None,
        timeout: float | None = DEFAULT_TIMEOUT,
        retry: Retry | bool | None = None,
        wait: Duration | None = None,
        session: aiohttp.ClientSession | None = None,
        trace_configs: Sequence[aiohttp.TraceConfig] | None = None,
    ) -> None:
        if trace_configs and session is not None:
            raise ValueError("trace_configs: the client does not own a lent session and cannot "
                             "add tracing to it; pass them to your ClientSession instead")
        self.config: Config = resolve(
            address, token=token, token_file=token_file, consistency=consistency, dc=dc,
            namespace=namespace, partition=partition, auth=auth, verify=verify, ca_file=ca_file,
            ca_path=ca_path, cert_file=cert_file, key_file=key_file,
            tls_server_name=tls_server_name, timeout=timeout, retry=retry, wait=wait,
            trace_configs=trace_configs,
        )
        self._core = core = Core(self.config, session)
        self.kv = KV(core)
        self.operator = Operator(core)
        self.agent = Agent(core)
        self.acl = ACL(core)
        self.event = Event(core)
        self.catalog = Catalog(core)
        self.config_entries = ConfigEntries(core)
        self.connect = Connect(core)
        self.discovery_chain = DiscoveryChain(core)
        self.health = Health(core)
        self.coordinate = Coordinate(core)
        self.namespaces = Namespaces(core)
        self.partitions = Partitions(core)
        self.peering = Peering(core)
        self.query = Query(core)
        self.session = Session(core)
        self.snapshot = Snapshot(core)
        self.status = Status(core)
        self.txn = Txn(core)

    @overload
    def watch(
        self,
        read: Callable[..., Awaitable[tuple[T, Meta]]],
        *args: Any,
        wait: Duration | None = "5m",
        errors: QuietErrors = "log",
        backoff: Backoff | None = None,
        shared: bool = True,
        **kwargs: Any,
    ) -> Watch[tuple[T, Meta]]: ...

    @overload
    def watch(
        self,
        read: Callable[..., Awaitable[tuple[T, Meta]]],
        *args: Any,
        wait: Duration | None = "5m",
        errors: ErrorMode,
        backoff: Backoff | None = None,
        shared: bool = True,
        **kwargs: Any,
    ) -> Watch[tuple[T, Meta] | ConsulError]: ...

    def watch(
        self,
        read: Callable[..., Awaitable[tuple[T, Meta]]],
        *args: Any,
        wait: Duration | None = "5m",
        errors: ErrorMode = "log",
        backoff: Backoff | None = None,
        shared: bool = True,
        **kwargs: Any,
    ) -> Watch[tuple[T, Meta]] | Watch[tuple[T, Meta] | ConsulError]:
        """Watch any blocking read, e.g.
        ``async for nodes, meta in client.watch(client.catalog.nodes):``.

        ``read`` is a method taking ``watch=`` (``client.health.service``, ``client.kv.items``...)
        and ``args``/``kwargs`` its arguments (``token=`` among them: the ACL token of every
        read); a callable without ``watch=`` is refused at once with a TypeError naming
        ``read``. Typed ``Watch[tuple[T, Meta]]``, ``T`` being what
        ``read`` returns beside its Meta, or ``Watch[tuple[T, Meta] | ConsulError]`` with
        ``errors="yield"``. See :class:`~aioconsul.watch.Watch`.

        Watches of this client that would send the same requests share one (see
        :ref:`shared-watches`); ``shared=False`` gives this one a read of its own.
        """
        return Watch(read, *args, wait=wait, errors=errors, backoff=backoff, shared=shared,
                     **kwargs)

    @property
    def address(self) -> str:
        """The agent's address, as shown in messages."""
        return self.config.address

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._core.transport.closed

    async def close(self) -> None:
        """End every watch of the client (their reads in flight cancelled), then close the
        client's own ClientSession (never a lent one). Idempotent."""
        try:
            await close_watches(self._core.transport)
        finally:
            await self._core.transport.close()

    async def __aenter__(self) -> Consul:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        state = " closed" if self.closed else ""
        return f"<Consul {self.config.address}{state}>"
