"""An ACL-enabled dev agent for the ``test_acl_*`` modules (import the fixtures you use).

``DevAgent(acl_enabled=True, acl_default_policy="deny", acl_initial_management="root")``, one
per test; :class:`ACLApi` sends the management token unless told otherwise.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest_asyncio

from aioconsul.testing import DevAgent

from .conftest import Api, Reply

__all__ = ["ROOT", "ACLApi", "acl", "acl_agent"]

ROOT = "root"


class ACLApi(Api):
    """Raw HTTP to an ACL-enabled agent; ``token=`` is the X-Consul-Token (``None``: none)."""

    async def call(
        self, method: str, path: str, body: Any = None, *, token: str | None = ROOT,
        raw: bytes | str | None = None,
    ) -> Reply:
        headers = {"X-Consul-Token": token} if token is not None else {}
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        return await self.request(method, path, data, headers=headers)

    async def ok(self, method: str, path: str, body: Any = None, *,
                 token: str | None = ROOT) -> Any:
        reply = await self.call(method, path, body, token=token)
        assert reply.status == 200, (reply.status, reply.text)
        return reply.json() if reply.body else None

    async def policy(self, name: str, rules: str, **fields: Any) -> dict[str, Any]:
        result: dict[str, Any] = await self.ok(
            "PUT", "/v1/acl/policy", {"Name": name, "Rules": rules, **fields})
        return result

    async def token(self, **fields: Any) -> dict[str, Any]:
        result: dict[str, Any] = await self.ok("PUT", "/v1/acl/token", fields)
        return result


@pytest_asyncio.fixture
async def acl_agent() -> AsyncIterator[DevAgent]:
    async with DevAgent(
        acl_enabled=True, acl_default_policy="deny", acl_initial_management=ROOT
    ) as agent:
        yield agent


@pytest_asyncio.fixture
async def acl(http: aiohttp.ClientSession, acl_agent: DevAgent) -> ACLApi:
    return ACLApi(http, acl_agent)
