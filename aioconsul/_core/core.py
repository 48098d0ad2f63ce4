"""The request core: every endpoint method goes through :meth:`Core.request`.

Endpoint method -> :func:`~aioconsul._core.request.build` -> :class:`Transport` ->
:func:`~aioconsul._core.response.parse` -> ``(data, Meta)``. Endpoint classes never import
aiohttp, parse headers or look at status codes; this module never knows any endpoint.
"""

from __future__ import annotations

import asyncio
import json as _json
import logging
from collections.abc import Collection, Coroutine
from typing import TYPE_CHECKING, Any

from ..errors import ConnectError, TransportError
from ..typing import Meta
from .config import Config
from .request import UNSUPPORTED, Params, Request, build
from .response import parse, permanent_error
from .retry import NO_RETRY, WATCHING, Retry
from .tokens import TokenSource, attach, source_for
from .transport import Transport

if TYPE_CHECKING:
    import aiohttp

__all__ = ["Core", "Endpoint"]

log = logging.getLogger("aioconsul")


#: Paths served by the agent that receives them, about itself (its services, checks, members,
#: token, maintenance...): they go to the home agent, never to another one.
AGENT_LOCAL = "/v1/agent/"


class Core:
    """Builds, sends and reads requests for one client configuration.

    Routing: the agents are the configuration's addresses in order; the first is the *home*
    agent. An agent-local request (``/v1/agent/*``, or one an endpoint marks ``home``, such as a
    session created on the agent's own node) always goes to home and never fails over: another
    agent would act on, or answer about, another node. Every other request goes to the agent the
    shared pointer names; a failure there moves the pointer on (compare-and-advance, see
    :meth:`Transport.fail_over`) and the retry goes where it now points.
    """

    __slots__ = ("_watch_policy", "config", "tokens", "transport")

    def __init__(self, config: Config, session: aiohttp.ClientSession | None = None) -> None:
        self.config = config
        #: The client's token when it can change (a provider, a token file); None when fixed.
        self.tokens: TokenSource | None = source_for(config)
        self.transport = Transport(config, session, tokens=self.tokens)
        # A watch handles failures itself (back-off, then a read that does not block, since a
        # restarted agent may hold other data at the same index); its reads only move on to
        # the other agents of the cluster, where the index keeps its meaning, and only as far
        # as the client's retry policy allows (none with retry=False).
        self._watch_policy = Retry(
            attempts=min(len(config.targets) - 1, config.retry.attempts),
            backoff=config.retry.backoff, statuses=frozenset())

    def request(
        self,
        method: str,
        path: str,
        # No "*": endpoints pass these by keyword, but CPython fills the defaults of
        # keyword-only parameters from a dict, one lookup each, and of these from a tuple
        # (1.5k instructions less per call).
        params: Params = (),
        body: bytes | None = None,
        content_type: str | None = None,
        json: Any = None,
        dc: str | None = None,
        namespace: str | None = None,
        partition: str | None = None,
        consistency: Any = UNSUPPORTED,
        watch: Any = None,
        hash_watch: Any = None,
        missing_ok: bool = False,
        indexed: bool = False,
        ok_statuses: Collection[int] = (),
        raw: bool = False,
        b64: str | None = None,
        first: bool = False,
        idempotent: bool = False,
        home: bool = False,
        token: str | None = None,
        secrets: tuple[str | None, ...] = (),
        cached: bool = False,
        max_age: Any = None,
        stale_if_error: Any = None,
        with_meta: bool = True,
    ) -> Coroutine[Any, Any, tuple[Any, Meta]]:
        """Send one request and return ``(data, meta)``; see :func:`response.parse`.

        Reads, and writes marked ``idempotent`` (safe to apply twice: a PUT that sets a state,
        such as a registration), are repeated on failure as the client's :class:`Retry` says;
        other writes only when the connection could not be made (ConnectError), so a retried
        write never applies twice. A CAS write (KV ``cas=``, ``acquire=``, ``release=``,
        delete-cas) is never marked idempotent: once sent it is never repeated, since Consul
        may have applied it before answering 500, and a repeat would then answer ``False``
        about its own write (Go's ``IsRetryableError`` says the same of writes).

        ``json`` is encoded as the body with ``Content-Type: application/json``. ``watch`` is an
        index Blocking, ``hash_watch`` a hash-based one (see :func:`request.build`).
        ``ok_statuses`` are non-2xx statuses whose JSON body is the endpoint's answer, not an
        error (``/v1/agent/health/service/*`` answers 429 for warning, 503 for critical).
        ``indexed``: every answer of the endpoint carries ``X-Consul-Index`` (the KV reads),
        so a 404 without it is not Consul's (see :func:`response.parse`).
        ``home`` sends the request to the home agent, as every ``/v1/agent/*`` request is; its
        retries stay there, and its errors name that agent.
        An answer that cannot change when repeated (a malformed ``filter=``, a validation
        error: see :func:`response.permanent_error`) is never retried.
        ``token`` is the call's ACL token (Go's ``QueryOptions.Token``/``WriteOptions.Token``):
        sent as ``X-Consul-Token`` instead of the client's, for this request and its retries
        only; None sends the client's. ``secrets`` are texts of the body (a SecretID, a bearer
        token) that, like both tokens, no error message may show.
        ``cached``, ``max_age`` and ``stale_if_error``: the agent cache (see
        :func:`request.check_cached`); the answer's Meta then holds ``CacheHit`` and, on a hit,
        ``CacheAge`` (seconds).
        ``with_meta=False``: the caller throws the answer's Meta away (a KV write, whose answer is
        true or false): an empty Meta comes in its place (see :func:`response.parse`).

        A client token that can change (``Consul(token=callable)``, a token file) is taken from
        the token source for each request without a ``token`` of its own. When the agent
        answers such a request 403 "ACL not found", the source fetches the token once more
        and, if it is another one, the request is sent once more with it, whatever its method:
        Consul resolves the token before doing anything else (``ResolveTokenAndDefaultMeta``
        comes first in every endpoint, e.g. ``KVS.Apply`` before ``raftApply`` in
        ``agent/consul/kvs_endpoint.go``, ``Txn.Apply``, and ``AgentRegisterService`` before
        ``AddService`` in ``agent/agent_endpoint.go``), and ``acl.ErrNotFound`` comes only
        from that resolution, so a write refused so was never applied. That one repeat is
        not a retry of the policy (no back-off, not counted); a second "ACL not found", or the
        same token again, raises :class:`~aioconsul.errors.ACLNotFound`. A call's own token is
        never replaced.
        """
        if json is not None:
            body, content_type = _json.dumps(json).encode(), "application/json"
        # A plain function around a coroutine, for speed and memory: the arguments are read
        # here, at once, and the coroutine that sends the request keeps only what sending
        # needs. A watch's read waits in that coroutine for as long as it blocks, and the
        # frame of this function's twenty-six arguments was the biggest one it held.
        # By position, in build()'s order: sixteen keywords cost twice what build() itself
        # does (CPython matches each keyword against the parameter names one by one).
        request = build(method, path, self.config, params, body, content_type, dc, namespace,
                        partition, consistency, watch, hash_watch, None, token, secrets,
                        cached, max_age, stale_if_error)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s %s", method, request.target)
        return self._send(request, home or path.startswith(AGENT_LOCAL),
                          method == "GET" or idempotent, missing_ok, indexed, ok_statuses, raw,
                          b64, first, with_meta)

    async def _send(self, request: Request, home: bool, safe: bool, missing_ok: bool,
                    indexed: bool, ok_statuses: Collection[int], raw: bool,
                    b64: str | None, first: bool, with_meta: bool) -> tuple[Any, Meta]:
        """Send ``request`` (to the home agent if ``home``), repeating it as :meth:`request`
        says (``safe``: it may be repeated after it was sent), and parse its answer."""
        # A call's own token stays; only the client's can be fetched again.
        source = self.tokens if request.token is None else None
        sent: str | None = None
        fetches = 0
        if source is not None:
            sent, fetches = await attach(source, request)
        transport = self.transport
        # The task is looked up once here and handed to the transport (its deadlines need it),
        # for speed: only while a watch reads somewhere can this be one of its reads.
        task = transport.current_task() if WATCHING else None
        if task is None or task not in WATCHING:
            policy = self.config.retry
        else:  # the watch backs off and retries by itself; its reads only fail over
            policy = self._watch_policy if not home else NO_RETRY
        failures = 0
        while True:
            agent = 0 if home else transport.current
            try:
                status, headers, data = await transport.send(request, agent, task)
            except TransportError as exc:
                if not home:
                    transport.fail_over(agent)  # later requests go to the next agent, if any
                # Never sent (ConnectError) or safe to repeat: try again.
                if failures >= policy.attempts or not (safe or isinstance(exc, ConnectError)):
                    raise
            else:
                if status == 403 and source is not None and b"ACL not found" in data:
                    # Fetch the token once more; send the request again only with another one.
                    fresh = await source.refresh(fetches)
                    source = None  # once per request
                    if fresh != sent:
                        log.info("%s: ACL not found; sending it again with the token fetched "
                                 "again", request.operation)
                        request.token = fresh
                        if fresh is not None:
                            request.secrets = (*request.secrets, fresh)
                        continue
                if not (safe and status in policy.statuses and failures < policy.attempts
                        and status not in ok_statuses and not permanent_error(status, data)):
                    # By position, in parse()'s order (keywords cost more; see request()).
                    return parse(request, status, headers, data, transport.addresses[agent],
                                 missing_ok, indexed, ok_statuses, raw, b64, first, with_meta)
                # 429/5xx: Consul recommends retrying against another server.
                if not home:
                    transport.fail_over(agent)
            failures += 1
            # Back off once every agent this request may use has been tried in this round.
            rounds = 1 if home else transport.targets
            if failures % rounds == 0:
                await asyncio.sleep(policy.backoff.delay(failures // rounds))
            log.debug("retrying %s (failure %d)", request.operation, failures)


class Endpoint:
    """Base of the endpoint groups: a thin class over the core."""

    __slots__ = ("_core",)

    def __init__(self, core: Core) -> None:
        self._core = core

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self._core.config.address}>"
