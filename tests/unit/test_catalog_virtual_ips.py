"""The catalog's virtual-IP tables alone (agent/consul/state/catalog.go): snapshots, manual VIPs
(AssignManualServiceVIPs, TestStateStore_AssignManualVirtualIPs) and the transaction rollback."""

from __future__ import annotations

import json

import pytest

from aioconsul.testing.state.catalog import Catalog
from aioconsul.testing.state.config_entry import config_entries
from aioconsul.testing.state.memdb import RPCError
from aioconsul.testing.state.store import Store


def catalog_with_vips() -> Catalog:
    catalog = Catalog(Store(node_name="n"))
    catalog.virtual_ips_enabled = True
    return catalog


def native(catalog: Catalog, name: str) -> None:
    catalog.register({"Node": "n1", "Address": "10.0.0.1",
                      "Service": {"Service": name, "Port": 1, "Connect": {"Native": True}}})


def test_dump_and_load_round_trip_the_vip_tables() -> None:
    catalog = catalog_with_vips()
    for name in ("a", "b", "c"):
        native(catalog, name)
    catalog.deregister("n1", service_id="b")
    dumped = catalog.dump()
    assert dumped["VirtualIPs"]["Counter"] == 3 and dumped["VirtualIPs"]["Freed"] == 2
    other = catalog_with_vips()
    other.load(json.loads(json.dumps(dumped)))
    assert other.dump() == dumped
    assert (other.virtual_ip("a"), other.virtual_ip("b")) == ("240.0.0.1", "")
    native(other, "d")
    assert other.virtual_ip("d") == "240.0.0.2"


def test_manual_vips_move_between_services() -> None:
    catalog = catalog_with_vips()
    assert catalog.assign_manual_virtual_ips("foo", ["7.7.7.7"]) == (False, [])
    native(catalog, "foo")
    assert catalog.assign_manual_virtual_ips("foo", ["7.7.7.7", "8.8.8.8"]) == (True, [])
    config_entries(catalog.store).upsert({"Kind": "service-resolver", "Name": "bar"})
    assert catalog.virtual_ip("bar") == "240.0.0.2"
    assert catalog.assign_manual_virtual_ips("bar", ["7.7.7.7", "9.9.9.9"]) == (True, ["foo"])
    assert catalog.service_virtual_ips("foo") == (["240.0.0.1"], ["8.8.8.8"])
    assert catalog.service_virtual_ips("bar") == (["240.0.0.2"], ["7.7.7.7", "9.9.9.9"])


def test_a_rolled_back_transaction_puts_the_vip_tables_back() -> None:
    catalog = catalog_with_vips()
    store = catalog.store
    with pytest.raises(RPCError), store.write_txn() as index:
        catalog.assign_virtual_ip(index, "web")
        raise RPCError("refused")
    assert catalog.virtual_ip("web") == ""
    native(catalog, "api")
    assert catalog.virtual_ip("api") == "240.0.0.1"


def test_the_range_ends_before_its_last_offset() -> None:
    catalog = catalog_with_vips()
    data = catalog.dump()
    data["VirtualIPs"]["Counter"] = (15 << 24) | 0xFFFFFC
    catalog.load(data)
    assert catalog.assign_virtual_ip(20, "last") == "255.255.255.253"
    with pytest.raises(RPCError, match="cannot allocate any more unique service virtual IPs"):
        catalog.assign_virtual_ip(21, "none")
