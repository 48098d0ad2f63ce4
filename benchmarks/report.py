"""Turning results into tables (reStructuredText simple tables, readable as plain text too), the
target checks, and the generated section of ``docs/benchmarks.rst``.

Pure functions over the result dict the runner builds; the only file written is the docs page,
and only between its two marker comments.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .common import ROOT

DOCS_PAGE = ROOT / "docs" / "benchmarks.rst"
BEGIN = ".. benchmark-results-begin"
END = ".. benchmark-results-end"


def fmt(value: Any, digits: int = 3) -> str:
    """A number with ``digits`` significant digits (thousands kept whole), or text as is."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        if abs(value) >= 10 ** digits:
            return f"{value:,.0f}"
        return f"{value:.{digits}g}" if value else "0"
    return str(value)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """An RST simple table; every cell is formatted with :func:`fmt`."""
    cells = [[fmt(cell) for cell in row] for row in rows]
    widths = [max(len(h), *(len(row[i]) for row in cells)) if cells else len(h)
              for i, h in enumerate(headers)]
    rule = "  ".join("=" * w for w in widths)

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)).rstrip()

    return "\n".join([rule, line(headers), rule, *(line(row) for row in cells), rule])


def _calls(results: dict[str, Any]) -> str:
    rows = []
    for case in results["cases"]:
        if case.get("kind") != "calls" or "clients" not in case:
            continue
        label = case["case"] + (f" x{case['concurrency']}" if case["concurrency"] > 1 else "")
        first = True
        for name, stats in case["clients"].items():
            ratio = 1.0 if name == "raw" else case["ratios"].get(f"{name}/raw", {}).get("cpu")
            ratio = f"{ratio:.2f}" if ratio is not None else None
            # (RST simple tables read a blank first cell as a continuation line: repeat it.)
            rows.append([label, case["server"], name,
                         stats["cpu_us"], ratio, stats["p50_ms"], stats["p99_ms"],
                         round(stats["rps"]), case["peak_rss_mib"] if first else None])
            first = False
    return table(["case", "server", "client", "CPU µs/call", "CPU x raw", "p50 ms", "p99 ms",
                  "req/s", "peak RSS MiB"], rows)


def _ratios(results: dict[str, Any]) -> str:
    rows = []
    for case in results["cases"]:
        if case.get("kind") != "calls" or "ratios" not in case:
            continue
        label = case["case"] + (f" x{case['concurrency']}" if case["concurrency"] > 1 else "")
        ratios = case["ratios"]

        def ratio(pair: str, what: str, ratios: dict[str, Any] = ratios) -> str | None:
            value = ratios.get(pair, {}).get(what)
            return None if value is None else f"{value:.2f}"

        rows.append([label, case["server"], ratio("aioconsul/raw", "cpu"),
                     ratio("py-consul/raw", "cpu"), ratio("aioconsul/py-consul", "cpu"),
                     ratio("aioconsul/raw", "wall"), ratio("py-consul/raw", "wall"),
                     case["batches"]])
    return table(["case", "server", "CPU aioconsul/raw", "CPU py-consul/raw",
                  "CPU aioconsul/py-consul", "wall aioconsul/raw", "wall py-consul/raw",
                  "batches"], rows)


def _latency(results: dict[str, Any]) -> str:
    case = _find(results, "watch.latency")
    if case is None or "clients" not in case:
        return ""
    rows = [[name, s["p50_ms"], s["p99_ms"], s["samples"]] for name, s in case["clients"].items()]
    return table(["client", "p50 ms", "p99 ms", "samples"], rows)


def _watches(results: dict[str, Any]) -> str:
    rows = []
    for case in results["cases"]:
        if case.get("case") != "watches":
            continue
        if "error" in case:
            rows.append([case["server"], case["client"], case["n"], "error", None, None, None,
                         None, None, None])
            continue
        rows.append([case["server"], case["client"], case["n"], case["held"],
                     case["rss_kib_per_watch"], case["fanout_ms"], case["wake_p50_ms"],
                     case["cpu_us_per_wake"], case.get("gc_per_wake"), case["setup_s"]])
    return table(["server", "client", "watches", "held", "RSS KiB/watch", "fan-out ms",
                  "wake p50 ms", "CPU µs/wake", "GC runs/fan-out", "set-up s"], rows)


def _agent(results: dict[str, Any]) -> str:
    rows = []
    start = _find(results, "agent.startup")
    if start is not None and "cold_answer_ms" in start:
        rows += [
            ["DevAgent.start() to first answer, first start in a process", start["cold_answer_ms"],
             "ms"],
            ["DevAgent.start() alone, first start", start["cold_start_ms"], "ms"],
            ["DevAgent.start() to first answer, later starts (median)", start["warm_answer_ms"],
             "ms"],
            ["import aioconsul.testing (aiohttp included)", start["import_ms"], "ms"],
            ["python -m aioconsul.testing: spawn to address printed (median)",
             start["cli_address_ms"], "ms"],
            ["python -m aioconsul.testing: spawn to first answer (median)",
             start["cli_answer_ms"], "ms"],
        ]
    tput = _find(results, "agent.throughput")
    if tput is not None and "reads" in tput:
        rows += [
            ["KV reads per CPU-second of the agent process (one core)", tput["reads_per_cpu_s"],
             "reads/s"],
            ["KV reads per second, wall clock", tput["reads_per_s"], "reads/s"],
            ["agent CPU share during the load (1.0 = one core busy)", tput["server_cpu_share"],
             ""],
            [f"load: {tput['connections']} keep-alive connections, {tput['seconds']:.1f} s, "
             f"{tput['errors']} errors", tput["reads"], "reads"],
        ]
    return table(["dev agent", "value", "unit"], rows) if rows else ""


def _find(results: dict[str, Any], name: str, **where: Any) -> dict[str, Any] | None:
    for case in results["cases"]:
        if case.get("case") == name and all(case.get(k) == v for k, v in where.items()):
            return dict(case)
    return None


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target of the issue, what was measured against it and whether it is met (None: not
    measured in this run)."""
    out: list[dict[str, Any]] = []

    def add(name: str, measured: str, met: bool | None, status: str | None = None) -> None:
        if status is None:
            status = "not measured" if met is None else "met" if met else "MISSED"
        out.append({"target": name, "measured": measured, "met": met, "status": status})

    get = _find(results, "kv.get", server="fixed", concurrency=1)
    ratios = (get or {}).get("ratios", {})
    if "aioconsul/raw" in ratios:
        r = ratios["aioconsul/raw"]["cpu"]
        add("aioconsul CPU per kv.get within 1.15x raw aiohttp", f"{r:.2f}x (fixed server)",
            r <= 1.15)
    if "aioconsul/py-consul" in ratios:
        r = ratios["aioconsul/py-consul"]["cpu"]
        add("aioconsul CPU per kv.get below py-consul", f"{r:.2f}x py-consul", r < 1.0)
    for client, name, limit in (("aioconsul", "10,000 concurrent watches at <= 20 KiB client "
                                 "RSS per watch", 20.0),
                                ("raw", "bare aiohttp long-poll floor (about 13 KiB)", None)):
        case = _find(results, "watches", server="fixed", client=client)
        if case is None or "rss_kib_per_watch" not in case:
            continue
        kib = case["rss_kib_per_watch"]
        text = f"{kib:.1f} KiB/watch at N={case['n']:,}"
        if limit is None:
            add(name, text, None, "reference")
        else:
            add(name, text if case["n"] >= 10_000 else text + " (run --full for 10,000)",
                kib <= limit if case["n"] >= 10_000 else None)
    latency = _find(results, "watch.latency")
    if latency is not None and "aioconsul" in latency.get("clients", {}):
        p50 = latency["clients"]["aioconsul"]["p50_ms"]
        add("write-to-watcher p50 < 5 ms (aioconsul, dev agent)", f"{p50:.2f} ms", p50 < 5)
    start = _find(results, "agent.startup")
    if start is not None and "cold_answer_ms" in start:
        ms = start["cold_answer_ms"]
        add("dev agent start < 100 ms (DevAgent.start() to first answer)",
            f"{ms:.1f} ms (CLI process: {start['cli_answer_ms']:.0f} ms)", ms < 100)
    held = _find(results, "watches", server="agent", client="aioconsul")
    if held is not None and "held" in held:
        ok = held["held"] >= held["n"] and held.get("wrong", 1) == 0
        text = f"held {held['held']:,} of {held['n']:,}, all woken by one write" if ok \
            else f"held {held['held']:,} of {held['n']:,}"
        add("dev agent holds 10,000 blocking clients",
            text if held["n"] >= 10_000 else text + " (run --full for 10,000)",
            ok if held["n"] >= 10_000 else None)
    tput = _find(results, "agent.throughput")
    if tput is not None and "reads_per_cpu_s" in tput:
        rate = tput["reads_per_cpu_s"]
        add("dev agent >= 5,000 KV reads/s on one core", f"{rate:,.0f} reads/s", rate >= 5000)
    return out


def _targets_table(results: dict[str, Any]) -> str:
    rows = [[t["target"], t["measured"], t["status"]] for t in results.get("targets", [])]
    return table(["target", "measured", "status"], rows) if rows else ""


def _errors(results: dict[str, Any]) -> str:
    rows = [[c.get("case"), c.get("server", ""), c.get("client", ""), c["error"][:120]]
            for c in results["cases"] if "error" in c]
    return table(["case", "server", "client", "error"], rows) if rows else ""


def sections(results: dict[str, Any]) -> list[tuple[str, str]]:
    """The titled tables of one run, in reading order (empty ones left out)."""
    out = [
        ("Targets", _targets_table(results)),
        ("Client cost per call (clients interleaved batch by batch)", _calls(results)),
        ("Median of the per-batch ratios", _ratios(results)),
        ("Write-to-watcher latency (a parked blocking read woken by a PUT, dev agent)",
         _latency(results)),
        ("Concurrent watches of one key (one client per process)", _watches(results)),
        ("Dev agent", _agent(results)),
        ("Errors", _errors(results)),
    ]
    return [(title, text) for title, text in out if text]


def describe(results: dict[str, Any]) -> str:
    meta = results["meta"]
    return (f"{meta['date']}, mode {meta['mode']}, {meta['duration_s']:.0f} s; "
            f"Python {meta['python']}, aiohttp {meta['aiohttp']}, aioconsul {meta['aioconsul']}, "
            f"py-consul {meta.get('py-consul') or 'not installed'}; {meta['cpus']} CPUs "
            f"({meta['cpu_model']}); commit {meta['commit']}.")


def text_report(results: dict[str, Any]) -> str:
    parts = [describe(results), ""]
    for title, text in sections(results):
        parts += [title, text, ""]
    return "\n".join(parts)


def rst_report(results: dict[str, Any]) -> str:
    parts = [f"Latest run: {describe(results)}", ""]
    for title, text in sections(results):
        parts += [f".. rubric:: {title}", "", text, ""]
    return "\n".join(parts)


def update_docs(results: dict[str, Any], page: Path = DOCS_PAGE) -> None:
    """Replace the generated section of ``docs/benchmarks.rst`` (between its markers)."""
    text = page.read_text(encoding="utf-8")
    head, found, rest = text.partition(BEGIN)
    _, found_end, tail = rest.partition(END)
    if not (found and found_end):
        raise RuntimeError(f"{page}: the markers {BEGIN!r} and {END!r} are missing")
    page.write_text(f"{head}{BEGIN}\n\n{rst_report(results)}\n{END}{tail}", encoding="utf-8")
