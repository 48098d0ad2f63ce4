"""What every part of the suite agrees on: keys, the canned answers, small measuring helpers.

No I/O here beyond reading this process's own counters (``getrusage``, ``/proc/self/statm``).
"""

from __future__ import annotations

import base64
import json
import os
import resource
from collections.abc import Sequence
from pathlib import Path
from typing import Any

#: The repository root (the folder holding ``benchmarks/`` and ``aioconsul/``).
ROOT = Path(__file__).resolve().parent.parent

KEY_GET = "bench/key"  # read by the kv.get cases
KEY_SET = "bench/set"  # written by the kv.set case
KEY_WATCH = "bench/watch"  # blocked on by the watch cases, written to wake them
SERVICE = "web"  # the service of the health case
INSTANCES = 100  # its instances
#: A typical small configuration value.
VALUE = b'{"feature": "on", "pool": 16, "hosts": ["10.0.0.1", "10.0.0.2"], "pad": "' + \
    b"x" * 40 + b'"}'

_PAGE = os.sysconf("SC_PAGE_SIZE")


def cpu_seconds() -> float:
    """User + system CPU time of this process so far (``getrusage(RUSAGE_SELF)``)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def rss_bytes() -> int:
    """This process's resident set size now (``/proc/self/statm``)."""
    with open("/proc/self/statm", "rb") as statm:
        return int(statm.read().split()[1]) * _PAGE


def peak_rss_mib() -> float:
    """This process's peak resident set size so far, in MiB (``ru_maxrss`` is in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def raise_fd_limit() -> int:
    """Raise the soft open-files limit to the hard one (thousands of sockets); return it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = max(soft, 65536)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def percentile(samples: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0..100) of ``samples``, nearest rank; NaN when empty."""
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    rank = max(1, -(-len(ordered) * q // 100))  # ceil(n * q / 100), at least 1
    return ordered[min(len(ordered), int(rank)) - 1]


def median(samples: Sequence[float]) -> float:
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


# -- canned answers, shaped as a Consul 1.21 agent sends them ---------------------------------

def kv_entry(key: str, value: bytes, index: int) -> list[dict[str, Any]]:
    """``GET /v1/kv/<key>``: a one-entry list, the value in base64."""
    return [{"LockIndex": 0, "Key": key, "Flags": 0,
             "Value": base64.b64encode(value).decode("ascii"),
             "CreateIndex": 10, "ModifyIndex": index}]


def registration(i: int) -> dict[str, Any]:
    """The catalog registration of instance ``i`` of :data:`SERVICE` (one node each)."""
    return {
        "Node": f"node-{i:03d}",
        "Address": f"10.0.{i // 250}.{i % 250 + 1}",
        "NodeMeta": {"rack": f"r{i % 8}"},
        "Service": {"ID": f"{SERVICE}-{i:03d}", "Service": SERVICE, "Tags": ["v1", "http"],
                    "Port": 8080, "Meta": {"version": "1.2.3"}},
        "Check": {"CheckID": f"service:{SERVICE}-{i:03d}", "Name": "HTTP on :8080",
                  "Status": "passing", "ServiceID": f"{SERVICE}-{i:03d}",
                  "Output": "HTTP GET http://localhost:8080/health: 200 OK"},
    }


def health_instances(count: int = INSTANCES, index: int = 200) -> list[dict[str, Any]]:
    """``GET /v1/health/service/web``: ``count`` instances with their node and checks."""
    out = []
    for i in range(count):
        reg = registration(i)
        node, service, check = reg["Node"], reg["Service"], reg["Check"]
        out.append({
            "Node": {"ID": f"{i:08x}-0000-4000-8000-000000000000", "Node": node,
                     "Address": reg["Address"], "Datacenter": "dc1",
                     "TaggedAddresses": {"lan": reg["Address"], "wan": reg["Address"]},
                     "Meta": reg["NodeMeta"], "CreateIndex": index, "ModifyIndex": index},
            "Service": {"Kind": "", "ID": service["ID"], "Service": SERVICE,
                        "Tags": service["Tags"], "Address": "", "Meta": service["Meta"],
                        "Port": 8080, "Weights": {"Passing": 1, "Warning": 1},
                        "EnableTagOverride": False,
                        "Proxy": {"Mode": "", "MeshGateway": {}, "Expose": {}},
                        "Connect": {}, "PeerName": "", "CreateIndex": index,
                        "ModifyIndex": index},
            "Checks": [
                {"Node": node, "CheckID": "serfHealth", "Name": "Serf Health Status",
                 "Status": "passing", "Notes": "", "Output": "Agent alive and reachable",
                 "ServiceID": "", "ServiceName": "", "ServiceTags": [], "Type": "",
                 "Interval": "", "Timeout": "", "ExposedPort": 0, "Definition": {},
                 "CreateIndex": index, "ModifyIndex": index},
                {"Node": node, "CheckID": check["CheckID"], "Name": check["Name"],
                 "Status": "passing", "Notes": "", "Output": check["Output"],
                 "ServiceID": service["ID"], "ServiceName": SERVICE,
                 "ServiceTags": service["Tags"], "Type": "http", "Interval": "10s",
                 "Timeout": "5s", "ExposedPort": 0, "Definition": {},
                 "CreateIndex": index, "ModifyIndex": index},
            ],
        })
    return out


def dumps(obj: Any) -> bytes:
    """Compact JSON, as Consul writes it."""
    return json.dumps(obj, separators=(",", ":")).encode()
