"""Discovery options (near, node-meta, tag, passing, filter, peer) become Consul's parameters."""

from __future__ import annotations

import pytest

from aioconsul._core import normalize
from aioconsul._core.request import id_path
from aioconsul.api._discovery import query_params
from aioconsul.api.coordinate import rtt


def test_every_option_becomes_its_parameter() -> None:
    params = query_params(near="_agent", node_meta={"rack": "r1", "env": "a:b"},
                          filter='Service.Port == 80', tag=["v1", "primary"], passing=True,
                          peer="other")
    assert params == [("near", "_agent"), ("node-meta", "rack:r1"), ("node-meta", "env:a:b"),
                      ("tag", "v1"), ("tag", "primary"), ("passing", ""),
                      ("filter", "Service.Port == 80"), ("peer", "other")]


def test_no_option_no_parameter() -> None:
    assert query_params() == []


def test_near_takes_a_node_object() -> None:
    assert query_params(near={"Node": "n1", "ID": "uuid"}) == [("near", "n1")]


@pytest.mark.parametrize("kwargs, error, match", [
    ({"filter": 3}, TypeError, "^filter: "),
    ({"filter": "  "}, ValueError, "^filter: "),
    ({"node_meta": [("a", "b")]}, TypeError, "^node_meta: "),
    ({"node_meta": {"a": 1}}, TypeError, "^node_meta: "),
    ({"node_meta": {"a:b": "c"}}, ValueError, "^node_meta: "),
    ({"tag": 3}, TypeError, "^tag: "),
    ({"tag": [""]}, ValueError, "^tag: "),
    ({"tag": {"a": "b"}}, TypeError, "^tag: "),
    ({"near": 3}, TypeError, "^near: "),
])
def test_bad_options_are_refused(kwargs: dict[str, object], error: type[Exception],
                                 match: str) -> None:
    with pytest.raises(error, match=match):
        query_params(**kwargs)  # type: ignore[arg-type]


def test_tags_accept_one_or_several() -> None:
    assert normalize.tags("v1") == ["v1"]
    assert normalize.tags(("a", "b")) == ["a", "b"]
    assert normalize.tags({"b", "a"}) == ["a", "b"]


def test_names_in_paths_are_quoted_and_taken_from_objects() -> None:
    assert id_path("/v1/health/service/", "web api", "service") == "/v1/health/service/web%20api"
    entry = {"ServiceName": "web", "ServiceID": "web-1"}
    assert id_path("/x/", entry, "service", ("ServiceName", "Service")) == "/x/web"
    assert normalize.object_id(entry, "service", ("ServiceID", "ID")) == "web-1"
    with pytest.raises(ValueError, match=r"^service: the mapping has no 'ServiceName' or 'Name'"):
        id_path("/x/", {"ID": "web"}, "service", ("ServiceName", "Name"))


def test_rtt_follows_serf_distance() -> None:
    """serf coordinate.DistanceTo: |a-b| + heights, plus adjustments when that stays positive."""
    a = {"Vec": [0.0, 0.003], "Error": 1.5, "Adjustment": 0.0, "Height": 0.001}
    b = {"Coord": {"Vec": [0.004, 0.0], "Error": 1.5, "Adjustment": 0.0005, "Height": 0.001}}
    assert rtt(a, b) == pytest.approx(0.005 + 0.002 + 0.0005)
    negative = {"Vec": [0.0, 0.0], "Adjustment": -1.0, "Height": 0.0}
    assert rtt(negative, {"Vec": [0.001, 0.0], "Adjustment": 0.0, "Height": 0.0}) == \
        pytest.approx(0.001)
