"""The three clients under test, behind one small interface, doing the same work per call.

Each call sends the same request and decodes the same way: the JSON body, the ``Value`` field
from base64 to bytes, and the ``X-Consul-Index`` header. Each returns ``(data, index)``.

* ``raw``: plain aiohttp, written as a user would (a str URL, ``json.loads``, ``b64decode``):
  the floor any aiohttp-based client stands on.
* ``py-consul``: the asyncio client of the PyPI package ``py-consul`` (``consul.aio.Consul``).
* ``aioconsul``: this project's :class:`aioconsul.Consul`.

A client is created inside the running loop and closed with :meth:`aclose`.
"""

from __future__ import annotations

import importlib.util
import json
import warnings
from base64 import b64decode
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from aioconsul import Consul

__all__ = ["CLIENTS", "AioconsulClient", "BenchClient", "PyConsulClient", "RawClient",
           "available", "index_of", "make"]


class BenchClient:
    """What a case needs from a client."""

    name = ""

    def __init__(self, address: str) -> None:
        self.address = address

    async def kv_get(self, key: str) -> tuple[Any, int]:
        raise NotImplementedError

    async def kv_get_blocking(self, key: str, index: int, wait: str) -> tuple[Any, int]:
        raise NotImplementedError

    async def kv_set(self, key: str, value: bytes) -> bool:
        raise NotImplementedError

    async def health_service(self, service: str) -> tuple[Any, int]:
        raise NotImplementedError

    def watch(self, key: str, wait: str) -> AsyncIterator[tuple[Any, int]]:
        """The key's value at once, then each change: ``(entry, index)``."""
        return self._watch(key, wait)

    async def _watch(self, key: str, wait: str) -> AsyncIterator[tuple[Any, int]]:
        # The watch loop of a client without one: block on the last index, yield on change.
        entry, index = await self.kv_get(key)
        yield entry, index
        while True:
            entry, new = await self.kv_get_blocking(key, index, wait)
            if new != index:
                index = new
                yield entry, index

    async def aclose(self) -> None:
        raise NotImplementedError


class RawClient(BenchClient):
    name = "raw"

    def __init__(self, address: str) -> None:
        super().__init__(address)
        self._base = address.rstrip("/")
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0), timeout=aiohttp.ClientTimeout(total=None))

    async def _get_entry(self, url: str) -> tuple[Any, int]:
        async with self._session.get(url) as response:
            if response.status != 200:
                raise RuntimeError(f"GET {url}: {response.status}")
            body = await response.read()
            index = int(response.headers["X-Consul-Index"])
        entry = json.loads(body)[0]
        entry["Value"] = b64decode(entry["Value"])
        return entry, index

    async def kv_get(self, key: str) -> tuple[Any, int]:
        return await self._get_entry(f"{self._base}/v1/kv/{key}")

    async def kv_get_blocking(self, key: str, index: int, wait: str) -> tuple[Any, int]:
        return await self._get_entry(f"{self._base}/v1/kv/{key}?index={index}&wait={wait}")

    async def kv_set(self, key: str, value: bytes) -> bool:
        async with self._session.put(f"{self._base}/v1/kv/{key}", data=value) as response:
            if response.status != 200:
                raise RuntimeError(f"PUT {key}: {response.status}")
            body = await response.read()
        return json.loads(body) is True

    async def health_service(self, service: str) -> tuple[Any, int]:
        async with self._session.get(f"{self._base}/v1/health/service/{service}") as response:
            if response.status != 200:
                raise RuntimeError(f"GET health {service}: {response.status}")
            body = await response.read()
            index = int(response.headers["X-Consul-Index"])
        return json.loads(body), index

    async def aclose(self) -> None:
        await self._session.close()


class PyConsulClient(BenchClient):
    name = "py-consul"

    def __init__(self, address: str) -> None:
        import consul.aio  # type: ignore[import-untyped]

        super().__init__(address)
        parts = urlsplit(address)
        # py-consul's connector defaults to aiohttp's 100 connections; the watch cases hold
        # thousands. It passes deprecated arguments to aiohttp: not what is measured here.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            self._client = consul.aio.Consul(host=parts.hostname, port=parts.port,
                                             connections_limit=1_000_000)

    async def kv_get(self, key: str) -> tuple[Any, int]:
        index, entry = await self._client.kv.get(key)
        return entry, int(index)

    async def kv_get_blocking(self, key: str, index: int, wait: str) -> tuple[Any, int]:
        new, entry = await self._client.kv.get(key, index=index, wait=wait)
        return entry, int(new)

    async def kv_set(self, key: str, value: bytes) -> bool:
        return bool(await self._client.kv.put(key, value))

    async def health_service(self, service: str) -> tuple[Any, int]:
        index, nodes = await self._client.health.service(service)
        return nodes, int(index)

    async def aclose(self) -> None:
        await self._client.close()


class AioconsulClient(BenchClient):
    name = "aioconsul"

    def __init__(self, address: str) -> None:
        super().__init__(address)
        self._client = Consul(address)

    async def kv_get(self, key: str) -> tuple[Any, int]:
        entry, meta = await self._client.kv.get(key)
        return entry, meta["Index"]

    async def kv_get_blocking(self, key: str, index: int, wait: str) -> tuple[Any, int]:
        entry, meta = await self._client.kv.get(key, watch=(index, wait))
        return entry, meta["Index"]

    async def kv_set(self, key: str, value: bytes) -> bool:
        return await self._client.kv.set(key, value)

    async def health_service(self, service: str) -> tuple[Any, int]:
        nodes, meta = await self._client.health.service(service)
        return nodes, meta["Index"]

    def watch(self, key: str, wait: str) -> AsyncIterator[tuple[Any, int]]:
        # aioconsul's own watch loop (aioconsul.watch.Watch), iterated directly as a user would.
        # It yields (entry, Meta): index_of() reads the index from either shape.
        return self._client.kv.watch(key, wait=wait)  # type: ignore[return-value]

    async def aclose(self) -> None:
        await self._client.close()


def index_of(item: tuple[Any, Any]) -> int:
    """The index of a watch item, ``(entry, index)`` or ``(entry, Meta)``."""
    index = item[1]
    return index if isinstance(index, int) else int(index["Index"])


CLIENTS: dict[str, type[BenchClient]] = {
    "raw": RawClient, "py-consul": PyConsulClient, "aioconsul": AioconsulClient,
}


def available() -> list[str]:
    """The clients that can run here (py-consul only when installed: ``pip install .[bench]``)."""
    names = ["raw", "aioconsul"]
    if importlib.util.find_spec("consul") is not None:
        try:
            import consul.aio  # noqa: F401
        except ImportError:
            pass
        else:
            names.insert(1, "py-consul")
    return names


def make(name: str, address: str) -> BenchClient:
    """A new client of kind ``name`` for ``address`` (call inside the running loop)."""
    return CLIENTS[name](address)
