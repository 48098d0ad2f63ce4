"""``client.agent.metrics_stream()`` against the dev agent (``GET /v1/agent/metrics/stream``,
``agent/agent_endpoint.go`` AgentMetricsStream): one summary per interval of the agent's
in-memory sink, each an indented JSON document several lines long."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from fakeserver import FakeServer

import aioconsul
from aioconsul import Consul
from aioconsul.api.agent import MetricsStream
from aioconsul.testing import DevAgent


async def _next(stream: MetricsStream) -> Any:
    # A bound, not a timing: a regression fails here instead of hanging the suite.
    return await asyncio.wait_for(anext(stream), 30)


@pytest.fixture
async def agent() -> AsyncIterator[DevAgent]:
    async with DevAgent() as running:
        running.backend.metrics_interval = 0.05
        yield running


async def test_yields_one_summary_per_interval(agent: DevAgent) -> None:
    sent: list[tuple[str, str]] = []

    async def on_start(session: aiohttp.ClientSession, context: Any,
                       params: aiohttp.TraceRequestStartParams) -> None:
        sent.append((params.method, params.url.raw_path_qs))

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(on_start)
    async with Consul(agent.address, trace_configs=[trace]) as client, \
            client.agent.metrics_stream() as stream:
        first = await _next(stream)
        second = await _next(stream)
    assert sent == [("GET", "/v1/agent/metrics/stream")]
    for summary in (first, second):
        assert set(summary) == {"Timestamp", "Gauges", "Points", "Counters", "Samples"}
        assert "consul.state.nodes" in [gauge["Name"] for gauge in summary["Gauges"]]
    assert repr(stream) == "<MetricsStream /v1/agent/metrics/stream closed>"


async def test_async_for_and_aclose(agent: DevAgent) -> None:
    async with Consul(agent.address) as client:
        stream = client.agent.metrics_stream()
        seen = []
        async for summary in stream:
            seen.append(summary["Timestamp"])
            if len(seen) == 2:
                await stream.aclose()
        assert len(seen) == 2
        assert [s async for s in stream] == []  # closed: iterating again ends at once


async def test_the_end_of_the_stream_ends_the_iteration(agent: DevAgent) -> None:
    """The agent shutting down ends the stream; the iterator then stops."""
    async with Consul(agent.address) as client, client.agent.metrics_stream() as stream:
        await _next(stream)
        await agent.stop()
        with pytest.raises(StopAsyncIteration):
            await _next(stream)


async def test_permission_denied_is_raised_on_entering() -> None:
    async with DevAgent(acl_enabled=True, acl_default_policy="deny",
                        acl_initial_management="root") as acl_agent, \
            Consul(acl_agent.address, retry=False) as client:
        with pytest.raises(aioconsul.PermissionDenied, match="agent:read"):
            async with client.agent.metrics_stream():
                raise AssertionError("not reached")
        async with client.agent.metrics_stream(token="root"):
            pass


async def test_a_compact_document_per_line_is_read_too(serve: Any) -> None:
    """Only a line at the left margin can end a document: a server writing one compact
    document per line is read as well, and a broken document is a ProtocolError."""

    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        await response.write(b'{"Timestamp": "t1", "Gauges": []}\n\n')
        await response.write(b'{\n    "Timestamp": "t2",\n    "Gauges": [\n        1\n'
                             b'    ]\n}\n')
        await response.write(b'{\n    "Timestamp": \n}\n')
        return response

    server: FakeServer = await serve(handler)
    async with Consul(server.address, retry=False) as client, \
            client.agent.metrics_stream() as stream:
        assert await _next(stream) == {"Timestamp": "t1", "Gauges": []}
        assert await _next(stream) == {"Timestamp": "t2", "Gauges": [1]}
        with pytest.raises(aioconsul.ProtocolError, match="metrics summary is not valid JSON"):
            await _next(stream)
