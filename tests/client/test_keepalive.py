"""``client.session.keepalive``: a TTL session renewed in the background.

The renewal loop is the Go client's ``Session.RenewPeriodic`` (api/session.go): renew every TTL/2,
adopt the TTL the agent returns ("Consul may return a TTL value higher than the one specified
during session creation. This indicates the server is under high load and is requesting clients
renew less often", api-docs/session.mdx), retry a failed renewal every second until a whole TTL
has passed since the last success, and stop at once on a 404 (``ErrSessionExpired``). Tests that
need quick expiry run their own dev agent with millisecond TTLs.
"""

from __future__ import annotations

import asyncio
import datetime
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from aioconsul import Consul, NotFound, RequestTimeout, TransportError
from aioconsul import _cleanup as cleanup_module
from aioconsul.errors import ServerError
from aioconsul.recipes import keepalive as keepalive_module
from aioconsul.recipes.keepalive import SessionKeepAlive
from aioconsul.testing import DevAgent

pytestmark = pytest.mark.devagent


def _recipe_tasks() -> list[asyncio.Task[Any]]:
    return [task for task in asyncio.all_tasks() if task.get_name().startswith("aioconsul ")]


@pytest.fixture(autouse=True)
async def no_leftover_tasks() -> AsyncIterator[None]:
    yield
    assert _recipe_tasks() == []


@pytest.fixture
async def fast() -> AsyncIterator[Consul]:
    """A client of a dev agent that expires a session exactly one TTL after its last renewal
    and accepts TTLs from 50 ms."""
    async with DevAgent(session_ttl_min=0.05, session_ttl_multiplier=1) as agent, Consul(
            agent.address) as client:
        yield client


async def test_creates_the_session_and_destroys_it_on_exit(consul: Consul) -> None:
    async with consul.session.keepalive("15s", name="worker", behavior="delete",
                                        lock_delay="0s") as session:
        info, _ = await consul.session.info(session.id)
        assert info is not None
        assert (info["Name"], info["TTL"], info["Behavior"], info["LockDelay"]) == (
            "worker", "15s", "delete", 0)
        assert session.ttl == datetime.timedelta(seconds=15)
        assert session.running and not session.lost.is_set()
    assert (await consul.session.info(session.id))[0] is None
    assert not session.running


async def test_is_an_object_id(consul: Consul) -> None:
    """A keep-alive is a mapping with "ID": it goes wherever a session id does."""
    async with consul.session.keepalive() as session:
        assert dict(session) == {"ID": session.id}
        assert await consul.kv.lock("held", b"", session=session) is True
        entry, _ = await consul.kv.get("held")
        assert entry is not None and entry["Session"] == session.id
        assert (await consul.session.renew(session))["ID"] == session.id


async def test_id_before_start_is_an_error(consul: Consul) -> None:
    session = consul.session.keepalive()
    assert dict(session) == {}
    with pytest.raises(RuntimeError, match="not created yet"):
        _ = session.id


async def test_renews_past_several_ttls(fast: Consul) -> None:
    """The agent expires an unrenewed 100 ms session after 100 ms: it survives 6 TTLs."""
    async with fast.session.keepalive("100ms") as session:
        await asyncio.sleep(0.6)
        assert (await fast.session.info(session))[0] is not None
        assert session.renewals >= 8  # one every 50 ms
        assert not session.lost.is_set() and session.error is None


async def test_signals_loss_when_destroyed_behind_its_back(fast: Consul) -> None:
    """A 404 on renewal is a lost session at once (ErrSessionExpired); on_lost is called."""
    called: list[SessionKeepAlive] = []
    async with fast.session.keepalive("200ms", on_lost=called.append) as session:
        await fast.session.destroy(session)
        started = time.monotonic()
        await asyncio.wait_for(session.lost.wait(), 1)
        assert time.monotonic() - started < 0.2  # the next renewal, TTL/2 at the latest
        assert isinstance(session.error, NotFound)
        assert called == [session]
        assert not session.running


async def test_async_on_lost_is_awaited(fast: Consul) -> None:
    seen = asyncio.Event()

    async def on_lost(session: SessionKeepAlive) -> None:
        await asyncio.sleep(0)
        seen.set()

    async with fast.session.keepalive("100ms", on_lost=on_lost) as session:
        await fast.session.destroy(session)
        await asyncio.wait_for(seen.wait(), 1)


async def test_stop_from_its_own_on_lost_callback(fast: Consul) -> None:
    stopped = asyncio.Event()

    async def on_lost(session: SessionKeepAlive) -> None:
        await session.stop()  # from within the renewal task: must not wait for itself
        stopped.set()

    session = await fast.session.keepalive("100ms", on_lost=on_lost).start()
    await fast.session.destroy(session)
    await asyncio.wait_for(stopped.wait(), 1)
    await session.stop()


async def test_destroys_the_session_when_the_block_raises(consul: Consul) -> None:
    with pytest.raises(ZeroDivisionError):
        async with consul.session.keepalive() as session:
            1 / 0  # noqa: B018
    assert (await consul.session.info(session.id))[0] is None


async def test_destroys_the_session_when_cancelled(consul: Consul) -> None:
    entered = asyncio.Event()
    ids: list[str] = []

    async def hold() -> None:
        async with consul.session.keepalive() as session:
            ids.append(session.id)
            entered.set()
            await asyncio.sleep(60)

    task = asyncio.create_task(hold())
    await entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert (await consul.session.info(ids[0]))[0] is None


async def test_the_destroy_survives_another_cancellation(consul: Consul, agents: Any) -> None:
    """Leaving the block on a cancellation destroys the session even if the task is cancelled
    again meanwhile (the destroy is shielded): the task ends once the agent has answered it."""
    proxy = await agents()
    proxy.hold = "/v1/session/destroy"
    answered = proxy.answered
    entered = asyncio.Event()
    ids: list[str] = []

    async def hold(client: Consul) -> None:
        async with client.session.keepalive() as session:
            ids.append(session.id)
            entered.set()
            await asyncio.sleep(60)

    async with Consul(proxy.address) as client:
        task = asyncio.create_task(hold(client))
        await entered.wait()
        task.cancel()
        while not any("/session/destroy/" in path for path in proxy.paths("PUT")):
            await asyncio.sleep(0.01)
        task.cancel()
        proxy.release.set()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert ("PUT", f"/v1/session/destroy/{ids[0]}") in answered
    assert (await consul.session.info(ids[0]))[0] is None


async def test_stop_is_bounded_in_time(consul: Consul, agents: Any,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A destroy the agent does not answer is given up after CLEANUP_TIMEOUT: stop() raises
    RequestTimeout, renewal has stopped, and the session is left to its TTL."""
    monkeypatch.setattr(cleanup_module, "CLEANUP_TIMEOUT", 0.2)
    proxy = await agents()
    proxy.hold = "/v1/session/destroy"  # never answered during the test
    async with Consul(proxy.address) as client:
        session = await client.session.keepalive().start()
        with pytest.raises(RequestTimeout, match="not done within 0.2s"):
            await asyncio.wait_for(session.stop(), 5)
        assert not session.running
    assert (await consul.session.info(session.id))[0] is not None
    await consul.session.destroy(session.id)


async def test_stop_is_idempotent_and_start_only_once(consul: Consul) -> None:
    session = await consul.session.keepalive().start()
    await session.stop()
    await session.stop()
    with pytest.raises(RuntimeError, match="only once"):
        await session.start()


async def test_an_unreachable_agent_loses_the_session_after_its_ttl(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Renewal errors are retried until a whole TTL has passed since the last success."""
    monkeypatch.setattr(keepalive_module, "RENEW_RETRY_TIME", 0.05)
    agent = DevAgent(session_ttl_min=0.05, session_ttl_multiplier=1)
    await agent.start()
    async with Consul(agent.address, retry=False) as client, client.session.keepalive(
            "300ms") as session:
        await asyncio.sleep(0.2)  # one renewal done
        await agent.stop()
        stopped = time.monotonic()
        await asyncio.wait_for(session.lost.wait(), 2)
        # Lost no earlier than 300 ms after the last renewal, and not much later.
        assert 0.1 <= time.monotonic() - stopped <= 0.5
        # A refused connection, or a renewal still unanswered when the TTL ran out.
        assert isinstance(session.error, (TransportError, asyncio.TimeoutError))
        # Leaving cannot destroy the session (the agent is gone): logged, not raised.


class _FakeSessions:
    """A stand-in for ``client.session`` that scripts the answers to renewals."""

    def __init__(self, answers: list[Any]) -> None:
        self.answers = answers
        self.renewed: list[float] = []
        self.destroyed: list[str] = []

    async def create(self, **options: Any) -> dict[str, Any]:
        self.options = options
        return {"ID": "fake-session"}

    async def renew(self, session: str, **_: Any) -> dict[str, Any]:
        self.renewed.append(time.monotonic())
        answer = self.answers.pop(0) if self.answers else {"TTL": "100ms"}
        if isinstance(answer, BaseException):
            raise answer
        return dict(answer)

    async def destroy(self, session: str, **_: Any) -> bool:
        self.destroyed.append(session)
        return True


def _keepalive(fake: _FakeSessions, ttl: str) -> SessionKeepAlive:
    from aioconsul._core import normalize

    return SessionKeepAlive(fake, normalize.duration(ttl, "ttl"), {})  # type: ignore[arg-type]


def _server_error() -> ServerError:
    return ServerError("rpc error", status=500)


async def test_follows_a_longer_ttl_returned_by_the_agent() -> None:
    """A loaded server may answer with a longer TTL: the next renewal comes TTL/2 later."""
    fake = _FakeSessions([{"TTL": "400ms"}, {"TTL": "400ms"}])
    async with _keepalive(fake, "100ms") as session:
        await asyncio.sleep(0.3)
        assert session.ttl == datetime.timedelta(milliseconds=400)
        assert len(fake.renewed) == 2  # at 50 ms, then 200 ms later
        assert fake.renewed[1] - fake.renewed[0] >= 0.19
    assert fake.destroyed == ["fake-session"]


async def test_retries_errors_and_recovers_within_the_ttl(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keepalive_module, "RENEW_RETRY_TIME", 0.02)
    fake = _FakeSessions([_server_error(), _server_error(), {"TTL": "100ms"}])
    async with _keepalive(fake, "100ms") as session:
        await asyncio.sleep(0.2)
        assert not session.lost.is_set() and session.error is None
        assert len(fake.renewed) >= 4


async def test_retries_errors_until_the_ttl_is_lost(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keepalive_module, "RENEW_RETRY_TIME", 0.02)
    fake = _FakeSessions([_server_error()] * 100)
    async with _keepalive(fake, "100ms") as session:
        started = time.monotonic()
        await asyncio.wait_for(session.lost.wait(), 1)
        assert time.monotonic() - started <= 0.15
        assert isinstance(session.error, ServerError)
        assert 2 <= len(fake.renewed) <= 4  # at 50 ms, then every 20 ms until 100 ms


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"ttl": "0s"}, ValueError, "^ttl: "),
    ({"ttl": 10}, ValueError, "^ttl: "),
    ({"ttl": "15s", "behavior": "keep"}, ValueError, "^behavior: "),
    ({"ttl": "15s", "lock_delay": "soon"}, ValueError, "^lock_delay: "),
    ({"ttl": "15s", "name": 3}, TypeError, "^name: "),
    ({"ttl": "15s", "node_checks": "serfHealth"}, TypeError, "^node_checks: "),
    ({"ttl": "15s", "on_lost": "print"}, TypeError, "^on_lost: "),
])
def test_bad_arguments_are_refused_before_any_request(
        unreachable: str, kwargs: dict[str, Any], error: type[Exception], match: str) -> None:
    client = Consul(unreachable)
    with pytest.raises(error, match=match):
        client.session.keepalive(**kwargs)
