"""GET /v1/agent/metrics/stream: the agent's metrics, one summary per interval
(``agent/agent_endpoint.go`` AgentMetricsStream over go-metrics' ``InmemSink.Stream``).

agent:read on the agent's node is checked before anything is written; then each time an
interval of the in-memory sink ends, its summary is encoded with ``json.Encoder`` and
``SetIndent("", "    ")`` (an indented document and a newline) and flushed. The tests shorten
the sink's interval (Consul's is 10 s) through the agent's backend.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp

from aioconsul.testing import DevAgent

from ._acl import ACLApi, acl, acl_agent
from .conftest import Api

__all__ = ["acl", "acl_agent"]

#: go-metrics' Timestamp: the interval's start, ``time.Time.String()`` of a UTC time.
STAMP = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0000 UTC")


@asynccontextmanager
async def stream(api: Api, headers: dict[str, str] | None = None
                 ) -> AsyncIterator[aiohttp.ClientResponse]:
    async with api.http.get(api.url("/v1/agent/metrics/stream"), headers=headers) as resp:
        yield resp


async def document(resp: aiohttp.ClientResponse) -> tuple[str, Any]:
    """The next summary of the stream: its text as sent and its decoded value."""
    lines = []
    while True:
        # A bound, not a timing: a regression fails here instead of hanging the suite.
        line = (await asyncio.wait_for(resp.content.readline(), 30)).decode()
        assert line, "the stream ended"
        lines.append(line)
        if line == "}\n":
            text = "".join(lines)
            return text, json.loads(text)


def fast(agent: DevAgent) -> None:
    agent.backend.metrics_interval = 0.05


async def test_each_interval_ends_with_an_indented_summary(api: Api) -> None:
    fast(api.agent)
    async with stream(api) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"] == "text/plain; charset=utf-8"
        assert resp.headers["Transfer-Encoding"] == "chunked"
        text, first = await document(resp)
        _, second = await document(resp)
    assert text.startswith('{\n    "Timestamp": "')
    assert '\n    "Gauges": [\n        {\n            "Name": ' in text
    for summary in (first, second):
        assert list(summary) == ["Timestamp", "Gauges", "Points", "Counters", "Samples"]
        assert STAMP.fullmatch(summary["Timestamp"])
        names = [gauge["Name"] for gauge in summary["Gauges"]]
        assert "consul.state.nodes" in names
    assert second["Timestamp"] >= first["Timestamp"]


async def test_the_summary_is_the_one_agent_metrics_answers(api: Api) -> None:
    fast(api.agent)
    reply = await api.put("/v1/catalog/register", json.dumps(
        {"Node": "n2", "Address": "10.0.0.2", "Service": {"Service": "web"}}))
    assert reply.status == 200
    async with stream(api) as resp:
        _, summary = await document(resp)
    gauges = {gauge["Name"]: gauge["Value"] for gauge in summary["Gauges"]}
    assert gauges["consul.state.nodes"] == 2
    now = (await api.get("/v1/agent/metrics")).json()
    assert [g["Name"] for g in now["Gauges"]] == [g["Name"] for g in summary["Gauges"]]


async def test_the_stream_ends_when_the_agent_shuts_down(http: aiohttp.ClientSession) -> None:
    """The default 10 s interval: nothing is written before the agent stops, and then the
    stream ends instead of waiting for the interval."""
    agent = DevAgent()
    await agent.start()
    try:
        async with http.get(agent.address + "/v1/agent/metrics/stream") as resp:
            assert resp.status == 200
            await agent.stop()
            assert await asyncio.wait_for(resp.content.read(), 30) == b""
    finally:
        await agent.stop()


async def test_agent_read_is_required(acl: ACLApi) -> None:
    """AgentMetricsStream: AgentReadAllowed(NodeName) before the first byte."""
    denied = await acl.call("GET", "/v1/agent/metrics/stream", token=None)
    assert denied.status == 403
    assert denied.text.startswith(
        "Permission denied: anonymous token lacks permission 'agent:read' on "
        '"aioconsul-dev". The anonymous token is used implicitly')
    policy = await acl.policy("agent-read", 'agent_prefix "" { policy = "read" }')
    token = (await acl.token(Policies=[{"ID": policy["ID"]}]))["SecretID"]
    fast(acl.agent)
    async with stream(acl, {"X-Consul-Token": token}) as resp:
        assert resp.status == 200
        _, summary = await document(resp)
    assert STAMP.fullmatch(summary["Timestamp"])
