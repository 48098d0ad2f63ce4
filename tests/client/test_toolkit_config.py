"""Live config from KV (``client.kv.config``) against the dev agent: loaded once as a nested dict,
kept current by one recursive watch, a burst of writes applied as one change with its diff, a
refused value never replacing the good config, and nothing left behind after exit or
cancellation."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import pytest
from aiohttp import web

from aioconsul import Consul, TransportError
from aioconsul.testing import DevAgent
from aioconsul.toolkit import Changes, ConfigChange, ConfigRejected
from aioconsul.toolkit.config import _quiescence

#: A bound on waiting for something that follows a write at once (not an assertion on time).
BOUND = 10.0


async def until(condition: Callable[[], bool], bound: float = BOUND) -> None:
    async def wait() -> None:
        while not condition():
            await asyncio.sleep(0.01)
    await asyncio.wait_for(wait(), bound)


async def next_change(changes: Changes[ConfigChange], bound: float = BOUND) -> ConfigChange:
    return await asyncio.wait_for(anext(changes), bound)


def our_tasks() -> list[asyncio.Task[Any]]:
    return [task for task in asyncio.all_tasks()
            if task.get_name().startswith("aioconsul config")]


def assert_nothing_left(consul: Consul) -> None:
    assert our_tasks() == []
    connector = consul._core.transport._session.connector  # type: ignore[union-attr]
    assert connector is not None and len(connector._acquired) == 0


async def put_json(consul: Consul, key: str, value: Any) -> None:
    await consul.kv.set(key, json.dumps(value).encode())


async def test_the_prefix_is_loaded_once_as_a_nested_dict(consul: Consul) -> None:
    await put_json(consul, "config/web/port", 8080)
    await put_json(consul, "config/web/db/host", "10.0.0.5")
    await put_json(consul, "config/webby/other", True)  # not in the folder
    async with consul.kv.config("config/web", codec="json") as cfg:
        assert cfg.prefix == "config/web/"
        assert cfg.data == {"port": 8080, "db": {"host": "10.0.0.5"}}
        assert cfg["port"] == 8080 and cfg.get("missing") is None
        assert dict(cfg) == cfg.data and len(cfg) == 2
        _, meta = await consul.kv.items("config/web/")
        assert cfg.index == meta["Index"]
        assert cfg.data == await consul.kv.tree("config/web", codec="json")


async def test_values_are_bytes_by_default_or_decoded_by_the_codec(consul: Consul) -> None:
    await consul.kv.set("app/name", b"shop")
    async with consul.kv.config("app/") as raw:
        assert raw.data == {"name": b"shop"}
    async with consul.kv.config("app/", codec="text") as text:
        assert text.data == {"name": "shop"}
    async with consul.kv.config("app/", codec=lambda data: data[::-1]) as custom:
        assert custom.data == {"name": b"pohs"}


async def test_each_change_is_reported_as_a_diff_by_modify_index(consul: Consul) -> None:
    await put_json(consul, "cfg/a", 1)
    await put_json(consul, "cfg/b", 2)
    async with consul.kv.config("cfg/", codec="json") as cfg:
        changes = cfg.changes()
        # The same bytes, new flags: the entry changed, its ModifyIndex moved (a write of
        # an identical entry does not move it: agent/consul/state/kvs.go, kvsSetTxn).
        await consul.kv.set("cfg/b", b"2", flags=7)
        change = await next_change(changes)
        assert (change.added, change.modified, change.deleted) == ({}, {"b": (2, 2)}, {})
        await consul.kv.delete("cfg/a")
        change = await next_change(changes)
        assert change.deleted == {"a": 1} and change.keys == {"a"}
        assert change.previous == {"a": 1, "b": 2} and change.data == cfg.data == {"b": 2}
        await consul.kv.set("cfg/sub/", b"")  # a folder key
        change = await next_change(changes)
        assert change.added == {"sub/": None} and cfg.data == {"b": 2, "sub": {}}
        assert change.index == cfg.index


async def test_a_burst_of_50_writes_is_applied_as_one_change_with_a_correct_diff(
        consul: Consul) -> None:
    """consul-template's quiescence: the burst's writes follow one another far closer than
    ``min`` (1.5 s), so the first reload comes after the last of them and holds all 50."""
    await put_json(consul, "svc/keep", "same")
    await put_json(consul, "svc/limit", 10)
    await put_json(consul, "svc/old", "gone soon")
    reloads: list[ConfigChange] = []
    async with consul.kv.config("svc/", codec="json", wait=(1.5, 60),
                                on_change=reloads.append) as cfg:
        changes = cfg.changes()
        await put_json(consul, "svc/limit", 20)
        await consul.kv.delete("svc/old")
        for i in range(48):
            await put_json(consul, f"svc/shard/{i:02}", i)
        change = await next_change(changes, bound=30)
        assert change.added == {f"shard/{i:02}": i for i in range(48)}
        assert change.modified == {"limit": (10, 20)}
        assert change.deleted == {"old": "gone soon"}
        assert cfg.data == {"keep": "same", "limit": 20,
                            "shard": {f"{i:02}": i for i in range(48)}}
        assert cfg.reloads == 1 and reloads == [change]
        # Nothing of the burst is left to apply: the next reload holds only the next write.
        await put_json(consul, "svc/after", True)
        change = await next_change(changes, bound=30)
        assert change.keys == {"after"} and cfg.reloads == 2


async def test_max_bounds_the_wait_while_writes_keep_coming(consul: Consul) -> None:
    """Writes every 50 ms never leave ``min`` (1 s) of quiet: the reload comes ``max`` after
    the first change, while they go on."""
    await put_json(consul, "busy/n", 0)
    stop = asyncio.Event()

    async def writer() -> int:
        n = 0
        while not stop.is_set() and n < 600:
            n += 1
            await put_json(consul, "busy/n", n)
            await asyncio.sleep(0.05)
        return n

    async with consul.kv.config("busy/", codec="json", wait=(1, 1.5)) as cfg:
        changes = cfg.changes()
        writing = asyncio.create_task(writer())
        try:
            change = await next_change(changes, bound=30)
            assert not writing.done()  # the writes go on
        finally:
            stop.set()
            await writing
        assert change.modified["n"][1] > 0


async def test_a_value_the_validator_refuses_never_replaces_the_good_config(
        consul: Consul) -> None:
    await put_json(consul, "web/port", 8080)
    rejected: list[ConfigRejected] = []

    def valid(data: dict[str, Any]) -> bool:
        port = data.get("port")
        return isinstance(port, int) and 0 < port < 65536

    async with consul.kv.config("web/", codec="json", validate=valid,
                                on_reject=rejected.append) as cfg:
        changes = cfg.changes()
        await put_json(consul, "web/port", "eighty")
        await until(lambda: cfg.rejections == 1)
        assert cfg["port"] == 8080 and cfg.reloads == 0
        assert rejected == [cfg.rejected]
        assert cfg.rejected is not None and cfg.rejected.data == {"port": "eighty"}
        assert str(cfg.rejected).endswith(": refused by the validator")
        assert cfg.rejected.index > cfg.index
        assert changes.pending == 0
        await put_json(consul, "web/port", 9090)
        change = await next_change(changes)
        assert change.modified == {"port": (8080, 9090)}  # against the good version
        assert cfg.rejected is None and cfg["port"] == 9090


async def test_a_validator_that_raises_refuses_with_its_error_as_the_cause(
        consul: Consul) -> None:
    await put_json(consul, "web/workers", 4)

    async def valid(data: dict[str, Any]) -> None:
        if data["workers"] < 1:
            raise ValueError("workers: at least 1")

    async with consul.kv.config("web/", codec="json", validate=valid) as cfg:
        await put_json(consul, "web/workers", 0)
        await until(lambda: cfg.rejected is not None)
        assert cfg.rejected is not None
        assert isinstance(cfg.rejected.__cause__, ValueError)
        assert str(cfg.rejected).endswith(": workers: at least 1")
        assert cfg["workers"] == 4


async def test_a_value_the_codec_cannot_decode_is_refused(consul: Consul) -> None:
    await put_json(consul, "web/port", 8080)
    async with consul.kv.config("web/", codec="json") as cfg:
        await consul.kv.set("web/port", b"{not json")
        await until(lambda: cfg.rejected is not None)
        assert cfg.rejected is not None and cfg.rejected.data is None
        assert "'web/port': the value cannot be decoded" in str(cfg.rejected)
        assert cfg["port"] == 8080


async def test_enter_refuses_an_invalid_initial_config_and_leaves_nothing(
        consul: Consul) -> None:
    await put_json(consul, "web/port", -1)
    config = consul.kv.config("web/", codec="json", validate=lambda data: data["port"] > 0)
    with pytest.raises(ConfigRejected, match="refused by the validator"):
        async with config:
            pass  # pragma: no cover - never entered
    assert not config.running
    assert_nothing_left(consul)


async def test_enter_raises_the_first_reads_error(unreachable: str) -> None:
    async with Consul(unreachable, retry=False) as client:
        with pytest.raises(TransportError):
            async with client.kv.config("web/"):
                pass  # pragma: no cover - never entered
        assert our_tasks() == []


async def test_the_token_given_is_sent_with_every_read(
        serve: Callable[..., Awaitable[Any]]) -> None:
    async def agent(request: web.Request) -> web.Response:
        if request.query.get("index"):
            await asyncio.Event().wait()  # a blocking read that never returns
        return web.json_response([], headers={"X-Consul-Index": "7"})

    server = await serve(agent)
    async with Consul(server.address, token="the-clients") as client, \
            client.kv.config("web/", token="the-configs"):
        await until(lambda: len(server.seen) >= 2)
    assert [r.headers.get("X-Consul-Token") for r in server.seen] == ["the-configs"] * 2
    assert all(r.path == "/v1/kv/web/" and "recurse" in r.query for r in server.seen)


async def test_an_async_on_change_callback_is_awaited(consul: Consul) -> None:
    seen: list[Mapping[str, Any]] = []
    applied = asyncio.Event()

    async def on_change(change: ConfigChange) -> None:
        seen.append(change.added)
        applied.set()

    async with consul.kv.config("web/", codec="text", on_change=on_change) as cfg:
        assert cfg.data == {}
        await consul.kv.set("web/mode", b"fast")
        await asyncio.wait_for(applied.wait(), BOUND)
        assert seen == [{"mode": "fast"}]


async def test_nothing_is_left_after_exit(consul: Consul, consul_agent: DevAgent) -> None:
    await consul.kv.set("web/a", b"1")
    async with consul.kv.config("web/", wait=(5, 10)) as cfg:
        changes = cfg.changes()
        await until(lambda: consul_agent.blocking_queries >= 1)
        assert len(our_tasks()) == 2
        await consul.kv.set("web/a", b"2")  # waits for quiet when the block ends
    assert not cfg.running
    assert_nothing_left(consul)
    await until(lambda: consul_agent.blocking_queries == 0)
    with pytest.raises(StopAsyncIteration):
        await anext(changes)


async def test_nothing_is_left_after_cancellation(consul: Consul, consul_agent: DevAgent) -> None:
    await consul.kv.set("web/a", b"1")
    entered = asyncio.Event()

    async def serve() -> None:
        async with consul.kv.config("web/", wait=(5, 10)) as cfg:
            entered.set()
            async for _ in cfg.changes():
                pass  # pragma: no cover - cancelled first

    runner = asyncio.create_task(serve())
    await asyncio.wait_for(entered.wait(), BOUND)
    await until(lambda: consul_agent.blocking_queries >= 1)
    await consul.kv.set("web/a", b"2")  # the applier now waits for quiet
    runner.cancel()
    with pytest.raises(asyncio.CancelledError):
        await runner
    assert_nothing_left(consul)
    await until(lambda: consul_agent.blocking_queries == 0)


def test_wait_reads_like_consul_templates() -> None:
    assert _quiescence(None) is None
    assert _quiescence((1, 5)) == (1.0, 5.0)
    assert _quiescence("2s:10s") == (2.0, 10.0)
    assert _quiescence(2) == (2.0, 8.0)  # max defaults to 4 * min
    assert _quiescence("500ms") == (0.5, 2.0)
    assert _quiescence(0) is None


async def test_arguments_are_checked_before_any_request(consul: Consul) -> None:
    with pytest.raises(ValueError, match=r"^wait: max \(1s\) must not be below min \(2s\)"):
        consul.kv.config("web/", wait=(2, 1))
    with pytest.raises(ValueError, match="^wait: expected"):
        consul.kv.config("web/", wait=(1, 2, 3))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="^codec: expected one of"):
        consul.kv.config("web/", codec="yaml")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="^validate: expected a callable"):
        consul.kv.config("web/", validate=True)  # type: ignore[arg-type]
