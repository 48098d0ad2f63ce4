"""Transactions: several KV operations applied atomically, all of them or none.

Runs as is against the embedded dev agent. The ``# [name]`` / ``# [end]`` comments mark
the snippets that docs/txn.rst shows; the asserts after them check what the snippets
printed.
"""

import asyncio

from aioconsul import Consul, TxnFailed
from aioconsul.testing import DevAgent


async def main() -> None:
    async with DevAgent() as agent, Consul(agent.address) as client:
        # [block]
        # Built one verb at a time, applied when the block ends.
        async with client.kv.txn() as txn:
            txn.set("app/config", b'{"replicas": 3}', flags=1)
            txn.set("app/version", b"42")
            txn.get("app/config")  # reads see the writes made before them
        set_config, set_version, got = txn.results
        print(got["KV"]["Value"])  # b'{"replicas": 3}'
        print(set_config["KV"]["ModifyIndex"], set_version["KV"]["ModifyIndex"])
        # [end]
        assert set_config["KV"]["Value"] == b""  # only the gets carry values back
        assert got["KV"]["Value"] == b'{"replicas": 3}'
        # One Raft index for the whole transaction.
        assert set_config["KV"]["ModifyIndex"] == set_version["KV"]["ModifyIndex"]

        # [chain]
        # Check-and-set across keys: change the version only if neither key changed.
        config, _ = await client.kv.get("app/config")
        version, _ = await client.kv.get("app/version")
        results, meta = await (
            client.kv.txn()
            .check_index("app/config", index=config)  # the entry's ModifyIndex
            .cas("app/version", b"43", index=version)
            .apply()
        )
        print([r["KV"]["Key"] for r in results])
        # [end]
        assert [r["KV"]["Key"] for r in results] == ["app/config", "app/version"]

        # [rollback]
        # A failed operation rolls the whole transaction back and names every failure.
        try:
            await (
                client.kv.txn()
                .set("app/replicas", b"5")
                .check_index("app/config", index=1)  # stale
                .get("app/missing")
                .apply()
            )
        except TxnFailed as failed:
            for index, what in failed.errors:
                print(index, what)
        # [end]
            assert [index for index, _ in failed.errors] == [1, 2]
        replicas, _ = await client.kv.get("app/replicas")
        assert replicas is None  # the set at op 0 was not applied

        # [locks]
        # Take two keys for one session, or neither.
        session = await client.session.create("docs-txn", lock_delay="0s")
        async with client.kv.txn() as txn:
            txn.lock("locks/a", b"me", session=session)
            txn.lock("locks/b", b"me", session=session)
        print([r["KV"]["Session"] == session["ID"] for r in txn.results])
        # [end]
        assert all(r["KV"]["Session"] == session["ID"] for r in txn.results)

        # [dicts]
        # The same operations as plain dicts in Consul's shape (values as bytes).
        results, meta = await client.txn.apply([
            {"KV": {"Verb": "check-session", "Key": "locks/a",
                    "Session": session["ID"]}},
            {"KV": {"Verb": "get-tree", "Key": "locks/"}},
        ])
        print([r["KV"]["Key"] for r in results])
        # [end]
        assert [r["KV"]["Key"] for r in results] == ["locks/a", "locks/a", "locks/b"]
        # Without writes, Consul serves it as a read: consistency modes apply, no index.
        assert meta["KnownLeader"] is True

        await client.session.destroy(session)

        # [catalog]
        # Catalog objects in Consul's JSON shape: a node and its service, or neither.
        node = {"Node": "web-01", "Address": "10.0.0.7"}
        registered, _ = await (
            client.txn.transaction()
            .node_set(node)
            .service_set(node, {"ID": "web", "Service": "web", "Port": 8080})
            .apply()
        )
        print(registered[1]["Service"]["Port"])  # 8080
        # [end]
        assert registered[1]["Service"]["Port"] == 8080


if __name__ == "__main__":
    asyncio.run(main())
