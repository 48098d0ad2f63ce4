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
from typing import Any

import pytest
from aiohttp import web

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
                                     ("-m", "aioconsul", "kv", "--help"),
                                     ("-m", "aioconsul", "kv", "import", "--help"),
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


# -- kv: the KV store from the shell, as consul kv -------------------------------------------------

async def _kv(address: str, *args: str, stdin: bytes = b"",
              **env: str) -> tuple[int, bytes, str]:
    """``python -m aioconsul kv ARGS`` with CONSUL_HTTP_ADDR=address (and ``env``)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "aioconsul", "kv", *args,
        env={**_env(), "CONSUL_HTTP_ADDR": address, **env}, stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(stdin), 60)
    assert process.returncode is not None
    return process.returncode, out, err.decode()


async def test_kv_put_get_ls_delete(consul: Consul, consul_agent: DevAgent) -> None:
    address = consul_agent.address
    assert await _kv(address, "put", "app/name", "wéb") == (
        0, b"Success! Data written to: app/name\n", "")
    assert (await consul.kv.raw("app/name"))[0] == "wéb".encode()
    await consul.kv.set("app/bin", b"\x00\xff")
    await consul.kv.set("app/sub/x", b"")
    assert await _kv(address, "get", "app/name") == (0, "wéb\n".encode(), "")
    assert await _kv(address, "get", "/app/bin") == (0, b"\x00\xff\n", "")  # "/" dropped
    assert await _kv(address, "ls", "app/") == (0, b"app/bin\napp/name\napp/sub/\n", "")
    assert await _kv(address, "delete", "app/name") == (0, b"Success! Deleted key: app/name\n", "")
    assert (await consul.kv.get("app/name"))[0] is None


async def test_kv_get_of_a_missing_key_exits_1(consul_agent: DevAgent) -> None:
    """command/kv/get/kv_get.go: ``Error! No key exists at: KEY``, exit status 1."""
    assert await _kv(consul_agent.address, "get", "missing/key") == (
        1, b"", "Error! No key exists at: missing/key\n")


async def test_kv_export_then_import_into_a_fresh_agent(
        consul: Consul, consul_agent: DevAgent, tmp_path: Path) -> None:
    """The same JSON as ``consul kv export`` (json.MarshalIndent with a tab, Go's escaping of
    ``<>&``), read back by ``kv import FILE`` and ``kv import -``."""
    await consul.kv.set("cfg/bin", b"\x00\x01\xff", flags=9)
    await consul.kv.set("cfg/<html>&", "é".encode())
    await consul.kv.set("other", b"x")
    status, out, err = await _kv(consul_agent.address, "export", "cfg/")
    assert status == 0, err
    assert out.decode() == (
        '[\n\t{\n\t\t"key": "cfg/\\u003chtml\\u003e\\u0026",\n\t\t"flags": 0,\n'
        '\t\t"value": "w6k="\n\t},\n\t{\n\t\t"key": "cfg/bin",\n\t\t"flags": 9,\n'
        '\t\t"value": "AAH/"\n\t}\n]\n')
    dump = tmp_path / "kv.json"
    dump.write_bytes(out)
    for source, stdin in ((str(dump), b""), ("-", out)):
        async with DevAgent() as fresh, Consul(fresh.address) as client:
            status, imported, err = await _kv(fresh.address, "import", source, stdin=stdin)
            assert (status, err) == (0, "")
            assert imported == b"Imported: cfg/<html>&\nImported: cfg/bin\n"
            entries, _ = await client.kv.items()
            assert [(e["Key"], e["Value"], e["Flags"]) for e in entries] == [
                ("cfg/<html>&", "é".encode(), 0), ("cfg/bin", b"\x00\x01\xff", 9)]
            assert await _kv(fresh.address, "export", "cfg/") == (0, out, "")


async def test_kv_import_refuses_bad_data_before_writing(
        consul: Consul, consul_agent: DevAgent) -> None:
    good = b'[{"key": "a", "flags": 0, "value": ""}, '
    assert await _kv(consul_agent.address, "import", "-",
                     stdin=good + b'{"key": "b", "value": "%%"}]') == (
        1, b"", "Error! entries[1].value: not base64 text (Only base64 data is allowed)\n")
    status, out, err = await _kv(consul_agent.address, "import", "-", stdin=b"[{")
    assert status == 1 and out == b"" and err.startswith("Cannot unmarshal data: ")
    assert (await consul.kv.keys())[0] == []


async def test_kv_sends_consul_http_token(serve: Any) -> None:
    seen: list[str | None] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(request.headers.get("X-Consul-Token"))
        return web.Response(status=404, headers={"X-Consul-Index": "7"})

    server = await serve(handler)
    assert await _kv(server.address, "get", "k", CONSUL_HTTP_TOKEN="s3cret") == (
        1, b"", "Error! No key exists at: k\n")
    assert seen == ["s3cret"]


async def test_kv_reports_an_unreachable_agent(unreachable: str) -> None:
    status, out, err = await _kv(unreachable, "ls")
    assert status == 1 and out == b"" and err.startswith("Error! ")
    assert "Traceback" not in err


# -- python -m aioconsul.testing: one flag per DevAgent option ----------------------------------

def test_every_dev_agent_option_has_a_flag() -> None:
    """Each DevAgent keyword is the destination of a flag (ssl_context: --cert-file/--key-file)."""
    import inspect

    from aioconsul.testing import __main__ as cli

    params = [name for name in inspect.signature(DevAgent).parameters if name != "ssl_context"]
    dests = {action.dest for action in cli._parser()._actions}
    assert [name for name in params if name not in dests] == []
    assert sorted(cli._AGENT_OPTIONS) == sorted(params)
    assert {"cert_file", "key_file"} <= dests


def test_flags_are_spelled_like_consul_agent() -> None:
    """consul agent -client, -http-port, -node, -datacenter, -enable-script-checks,
    -enable-local-script-checks; the timing keys as Consul's config keys, in Go durations."""
    from aioconsul.testing import __main__ as cli

    args = cli._parser().parse_args([
        "--client", "127.0.0.2", "--http-port", "0", "--node", "n1", "--datacenter", "dc7",
        "--enable-script-checks", "--enable-local-script-checks", "--session-ttl-min", "50ms",
        "--session-ttl-multiplier", "1", "--check-interval-min", "10ms",
        "--check-update-interval", "0s", "--check-reap-interval", "1m30s",
        "--check-deregister-interval-min", "2s", "--sync-coordinate-interval-min", "1h",
    ])
    assert (args.host, args.port, args.node_name, args.datacenter) == ("127.0.0.2", 0, "n1", "dc7")
    assert (args.enable_script_checks, args.enable_local_script_checks) == (True, True)
    assert (args.session_ttl_min, args.session_ttl_multiplier) == (0.05, 1.0)
    assert (args.check_interval_min, args.check_update_interval) == (0.01, 0.0)
    assert (args.check_reap_interval, args.check_deregister_interval_min) == (90.0, 2.0)
    assert args.coordinate_sync_interval == 3600.0
    defaults = cli._parser().parse_args([])
    assert (defaults.enable_script_checks, defaults.enable_local_script_checks) == (False, None)
    assert (defaults.host, defaults.port) == ("127.0.0.1", 8500)


def test_a_bad_duration_is_a_usage_error() -> None:
    result = _run("-m", "aioconsul.testing", "--session-ttl-min", "10")
    assert result.returncode == 2 and result.stdout == ""
    assert 'missing unit in duration "10"' in result.stderr
    result = _run("-m", "aioconsul.testing", "--cert-file", "cert.pem")
    assert result.returncode == 2 and "Traceback" not in result.stderr


async def test_the_flags_reach_the_running_agent() -> None:
    """The node, datacenter and session_ttl_min show in /v1/agent/self; a script check runs."""
    import json
    import signal

    import aiohttp

    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "aioconsul.testing", "--http-port", "0", "--node", "cli-node",
        "--datacenter", "dc7", "--session-ttl-min", "50ms", "--enable-script-checks",
        "--check-interval-min", "10ms", env=_env(),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert process.stdout is not None
        address = (await asyncio.wait_for(process.stdout.readline(), 30)).decode().strip()
        async with aiohttp.ClientSession() as http:
            async with http.get(address + "/v1/agent/self") as resp:
                info = await resp.json()
            assert (info["Config"]["NodeName"], info["Config"]["Datacenter"]) == (
                "cli-node", "dc7")
            assert info["DebugConfig"]["SessionTTLMin"] == "50ms"
            check = {"Name": "s", "Args": [sys.executable, "-c", "print('ok')"],
                     "Interval": "20ms"}
            async with http.put(address + "/v1/agent/check/register",
                                data=json.dumps(check)) as resp:
                assert resp.status == 200, await resp.text()
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 10
            while True:
                async with http.get(address + "/v1/agent/checks") as resp:
                    status = (await resp.json())["s"]
                if status["Status"] == "passing":
                    break
                assert loop.time() < deadline, status
                await asyncio.sleep(0.02)
            assert status["Output"] == "ok\n"
        process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(process.communicate(), 30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, err.decode()
