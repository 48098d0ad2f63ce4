"""The agent's own tokens (``agent/token/store.go``): what a request without a token uses.

``/v1/agent/token/<kind>`` sets them (ACLs enabled); ``default`` is the "user" token a request
that carries none is served with (``parseTokenWithDefault``).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["AgentTokens"]


@dataclass(slots=True)
class AgentTokens:
    default: str = ""  # acl.tokens.default: the user token
    agent: str = ""  # acl.tokens.agent (falls back to default for the agent's own calls)
    agent_recovery: str = ""  # acl.tokens.agent_recovery
    replication: str = ""  # acl.tokens.replication
    config_file_service_registration: str = ""  # acl.tokens.config_file_service_registration
    dns: str = ""  # acl.tokens.dns (falls back to default)

    def user(self) -> str:
        """token.Store.UserToken."""
        return self.default
