"""Healthy-instance pools: a live view of a service's instances, and a client-side balancer.

:class:`Pool` (``client.discover(service)``) follows ``/v1/health/service/<service>`` with one
watch and keeps the instances that are healthy by Consul's own rules: critical and maintenance
instances out, warning instances as the ``warning`` policy says (Consul's DNS keeps them with
their ``Weights.Warning``; its ``?passing`` drops them). It picks an instance by one of four
strategies, ejects an instance the application found broken for a short while, gates startup on
a number of instances, and reports what changed, ignoring what does not matter to a caller (a
check's output). It talks to Consul only through ``client.health`` and ``client.watch``; its one
task is stopped and awaited before its exit returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from .._aclose import StartedClosing
from .._cleanup import stop
from ..errors import ConsulError
from ..typing import Duration, Meta
from ..watch import Watch
from ._live import Changes, Feed
from .registration import _seconds

if TYPE_CHECKING:
    from ..client import Consul

__all__ = ["STRATEGIES", "WARNING_POLICIES", "Instance", "NoInstances", "Pool", "PoolChange",
           "Weights"]

log = logging.getLogger("aioconsul.toolkit")

#: How :meth:`Pool.pick` chooses: by ``Weights`` (the default), uniformly at random, in turn,
#: or the first in ``?near=`` order.
STRATEGIES = ("weighted", "random", "round-robin", "nearest")
#: What a pool does with an instance whose worst check is ``warning``: keep it with its
#: ``Weights.Warning`` (as Consul's DNS does), keep it as if passing, or drop it (as ``?passing``).
WARNING_POLICIES = ("weighted", "passing", "exclude")
#: How long :meth:`Pool.mark_failed` ejects an instance by default, in seconds (Envoy's
#: ``base_ejection_time``).
DEFAULT_EJECTION = 30.0

# The check IDs of maintenance mode (api/agent.go: NodeMaint, ServiceMaintPrefix).
_NODE_MAINT = "_node_maintenance"
_SERVICE_MAINT = "_service_maintenance:"


class NoInstances(LookupError):
    """:meth:`Pool.pick` found no instance to return; the message says why (none healthy, or
    the pool's watch failing)."""


@dataclass(frozen=True)
class Weights:
    """A service's ``Weights``: the weight of an instance while passing, and while warning."""

    passing: int = 1
    warning: int = 1


@dataclass(frozen=True)
class Instance:
    """One instance of a service as the pool sees it (a value: it never changes).

    ``address`` is the service's address, or its node's when the service has none (as Consul's
    DNS answers). ``status`` is the worst of its checks, node checks included (``"passing"``,
    ``"warning"``, ``"critical"``, or ``"maintenance"``), and ``weight`` the weight a weighted
    pick gives it: ``Weights.Passing`` while passing, ``Weights.Warning`` while warning (or
    ``Weights.Passing`` under the ``"passing"`` policy), 0 otherwise. ``entry`` is the health
    entry it was read from (``{"Node", "Service", "Checks"}``). Two instances are the same
    instance when :attr:`key` (node and service ID) is.
    """

    node: str
    id: str
    service: str
    address: str
    port: int
    tags: tuple[str, ...]
    meta: Mapping[str, str]
    weights: Weights
    status: str
    weight: int
    entry: Mapping[str, Any] = field(compare=False, repr=False)

    @property
    def key(self) -> tuple[str, str]:
        """``(node, service ID)``: what identifies the instance in its datacenter."""
        return self.node, self.id

    def __hash__(self) -> int:
        return hash(self.key)


def _shape(instance: Instance) -> tuple[Any, ...]:
    """What a change is made of: everything a caller uses, not the checks' output."""
    return (instance.address, instance.port, instance.tags, dict(instance.meta),
            instance.weights, instance.weight)


@dataclass(frozen=True)
class PoolChange:
    """What changed in a pool: instances that appeared, disappeared, or changed in address,
    port, tags, meta, weights or the weight they are picked with (``(before, after)`` pairs).
    ``instances`` is the pool's new view, ``index`` the ``X-Consul-Index`` it was read at."""

    added: tuple[Instance, ...]
    removed: tuple[Instance, ...]
    updated: tuple[tuple[Instance, Instance], ...]
    instances: tuple[Instance, ...]
    index: int


def _status(checks: Sequence[Mapping[str, Any]]) -> str:
    """The instance's health as Consul's ``HealthChecks.AggregatedStatus`` (api/health.go)
    folds it: maintenance first, then critical, warning, passing (no check: passing). A status
    Consul does not know counts as critical."""
    worst = "passing"
    for check in checks:
        check_id = str(check.get("CheckID") or "")
        if check_id == _NODE_MAINT or check_id.startswith(_SERVICE_MAINT):
            return "maintenance"
        status = check.get("Status")
        if status == "warning" and worst == "passing":
            worst = "warning"
        elif status not in ("passing", "warning"):
            worst = "critical"
    return worst


def _instance(entry: Mapping[str, Any], *, passing: bool, warning: str) -> Instance | None:
    """The pool's view of one health entry, or None when the pool leaves it out."""
    node = entry.get("Node") or {}
    service = entry.get("Service") or {}
    status = _status(entry.get("Checks") or [])
    if passing and (status in ("critical", "maintenance")
                    or (status == "warning" and warning == "exclude")):
        return None
    given = service.get("Weights")
    # Consul's DNS (findWeight) takes 1 and 1 for a service without Weights.
    weights = Weights(int(given.get("Passing", 1)), int(given.get("Warning", 1))) \
        if isinstance(given, Mapping) else Weights()
    if status == "passing" or (status == "warning" and warning == "passing"):
        weight = weights.passing
    elif status == "warning":
        weight = weights.warning
    else:
        weight = 0
    return Instance(
        node=str(node.get("Node") or ""),
        id=str(service.get("ID") or ""),
        service=str(service.get("Service") or ""),
        address=str(service.get("Address") or node.get("Address") or ""),
        port=int(service.get("Port") or 0),
        tags=tuple(service.get("Tags") or ()),
        meta=MappingProxyType(dict(service.get("Meta") or {})),
        weights=weights,
        status=status,
        weight=weight,
        entry=entry,
    )


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name}: expected a str, got {type(value).__name__}")
    if not value:
        raise ValueError(f"{name}: must not be empty")
    return value


class Pool(StartedClosing):
    """The healthy instances of a service, kept current while ``async with`` runs:
    ``async with client.discover("db") as pool: instance = pool.pick()``.

    One watch of ``/v1/health/service/<service>`` (with ``tag``, ``near``, ``node_meta``,
    ``filter``, ``dc``, ``namespace``, ``partition``, ``consistency`` and ``token`` passed on)
    keeps :attr:`instances`. With ``passing=True`` (the default) an instance whose checks, node
    checks included, are critical or in maintenance is left out, and one whose worst check is
    ``warning`` is handled as ``warning`` says: ``"weighted"`` (the default, as Consul's DNS
    does) keeps it, picked with its ``Weights.Warning``; ``"passing"`` keeps it as if passing;
    ``"exclude"`` drops it, as Consul's ``?passing`` does (and then ``?passing`` is what is
    sent). ``passing=False`` keeps every instance (critical ones with weight 0).

    :meth:`pick` chooses an instance by ``strategy`` (see :data:`STRATEGIES`); ``"nearest"``
    needs ``near`` (a node name, or ``"_agent"``, which it is by default for that strategy).
    ``seed`` seeds the pool's own random generator. :meth:`mark_failed` ejects an instance for
    ``eject_for`` seconds by default.

    Entering reads the instances once (an error of that read is raised); then a background task
    follows the watch. A failed read is retried with back-off; meanwhile the pool keeps its last
    view and says so (:attr:`failures`, :attr:`last_error`, and the messages of :meth:`pick`
    and :meth:`wait_ready`). Leaving the block stops the task and ends every :meth:`changes`
    iterator; it raises the error that stopped the task, if one did (:attr:`error`).
    """

    def __init__(
        self,
        client: Consul,
        service: str,
        *,
        passing: bool = True,
        warning: str = "weighted",
        strategy: str = "weighted",
        tag: str | Sequence[str] | None = None,
        near: str | None = None,
        node_meta: Mapping[str, str] | None = None,
        filter: str | None = None,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        consistency: str | None = None,
        token: str | None = None,
        eject_for: float | Duration = DEFAULT_EJECTION,
        seed: int | None = None,
    ) -> None:
        self._service = _text(service, "service")
        if not isinstance(passing, bool):
            raise TypeError(f"passing: expected a bool, got {type(passing).__name__}")
        if warning not in WARNING_POLICIES:
            raise ValueError(f"warning: expected one of {', '.join(map(repr, WARNING_POLICIES))}"
                             f", got {warning!r}")
        if not passing and warning == "exclude":
            raise ValueError("warning: 'exclude' needs passing=True (passing=False keeps every "
                             "instance)")
        if strategy not in STRATEGIES:
            raise ValueError(f"strategy: expected one of {', '.join(map(repr, STRATEGIES))}, "
                             f"got {strategy!r}")
        if tag is not None and not isinstance(tag, str) and (
                not isinstance(tag, Sequence) or not all(isinstance(t, str) for t in tag)):
            raise TypeError("tag: expected a str or a list of str")
        if near is None and strategy == "nearest":
            near = "_agent"
        if near is not None:
            _text(near, "near")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise TypeError(f"seed: expected an int, got {type(seed).__name__}")
        self._passing = passing
        self._warning = warning
        self._strategy = strategy
        self._near = near
        self._eject_for = _seconds(eject_for, "eject_for")
        self._random = random.Random(seed)
        options: dict[str, Any] = {
            "tag": list(tag) if tag is not None and not isinstance(tag, str) else tag,
            "near": near, "node_meta": node_meta, "filter": filter, "dc": dc,
            "namespace": namespace, "partition": partition, "consistency": consistency,
            "token": token}
        self._options = {key: value for key, value in options.items() if value is not None}
        # Consul's ?passing drops warning instances too: asked for only when they are dropped.
        if passing and warning == "exclude":
            self._options["passing"] = True

        self._client = client
        self._instances: tuple[Instance, ...] = ()
        self._ejected: dict[tuple[str, str], float] = {}
        self._turn = 0
        self._feed: Feed[PoolChange] = Feed()
        self._updated = asyncio.Event()
        self._watch: Watch[Any] | None = None
        self._task: asyncio.Task[None] | None = None
        self._state = "new"  # new, running, closed
        #: The ``X-Consul-Index`` of the view.
        self.index = 0
        #: How many reads in a row failed (0 once one succeeds): the view is this stale.
        self.failures = 0
        #: The error of the last failed read, until a read succeeds.
        self.last_error: ConsulError | None = None
        #: The error that stopped the background task, if one did (raised on exit).
        self.error: BaseException | None = None

    # -- what it is ---------------------------------------------------------------------------

    @property
    def service(self) -> str:
        return self._service

    @property
    def instances(self) -> tuple[Instance, ...]:
        """The instances the pool keeps, in Consul's order (by RTT with ``near``)."""
        return self._instances

    @property
    def available(self) -> tuple[Instance, ...]:
        """The instances not ejected by :meth:`mark_failed`."""
        if not self._ejected:
            return self._instances
        now = time.monotonic()
        for key in [key for key, until in self._ejected.items() if until <= now]:
            del self._ejected[key]
        return tuple(i for i in self._instances if i.key not in self._ejected)

    @property
    def failing(self) -> bool:
        """True while the watch's reads fail (the view is the last one read)."""
        return self.failures > 0 or self.error is not None

    @property
    def running(self) -> bool:
        return self._state == "running"

    def __len__(self) -> int:
        return len(self._instances)

    def __repr__(self) -> str:
        return f"<Pool {self._service!r} {self._state} instances={len(self._instances)}>"

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        """Read the instances, then follow them in a background task. Only once."""
        if self._state != "new":
            raise RuntimeError(f"pool of {self._service!r} was started already")
        self._state = "running"
        client = self._client
        watch = client.watch(client.health.service, self._service, errors="yield",
                             **self._options)
        try:
            item = await watch.__anext__()
            if isinstance(item, ConsulError):
                raise item
        except BaseException:
            self._state = "closed"
            await watch.aclose()
            self._feed.close()
            raise
        self._watch = watch
        self._apply(item)
        self._task = asyncio.get_running_loop().create_task(
            self._follow(), name=f"aioconsul discover: {self._service}")

    async def close(self) -> None:
        """Stop the watch (waiting until its task is over, also when cancelled meanwhile) and
        end every :meth:`changes` iterator. Idempotent."""
        if self._state == "closed":
            return
        self._state = "closed"
        task, self._task = self._task, None
        try:
            await stop(task)
        finally:
            watch, self._watch = self._watch, None
            if watch is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await watch.aclose()  # nothing in flight any more: returns at once
            self._feed.close()
            self._wake()

    # -- using it -----------------------------------------------------------------------------

    def pick(self, strategy: str | None = None) -> Instance:
        """An instance, chosen by ``strategy`` (the pool's by default):

        * ``"weighted"``: at random, in proportion to :attr:`Instance.weight`; instances of
          weight 0 only when no other is left;
        * ``"random"``: uniformly at random;
        * ``"round-robin"``: each in turn, in the pool's order;
        * ``"nearest"``: the first in ``?near=`` order (the lowest estimated round-trip time).

        Ejected instances (:meth:`mark_failed`) are passed over, unless every instance is
        ejected: then the choice is among all of them, since a guess of the client's is no
        reason to stop calling the service. With no instance at all, raises
        :class:`NoInstances` (saying so when the pool's watch is failing).
        """
        if strategy is None:
            strategy = self._strategy
        elif strategy not in STRATEGIES:
            raise ValueError(f"strategy: expected one of {', '.join(map(repr, STRATEGIES))}, "
                             f"got {strategy!r}")
        if strategy == "nearest" and self._near is None:
            raise ValueError("strategy: 'nearest' needs a pool made with near= (a node name, "
                             "or '_agent') or strategy='nearest'")
        if self._state != "running":
            raise RuntimeError(f"pool of {self._service!r} is {self._state}: pick from it "
                               "inside 'async with'")
        candidates = self.available or self._instances
        if not candidates:
            raise NoInstances(self._explain(
                f"no instance of service {self._service!r} to pick: it has no {self._kept()}"))
        if strategy == "random":
            return self._random.choice(candidates)
        if strategy == "round-robin":
            chosen = candidates[self._turn % len(candidates)]
            self._turn += 1
            return chosen
        if strategy == "nearest":
            return candidates[0]
        weighted = [i for i in candidates if i.weight > 0]
        if not weighted:
            return self._random.choice(candidates)
        return self._random.choices(weighted, weights=[i.weight for i in weighted])[0]

    def mark_failed(self, instance: Instance, for_: float | Duration | None = None) -> None:
        """Eject ``instance`` from :meth:`pick` for ``for_`` seconds (the pool's ``eject_for``
        by default; 0 ends an ejection). Client-side only: Consul is not told. Marking it again
        starts the time again; an instance that leaves the pool is forgotten."""
        if not isinstance(instance, Instance):
            raise TypeError(f"instance: expected an Instance, got {type(instance).__name__}")
        seconds = self._eject_for if for_ is None else _seconds(for_, "for_")
        if seconds == 0:
            self._ejected.pop(instance.key, None)
        elif any(i.key == instance.key for i in self._instances):
            self._ejected[instance.key] = time.monotonic() + seconds

    async def wait_ready(self, min: int = 1, *,
                         timeout: float | None = None) -> tuple[Instance, ...]:
        """Wait until the pool holds at least ``min`` instances (ejected ones count); return
        them. After ``timeout`` seconds raises :class:`asyncio.TimeoutError` saying how many
        there are and whether the watch is failing; raises :attr:`error` if the pool's task
        stopped, RuntimeError if the pool is closed."""
        if isinstance(min, bool) or not isinstance(min, int):
            raise TypeError(f"min: expected an int, got {type(min).__name__}")
        if min < 0:
            raise ValueError(f"min: must not be negative, got {min}")
        wait = None if timeout is None else _seconds(timeout, "timeout")

        async def enough() -> tuple[Instance, ...]:
            while len(self._instances) < min:
                if self.error is not None:
                    raise self.error
                if self._state != "running":
                    raise RuntimeError(f"pool of {self._service!r} is {self._state}")
                await self._updated.wait()
            return self._instances

        try:
            return await asyncio.wait_for(enough(), wait)
        except asyncio.TimeoutError:
            raise asyncio.TimeoutError(self._explain(
                f"service {self._service!r} has {len(self._instances)} {self._kept()} after "
                f"{wait:g}s, {min} waited for")) from None

    def changes(self) -> Changes[PoolChange]:
        """An async iterator over each :class:`PoolChange` from now on, until the pool
        closes: ``async for change in pool.changes():``. A change is reported only when an
        instance appears, disappears or changes in what :class:`PoolChange` lists, never for a
        check's output (which moves the index too), nor for a new order."""
        return self._feed.subscribe()

    # -- the background work ------------------------------------------------------------------

    def _explain(self, message: str) -> str:
        """``message``, and what the watch is up to when it is not well."""
        if self.error is not None:
            return f"{message}; the pool's watch stopped: {self.error!r}"
        if self.failures:
            return (f"{message}; the pool's watch has failed {self.failures} time(s) in a "
                    f"row, last: {self.last_error}")
        return message

    def _kept(self) -> str:
        if not self._passing:
            return "instances"
        return "passing instances" if self._warning == "exclude" else \
            "passing or warning instances"

    def _wake(self) -> None:
        self._updated.set()
        self._updated = asyncio.Event()

    def _apply(self, item: tuple[list[Any], Meta]) -> None:
        entries, meta = item
        instances = tuple(i for entry in entries if (i := _instance(
            entry, passing=self._passing, warning=self._warning)) is not None)
        before = {i.key: i for i in self._instances}
        after = {i.key: i for i in instances}
        added = tuple(i for key, i in after.items() if key not in before)
        removed = tuple(i for key, i in before.items() if key not in after)
        updated = tuple((before[key], i) for key, i in after.items()
                        if key in before and _shape(before[key]) != _shape(i))
        self._instances = instances
        self.index = int(meta.get("Index", 0) or 0)
        self.failures, self.last_error = 0, None
        for instance in removed:
            self._ejected.pop(instance.key, None)
        if added or removed or updated:
            self._feed.put(PoolChange(added, removed, updated, instances, self.index))
        self._wake()

    async def _follow(self) -> None:
        assert self._watch is not None
        try:
            async for item in self._watch:
                if isinstance(item, ConsulError):  # logged by the watch, retried after back-off
                    self.failures += 1
                    self.last_error = item
                    self._wake()
                    continue
                self._apply(item)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            log.error("the pool of %s stopped: %r", self._service, exc)
            self.error = exc
            self._wake()
