"""Fixtures for the dev agent's HTTP-level tests: a plain aiohttp client, no aioconsul client.

Paths are sent exactly as written (``yarl.URL(..., encoded=True)``) so that tests control every
byte of the request target, as a Go client or curl would.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest_asyncio
import yarl
from multidict import CIMultiDictProxy

from aioconsul.testing import DevAgent
from aioconsul.testing.acl.authorizer import (
    DENY_ALL,
    Authorizer,
    ChainedAuthorizer,
    Decision,
    Enforcer,
    Permission,
)
from aioconsul.testing.acl.errors import ANONYMOUS_TOKEN_ID, ACLNotFound
from aioconsul.testing.acl.resolver import Resolver


@dataclass
class Reply:
    status: int
    headers: CIMultiDictProxy[str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode()

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def index(self) -> int:
        return int(self.headers["X-Consul-Index"])


class Api:
    """Raw HTTP access to one agent."""

    def __init__(self, http: aiohttp.ClientSession, agent: DevAgent) -> None:
        self.http = http
        self.agent = agent

    def url(self, path: str) -> yarl.URL:
        return yarl.URL(self.agent.address + path, encoded=True)

    async def request(
        self,
        method: str,
        path: str,
        data: bytes | str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        async with self.http.request(
            method, self.url(path), data=data, headers=headers, allow_redirects=False
        ) as resp:
            return Reply(resp.status, resp.headers, await resp.read())

    async def get(self, path: str, **kw: Any) -> Reply:
        return await self.request("GET", path, **kw)

    async def put(self, path: str, data: bytes | str | None = None, **kw: Any) -> Reply:
        return await self.request("PUT", path, data, **kw)

    async def delete(self, path: str, **kw: Any) -> Reply:
        return await self.request("DELETE", path, **kw)

    async def create_session(self, **body: Any) -> str:
        reply = await self.put("/v1/session/create", json.dumps(body) if body else None)
        assert reply.status == 200, reply.text
        session_id: str = reply.json()["ID"]
        return session_id


@pytest_asyncio.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest_asyncio.fixture
async def api(http: aiohttp.ClientSession, consul_agent: DevAgent) -> Api:
    return Api(http, consul_agent)


# -- the authorization seam, driven without the ACL system ---------------------------------


class Grants(Authorizer):
    """A test authorizer: ALLOW a permission on names with one of the given prefixes
    (``""`` allows every name, and a global permission); DEFAULT for anything else."""

    def __init__(self, rules: dict[Permission, tuple[str, ...]]) -> None:
        self.rules = rules

    def decide(self, permission: Permission, name: str = "") -> Decision:
        prefixes = self.rules.get(permission, ())
        if any(name.startswith(prefix) for prefix in prefixes):
            return Decision.ALLOW
        return Decision.DEFAULT


class GrantResolver(Resolver):
    """ACLs enabled with default deny; each SecretID resolves to the :class:`Grants` given to
    it (chained with deny-all), no token to the anonymous token (deny-all), any other SecretID
    is "ACL not found". It tests the permission lines of the handlers without the ACL system."""

    enabled = True
    default_policy = "deny"

    def __init__(self) -> None:
        self.grants: dict[str, Enforcer] = {}

    def grant(self, secret: str, rules: dict[Permission, tuple[str, ...]]) -> dict[str, str]:
        """Give ``secret`` the ``rules``; returns the X-Consul-Token header to send."""
        accessor = f"accessor-{secret}"
        self.grants[secret] = Enforcer(ChainedAuthorizer([Grants(rules), DENY_ALL]), accessor)
        return {"X-Consul-Token": secret}

    def resolve(self, secret: str) -> Enforcer:
        if not secret:
            return Enforcer(DENY_ALL, ANONYMOUS_TOKEN_ID)
        try:
            return self.grants[secret]
        except KeyError:
            raise ACLNotFound() from None


@pytest_asyncio.fixture
async def grants(consul_agent: DevAgent) -> AsyncIterator[GrantResolver]:
    """ACLs on (default deny) through the seam; ``grants.grant(secret, {...})`` makes tokens."""
    backend = consul_agent.backend
    saved = backend.acl
    backend.acl = resolver = GrantResolver()
    try:
        yield resolver
    finally:
        backend.acl = saved
