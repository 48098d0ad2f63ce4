"""The agent-local half of the dev agent (Consul's ``agent/local`` and ``agent/checks``).

:mod:`.state`: the local services and checks and their anti-entropy with the catalog;
:mod:`.checks`: the check runners (TTL, HTTP, TCP); :mod:`.session_timers`: the session TTL
timers (``agent/consul/session_ttl.go``); :mod:`.tokens`: the agent's own tokens. Nothing from
the HTTP layer.
"""
