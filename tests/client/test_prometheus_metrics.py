"""``client.agent.prometheus_metrics()``: ``GET /v1/agent/metrics?format=prometheus``."""

from __future__ import annotations

import pytest

from aioconsul import Consul, ResponseError
from aioconsul.testing import DevAgent


async def test_the_metrics_in_prometheus_text() -> None:
    async with DevAgent(prometheus_retention_time=60.0) as agent, \
            Consul(agent.address) as client:
        text = await client.agent.prometheus_metrics()
        gauges = (await client.agent.metrics())["Gauges"]
    assert isinstance(text, str)
    assert "# TYPE consul_state_nodes gauge\nconsul_state_nodes 1\n" in text
    names = {line.split(" ")[0] for line in text.splitlines() if not line.startswith("#")}
    assert names == {g["Name"].replace(".", "_") for g in gauges}


async def test_an_agent_without_prometheus_is_a_response_error(consul: Consul) -> None:
    """AgentMetrics' CodeWithPayloadError{415} reaches the wire as an empty 200."""
    with pytest.raises(ResponseError, match="Prometheus is not enabled since its retention "
                                            "time is not positive") as info:
        await consul.agent.prometheus_metrics()
    assert info.value.status is None
    assert "GET /v1/agent/metrics" in str(info.value)
