"""The text exposition of the agent's metrics (aioconsul.testing.structs.prometheus): go-metrics'
Prometheus sink naming (prometheus.go flattenKey) and expfmt's text format 0.0.4."""

from __future__ import annotations

import math

import pytest

from aioconsul.testing.structs.prometheus import (
    CONTENT_TYPE,
    exposition,
    flatten_key,
    format_float,
)


@pytest.mark.parametrize(("name", "flat"), [
    ("consul.state.nodes", "consul_state_nodes"),
    ("consul.http.GET.v1.agent.metrics", "consul_http_GET_v1_agent_metrics"),
    ("consul.a-b/c=d e", "consul_a_b_c_d_e"),
    ("already_flat", "already_flat"),
])
def test_names_are_flattened_as_the_sink_does(name: str, flat: str) -> None:
    assert flatten_key(name) == flat


@pytest.mark.parametrize(("value", "text"), [
    (0.0, "0"), (-0.0, "0"), (1.0, "1"), (-1.0, "-1"), (12.0, "12"), (0.5, "0.5"),
    (123456.0, "123456"), (1234567.0, "1.234567e+06"), (1e6, "1e+06"), (0.0001, "0.0001"),
    (0.00001, "1e-05"), (-2.5e-7, "-2.5e-07"), (1e21, "1e+21"),
    (math.inf, "+Inf"), (-math.inf, "-Inf"), (math.nan, "NaN"),
])
def test_values_are_gos_shortest_g_format(value: float, text: str) -> None:
    """expfmt writeFloat: strconv.AppendFloat(f, 'g', -1, 64), %e from exponent 6 or < -4."""
    assert format_float(value) == text


def test_gauges_become_sorted_families_with_help_and_type() -> None:
    summary = {"Gauges": [
        {"Name": "consul.state.nodes", "Value": 2.0, "Labels": {}},
        {"Name": "consul.raft.applied_index", "Value": 17.0, "Labels": {}},
        {"Name": "consul.custom.thing", "Value": 0.25, "Labels": {}},
    ], "Counters": [], "Samples": [], "Points": []}
    assert exposition(summary) == (
        "# HELP consul_custom_thing consul_custom_thing\n"
        "# TYPE consul_custom_thing gauge\n"
        "consul_custom_thing 0.25\n"
        "# HELP consul_raft_applied_index Represents the raft applied index.\n"
        "# TYPE consul_raft_applied_index gauge\n"
        "consul_raft_applied_index 17\n"
        "# HELP consul_state_nodes Measures the current number of nodes registered with "
        "Consul. It is only emitted by Consul servers. Added in v1.9.0.\n"
        "# TYPE consul_state_nodes gauge\n"
        "consul_state_nodes 2\n"
    )


def test_labels_are_sorted_and_escaped() -> None:
    summary = {"Gauges": [
        {"Name": "consul.g", "Value": 1.0, "Labels": {"kind": 'a"b\\c\nd', "datacenter": "dc1"}},
        {"Name": "consul.g", "Value": 2.0, "Labels": {"datacenter": "dc0", "kind": "x"}},
    ]}
    lines = exposition(summary).splitlines()
    assert lines[2:] == [
        'consul_g{datacenter="dc0",kind="x"} 2',
        'consul_g{datacenter="dc1",kind="a\\"b\\\\c\\nd"} 1',
    ]


def test_a_gauge_keeps_float32_precision() -> None:
    """go-metrics stores a gauge as float32: 16777217 is kept as 16777216."""
    text = exposition({"Gauges": [{"Name": "consul.raft.applied_index", "Value": 16777217.0}]})
    assert text.splitlines()[-1] == "consul_raft_applied_index 1.6777216e+07"


def test_the_content_type_is_expfmts_text_format() -> None:
    assert CONTENT_TYPE == "text/plain; version=0.0.4; charset=utf-8"
