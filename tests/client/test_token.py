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
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from aioconsul import Consul, ConsulError
from aioconsul._core.core import Endpoint

CALL = "c4ll-s3cr3t-0000-4000-8000-000000000001"
CLIENT = "cl13nt-s3cr3t-0000-4000-8000-000000000002"

Use = Callable[[Consul, str | None], Awaitable[Any]]


async def _each(read: Any) -> None:
    async for _ in read:
        break


async def _monitor(c: Consul, t: str | None) -> None:
    async with c.agent.monitor(token=t):
        pass


async def _watch(c: Consul, t: str | None) -> None:
    async with c.watch(c.catalog.nodes, token=t) as watch:
        await _each(watch)


async def _kv_watch(c: Consul, t: str | None) -> None:
    async with c.kv.watch("k", token=t) as watch:
        await _each(watch)


async def _event_watch(c: Consul, t: str | None) -> None:
    async with c.event.watch("deploy", token=t) as watch:
        await watch.ready()


async def _kv_txn(c: Consul, t: str | None) -> None:
    async with c.kv.txn(token=t) as txn:
        txn.get_or_empty("k")


async def _txn_transaction(c: Consul, t: str | None) -> None:
    await c.txn.transaction(token=t).get_or_empty("k").apply()


async def _keepalive(c: Consul, t: str | None) -> None:
    async with c.session.keepalive("10s", token=t):
        pass


async def _update(c: Consul, t: str | None) -> None:
    await c.kv.update("k", lambda value: b"new", token=t)


#: One call of every public method, by the name ``walk()`` gives it. Each gets the call's token
#: (or None); whatever the agent answers, only the requests sent are looked at.
CALLS: dict[str, Use] = {
    "kv.get": lambda c, t: c.kv.get("k", token=t),
    "kv.raw": lambda c, t: c.kv.raw("k", token=t),
    "kv.keys": lambda c, t: c.kv.keys("", token=t),
    "kv.items": lambda c, t: c.kv.items("", token=t),
    "kv.tree": lambda c, t: c.kv.tree("", token=t),
    "kv.set": lambda c, t: c.kv.set("k", b"v", token=t),
    "kv.cas": lambda c, t: c.kv.cas("k", b"v", index=0, token=t),
    "kv.lock": lambda c, t: c.kv.lock("k", session="6d7c0ad1-0000-4000-8000-000000000000",
                                      token=t),
    "kv.unlock": lambda c, t: c.kv.unlock("k", session="6d7c0ad1-0000-4000-8000-000000000000",
                                          token=t),
    "kv.delete": lambda c, t: c.kv.delete("k", token=t),
    "kv.delete_tree": lambda c, t: c.kv.delete_tree("k/", token=t),
    "kv.delete_cas": lambda c, t: c.kv.delete_cas("k", index=5, token=t),
    "kv.update": _update,
    "kv.export": lambda c, t: c.kv.export("", token=t),
    "kv.import_": lambda c, t: c.kv.import_([{"key": "k", "value": "dg=="}], token=t),
    "kv.watch": _kv_watch,
    "kv.txn": _kv_txn,
    "txn.apply": lambda c, t: c.txn.apply([{"KV": {"Verb": "get-or-empty", "Key": "k"}}],
                                          token=t),
    "txn.transaction": _txn_transaction,
    "event.fire": lambda c, t: c.event.fire("deploy", token=t),
    "event.items": lambda c, t: c.event.items(token=t),
    "event.watch": _event_watch,
    "session.create": lambda c, t: c.session.create(token=t),
    "session.destroy": lambda c, t: c.session.destroy("6d7c0ad1-0000-4000-8000-000000000000",
                                                      token=t),
    "session.renew": lambda c, t: c.session.renew("6d7c0ad1-0000-4000-8000-000000000000",
                                                  token=t),
    "session.info": lambda c, t: c.session.info("6d7c0ad1-0000-4000-8000-000000000000",
                                                token=t),
    "session.node": lambda c, t: c.session.node("n1", token=t),
    "session.items": lambda c, t: c.session.items(token=t),
    "session.keepalive": _keepalive,
    "query.create": lambda c, t: c.query.create({"Name": "q", "Service": {"Service": "web"}},
                                                token=t),
    "query.items": lambda c, t: c.query.items(token=t),
    "query.get": lambda c, t: c.query.get("6d7c0ad1-0000-4000-8000-000000000000", token=t),
    "query.update": lambda c, t: c.query.update("6d7c0ad1-0000-4000-8000-000000000000",
                                                {"Service": {"Service": "web"}}, token=t),
    "query.delete": lambda c, t: c.query.delete("6d7c0ad1-0000-4000-8000-000000000000", token=t),
    "query.execute": lambda c, t: c.query.execute("q", token=t),
    "query.explain": lambda c, t: c.query.explain("q", token=t),
    "config_entries.apply": lambda c, t: c.config_entries.apply(
        {"Kind": "service-defaults", "Name": "web"}, token=t),
    "config_entries.get": lambda c, t: c.config_entries.get("service-defaults", "web", token=t),
    "config_entries.items": lambda c, t: c.config_entries.items("service-defaults", token=t),
    "config_entries.delete": lambda c, t: c.config_entries.delete(
        "service-defaults", "web", token=t),
    "catalog.register": lambda c, t: c.catalog.register("n1", address="10.0.0.1", token=t),
    "catalog.deregister": lambda c, t: c.catalog.deregister("n1", token=t),
    "catalog.datacenters": lambda c, t: c.catalog.datacenters(token=t),
    "catalog.datacenters_meta": lambda c, t: c.catalog.datacenters_meta(token=t),
    "catalog.nodes": lambda c, t: c.catalog.nodes(token=t),
    "catalog.services": lambda c, t: c.catalog.services(token=t),
    "catalog.service": lambda c, t: c.catalog.service("web", token=t),
    "catalog.connect": lambda c, t: c.catalog.connect("web", token=t),
    "catalog.node": lambda c, t: c.catalog.node("n1", token=t),
    "catalog.node_services": lambda c, t: c.catalog.node_services("n1", token=t),
    "catalog.gateway_services": lambda c, t: c.catalog.gateway_services("gw", token=t),
    "health.node": lambda c, t: c.health.node("n1", token=t),
    "health.checks": lambda c, t: c.health.checks("web", token=t),
    "health.service": lambda c, t: c.health.service("web", token=t),
    "health.connect": lambda c, t: c.health.connect("web", token=t),
    "health.ingress": lambda c, t: c.health.ingress("web", token=t),
    "health.state": lambda c, t: c.health.state(token=t),
    "coordinate.datacenters": lambda c, t: c.coordinate.datacenters(token=t),
    "coordinate.nodes": lambda c, t: c.coordinate.nodes(token=t),
    "coordinate.node": lambda c, t: c.coordinate.node("n1", token=t),
    "coordinate.update": lambda c, t: c.coordinate.update(
        "n1", {"Vec": [0.0] * 8, "Error": 1.5, "Adjustment": 0.0, "Height": 1e-5}, token=t),
    "status.leader": lambda c, t: c.status.leader(token=t),
    "status.peers": lambda c, t: c.status.peers(token=t),
    "agent.self": lambda c, t: c.agent.self(token=t),
    "agent.members": lambda c, t: c.agent.members(token=t),
    "agent.join": lambda c, t: c.agent.join("127.0.0.1:1", token=t),
    "agent.leave": lambda c, t: c.agent.leave(token=t),
    "agent.force_leave": lambda c, t: c.agent.force_leave("ghost", token=t),
    "agent.maintenance": lambda c, t: c.agent.maintenance(False, token=t),
    "agent.reload": lambda c, t: c.agent.reload(token=t),
    "agent.metrics": lambda c, t: c.agent.metrics(token=t),
    "agent.host": lambda c, t: c.agent.host(token=t),
    "agent.version": lambda c, t: c.agent.version(token=t),
    "agent.monitor": _monitor,
    "agent.update_token": lambda c, t: c.agent.update_token(
        "agent", "n3w-s3cr3t-0000-4000-8000-000000000003", token=t),
    "agent.services.items": lambda c, t: c.agent.services.items(token=t),
    "agent.services.get": lambda c, t: c.agent.services.get("web", token=t),
    "agent.services.register": lambda c, t: c.agent.services.register("web", token=t),
    "agent.services.deregister": lambda c, t: c.agent.services.deregister("web", token=t),
    "agent.services.maintenance": lambda c, t: c.agent.services.maintenance("web", False,
                                                                            token=t),
    "agent.services.health": lambda c, t: c.agent.services.health("web", token=t),
    "agent.checks.items": lambda c, t: c.agent.checks.items(token=t),
    "agent.checks.register": lambda c, t: c.agent.checks.register("ttl", ttl="30s", token=t),
    "agent.checks.deregister": lambda c, t: c.agent.checks.deregister("ttl", token=t),
    "agent.checks.pass_": lambda c, t: c.agent.checks.pass_("ttl", token=t),
    "agent.checks.warn": lambda c, t: c.agent.checks.warn("ttl", token=t),
    "agent.checks.fail": lambda c, t: c.agent.checks.fail("ttl", token=t),
    "agent.checks.update": lambda c, t: c.agent.checks.update("ttl", "passing", token=t),
    "acl.bootstrap": lambda c, t: c.acl.bootstrap(token=t),
    "acl.replication": lambda c, t: c.acl.replication(token=t),
    "acl.login": lambda c, t: c.acl.login("jwt", "b3ar3r", token=t),
    "acl.logout": lambda c, t: c.acl.logout(token=t),
    "acl.oidc_auth_url": lambda c, t: c.acl.oidc_auth_url("oidc", "http://localhost/cb",
                                                          token=t),
    "acl.oidc_callback": lambda c, t: c.acl.oidc_callback("oidc", "st", "c0de", token=t),
    "acl.tokens.create": lambda c, t: c.acl.tokens.create(description="x", token=t),
    "acl.tokens.get": lambda c, t: c.acl.tokens.get("6d7c0ad1-0000-4000-8000-000000000000",
                                                    token=t),
    "acl.tokens.self": lambda c, t: c.acl.tokens.self(token=t),
    "acl.tokens.update": lambda c, t: c.acl.tokens.update(
        "6d7c0ad1-0000-4000-8000-000000000000", description="x", token=t),
    "acl.tokens.clone": lambda c, t: c.acl.tokens.clone(
        "6d7c0ad1-0000-4000-8000-000000000000", token=t),
    "acl.tokens.delete": lambda c, t: c.acl.tokens.delete(
        "6d7c0ad1-0000-4000-8000-000000000000", token=t),
    "acl.tokens.items": lambda c, t: c.acl.tokens.items(token=t),
    "acl.policies.create": lambda c, t: c.acl.policies.create("p", "", token=t),
    "acl.policies.get": lambda c, t: c.acl.policies.get("6d7c0ad1-0000-4000-8000-000000000000",
                                                        token=t),
    "acl.policies.get_by_name": lambda c, t: c.acl.policies.get_by_name("p", token=t),
    "acl.policies.update": lambda c, t: c.acl.policies.update(
        "6d7c0ad1-0000-4000-8000-000000000000", name="p", token=t),
    "acl.policies.delete": lambda c, t: c.acl.policies.delete(
        "6d7c0ad1-0000-4000-8000-000000000000", token=t),
    "acl.policies.items": lambda c, t: c.acl.policies.items(token=t),
    "acl.roles.create": lambda c, t: c.acl.roles.create("r", token=t),
    "acl.roles.get": lambda c, t: c.acl.roles.get("6d7c0ad1-0000-4000-8000-000000000000",
                                                  token=t),
    "acl.roles.get_by_name": lambda c, t: c.acl.roles.get_by_name("r", token=t),
    "acl.roles.update": lambda c, t: c.acl.roles.update(
        "6d7c0ad1-0000-4000-8000-000000000000", name="r", token=t),
    "acl.roles.delete": lambda c, t: c.acl.roles.delete("6d7c0ad1-0000-4000-8000-000000000000",
                                                        token=t),
    "acl.roles.items": lambda c, t: c.acl.roles.items(token=t),
    "acl.auth_methods.create": lambda c, t: c.acl.auth_methods.create("m", "jwt", token=t),
    "acl.auth_methods.get": lambda c, t: c.acl.auth_methods.get("m", token=t),
    "acl.auth_methods.update": lambda c, t: c.acl.auth_methods.update("m", type="jwt",
                                                                      token=t),
    "acl.auth_methods.delete": lambda c, t: c.acl.auth_methods.delete("m", token=t),
    "acl.auth_methods.items": lambda c, t: c.acl.auth_methods.items(token=t),
    "acl.binding_rules.create": lambda c, t: c.acl.binding_rules.create("m", "service", "web",
                                                                        token=t),
    "acl.binding_rules.get": lambda c, t: c.acl.binding_rules.get(
        "6d7c0ad1-0000-4000-8000-000000000000", token=t),
    "acl.binding_rules.update": lambda c, t: c.acl.binding_rules.update(
        "6d7c0ad1-0000-4000-8000-000000000000", auth_method="m", bind_type="service",
        bind_name="web", token=t),
    "acl.binding_rules.delete": lambda c, t: c.acl.binding_rules.delete(
        "6d7c0ad1-0000-4000-8000-000000000000", token=t),
    "acl.binding_rules.items": lambda c, t: c.acl.binding_rules.items(token=t),
    "acl.templated_policies.items": lambda c, t: c.acl.templated_policies.items(token=t),
    "acl.templated_policies.get": lambda c, t: c.acl.templated_policies.get("builtin/dns",
                                                                            token=t),
    "acl.templated_policies.preview": lambda c, t: c.acl.templated_policies.preview(
        "builtin/service", {"Name": "web"}, token=t),
}

#: Client methods that are not requests, and the toolkit's own (tested where they live).
NOT_CALLS = {"close", "watch", "lock", "semaphore", "election", "register", "discover",
             "kv.config"}


def _methods(obj: Any, path: str = "") -> dict[str, Any]:
    """Every public method of the client's endpoint groups, by its dotted path."""
    found: dict[str, Any] = {}
    for name in dir(obj):
        if name.startswith("_"):
            continue
        attr = getattr(obj, name)
        if isinstance(attr, Endpoint):
            found.update(_methods(attr, f"{path}{name}."))
        elif callable(attr) and not isinstance(attr, type):
            found[path + name] = attr
    return found


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
    if use is _monitor:
        # A stream: the proxy answers only once the agent's answer is complete, which a log
        # stream never is. Its request has arrived once the proxy has seen it.
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
