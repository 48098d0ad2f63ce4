"""HTTP endpoint of the discovery chain (``/v1/discovery-chain/:service``).

``agent/discovery_chain_endpoint.go`` (``DiscoveryChainRead``: the common parameters, the
name, ``?compile-dc``, the POST body's overrides and their 400s) and
``agent/consul/discovery_chain_endpoint.go`` (``DiscoveryChain.Get``: Connect must be enabled,
forward, ``service:read`` on the service, then a blocking query that compiles the chain from
the config entries). GET and POST are both reads; POST only carries the overrides. A wake-up
that compiles the same chain keeps blocking (``errNotChanged``), and a chain no config entry
shapes blocks like a missing object (``errNotFound``). The agent cache serves it with
``?cached`` (background refresh, ``compiled-discovery-chain``). The compiler is
:mod:`aioconsul.testing.discoverychain`; this module never imports another endpoint module.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Final

from ..acl.authorizer import Permission
from ..backend import Backend
from ..discoverychain import CompileRequest
from ..golang.stdlib import GoSyntaxError, decode_json_value, go_type_name, parse_duration
from ..http.acl import authorize, request_token
from ..http.cache import cached_rpc
from ..http.query import Result, ent_meta, parse
from ..http.reply import Context, HTTPError, Reply, Route, json_floats
from ..state.config_entry import CONFIG_ENTRIES, config_entries
from ..state.connect_ca import CA_CONFIG_TABLE, ERR_CONNECT_NOT_ENABLED
from ..state.memdb import Channel, RPCError

__all__ = ["ROUTES"]

_PREFIX: Final = "/v1/discovery-chain/"
_MESH_GATEWAY_MODES: Final = ("", "none", "local", "remote")


def _decoding_error(field: str, reason: str) -> GoSyntaxError:
    """mapstructure's error for one field, as ``Error.Error()`` lists it."""
    return GoSyntaxError(f"1 error(s) decoding:\n\n* {reason.replace('%s', field)}")


def _weak_string(value: Any, field: str) -> str:
    """mapstructure's WeaklyTypedInput into a string field."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if not value.is_integer() else str(int(value))
    raise _decoding_error(
        field, f"'%s' expected type 'string', got unconvertible type '{go_type_name(value)}'")


def _overrides(raw: dict[str, Any]) -> tuple[str, str, int]:
    """decodeDiscoveryChainReadRequest: snake_case keys translated, weakly typed input, the
    string-to-duration hook for OverrideConnectTimeout. (mesh gateway mode, protocol, ns)."""
    fields = {k.replace("_", "").lower(): v for k, v in raw.items()}
    protocol = _weak_string(fields.get("overrideprotocol"), "OverrideProtocol")
    timeout_raw = fields.get("overrideconnecttimeout")
    timeout = 0
    if isinstance(timeout_raw, str):
        try:
            timeout = parse_duration(timeout_raw) if timeout_raw else 0
        except GoSyntaxError as exc:
            raise _decoding_error(
                "OverrideConnectTimeout", f"error decoding '%s': {exc}") from None
    elif isinstance(timeout_raw, int | float):  # bools too: weakly typed input
        timeout = int(timeout_raw)
    elif timeout_raw is not None:
        raise _decoding_error(
            "OverrideConnectTimeout",
            "'%s' expected type 'time.Duration', got unconvertible type "
            f"'{go_type_name(timeout_raw)}'")
    gateway = fields.get("overridemeshgateway")
    mode = ""
    if isinstance(gateway, dict):
        for key, value in gateway.items():
            if key.lower() == "mode":
                mode = _weak_string(value, "OverrideMeshGateway.Mode")
    elif gateway is not None:
        raise _decoding_error(
            "OverrideMeshGateway",
            "'%s' expected a map, got '" + ("slice" if isinstance(gateway, list) else
                                            type(gateway).__name__.replace("str", "string")
                                            .replace("float", "float64")) + "'")
    return mode, protocol, timeout


async def _read_overrides(ctx: Context) -> tuple[str, str, int]:
    body = await ctx.request.read()
    try:
        if not body.strip():
            raise GoSyntaxError("EOF")
        decode_json_value(body)
        raw = json.loads(body)
        if not isinstance(raw, dict):
            kind = {list: "array", str: "string", bool: "bool"}.get(type(raw), "number")
            if raw is None:
                raw = {}
            else:
                raise GoSyntaxError(
                    f"json: cannot unmarshal {kind} into Go value of type "
                    "map[string]interface {}")
        return _overrides(raw)
    except GoSyntaxError as exc:
        raise HTTPError(400, f"Request decoding failed: {exc}") from None


def _trust_domain(api: Backend) -> tuple[str, tuple[Channel, ...]]:
    """The cluster's trust domain (``<cluster id>.consul`` from the CA configuration) and the
    channel that watches it: Consul reads the CA configuration in the same query
    (``caConfigTxn``), so a CA change wakes a blocking read."""
    return api.connect_ca.trust_domain, (CA_CONFIG_TABLE,)


def _connect_enabled(api: Backend) -> None:
    """DiscoveryChain.Get: ``ErrConnectNotEnabled`` before anything else."""
    if not api.connect_ca.enabled:
        raise RPCError(ERR_CONNECT_NOT_ENABLED)


async def discovery_chain_read(api: Backend, ctx: Context) -> Reply:
    """DiscoveryChainRead + DiscoveryChain.Get."""
    opts = parse(api, ctx)
    ent_meta(ctx)
    name = ctx.path[len(_PREFIX):]
    if not name:
        raise HTTPError(400, "Missing chain name")
    compile_dc = ctx.query.get("compile-dc")
    mode, protocol, timeout = "", "", 0
    if ctx.request.method == "POST":
        mode, protocol, timeout = await _read_overrides(ctx)
        if mode and mode not in _MESH_GATEWAY_MODES:
            return Reply.text(400, "Invalid OverrideMeshGateway.Mode parameter")
    table = config_entries(api.store)

    def prepare() -> Callable[[], Result[dict[str, Any]]]:
        _connect_enabled(api)
        authz = authorize(api, ctx)
        authz.require(Permission.SERVICE_READ, name)
        prior: list[dict[str, Any]] = []

        def query() -> Result[dict[str, Any]]:
            trust_domain, ca_channels = _trust_domain(api)
            # ServiceDiscoveryChain reads the service's VIP row (serviceVIPsTxn, unwatched).
            auto, manual = api.catalog.service_virtual_ips(name) or (None, None)
            req = CompileRequest(
                service_name=name,
                evaluate_in_datacenter=compile_dc or api.datacenter,
                evaluate_in_trust_domain=trust_domain,
                override_mesh_gateway=mode,
                override_protocol=protocol,
                override_connect_timeout=timeout,
                auto_virtual_ips=auto,
                manual_virtual_ips=manual,
            )
            index, chain, empty = table.service_discovery_chain(req)
            channels = (CONFIG_ENTRIES, *ca_channels)
            if prior and prior[0] == chain:
                return Result(index, prior[0], channels, not_changed=True)
            prior[:] = [chain]
            return Result(index, chain, channels, not_found=empty)

        return query

    token = request_token(api, ctx)
    # The cache key hashes the request's fields (DiscoveryChainRequest.CacheInfo): the POST
    # body's overrides are part of it.
    type_name = f"compiled-discovery-chain:{mode}:{protocol}:{timeout}"
    result = await cached_rpc(api, ctx, opts, prepare, type_name=type_name, token=token)
    return json_floats(ctx, {"Chain": result.value})


ROUTES: Final[tuple[Route, ...]] = (
    Route.of(_PREFIX, ("GET", "POST"), discovery_chain_read),
)
