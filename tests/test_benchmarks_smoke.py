"""The benchmark suite still runs: each kind of case, a fraction of a second, against the fixed
server, with every client installed here.

Not a measurement (nothing here is judged on speed): it keeps ``benchmarks/`` from rotting as the
client changes. The suite lives beside the package, not in it, hence the path set-up. The peers
(py-consul, discovery-client), uvloop and matplotlib come with the ``bench`` extra, which CI does
not install: what needs them is skipped without them.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import cases, report  # noqa: E402
from benchmarks.clients import available  # noqa: E402
from benchmarks.servers import ServerProcess  # noqa: E402

#: The clients that need nothing beyond aiohttp and aioconsul.
ALWAYS = ["floor", "raw", "naive", "aioconsul"]


def _needs(module: str, package: str | None = None) -> None:
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{package or module} is not installed (pip install -e '.[bench]')")


@pytest.fixture(scope="module")
def fixed() -> Iterator[ServerProcess]:
    with ServerProcess("fixed") as server:
        yield server


def _calls(server: ServerProcess, clients: list[str], case: str = "kv.get", *,
           concurrency: int = 1, loop: str = "asyncio") -> dict[str, Any]:
    result = cases.run({
        "case": case, "server": "fixed", "address": server.address, "control": server.control,
        "clients": clients, "rounds": 2, "batch_seconds": 0.01, "max_calls": 100,
        "time_limit": 5, "concurrency": concurrency, "loop": loop,
    })
    assert server.stats()["parked"] == 0
    assert set(result["clients"]) == set(clients)
    for stats in result["clients"].values():
        assert stats["calls"] > 0 and stats["cpu_us"] > 0 and stats["p99_ms"] >= stats["p50_ms"]
    return {"kind": "calls", "case": case, "server": "fixed", "concurrency": concurrency,
            "loop": loop, **result}


def _watches(server: ServerProcess, client: str, loop: str = "asyncio") -> dict[str, Any]:
    result = cases.run({"case": "watches", "server": "fixed", "address": server.address,
                        "control": server.control, "client": client, "n": 4, "wakes": 1,
                        "time_limit": 30, "loop": loop})
    assert result["held"] == 4 and result["wrong"] == 0 and result["cpu_us_per_wake"] > 0
    return {"case": "watches", "server": "fixed", "client": client, "n": 4, "loop": loop,
            **result}


def _results(cases_run: list[dict[str, Any]], **meta: Any) -> dict[str, Any]:
    results = {
        "meta": {"date": "now", "mode": "smoke", "duration_s": 0.0, "python": "3", "aiohttp": "3",
                 "aioconsul": "0", "cpus": 2, "cpu_model": "cpu", "commit": "HEAD", **meta},
        "cases": cases_run,
    }
    results["targets"] = report.targets(results)
    return results


def _target(results: dict[str, Any], start: str) -> dict[str, Any]:
    found = [t for t in results["targets"] if t["target"].startswith(start)]
    assert found, [t["target"] for t in results["targets"]]
    return found[0]


def test_the_protocol_floor_naive_and_raw_rows_and_their_ratios(fixed: ServerProcess) -> None:
    runs = [_calls(fixed, ALWAYS), _calls(fixed, ALWAYS, "kv.set"),
            _calls(fixed, ALWAYS, "health.service")]
    for run in runs:
        for a in ("aioconsul", "raw", "naive"):
            assert run["ratios"][f"{a}/floor"]["cpu"] > 0
        assert run["ratios"]["aioconsul/naive"]["cpu"] > 0
    results = _results(runs)
    assert _target(results, "kv.get CPU <= 1.0x naive aiohttp")["met"] is not None
    assert _target(results, "kv.set CPU <= 1.0x naive aiohttp")["met"] is not None
    assert _target(results, "health.service (100 instances) <= 1.0x naive")["met"] is not None
    assert _target(results, "protocol floor: naive aiohttp kv.get")["status"] == "reference"
    text = report.text_report(results)
    assert "floor" in text and "naive" in text and "aioconsul/naive" in text


def test_calls_at_concurrency_report_cpu_per_call_per_client(fixed: ServerProcess) -> None:
    run = _calls(fixed, ALWAYS, concurrency=16)
    results = _results([{**run, "concurrency": 64}])
    assert _target(results, "kv.get x64 in flight CPU <= 1.0x naive")["met"] is not None


def test_watches_of_the_bare_loop_floor_and_aioconsul_and_their_targets(
        fixed: ServerProcess) -> None:
    runs = [_watches(fixed, name) for name in ("floor", "raw", "aioconsul")]
    results = _results(runs)
    assert _target(results, "watch wake-up CPU <= 1.1x the bare aiohttp loop")["met"] is not None
    assert _target(results, "RSS per watch <= 14 KiB")["status"] == "not measured"  # N < 10,000
    assert "CPU x raw" in report.text_report(results)


def test_shared_watches_hold_one_read_and_one_connection(fixed: ServerProcess) -> None:
    result = cases.run({"case": "watches.shared", "server": "fixed", "address": fixed.address,
                        "control": fixed.control, "client": "aioconsul", "n": 8, "wakes": 1,
                        "time_limit": 30})
    assert result["held"] == 1 and result["wrong"] == 0 and result["connections"] == 1
    assert result["connections_per_watch"] == 1 / 8 and result["cpu_us_per_wake"] > 0
    run = {"case": "watches.shared", "server": "fixed", "client": "aioconsul", "n": 8,
           "loop": "asyncio", **result}
    results = _results([_watches(fixed, "aioconsul"), run])
    target = _target(results, "10,000 subscribers of one key cost one connection")
    assert target["status"] == "not measured"  # N < 10,000
    text = report.text_report(results)
    assert "Shared watches of one key" in text and "RSS x one read each" in text


@pytest.mark.parametrize("peer", ["py-consul", "discovery-client"])
def test_a_peer_runs_the_call_and_watch_cases(fixed: ServerProcess, peer: str) -> None:
    _needs({"py-consul": "consul", "discovery-client": "discovery"}[peer], peer)
    assert peer in available()
    runs = [_calls(fixed, ["naive", peer, "aioconsul"], case)
            for case in ("kv.get", "kv.set", "health.service")]
    runs += [_watches(fixed, name) for name in ("raw", peer, "aioconsul")]
    assert runs[0]["ratios"][f"aioconsul/{peer}"]["cpu"] > 0
    results = _results(runs)
    what = "below py-consul" if peer == "py-consul" else "below discovery-client"
    assert _target(results, f"watch wake-up CPU {what}")["met"] is not None
    assert peer in report.text_report(results)


def test_the_cases_run_under_uvloop_and_report_both_loops(fixed: ServerProcess) -> None:
    _needs("uvloop")
    runs = [_calls(fixed, ALWAYS), _calls(fixed, ALWAYS, loop="uvloop"),
            _watches(fixed, "aioconsul", loop="uvloop")]
    assert runs[0]["loop_class"].startswith("asyncio.")
    assert runs[1]["loop_class"] == "uvloop.Loop"
    results = _results(runs)
    assert _target(results, "kv.get CPU <= 1.0x naive aiohttp [uvloop]")["met"] is not None
    assert _target(results, "kv.get CPU <= 1.0x naive aiohttp")["target"].endswith("aiohttp")


def test_the_chart_is_drawn_from_the_results(tmp_path: Path) -> None:
    _needs("matplotlib")

    def calls(case: str, concurrency: int, loop: str) -> dict[str, Any]:
        stats = {"cpu_us": 100.0, "p50_ms": 0.1, "p99_ms": 0.2, "rps": 1.0, "calls": 1}
        return {"kind": "calls", "case": case, "server": "fixed", "concurrency": concurrency,
                "loop": loop, "clients": {name: stats for name in ALWAYS}, "ratios": {},
                "batches": 1, "peak_rss_mib": 1.0}

    runs = [calls(case, concurrency, loop) for loop in ("asyncio", "uvloop")
            for case, concurrency in (("kv.get", 1), ("kv.get", 512), ("health.service", 1))]
    runs += [{"case": "watches", "server": "fixed", "client": "aioconsul", "n": 4,
              "loop": "asyncio", "cpu_us_per_wake": 200.0, "rss_kib_per_watch": 15.0}]
    path = report.chart(_results(runs), tmp_path / "chart.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_results_file_from_before_the_new_rows_still_reports() -> None:
    """``--from-json`` of an older run: no loop, no naive row."""
    old = {"kind": "calls", "case": "kv.get", "server": "fixed", "concurrency": 1,
           "clients": {"raw": {"cpu_us": 1.0, "p50_ms": 1.0, "p99_ms": 1.0, "rps": 1.0,
                               "calls": 1}},
           "ratios": {}, "batches": 1, "peak_rss_mib": 1.0}
    results = _results([old])
    assert "asyncio" in report.text_report(results)
