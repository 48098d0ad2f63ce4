"""Health: agent/health_endpoint.go and agent/consul/health_endpoint.go (``passing`` counts node
checks too, nil Checks and Tags become ``[]``, ``/v1/health/state/:state``)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from .conftest import Api

NODE = "aioconsul-dev"


async def register(api: Api, **body: Any) -> None:
    body.setdefault("Node", "node-a")
    body.setdefault("Address", "10.0.0.1")
    reply = await api.put("/v1/catalog/register", json.dumps(body))
    assert (reply.status, reply.text) == (200, "true")


async def test_service_entry_has_node_service_and_checks(api: Api) -> None:
    await register(
        api,
        Service={"Service": "web", "Port": 80},
        Check={"CheckID": "web-ok", "ServiceID": "web", "Status": "passing"},
    )
    (entry,) = (await api.get("/v1/health/service/web")).json()
    assert list(entry) == ["Node", "Service", "Checks"]
    assert entry["Node"]["Node"] == "node-a"
    assert entry["Service"]["ID"] == "web" and entry["Service"]["Tags"] == []
    assert [c["CheckID"] for c in entry["Checks"]] == ["web-ok"]


async def test_service_without_checks_has_an_empty_checks_list(api: Api) -> None:
    """HealthServiceNodes: "Use empty list instead of nil"."""
    await register(api, Service={"Service": "web"})
    (entry,) = (await api.get("/v1/health/service/web")).json()
    assert entry["Checks"] == []


async def test_passing_excludes_a_node_whose_node_check_fails(api: Api) -> None:
    """filterNonPassing looks at every check of the entry, node checks included."""
    await register(api, Service={"Service": "web"}, Check={"CheckID": "disk", "Status": "critical"})
    await register(api, Node="node-b", Service={"Service": "web"})
    healthy = (await api.get("/v1/health/service/web?passing")).json()
    assert [e["Node"]["Node"] for e in healthy] == ["node-b"]


async def test_passing_keeps_warning_out(api: Api) -> None:
    await register(
        api,
        Service={"Service": "web"},
        Check={"CheckID": "slow", "ServiceID": "web", "Status": "warning"},
    )
    assert (await api.get("/v1/health/service/web?passing=true")).json() == []
    assert len((await api.get("/v1/health/service/web?passing=false")).json()) == 1


async def test_tag_filters_service_entries(api: Api) -> None:
    await register(api, Service={"ID": "a", "Service": "web", "Tags": ["v1"]})
    await register(api, Service={"ID": "b", "Service": "web", "Tags": ["v2"]})
    found = (await api.get("/v1/health/service/web?tag=v2")).json()
    assert [e["Service"]["ID"] for e in found] == ["b"]


async def test_filter_applies_to_service_entries(api: Api) -> None:
    await register(api, Service={"ID": "a", "Service": "web", "Port": 80})
    await register(api, Service={"ID": "b", "Service": "web", "Port": 81})
    found = (await api.get("/v1/health/service/web?filter=Service.Port%20%3D%3D%2081")).json()
    assert [e["Service"]["ID"] for e in found] == ["b"]


async def test_node_checks_of_an_unknown_node_is_an_empty_list(api: Api) -> None:
    reply = await api.get("/v1/health/node/nope")
    assert (reply.status, reply.json()) == (200, [])


async def test_service_checks_lists_only_that_services_checks(api: Api) -> None:
    await register(
        api,
        Service={"Service": "web"},
        Checks=[
            {"CheckID": "web-ok", "ServiceID": "web", "Status": "passing"},
            {"CheckID": "disk", "Status": "passing"},
        ],
    )
    checks = (await api.get("/v1/health/checks/web")).json()
    assert [c["CheckID"] for c in checks] == ["web-ok"]


async def test_state_any_lists_every_check(api: Api) -> None:
    await register(api, Check={"CheckID": "disk", "Status": "critical"})
    checks = (await api.get("/v1/health/state/any")).json()
    assert sorted(c["CheckID"] for c in checks) == ["disk", "serfHealth"]


async def test_state_critical_lists_critical_checks(api: Api) -> None:
    await register(api, Check={"CheckID": "disk", "Status": "critical"})
    checks = (await api.get("/v1/health/state/critical")).json()
    assert [c["CheckID"] for c in checks] == ["disk"]


async def test_unknown_state_matches_no_check(api: Api) -> None:
    """state.ChecksInState compares the status as given: nothing has status "bogus"."""
    reply = await api.get("/v1/health/state/bogus")
    assert (reply.status, reply.json()) == (200, [])


async def test_missing_state_is_a_400(api: Api) -> None:
    reply = await api.get("/v1/health/state/")
    assert (reply.status, reply.text) == (400, "Missing check state")


async def test_checks_registered_without_status_are_critical(api: Api) -> None:
    """structs.HealthCheck from a RegisterRequest: Catalog.Register defaults to critical."""
    await register(api, Check={"CheckID": "disk"})
    (check,) = (await api.get("/v1/health/node/node-a")).json()
    assert check["Status"] == "critical"


async def test_node_maintenance_makes_local_services_unhealthy(api: Api) -> None:
    await api.put("/v1/agent/service/register", json.dumps({"Name": "web"}))
    assert len((await api.get("/v1/health/service/web?passing")).json()) == 1
    reply = await api.put("/v1/agent/maintenance?enable=true&reason=patching")
    assert reply.status == 200
    assert (await api.get("/v1/health/service/web?passing")).json() == []
    (check,) = (await api.get("/v1/health/state/critical")).json()
    assert (check["CheckID"], check["Notes"]) == ("_node_maintenance", "patching")


async def test_blocking_health_service_wakes_on_a_check_change(api: Api) -> None:
    await register(
        api,
        Service={"Service": "web"},
        Check={"CheckID": "c", "ServiceID": "web", "Status": "passing"},
    )
    index = (await api.get("/v1/health/service/web")).index
    waiter = asyncio.ensure_future(api.get(f"/v1/health/service/web?index={index}&wait=5s"))
    await asyncio.sleep(0.05)
    assert not waiter.done()
    await register(
        api,
        Service={"Service": "web"},
        Check={"CheckID": "c", "ServiceID": "web", "Status": "critical"},
    )
    reply = await asyncio.wait_for(waiter, 2)
    assert reply.json()[0]["Checks"][0]["Status"] == "critical"


async def test_connect_health_lists_sidecar_proxies(api: Api) -> None:
    await api.put(
        "/v1/agent/service/register",
        json.dumps({"Name": "web", "Port": 80, "Connect": {"SidecarService": {}}}),
    )
    found = (await api.get("/v1/health/connect/web")).json()
    assert [e["Service"]["ID"] for e in found] == ["web-sidecar-proxy"]


async def test_ingress_health_of_an_unknown_service_is_empty(api: Api) -> None:
    reply = await api.get("/v1/health/ingress/web")
    assert (reply.status, reply.json()) == (200, [])
