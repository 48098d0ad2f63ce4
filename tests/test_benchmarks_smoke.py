"""The benchmark suite still runs: one call case, a fraction of a second, against the fixed server.

Not a measurement (nothing here is judged on speed): it keeps ``benchmarks/`` from rotting as the
client changes. The suite lives beside the package, not in it, hence the path set-up.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import cases, report  # noqa: E402
from benchmarks.servers import ServerProcess  # noqa: E402


def test_a_call_case_runs_against_the_fixed_server_and_reports() -> None:
    with ServerProcess("fixed") as server:
        result = cases.run({
            "case": "kv.get", "server": "fixed", "address": server.address,
            "control": server.control, "clients": ["raw", "aioconsul"], "rounds": 2,
            "batch_seconds": 0.02, "max_calls": 200, "time_limit": 5,
        })
        assert server.stats()["parked"] == 0
    assert set(result["clients"]) == {"raw", "aioconsul"}
    for stats in result["clients"].values():
        assert stats["calls"] > 0 and stats["cpu_us"] > 0 and stats["p99_ms"] >= stats["p50_ms"]
    assert result["ratios"]["aioconsul/raw"]["cpu"] > 0
    results = {
        "meta": {"date": "now", "mode": "smoke", "duration_s": 0.0, "python": "3", "aiohttp": "3",
                 "aioconsul": "0", "cpus": 2, "cpu_model": "cpu", "commit": "HEAD"},
        "cases": [{"kind": "calls", "case": "kv.get", "server": "fixed", "concurrency": 1,
                   **result}],
    }
    results["targets"] = report.targets(results)
    assert results["targets"][0]["target"].startswith("aioconsul CPU per kv.get")
    assert "aioconsul" in report.text_report(results)
