"""Status endpoints (agent/status_endpoint.go) and /v1/agent/self (agent/agent_endpoint.go)."""

from __future__ import annotations

from .conftest import Api


async def test_leader_is_the_raft_address(api: Api) -> None:
    reply = await api.get("/v1/status/leader")
    assert (reply.status, reply.json()) == (200, "127.0.0.1:8300")
    assert "X-Consul-Index" not in reply.headers


async def test_peers_lists_the_single_server(api: Api) -> None:
    assert (await api.get("/v1/status/peers")).json() == ["127.0.0.1:8300"]


async def test_status_parses_query_options_like_other_reads(api: Api) -> None:
    reply = await api.get("/v1/status/leader?stale&consistent")
    assert reply.status == 400
    assert (await api.get("/v1/status/leader?dc=other")).status == 500


async def test_agent_self_describes_a_ce_server(api: Api) -> None:
    self_info = (await api.get("/v1/agent/self")).json()
    config = self_info["Config"]
    assert list(config) == [
        "Datacenter",
        "PrimaryDatacenter",
        "NodeName",
        "NodeID",
        "Revision",
        "Server",
        "Version",
        "BuildDate",
    ]
    assert (config["Datacenter"], config["NodeName"]) == ("dc1", "aioconsul-dev")
    assert config["NodeID"] == api.agent.node_id
    assert config["Server"] is True
    assert config["Version"].startswith("1.21.")
    member = self_info["Member"]
    assert (member["Name"], member["Status"], member["Tags"]["role"]) == (
        "aioconsul-dev",
        1,
        "consul",
    )
    assert set(self_info) >= {"Config", "DebugConfig", "Coord", "Member", "Stats", "Meta"}
    assert len(self_info["Coord"]["Vec"]) == 8
