"""The command lines: ``aioconsul`` / ``python -m aioconsul`` (the demo) and
``python -m aioconsul.testing`` (a dev agent in the foreground), run as child processes.

The demo finds an agent as Consul's own tools do: ``CONSUL_HTTP_ADDR``, else the default
``127.0.0.1:8500`` (docs/testing.rst says it finds an agent serving there), else it starts the
embedded dev agent. The tests point the default address elsewhere through the module's
``_DEFAULT_ADDRESS`` so they never depend on what listens on the machine's port 8500.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from aioconsul import Consul
from aioconsul.testing import DevAgent

#: Runs the console script's main() with the demo's default address replaced by argv[1].
_WITH_DEFAULT = ("import sys, aioconsul.__main__ as cli; cli._DEFAULT_ADDRESS = sys.argv.pop(1); "
                 "sys.argv[0] = 'aioconsul'; sys.exit(cli.main())")


def _env() -> dict[str, str]:
    """This environment without Consul's variables (no CONSUL_HTTP_ADDR)."""
    return {name: value for name, value in os.environ.items() if not name.startswith("CONSUL_")}


async def _demo(default_address: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _WITH_DEFAULT, default_address, "demo", env=_env(),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def _run(*args: str, stdout: int = subprocess.PIPE) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], stdout=stdout, stderr=subprocess.PIPE,
                          text=True, env=_env(), timeout=60)


# -- which agent the demo uses -------------------------------------------------------------------

async def test_the_demo_uses_an_agent_answering_on_the_default_address(
        consul: Consul, consul_agent: DevAgent) -> None:
    status, out, err = await _demo(consul_agent.address.removeprefix("http://"))
    assert status == 0, err
    assert f"Using the agent at {consul_agent.address} (node " in out
    assert "embedded" not in out
    events, _ = await consul.event.items("aioconsul-demo")
    assert len(events) == 1  # the demo ran against this agent
    assert (await consul.kv.keys("aioconsul-demo/"))[0] == []  # and cleaned up after itself


async def test_the_demo_starts_the_embedded_agent_when_nothing_answers(unreachable: str) -> None:
    status, out, err = await _demo(unreachable)
    assert status == 0, err
    assert f"No Consul agent at the default address {unreachable}" in out
    assert "Using the embedded dev agent at http://127.0.0.1:" in out


async def test_the_demo_does_not_take_another_web_server_for_an_agent(web_server: str) -> None:
    status, out, err = await _demo(web_server)
    assert status == 0, err
    assert f"No Consul agent at the default address {web_server}" in out
    assert "404" in out and "Using the embedded dev agent" in out


# -- help and the program's name -----------------------------------------------------------------

@pytest.mark.parametrize("command", [("-m", "aioconsul", "--help"),
                                     ("-m", "aioconsul", "demo", "--help"),
                                     ("-m", "aioconsul.testing", "--help")])
def test_help_is_plain_text(command: tuple[str, ...]) -> None:
    """No reST markup (``literal``, :role:, `quotes`) in what a terminal shows."""
    result = _run(*command)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: python -m {command[1]}")
    assert "`" not in result.stdout and ":doc:" not in result.stdout


def test_the_console_script_calls_itself_by_its_name() -> None:
    script = shutil.which("aioconsul", path=str(Path(sys.executable).parent))
    if script is not None:
        result = subprocess.run([script, "--help"], capture_output=True, text=True, timeout=60)
    else:  # not installed: what the console-script wrapper does
        result = _run("-c", "import sys; sys.argv[0] = '/usr/bin/aioconsul'; "
                            "from aioconsul.__main__ import main; sys.exit(main())", "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: aioconsul [-h]")
    assert "python -m" not in result.stdout.splitlines()[0]


# -- a reader that stops early (| head) ----------------------------------------------------------

@pytest.mark.parametrize("command", [("-c", _WITH_DEFAULT, "127.0.0.1:1", "demo"),
                                     ("-m", "aioconsul", "--help"),
                                     ("-m", "aioconsul.testing", "--help"),
                                     ("-m", "aioconsul.testing", "--port", "0")])
def test_output_into_a_closed_pipe_ends_without_a_traceback(command: tuple[str, ...]) -> None:
    """As the Python docs recommend for SIGPIPE (library/signal.html): no BrokenPipeError
    traceback, exit status 1 when the output could not be written."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first line: every write fails
    try:
        result = _run(*command, stdout=write_end)
    finally:
        os.close(write_end)
    assert "Traceback" not in result.stderr and "BrokenPipeError" not in result.stderr, \
        result.stderr
    assert result.stderr == ""
    assert result.returncode in (0, 1)
