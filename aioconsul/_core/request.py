"""Building a request: path quoting, query parameters, body and the timeout a blocking read needs.

Pure functions from an endpoint's arguments and the :class:`~aioconsul._core.config.Config` to a
:class:`Request`. The ACL token is never placed in the URL: it travels in the ``X-Consul-Token``
header, which the transport adds. A call's own token (``token=``) rides on the Request, outside
its ``target`` and its ``repr()``; so do the secrets an answer's error text must never show.
"""

from __future__ import annotations

import functools
import re
from collections.abc import AsyncIterable, Iterable
from typing import Any
from urllib.parse import quote

from ..typing import Consistency
from . import normalize
from .config import Config

__all__ = [
    "ASSUMED_WAIT_NS",
    "UNSUPPORTED",
    "Request",
    "blocking_timeout",
    "build",
    "cache_control",
    "check_cached",
    "hide",
    "id_path",
    "quote_key",
    "quote_segment",
]

#: The wait a blocking read is assumed to last when neither it nor the client gives one: Consul's
#: default ``max_query_time`` (10 minutes), the longest an agent configured by default holds a
#: read, whatever its ``default_query_time`` (5 minutes by default). A wait that is given is
#: never capped: servers may allow longer ones.
ASSUMED_WAIT_NS = 600 * 1_000_000_000
#: Added to every blocking read's timeout, over the agent's wait/16 jitter: forwarding, RPC hold.
BLOCKING_MARGIN = 15.0

Params = Iterable[tuple[str, str]]


class _Unsupported:
    """The ``consistency`` of endpoints that take no consistency mode (writes, agent-local)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "UNSUPPORTED"


UNSUPPORTED: Any = _Unsupported()


class Request:
    """One HTTP request, ready for the transport. ``target`` is the quoted path and query.

    ``token`` is the call's own ACL token (None: the client's), sent as ``X-Consul-Token`` in
    place of the client's; ``headers`` are headers of this request only (the
    ``Cache-Control`` of a cached read); ``secrets`` are the texts no message about this
    request may show (that token, the client's, and secrets the body carries, such as a
    SecretID being set). Neither token nor secrets are part of ``repr()``.
    """

    __slots__ = ("body", "content_type", "headers", "method", "path", "secrets", "target",
                 "timeout", "token")

    def __init__(self, method: str, path: str, target: str,
                 body: bytes | AsyncIterable[bytes] | None = None,
                 content_type: str | None = None, timeout: float | None = None,
                 token: str | None = None, secrets: tuple[str, ...] = (),
                 headers: dict[str, str] | None = None) -> None:
        self.method = method
        #: Request headers of this request only (``Cache-Control`` of a cached read).
        self.headers = headers
        self.path = path
        self.target = target
        self.body = body
        self.content_type = content_type
        self.timeout = timeout
        self.token = token
        self.secrets = secrets

    @property
    def operation(self) -> str:
        """``"<METHOD> <path>"``: how errors and logs name this request."""
        return f"{self.method} {self.path}"

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.target}>"


#: What a secret is replaced with in a message: Consul's own word for a redacted SecretID.
HIDDEN = "<hidden>"


def hide(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret in ``secrets`` replaced by ``<hidden>``: an agent (or a proxy)
    may echo a token back in an error, and no message of ours may show one."""
    for secret in sorted(secrets, key=len, reverse=True):  # a longer one may hold a shorter
        if secret and secret in text:
            text = text.replace(secret, HIDDEN)
    return text


# Characters a path keeps as they are (RFC 3986 unreserved, and "/" between key segments).
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_.~/-]*")


def quote_segment(value: str) -> str:
    """Percent-encode one path segment (a name, an id): ``/`` included."""
    return quote(value, safe="")


def id_path(base: str, value: Any, name: str, key: str | tuple[str, ...] = "ID") -> str:
    """``base`` followed by one quoted id or name taken from ``value`` (an ObjectID: a str, or
    an object Consul returned, read at ``key``)."""
    return base + quote_segment(normalize.object_id(value, name, key))


def quote_key(key: str) -> str:
    """Percent-encode a KV key, keeping its ``/`` separators."""
    return key if _PLAIN_KEY.fullmatch(key) else quote(key, safe="/")


def blocking_timeout(wait_ns: int | None) -> float:
    """The HTTP timeout of a blocking read: its wait, plus Consul's jitter of up to wait/16, plus
    a margin. The wait is the one asked for, uncapped; without one, Consul's default
    ``max_query_time`` (10 min) is assumed."""
    wait = ASSUMED_WAIT_NS if wait_ns is None or wait_ns <= 0 else wait_ns
    seconds = wait / 1e9
    return seconds + seconds / 16 + BLOCKING_MARGIN


@functools.lru_cache(maxsize=64)
def _blocking_wait(wait_ns: int | None) -> tuple[str, float]:
    """The ``wait=`` parameter of a blocking read (``""`` for none: a wait of 0 or None is the
    agent's default, as in the Go client) and its timeout (:func:`blocking_timeout`). Cached:
    the few waits in use come back with every read of every watch."""
    wait = f"wait={normalize.format_wait(wait_ns)}" if wait_ns else ""
    return wait, blocking_timeout(wait_ns)


def _encode(name: str, value: str) -> str:
    return f"{name}={quote(value, safe='')}" if value else name


def build(
    method: str,
    path: str,
    config: Config,
    params: Params = (),
    body: bytes | None = None,
    content_type: str | None = None,
    dc: str | None = None,
    namespace: str | None = None,
    partition: str | None = None,
    consistency: Any = UNSUPPORTED,
    watch: Any = None,
    hash_watch: Any = None,
    timeout: float | None = None,
    token: str | None = None,
    secrets: Iterable[str | None] = (),
    cached: bool = False,
    max_age: Any = None,
    stale_if_error: Any = None,
) -> Request:
    """Build a request for ``path`` (already quoted, starting with ``/v1/``).

    Every parameter may be given by position: the request core does (see :meth:`Core.request`).

    ``dc``, ``namespace`` and ``partition`` default to the client's. An endpoint that takes a
    consistency mode passes ``consistency`` (None: the client's mode); one that does not leaves
    it :data:`UNSUPPORTED`, and no mode is sent.
    ``watch`` is a Blocking: it adds ``index`` and ``wait`` (whole ms, as the Go client sends it)
    and stretches the timeout to cover the wait. A Blocking without a wait takes the client's
    ``wait`` (``Consul(wait=...)``), if any.
    ``hash_watch`` is a hash-based Blocking (agent-local endpoints such as
    ``/v1/agent/service/:id``): it adds ``hash`` and ``wait`` instead, with the same timeout rule.
    An endpoint takes one kind of blocking or the other, never both.
    ``token`` is the call's ACL token, sent instead of the client's (checked here: a non-empty
    str without CR/LF); ``secrets`` are other texts the request carries that no error message
    may show (a SecretID in the body).
    ``cached``, ``max_age`` and ``stale_if_error`` are the agent cache options of the reads
    Consul caches (Go's ``QueryOptions.UseCache``, ``MaxAge``, ``StaleIfError``): ``?cached``,
    and ``Cache-Control: max-age=N, stale-if-error=M`` (see :func:`cache_control`).
    """
    headers = None
    if (cached is not False or max_age is not None or stale_if_error is not None) \
            and check_cached(cached, max_age, stale_if_error, consistency, config):
        params = [*params, ("cached", "")]
        value = cache_control(max_age, stale_if_error)
        headers = {"Cache-Control": value} if value else None
    if token is None and not secrets:  # the common case
        hidden: tuple[str, ...] = (config.token,) if config.token else ()
    else:
        if token is not None:
            token = normalize.token(token)
        hidden = tuple(text for text in (token, config.token, *secrets) if text)
    if (not params and dc is None and namespace is None and partition is None
            and watch is None and hash_watch is None and timeout is None
            and config.dc is None and config.namespace is None and config.partition is None
            and (consistency is UNSUPPORTED or (consistency is None
                                                and config.consistency is Consistency.DEFAULT))):
        # The common case, a call with every option at its default: nothing to add.
        # (Arguments by position, here and below: a call of keywords costs more.)
        return Request(method, path, path, body, content_type, config.timeout, token, hidden,
                       headers)
    query = [_encode(name, value) for name, value in params] if params else []
    dc = config.dc if dc is None else normalize.object_id(dc, "dc", "Datacenter")
    if dc:
        query.append(_encode("dc", dc))
    namespace = namespace if namespace is not None else config.namespace
    if namespace:
        query.append(_encode("ns", normalize.object_id(namespace, "namespace", "Namespace")))
    partition = partition if partition is not None else config.partition
    if partition:
        query.append(_encode("partition", normalize.object_id(partition, "partition",
                                                              "Partition")))
    if consistency is not UNSUPPORTED:
        mode = config.consistency if consistency is None else normalize.consistency(consistency)
        if mode is not Consistency.DEFAULT:
            query.append(mode.value)
    if timeout is None:
        timeout = config.timeout
    if watch is not None:
        index, wait_ns = normalize.blocking(watch)
        if index:
            query.append(f"index={index}")
            wait, timeout = _blocking_wait(wait_ns or config.wait)
            if wait:
                query.append(wait)
    if hash_watch is not None:
        if watch is not None:
            raise ValueError("watch: an endpoint blocks on an index or on a hash, not both")
        content_hash, wait_ns = normalize.hash_blocking(hash_watch)
        if content_hash:  # no hash: the agent answers at once, as with index 0
            query.append(_encode("hash", content_hash))
            wait, timeout = _blocking_wait(wait_ns or config.wait)
            if wait:
                query.append(wait)
    target = f"{path}?{'&'.join(query)}" if query else path
    return Request(method, path, target, body, content_type, timeout, token, hidden, headers)


def check_cached(cached: Any, max_age: Any, stale_if_error: Any, consistency: Any,
                         config: Config) -> bool:
    """Check the agent cache options of a read; True when ``?cached`` is to be sent.

    ``cached`` is a bool. ``max_age`` and ``stale_if_error`` only mean something with
    ``cached=True`` (Consul reads ``Cache-Control`` for cached reads only), and
    ``stale_if_error`` only beside ``max_age`` (Consul's caching docs: "It must be provided
    along with a max-age or must-revalidate"). Consul answers ``?cached`` with ``?consistent``
    400 "Cannot specify ?cached with ?consistent, conflicting semantics." (``parseConsistency``
    in ``agent/http.go``): refused here before anything is sent, whether ``consistent`` is the
    call's mode or the client's.
    """
    if not isinstance(cached, bool):
        raise TypeError(f"cached: expected a bool, got {type(cached).__name__}")
    if not cached:
        for name, value in (("max_age", max_age), ("stale_if_error", stale_if_error)):
            if value is not None:
                raise ValueError(f"{name}: only a cached read (cached=True) takes {name}")
        return False
    if stale_if_error is not None and max_age is None:
        raise ValueError("stale_if_error: give max_age too (Consul applies stale-if-error "
                         "only to a cached value older than max-age)")
    if consistency is UNSUPPORTED:  # catalog/datacenters: no mode is ever sent
        return True
    mode = config.consistency if consistency is None else normalize.consistency(consistency)
    if mode is Consistency.CONSISTENT:
        raise ValueError("cached: Consul refuses ?cached with consistency='consistent' "
                         "(conflicting semantics); use the default or 'stale' mode")
    return True


def cache_control(max_age: Any, stale_if_error: Any) -> str:
    """The ``Cache-Control`` value of a cached read: ``max-age=N, stale-if-error=M`` in whole
    seconds, as the Go client writes it; ``""`` when neither is given. ``max_age=0`` is sent
    (``max-age=0``: Consul fetches again, like ``must-revalidate``)."""
    directives = []
    if max_age is not None:
        directives.append(f"max-age={normalize.cache_seconds(max_age, 'max_age')}")
    if stale_if_error is not None:
        directives.append("stale-if-error="
                          + normalize.cache_seconds(stale_if_error, "stale_if_error"))
    return ", ".join(directives)
