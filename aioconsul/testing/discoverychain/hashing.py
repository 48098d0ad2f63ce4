"""``mitchellh/hashstructure`` (v1), for the one value the chain compiler hashes.

Consul's ``CustomizationHash`` is the first eight hex digits of ``hashstructure.Hash`` (v1, FNV-1
64-bit, the default options) of an anonymous struct holding the overrides that changed the
compilation. Only the kinds that struct holds are written here: strings, ``int64`` values
(``time.Duration``) and structs of them, in field order.

Pure: no I/O.
"""

from __future__ import annotations

import struct
from typing import Final

__all__ = ["customization_hash", "fnv1_64"]

_OFFSET: Final = 0xCBF29CE484222325
_PRIME: Final = 0x100000001B3
_MASK: Final = (1 << 64) - 1


def fnv1_64(data: bytes) -> int:
    """``hash/fnv.New64`` (FNV-1, not FNV-1a) over ``data``."""
    h = _OFFSET
    for byte in data:
        h = (h * _PRIME) & _MASK
        h ^= byte
    return h


def _string(value: str) -> int:
    return fnv1_64(value.encode("utf-8"))


def _int64(value: int) -> int:
    return fnv1_64(struct.pack("<q", value))


def _ordered(a: int, b: int) -> int:
    """hashUpdateOrdered: both hashes written little-endian into a fresh hasher."""
    return fnv1_64(struct.pack("<QQ", a, b))


def _struct(name: str, fields: list[tuple[str, int]]) -> int:
    """A struct: the hash of its type name, XORed with each (field name, value) hash."""
    h = _string(name)
    for field, value_hash in fields:
        h ^= _ordered(_string(field), value_hash)
    return h


def customization_hash(mesh_gateway_mode: str, protocol: str, connect_timeout_ns: int) -> str:
    """``fmt.Sprintf("%x", hashstructure.Hash(customization, nil))[0:8]`` (compile.go)."""
    gateway = _struct("MeshGatewayConfig", [("Mode", _string(mesh_gateway_mode))])
    value = _struct(
        "",  # an anonymous struct type has no name
        [
            ("OverrideMeshGateway", gateway),
            ("OverrideProtocol", _string(protocol)),
            ("OverrideConnectTimeout", _int64(connect_timeout_ns)),
        ],
    )
    return f"{value:x}"[:8]
