"""The CAS retry rule, against the dev agent behind a fault-injecting aiohttp.web proxy.

A CAS write (``kv.cas``, ``kv.set`` with ``cas=``/``acquire=``/``release=``, ``kv.delete_cas``)
is repeated only when the connection could not be made. Once sent it is never repeated: Consul
may have applied it before answering 500 (a lost leadership while the Raft log committed, an RPC
cut after the commit), and a repeat would meet its own new ModifyIndex (or its own session) and
answer False although it won. The Go client says the same of writes in ``IsRetryableError``
(api/api.go): a write that may have gone through is not retried.

The proxy (the ``agents`` fixture of conftest.py) forwards each request to the real dev agent,
which applies it, and then answers with the step the test asked for, so "applied, then 500" is
what the agent really did.
"""

from __future__ import annotations

import pytest

import aioconsul
from aioconsul import Backoff, Consul, Retry

FAST = Retry(attempts=3, backoff=Backoff(initial=0.01, maximum=0.02, jitter=0.0))
async def test_a_cas_create_applied_then_answered_500_never_reports_false(consul, agents) -> None:
    """Before the rule, the retry met the new ModifyIndex and answered False: "someone else
    won" when the key holds our value."""
    agent = await agents("applied-then-500")
    async with Consul(agent.address, retry=FAST) as client:
        with pytest.raises(aioconsul.ServerError, match="leadership lost"):
            await client.kv.cas("config", b"ours", index=0)
    assert [method for method, _ in agent.seen] == ["PUT"]  # sent once, never repeated
    entry, _ = await consul.kv.get("config")
    assert entry is not None and entry["Value"] == b"ours"  # the write we did not deny


async def test_a_cas_with_an_index_applied_then_answered_500_is_not_repeated(
        consul, agents) -> None:
    await consul.kv.set("config", b"old")
    entry, _ = await consul.kv.get("config")
    agent = await agents("applied-then-500")
    async with Consul(agent.address, retry=FAST) as client:
        with pytest.raises(aioconsul.ServerError):
            await client.kv.set("config", b"new", cas=entry)
    assert [method for method, _ in agent.seen] == ["PUT"]
    after, _ = await consul.kv.get("config")
    assert after is not None and after["Value"] == b"new"
    assert after["ModifyIndex"] > entry["ModifyIndex"]


async def test_a_delete_cas_applied_then_answered_500_is_not_repeated(consul, agents) -> None:
    """A repeat would find the key gone (or recreated by someone else: then False, though our
    delete won)."""
    await consul.kv.set("config", b"old")
    entry, _ = await consul.kv.get("config")
    agent = await agents("applied-then-500")
    async with Consul(agent.address, retry=FAST) as client:
        with pytest.raises(aioconsul.ServerError):
            await client.kv.delete_cas("config", index=entry)
    assert [method for method, _ in agent.seen] == ["DELETE"]
    assert (await consul.kv.get("config"))[0] is None


async def test_an_acquire_applied_then_answered_500_is_not_repeated(
        consul, agents, session: str) -> None:
    agent = await agents("applied-then-500", "applied-then-500")
    async with Consul(agent.address, retry=FAST) as client:
        with pytest.raises(aioconsul.ServerError):
            await client.kv.lock("leader", b"me", session=session)
        with pytest.raises(aioconsul.ServerError):
            await client.kv.unlock("leader", b"me", session=session)
    assert [method for method, _ in agent.seen] == ["PUT", "PUT"]
    entry, _ = await consul.kv.get("leader")
    assert entry is not None and "Session" not in entry  # acquired, then released: both applied


async def test_a_cas_answered_500_before_it_reached_consul_is_not_repeated_either(
        consul, agents) -> None:
    """From the client's side a 500 that was applied and one that was not look the same, so
    neither is repeated; the caller reads the key to learn the outcome."""
    agent = await agents(500)
    async with Consul(agent.address, retry=FAST) as client:
        with pytest.raises(aioconsul.NoLeader):
            await client.kv.cas("config", b"ours", index=0)
        assert await client.kv.cas("config", b"ours", index=0) is True  # asked again by us
    assert [method for method, _ in agent.seen] == ["PUT", "PUT"]


async def test_a_cas_that_could_not_connect_is_repeated_on_the_next_agent(
        consul, agents, closed_port) -> None:
    """Never sent, so it cannot have been applied: the one case a CAS is repeated."""
    agent = await agents()
    async with Consul([closed_port(), agent.address], retry=FAST) as client:
        assert await client.kv.cas("config", b"ours", index=0) is True
        assert await client.kv.cas("config", b"again", index=0) is False  # Consul's own answer
    assert [method for method, _ in agent.seen] == ["PUT", "PUT"]
