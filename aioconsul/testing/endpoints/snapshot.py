"""HTTP endpoints: ``/v1/snapshot`` (``agent/snapshot_endpoint.go`` and the server half,
``agent/consul/snapshot_endpoint.go``).

``GET`` saves the whole replicated state as Consul's archive (a gzip-compressed tar of
``meta.json``, ``state.bin`` and ``SHA256SUMS``: :mod:`~aioconsul.testing.state.snapshot`) and
streams it; ``PUT`` reads an archive from the request body, verifies it and replaces the state
with it (:meth:`~aioconsul.testing.backend.Backend.restore_snapshot`). The one ACL sense is
``acl = "write"`` (``SnapshotAllowed``: reading a snapshot gives every token), checked after the
datacenter is forwarded and before the body is read. Errors are the RPC's: 500 with Consul's
text. ``state.bin`` is the dev agent's own JSON, so only dev-agent snapshots restore here.
"""

from __future__ import annotations

import tempfile
import time
from typing import Final

from aiohttp import web

from ..acl.authorizer import Permission
from ..backend import Backend
from ..http.acl import authorize
from ..http.query import forward, set_meta
from ..http.reply import Context, Reply, Route
from ..state.memdb import RPCError
from ..state.snapshot import (
    decode_state,
    encode_state,
    read_archive,
    snapshot_meta,
    write_archive,
)

__all__ = ["ROUTES"]

#: What Go's http.DetectContentType sniffs from the archive's first bytes (Consul sets none).
GZIP_CONTENT_TYPE: Final = "application/x-gzip"
_CHUNK: Final = 64 * 1024
#: Archives and uploads up to this size stay in memory; larger ones spill to a temporary file
#: (snapshot.New and snapshot.Read use a temporary file for the same reason).
_SPOOL: Final = 4 * 1024 * 1024
_RAFT_TERM: Final = 2  # a freshly bootstrapped single server's term
_RAFT_ADDRESS: Final = "127.0.0.1:8300"


async def snapshot(api: Backend, ctx: Context) -> Reply:
    """Snapshot: ``GET`` saves (streamed, ``X-Consul-Index`` the snapshot's Raft index),
    ``PUT`` restores (an empty 200).

    dc and token are parsed, the datacenter forwarded, then the token must grant
    ``acl:write`` (``SnapshotAllowed``). A restore with ``?stale`` is refused after that check
    ("stale not allowed for restore"), before its body is read.
    """
    stale = "stale" in ctx.query
    forward(api, ctx.query.get("dc") or api.datacenter)
    authorize(api, ctx).require(Permission.SNAPSHOT)
    if ctx.request.method == "GET":
        return _save(api, ctx)
    if stale:
        raise RPCError("stale not allowed for restore")
    await _restore(api, ctx)
    return Reply()


def _save(api: Backend, ctx: Context) -> Reply:
    """snapshot.New: the state is taken now (a point in time); its archive is written to a
    spooled file when the answer starts, then streamed out."""
    index = api.store.raft_index
    state = encode_state(api.snapshot_state())
    now = time.time()
    meta = snapshot_meta(
        index=index, term=_RAFT_TERM, node_id=api.node_id, address=_RAFT_ADDRESS,
        size=len(state), now_ms=int(now * 1000),
    )
    set_meta(ctx, index)  # reply.Index = snap.Index(), with the leader's QueryMeta
    request = ctx.request

    async def stream(response: web.StreamResponse) -> None:
        with tempfile.SpooledTemporaryFile(max_size=_SPOOL) as archive:
            write_archive(archive, meta, state, mtime=now)
            archive.seek(0)
            try:
                await response.prepare(request)
                while chunk := archive.read(_CHUNK):
                    await response.write(chunk)
                await response.write_eof()
            except ConnectionError:
                pass  # the client hung up

    api.streams[id(request)] = stream
    return Reply(200, content_type=GZIP_CONTENT_TYPE)


async def _restore(api: Backend, ctx: Context) -> None:
    """snapshot.Restore: the body is spooled, verified and read, then the state replaced."""
    with tempfile.SpooledTemporaryFile(max_size=_SPOOL) as body, \
            tempfile.SpooledTemporaryFile(max_size=_SPOOL) as data:
        async for chunk in ctx.request.content.iter_chunked(_CHUNK):
            body.write(chunk)
        body.seek(0)
        meta = read_archive(body, data)
        data.seek(0)
        state = decode_state(data.read())
    api.restore_snapshot(int(meta.get("Index", 0)), state)


ROUTES: Final[tuple[Route, ...]] = (
    Route.of("/v1/snapshot", ("GET", "PUT"), snapshot),
)
