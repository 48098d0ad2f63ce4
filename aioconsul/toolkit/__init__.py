"""The service toolkit: what a service on Consul needs beyond the endpoints, on the public API.

Each helper is an async context manager that owns its background tasks: they start on enter and
are stopped and awaited on exit or cancellation, so nothing is left running. A helper talks to
Consul only through the client's endpoint groups (``client.agent``, ``client.watch``...), never
through aiohttp or the request core.
"""

from __future__ import annotations

from ._live import Changes
from .config import ConfigChange, ConfigRejected, LiveConfig
from .discovery import (
    STRATEGIES,
    WARNING_POLICIES,
    Instance,
    NoInstances,
    Pool,
    PoolChange,
    Weights,
)
from .registration import DRAIN_MODES, Registration

__all__ = [
    "DRAIN_MODES",
    "STRATEGIES",
    "WARNING_POLICIES",
    "Changes",
    "ConfigChange",
    "ConfigRejected",
    "Instance",
    "LiveConfig",
    "NoInstances",
    "Pool",
    "PoolChange",
    "Registration",
    "Weights",
]
