"""The ``aioconsul`` pytest plugin, run in a child pytest so its options and env are isolated."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest

from aioconsul.testing import DevAgent

pytest_plugins = ["pytester"]

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


# -- without pytest-asyncio ----------------------------------------------------------------------

WITHOUT_ASYNCIO = """
def test_agent(consul_agent):
    pass

def test_plain():
    pass

def test_client(consul):
    pass

def test_plain_after():
    pass

def test_agent_again(consul_agent):
    pass
"""


@pytest.mark.parametrize("installed", [True, False], ids=["disabled", "not-installed"])
def test_the_fixtures_without_pytest_asyncio_fail_with_one_clear_message(
        pytester: pytest.Pytester, installed: bool) -> None:
    """Each test that asks for a fixture fails at setup saying what to install, naming no
    private fixture; the other tests are not affected."""
    pytester.makepyfile(test_sample=WITHOUT_ASYNCIO)
    if not installed:  # an import of pytest_asyncio fails, as when it is not installed
        pytester.makepyfile(pytest_asyncio="raise ImportError('No module named pytest_asyncio')")
        pytester.syspathinsert()
    installed_plugin = any(ep.name == "aioconsul" for ep in entry_points(group="pytest11"))
    plugin = [] if installed_plugin else ["-p", "aioconsul.testing.pytest_plugin"]
    env = {"PYTHONPATH": os.pathsep.join(filter(None, [str(pytester.path),
                                                       os.environ.get("PYTHONPATH")]))}
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {**env, "AIOCONSUL_TEST_ADDR": ""}.items():
            patch.setenv(name, value)
        result = pytester.runpytest_subprocess("-p", "no:asyncio", "-p", "no:cacheprovider",
                                               *plugin)
    result.assert_outcomes(passed=2, errors=3)
    output = result.stdout.str()
    assert output.count("need pytest-asyncio: pip install 'aioconsul[pytest]'") >= 3
    assert ("installed but not active" if installed else "pytest-asyncio is not installed") \
        in output
    assert "_aioconsul" not in output  # no private fixture named
    assert "AssertionError" not in output


def test_the_extra_the_message_names_declares_what_the_plugin_needs() -> None:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    extras = tomllib.loads(pyproject.read_text())["project"]["optional-dependencies"]
    assert {req.split(">")[0] for req in extras["pytest"]} == {"pytest", "pytest-asyncio"}
