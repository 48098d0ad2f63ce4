"""The documentation's examples run: every script of ``docs/examples/`` exits 0.

Each script starts its own embedded dev agent, asserts what it shows and must finish quickly; the
pytest example is run by pytest. They run in a clean environment (no ``CONSUL_*`` or
``AIOCONSUL_TEST_ADDR``), so that the docs show what a fresh shell would see.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"
EXAMPLES = DOCS / "examples"
PYTEST_EXAMPLE = "testing_pytest.py"
SCRIPTS = sorted(path.name for path in EXAMPLES.glob("*.py") if path.name != PYTEST_EXAMPLE)
#: Generous against a slow CI machine; each script itself finishes in well under 2 s.
TIMEOUT = 30
#: The longest example line: wider ones would be cut off or scroll in the built pages.
MAX_LINE = 88
#: A snippet shown by the docs starts after ``# [name]`` and ends before the next ``# [end]``.
MARKER = re.compile(r"^\s*# \[([\w-]+)\]$")
INCLUDE = re.compile(
    r"literalinclude:: examples/(?P<script>[\w.]+)\n(?:\s+:[\w-]+:.*\n)*?"
    r"\s+:start-after: # \[(?P<name>[\w-]+)\]")


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


def _snippets(script: str) -> dict[str, list[str]]:
    """The snippets of an example script, by name: the lines between its markers."""
    snippets: dict[str, list[str]] = {}
    current: str | None = None
    for line in (EXAMPLES / script).read_text().splitlines():
        match = MARKER.match(line)
        if match and match.group(1) == "end":
            assert current is not None, f"{script}: '# [end]' without a snippet"
            current = None
        elif match:
            assert current is None, f"{script}: snippet {match.group(1)} inside {current}"
            assert match.group(1) not in snippets, f"{script}: two snippets {match.group(1)}"
            current = match.group(1)
            snippets[current] = []
        elif current is not None:
            snippets[current].append(line)
    assert current is None, f"{script}: snippet {current} has no '# [end]'"
    return snippets


def _included() -> set[tuple[str, str]]:
    """Every (script, snippet) that a page of the docs includes."""
    return {(match["script"], match["name"]) for page in DOCS.glob("*.rst")
            for match in INCLUDE.finditer(page.read_text())}


@pytest.mark.parametrize("script", [*SCRIPTS, PYTEST_EXAMPLE])
def test_example_lines_fit_the_page(script: str) -> None:
    long = [number for number, line in enumerate(
        (EXAMPLES / script).read_text().splitlines(), start=1) if len(line) > MAX_LINE]
    assert long == [], f"{script}: lines over {MAX_LINE} characters: {long}"


def test_every_included_snippet_exists() -> None:
    missing = [(script, name) for script, name in sorted(_included())
               if name not in _snippets(script)]
    assert missing == []


def test_every_snippet_is_shown() -> None:
    included = _included()
    unused = [(script, name) for script in SCRIPTS for name in _snippets(script)
              if (script, name) not in included]
    assert unused == []


def test_snippets_read_like_user_code() -> None:
    """The checks stay in the scripts, after the snippets: a page shows no wall of asserts."""
    asserting = [(script, name) for script in SCRIPTS
                 for name, lines in _snippets(script).items()
                 if any(line.strip().startswith("assert ") for line in lines)]
    assert asserting == []
