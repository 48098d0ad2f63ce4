"""The per-call ``token=`` (Go's ``QueryOptions.Token``/``WriteOptions.Token``), over HTTP.

Every endpoint method, watch and recipe takes ``token=``: it is sent as ``X-Consul-Token`` for
that call only, in place of the client's (``api/api.go`` ``setQueryOptions``/
``setWriteOptions``: ``r.header.Set("X-Consul-Token", q.Token)``), and never in the URL. The
client talks through the recording proxy of ``conftest.py`` to a dev agent, which (without
ACLs) ignores tokens: what is checked is what went over the wire.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from aioconsul import Consul, ConsulError
from aioconsul._coverage import CALLS, NOT_CALLS, STREAMS, Use, methods

CALL = "c4ll-s3cr3t-0000-4000-8000-000000000001"
CLIENT = "cl13nt-s3cr3t-0000-4000-8000-000000000002"

#: The table of one call of every public method (and the methods that are not requests) lives
#: in ``aioconsul/_coverage.py``, which the API coverage page is generated from; the tests here
#: hold it to exactly the client's methods.
_methods = methods
_streams = [CALLS[name] for name in STREAMS]


@pytest.fixture
async def through(agents: Callable[..., Any]) -> AsyncIterator[Callable[..., Any]]:
    """``proxy, client = await through(token=...)``: a client talking through a recording
    proxy to the test's dev agent."""
    opened: list[Consul] = []

    async def start(**options: Any) -> tuple[Any, Consul]:
        proxy = await agents()
        opened.append(Consul(proxy.address, retry=False, **options))
        return proxy, opened[-1]

    yield start
    for client in opened:
        await client.close()


async def _run(use: Use, client: Consul, token: str | None, proxy: Any) -> None:
    if use in _streams:
        # A stream: the proxy answers only once the agent's answer is complete, which a log
        # or metrics stream never is. Its request has arrived once the proxy has seen it.
        task = asyncio.ensure_future(use(client, token))
        while not proxy.seen and not task.done():
            await asyncio.sleep(0.01)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConsulError):
            await task
        return
    with contextlib.suppress(ConsulError):  # refused or unknown: the request went out all the same
        await use(client, token)


def test_every_method_takes_a_keyword_token() -> None:
    methods = _methods(Consul("127.0.0.1:1"))
    missing = [name for name, method in methods.items() if name != "close" and name != "watch"
               and (inspect.signature(method).parameters.get("token") is None
                    or inspect.signature(method).parameters["token"].kind
                    is not inspect.Parameter.KEYWORD_ONLY)]
    assert missing == []


def test_the_table_calls_every_method() -> None:
    methods = set(_methods(Consul("127.0.0.1:1")))
    assert methods - NOT_CALLS == set(CALLS)


@pytest.mark.parametrize("name", sorted(CALLS))
async def test_the_calls_token_is_sent_instead_of_the_clients(
        name: str, through: Callable[..., Any]) -> None:
    proxy, client = await through(token=CLIENT)
    await _run(CALLS[name], client, CALL, proxy)
    assert proxy.tokens, "nothing was sent"
    assert set(proxy.tokens) == {CALL}
    assert not [path for _, path in proxy.seen if CALL in path or CLIENT in path]


@pytest.mark.parametrize("name", ["kv.get", "kv.set", "kv.watch", "agent.monitor",
                                  "acl.tokens.self", "session.keepalive", "event.watch"])
async def test_without_a_calls_token_the_clients_is_sent(
        name: str, through: Callable[..., Any]) -> None:
    proxy, client = await through(token=CLIENT)
    await _run(CALLS[name], client, None, proxy)
    assert proxy.tokens and set(proxy.tokens) == {CLIENT}


async def test_the_calls_token_is_for_that_call_only(through: Callable[..., Any]) -> None:
    proxy, client = await through(token=CLIENT)
    await client.kv.set("k", b"1", token=CALL)
    await client.kv.get("k")
    await client.kv.set("k", b"2")
    assert proxy.tokens == [CALL, CLIENT, CLIENT]


async def test_a_client_without_a_token_sends_the_calls_and_otherwise_none(
        through: Callable[..., Any]) -> None:
    proxy, client = await through()
    await client.kv.get("k", token=CALL)
    await client.kv.get("k")
    assert proxy.tokens == [CALL, None]


async def test_a_lent_session_sends_the_calls_token_too(
        agents: Callable[..., Any]) -> None:
    import aiohttp

    proxy = await agents()
    async with aiohttp.ClientSession() as session:
        client = Consul(proxy.address, token=CLIENT, session=session)
        await client.kv.set("k", b"v", token=CALL)
        await client.kv.get("k")
        await client.close()
    assert proxy.tokens == [CALL, CLIENT]


async def test_a_retried_request_keeps_the_calls_token(agents: Callable[..., Any]) -> None:
    proxy = await agents(503)  # the first answer is a 503: the read is repeated
    async with Consul(proxy.address, token=CLIENT) as client:
        await client.kv.get("k", token=CALL)
    assert proxy.tokens == [CALL, CALL]


async def test_a_lock_sends_its_token_with_every_request(through: Callable[..., Any]) -> None:
    proxy, client = await through(token=CLIENT)
    async with client.lock("service/leader", token=CALL) as lock:
        assert lock.held
    assert len(proxy.tokens) >= 4  # session, read, acquire, release, destroy...
    assert set(proxy.tokens) == {CALL}
    assert CALL not in repr(lock)


async def test_a_semaphore_sends_its_token_with_every_request(
        through: Callable[..., Any]) -> None:
    proxy, client = await through(token=CLIENT)
    async with client.semaphore("jobs", 2, token=CALL) as semaphore:
        assert semaphore.held
    assert set(proxy.tokens) == {CALL}
    assert CALL not in repr(semaphore)


async def test_an_election_sends_its_token_with_every_request(
        through: Callable[..., Any]) -> None:
    proxy, client = await through(token=CLIENT)
    election = client.election("service/leader", token=CALL)

    async def lead() -> str:
        return "led"

    assert await election.run(lead) == "led"
    assert set(proxy.tokens) == {CALL}
    assert CALL not in repr(election)


async def test_a_registration_sends_its_token_with_every_request(
        through: Callable[..., Any]) -> None:
    proxy, client = await through(token=CLIENT)
    async with client.register("web", ttl="30s", grace=0, token=CALL) as registration:
        await registration.set_status("warning", "busy")
    assert set(proxy.tokens) == {CALL}
    assert CALL not in repr(registration)


async def test_a_keepalive_renews_and_destroys_with_its_token(
        through: Callable[..., Any]) -> None:
    proxy, client = await through(token=CLIENT)
    async with client.session.keepalive("10s", token=CALL) as session:
        await client.session.renew(session, token=CALL)
    methods = [path.split("?")[0] for _, path in proxy.seen]
    assert any(path.startswith("/v1/session/destroy/") for path in methods)
    assert set(proxy.tokens) == {CALL}
    assert CALL not in repr(session)


async def test_the_token_is_not_in_the_reprs(through: Callable[..., Any]) -> None:
    _, client = await through(token=CLIENT)
    shown = [repr(client), repr(client.kv.watch("k", token=CALL)),
             repr(client.watch(client.catalog.nodes, token=CALL)),
             repr(client.kv.txn(token=CALL)), repr(client.session.keepalive("10s", token=CALL)),
             repr(client.agent.monitor(token=CALL)), repr(client.acl.tokens)]
    assert not [text for text in shown if CALL in text or CLIENT in text]


@pytest.mark.parametrize("bad", ["a\r\nX-Injected: 1", "line\nfeed", "nul\x00", "tab\tok?"])
async def test_a_token_with_a_control_character_is_refused_before_sending(
        bad: str, through: Callable[..., Any]) -> None:
    proxy, client = await through()
    with pytest.raises(ValueError, match="^token: contains a control character") as info:
        await client.kv.get("k", token=bad)
    assert bad not in str(info.value)
    assert proxy.seen == []


@pytest.mark.parametrize("make", [
    lambda c, t: c.kv.watch("k", token=t),
    lambda c, t: c.watch(c.kv.get, "k", token=t),
    lambda c, t: c.event.watch(token=t),
    lambda c, t: c.lock("k", token=t),
    lambda c, t: c.semaphore("s", 1, token=t),
    lambda c, t: c.election("k", token=t),
    lambda c, t: c.register("web", token=t),
    lambda c, t: c.session.keepalive("10s", token=t),
    lambda c, t: c.kv.txn(token=t),
    lambda c, t: c.txn.transaction(token=t),
])
async def test_objects_that_send_later_refuse_a_bad_token_when_made(
        make: Callable[[Consul, Any], Any], through: Callable[..., Any]) -> None:
    proxy, client = await through()
    with pytest.raises(ValueError, match="^token: contains a control character"):
        make(client, "a\r\nb")
    with pytest.raises(TypeError, match="^token: expected a str"):
        make(client, 42)
    with pytest.raises(ValueError, match="^token: must not be empty"):
        make(client, "")
    assert proxy.seen == []


async def test_an_empty_or_non_str_token_is_refused_before_sending(
        through: Callable[..., Any]) -> None:
    proxy, client = await through()
    with pytest.raises(ValueError, match="^token: must not be empty"):
        await client.kv.get("k", token="")
    with pytest.raises(TypeError, match="^token: expected a str, got bytes"):
        await client.kv.get("k", token=b"s3cr3t")  # type: ignore[arg-type]
    assert proxy.seen == []


async def test_concurrent_calls_each_send_their_own_token(through: Callable[..., Any]) -> None:
    proxy, client = await through(token=CLIENT)
    tokens = [f"t0k3n-{i}" for i in range(8)]
    await asyncio.gather(*(client.kv.set(f"k{i}", b"v", token=token)
                           for i, token in enumerate(tokens)))
    sent = dict(zip([path for _, path in proxy.seen], proxy.tokens, strict=True))
    assert {path.split("/")[-1]: token for path, token in sent.items()} == {
        f"k{i}": token for i, token in enumerate(tokens)}


async def test_the_calls_token_never_reaches_a_log_record(
        through: Callable[..., Any], caplog: pytest.LogCaptureFixture) -> None:
    """Debug logging of requests, a watch's failures, a lock's cleanup: none shows it."""
    import logging

    proxy, client = await through(token=CLIENT)
    with caplog.at_level(logging.DEBUG):
        await client.kv.set("k", b"v", token=CALL)
        await _run(CALLS["agent.services.deregister"], client, CALL, proxy)  # a 404
        async with client.watch(client.agent.services.get, "missing", errors="yield",
                                token=CALL) as watch:
            async for item in watch:
                assert isinstance(item, ConsulError)
                break
        async with client.lock("service/leader", token=CALL):
            pass
    client_records = [record for record in caplog.records
                      if not record.name.startswith("aioconsul.testing")]
    assert client_records, "nothing was logged"
    shown = "\n".join(record.getMessage() for record in client_records)
    assert CALL not in shown and CLIENT not in shown
