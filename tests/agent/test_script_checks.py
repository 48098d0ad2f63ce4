"""Script checks: Agent.addCheck's gate (agent/agent.go) and checks.CheckMonitor
(agent/checks/check.go), run by a DevAgent with ``enable_script_checks``.

The commands are tiny ``sys.executable -c`` programs, so the tests need no shell and no tool
from the machine. A long-running command writes its pid to a file first, so that a test can see
the process itself is gone (killed and reaped, not a zombie) once the check says so.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from aioconsul.testing import DevAgent
from aioconsul.testing.local.state import script_refusal

from .conftest import Api
from .test_checks import check_of, status_becomes, until

FAST = {"check_interval_min": 0.01}
REMOTE_REFUSAL = (
    "Scripts are disabled on this agent from remote calls; "
    "to enable, configure 'enable_script_checks' to true"
)
LOCAL_REFUSAL = (
    "Scripts are disabled on this agent; "
    "to enable, configure 'enable_script_checks' or 'enable_local_script_checks' to true"
)


def py(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def alive(pid: int) -> bool:
    """Whether a process with this pid exists (a zombie counts: it was not reaped)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def sleeper(pid_file: Path, before: str = "") -> list[str]:
    """A command that records its pid (first run only), prints ``before``, then sleeps."""
    return py(
        "import os, sys, time\n"
        "try:\n"
        f"    with open({str(pid_file)!r}, 'x') as f: f.write(str(os.getpid()))\n"
        "except FileExistsError:\n"
        "    pass\n"
        f"sys.stdout.write({before!r}); sys.stdout.flush()\n"
        "time.sleep(60)\n"
    )


async def pid_from(path: Path) -> int:
    async def written() -> bool:
        return path.exists() and path.read_text() != ""

    await until(written, timeout=10)
    return int(path.read_text())


@pytest_asyncio.fixture
async def scripts(http: aiohttp.ClientSession) -> AsyncIterator[Api]:
    async with DevAgent(enable_script_checks=True, **FAST) as agent:
        yield Api(http, agent)


async def register(api: Api, **body: Any) -> None:
    reply = await api.put("/v1/agent/check/register", json.dumps(body))
    assert reply.status == 200, reply.text


@pytest.mark.parametrize(("code", "status"), [(0, "passing"), (1, "warning"), (2, "critical")])
async def test_exit_code_decides_the_status(scripts: Api, code: int, status: str) -> None:
    """CheckMonitor.check: exit 0 passing, 1 warning, anything else critical; the output is
    stdout and stderr together."""
    args = py(f"import sys; print('out'); sys.stdout.flush(); sys.stderr.write('err'); "
              f"sys.exit({code})")
    initial = "passing" if status == "critical" else "critical"
    await register(scripts, Name="s", Args=args, Interval="50ms", Status=initial)
    check = await status_becomes(scripts, "s", status)
    assert check["Type"] == "script"
    assert check["Output"] == "out\nerr"


async def test_output_keeps_the_last_bytes_after_consul_marker(scripts: Api) -> None:
    """circbuf keeps the tail; truncateAndLogOutput prefixes "Captured N of M bytes\\n...\\n"."""
    args = py("import sys; sys.stdout.write('0123456789abcdef')")
    await register(scripts, Name="s", Args=args, Interval="50ms", OutputMaxSize=10)
    check = await status_becomes(scripts, "s", "passing")
    assert check["Output"] == "Captured 10 of 16 bytes\n...\n6789abcdef"


async def test_output_is_truncated_at_4096_bytes_by_default(scripts: Api) -> None:
    """checks.DefaultBufSize (the agent's check_output_max_size) is 4 KiB."""
    args = py("import sys; sys.stdout.write('a' * 5000 + 'z')")
    await register(scripts, Name="s", Args=args, Interval="50ms")
    check = await status_becomes(scripts, "s", "passing")
    assert check["Output"] == "Captured 4096 of 5001 bytes\n...\n" + "a" * 4095 + "z"


async def test_a_timeout_kills_the_process(scripts: Api, tmp_path: Path) -> None:
    """CheckMonitor.check: after Timeout, exec.KillCommandSubtree, then critical with
    "Timed out (<timeout>) running check" and the output so far after a blank line."""
    pid_file = tmp_path / "pid"
    await register(scripts, Name="s", Args=sleeper(pid_file, "started"), Interval="50ms",
                   Timeout="300ms", Status="passing")
    pid = await pid_from(pid_file)
    check = await status_becomes(scripts, "s", "critical")
    assert check["Output"] == "Timed out (300ms) running check\n\nstarted"
    assert not alive(pid)


async def test_removing_the_check_kills_a_running_command(scripts: Api, tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    await register(scripts, Name="s", Args=sleeper(pid_file), Interval="50ms")
    pid = await pid_from(pid_file)
    assert alive(pid)
    assert (await scripts.put("/v1/agent/check/deregister/s")).status == 200

    async def gone() -> bool:
        return not alive(pid)

    await until(gone, timeout=10)
    assert await check_of(scripts, "s") is None


async def test_stopping_the_agent_kills_a_running_command(
    http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    """DevAgent.stop waits for every runner: the process is killed and reaped, no task left."""
    pid_file = tmp_path / "pid"
    agent = await DevAgent(enable_script_checks=True, **FAST).start()
    try:
        await register(Api(http, agent), Name="s", Args=sleeper(pid_file), Interval="50ms")
        pid = await pid_from(pid_file)
    finally:
        await agent.stop()
    assert not alive(pid)
    current = asyncio.current_task()
    assert [t for t in asyncio.all_tasks() if t is not current] == []


async def test_a_missing_program_is_critical(scripts: Api) -> None:
    """exec.Cmd.Start's error is the output (Notify.UpdateCheck, critical)."""
    await register(scripts, Name="s", Args=["aioconsul-no-such-program"], Interval="50ms",
                   Status="passing")
    check = await status_becomes(scripts, "s", "critical")
    assert check["Output"] == (
        'exec: "aioconsul-no-such-program": executable file not found in $PATH'
    )


async def test_agent_self_counts_check_monitors(scripts: Api) -> None:
    await register(scripts, Name="s", Args=py("pass"), Interval="10s")
    stats = (await scripts.get("/v1/agent/self")).json()["Stats"]["agent"]
    assert stats["check_monitors"] == "1"


async def test_scripts_are_refused_without_the_option(api: Api) -> None:
    """Agent.addCheck: a check registered over HTTP is ConfigSourceRemote; without
    enable_script_checks it is refused, for a check and a service's check alike."""
    body = {"Name": "s", "Args": py("pass"), "Interval": "10s"}
    reply = await api.put("/v1/agent/check/register", json.dumps(body))
    assert (reply.status, reply.text) == (500, REMOTE_REFUSAL)
    service = {"Name": "web", "Check": {"Args": py("pass"), "Interval": "10s"}}
    reply = await api.put("/v1/agent/service/register", json.dumps(service))
    assert (reply.status, reply.text) == (500, REMOTE_REFUSAL)
    assert await check_of(api, "s") is None


async def test_local_script_checks_alone_refuse_http_registrations(
    http: aiohttp.ClientSession,
) -> None:
    """enable_local_script_checks only allows checks from the agent's own config files
    (ConfigSourceLocal). AgentRegisterCheck and AgentRegisterService pass ConfigSourceRemote
    even on the local agent's HTTP API, and EnableRemoteScriptChecks comes from
    enable_script_checks alone (config/builder.go), so the remote refusal stays."""
    async with DevAgent(enable_local_script_checks=True) as agent:
        api = Api(http, agent)
        body = {"Name": "s", "Args": py("pass"), "Interval": "10s"}
        reply = await api.put("/v1/agent/check/register", json.dumps(body))
        assert (reply.status, reply.text) == (500, REMOTE_REFUSAL)


def test_the_refusal_of_local_checks() -> None:
    """agent.go addCheck: the text for ConfigSourceLocal; enable_script_checks implies the
    local variant (boolValWithDefault(EnableLocalScriptChecks, EnableScriptChecks))."""
    chk = {"ScriptArgs": ["true"]}
    off = {"enable_local": False, "enable_remote": False}
    assert script_refusal(chk, "local", **off) == LOCAL_REFUSAL
    assert script_refusal(chk, "remote", **off) == REMOTE_REFUSAL
    assert script_refusal(chk, "local", enable_local=True, enable_remote=False) is None
    assert script_refusal({"ScriptArgs": None}, "remote", **off) is None
