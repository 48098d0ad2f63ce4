"""The discovery chain compiler (Consul's ``agent/consul/discoverychain/compile.go``).

:func:`compile_chain` turns the service-router, service-splitter, service-resolver,
service-defaults and proxy-defaults entries of a :class:`ChainEntries` into the
``CompiledDiscoveryChain`` JSON Consul answers: the start node, the router/splitter/resolver
nodes keyed ``<type>:<name>``, the targets keyed by their ID (``web.default.default.dc1``,
``v1.web.default.default.dc1``) with their SNI (``web.default.dc1.internal.<trust domain>``),
the chain's protocol, the ``Default`` flags and the ``CustomizationHash`` of the overrides that
changed the result. A graph Consul refuses raises :class:`ChainError` with Consul's text.

Entries are the dev agent's stored config entries (decoded, normalised dicts with Consul's
field names). Consul CE has one namespace and one partition (``default``); peers, sameness
groups and locality need Enterprise or peering and are not compiled here.

Pure: no I/O, no state.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from ..golang.stdlib import GoSyntaxError, format_duration, parse_duration
from .hashing import customization_hash

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT",
    "ChainEntries",
    "ChainError",
    "CompileRequest",
    "compile_chain",
    "duration_ns",
    "is_protocol_http_like",
]

Entry = dict[str, Any]

#: compile.go: a resolver without ConnectTimeout connects within 5s.
DEFAULT_CONNECT_TIMEOUT: Final = 5 * 10**9
_DEFAULT: Final = "default"


class ChainError(ValueError):
    """``structs.ConfigEntryGraphError``: ``str()`` is Consul's message."""


def is_protocol_http_like(protocol: str) -> bool:
    """structs.IsProtocolHTTPLike."""
    return protocol in ("http", "http2", "grpc")


def duration_ns(value: Any) -> int:
    """A ``time.Duration`` field of a stored entry: a Go duration string or nanoseconds."""
    return int(_coerce(value, parse_duration))


def _coerce(value: Any, parse: Callable[[str], float]) -> float:
    """A stored entry's numeric field: a number (bools count), a string ``parse`` reads, or 0
    for anything else (or a string it refuses)."""
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        try:
            return parse(value)
        except (GoSyntaxError, ValueError):
            return 0
    return 0


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


@dataclass(frozen=True, slots=True)
class ChainEntries:
    """configentry.DiscoveryChainSet: the entries a chain may read, by service name."""

    routers: Mapping[str, Entry] = field(default_factory=dict)
    splitters: Mapping[str, Entry] = field(default_factory=dict)
    resolvers: Mapping[str, Entry] = field(default_factory=dict)
    services: Mapping[str, Entry] = field(default_factory=dict)
    proxy_defaults: Entry | None = None

    @classmethod
    def of(cls, entries: Mapping[tuple[str, str], Entry]) -> ChainEntries:
        """The set from entries keyed by (kind, name)."""
        by_kind: dict[str, dict[str, Entry]] = {}
        for (kind, name), entry in entries.items():
            by_kind.setdefault(kind, {})[name] = entry
        return cls(
            routers=by_kind.get("service-router", {}),
            splitters=by_kind.get("service-splitter", {}),
            resolvers=by_kind.get("service-resolver", {}),
            services=by_kind.get("service-defaults", {}),
            proxy_defaults=by_kind.get("proxy-defaults", {}).get("global"),
        )

    def is_chain_empty(self) -> bool:
        return not (self.routers or self.splitters or self.resolvers)

    def is_empty_for(self, service: str) -> bool:
        """DiscoveryChainSet.IsEmpty of the set Consul reads for ``service``: no router,
        splitter, resolver or service-defaults of that name, and no proxy-defaults (everything
        else it would read is only reached through one of those)."""
        return (
            service not in self.routers
            and service not in self.splitters
            and service not in self.resolvers
            and service not in self.services
            and self.proxy_defaults is None
        )

    def proxy_protocol(self) -> str:
        """ProxyConfigEntry.Protocol: ``Config["protocol"]`` (weakly decoded to a string)."""
        config = _dict((self.proxy_defaults or {}).get("Config"))
        value = config.get("protocol")
        if isinstance(value, bool):
            return "1" if value else "0"
        if isinstance(value, str | int | float):
            return str(value)
        return ""


@dataclass(frozen=True, slots=True)
class CompileRequest:
    """discoverychain.CompileRequest (CE: the default namespace and partition)."""

    service_name: str
    evaluate_in_datacenter: str
    evaluate_in_trust_domain: str
    evaluate_in_namespace: str = _DEFAULT
    evaluate_in_partition: str = _DEFAULT
    override_mesh_gateway: str = ""  # MeshGatewayConfig.Mode
    override_protocol: str = ""
    override_connect_timeout: int = 0  # nanoseconds
    auto_virtual_ips: list[str] | None = None
    manual_virtual_ips: list[str] | None = None


def _scale(weight: float) -> int:
    """scaleWeight: hundredths of a percent, rounded half away from zero."""
    scaled = weight * 100
    return math.floor(scaled + 0.5) if scaled >= 0 else -math.floor(-scaled + 0.5)


def _normalize_weight(weight: float) -> float:
    """NormalizeServiceSplitWeight."""
    return _scale(weight) / 100


def _weight(value: Any) -> float:
    return float(_coerce(value, float))


@dataclass(slots=True)
class _Target:
    service: str
    subset: str
    namespace: str
    partition: str
    datacenter: str
    id: str = ""
    mesh_gateway: str = ""
    subset_def: dict[str, Any] = field(default_factory=dict)
    dialed_directly: bool = False
    connect_timeout: int = 0
    external: bool = False
    sni: str = ""
    name: str = ""

    def opts(self) -> tuple[str, str, str, str, str]:
        return (self.service, self.subset, self.namespace, self.partition, self.datacenter)


def chain_id(service: str, subset: str, namespace: str, partition: str, dc: str) -> str:
    """structs.ChainID (no peer in CE)."""
    if not subset:
        return f"{service}.{namespace}.{partition}.{dc}"
    return f"{subset}.{service}.{namespace}.{partition}.{dc}"


def target_sni(target: _Target, trust_domain: str) -> str:
    """connect.TargetSNI / ServiceSNI."""
    namespace = target.namespace or _DEFAULT
    partition = target.partition or _DEFAULT
    head = [target.subset] if target.subset else []
    if partition == _DEFAULT:
        parts = [*head, target.service, namespace, target.datacenter, "internal", trust_domain]
    else:
        parts = [*head, target.service, namespace, partition, target.datacenter,
                 "internal-v1", trust_domain]
    return ".".join(parts)


@dataclass(slots=True)
class _Node:
    type: str
    name: str
    routes: list[dict[str, Any]] | None = None  # {"Definition": ..., "NextNode": ...}
    splits: list[dict[str, Any]] | None = None  # {"Definition", "Weight", "NextNode"}
    resolver: dict[str, Any] | None = None
    load_balancer: dict[str, Any] | None = None

    @property
    def key(self) -> str:
        return f"{self.type}:{self.name}"


def _default_resolver(name: str) -> Entry:
    return {"Kind": "service-resolver", "Name": name}


def _resolver_is_default(resolver: Entry) -> bool:
    """ServiceResolverConfigEntry.IsDefault."""
    return (
        not _str(resolver.get("DefaultSubset"))
        and not _dict(resolver.get("Subsets"))
        and resolver.get("Redirect") is None
        and not _dict(resolver.get("Failover"))
        and duration_ns(resolver.get("ConnectTimeout")) == 0
        and duration_ns(resolver.get("RequestTimeout")) == 0
        and resolver.get("LoadBalancer") is None
        and resolver.get("PrioritizeByLocality") is None
    )


class _Compiler:
    def __init__(self, req: CompileRequest, entries: ChainEntries) -> None:
        self.req = req
        self.entries = entries
        self.resolvers: dict[str, Entry] = dict(entries.resolvers)
        self.splitter_nodes: dict[str, _Node] = {}
        self.resolve_nodes: dict[str, _Node] = {}
        self.nodes: dict[str, _Node] = {}
        self.loaded_targets: dict[str, _Target] = {}
        self.retained_targets: set[str] = set()
        self.uses_advanced_routing = False
        self.disable_advanced_routing = bool(req.override_protocol) and not (
            is_protocol_http_like(req.override_protocol))
        self.customized_mesh_gateway = False
        self.customized_protocol = False
        self.customized_connect_timeout = False
        self.protocol = ""
        self.start_node = ""

    # -- protocol ------------------------------------------------------------------------

    def record_service_protocol(self, service: str) -> None:
        defaults = self.entries.services.get(service)
        if defaults is not None:
            self.record_protocol(service, _str(defaults.get("Protocol")))
            return
        if self.entries.proxy_defaults is not None:
            protocol = self.entries.proxy_protocol()
            if protocol:
                self.record_protocol(service, protocol)
                return
        self.record_protocol(service, "")

    def record_protocol(self, service: str, protocol: str) -> None:
        protocol = protocol.lower() if protocol else "tcp"
        if not self.protocol:
            self.protocol = protocol
        elif self.protocol != protocol:
            raise ChainError(
                f'discovery chain "{self.req.service_name}" uses inconsistent protocols; '
                f'service "{service}" has "{protocol}" which is not "{self.protocol}"'
            )

    # -- targets -------------------------------------------------------------------------

    def new_target(self, service: str, subset: str = "", namespace: str = "",
                   partition: str = "", datacenter: str = "") -> _Target:
        t = _Target(
            service=service,
            subset=subset,
            namespace=namespace or self.req.evaluate_in_namespace,
            partition=partition or self.req.evaluate_in_partition,
            datacenter=datacenter or self.req.evaluate_in_datacenter,
        )
        t.id = chain_id(*t.opts())
        t.sni = t.name = target_sni(t, self.req.evaluate_in_trust_domain)
        prev = self.loaded_targets.get(t.id)
        if prev is not None:
            return prev
        self.loaded_targets[t.id] = t
        return t

    def rewrite_target(self, t: _Target, service: str = "", subset: str = "",
                       namespace: str = "", partition: str = "",
                       datacenter: str = "") -> _Target:
        m_service, m_subset, m_namespace, m_partition, m_dc = t.opts()
        if service and service != m_service:
            m_service, m_subset = service, ""
        if subset:
            m_subset = subset
        if partition:
            m_partition = partition
        if namespace:
            m_namespace = namespace
        if datacenter:
            m_dc = datacenter
        return self.new_target(m_service, m_subset, m_namespace, m_partition, m_dc)

    # -- nodes ---------------------------------------------------------------------------

    def record_node(self, node: _Node) -> None:
        if node.type == "splitter":
            self.splitter_nodes[node.name] = node
        elif node.type == "resolver":
            assert node.resolver is not None
            self.resolve_nodes[node.resolver["Target"]] = node
        self.nodes[node.key] = node

    def service_id_string(self, service: str) -> str:
        return f"{service}.{self.req.evaluate_in_namespace}.{self.req.evaluate_in_partition}"

    def assemble(self) -> None:
        name = self.req.service_name
        if not self.resolvers and self.entries.is_chain_empty():
            self.resolvers[name] = _default_resolver(name)
        router = self.entries.routers.get(name)
        if router is not None and self.disable_advanced_routing:
            router = None
            self.customized_protocol = True
        if router is None:
            node = self.get_splitter_or_resolver_node(self.new_target(name))
            self.start_node = node.key
            return
        route_node = _Node("router", self.service_id_string(name), routes=[])
        self.uses_advanced_routing = True
        self.record_service_protocol(name)
        assert route_node.routes is not None
        for route in _list(router.get("Routes")):
            route = _dict(route)
            compiled: dict[str, Any] = {"Definition": route, "NextNode": ""}
            route_node.routes.append(compiled)
            dest = _dict(route.get("Destination")) if route.get("Destination") is not None \
                else {"Service": name, "Namespace": _DEFAULT, "Partition": _DEFAULT}
            service = _str(dest.get("Service")) or name
            namespace = _str(dest.get("Namespace")) or _DEFAULT
            partition = _str(dest.get("Partition")) or _DEFAULT
            subset = _str(dest.get("ServiceSubset"))
            if not subset:
                node = self.get_splitter_or_resolver_node(
                    self.new_target(service, "", namespace, partition))
            else:
                node = self.get_resolver_node(
                    self.new_target(service, subset, namespace, partition), False)
            compiled["NextNode"] = node.key
        default = self.get_splitter_or_resolver_node(
            self.new_target(name, "", _DEFAULT, _DEFAULT))
        route_node.routes.append({
            "Definition": {
                "Match": {"HTTP": {"PathPrefix": "/"}},
                "Destination": {"Service": name, "Namespace": _DEFAULT, "Partition": _DEFAULT},
            },
            "NextNode": default.key,
        })
        self.start_node = route_node.key
        self.record_node(route_node)

    def get_splitter_or_resolver_node(self, target: _Target) -> _Node:
        node = self.get_splitter_node(target.service)
        if node is not None:
            return node
        return self.get_resolver_node(target, False)

    def get_splitter_node(self, service: str) -> _Node | None:
        name = self.service_id_string(service)
        prev = self.splitter_nodes.get(name)
        if prev is not None:
            return prev
        splitter = self.entries.splitters.get(service)
        if splitter is not None and self.disable_advanced_routing:
            splitter = None
            self.customized_protocol = True
        if splitter is None:
            return None
        node = _Node("splitter", name, splits=[])
        self.record_node(node)
        assert node.splits is not None
        has_lb = False
        for split in _list(splitter.get("Splits")):
            split = _dict(split)
            compiled: dict[str, Any] = {
                "Definition": split, "Weight": _weight(split.get("Weight")), "NextNode": "",
            }
            node.splits.append(compiled)
            split_service = _str(split.get("Service")) or service
            subset = _str(split.get("ServiceSubset"))
            if split_service != service and not subset:
                next_node = self.get_splitter_node(split_service)
                if next_node is not None:
                    compiled["NextNode"] = next_node.key
                    continue
            resolved = self.get_resolver_node(
                self.new_target(split_service, subset, _DEFAULT, _DEFAULT), False)
            compiled["NextNode"] = resolved.key
            lb = resolved.load_balancer
            if not has_lb and lb is not None and _str(lb.get("Policy")) in ("maglev", "ring_hash"):
                node.load_balancer = lb
                has_lb = True
        self.uses_advanced_routing = True
        return node

    def get_resolver_node(self, target: _Target, recursed_for_failover: bool) -> _Node:
        history: set[str] = set()
        order: list[str] = []
        while True:
            prev = self.resolve_nodes.get(target.id)
            if prev is not None:
                return prev
            self.record_service_protocol(target.service)
            resolver = self.resolvers.get(target.service)
            if resolver is None:
                resolver = self.resolvers[target.service] = _default_resolver(target.service)
            if target.id in history:
                order.append(target.id)
                raise ChainError(f"detected circular resolver redirect: [{' -> '.join(order)}]")
            history.add(target.id)
            order.append(target.id)
            redirect = resolver.get("Redirect")
            if isinstance(redirect, dict) and not _str(redirect.get("SamenessGroup")):
                redirected = self.rewrite_target(
                    target,
                    service=_str(redirect.get("Service")),
                    subset=_str(redirect.get("ServiceSubset")),
                    namespace=_str(redirect.get("Namespace")),
                    partition=_str(redirect.get("Partition")),
                    datacenter=_str(redirect.get("Datacenter")),
                )
                if redirected.id != target.id:
                    target = redirected
                    continue
            default_subset = _str(resolver.get("DefaultSubset"))
            if not target.subset and default_subset:
                target = self.rewrite_target(target, subset=default_subset)
                continue
            break
        subsets = _dict(resolver.get("Subsets"))
        if target.subset and target.subset not in subsets:
            raise ChainError(
                f'service "{target.service}" does not have a subset named "{target.subset}"')

        connect_timeout = duration_ns(resolver.get("ConnectTimeout"))
        if connect_timeout < 1:
            connect_timeout = DEFAULT_CONNECT_TIMEOUT
        override = self.req.override_connect_timeout
        if override > 0 and connect_timeout != override:
            connect_timeout = override
            self.customized_connect_timeout = True
        target.connect_timeout = connect_timeout

        node = _Node(
            "resolver",
            target.id,
            resolver={
                "Default": _resolver_is_default(resolver),
                "ConnectTimeout": connect_timeout,
                "RequestTimeout": duration_ns(resolver.get("RequestTimeout")),
                "Target": target.id,
                "Failover": None,
            },
            load_balancer=_dict(resolver["LoadBalancer"])
            if isinstance(resolver.get("LoadBalancer"), dict) else None,
        )
        target.subset_def = _dict(subsets.get(target.subset)) if target.subset else {}

        defaults = self.entries.services.get(target.service)
        external_sni = _str((defaults or {}).get("ExternalSNI"))
        if external_sni:
            target.sni = external_sni
            target.external = True
        if target.external:
            quoted = f'service "{target.service}" has an external SNI set; cannot define'
            if resolver.get("Redirect") is not None:
                raise ChainError(f"{quoted} redirects for external services")
            if subsets:
                raise ChainError(f"{quoted} subsets for external services")
            if _dict(resolver.get("Failover")):
                raise ChainError(f"{quoted} failover for external services")
            target.mesh_gateway = ""
        else:
            if defaults is not None:
                target.mesh_gateway = _str(_dict(defaults.get("MeshGateway")).get("Mode"))
                target.dialed_directly = bool(
                    _dict(defaults.get("TransparentProxy")).get("DialedDirectly"))
            proxy = self.entries.proxy_defaults
            if proxy is not None:
                if not target.mesh_gateway:
                    target.mesh_gateway = _str(_dict(proxy.get("MeshGateway")).get("Mode"))
                if not target.dialed_directly:
                    target.dialed_directly = bool(
                        _dict(proxy.get("TransparentProxy")).get("DialedDirectly"))
            gateway = self.req.override_mesh_gateway
            if gateway and target.mesh_gateway != gateway:
                target.mesh_gateway = gateway
                self.customized_mesh_gateway = True

        self.retained_targets.add(target.id)
        if recursed_for_failover:
            return node
        self.record_node(node)

        proxy = self.entries.proxy_defaults
        policy: Any = (proxy or {}).get("FailoverPolicy")
        failover_targets: list[_Target] = []
        failovers = _dict(resolver.get("Failover"))
        if failovers:
            if target.subset in failovers:
                failover = _dict(failovers[target.subset])
            elif "*" in failovers:
                failover = _dict(failovers["*"])
            else:
                return node
            if failover.get("Policy") is not None:
                policy = failover["Policy"]
            f_service = _str(failover.get("Service"))
            f_subset = _str(failover.get("ServiceSubset"))
            f_namespace = _str(failover.get("Namespace"))
            datacenters = _list(failover.get("Datacenters"))
            targets = _list(failover.get("Targets"))
            if datacenters:
                for dc in datacenters:
                    t = self.rewrite_target(target, f_service, f_subset, f_namespace,
                                            datacenter=_str(dc))
                    if t.id != target.id:
                        failover_targets.append(t)
            elif targets:
                for raw in targets:
                    spec = _dict(raw)
                    t = self.rewrite_target(
                        target,
                        _str(spec.get("Service")),
                        _str(spec.get("ServiceSubset")),
                        _str(spec.get("Namespace")),
                        _str(spec.get("Partition")),
                        _str(spec.get("Datacenter")),
                    )
                    if t.id != target.id:
                        failover_targets.append(t)
            elif not _str(failover.get("SamenessGroup")):
                t = self.rewrite_target(target, f_service, f_subset, f_namespace)
                if t.id != target.id:
                    failover_targets.append(t)
        if failover_targets:
            compiled_failover: dict[str, Any] = {"Targets": [], "Policy": policy}
            assert node.resolver is not None
            node.resolver["Failover"] = compiled_failover
            for t in failover_targets:
                failover_node = self.get_resolver_node(t, True)
                assert failover_node.resolver is not None
                compiled_failover["Targets"].append(failover_node.resolver["Target"])
        return node

    # -- after assembly ------------------------------------------------------------------

    def detect_circular_references(self) -> None:
        todo: list[str] = [self.start_node]
        visited: set[str] = set()
        chain: list[str] = []
        while todo:
            current = todo.pop()
            if current == "_popvisit":
                if chain:
                    visited.discard(chain.pop())
                continue
            chain.append(current)
            if current in visited:
                raise ChainError(f"detected circular reference: [{' -> '.join(chain)}]")
            visited.add(current)
            todo.append("_popvisit")
            node = self.nodes[current]
            if node.type == "router":
                todo.extend(r["NextNode"] for r in node.routes or [])
            elif node.type == "splitter":
                todo.extend(s["NextNode"] for s in node.splits or [])

    def flatten_adjacent_splitters(self) -> None:
        while True:
            any_changed = False
            for node in list(self.nodes.values()):
                if node.type != "splitter":
                    continue
                fixed: list[dict[str, Any]] = []
                changed = False
                for split in node.splits or []:
                    nxt = self.nodes[split["NextNode"]]
                    if nxt.type != "splitter":
                        fixed.append(split)
                        continue
                    changed = True
                    for inner in nxt.splits or []:
                        weight = split["Weight"] * inner["Weight"] / 100
                        fixed.append({
                            "Definition": _merge_parent(inner["Definition"], split["Definition"]),
                            "Weight": _normalize_weight(weight),
                            "NextNode": inner["NextNode"],
                        })
                if changed:
                    node.splits = fixed
                    any_changed = True
            if not any_changed:
                return

    def remove_unused_nodes(self) -> None:
        visited: set[str] = set()
        todo = [self.start_node]
        while todo:
            name = todo.pop()
            if name in visited:
                continue
            visited.add(name)
            node = self.nodes[name]
            if node.type == "router":
                todo.extend(r["NextNode"] for r in node.routes or [])
            elif node.type == "splitter":
                todo.extend(s["NextNode"] for s in node.splits or [])
        for name in [n for n in self.nodes if n not in visited]:
            del self.nodes[name]

    def is_default_chain(self) -> bool:
        node = self.nodes.get(self.start_node)
        if node is None or node.type != "resolver" or node.resolver is None:
            return False
        if not node.resolver["Default"]:
            return False
        target = self.loaded_targets[node.resolver["Target"]]
        return (
            target.service == self.req.service_name
            and target.namespace == self.req.evaluate_in_namespace
            and target.partition == self.req.evaluate_in_partition
        )

    def compile(self) -> dict[str, Any]:
        self.assemble()
        self.detect_circular_references()
        self.flatten_adjacent_splitters()
        self.remove_unused_nodes()
        for target_id in [t for t in self.loaded_targets if t not in self.retained_targets]:
            del self.loaded_targets[target_id]
        if not is_protocol_http_like(self.protocol) and self.uses_advanced_routing:
            raise ChainError(
                f'discovery chain "{self.req.service_name}" uses a protocol "{self.protocol}" '
                "that does not permit advanced routing or splitting behavior"
            )
        override = self.req.override_protocol
        if override and override != self.protocol:
            self.protocol = override
            self.customized_protocol = True
        customization = ""
        if (self.customized_mesh_gateway or self.customized_protocol
                or self.customized_connect_timeout):
            customization = customization_hash(
                self.req.override_mesh_gateway if self.customized_mesh_gateway else "",
                override if self.customized_protocol else "",
                self.req.override_connect_timeout if self.customized_connect_timeout else 0,
            )
        return _render_chain(self, customization)


def _merge_headers(base: Any, overrides: Any) -> Any:
    """MergeHTTPHeaderModifiers: ``overrides`` wins; removals are deduplicated."""
    def zero(m: Any) -> bool:
        m = _dict(m)
        return not (_dict(m.get("Add")) or _dict(m.get("Set")) or _list(m.get("Remove")))

    if zero(base):
        return copy.deepcopy(overrides)
    merged = copy.deepcopy(_dict(base))
    if zero(overrides):
        return merged
    over = _dict(overrides)
    for key in ("Add", "Set"):
        if _dict(over.get(key)):
            target = merged.get(key)
            if not isinstance(target, dict):
                target = merged[key] = {}
            target.update(_dict(over.get(key)))
    removed = list(_list(merged.get("Remove")))
    for name in _list(over.get("Remove")):
        if name not in removed:
            removed.append(name)
    if removed:
        merged["Remove"] = removed
    return merged


def _merge_parent(child: dict[str, Any], parent: dict[str, Any]) -> dict[str, Any]:
    """ServiceSplit.MergeParent: request headers from the parent unless the child overrides
    them; response headers of the child, overridden by the parent's."""
    out = dict(child)
    request = _merge_headers(parent.get("RequestHeaders"), child.get("RequestHeaders"))
    response = _merge_headers(child.get("ResponseHeaders"), parent.get("ResponseHeaders"))
    for key, value in (("RequestHeaders", request), ("ResponseHeaders", response)):
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def compile_chain(req: CompileRequest, entries: ChainEntries) -> dict[str, Any]:
    """discoverychain.Compile: the chain as Consul's JSON, or :class:`ChainError`."""
    for value, name in (
        (req.service_name, "serviceName"),
        (req.evaluate_in_namespace, "evaluateInNamespace"),
        (req.evaluate_in_partition, "evaluateInPartition"),
        (req.evaluate_in_datacenter, "evaluateInDatacenter"),
        (req.evaluate_in_trust_domain, "evaluateInTrustDomain"),
    ):
        if not value:
            raise ValueError(f"{name} is required")
    return _Compiler(req, entries).compile()


# -- rendering: encoding/json of the Go structs ------------------------------------------------

# Field order and omitempty of the structs a chain embeds (config_entry_discoverychain.go).
# "!" marks a field written even when empty; "~" a time.Duration written as Go's String().
_ROUTE: Final = ("Match", "Destination")
_MATCH: Final = ("HTTP",)
_HTTP_MATCH: Final = ("PathExact", "PathPrefix", "PathRegex", "CaseInsensitive", "Header",
                      "QueryParam", "Methods")
_HEADER_MATCH: Final = ("!Name", "Present", "Exact", "Prefix", "Suffix", "Regex", "Invert")
_QUERY_MATCH: Final = ("!Name", "Present", "Exact", "Regex")
_DESTINATION: Final = ("~RequestTimeout", "~IdleTimeout", "Service", "ServiceSubset",
                       "Namespace", "Partition", "PrefixRewrite", "NumRetries",
                       "RetryOnConnectFailure", "RetryOn", "RetryOnStatusCodes",
                       "RequestHeaders", "ResponseHeaders")
_SPLIT: Final = ("!Weight", "Service", "ServiceSubset", "Namespace", "Partition",
                 "RequestHeaders", "ResponseHeaders")
_HEADERS: Final = ("Add", "Set", "Remove")
_SUBSET: Final = ("Filter", "OnlyPassing")
_POLICY: Final = ("Mode", "Regions")
_LOAD_BALANCER: Final = ("Policy", "RingHashConfig", "LeastRequestConfig", "HashPolicies")
_RING_HASH: Final = ("MinimumRingSize", "MaximumRingSize")
_LEAST_REQUEST: Final = ("ChoiceCount",)
_HASH_POLICY: Final = ("Field", "FieldValue", "CookieConfig", "SourceIP", "Terminal")
_COOKIE: Final = ("Session", "TTL", "Path")

_NESTED: Final[dict[str, tuple[str, ...]]] = {
    "Match": _MATCH,
    "HTTP": _HTTP_MATCH,
    "Destination": _DESTINATION,
    "RequestHeaders": _HEADERS,
    "ResponseHeaders": _HEADERS,
    "RingHashConfig": _RING_HASH,
    "LeastRequestConfig": _LEAST_REQUEST,
    "CookieConfig": _COOKIE,
}
_LISTS: Final[dict[str, tuple[str, ...]]] = {
    "Header": _HEADER_MATCH,
    "QueryParam": _QUERY_MATCH,
    "HashPolicies": _HASH_POLICY,
}


def _empty(value: Any) -> bool:
    """encoding/json's omitempty: false, 0, "", nil and empty arrays, slices and maps."""
    if value is None or value is False:
        return True
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value == 0
    return value in ("", [], {})


def _number(value: Any) -> Any:
    """A float32 weight as encoding/json writes it: integral values without a fraction."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _go_struct(value: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    """A decoded entry's sub-object as the Go struct it decodes into would marshal."""
    src = _dict(value)
    out: dict[str, Any] = {}
    for spec in fields:
        always = spec.startswith("!")
        is_duration = spec.startswith("~")
        name = spec.lstrip("!~")
        item = src.get(name)
        if is_duration:
            ns = duration_ns(item)
            if ns:
                out[name] = format_duration(ns)
            continue
        if name == "Weight":
            out[name] = _number(_weight(item))
            continue
        if name in _NESTED:
            if isinstance(item, dict):
                out[name] = _go_struct(item, _NESTED[name])
            continue
        if name in _LISTS:
            if isinstance(item, list) and item:
                out[name] = [_go_struct(x, _LISTS[name]) for x in item]
            continue
        if name == "TTL":
            ns = duration_ns(item)
            if ns:
                out[name] = ns
            continue
        if always:
            out[name] = item if item is not None else ""
        elif not _empty(item):
            out[name] = item
    return out


def _render_target(t: _Target) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if t.connect_timeout:
        out["ConnectTimeout"] = format_duration(t.connect_timeout)
    out["ID"] = t.id
    out["Service"] = t.service
    if t.subset:
        out["ServiceSubset"] = t.subset
    out["Namespace"] = t.namespace
    out["Partition"] = t.partition
    out["Datacenter"] = t.datacenter
    out["MeshGateway"] = {"Mode": t.mesh_gateway} if t.mesh_gateway else {}
    out["Subset"] = _go_struct(t.subset_def, _SUBSET)
    out["TransparentProxy"] = {"DialedDirectly": True} if t.dialed_directly else {}
    if t.external:
        out["External"] = True
    out["SNI"] = t.sni
    out["Name"] = t.name
    return out


def _render_node(node: _Node) -> dict[str, Any]:
    out: dict[str, Any] = {"Type": node.type, "Name": node.name}
    if node.routes:
        out["Routes"] = [
            {"Definition": _go_struct(r["Definition"], _ROUTE), "NextNode": r["NextNode"]}
            for r in node.routes
        ]
    if node.splits:
        splits = []
        for s in node.splits:
            split: dict[str, Any] = {"Definition": _go_struct(s["Definition"], _SPLIT)}
            if s["Weight"]:
                split["Weight"] = _number(s["Weight"])
            if s["NextNode"]:
                split["NextNode"] = s["NextNode"]
            splits.append(split)
        out["Splits"] = splits
    if node.resolver is not None:
        r = node.resolver
        resolver: dict[str, Any] = {}
        if r["ConnectTimeout"]:
            resolver["ConnectTimeout"] = format_duration(r["ConnectTimeout"])
        if r["Default"]:
            resolver["Default"] = True
        if r["RequestTimeout"]:
            resolver["RequestTimeout"] = r["RequestTimeout"]  # a Duration in nanoseconds
        resolver["Target"] = r["Target"]
        failover = r["Failover"]
        if failover is not None:
            compiled: dict[str, Any] = {}
            if failover["Targets"]:
                compiled["Targets"] = list(failover["Targets"])
            if isinstance(failover["Policy"], dict):
                compiled["Policy"] = _go_struct(failover["Policy"], _POLICY)
            resolver["Failover"] = compiled
        out["Resolver"] = resolver
    if node.load_balancer is not None:
        out["LoadBalancer"] = _go_struct(node.load_balancer, _LOAD_BALANCER)
    return out


def _render_chain(c: _Compiler, customization: str) -> dict[str, Any]:
    req = c.req
    out: dict[str, Any] = {
        "ServiceName": req.service_name,
        "Namespace": req.evaluate_in_namespace,
        "Partition": req.evaluate_in_partition,
        "Datacenter": req.evaluate_in_datacenter,
    }
    if customization:
        out["CustomizationHash"] = customization
    if c.is_default_chain():
        out["Default"] = True
    if c.protocol:
        out["Protocol"] = c.protocol
    defaults = c.entries.services.get(req.service_name)
    meta = (defaults or {}).get("Meta")
    if isinstance(meta, dict) and meta:
        out["ServiceMeta"] = meta
    extensions = [
        *_list((c.entries.proxy_defaults or {}).get("EnvoyExtensions")),
        *_list((defaults or {}).get("EnvoyExtensions")),
    ]
    if extensions:
        out["EnvoyExtensions"] = extensions
    out["StartNode"] = c.start_node
    # encoding/json writes map keys sorted.
    out["Nodes"] = {key: _render_node(c.nodes[key]) for key in sorted(c.nodes)}
    out["Targets"] = {
        key: _render_target(c.loaded_targets[key]) for key in sorted(c.loaded_targets)
    }
    out["AutoVirtualIPs"] = req.auto_virtual_ips
    out["ManualVirtualIPs"] = req.manual_virtual_ips
    return out
