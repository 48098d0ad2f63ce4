"""The ``aioconsul`` pytest plugin, run in a child pytest so its options and env are isolated."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from aioconsul.testing import DevAgent

TEST_FILE = """
import pytest

async def test_agent_is_started(consul_agent):
    assert consul_agent.running

@pytest.mark.slow
def test_slow():
    pass

@pytest.mark.devagent
def test_needs_dev_agent():
    pass
"""


def run_pytest(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> str:
    (tmp_path / "test_sample.py").write_text(TEST_FILE)
    (tmp_path / "pytest.ini").write_text("[pytest]\nasyncio_mode = auto\n")
    installed = any(ep.name == "aioconsul" for ep in entry_points(group="pytest11"))
    plugin = [] if installed else ["-p", "aioconsul.testing.pytest_plugin"]
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-rs", *plugin, *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=60,
    )
    return result.stdout


def test_consul_agent_fixture_and_slow_marker(tmp_path: Path) -> None:
    env = {"AIOCONSUL_TEST_ADDR": ""}
    assert "2 passed, 1 skipped" in run_pytest(tmp_path, env=env)
    assert "3 passed" in run_pytest(tmp_path, "--run-slow", env=env)


def test_a_real_agent_address_skips_dev_agent_tests(tmp_path: Path) -> None:
    output = run_pytest(tmp_path, "--run-slow", env={"AIOCONSUL_TEST_ADDR": "http://127.0.0.1:1"})
    assert "1 passed, 2 skipped" in output
    assert "needs the dev agent" in output


async def test_consul_fixture_is_a_client_of_the_same_dev_agent(
    consul: Any, consul_agent: DevAgent
) -> None:
    from aioconsul import Consul

    assert isinstance(consul, Consul)
    assert consul.address.endswith(f":{consul_agent.port}")
    assert await consul.status.leader() == "127.0.0.1:8300"
