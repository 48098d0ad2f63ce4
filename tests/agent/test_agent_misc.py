"""The rest of /v1/agent: members, join/leave/force-leave, token, metrics, host, version
(agent/agent_endpoint.go)."""

from __future__ import annotations

from .conftest import Api

NODE = "aioconsul-dev"


async def test_members_lists_this_agent_as_an_alive_serf_member(api: Api) -> None:
    (member,) = (await api.get("/v1/agent/members")).json()
    assert (member["Name"], member["Addr"], member["Port"], member["Status"]) == (
        NODE,
        "127.0.0.1",
        8301,
        1,
    )
    assert member["Tags"]["role"] == "consul" and member["Tags"]["dc"] == "dc1"


async def test_wan_members_are_named_node_dot_datacenter(api: Api) -> None:
    (member,) = (await api.get("/v1/agent/members?wan=1")).json()
    assert (member["Name"], member["Port"]) == (f"{NODE}.dc1", 8302)


async def test_members_filter(api: Api) -> None:
    reply = await api.get("/v1/agent/members?filter=Name%20%3D%3D%20other")
    assert reply.json() == []


async def test_segment_with_wan_is_refused(api: Api) -> None:
    reply = await api.get("/v1/agent/members?wan=1&segment=alpha")
    assert (reply.status, reply.text) == (400, "Cannot provide a segment with wan=true")


async def test_join_is_accepted(api: Api) -> None:
    reply = await api.put("/v1/agent/join/127.0.0.1")
    assert (reply.status, reply.text) == (200, "")


async def test_force_leave_of_an_unknown_node_is_refused(api: Api) -> None:
    """Server.removeFailedNode (agent/consul/server_ce.go): "agent: No node found with name"
    for a name in no serf pool (more in test_fidelity.py)."""
    assert (await api.put("/v1/agent/force-leave/ghost")).status == 500
    assert (await api.put(f"/v1/agent/force-leave/{NODE}")).status == 200


async def test_leave_answers_200_and_stops_the_agent(api: Api) -> None:
    """AgentLeave: Agent.Leave, then ShutdownAgent (more in test_fidelity.py)."""
    assert (await api.put("/v1/agent/leave")).status == 200
    await api.agent.wait_stopped()
    assert not api.agent.running


async def test_token_update_with_acls_disabled_is_a_401(api: Api) -> None:
    reply = await api.put("/v1/agent/token/default", '{"Token": "x"}')
    assert (reply.status, reply.text) == (401, "ACL support disabled")


async def test_metrics_has_the_in_memory_sink_shape(api: Api) -> None:
    body = (await api.get("/v1/agent/metrics")).json()
    assert list(body) == ["Timestamp", "Gauges", "Points", "Counters", "Samples"]
    assert all(set(g) >= {"Name", "Value", "Labels"} for g in body["Gauges"])


async def test_prometheus_metrics_without_retention_is_an_empty_reply_with_a_reason(
    api: Api,
) -> None:
    """AgentMetrics returns CodeWithPayloadError{415} without a payload; HTTPHandlers.wrap
    adds X-Consul-Reason and returns before writing the status (nil object): Go sends 200."""
    reply = await api.get("/v1/agent/metrics?format=prometheus")
    assert (reply.status, reply.body) == (200, b"")
    assert reply.headers["X-Consul-Reason"] == (
        "Prometheus is not enabled since its retention time is not positive"
    )


async def test_version_has_the_build_info_fields(api: Api) -> None:
    body = (await api.get("/v1/agent/version")).json()
    assert list(body) == ["SHA", "BuildDate", "HumanVersion", "FIPS"]


async def test_host_has_the_host_info_sections(api: Api) -> None:
    body = (await api.get("/v1/agent/host")).json()
    assert {"Memory", "CPU", "Host", "Disk", "CollectionTime", "Errors"} <= set(body)


async def test_self_counts_the_agents_services_and_checks(api: Api) -> None:
    await api.put("/v1/agent/service/register", '{"Name": "web", "Check": {"TTL": "10s"}}')
    stats = (await api.get("/v1/agent/self")).json()["Stats"]["agent"]
    assert (stats["services"], stats["checks"], stats["check_ttls"]) == ("1", "1", "1")
