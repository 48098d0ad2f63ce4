"""pytest plugin ``aioconsul``: dev-agent fixtures and the ``--run-slow`` switch.

Fixtures (each function-scoped, asyncio):

* ``consul_agent`` -- a fresh, started :class:`~aioconsul.testing.DevAgent`, stopped after the
  test. Skipped when ``AIOCONSUL_TEST_ADDR`` points the tests at a real agent.
* ``consul`` -- an ``aioconsul.Consul`` client for ``consul_agent`` (the same agent when a test
  asks for both), or for ``AIOCONSUL_TEST_ADDR`` when that is set; closed after the test.
* ``consul_management_token`` -- the SecretID of the agent's initial management token in a test
  marked ``consul_acl`` (against a real agent: ``CONSUL_HTTP_TOKEN``, or the test is skipped).

A test marked ``@pytest.mark.consul_acl(default_policy="deny")`` gets a dev agent with Consul's
ACL system on (``acl_enabled=True``, the given ``default_policy``, "deny" unless said, and a
fresh initial management token); its ``consul`` client sends that management token.

Tests marked ``slow`` run only with ``--run-slow``; tests marked ``devagent`` are skipped when
``AIOCONSUL_TEST_ADDR`` is set. Importing this module must never require pytest-asyncio or
import the client eagerly: pytest loads it for every session once aioconsul is installed.

The fixtures need pytest-asyncio (``pip install 'aioconsul[pytest]'``). Without it, or with it
disabled (``-p no:asyncio``), a test that asks for one fails at setup with one message saying
so, and the other tests of the session are not affected.
"""

from __future__ import annotations

import importlib
import os
import uuid
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

import pytest

if TYPE_CHECKING:
    from aioconsul.testing import DevAgent

__all__ = ["consul", "consul_agent", "consul_management_token"]

ENV_ADDR = "AIOCONSUL_TEST_ADDR"
_NEEDS_DEV_AGENT = "needs the dev agent (AIOCONSUL_TEST_ADDR points at a real agent)"

_F = TypeVar("_F", bound=Callable[..., Any])

_fixture: Any
try:
    import pytest_asyncio

    _fixture = pytest_asyncio.fixture
except ImportError:  # pragma: no cover - without pytest-asyncio the async fixtures cannot run
    _fixture = pytest.fixture


def _async_fixture(func: _F) -> _F:
    """``pytest_asyncio.fixture`` when available, else a plain ``pytest.fixture``."""
    return cast(_F, _fixture(func))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--run-slow",
        action="store_true",
        default=False,
        help="also run tests marked slow",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: long-running tests, opt-in with --run-slow")
    config.addinivalue_line(
        "markers",
        "devagent: needs the embedded dev agent's own controls (skipped against a real agent)",
    )
    config.addinivalue_line(
        "markers",
        "consul_acl(default_policy='deny'): the dev agent runs with ACLs on and the consul "
        "client sends its initial management token",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    run_slow = config.getoption("--run-slow")
    real_agent = bool(os.environ.get(ENV_ADDR))
    skip_slow = pytest.mark.skip(reason="slow test: use --run-slow to run it")
    skip_dev = pytest.mark.skip(reason=_NEEDS_DEV_AGENT)
    for item in items:
        if not run_slow and "slow" in item.keywords:
            item.add_marker(skip_slow)
        if real_agent and "devagent" in item.keywords:
            item.add_marker(skip_dev)


NEEDS_ASYNCIO = ("the aioconsul fixtures (consul, consul_agent) need pytest-asyncio: "
                 "pip install 'aioconsul[pytest]'")


@pytest.fixture
def _aioconsul_needs_asyncio(request: pytest.FixtureRequest) -> None:
    """Fail the test at setup, with one clear message, when pytest-asyncio is not active.

    Set up before the async fixtures (they depend on it), so none of them is ever started
    without the plugin that runs them: pytest would name a private fixture, and a half-set-up
    async fixture would break the tests after it.
    """
    if request.config.pluginmanager.has_plugin("asyncio"):
        return
    why = ("pytest-asyncio is installed but not active: disabled with -p no:asyncio?"
           if _fixture is not pytest.fixture else "pytest-asyncio is not installed")
    pytest.fail(f"{NEEDS_ASYNCIO} ({why})", pytrace=False)


def _acl_options(request: pytest.FixtureRequest) -> dict[str, Any] | None:
    """The DevAgent ACL options of a test marked ``consul_acl``, else None."""
    marker = request.node.get_closest_marker("consul_acl")
    if marker is None:
        return None
    if marker.args:
        raise TypeError("consul_acl takes keyword arguments only (default_policy=...)")
    unknown = set(marker.kwargs) - {"default_policy"}
    if unknown:
        raise TypeError(f"consul_acl: unknown argument(s) {', '.join(sorted(unknown))}")
    return {
        "acl_enabled": True,
        "acl_default_policy": marker.kwargs.get("default_policy", "deny"),
        "acl_initial_management": str(uuid.uuid4()),
    }


@_async_fixture
async def _aioconsul_dev_agent(
    _aioconsul_needs_asyncio: None, request: pytest.FixtureRequest
) -> AsyncIterator[DevAgent | None]:
    """The per-test dev agent shared by ``consul_agent`` and ``consul`` (None for a real one)."""
    if os.environ.get(ENV_ADDR):
        yield None
        return
    from aioconsul.testing import DevAgent

    async with DevAgent(**(_acl_options(request) or {})) as agent:
        yield agent


@pytest.fixture
def consul_management_token(
    _aioconsul_dev_agent: DevAgent | None, request: pytest.FixtureRequest
) -> str:
    """The management SecretID of a ``consul_acl`` test's agent."""
    if _aioconsul_dev_agent is None:
        token = os.environ.get("CONSUL_HTTP_TOKEN")
        if not token:
            pytest.skip("a real agent (AIOCONSUL_TEST_ADDR) needs CONSUL_HTTP_TOKEN for this test")
        return token
    secret = _aioconsul_dev_agent.acl_initial_management
    if secret is None:
        raise pytest.UsageError("consul_management_token needs a test marked consul_acl")
    return secret


@pytest.fixture
def consul_agent(_aioconsul_dev_agent: DevAgent | None) -> DevAgent:
    """A started dev agent, empty, stopped after the test."""
    if _aioconsul_dev_agent is None:
        pytest.skip(_NEEDS_DEV_AGENT)
    return _aioconsul_dev_agent


@_async_fixture
async def consul(_aioconsul_dev_agent: DevAgent | None) -> AsyncIterator[Any]:
    """An ``aioconsul.Consul`` client for the test's agent, closed after the test."""
    # The client is imported only when a test asks for it, so the plugin loads without it.
    consul_class = importlib.import_module("aioconsul").Consul
    address = os.environ.get(ENV_ADDR) or ""
    if _aioconsul_dev_agent is not None:
        address = _aioconsul_dev_agent.address
    token = None
    if _aioconsul_dev_agent is not None:
        token = _aioconsul_dev_agent.acl_initial_management
    client = consul_class(address, token=token) if token else consul_class(address)
    try:
        yield client
    finally:
        await client.close()
