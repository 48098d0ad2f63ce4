"""The agent's gossip keyring (serf's ``KeyManager`` over memberlist's ``Keyring``).

A dev agent started with ``encrypt=KEY`` holds one keyring per gossip pool (LAN and WAN) that
start alike and change together, as ``consul keyring`` drives them: keys are base64 of 16, 24
or 32 bytes, the first is the primary one (used to encrypt), any installed key decrypts. Without
a key the agent has no keyring and every operation fails as serf answers then. Each operation
returns the pool's ``KeyringResponse`` (``agent/structs``), its error as serf's ``KeyResponse``
reports it ("1/1 nodes reported failure" plus the node's message). Nothing from the HTTP layer.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any, Final

__all__ = ["Keyring", "KeyringError", "decode_key", "pool_response", "validate_key"]

_ALPHABET: Final = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")


class KeyringError(ValueError):
    """A key that Go's ``base64.StdEncoding`` or memberlist's ``ValidateKey`` refuses."""


def _corrupt_at(text: bytes) -> int | None:
    """Where ``base64.StdEncoding.DecodeString`` reports ``CorruptInputError``; None if valid."""
    data = text.replace(b"\r", b"").replace(b"\n", b"")  # Go skips newlines (offsets approximate)
    i, n = 0, len(data)
    while i < n:
        quantum = 0
        while quantum < 4:
            if i == n:
                return None if quantum == 0 else i - quantum
            ch = data[i]
            i += 1
            if ch == ord("="):
                if quantum < 2:
                    return i - 1
                if quantum == 2:
                    if i == n:
                        return n
                    if data[i] != ord("="):
                        return i - 1
                    i += 1
                return i if i < n else None
            if ch not in _ALPHABET:
                return i - 1
            quantum += 1
    return None


def decode_key(key: str) -> bytes:
    """base64.StdEncoding.DecodeString, with Go's error text."""
    raw = key.encode("utf-8", "surrogateescape")
    offset = _corrupt_at(raw)
    if offset is not None:
        raise KeyringError(f"illegal base64 data at input byte {offset}")
    try:
        return base64.b64decode(raw.replace(b"\r", b"").replace(b"\n", b""), validate=True)
    except binascii.Error:  # pragma: no cover - _corrupt_at accepts only valid input
        raise KeyringError("illegal base64 data at input byte 0") from None


def validate_key(key: bytes) -> None:
    """memberlist.ValidateKey: AES-128, AES-192 or AES-256."""
    if len(key) not in (16, 24, 32):
        raise KeyringError("key size must be 16, 24 or 32 bytes")


class Keyring:
    """The agent's LAN and WAN keyrings (equal: this agent is the only member of both)."""

    __slots__ = ("_keys",)

    def __init__(self, encrypt: str | None) -> None:
        self._keys: list[bytes] | None = None
        if encrypt:
            raw = decode_key(encrypt)
            validate_key(raw)
            self._keys = [raw]

    @property
    def enabled(self) -> bool:
        """serf.EncryptionEnabled."""
        return self._keys is not None

    def primary(self) -> str | None:
        return base64.b64encode(self._keys[0]).decode() if self._keys else None

    def list(self) -> tuple[dict[str, int], dict[str, int], str]:
        """(Keys, PrimaryKeys, the node's failure message or "")."""
        if self._keys is None:
            return {}, {}, "Keyring is empty (encryption not enabled)"
        keys = {base64.b64encode(k).decode(): 1 for k in self._keys}
        return keys, {base64.b64encode(self._keys[0]).decode(): 1}, ""

    def apply(self, operation: str, raw: bytes) -> str:
        """install, use or remove ``raw`` (already base64-decoded); the failure message or ""."""
        if self._keys is None:
            return "No keyring to modify (encryption not enabled)"
        if operation == "install":  # Keyring.AddKey
            try:
                validate_key(raw)
            except KeyringError as exc:
                return str(exc)
            if raw not in self._keys:
                self._keys.append(raw)
            return ""
        if operation == "use":  # Keyring.UseKey
            if raw not in self._keys:
                return "Requested key is not in the keyring"
            self._keys.remove(raw)
            self._keys.insert(0, raw)
            return ""
        # Keyring.RemoveKey
        if raw == self._keys[0]:
            return "Removing the primary key is not allowed"
        if raw in self._keys:
            self._keys.remove(raw)
        return ""


def pool_response(
    *, wan: bool, datacenter: str, member: str, error: str = "", message: str = "",
    keys: dict[str, int] | None = None, primary: dict[str, int] | None = None,
) -> dict[str, Any]:
    """One pool's structs.KeyringResponse as the HTTP API writes it."""
    out: dict[str, Any] = {"WAN": wan, "Datacenter": datacenter, "Segment": ""}
    if message:
        out["Messages"] = {member: message}
        error = error or "1/1 nodes reported failure"
    out["Keys"] = keys or {}  # serf's KeyResponse makes its maps up front
    out["PrimaryKeys"] = primary or {}
    out["NumNodes"] = 0 if error and not message else 1
    if error:
        out["Error"] = error
    return out
