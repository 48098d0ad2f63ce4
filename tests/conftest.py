"""Suite-wide options: ``pytest --loop uvloop`` runs every async test under uvloop.

Many asyncio services run on uvloop, so the client and the dev agent are tested under it too
(CI runs the suite once each way). The loop is chosen through pytest-asyncio's
``pytest_asyncio_loop_factories`` hook, registered only when uvloop is asked for.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--loop", choices=("asyncio", "uvloop"), default="asyncio",
                     help="the event loop the async tests run on (default: asyncio)")


class _UvloopLoops:
    def pytest_asyncio_loop_factories(
        self, config: pytest.Config, item: pytest.Item,
    ) -> Mapping[str, Callable[[], asyncio.AbstractEventLoop]]:
        import uvloop

        return {"uvloop": uvloop.new_event_loop}


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--loop") == "uvloop":
        try:
            import uvloop  # noqa: F401
        except ImportError:
            raise pytest.UsageError("--loop uvloop: uvloop is not installed "
                                    "(pip install uvloop)") from None
        config.pluginmanager.register(_UvloopLoops(), "aioconsul-uvloop")


@pytest.fixture
def requested_loop(request: pytest.FixtureRequest) -> Any:
    """The name of the event loop the suite was asked to run on."""
    return request.config.getoption("--loop")
