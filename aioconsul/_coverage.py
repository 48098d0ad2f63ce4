"""Which Consul endpoint each client method calls: the data of ``docs/coverage.rst``.

Not public API: a tool of the docs build (``docs/conf.py``) and of ``tests/test_coverage.py``.
Nothing here is typed by hand about the client: :data:`CALLS` calls every public method of every
endpoint group once (``tests/client/test_token.py`` holds it to exactly the methods the client
has), :func:`record` runs each call against a fresh in-process :class:`~aioconsul.testing.DevAgent`
and notes every request that goes over the wire (an aiohttp trace, so what is recorded is what
was sent), and :func:`coverage` matches each request's path to a row of Consul's endpoint table
(``docs/_data/endpoints.tsv``, patterns such as ``/v1/kv/:key``). A row no method reaches needs a
documented reason in :data:`REASONS`; whether the dev agent serves a row is read from its own
route table. Adding a method, a route or a reason therefore changes the page by itself.

It never mocks the client: the calls go through the request core and the transport like any
user's call does. Only the requests are looked at, never the answers (a 404 or a 403 still
proves which endpoint the method calls).
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from ._core.core import Endpoint
from .client import Consul
from .errors import ConsulError
from .testing import DevAgent
from .testing.endpoints import ROUTES

__all__ = ["CALLS", "NOT_CALLS", "REASONS", "STREAMS", "VARIANTS", "ApiEndpoint", "Reason", "Row",
           "coverage", "load_endpoints", "methods", "record", "render"]

Use = Callable[[Consul, str | None], Awaitable[Any]]


async def _each(read: Any) -> None:
    async for _ in read:
        break


async def _monitor(c: Consul, t: str | None) -> None:
    async with c.agent.monitor(token=t):
        pass


async def _metrics_stream(c: Consul, t: str | None) -> None:
    async with c.agent.metrics_stream(token=t):
        pass


async def _watch(c: Consul, t: str | None) -> None:
    async with c.watch(c.catalog.nodes, token=t) as watch:
        await _each(watch)


async def _kv_watch(c: Consul, t: str | None) -> None:
    async with c.kv.watch("k", token=t) as watch:
        await _each(watch)


async def _event_watch(c: Consul, t: str | None) -> None:
    async with c.event.watch("deploy", token=t) as watch:
        await watch.ready()


async def _kv_txn(c: Consul, t: str | None) -> None:
    async with c.kv.txn(token=t) as txn:
        txn.get_or_empty("k")


async def _txn_transaction(c: Consul, t: str | None) -> None:
    await c.txn.transaction(token=t).get_or_empty("k").apply()


async def _keepalive(c: Consul, t: str | None) -> None:
    async with c.session.keepalive("10s", token=t):
        pass


async def _update(c: Consul, t: str | None) -> None:
    await c.kv.update("k", lambda value: b"new", token=t)


#: One call of every public method, by the name :func:`methods` gives it. Each gets the call's token
#: (or None); whatever the agent answers, only the requests sent are looked at.
_GOSSIP_KEY = "a2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2s="  # base64 of 32 bytes
_AREA = "0b3a4b0e-0000-4000-8000-000000000000"

CALLS: dict[str, Use] = {
    "kv.get": lambda c, t: c.kv.get("k", token=t),
    "kv.raw": lambda c, t: c.kv.raw("k", token=t),
    "kv.keys": lambda c, t: c.kv.keys("", token=t),
    "kv.items": lambda c, t: c.kv.items("", token=t),
    "kv.tree": lambda c, t: c.kv.tree("", token=t),
    "kv.set": lambda c, t: c.kv.set("k", b"v", token=t),
    "kv.cas": lambda c, t: c.kv.cas("k", b"v", index=0, token=t),
    "kv.lock": lambda c, t: c.kv.lock("k", session="6d7c0ad1-0000-4000-8000-000000000000",
                                      token=t),
    "kv.unlock": lambda c, t: c.kv.unlock("k", session="6d7c0ad1-0000-4000-8000-000000000000",
                                          token=t),
    "kv.delete": lambda c, t: c.kv.delete("k", token=t),
    "kv.delete_tree": lambda c, t: c.kv.delete_tree("k/", token=t),
    "kv.delete_cas": lambda c, t: c.kv.delete_cas("k", index=5, token=t),
    "kv.update": _update,
    "kv.export": lambda c, t: c.kv.export("", token=t),
    "kv.import_": lambda c, t: c.kv.import_([{"key": "k", "value": "dg=="}], token=t),
    "kv.watch": _kv_watch,
    "kv.txn": _kv_txn,
    "txn.apply": lambda c, t: c.txn.apply([{"KV": {"Verb": "get-or-empty", "Key": "k"}}],
                                          token=t),
    "txn.transaction": _txn_transaction,
    "event.fire": lambda c, t: c.event.fire("deploy", token=t),
    "event.items": lambda c, t: c.event.items(token=t),
    "event.watch": _event_watch,
    "session.create": lambda c, t: c.session.create(token=t),
    "session.destroy": lambda c, t: c.session.destroy("6d7c0ad1-0000-4000-8000-000000000000",
                                                      token=t),
    "session.renew": lambda c, t: c.session.renew("6d7c0ad1-0000-4000-8000-000000000000",
                                                  token=t),
    "session.info": lambda c, t: c.session.info("6d7c0ad1-0000-4000-8000-000000000000",
                                                token=t),
    "session.node": lambda c, t: c.session.node("n1", token=t),
    "session.items": lambda c, t: c.session.items(token=t),
    "session.keepalive": _keepalive,
    "query.create": lambda c, t: c.query.create({"Name": "q", "Service": {"Service": "web"}},
                                                token=t),
    "query.items": lambda c, t: c.query.items(token=t),
    "query.get": lambda c, t: c.query.get("6d7c0ad1-0000-4000-8000-000000000000", token=t),
    "query.update": lambda c, t: c.query.update("6d7c0ad1-0000-4000-8000-000000000000",
                                                {"Service": {"Service": "web"}}, token=t),
    "query.delete": lambda c, t: c.query.delete("6d7c0ad1-0000-4000-8000-000000000000", token=t),
    "query.execute": lambda c, t: c.query.execute("q", token=t),
    "query.explain": lambda c, t: c.query.explain("q", token=t),
    "config_entries.apply": lambda c, t: c.config_entries.apply(
        {"Kind": "service-defaults", "Name": "web"}, token=t),
    "config_entries.get": lambda c, t: c.config_entries.get("service-defaults", "web", token=t),
    "config_entries.items": lambda c, t: c.config_entries.items("service-defaults", token=t),
    "config_entries.delete": lambda c, t: c.config_entries.delete(
        "service-defaults", "web", token=t),
    "catalog.register": lambda c, t: c.catalog.register("n1", address="10.0.0.1", token=t),
    "catalog.deregister": lambda c, t: c.catalog.deregister("n1", token=t),
    "catalog.datacenters": lambda c, t: c.catalog.datacenters(token=t),
    "catalog.datacenters_meta": lambda c, t: c.catalog.datacenters_meta(token=t),
    "catalog.nodes": lambda c, t: c.catalog.nodes(token=t),
    "catalog.services": lambda c, t: c.catalog.services(token=t),
    "catalog.service": lambda c, t: c.catalog.service("web", token=t),
    "catalog.connect": lambda c, t: c.catalog.connect("web", token=t),
    "catalog.node": lambda c, t: c.catalog.node("n1", token=t),
    "catalog.node_services": lambda c, t: c.catalog.node_services("n1", token=t),
    "catalog.gateway_services": lambda c, t: c.catalog.gateway_services("gw", token=t),
    "health.node": lambda c, t: c.health.node("n1", token=t),
    "health.checks": lambda c, t: c.health.checks("web", token=t),
    "health.service": lambda c, t: c.health.service("web", token=t),
    "health.connect": lambda c, t: c.health.connect("web", token=t),
    "health.ingress": lambda c, t: c.health.ingress("web", token=t),
    "health.state": lambda c, t: c.health.state(token=t),
    "coordinate.datacenters": lambda c, t: c.coordinate.datacenters(token=t),
    "coordinate.nodes": lambda c, t: c.coordinate.nodes(token=t),
    "coordinate.node": lambda c, t: c.coordinate.node("n1", token=t),
    "coordinate.update": lambda c, t: c.coordinate.update(
        "n1", {"Vec": [0.0] * 8, "Error": 1.5, "Adjustment": 0.0, "Height": 1e-5}, token=t),
    "operator.raft_configuration": lambda c, t: c.operator.raft_configuration(token=t),
    "operator.transfer_leader": lambda c, t: c.operator.transfer_leader(token=t),
    "operator.remove_peer": lambda c, t: c.operator.remove_peer(address="10.0.0.9:8300",
                                                                token=t),
    "operator.autopilot_configuration": lambda c, t: c.operator.autopilot_configuration(
        token=t),
    "operator.set_autopilot_configuration": lambda c, t: (
        c.operator.set_autopilot_configuration({"MinQuorum": 0}, token=t)),
    "operator.autopilot_health": lambda c, t: c.operator.autopilot_health(token=t),
    "operator.autopilot_state": lambda c, t: c.operator.autopilot_state(token=t),
    "operator.keyring_list": lambda c, t: c.operator.keyring_list(token=t),
    "operator.keyring_install": lambda c, t: c.operator.keyring_install(_GOSSIP_KEY, token=t),
    "operator.keyring_use": lambda c, t: c.operator.keyring_use(_GOSSIP_KEY, token=t),
    "operator.keyring_remove": lambda c, t: c.operator.keyring_remove(_GOSSIP_KEY, token=t),
    "operator.usage": lambda c, t: c.operator.usage(token=t),
    "operator.areas": lambda c, t: c.operator.areas(token=t),
    "operator.area_create": lambda c, t: c.operator.area_create({"PeerDatacenter": "dc2"},
                                                                token=t),
    "operator.area_get": lambda c, t: c.operator.area_get(_AREA, token=t),
    "operator.area_update": lambda c, t: c.operator.area_update(_AREA, {"UseTLS": True},
                                                                token=t),
    "operator.area_delete": lambda c, t: c.operator.area_delete(_AREA, token=t),
    "operator.area_join": lambda c, t: c.operator.area_join(_AREA, ["10.0.0.9"], token=t),
    "operator.area_members": lambda c, t: c.operator.area_members(_AREA, token=t),
    "operator.segments": lambda c, t: c.operator.segments(token=t),
    "operator.license": lambda c, t: c.operator.license(token=t),
    "operator.utilization": lambda c, t: c.operator.utilization(token=t),
    "operator.audit_hash": lambda c, t: c.operator.audit_hash("x", token=t),
    "operator.features": lambda c, t: c.operator.features(token=t),
    "operator.feature": lambda c, t: c.operator.feature("f", token=t),
    "operator.set_feature": lambda c, t: c.operator.set_feature("f", True, token=t),
    "status.leader": lambda c, t: c.status.leader(token=t),
    "status.peers": lambda c, t: c.status.peers(token=t),
    "agent.self": lambda c, t: c.agent.self(token=t),
    "agent.members": lambda c, t: c.agent.members(token=t),
    "agent.join": lambda c, t: c.agent.join("127.0.0.1:1", token=t),
    "agent.leave": lambda c, t: c.agent.leave(token=t),
    "agent.force_leave": lambda c, t: c.agent.force_leave("ghost", token=t),
    "agent.maintenance": lambda c, t: c.agent.maintenance(False, token=t),
    "agent.reload": lambda c, t: c.agent.reload(token=t),
    "agent.metrics": lambda c, t: c.agent.metrics(token=t),
    "agent.host": lambda c, t: c.agent.host(token=t),
    "agent.version": lambda c, t: c.agent.version(token=t),
    "agent.monitor": _monitor,
    "agent.update_token": lambda c, t: c.agent.update_token(
        "agent", "n3w-s3cr3t-0000-4000-8000-000000000003", token=t),
    "agent.services.items": lambda c, t: c.agent.services.items(token=t),
    "agent.services.get": lambda c, t: c.agent.services.get("web", token=t),
    "agent.services.register": lambda c, t: c.agent.services.register("web", token=t),
    "agent.services.deregister": lambda c, t: c.agent.services.deregister("web", token=t),
    "agent.services.maintenance": lambda c, t: c.agent.services.maintenance("web", False,
                                                                            token=t),
    "agent.services.health": lambda c, t: c.agent.services.health("web", token=t),
    "agent.checks.items": lambda c, t: c.agent.checks.items(token=t),
    "agent.checks.register": lambda c, t: c.agent.checks.register("ttl", ttl="30s", token=t),
    "agent.checks.deregister": lambda c, t: c.agent.checks.deregister("ttl", token=t),
    "agent.checks.pass_": lambda c, t: c.agent.checks.pass_("ttl", token=t),
    "agent.checks.warn": lambda c, t: c.agent.checks.warn("ttl", token=t),
    "agent.checks.fail": lambda c, t: c.agent.checks.fail("ttl", token=t),
    "agent.checks.update": lambda c, t: c.agent.checks.update("ttl", "passing", token=t),
    "acl.bootstrap": lambda c, t: c.acl.bootstrap(token=t),
    "acl.replication": lambda c, t: c.acl.replication(token=t),
    "acl.login": lambda c, t: c.acl.login("jwt", "b3ar3r", token=t),
    "acl.logout": lambda c, t: c.acl.logout(token=t),
    "acl.oidc_auth_url": lambda c, t: c.acl.oidc_auth_url("oidc", "http://localhost/cb",
                                                          token=t),
    "acl.oidc_callback": lambda c, t: c.acl.oidc_callback("oidc", "st", "c0de", token=t),
    "acl.tokens.create": lambda c, t: c.acl.tokens.create(description="x", token=t),
    "acl.tokens.get": lambda c, t: c.acl.tokens.get("6d7c0ad1-0000-4000-8000-000000000000",
                                                    token=t),
    "acl.tokens.self": lambda c, t: c.acl.tokens.self(token=t),
    "acl.tokens.update": lambda c, t: c.acl.tokens.update(
        "6d7c0ad1-0000-4000-8000-000000000000", description="x", token=t),
    "acl.tokens.clone": lambda c, t: c.acl.tokens.clone(
        "6d7c0ad1-0000-4000-8000-000000000000", token=t),
    "acl.tokens.delete": lambda c, t: c.acl.tokens.delete(
        "6d7c0ad1-0000-4000-8000-000000000000", token=t),
    "acl.tokens.items": lambda c, t: c.acl.tokens.items(token=t),
    "acl.policies.create": lambda c, t: c.acl.policies.create("p", "", token=t),
    "acl.policies.get": lambda c, t: c.acl.policies.get("6d7c0ad1-0000-4000-8000-000000000000",
                                                        token=t),
    "acl.policies.get_by_name": lambda c, t: c.acl.policies.get_by_name("p", token=t),
    "acl.policies.update": lambda c, t: c.acl.policies.update(
        "6d7c0ad1-0000-4000-8000-000000000000", name="p", token=t),
    "acl.policies.delete": lambda c, t: c.acl.policies.delete(
        "6d7c0ad1-0000-4000-8000-000000000000", token=t),
    "acl.policies.items": lambda c, t: c.acl.policies.items(token=t),
    "acl.roles.create": lambda c, t: c.acl.roles.create("r", token=t),
    "acl.roles.get": lambda c, t: c.acl.roles.get("6d7c0ad1-0000-4000-8000-000000000000",
                                                  token=t),
    "acl.roles.get_by_name": lambda c, t: c.acl.roles.get_by_name("r", token=t),
    "acl.roles.update": lambda c, t: c.acl.roles.update(
        "6d7c0ad1-0000-4000-8000-000000000000", name="r", token=t),
    "acl.roles.delete": lambda c, t: c.acl.roles.delete("6d7c0ad1-0000-4000-8000-000000000000",
                                                        token=t),
    "acl.roles.items": lambda c, t: c.acl.roles.items(token=t),
    "acl.auth_methods.create": lambda c, t: c.acl.auth_methods.create("m", "jwt", token=t),
    "acl.auth_methods.get": lambda c, t: c.acl.auth_methods.get("m", token=t),
    "acl.auth_methods.update": lambda c, t: c.acl.auth_methods.update("m", type="jwt",
                                                                      token=t),
    "acl.auth_methods.delete": lambda c, t: c.acl.auth_methods.delete("m", token=t),
    "acl.auth_methods.items": lambda c, t: c.acl.auth_methods.items(token=t),
    "acl.binding_rules.create": lambda c, t: c.acl.binding_rules.create("m", "service", "web",
                                                                        token=t),
    "acl.binding_rules.get": lambda c, t: c.acl.binding_rules.get(
        "6d7c0ad1-0000-4000-8000-000000000000", token=t),
    "acl.binding_rules.update": lambda c, t: c.acl.binding_rules.update(
        "6d7c0ad1-0000-4000-8000-000000000000", auth_method="m", bind_type="service",
        bind_name="web", token=t),
    "acl.binding_rules.delete": lambda c, t: c.acl.binding_rules.delete(
        "6d7c0ad1-0000-4000-8000-000000000000", token=t),
    "acl.binding_rules.items": lambda c, t: c.acl.binding_rules.items(token=t),
    "acl.templated_policies.items": lambda c, t: c.acl.templated_policies.items(token=t),
    "acl.templated_policies.get": lambda c, t: c.acl.templated_policies.get("builtin/dns",
                                                                            token=t),
    "acl.templated_policies.preview": lambda c, t: c.acl.templated_policies.preview(
        "builtin/service", {"Name": "web"}, token=t),
    # -- connect.ca, agent.connect.roots/leaf --
    "connect.ca.roots": lambda c, t: c.connect.ca.roots(token=t),
    "connect.ca.roots_pem": lambda c, t: c.connect.ca.roots_pem(token=t),
    "connect.ca.get_config": lambda c, t: c.connect.ca.get_config(token=t),
    "connect.ca.set_config": lambda c, t: c.connect.ca.set_config(
        "consul", {"LeafCertTTL": "72h"}, token=t),
    "agent.connect.roots": lambda c, t: c.agent.connect.roots(token=t),
    "agent.connect.leaf": lambda c, t: c.agent.connect.leaf("web", token=t),
    # -- connect.intentions, agent.connect.authorize --
    "connect.intentions.upsert": lambda c, t: c.connect.intentions.upsert(
        "web", "db", action="allow", token=t),
    "connect.intentions.get": lambda c, t: c.connect.intentions.get("web", "db", token=t),
    "connect.intentions.delete": lambda c, t: c.connect.intentions.delete("web", "db", token=t),
    "connect.intentions.items": lambda c, t: c.connect.intentions.items(token=t),
    "connect.intentions.match": lambda c, t: c.connect.intentions.match("destination", "db",
                                                                        token=t),
    "connect.intentions.check": lambda c, t: c.connect.intentions.check("web", "db", token=t),
    "connect.intentions.create": lambda c, t: c.connect.intentions.create(
        "web", "db", action="allow", token=t),
    "connect.intentions.get_by_id": lambda c, t: c.connect.intentions.get_by_id(
        "6d7c0ad1-0000-4000-8000-000000000000", token=t),
    "connect.intentions.update": lambda c, t: c.connect.intentions.update(
        "6d7c0ad1-0000-4000-8000-000000000000", "web", "db", action="deny", token=t),
    "connect.intentions.delete_by_id": lambda c, t: c.connect.intentions.delete_by_id(
        "6d7c0ad1-0000-4000-8000-000000000000", token=t),
    "agent.connect.authorize": lambda c, t: c.agent.connect.authorize(
        "db", "spiffe://x.consul/ns/default/dc/dc1/svc/web", "01", token=t),
    # -- discovery_chain --
    "discovery_chain.get": lambda c, t: c.discovery_chain.get("web", token=t),
    # -- snapshot --
    "snapshot.save": lambda c, t: c.snapshot.save(io.BytesIO(), token=t),
    "snapshot.restore": lambda c, t: c.snapshot.restore(b"", token=t),
    # -- peering, exported/imported services --
    "peering.generate_token": lambda c, t: c.peering.generate_token("east", token=t),
    "peering.establish": lambda c, t: c.peering.establish("west", "e30=", token=t),
    "peering.get": lambda c, t: c.peering.get("east", token=t),
    "peering.delete": lambda c, t: c.peering.delete("east", token=t),
    "peering.items": lambda c, t: c.peering.items(token=t),
    "peering.exported_services": lambda c, t: c.peering.exported_services(token=t),
    # -- namespaces, partitions, agent metrics stream, misc --
    "namespaces.create": lambda c, t: c.namespaces.create({"Name": "team-a"}, token=t),
    "namespaces.get": lambda c, t: c.namespaces.get("team-a", token=t),
    "namespaces.update": lambda c, t: c.namespaces.update("team-a", {"Description": "A"},
                                                          token=t),
    "namespaces.delete": lambda c, t: c.namespaces.delete("team-a", token=t),
    "namespaces.items": lambda c, t: c.namespaces.items(token=t),
    "partitions.create": lambda c, t: c.partitions.create({"Name": "east"}, token=t),
    "partitions.get": lambda c, t: c.partitions.get("east", token=t),
    "partitions.update": lambda c, t: c.partitions.update("east", {"Description": "E"},
                                                          token=t),
    "partitions.delete": lambda c, t: c.partitions.delete("east", token=t),
    "partitions.items": lambda c, t: c.partitions.items(token=t),
    "agent.metrics_stream": _metrics_stream,
}

#: Client methods that are not requests, and the toolkit's own (tested where they live).
NOT_CALLS = {"close", "watch", "lock", "semaphore", "election", "register", "discover",
             "kv.config"}


#: Other forms of a method that call another endpoint, named ``method(option)``: each
#: sends its requests the way :data:`CALLS` do, and the page lists it under the method.
VARIANTS: dict[str, Use] = {
    "agent.services.health(id=)": lambda c, t: c.agent.services.health(id="web", token=t),
    "discovery_chain.get(override_protocol=)": lambda c, t: c.discovery_chain.get(
        "web", override_protocol="http", token=t),
}

#: Calls that never end on their own (a log stream): stopped once their request has gone out.
STREAMS = frozenset({"agent.monitor", "agent.metrics_stream"})


def methods(obj: Any, path: str = "") -> dict[str, Any]:
    """Every public method of the client's endpoint groups, by its dotted path."""
    found: dict[str, Any] = {}
    for name in dir(obj):
        if name.startswith("_"):
            continue
        attr = getattr(obj, name)
        if isinstance(attr, Endpoint):
            found.update(methods(attr, f"{path}{name}."))
        elif callable(attr) and not isinstance(attr, type):
            found[path + name] = attr
    return found


# -- why an endpoint has no method -----------------------------------------------------------


@dataclass(frozen=True)
class Reason:
    """Why a row of the table has no client method (or what to know about the one it has).

    ``issue`` set means "not implemented yet, planned in that issue": such a reason is stale as
    soon as a method calls the endpoint. ``enterprise`` marks a Consul Enterprise endpoint (a
    CE agent answers it with an error); ``text`` says the rest.
    """

    text: str = ""
    issue: int | None = None
    enterprise: bool = False

    def __str__(self) -> str:
        parts = []
        if self.issue is not None:
            parts.append(f"Not implemented yet (issue {self.issue})")
        if self.enterprise:
            parts.append("Consul Enterprise only")
        if self.text:
            parts.append(self.text)
        return "; ".join(parts) + "."


_TODO = Reason(issue=13)
_CE_404 = Reason("a CE agent answers 404", enterprise=True)
_NEWER = Reason("newer than Consul 1.21, whose agents answer 404")

#: ``(method, path)`` exactly as in the table -> why no client method calls it (yet).
REASONS: dict[tuple[str, str], Reason] = {
    ("POST", "/v1/acl/oidc/auth-url"): Reason(
        "the ``oidc`` auth method type; a CE agent has none", enterprise=True),
    ("POST", "/v1/acl/oidc/callback"): Reason(
        "the ``oidc`` auth method type; a CE agent has none", enterprise=True),
    ("GET", "/v1/operator/license"): _CE_404,
    ("POST", "/v1/operator/area"): _CE_404,
    ("GET", "/v1/operator/area"): _CE_404,
    ("PUT", "/v1/operator/area/:uuid"): _CE_404,
    ("GET", "/v1/operator/area/:uuid"): _CE_404,
    ("DELETE", "/v1/operator/area/:uuid"): _CE_404,
    ("PUT", "/v1/operator/area/:uuid/join"): _CE_404,
    ("GET", "/v1/operator/area/:uuid/members"): _CE_404,
    ("GET", "/v1/operator/segment"): _CE_404,
    ("GET", "/v1/operator/utilization"): _CE_404,
    ("POST", "/v1/operator/audit-hash"): _CE_404,
    ("GET", "/v1/operator/features"): _NEWER,
    ("GET", "/v1/operator/feature/:name"): _NEWER,
    ("PUT", "/v1/operator/feature/:name"): _NEWER,
    # Consul 1.9 deprecated the intention endpoints addressed by ID (``api/connect_intention.go``
    # marks IntentionCreate, IntentionGet, IntentionUpdate, IntentionDelete "Deprecated: use
    # IntentionUpsert/IntentionGetExact/IntentionDeleteExact"); they fail once intentions live
    # in service-intentions config entries, which is where current Consul keeps them.
    ("POST", "/v1/connect/intentions"): Reason(
        "deprecated since Consul 1.9 for ``PUT /v1/connect/intentions/exact``; refused for a "
        "destination whose intentions were written any other way"),
    ("GET", "/v1/connect/intentions/:uuid"): Reason(
        "deprecated since Consul 1.9 for ``GET /v1/connect/intentions/exact``"),
    ("PUT", "/v1/connect/intentions/:uuid"): Reason(
        "deprecated since Consul 1.9 for ``PUT /v1/connect/intentions/exact``; only for "
        "intentions made by ID"),
    ("DELETE", "/v1/connect/intentions/:uuid"): Reason(
        "deprecated since Consul 1.9 for ``DELETE /v1/connect/intentions/exact``; only for "
        "intentions made by ID"),
    ("PUT", "/v1/namespace"): _CE_404,
    ("GET", "/v1/namespace/:name"): _CE_404,
    ("PUT", "/v1/namespace/:name"): _CE_404,
    ("DELETE", "/v1/namespace/:name"): _CE_404,
    ("GET", "/v1/namespaces"): _CE_404,
    ("PUT", "/v1/partition"): _CE_404,
    ("GET", "/v1/partition/:name"): _CE_404,
    ("PUT", "/v1/partition/:name"): _CE_404,
    ("DELETE", "/v1/partition/:name"): _CE_404,
    ("GET", "/v1/partitions"): _CE_404,
    ("GET", "/v1/imported-services"): _NEWER,
    # Go's net/http/pprof, mounted by the agent when enable_debug is set (agent/http.go):
    # binary profiles for ``go tool pprof``, not part of the Consul API a client wraps.
    ("GET", "/debug/pprof/:profile"): Reason(
        "Go runtime profiling (``net/http/pprof``, only with ``enable_debug``): binary "
        "profiles for ``go tool pprof``, not an API a client wraps"),
}


# -- the endpoint table ----------------------------------------------------------------------


@dataclass(frozen=True)
class ApiEndpoint:
    """One row of ``endpoints.tsv``: its group, HTTP method and path pattern."""

    group: str
    method: str
    path: str

    @property
    def key(self) -> tuple[str, str]:
        return self.method, self.path

    def literals(self) -> int:
        """How many segments of the pattern are fixed words (more is a closer match)."""
        return sum(1 for part in self.path.split("/") if part and not part.startswith(":"))

    def regex(self, *, rest: bool) -> re.Pattern[str]:
        """The pattern as a regex: a ``:name`` is one non-empty segment; with ``rest`` the last
        one takes the rest of the path, slashes and emptiness included (a KV key)."""
        parts = self.path.split("/")
        params = [i for i, part in enumerate(parts) if part.startswith(":")]
        last = params[-1] if params and rest else -1
        out = []
        for i, part in enumerate(parts):
            if i == last:
                out.append(".*")
            elif part.startswith(":"):
                out.append("[^/]+")
            else:
                out.append(re.escape(part))
        return re.compile("/".join(out))


def load_endpoints(path: Path | str) -> list[ApiEndpoint]:
    """The rows of an ``endpoints.tsv`` (tab-separated, with a header line)."""
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    return [ApiEndpoint(row["group"], row["method"], row["path"]) for row in rows]


def match(method: str, path: str, table: Sequence[ApiEndpoint]) -> ApiEndpoint | None:
    """The row of ``table`` a request is for: the closest strict match (each ``:name`` one
    segment, the most fixed words winning: ``/v1/acl/token/self`` over
    ``/v1/acl/token/:AccessorID``), else the closest one whose last ``:name`` takes the rest."""
    for rest in (False, True):
        found = [row for row in table
                 if row.method == method and row.regex(rest=rest).fullmatch(path)]
        if found:
            return max(found, key=ApiEndpoint.literals)
    return None


def served(row: ApiEndpoint) -> bool:
    """Whether the dev agent's route table serves the row (first matching route, as its server
    picks it, and the method among the route's)."""
    segments = re.sub(r":[^/]+", "x", row.path).split("/")[1:]
    for route in ROUTES:
        if route.matches(segments):
            return row.method in route.methods
    return False


# -- recording what each method sends ---------------------------------------------------------


#: The token every recorded call is given (some calls need one, e.g. ``acl.logout``); the dev
#: agent runs without ACLs and ignores it.
_TOKEN = "c0v3r4g3-0000-4000-8000-000000000001"

#: How long one call may take before it is stopped (it has recorded what it sent by then).
_LIMIT = 60.0


async def _record_one(use: Use, stream: bool) -> list[tuple[str, str]]:
    sent: list[tuple[str, str]] = []

    async def on_start(session: aiohttp.ClientSession, context: Any,
                       params: aiohttp.TraceRequestStartParams) -> None:
        sent.append((params.method, params.url.raw_path))

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(on_start)
    async with DevAgent() as agent, Consul(agent.address, retry=False,
                                           trace_configs=[trace]) as client:
        task = asyncio.ensure_future(use(client, _TOKEN))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _LIMIT
        while not task.done() and not (stream and sent) and loop.time() < deadline:
            await asyncio.wait({task}, timeout=0.01 if stream else _LIMIT)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConsulError):
            await task  # refused or unknown: the request went out all the same
    return sent


async def record(calls: Mapping[str, Use] | None = None) -> dict[str, list[tuple[str, str]]]:
    """``{method name: [(HTTP method, raw path), ...]}``: what each call of :data:`CALLS` and
    :data:`VARIANTS` sent, each against a fresh dev agent."""
    calls = {**CALLS, **VARIANTS} if calls is None else calls
    return {name: await _record_one(use, name in STREAMS) for name, use in sorted(calls.items())}


# -- the coverage rows and the page -----------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One endpoint of the table, with the methods that call it.

    ``calls`` are the methods whose every request goes to this endpoint; ``also`` the ones that
    send it among other requests (a read-modify-write, a keep-alive).
    """

    endpoint: ApiEndpoint
    calls: tuple[str, ...]
    also: tuple[str, ...]
    served: bool
    reason: Reason | None

    @property
    def covered(self) -> bool:
        return bool(self.calls or self.also)


@dataclass(frozen=True)
class Coverage:
    rows: tuple[Row, ...]
    #: Requests that match no row of the table: ``(HTTP method, path, method name)``.
    outside: tuple[tuple[str, str, str], ...]
    #: Methods of :data:`CALLS` that sent no request at all.
    silent: tuple[str, ...]

    @property
    def covered(self) -> int:
        return sum(1 for row in self.rows if row.covered)

    def ratio(self) -> str:
        total = len(self.rows)
        return f"{self.covered}/{total} ({100 * self.covered / total:.1f}%)"


def coverage(table: Sequence[ApiEndpoint], recorded: Mapping[str, Iterable[tuple[str, str]]],
             reasons: Mapping[tuple[str, str], Reason] | None = None) -> Coverage:
    """Join the table, the recorded requests and the reasons into one row per endpoint."""
    reasons = REASONS if reasons is None else reasons
    hits: dict[tuple[str, str], set[str]] = {row.key: set() for row in table}
    direct: dict[tuple[str, str], set[str]] = {row.key: set() for row in table}
    outside: set[tuple[str, str, str]] = set()
    silent = []
    for name, sent in recorded.items():
        keys = set()
        for method, path in sent:
            row = match(method, path, table)
            if row is None:
                outside.add((method, path, name))
            else:
                keys.add(row.key)
        if not sent:
            silent.append(name)
        for key in keys:
            (direct if len(keys) == 1 else hits)[key].add(name)
    rows = tuple(Row(row, tuple(sorted(direct[row.key])), tuple(sorted(hits[row.key])),
                     served(row), reasons.get(row.key)) for row in table)
    return Coverage(rows, tuple(sorted(outside)), tuple(sorted(silent)))


def _ref(name: str, client: Consul) -> str:
    """A reference to the method's documentation, shown as ``client.<name>``."""
    target: Any = client
    for part in name.split("(")[0].split("."):
        target = getattr(target, part)
    function = getattr(target, "__func__", target)
    return f":meth:`client.{name} <{function.__module__}.{function.__qualname__}>`"


def _cell(text: str) -> str:
    return text.replace("\n", " ") or "\\-"


def render(result: Coverage) -> str:
    """The generated part of ``docs/coverage.rst``: the summary and the table, in RST."""
    client = Consul("127.0.0.1:1")  # never sends: only its methods are looked up
    rows = result.rows
    served_count = sum(1 for row in rows if row.served)
    planned = sum(1 for row in rows if not row.covered and row.reason and row.reason.issue)
    enterprise = sum(1 for row in rows if row.reason and row.reason.enterprise)
    lines = [
        f"**{result.ratio()}** endpoints of the table have a client method; "
        f"{served_count} are served by the dev agent; {planned} are planned (no method yet); "
        f"{enterprise} are Consul Enterprise only.",
        "",
        ".. list-table::",
        "   :header-rows: 1",
        "   :widths: 12 34 30 8 16",
        "",
        "   * - Group",
        "     - Endpoint",
        "     - Client method",
        "     - Dev agent",
        "     - Notes",
    ]
    for row in rows:
        calls = [_ref(name, client) for name in row.calls]
        if row.also:
            calls.append("also: " + ", ".join(_ref(name, client) for name in row.also))
        lines += [
            f"   * - {row.endpoint.group}",
            f"     - ``{row.endpoint.method} {row.endpoint.path}``",
            f"     - {_cell(', '.join(calls))}",
            f"     - {'yes' if row.served else 'no'}",
            f"     - {_cell(str(row.reason) if row.reason else '')}",
        ]
    if result.outside:
        lines += ["", "Requests the client sends to endpoints the table does not list:", ""]
        lines += [f"* ``{method} {path}`` ({_ref(name, client)})"
                  for method, path, name in result.outside]
    return "\n".join(lines) + "\n"
