"""``client.agent`` and its ``services`` and ``checks`` (website/content/api-docs/agent/*.mdx,
agent/agent_endpoint.go; ../shared/consul-api/semantics.md §7 hash blocking, §16 registration).

Two parts: what goes over the wire, against a small aiohttp.web app of the test's own (methods,
paths, parameters, bodies, the token's whereabouts, the health statuses that are data); then the
behaviour, through the client against the test's agent.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from fakeserver import FakeServer, Handler

import aioconsul
from aioconsul import Consul
from aioconsul.api.agent import Agent, AgentChecks, AgentServices

# -- The wire format -----------------------------------------------------------------------------

HASH = "4ecd29c7bc647ca8"


async def empty_ok(request: web.Request) -> web.Response:
    """What Consul answers to every agent write: 200 with an empty body."""
    return web.Response(status=200)


@pytest.fixture
async def wire(serve: Callable[..., Awaitable[FakeServer]],
               ) -> AsyncIterator[Callable[..., Awaitable[tuple[Consul, FakeServer]]]]:
    opened: list[Consul] = []

    async def start(handler: Handler = empty_ok, **options: Any) -> tuple[Consul, FakeServer]:
        recorder = await serve(handler)
        opened.append(Consul(recorder.address, **options))
        return opened[-1], recorder

    yield start
    for client in opened:
        await client.close()


WRITES = [
    (lambda c: c.agent.join("10.0.0.2:8301"), "/v1/agent/join/10.0.0.2%3A8301"),
    (lambda c: c.agent.join("10.0.0.2", wan=True), "/v1/agent/join/10.0.0.2?wan=1"),
    (lambda c: c.agent.leave(), "/v1/agent/leave"),
    (lambda c: c.agent.force_leave("node-1"), "/v1/agent/force-leave/node-1"),
    (lambda c: c.agent.force_leave({"Name": "node-1"}, prune=True, wan=True),
     "/v1/agent/force-leave/node-1?prune=1&wan=1"),
    (lambda c: c.agent.maintenance(True, reason="disk swap"),
     "/v1/agent/maintenance?enable=true&reason=disk%20swap"),
    (lambda c: c.agent.maintenance(False), "/v1/agent/maintenance?enable=false"),
    (lambda c: c.agent.reload(), "/v1/agent/reload"),
    (lambda c: c.agent.services.deregister("web/1"), "/v1/agent/service/deregister/web%2F1"),
    (lambda c: c.agent.services.deregister({"ID": "web"}), "/v1/agent/service/deregister/web"),
    (lambda c: c.agent.services.maintenance("web", True, reason="deploy"),
     "/v1/agent/service/maintenance/web?enable=true&reason=deploy"),
    (lambda c: c.agent.services.maintenance({"ServiceID": "web"}, False),
     "/v1/agent/service/maintenance/web?enable=false"),
    (lambda c: c.agent.checks.deregister("mem"), "/v1/agent/check/deregister/mem"),
    (lambda c: c.agent.checks.deregister({"CheckID": "service:web"}),
     "/v1/agent/check/deregister/service%3Aweb"),
    (lambda c: c.agent.checks.pass_("mem"), "/v1/agent/check/pass/mem"),
    (lambda c: c.agent.checks.pass_("mem", "all good"), "/v1/agent/check/pass/mem?note=all%20good"),
    (lambda c: c.agent.checks.warn("mem", "85%"), "/v1/agent/check/warn/mem?note=85%25"),
    (lambda c: c.agent.checks.fail("mem", ""), "/v1/agent/check/fail/mem?note"),
]


@pytest.mark.parametrize("call, target", WRITES)
async def test_every_write_is_a_put_to_its_path(wire, call, target: str) -> None:
    client, recorder = await wire()
    assert await call(client) is None
    assert recorder.calls == [("PUT", target, b"")]


async def test_service_register_sends_the_definition_as_json(wire) -> None:
    client, recorder = await wire()
    await client.agent.services.register(
        {"Name": "web", "Port": 1, "Tags": ["old"], "Proxy": {"Config": {"timeout": 5}},
         "Check": {"TTL": datetime.timedelta(seconds=30)}},
        id="web-1", port=8080, address="10.0.0.9", tags=["v2"], meta={"zone": "a"},
        checks=[{"HTTP": "http://10.0.0.9:8080/health", "Interval": "10s",
                 "DeregisterCriticalServiceAfter": datetime.timedelta(minutes=90)}],
        replace_existing_checks=True,
    )
    method, target, body = recorder.calls[-1]
    assert (method, target) == ("PUT", "/v1/agent/service/register?replace-existing-checks=true")
    assert json.loads(body) == {
        "Name": "web", "ID": "web-1", "Port": 8080, "Address": "10.0.0.9", "Tags": ["v2"],
        "Meta": {"zone": "a"}, "Proxy": {"Config": {"timeout": 5}}, "Check": {"TTL": "30s"},
        "Checks": [{"HTTP": "http://10.0.0.9:8080/health", "Interval": "10s",
                    "DeregisterCriticalServiceAfter": "1h30m"}],
    }


async def test_service_register_by_name_and_keyword_overrides_any_spelling(wire) -> None:
    client, recorder = await wire()
    await client.agent.services.register("web")
    await client.agent.services.register({"name": "web", "port": 1}, port=2)
    assert [json.loads(body) for _, _, body in recorder.calls] == [
        {"Name": "web"}, {"name": "web", "Port": 2}]
    assert recorder.calls[0][1] == "/v1/agent/service/register"


async def test_check_register_sends_the_definition_as_json(wire) -> None:
    client, recorder = await wire()
    await client.agent.checks.register(
        "mem", id="mem-1", service={"ID": "web"}, ttl=datetime.timedelta(minutes=1),
        notes="free memory", status="passing",
    )
    await client.agent.checks.register(
        {"Name": "api", "HTTP": "http://h/health", "Interval": datetime.timedelta(seconds=15)},
        timeout="2s", deregister_critical_service_after="1m",
    )
    assert [(method, target) for method, target, _ in recorder.calls] == [
        ("PUT", "/v1/agent/check/register")] * 2
    assert [json.loads(body) for _, _, body in recorder.calls] == [
        {"Name": "mem", "ID": "mem-1", "ServiceID": "web", "TTL": "1m", "Notes": "free memory",
         "Status": "passing"},
        {"Name": "api", "HTTP": "http://h/health", "Interval": "15s", "Timeout": "2s",
         "DeregisterCriticalServiceAfter": "1m"},
    ]


async def test_check_update_sends_status_and_output_as_json(wire) -> None:
    client, recorder = await wire()
    await client.agent.checks.update("mem", "warning", "85% used")
    await client.agent.checks.update({"CheckID": "mem"}, "passing")
    assert [(method, target) for method, target, _ in recorder.calls] == [
        ("PUT", "/v1/agent/check/update/mem")] * 2
    assert [json.loads(body) for _, _, body in recorder.calls] == [
        {"Status": "warning", "Output": "85% used"}, {"Status": "passing", "Output": ""}]


async def test_update_token_puts_the_token_in_the_body_only(
        wire, caplog: pytest.LogCaptureFixture) -> None:
    client, recorder = await wire()
    with caplog.at_level(logging.DEBUG, logger="aioconsul"):
        await client.agent.update_token("agent", "n3w-s3cr3t")
    method, target, body = recorder.calls[-1]
    assert (method, target) == ("PUT", "/v1/agent/token/agent")
    assert json.loads(body) == {"Token": "n3w-s3cr3t"}
    assert "n3w-s3cr3t" not in caplog.text
    assert "/v1/agent/token/agent" in caplog.text  # the request itself was logged


async def test_a_refused_token_update_never_shows_the_token(wire) -> None:
    async def denied(request: web.Request) -> web.Response:
        return web.Response(status=403, text="Permission denied: token lacks 'agent:write'")

    client, _ = await wire(denied, token="client-s3cr3t")
    with pytest.raises(aioconsul.PermissionDenied) as info:
        await client.agent.update_token("default", "n3w-s3cr3t")
    shown = f"{info.value} {info.value!r} {info.value.args}"
    assert "n3w-s3cr3t" not in shown and "client-s3cr3t" not in shown


async def test_service_get_blocks_on_the_content_hash(wire) -> None:
    async def service(request: web.Request) -> web.Response:
        return web.json_response({"ID": "web", "Service": "web", "ContentHash": HASH},
                                 headers={"X-Consul-ContentHash": HASH})

    client, recorder = await wire(service)
    first, meta = await client.agent.services.get("web")
    assert first is not None and meta["ContentHash"] == HASH
    await client.agent.services.get("web", watch=meta)
    await client.agent.services.get("web", watch=(meta, "30s"))
    await client.agent.services.get("web", watch=(first, datetime.timedelta(seconds=2)))
    assert [target for _, target, _ in recorder.calls] == [
        "/v1/agent/service/web",
        f"/v1/agent/service/web?hash={HASH}",
        f"/v1/agent/service/web?hash={HASH}&wait=30000ms",
        f"/v1/agent/service/web?hash={HASH}&wait=2000ms",
    ]
    assert {method for method, _, _ in recorder.calls} == {"GET"}


def _health(status: int, body: Any) -> Handler:
    async def answer(request: web.Request) -> web.Response:
        return web.json_response(body, status=status, headers={"X-Consul-Reason": "x"})
    return answer


@pytest.mark.parametrize("status, aggregated", [
    (200, "passing"), (429, "warning"), (503, "critical")])
async def test_health_by_id_reports_warning_and_critical_as_data(
        wire, status: int, aggregated: str) -> None:
    report = {"AggregatedStatus": aggregated, "Service": {"ID": "web"}, "Checks": []}
    client, recorder = await wire(_health(status, report))
    data, _ = await client.agent.services.health(id="web")
    assert data == report
    # One request: a report is an answer, never retried as a rate limit or an outage would be.
    assert [seen[:2] for seen in recorder.calls] == [("GET", "/v1/agent/health/service/id/web")]


@pytest.mark.parametrize("status", [200, 429, 503])
async def test_health_by_name_reports_every_instance(wire, status: int) -> None:
    reports = [{"AggregatedStatus": "passing", "Service": {"ID": "web-1"}, "Checks": []},
               {"AggregatedStatus": "warning", "Service": {"ID": "web-2"}, "Checks": []}]
    client, recorder = await wire(_health(status, reports))
    data, _ = await client.agent.services.health("web")
    assert data == reports
    assert recorder.calls[-1][:2] == ("GET", "/v1/agent/health/service/name/web")


async def test_health_of_an_unknown_service_is_none_or_empty(wire) -> None:
    missing = {"AggregatedStatus": "critical", "Service": None, "Checks": None}
    client, _ = await wire(_health(404, missing))
    assert (await client.agent.services.health(id="nope"))[0] is None
    client, _ = await wire(_health(404, []))
    assert (await client.agent.services.health("nope"))[0] == []


async def test_health_rate_limit_is_still_an_error(wire) -> None:
    """A 429 with Consul's rate-limit text (not a JSON report) stays a RateLimited error."""
    async def limited(request: web.Request) -> web.Response:
        return web.Response(status=429, text="rate limit exceeded, try again later")

    client, _ = await wire(limited)
    with pytest.raises(aioconsul.RateLimited):
        await client.agent.services.health(id="web")


async def test_reads_and_their_parameters(wire) -> None:
    async def answer(request: web.Request) -> web.Response:
        return web.json_response([] if request.path.endswith("members") else {})

    client, recorder = await wire(answer)
    await client.agent.members(wan=True, filter='Status == 1')
    await client.agent.members(segment="_all")
    await client.agent.services.items(filter='Service == "web"')
    await client.agent.checks.items(filter='Status == "critical"', namespace="team-a")
    for read in (client.agent.self, client.agent.metrics, client.agent.host,
                 client.agent.version):
        await read()
    assert [target for _, target, _ in recorder.calls] == [
        "/v1/agent/members?wan=1&filter=Status%20%3D%3D%201",
        "/v1/agent/members?segment=_all",
        "/v1/agent/services?filter=Service%20%3D%3D%20%22web%22",
        "/v1/agent/checks?filter=Status%20%3D%3D%20%22critical%22&ns=team-a",
        "/v1/agent/self", "/v1/agent/metrics", "/v1/agent/host", "/v1/agent/version",
    ]
    assert {method for method, _, _ in recorder.calls} == {"GET"}


# -- Input errors, refused before anything is sent -----------------------------------------------

BAD_CALLS = [
    (lambda a: a.maintenance("yes"), TypeError, "^enable: "),
    (lambda a: a.maintenance(True, reason=3), TypeError, "^reason: "),
    (lambda a: a.join(""), ValueError, "^address: "),
    (lambda a: a.join(("h", 1)), TypeError, "^address: "),
    (lambda a: a.force_leave(""), ValueError, "^node: "),
    (lambda a: a.force_leave({"ID": "x"}), ValueError, "^node: "),
    (lambda a: a.members(wan=True, segment="alpha"), ValueError, "^segment: "),
    (lambda a: a.members(filter=3), TypeError, "^filter: "),
    (lambda a: a.update_token("", "t"), ValueError, "^kind: "),
    (lambda a: a.update_token("agent/../x", "t"), ValueError, "^kind: "),
    (lambda a: a.update_token("agent", None), TypeError, "^secret: "),
    (lambda a: a.services.get(""), ValueError, "^service: "),
    (lambda a: a.services.get("web", watch=42), TypeError, "^watch: "),
    (lambda a: a.services.get("web", watch={"Index": 3}), ValueError, "^watch: "),
    (lambda a: a.services.get("web", watch=(HASH, "soon")), ValueError, "^watch wait: "),
    (lambda a: a.services.register({"Port": 80}), ValueError, "^service: "),
    (lambda a: a.services.register(["web"]), TypeError, "^service: "),
    (lambda a: a.services.register("web", port=70000), ValueError, "^port: "),
    (lambda a: a.services.register("web", port="80"), TypeError, "^port: "),
    (lambda a: a.services.register("web", tags=["v1", 2]), TypeError, "^tags: "),
    (lambda a: a.services.register("web", tags={"v1": 1}), TypeError, "^tags: "),
    (lambda a: a.services.register("web", meta={"k": 1}), TypeError, "^meta: "),
    (lambda a: a.services.register("web", check={"TTL": 30}), ValueError, r"^check\.TTL: "),
    (lambda a: a.services.register("web", checks={"TTL": "1m"}), TypeError, "^checks: "),
    (lambda a: a.services.register({"Name": "web", "Checks": [{"Interval": "1"}]}),
     ValueError, r"^service\.Checks\[0\]\.Interval: "),
    (lambda a: a.services.maintenance("web", "true"), TypeError, "^enable: "),
    (lambda a: a.services.health(), ValueError, "^name: "),
    (lambda a: a.services.health("web", id="web"), ValueError, "^name: "),
    (lambda a: a.services.health({"Port": 1}), ValueError, "^name: "),
    (lambda a: a.checks.register({"TTL": "1m"}), ValueError, "^check: "),
    (lambda a: a.checks.register("mem", ttl=30), ValueError, "^ttl: "),
    (lambda a: a.checks.register("mem", interval="10"), ValueError, "^interval: "),
    (lambda a: a.checks.register("mem", status="ok"), ValueError, "^status: "),
    (lambda a: a.checks.register("mem", service=""), ValueError, "^service: "),
    (lambda a: a.checks.register("mem", service={"Name": "web"}), ValueError, "^service: "),
    (lambda a: a.checks.pass_(""), ValueError, "^check: "),
    (lambda a: a.checks.warn("mem", note=5), TypeError, "^note: "),
    (lambda a: a.checks.update("mem", "ok"), ValueError, "^status: "),
    (lambda a: a.checks.update("mem", "pass"), ValueError, "^status: "),
    (lambda a: a.checks.update("mem", "passing", output=b"x"), TypeError, "^output: "),
    (lambda a: a.checks.deregister(None), TypeError, "^check: "),
]


@pytest.mark.parametrize("call, error, match", BAD_CALLS)
async def test_bad_arguments_are_refused_before_sending(
        unreachable: str, call: Any, error: type[Exception], match: str) -> None:
    async with Consul(unreachable) as client:
        with pytest.raises(error, match=match):
            await call(client.agent)


def test_agent_groups_hang_off_the_client() -> None:
    client = Consul("127.0.0.1:1")
    assert isinstance(client.agent, Agent)
    assert isinstance(client.agent.services, AgentServices)
    assert isinstance(client.agent.checks, AgentChecks)
    assert repr(client.agent.services) == "<AgentServices of http://127.0.0.1:1>"


# -- Against the agent ---------------------------------------------------------------------------


async def test_self_names_this_agent(consul: Consul) -> None:
    me = await consul.agent.self()
    config = me["Config"]
    assert config["NodeName"] and config["Datacenter"] and config["Version"]
    assert me["Member"]["Name"] == config["NodeName"]


async def test_members_include_this_agent_alive(consul: Consul) -> None:
    me = await consul.agent.self()
    members, _ = await consul.agent.members()
    mine = [m for m in members if m["Name"] == me["Config"]["NodeName"]]
    assert len(mine) == 1 and mine[0]["Status"] == 1


async def test_members_filter(consul: Consul) -> None:
    name = (await consul.agent.self())["Config"]["NodeName"]
    found, _ = await consul.agent.members(filter=f'Name == "{name}"')
    assert [m["Name"] for m in found] == [name]
    none, _ = await consul.agent.members(filter='Name == "no-such-node"')
    assert none == []


async def test_metrics_host_and_version(consul: Consul) -> None:
    metrics = await consul.agent.metrics()
    assert {"Timestamp", "Gauges", "Counters", "Samples"} <= set(metrics)
    host = await consul.agent.host()
    assert {"Memory", "Host"} <= set(host)
    version = await consul.agent.version()
    assert version["HumanVersion"]


async def test_reload(consul: Consul) -> None:
    assert await consul.agent.reload() is None


async def test_update_token_without_acls_is_permission_denied(consul: Consul) -> None:
    """A dev agent runs without ACLs: Consul answers 401 "ACL support disabled"."""
    with pytest.raises(aioconsul.PermissionDenied, match="ACL support disabled"):
        await consul.agent.update_token("agent", "6d7c0ad1-0000-4000-8000-000000000000")


async def test_node_maintenance_adds_and_removes_a_critical_check(consul: Consul) -> None:
    await consul.agent.maintenance(True, reason="kernel upgrade")
    checks, _ = await consul.agent.checks.items()
    check = checks["_node_maintenance"]
    assert check["Status"] == "critical" and check["Notes"] == "kernel upgrade"
    await consul.agent.maintenance(False)
    checks, _ = await consul.agent.checks.items()
    assert "_node_maintenance" not in checks


async def test_register_list_get_and_deregister_a_service(consul: Consul) -> None:
    await consul.agent.services.register(
        {"Name": "web", "Meta": {"version": "2"}, "Weights": {"Passing": 3, "Warning": 1}},
        id="web-1", port=8080, tags=["v2"],
    )
    services, _ = await consul.agent.services.items()
    assert services["web-1"]["Service"] == "web"
    assert services["web-1"]["Port"] == 8080
    assert services["web-1"]["Tags"] == ["v2"]
    service, meta = await consul.agent.services.get("web-1")
    assert service is not None
    assert (service["ID"], service["Meta"], service["Weights"]) == (
        "web-1", {"version": "2"}, {"Passing": 3, "Warning": 1})
    assert meta["ContentHash"] and service["ContentHash"] == meta["ContentHash"]
    await consul.agent.services.deregister(service)
    assert "web-1" not in (await consul.agent.services.items())[0]
    assert (await consul.agent.services.get("web-1"))[0] is None


async def test_deregistering_an_unknown_service_is_not_found(consul: Consul) -> None:
    """agent.go vetServiceUpdateWithAuthorizer: 'Unknown service ID ...' with 404."""
    with pytest.raises(aioconsul.NotFound, match="Unknown service ID"):
        await consul.agent.services.deregister("nope")


async def test_services_filter(consul: Consul) -> None:
    await consul.agent.services.register("web", port=80)
    await consul.agent.services.register("db", port=5432)
    found, _ = await consul.agent.services.items(filter='Service == "db"')
    assert list(found) == ["db"]


async def test_service_get_blocks_until_the_definition_changes(consul: Consul) -> None:
    await consul.agent.services.register("web", port=80)
    _, meta = await consul.agent.services.get("web")
    waiter = asyncio.create_task(consul.agent.services.get("web", watch=(meta, "10s")))
    await asyncio.sleep(0.1)
    assert not waiter.done()
    await consul.agent.services.register("web", port=81)
    service, new_meta = await asyncio.wait_for(waiter, 5)
    assert service is not None and service["Port"] == 81
    assert new_meta["ContentHash"] != meta["ContentHash"]


async def test_service_get_returns_after_the_wait_when_nothing_changes(consul: Consul) -> None:
    await consul.agent.services.register("web", port=80)
    service, meta = await consul.agent.services.get("web")
    started = asyncio.get_running_loop().time()
    again, same = await asyncio.wait_for(
        consul.agent.services.get("web", watch=(service, "200ms")), 5)
    assert asyncio.get_running_loop().time() - started >= 0.15
    assert again == service and same["ContentHash"] == meta["ContentHash"]


async def test_service_with_a_ttl_check_reports_its_health(consul: Consul) -> None:
    await consul.agent.services.register(
        "web", id="web-1", check={"CheckID": "web-1-ttl", "TTL": datetime.timedelta(minutes=1)})
    report, _ = await consul.agent.services.health(id="web-1")  # a new TTL check is critical
    assert report is not None and report["AggregatedStatus"] == "critical"  # sent as 503
    await consul.agent.checks.warn("web-1-ttl", "slow")
    report, _ = await consul.agent.services.health(id="web-1")
    assert report is not None and report["AggregatedStatus"] == "warning"  # sent as 429
    await consul.agent.checks.pass_("web-1-ttl")
    report, _ = await consul.agent.services.health(id={"ID": "web-1"})
    assert report is not None and report["AggregatedStatus"] == "passing"
    assert report["Service"]["ID"] == "web-1"
    assert [c["CheckID"] for c in report["Checks"]] == ["web-1-ttl"]


async def test_health_by_name_has_one_report_per_instance(consul: Consul) -> None:
    for instance in ("web-1", "web-2"):
        await consul.agent.services.register(
            "web", id=instance, check={"CheckID": f"{instance}-ttl", "TTL": "1m"})
    await consul.agent.checks.pass_("web-1-ttl")
    reports, _ = await consul.agent.services.health("web")
    assert {r["Service"]["ID"]: r["AggregatedStatus"] for r in reports} == {
        "web-1": "passing", "web-2": "critical"}


async def test_health_of_an_unknown_service(consul: Consul) -> None:
    assert (await consul.agent.services.health(id="nope"))[0] is None
    assert (await consul.agent.services.health("nope"))[0] == []


async def test_service_maintenance(consul: Consul) -> None:
    await consul.agent.services.register("web")
    await consul.agent.services.maintenance("web", True, reason="deploy")
    checks, _ = await consul.agent.checks.items()
    check = checks["_service_maintenance:web"]
    assert (check["Status"], check["Notes"], check["ServiceID"]) == ("critical", "deploy", "web")
    report, _ = await consul.agent.services.health(id="web")  # sent as 503
    assert report is not None and report["AggregatedStatus"] == "maintenance"
    await consul.agent.services.maintenance("web", False)
    assert "_service_maintenance:web" not in (await consul.agent.checks.items())[0]


async def test_maintenance_of_an_unknown_service_is_not_found(consul: Consul) -> None:
    with pytest.raises(aioconsul.NotFound):
        await consul.agent.services.maintenance("nope", True)


async def test_register_again_keeps_or_replaces_the_checks(consul: Consul) -> None:
    await consul.agent.services.register(
        "web", checks=[{"CheckID": "a", "TTL": "1m"}, {"CheckID": "b", "TTL": "1m"}])
    await consul.agent.services.register("web", checks=[{"CheckID": "a", "TTL": "1m"}])
    assert {"a", "b"} <= set((await consul.agent.checks.items())[0])
    await consul.agent.services.register("web", checks=[{"CheckID": "a", "TTL": "1m"}],
                                         replace_existing_checks=True)
    checks, _ = await consul.agent.checks.items()
    assert "a" in checks and "b" not in checks


async def test_deregistering_a_service_removes_its_checks(consul: Consul) -> None:
    await consul.agent.services.register("web", check={"CheckID": "web-ttl", "TTL": "1m"})
    await consul.agent.services.deregister("web")
    assert "web-ttl" not in (await consul.agent.checks.items())[0]


async def test_ttl_check_lifecycle(consul: Consul) -> None:
    await consul.agent.checks.register("mem", ttl="1m", notes="free memory")
    checks, _ = await consul.agent.checks.items()
    assert (checks["mem"]["Status"], checks["mem"]["Notes"]) == ("critical", "free memory")
    assert checks["mem"]["ServiceID"] == ""
    for report, note, status in ((consul.agent.checks.pass_, "ok", "passing"),
                                 (consul.agent.checks.warn, "85%", "warning"),
                                 (consul.agent.checks.fail, "oom", "critical")):
        await report("mem", note)
        check = (await consul.agent.checks.items())[0]["mem"]
        assert (check["Status"], check["Output"]) == (status, note)
    await consul.agent.checks.update({"CheckID": "mem"}, "warning", "90% used")
    check = (await consul.agent.checks.items())[0]["mem"]
    assert (check["Status"], check["Output"]) == ("warning", "90% used")
    await consul.agent.checks.deregister(check)
    assert "mem" not in (await consul.agent.checks.items())[0]


async def test_check_with_an_initial_status(consul: Consul) -> None:
    await consul.agent.checks.register({"Name": "disk", "ID": "disk-1", "TTL": "1m",
                                        "Status": "passing"})
    assert (await consul.agent.checks.items())[0]["disk-1"]["Status"] == "passing"


async def test_check_bound_to_a_service(consul: Consul) -> None:
    await consul.agent.services.register("web", id="web-1")
    service, _ = await consul.agent.services.get("web-1")
    await consul.agent.checks.register("web-ttl", service=service, ttl="1m")
    check = (await consul.agent.checks.items())[0]["web-ttl"]
    assert (check["ServiceID"], check["ServiceName"]) == ("web-1", "web")


async def test_check_for_an_unknown_service_is_not_found(consul: Consul) -> None:
    """ServiceID "nope" does not exist: Consul answers 404."""
    with pytest.raises(aioconsul.NotFound):
        await consul.agent.checks.register("x", service="nope", ttl="1m")


async def test_checks_filter(consul: Consul) -> None:
    await consul.agent.checks.register("a", ttl="1m", status="passing")
    await consul.agent.checks.register("b", ttl="1m")
    found, _ = await consul.agent.checks.items(filter='Status == "critical"')
    assert list(found) == ["b"]


async def test_an_unknown_check_is_not_found(consul: Consul) -> None:
    """agent.go vetCheckUpdateWithAuthorizer: 'Unknown check ID ...' with 404."""
    for call in (consul.agent.checks.pass_, consul.agent.checks.deregister):
        with pytest.raises(aioconsul.NotFound, match="Unknown check ID"):
            await call("nope")
    with pytest.raises(aioconsul.NotFound, match="Unknown check ID"):
        await consul.agent.checks.update("nope", "passing")


async def test_the_meta_of_a_missing_service_reads_at_once_as_watch(consul: Consul) -> None:
    """A 404 from /v1/agent/service/:id carries no X-Consul-ContentHash: there is no hash to
    block on, so passing its Meta back as watch= reads at once (no ValueError), like Go's
    agentServiceWatch that drops the hash after an error (issue 9, item 2)."""
    missing, meta = await consul.agent.services.get("web-sidecar-proxy")
    assert missing is None and "ContentHash" not in meta
    assert (await consul.agent.services.get("web-sidecar-proxy", watch=meta))[0] is None
    await consul.agent.services.register("web-sidecar-proxy", port=21000)
    service, found = await asyncio.wait_for(
        consul.agent.services.get("web-sidecar-proxy", watch=(meta, "10s")), 5)
    assert service is not None and found["ContentHash"]


# -- The agent's log (GET /v1/agent/monitor) -----------------------------------------------------


async def _line_about(lines: aioconsul.api.agent.Monitor, url: str) -> Any:
    """The first line (or JSON record) about a request for ``url``; other requests log too.
    Bounded (not a timing): a regression fails here instead of hanging the suite."""
    async with asyncio.timeout(30):
        async for line in lines:
            if (line.get("url") if isinstance(line, dict) else f"url={url} " in line) \
                    in (url, True):
                return line
    raise AssertionError("the stream ended")


async def test_monitor_streams_the_lines_the_agent_logs_from_now_on(consul: Consul) -> None:
    async with consul.agent.monitor("debug") as lines:
        await consul.kv.get("monitor/probe")
        line = await _line_about(lines, "/v1/kv/monitor/probe")
    assert isinstance(line, str) and not line.endswith("\n")
    assert " [DEBUG] agent.http: Request finished: method=GET url=/v1/kv/monitor/probe " in line
    assert repr(lines) == "<Monitor /v1/agent/monitor?loglevel=debug closed>"


async def test_monitor_logjson_yields_each_record_as_a_dict(consul: Consul) -> None:
    async with consul.agent.monitor("TRACE", logjson=True) as records:
        await consul.kv.get("monitor/json")
        record = await _line_about(records, "/v1/kv/monitor/json")
    assert record["@module"] == "agent.http" and record["@level"] == "debug"
    assert record["@message"] == "Request finished" and record["method"] == "GET"


async def test_monitor_aclose_mid_stream_releases_the_connection(consul: Consul) -> None:
    """Closing a half-read stream closes its connection, so the agent ends the request
    (another monitor sees its "Request finished" line); iterating again ends at once."""
    async with consul.agent.monitor("debug", logjson=True) as watcher, \
            consul.agent.monitor("debug") as lines:
        await consul.kv.get("monitor/aclose")
        assert "url=/v1/kv/monitor/aclose " in await _line_about(lines, "/v1/kv/monitor/aclose")
        await lines.aclose()
        await lines.aclose()  # idempotent
        await _line_about(watcher, "/v1/agent/monitor?loglevel=debug")
        assert [line async for line in lines] == []


async def test_monitor_cancelled_while_waiting_ends_cleanly(consul: Consul) -> None:
    got = asyncio.Event()
    lines = consul.agent.monitor("debug")

    async def read() -> None:
        async for _ in lines:
            got.set()

    async with consul.agent.monitor("trace", logjson=True) as watcher:
        task = asyncio.create_task(read())
        while not got.is_set():  # each request logs a line, once the stream is open
            await consul.kv.get("monitor/cancel")
            await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert repr(lines).endswith(" closed>")
        await _line_about(watcher, "/v1/agent/monitor?loglevel=debug")


@pytest.mark.parametrize("kwargs, error, match", [
    ({"loglevel": "verbose"}, ValueError, "loglevel: 'verbose' is not a log level"),
    ({"loglevel": ""}, ValueError, "loglevel: must not be empty"),
    ({"loglevel": 3}, TypeError, "loglevel: expected a str"),
    ({"logjson": "yes"}, TypeError, "logjson: expected a bool"),
])
async def test_monitor_bad_arguments_are_refused_before_any_request(
        unreachable: str, kwargs: dict[str, Any], error: type[Exception], match: str) -> None:
    async with Consul(unreachable) as client:
        with pytest.raises(error, match=match):
            client.agent.monitor(**kwargs)


async def test_monitor_an_error_answer_is_raised_on_entering(wire) -> None:
    async def denied(request: web.Request) -> web.Response:
        return web.Response(status=403, text="Permission denied")

    client, recorder = await wire(denied)
    with pytest.raises(aioconsul.PermissionDenied, match="Permission denied"):
        async with client.agent.monitor("err", logjson=True):
            raise AssertionError("not reached")
    assert [call[:2] for call in recorder.calls] == [
        ("GET", "/v1/agent/monitor?loglevel=err&logjson")]
