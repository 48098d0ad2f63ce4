"""Snapshots of the servers' state: ``GET`` and ``PUT /v1/snapshot``, streamed.

Follows the Go client's ``api/snapshot.go``: :meth:`Snapshot.save` writes the archive Consul
streams (a gzip-compressed tar, ``application/x-gzip``) into a file or any byte sink as it
arrives, chunk by chunk, and returns the answer's :class:`~aioconsul.typing.Meta` (its
``Index`` is the Raft index the snapshot was taken at); :meth:`Snapshot.restore` sends an archive
from a file, bytes or any async byte source as the request body, chunk by chunk
(``application/octet-stream``). Neither ever holds a whole snapshot in memory (unless it is
handed one as bytes). Both need a token with ``acl:write`` (Consul's "management" level).
Neither is retried: a streamed body cannot be sent twice.
"""

from __future__ import annotations

import inspect
import os
import tempfile
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from typing import Any, Final, Protocol, Union

from .._core.core import Endpoint
from .._core.request import Request, build
from .._core.response import parse
from ..typing import Meta

__all__ = ["ByteSink", "ByteSource", "Snapshot"]

#: How much of the archive is read or sent at a time.
CHUNK_SIZE: Final = 64 * 1024


class _Writer(Protocol):
    def write(self, data: bytes, /) -> Any: ...


class _Reader(Protocol):
    def read(self, size: int, /) -> Any: ...


#: Where :meth:`Snapshot.save` writes: a path, or an object whose ``write(bytes)`` is a
#: coroutine (an async file, a stream) or a plain call (a binary file opened for writing).
ByteSink = Union[str, "os.PathLike[str]", _Writer]
#: What :meth:`Snapshot.restore` sends: a path, bytes, an async iterable of bytes, or an object
#: whose ``read(n)`` returns bytes or a coroutine of bytes (``b""`` at the end).
ByteSource = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, AsyncIterable[bytes],
                   _Reader]


async def _maybe(result: Any) -> Any:
    return await result if inspect.isawaitable(result) else result


async def _file_chunks(path: str | os.PathLike[str]) -> AsyncIterator[bytes]:
    with open(path, "rb") as file:
        while chunk := file.read(CHUNK_SIZE):
            yield chunk


async def _reader_chunks(reader: _Reader) -> AsyncIterator[bytes]:
    while True:
        chunk = await _maybe(reader.read(CHUNK_SIZE))
        if not chunk:
            return
        if not isinstance(chunk, (bytes, bytearray, memoryview)):
            raise TypeError(f"source: read() returned {type(chunk).__name__}, not bytes")
        yield bytes(chunk)


async def _iterable_chunks(source: AsyncIterable[Any]) -> AsyncIterator[bytes]:
    async for chunk in source:
        if not isinstance(chunk, (bytes, bytearray, memoryview)):
            raise TypeError(f"source: yielded {type(chunk).__name__}, not bytes")
        yield bytes(chunk)


def _body(source: Any) -> bytes | AsyncIterable[bytes]:
    """The request body of ``source`` (checked before anything is sent)."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    if isinstance(source, (str, os.PathLike)):
        if not os.path.isfile(source):
            raise FileNotFoundError(f"source: no such file: {os.fspath(source)!r}")
        return _file_chunks(source)
    if isinstance(source, AsyncIterable):
        return _iterable_chunks(source)
    if callable(getattr(source, "read", None)):
        return _reader_chunks(source)
    raise TypeError(
        "source: expected a path, bytes, an async iterable of bytes or an object with "
        f"read(), got {type(source).__name__}"
    )


class Snapshot(Endpoint):
    """``client.snapshot``. Every method takes ``token``:
    the ACL token of that call, instead of the client's."""

    __slots__ = ()

    async def _send(
        self, request: Request, consume: Callable[[bytes], Awaitable[None]] | None
    ) -> Meta:
        """Send ``request``; stream a 2xx body into ``consume``; raise the error of others."""
        transport = self._core.transport
        agent = transport.current
        async with transport.stream(request, agent, chunk_size=CHUNK_SIZE) as (
            status, headers, read,
        ):
            if not 200 <= status < 300:
                body = bytearray()
                while chunk := await read():
                    body += chunk
                parse(request, status, headers, bytes(body), address=transport.address_of(agent))
            meta = Meta.from_headers(headers)
            while chunk := await read():
                if consume is not None:
                    await consume(chunk)
        return meta

    async def save(
        self, dest: ByteSink, *, stale: bool = False, dc: str | None = None,
        token: str | None = None,
    ) -> Meta:
        """Save a snapshot of the servers' state (``GET /v1/snapshot``) into ``dest``.

        ``dest`` is a path (written to a temporary file beside it, renamed into place once the
        whole archive arrived, so a failed save leaves no partial file), or a byte sink: any
        object with ``write(bytes)``, a coroutine (awaited before the next chunk is read) or a
        plain call. The archive is written chunk by chunk as it arrives (at most
        :data:`CHUNK_SIZE` bytes each), never held whole. ``stale`` lets any server answer
        (``?stale``): the only consistency option a snapshot takes. Returns the answer's Meta;
        its ``Index`` is the index the snapshot was taken at.
        """
        if not isinstance(stale, bool):
            raise TypeError(f"stale: expected True or False, got {type(stale).__name__}")
        request = build("GET", "/v1/snapshot", self._core.config,
                        params=[("stale", "")] if stale else (), dc=dc, token=token)
        if isinstance(dest, (str, os.PathLike)):
            path = os.fspath(dest)
            fd, part = tempfile.mkstemp(prefix=".snapshot-", dir=os.path.dirname(path) or ".")
            try:
                with os.fdopen(fd, "wb") as file:
                    async def to_file(chunk: bytes) -> None:
                        file.write(chunk)

                    meta = await self._send(request, to_file)
                os.replace(part, path)
            except BaseException:
                os.unlink(part)
                raise
            return meta
        write = getattr(dest, "write", None)
        if not callable(write):
            raise TypeError("dest: expected a path or an object with write(bytes), "
                            f"got {type(dest).__name__}")

        async def to_sink(chunk: bytes) -> None:
            await _maybe(write(chunk))

        return await self._send(request, to_sink)

    async def restore(
        self, source: ByteSource, *, dc: str | None = None, token: str | None = None,
    ) -> None:
        """Restore a snapshot (``PUT /v1/snapshot``): replace the servers' whole state with
        the archive ``source`` holds (one :meth:`save` returned).

        ``source`` is a path, bytes, an async iterable of bytes, or an object with ``read(n)``
        (returning bytes, or a coroutine of bytes; ``b""`` at the end); all but bytes are sent
        chunk by chunk as they are read. Consul verifies the archive first: a damaged one is
        refused (:class:`~aioconsul.errors.ServerError`, e.g. ``failed to read snapshot file:
        failed checking integrity of snapshot: hash check failed for "state.bin"``) and the
        state is left as it was. Blocking queries on the old state return at once.
        """
        body = _body(source)
        request = build("PUT", "/v1/snapshot", self._core.config, dc=dc, token=token,
                        content_type="application/octet-stream")
        request.body = body
        await self._send(request, None)
