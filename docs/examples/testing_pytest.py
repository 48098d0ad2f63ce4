"""Testing your own code with the aioconsul pytest plugin.

The plugin comes with aioconsul (no conftest needed): ``consul`` is a client
connected to a fresh embedded agent, ``consul_agent`` that agent. The tests are
coroutines, run by pytest-asyncio (``asyncio_mode = "auto"`` in your pytest
configuration, as in aioconsul's own).

    # against a fresh DevAgent
    pytest test_settings.py
    # against a real agent
    AIOCONSUL_TEST_ADDR=http://127.0.0.1:8500 pytest test_settings.py
"""

import pytest

from aioconsul import Consul, PermissionDenied
from aioconsul.testing import DevAgent


async def load_settings(client: Consul, app: str) -> dict[str, bytes]:
    """The code under test: read an application's settings from the KV store."""
    entries, _ = await client.kv.items(f"settings/{app}/")
    return {entry["Key"].rsplit("/", 1)[-1]: entry["Value"] for entry in entries}


async def test_settings_are_read_from_kv(consul: Consul) -> None:
    await consul.kv.set("settings/web/port", b"8080")
    await consul.kv.set("settings/web/mode", b"blue")
    assert await load_settings(consul, "web") == {"mode": b"blue", "port": b"8080"}
    await consul.kv.delete_tree("settings/web/")


async def test_each_test_gets_a_fresh_agent(
    consul_agent: DevAgent, consul: Consul,
) -> None:
    # Asking for consul_agent means "only against the embedded agent": with
    # AIOCONSUL_TEST_ADDR set, this test is skipped.
    assert consul.address == consul_agent.address
    assert await load_settings(consul, "web") == {}


@pytest.mark.consul_acl  # ACLs on, default deny; `consul` holds the management token
async def test_the_app_token_may_only_read_its_settings(consul: Consul) -> None:
    await consul.kv.set("settings/web/port", b"8080")
    policy, _ = await consul.acl.policies.create(
        "web-settings", 'key_prefix "settings/web/" { policy = "read" }')
    app, _ = await consul.acl.tokens.create(policies=[policy["Name"]])
    secret = app["SecretID"]
    entries, _ = await consul.kv.items("settings/web/", token=secret)
    assert [entry["Key"] for entry in entries] == ["settings/web/port"]
    with pytest.raises(PermissionDenied) as denied:
        await consul.kv.set("settings/web/port", b"9090", token=secret)
    assert denied.value.permission == "key:write"
