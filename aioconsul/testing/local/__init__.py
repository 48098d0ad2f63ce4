"""The agent-local half of the dev agent (Consul's ``agent/local`` and ``agent/checks``).

:mod:`.state`: the local services and checks and their anti-entropy with the catalog;
:mod:`.checks`: the check runners (TTL, HTTP, TCP). Nothing from the HTTP layer.
"""
