"""Prometheus' text exposition of the agent's metrics (``/v1/agent/metrics?format=prometheus``).

With ``telemetry.prometheus_retention_time`` set, Consul adds go-metrics' Prometheus sink
(``lib/telemetry.go``) beside the in-memory one, and ``AgentMetrics`` hands the request to
``promhttp.HandlerFor(prometheus.DefaultGatherer, ...)``: the same metrics as the JSON summary,
named the way the sink flattens a key (its parts joined with ``_``, then every space, ``.``,
``=``, ``-`` and ``/`` turned into ``_``: ``consul.state.nodes`` is ``consul_state_nodes``), with
the help text of the metric's definition (``usagemetrics.Gauges``, ``consul.SessionGauges``...)
or, for a metric without one, its own name, and written by ``expfmt`` in text format 0.0.4:
families sorted by name, ``# HELP`` then ``# TYPE`` then the samples, labels sorted by name,
values as ``strconv.FormatFloat(v, 'g', -1, 64)``.

Pure: no I/O, nothing of HTTP (the endpoint in :mod:`..endpoints.agent` sends the text).
"""

from __future__ import annotations

import decimal
import math
import re
import struct
from collections.abc import Mapping
from typing import Any, Final

__all__ = ["CONTENT_TYPE", "exposition", "flatten_key", "format_float"]

#: expfmt.FmtText: what promhttp answers when it does not negotiate protobuf (Consul does not
#: enable OpenMetrics, so an ``application/openmetrics-text`` Accept gets this too).
CONTENT_TYPE: Final = "text/plain; version=0.0.4; charset=utf-8"

#: The go-metrics prometheus sink's forbidden characters of a metric name.
_FORBIDDEN: Final = re.compile(r"[ .=\-/]")

#: The GaugeDefinition help texts of the metrics the dev agent reports, by flattened name
#: (agent/consul/usagemetrics/usagemetrics.go Gauges, agent/consul/session_ttl.go
#: SessionGauges).
GAUGE_HELP: Final = {
    "consul_state_nodes": "Measures the current number of nodes registered with Consul. It is "
                          "only emitted by Consul servers. Added in v1.9.0.",
    "consul_state_services": "Measures the current number of unique services registered with "
                             "Consul, based on service name. It is only emitted by Consul "
                             "servers. Added in v1.9.0.",
    "consul_state_service_instances": "Measures the current number of unique services "
                                      "registered with Consul, based on service name. It is "
                                      "only emitted by Consul servers. Added in v1.9.0.",
    "consul_raft_applied_index": "Represents the raft applied index.",
    "consul_raft_last_index": "Represents the raft last index.",
}


def flatten_key(name: str) -> str:
    """PrometheusSink.flattenKey of a dotted go-metrics key (``consul.state.nodes``)."""
    return _FORBIDDEN.sub("_", name)


def format_float(value: float) -> str:
    """expfmt's writeFloat: ``+Inf``, ``-Inf``, ``NaN``, else Go's shortest ``'g'`` format
    (``%e`` from an exponent of 6 on or below -4: ``1.234567e+06``, ``1e-05``)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:  # -0 too
        return "0"
    sign, raw, exponent = decimal.Decimal(repr(value)).as_tuple()
    digits = "".join(map(str, raw)).rstrip("0") or "0"
    assert isinstance(exponent, int)
    point = len(raw) + exponent  # where the decimal point falls after ``digits``' first digit
    minus = "-" if sign else ""
    exp = point - 1
    if exp < -4 or exp >= 6:  # shortest 'g': the %e / %f cut is precision 6
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{minus}{mantissa}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    if point <= 0:
        return f"{minus}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return minus + digits + "0" * (point - len(digits))
    return f"{minus}{digits[:point]}.{digits[point:]}"


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _escape_label(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(labels: Mapping[str, Any] | None) -> str:
    if not labels:
        return ""
    pairs = ",".join(f'{flatten_key(str(name))}="{_escape_label(str(value))}"'
                     for name, value in sorted(labels.items()))
    return "{" + pairs + "}"


def _float32(value: float) -> float:
    """go-metrics keeps a gauge as a float32; the Prometheus gauge holds float64 of that."""
    return float(struct.unpack("<f", struct.pack("<f", value))[0])


def exposition(summary: Mapping[str, Any]) -> str:
    """The text format of a go-metrics ``MetricsSummary`` (what ``/v1/agent/metrics`` answers
    as JSON): each gauge a ``gauge`` family.

    Only the gauges: go-metrics' Prometheus sink drops ``Points`` (EmitKey), and keeps its own
    cumulative counters and summaries, which a summary of one interval cannot give back; the
    dev agent records none of either.
    """
    families: dict[str, list[tuple[str, float]]] = {}
    for gauge in summary.get("Gauges") or ():
        name = flatten_key(str(gauge["Name"]))
        families.setdefault(name, []).append(
            (_labels(gauge.get("Labels")), _float32(float(gauge["Value"]))))
    lines: list[str] = []
    for name in sorted(families):
        lines.append(f"# HELP {name} {_escape_help(GAUGE_HELP.get(name, name))}")
        lines.append(f"# TYPE {name} gauge")
        for labels, value in sorted(families[name]):
            lines.append(f"{name}{labels} {format_float(value)}")
    return "".join(line + "\n" for line in lines)
