"""``python -m benchmarks``: start the servers, run every case in its own client process, print
the tables and write them as JSON (and, with ``--update-docs``, into ``docs/benchmarks.rst``).

Modes: ``--quick`` (a smoke run, well under a minute), the default (a few minutes), ``--full``
(the default with 10,000 concurrent watches instead of 1,000). The watch group runs N watches
with a read each for every client, then N of aioconsul's shared watches of one key.
``--loop uvloop`` runs the client processes under uvloop, ``--loop both`` runs the call,
latency and watch cases under each loop, recorded side by side (each case carries its
``loop``). The servers always run on asyncio's own loop, so both loops face the same servers.

Every process started here is stopped on the way out, on errors and on Ctrl-C too; every case
process runs under a timeout. All traffic goes to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import importlib.util
import json
import platform
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from . import report
from .cases import LOOPS
from .clients import available
from .common import ROOT, median, raise_fd_limit
from .servers import ServerProcess, child_env, read_line, servers, stop_process

DEFAULT_JSON = ROOT / "benchmarks" / "results.json"

#: What each mode runs. ``batch_seconds`` sizes a batch of calls (calibrated on the slowest
#: client); ``rounds`` is the number of batches per client.
MODES: dict[str, dict[str, Any]] = {
    "quick": {"rounds": 3, "batch_seconds": 0.03, "warmup": 10, "probe": 0, "min_calls": 10,
              "latency_rounds": 2, "latency_samples": 5, "watches": 200, "wakes": 2,
              "throughput_seconds": 1.0, "startup_repeat": 3, "cli_repeat": 1},
    "default": {"rounds": 15, "batch_seconds": 0.2, "warmup": 20, "probe": 50, "min_calls": 20,
                "latency_rounds": 10,
                "latency_samples": 20, "watches": 1000, "wakes": 3, "throughput_seconds": 5.0,
                "startup_repeat": 20, "cli_repeat": 5},
}
MODES["full"] = {**MODES["default"], "watches": 10_000}

#: The call cases: (case, server, concurrency).
CALL_CASES = [
    ("kv.get", "fixed", 1),
    ("kv.get", "fixed", 64),
    ("kv.get", "fixed", 512),
    ("kv.set", "fixed", 1),
    ("health.service", "fixed", 1),
    ("kv.get", "agent", 1),
    ("kv.set", "agent", 1),
    ("health.service", "agent", 1),
]
GROUPS = ("calls", "latency", "watches", "throughput", "startup")
#: The clients of the watch cases: ``naive`` would repeat ``raw`` (the bare loop).
WATCH_CLIENTS = ("floor", "raw", "py-consul", "discovery-client", "aioconsul")


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_case(spec: dict[str, Any], timeout: float) -> dict[str, Any]:
    """Run one case in a fresh client process; its result, or ``{"error": ...}``."""
    began = time.monotonic()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks.cases", json.dumps(spec)], cwd=ROOT,
            env=child_env(), capture_output=True, text=True, timeout=timeout, check=False,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:g}s"}
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"exit {done.returncode}: {tail}"}
    result = dict(json.loads(lines[-1]))
    result["elapsed_s"] = time.monotonic() - began
    return result


def _http_get(port: int, path: str, timeout: float = 10) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".encode())
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def startup(repeat: int, cli_repeat: int) -> dict[str, Any]:
    """The dev agent's start: in a fresh interpreter (``DevAgent.start()``), and as the CLI
    process ``python -m aioconsul.testing --port 0`` from spawn to its first answer."""
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.servers", "startup", "--repeat", str(repeat)],
        cwd=ROOT, env=child_env(), capture_output=True, text=True, timeout=120, check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    to_line, to_answer = [], []
    for _ in range(cli_repeat):
        began = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "aioconsul.testing", "--port", "0"], cwd=ROOT,
            env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )
        try:
            address = read_line(proc, 30).strip()
            to_line.append((time.perf_counter() - began) * 1000)
            answer = _http_get(int(address.rsplit(":", 1)[1]), "/v1/status/leader")
            if answer.split(b"\r\n", 1)[0].split()[1:2] != [b"200"]:
                raise RuntimeError(f"the CLI agent answered {answer[:40]!r}")
            to_answer.append((time.perf_counter() - began) * 1000)
        finally:
            stop_process(proc)
    result.update(cli_address_ms=median(to_line), cli_answer_ms=median(to_answer),
                  cli_runs=cli_repeat)
    return result


def _meta(mode: str, clients: list[str]) -> dict[str, Any]:
    def version(name: str) -> str | None:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            return None

    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "aioconsul"], cwd=ROOT,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        commit = (commit + ("+local changes" if dirty else "")) or "unknown"
    except (OSError, subprocess.SubprocessError):
        commit = "unknown"
    import os

    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "mode": mode, "clients": clients, "python": platform.python_version(),
        "aiohttp": version("aiohttp"), "aioconsul": version("aioconsul"),
        "py-consul": version("py-consul"), "discovery-client": version("discovery-client"),
        "uvloop": version("uvloop"), "orjson": version("orjson"),
        "cpus": os.cpu_count(), "cpu_model": model,
        "platform": platform.platform(), "commit": commit,
    }


def run(mode: str = "default", *, groups: tuple[str, ...] = GROUPS,
        clients: list[str] | None = None, overrides: dict[str, Any] | None = None,
        loops: tuple[str, ...] = ("asyncio",)) -> dict[str, Any]:
    """Run the suite; return the results (also what the JSON file holds)."""
    settings = {**MODES[mode], **(overrides or {}), "loops": list(loops)}
    names = clients or available()
    raise_fd_limit()
    began = time.monotonic()
    results: dict[str, Any] = {"meta": _meta(mode, names), "settings": settings, "cases": []}
    cases: list[dict[str, Any]] = results["cases"]

    def record(case: dict[str, Any], result: dict[str, Any]) -> None:
        case.update(result)
        cases.append(case)
        if "error" in result:
            _log(f"  {case['case']}: ERROR {result['error']}")

    if "startup" in groups:
        _log("dev agent start-up ...")
        try:
            record({"case": "agent.startup"},
                   startup(settings["startup_repeat"], settings["cli_repeat"]))
        except (RuntimeError, subprocess.SubprocessError, OSError, ValueError) as exc:
            record({"case": "agent.startup"}, {"error": str(exc)})

    with servers("fixed", "agent") as started:
        def spec(case: str, server: str, **extra: Any) -> dict[str, Any]:
            return {"case": case, "server": server, "address": started[server].address,
                    "control": started[server].control, **extra}

        for loop in loops:
            on = f" ({loop})" if len(loops) > 1 else ""
            if "calls" in groups:
                for case, server, concurrency in CALL_CASES:
                    _log(f"{case} x{concurrency} against the {server} server{on} ...")
                    record({"kind": "calls", "case": case, "server": server,
                            "concurrency": concurrency, "loop": loop},
                           run_case(spec(case, server, concurrency=concurrency, clients=names,
                                         rounds=settings["rounds"], loop=loop,
                                         batch_seconds=settings["batch_seconds"],
                                         warmup=settings["warmup"], probe=settings["probe"],
                                         min_calls=settings["min_calls"]), 300))
            if "latency" in groups:
                _log(f"write-to-watcher latency{on} ...")
                record({"case": "watch.latency", "server": "agent", "loop": loop},
                       run_case(spec("watch.latency", "agent", clients=names, loop=loop,
                                     rounds=settings["latency_rounds"],
                                     samples=settings["latency_samples"]), 300))
            if "watches" in groups:
                runs = [("fixed", name) for name in names if name in WATCH_CLIENTS]
                if "aioconsul" in names:
                    runs.append(("agent", "aioconsul"))
                n = int(settings["watches"])
                for server, name in runs:
                    _log(f"{n:,} watches by {name} against the {server} server{on} ...")
                    record({"case": "watches", "server": server, "client": name, "n": n,
                            "loop": loop},
                           run_case(spec("watches", server, client=name, n=n, loop=loop,
                                         wakes=settings["wakes"]), 600))
                if "aioconsul" in names:
                    # The same N watches as aioconsul's shared watches: one blocking read.
                    _log(f"{n:,} shared watches by aioconsul against the agent server{on} ...")
                    record({"case": "watches.shared", "server": "agent", "client": "aioconsul",
                            "n": n, "loop": loop},
                           run_case(spec("watches.shared", "agent", client="aioconsul", n=n,
                                         loop=loop, wakes=settings["wakes"]), 600))
        if "throughput" in groups:
            _log("dev agent throughput ...")
            record({"case": "agent.throughput", "server": "agent"},
                   run_case(spec("agent.throughput", "agent",
                                 seconds=settings["throughput_seconds"], connections=16), 120))
    results["meta"]["duration_s"] = time.monotonic() - began
    results["targets"] = report.targets(results)
    return results


def _write_docs(results: dict[str, Any]) -> None:
    report.update_docs(results)
    _log(f"tables written to {report.DOCS_PAGE}")
    try:
        path = report.chart(results)
    except ImportError:
        _log("matplotlib is not installed (pip install -e '.[bench]'): the chart is unchanged")
    else:
        _log(f"chart written to {path}")


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="aioconsul's benchmarks: a protocol floor, aiohttp, py-consul, "
                    "discovery-client and aioconsul side by side.")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="a smoke run (under a minute)")
    size.add_argument("--full", action="store_true", help="10,000 concurrent watches")
    parser.add_argument("--only", default=",".join(GROUPS),
                        help=f"comma-separated groups to run (default: all of {','.join(GROUPS)})")
    parser.add_argument("--clients", help="comma-separated clients (default: all installed)")
    parser.add_argument("--watches", type=int, help="how many concurrent watches")
    parser.add_argument("--rounds", type=int, help="batches per client in the call cases")
    parser.add_argument("--loop", choices=(*LOOPS, "both"), default="asyncio",
                        help="the client processes' event loop; 'both' runs the call, latency "
                             "and watch cases under each (default: asyncio)")
    parser.add_argument("--chart", type=Path, metavar="PATH",
                        help="also draw the chart (matplotlib) to PATH; --update-docs draws it "
                             "to docs/_static/benchmarks.png")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON,
                        help="where to write the results (default: benchmarks/results.json)")
    parser.add_argument("--update-docs", action="store_true",
                        help="write the tables into docs/benchmarks.rst")
    parser.add_argument("--from-json", type=Path, metavar="PATH",
                        help="run nothing: print (and with --update-docs, write) the tables of a "
                             "results file")
    args = parser.parse_args(argv)
    if args.from_json is not None:
        results = json.loads(args.from_json.read_text(encoding="utf-8"))
        results["targets"] = report.targets(results)
        print(report.text_report(results))
        if args.chart is not None:
            _log(f"chart written to {report.chart(results, args.chart)}")
        if args.update_docs:
            _write_docs(results)
        return 0
    mode = "quick" if args.quick else "full" if args.full else "default"
    groups = tuple(g.strip() for g in args.only.split(",") if g.strip())
    unknown = set(groups) - set(GROUPS)
    if unknown:
        parser.error(f"--only: unknown groups {', '.join(sorted(unknown))}")
    clients = [c.strip() for c in args.clients.split(",")] if args.clients else None
    if clients and set(clients) - set(available()):
        parser.error(f"--clients: available here: {', '.join(available())}")
    loops = LOOPS if args.loop == "both" else (args.loop,)
    if "uvloop" in loops and importlib.util.find_spec("uvloop") is None:
        parser.error("--loop: uvloop is not installed (pip install -e '.[bench]')")
    if args.chart is not None and importlib.util.find_spec("matplotlib") is None:
        parser.error("--chart: matplotlib is not installed (pip install -e '.[bench]')")
    overrides = {k: v for k, v in (("watches", args.watches), ("rounds", args.rounds))
                 if v is not None}
    # SIGTERM unwinds like Ctrl-C, through the code that stops every process started here.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        results = run(mode, groups=groups, clients=clients, overrides=overrides, loops=loops)
    except KeyboardInterrupt:
        _log("interrupted; every server and case process was stopped")
        return 130
    print(report.text_report(results))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    _log(f"results written to {args.json}")
    if args.chart is not None:
        _log(f"chart written to {report.chart(results, args.chart)}")
    if args.update_docs:
        _write_docs(results)
    return 0


__all__ = ["CALL_CASES", "GROUPS", "MODES", "WATCH_CLIENTS", "ServerProcess", "main", "run",
           "run_case"]
