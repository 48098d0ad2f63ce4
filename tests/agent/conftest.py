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
