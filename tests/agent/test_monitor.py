"""GET /v1/agent/monitor: the agent's log, streamed (agent/agent_endpoint.go AgentMonitor).

The level is validated before anything is streamed (``logging.ValidateLogLevel``: TRACE,
DEBUG, INFO, WARN, ERR, ERROR in any case; 400 ``Unknown log level: <as sent>``); the lines are
hclog's, text or ``logjson``; the request lines are ``agent/http.go``'s deferred
``httpLogger.Debug("Request finished", "method", ..., "url", ..., "from", ..., "latency", ...)``
with ``?token=`` values hidden.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import pytest

from .conftest import Api

# hclog's text line: TimeFormat "2006-01-02T15:04:05.000Z0700", the bracketed level, the module.
LINE = re.compile(
    r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(Z|[+-]\d{4}) \[DEBUG\] agent\.http: "
    r"Request finished: method=GET url=(?P<url>\S+) from=127\.0\.0\.1:\d+ latency=\S+\n"
)


@asynccontextmanager
async def monitor(api: Api, query: str) -> AsyncIterator[aiohttp.ClientResponse]:
    async with api.http.get(api.url("/v1/agent/monitor?" + query)) as resp:
        yield resp


async def line_about(resp: aiohttp.ClientResponse, url: str) -> str:
    """The first streamed line about a request for ``url`` (other requests may log too)."""
    while True:
        # A bound, not a timing: a regression fails here instead of hanging the suite.
        line = (await asyncio.wait_for(resp.content.readline(), 30)).decode()
        assert line, "the stream ended"
        if f"url={url} " in line or f'"url":"{url}"' in line:
            return line


@pytest.mark.parametrize("level", ["verbose", "information", "Fatal", "warning"])
async def test_an_unknown_level_is_refused_before_streaming(api: Api, level: str) -> None:
    reply = await api.get(f"/v1/agent/monitor?loglevel={level}")
    assert reply.status == 400
    assert reply.text == f"Unknown log level: {level}"


@pytest.mark.parametrize("level", ["trace", "DEBUG", "Info", "warn", "ERR", "error", ""])
async def test_every_hclog_level_is_accepted_in_any_case(api: Api, level: str) -> None:
    async with monitor(api, f"loglevel={level}") as resp:
        assert resp.status == 200
        assert resp.headers["Transfer-Encoding"] == "chunked"


async def test_a_request_made_while_monitoring_is_streamed_as_an_hclog_line(api: Api) -> None:
    async with monitor(api, "loglevel=debug") as resp:
        assert resp.status == 200
        await api.get("/v1/kv/monitor/probe?token=s3cret")
        line = await line_about(resp, "/v1/kv/monitor/probe?token=<hidden>")
    match = LINE.fullmatch(line)
    assert match, line
    assert "s3cret" not in line


async def test_logjson_streams_one_json_record_a_line(api: Api) -> None:
    async with monitor(api, "loglevel=trace&logjson") as resp:
        await api.get("/v1/kv/monitor/json")
        record = json.loads(await line_about(resp, "/v1/kv/monitor/json"))
    assert record["@level"] == "debug"
    assert record["@module"] == "agent.http"
    assert record["@message"] == "Request finished"
    assert record["method"] == "GET"
    assert re.fullmatch(r"127\.0\.0\.1:\d+", record["from"])
    assert isinstance(record["latency"], str)  # time.Duration.String()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}(Z|[+-]\d\d:\d\d)",
                        record["@timestamp"])


async def test_the_stream_ends_when_the_client_hangs_up(api: Api) -> None:
    """A monitor whose client went away finishes its request: another monitor sees its line."""
    async with monitor(api, "loglevel=debug") as watcher:
        async with monitor(api, "loglevel=debug&probe=hangup") as resp:
            assert resp.status == 200
        # Leaving the block closed that connection half-read: the agent ends the stream.
        await line_about(watcher, "/v1/agent/monitor?loglevel=debug&probe=hangup")
