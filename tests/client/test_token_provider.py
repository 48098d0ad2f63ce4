"""A token that changes: ``Consul(token=callable)``, a watched ``token_file``, and the one retry
on 403 "ACL not found", against an ACL-enabled dev agent (default policy "deny").

Consul resolves the request's token before anything else, and an unknown or expired token is
``acl.ErrNotFound`` ("ACL not found", ``acl/errors.go``), answered 403 (``agent/http.go``,
``handleErr``): ``KVS.Apply`` resolves it before ``raftApply`` (``agent/consul/kvs_endpoint.go``),
``AgentRegisterService`` before ``AddService`` (``agent/agent_endpoint.go``). So a write refused
so was never applied, and sending it again with a fresh token is safe. An expired token stops
resolving at once (``ACLToken.IsExpired``, checked on every resolution): the tests move the dev
agent's ACL clock past a token's ``ExpirationTime`` instead of waiting for it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from fakeserver import FakeServer

from aioconsul import ACLNotFound, Consul, PermissionDenied
from aioconsul._core import tokens as token_module
from aioconsul._core.config import resolve
from aioconsul._core.tokens import FileTokens
from aioconsul.testing import DevAgent
from aioconsul.testing.golang.stdlib import MINUTE

ROOT = "root"
KV_WRITE = 'key_prefix "" { policy = "write" }'


@pytest.fixture
async def agent() -> AsyncIterator[DevAgent]:
    async with DevAgent(acl_enabled=True, acl_default_policy="deny",
                        acl_initial_management=ROOT) as running:
        yield running


@pytest.fixture
async def admin(agent: DevAgent) -> AsyncIterator[Consul]:
    async with Consul(agent.address, token=ROOT) as client:
        await client.acl.policies.create("kv-write", KV_WRITE)
        yield client


@pytest.fixture
async def clients(agent: DevAgent) -> AsyncIterator[Callable[..., Consul]]:
    """``make(**options)``: a client of the ACL agent (no retries), closed after the test."""
    opened: list[Consul] = []

    def make(address: str | None = None, **options: Any) -> Consul:
        opened.append(Consul(address or agent.address, retry=False, **options))
        return opened[-1]

    yield make
    for client in opened:
        await client.close()


class Recorder:
    """A proxy in front of the ACL agent recording ``(method, path, X-Consul-Token)`` of each
    request, so that a test sees which token went over the wire."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.seen: list[tuple[str, str, str | None]] = []
        self.server = FakeServer(self.handle)
        self.http: aiohttp.ClientSession | None = None

    @property
    def address(self) -> str:
        return self.server.address

    def sent(self, method: str, prefix: str) -> list[str | None]:
        """The tokens of the requests of ``method`` whose path starts with ``prefix``."""
        return [token for verb, path, token in self.seen
                if verb == method and path.startswith(prefix)]

    async def handle(self, request: web.Request) -> web.StreamResponse:
        token = request.headers.get("X-Consul-Token")
        self.seen.append((request.method, request.path, token))
        assert self.http is not None
        headers = {"X-Consul-Token": token} if token is not None else {}
        async with self.http.request(request.method, self.upstream + request.path_qs,
                                     data=await request.read(), headers=headers) as answer:
            body = await answer.read()
            passed = {name: value for name, value in answer.headers.items()
                      if name.lower().startswith("x-consul") or name == "Content-Type"}
            return web.Response(status=answer.status, body=body, headers=passed)

    async def start(self) -> Recorder:
        self.http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None))
        await self.server.start()
        return self

    async def stop(self) -> None:
        await self.server.stop()
        if self.http is not None:
            await self.http.close()


@pytest.fixture
async def recorder(agent: DevAgent) -> AsyncIterator[Recorder]:
    proxy = await Recorder(agent.address.rstrip("/")).start()
    yield proxy
    await proxy.stop()


async def _secret(admin: Consul, **fields: Any) -> str:
    token, _ = await admin.acl.tokens.create(**fields)
    secret: str = token["SecretID"]
    return secret


def _expire_tokens(agent: DevAgent) -> None:
    """Move the agent's ACL clock 3 minutes on: tokens made with a 2m TTL have expired."""
    acl_store = agent.backend.acl_store
    real = acl_store.wall_clock
    acl_store.wall_clock = lambda: real() + 3 * MINUTE


class Vault:
    """A stand-in for a secrets engine: hands out the token issued last, counting the asks."""

    def __init__(self, token: str) -> None:
        self.issued = [token]
        self.asked = 0

    def sync(self) -> str:
        self.asked += 1
        return self.issued[-1]

    async def fetch(self) -> str:
        self.asked += 1
        await asyncio.sleep(0)
        return self.issued[-1]


# -- a provider callable ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_an_expired_token_is_refreshed_through_the_provider(
        kind: str, agent: DevAgent, admin: Consul, clients: Callable[..., Consul]) -> None:
    """IsExpired makes the token resolve as "ACL not found"; the provider's new token is then
    used for the same request and every later one."""
    vault = Vault(await _secret(admin, policies=["kv-write"], expiration_ttl="2m"))
    client = clients(token=vault.sync if kind == "sync" else vault.fetch)
    await client.kv.set("app/a", b"1")
    assert vault.asked == 1
    _expire_tokens(agent)
    vault.issued.append(await _secret(admin, policies=["kv-write"]))
    entry, _ = await client.kv.get("app/a")
    assert entry is not None and entry["Value"] == b"1"
    assert vault.asked == 2
    await client.kv.set("app/b", b"2")
    me, _ = await client.acl.tokens.self()
    assert me["SecretID"] == vault.issued[-1]
    assert vault.asked == 2  # asked again only after a refusal


async def test_the_provider_is_asked_at_the_first_request_not_before(
        admin: Consul, clients: Callable[..., Consul]) -> None:
    vault = Vault(await _secret(admin, policies=["kv-write"]))
    client = clients(token=vault.fetch)
    assert vault.asked == 0
    await asyncio.gather(*(client.kv.get(f"k{i}") for i in range(5)))
    assert vault.asked == 1  # concurrent first requests share one call


async def test_a_refused_write_is_sent_again_and_applied_once(
        agent: DevAgent, admin: Consul, clients: Callable[..., Consul]) -> None:
    """A CAS write is never repeated after a 500, but "ACL not found" comes from the token's
    resolution, before KVS.Apply reaches raftApply: it was not applied, and the repeat with the
    new token succeeds (it would answer False had the first one been applied)."""
    vault = Vault(await _secret(admin, policies=["kv-write"], expiration_ttl="2m"))
    await admin.kv.set("app/counter", b"1")
    current, _ = await admin.kv.get("app/counter")
    assert current is not None
    client = clients(token=vault.sync)
    await client.kv.get("app/counter")
    _expire_tokens(agent)
    vault.issued.append(await _secret(admin, policies=["kv-write"]))
    assert await client.kv.cas("app/counter", b"2", index=current["ModifyIndex"]) is True
    after, _ = await admin.kv.get("app/counter")
    assert after is not None and after["Value"] == b"2"


async def test_a_provider_that_returns_the_same_dead_token_raises_without_looping(
        admin: Consul, clients: Callable[..., Consul], recorder: Recorder) -> None:
    secret = await _secret(admin, policies=["kv-write"])
    vault = Vault(secret)
    client = clients(recorder.address, token=vault.sync)
    await client.kv.get("app/a")
    await admin.acl.tokens.delete(await _accessor(admin, secret))
    recorder.seen.clear()
    with pytest.raises(ACLNotFound) as info:
        await client.kv.set("app/a", b"x")
    assert recorder.sent("PUT", "/v1/kv/app/a") == [secret]  # sent once: no new token
    assert vault.asked == 2  # the first request, then once after the refusal
    assert secret not in str(info.value)
    with pytest.raises(ACLNotFound):
        await client.kv.get("app/a")
    assert vault.asked == 3  # each failing request asks once more, never in a loop


async def test_a_second_acl_not_found_is_raised_not_refreshed_again(
        admin: Consul, clients: Callable[..., Consul], recorder: Recorder) -> None:
    """The provider hands out a new token that is dead too: the request is sent twice, the
    provider asked once more, and ACLNotFound raised."""
    dead = [await _secret(admin, policies=["kv-write"]) for _ in range(3)]
    asked: list[str] = []

    def provider() -> str:
        asked.append(dead[len(asked)])
        return asked[-1]

    client = clients(recorder.address, token=provider)
    await client.kv.get("app/a")
    for secret in dead:
        await admin.acl.tokens.delete(await _accessor(admin, secret))
    recorder.seen.clear()
    with pytest.raises(ACLNotFound):
        await client.kv.get("app/a")
    assert recorder.sent("GET", "/v1/kv/app/a") == dead[:2]
    assert asked == dead[:2]


async def _accessor(admin: Consul, secret: str) -> str:
    me, _ = await admin.acl.tokens.self(token=secret)
    accessor: str = me["AccessorID"]
    return accessor


async def test_concurrent_refusals_ask_the_provider_once(
        agent: DevAgent, admin: Consul, clients: Callable[..., Consul]) -> None:
    vault = Vault(await _secret(admin, policies=["kv-write"], expiration_ttl="2m"))
    client = clients(token=vault.fetch)
    await client.kv.get("k")
    _expire_tokens(agent)
    vault.issued.append(await _secret(admin, policies=["kv-write"]))
    await asyncio.gather(*(client.kv.set(f"k{i}", b"v") for i in range(10)))
    assert vault.asked == 2
    keys, _ = await admin.kv.keys("k")
    assert len(keys) == 10


async def test_a_calls_own_token_is_never_replaced_by_the_provider(
        admin: Consul, clients: Callable[..., Consul], recorder: Recorder) -> None:
    vault = Vault(await _secret(admin, policies=["kv-write"]))
    call = await _secret(admin, policies=["kv-write"])
    await admin.acl.tokens.delete(await _accessor(admin, call))
    client = clients(recorder.address, token=vault.sync)
    with pytest.raises(ACLNotFound):
        await client.kv.set("app/a", b"x", token=call)
    assert recorder.sent("PUT", "/v1/kv/app/a") == [call]
    assert vault.asked == 0  # neither used for it nor refreshed because of it
    await client.kv.set("app/a", b"y")
    assert recorder.sent("PUT", "/v1/kv/app/a") == [call, vault.issued[0]]


async def test_a_provider_that_raises_is_surfaced_and_nothing_is_sent(
        admin: Consul, clients: Callable[..., Consul], recorder: Recorder) -> None:
    good = await _secret(admin, policies=["kv-write"])
    failures = ["vault is sealed"]

    async def provider() -> str:
        if failures:
            raise RuntimeError(failures.pop())
        return good

    client = clients(recorder.address, token=provider)
    with pytest.raises(RuntimeError) as info:
        await client.kv.get("app/a")
    assert str(info.value) == "vault is sealed"  # the provider's own error, as it raised it
    if sys.version_info >= (3, 11):
        assert "token provider" in "".join(info.value.__notes__)
    assert recorder.seen == []
    await client.kv.get("app/a")  # asked again by the next request
    assert recorder.sent("GET", "/v1/kv/app/a") == [good]


async def test_a_provider_that_raises_on_refresh_is_surfaced(
        agent: DevAgent, admin: Consul, clients: Callable[..., Consul]) -> None:
    secret = await _secret(admin, policies=["kv-write"], expiration_ttl="2m")
    answers: list[Any] = [secret, ConnectionError("vault unreachable")]

    def provider() -> str:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return str(answer)

    client = clients(token=provider)
    await client.kv.get("k")
    _expire_tokens(agent)
    with pytest.raises(ConnectionError, match="^vault unreachable"):
        await client.kv.get("k")


@pytest.mark.parametrize(("answer", "error", "match"), [
    (42, TypeError, "^token: the token provider returned int, expected a str"),
    (b"s3cr3t", TypeError, "^token: the token provider returned bytes"),
    ("s3cr3t\r\nX-Injected: 1", ValueError, "^token: the token provider returned a token "
                                            "with a control character"),
])
async def test_a_provider_answer_that_is_not_a_token_is_refused_before_sending(
        answer: Any, error: type[Exception], match: str, clients: Callable[..., Consul],
        recorder: Recorder) -> None:
    client = clients(recorder.address, token=lambda: answer)
    with pytest.raises(error, match=match) as info:
        await client.kv.get("k")
    assert "s3cr3t" not in str(info.value)
    assert recorder.seen == []


async def test_a_provider_returning_none_sends_no_token(
        clients: Callable[..., Consul], recorder: Recorder) -> None:
    """No token: the agent serves the request with its default (anonymous) token, which the
    "deny" default policy refuses with "Permission denied", not "ACL not found"."""
    client = clients(recorder.address, token=lambda: None)
    with pytest.raises(PermissionDenied) as info:
        await client.kv.set("k", b"v")
    assert not isinstance(info.value, ACLNotFound)
    assert recorder.sent("PUT", "/v1/kv/k") == [None]


async def test_a_stream_sends_the_providers_token(
        admin: Consul, clients: Callable[..., Consul]) -> None:
    """/v1/agent/monitor needs agent:read: refused without the provider's token."""
    client = clients(token=lambda: ROOT)
    async with client.agent.monitor():
        pass
    with pytest.raises(PermissionDenied):
        async with clients(token=lambda: None).agent.monitor():
            pass


@pytest.mark.parametrize("kind", ["monitor", "metrics_stream"])
async def test_a_stream_opened_after_the_token_expired_is_refreshed_through_the_provider(
        kind: str, agent: DevAgent, admin: Consul, clients: Callable[..., Consul]) -> None:
    """A stream is sent like any request: its 403 "ACL not found" (AgentMonitor and
    AgentMetricsStream resolve the token before writing a byte) has the provider asked once
    more and the stream opened again with the new token, which later requests keep."""
    await admin.acl.policies.create("agent-read", 'agent_prefix "" { policy = "read" }')
    vault = Vault(await _secret(admin, policies=["agent-read"], expiration_ttl="2m"))
    client = clients(token=vault.sync)
    await client.agent.self()
    _expire_tokens(agent)
    vault.issued.append(await _secret(admin, policies=["agent-read"]))
    async with getattr(client.agent, kind)():
        pass
    assert vault.asked == 2
    assert client._core.tokens is not None and client._core.tokens.current() == vault.issued[-1]
    async with getattr(client.agent, kind)():
        pass
    assert vault.asked == 2  # the new token is kept: asked again only after a refusal


async def test_a_streams_own_token_is_never_replaced(
        agent: DevAgent, admin: Consul, clients: Callable[..., Consul]) -> None:
    expired = await _secret(admin, expiration_ttl="2m")
    vault = Vault(ROOT)
    client = clients(token=vault.sync)
    _expire_tokens(agent)
    with pytest.raises(ACLNotFound):
        async with client.agent.monitor(token=expired):
            pass
    assert vault.asked == 0


async def test_the_providers_token_is_in_no_repr_error_or_log(
        agent: DevAgent, admin: Consul, clients: Callable[..., Consul],
        caplog: pytest.LogCaptureFixture) -> None:
    vault = Vault(await _secret(admin, policies=["kv-write"], expiration_ttl="2m"))
    client = clients(token=vault.sync)
    with caplog.at_level(logging.DEBUG, logger="aioconsul"):
        await client.kv.get("k")
        _expire_tokens(agent)
        vault.issued.append(await _secret(admin))  # a token without kv rights
        with pytest.raises(PermissionDenied) as info:
            await client.kv.set("k", b"v")
    shown = [repr(client), repr(client.config), repr(client._core.tokens), str(info.value),
             *(record.getMessage() for record in caplog.records
               if record.name == "aioconsul")]
    assert any("ACL not found" in text for text in shown)  # the refresh was logged
    for secret in vault.issued:
        assert not [text for text in shown if secret in text]


def test_a_provider_and_a_token_file_together_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("t")
    with pytest.raises(ValueError, match="^token, token_file: give a token provider or a "
                                         "token file, not both"):
        Consul(token=lambda: "t", token_file=str(path))
    with pytest.raises(TypeError, match="^token: expected a str or a callable"):
        Consul(token=42)  # type: ignore[arg-type]


def test_a_provider_beats_the_environment_and_is_never_shown(tmp_path: Path) -> None:
    """An explicit token beats CONSUL_HTTP_TOKEN_FILE and CONSUL_HTTP_TOKEN (Go's order); a
    callable one is the provider, and the configuration holds no token of its own."""
    path = tmp_path / "token"
    path.write_text("file-s3cr3t")

    def provider() -> str:
        return "provided-s3cr3t"

    env = {"CONSUL_HTTP_TOKEN": "env-s3cr3t", "CONSUL_HTTP_TOKEN_FILE": str(path)}
    config = resolve(token=provider, env=env)
    assert (config.token, config.token_provider, config.token_file) == (None, provider, None)
    assert "s3cr3t" not in repr(config) and "provider" not in repr(config)
    from_env = resolve(env=env)
    assert (from_env.token, from_env.token_file) == ("file-s3cr3t", str(path))
    assert resolve(token="fixed", env=env).token_file is None


# -- a watched token file -----------------------------------------------------------------------


def _rotate(path: Path, token: str) -> None:
    """Replace the file atomically, as Vault agent and Kubernetes do (a new inode)."""
    new = path.with_suffix(".new")
    new.write_text(token + "\n")
    os.replace(new, path)


async def test_a_rotated_token_file_is_read_again_on_acl_not_found(
        admin: Consul, clients: Callable[..., Consul], tmp_path: Path) -> None:
    old = await _secret(admin, policies=["kv-write"])
    path = tmp_path / "consul-token"
    path.write_text(old)
    client = clients(token_file=str(path))
    await client.kv.set("app/a", b"1")
    new = await _secret(admin, policies=["kv-write"])
    _rotate(path, new)
    await admin.acl.tokens.delete(await _accessor(admin, old))
    await client.kv.set("app/a", b"2")  # "ACL not found": the file is read again at once
    me, _ = await client.acl.tokens.self()
    assert me["SecretID"] == new


async def test_a_rotated_token_file_is_picked_up_at_the_next_check(
        admin: Consul, clients: Callable[..., Consul], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Both tokens still work: the change is seen by looking at the file (here at every
    request), not because of a refusal."""
    monkeypatch.setattr(token_module, "FILE_CHECK_INTERVAL", 0.0)
    old, new = await _secret(admin, policies=["kv-write"]), await _secret(admin)
    path = tmp_path / "consul-token"
    path.write_text(old)
    client = clients(token_file=str(path))
    first, _ = await client.acl.tokens.self()
    _rotate(path, new)
    second, _ = await client.acl.tokens.self()
    assert (first["SecretID"], second["SecretID"]) == (old, new)


async def test_consul_http_token_file_is_watched_too(
        admin: Consul, agent: DevAgent, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    old, new = await _secret(admin), await _secret(admin)
    path = tmp_path / "consul-token"
    path.write_text(old)
    monkeypatch.setenv("CONSUL_HTTP_TOKEN_FILE", str(path))
    async with Consul(agent.address) as client:
        await client.acl.tokens.self()
        _rotate(path, new)
        await admin.acl.tokens.delete(await _accessor(admin, old))
        with pytest.raises(PermissionDenied) as info:  # "ACL not found", then the new one
            await client.kv.get("k")
        assert not isinstance(info.value, ACLNotFound)
        me, _ = await client.acl.tokens.self()
    assert me["SecretID"] == new


def _file_tokens(path: Path, interval: float) -> FileTokens:
    tokens = FileTokens(str(path), path.read_text().strip() or None)
    tokens.interval = interval
    return tokens


def test_a_token_file_is_looked_at_only_once_per_interval(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("one")
    tokens = _file_tokens(path, 3600.0)
    assert tokens.current() == "one"  # the first request looks at the file
    _rotate(path, "two")
    assert tokens.current() == "one"  # not looked at again within the interval
    assert asyncio.run(tokens.refresh(tokens.fetches)) == "two"  # a refusal reads it at once


def test_a_token_file_rewritten_in_place_is_seen_by_its_size_and_mtime(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("one")
    tokens = _file_tokens(path, 0.0)
    assert tokens.current() == "one"
    generation = tokens.generation
    path.write_text("three")  # same inode, another size
    assert tokens.current() == "three"
    assert tokens.generation == generation + 1
    assert tokens.current() == "three" and tokens.generation == generation + 1


def test_an_empty_missing_or_bad_token_file_keeps_the_last_token(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "token"
    path.write_text("one")
    tokens = _file_tokens(path, 0.0)
    assert tokens.current() == "one"
    path.write_text("")  # a writer truncated it and has not written yet
    assert tokens.current() == "one"
    path.unlink()
    assert tokens.current() == "one"
    path.write_text("bad\x00token")
    assert tokens.current() == "one"
    path.write_text("two")
    assert tokens.current() == "two"
    warnings = [record.getMessage() for record in caplog.records
                if record.levelno == logging.WARNING]
    assert len(warnings) == 3 and all("keeping the token read last" in text
                                      for text in warnings)
    assert not [text for text in warnings if "bad\x00token" in text]


def test_an_empty_token_file_at_start_means_no_token_until_one_is_written(
        tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("")
    tokens = _file_tokens(path, 0.0)
    assert tokens.current() is None
    path.write_text("one")
    assert tokens.current() == "one"


# -- the managed registration -------------------------------------------------------------------


async def _until(condition: Callable[[], bool], what: str) -> None:
    """Wait (bounded) until ``condition()`` holds; fail naming ``what`` otherwise."""
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never happened: {what}")


async def test_a_registration_registers_again_when_the_provider_yields_a_new_token(
        agent: DevAgent, admin: Consul, clients: Callable[..., Consul],
        recorder: Recorder) -> None:
    """The agent keeps the token a service was registered with and syncs the service with it
    (agent/local/state.go, aclTokenForServiceSync): once the old token is gone, the service
    must be registered again with the new one."""
    old = await _secret(admin, service_identities=["web"])
    new = await _secret(admin, service_identities=["web"], policies=["kv-write"])
    vault = Vault(old)
    client = clients(recorder.address, token=vault.fetch)
    async with client.register("web", ttl="30s", grace=0) as registration:
        assert recorder.sent("PUT", "/v1/agent/service/register") == [old]
        vault.issued.append(new)
        await admin.acl.tokens.delete(await _accessor(admin, old))
        await client.kv.get("app/a")  # refused: the provider yields the new token
        await _until(lambda: registration.registrations == 2, "registered again")
        assert recorder.sent("PUT", "/v1/agent/service/register") == [old, new]
        await registration.set_status("warning", "still here")  # the new token works for it
        service, _ = await admin.agent.services.get(registration.id)
        assert service is not None and service["Service"] == "web"
        checks, _ = await admin.agent.checks.items()
        assert checks[registration.check_id]["Status"] == "warning"
        assert registration.losses == 0
    assert recorder.sent("PUT", "/v1/agent/service/deregister/web") == [new]


async def test_a_registration_registers_again_when_the_token_file_changes(
        admin: Consul, clients: Callable[..., Consul], recorder: Recorder,
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(token_module, "FILE_CHECK_INTERVAL", 0.0)
    old = await _secret(admin, service_identities=["web"])
    new = await _secret(admin, service_identities=["web"])
    path = tmp_path / "consul-token"
    path.write_text(old)
    client = clients(recorder.address, token_file=str(path))
    async with client.register("web", ttl="30s", grace=0) as registration:
        _rotate(path, new)
        await client.agent.services.get("web")  # any request looks at the file
        await _until(lambda: registration.registrations == 2, "registered again")
        assert recorder.sent("PUT", "/v1/agent/service/register") == [old, new]


async def test_a_registration_alone_notices_a_dead_token_and_registers_again(
        admin: Consul, clients: Callable[..., Consul], recorder: Recorder) -> None:
    """Nothing but the registration runs: one of its own requests (a heartbeat, its watch's
    read) meets "ACL not found", is sent again with the provider's new token, and the service
    is registered again with it."""
    old = await _secret(admin, service_identities=["web"])
    new = await _secret(admin, service_identities=["web"])
    vault = Vault(old)
    client = clients(recorder.address, token=vault.sync)
    async with client.register("web", ttl="1s", grace=0) as registration:
        vault.issued.append(new)
        await admin.acl.tokens.delete(await _accessor(admin, old))
        await _until(lambda: registration.registrations == 2, "registered again")
        await registration.set_status("passing", "fine")
        assert registration.error is None
    assert recorder.sent("PUT", "/v1/agent/service/register") == [old, new]
    assert recorder.sent("PUT", "/v1/agent/check/update/")[-1] == new


async def test_a_registration_with_its_own_token_ignores_the_clients(
        admin: Consul, clients: Callable[..., Consul], recorder: Recorder) -> None:
    own = await _secret(admin, service_identities=["web"])
    vault = Vault(await _secret(admin, policies=["kv-write"], expiration_ttl="2m"))
    client = clients(recorder.address, token=vault.sync)
    async with client.register("web", ttl="30s", grace=0, token=own) as registration:
        await client.kv.get("app/a")
        vault.issued.append(await _secret(admin, policies=["kv-write"]))
        await admin.acl.tokens.delete(await _accessor(admin, vault.issued[0]))
        await client.kv.get("app/a")  # the client's token changes
        await registration.set_status("passing")
        assert registration.registrations == 1
    assert set(recorder.sent("PUT", "/v1/agent/")) == {own}


async def test_a_registration_survives_a_provider_that_fails_for_a_while(
        admin: Consul, clients: Callable[..., Consul], recorder: Recorder) -> None:
    """Vault unreachable when the token must be fetched again: the heartbeat logs it and
    tries again; the registration does not stop."""
    old = await _secret(admin, service_identities=["web"])
    new = await _secret(admin, service_identities=["web"])
    answers: list[str | Exception] = [old, ConnectionError("vault unreachable"), new]

    def provider() -> str:
        answer = answers[0] if len(answers) == 1 else answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    client = clients(recorder.address, token=provider)
    async with client.register("web", ttl="1s", grace=0) as registration:
        await admin.acl.tokens.delete(await _accessor(admin, old))
        await _until(lambda: registration.registrations == 2, "registered again")
        assert registration.error is None
    assert recorder.sent("PUT", "/v1/agent/service/register") == [old, new]

