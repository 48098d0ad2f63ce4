"""Turning results into tables (reStructuredText simple tables, readable as plain text too), the
target checks, and the generated section of ``docs/benchmarks.rst``.

Pure functions over the result dict the runner builds; the only files written are the docs page,
only between its two marker comments, and the chart (:func:`chart`, with matplotlib).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .common import ROOT

DOCS_PAGE = ROOT / "docs" / "benchmarks.rst"
#: The chart of CPU per call and per wake-up by client (``--update-docs`` draws it).
CHART = ROOT / "docs" / "_static" / "benchmarks.png"
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


def _loop(case: dict[str, Any]) -> str:
    """The client event loop of a case (results from before ``--loop`` ran on asyncio)."""
    return str(case.get("loop", "asyncio"))


def _label(case: dict[str, Any]) -> str:
    return case["case"] + (f" x{case['concurrency']}" if case["concurrency"] > 1 else "")


def _cpu_ratio(case: dict[str, Any], a: str, b: str) -> float | None:
    if a == b and a in case.get("clients", {}):
        return 1.0
    value = case.get("ratios", {}).get(f"{a}/{b}", {}).get("cpu")
    return None if value is None else float(value)


def _two(value: float | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def _calls(results: dict[str, Any]) -> str:
    rows = []
    for case in results["cases"]:
        if case.get("kind") != "calls" or "clients" not in case:
            continue
        first = True
        for name, stats in case["clients"].items():
            # (RST simple tables read a blank first cell as a continuation line: repeat it.)
            rows.append([_label(case), _loop(case), case["server"], name, stats["cpu_us"],
                         _two(_cpu_ratio(case, name, "naive")),
                         _two(_cpu_ratio(case, name, "raw")), stats["p50_ms"],
                         stats["p99_ms"], round(stats["rps"]),
                         case["peak_rss_mib"] if first else None])
            first = False
    return table(["case", "loop", "server", "client", "CPU µs/call", "CPU x naive", "CPU x raw",
                  "p50 ms", "p99 ms", "req/s", "peak RSS MiB"], rows)


#: The per-batch ratio columns: (numerator, denominator).
RATIO_COLUMNS = (("aioconsul", "naive"), ("aioconsul", "raw"), ("aioconsul", "py-consul"),
                 ("aioconsul", "discovery-client"), ("py-consul", "naive"),
                 ("discovery-client", "naive"), ("naive", "floor"))


def _ratios(results: dict[str, Any]) -> str:
    rows = []
    for case in results["cases"]:
        if case.get("kind") != "calls" or "ratios" not in case:
            continue
        rows.append([_label(case), _loop(case), case["server"],
                     *(_two(_cpu_ratio(case, a, b)) for a, b in RATIO_COLUMNS),
                     case["batches"]])
    return table(["case", "loop", "server", *(f"{a}/{b}" for a, b in RATIO_COLUMNS),
                  "batches"], rows)


def _latency(results: dict[str, Any]) -> str:
    rows = []
    for case in results["cases"]:
        if case.get("case") != "watch.latency" or "clients" not in case:
            continue
        rows += [[_loop(case), name, s["p50_ms"], s["p99_ms"], s["samples"]]
                 for name, s in case["clients"].items()]
    return table(["loop", "client", "p50 ms", "p99 ms", "samples"], rows) if rows else ""


def _watches(results: dict[str, Any]) -> str:
    rows = []
    for case in results["cases"]:
        if case.get("case") != "watches":
            continue
        loop = _loop(case)
        if "error" in case:
            rows.append([loop, case["server"], case["client"], case["n"], "error", *[None] * 8])
            continue
        bare = _find(results, "watches", loop=loop, server=case["server"], client="raw",
                     n=case["n"])
        cpu_x = rss_x = None
        if bare is not None and "cpu_us_per_wake" in bare:
            cpu_x = _two(case["cpu_us_per_wake"] / bare["cpu_us_per_wake"])
            if bare["rss_kib_per_watch"] > 0:
                rss_x = _two(case["rss_kib_per_watch"] / bare["rss_kib_per_watch"])
        rows.append([loop, case["server"], case["client"], case["n"], case["held"],
                     case["rss_kib_per_watch"], rss_x, case["fanout_ms"], case["wake_p50_ms"],
                     case["cpu_us_per_wake"], cpu_x, case.get("gc_per_wake"), case["setup_s"]])
    return table(["loop", "server", "client", "watches", "held", "RSS KiB/watch", "RSS x raw",
                  "fan-out ms", "wake p50 ms", "CPU µs/wake", "CPU x raw", "GC runs/fan-out",
                  "set-up s"], rows)


def _shared(results: dict[str, Any]) -> str:
    """aioconsul's shared watches beside its watches with a read each (same server, N, loop)."""
    rows = []
    for case in results["cases"]:
        if case.get("case") != "watches.shared":
            continue
        loop = _loop(case)
        if "error" in case:
            rows.append([loop, case["server"], case["n"], "error", *[None] * 9])
            continue
        alone = _find(results, "watches", loop=loop, server=case["server"],
                      client=case["client"], n=case["n"])
        rss_x = cpu_x = None
        if alone is not None and "cpu_us_per_wake" in alone:
            cpu_x = _two(case["cpu_us_per_wake"] / alone["cpu_us_per_wake"])
            if alone["rss_kib_per_watch"] > 0:
                rss_x = _two(case["rss_kib_per_watch"] / alone["rss_kib_per_watch"])
        per = case.get("connections_per_watch")
        rows.append([loop, case["server"], case["n"], case["held"], case.get("connections"),
                     None if per is None else f"{per:.2g}", case["rss_kib_per_watch"], rss_x,
                     case["fanout_ms"], case["wake_p50_ms"], case["cpu_us_per_wake"], cpu_x])
    return table(["loop", "server", "subscribers", "parked reads", "connections",
                  "connections/subscriber", "RSS KiB/subscriber", "RSS x one read each",
                  "fan-out ms", "wake p50 ms", "CPU µs/wake", "CPU x one read each"],
                 rows) if rows else ""


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


def _find(results: dict[str, Any], name: str, loop: str | None = None,
          **where: Any) -> dict[str, Any] | None:
    """The first case called ``name`` matching ``where`` (and run on ``loop``, if given)."""
    for case in results["cases"]:
        if case.get("case") == name and all(case.get(k) == v for k, v in where.items()) and \
                (loop is None or _loop(case) == loop):
            return dict(case)
    return None


def _loops(results: dict[str, Any]) -> list[str]:
    """The loops the run's cases ran on, asyncio first."""
    seen = {_loop(case) for case in results["cases"] if "kind" in case or "client" in case}
    return sorted(seen or {"asyncio"}, key=lambda loop: (loop != "asyncio", loop))


def _issue_targets(results: dict[str, Any], loop: str,
                   add: Any) -> None:
    """The ratio targets of issue 10, on one loop."""
    on = "" if loop == "asyncio" else f" [{loop}]"
    watch = {name: _find(results, "watches", loop=loop, server="fixed", client=name)
             for name in ("raw", "py-consul", "discovery-client", "aioconsul", "floor")}
    ours = watch["aioconsul"]
    if ours is not None and "cpu_us_per_wake" in ours:
        cpu = ours["cpu_us_per_wake"]
        for peer, limit, text in (("raw", 1.1, "<= 1.1x the bare aiohttp loop"),
                                  ("py-consul", 1.0, "below py-consul"),
                                  ("discovery-client", 1.0, "below discovery-client")):
            other = watch[peer]
            if other is None or "cpu_us_per_wake" not in other:
                continue
            r = cpu / other["cpu_us_per_wake"]
            add(f"watch wake-up CPU {text}{on}",
                f"{r:.2f}x ({cpu:.0f} vs {other['cpu_us_per_wake']:.0f} µs, N={ours['n']:,})",
                r <= limit if limit > 1.0 else r < limit)
        kib = ours["rss_kib_per_watch"]
        text = f"{kib:.1f} KiB/watch at N={ours['n']:,}"
        bare = watch["raw"]
        if bare is not None and "rss_kib_per_watch" in bare:
            text += f" (bare aiohttp {bare['rss_kib_per_watch']:.1f})"
        if ours["n"] >= 10_000:
            add(f"RSS per watch <= 14 KiB at 10,000 watches{on}", text, kib <= 14.0)
        else:
            add(f"RSS per watch <= 14 KiB at 10,000 watches{on}",
                text + " (run --full for 10,000)", None)
    floor = watch["floor"]
    if floor is not None and "cpu_us_per_wake" in floor:
        add(f"protocol floor: watch wake-up CPU{on}", f"{floor['cpu_us_per_wake']:.0f} µs",
            None, "reference")

    health = _find(results, "health.service", loop=loop, server="fixed", concurrency=1)
    r = None if health is None else _cpu_ratio(health, "aioconsul", "naive")
    if r is not None:
        orjson = results.get("meta", {}).get("orjson")
        if orjson:
            add(f"health.service (100 instances) <= 0.75x naive aiohttp, speedups{on}",
                f"{r:.2f}x (orjson {orjson} installed)", r <= 0.75)
        else:
            add(f"health.service (100 instances) <= 1.0x naive aiohttp, no speedups{on}",
                f"{r:.2f}x (orjson not installed)", r <= 1.0)
    for case_name in ("kv.get", "kv.set"):
        case = _find(results, case_name, loop=loop, server="fixed", concurrency=1)
        if case is None:
            continue
        for peer, limit in (("naive", 1.0), ("py-consul", 0.9), ("discovery-client", 1.0)):
            r = _cpu_ratio(case, "aioconsul", peer)
            if r is None:
                continue
            what = "naive aiohttp" if peer == "naive" else peer
            add(f"{case_name} CPU <= {limit:.1f}x {what}{on}", f"{r:.2f}x", r <= limit)
        r = _cpu_ratio(case, "naive", "floor")
        if r is not None and case_name == "kv.get":
            add(f"protocol floor: naive aiohttp kv.get CPU x floor{on}", f"{r:.2f}x", None,
                "reference")
    for concurrency in (64, 512):
        case = _find(results, "kv.get", loop=loop, server="fixed", concurrency=concurrency)
        r = None if case is None else _cpu_ratio(case, "aioconsul", "naive")
        if r is not None:
            add(f"kv.get x{concurrency} in flight CPU <= 1.0x naive aiohttp{on}", f"{r:.2f}x",
                r <= 1.0)


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target, what was measured against it and whether it is met (None: not measured in
    this run): issue 10's ratios first, on each loop that ran, then the earlier targets."""
    out: list[dict[str, Any]] = []

    def add(name: str, measured: str, met: bool | None, status: str | None = None) -> None:
        if status is None:
            status = "not measured" if met is None else "met" if met else "MISSED"
        out.append({"target": name, "measured": measured, "met": met, "status": status})

    for loop in _loops(results):
        _issue_targets(results, loop, add)

    get = _find(results, "kv.get", loop="asyncio", server="fixed", concurrency=1)
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
        case = _find(results, "watches", loop="asyncio", server="fixed", client=client)
        if case is None or "rss_kib_per_watch" not in case:
            continue
        kib = case["rss_kib_per_watch"]
        text = f"{kib:.1f} KiB/watch at N={case['n']:,}"
        if limit is None:
            add(name, text, None, "reference")
        else:
            add(name, text if case["n"] >= 10_000 else text + " (run --full for 10,000)",
                kib <= limit if case["n"] >= 10_000 else None)
    latency = _find(results, "watch.latency", loop="asyncio")
    if latency is not None and "aioconsul" in latency.get("clients", {}):
        p50 = latency["clients"]["aioconsul"]["p50_ms"]
        add("write-to-watcher p50 < 5 ms (aioconsul, dev agent)", f"{p50:.2f} ms", p50 < 5)
    start = _find(results, "agent.startup")
    if start is not None and "cold_answer_ms" in start:
        ms = start["cold_answer_ms"]
        add("dev agent start < 100 ms (DevAgent.start() to first answer)",
            f"{ms:.1f} ms (CLI process: {start['cli_answer_ms']:.0f} ms)", ms < 100)
    held = _find(results, "watches", loop="asyncio", server="agent", client="aioconsul")
    if held is not None and "held" in held:
        ok = held["held"] >= held["n"] and held.get("wrong", 1) == 0
        text = f"held {held['held']:,} of {held['n']:,}, all woken by one write" if ok \
            else f"held {held['held']:,} of {held['n']:,}"
        add("dev agent holds 10,000 blocking clients",
            text if held["n"] >= 10_000 else text + " (run --full for 10,000)",
            ok if held["n"] >= 10_000 else None)
    shared = _find(results, "watches.shared", loop="asyncio", client="aioconsul")
    if shared is not None and "connections" in shared:
        ok = shared["held"] == 1 and shared["connections"] == 1 and shared.get("wrong", 1) == 0
        text = (f"{shared['connections']:,} connection(s), {shared['held']:,} parked read(s) "
                f"for {shared['n']:,} subscribers, "
                f"{shared['rss_kib_per_watch']:.2f} KiB RSS per subscriber")
        add("10,000 subscribers of one key cost one connection (shared watches)",
            text if shared["n"] >= 10_000 else text + " (run --full for 10,000)",
            ok if shared["n"] >= 10_000 else None)
    tput = _find(results, "agent.throughput")
    if tput is not None and "reads_per_cpu_s" in tput:
        rate = tput["reads_per_cpu_s"]
        add("dev agent >= 5,000 KV reads/s on one core", f"{rate:,.0f} reads/s", rate >= 5000)
    return out


def _targets_table(results: dict[str, Any]) -> str:
    rows = [[t["target"], t["measured"], t["status"]] for t in results.get("targets", [])]
    return table(["target", "measured", "status"], rows) if rows else ""


def _errors(results: dict[str, Any]) -> str:
    rows = [[c.get("case"), _loop(c), c.get("server", ""), c.get("client", ""), c["error"][:120]]
            for c in results["cases"] if "error" in c]
    return table(["case", "loop", "server", "client", "error"], rows) if rows else ""


def sections(results: dict[str, Any]) -> list[tuple[str, str]]:
    """The titled tables of one run, in reading order (empty ones left out)."""
    out = [
        ("Targets", _targets_table(results)),
        ("Client cost per call (clients interleaved batch by batch)", _calls(results)),
        ("Median of the per-batch CPU ratios", _ratios(results)),
        ("Write-to-watcher latency (a parked blocking read woken by a PUT, dev agent)",
         _latency(results)),
        ("Concurrent watches of one key (one client per process)", _watches(results)),
        ("Shared watches of one key (aioconsul: N subscribers of one blocking read, one client)",
         _shared(results)),
        ("Dev agent", _agent(results)),
        ("Errors", _errors(results)),
    ]
    return [(title, text) for title, text in out if text]


def describe(results: dict[str, Any]) -> str:
    meta = results["meta"]

    # (A results file from before a package was recorded leaves it out.)
    optional = "".join(f", {name} {meta[name] or 'not installed'}"
                       for name in ("py-consul", "discovery-client", "uvloop", "orjson")
                       if name in meta)
    loops = ", ".join(results.get("settings", {}).get("loops", ["asyncio"]))
    return (f"{meta['date']}, mode {meta['mode']}, {meta['duration_s']:.0f} s, loop {loops}; "
            f"Python {meta['python']}, aiohttp {meta['aiohttp']}, aioconsul {meta['aioconsul']}"
            f"{optional}; {meta['cpus']} CPUs ({meta['cpu_model']}); commit {meta['commit']}.")


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


#: The chart's colours, one per client, in table order.
_COLOURS = {"floor": "#9e9e9e", "raw": "#6baed6", "naive": "#2171b5", "py-consul": "#fd8d3c",
            "discovery-client": "#a63603", "aioconsul": "#31a354"}


def chart(results: dict[str, Any], path: Path = CHART) -> Path:
    """Draw CPU per call (the fixed server's call cases) and CPU per wake-up (the watches) by
    client, one row of panels per loop, to ``path`` (PNG or SVG by its suffix); return it.
    Needs matplotlib (the ``bench`` extra): ``ImportError`` without it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    loops = _loops(results)
    small = [("kv.get", 1), ("kv.get", 64), ("kv.get", 512), ("kv.set", 1)]
    panels: list[tuple[str, list[tuple[str, dict[str, float]]]]] = []
    for loop in loops:
        calls = []
        for name, concurrency in small:
            case = _find(results, name, loop=loop, server="fixed", concurrency=concurrency)
            if case is not None and "clients" in case:
                label = name + (f" x{concurrency}" if concurrency > 1 else "")
                calls.append((label, {c: s["cpu_us"] for c, s in case["clients"].items()}))
        health = _find(results, "health.service", loop=loop, server="fixed", concurrency=1)
        big = [] if health is None or "clients" not in health else [
            ("health.service\n(100 instances)",
             {c: s["cpu_us"] for c, s in health["clients"].items()})]
        wakes = {case["client"]: case["cpu_us_per_wake"] for case in results["cases"]
                 if case.get("case") == "watches" and case.get("server") == "fixed"
                 and _loop(case) == loop and "cpu_us_per_wake" in case}
        n = next((c["n"] for c in results["cases"] if c.get("case") == "watches"), 0)
        panels += [(f"CPU µs per call [{loop}]", calls), (f"CPU µs per call [{loop}]", big),
                   (f"CPU µs per wake-up, {n:,} watches [{loop}]",
                    [("watch wake-up", wakes)] if wakes else [])]
    columns = 3
    figure, axes = plt.subplots(len(loops), columns, figsize=(15, 4.2 * len(loops)),
                                gridspec_kw={"width_ratios": [4, 1.3, 1.6]}, squeeze=False)
    for ax, (title, groups) in zip(axes.flat, panels, strict=True):
        ax.set_title(title, fontsize=10)
        if not groups:
            ax.set_axis_off()
            continue
        names = [c for c in _COLOURS if any(c in values for _, values in groups)]
        width = 0.8 / max(1, len(names))
        for i, client in enumerate(names):
            xs = [g + (i - (len(names) - 1) / 2) * width for g in range(len(groups))]
            ys = [values.get(client, 0.0) for _, values in groups]
            ax.bar(xs, ys, width, label=client, color=_COLOURS[client])
        ax.set_xticks(range(len(groups)), [label for label, _ in groups], fontsize=9)
        ax.grid(axis="y", alpha=0.3)
        ax.set_axisbelow(True)
    shown = {}
    for ax in axes.flat:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            shown.setdefault(label, handle)
    order = [c for c in _COLOURS if c in shown]
    figure.legend([shown[c] for c in order], order, loc="lower center", ncols=len(order),
                  fontsize=9, frameon=False)
    meta = results["meta"]
    figure.suptitle(f"Client CPU by client, fixed-response server (lower is better); "
                    f"{meta['date']}, mode {meta['mode']}, commit {meta['commit']}", fontsize=10)
    figure.tight_layout(rect=(0, 0.05, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    # No timestamp or version in the file: the same results draw the same bytes.
    metadata = {"Software": None} if path.suffix == ".png" else {"Date": None}
    figure.savefig(path, dpi=90, metadata=metadata)
    plt.close(figure)
    return path
