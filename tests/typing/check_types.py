"""The types a mypy user sees: checked by ``mypy --strict aioconsul tests/typing`` (never run).

Each ``assert_type`` states what mypy must infer; a wrong inference fails the type check.
The item type of a watch follows the read's return type and ``errors=``: ``"yield"`` (or an
``ErrorMode`` only known at run time) adds :class:`~aioconsul.ConsulError`.
"""

from __future__ import annotations

from typing import Any

from typing_extensions import assert_type

from aioconsul import Consul, ConsulError, Meta
from aioconsul.typing import Blocking, Collection, HashBlocking, Object
from aioconsul.typing import Mapping as ObjectMapping
from aioconsul.watch import ErrorMode, EventWatch, Watch


async def watches(client: Consul, mode: ErrorMode) -> None:
    # Consul.watch: T from the read's return type.
    assert_type(client.watch(client.catalog.nodes), Watch[tuple[Collection, Meta]])
    assert_type(client.watch(client.kv.get, "k"), Watch[tuple[Object | None, Meta]])
    assert_type(client.watch(client.kv.get, "k", errors="log"), Watch[tuple[Object | None, Meta]])
    assert_type(client.watch(client.kv.get, "k", errors="raise"),
                Watch[tuple[Object | None, Meta]])
    assert_type(client.watch(client.kv.get, "k", errors="yield"),
                Watch[tuple[Object | None, Meta] | ConsulError])
    assert_type(client.watch(client.kv.get, "k", errors=mode),
                Watch[tuple[Object | None, Meta] | ConsulError])
    assert_type(client.watch(client.agent.services.get, "web"),
                Watch[tuple[Object | None, Meta]])
    assert_type(client.watch(client.health.service, "web", passing=True),
                Watch[tuple[Collection, Meta]])

    # Watch itself.
    assert_type(Watch(client.kv.items, "app/"), Watch[tuple[Collection, Meta]])
    assert_type(Watch(client.kv.items, "app/", errors="yield"),
                Watch[tuple[Collection, Meta] | ConsulError])

    # kv.watch and event.watch.
    assert_type(client.kv.watch("k"), Watch[tuple[Object | None, Meta]])
    assert_type(client.kv.watch("k", errors="yield"),
                Watch[tuple[Object | None, Meta] | ConsulError])
    assert_type(client.event.watch("deploy"), EventWatch[tuple[Object, Meta]])
    assert_type(client.event.watch("deploy", since_now=True, errors="raise"),
                EventWatch[tuple[Object, Meta]])
    assert_type(client.event.watch("deploy", errors="yield"),
                EventWatch[tuple[Object, Meta] | ConsulError])
    # Shared watches (the default), or a read of the watch's own: the same types.
    assert_type(client.kv.watch("k", shared=False), Watch[tuple[Object | None, Meta]])
    assert_type(client.watch(client.kv.get, "k", shared=False, errors="yield"),
                Watch[tuple[Object | None, Meta] | ConsulError])
    assert_type(client.event.watch("deploy", shared=False), EventWatch[tuple[Object, Meta]])
    assert_type(client.kv.watch("k").subscribers, int)

    # What iterating gives.
    async with client.kv.watch("k") as watch:
        async for entry, meta in watch:
            assert_type(entry, Object | None)
            assert_type(meta, Meta)
    async with client.kv.watch("k", errors="yield") as yielding:
        async for item in yielding:
            if isinstance(item, ConsulError):
                assert_type(item, ConsulError)
            else:
                assert_type(item, tuple[Object | None, Meta])
    async with client.event.watch("deploy", since_now=True) as events:
        await events.ready()
        event, event_meta = await anext(events)
        assert_type(event, Object)
        assert_type(event_meta, Meta)


async def blocking_arguments(client: Consul, meta: Meta, service: Object) -> None:
    # Every read takes a typed watch=, not Any.
    index: Blocking = meta
    with_wait: Blocking = (meta, "30s")
    await client.kv.get("k", watch=index)
    await client.catalog.nodes(watch=with_wait)
    await client.health.service("web", watch=(42, None))
    await client.event.items("deploy", watch=meta)
    content_hash: HashBlocking = (meta, "10s")
    await client.agent.services.get("web", watch=content_hash)
    await client.agent.services.get("web", watch=service)
    services: ObjectMapping = (await client.agent.services.items())[0]
    assert_type(services, dict[str, dict[str, Any]])
    await client.kv.get("k", watch=[1])  # type: ignore[arg-type]
    await client.agent.services.get("web", watch=1)  # type: ignore[arg-type]


async def acl_types(client: Consul, meta: Meta) -> None:
    # client.acl: objects and lists with their Meta, None for a read of nothing.
    token, _ = await client.acl.tokens.create(policies=["readonly", {"ID": "p"}])
    assert_type(token, Object)
    assert_type(await client.acl.tokens.get(token, expanded=True), tuple[Object | None, Meta])
    assert_type(await client.acl.tokens.items(policy=token, watch=meta),
                tuple[Collection, Meta])
    assert_type(await client.acl.tokens.self(token="s3cr3t"), tuple[Object, Meta])
    assert_type(await client.acl.tokens.delete(token), bool)
    assert_type(await client.acl.policies.create("p", {"key_prefix": {}}),
                tuple[Object, Meta])
    assert_type(await client.acl.policies.get_by_name("p"), tuple[Object | None, Meta])
    assert_type(await client.acl.templated_policies.items(),
                tuple[dict[str, dict[str, Any]], Meta])
    assert_type(await client.acl.oidc_auth_url("oidc", "http://cb"), tuple[str, Meta])
    assert_type(await client.acl.logout(token="s3cr3t"), None)
    # A per-call token is a str on every method, watches and recipes included.
    assert_type(client.kv.watch("k", token="s3cr3t"), Watch[tuple[Object | None, Meta]])
    await client.kv.get("k", token=b"s3cr3t")  # type: ignore[arg-type]
    await client.acl.policies.create("p", 42)  # type: ignore[arg-type]
