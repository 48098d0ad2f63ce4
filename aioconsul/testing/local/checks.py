"""Health check runners of the dev agent: what ``agent/checks/check.go`` does, on asyncio.

* :class:`TTLCheck` -- ``CheckTTL``: critical with ``TTL expired`` (plus the last output) when
  no update arrives within the TTL; every update resets the timer.
* :class:`IntervalCheck` -- the loop shared by ``CheckHTTP`` and ``CheckTCP``: a first run after
  a random stagger within the interval, then one run per interval, each result passed through a
  :class:`StatusHandler` (``SuccessBeforePassing``, ``FailuresBeforeWarning``,
  ``FailuresBeforeCritical``).
* :func:`http_probe` -- 2xx passing, 429 warning, anything else or an error critical; output
  ``HTTP GET <url>: 200 OK Output: <last bytes of the body>``.
* :func:`tcp_probe` -- a connection (optionally TLS) is passing, a failure critical.
* :class:`MonitorCheck` -- ``CheckMonitor``, the script check: runs ``ScriptArgs`` (no shell)
  in its own process group every interval; exit 0 passing, 1 warning, anything else critical;
  stdout and stderr captured in one circular buffer of ``OutputMaxSize`` bytes; killed (the
  whole group, ``exec.KillCommandSubtree``) on timeout and when the check stops.

Docker, gRPC, H2PING, UDP, OS-service and alias checks have no runner here: the agent
registers them with their initial status and never runs them.

This module never touches the agent's state or the catalog: a runner only reports
``(status, output)`` to the callback it was given. Every runner is stopped by ``stop()``; the
agent awaits :meth:`IntervalCheck.wait_closed` so that no task outlives it.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import random
import signal
import ssl
from collections.abc import Awaitable, Callable
from typing import Any, Final

import aiohttp
from multidict import CIMultiDict

__all__ = [
    "DEFAULT_BUF_SIZE",
    "IntervalCheck",
    "MonitorCheck",
    "StatusHandler",
    "TTLCheck",
    "http_probe",
    "tcp_probe",
]

PASSING: Final = "passing"
WARNING: Final = "warning"
CRITICAL: Final = "critical"
DEFAULT_BUF_SIZE: Final = 4 * 1024  # checks.DefaultBufSize
DEFAULT_TIMEOUT: Final = 10.0  # the HTTP client's and TCP dialer's default, in seconds
SCRIPT_TIMEOUT: Final = 30.0  # CheckMonitor's default timeout, in seconds
USER_AGENT: Final = "Consul Health Check"

Report = Callable[[str, str], None]


class StatusHandler:
    """checks.StatusHandler: thresholds of consecutive successes and failures."""

    def __init__(
        self,
        report: Report,
        success_before_passing: int = 0,
        failures_before_warning: int = 0,
        failures_before_critical: int = 0,
    ) -> None:
        self._report = report
        self._success_before_passing = success_before_passing
        self._failures_before_warning = failures_before_warning
        self._failures_before_critical = failures_before_critical
        # NewStatusHandler starts both counters at their thresholds: the first result counts.
        self._successes = success_before_passing
        self._failures = failures_before_critical

    def __call__(self, status: str, output: str) -> None:
        if status in (PASSING, WARNING):
            self._successes += 1
            self._failures = 0
            if self._successes >= self._success_before_passing:
                self._report(status, output)
            return
        self._failures += 1
        self._successes = 0
        if self._failures >= self._failures_before_critical:
            self._report(status, output)
        elif self._failures >= self._failures_before_warning:
            self._report(WARNING, output)


class TTLCheck:
    """checks.CheckTTL: goes critical when ``ttl`` seconds pass without :meth:`set_status`."""

    def __init__(self, ttl: float, report: Report, output_max_size: int) -> None:
        self._ttl = ttl
        self._report = report
        self._max = output_max_size if output_max_size >= 1 else DEFAULT_BUF_SIZE
        self._last_output = ""
        self._loop = asyncio.get_running_loop()
        self._timer = self._loop.call_later(ttl, self._expire)

    def _expire(self) -> None:
        output = "TTL expired"
        if self._last_output:
            output += f" (last output before timeout follows): {self._last_output}"
        self._report(CRITICAL, output)

    def set_status(self, status: str, output: str) -> str:
        """Report an update and restart the TTL; returns the (possibly truncated) output."""
        data = output.encode("utf-8", "surrogateescape")
        if len(data) > self._max:
            head = data[: self._max].decode("utf-8", "surrogateescape")
            output = f"{head} ... (captured {self._max} of {len(data)} bytes)"
        self._report(status, output)
        self._last_output = output
        self._timer.cancel()
        self._timer = self._loop.call_later(self._ttl, self._expire)
        return output

    def stop(self) -> None:
        """Cancel the timer."""
        self._timer.cancel()


Probe = Callable[[], Awaitable[tuple[str, str]]]


class IntervalCheck:
    """The run loop of the interval checks: stagger, then probe every ``interval`` seconds."""

    def __init__(self, probe: Probe, interval: float, handler: StatusHandler) -> None:
        self._probe = probe
        self._interval = interval
        self._handler = handler
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        await asyncio.sleep(random.random() * self._interval)  # lib.RandomStagger
        while True:
            await self._check()
            await asyncio.sleep(self._interval)

    async def _check(self) -> None:
        status, output = await self._probe()
        self._handler(status, output)

    def stop(self) -> None:
        """Stop the loop (the task ends at its next await)."""
        self._task.cancel()

    async def wait_closed(self) -> None:
        """Wait until the loop task has finished."""
        await asyncio.gather(self._task, return_exceptions=True)


class _CircBuf:
    """circbuf.Buffer: keeps the last ``size`` bytes written and counts them all."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.data = b""
        self.total = 0

    def write(self, chunk: bytes) -> None:
        self.total += len(chunk)
        self.data = (self.data + chunk)[-self.size :]

    def text(self) -> str:
        """CheckMonitor's truncateAndLogOutput."""
        output = self.data.decode("utf-8", "surrogateescape")
        if self.total > self.size:
            output = f"Captured {len(self.data)} of {self.total} bytes\n...\n{output}"
        return output


def _start_error(program: str, exc: OSError) -> str:
    """What Go's exec.Cmd.Start returns when the program cannot be run."""
    if "/" not in program and isinstance(exc, FileNotFoundError):
        return f'exec: "{program}": executable file not found in $PATH'
    reason = (exc.strerror or str(exc)).lower()
    return f"fork/exec {program}: {reason}"


def _kill_group(process: asyncio.subprocess.Process) -> None:
    """exec.KillCommandSubtree: SIGKILL the process group the check runs in."""
    if process.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        process.kill()


class MonitorCheck(IntervalCheck):
    """checks.CheckMonitor: run ``args`` every ``interval`` seconds.

    Results go through the :class:`StatusHandler`; a timeout (``Timed out (<d>) running
    check`` plus the output so far) and a program that cannot start are reported directly, as
    Consul's ``c.Notify.UpdateCheck`` calls are. The process is always reaped before the next
    run starts, before :meth:`wait_closed` returns, and when the loop is stopped mid-run.
    """

    def __init__(
        self,
        args: list[str],
        interval: float,
        handler: StatusHandler,
        report: Report,
        *,
        timeout: float = SCRIPT_TIMEOUT,
        timeout_text: str = "30s",
        output_max_size: int = DEFAULT_BUF_SIZE,
    ) -> None:
        self._args = list(args)
        self._report = report
        self._timeout = timeout
        self._timeout_text = timeout_text
        self._max = output_max_size if output_max_size >= 1 else DEFAULT_BUF_SIZE

        async def unused() -> tuple[str, str]:  # pragma: no cover - _check is overridden
            raise NotImplementedError

        super().__init__(unused, interval, handler)

    async def _check(self) -> None:
        buf = _CircBuf(self._max)
        try:
            process = await asyncio.create_subprocess_exec(
                *self._args,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,  # exec.SetSysProcAttr: Setpgid
            )
        except OSError as exc:
            self._report(CRITICAL, _start_error(self._args[0], exc))
            return
        try:
            code = await asyncio.wait_for(self._collect(process, buf), self._timeout)
        except asyncio.TimeoutError:
            _kill_group(process)
            await process.wait()
            output = f"Timed out ({self._timeout_text}) running check"
            captured = buf.text()
            if captured:
                output += "\n\n" + captured
            self._report(CRITICAL, output)
            return
        finally:
            if process.returncode is None:  # cancelled: the check was removed or the agent stops
                _kill_group(process)
                await process.wait()
        status = PASSING if code == 0 else WARNING if code == 1 else CRITICAL
        self._handler(status, buf.text())

    @staticmethod
    async def _collect(process: asyncio.subprocess.Process, buf: _CircBuf) -> int:
        stream = process.stdout
        assert stream is not None
        while chunk := await stream.read(65536):
            buf.write(chunk)
        return await process.wait()


def _go_op(method: str) -> str:
    """net/http's urlErrorOp: ``Get``, ``Post``..."""
    return method[:1] + method[1:].lower() if method else "Get"


def _ssl_context(skip_verify: bool) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if skip_verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _split_host_port(address: str) -> tuple[str, int] | str:
    """net.SplitHostPort plus a numeric port; the Go error text on failure."""
    if address.startswith("["):
        end = address.find("]")
        if end < 0:
            return f"address {address}: missing ']' in address"
        host, rest = address[1:end], address[end + 1 :]
        if not rest.startswith(":"):
            return f"address {address}: missing port in address"
        port = rest[1:]
    else:
        host, sep, port = address.rpartition(":")
        if not sep:
            return f"address {address}: missing port in address"
        if ":" in host:
            return f"address {address}: too many colons in address"
    if not port.isdigit() or int(port) > 65535:
        return f"address {port}: invalid port" if port else f"address {address}: missing port"
    return host, int(port)


def _dial_error(address: str, exc: BaseException) -> str:
    if isinstance(exc, asyncio.TimeoutError | TimeoutError):
        return f"dial tcp {address}: i/o timeout"
    if isinstance(exc, ConnectionRefusedError) or getattr(exc, "errno", None) == errno.ECONNREFUSED:
        return f"dial tcp {address}: connect: connection refused"
    if isinstance(exc, OSError) and exc.strerror:
        return f"dial tcp {address}: connect: {exc.strerror.lower()}"
    return f"dial tcp {address}: {exc}"


async def tcp_probe(
    address: str,
    timeout: float,
    *,
    use_tls: bool = False,
    skip_verify: bool = False,
    server_name: str = "",
) -> tuple[str, str]:
    """checks.CheckTCP.check: connect (optionally TLS) to ``address`` and hang up."""
    parsed = _split_host_port(address)
    if isinstance(parsed, str):
        return CRITICAL, f"dial tcp {parsed}"
    host, port = parsed
    kwargs: dict[str, Any] = {}
    if use_tls:
        kwargs["ssl"] = _ssl_context(skip_verify)
        kwargs["server_hostname"] = server_name or host
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port, **kwargs), timeout)
    except (OSError, asyncio.TimeoutError, ssl.SSLError) as exc:
        return CRITICAL, _dial_error(address, exc)
    writer.close()
    with contextlib.suppress(OSError):  # the peer may reset the connection first
        await writer.wait_closed()
    label = "TCP+TLS" if use_tls else "TCP"
    return PASSING, f"{label} connect {address}: Success"


async def http_probe(
    session: aiohttp.ClientSession,
    url: str,
    *,
    method: str = "",
    header: dict[str, list[str]] | None = None,
    body: str = "",
    timeout: float = DEFAULT_TIMEOUT,
    disable_redirects: bool = False,
    skip_verify: bool = False,
    server_name: str = "",
    output_max_size: int = DEFAULT_BUF_SIZE,
) -> tuple[str, str]:
    """checks.CheckHTTP.check: one request; the status and output Consul would record."""
    method = method or "GET"
    headers: CIMultiDict[str] = CIMultiDict()
    for name, values in (header or {}).items():
        for value in values:
            headers.add(name, value)
    headers.setdefault("User-Agent", USER_AGENT)
    headers.setdefault("Accept", "text/plain, text/*, */*")
    op = _go_op(method)
    kwargs: dict[str, Any] = {}
    if url.startswith("https:"):
        kwargs["ssl"] = _ssl_context(skip_verify)
        if server_name:
            kwargs["server_hostname"] = server_name
    try:
        async with session.request(
            method,
            url,
            headers=headers,
            data=body.encode() if body else None,
            allow_redirects=not disable_redirects,
            timeout=aiohttp.ClientTimeout(total=timeout),
            **kwargs,
        ) as response:
            data = await response.read()
            status_line = f"{response.status} {response.reason or ''}".rstrip()
    except (asyncio.TimeoutError, TimeoutError):
        reason = "context deadline exceeded (Client.Timeout exceeded while awaiting headers)"
        return CRITICAL, f'{op} "{url}": {reason}'
    except aiohttp.ClientConnectorError as exc:
        host = f"{exc.host}:{exc.port}"
        return CRITICAL, f'{op} "{url}": {_dial_error(host, exc.os_error)}'
    except (aiohttp.ClientError, ValueError, OSError) as exc:
        return CRITICAL, f'{op} "{url}": {exc}'
    size = output_max_size if output_max_size >= 1 else DEFAULT_BUF_SIZE
    text = data[-size:].decode("utf-8", "surrogateescape")  # a circular buffer keeps the tail
    output = f"HTTP {method} {url}: {status_line} Output: {text}"
    if 200 <= response.status <= 299:
        return PASSING, output
    if response.status == 429:
        return WARNING, output
    return CRITICAL, output
