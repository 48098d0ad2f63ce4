"""``client.namespaces`` and ``client.partitions`` (Consul Enterprise) against the dev agent,
which answers as Consul CE does.

CE's ``agent/http_register.go`` registers no ``/v1/namespace*`` or ``/v1/partition*`` route, so
the agent's mux hands them to ``HTTPHandlers.Index`` (``agent/http.go``): 404 and
``Invalid URL path: not a recognized HTTP API endpoint`` for any path with ``/v1/`` in it,
before a token is looked at. The client sends the request the Go client (``api/namespace.go``,
``api/partition.go``) sends, and raises that answer as NotFound.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest

import aioconsul
from aioconsul import Consul
from aioconsul.testing import DevAgent

CE_404 = "Invalid URL path: not a recognized HTTP API endpoint"


class Sent:
    """What a client sent: ``(method, raw path and query, body)`` per request."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, Any]] = []
        self.trace = aiohttp.TraceConfig()
        self.trace.on_request_start.append(self._start)
        self.trace.on_request_chunk_sent.append(self._chunk)

    async def _start(self, session: aiohttp.ClientSession, context: Any,
                     params: aiohttp.TraceRequestStartParams) -> None:
        self.requests.append((params.method, params.url.raw_path_qs, None))

    async def _chunk(self, session: aiohttp.ClientSession, context: Any,
                     params: aiohttp.TraceRequestChunkSentParams) -> None:
        method, path, _ = self.requests[-1]
        self.requests[-1] = (method, path, json.loads(params.chunk))


@pytest.fixture
async def client(consul_agent: DevAgent) -> AsyncIterator[tuple[Consul, Sent]]:
    sent = Sent()
    async with Consul(consul_agent.address, retry=False, trace_configs=[sent.trace]) as c:
        yield c, sent


Call = Callable[[Consul], Awaitable[Any]]

NAMESPACE_CALLS: list[tuple[Call, tuple[str, str, Any]]] = [
    (lambda c: c.namespaces.create({"Name": "team-a", "Description": "A",
                                    "ACLs": {"PolicyDefaults": [{"Name": "p"}]},
                                    "Meta": {"owner": "a"}}),
     ("PUT", "/v1/namespace", {"Name": "team-a", "Description": "A",
                               "ACLs": {"PolicyDefaults": [{"Name": "p"}]},
                               "Meta": {"owner": "a"}})),
    (lambda c: c.namespaces.get("team-a"), ("GET", "/v1/namespace/team-a", None)),
    (lambda c: c.namespaces.get({"Name": "team a"}, partition="east", consistency="stale"),
     ("GET", "/v1/namespace/team%20a?stale&partition=east", None)),
    (lambda c: c.namespaces.update("team-a", {"Description": "B"}),
     ("PUT", "/v1/namespace/team-a", {"Description": "B", "Name": "team-a"})),
    (lambda c: c.namespaces.delete("team-a"), ("DELETE", "/v1/namespace/team-a", None)),
    (lambda c: c.namespaces.items(watch=(7, "1s")),
     ("GET", "/v1/namespaces?index=7&wait=1000ms", None)),
]

PARTITION_CALLS: list[tuple[Call, tuple[str, str, Any]]] = [
    (lambda c: c.partitions.create({"Name": "east", "Description": "E"}),
     ("PUT", "/v1/partition", {"Name": "east", "Description": "E"})),
    (lambda c: c.partitions.get("east"), ("GET", "/v1/partition/east", None)),
    (lambda c: c.partitions.update({"Name": "east"}, {"Name": "east", "Description": "F"}),
     ("PUT", "/v1/partition/east", {"Name": "east", "Description": "F"})),
    (lambda c: c.partitions.delete("east"), ("DELETE", "/v1/partition/east", None)),
    (lambda c: c.partitions.items(), ("GET", "/v1/partitions", None)),
]


@pytest.mark.parametrize(("call", "expected"), NAMESPACE_CALLS + PARTITION_CALLS)
async def test_each_method_sends_go_s_request_and_raises_ce_s_404(
        client: tuple[Consul, Sent], call: Call, expected: tuple[str, str, Any]) -> None:
    consul, sent = client
    with pytest.raises(aioconsul.NotFound) as info:
        await call(consul)
    method, target, body = expected
    [(sent_method, sent_target, sent_body)] = sent.requests
    assert (sent_method, sent_body) == (method, body)
    path, _, query = target.partition("?")
    sent_path, _, sent_query = sent_target.partition("?")
    assert sent_path == path
    assert sorted(sent_query.split("&")) == sorted(query.split("&"))
    assert info.value.status == 404
    assert CE_404 in str(info.value)


@pytest.mark.parametrize(("method", "path"), [
    ("PUT", "/v1/namespace"), ("GET", "/v1/namespace/x"), ("PUT", "/v1/namespace/x"),
    ("DELETE", "/v1/namespace/x"), ("GET", "/v1/namespaces"), ("PUT", "/v1/partition"),
    ("GET", "/v1/partition/x"), ("PUT", "/v1/partition/x"), ("DELETE", "/v1/partition/x"),
    ("GET", "/v1/partitions"),
])
async def test_the_dev_agent_answers_as_ce_s_mux(consul_agent: DevAgent, method: str,
                                                  path: str) -> None:
    """HTTPHandlers.Index: fmt.Fprintln of the text (a trailing newline), status 404, even
    with ACLs on and no token (the index handler resolves none)."""
    async with DevAgent(acl_enabled=True, acl_default_policy="deny") as acl_agent, \
            aiohttp.ClientSession() as http:
        for agent in (consul_agent, acl_agent):
            async with http.request(method, agent.address + path) as reply:
                assert (reply.status, await reply.text()) == (404, CE_404 + "\n")


@pytest.mark.parametrize(("call", "error", "match"), [
    (lambda c: c.namespaces.create({"Description": "no name"}), ValueError,
     "Must specify a Name for Namespace creation"),
    (lambda c: c.partitions.create({"Name": ""}), ValueError,
     "Must specify a Name for Partition creation"),
    (lambda c: c.namespaces.create(["team-a"]), TypeError, "expected a mapping"),
    (lambda c: c.namespaces.update("a", {"Name": "b"}), ValueError, "is not the namespace"),
    (lambda c: c.partitions.update("a", {"Name": 1}), TypeError, "Name must be a str"),
    (lambda c: c.namespaces.get(""), ValueError, "name: must not be empty"),
    (lambda c: c.partitions.delete(None), TypeError, "name: expected a str"),
])
async def test_bad_inputs_are_refused_before_sending(
        client: tuple[Consul, Sent], call: Call, error: type[Exception], match: str) -> None:
    consul, sent = client
    with pytest.raises(error, match=match):
        await call(consul)
    assert sent.requests == []
