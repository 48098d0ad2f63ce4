"""Agent services and checks: agent/agent_endpoint.go, agent/agent.go, agent/local/state.go
(registration, sidecars, hash-based blocking, local health, maintenance, TTL updates)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from .conftest import Api

NODE = "aioconsul-dev"


async def register(api: Api, query: str = "", **body: Any) -> None:
    reply = await api.put("/v1/agent/service/register" + query, json.dumps(body))
    assert (reply.status, reply.text) == (200, "")


async def register_check(api: Api, **body: Any) -> None:
    reply = await api.put("/v1/agent/check/register", json.dumps(body))
    assert (reply.status, reply.text) == (200, "")


async def agent_check(api: Api, check_id: str) -> dict[str, Any]:
    checks: dict[str, Any] = (await api.get("/v1/agent/checks")).json()
    return checks[check_id]  # type: ignore[no-any-return]


async def test_register_defaults_id_to_name_and_weights_to_one(api: Api) -> None:
    await register(api, Name="web", Port=80)
    services = (await api.get("/v1/agent/services")).json()
    assert services == {
        "web": {
            "ID": "web",
            "Service": "web",
            "Tags": [],
            "Meta": {},
            "Port": 80,
            "Address": "",
            "Weights": {"Passing": 1, "Warning": 1},
            "EnableTagOverride": False,
            "Datacenter": "dc1",
        }
    }


async def test_registered_service_is_in_the_catalog_at_once(api: Api) -> None:
    """Anti-entropy syncs right away here (State.SyncChanges on every change)."""
    await register(api, Name="web", ID="web-1", Port=80, Tags=["v1"])
    (entry,) = (await api.get("/v1/catalog/service/web")).json()
    assert (entry["Node"], entry["ServiceID"], entry["ServiceTags"]) == (NODE, "web-1", ["v1"])


async def test_register_accepts_snake_case_keys(api: Api) -> None:
    """decodeBody + lib.TranslateKeys: snake_case aliases of the CamelCase fields."""
    await register(
        api,
        name="web",
        enable_tag_override=True,
        tagged_addresses={"lan": {"address": "10.0.0.1", "port": 80}},
    )
    service = (await api.get("/v1/agent/service/web")).json()
    assert service["EnableTagOverride"] is True
    assert service["TaggedAddresses"]["lan"] == {"Address": "10.0.0.1", "Port": 80}


async def test_register_without_name_is_refused(api: Api) -> None:
    reply = await api.put("/v1/agent/service/register", json.dumps({"Port": 80}))
    assert (reply.status, reply.text) == (400, "Missing service name")


async def test_register_with_invalid_weights_is_refused(api: Api) -> None:
    body = {"Name": "web", "Weights": {"Passing": 0, "Warning": 1}}
    reply = await api.put("/v1/agent/service/register", json.dumps(body))
    assert (reply.status, reply.text) == (400, "Invalid Weights: Passing must be greater than 0")


async def test_register_with_an_invalid_check_is_refused(api: Api) -> None:
    body = {"Name": "web", "Check": {"HTTP": "http://127.0.0.1/"}}
    reply = await api.put("/v1/agent/service/register", json.dumps(body))
    assert reply.status == 400
    assert reply.text == (
        "Invalid check: Interval must be > 0 for Script, HTTP, H2PING, TCP, UDP or OSService checks"
    )


async def test_register_only_accepts_put(api: Api) -> None:
    reply = await api.get("/v1/agent/service/register")
    assert (reply.status, reply.headers["Allow"]) == (405, "OPTIONS,PUT")


async def test_service_check_gets_the_service_check_id_and_is_critical(api: Api) -> None:
    """Agent.addServiceInternal: CheckID ``service:<id>``; no Status means critical."""
    await register(api, Name="web", Check={"TTL": "10s"})
    check = await agent_check(api, "service:web")
    assert (check["Status"], check["ServiceID"], check["Type"]) == ("critical", "web", "ttl")
    assert check["Name"] == "Service 'web' check"


async def test_several_checks_are_numbered(api: Api) -> None:
    await register(api, Name="web", Checks=[{"TTL": "10s"}, {"TTL": "10s", "Status": "passing"}])
    checks = (await api.get("/v1/agent/checks")).json()
    assert {k: v["Status"] for k, v in checks.items()} == {
        "service:web:1": "critical",
        "service:web:2": "passing",
    }


async def test_sidecar_service_is_registered_with_a_port_from_21000(api: Api) -> None:
    await register(api, Name="web", Port=80, Connect={"SidecarService": {}})
    await register(api, Name="db", Port=5432, Connect={"SidecarService": {}})
    services = (await api.get("/v1/agent/services")).json()
    sidecar = services["web-sidecar-proxy"]
    assert (sidecar["Kind"], sidecar["Service"], sidecar["Port"]) == (
        "connect-proxy",
        "web-sidecar-proxy",
        21000,
    )
    assert sidecar["Proxy"]["DestinationServiceName"] == "web"
    assert sidecar["Proxy"]["LocalServicePort"] == 80
    assert services["db-sidecar-proxy"]["Port"] == 21001


async def test_replace_existing_checks_drops_checks_not_in_the_new_definition(api: Api) -> None:
    await register(
        api, Name="web", Checks=[{"CheckID": "a", "TTL": "10s"}, {"CheckID": "b", "TTL": "10s"}]
    )
    await register(
        api, "?replace-existing-checks", Name="web", Check={"CheckID": "a", "TTL": "10s"}
    )
    assert list((await api.get("/v1/agent/checks")).json()) == ["a"]


async def test_services_filter(api: Api) -> None:
    await register(api, Name="web")
    await register(api, Name="db")
    found = (await api.get("/v1/agent/services?filter=Service%20%3D%3D%20%22db%22")).json()
    assert list(found) == ["db"]


async def test_malformed_filter_on_agent_services_is_a_500(api: Api) -> None:
    """AgentServices returns bexpr.CreateFilter's error untyped: HTTP 500."""
    reply = await api.get("/v1/agent/services?filter=%3D%3D")
    assert reply.status == 500
    assert reply.text.startswith("Failed to create boolean expression evaluator: ")


async def test_deregister_removes_the_service_from_agent_and_catalog(api: Api) -> None:
    await register(api, Name="web", Check={"TTL": "10s"})
    reply = await api.put("/v1/agent/service/deregister/web")
    assert reply.status == 200
    assert (await api.get("/v1/agent/services")).json() == {}
    assert (await api.get("/v1/agent/checks")).json() == {}
    assert (await api.get("/v1/catalog/service/web")).json() == []


async def test_deregister_of_an_unknown_service_is_a_404(api: Api) -> None:
    """vetServiceUpdateWithAuthorizer (agent/acl.go) answers 404 even with ACLs disabled."""
    reply = await api.put("/v1/agent/service/deregister/nope")
    assert reply.status == 404
    assert reply.text == (
        'Unknown service ID "nope". Ensure that the service ID is passed, not the service name.'
    )


async def test_service_of_an_unknown_id_is_a_404(api: Api) -> None:
    reply = await api.get("/v1/agent/service/nope")
    assert (reply.status, reply.text) == (404, "unknown service ID: nope")


async def test_service_carries_its_content_hash(api: Api) -> None:
    await register(api, Name="web")
    reply = await api.get("/v1/agent/service/web")
    assert reply.json()["ContentHash"] == reply.headers["X-Consul-ContentHash"]


async def test_service_hash_blocking_wakes_on_a_change(api: Api) -> None:
    """AgentService: hash-based blocking on the local service's watch channel."""
    await register(api, Name="web", Port=80)
    content_hash = (await api.get("/v1/agent/service/web")).headers["X-Consul-ContentHash"]
    waiter = asyncio.ensure_future(api.get(f"/v1/agent/service/web?hash={content_hash}&wait=5s"))
    await asyncio.sleep(0.05)
    assert not waiter.done()
    await register(api, Name="web", Port=81)
    reply = await asyncio.wait_for(waiter, 2)
    assert reply.json()["Port"] == 81
    assert reply.headers["X-Consul-ContentHash"] != content_hash


async def test_service_hash_blocking_times_out_with_the_same_hash(api: Api) -> None:
    await register(api, Name="web")
    content_hash = (await api.get("/v1/agent/service/web")).headers["X-Consul-ContentHash"]
    reply = await api.get(f"/v1/agent/service/web?hash={content_hash}&wait=50ms")
    assert reply.headers["X-Consul-ContentHash"] == content_hash


@pytest.mark.parametrize(
    ("status", "code"), [("passing", 200), ("warning", 429), ("critical", 503)]
)
async def test_local_health_by_id_maps_status_to_code(api: Api, status: str, code: int) -> None:
    await register(api, Name="web", Check={"TTL": "10s", "Status": status})
    reply = await api.get("/v1/agent/health/service/id/web")
    assert (reply.status, reply.headers["X-Consul-Reason"]) == (code, status)
    body = reply.json()
    assert body["AggregatedStatus"] == status and body["Service"]["ID"] == "web"


async def test_local_health_by_id_as_text(api: Api) -> None:
    await register(api, Name="web", Check={"TTL": "10s", "Status": "warning"})
    reply = await api.get("/v1/agent/health/service/id/web?format=text")
    assert (reply.status, reply.text) == (429, "warning")


async def test_local_health_of_an_unknown_id_is_a_404(api: Api) -> None:
    reply = await api.get("/v1/agent/health/service/id/nope?format=text")
    assert (reply.status, reply.text) == (404, "ServiceId nope not found")


async def test_local_health_by_name_reports_the_worst_instance(api: Api) -> None:
    await register(api, Name="web", ID="w1", Check={"TTL": "10s", "Status": "passing"})
    await register(api, Name="web", ID="w2", Check={"TTL": "10s", "Status": "critical"})
    reply = await api.get("/v1/agent/health/service/name/web")
    assert reply.status == 503
    assert sorted(e["AggregatedStatus"] for e in reply.json()) == ["critical", "passing"]


async def test_local_health_in_maintenance_is_maintenance(api: Api) -> None:
    """api.HealthChecks.AggregatedStatus: maintenance outranks every status (HTTP 503)."""
    await register(api, Name="web", Check={"TTL": "10s", "Status": "passing"})
    await api.put("/v1/agent/service/maintenance/web?enable=true")
    reply = await api.get("/v1/agent/health/service/id/web?format=text")
    assert (reply.status, reply.text) == (503, "maintenance")


async def test_service_maintenance_adds_and_removes_a_critical_check(api: Api) -> None:
    await register(api, Name="web")
    reply = await api.put("/v1/agent/service/maintenance/web?enable=true&reason=deploy")
    assert reply.status == 200
    check = await agent_check(api, "_service_maintenance:web")
    assert (check["Status"], check["Notes"], check["ServiceID"]) == ("critical", "deploy", "web")
    await api.put("/v1/agent/service/maintenance/web?enable=false")
    assert (await api.get("/v1/agent/checks")).json() == {}


async def test_service_maintenance_needs_enable(api: Api) -> None:
    await register(api, Name="web")
    reply = await api.put("/v1/agent/service/maintenance/web")
    assert (reply.status, reply.text) == (400, "Missing value for enable")


async def test_node_maintenance_needs_enable(api: Api) -> None:
    reply = await api.put("/v1/agent/maintenance")
    assert (reply.status, reply.text) == (400, "Missing value for enable")


async def test_node_maintenance_without_reason_uses_consuls_default(api: Api) -> None:
    await api.put("/v1/agent/maintenance?enable=true")
    check = await agent_check(api, "_node_maintenance")
    assert check["Notes"] == (
        "Maintenance mode is enabled for this node, but no reason was provided. "
        "This is a default message."
    )
    await api.put("/v1/agent/maintenance?enable=false")
    assert (await api.get("/v1/agent/checks")).json() == {}


async def test_ttl_check_pass_warn_fail_set_status_and_note(api: Api) -> None:
    await register_check(api, Name="job", TTL="10s")
    for verb, status in (("pass", "passing"), ("warn", "warning"), ("fail", "critical")):
        reply = await api.put(f"/v1/agent/check/{verb}/job?note=by-{verb}")
        assert reply.status == 200
        check = await agent_check(api, "job")
        assert (check["Status"], check["Output"]) == (status, f"by-{verb}")


async def test_ttl_check_update_takes_status_and_output(api: Api) -> None:
    await register_check(api, Name="job", TTL="10s")
    body = json.dumps({"Status": "warning", "Output": "slow"})
    assert (await api.put("/v1/agent/check/update/job", body)).status == 200
    check = await agent_check(api, "job")
    assert (check["Status"], check["Output"]) == ("warning", "slow")
    (catalog_check,) = (await api.get("/v1/health/state/warning")).json()
    assert (catalog_check["CheckID"], catalog_check["Output"]) == ("job", "slow")


async def test_check_update_with_a_bad_status_is_refused(api: Api) -> None:
    await register_check(api, Name="job", TTL="10s")
    reply = await api.put("/v1/agent/check/update/job", json.dumps({"Status": "bogus"}))
    assert (reply.status, reply.text) == (400, "Invalid check status: 'bogus'")


async def test_pass_on_a_check_without_ttl_is_refused(api: Api) -> None:
    await register_check(api, Name="alias", AliasNode=NODE)
    reply = await api.put("/v1/agent/check/pass/alias")
    assert (reply.status, reply.text) == (500, 'CheckID "alias" does not have associated TTL')


async def test_pass_on_an_unknown_check_is_a_404(api: Api) -> None:
    reply = await api.put("/v1/agent/check/pass/nope")
    assert reply.status == 404
    assert reply.text == (
        'Unknown check ID "nope". Ensure that the check ID is passed, not the check name.'
    )


async def test_check_for_an_unknown_service_is_a_404(api: Api) -> None:
    body = json.dumps({"Name": "c", "TTL": "10s", "ServiceID": "nope"})
    reply = await api.put("/v1/agent/check/register", body)
    assert (reply.status, reply.text) == (404, 'ServiceID "nope" does not exist')


async def test_check_without_name_is_refused(api: Api) -> None:
    reply = await api.put("/v1/agent/check/register", json.dumps({"TTL": "10s"}))
    assert (reply.status, reply.text) == (400, "Missing check name")


async def test_check_deregister_removes_it_from_the_catalog(api: Api) -> None:
    await register_check(api, Name="job", TTL="10s")
    assert (await api.put("/v1/agent/check/deregister/job")).status == 200
    assert [c["CheckID"] for c in (await api.get(f"/v1/health/node/{NODE}")).json()] == [
        "serfHealth"
    ]


async def test_checks_filter(api: Api) -> None:
    await register_check(api, Name="a", TTL="10s", Status="passing")
    await register_check(api, Name="b", TTL="10s")
    found = (await api.get("/v1/agent/checks?filter=Status%20%3D%3D%20critical")).json()
    assert list(found) == ["b"]


async def test_reload_in_dev_mode_drops_api_registrations(api: Api) -> None:
    """Agent.reloadConfigInternal unloads every service and check, then loads the config's
    and the persisted ones; a dev agent has no data directory, so nothing comes back."""
    await register(api, Name="web")
    assert (await api.put("/v1/agent/reload")).status == 200
    assert (await api.get("/v1/agent/services")).json() == {}
