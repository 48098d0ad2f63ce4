"""Managed registration: a service registered with the local agent for as long as a block runs.

:class:`Registration` (``client.register(...)``) registers a service on enter, keeps its TTL
check passing from one heartbeat task (optionally asking an application probe how it is), watches
the agent's copy of the service by content hash to notice when the agent lost it (an agent
restart, a wiped data dir) and registers it again, registers it again when the client's token
changes (the agent keeps the token a service was registered with, for anti-entropy), and on exit
drains: marks the instance critical (or puts it in maintenance), waits a grace period so that
clients stop sending traffic, and deregisters. It talks to Consul only through ``client.agent``,
``client.watch`` and the client's token source; every task it
starts is stopped and awaited before its exit (or :meth:`Registration.drain`) returns, and the
deregistration runs although the caller is cancelled, for a bounded time.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import inspect
import logging
import random
from collections.abc import Callable, Coroutine, Iterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

from .._cleanup import shielded
from .._core import normalize
from .._core.tokens import ProviderTokens, TokenSource
from ..errors import ConsulError, NotFound, ServerError, TransportError
from ..typing import Duration
from ..watch import Backoff

if TYPE_CHECKING:
    from ..client import Consul

__all__ = ["DRAIN_MODES", "STATUSES", "Registration"]

log = logging.getLogger("aioconsul.toolkit")

#: The statuses a TTL check can be set to, from best to worst.
STATUSES = ("passing", "warning", "critical")
#: How :meth:`Registration.drain` takes the instance out of rotation before deregistering it.
DRAIN_MODES = ("critical", "maintenance")
#: What Consul answers (500) to a TTL update of a check it does not hold as a TTL check
#: (agent/agent.go, ``updateTTLCheck``); newer agents answer 404 "Unknown check ID" first
#: (agent/agent_endpoint.go, ``vetCheckUpdateWithAuthorizer``).
_NO_TTL = "does not have associated TTL"
#: The fraction of the heartbeat interval taken off at random, so that instances started together
#: do not beat together.
_JITTER = 0.2

Probe = Callable[[], Any]


def _fold(key: str) -> str:
    """A JSON field name as Consul matches it: case-insensitively, snake_case accepted."""
    return key.replace("_", "").lower()


def _pop(obj: dict[str, Any], field: str) -> Any:
    """Remove every spelling of ``field`` from ``obj``; return the last value found, or None."""
    value = None
    for key in [key for key in obj if _fold(key) == _fold(field)]:
        value = obj.pop(key)
    return value


def _get(obj: Mapping[str, Any], field: str) -> Any:
    for key, value in obj.items():
        if _fold(key) == _fold(field):
            return value
    return None


def _optional_text(value: Any, name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"{name}: expected a str, got {type(value).__name__}")
    if not value:
        raise ValueError(f"{name}: must not be empty")
    return value


def _status(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name}: expected 'passing', 'warning' or 'critical', got "
                        f"{type(value).__name__}")
    if value not in STATUSES:
        raise ValueError(f"{name}: expected 'passing', 'warning' or 'critical', got {value!r}")
    return value


def _seconds(value: Any, name: str) -> float:
    """A non-negative number of seconds, a timedelta or a Go duration string, in seconds."""
    if isinstance(value, bool):
        raise TypeError(f"{name}: expected seconds, a timedelta or a duration string, got bool")
    if isinstance(value, (int, float)):
        if not value >= 0:
            raise ValueError(f"{name}: expected a number of seconds >= 0, got {value!r}")
        return float(value)
    if isinstance(value, (str, datetime.timedelta)):
        return normalize.duration(value, name) / 1e9
    raise TypeError(f"{name}: expected seconds, a timedelta or a duration string, got "
                    f"{type(value).__name__}")


def _worse(a: tuple[str, str], b: tuple[str, str]) -> tuple[str, str]:
    """The worse of two (status, note) pairs; on a tie, ``b`` when it has a note."""
    rank_a, rank_b = STATUSES.index(a[0]), STATUSES.index(b[0])
    if rank_a > rank_b or (rank_a == rank_b and not b[1]):
        return a
    return b


def _probe_result(result: Any) -> tuple[str, str]:
    """What a probe returned, as (status, note)."""
    if result is None or result is True:
        return "passing", ""
    if result is False:
        return "critical", ""
    if isinstance(result, str) and result in STATUSES:
        return result, ""
    if isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], str):
        status, note = _probe_result(result[0])
        if status == "critical" and result[0] not in (False, "critical"):
            return status, note  # the first item was not understood: keep the complaint
        return status, result[1]
    log.warning("health probe returned %r: reported as critical", result)
    return "critical", f"health probe returned an unexpected value: {result!r}"


def _lost_registration(exc: ConsulError) -> bool:
    """Whether a TTL update failed because the agent no longer holds the check."""
    if isinstance(exc, NotFound):
        return True
    return isinstance(exc, ServerError) and _NO_TTL in str(exc)


class Registration:
    """A service registered with the local agent while ``async with`` runs:
    ``async with client.register({"Name": "web", "Port": 8080}, ttl="10s") as reg:``.

    ``service`` is a service name or a Consul service definition (``Name``, ``Address``,
    ``Port``, ``Tags``, ``Meta``, ``Weights``, ``Check``/``Checks``...). Its ID is ``id``, or the
    definition's ``ID``, or else one derived from name, address and port (``web-10.0.0.5-8080``,
    parts that are not given left out), so that a restarted process takes over its own entry.

    ``ttl`` adds a TTL check (id ``service:<id>``) that a background task keeps reporting every
    TTL/2, less up to 20 % at random. Each heartbeat reports the worse of the status set by
    :meth:`set_status` and, when given, what ``probe`` says: ``probe`` is a callable (sync, or
    async and then bounded by the heartbeat interval) returning None or True (passing), False
    (critical), ``"passing"``/``"warning"``/``"critical"``, or a pair of one of those and a note
    shown as the check's output; a probe that raises or times out reports critical with the
    error as the note. ``check`` adds another check (HTTP, TCP, gRPC...) that the agent runs
    itself. Every check starts as ``status`` (``"passing"`` by default, so that a fresh
    instance is in ``?passing`` answers at once, not after its first heartbeat) and carries
    ``DeregisterCriticalServiceAfter`` = ``deregister_after`` (``"1m"``; None leaves it out), so
    that the agent removes an instance whose process died without deregistering.

    While running, the registration watches ``/v1/agent/service/<id>`` by content hash; when the
    agent answers 404 (it restarted with no state, or someone deregistered the service), or a
    heartbeat is refused because the check is gone (404 ``Unknown check ID``, or Consul's 500
    ``CheckID ... does not have associated TTL``), it registers the service again with its
    current status: :attr:`losses` counts those, :attr:`lost` is set each time. Failures to
    reach the agent are logged and retried at the next heartbeat.

    Leaving the block (or :meth:`drain`) stops the tasks, then drains: with ``drain="critical"``
    (the default when there is a TTL check) the TTL check is set critical, with
    ``"maintenance"`` (the default, and the only way, without one) the service is put in
    maintenance mode; then it waits ``grace`` seconds (2 by default) and deregisters the
    service. The drain runs although the caller is cancelled: a cancellation that arrives while
    it waits cuts the grace short, never the deregistration; each request is bounded by
    :data:`~aioconsul.recipes.keepalive.CLEANUP_TIMEOUT`.

    ``token`` is the ACL token of every request the registration sends (register, heartbeats,
    its watch, the drain and the deregistration), instead of the client's (it needs
    ``service:write`` on the service). Consul's agent keeps the token a service was registered
    with and syncs the service to the catalog with it (``agent/local/state.go``,
    ``aclTokenForServiceSync``), so when the client's token can change (a token provider or a
    token file, see :class:`~aioconsul.Consul`) and the source yields a new one, the service
    is registered again with it at once (:attr:`registrations` counts it). A ``token`` given
    here never changes, and nothing is registered again for it.
    """

    def __init__(
        self,
        client: Consul,
        service: Mapping[str, Any] | str,
        *,
        id: str | None = None,
        ttl: Duration | None = None,
        check: Mapping[str, Any] | None = None,
        status: str = "passing",
        probe: Probe | None = None,
        deregister_after: Duration | None = "1m",
        drain: str | None = None,
        grace: float | Duration = 2.0,
        namespace: str | None = None,
        partition: str | None = None,
        token: str | None = None,
    ) -> None:
        if isinstance(service, str):
            definition: dict[str, Any] = {"Name": _optional_text(service, "service")}
        else:
            definition = normalize.definition(service, "service", "a service definition")
        name = _get(definition, "Name")
        if name is None:
            raise ValueError("service: a service definition needs a 'Name'")
        _optional_text(name, "service.Name")
        address = _get(definition, "Address")
        if address is not None and not isinstance(address, str):
            raise TypeError(f"service.Address: expected a str, got {type(address).__name__}")
        port = _get(definition, "Port")
        if port is not None and (isinstance(port, bool) or not isinstance(port, int)):
            raise TypeError(f"service.Port: expected an int, got {type(port).__name__}")
        given_id = _optional_text(id, "id") or _optional_text(_get(definition, "ID"), "service.ID")
        if given_id is None:
            given_id = "-".join(str(part) for part in (name, address or None, port)
                                if part is not None)
        self._id: str = given_id
        _pop(definition, "ID")
        definition["ID"] = given_id

        self._ttl: float | None = None
        ttl_text: str | None = None
        if ttl is not None:
            ttl_text = normalize.go_duration(ttl, "ttl")
            self._ttl = normalize.duration(ttl, "ttl") / 1e9
            if self._ttl <= 0:
                raise ValueError(f"ttl: must be above 0, got {ttl!r}")
        self._status = _status(status, "status")
        if probe is not None:
            if not callable(probe):
                raise TypeError(f"probe: expected a callable, got {type(probe).__name__}")
            if ttl is None:
                raise ValueError("probe: a health probe needs a TTL check (ttl=) to report to")
        self._probe = probe
        after = None if deregister_after is None else normalize.go_duration(
            deregister_after, "deregister_after")
        if drain is None:
            drain = "critical" if ttl is not None else "maintenance"
        if drain not in DRAIN_MODES:
            raise ValueError(f"drain: expected 'critical' or 'maintenance', got {drain!r}")
        if drain == "critical" and ttl is None:
            raise ValueError("drain: 'critical' needs a TTL check (ttl=); use 'maintenance'")
        self._drain_mode = drain
        self._grace = _seconds(grace, "grace")
        self._where: dict[str, Any] = {}
        for key, value in (("namespace", namespace), ("partition", partition)):
            if _optional_text(value, key) is not None:
                self._where[key] = value
        if token is not None:
            self._where["token"] = normalize.token(token)

        checks: list[dict[str, Any]] = []
        one = _pop(definition, "Check")
        many = _pop(definition, "Checks")
        self.check_id: str | None = None
        """The TTL check's id (``service:<id>``), or None without ``ttl``."""
        if ttl_text is not None:
            self.check_id = f"service:{given_id}"
            checks.append({"CheckID": self.check_id, "Name": f"Service '{name}' TTL check",
                           "TTL": ttl_text})
        if check is not None:
            user = normalize.definition(check, "check", "a check definition")
            if _get(user, "TTL") is not None:
                raise ValueError("check: give a TTL with ttl=, not in check (its heartbeat is "
                                 "this registration's)")
            checks.append(user)
        if one:
            checks.append(normalize.definition(one, "service.Check", "a check definition"))
        if many:
            if isinstance(many, (str, Mapping)) or not isinstance(many, Iterable):
                raise TypeError("service.Checks: expected a list of check definitions")
            checks += [normalize.definition(item, f"service.Checks[{i}]", "a check definition")
                       for i, item in enumerate(many)]
        for item in checks:
            if after is not None and _get(item, "DeregisterCriticalServiceAfter") is None:
                item["DeregisterCriticalServiceAfter"] = after
        self._checks = checks
        self._definition = definition

        self._client = client
        self._probed: tuple[str, str] | None = None  # the probe's last answer
        self._note = ""
        self._tasks: list[asyncio.Task[None]] = []
        self._lock: asyncio.Lock | None = None
        self._state = "new"  # new, running, draining, drained
        #: Set each time the agent was found to have lost the registration (it is registered
        #: again at once); clear it to wait for the next time.
        self.lost = asyncio.Event()
        #: How many times the agent was found to have lost the registration.
        self.losses = 0
        #: How many times the service was registered (1 after enter, more after losses).
        self.registrations = 0
        #: How many heartbeats reached the agent.
        self.heartbeats = 0
        #: The error that stopped the background work, if one did (it is raised on exit).
        self.error: BaseException | None = None
        # The client's token source, when its token can change and this registration uses it.
        self._source: TokenSource | None = (
            None if "token" in self._where else client._core.tokens)
        self._generation = -1  # the source's generation the service was last registered at

    # -- what it is ---------------------------------------------------------------------------

    @property
    def id(self) -> str:
        """The service's ID."""
        return self._id

    @property
    def status(self) -> str:
        """The status last set with :meth:`set_status` (or the initial one)."""
        return self._status

    @property
    def running(self) -> bool:
        """True between enter and the start of the drain."""
        return self._state == "running"

    @property
    def definition(self) -> dict[str, Any]:
        """The service definition sent to the agent (a copy), its checks in ``Checks``."""
        return self._body(self._current())

    def __repr__(self) -> str:
        return f"<Registration {self._id!r} {self._state}>"

    # -- lifecycle ----------------------------------------------------------------------------

    async def __aenter__(self) -> Registration:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            await self.drain()
        except ConsulError as error:
            if exc is None:
                raise
            log.warning("draining %s failed: %s", self._id, error)
        if exc is None and self.error is not None:
            raise self.error

    async def start(self) -> None:
        """Register the service and start the heartbeat and the watch. Only once."""
        if self._state != "new":
            raise RuntimeError(f"registration {self._id!r} was started already")
        self._lock = asyncio.Lock()
        self._state = "running"
        try:
            await self._register()
        except BaseException:
            self._state = "drained"
            # The agent may have applied a registration whose answer never came.
            with contextlib.suppress(ConsulError):  # the error to raise is the first one
                await shielded(self._guard(self._deregister(), []),
                                f"deregistering {self._id}")
            raise
        loop = asyncio.get_running_loop()
        if self._ttl is not None:
            self._tasks.append(loop.create_task(self._heartbeat(),
                                                name=f"aioconsul heartbeat: {self._id}"))
        self._tasks.append(loop.create_task(self._watch(), name=f"aioconsul watch: {self._id}"))
        if self._source is not None:
            self._tasks.append(loop.create_task(self._follow_token(),
                                                name=f"aioconsul token: {self._id}"))

    async def set_status(self, status: str, note: str = "") -> None:
        """Set the instance's status and report it at once (``"passing"``, ``"warning"`` or
        ``"critical"``; ``note`` becomes the check's output). Heartbeats report it from then on
        (or the probe's answer, when that is worse). Before enter it sets the initial status."""
        status = _status(status, "status")
        if not isinstance(note, str):
            raise TypeError(f"note: expected a str, got {type(note).__name__}")
        if self.check_id is None:
            raise RuntimeError("set_status: this registration has no TTL check (ttl=)")
        if self._state in ("draining", "drained"):
            raise RuntimeError(f"set_status: registration {self._id!r} is drained")
        self._status, self._note = status, note
        if self._state == "running":
            assert self._lock is not None
            async with self._lock:
                await self._send(self._current())

    async def drain(self, *, grace: float | Duration | None = None) -> None:
        """Take the instance out of rotation, wait ``grace`` seconds (the registration's own by
        default), deregister it; see the class description. Idempotent; leaving ``async with``
        afterwards does nothing more. Raises what the first failed request raised, after the
        rest was done."""
        wait = self._grace if grace is None else _seconds(grace, "grace")
        if self._state != "running":
            self._state = "drained" if self._state == "new" else self._state
            return
        self._state = "draining"
        cancelled: BaseException | None = None
        errors: list[BaseException] = []
        try:
            await self._stop_tasks()
        except asyncio.CancelledError as exc:
            cancelled = exc
        try:
            await shielded(self._guard(self._mark_draining(), errors),
                            f"draining {self._id}")
        except asyncio.CancelledError as exc:
            cancelled = exc
        if cancelled is None and wait > 0 and not errors:
            try:
                await asyncio.sleep(wait)
            except asyncio.CancelledError as exc:
                cancelled = exc  # the grace is cut short; the deregistration still runs
        try:
            await shielded(self._guard(self._deregister(), errors),
                            f"deregistering {self._id}")
        except asyncio.CancelledError as exc:
            cancelled = exc
        except ConsulError as exc:  # the bound of CLEANUP_TIMEOUT
            errors.append(exc)
        self._state = "drained"
        if cancelled is not None:
            for error in errors:
                log.warning("draining %s: %s", self._id, error)
            raise cancelled
        if errors:
            raise errors[0]

    # -- the requests -------------------------------------------------------------------------

    def _current(self) -> tuple[str, str]:
        manual = (self._status, self._note)
        return manual if self._probed is None else _worse(manual, self._probed)

    def _body(self, current: tuple[str, str]) -> dict[str, Any]:
        body = dict(self._definition)
        checks = []
        for item in self._checks:
            item = dict(item)
            if _get(item, "Status") is None:
                item["Status"] = current[0]
            checks.append(item)
        if checks:
            body["Checks"] = checks
        return body

    async def _register(self) -> None:
        current = self._current()
        source = self._source
        generation = -1
        if source is not None:
            await source.get()  # the token this registration is sent with, fetched first
            generation = source.generation
        await self._client.agent.services.register(
            self._body(current), replace_existing_checks=True, **self._where)
        self.registrations += 1
        self._generation = generation
        if self.check_id is not None and current[1]:
            # The definition's Status is kept, but its output starts empty: report the note.
            await self._client.agent.checks.update(self.check_id, current[0], current[1],
                                                   **self._where)

    async def _send(self, current: tuple[str, str]) -> None:
        """Report ``current`` on the TTL check (under the lock); register again when the agent
        no longer holds it."""
        assert self.check_id is not None
        try:
            await self._client.agent.checks.update(self.check_id, current[0], current[1],
                                                   **self._where)
        except ConsulError as exc:
            if not _lost_registration(exc):
                raise
            await self._recover(f"heartbeat refused: {exc}")
        self.heartbeats += 1

    async def _recover(self, why: str) -> None:
        self.losses += 1
        self.lost.set()
        log.warning("the agent lost service %s (%s): registering it again", self._id, why)
        await self._register()

    async def _mark_draining(self) -> None:
        if self._drain_mode == "critical":
            assert self.check_id is not None
            await self._client.agent.checks.update(self.check_id, "critical",
                                                   "draining: the instance is shutting down",
                                                   **self._where)
        else:
            await self._client.agent.services.maintenance(
                self._id, True, reason="draining: the instance is shutting down",
                **self._where)

    async def _deregister(self) -> None:
        with contextlib.suppress(NotFound):  # gone already
            await self._client.agent.services.deregister(self._id, **self._where)

    @staticmethod
    async def _guard(step: Coroutine[Any, Any, None], errors: list[BaseException]) -> None:
        try:
            await step
        except ConsulError as exc:
            errors.append(exc)

    # -- the background work ------------------------------------------------------------------

    async def _ask_probe(self, timeout: float) -> tuple[str, str]:
        assert self._probe is not None
        try:
            result = self._probe()
            if inspect.isawaitable(result):
                result = await asyncio.wait_for(result, timeout)
        except asyncio.TimeoutError:
            return "critical", f"health probe timed out after {timeout:g}s"
        except Exception as exc:
            return "critical", f"health probe failed: {type(exc).__name__}: {exc}"
        return _probe_result(result)

    async def _heartbeat(self) -> None:
        assert self._ttl is not None and self._lock is not None
        interval = self._ttl / 2
        try:
            while True:
                await asyncio.sleep(interval * (1 - _JITTER * random.random()))
                if self._probe is not None:
                    self._probed = await self._ask_probe(interval)
                async with self._lock:
                    try:
                        await self._send(self._current())
                    except TransportError as exc:
                        log.info("heartbeat of %s failed: %s", self._id, exc)
                    except ConsulError as exc:
                        log.warning("heartbeat of %s failed: %s", self._id, exc)
                    except Exception as exc:
                        if not self._provider_failed(exc):
                            raise
                        log.warning("heartbeat of %s failed: the token provider raised %s: %s",
                                    self._id, type(exc).__name__, exc)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            self._crashed(exc)

    async def _watch(self) -> None:
        backoff = Backoff(initial=0.2, maximum=min(10.0, max(1.0, self._ttl or 10.0)))
        failures = 0
        try:
            while True:
                try:
                    await self._watch_once(backoff)
                except Exception as exc:
                    # The token provider failed (a read of the watch needed the token again):
                    # the watch starts over after a while.
                    if not self._provider_failed(exc):
                        raise
                    failures += 1
                    log.warning("the watch of %s stopped: the token provider raised %s: %s",
                                self._id, type(exc).__name__, exc)
                    await asyncio.sleep(backoff.delay(failures))
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            self._crashed(exc)

    async def _watch_once(self, backoff: Backoff) -> None:
        assert self._lock is not None
        client = self._client
        async with client.watch(client.agent.services.get, self._id, errors="yield",
                                backoff=backoff, **self._where) as watch:
            async for item in watch:
                if not isinstance(item, NotFound):
                    continue  # the service, or an agent that cannot be reached (retried)
                async with self._lock:
                    # The 404 may predate a registration the heartbeat made since.
                    try:
                        found, _ = await client.agent.services.get(self._id, **self._where)
                        if found is None:
                            await self._recover("the agent has no such service")
                    except Exception as exc:
                        if not (isinstance(exc, ConsulError) or self._provider_failed(exc)):
                            raise
                        log.info("registering %s again failed: %s", self._id, exc)

    def _provider_failed(self, exc: BaseException) -> bool:
        """Whether ``exc`` is what the client's token provider raised last (Vault sealed or
        unreachable...): logged and retried like a failure to reach the agent."""
        source = self._source
        return isinstance(source, ProviderTokens) and source.error is exc

    async def _follow_token(self) -> None:
        """Register the service again each time the client's token source yields a new
        token (see the class description); a failed attempt is retried with back-off."""
        source = self._source
        assert source is not None and self._lock is not None
        backoff = Backoff(initial=0.2, maximum=min(10.0, max(1.0, self._ttl or 10.0)))
        failures = 0
        try:
            while True:
                if failures:
                    await asyncio.sleep(backoff.delay(failures))
                await source.wait_changed(self._generation)
                async with self._lock:
                    if source.generation == self._generation:
                        continue  # registered with it already (a loss was recovered)
                    try:
                        await self._register()
                    except Exception as exc:
                        if not (isinstance(exc, ConsulError) or self._provider_failed(exc)):
                            raise
                        failures += 1
                        log.warning("registering %s again with the new token failed: %s",
                                    self._id, exc)
                    else:
                        failures = 0
                        log.info("the client's token changed: registered %s again with it",
                                 self._id)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            self._crashed(exc)

    def _crashed(self, exc: BaseException) -> None:
        log.error("the registration of %s stopped: %r", self._id, exc)
        if self.error is None:
            self.error = exc
        self.lost.set()

    async def _stop_tasks(self) -> None:
        """Cancel the background tasks and wait until they are over (also when cancelled)."""
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        cancelled: BaseException | None = None
        while tasks and not all(task.done() for task in tasks):
            try:
                await asyncio.wait(tasks)
            except asyncio.CancelledError as exc:
                cancelled = exc
        if cancelled is not None:
            raise cancelled

