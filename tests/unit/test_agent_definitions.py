"""Service and check definitions as the agent group sends them: durations become Go duration
strings wherever Consul reads a check, everything else passes through untouched."""

from __future__ import annotations

import datetime

import pytest

from aioconsul.api.agent import _check_definition, _service_definition

MINUTE = datetime.timedelta(minutes=1)


def test_check_durations_become_go_duration_strings() -> None:
    check = _check_definition({"Name": "api", "HTTP": "http://h/health", "Interval": MINUTE,
                               "Timeout": "1.5s", "TTL": datetime.timedelta(seconds=30),
                               "DeregisterCriticalServiceAfter": "90m"})
    assert check == {"Name": "api", "HTTP": "http://h/health", "Interval": "1m",
                     "Timeout": "1500ms", "TTL": "30s", "DeregisterCriticalServiceAfter": "1h30m"}


def test_check_durations_are_found_under_every_spelling_consul_reads() -> None:
    """Consul matches JSON fields case-insensitively and translates snake_case keys."""
    check = _check_definition({"name": "x", "interval": MINUTE, "ttl": MINUTE,
                               "deregister_critical_service_after": MINUTE})
    assert check == {"name": "x", "interval": "1m", "ttl": "1m",
                     "deregister_critical_service_after": "1m"}


def test_check_definition_is_copied_not_changed() -> None:
    original = {"Name": "x", "TTL": MINUTE}
    _check_definition(original)
    assert original == {"Name": "x", "TTL": MINUTE}


def test_check_null_fields_pass_through() -> None:
    assert _check_definition({"Name": "x", "TTL": None}) == {"Name": "x", "TTL": None}


@pytest.mark.parametrize("definition, error, match", [
    ({"TTL": 30}, ValueError, r"^check\.TTL: "),
    ({"Interval": "10"}, ValueError, r"^check\.Interval: "),
    ({"timeout": "soon"}, ValueError, r"^check\.timeout: "),
    ({"Status": "ok"}, ValueError, r"^check\.Status: expected 'passing'"),
    ({1: "x"}, TypeError, "^check: field names must be str"),
])
def test_check_definition_rejects(definition: dict[object, object], error: type[Exception],
                                  match: str) -> None:
    with pytest.raises(error, match=match):
        _check_definition(definition)


@pytest.mark.parametrize("value", ["web", ["Name", "web"], None, 3])
def test_check_definition_must_be_a_mapping(value: object) -> None:
    with pytest.raises(TypeError, match="^check: expected a check definition"):
        _check_definition(value)


def test_service_checks_sidecar_checks_and_single_check_are_normalized() -> None:
    service = _service_definition({
        "Name": "web", "Port": 80,
        "Check": {"TTL": MINUTE},
        "Checks": [{"HTTP": "http://h", "Interval": "10s"}, {"TTL": datetime.timedelta(hours=1)}],
        "Connect": {"SidecarService": {"Port": 21000, "Checks": [{"TCP": "h:1",
                                                                  "Interval": MINUTE}]}},
    })
    assert service["Check"] == {"TTL": "1m"}
    assert service["Checks"] == [{"HTTP": "http://h", "Interval": "10s"}, {"TTL": "1h"}]
    assert service["Connect"]["SidecarService"] == {
        "Port": 21000, "Checks": [{"TCP": "h:1", "Interval": "1m"}]}


def test_service_fields_outside_checks_pass_through_untouched() -> None:
    """Proxy.Config is opaque to Consul: a "timeout" key there is the proxy's business."""
    proxy = {"DestinationServiceName": "web", "Config": {"timeout": 5, "Interval": "x"}}
    definition = {"Name": "web-proxy", "Kind": "connect-proxy", "Proxy": proxy,
                  "Meta": {"ttl": "forever"}, "Weights": {"Passing": 3, "Warning": 1},
                  "TaggedAddresses": {"lan": {"Address": "10.0.0.1", "Port": 80}},
                  "Tags": ["a"], "EnableTagOverride": True}
    assert _service_definition(definition) == definition


def test_service_definition_in_snake_case() -> None:
    service = _service_definition({"name": "web", "checks": [{"ttl": MINUTE}],
                                   "connect": {"sidecar_service": {"check": {"ttl": MINUTE}}}})
    assert service == {"name": "web", "checks": [{"ttl": "1m"}],
                       "connect": {"sidecar_service": {"check": {"ttl": "1m"}}}}


@pytest.mark.parametrize("definition, error, match", [
    ({"Port": 80}, ValueError, "^service: a service definition needs a 'Name'"),
    ({"Name": 3}, TypeError, r"^service\.Name: "),
    ({"Name": ""}, ValueError, r"^service\.Name: must not be empty"),
    ({"Name": "web", "Checks": {"TTL": "1m"}}, TypeError, r"^service\.Checks: expected a list"),
    ({"Name": "web", "Checks": [{"TTL": 60}]}, ValueError, r"^service\.Checks\[0\]\.TTL: "),
    ({"Name": "web", "Check": "ttl"}, TypeError, r"^service\.Check: "),
    ({"Name": "web", "Connect": {"SidecarService": {"Check": {"Interval": 1}}}}, ValueError,
     r"^service\.Connect\.SidecarService\.Check\.Interval: "),
])
def test_service_definition_rejects(definition: dict[str, object], error: type[Exception],
                                    match: str) -> None:
    with pytest.raises(error, match=match):
        _service_definition(definition)


def test_a_sidecar_needs_no_name() -> None:
    """Consul names a sidecar after the service it serves (<name>-sidecar-proxy)."""
    service = _service_definition({"Name": "web", "Connect": {"SidecarService": {}}})
    assert service["Connect"] == {"SidecarService": {}}
