"""Snapshots of the dev agent's replicated state: what ``/v1/snapshot`` saves and restores.

Two halves, both pure (files in, files out; no asyncio, no HTTP):

* the **state**: every replicated table has ``dump()`` (JSON-ready data: its rows with their
  Raft indexes, and its table indexes) and ``load(data)`` (replace the whole table with such a
  dump). :func:`collect` gathers the named tables of a
  :class:`~aioconsul.testing.backend.Backend` (its ``snapshot_parts``) into one document and
  :func:`apply` puts such a document back, all or nothing. What the tables hold is what Consul's
  FSM snapshot holds (``agent/consul/fsm/snapshot_ce.go``): nodes, services, checks and
  coordinates, sessions, the ACL tables, KV entries and tombstones, prepared queries, the
  autopilot configuration, config entries, the CA, peerings, and the index table. User events
  are not in it: they are gossip, never in Raft. The document is our own JSON, not Raft's
  msgpack stream: a snapshot of a real Consul cluster cannot be restored into the dev agent, nor
  the other way round.
* the **archive**, exactly as ``snapshot/archive.go`` and ``snapshot/snapshot.go`` write it: a
  gzip-compressed tar of ``meta.json`` (``raft.SnapshotMeta`` as Go's ``encoding/json`` encodes
  it), ``state.bin`` (the state document) and ``SHA256SUMS`` (``<hex>  <name>`` lines), read back
  and verified with Consul's error texts (:class:`SnapshotError`, an RPC error: the HTTP layer
  answers 500 with its text).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import struct
import tarfile
import zlib
from collections.abc import Mapping
from typing import IO, Any, Final, Protocol

from ..golang.jsondecode import Bytes, Int, Opaque, Str, Struct, Uint, unmarshal
from ..golang.stdlib import GoSyntaxError, strconv_quote
from .memdb import RPCError

__all__ = [
    "ABANDON",
    "STATE_FORMAT",
    "SnapshotError",
    "SnapshotPart",
    "apply",
    "collect",
    "decode_state",
    "encode_state",
    "read_archive",
    "snapshot_meta",
    "write_archive",
]

#: The channel every blocking query of the state store also parks on: notified when a restore
#: replaces the whole state (memdb's ``AbandonCh``), the query then returns what it had.
ABANDON: Final = "state:abandon"
#: What ``state.bin`` of a dev-agent snapshot says it is.
STATE_FORMAT: Final = "aioconsul-dev-agent-state"
_STATE_VERSION: Final = 1
_BLOCK: Final = 512
_CHUNK: Final = 64 * 1024
#: raft.SnapshotVersionMin/Max: the metadata versions ``Raft.Restore`` takes.
_SNAPSHOT_VERSIONS: Final = (0, 1)

_META_SCHEMA: Final = Struct(
    name="raft.SnapshotMeta",
    short="SnapshotMeta",
    strict=False,  # json.Unmarshal: unknown fields are ignored
    fields={
        "Version": Int(name="raft.SnapshotVersion"),
        "ID": Str(),
        "Index": Uint(),
        "Term": Uint(),
        "Peers": Bytes(),
        "Configuration": Opaque(),
        "ConfigurationIndex": Uint(),
        "Size": Int(name="int64"),
    },
)


class SnapshotError(RPCError):
    """A snapshot that cannot be saved or restored, with Consul's text."""


class SnapshotPart(Protocol):
    """A replicated table, as a snapshot sees it."""

    def dump(self) -> dict[str, Any]:
        """The whole table as JSON-ready data, indexes included."""
        ...

    def load(self, data: dict[str, Any]) -> None:
        """Replace the whole table with what :meth:`dump` returned."""
        ...


# -- the state document ------------------------------------------------------------------


def collect(parts: Mapping[str, SnapshotPart]) -> dict[str, Any]:
    """The state document of ``parts``: each table's dump, by name."""
    return {
        "Format": STATE_FORMAT,
        "Version": _STATE_VERSION,
        "Tables": {name: part.dump() for name, part in parts.items()},
    }


def encode_state(state: dict[str, Any]) -> bytes:
    """``state.bin``: the state document as compact JSON."""
    return json.dumps(state, separators=(",", ":"), allow_nan=False).encode()


def _restore_error(reason: str) -> SnapshotError:
    # Where Raft.Restore hands the data to the FSM (raft's restoreUserSnapshot).
    return SnapshotError(
        f"Raft error when restoring snapshot: failed to restore snapshot: {reason}"
    )


def decode_state(data: bytes) -> dict[str, Any]:
    """The state document of ``state.bin``; a real Consul snapshot's msgpack is refused."""
    try:
        state = json.loads(data)
    except ValueError:
        state = None
    if not isinstance(state, dict) or state.get("Format") != STATE_FORMAT:
        raise _restore_error(
            "state.bin is not a dev agent's state: only a snapshot saved from an "
            "aioconsul dev agent can be restored into one (a real Consul snapshot holds "
            "Raft's msgpack stream)"
        )
    if state.get("Version") != _STATE_VERSION or not isinstance(state.get("Tables"), dict):
        raise _restore_error(f"unsupported dev agent state version {state.get('Version')!r}")
    return state


def apply(parts: Mapping[str, SnapshotPart], state: dict[str, Any]) -> None:
    """Load each table of ``state`` into the part of that name: all of them or none.

    A table the document does not hold keeps what it has (a fresh agent's, as a leader
    initializes what a restored state lacks); a table this agent does not have is an error. If
    a table refuses its data, every table is put back as it was.
    """
    tables: dict[str, Any] = state["Tables"]
    unknown = sorted(set(tables) - set(parts))
    if unknown:
        raise _restore_error(f"unknown table {strconv_quote(unknown[0])} in the state")
    names = [name for name in parts if name in tables]
    saved = {name: parts[name].dump() for name in names}
    try:
        for name in names:
            parts[name].load(tables[name])
    except Exception as exc:  # a malformed table: nothing of the snapshot is kept
        for name in names:
            parts[name].load(saved[name])
        raise _restore_error(f"table {strconv_quote(name)}: {type(exc).__name__}: {exc}") from None


# -- the archive (snapshot/archive.go) ---------------------------------------------------


def _encode_peers(addresses: list[str]) -> bytes:
    """raft's encodePeers: msgpack of the addresses as raw byte strings (go-msgpack)."""
    out = bytearray([0x90 | len(addresses)])
    for address in addresses:
        raw = address.encode()
        out += bytes([0xA0 | len(raw)]) if len(raw) < 32 else bytes([0xDA]) + struct.pack(
            ">H", len(raw))
        out += raw
    return bytes(out)


def snapshot_meta(
    *, index: int, term: int, node_id: str, address: str, size: int, now_ms: int
) -> dict[str, Any]:
    """``raft.SnapshotMeta`` of a single-server cluster, fields in Go's declaration order.

    The ID is the file snapshot store's ``<term>-<index>-<unix ms>``; the configuration is the
    one voter bootstrapped at index 1.
    """
    return {
        "Version": 1,
        "ID": f"{term}-{index}-{now_ms}",
        "Index": index,
        "Term": term,
        "Peers": base64.b64encode(_encode_peers([address])).decode("ascii"),
        "Configuration": {"Servers": [{"Suffrage": 0, "ID": node_id, "Address": address}]},
        "ConfigurationIndex": 1,
        "Size": size,
    }


def _tar_entry(name: str, size: int, mtime: float) -> bytes:
    """A USTAR header as Go's tar.Writer writes it for Name/Mode/Size/ModTime."""
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o600
    info.mtime = int(mtime)
    info.uname = info.gname = ""
    return info.tobuf(format=tarfile.USTAR_FORMAT)


def _padding(size: int) -> bytes:
    return b"\0" * (-size % _BLOCK)


def write_archive(out: IO[bytes], meta: dict[str, Any], state: bytes, *, mtime: float) -> None:
    """snapshot.New's archive: gzip(tar(meta.json, state.bin, SHA256SUMS)) into ``out``.

    ``meta`` is encoded as ``json.Encoder`` does (a trailing newline), ``state`` is
    ``state.bin`` (``meta["Size"]`` bytes); the tar ends with its two zero blocks and no
    record padding, as Go's writer leaves it.
    """
    meta_json = json.dumps(meta, separators=(",", ":")).encode() + b"\n"
    sums = (
        f"{hashlib.sha256(meta_json).hexdigest()}  meta.json\n"
        f"{hashlib.sha256(state).hexdigest()}  state.bin\n"
    ).encode()
    compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    crc, size = 0, 0
    # gzip.NewWriter's header: no name, ModTime zero, OS "unknown".
    out.write(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff")

    def put(data: bytes) -> None:
        nonlocal crc, size
        crc = zlib.crc32(data, crc)
        size += len(data)
        for start in range(0, len(data), _CHUNK):
            out.write(compressor.compress(data[start:start + _CHUNK]))

    for name, data in (("meta.json", meta_json), ("state.bin", state), ("SHA256SUMS", sums)):
        put(_tar_entry(name, len(data), mtime))
        put(data)
        put(_padding(len(data)))
    put(b"\0" * (2 * _BLOCK))
    out.write(compressor.flush())
    out.write(struct.pack("<II", crc, size & 0xFFFFFFFF))


class _GoError(Exception):
    """An error of Go's compress/gzip, compress/flate, archive/tar or io, by its text."""


class _Gunzip:
    """Go's gzip.Reader (multistream) over a file: reads return data before an error.

    An error found while filling a read that got some data is kept and raised by the next
    read, as Go's Read returns ``n > 0`` with the error and ``io.ReadFull`` drops it.
    """

    def __init__(self, src: IO[bytes]) -> None:
        self._src = src
        self._pending = b""  # compressed input not yet given to the decompressor
        self._out = bytearray()
        self._error: _GoError | None = None
        self._done = False
        self._consumed = 0
        self._inflate: Any = None
        self._crc = 0
        self._size = 0
        if not self._header():
            raise _GoError("EOF")

    def _take(self, n: int) -> bytes:
        """Exactly ``n`` bytes of compressed input, or fewer at its end."""
        while len(self._pending) < n:
            chunk = self._src.read(_CHUNK)
            if not chunk:
                break
            self._pending += chunk
        data, self._pending = self._pending[:n], self._pending[n:]
        self._consumed += len(data)
        return data

    def _until_nul(self) -> None:
        while True:
            byte = self._take(1)
            if not byte:
                raise _GoError("unexpected EOF")
            if byte == b"\0":
                return

    def _header(self) -> bool:
        """Read a member's header; False at a clean end of input."""
        head = self._take(10)
        if not head:
            return False
        if len(head) < 10:
            raise _GoError("unexpected EOF")
        if head[:3] != b"\x1f\x8b\x08":
            raise _GoError("gzip: invalid header")
        flags = head[3]
        if flags & 0x04:  # FEXTRA
            extra = self._take(2)
            if len(extra) < 2 or len(self._take(int.from_bytes(extra, "little"))) < \
                    int.from_bytes(extra, "little"):
                raise _GoError("unexpected EOF")
        if flags & 0x08:  # FNAME
            self._until_nul()
        if flags & 0x10:  # FCOMMENT
            self._until_nul()
        if flags & 0x02 and len(self._take(2)) < 2:  # FHCRC
            raise _GoError("unexpected EOF")
        self._inflate = zlib.decompressobj(-zlib.MAX_WBITS)
        self._crc = self._size = 0
        return True

    def _fill(self, n: int) -> None:
        while len(self._out) < n and not self._done and self._error is None:
            try:
                self._step()
            except _GoError as exc:
                self._error = exc

    def _step(self) -> None:
        inflate = self._inflate
        data = self._take(_CHUNK)
        if not data:
            raise _GoError("unexpected EOF")
        start = self._consumed - len(data)
        try:
            out = inflate.decompress(data)
        except zlib.error:
            raise _GoError(f"flate: corrupt input before offset {start}") from None
        self._crc = zlib.crc32(out, self._crc)
        self._size += len(out)
        self._out += out
        if not inflate.eof:
            return
        # The member ended: give back what follows it, then check its trailer.
        self._pending = inflate.unused_data + self._pending
        self._consumed -= len(inflate.unused_data)
        trailer = self._take(8)
        if len(trailer) < 8:
            raise _GoError("unexpected EOF")
        crc, size = struct.unpack("<II", trailer)
        if crc != self._crc or size != self._size & 0xFFFFFFFF:
            raise _GoError("gzip: invalid checksum")
        if not self._header():
            self._done = True

    def read(self, n: int) -> bytes:
        """Up to ``n`` bytes; ``b""`` at the end; a kept error once nothing is left."""
        self._fill(n)
        if not self._out and self._error is not None:
            raise self._error
        data = bytes(self._out[:n])
        del self._out[:n]
        return data

    def read_full(self, n: int) -> bytes:
        """io.ReadFull: ``n`` bytes, ``b""`` at a clean end, else ``unexpected EOF``."""
        data = b""
        while len(data) < n:
            chunk = self.read(n - len(data))
            if not chunk:
                if data:
                    raise _GoError("unexpected EOF")
                return b""
            data += chunk
        return data

    def read_all(self) -> int:
        """io.ReadAll, counting the bytes (concludeGzipRead)."""
        count = 0
        while chunk := self.read(_CHUNK):
            count += len(chunk)
        return count


class _TarReader:
    """Go's tar.Reader for the headers a snapshot holds (USTAR, as Consul writes them)."""

    def __init__(self, src: _Gunzip) -> None:
        self._src = src
        self._remaining = 0
        self._pad = 0

    def next(self) -> tuple[str, int] | None:
        """The next entry's name and size, or None at the end of the archive."""
        self.skip()
        if self._pad and len(self._src.read_full(self._pad)) < self._pad:
            raise _GoError("unexpected EOF")
        self._pad = 0
        block = self._src.read_full(_BLOCK)
        if not block:
            return None
        if block == bytes(_BLOCK):
            second = self._src.read_full(_BLOCK)
            if not second or second == bytes(_BLOCK):
                return None
            raise _GoError("archive/tar: invalid tar header")
        try:
            info = tarfile.TarInfo.frombuf(block, "utf-8", "surrogateescape")
        except tarfile.HeaderError:
            raise _GoError("archive/tar: invalid tar header") from None
        size = info.size if info.isreg() else 0
        self._remaining, self._pad = size, -size % _BLOCK
        return info.name, size

    def read(self, n: int = _CHUNK) -> bytes:
        """Up to ``n`` bytes of the current entry; a short entry is ``unexpected EOF``."""
        if self._remaining == 0:
            return b""
        data = self._src.read(min(n, self._remaining))
        if not data:
            raise _GoError("unexpected EOF")
        self._remaining -= len(data)
        return data

    def skip(self) -> None:
        while self.read():
            pass


_SUM_LINE: Final = re.compile(r"\s*([0-9a-fA-F]*)\s+(\S+)")


def _verify(sums: bytes, hashes: dict[str, Any]) -> None:
    """hashList.DecodeAndVerify."""
    seen: set[str] = set()
    lines = sums.split(b"\n")
    if lines[-1] == b"":
        lines.pop()  # bufio.Scanner: no empty token after the last newline
    for raw in lines:
        line = raw.removesuffix(b"\r").decode("utf-8", "replace")
        match = _SUM_LINE.match(line)
        if match is None or not match.group(1):
            raise _GoError("unexpected EOF" if not line.strip() else "expected integer")
        digest, name = match.groups()
        digest = digest if len(digest) % 2 == 0 else digest[:-1]
        expected = hashes.get(name)
        if expected is None:
            raise _GoError(f"list missing hash for {strconv_quote(name)}")
        if bytes.fromhex(digest) != expected.digest():
            raise _GoError(f"hash check failed for {strconv_quote(name)}")
        seen.add(name)
    for name in hashes:
        if name not in seen:
            raise _GoError(f"file missing for {strconv_quote(name)}")


def _decode_meta(data: bytes) -> dict[str, Any]:
    """json.Unmarshal into raft.SnapshotMeta: one value, nothing after it."""
    text = data.decode("utf-8", "replace").lstrip(" \t\r\n")
    try:
        _, end = json.JSONDecoder().raw_decode(text)
    except ValueError:
        pass  # unmarshal names the syntax error
    else:
        rest = text[end:].lstrip(" \t\r\n")
        if rest:
            raise _GoError("failed to decode snapshot metadata: invalid character "
                           f"{_go_char(rest[0])} after top-level value")
    try:
        meta = unmarshal(data, _META_SCHEMA)
    except GoSyntaxError as exc:
        text = str(exc)
        if text in ("EOF", "unexpected EOF"):
            text = "unexpected end of JSON input"  # json.Unmarshal's word for both
        raise _GoError(f"failed to decode snapshot metadata: {text}") from None
    return meta if isinstance(meta, dict) else {}


def _go_char(ch: str) -> str:
    """encoding/json's quoteChar."""
    if ch == "'":
        return "'\\''"
    if ch == '"':
        return "'\"'"
    return "'" + ch + "'" if ch.isprintable() else strconv_quote(ch)


def _read(archive: _TarReader, sink: IO[bytes]) -> dict[str, Any]:
    """archive.go read: the entries by name, state.bin copied to ``sink``, then the sums."""
    hashes = {"meta.json": hashlib.sha256(), "state.bin": hashlib.sha256()}
    meta: dict[str, Any] = {}
    sums = bytearray()
    while True:
        try:
            entry = archive.next()
        except _GoError as exc:
            raise _GoError(f"failed reading snapshot: {exc}") from None
        if entry is None:
            break
        name, _ = entry
        if name == "meta.json":
            buf = bytearray()
            try:
                while chunk := archive.read():
                    buf += chunk
            except _GoError as exc:
                raise _GoError(f"failed to read snapshot metadata: {exc}") from None
            hashes["meta.json"].update(buf)
            meta = _decode_meta(bytes(buf))
        elif name == "state.bin":
            try:
                while chunk := archive.read():
                    sink.write(chunk)
                    hashes["state.bin"].update(chunk)
            except _GoError as exc:
                raise _GoError(f"failed to read or write snapshot data: {exc}") from None
        elif name == "SHA256SUMS":
            try:
                while chunk := archive.read():
                    sums += chunk
            except _GoError as exc:
                raise _GoError(f"failed to read snapshot hashes: {exc}") from None
        else:
            raise _GoError(f"unexpected file {strconv_quote(name)} in snapshot")
    try:
        _verify(bytes(sums), hashes)
    except _GoError as exc:
        raise _GoError(f"failed checking integrity of snapshot: {exc}") from None
    return meta


def read_archive(source: IO[bytes], sink: IO[bytes]) -> dict[str, Any]:
    """snapshot.Read, then what Raft.Restore checks: ``state.bin`` into ``sink``, the metadata
    returned. Raises :class:`SnapshotError` with Consul's texts:

    ``failed to decompress snapshot: gzip: invalid header`` (not gzip), ``failed to read
    snapshot file: failed checking integrity of snapshot: hash check failed for "state.bin"``
    (a file changed), ``failed to read snapshot file: unexpected file "x" in snapshot``,
    ``N unread uncompressed bytes remain``, ``gzip: invalid checksum``, ...
    """
    try:
        gunzip = _Gunzip(source)
    except _GoError as exc:
        raise SnapshotError(f"failed to decompress snapshot: {exc}") from None
    try:
        meta = _read(_TarReader(gunzip), sink)
    except _GoError as exc:
        raise SnapshotError(f"failed to read snapshot file: {exc}") from None
    try:
        extra = gunzip.read_all()  # concludeGzipRead
    except _GoError as exc:
        raise SnapshotError(str(exc)) from None
    if extra:
        raise SnapshotError(f"{extra} unread uncompressed bytes remain")
    version = meta.get("Version", 0)
    if version not in _SNAPSHOT_VERSIONS:
        raise SnapshotError(
            f"Raft error when restoring snapshot: unsupported snapshot version {version}"
        )
    written = sink.tell()
    size = meta.get("Size", 0)
    if written != size:
        raise SnapshotError(
            "Raft error when restoring snapshot: failed to write snapshot, size didn't match "
            f"({written} != {size})"
        )
    return meta
