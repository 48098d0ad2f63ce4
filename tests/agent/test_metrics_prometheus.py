"""``/v1/agent/metrics`` in Prometheus' format (agent/agent_endpoint.go AgentMetrics,
enablePrometheusOutput; lib/telemetry.go adds the Prometheus sink when
``telemetry.prometheus_retention_time`` is set)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import aiohttp
import pytest

from aioconsul.testing import DevAgent

from .conftest import Api


@pytest.fixture
async def prom(http: aiohttp.ClientSession) -> AsyncIterator[Api]:
    async with DevAgent(prometheus_retention_time=60.0) as agent:
        yield Api(http, agent)


def _samples(text: str) -> dict[str, float]:
    return {line.split(" ")[0]: float(line.split(" ")[1])
            for line in text.splitlines() if line and not line.startswith("#")}


async def test_format_prometheus_answers_the_text_exposition(prom: Api) -> None:
    """promhttp.HandlerFor: text format 0.0.4, one HELP/TYPE pair per family."""
    reply = await prom.get("/v1/agent/metrics?format=prometheus")
    assert reply.status == 200
    assert reply.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert "X-Consul-Reason" not in reply.headers
    lines = reply.text.splitlines()
    assert lines[:3] == ["# HELP consul_raft_applied_index Represents the raft applied index.",
                         "# TYPE consul_raft_applied_index gauge",
                         f"consul_raft_applied_index {prom.agent.backend.store.raft_index}"]
    assert "# TYPE consul_state_nodes gauge" in lines
    assert reply.text.endswith("\n")


async def test_the_text_holds_the_metrics_the_json_shows(prom: Api) -> None:
    """The same sink behind both: each JSON gauge under its flattened name."""
    register = {"Node": "n2", "Address": "10.0.0.2", "Service": {"Service": "web"}}
    assert (await prom.put("/v1/catalog/register", json.dumps(register))).status == 200
    gauges = (await prom.get("/v1/agent/metrics")).json()["Gauges"]
    samples = _samples((await prom.get("/v1/agent/metrics?format=prometheus")).text)
    assert samples == {g["Name"].replace(".", "_"): g["Value"] for g in gauges}
    assert samples["consul_state_nodes"] == 2
    assert samples["consul_state_services"] == 2  # consul and web


@pytest.mark.parametrize("accept", [
    "application/openmetrics-text; version=1.0.0; charset=utf-8",
    "text/plain;version=0.4.0",
    "application/json, application/openmetrics-text",
])
async def test_a_prometheus_accept_header_asks_for_the_text(prom: Api, accept: str) -> None:
    """acceptsOpenMetricsMimeType; the answer is text 0.0.4 all the same (Consul does not
    enable OpenMetrics in promhttp)."""
    reply = await prom.get("/v1/agent/metrics", headers={"Accept": accept})
    assert reply.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert reply.text.startswith("# HELP ")


@pytest.mark.parametrize("accept", ["text/plain", "text/plain; version=0.0.4", "*/*"])
async def test_other_accept_headers_get_the_json(prom: Api, accept: str) -> None:
    """Only ``version=0.4.0`` (as Consul spells it) makes text/plain a Prometheus request."""
    reply = await prom.get("/v1/agent/metrics", headers={"Accept": accept})
    assert "Gauges" in reply.json()


async def test_format_must_be_exactly_prometheus(prom: Api) -> None:
    assert "Gauges" in (await prom.get("/v1/agent/metrics?format=Prometheus")).json()


async def test_a_dev_agent_without_retention_still_answers_the_reason(api: Api) -> None:
    reply = await api.get("/v1/agent/metrics?format=prometheus")
    assert (reply.status, reply.body) == (200, b"")
    assert reply.headers["X-Consul-Reason"] == (
        "Prometheus is not enabled since its retention time is not positive")


async def test_the_cli_flags_reach_the_agent(http: aiohttp.ClientSession) -> None:
    """--prometheus-retention-time (telemetry.prometheus_retention_time, a Go duration),
    --default-intention-policy and --node-id."""
    from aioconsul.testing import __main__ as cli

    node_id = "0B5B5BB4-8E2D-4C49-A25C-9E1A66E3A3B0"
    args = cli._parser().parse_args(["--http-port", "0", "--prometheus-retention-time", "1m",
                                     "--default-intention-policy", "deny",
                                     "--node-id", node_id])
    async with cli._agent(args) as agent:
        api = Api(http, agent)
        config = (await api.get("/v1/agent/self")).json()["Config"]
        assert config["NodeID"] == node_id.lower()  # setupNodeID lowercases it
        reply = await api.get("/v1/agent/metrics?format=prometheus")
        assert reply.text.startswith("# HELP consul_raft_applied_index ")
        debug = (await api.get("/v1/agent/self")).json()["DebugConfig"]
        assert debug["DefaultIntentionPolicy"] == "deny"
    assert cli._parser().parse_args([]).prometheus_retention_time == 0.0


@pytest.mark.parametrize("node_id", ["x", "0b5b5bb48e2d4c49a25c9e1a66e3a3b0",
                                     "0b5b5bb4-8e2d-4c49-a25c-9e1a66e3a3bz"])
def test_a_node_id_must_be_a_uuid(node_id: str) -> None:
    with pytest.raises(ValueError, match="node_id must be a UUID"):
        DevAgent(node_id=node_id)
