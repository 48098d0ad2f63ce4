"""Consul's size limits shared by the KV and transaction endpoints (no imports of its own, so
:mod:`.kv` and :mod:`.txn` can both build on it without importing each other at load time)."""

#: Consul's default ``kv_max_value_size``: 512 KiB.
MAX_VALUE_SIZE = 512 * 1024
