"""Bad input is refused before any I/O, with a TypeError or ValueError naming the argument.

Every row of the table in docs/guarantees.rst is a case here. The client points at an address
where nothing listens and never retries, so a request that went out would fail with a
ConnectError instead of the expected error: passing proves nothing was sent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from aioconsul import Consul
from aioconsul.api.kv import MAX_VALUE_SIZE

Call = Callable[[Consul], Awaitable[Any] | Any]

ROWS: list[tuple[str, Call, type[Exception], str]] = [
    ("str value", lambda c: c.kv.set("k", "text"), TypeError, "value"),
    ("oversized value", lambda c: c.kv.set("k", b"x" * (MAX_VALUE_SIZE + 1)), ValueError,
     "value"),
    ("empty key", lambda c: c.kv.get(""), ValueError, "key"),
    ("key with a leading /", lambda c: c.kv.delete("/etc"), ValueError, "key"),
    ("key with a .. segment", lambda c: c.kv.set("a/../b", b""), ValueError, "key"),
    ("key with a control character", lambda c: c.kv.get("a\nb"), ValueError, "key"),
    ("non-str key", lambda c: c.kv.get(3), TypeError, "key"),
    ("negative flags", lambda c: c.kv.set("k", b"", flags=-1), ValueError, "flags"),
    ("negative index", lambda c: c.kv.cas("k", b"", index=-1), ValueError, "cas"),
    ("index that is not a number", lambda c: c.kv.cas("k", b"", index="12-34"), ValueError,
     "cas"),
    ("delete-cas at index 0", lambda c: c.kv.delete_cas("k", index=0), ValueError, "index"),
    ("cas with acquire", lambda c: c.kv.set("k", b"", cas=1, acquire="s"), ValueError,
     "cas, acquire"),
    ("bad wait", lambda c: c.kv.get("k", watch=(1, "10")), ValueError, "watch wait"),
    ("bad watch", lambda c: c.kv.get("k", watch=[1, "10s"]), TypeError, "watch"),
    ("unknown consistency", lambda c: c.kv.get("k", consistency="eventual"), ValueError,
     "consistency"),
    ("empty event name", lambda c: c.event.fire(""), ValueError, "name"),
    ("reserved event name", lambda c: c.event.fire("_rexec"), ValueError, "name"),
    ("str event payload", lambda c: c.event.fire("x", "text"), TypeError, "payload"),
    ("tag filter without service", lambda c: c.event.fire("x", tag="v1"), ValueError, "tag"),
    ("bad session TTL", lambda c: c.session.create(ttl="10"), ValueError, "ttl"),
    ("unknown session behavior", lambda c: c.session.create(behavior="keep"), ValueError,
     "behavior"),
    ("empty session id", lambda c: c.session.info(""), ValueError, "session"),
    ("catalog node without address", lambda c: c.catalog.register("n"), ValueError, "address"),
    ("non-str filter", lambda c: c.catalog.nodes(filter=3), TypeError, "filter"),
    ("non-str node-meta value", lambda c: c.catalog.nodes(node_meta={"a": 1}), TypeError,
     "node_meta"),
    ("unknown health state", lambda c: c.health.state("down"), ValueError, "state"),
    ("non-bool passing", lambda c: c.health.service("web", passing="yes"), TypeError,
     "passing"),
    ("bad watch wait", lambda c: c.kv.watch("k", wait="forever"), ValueError, "wait"),
    ("unknown watch error mode", lambda c: c.watch(c.kv.get, "k", errors="ignore"),
     ValueError, "errors"),
]


@pytest.mark.parametrize("call, error, name", [row[1:] for row in ROWS],
                         ids=[row[0] for row in ROWS])
async def test_bad_input_is_refused_before_any_request(unreachable: str, call: Call,
                                                       error: type[Exception], name: str) -> None:
    async with Consul(unreachable, retry=False) as client:
        with pytest.raises(error) as info:
            result = call(client)
            if isinstance(result, Awaitable):
                await result
    assert str(info.value).startswith(f"{name}: "), str(info.value)
    assert client._core.transport._session is None  # no session was even opened


@pytest.mark.parametrize("kwargs, error, name", [
    ({"address": 3}, TypeError, "address"),
    ({"address": "ftp://h:1"}, ValueError, "address"),
    ({"address": []}, ValueError, "address"),
    ({"timeout": -1}, ValueError, "timeout"),
    ({"token": "a\r\nb"}, ValueError, "token"),
    ({"consistency": "eventual"}, ValueError, "consistency"),
    ({"retry": 3}, TypeError, "retry"),
    ({"cert_file": "/c.pem"}, ValueError, "cert_file, key_file"),
])
def test_bad_client_settings_are_refused(kwargs: dict[str, Any], error: type[Exception],
                                         name: str) -> None:
    with pytest.raises(error) as info:
        Consul(**kwargs)
    assert str(info.value).startswith(f"{name}: ")
