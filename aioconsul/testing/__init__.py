"""An embedded Consul-compatible agent for tests and local development.

:class:`DevAgent` serves Consul's HTTP API (KV, transactions, sessions, user events, status, the
catalog, health, coordinates and the agent endpoints, with checks that really run) from memory,
the way ``consul agent -dev`` would, so the client can be exercised without a Consul
binary. Run it from the command line with ``python -m aioconsul.testing``; in pytest, the
``aioconsul`` plugin provides ``consul_agent`` and ``consul`` fixtures.

Where the dev agent and a real Consul could answer differently, real Consul is right: the agent
follows the Consul sources (cited in its modules) and must never invent behaviour of its own.
"""

from .agent import DevAgent

__all__ = ["DevAgent"]
