"""The client's transport against small aiohttp.web apps of the tests' own.

These are the behaviours no agent produces on demand: what exactly goes over the wire (headers,
URL), dropped connections, answers that never finish, redirects, rate limits, TLS and unix sockets.
"""

from __future__ import annotations

import asyncio
import base64
import socket
import ssl
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

import aioconsul
from aioconsul import Consul


async def ok_true(request: web.Request) -> web.Response:
    """PUT answers ``true``; GET answers one KV entry, as Consul would."""
    if request.method == "PUT":
        return web.json_response(True)
    entry = {"Key": "foo", "Value": "YmFy", "Flags": 0, "LockIndex": 0, "CreateIndex": 5,
             "ModifyIndex": 5}
    return web.json_response([entry], headers={"X-Consul-Index": "5"})


async def test_token_travels_only_in_the_x_consul_token_header(serve) -> None:
    app = await serve(ok_true)
    async with Consul(app.address, token="s3cr3t-token") as client:
        await client.kv.set("foo", b"bar")
        await client.kv.get("foo")
    for request in app.seen:
        assert request.headers["X-Consul-Token"] == "s3cr3t-token"
        assert "s3cr3t-token" not in str(request.rel_url)
        assert "token" not in request.query


async def test_no_token_header_without_a_token(serve) -> None:
    app = await serve(ok_true)
    async with Consul(app.address) as client:
        await client.status.leader()
    assert "X-Consul-Token" not in app.seen[0].headers


async def test_token_from_environment_is_sent(serve, monkeypatch: pytest.MonkeyPatch) -> None:
    app = await serve(ok_true)
    monkeypatch.setenv("CONSUL_HTTP_TOKEN", "env-token")
    async with Consul(app.address) as client:
        await client.status.leader()
    assert app.seen[0].headers["X-Consul-Token"] == "env-token"


async def test_client_consistency_is_sent_only_where_consul_takes_it(serve) -> None:
    app = await serve(ok_true)
    async with Consul(app.address, consistency="stale") as client:
        await client.kv.get("foo")
        await client.kv.get("foo", consistency="consistent")
        await client.kv.set("foo", b"")
        await client.status.leader()
    assert [sorted(request.query) for request in app.seen] == [["stale"], ["consistent"], [], []]


async def test_basic_auth_is_sent(serve) -> None:
    app = await serve(ok_true)
    async with Consul(app.address, auth="user:pw") as client:
        await client.status.leader()
    assert app.seen[0].headers["Authorization"] == "Basic " + base64.b64encode(b"user:pw").decode()


async def test_kv_value_is_sent_raw_as_octet_stream(serve) -> None:
    app = await serve(ok_true)
    async with Consul(app.address) as client:
        await client.kv.set("k", bytearray(b"\x00\xffraw"), flags=7)
    assert app.bodies[0] == b"\x00\xffraw"
    assert app.seen[0].headers["Content-Type"] == "application/octet-stream"
    assert app.seen[0].method == "PUT"
    assert app.seen[0].query["flags"] == "7"


async def test_awkward_keys_reach_the_server_intact(serve) -> None:
    app = await serve(ok_true)
    keys = ["with space", "q?x", "h#sh", "100%", "ünï/códe", "a+b=c&d"]
    async with Consul(app.address) as client:
        for key in keys:
            await client.kv.set(key, b"v")
    assert [request.path for request in app.seen] == [f"/v1/kv/{key}" for key in keys]
    assert all(not request.query for request in app.seen)


async def test_path_prefix_is_prepended(serve) -> None:
    app = await serve(ok_true)
    async with Consul(app.address + "/consul-proxy") as client:
        await client.kv.get("foo")
    assert app.seen[0].path == "/consul-proxy/v1/kv/foo"


async def test_redirects_are_never_followed(serve) -> None:
    async def redirect(request: web.Request) -> web.Response:
        if request.path != "/v1/kv/elsewhere":
            raise web.HTTPMovedPermanently("/v1/kv/elsewhere")
        return web.json_response([])

    app = await serve(redirect)
    async with Consul(app.address) as client:
        with pytest.raises(aioconsul.UnexpectedRedirect) as info:
            await client.kv.get("foo")
    assert info.value.status == 301
    assert len(app.seen) == 1


@pytest.mark.parametrize("status, body, cls", [
    (429, b"", aioconsul.RateLimited),
    (500, b"No cluster leader", aioconsul.NoLeader),
    (503, b"rate limit exceeded for operation that can only be performed by the leader",
     aioconsul.ServerError),
    (403, b"ACL not found", aioconsul.ACLNotFound),
    (403, b"Permission denied", aioconsul.PermissionDenied),
])
async def test_error_status_raises_its_class(serve, status: int, body: bytes,
                                             cls: type[Exception]) -> None:
    async def fail(request: web.Request) -> web.Response:
        return web.Response(status=status, body=body, headers={"X-Consul-Index": "77"})

    app = await serve(fail)
    async with Consul(app.address, token="s3cr3t-token", retry=False) as client:
        with pytest.raises(cls) as info:
            await client.kv.get("foo")
    error = info.value
    assert isinstance(error, aioconsul.ResponseError)
    assert error.status == status and error.meta["Index"] == 77
    assert app.address in str(error) and "GET /v1/kv/foo" in str(error)
    assert "s3cr3t-token" not in str(error) and "s3cr3t-token" not in repr(error)


async def test_connection_reset_mid_body_is_a_transport_error(serve) -> None:
    async def truncate(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Length": "1000",
                                               "Content-Type": "application/json"})
        await response.prepare(request)
        await response.write(b'[{"Key": "foo", ')
        assert request.transport is not None
        request.transport.close()
        return response

    app = await serve(truncate)
    async with Consul(app.address, retry=False) as client:
        with pytest.raises(aioconsul.TransportError) as info:
            await client.kv.get("foo")
    assert app.address in str(info.value)


async def test_non_json_body_is_a_protocol_error(serve) -> None:
    async def html(request: web.Request) -> web.Response:
        return web.Response(text="<html>proxy error</html>", content_type="text/html")

    app = await serve(html)
    async with Consul(app.address) as client:
        with pytest.raises(aioconsul.ProtocolError, match="not valid JSON"):
            await client.kv.get("foo")


async def test_answer_that_never_finishes_times_out(serve) -> None:
    release = asyncio.Event()

    async def hang(request: web.Request) -> web.Response:
        await release.wait()
        return web.json_response([])

    app = await serve(hang)
    try:
        async with Consul(app.address, timeout=0.2, retry=False) as client:
            with pytest.raises(aioconsul.RequestTimeout) as info:
                await client.kv.get("foo")
        assert isinstance(info.value, TimeoutError)
        assert "0.2s" in str(info.value)
    finally:
        release.set()


async def test_blocking_read_outlives_the_default_timeout(serve) -> None:
    """A blocking read may last its wait plus wait/16 (features/blocking.mdx): its timeout is
    derived from the wait, not from the client's timeout for ordinary calls."""
    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(0.4)
        return web.json_response([], headers={"X-Consul-Index": "6"})

    app = await serve(slow)
    async with Consul(app.address, timeout=0.1) as client:
        _, meta = await client.kv.items("foo", watch=(5, "1s"))
    assert meta["Index"] == 6
    assert app.seen[0].query["index"] == "5" and app.seen[0].query["wait"] == "1000ms"


async def test_connection_refused_names_the_address() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with Consul(f"127.0.0.1:{port}", retry=False) as client:
        with pytest.raises(aioconsul.ConnectError) as info:
            await client.kv.get("foo")
    assert f"127.0.0.1:{port}" in str(info.value)
    assert "GET /v1/kv/foo" in str(info.value)


async def test_close_is_idempotent_and_a_closed_client_refuses_calls(serve) -> None:
    app = await serve(ok_true)
    client = Consul(app.address)
    await client.status.leader()
    await client.close()
    await client.close()
    assert client.closed
    with pytest.raises(RuntimeError, match="closed"):
        await client.status.leader()


async def test_lent_session_is_used_and_never_closed(serve) -> None:
    app = await serve(ok_true)
    async with aiohttp.ClientSession() as session:
        async with Consul(app.address, session=session) as client:
            await client.kv.get("foo")
        assert not session.closed
        async with session.get(app.address + "/v1/status/leader") as response:
            assert response.status == 200


async def test_session_is_created_lazily_inside_the_loop(serve) -> None:
    client = Consul("127.0.0.1:1")  # constructing outside any request opens nothing
    assert client._core.transport._session is None
    await client.close()


async def test_unused_client_can_be_dropped_without_warnings() -> None:
    client = Consul("127.0.0.1:1")
    del client


async def test_unix_socket(serve, tmp_path: Path) -> None:
    path = str(tmp_path / "consul.sock")
    app = await serve(ok_true, unix_path=path)
    async with Consul(f"unix://{path}") as client:
        assert await client.kv.set("foo", b"bar") is True
    assert app.seen[0].path == "/v1/kv/foo"


@pytest.fixture(scope="module")
def tls() -> object:
    trustme = pytest.importorskip("trustme")
    return trustme.CA()


async def test_https_with_ca_file(serve, tls, tmp_path: Path) -> None:
    server = tls.issue_cert("127.0.0.1", "consul.internal")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.configure_cert(context)
    app = await serve(ok_true, ssl_context=context)
    ca = tmp_path / "ca.pem"
    tls.cert_pem.write_to_path(str(ca))
    async with Consul(app.address, ca_file=str(ca)) as client:
        assert await client.kv.set("foo", b"bar") is True


async def test_https_from_environment_with_client_cert(serve, tls, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    server = tls.issue_cert("consul.internal")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.configure_cert(context)
    tls.configure_trust(context)
    context.verify_mode = ssl.CERT_REQUIRED
    app = await serve(ok_true, ssl_context=context)
    ca, cert, key = tmp_path / "ca.pem", tmp_path / "c.pem", tmp_path / "k.pem"
    tls.cert_pem.write_to_path(str(ca))
    client_cert = tls.issue_cert("client")
    client_cert.cert_chain_pems[0].write_to_path(str(cert))
    client_cert.private_key_pem.write_to_path(str(key))
    monkeypatch.setenv("CONSUL_HTTP_ADDR", app.address.replace("https://", ""))
    monkeypatch.setenv("CONSUL_HTTP_SSL", "true")
    monkeypatch.setenv("CONSUL_CACERT", str(ca))
    monkeypatch.setenv("CONSUL_CLIENT_CERT", str(cert))
    monkeypatch.setenv("CONSUL_CLIENT_KEY", str(key))
    monkeypatch.setenv("CONSUL_TLS_SERVER_NAME", "consul.internal")
    async with Consul() as client:
        assert await client.kv.set("foo", b"bar") is True


async def test_https_verification_failure_is_a_transport_error(serve, tls) -> None:
    server = tls.issue_cert("127.0.0.1")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.configure_cert(context)
    app = await serve(ok_true, ssl_context=context)
    async with Consul(app.address, retry=False) as client:
        with pytest.raises(aioconsul.ConnectError):
            await client.kv.get("foo")
    async with Consul(app.address, verify=False) as client:
        assert await client.kv.set("foo", b"bar") is True


async def test_many_hanging_calls_each_time_out_and_none_outlives_its_deadline(serve) -> None:
    """Calls sharing the client's timeout share one timer: each still expires on time."""
    release = asyncio.Event()

    async def hang(request: web.Request) -> web.Response:
        await release.wait()
        return web.json_response([])

    app = await serve(hang)
    try:
        async with Consul(app.address, timeout=0.2, retry=False) as client:
            started = asyncio.get_running_loop().time()
            results = await asyncio.gather(*(client.kv.get(f"k{n}") for n in range(50)),
                                           return_exceptions=True)
            elapsed = asyncio.get_running_loop().time() - started
        assert all(isinstance(result, aioconsul.RequestTimeout) for result in results)
        assert 0.2 <= elapsed < 2
    finally:
        release.set()


async def test_a_finished_call_is_never_cancelled_by_its_old_deadline(serve) -> None:
    app = await serve(ok_true)
    async with Consul(app.address, timeout=0.1) as client:
        await client.kv.get("foo")
        await asyncio.sleep(0.3)  # past the call's deadline: this task must not be cancelled
        assert (await client.kv.get("foo"))[0] is not None


async def test_cancelling_a_call_is_a_cancellation_not_a_timeout(serve) -> None:
    release = asyncio.Event()

    async def hang(request: web.Request) -> web.Response:
        await release.wait()
        return web.json_response([])

    app = await serve(hang)
    try:
        async with Consul(app.address, timeout=5) as client:
            call = asyncio.create_task(client.kv.get("foo"))
            await asyncio.sleep(0.05)
            call.cancel()
            with pytest.raises(asyncio.CancelledError):
                await call
            with pytest.raises(TimeoutError) as info:
                async with asyncio.timeout(0.05):  # the caller's own timeout still works
                    await client.kv.get("foo")
            assert type(info.value) is TimeoutError
    finally:
        release.set()


async def test_the_timeout_cache_stays_bounded(serve) -> None:
    """Blocking reads with ever-different waits (a try-once lock's remaining wait) each need
    another timeout: the transport's cache of them must not grow with every one."""
    app = await serve(ok_true)
    async with Consul(app.address) as client:
        for step in range(200):
            entry, _ = await client.kv.get("foo", watch=(5, f"{1000 + step}ms"))
            assert entry is not None
        assert 0 < len(client._core.transport._timeouts) < 100  # 200 timeouts were used


async def test_trace_configs_see_every_request_of_the_clients_own_session(
        consul_agent: aioconsul.testing.DevAgent) -> None:
    """``Consul(trace_configs=[...])`` hands them to the ClientSession the client creates."""
    started: list[str] = []

    async def on_request_start(session: aiohttp.ClientSession, context: object,
                               params: aiohttp.TraceRequestStartParams) -> None:
        started.append(f"{params.method} {params.url.path}")

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(on_request_start)
    async with Consul(consul_agent.address, trace_configs=[trace]) as client:
        await client.kv.set("traced", b"1")
        await client.kv.get("traced")
    assert started == ["PUT /v1/kv/traced", "GET /v1/kv/traced"]


async def test_trace_configs_with_a_lent_session_are_refused() -> None:
    """The client never changes a session it does not own: tracing goes on that session."""
    async with aiohttp.ClientSession() as session:
        with pytest.raises(ValueError, match="^trace_configs:"):
            Consul(session=session, trace_configs=[aiohttp.TraceConfig()])


@pytest.mark.parametrize("value", [aiohttp.TraceConfig(), ["not a trace config"]])
def test_trace_configs_must_be_a_list_of_trace_configs(value: object) -> None:
    with pytest.raises(TypeError, match="^trace_configs:"):
        Consul(trace_configs=value)  # type: ignore[arg-type]
