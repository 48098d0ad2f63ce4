"""``client.status`` against an agent over HTTP."""

from __future__ import annotations

import re

from aioconsul import Consul


async def test_leader_is_an_address(consul: Consul) -> None:
    assert re.fullmatch(r"[0-9.]+:\d+", await consul.status.leader())


async def test_peers_include_the_leader(consul: Consul) -> None:
    assert await consul.status.leader() in await consul.status.peers()
