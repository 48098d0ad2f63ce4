"""The documentation's examples run: every script of ``docs/examples/`` exits 0.

Each script starts its own embedded dev agent, asserts what it shows and must finish quickly; the
pytest example is run by pytest. They run in a clean environment (no ``CONSUL_*`` or
``AIOCONSUL_TEST_ADDR``), so that the docs show what a fresh shell would see.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"
PYTEST_EXAMPLE = "testing_pytest.py"
SCRIPTS = sorted(path.name for path in EXAMPLES.glob("*.py") if path.name != PYTEST_EXAMPLE)
#: Generous against a slow CI machine; each script itself finishes in well under 2 s.
TIMEOUT = 30


def _env() -> dict[str, str]:
    return {name: value for name, value in os.environ.items()
            if not name.startswith("CONSUL_") and name != "AIOCONSUL_TEST_ADDR"}


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=EXAMPLES, env=_env(), capture_output=True, text=True,
        timeout=TIMEOUT, check=False,
    )


def test_the_examples_are_there() -> None:
    assert {"quickstart.py", "kv.py", "event.py", "errors.py", PYTEST_EXAMPLE} <= {
        path.name for path in EXAMPLES.glob("*.py")}


@pytest.mark.parametrize("script", SCRIPTS)
def test_example_script_runs(script: str) -> None:
    result = _run(script)
    assert result.returncode == 0, f"{script} failed:\n{result.stdout}\n{result.stderr}"


def test_pytest_example_passes() -> None:
    result = _run("-m", "pytest", "-p", "no:cacheprovider", "-q", PYTEST_EXAMPLE)
    assert result.returncode == 0, f"{PYTEST_EXAMPLE} failed:\n{result.stdout}\n{result.stderr}"
