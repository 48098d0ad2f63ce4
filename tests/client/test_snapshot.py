"""``client.snapshot``: save streamed into a file or a sink, restore streamed from a file,
bytes, a reader or an async iterable (api/snapshot.go)."""

from __future__ import annotations

import io
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from aioconsul import Consul
from aioconsul.api.snapshot import CHUNK_SIZE
from aioconsul.errors import PermissionDenied, ServerError
from aioconsul.testing import DevAgent

pytestmark = pytest.mark.asyncio


class Sink:
    """An async byte sink that records the size of every write."""

    def __init__(self) -> None:
        self.sizes: list[int] = []
        self.data = bytearray()

    async def write(self, chunk: bytes) -> None:
        self.sizes.append(len(chunk))
        self.data += chunk


async def test_save_streams_into_a_sink_chunk_by_chunk(consul: Consul) -> None:
    """The archive arrives in chunks of at most CHUNK_SIZE; it is never held whole."""
    for i in range(4):  # random values: an archive several chunks long
        await consul.kv.set(f"big/{i}", os.urandom(100_000))
    sink = Sink()
    meta = await consul.snapshot.save(sink)
    assert len(sink.data) > 2 * CHUNK_SIZE
    assert len(sink.sizes) > 2 and max(sink.sizes) <= CHUNK_SIZE
    assert sink.data[:2] == b"\x1f\x8b"
    assert meta["Index"] > 0 and meta["KnownLeader"] is True


async def test_save_into_a_path_and_restore_from_it(consul: Consul, tmp_path: Path) -> None:
    """Save, delete the key, restore: the key is back with the index it had."""
    await consul.kv.set("app/config", b"v1")
    before, before_meta = await consul.kv.get("app/config")
    path = tmp_path / "backup.snap"
    await consul.snapshot.save(path)
    assert path.stat().st_size > 0 and not [p for p in tmp_path.iterdir() if p != path]
    await consul.kv.delete("app/config")
    assert (await consul.kv.get("app/config"))[0] is None
    await consul.snapshot.restore(path)
    after, after_meta = await consul.kv.get("app/config")
    assert after == before and after_meta["Index"] == before_meta["Index"]


async def test_save_into_a_binary_file(consul: Consul) -> None:
    file = io.BytesIO()
    await consul.snapshot.save(file, stale=True)
    assert file.getvalue()[:2] == b"\x1f\x8b"


async def test_restore_from_bytes_reader_and_async_iterable(consul: Consul) -> None:
    await consul.kv.set("k", b"1")
    sink = Sink()
    await consul.snapshot.save(sink)
    archive = bytes(sink.data)

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(archive), 1000):
            yield archive[start:start + 1000]

    for source in (archive, io.BytesIO(archive), chunks()):
        await consul.kv.delete("k")
        await consul.snapshot.restore(source)
        assert (await consul.kv.get("k"))[0] is not None


async def test_restore_into_a_fresh_agent(consul: Consul) -> None:
    await consul.kv.set("app/config", b"v1")
    sink = Sink()
    await consul.snapshot.save(sink)
    async with DevAgent() as fresh, Consul(fresh.address) as other:
        await other.snapshot.restore(bytes(sink.data))
        value, _ = await other.kv.get("app/config")
        assert value is not None and value["Value"] == b"v1"


async def test_a_corrupt_archive_is_refused_with_consuls_text(consul: Consul) -> None:
    with pytest.raises(ServerError, match="failed to decompress snapshot: gzip: invalid header"):
        await consul.snapshot.restore(b"this is not a snapshot archive")


async def test_a_failed_save_leaves_no_file(consul: Consul, tmp_path: Path) -> None:
    path = tmp_path / "backup.snap"
    with pytest.raises(ServerError, match="No path to datacenter"):
        await consul.snapshot.save(path, dc="dc2")
    assert list(tmp_path.iterdir()) == []


async def test_inputs_are_checked_before_anything_is_sent(consul: Consul, tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="dest"):
        await consul.snapshot.save(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="stale"):
        await consul.snapshot.save(Sink(), stale="yes")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="source"):
        await consul.snapshot.restore(42)  # type: ignore[arg-type]
    with pytest.raises(FileNotFoundError):
        await consul.snapshot.restore(tmp_path / "missing.snap")


@pytest.mark.consul_acl
async def test_snapshots_need_a_management_token(consul: Consul, consul_agent: DevAgent,
                                                 consul_management_token: str) -> None:
    """acl:write (SnapshotAllowed); a restored token works again."""
    token, _ = await consul.acl.tokens.create(policies=["global-management"])
    sink = Sink()
    await consul.snapshot.save(sink, token=token["SecretID"])
    async with Consul(consul_agent.address) as anonymous:
        with pytest.raises(PermissionDenied, match="lacks permission 'acl:write'"):
            await anonymous.snapshot.save(Sink())
        with pytest.raises(PermissionDenied, match="lacks permission 'acl:write'"):
            await anonymous.snapshot.restore(bytes(sink.data))
    await consul.acl.tokens.delete(token["AccessorID"])
    await consul.snapshot.restore(bytes(sink.data))
    async with Consul(consul_agent.address, token=token["SecretID"]) as restored:
        await restored.kv.set("works", b"yes")
