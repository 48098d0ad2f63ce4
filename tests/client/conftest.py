"""Fixtures of the client tests: they run against the embedded dev agent over HTTP (the plugin's
``consul_agent``/``consul`` fixtures), or against a real agent named by ``AIOCONSUL_TEST_ADDR``."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest

from aioconsul import Consul


@pytest.fixture
async def session(consul: Consul) -> AsyncIterator[str]:
    """A session with no TTL and no lock-delay, destroyed after the test."""
    created = await consul.session.create("aioconsul-test", lock_delay="0s")
    yield created["ID"]
    await consul.session.destroy(created)


@pytest.fixture
def unreachable() -> str:
    """An address where nothing listens: a call that reaches the network fails there."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{sock.getsockname()[1]}"
