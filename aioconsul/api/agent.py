"""The local agent: ``/v1/agent/*`` — the agent itself, its gossip pool, and the services and
checks registered with it.

Agent endpoints answer from the agent's own memory: they take no consistency mode, never block
on a Raft index and are never forwarded to another datacenter. Only ``/v1/agent/service/:id``
blocks, on a content hash (see :meth:`AgentServices.get`). Every write is a PUT, as Consul
requires; the writes that set a state (register, maintenance, a check's status, a token) are
safe to repeat and marked idempotent, deregister and leave are not. The duration fields of
service and check definitions (``Interval``, ``TTL``, ``Timeout``,
``DeregisterCriticalServiceAfter``) take a Go duration string or a timedelta and are sent as
Go duration strings. The secret handed to :meth:`Agent.update_token` travels in the JSON
body only: never in the URL, a log line or an error message. Every method takes ``token``: the
ACL token of that call, sent instead of the client's.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import AbstractAsyncContextManager
from types import TracebackType
from typing import Any, overload

from .._core import normalize
from .._core.core import Core, Endpoint
from .._core.jsoncodec import loads
from .._core.request import Request, build, id_path, quote_segment
from .._core.response import parse
from .._core.tokens import attach
from ..errors import ProtocolError, ResponseError
from ..typing import Collection, Duration, HashBlocking, Meta, Object, ObjectID
from ..typing import Mapping as ObjectMapping
from ..watch import blocks_on_hash
from .agent_connect import AgentConnect

__all__ = ["LEGACY_TOKEN_KINDS", "LOG_LEVELS", "STATUSES", "TOKEN_KINDS", "Agent", "AgentChecks",
           "AgentServices", "MetricsStream", "Monitor"]

#: The statuses a check can be set to.
STATUSES = ("passing", "warning", "critical")
#: The levels ``/v1/agent/monitor`` accepts, in any case (Consul's ``logging.ValidateLogLevel``).
LOG_LEVELS = ("trace", "debug", "info", "warn", "err", "error")

_SERVICE_KEYS = ("ServiceID", "ID")
_SERVICE_NAME_KEYS = ("Service", "Name")
_CHECK_KEYS = ("CheckID", "ID")
_NODE_KEYS = ("Node", "Name")
#: The agent's ACL tokens :meth:`Agent.update_token` sets (``PUT /v1/agent/token/<kind>``,
#: agent/agent_endpoint.go ``AgentToken``).
TOKEN_KINDS = ("default", "agent", "agent_recovery", "replication",
               "config_file_service_registration", "dns")
#: The older names of the same tokens, which Consul still accepts.
LEGACY_TOKEN_KINDS = ("acl_token", "acl_agent_token", "agent_master", "acl_agent_master_token",
                      "acl_replication_token", "dns_token")
#: Check fields holding a Go duration, as Consul matches JSON fields (see :func:`_fold`).
_DURATION_FIELDS = frozenset({"interval", "ttl", "timeout", "deregistercriticalserviceafter"})
#: Non-2xx statuses of /v1/agent/health/service/* that are a report, not an error.
_HEALTH_REPORTS = (429, 503)


def _fold(key: str) -> str:
    """A JSON field name as Consul matches it: case-insensitively, snake_case accepted."""
    return key.replace("_", "").lower()


def _put(obj: dict[str, Any], field: str, value: Any) -> None:
    """Set ``field``, dropping any spelling of it already there (``port``, ``Port``)."""
    for key in [key for key in obj if _fold(key) == _fold(field)]:
        del obj[key]
    obj[field] = value


def _field(obj: Mapping[str, Any], field: str) -> Any:
    """The value of ``field`` under any spelling Consul accepts, or None."""
    for key, value in obj.items():
        if _fold(key) == _fold(field):
            return value
    return None


def _status(value: Any, name: str) -> str:
    if value not in STATUSES:
        raise ValueError(f"{name}: expected 'passing', 'warning' or 'critical', got {value!r}")
    return str(value)


def _check_definition(value: Any, name: str = "check") -> dict[str, Any]:
    """A copy of a check definition with its duration fields as Go duration strings.

    Consul matches field names case-insensitively and accepts snake_case, so ``Interval``,
    ``interval`` and ``deregister_critical_service_after`` are all read as durations. A
    ``Status`` must be ``passing``, ``warning`` or ``critical``. Other fields pass through.
    """
    check = normalize.definition(value, name, "a check definition")
    for key, item in check.items():
        folded = _fold(key)
        if item is None:
            continue
        if folded in _DURATION_FIELDS:
            check[key] = normalize.go_duration(item, f"{name}.{key}")
        elif folded == "status" and item != "":
            _status(item, f"{name}.{key}")
    return check


def _check_list(value: Any, name: str) -> list[dict[str, Any]]:
    checks = normalize.list_of(value, name, "check definitions")
    return [_check_definition(item, f"{name}[{i}]") for i, item in enumerate(checks)]


def _service_definition(value: Any, name: str = "service", *, sidecar: bool = False) -> Object:
    """A copy of a service definition (Consul's AgentServiceRegistration) ready to send.

    The checks of ``Check``, ``Checks`` and ``Connect.SidecarService`` (itself a service
    definition) go through :func:`_check_definition`; everything else (``Proxy``, ``Meta``,
    ``Weights``, ``TaggedAddresses``, ``Kind``...) passes through untouched. A service needs a
    ``Name``; a sidecar takes its name from the service it serves.
    """
    service = normalize.definition(value, name, "a service definition")
    for key, item in service.items():
        folded = _fold(key)
        if item is None:
            continue
        if folded == "check":
            service[key] = _check_definition(item, f"{name}.{key}")
        elif folded == "checks":
            service[key] = _check_list(item, f"{name}.{key}")
        elif folded == "connect" and isinstance(item, Mapping):
            connect = dict(item)
            for sub, sidecar_item in item.items():
                if isinstance(sub, str) and _fold(sub) == "sidecarservice" and sidecar_item:
                    connect[sub] = _service_definition(sidecar_item, f"{name}.{key}.{sub}",
                                                      sidecar=True)
            service[key] = connect
    if not sidecar:
        title = _field(service, "Name")
        if title is None:
            raise ValueError(f"{name}: a service definition needs a 'Name'")
        normalize.text(title, f"{name}.Name")
    return service


def _service_path(verb: str, service: Any) -> str:
    return id_path(f"/v1/agent/{verb}/", service, "service", _SERVICE_KEYS)


def _check_path(verb: str, check: Any) -> str:
    return id_path(f"/v1/agent/check/{verb}/", check, "check", _CHECK_KEYS)


def _filter(filter: str | None) -> list[tuple[str, str]]:
    return [] if filter is None else [("filter", normalize.expression(filter))]


def _maintenance(enable: Any, reason: Any) -> list[tuple[str, str]]:
    """``?enable=`` (a bool as Consul's ``strconv.ParseBool`` reads it) and ``?reason=``."""
    params = [("enable", "true" if normalize.flag(enable, "enable") else "false")]
    if reason is not None:
        params.append(("reason", normalize.text(reason, "reason", empty=True)))
    return params


class AgentServices(Endpoint):
    """``client.agent.services``: the services registered with this agent.

    Not the catalog: the agent keeps these in its memory and syncs them to the catalog by
    anti-entropy, so for a moment the two may differ.
    """

    __slots__ = ()

    async def items(
        self,
        *,
        filter: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        token: str | None = None,
    ) -> tuple[ObjectMapping, Meta]:
        """Every service of this agent, by id (``GET /v1/agent/services``).

        ``filter`` is a filter expression over the services (``'Service == "web"'``).
        """
        data, meta = await self._core.request(
            "GET", "/v1/agent/services", params=_filter(filter), namespace=namespace,
            partition=partition, token=token,
        )
        return (data or {}), meta

    @blocks_on_hash
    async def get(
        self,
        service: ObjectID,
        *,
        watch: HashBlocking | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        token: str | None = None,
    ) -> tuple[Object | None, Meta]:
        """One service's full definition (``GET /v1/agent/service/<id>``); ``(None, meta)`` when
        the agent has no service with that id.

        This read blocks on a content hash, not an index: ``watch`` is the ``meta`` (or the
        service) of the previous read, or ``(meta, "30s")`` with a wait; both carry
        ``ContentHash``. The call returns when the definition changes or the wait (5 minutes by
        default on the agent) runs out. The Meta of a ``(None, meta)`` answer has no
        ``ContentHash``: passed back as ``watch=`` it reads at once. A watch of this read
        (``client.watch(client.agent.services.get, "web-sidecar-proxy")``) takes that answer as
        a failed read, as Go's ``agentServiceWatch`` does: it backs off, retries, and yields the
        service once it is registered.
        """
        data, meta = await self._core.request(
            "GET", _service_path("service", service), hash_watch=watch, namespace=namespace,
            partition=partition, missing_ok=True, token=token,
        )
        return data, meta

    async def register(
        self,
        service: Mapping[str, Any] | str,
        *,
        id: str | None = None,
        port: int | None = None,
        address: str | None = None,
        tags: Iterable[str] | None = None,
        meta: Mapping[str, str] | None = None,
        check: Mapping[str, Any] | None = None,
        checks: Iterable[Mapping[str, Any]] | None = None,
        replace_existing_checks: bool = False,
        namespace: str | None = None,
        partition: str | None = None,
        token: str | None = None,
    ) -> None:
        """Register a service with this agent, or replace its definition
        (``PUT /v1/agent/service/register``).

        ``service`` is the service's name, or a whole Consul service definition (``Name``,
        ``ID``, ``Tags``, ``Port``, ``Check``, ``Checks``, ``Connect``, ``Proxy``, ``Weights``,
        ...). The definition is sent as given, except that the duration fields of its checks
        (``Interval``, ``TTL``, ``Timeout``, ``DeregisterCriticalServiceAfter``, in ``Check``,
        ``Checks`` and ``Connect.SidecarService``) may be timedeltas and are sent as Go duration
        strings. The keyword arguments set the fields of the same name, over the definition's.
        With ``replace_existing_checks`` the agent drops this service's checks missing from the
        definition; otherwise registering again keeps them.
        """
        body = ({"Name": normalize.text(service, "service")} if isinstance(service, str)
                else _service_definition(service))
        if id is not None:
            _put(body, "ID", normalize.text(id, "id"))
        if port is not None:
            if isinstance(port, bool) or not isinstance(port, int):
                raise TypeError(f"port: expected an int, got {type(port).__name__}")
            if not 0 <= port <= 65535:
                raise ValueError(f"port: {port} is not a port number")
            _put(body, "Port", port)
        if address is not None:
            _put(body, "Address", normalize.text(address, "address", empty=True))
        if tags is not None:
            _put(body, "Tags", normalize.tags(tags, "tags"))
        if meta is not None:
            _put(body, "Meta", normalize.str_map(meta, "meta"))
        if check is not None:
            _put(body, "Check", _check_definition(check, "check"))
        if checks is not None:
            _put(body, "Checks", _check_list(checks, "checks"))
        params = [("replace-existing-checks", "true")] if replace_existing_checks else []
        await self._core.request(
            "PUT", "/v1/agent/service/register", params=params, json=body, namespace=namespace,
            partition=partition, idempotent=True, token=token,
        )

    async def deregister(
        self,
        service: ObjectID,
        *,
        namespace: str | None = None,
        partition: str | None = None,
        token: str | None = None,
    ) -> None:
        """Remove a service and its checks (``PUT /v1/agent/service/deregister/<id>``).

        An id the agent does not know raises :class:`~aioconsul.errors.NotFound` (Consul
        1.11+; pass the service's id, not its name).
        """
        await self._core.request(
            "PUT", _service_path("service/deregister", service), namespace=namespace,
            partition=partition, token=token,
        )

    async def maintenance(
        self,
        service: ObjectID,
        enable: bool,
        *,
        reason: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        token: str | None = None,
    ) -> None:
        """Put a service into maintenance mode or take it out
        (``PUT /v1/agent/service/maintenance/<id>?enable=``).

        In maintenance the agent adds a critical check ``_service_maintenance:<id>`` (its notes
        are ``reason``), so the service drops out of healthy queries and DNS. An unknown service
        raises :class:`~aioconsul.errors.NotFound`.
        """
        params = _maintenance(enable, reason)
        await self._core.request(
            "PUT", _service_path("service/maintenance", service), params=params,
            namespace=namespace, partition=partition, idempotent=True, token=token,
        )

    @overload
    async def health(
        self,
        name: ObjectID,
        *,
        id: None = None,
        namespace: str | None = None,
        partition: str | None = None,
        token: str | None = None,
    ) -> tuple[Collection, Meta]: ...

    @overload
    async def health(
        self,
        name: None = None,
        *,
        id: ObjectID,
        namespace: str | None = None,
        partition: str | None = None,
        token: str | None = None,
    ) -> tuple[Object | None, Meta]: ...

    async def health(
        self,
        name: ObjectID | None = None,
        *,
        id: ObjectID | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        token: str | None = None,
    ) -> tuple[Collection | Object | None, Meta]:
        """The aggregated health of local service instances, by service name or by ``id=``
        (``GET /v1/agent/health/service/name/<name>`` or ``.../id/<id>``).

        Each report is ``{"AggregatedStatus", "Service", "Checks"}``; ``AggregatedStatus`` is
        the worst status of the instance's checks, or ``"maintenance"`` while the service or
        its node is in maintenance mode. By name: a list with one report per
        instance, ``[]`` when none has that name. By id: one report, or None when the agent
        has no such service. The agent signals warning with HTTP 429, critical and
        maintenance with 503; those are reports here, not errors.
        """
        if (name is None) == (id is None):
            raise ValueError("name: give a service name or id=, not both and not neither")
        if id is not None:
            path = _service_path("health/service/id", id)
        else:
            path = id_path("/v1/agent/health/service/name/", name, "name", _SERVICE_NAME_KEYS)
        data, meta = await self._core.request(
            "GET", path, namespace=namespace, partition=partition, missing_ok=True,
            ok_statuses=_HEALTH_REPORTS, token=token,
        )
        if id is None:
            return (data or []), meta
        return data, meta


class AgentChecks(Endpoint):
    """``client.agent.checks``: the health checks this agent runs or holds (TTL checks)."""

    __slots__ = ()

    async def items(
        self,
        *,
        filter: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        token: str | None = None,
    ) -> tuple[ObjectMapping, Meta]:
        """Every check of this agent, by check id (``GET /v1/agent/checks``).

        ``filter`` is a filter expression over the checks (``'Status == "critical"'``).
        """
        data, meta = await self._core.request(
            "GET", "/v1/agent/checks", params=_filter(filter), namespace=namespace,
            partition=partition, token=token,
        )
        return (data or {}), meta

    async def register(
        self,
        check: Mapping[str, Any] | str,
        *,
        id: str | None = None,
        service: ObjectID | None = None,
        ttl: Duration | None = None,
        interval: Duration | None = None,
        timeout: Duration | None = None,
        http: str | None = None,
        tcp: str | None = None,
        notes: str | None = None,
        status: str | None = None,
        deregister_critical_service_after: Duration | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        token: str | None = None,
    ) -> None:
        """Register a check with this agent, or replace it (``PUT /v1/agent/check/register``).

        ``check`` is the check's name, or a whole Consul check definition (``Name``, ``ID``,
        ``TTL``, ``HTTP``, ``Interval``, ``Args``, ``ServiceID``, ...), sent as given except
        that its durations may be timedeltas and are sent as Go duration strings. The keyword
        arguments set the fields of the same name over the definition's: ``service`` (a service
        id, or the service itself) becomes ``ServiceID``; durations take a Go duration string
        or a timedelta. A TTL check
        stays critical (or ``status``) until :meth:`pass_`, :meth:`warn`, :meth:`fail` or
        :meth:`update` reports on it.
        """
        body = ({"Name": normalize.text(check, "check")} if isinstance(check, str)
                else _check_definition(check))
        if _field(body, "Name") is None:
            raise ValueError("check: a check definition needs a 'Name'")
        normalize.text(_field(body, "Name"), "check.Name")
        if id is not None:
            _put(body, "ID", normalize.text(id, "id"))
        if service is not None:
            _put(body, "ServiceID", normalize.object_id(service, "service", _SERVICE_KEYS))
        for field, value, name in (("TTL", ttl, "ttl"), ("Interval", interval, "interval"),
                                   ("Timeout", timeout, "timeout"),
                                   ("DeregisterCriticalServiceAfter",
                                    deregister_critical_service_after,
                                    "deregister_critical_service_after")):
            if value is not None:
                _put(body, field, normalize.go_duration(value, name))
        for field, value, name in (("HTTP", http, "http"), ("TCP", tcp, "tcp")):
            if value is not None:
                _put(body, field, normalize.text(value, name))
        if notes is not None:
            _put(body, "Notes", normalize.text(notes, "notes", empty=True))
        if status is not None:
            _put(body, "Status", _status(status, "status"))
        await self._core.request(
            "PUT", "/v1/agent/check/register", json=body, namespace=namespace,
            partition=partition, idempotent=True, token=token,
        )

    async def deregister(
        self,
        check: ObjectID,
        *,
        namespace: str | None = None,
        partition: str | None = None,
        token: str | None = None,
    ) -> None:
        """Remove a check (``PUT /v1/agent/check/deregister/<id>``); an unknown id raises
        :class:`~aioconsul.errors.NotFound`, as do the status reports below."""
        await self._core.request(
            "PUT", _check_path("deregister", check), namespace=namespace, partition=partition,
            token=token,
        )

    async def _ttl(self, verb: str, check: Any, note: str | None, namespace: str | None,
                   partition: str | None, token: str | None) -> None:
        params = [] if note is None else [("note", normalize.text(note, "note", empty=True))]
        await self._core.request(
            "PUT", _check_path(verb, check), params=params, namespace=namespace,
            partition=partition, idempotent=True, token=token,
        )

    async def pass_(
        self,
        check: ObjectID,
        note: str | None = None,
        *,
        namespace: str | None = None,
        partition: str | None = None,
        token: str | None = None,
    ) -> None:
        """Set a TTL check to passing and restart its TTL (``PUT /v1/agent/check/pass/<id>``);
        ``note`` becomes its output."""
        await self._ttl("pass", check, note, namespace, partition, token)

    async def warn(
        self,
        check: ObjectID,
        note: str | None = None,
        *,
        namespace: str | None = None,
        partition: str | None = None,
        token: str | None = None,
    ) -> None:
        """Set a TTL check to warning (``PUT /v1/agent/check/warn/<id>``)."""
        await self._ttl("warn", check, note, namespace, partition, token)

    async def fail(
        self,
        check: ObjectID,
        note: str | None = None,
        *,
        namespace: str | None = None,
        partition: str | None = None,
        token: str | None = None,
    ) -> None:
        """Set a TTL check to critical (``PUT /v1/agent/check/fail/<id>``)."""
        await self._ttl("fail", check, note, namespace, partition, token)

    async def update(
        self,
        check: ObjectID,
        status: str,
        output: str | None = None,
        *,
        namespace: str | None = None,
        partition: str | None = None,
        token: str | None = None,
    ) -> None:
        """Set a TTL check's status and output (``PUT /v1/agent/check/update/<id>``).

        ``status`` is ``"passing"``, ``"warning"`` or ``"critical"``; ``output`` is shown as
        the check's output (empty when not given). Only TTL checks can be updated: the agent
        refuses the others.
        """
        body = {"Status": _status(status, "status"),
                "Output": "" if output is None else normalize.text(output, "output", empty=True)}
        await self._core.request(
            "PUT", _check_path("update", check), json=body, namespace=namespace,
            partition=partition, idempotent=True, token=token,
        )


_Stream = tuple[int, Mapping[str, str], Callable[[], Awaitable[bytes]]]


class _AgentStream:
    """A body the agent streams until the client hangs up (its log, its metrics): the request
    is sent when the block is entered or on the first iteration, and the agent's error (as
    every call's) is raised then. It ends, and its connection is released, on :meth:`aclose`,
    on leaving the block, or when the iterating task is cancelled; nothing is left running.

    The client's token, when it can change (a provider, a token file), is taken from its
    source each time the stream is opened, and an answer 403 "ACL not found" has it fetched
    once more and the stream opened once more with the new one, as every other request of
    the client does (:meth:`aioconsul._core.core.Core.request`); a call's own ``token`` is
    never replaced.
    """

    __slots__ = ("_core", "_done", "_own_token", "_readline", "_request", "_stream")

    def __init__(self, core: Core, request: Request) -> None:
        self._core = core
        self._request = request
        self._own_token = request.token is not None
        self._stream: AbstractAsyncContextManager[_Stream] | None = None
        self._readline: Callable[[], Awaitable[bytes]] | None = None
        self._done = False

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._request.target}" \
               f"{' closed' if self._done else ''}>"

    async def _open(self) -> Callable[[], Awaitable[bytes]]:
        request = self._request
        source = None if self._own_token else self._core.tokens
        sent: str | None = None
        fetches = 0
        if source is not None:  # the source's token now, not the one of an earlier open
            sent, fetches = await attach(source, request)
        while True:
            stream = self._core.transport.stream(request)
            self._stream = stream
            status, headers, readline = await stream.__aenter__()
            if 200 <= status < 300:
                self._readline = readline
                return readline
            body = b"".join([line async for line in _lines(readline)])
            self._stream = None
            await stream.__aexit__(None, None, None)
            if status == 403 and source is not None and b"ACL not found" in body:
                fresh = await source.refresh(fetches)
                source = None  # once per open
                if fresh != sent:
                    request.token = fresh
                    if fresh is not None and fresh not in request.secrets:
                        request.secrets = (*request.secrets, fresh)
                    continue
            parse(request, status, headers, body,
                  address=self._core.transport.address_of(0))  # raises the status's error
            raise AssertionError("unreachable: parse raises for a non-2xx status")

    async def _line(self) -> bytes:
        """The body's next line; ``b""`` once it ended (the stream is then closed)."""
        if self._done:
            return b""
        try:
            line = await (self._readline or await self._open())()
        except BaseException:  # cancelled, or the connection failed: release it
            await self.aclose()
            raise
        if not line:
            await self.aclose()
        return line

    def _bad_json(self, what: str, data: bytes) -> ProtocolError:
        return ProtocolError(f"{what} is not valid JSON: {data[:200]!r}",
                             operation=self._request.operation,
                             address=self._core.transport.address_of(0))

    async def aclose(self) -> None:
        """Stop streaming and release the connection. Idempotent."""
        self._done = True
        stream, self._stream, self._readline = self._stream, None, None
        if stream is not None:
            await stream.__aexit__(None, None, None)

    async def __aenter__(self) -> Any:
        if self._stream is None and not self._done:
            try:
                await self._open()
            except BaseException:
                await self.aclose()
                raise
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.aclose()


class Monitor(_AgentStream):
    """The agent's log as it is written: :meth:`Agent.monitor`.

    An async iterator of lines (str, or dicts with ``logjson``), and an async context manager.
    The request is sent when the block is entered or on the first iteration; the agent's error
    (as every call's) is raised then. It ends, and its connection is released, on
    :meth:`aclose`, on leaving the block, or when the iterating task is cancelled; nothing is
    left running.
    """

    __slots__ = ("_json",)

    def __init__(self, core: Core, request: Request, *, logjson: bool) -> None:
        super().__init__(core, request)
        self._json = logjson

    def __aiter__(self) -> AsyncIterator[Any]:
        return self

    async def __anext__(self) -> Any:
        line = await self._line()
        if not line:
            raise StopAsyncIteration
        if not self._json:
            return line.decode("utf-8", "replace").removesuffix("\n")
        try:
            return loads(line)
        except ValueError:
            await self.aclose()
            raise self._bad_json("a log line", line) from None

    async def __aenter__(self) -> Monitor:
        await super().__aenter__()
        return self


class MetricsStream(_AgentStream):
    """The agent's metrics, one summary per interval: :meth:`Agent.metrics_stream`.

    An async iterator of dicts (``{"Timestamp", "Gauges", "Points", "Counters",
    "Samples"}``, as :meth:`Agent.metrics` answers), and an async context manager; opened and
    closed as :class:`Monitor` is. Consul writes each summary as an indented JSON document
    (``json.Encoder`` with four-space indentation), several lines long: a document ends with
    the line holding its closing brace at the left margin.
    """

    __slots__ = ()

    def __aiter__(self) -> AsyncIterator[Object]:
        return self

    async def __anext__(self) -> Object:
        parts: list[bytes] = []
        while line := await self._line():
            if not parts and not line.strip():
                continue  # between two documents
            parts.append(line)
            if line[:1] not in b"}{":
                continue  # inside a document: only its last line starts at the margin
            document = b"".join(parts)
            try:
                summary = loads(document)
            except ValueError:
                if line[:1] == b"{":
                    continue  # the first line of an indented document
                await self.aclose()
                raise self._bad_json("a metrics summary", document) from None
            if not isinstance(summary, dict):
                await self.aclose()
                raise self._bad_json("a metrics summary (an object)", document)
            return summary
        if parts:  # the agent hung up in the middle of a document
            raise self._bad_json("the last metrics summary", b"".join(parts))
        raise StopAsyncIteration

    async def __aenter__(self) -> MetricsStream:
        await super().__aenter__()
        return self


async def _lines(readline: Callable[[], Awaitable[bytes]]) -> AsyncIterator[bytes]:
    while line := await readline():
        yield line


class Agent(Endpoint):
    """``client.agent``: the agent the client talks to.

    ``client.agent.services`` (:class:`AgentServices`) and ``client.agent.checks``
    (:class:`AgentChecks`) hold its services and checks.
    """

    __slots__ = ("checks", "connect", "services")

    services: AgentServices
    checks: AgentChecks
    connect: AgentConnect

    def __init__(self, core: Core) -> None:
        super().__init__(core)
        self.services = AgentServices(core)
        self.checks = AgentChecks(core)
        self.connect = AgentConnect(core)

    async def self(self, *, token: str | None = None) -> Object:
        """The agent's configuration and member record (``GET /v1/agent/self``).

        ``Config`` (``Datacenter``, ``NodeName``, ``NodeID``, ``Server``, ``Version``...) is
        stable across releases; ``DebugConfig`` is not.
        """
        data, _ = await self._core.request("GET", "/v1/agent/self", token=token, with_meta=False)
        result: Object = data
        return result

    async def members(
        self,
        *,
        wan: bool = False,
        segment: str | None = None,
        filter: str | None = None,
        partition: str | None = None,
        token: str | None = None,
    ) -> tuple[Collection, Meta]:
        """The members of the gossip pool as this agent sees them (``GET /v1/agent/members``).

        ``wan`` lists the WAN pool instead (servers only); ``segment`` (Enterprise) a LAN
        segment, ``"_all"`` for all of them. ``Status`` is Serf's: 1 alive, 2 leaving, 3 left,
        4 failed.
        """
        params: list[tuple[str, str]] = []
        if wan:
            params.append(("wan", "1"))  # the agent tests for a non-empty value
        if segment is not None:
            segment = normalize.text(segment, "segment")
            if wan and segment != "_all":
                raise ValueError("segment: a segment cannot be combined with wan=True")
            params.append(("segment", segment))
        params += _filter(filter)
        data, meta = await self._core.request(
            "GET", "/v1/agent/members", params=params, partition=partition, token=token,
        )
        return (data or []), meta

    async def join(
        self,
        address: str,
        *,
        wan: bool = False,
        partition: str | None = None,
        token: str | None = None,
    ) -> None:
        """Ask the agent to join the gossip pool of the agent at ``address`` (``"host"`` or
        ``"host:port"``) (``PUT /v1/agent/join/<address>``); ``wan`` joins the WAN pool."""
        params = [("wan", "1")] if wan else []
        await self._core.request(
            "PUT", "/v1/agent/join/" + quote_segment(normalize.text(address, "address")),
            params=params, partition=partition, idempotent=True, token=token,
        )

    async def leave(self, *, token: str | None = None) -> None:
        """Leave the cluster gracefully and shut the agent down (``PUT /v1/agent/leave``)."""
        await self._core.request("PUT", "/v1/agent/leave", token=token)

    async def force_leave(
        self,
        node: ObjectID,
        *,
        prune: bool = False,
        wan: bool = False,
        partition: str | None = None,
        token: str | None = None,
    ) -> None:
        """Move a failed member to the "left" state (``PUT /v1/agent/force-leave/<node>``).

        ``node`` is a node name, or a member or node object. ``prune`` also removes it from
        the member list at once; ``wan`` acts on the WAN pool only.
        """
        params = [(flag, "1") for flag, given in (("prune", prune), ("wan", wan)) if given]
        await self._core.request(
            "PUT", id_path("/v1/agent/force-leave/", node, "node", _NODE_KEYS),
            params=params, partition=partition, idempotent=True, token=token,
        )

    async def maintenance(
        self, enable: bool, *, reason: str | None = None, token: str | None = None,
    ) -> None:
        """Put this node into maintenance mode or take it out
        (``PUT /v1/agent/maintenance?enable=``).

        In maintenance the agent adds a critical check ``_node_maintenance`` (its notes are
        ``reason``), so every service of the node drops out of healthy queries and DNS.
        """
        params = _maintenance(enable, reason)
        await self._core.request("PUT", "/v1/agent/maintenance", params=params, idempotent=True,
                                 token=token)

    async def reload(self, *, token: str | None = None) -> None:
        """Reload the agent's configuration files (``PUT /v1/agent/reload``)."""
        await self._core.request("PUT", "/v1/agent/reload", idempotent=True, token=token)

    async def metrics(self, *, token: str | None = None) -> Object:
        """The agent's metrics of the last finished interval, as JSON
        (``GET /v1/agent/metrics``): ``Timestamp``, ``Gauges``, ``Points``, ``Counters``,
        ``Samples``."""
        data, _ = await self._core.request("GET", "/v1/agent/metrics", token=token, with_meta=False)
        result: Object = data
        return result

    async def prometheus_metrics(self, *, token: str | None = None) -> str:
        """The same metrics in Prometheus' text exposition format
        (``GET /v1/agent/metrics?format=prometheus``), ready for a Prometheus parser:
        ``consul_state_nodes`` and the like, one ``# HELP``/``# TYPE`` pair per family.

        The agent answers so only with ``telemetry.prometheus_retention_time`` set (the dev
        agent's ``prometheus_retention_time``); without it Consul means a 415 but sends an
        empty 200 with the reason in ``X-Consul-Reason``, raised here as
        :class:`~aioconsul.errors.ResponseError` (its ``status`` is None). Needs
        ``agent:read``.
        """
        data, meta = await self._core.request(
            "GET", "/v1/agent/metrics", params=(("format", "prometheus"),), raw=True,
            token=token)
        if not data:
            raise ResponseError(
                "Prometheus is not enabled since its retention time is not positive (the "
                "agent needs telemetry.prometheus_retention_time)",
                operation="GET /v1/agent/metrics", address=self._core.transport.address_of(0),
                meta=meta)
        return bytes(data).decode("utf-8")

    async def host(self, *, token: str | None = None) -> Object:
        """Facts about the agent's host: ``Memory``, ``CPU``, ``Host``, ``Disk``
        (``GET /v1/agent/host``; its shape is not stable across releases)."""
        data, _ = await self._core.request("GET", "/v1/agent/host", token=token, with_meta=False)
        result: Object = data
        return result

    async def version(self, *, token: str | None = None) -> Object:
        """The agent's build: ``HumanVersion``, ``SHA``, ``BuildDate``, ``FIPS``
        (``GET /v1/agent/version``, Consul 1.16+)."""
        data, _ = await self._core.request("GET", "/v1/agent/version", token=token, with_meta=False)
        result: Object = data
        return result

    def monitor(
        self, loglevel: str = "info", *, logjson: bool = False, token: str | None = None,
    ) -> Monitor:
        """Stream the agent's log (``GET /v1/agent/monitor``): a :class:`Monitor`, an async
        iterator (and async context manager) of its lines from now on.

        ``loglevel`` is the lowest level shown, one of :data:`LOG_LEVELS` in any case (Consul's
        default is ``info``; the HTTP request lines are ``debug``). Lines are str without their
        newline, in hclog's text form; with ``logjson`` each is the JSON record as a dict
        (``@level``, ``@message``, ``@module``, ``@timestamp`` and the fields). The stream never
        ends by itself: close it (``aclose()``, ``async with``) or cancel its task.
        """
        loglevel = normalize.text(loglevel, "loglevel")
        if loglevel.lower() not in LOG_LEVELS:
            raise ValueError(f"loglevel: {loglevel!r} is not a log level (one of {LOG_LEVELS})")
        params = [("loglevel", loglevel)]
        if normalize.flag(logjson, "logjson"):
            params.append(("logjson", ""))
        request = build("GET", "/v1/agent/monitor", self._core.config, params=params,
                        token=token)
        return Monitor(self._core, request, logjson=logjson)

    def metrics_stream(self, *, token: str | None = None) -> MetricsStream:
        """Stream the agent's metrics (``GET /v1/agent/metrics/stream``, Consul 1.12+): a
        :class:`MetricsStream`, an async iterator (and async context manager) of summaries.

        Each summary is what :meth:`metrics` answers (``Timestamp``, ``Gauges``, ``Points``,
        ``Counters``, ``Samples``), for one interval of the agent's in-memory sink (10 s in
        Consul), written when that interval has ended: the first comes at the end of the
        current one. Needs ``agent:read``. The stream never ends by itself: close it
        (``aclose()``, ``async with``) or cancel its task.
        """
        request = build("GET", "/v1/agent/metrics/stream", self._core.config, token=token)
        return MetricsStream(self._core, request)

    async def update_token(self, kind: str, secret: str, *, token: str | None = None) -> None:
        """Set one of the agent's ACL tokens (``PUT /v1/agent/token/<kind>``) to ``secret``.

        ``kind`` is one of :data:`TOKEN_KINDS`: ``default``, ``agent``, ``agent_recovery``,
        ``replication``, ``config_file_service_registration`` or ``dns`` (the legacy names
        Consul still takes, :data:`LEGACY_TOKEN_KINDS`, are accepted too); another kind is a
        ValueError before anything is sent. ``secret`` is the SecretID to set; it travels in
        the JSON body, never in the URL, and no message ever shows it. ``token`` is the ACL
        token this call is made with (it needs ``agent:write``), as on every method. An agent
        without ACLs answers :class:`~aioconsul.errors.PermissionDenied` ("ACL support
        disabled").
        """
        kind = normalize.text(kind, "kind")
        if kind not in TOKEN_KINDS and kind not in LEGACY_TOKEN_KINDS:
            raise ValueError(f"kind: {kind!r} is not one of the agent's token kinds "
                             f"({', '.join(TOKEN_KINDS)})")
        normalize.text(secret, "secret", empty=True)
        await self._core.request("PUT", "/v1/agent/token/" + kind, json={"Token": secret},
                                 idempotent=True, token=token, secrets=(secret,))
