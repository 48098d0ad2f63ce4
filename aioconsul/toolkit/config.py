"""Live configuration from KV: a folder of keys as a nested dict, kept current while a block runs.

:class:`LiveConfig` (``client.kv.config(prefix)``) reads the folder once on enter (as
:meth:`~aioconsul.api.kv.KV.tree` does, with the same codecs, through the same
:func:`~aioconsul.api.kv.nest`), then follows it with one recursive watch. Each new version
waits for quiet (``wait=(min, max)``, consul-template's quiescence: ``min`` seconds without a
further change, never more than ``max`` after the first one), is decoded and validated, and only
then replaces the current one; what changed is reported as a diff of the keys by their
ModifyIndex. A version that cannot be decoded or that the validator refuses never replaces a
good one. It talks to Consul only through ``client.kv``, and never imports
:mod:`aioconsul.api.kv` (which builds it); its two tasks (the watch, and the timer that
applies) are stopped and awaited before its exit returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._aclose import StartedClosing
from .._cleanup import stop
from .._core import normalize
from ..api._tree import _codec, _folder, nest
from ..errors import ConsulError
from ..typing import Duration, Meta
from ..watch import Watch
from ._live import Changes, Feed
from .registration import _seconds

if TYPE_CHECKING:
    from ..api.kv import KV, Codec

__all__ = ["ConfigChange", "ConfigRejected", "LiveConfig"]

log = logging.getLogger("aioconsul.toolkit")

Validator = Callable[[dict[str, Any]], Any]
Callback = Callable[[Any], Any]


class ConfigRejected(ValueError):
    """A version of the configuration that was not applied: a value the codec cannot decode,
    a key that is both a value and a folder, or the validator's refusal (then the validator's
    exception is the ``__cause__``). ``index`` is the version's ``X-Consul-Index``; ``data``
    the refused nested dict (None when it could not be decoded)."""

    def __init__(self, message: str, *, index: int, data: dict[str, Any] | None) -> None:
        super().__init__(message)
        self.index = index
        self.data = data


@dataclass(frozen=True)
class ConfigChange:
    """What one reload changed, by key relative to the prefix (``"db/host"``): ``added`` and
    ``deleted`` map each key to its new or old value, ``modified`` to ``(old, new)`` — a key is
    modified when its ModifyIndex moved (its value, flags or lock changed: the value may be the
    same). A folder key (``"db/"``) has
    None as its value. ``data`` is the new nested dict, ``previous`` the one it replaced,
    ``index`` the ``X-Consul-Index`` it was read at."""

    added: Mapping[str, Any]
    modified: Mapping[str, tuple[Any, Any]]
    deleted: Mapping[str, Any]
    data: dict[str, Any] = field(repr=False)
    previous: dict[str, Any] = field(repr=False)
    index: int

    @property
    def keys(self) -> frozenset[str]:
        """Every key the change touched."""
        return frozenset(self.added) | frozenset(self.modified) | frozenset(self.deleted)


def _quiescence(wait: Any) -> tuple[float, float] | None:
    """``wait`` as ``(min, max)`` seconds: a pair, ``"min:max"``, or one value (``max`` four
    times ``min``, as consul-template takes it); None when there is nothing to wait for."""
    if wait is None:
        return None
    if isinstance(wait, str) and ":" in wait:
        low, high = wait.split(":", 1)
        quiet, longest = _seconds(low, "wait"), _seconds(high, "wait")
    elif isinstance(wait, (tuple, list)):
        if len(wait) != 2:
            raise ValueError(f"wait: expected (min, max), got {len(wait)} values")
        quiet, longest = _seconds(wait[0], "wait"), _seconds(wait[1], "wait")
    else:
        quiet = _seconds(wait, "wait")
        longest = 4 * quiet
    if longest < quiet:
        raise ValueError(f"wait: max ({longest:g}s) must not be below min ({quiet:g}s)")
    return None if longest == 0 else (quiet, longest)


def _value_at(data: Mapping[str, Any], key: str) -> Any:
    """The value of ``key`` (relative to the prefix) in the nested dict; None for a folder."""
    if key.endswith("/"):
        return None
    *dirs, name = key.split("/")
    node: Any = data
    for part in dirs:
        node = node[part]
    return node[name]


async def _call(callback: Callable[[Any], Any], argument: Any, what: str) -> None:
    """Run an application callback (sync or async); its error is logged, never raised."""
    try:
        result = callback(argument)
        if inspect.isawaitable(result):
            await result
    except Exception:
        log.exception("the %s callback failed", what)


class LiveConfig(StartedClosing, Mapping[str, Any]):
    """The keys under ``prefix`` as a nested dict, kept current while ``async with`` runs:
    ``async with client.kv.config("config/web/") as cfg: port = cfg["port"]``.

    ``prefix`` is a folder (``"config/web"`` reads ``config/web/``), stripped from the keys;
    ``codec`` decodes the values as :meth:`~aioconsul.api.kv.KV.tree` does (``"bytes"``,
    ``"text"``, ``"json"``, or a callable taking the bytes). The object is a read-only mapping
    over the current version; :attr:`data` is that version's dict (replaced, never changed in
    place, by each reload: keep a reference for a consistent view) and :attr:`index` its
    ``X-Consul-Index``.

    Entering reads the folder (an error of that read is raised, and so is
    :class:`ConfigRejected` if it cannot be decoded or validated: there is no good version to
    fall back to). Then one recursive watch follows it. ``wait`` sets quiescence: ``(min,
    max)`` seconds (or ``"min:max"``, or one value meaning ``(value, 4 * value)``): a new
    version is applied once ``min`` seconds passed without a further change, and at the latest
    ``max`` seconds after the first change, so a burst of writes gives one reload; without it
    each version is applied as it comes.

    Before a version replaces the current one it is decoded and passed to ``validate`` (sync or
    async): if that raises or returns False the version is refused, :attr:`rejected` holds the
    :class:`ConfigRejected` (until a later version is applied), :attr:`rejections` counts it and
    ``on_reject(rejection)`` is called; the current version stays. An applied version is
    reported as a :class:`ConfigChange` to every :meth:`changes` iterator and to
    ``on_change(change)``. Callbacks may be sync or async; they run one at a time in the
    config's task (a slow one delays the next reload), and their errors are logged.

    Failed reads of the watch are retried with back-off; meanwhile :attr:`failures` and
    :attr:`last_error` say so and the current version stays. Leaving the block stops both tasks
    and ends the :meth:`changes` iterators; it raises the error that stopped a task, if one did.
    """

    def __init__(
        self,
        kv: KV,
        prefix: str,
        *,
        codec: Codec = "bytes",
        wait: float | Duration | tuple[float | Duration, float | Duration] | None = None,
        validate: Validator | None = None,
        on_change: Callback | None = None,
        on_reject: Callback | None = None,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        consistency: str | None = None,
        token: str | None = None,
    ) -> None:
        self._folder = _folder(normalize.kv_key(prefix, "prefix", prefix=True))
        _codec(codec)  # refused here, before any request
        self._codec = codec
        self._quiet = _quiescence(wait)
        for name, callback in (("validate", validate), ("on_change", on_change),
                               ("on_reject", on_reject)):
            if callback is not None and not callable(callback):
                raise TypeError(f"{name}: expected a callable, got {type(callback).__name__}")
        self._validate = validate
        self._on_change = on_change
        self._on_reject = on_reject
        options: dict[str, Any] = {"dc": dc, "namespace": namespace, "partition": partition,
                                   "consistency": consistency, "token": token}
        self._options = {key: value for key, value in options.items() if value is not None}
        self._kv = kv
        self._data: dict[str, Any] = {}
        self._indexes: dict[str, int] = {}  # the applied version: ModifyIndex by key
        self._feed: Feed[ConfigChange] = Feed()
        self._watch: Watch[Any] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._state = "new"  # new, running, closed
        # The newest version not applied yet, when it came, and when the first of them came.
        self._latest: tuple[list[Any], Meta] | None = None
        self._first_at = 0.0
        self._last_at = 0.0
        self._arrived = asyncio.Event()
        #: The ``X-Consul-Index`` of the current version.
        self.index = 0
        #: How many versions were applied after the first.
        self.reloads = 0
        #: The last refused version, until a later one is applied.
        self.rejected: ConfigRejected | None = None
        #: How many versions were refused.
        self.rejections = 0
        #: How many reads in a row failed (0 once one succeeds).
        self.failures = 0
        #: The error of the last failed read, until a read succeeds.
        self.last_error: ConsulError | None = None
        #: The error that stopped a background task, if one did (raised on exit).
        self.error: BaseException | None = None

    # -- what it is ---------------------------------------------------------------------------

    @property
    def prefix(self) -> str:
        """The folder followed (ending in ``/``, or ``""`` for the whole store)."""
        return self._folder

    @property
    def data(self) -> dict[str, Any]:
        """The current version, as a nested dict (do not change it)."""
        return self._data

    @property
    def running(self) -> bool:
        return self._state == "running"

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"<LiveConfig {self._folder!r} {self._state} index={self.index}>"

    def changes(self) -> Changes[ConfigChange]:
        """An async iterator over each applied :class:`ConfigChange` from now on, until the
        config closes: ``async for change in cfg.changes():``."""
        return self._feed.subscribe()

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        """Read and validate the folder, then follow it in the background. Only once."""
        if self._state != "new":
            raise RuntimeError(f"config of {self._folder!r} was started already")
        self._state = "running"
        watch = Watch(self._kv.items, self._folder, errors="yield", **self._options)
        try:
            item = await watch.__anext__()
            if isinstance(item, ConsulError):
                raise item
            entries, meta = item
            index = int(meta.get("Index", 0) or 0)
            data = await self._check(entries, index)
        except BaseException:
            self._state = "closed"
            await watch.aclose()
            self._feed.close()
            raise
        self._watch = watch
        self._data, self._indexes, self.index = data, self._indexes_of(entries), index
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._follow(), name=f"aioconsul config watch: {self._folder}"),
            loop.create_task(self._applier(), name=f"aioconsul config apply: {self._folder}"),
        ]

    async def close(self) -> None:
        """Stop the watch and the applier (waiting until they are over, also when cancelled
        meanwhile) and end every :meth:`changes` iterator. A version still waiting for quiet
        is dropped. Idempotent."""
        if self._state == "closed":
            return
        self._state = "closed"
        tasks, self._tasks = self._tasks, []
        try:
            await stop(*tasks)
        finally:
            watch, self._watch = self._watch, None
            if watch is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await watch.aclose()
            self._feed.close()

    # -- versions -----------------------------------------------------------------------------

    def _indexes_of(self, entries: list[Any]) -> dict[str, int]:
        folder = self._folder
        return {str(e["Key"])[len(folder):]: int(e.get("ModifyIndex") or 0) for e in entries
                if str(e.get("Key", "")).startswith(folder)}

    async def _check(self, entries: list[Any], index: int) -> dict[str, Any]:
        """The version decoded and validated, or :class:`ConfigRejected`."""
        data: dict[str, Any] | None = None
        where = f"config under {self._folder!r} at index {index}"
        try:
            data = nest(entries, self._folder, codec=self._codec)
            if self._validate is not None:
                verdict = self._validate(data)
                if inspect.isawaitable(verdict):
                    verdict = await verdict
                if verdict is False:
                    raise ConfigRejected(f"{where}: refused by the validator", index=index,
                                         data=data)
        except ConfigRejected:
            raise
        except Exception as exc:
            raise ConfigRejected(f"{where}: {exc}", index=index, data=data) from exc
        return data

    async def _consider(self, item: tuple[list[Any], Meta]) -> None:
        entries, meta = item
        index = int(meta.get("Index", 0) or 0)
        indexes = self._indexes_of(entries)
        if indexes == self._indexes:  # back to the current version (or nothing new in it)
            self.index, self.rejected = index, None
            return
        try:
            data = await self._check(entries, index)
        except ConfigRejected as rejection:
            log.warning("%s; the current version (index %d) stays", rejection, self.index)
            self.rejected = rejection
            self.rejections += 1
            if self._on_reject is not None:
                await _call(self._on_reject, rejection, "on_reject")
            return
        before, previous = self._indexes, self._data
        change = ConfigChange(
            added={key: _value_at(data, key) for key in indexes if key not in before},
            modified={key: (_value_at(previous, key), _value_at(data, key))
                      for key, modified in indexes.items()
                      if key in before and before[key] != modified},
            deleted={key: _value_at(previous, key) for key in before if key not in indexes},
            data=data, previous=previous, index=index)
        self._data, self._indexes, self.index = data, indexes, index
        self.rejected = None
        self.reloads += 1
        self._feed.put(change)
        if self._on_change is not None:
            await _call(self._on_change, change, "on_change")

    # -- the background work ------------------------------------------------------------------

    async def _follow(self) -> None:
        """The watch: each new version is noted for the applier."""
        assert self._watch is not None
        loop = asyncio.get_running_loop()
        try:
            async for item in self._watch:
                if isinstance(item, ConsulError):  # logged by the watch, retried after back-off
                    self.failures += 1
                    self.last_error = item
                    continue
                self.failures, self.last_error = 0, None
                now = loop.time()
                if self._latest is None:
                    self._first_at = now
                self._latest, self._last_at = item, now
                self._arrived.set()
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            self._crashed(exc)

    async def _applier(self) -> None:
        """Apply the newest version once it has been quiet long enough (see ``wait``)."""
        loop = asyncio.get_running_loop()
        try:
            while True:
                await self._arrived.wait()
                if self._quiet is not None:
                    quiet, longest = self._quiet
                    while True:
                        self._arrived.clear()
                        left = min(self._last_at + quiet, self._first_at + longest) - loop.time()
                        if left <= 0:
                            break
                        with contextlib.suppress(asyncio.TimeoutError):
                            await asyncio.wait_for(self._arrived.wait(), left)
                self._arrived.clear()
                item, self._latest = self._latest, None
                if item is not None:
                    await self._consider(item)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            self._crashed(exc)

    def _crashed(self, exc: BaseException) -> None:
        log.error("the config of %s stopped: %r", self._folder, exc)
        if self.error is None:
            self.error = exc
