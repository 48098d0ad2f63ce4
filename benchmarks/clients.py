"""The clients under test, behind one small interface, doing the same work per call.

Each call sends the same request and decodes the same way: the JSON body, the ``Value`` field
from base64 to bytes, and the ``X-Consul-Index`` header. Each returns ``(data, index)``.

* ``floor``: the protocol floor, no HTTP library at all: a keep-alive HTTP/1.1 request over a
  bare :class:`asyncio.Protocol`, the answer framed by its ``Content-Length`` (what the canned
  servers always send), ``json.loads``, ``b64decode``. How far aiohttp itself is from the limit.
* ``raw``: plain aiohttp at its leanest (a str URL, ``await r.read()``, ``json.loads``,
  ``b64decode``): the floor any aiohttp-based client stands on, and the bare watch loop.
* ``naive``: aiohttp as its documentation shows it (``session.get`` + ``await r.json()`` +
  ``b64decode``; a ``PUT`` for ``kv.set``): the row the issue's ratio targets are judged against.
* ``py-consul``: the asyncio client of the PyPI package ``py-consul`` (``consul.aio.Consul``).
* ``discovery-client``: the PyPI package ``discovery-client`` (``discovery.Consul``, its aiohttp
  engine). It opens a ``ClientSession`` per request; it is handed one shared connector
  (``connector_owner=False``) so that its connections are kept alive, as a user tuning it would.
  Its reads return the decoded body only: the KV rows take the index from the entry's
  ``ModifyIndex`` (equal to ``X-Consul-Index`` for a one-key read: Consul's
  ``agent/consul/kvs_endpoint.go`` sets the reply index to the entry's ModifyIndex), the health
  row has none (0).
* ``aioconsul``: this project's :class:`aioconsul.Consul`.

A client is created inside the running loop and closed with :meth:`aclose`.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import json
import re
import warnings
from base64 import b64decode
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from aioconsul import Consul

__all__ = ["CLIENTS", "AioconsulClient", "BenchClient", "DiscoveryClient", "FloorClient",
           "NaiveClient", "PyConsulClient", "RawClient", "available", "index_of", "make"]


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

    def shared_watch(self, key: str, wait: str) -> AsyncIterator[tuple[Any, int]]:
        """Like :meth:`watch`, but every such watch of the client shares one blocking read
        (only aioconsul has shared watches)."""
        raise NotImplementedError(f"{self.name} has no shared watches")

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


class NaiveClient(RawClient):
    """aiohttp as its documentation shows it: ``await r.json()`` decodes the body."""

    name = "naive"

    async def _get_entry(self, url: str) -> tuple[Any, int]:
        async with self._session.get(url) as response:
            if response.status != 200:
                raise RuntimeError(f"GET {url}: {response.status}")
            entry = (await response.json())[0]
            index = int(response.headers["X-Consul-Index"])
        entry["Value"] = b64decode(entry["Value"])
        return entry, index

    async def kv_set(self, key: str, value: bytes) -> bool:
        async with self._session.put(f"{self._base}/v1/kv/{key}", data=value) as response:
            if response.status != 200:
                raise RuntimeError(f"PUT {key}: {response.status}")
            return await response.json() is True

    async def health_service(self, service: str) -> tuple[Any, int]:
        async with self._session.get(f"{self._base}/v1/health/service/{service}") as response:
            if response.status != 200:
                raise RuntimeError(f"GET health {service}: {response.status}")
            nodes = await response.json()
            index = int(response.headers["X-Consul-Index"])
        return nodes, index


_CONTENT_LENGTH = re.compile(rb"(?i)\r\ncontent-length:[ \t]*(\d+)")
_CONSUL_INDEX = re.compile(rb"(?i)\r\nx-consul-index:[ \t]*(\d+)")


class _FloorConnection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection, one request at a time, answers framed by their
    ``Content-Length`` (no chunked encoding: the suite's servers never use it)."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.head_end = -1
        self.need = -1
        self.waiter: asyncio.Future[tuple[bytes, bytes]] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        if self.need < 0:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            match = _CONTENT_LENGTH.search(buffer, 0, end + 2)
            self.head_end, self.need = end, end + 4 + (int(match.group(1)) if match else 0)
        if len(buffer) < self.need:
            return
        head, body = bytes(buffer[: self.head_end + 2]), bytes(buffer[self.head_end + 4:self.need])
        del buffer[: self.need]
        self.need = -1
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result((head, body))

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(exc or ConnectionError("connection closed"))


class FloorClient(BenchClient):
    """The protocol floor: HTTP/1.1 over a bare asyncio Protocol, a pool of idle connections."""

    name = "floor"

    def __init__(self, address: str) -> None:
        super().__init__(address)
        parts = urlsplit(address)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 80
        self._loop = asyncio.get_running_loop()
        self._idle: list[_FloorConnection] = []
        self._all: set[_FloorConnection] = set()

    async def _request(self, head: bytes, body: bytes = b"") -> tuple[bytes, bytes]:
        idle = self._idle
        while idle:
            conn = idle.pop()
            if conn.transport is not None:
                break
            self._all.discard(conn)
        else:
            _, conn = await self._loop.create_connection(_FloorConnection, self._host, self._port)
            self._all.add(conn)
        waiter = conn.waiter = self._loop.create_future()
        assert conn.transport is not None
        conn.transport.write(head + body if body else head)
        try:
            answer = await waiter
        except BaseException:
            # A request cut short (a cancelled watch) leaves the connection unusable.
            if conn.transport is not None:
                conn.transport.close()
            self._all.discard(conn)
            raise
        idle.append(conn)
        if not answer[0].startswith(b"HTTP/1.1 200"):
            raise RuntimeError(f"{head.split(maxsplit=2)[:2]!r}: {answer[0][:40]!r}")
        return answer

    async def _get_entry(self, target: str) -> tuple[Any, int]:
        head, body = await self._request(
            f"GET {target} HTTP/1.1\r\nHost: {self._host}\r\n\r\n".encode())
        match = _CONSUL_INDEX.search(head)
        entry = json.loads(body)[0]
        entry["Value"] = b64decode(entry["Value"])
        return entry, int(match.group(1)) if match else 0

    async def kv_get(self, key: str) -> tuple[Any, int]:
        return await self._get_entry(f"/v1/kv/{key}")

    async def kv_get_blocking(self, key: str, index: int, wait: str) -> tuple[Any, int]:
        return await self._get_entry(f"/v1/kv/{key}?index={index}&wait={wait}")

    async def kv_set(self, key: str, value: bytes) -> bool:
        _, body = await self._request(
            f"PUT /v1/kv/{key} HTTP/1.1\r\nHost: {self._host}\r\n"
            f"Content-Length: {len(value)}\r\n\r\n".encode(), value)
        return json.loads(body) is True

    async def health_service(self, service: str) -> tuple[Any, int]:
        head, body = await self._request(
            f"GET /v1/health/service/{service} HTTP/1.1\r\nHost: {self._host}\r\n\r\n"
            .encode())
        match = _CONSUL_INDEX.search(head)
        return json.loads(body), int(match.group(1)) if match else 0

    async def aclose(self) -> None:
        for conn in self._all:
            if conn.transport is not None:
                conn.transport.close()
        self._all.clear()
        self._idle.clear()
        await asyncio.sleep(0)  # let the transports close


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


class DiscoveryClient(BenchClient):
    name = "discovery-client"

    def __init__(self, address: str) -> None:
        from discovery import Consul as DiscoveryConsul  # type: ignore[import-untyped]
        from discovery.engine.aiohttp import AIOHTTPEngine  # type: ignore[import-untyped]

        super().__init__(address)
        parts = urlsplit(address)
        # It opens a ClientSession per request: a shared connector it does not own keeps the
        # connections alive across them. No total timeout: the watches block for minutes.
        self._connector = aiohttp.TCPConnector(limit=0)
        engine = AIOHTTPEngine(parts.hostname, parts.port, parts.scheme,
                               connector=self._connector, connector_owner=False,
                               timeout=aiohttp.ClientTimeout(total=None))
        self._client = DiscoveryConsul(engine)

    async def kv_get(self, key: str) -> tuple[Any, int]:
        entry = (await self._client.kv.read(key))[0]
        entry["Value"] = b64decode(entry["Value"])
        return entry, int(entry["ModifyIndex"])

    async def kv_get_blocking(self, key: str, index: int, wait: str) -> tuple[Any, int]:
        # Its read() takes no index or wait: they go to aiohttp's params.
        entries = await self._client.kv.read(key, params={"index": index, "wait": wait})
        entry = entries[0]
        entry["Value"] = b64decode(entry["Value"])
        return entry, int(entry["ModifyIndex"])

    async def kv_set(self, key: str, value: bytes) -> bool:
        return bool(await self._client.kv.create(key, value))

    async def health_service(self, service: str) -> tuple[Any, int]:
        return await self._client.health.service_instances(service), 0

    async def aclose(self) -> None:
        await self._connector.close()


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
        # It yields (entry, Meta): index_of() reads the index from either shape. Each watch
        # has its read (shared=False): N watches are N blocking reads, as for the other clients.
        return self._client.kv.watch(key, wait=wait, shared=False)  # type: ignore[return-value]

    def shared_watch(self, key: str, wait: str) -> AsyncIterator[tuple[Any, int]]:
        # The default: watches of one key by one client share one blocking read.
        return self._client.kv.watch(key, wait=wait)  # type: ignore[return-value]

    async def aclose(self) -> None:
        await self._client.close()


def index_of(item: tuple[Any, Any]) -> int:
    """The index of a watch item, ``(entry, index)`` or ``(entry, Meta)``."""
    index = item[1]
    return index if isinstance(index, int) else int(index["Index"])


CLIENTS: dict[str, type[BenchClient]] = {
    "floor": FloorClient, "raw": RawClient, "naive": NaiveClient, "py-consul": PyConsulClient,
    "discovery-client": DiscoveryClient, "aioconsul": AioconsulClient,
}

#: The peers, optional: (client, module to import, PyPI package).
PEERS = (("py-consul", "consul.aio", "py-consul"),
         ("discovery-client", "discovery.engine.aiohttp", "discovery-client"))


def _importable(module: str) -> bool:
    if importlib.util.find_spec(module.partition(".")[0]) is None:
        return False
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


def available() -> list[str]:
    """The clients that can run here, in table order (the peers only when installed:
    ``pip install .[bench]``)."""
    missing = {name for name, module, _ in PEERS if not _importable(module)}
    return [name for name in CLIENTS if name not in missing]


def make(name: str, address: str) -> BenchClient:
    """A new client of kind ``name`` for ``address`` (call inside the running loop)."""
    return CLIENTS[name](address)
