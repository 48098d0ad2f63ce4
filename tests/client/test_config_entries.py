"""``client.config_entries`` against the dev agent (``api/config_entry.go``)."""

from __future__ import annotations

import pytest

from aioconsul import Consul
from aioconsul.errors import ConsulError


async def test_apply_get_items_delete_with_cas(consul: Consul) -> None:
    entry = {"Kind": "service-defaults", "Name": "web", "Protocol": "http"}
    assert await consul.config_entries.apply(entry, cas=0) is True
    assert await consul.config_entries.apply(entry, cas=0) is False
    got, meta = await consul.config_entries.get("service-defaults", "web")
    assert got is not None and got["Protocol"] == "http" and meta["Index"] >= got["ModifyIndex"]
    stale = got["ModifyIndex"]
    assert await consul.config_entries.apply(entry, cas=stale) is True
    assert await consul.config_entries.apply(entry, cas=stale) is False  # a stale index
    items, _ = await consul.config_entries.items("service-defaults")
    assert [e["Name"] for e in items] == ["web"]
    assert await consul.config_entries.delete("service-defaults", "web", cas=stale) is False
    assert await consul.config_entries.delete("service-defaults", "web") is True
    missing, _ = await consul.config_entries.get("service-defaults", "web")
    assert missing is None


async def test_refusals_and_input_errors(consul: Consul) -> None:
    with pytest.raises(ConsulError, match="only \"global\" is supported"):
        await consul.config_entries.apply({"Kind": "proxy-defaults", "Name": "x"})
    with pytest.raises(ValueError, match="Kind"):
        await consul.config_entries.apply({"Name": "x"})
    with pytest.raises(TypeError, match="kind"):
        await consul.config_entries.get(1, "x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="cas"):
        await consul.config_entries.delete("service-defaults", "x", cas=-1)
